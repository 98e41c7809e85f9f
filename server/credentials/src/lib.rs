//! Skilltrack's certificates as credentials that stand on their own.
//!
//! A certificate is issued as an Open Badges 3.0 `OpenBadgeCredential`, a W3C Verifiable
//! Credential secured as a **VC-JWT**: a compact JWS signed with the instance's Ed25519 key
//! (`alg: EdDSA`, the key's id in `kid`), the credential in the `vc` claim, and the registered
//! claims `iss`, `sub`, `jti`, `nbf` mirroring it. Revocation is a **Bitstring Status List**
//! credential, signed the same way, that verifiers fetch once and cache.
//!
//! * [`keys`]: Ed25519 signing keys, their JWKs and thumbprint key ids.
//! * [`credential`]: what a certificate says, and signing it.
//! * [`status_list`]: the revocation bitstring and its signed credential.
//! * [`baked`]: the PNG badge with the credential baked in (Open Badges baking).
//! * [`pdf`]: the printable certificate, which carries the credential too.
//! * [`verify`]: offline verification against a cached key set and status lists, with a
//!   [`CredentialVerdict`] for every outcome.
//!
//! The crate does no I/O: the server keeps the keys, the client keeps the cache, and both
//! call in here, so the desktop app verifies exactly as the CLI does.

#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod baked;
pub mod credential;
pub mod keys;
pub mod pdf;
pub mod status_list;
pub mod verify;

pub use baked::{BakeError, bake_png, credential_in_png};
pub use credential::{
    Achievement, CertificateFacts, IssuerProfile, StatusEntry, unverified_claims,
};
pub use keys::{KeyError, SigningKey};
pub use pdf::{CertificatePdf, certificate_pdf, credential_in_pdf};
pub use skilltrack_protocol::credentials::{CredentialVerdict, Jwk, JwkSet};
pub use status_list::{STATUS_LIST_BITS, StatusList, StatusListError};
pub use verify::{CredentialSummary, TrustedIssuer, Verification, verify};

/// The JSON-LD contexts of an Open Badges 3.0 credential (VC Data Model 2.0).
pub const OB3_CONTEXT: [&str; 2] = [
    "https://www.w3.org/ns/credentials/v2",
    "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json",
];

/// The JWS `typ` of our credentials (VC-JWT, as Open Badges 3.0 writes it).
pub const JWT_TYP: &str = "JWT";

/// The compact VC-JWT a file carries, whatever its format: a baked PNG badge, a certificate
/// PDF, the JSON `skilltrack certificate get` saves (whose `credential` is the JWT), a JSON
/// string, or the bare JWT. `None` when there is none; nothing is verified here.
pub fn credential_in_bytes(bytes: &[u8]) -> Option<String> {
    if bytes.starts_with(b"\x89PNG") {
        return credential_in_png(bytes).ok().flatten();
    }
    if let Some(credential) = credential_in_pdf(bytes) {
        return Some(credential);
    }
    credential_in_text(std::str::from_utf8(bytes).ok()?)
}

/// The compact VC-JWT in a text: a JSON object whose `credential` is one, a JSON string, or
/// the JWT itself.
pub fn credential_in_text(text: &str) -> Option<String> {
    let text = text.trim_start_matches('\u{feff}').trim();
    if let Ok(value) = serde_json::from_str::<serde_json::Value>(text) {
        return value
            .get("credential")
            .and_then(|c| c.as_str())
            .or_else(|| value.as_str())
            .map(|c| c.trim().to_owned());
    }
    (text.split('.').count() == 3 && !text.contains(char::is_whitespace)).then(|| text.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    const JWT: &str = "eyJhbGciOiJFZERTQSJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl";

    #[test]
    fn one_extractor_reads_every_format_a_credential_is_saved_in() {
        let json = serde_json::json!({"certificate_number": "N", "credential": JWT}).to_string();
        assert_eq!(credential_in_bytes(json.as_bytes()).as_deref(), Some(JWT));
        assert_eq!(
            credential_in_bytes(format!("{JWT}\n").as_bytes()).as_deref(),
            Some(JWT)
        );
        assert_eq!(
            credential_in_bytes(format!("\"{JWT}\"").as_bytes()).as_deref(),
            Some(JWT)
        );
        assert_eq!(credential_in_bytes(&bake_png(JWT)).as_deref(), Some(JWT));
        let pdf = certificate_pdf(&CertificatePdf {
            credential: JWT.to_owned(),
            learner_name: "Ada".to_owned(),
            course_title: "Rust".to_owned(),
            issued_at: chrono::Utc::now(),
            issuer_name: "Skilltrack".to_owned(),
            certificate_number: "N".to_owned(),
            verification_url: "https://skills.example/api/v1/certificates/N".to_owned(),
        });
        assert_eq!(credential_in_bytes(&pdf).as_deref(), Some(JWT));
        assert_eq!(credential_in_bytes(b"hello world"), None);
        assert_eq!(credential_in_bytes(&[0xff, 0xfe, 0x00]), None);
    }
}
