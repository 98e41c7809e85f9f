//! Lesson media for offline study: downloads that resume where they stopped (HTTP `Range`),
//! are checked against the server's SHA-256, report progress, count their bytes, and can be
//! deleted.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use futures_util::StreamExt as _;
use sha2::{Digest as _, Sha256};
use tokio::io::AsyncWriteExt as _;

use crate::api::ApiError;
use crate::cache::{Cache, CacheError, DownloadRecord, DownloadState};
use crate::sync::{SyncEngine, SyncError, lock};

/// Why a download failed.
#[derive(Debug, thiserror::Error)]
pub enum DownloadError {
    /// The server could not be reached or refused.
    #[error(transparent)]
    Api(#[from] ApiError),
    /// Not signed in, or the session could not be refreshed.
    #[error(transparent)]
    Sync(#[from] SyncError),
    /// The cache failed.
    #[error(transparent)]
    Cache(#[from] CacheError),
    /// Writing the file failed (disk full?).
    #[error("writing {path} failed: {source}")]
    Disk {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The bytes are not what the server said (the partial file is discarded).
    #[error("the download of {url} is corrupt (checksum mismatch); it will start over")]
    Corrupt {
        /// The media.
        url: String,
    },
}

/// Progress of one download, for a progress bar.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, ts_rs::TS)]
#[ts(export)]
pub struct DownloadProgress {
    /// Bytes on disk.
    #[ts(type = "number")]
    pub done: u64,
    /// The full size, if known.
    #[ts(type = "number | null")]
    pub total: Option<u64>,
}

/// The local file for `url` under `dir`: named by a hash of the URL, keeping its extension.
fn local_path(dir: &Path, url: &str) -> PathBuf {
    let name = hex(&Sha256::digest(url.as_bytes()))[..32].to_owned();
    let ext = url
        .rsplit('/')
        .next()
        .and_then(|last| last.rsplit_once('.'))
        .map(|(_, e)| e)
        .filter(|e| e.len() <= 5 && e.chars().all(char::is_alphanumeric));
    dir.join(match ext {
        Some(e) => format!("{name}.{e}"),
        None => name,
    })
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    bytes.iter().fold(String::new(), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

/// The SHA-256 the server vouches for: a quoted 64-hex ETag (uploads are content-addressed).
fn expected_sha256(etag: Option<&str>) -> Option<String> {
    let tag = etag?.trim().trim_start_matches("W/").trim_matches('"');
    (tag.len() == 64 && tag.chars().all(|c| c.is_ascii_hexdigit())).then(|| tag.to_lowercase())
}

async fn file_sha256(path: &Path) -> std::io::Result<String> {
    let path = path.to_owned();
    tokio::task::spawn_blocking(move || {
        let mut f = std::fs::File::open(path)?;
        let mut hasher = Sha256::new();
        std::io::copy(&mut f, &mut hasher)?;
        Ok(hex(&hasher.finalize()))
    })
    .await
    .map_err(std::io::Error::other)?
}

impl SyncEngine {
    /// Downloads `url` (a lesson's media) into `dir`, resuming a partial download, calling
    /// `progress` as bytes arrive; answers with the complete, verified record.
    pub async fn download(
        &self,
        url: &str,
        lesson_id: Option<&str>,
        dir: &Path,
        mut progress: impl FnMut(DownloadProgress) + Send,
    ) -> Result<DownloadRecord, DownloadError> {
        let cache: Arc<Mutex<Cache>> = Arc::clone(self.cache());
        let path = local_path(dir, url);
        let disk = |source| DownloadError::Disk {
            path: path.clone(),
            source,
        };
        tokio::fs::create_dir_all(dir).await.map_err(disk)?;
        let known = lock(&cache).download(url)?;
        if let Some(d) = &known {
            if d.state == DownloadState::Complete
                && tokio::fs::try_exists(&d.path).await.unwrap_or(false)
            {
                return Ok(d.clone());
            }
        }
        // Resume from what is on disk (the file, not the record, is the truth after a crash).
        let on_disk = tokio::fs::metadata(&path).await.map_or(0, |m| m.len());
        let whole = known
            .as_ref()
            .and_then(|k| k.bytes_total)
            .and_then(|t| u64::try_from(t).ok());
        if let Some(known) = known
            .as_ref()
            .filter(|_| on_disk > 0 && whole == Some(on_disk))
        {
            // Every byte arrived before the app stopped, but the record was not marked whole
            // yet: asking for the bytes after the last one would only get a 416.
            progress(DownloadProgress {
                done: on_disk,
                total: whole,
            });
            let record = DownloadRecord {
                path: path.display().to_string(),
                bytes_done: i64::try_from(on_disk).unwrap_or(i64::MAX),
                ..known.clone()
            };
            return self.finish_download(&cache, url, &path, record).await;
        }
        let token = self.session().await?.access_token;
        let response = match self.api().download(&token, url, on_disk, None).await {
            // What is on disk is no prefix the server can continue (the file changed, or is
            // shorter now): start again from the first byte.
            Err(ApiError::Problem { status: 416, .. }) if on_disk > 0 => {
                self.api().download(&token, url, 0, None).await?
            }
            other => other?,
        };
        let resumed = response.status() == reqwest::StatusCode::PARTIAL_CONTENT;
        let etag = response
            .headers()
            .get("etag")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
            .or_else(|| known.as_ref().and_then(|k| k.etag.clone()));
        let start = if resumed { on_disk } else { 0 };
        let total = response.content_length().map(|n| n + start);
        let mut file = tokio::fs::OpenOptions::new()
            .create(true)
            .write(true)
            .append(resumed)
            .truncate(!resumed)
            .open(&path)
            .await
            .map_err(disk)?;
        let mut record = DownloadRecord {
            url: url.to_owned(),
            lesson_id: lesson_id.map(str::to_owned),
            path: path.display().to_string(),
            bytes_total: total.and_then(|t| i64::try_from(t).ok()),
            bytes_done: i64::try_from(start).unwrap_or(0),
            etag: etag.clone(),
            state: DownloadState::Partial,
        };
        lock(&cache).save_download(&record)?;
        let mut done = start;
        progress(DownloadProgress { done, total });
        let mut body = response.bytes_stream();
        let mut since_saved = 0u64;
        while let Some(chunk) = body.next().await {
            let chunk = chunk.map_err(|e| ApiError::Offline(e.to_string()))?;
            file.write_all(&chunk).await.map_err(disk)?;
            done += chunk.len() as u64;
            since_saved += chunk.len() as u64;
            progress(DownloadProgress { done, total });
            if since_saved >= 4 * 1024 * 1024 {
                file.flush().await.map_err(disk)?;
                record.bytes_done = i64::try_from(done).unwrap_or(i64::MAX);
                lock(&cache).save_download(&record)?;
                since_saved = 0;
            }
        }
        file.sync_all().await.map_err(disk)?;
        drop(file);
        record.bytes_done = i64::try_from(done).unwrap_or(i64::MAX);
        self.finish_download(&cache, url, &path, record).await
    }

    /// Checks a download whose bytes are all on disk against the server's SHA-256 (when its
    /// ETag is one) and records it whole; a corrupt file is discarded.
    async fn finish_download(
        &self,
        cache: &Arc<Mutex<Cache>>,
        url: &str,
        path: &Path,
        mut record: DownloadRecord,
    ) -> Result<DownloadRecord, DownloadError> {
        if let Some(expected) = expected_sha256(record.etag.as_deref()) {
            let actual = file_sha256(path)
                .await
                .map_err(|source| DownloadError::Disk {
                    path: path.to_owned(),
                    source,
                })?;
            if actual != expected {
                let _ = tokio::fs::remove_file(path).await;
                lock(cache).forget_download(url)?;
                return Err(DownloadError::Corrupt {
                    url: url.to_owned(),
                });
            }
        }
        record.bytes_total = Some(record.bytes_done);
        record.state = DownloadState::Complete;
        lock(cache).save_download(&record)?;
        Ok(record)
    }

    /// Opens `url` (a lesson's media) for a player streaming it online, with the player's own
    /// `Range` header: nothing is written to disk, so streaming never stands in for a download.
    pub async fn stream_media(
        &self,
        url: &str,
        range: Option<&str>,
    ) -> Result<reqwest::Response, DownloadError> {
        let token = self.session().await?.access_token;
        Ok(self.api().stream(&token, url, range).await?)
    }

    /// Deletes a download's file and record.
    pub async fn delete_download(&self, url: &str) -> Result<(), DownloadError> {
        let known = lock(self.cache()).download(url)?;
        if let Some(d) = known {
            match tokio::fs::remove_file(&d.path).await {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(source) => {
                    return Err(DownloadError::Disk {
                        path: PathBuf::from(d.path),
                        source,
                    });
                }
            }
            lock(self.cache()).forget_download(url)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_are_named_by_url_and_keep_their_extension() {
        let dir = Path::new("/tmp/x");
        let a = local_path(dir, "/media/demo/intro.webm");
        assert!(a.to_string_lossy().ends_with(".webm"));
        assert_ne!(a, local_path(dir, "/media/demo/other.webm"));
        assert!(
            !local_path(dir, "/media/uploads/abc")
                .to_string_lossy()
                .contains('.')
        );
        let sha = "a".repeat(64);
        assert_eq!(expected_sha256(Some(&format!("\"{sha}\""))), Some(sha));
        assert_eq!(expected_sha256(Some("\"short\"")), None);
    }
}
