//! Signed certificates on this device: the issuer's keys and revocation lists, fetched from the
//! server and kept in `<data-dir>/certificate-trust.json`, so a credential verifies **offline**
//! (`skilltrack certificate verify FILE`, and later the desktop app) with
//! [`skilltrack_credentials::verify`].

use std::path::{Path, PathBuf};

use chrono::{DateTime, Duration, Utc};
use skilltrack_credentials::{TrustedIssuer, Verification};
use skilltrack_protocol::credentials::{CertificateCredential, IssuerDocument, JwkSet};

use crate::api::{ApiClient, ApiError};

/// The cache file under the data directory.
pub const TRUST_FILE: &str = "certificate-trust.json";

/// How old a cached revocation list may be before a verdict says it is stale, by default.
pub const DEFAULT_MAX_STATUS_AGE_DAYS: i64 = 7;

/// Why certificates could not be fetched, cached or read.
#[derive(Debug, thiserror::Error)]
pub enum CertificateError {
    /// The server refused or could not be reached.
    #[error(transparent)]
    Api(#[from] ApiError),
    /// A file could not be read or written.
    #[error("{context} {path}: {source}")]
    Io {
        /// What was being done.
        context: &'static str,
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// Nothing is cached yet.
    #[error(
        "no issuer keys are cached in {0}: run `skilltrack certificate keys` (or `skilltrack sync`) once while online"
    )]
    NoTrust(PathBuf),
    /// The credential cannot be read well enough to print it (the PDF shows its claims).
    #[error("the credential's claims are unreadable, so no certificate can be drawn from it")]
    Unreadable,
    /// The file holds no credential.
    #[error(
        "{0} holds no credential: expected a VC-JWT, or the JSON, PDF or PNG badge `skilltrack certificate get` saves"
    )]
    NoCredential(PathBuf),
}

impl CertificateError {
    /// A stable code for scripts and the UI.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Api(_) => "server",
            Self::Io { .. } => "io",
            Self::NoTrust(_) => "no_trust_cached",
            Self::NoCredential(_) => "no_credential",
            Self::Unreadable => "credential_unreadable",
        }
    }
}

fn trust_path(data_dir: &Path) -> PathBuf {
    data_dir.join(TRUST_FILE)
}

/// Fetches the issuer's document, keys and every revocation list, and caches them.
pub async fn refresh_trust(
    api: &ApiClient,
    data_dir: &Path,
) -> Result<TrustedIssuer, CertificateError> {
    let issuer: IssuerDocument = api.public_json("/api/v1/certificates/issuer").await?;
    let keys: JwkSet = api.public_json(&issuer.jwks_uri).await?;
    let mut status_lists = Vec::with_capacity(issuer.status_lists.len());
    for url in &issuer.status_lists {
        status_lists.push(api.public_text(url).await?.trim().to_owned());
    }
    let trust = TrustedIssuer {
        issuer: issuer.id,
        keys,
        status_lists,
        fetched_at: Some(Utc::now()),
    };
    save_trust(data_dir, &trust)?;
    Ok(trust)
}

/// Writes the cache (atomically: a temporary file renamed over it).
pub fn save_trust(data_dir: &Path, trust: &TrustedIssuer) -> Result<(), CertificateError> {
    let path = trust_path(data_dir);
    let tmp = data_dir.join(format!("{TRUST_FILE}.new"));
    let io = |context, path: &Path| {
        let path = path.to_owned();
        move |source| CertificateError::Io {
            context,
            path,
            source,
        }
    };
    std::fs::create_dir_all(data_dir).map_err(io("creating", data_dir))?;
    let text = serde_json::to_string_pretty(trust).unwrap_or_default();
    std::fs::write(&tmp, text).map_err(io("writing", &tmp))?;
    std::fs::rename(&tmp, &path).map_err(io("replacing", &path))
}

