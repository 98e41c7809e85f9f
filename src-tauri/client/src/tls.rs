//! Which servers the client trusts over `https://` and `wss://`: the web's public certificate
//! authorities (Mozilla's list, built in, as browsers ship it), plus those an operator adds
//! (`SKILLTRACK_CA_FILE`: a PEM file, for a server whose certificate comes from an
//! organisation's own authority). One rustls configuration serves both the API client and the
//! lab terminal's WebSocket, so the two can never disagree about a server.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject as _;

/// The environment variable naming extra certificate authorities (PEM).
pub const CA_FILE_ENV: &str = "SKILLTRACK_CA_FILE";

/// Why the trusted authorities could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum TrustError {
    /// The file could not be read, or holds something that is not a PEM certificate.
    #[error("the certificate authorities in {path} could not be read: {reason}")]
    Unreadable {
        /// The file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// The file holds no certificate.
    #[error("{path} holds no PEM certificate (`-----BEGIN CERTIFICATE-----`)")]
    Empty {
        /// The file.
        path: PathBuf,
    },
    /// A certificate was refused as an authority.
    #[error("a certificate authority was refused: {0}")]
    Refused(String),
}

/// The authorities the client trusts (cheap to clone).
#[derive(Debug, Clone)]
pub struct Trust {
    config: Arc<rustls::ClientConfig>,
}

impl Trust {
    /// The public authorities only.
    ///
    /// # Errors
    /// Never in practice: the built-in list and the default TLS versions are always usable.
    pub fn public() -> Result<Self, TrustError> {
        Self::with_extra(&[])
    }

    /// The public authorities and those in the PEM file `path`.
    ///
    /// # Errors
    /// The file is unreadable, holds no certificate, or one is not a usable authority.
    pub fn with_ca_file(path: &Path) -> Result<Self, TrustError> {
        let unreadable = |reason: String| TrustError::Unreadable {
            path: path.to_owned(),
            reason,
        };
        let extra: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(path)
            .map_err(|e| unreadable(e.to_string()))?
            .collect::<Result<_, _>>()
            .map_err(|e| unreadable(e.to_string()))?;
        if extra.is_empty() {
            return Err(TrustError::Empty {
                path: path.to_owned(),
            });
        }
        Self::with_extra(&extra)
    }

    /// As the environment says: the public authorities, and those in `SKILLTRACK_CA_FILE`
    /// when it names a file.
    ///
    /// # Errors
    /// As [`Trust::with_ca_file`].
    pub fn from_env() -> Result<Self, TrustError> {
        match std::env::var_os(CA_FILE_ENV).filter(|v| !v.is_empty()) {
            Some(path) => Self::with_ca_file(Path::new(&path)),
            None => Self::public(),
        }
    }

    /// The public authorities and `extra`.
    ///
    /// # Errors
    /// One of `extra` is not a usable authority.
    pub fn with_extra(extra: &[CertificateDer<'static>]) -> Result<Self, TrustError> {
        let mut roots = rustls::RootCertStore::empty();
        roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
        for cert in extra {
            roots
                .add(cert.clone())
                .map_err(|e| TrustError::Refused(e.to_string()))?;
        }
        let config = rustls::ClientConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .map_err(|e| TrustError::Refused(e.to_string()))?
        .with_root_certificates(roots)
        .with_no_client_auth();
        Ok(Self {
            config: Arc::new(config),
        })
    }

    /// The rustls configuration (HTTP/1.1: no ALPN, which the WebSocket needs too).
    pub fn config(&self) -> Arc<rustls::ClientConfig> {
        Arc::clone(&self.config)
    }
}
