//! The client engine as the app runs it: one engine per server, its sync loop while someone is
//! signed in, and its status forwarded to the window as the `sync-status` event.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use skilltrack_client::sync::SyncEngine;
use skilltrack_client::sync_lock::Holder;
use skilltrack_client::tls::Trust;
use skilltrack_client::tokens::StoreKind;
use tauri::async_runtime::JoinHandle;
use tauri::{AppHandle, Emitter as _, Manager as _};
use tokio::sync::watch;

use crate::error::CommandError;
use crate::views::Account;

/// How often the loop syncs when nothing wakes it (the live channel and local writes do).
const SYNC_EVERY: Duration = Duration::from_secs(60);

/// The event that carries [`skilltrack_client::sync::SyncStatus`] to the window.
pub const SYNC_STATUS_EVENT: &str = "sync-status";

/// How old the cached certificate keys and revocation lists may get before a sync fetches them
/// again: they change rarely, and a sync can run every few seconds while the learner works.
const TRUST_REFRESH_AFTER: chrono::Duration = chrono::Duration::minutes(10);

/// After a sync, fetches the issuer's keys and revocation lists for offline verification of
/// certificates, when the last fetch (`fetched_at`, read from the cache once, then kept here)
/// is older than [`TRUST_REFRESH_AFTER`]; best effort, in the background (a failure leaves the
/// old cache, whose age the verdict states, and is tried again after the same wait).
fn refresh_certificate_trust(
    engine: &Arc<SyncEngine>,
    data_dir: &Path,
    fetched_at: &mut Option<chrono::DateTime<chrono::Utc>>,
) {
    let now = chrono::Utc::now();
    if fetched_at.is_some_and(|at| now - at < TRUST_REFRESH_AFTER) {
        return;
    }
    *fetched_at = Some(now);
    let (engine, data_dir) = (Arc::clone(engine), data_dir.to_owned());
    tauri::async_runtime::spawn(async move {
        if let Err(e) =
            skilltrack_client::certificates::refresh_trust(engine.api(), &data_dir).await
        {
            tracing::warn!(error = %e, "the certificate keys could not be refreshed");
        }
    });
}

/// Where and how the app keeps its data.
#[derive(Debug, Clone)]
pub struct DeviceConfig {
    /// The app's data directory; each server gets its own directory under `servers/`.
    pub data_root: PathBuf,
    /// Keyring, or a private file (tests, machines without a keyring).
    pub store: StoreKind,
    /// The certificate authorities servers are checked against (`SKILLTRACK_CA_FILE`).
    pub trust: Trust,
}

/// The engine of the current server, with its sync loop when running.
pub struct Device {
    /// The server's URL.
    pub server: String,
    /// This server's data directory.
    pub data_dir: PathBuf,
    /// The engine.
    pub engine: Arc<SyncEngine>,
    sync_loop: Option<(watch::Sender<bool>, JoinHandle<()>)>,
    forward: JoinHandle<()>,
}

impl Device {
    /// Opens the engine for `server`, forwarding its status to `app`; starts syncing if a
    /// session is kept.
    pub fn open(
        app: &AppHandle,
        config: &DeviceConfig,
        server: &str,
    ) -> Result<Self, CommandError> {
        let data_dir = skilltrack_client::device::server_data_dir(&config.data_root, server);
        let engine = Arc::new(skilltrack_client::device::open_with_trust(
            server,
            &data_dir,
            &config.store,
            &config.trust,
        )?);
        let mut status = engine.status();
        let handle = app.clone();
        let (trust_engine, trust_dir) = (Arc::clone(&engine), data_dir.clone());
        let forward = tauri::async_runtime::spawn(async move {
            let mut last_synced = None;
            let mut trust_fetched = skilltrack_client::certificates::load_trust(&trust_dir)
                .ok()
                .and_then(|t| t.fetched_at);
            loop {
                let now = status.borrow_and_update().clone();
                if now.last_synced_at.is_some() && now.last_synced_at != last_synced {
                    last_synced.clone_from(&now.last_synced_at);
                    refresh_certificate_trust(&trust_engine, &trust_dir, &mut trust_fetched);
                    crate::os_notifications::raise_new(&handle, &trust_engine, &trust_dir).await;
                    if let Some(queue) = handle.try_state::<crate::offline_queue::OfflineQueue>() {
                        queue.after_sync(&handle);
                    }
                }
                let _ = handle.emit(SYNC_STATUS_EVENT, now);
                if status.changed().await.is_err() {
                    return;
                }
            }
        });
        let mut device = Self {
            server: server.to_owned(),
            data_dir,
            engine,
            sync_loop: None,
            forward,
        };
        if device.kept_account().is_some() {
            device.start_syncing();
        }
        Ok(device)
    }

    /// The signed-in account, from the kept session (no network needed).
    pub fn kept_account(&self) -> Option<Account> {
        let session = self.engine.tokens().load().ok().flatten()?;
        Some(Account {
            id: session.user.id.to_string(),
            email: session.user.email,
            full_name: session.user.full_name,
            role: serde_json::to_value(session.user.role)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_default(),
        })
    }

    /// Starts the sync loop (pull now, then on live signals, local writes and a timer),
    /// holding this server's sync lock while it runs, so the `skilltrack` CLI never syncs the
    /// same cache at the same time (it waits its turn while the CLI syncs).
    pub fn start_syncing(&mut self) {
        if self.sync_loop.is_some() {
            return;
        }
        let (stop, stopped) = watch::channel(false);
        let task = tauri::async_runtime::spawn(Arc::clone(&self.engine).run_exclusive(
            self.data_dir.clone(),
            Holder::App,
            SYNC_EVERY,
            stopped,
        ));
        self.sync_loop = Some((stop, task));
    }

    /// Stops the sync loop.
    pub fn stop_syncing(&mut self) {
        if let Some((stop, _task)) = self.sync_loop.take() {
            let _ = stop.send(true);
        }
    }

    /// Where downloaded media go.
    pub fn media_dir(&self) -> PathBuf {
        skilltrack_client::device::media_dir(&self.data_dir)
    }

    /// The data directory.
    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }
}

impl Drop for Device {
    fn drop(&mut self) {
        self.stop_syncing();
        self.forward.abort();
    }
}
