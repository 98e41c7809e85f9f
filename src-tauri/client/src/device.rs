//! A device's Skilltrack data: one directory holding the cache, the downloads and (where the
//! keyring is unavailable) the session, for one server.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use crate::api::{ApiClient, ApiError};
use crate::cache::Cache;
use crate::sync::{SyncEngine, SyncError};
use crate::tls::Trust;
use crate::tokens::{StoreKind, TokenStore};

/// The default data directory: `$XDG_DATA_HOME/skilltrack` (or `~/.local/share/skilltrack`).
pub fn default_data_dir() -> PathBuf {
    std::env::var_os("XDG_DATA_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".local/share")))
        .unwrap_or_else(|| PathBuf::from("."))
        .join("skilltrack")
}

/// Where one server's data lives under an app's data root: `<root>/servers/<name>`, the name
/// made of the URL's characters that are safe in a file name. Each server keeps its own cache,
/// downloads and session, so switching servers never mixes their data.
pub fn server_data_dir(data_root: &Path, server: &str) -> PathBuf {
    let name: String = server
        .trim_end_matches('/')
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect();
    data_root.join("servers").join(name)
}

/// Opens the engine for `server` with its data in `data_dir` (created if missing), keeping
/// the session in the keyring where one works (`prefer`: [`StoreKind::File`] skips it), and
/// trusting the public certificate authorities.
pub fn open(server: &str, data_dir: &Path, prefer: &StoreKind) -> Result<SyncEngine, SyncError> {
    let trust = Trust::public().map_err(|e| ApiError::Protocol(e.to_string()))?;
    open_with_trust(server, data_dir, prefer, &trust)
}

/// As [`open`], trusting `trust`'s certificate authorities (see [`Trust::from_env`]).
pub fn open_with_trust(
    server: &str,
    data_dir: &Path,
    prefer: &StoreKind,
    trust: &Trust,
) -> Result<SyncEngine, SyncError> {
    std::fs::create_dir_all(data_dir).map_err(|source| SyncError::Io {
        context: format!("creating {}", data_dir.display()),
        source,
    })?;
    let cache = Cache::open(&data_dir.join("cache.sqlite3"))?;
    let api = ApiClient::with_trust(server, trust)?;
    let tokens = TokenStore::open(
        data_dir,
        &format!("{server}|{}", data_dir.display()),
        prefer,
    );
    SyncEngine::new(api, Arc::new(Mutex::new(cache)), tokens)
}

/// Where downloaded media go.
pub fn media_dir(data_dir: &Path) -> PathBuf {
    data_dir.join("media")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_server_gets_a_directory_named_after_it() {
        let root = Path::new("/data");
        assert_eq!(
            server_data_dir(root, "http://127.0.0.1:8787/"),
            Path::new("/data/servers/http___127.0.0.1_8787")
        );
        assert_ne!(
            server_data_dir(root, "http://a:1"),
            server_data_dir(root, "http://a:2")
        );
    }
}
