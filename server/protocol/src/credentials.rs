//! Signed certificates: Open Badges 3.0 credentials as VC-JWTs, the issuer's public keys
//! (a JWK Set), its revocation lists, and what a verifier concludes about a credential.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use ts_rs::TS;
use uuid::Uuid;

/// What a verifier concludes about a credential. Only [`CredentialVerdict::Valid`] means it
/// stands; each other verdict says why not, in its own words.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum CredentialVerdict {
    /// Signed by a key of the issuer, unchanged, in force, and not revoked by a fresh list.
    Valid,
    /// The signature does not match: the credential was changed after it was signed, or
    /// signed by another key under the issuer's key id.
    Tampered,
    /// Signed with a key the issuer never published (or not in the cached key set).
    UnknownKey,
    /// The issuer revoked it.
    Revoked,
    /// Past its `validUntil`, or not yet in force.
    Expired,
    /// The cached revocation list is older than the verifier accepts: it may have been
    /// revoked since. Refresh the list and verify again.
    StatusStale,
    /// No revocation list for this credential is cached (or the list is not the issuer's).
    StatusUnknown,
    /// Not a VC-JWT Open Badge credential at all.
    Malformed,
}

impl CredentialVerdict {
    /// The verdict's stable code, e.g. `unknown_key`.
    pub fn code(self) -> &'static str {
        match self {
            Self::Valid => "valid",
            Self::Tampered => "tampered",
            Self::UnknownKey => "unknown_key",
            Self::Revoked => "revoked",
            Self::Expired => "expired",
            Self::StatusStale => "status_stale",
            Self::StatusUnknown => "status_unknown",
            Self::Malformed => "malformed",
        }
    }

    /// The verdict in words, for people.
    pub fn explain(self) -> &'static str {
        match self {
            Self::Valid => "valid: signed by the issuer, unchanged, and not revoked",
            Self::Tampered => {
                "tampered: the signature does not match the content (it was changed after signing, or signed by another key)"
            }
            Self::UnknownKey => "unknown key: signed by a key the issuer has not published",
            Self::Revoked => "revoked: the issuer has withdrawn this certificate",
            Self::Expired => "expired: the credential is outside its validity period",
            Self::StatusStale => {
                "status list stale: the cached revocation list is too old to say it is not revoked"
            }
            Self::StatusUnknown => "status unknown: no revocation list is cached for it",
            Self::Malformed => "malformed: not an Open Badges VC-JWT credential",
        }
    }
}

impl std::fmt::Display for CredentialVerdict {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.code())
    }
}

/// One public key of the issuer (RFC 8037: an Ed25519 `OKP` key).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[ts(export)]
pub struct Jwk {
    /// Always `OKP`.
    pub kty: String,
    /// Always `Ed25519`.
    pub crv: String,
    /// The public key, base64url without padding.
    pub x: String,
    /// The key id: the key's RFC 7638 thumbprint.
    pub kid: String,
    /// Always `EdDSA`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    #[cfg_attr(feature = "openapi", schema(nullable = false))]
    pub alg: Option<String>,
    /// Always `sig`.
    #[serde(rename = "use", default, skip_serializing_if = "Option::is_none")]
    #[ts(optional, rename = "use")]
    #[cfg_attr(feature = "openapi", schema(nullable = false))]
    pub use_: Option<String>,
}

/// The issuer's public keys, current and retired (so old credentials keep verifying).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[ts(export)]
pub struct JwkSet {
    /// Every key ever used to sign.
    pub keys: Vec<Jwk>,
}

/// The issuer: the Skilltrack instance, as an Open Badges `Profile`, with where its keys and
/// revocation lists are published.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[ts(export)]
pub struct IssuerDocument {
    /// The issuer's id (this document's address); a credential's `iss`.
    pub id: String,
    /// Always `["Profile"]`.
    #[serde(rename = "type")]
    pub type_: Vec<String>,
    /// The instance's name.
    pub name: String,
    /// The instance's address.
    pub url: String,
    /// Where the keys are: a JWK Set.
    pub jwks_uri: String,
    /// Every revocation list (Bitstring Status List credentials, as VC-JWTs).
    pub status_lists: Vec<String>,
}

/// A learner's certificate as a signed credential.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[ts(export)]
pub struct CertificateCredential {
    /// The certificate.
    pub certificate_id: Uuid,
    /// Its number.
    pub certificate_number: String,
    /// The Open Badges 3.0 `OpenBadgeCredential`, a compact VC-JWT (`EdDSA`).
    pub credential: String,
    /// The key that signed it.
    pub kid: String,
    /// Issued.
    pub issued_at: DateTime<Utc>,
    /// When it was revoked, if it was.
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub revoked_at: Option<DateTime<Utc>>,
    /// Why, if it was.
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub revocation_reason: Option<String>,
}

/// An admin revokes a certificate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[ts(export)]
pub struct RevocationRequest {
    /// Why (1–500 characters); the learner sees it.
    #[cfg_attr(
        feature = "openapi",
        schema(min_length = 1, max_length = 500, pattern = r"\S")
    )]
    pub reason: String,
}

/// A revoked certificate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[ts(export)]
pub struct Revocation {
    /// The certificate.
    pub certificate_id: Uuid,
    /// Its number.
    pub certificate_number: String,
    /// When.
    pub revoked_at: DateTime<Utc>,
    /// Why.
    pub reason: String,
}
