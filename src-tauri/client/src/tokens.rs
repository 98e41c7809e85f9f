//! Where the session (access and refresh tokens) is kept between runs: the operating system's
//! keyring, never the SQLite cache and never a log.
//!
//! On Linux the keyring is the Secret Service (GNOME Keyring, `KWallet`) when a desktop session
//! runs one, else the kernel's key store (which forgets at log-out). Where neither works — a
//! bare server, a container — the fallback is said out loud: a file readable only by the user
//! (mode 0600) in the app's data directory, like git's credential store. [`TokenStore::kind`]
//! tells which is in use, and the app shows it in its settings.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use skilltrack_protocol::auth::Session;

/// Why the session could not be kept or read.
#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    /// The keyring refused.
    #[error("the keyring failed: {0}")]
    Keyring(#[from] keyring::Error),
    /// The fallback file could not be written or read.
    #[error("the session file {path} failed: {source}")]
    File {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// What was stored is not a session.
    #[error("the stored session is damaged; sign in again")]
    Damaged,
}

/// Which store holds the session.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
pub enum StoreKind {
    /// The OS keyring.
    Keyring,
    /// A file only the user can read (no keyring service on this machine).
    File,
}

/// The session store of one app data directory.
#[derive(Debug)]
pub struct TokenStore {
    kind: StoreKind,
    entry: Option<keyring::Entry>,
    file: PathBuf,
}

const SERVICE: &str = "dev.skilltrack.desktop";

impl TokenStore {
    /// The keyring if it works here (unless `prefer` is [`StoreKind::File`]), else the file
    /// fallback in `data_dir`. `account` names the entry (one per data directory and server).
    pub fn open(data_dir: &Path, account: &str, prefer: &StoreKind) -> Self {
        let file = data_dir.join("session.json");
        let entry = if *prefer == StoreKind::File {
            None
        } else {
            keyring::Entry::new(SERVICE, account)
                .ok()
                .filter(keyring_works)
        };
        if let Some(entry) = entry {
            return Self {
                kind: StoreKind::Keyring,
                entry: Some(entry),
                file,
            };
        }
        tracing::warn!(
            path = %file.display(),
            "no keyring service here: the session is kept in a file only you can read"
        );
        Self {
            kind: StoreKind::File,
            entry: None,
            file,
        }
    }

    /// Which store is in use.
    pub fn kind(&self) -> &StoreKind {
        &self.kind
    }

    /// The kept session, if any.
    pub fn load(&self) -> Result<Option<Session>, TokenError> {
        let text = match &self.entry {
            Some(entry) => match entry.get_password() {
                Ok(t) => Some(t),
                Err(keyring::Error::NoEntry) => None,
                Err(e) => return Err(e.into()),
            },
            None => match std::fs::read_to_string(&self.file) {
                Ok(t) => Some(t),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
                Err(source) => {
                    return Err(TokenError::File {
                        path: self.file.clone(),
                        source,
                    });
                }
            },
        };
        text.map(|t| serde_json::from_str(&t).map_err(|_| TokenError::Damaged))
            .transpose()
    }

    /// Keeps `session`, replacing the one kept.
    pub fn save(&self, session: &Session) -> Result<(), TokenError> {
        let text = serde_json::to_string(session).map_err(|_| TokenError::Damaged)?;
        match &self.entry {
            Some(entry) => Ok(entry.set_password(&text)?),
            None => write_private(&self.file, &text).map_err(|source| TokenError::File {
                path: self.file.clone(),
                source,
            }),
        }
    }

    /// Forgets the session (signing out).
    pub fn clear(&self) -> Result<(), TokenError> {
        match &self.entry {
            Some(entry) => match entry.delete_credential() {
                Ok(()) | Err(keyring::Error::NoEntry) => Ok(()),
                Err(e) => Err(e.into()),
            },
            None => match std::fs::remove_file(&self.file) {
                Ok(()) => Ok(()),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
                Err(source) => Err(TokenError::File {
                    path: self.file.clone(),
                    source,
                }),
            },
        }
    }
}

/// Whether the keyring can keep and give back a value here (a probe entry of its own, removed
/// after).
fn keyring_works(_entry: &keyring::Entry) -> bool {
    let name = format!("probe-{}", uuid::Uuid::new_v4());
    let Ok(probe) = keyring::Entry::new(SERVICE, &name) else {
        return false;
    };
    let ok = probe.set_password(&name).is_ok() && probe.get_password().is_ok_and(|p| p == name);
    let _ = probe.delete_credential();
    ok
}

/// Writes `text` to `path` readable and writable by the owner only, replacing it atomically.
fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    use std::os::unix::fs::OpenOptionsExt as _;
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let tmp = path.with_extension("tmp");
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&tmp)?;
    f.write_all(text.as_bytes())?;
    f.sync_all()?;
    std::fs::rename(&tmp, path)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests fail loudly on purpose")]

    use super::*;
    use std::os::unix::fs::PermissionsExt as _;

    #[test]
    fn the_file_fallback_is_private_to_the_user() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("session.json");
        write_private(&path, "{}").unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
    }
}
