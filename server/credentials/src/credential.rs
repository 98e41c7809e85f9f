//! What a certificate says, as an Open Badges 3.0 `OpenBadgeCredential`, and its VC-JWT.

use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{Value, json};

use crate::{KeyError, OB3_CONTEXT, SigningKey};

/// The issuer: the Skilltrack instance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IssuerProfile {
    /// Its id, a URL (the issuer document's address); the JWT's `iss`.
    pub id: String,
    /// Its name.
    pub name: String,
    /// Its home page.
    pub url: String,
}

/// The achievement: completing a course.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Achievement {
    /// Its id, a URL (the course's page).
    pub id: String,
    /// The course's title.
    pub name: String,
    /// The course's description.
    pub description: String,
    /// What earning it takes, in words.
    pub criteria: String,
}

/// Where the credential's revocation bit is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusEntry {
    /// The status list credential's URL.
    pub list_url: String,
    /// The bit's index in it.
    pub index: u64,
}

/// Everything a certificate credential states.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertificateFacts {
    /// The credential's id (a URL: where anyone can check it by number); the JWT's `jti`.
    pub id: String,
    /// Who issued it.
    pub issuer: IssuerProfile,
    /// The learner's id (a URI); the JWT's `sub`.
    pub subject_id: String,
    /// The learner's name, as it was when the certificate was issued.
    pub learner_name: String,
    /// What was achieved.
    pub achievement: Achievement,
    /// Issued (`validFrom`, the JWT's `nbf`).
    pub valid_from: DateTime<Utc>,
    /// Until when it holds (`validUntil`, the JWT's `exp`); certificates of completion do not
    /// expire, so the server leaves it out.
    pub valid_until: Option<DateTime<Utc>>,
    /// Its revocation entry.
    pub status: Option<StatusEntry>,
}

fn time(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

impl CertificateFacts {
    /// The credential (the `vc` claim).
    pub fn credential(&self) -> Value {
        let mut vc = json!({
            "@context": OB3_CONTEXT,
            "id": self.id,
            "type": ["VerifiableCredential", "OpenBadgeCredential"],
            "name": format!("Certificate of completion: {}", self.achievement.name),
            "issuer": {
                "id": self.issuer.id,
                "type": ["Profile"],
                "name": self.issuer.name,
                "url": self.issuer.url,
            },
            "validFrom": time(self.valid_from),
            "credentialSubject": {
                "id": self.subject_id,
                "type": ["AchievementSubject"],
                "name": self.learner_name,
                "identifier": [{
                    "type": "IdentityObject",
                    "identityType": "name",
                    "hashed": false,
                    "identityHash": self.learner_name,
                }],
                "achievement": {
                    "id": self.achievement.id,
                    "type": ["Achievement"],
                    "achievementType": "Course",
                    "name": self.achievement.name,
                    "description": self.achievement.description,
                    "criteria": { "narrative": self.achievement.criteria },
                },
            },
        });
        if let Some(until) = self.valid_until {
            vc["validUntil"] = json!(time(until));
        }
        if let Some(status) = &self.status {
            vc["credentialStatus"] = json!({
                "id": format!("{}#{}", status.list_url, status.index),
                "type": "BitstringStatusListEntry",
                "statusPurpose": "revocation",
                "statusListIndex": status.index.to_string(),
                "statusListCredential": status.list_url,
            });
        }
        vc
    }

    /// The JWT claims: the registered claims mirror the credential (VC-JWT).
    pub fn claims(&self) -> Value {
        let mut claims = json!({
            "iss": self.issuer.id,
            "sub": self.subject_id,
            "jti": self.id,
            "nbf": self.valid_from.timestamp(),
            "iat": self.valid_from.timestamp(),
            "vc": self.credential(),
        });
        if let Some(until) = self.valid_until {
            claims["exp"] = json!(until.timestamp());
        }
        claims
    }

    /// The credential as a VC-JWT signed with `key`.
    pub fn sign(&self, key: &SigningKey) -> Result<String, KeyError> {
        key.sign(&self.claims())
    }
}

/// The claims of a compact JWS, read **without verifying** it: for showing what a credential
/// says (on its PDF, in a list), never for deciding whether to trust it ([`crate::verify`]
/// does that). `None` unless it is three base64url parts with a JSON object in the middle.
pub fn unverified_claims(jwt: &str) -> Option<Value> {
    use base64::Engine as _;
    let mut parts = jwt.trim().split('.');
    let (Some(_header), Some(payload), Some(_signature), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return None;
    };
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .ok()?;
    serde_json::from_slice::<Value>(&bytes)
        .ok()
        .filter(Value::is_object)
}
