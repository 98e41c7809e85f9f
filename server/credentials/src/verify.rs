//! Offline verification: a credential against an issuer's cached keys and status lists.
//!
//! In order: the JWS header must name `EdDSA` (no other algorithm is ever tried) and a `kid`
//! the issuer published ([`CredentialVerdict::UnknownKey`]); the signature must match
//! ([`CredentialVerdict::Tampered`]); the payload must be an `OpenBadgeCredential` of this
//! issuer whose registered claims agree with it; its revocation bit is read from the cached
//! list, itself verified with the same keys ([`CredentialVerdict::Revoked`],
//! [`CredentialVerdict::StatusUnknown`]); then its validity period
//! ([`CredentialVerdict::Expired`]) and the list's age ([`CredentialVerdict::StatusStale`]).

use chrono::{DateTime, Duration, Utc};
use jsonwebtoken::{Algorithm, DecodingKey, Validation, errors::ErrorKind};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::{CredentialVerdict, JwkSet, StatusList};

/// What a verifier trusts about one issuer: its id, its keys and its status lists, as
/// fetched at `fetched_at`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrustedIssuer {
    /// The issuer's id (a credential's `iss` must be this).
    pub issuer: String,
    /// Its published keys.
    pub keys: JwkSet,
    /// Its status list credentials (compact VC-JWTs).
    pub status_lists: Vec<String>,
    /// When they were fetched.
    pub fetched_at: Option<DateTime<Utc>>,
}

/// The facts of a credential that verified far enough to be read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CredentialSummary {
    /// The credential's id.
    pub id: String,
    /// The issuer's id.
    pub issuer: String,
    /// The issuer's name.
    pub issuer_name: Option<String>,
    /// The learner.
    pub learner_name: Option<String>,
    /// The achievement (the course).
    pub achievement: Option<String>,
    /// In force from.
    pub valid_from: Option<DateTime<Utc>>,
    /// In force until.
    pub valid_until: Option<DateTime<Utc>>,
    /// The key that signed it.
    pub kid: String,
}

/// The outcome of verifying a credential.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Verification {
    /// The verdict.
    pub verdict: CredentialVerdict,
    /// Why, in words.
    pub detail: String,
    /// What it says, once its signature verified.
    pub credential: Option<CredentialSummary>,
    /// When the status list used was issued (its `validFrom`).
    pub status_issued_at: Option<DateTime<Utc>>,
    /// How old that list was at verification, in seconds.
    pub status_age_secs: Option<i64>,
}

/// A verdict reached before the credential could be read, and why.
struct Refusal {
    verdict: CredentialVerdict,
    detail: String,
}

impl From<Refusal> for Verification {
    fn from(r: Refusal) -> Self {
        Self::new(r.verdict, r.detail)
    }
}

impl Refusal {
    fn new(verdict: CredentialVerdict, detail: impl Into<String>) -> Self {
        Self {
            verdict,
            detail: detail.into(),
        }
    }
}

impl Verification {
    fn new(verdict: CredentialVerdict, detail: impl Into<String>) -> Self {
        Self {
            verdict,
            detail: detail.into(),
            credential: None,
            status_issued_at: None,
            status_age_secs: None,
        }
    }
}

/// Tolerance for clocks that disagree, in seconds.
const LEEWAY_SECS: i64 = 60;

fn time(v: &Value) -> Option<DateTime<Utc>> {
    v.as_str()
        .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
        .map(|t| t.with_timezone(&Utc))
}

fn has_type(v: &Value, wanted: &str) -> bool {
    match v {
        Value::String(s) => s == wanted,
        Value::Array(items) => items.iter().any(|t| t.as_str() == Some(wanted)),
        _ => false,
    }
}