/// The cached issuer, if any.
pub fn load_trust(data_dir: &Path) -> Result<TrustedIssuer, CertificateError> {
    let path = trust_path(data_dir);
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(CertificateError::NoTrust(path));
        }
        Err(source) => {
            return Err(CertificateError::Io {
                context: "reading",
                path,
                source,
            });
        }
    };
    serde_json::from_str(&text).map_err(|_| CertificateError::NoTrust(path))
}

/// The compact VC-JWT a file's bytes carry: the JWT itself, the JSON [`download_credential`]
/// saves, a certificate PDF or a baked PNG badge (see
/// [`skilltrack_credentials::credential_in_bytes`]).
pub fn credential_in(bytes: &[u8]) -> Option<String> {
    skilltrack_credentials::credential_in_bytes(bytes)
}

/// The files a certificate's credential is saved as; each carries the same signed VC-JWT and
/// verifies offline with `skilltrack certificate verify`.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Default,
    serde::Serialize,
    serde::Deserialize,
    clap::ValueEnum,
)]
#[serde(rename_all = "lowercase")]
pub enum CredentialFormat {
    /// JSON: the credential (VC-JWT) with its certificate's number, id and standing.
    #[default]
    Json,
    /// A printable one-page PDF certificate with the verification link and a QR code; the
    /// credential is attached as `credential.jwt`.
    Pdf,
    /// A PNG badge with the credential baked in (Open Badges 3.0 baking, `iTXt`
    /// `openbadgecredential`), for badge wallets and profiles.
    Png,
}

