//! The server's disk (issue 19, decisions 366–368): writes stop with a clear answer before the
//! disk is full, and a full disk met anyway is the same clear answer, never a 500.
//!
//! PostgreSQL answers a full disk in two ways. Most of the time a write that needs a new page
//! fails with SQLSTATE 53100 (`disk_full`) and its transaction rolls back: nothing is lost.
//! But a write-ahead log segment it cannot create is a PANIC: every connection is dropped and
//! the cluster restarts, and its recovery needs room to write too. So the server keeps a
//! reserve: below `--min-free-disk-mb` of free space where its database lives, it takes
//! no more writes ([`StorageGuard::check`], 507 `storage_full` with `Retry-After`) while reads
//! go on, and what is left is PostgreSQL's for its log, checkpoints and vacuum. Signing in,
//! refreshing and signing out are let through (a few rows, from the reserve), so a learner
//! can still read their courses while the disk is full. When space comes back, writes are
//! taken again at once: nothing is remembered between requests.
//!
//! A full disk met anyway (a reserve of 0, another program filling the disk, an external
//! PostgreSQL's own disk) is answered the same: [`is_disk_full`] for the server's own files,
//! SQLSTATE 53100 for the database's (`http::error`).

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

/// The stable code of a 507: the server's storage is full.
pub const STORAGE_FULL: &str = "storage_full";
/// `Retry-After` on [`STORAGE_FULL`]: an operator has to make room, which takes minutes, and
/// a client that retries sooner only adds load.
pub const STORAGE_RETRY_AFTER_SECS: u16 = 60;

/// Whether an I/O error says the disk (or the server's quota on it) is full.
pub fn is_disk_full(e: &std::io::Error) -> bool {
    matches!(
        e.raw_os_error(),
        Some(code) if code == nix::libc::ENOSPC || code == nix::libc::EDQUOT
    )
}

/// Checks the free space of the filesystems the server keeps its reserve on.
#[derive(Debug, Clone, Default)]
pub struct StorageGuard {
    paths: Vec<PathBuf>,
    min_free_bytes: u64,
    /// Whether the last check found too little space (logged when it changes, not at every
    /// refused request).
    low: Arc<AtomicBool>,
}

/// Why a write was refused: the free space left, and the reserve it is under.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LowSpace {
    /// Bytes free on the fullest filesystem.
    pub free_bytes: u64,
    /// The reserve.
    pub min_free_bytes: u64,
}

impl StorageGuard {
    /// A guard keeping `min_free_bytes` free on each filesystem holding one of `paths` (0: no
    /// reserve, the check always passes).
    pub fn new(paths: Vec<PathBuf>, min_free_bytes: u64) -> Self {
        Self {
            paths,
            min_free_bytes,
            low: Arc::default(),
        }
    }

    /// No reserve (tests' in-process servers).
    pub fn disabled() -> Self {
        Self::default()
    }

    /// The reserve, in bytes.
    pub fn min_free_bytes(&self) -> u64 {
        self.min_free_bytes
    }

    /// `Err` when one of its filesystems has less than the reserve free. A path
    /// that cannot be measured (not made yet) is skipped: it is not what fills up.
    pub fn check(&self) -> Result<(), LowSpace> {
        if self.min_free_bytes == 0 {
            return Ok(());
        }
        let free = self.paths.iter().filter_map(|p| free_bytes(p)).min();
        let verdict = match free {
            Some(free_bytes) if free_bytes < self.min_free_bytes => Err(LowSpace {
                free_bytes,
                min_free_bytes: self.min_free_bytes,
            }),
            _ => Ok(()),
        };
        let was_low = self.low.swap(verdict.is_err(), Ordering::Relaxed);
        match (&verdict, was_low) {
            (Err(low), false) => {
                tracing::error!(
                    free_bytes = low.free_bytes,
                    min_free_bytes = low.min_free_bytes,
                    "the data directory's disk is nearly full: writes are refused (507 storage_full) until there is room again"
                );
            }
            (Ok(()), true) => {
                tracing::warn!("the data directory's disk has room again: writes are taken");
            }
            _ => {}
        }
        verdict
    }
}

/// Bytes an unprivileged writer (PostgreSQL's OS user) may still use on `path`'s filesystem.
pub fn free_bytes(path: &Path) -> Option<u64> {
    let stats = nix::sys::statvfs::statvfs(path).ok()?;
    #[allow(
        clippy::useless_conversion,
        reason = "the field types differ between targets"
    )]
    let (available, fragment) = (
        u64::from(stats.blocks_available()),
        u64::from(stats.fragment_size()),
    );
    Some(available.saturating_mul(fragment))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reserve_larger_than_the_disk_refuses_and_none_never_does() {
        let dir = tempfile::tempdir().expect("tempdir");
        let free = free_bytes(dir.path()).expect("measured");
        assert!(StorageGuard::disabled().check().is_ok());
        assert!(
            StorageGuard::new(vec![dir.path().to_owned()], 1)
                .check()
                .is_ok()
        );
        let refused = StorageGuard::new(
            vec![dir.path().to_owned(), dir.path().join("not-made")],
            u64::MAX,
        )
        .check()
        .expect_err("refused");
        assert!(refused.free_bytes <= free.saturating_add(1 << 30));
        assert_eq!(refused.min_free_bytes, u64::MAX);
    }

    #[test]
    fn enospc_and_edquot_are_a_full_disk() {
        for code in [nix::libc::ENOSPC, nix::libc::EDQUOT] {
            assert!(is_disk_full(&std::io::Error::from_raw_os_error(code)));
        }
        assert!(!is_disk_full(&std::io::Error::from_raw_os_error(
            nix::libc::EACCES
        )));
    }
}