/// Checks a compact JWS against the key set: header, key, signature. The payload on success.
fn check_jws(token: &str, keys: &JwkSet) -> Result<(Value, String), Refusal> {
    let header = jsonwebtoken::decode_header(token.trim())
        .map_err(|_| Refusal::new(CredentialVerdict::Malformed, "not a compact JWS (VC-JWT)"))?;
    if header.alg != Algorithm::EdDSA {
        return Err(Refusal::new(
            CredentialVerdict::Malformed,
            format!("signed with {:?}; only EdDSA is accepted", header.alg),
        ));
    }
    let Some(kid) = header.kid else {
        return Err(Refusal::new(
            CredentialVerdict::UnknownKey,
            "the signature names no key (kid)",
        ));
    };
    let Some(jwk) = keys
        .keys
        .iter()
        .find(|k| k.kid == kid && k.kty == "OKP" && k.crv == "Ed25519")
    else {
        return Err(Refusal::new(
            CredentialVerdict::UnknownKey,
            format!("key {kid} is not among the issuer's published keys"),
        ));
    };
    let key = DecodingKey::from_ed_components(&jwk.x).map_err(|_| {
        Refusal::new(
            CredentialVerdict::UnknownKey,
            format!("key {kid} in the key set is unreadable"),
        )
    })?;
    let mut validation = Validation::new(Algorithm::EdDSA);
    validation.validate_exp = false;
    validation.validate_nbf = false;
    validation.validate_aud = false;
    validation.required_spec_claims.clear();
    match jsonwebtoken::decode::<Value>(token.trim(), &key, &validation) {
        Ok(data) => Ok((data.claims, kid)),
        Err(e) if matches!(e.kind(), ErrorKind::InvalidSignature) => Err(Refusal::new(
            CredentialVerdict::Tampered,
            format!("the signature does not match the content under key {kid}"),
        )),
        Err(e) => Err(Refusal::new(
            CredentialVerdict::Malformed,
            format!("unreadable: {e}"),
        )),
    }
}

/// The status list at `url` among the cached ones, verified with the issuer's keys; with its
/// `validFrom`.
fn status_list(trust: &TrustedIssuer, url: &str) -> Result<(StatusList, DateTime<Utc>), Refusal> {
    let unknown = |detail: String| Refusal::new(CredentialVerdict::StatusUnknown, detail);
    for token in &trust.status_lists {
        let Ok((claims, _)) = check_jws(token, &trust.keys) else {
            continue;
        };
        let vc = &claims["vc"];
        if vc["id"].as_str() != Some(url) {
            continue;
        }
        if claims["iss"].as_str() != Some(trust.issuer.as_str())
            || !has_type(&vc["type"], "BitstringStatusListCredential")
            || vc["credentialSubject"]["statusPurpose"].as_str() != Some("revocation")
        {
            return Err(unknown(format!(
                "the cached list {url} is not this issuer's revocation list"
            )));
        }
        let issued = time(&vc["validFrom"])
            .ok_or_else(|| unknown(format!("the cached list {url} has no validFrom")))?;
        let list = vc["credentialSubject"]["encodedList"]
            .as_str()
            .ok_or_else(|| unknown(format!("the cached list {url} has no encodedList")))
            .and_then(|e| {
                StatusList::decode(e)
                    .map_err(|e| unknown(format!("the cached list {url} is unreadable: {e}")))
            })?;
        return Ok((list, issued));
    }
    Err(unknown(format!(
        "no verified status list {url} is cached: fetch the issuer's lists and verify again"
    )))
}

