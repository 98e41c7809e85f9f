//! Records of downloaded lesson media: where the file is, how much of it has arrived.

use rusqlite::{OptionalExtension as _, params};
use serde::Serialize;

use super::{Cache, CacheError};

/// Whether a download is whole.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ts_rs::TS)]
#[ts(export)]
#[serde(rename_all = "snake_case")]
pub enum DownloadState {
    /// Some bytes are here; the rest can be resumed.
    Partial,
    /// Every byte is here and the checksum matched.
    Complete,
}

/// One download.
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
#[ts(export)]
pub struct DownloadRecord {
    /// The media URL (absolute, or a path on the server).
    pub url: String,
    /// The lesson it belongs to.
    pub lesson_id: Option<String>,
    /// The local file.
    pub path: String,
    /// Its full size, once known.
    #[ts(type = "number | null")]
    pub bytes_total: Option<i64>,
    /// Bytes on disk.
    #[ts(type = "number")]
    pub bytes_done: i64,
    /// The server's entity tag (its SHA-256 for uploads).
    pub etag: Option<String>,
    /// Whole or partial.
    pub state: DownloadState,
}

impl Cache {
    /// The download of `url`, if any.
    pub fn download(&self, url: &str) -> Result<Option<DownloadRecord>, CacheError> {
        Ok(self
            .conn
            .query_row(
                "SELECT url, lesson_id, path, bytes_total, bytes_done, etag, state
                 FROM downloads WHERE url = ?1",
                [url],
                read,
            )
            .optional()?)
    }

    /// Every download.
    pub fn downloads(&self) -> Result<Vec<DownloadRecord>, CacheError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT url, lesson_id, path, bytes_total, bytes_done, etag, state
             FROM downloads ORDER BY updated_at DESC",
        )?;
        let rows = stmt.query_map([], read)?.collect::<Result<Vec<_>, _>>()?;
        Ok(rows)
    }

    /// Records how far a download is.
    pub fn save_download(&self, d: &DownloadRecord) -> Result<(), CacheError> {
        self.conn.execute(
            "INSERT INTO downloads (url, lesson_id, path, bytes_total, bytes_done, etag, state,
                                    updated_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
             ON CONFLICT (url) DO UPDATE SET lesson_id = excluded.lesson_id, path = excluded.path,
               bytes_total = excluded.bytes_total, bytes_done = excluded.bytes_done,
               etag = excluded.etag, state = excluded.state, updated_at = excluded.updated_at",
            params![
                d.url,
                d.lesson_id,
                d.path,
                d.bytes_total,
                d.bytes_done,
                d.etag,
                match d.state {
                    DownloadState::Partial => "partial",
                    DownloadState::Complete => "complete",
                }
            ],
        )?;
        Ok(())
    }

    /// Forgets a download (the caller deletes the file).
    pub fn forget_download(&self, url: &str) -> Result<(), CacheError> {
        self.conn
            .execute("DELETE FROM downloads WHERE url = ?1", [url])?;
        Ok(())
    }

    /// Bytes of downloaded media on disk.
    pub fn download_bytes(&self) -> Result<i64, CacheError> {
        Ok(self.conn.query_row(
            "SELECT coalesce(sum(bytes_done), 0) FROM downloads",
            [],
            |r| r.get(0),
        )?)
    }
}

fn read(r: &rusqlite::Row<'_>) -> rusqlite::Result<DownloadRecord> {
    Ok(DownloadRecord {
        url: r.get(0)?,
        lesson_id: r.get(1)?,
        path: r.get(2)?,
        bytes_total: r.get(3)?,
        bytes_done: r.get(4)?,
        etag: r.get(5)?,
        state: if r.get::<_, String>(6)? == "complete" {
            DownloadState::Complete
        } else {
            DownloadState::Partial
        },
    })
}
