//! The sync engine: push the outbox, pull changes, keep the session fresh, and — when running
//! — wait for the live channel, a local write or a timer, backing off while offline.
//!
//! Order matters: a sync pushes before it pulls, so the pull brings back the server's answer to
//! this device's own writes. Every step is safe to interrupt: an unanswered push is retried
//! (the server recognises mutation ids it has applied), and a page is applied with its cursor
//! in one transaction.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::Utc;
use futures_util::StreamExt as _;
use serde::Serialize;
use skilltrack_protocol::auth::Session;
use skilltrack_protocol::sync::{MAX_PUSH_MUTATIONS, Mutation, PullPage};
use tokio::sync::{Notify, watch};

use crate::api::{ApiClient, ApiError};
use crate::cache::{Cache, CacheError};
use crate::fault::{self, FaultPoint};
use crate::sync_lock::{Holder, SyncLock, SyncLockError};
use crate::tokens::{TokenError, TokenStore};

/// Why a sync stopped.
#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    /// The server could not be reached or refused.
    #[error(transparent)]
    Api(#[from] ApiError),
    /// The cache failed.
    #[error(transparent)]
    Cache(#[from] CacheError),
    /// The session store failed.
    #[error(transparent)]
    Tokens(#[from] TokenError),
    /// Nobody is signed in.
    #[error("not signed in")]
    SignedOut,
    /// No attempt in progress on this device with that id.
    #[error("no attempt in progress here with that id")]
    NoOpenAttempt,
    /// The data directory could not be prepared.
    #[error("{context}: {source}")]
    Io {
        /// What was being done.
        context: String,
        /// The cause.
        source: std::io::Error,
    },
}

impl SyncError {
    /// Words for the learner: what happened and what to do.
    pub fn explain(&self) -> String {
        match self {
            Self::Api(ApiError::Offline(_)) => {
                "You are offline. Your work is saved here and will be sent when the server can be reached.".to_owned()
            }
            Self::Api(e) if e.is_unauthorized() => {
                "Your session has ended. Sign in again to sync; your offline work is kept.".to_owned()
            }
            // The server stays readable; only its writes wait for room (decision 368).
            Self::Api(ApiError::Problem { code, .. }) if code == "storage_full" => {
                "The server's storage is full, so it cannot take your changes now. They are kept on this device and will be sent once it has room again.".to_owned()
            }
            Self::Api(ApiError::Problem { detail, .. }) => format!("The server refused to sync: {detail}"),
            Self::Api(ApiError::Untrusted(why)) => format!(
                "The server's certificate is not trusted ({why}). If your organisation runs its own certificate authority, set {} to its certificate (PEM).",
                crate::tls::CA_FILE_ENV
            ),
            // Its own words name the address and say what to use instead.
            Self::Api(e @ (ApiError::InsecureServer(_) | ApiError::InvalidServer(_))) => {
                sentence(&e.to_string())
            }
            Self::Api(ApiError::Protocol(_)) => {
                "The server answered in a way this app does not understand; it may need an update.".to_owned()
            }
            Self::Cache(e) => format!("The offline cache failed: {e}"),
            Self::Tokens(e) => format!("Your session could not be read or kept: {e}"),
            Self::SignedOut => "Sign in to sync.".to_owned(),
            Self::NoOpenAttempt => "That attempt is not in progress on this device.".to_owned(),
            Self::Io { .. } => self.to_string(),
        }
    }
}

/// `words` as a sentence: a capital first letter and a full stop.
fn sentence(words: &str) -> String {
    let mut chars = words.chars();
    chars.next().map_or_else(String::new, |first| {
        format!("{}{}.", first.to_uppercase(), chars.as_str())
    })
}

/// What the app shows about sync.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq, ts_rs::TS)]
#[ts(export)]
pub struct SyncStatus {
    /// The last sync reached the server.
    pub online: bool,
    /// A sync is running now.
    pub syncing: bool,
    /// Writes waiting to be sent.
    #[ts(type = "number")]
    pub pending: i64,
    /// When the last sync finished, RFC 3339.
    pub last_synced_at: Option<String>,
    /// Why the last sync failed, in words.
    pub problem: Option<String>,
}

/// What one sync did.
#[derive(Debug, Clone, Default, Serialize, ts_rs::TS)]
#[ts(export)]
pub struct SyncReport {
    /// Mutations answered by the server.
    pub pushed: usize,
    /// Of those, refused.
    pub rejected: usize,
    /// Rows applied from pulls.
    pub pulled: usize,
    /// Pages pulled.
    pub pages: usize,
}

/// How often a sync loop waiting for another process's sync lock tries again.
pub const LOCK_RETRY: Duration = Duration::from_secs(2);

/// Rows per pull page.
pub const PULL_PAGE: u32 = 2000;

/// The engine of one account on one device.
#[derive(Debug)]
pub struct SyncEngine {
    api: ApiClient,
    cache: Arc<Mutex<Cache>>,
    tokens: TokenStore,
    session: tokio::sync::Mutex<Option<Session>>,
    status: watch::Sender<SyncStatus>,
    /// Woken by local writes and the live channel.
    wake: Notify,
    /// Rows per pulled page.
    page_size: std::sync::atomic::AtomicU32,
    /// Mutations per push.
    push_batch: std::sync::atomic::AtomicUsize,
}

impl SyncEngine {
    /// An engine over `cache`, with the session from `tokens` if one is kept.
    pub fn new(
        api: ApiClient,
        cache: Arc<Mutex<Cache>>,
        tokens: TokenStore,
    ) -> Result<Self, SyncError> {
        let session = tokens.load()?;
        let pending = lock(&cache).outbox_len()?;
        Ok(Self {
            api,
            cache,
            tokens,
            session: tokio::sync::Mutex::new(session),
            status: watch::Sender::new(SyncStatus {
                pending,
                ..SyncStatus::default()
            }),
            wake: Notify::new(),
            page_size: std::sync::atomic::AtomicU32::new(PULL_PAGE),
            push_batch: std::sync::atomic::AtomicUsize::new(MAX_PUSH_MUTATIONS),
        })
    }

    /// Sets the rows per pulled page (1–5000).
    pub fn set_page_size(&self, rows: u32) {
        self.page_size
            .store(rows.clamp(1, 5000), std::sync::atomic::Ordering::Relaxed);
    }

    /// Sets the mutations sent per push (1 to the protocol's limit): small batches make a
    /// push of a few writes take several round trips, as a long offline spell's does.
    pub fn set_push_batch(&self, mutations: usize) {
        self.push_batch.store(
            mutations.clamp(1, MAX_PUSH_MUTATIONS),
            std::sync::atomic::Ordering::Relaxed,
        );
    }

    /// The HTTP client.
    pub fn api(&self) -> &ApiClient {
        &self.api
    }

    /// The cache.
    pub fn cache(&self) -> &Arc<Mutex<Cache>> {
        &self.cache
    }

    /// The session store.
    pub fn tokens(&self) -> &TokenStore {
        &self.tokens
    }

    /// Sync status, as it changes.
    pub fn status(&self) -> watch::Receiver<SyncStatus> {
        self.status.subscribe()
    }

    /// Signs in and keeps the session.
    pub async fn sign_in(&self, email: &str, password: &str) -> Result<Session, SyncError> {
        let session = self.api.sign_in(email, password).await?;
        self.tokens.save(&session)?;
        *self.session.lock().await = Some(session.clone());
        Ok(session)
    }

    /// Uses `session` (e.g. from sign-up) and keeps it.
    pub async fn adopt(&self, session: Session) -> Result<(), SyncError> {
        self.tokens.save(&session)?;
        *self.session.lock().await = Some(session);
        Ok(())
    }

    /// Forgets the session (the cache stays until the account's data is deleted).
    pub async fn sign_out(&self) -> Result<(), SyncError> {
        self.tokens.clear()?;
        *self.session.lock().await = None;
        Ok(())
    }

    /// Who is signed in, from the kept session (no network needed).
    pub async fn signed_in_user(&self) -> Option<uuid::Uuid> {
        self.session.lock().await.as_ref().map(|s| s.user.id)
    }

    /// The signed-in user's session, refreshed if its access token is about to expire.
    pub async fn session(&self) -> Result<Session, SyncError> {
        let mut guard = self.session.lock().await;
        let session = guard.clone().ok_or(SyncError::SignedOut)?;
        if session.expires_at - Utc::now() > chrono::Duration::seconds(60) {
            return Ok(session);
        }
        let fresh = self.api.refresh(&session.refresh_token).await?;
        // Keep it before using it: the old refresh token is spent.
        self.tokens.save(&fresh)?;
        *guard = Some(fresh.clone());
        Ok(fresh)
    }

    /// A local write happened: sync soon.
    pub fn nudge(&self) {
        let pending = lock(&self.cache).outbox_len().unwrap_or_default();
        self.status.send_modify(|s| s.pending = pending);
        self.wake.notify_one();
    }

    /// Pushes every queued write, then pulls every change.
    pub async fn sync_once(&self) -> Result<SyncReport, SyncError> {
        self.status.send_modify(|s| s.syncing = true);
        let result = self.sync_steps().await;
        let pending = lock(&self.cache).outbox_len().unwrap_or_default();
        self.status.send_modify(|s| {
            s.syncing = false;
            s.pending = pending;
            match &result {
                Ok(_) => {
                    s.online = true;
                    s.problem = None;
                    s.last_synced_at = Some(Utc::now().to_rfc3339());
                }
                Err(e) => {
                    // A server whose certificate is refused is as good as unreachable.
                    s.online = !matches!(
                        e,
                        SyncError::Api(ApiError::Offline(_) | ApiError::Untrusted(_))
                    );
                    s.problem = Some(e.explain());
                }
            }
        });
        result
    }

    async fn sync_steps(&self) -> Result<SyncReport, SyncError> {
        let mut report = SyncReport::default();
        let token = self.session().await?.access_token;
        self.push_all(&token, &mut report).await?;
        self.pull_all(&token, &mut report).await?;
        Ok(report)
    }

    /// Pushes the outbox in batches, each answer committed before the next batch is read.
    /// The fault points mark each step a crash may interrupt ([`crate::fault`]).
    async fn push_all(&self, token: &str, report: &mut SyncReport) -> Result<(), SyncError> {
        let per_batch = self.push_batch.load(std::sync::atomic::Ordering::Relaxed);
        loop {
            let batch: Vec<Mutation> = lock(&self.cache)
                .outbox(per_batch)?
                .into_iter()
                .map(|e| e.mutation)
                .collect();
            if batch.is_empty() {
                return Ok(());
            }
            fault::reached(FaultPoint::PushBatchRead);
            match self.api.push(token, &batch).await {
                Ok(answer) => {
                    fault::reached(FaultPoint::PushAnswerRead);
                    report.pushed += answer.results.len();
                    report.rejected += answer
                        .results
                        .iter()
                        .filter(|r| {
                            matches!(
                                r.outcome,
                                skilltrack_protocol::sync::MutationOutcome::Rejected { .. }
                            )
                        })
                        .count();
                    let cache = Arc::clone(&self.cache);
                    tokio::task::spawn_blocking(move || lock(&cache).resolve(&answer.results))
                        .await
                        .map_err(|e| ApiError::Protocol(e.to_string()))??;
                    fault::reached(FaultPoint::PushResolved);
                }
                Err(e) => {
                    let ids: Vec<_> = batch.iter().map(|m| m.id).collect();
                    let _ = lock(&self.cache).note_push_failure(&ids, &e.to_string());
                    return Err(e.into());
                }
            }
        }
    }

    /// Pulls pages until the server has no more, fetching the next page while the last one is
    /// applied (each page still commits with its own cursor, in order).
    async fn pull_all(&self, token: &str, report: &mut SyncReport) -> Result<(), SyncError> {
        let cursor = lock(&self.cache).state("cursor")?;
        let limit = self.page_size.load(std::sync::atomic::Ordering::Relaxed);
        let mut page: PullPage = self.api.pull(token, cursor.as_deref(), limit).await?;
        loop {
            fault::reached(FaultPoint::PullPageFetched);
            let more = page.has_more;
            let next_cursor = page.cursor.clone();
            let cache = Arc::clone(&self.cache);
            let applying = tokio::task::spawn_blocking(move || {
                let applied = lock(&cache).apply_page(&page);
                if applied.is_ok() {
                    fault::reached(FaultPoint::PullPageCommitted);
                }
                applied
            });
            let next = if more {
                Some(self.api.pull(token, Some(&next_cursor), limit).await)
            } else {
                None
            };
            let applied = applying
                .await
                .map_err(|e| ApiError::Protocol(e.to_string()))??;
            report.pulled += applied;
            report.pages += 1;
            match next {
                None => return Ok(()),
                Some(fetched) => page = fetched?,
            }
        }
    }

    /// Runs until `stop` turns true: syncs now, then whenever the live channel signals, a local
    /// write happens, or a timer fires (every `every` online; backing off from 1 s to 60 s while
    /// offline or failing).
    pub async fn run(self: Arc<Self>, every: Duration, mut stop: watch::Receiver<bool>) {
        let live = tokio::spawn(Arc::clone(&self).listen(stop.clone()));
        let mut backoff = Duration::from_secs(1);
        loop {
            let wait = match self.sync_once().await {
                Ok(report) => {
                    tracing::debug!(?report, "synced");
                    backoff = Duration::from_secs(1);
                    every
                }
                Err(SyncError::SignedOut) => every,
                Err(e) => {
                    tracing::info!(error = %e, retry_in = ?backoff, "sync failed; will retry");
                    let wait = backoff;
                    backoff = (backoff * 2).min(Duration::from_secs(60));
                    wait
                }
            };
            tokio::select! {
                () = tokio::time::sleep(wait) => {}
                () = self.wake.notified() => {}
                _ = stop.wait_for(|s| *s) => break,
            }
        }
        live.abort();
    }

    /// As [`SyncEngine::run`], holding the sync lock of `data_dir` (see [`crate::sync_lock`])
    /// for as long as it runs. While another process holds it, the status says who as its
    /// problem and the lock is tried again every [`LOCK_RETRY`]; a lock that cannot be made at
    /// all (an unwritable directory, which the cache next to it would not survive either) is
    /// logged and the loop runs without it.
    pub async fn run_exclusive(
        self: Arc<Self>,
        data_dir: std::path::PathBuf,
        holder: Holder,
        every: Duration,
        mut stop: watch::Receiver<bool>,
    ) {
        let held = loop {
            match SyncLock::try_acquire(&data_dir, holder) {
                Ok(held) => break Some(held),
                Err(in_use @ SyncLockError::InUse { .. }) => {
                    self.status
                        .send_modify(|s| s.problem = Some(format!("{in_use}.")));
                    tokio::select! {
                        () = tokio::time::sleep(LOCK_RETRY) => {}
                        _ = stop.wait_for(|s| *s) => return,
                    }
                }
                Err(other) => {
                    tracing::warn!(error = %other, "syncing without the sync lock");
                    break None;
                }
            }
        };
        self.run(every, stop).await;
        drop(held);
    }

    /// Keeps a live channel open while signed in and online, waking the sync loop on each
    /// signal; reconnects with backoff.
    async fn listen(self: Arc<Self>, mut stop: watch::Receiver<bool>) {
        let mut backoff = Duration::from_secs(1);
        loop {
            if *stop.borrow() {
                return;
            }
            if let Ok(session) = self.session().await {
                if let Ok(signals) = self.api.live(&session.access_token).await {
                    let mut signals = std::pin::pin!(signals);
                    backoff = Duration::from_secs(1);
                    loop {
                        let signal = tokio::select! {
                            signal = signals.next() => signal,
                            _ = stop.wait_for(|s| *s) => return,
                        };
                        let Some(Ok(signal)) = signal else { break };
                        // A change many devices were told of at once: the server gives each
                        // its moment to pull.
                        let after = signal.pull_after_ms.map_or(0, u64::from);
                        tokio::select! {
                            () = tokio::time::sleep(Duration::from_millis(after)) => {}
                            _ = stop.wait_for(|s| *s) => return,
                        }
                        self.wake.notify_one();
                    }
                }
            }
            tokio::select! {
                () = tokio::time::sleep(backoff) => {}
                _ = stop.wait_for(|s| *s) => return,
            }
            backoff = (backoff * 2).min(Duration::from_secs(30));
        }
    }
}

/// The cache, even if a thread panicked while holding it (SQLite rolled back whatever that
/// thread had not committed).
pub fn lock(cache: &Mutex<Cache>) -> std::sync::MutexGuard<'_, Cache> {
    cache
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}
