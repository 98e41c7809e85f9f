//! Errors as the front end sees them: a stable code to branch on and words to show.

use serde::Serialize;
use skilltrack_client::api::ApiError;
use skilltrack_client::cache::CacheError;
use skilltrack_client::certificates::CertificateError;
use skilltrack_client::downloads::DownloadError;
use skilltrack_client::sync::SyncError;
use ts_rs::TS;

/// A command's failure.
#[derive(Debug, Clone, Serialize, TS, thiserror::Error)]
#[ts(export)]
#[error("{message} ({code})")]
pub struct CommandError {
    /// Stable and machine-readable: `offline`, `signed_out`, `invalid_credentials`, …
    pub code: String,
    /// For the learner, in words.
    pub message: String,
}

impl CommandError {
    /// An error with this code and message.
    pub fn new(code: &str, message: impl Into<String>) -> Self {
        Self {
            code: code.to_owned(),
            message: message.into(),
        }
    }
}

impl From<SyncError> for CommandError {
    fn from(e: SyncError) -> Self {
        let code = match &e {
            SyncError::Api(ApiError::Offline(_)) => "offline".to_owned(),
            SyncError::Api(ApiError::Problem { code, .. }) => code.clone(),
            SyncError::Api(ApiError::Protocol(_)) => "protocol".to_owned(),
            SyncError::Api(ApiError::Untrusted(_)) => "untrusted_certificate".to_owned(),
            SyncError::Api(ApiError::InsecureServer(_)) => "insecure_server".to_owned(),
            SyncError::Api(ApiError::InvalidServer(_)) => "invalid_server".to_owned(),
            SyncError::Cache(_) => "cache".to_owned(),
            SyncError::Tokens(_) => "session_store".to_owned(),
            SyncError::SignedOut => "signed_out".to_owned(),
            SyncError::NoOpenAttempt => "no_open_attempt".to_owned(),
            SyncError::Io { .. } => "io".to_owned(),
        };
        let message = match &e {
            // Sign-in problems are the server's own words ("wrong e-mail or password").
            SyncError::Api(ApiError::Problem { status, detail, .. }) if *status < 500 => {
                detail.clone()
            }
            _ => e.explain(),
        };
        Self { code, message }
    }
}

impl From<CacheError> for CommandError {
    fn from(e: CacheError) -> Self {
        SyncError::from(e).into()
    }
}

impl From<CertificateError> for CommandError {
    fn from(e: CertificateError) -> Self {
        let message = match &e {
            CertificateError::NoTrust(_) => {
                "The issuer's keys are not on this device yet: sync once while online.".to_owned()
            }
            other => other.to_string(),
        };
        Self::new(e.code(), message)
    }
}

impl From<DownloadError> for CommandError {
    fn from(e: DownloadError) -> Self {
        match e {
            DownloadError::Api(e) => SyncError::from(e).into(),
            DownloadError::Sync(e) => e.into(),
            DownloadError::Cache(e) => e.into(),
            e @ DownloadError::Disk { .. } => Self::new("disk", e.to_string()),
            e @ DownloadError::Corrupt { .. } => Self::new("corrupt_download", e.to_string()),
        }
    }
}