impl CredentialFormat {
    /// The default file name for a certificate's credential in this format.
    pub fn file_name(self, certificate_number: &str) -> String {
        // A number is ours (letters, digits, dashes), but it still must not name a path.
        let number: String = certificate_number
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '-' {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        match self {
            Self::Json => format!("{number}.credential.json"),
            Self::Pdf => format!("{number}.pdf"),
            Self::Png => format!("{number}.png"),
        }
    }

    /// The file's bytes.
    pub fn render(self, credential: &CertificateCredential) -> Result<Vec<u8>, CertificateError> {
        match self {
            Self::Json => Ok(serde_json::to_vec_pretty(credential).unwrap_or_default()),
            Self::Pdf => {
                let mut pdf =
                    skilltrack_credentials::CertificatePdf::from_credential(&credential.credential)
                        .ok_or(CertificateError::Unreadable)?;
                if pdf.certificate_number.is_empty() {
                    pdf.certificate_number
                        .clone_from(&credential.certificate_number);
                }
                Ok(skilltrack_credentials::certificate_pdf(&pdf))
            }
            Self::Png => Ok(skilltrack_credentials::bake_png(&credential.credential)),
        }
    }
}

/// Writes a certificate's credential in `format` to `path` (replacing what is there).
pub fn save_credential(
    credential: &CertificateCredential,
    format: CredentialFormat,
    path: &Path,
) -> Result<(), CertificateError> {
    let bytes = format.render(credential)?;
    std::fs::write(path, bytes).map_err(|source| CertificateError::Io {
        context: "writing",
        path: path.to_owned(),
        source,
    })
}

/// Verifies the credential in `file` offline, against what is cached in `data_dir`, at `now`.
pub fn verify_file(
    file: &Path,
    data_dir: &Path,
    now: DateTime<Utc>,
    max_status_age: Duration,
) -> Result<(Verification, TrustedIssuer), CertificateError> {
    let bytes = std::fs::read(file).map_err(|source| CertificateError::Io {
        context: "reading",
        path: file.to_owned(),
        source,
    })?;
    let credential =
        credential_in(&bytes).ok_or_else(|| CertificateError::NoCredential(file.to_owned()))?;
    verify_cached(&credential, data_dir, now, max_status_age)
}

/// Verifies a credential offline, against what is cached in `data_dir`, at `now`; with the
/// cache, which says how fresh it is.
pub fn verify_cached(
    credential: &str,
    data_dir: &Path,
    now: DateTime<Utc>,
    max_status_age: Duration,
) -> Result<(Verification, TrustedIssuer), CertificateError> {
    let trust = load_trust(data_dir)?;
    let verification = skilltrack_credentials::verify(credential, &trust, now, max_status_age);
    Ok((verification, trust))
}

/// A row of the offline cache's `certificates` (the sync feed carries the signed credential
/// with it) as the credential the server would answer, so a device saves and verifies its
/// certificates offline. `None` if it was not signed before the last sync (or is not one).
pub fn cached_credential(row: &serde_json::Value) -> Option<CertificateCredential> {
    let text = |key: &str| row.get(key).and_then(|v| v.as_str()).map(str::to_owned);
    let time = |key: &str| {
        text(key)
            .and_then(|t| DateTime::parse_from_rfc3339(&t).ok())
            .map(|t| t.with_timezone(&Utc))
    };
    Some(CertificateCredential {
        certificate_id: text("id")?.parse().ok()?,
        certificate_number: text("certificate_number")?,
        credential: text("credential")?,
        kid: text("credential_kid").unwrap_or_default(),
        issued_at: time("issued_at")?,
        revoked_at: time("revoked_at"),
        revocation_reason: text("revocation_reason"),
    })
}

/// One of the signed-in learner's certificates as a signed credential.
pub async fn download_credential(
    api: &ApiClient,
    token: &str,
    certificate: uuid::Uuid,
) -> Result<CertificateCredential, CertificateError> {
    Ok(api
        .json::<(), _>(
            reqwest::Method::GET,
            &format!("/api/v1/me/certificates/{certificate}/credential"),
            token,
            None,
        )
        .await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    const JWT: &str = "eyJhbGciOiJFZERTQSJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl";

    #[test]
    fn a_cached_certificate_row_gives_its_credential_once_signed() {
        let row = serde_json::json!({
            "id": "0192e0a4-0000-7000-8000-000000000001",
            "certificate_number": "SKT-2026-ABCD",
            "issued_at": "2026-03-14T09:26:53.123+00:00",
            "credential": JWT,
            "credential_kid": "k1",
            "revoked_at": null,
            "revocation_reason": null,
        });
        let c = cached_credential(&row).expect("signed");
        assert_eq!(
            (
                c.certificate_number.as_str(),
                c.credential.as_str(),
                c.kid.as_str()
            ),
            ("SKT-2026-ABCD", JWT, "k1")
        );
        assert_eq!(c.revoked_at, None);
        let mut unsigned = row;
        unsigned["credential"] = serde_json::Value::Null;
        assert!(cached_credential(&unsigned).is_none());
    }

    #[test]
    fn each_format_has_its_own_default_name_and_a_number_never_names_a_path() {
        assert_eq!(
            CredentialFormat::Json.file_name("SKT-1"),
            "SKT-1.credential.json"
        );
        assert_eq!(CredentialFormat::Pdf.file_name("SKT-1"), "SKT-1.pdf");
        assert_eq!(CredentialFormat::Png.file_name("../x/y"), "___x_y.png");
    }

    #[test]
    fn every_format_carries_the_credential_for_verify_to_find() {
        let c = CertificateCredential {
            certificate_id: uuid::Uuid::nil(),
            certificate_number: "N".to_owned(),
            credential: JWT.to_owned(),
            kid: String::new(),
            issued_at: Utc::now(),
            revoked_at: None,
            revocation_reason: None,
        };
        for format in [CredentialFormat::Json, CredentialFormat::Png] {
            let bytes = format.render(&c).expect("rendered");
            assert_eq!(credential_in(&bytes).as_deref(), Some(JWT), "{format:?}");
        }
        // The PDF shows the credential's claims: one without them cannot be drawn.
        assert!(matches!(
            CredentialFormat::Pdf.render(&c),
            Err(CertificateError::Unreadable)
        ));
    }
}
