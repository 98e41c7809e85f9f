//! One sync at a time on one cache: whoever syncs a data directory (the desktop app's sync
//! loop, `skilltrack sync`) holds an OS file lock on `sync.lock` in it, so the app and the CLI
//! never pull and push over each other. The lock is `flock(2)`: the kernel drops it when the
//! holder exits, however it exits, so a crash never leaves a stale lock behind.

use std::fs::{File, OpenOptions};
use std::io::{Read as _, Seek as _, Write as _};
use std::path::{Path, PathBuf};

/// The stable code of [`SyncLockError::InUse`].
pub const CACHE_IN_USE: &str = "cache_in_use";

/// The lock file's name inside a server's data directory.
const LOCK_FILE: &str = "sync.lock";

/// Who holds the lock, written into the lock file so the one refused can say who to wait for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Holder {
    /// The desktop app's sync loop.
    App,
    /// The `skilltrack` command line.
    Cli,
}

impl Holder {
    fn tag(self) -> &'static str {
        match self {
            Self::App => "app",
            Self::Cli => "cli",
        }
    }

    fn from_tag(tag: &str) -> Option<Self> {
        match tag.split_whitespace().next()? {
            "app" => Some(Self::App),
            "cli" => Some(Self::Cli),
            _ => None,
        }
    }
}

/// Why the lock was not taken.
#[derive(Debug, thiserror::Error)]
pub enum SyncLockError {
    /// Another process syncs this cache now.
    #[error("{}", in_use_words(*.holder))]
    InUse {
        /// Who, as its lock file says (unknown when it was written by something else).
        holder: Option<Holder>,
    },
    /// The lock file could not be opened or locked.
    #[error("the sync lock {}: {source}", path.display())]
    Io {
        /// The lock file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
}

impl SyncLockError {
    /// The stable code: `cache_in_use`, or `io`.
    pub fn code(&self) -> &'static str {
        match self {
            Self::InUse { .. } => CACHE_IN_USE,
            Self::Io { .. } => "io",
        }
    }
}

fn in_use_words(holder: Option<Holder>) -> &'static str {
    match holder {
        Some(Holder::App) => "The Skilltrack app is syncing this account; close it or wait",
        Some(Holder::Cli) => {
            "The skilltrack command is syncing this account (`skilltrack sync`); stop it or wait"
        }
        None => "Another program is syncing this account; close it or wait",
    }
}

/// The held lock; dropping it (or the process ending) releases it.
#[derive(Debug)]
pub struct SyncLock {
    _file: File,
}

impl SyncLock {
    /// Takes the sync lock of `data_dir` for `holder` at once, or says who holds it.
    pub fn try_acquire(data_dir: &Path, holder: Holder) -> Result<Self, SyncLockError> {
        let path = data_dir.join(LOCK_FILE);
        let io = |source| SyncLockError::Io {
            path: path.clone(),
            source,
        };
        // Not truncated on open: the holder's name is read by the one refused.
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(io)?;
        // Called through the trait: std's own `File::try_lock` is newer than our MSRV.
        match fs4::FileExt::try_lock(&file) {
            Ok(()) => {}
            Err(fs4::TryLockError::WouldBlock) => {
                let mut tag = String::new();
                let _ = file.read_to_string(&mut tag);
                return Err(SyncLockError::InUse {
                    holder: Holder::from_tag(&tag),
                });
            }
            Err(fs4::TryLockError::Error(e)) => return Err(io(e)),
        }
        file.set_len(0).map_err(io)?;
        file.rewind().map_err(io)?;
        write!(file, "{} {}", holder.tag(), std::process::id()).map_err(io)?;
        Ok(Self { _file: file })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_holder_is_refused_with_who_holds_it_until_the_first_lets_go() {
        let dir = tempfile::tempdir().unwrap();
        let app = SyncLock::try_acquire(dir.path(), Holder::App).unwrap();
        let refused = SyncLock::try_acquire(dir.path(), Holder::Cli).unwrap_err();
        assert_eq!(refused.code(), CACHE_IN_USE);
        assert!(
            matches!(
                refused,
                SyncLockError::InUse {
                    holder: Some(Holder::App)
                }
            ),
            "{refused:?}"
        );
        assert_eq!(
            refused.to_string(),
            "The Skilltrack app is syncing this account; close it or wait"
        );
        drop(app);
        let cli = SyncLock::try_acquire(dir.path(), Holder::Cli).unwrap();
        let refused = SyncLock::try_acquire(dir.path(), Holder::App).unwrap_err();
        assert!(
            matches!(
                refused,
                SyncLockError::InUse {
                    holder: Some(Holder::Cli)
                }
            ),
            "{refused:?}"
        );
        drop(cli);
    }

    #[test]
    fn each_data_directory_has_its_own_lock() {
        let (one, two) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        let _first = SyncLock::try_acquire(one.path(), Holder::App).unwrap();
        SyncLock::try_acquire(two.path(), Holder::Cli).unwrap();
    }

    #[test]
    fn a_missing_directory_is_an_io_error_not_a_lock_held() {
        let dir = tempfile::tempdir().unwrap();
        let gone = dir.path().join("not-here");
        let refused = SyncLock::try_acquire(&gone, Holder::Cli).unwrap_err();
        assert_eq!(refused.code(), "io");
    }
}