/// Verifies `token` (a compact VC-JWT) offline against `trust`, at `now`, accepting a status
/// list up to `max_status_age` old.
#[expect(
    clippy::too_many_lines,
    reason = "the checks in their order, read top to bottom"
)]
pub fn verify(
    token: &str,
    trust: &TrustedIssuer,
    now: DateTime<Utc>,
    max_status_age: Duration,
) -> Verification {
    let (claims, kid) = match check_jws(token, &trust.keys) {
        Ok(ok) => ok,
        Err(r) => return r.into(),
    };
    let vc = &claims["vc"];
    if !has_type(&vc["type"], "OpenBadgeCredential") {
        return Verification::new(
            CredentialVerdict::Malformed,
            "signed, but not an OpenBadgeCredential",
        );
    }
    let issuer = vc["issuer"]["id"]
        .as_str()
        .or_else(|| vc["issuer"].as_str())
        .unwrap_or_default();
    if claims["iss"].as_str() != Some(issuer) || claims["jti"] != vc["id"] {
        return Verification::new(
            CredentialVerdict::Malformed,
            "the JWT's claims disagree with the credential (iss, jti)",
        );
    }
    if issuer != trust.issuer {
        return Verification::new(
            CredentialVerdict::UnknownKey,
            format!(
                "issued by {issuer}, but the cached keys are {}'s",
                trust.issuer
            ),
        );
    }
    let subject = &vc["credentialSubject"];
    let summary = CredentialSummary {
        id: vc["id"].as_str().unwrap_or_default().to_owned(),
        issuer: issuer.to_owned(),
        issuer_name: vc["issuer"]["name"].as_str().map(str::to_owned),
        learner_name: subject["name"].as_str().map(str::to_owned),
        achievement: subject["achievement"]["name"].as_str().map(str::to_owned),
        valid_from: time(&vc["validFrom"]),
        valid_until: time(&vc["validUntil"]),
        kid,
    };
    let mut outcome = Verification::new(CredentialVerdict::Valid, "");
    outcome.credential = Some(summary.clone());
    let with = |mut o: Verification, verdict, detail: String| {
        o.verdict = verdict;
        o.detail = detail;
        o
    };

    // Revocation first: a revoked credential is revoked whatever else holds.
    let status = &vc["credentialStatus"];
    let mut list_age = None;
    if !status.is_null() {
        let url = status["statusListCredential"].as_str().unwrap_or_default();
        let index = status["statusListIndex"]
            .as_str()
            .and_then(|i| i.parse::<usize>().ok());
        let Some(index) = index else {
            return with(
                outcome,
                CredentialVerdict::Malformed,
                "the credential's status entry has no index".to_owned(),
            );
        };
        let (list, list_issued) = match status_list(trust, url) {
            Ok(ok) => ok,
            Err(r) => return with(outcome, r.verdict, r.detail),
        };
        let age = now - list_issued;
        outcome.status_issued_at = Some(list_issued);
        outcome.status_age_secs = Some(age.num_seconds());
        match list.get(index) {
            Some(true) => {
                return with(
                    outcome,
                    CredentialVerdict::Revoked,
                    format!("revoked, as the issuer's list of {list_issued} says"),
                );
            }
            Some(false) => {}
            None => {
                return with(
                    outcome,
                    CredentialVerdict::StatusUnknown,
                    format!("index {index} is past the end of the list {url}"),
                );
            }
        }
        list_age = Some(age);
    }

    let leeway = Duration::seconds(LEEWAY_SECS);
    let from = summary.valid_from.or_else(|| {
        claims["nbf"]
            .as_i64()
            .and_then(|t| DateTime::from_timestamp(t, 0))
    });
    let until = summary.valid_until.or_else(|| {
        claims["exp"]
            .as_i64()
            .and_then(|t| DateTime::from_timestamp(t, 0))
    });
    if let Some(until) = until.filter(|u| now > *u + leeway) {
        return with(
            outcome,
            CredentialVerdict::Expired,
            format!("expired on {until}"),
        );
    }
    if let Some(from) = from.filter(|f| now + leeway < *f) {
        return with(
            outcome,
            CredentialVerdict::Expired,
            format!("not in force before {from}"),
        );
    }
    if let Some(age) = list_age.filter(|age| *age > max_status_age) {
        return with(
            outcome,
            CredentialVerdict::StatusStale,
            format!(
                "the revocation list is {} old (at most {} accepted): fetch it again",
                human(age),
                human(max_status_age)
            ),
        );
    }
    let detail = match list_age {
        Some(age) => format!("not revoked as of {} ago", human(age)),
        None => "the credential has no revocation entry".to_owned(),
    };
    with(outcome, CredentialVerdict::Valid, detail)
}

/// A duration in the largest whole unit: `3 days`, `5 hours`, `12 minutes`, `40 seconds`.
pub fn human(d: Duration) -> String {
    let s = d.num_seconds().max(0);
    let (n, unit) = if s >= 86_400 {
        (s / 86_400, "day")
    } else if s >= 3_600 {
        (s / 3_600, "hour")
    } else if s >= 60 {
        (s / 60, "minute")
    } else {
        (s, "second")
    };
    format!("{n} {unit}{}", if n == 1 { "" } else { "s" })
}
