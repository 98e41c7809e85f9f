//! A content-addressed file store: a file's name is the SHA-256 of its bytes, so the same file
//! uploaded twice is stored once, and a name can never point at changed content (which is
//! what makes strong ETags and `immutable` caching right).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use axum::body::Body;
use futures_util::TryStreamExt as _;
use sha2::{Digest as _, Sha256};
use tokio::io::AsyncWriteExt as _;
use uuid::Uuid;

use super::sniff::{HEAD_LEN, sniff};

/// Why a file could not be stored.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The body was larger than allowed.
    #[error("the file is larger than {0} bytes")]
    TooLarge(u64),
    /// The client stopped sending (or sent a broken body).
    #[error("the upload was interrupted: {0}")]
    Interrupted(String),
    /// The bytes are not what the caller accepts (the sniffed type); nothing was kept.
    #[error("the content is not of an accepted type")]
    NotAccepted {
        /// What the first bytes show the file is, if recognised.
        sniffed: Option<&'static str>,
    },
    /// The disk failed.
    #[error("{context}: {source}")]
    Io {
        /// What was being done.
        context: &'static str,
        /// Why it failed.
        source: std::io::Error,
    },
}

/// A stored file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stored {
    /// Hex SHA-256 of the content: its name.
    pub sha256: String,
    /// Bytes.
    pub size: u64,
    /// What its first bytes show it is, if recognised.
    pub sniffed: Option<&'static str>,
}

/// The store under one directory.
#[derive(Debug, Clone)]
pub struct ContentStore {
    root: PathBuf,
}

impl ContentStore {
    /// A store in `root` (created on first write).
    pub fn new(root: PathBuf) -> Self {
        Self { root }
    }

    /// Where the file with this digest lives (`<root>/ab/abcdef…`). The digest must be 64
    /// lowercase hex digits, so a name can never reach outside the store.
    pub fn path_of(&self, sha256: &str) -> Option<PathBuf> {
        let valid = sha256.len() == 64
            && sha256
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
        valid.then(|| self.root.join(&sha256[..2]).join(sha256))
    }

    /// Streams `body` to disk, hashing as it goes, refusing more than `max_bytes`; the file is
    /// moved to its content address only once complete, so readers never see a partial file,
    /// and only if `accept` takes what its bytes turned out to be: refused bytes are never
    /// kept.
    pub async fn put(
        &self,
        body: Body,
        max_bytes: u64,
        accept: impl FnOnce(Option<&'static str>) -> bool,
    ) -> Result<Stored, StoreError> {
        let io = |context| move |source| StoreError::Io { context, source };
        let tmp_dir = self.root.join("tmp");
        tokio::fs::create_dir_all(&tmp_dir)
            .await
            .map_err(io("creating the upload directory"))?;
        let tmp = tmp_dir.join(Uuid::now_v7().simple().to_string());
        let result = self.write(&tmp, body, max_bytes).await;
        let stored = match result {
            Ok(stored) => stored,
            Err(e) => {
                let _ = tokio::fs::remove_file(&tmp).await;
                return Err(e);
            }
        };
        if !accept(stored.sniffed) {
            let _ = tokio::fs::remove_file(&tmp).await;
            return Err(StoreError::NotAccepted {
                sniffed: stored.sniffed,
            });
        }
        let Some(dest) = self.path_of(&stored.sha256) else {
            let _ = tokio::fs::remove_file(&tmp).await;
            return Err(StoreError::Interrupted("bad digest".to_owned()));
        };
        if tokio::fs::try_exists(&dest).await.unwrap_or(false) {
            // Already stored: same bytes, same name.
            let _ = tokio::fs::remove_file(&tmp).await;
        } else {
            if let Some(parent) = dest.parent() {
                tokio::fs::create_dir_all(parent)
                    .await
                    .map_err(io("creating the store directory"))?;
            }
            tokio::fs::rename(&tmp, &dest)
                .await
                .map_err(io("moving the upload into place"))?;
        }
        Ok(stored)
    }

    async fn write(&self, tmp: &Path, body: Body, max_bytes: u64) -> Result<Stored, StoreError> {
        let io = |context| move |source| StoreError::Io { context, source };
        let mut file = tokio::fs::File::create(tmp)
            .await
            .map_err(io("creating a temporary file"))?;
        let mut stream = body.into_data_stream();
        let mut hasher = Sha256::new();
        let mut size: u64 = 0;
        let mut head = Vec::with_capacity(HEAD_LEN);
        while let Some(chunk) = stream.try_next().await.map_err(|e| {
            if is_length_limit(&e) {
                StoreError::TooLarge(max_bytes)
            } else {
                StoreError::Interrupted(e.to_string())
            }
        })? {
            size += chunk.len() as u64;
            if size > max_bytes {
                return Err(StoreError::TooLarge(max_bytes));
            }
            if head.len() < HEAD_LEN {
                let take = (HEAD_LEN - head.len()).min(chunk.len());
                head.extend_from_slice(&chunk[..take]);
            }
            hasher.update(&chunk);
            file.write_all(&chunk)
                .await
                .map_err(io("writing the upload"))?;
        }
        file.sync_all().await.map_err(io("flushing the upload"))?;
        let sha256 = hasher
            .finalize()
            .iter()
            .fold(String::with_capacity(64), |mut hex, b| {
                let _ = write!(hex, "{b:02x}");
                hex
            });
        Ok(Stored {
            sha256,
            size,
            sniffed: sniff(&head),
        })
    }
}

/// Whether a body error is the request-size limit (see `http::limit_body`).
fn is_length_limit(e: &axum::Error) -> bool {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = source {
        if err.is::<http_body_util::LengthLimitError>() {
            return true;
        }
        source = err.source();
    }
    false
}
