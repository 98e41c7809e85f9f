//! The offline cache: one SQLite file per signed-in account, in WAL mode. All of the client's
//! SQL lives under this module.
//!
//! * Synced rows are kept as the server sends them: one JSON object per row in `rows`, keyed
//!   by table and id (docs/decisions.md: "the cache stores rows as JSON"). Indexes on the few
//!   JSON fields the screens look rows up by, and an FTS5 index of the catalog, make the
//!   queries fast.
//! * A pulled page and the cursor after it are applied in one transaction ([`Cache::apply_page`]),
//!   so an interrupted sync resumes from the last whole page.
//! * Every offline write changes its local row and appends to the outbox in one transaction
//!   ([`Cache::record`]); with `synchronous = FULL`, a write the app reported is on disk.

mod catalog;
mod downloads;
mod offline;
mod outbox;
mod rows;
mod schema;

use std::path::Path;

use rusqlite::{Connection, OpenFlags};

pub use catalog::{CourseCard, CourseFilter, LessonRow, ModuleRow};
pub use downloads::{DownloadRecord, DownloadState};
pub use offline::OfflineRequest;
pub use outbox::{OutboxEntry, PendingWrite, Rejection};
pub use rows::{RowKey, row_key};

/// Why the cache failed.
#[derive(Debug, thiserror::Error)]
pub enum CacheError {
    /// SQLite refused.
    #[error("the offline cache failed: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// A stored JSON value did not read back.
    #[error("the offline cache holds a row it cannot read: {0}")]
    Json(#[from] serde_json::Error),
    /// The file is newer than this app.
    #[error(
        "the offline cache was written by a newer Skilltrack (schema {found}, this app knows {known}); update the app"
    )]
    TooNew {
        /// The file's schema version.
        found: i64,
        /// The newest this build knows.
        known: i64,
    },
}

/// The offline cache of one account.
#[derive(Debug)]
pub struct Cache {
    conn: Connection,
}

impl Cache {
    /// Opens (creating if needed) the cache at `path` and brings its schema up to date.
    pub fn open(path: &Path) -> Result<Self, CacheError> {
        let conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_WRITE
                | OpenFlags::SQLITE_OPEN_CREATE
                | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        Self::prepare(conn)
    }

    /// A cache in memory (tests and benchmarks).
    pub fn in_memory() -> Result<Self, CacheError> {
        Self::prepare(Connection::open_in_memory()?)
    }

    fn prepare(conn: Connection) -> Result<Self, CacheError> {
        // WAL lets the UI read while a sync writes; FULL makes every commit durable, which the
        // outbox needs (a write the learner saw saved must survive a power cut).
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        // 32 MiB of page cache: a first sync writes a few hundred thousand index entries.
        conn.pragma_update(None, "cache_size", -32_000)?;
        conn.busy_timeout(std::time::Duration::from_secs(10))?;
        let mut cache = Self { conn };
        schema::migrate(&mut cache.conn)?;
        Ok(cache)
    }

    /// `PRAGMA integrity_check`: `"ok"` when the file is sound.
    pub fn integrity_check(&self) -> Result<String, CacheError> {
        Ok(self
            .conn
            .query_row("PRAGMA integrity_check", [], |r| r.get(0))?)
    }

    /// A value kept by the sync engine (cursor, last sync time, account).
    pub fn state(&self, key: &str) -> Result<Option<String>, CacheError> {
        use rusqlite::OptionalExtension as _;
        Ok(self
            .conn
            .query_row("SELECT value FROM sync_state WHERE key = ?1", [key], |r| {
                r.get(0)
            })
            .optional()?)
    }

    /// Forgets the synced rows and the pull cursor, so the next sync fetches everything again;
    /// rows with local writes still waiting in the outbox are kept.
    pub fn forget_cursor(&mut self) -> Result<(), CacheError> {
        let tx = self.conn.transaction()?;
        tx.execute("DELETE FROM sync_state WHERE key = 'cursor'", [])?;
        tx.execute(
            "DELETE FROM rows WHERE NOT EXISTS (
               SELECT 1 FROM outbox o WHERE o.row_key = rows.tbl || ':' || rows.id)
             AND json_extract(data, '$.local_only') IS NOT 1",
            [],
        )?;
        tx.commit()?;
        Ok(())
    }

    /// Sets a value kept by the sync engine.
    pub fn set_state(&self, key: &str, value: &str) -> Result<(), CacheError> {
        self.conn.execute(
            "INSERT INTO sync_state (key, value) VALUES (?1, ?2)
             ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            [key, value],
        )?;
        Ok(())
    }
}
