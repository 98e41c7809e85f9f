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
    /// The file holds no credential.
    #[error(
        "{0} holds no credential: expected a VC-JWT, or the JSON `skilltrack certificate get` saves"
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

/// The compact VC-JWT in a file's text: the JWT itself, or a JSON object whose `credential`
/// is one (what [`download_credential`] saves).
pub fn credential_in(text: &str) -> Option<String> {
    let text = text.trim();
    if let Ok(value) = serde_json::from_str::<serde_json::Value>(text) {
        return value
            .get("credential")
            .and_then(|c| c.as_str())
            .or_else(|| value.as_str())
            .map(|c| c.trim().to_owned());
    }
    (text.split('.').count() == 3 && !text.contains(char::is_whitespace)).then(|| text.to_owned())
}

/// Verifies the credential in `file` offline, against what is cached in `data_dir`, at `now`.
pub fn verify_file(
    file: &Path,
    data_dir: &Path,
    now: DateTime<Utc>,
    max_status_age: Duration,
) -> Result<(Verification, TrustedIssuer), CertificateError> {
    let text = std::fs::read_to_string(file).map_err(|source| CertificateError::Io {
        context: "reading",
        path: file.to_owned(),
        source,
    })?;
    let credential =
        credential_in(&text).ok_or_else(|| CertificateError::NoCredential(file.to_owned()))?;
    let trust = load_trust(data_dir)?;
    let verification = skilltrack_credentials::verify(&credential, &trust, now, max_status_age);
    Ok((verification, trust))
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
