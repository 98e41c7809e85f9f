//! New versions of the app, from the server the learner uses (issue 20, part 2).
//!
//! The server publishes packages (`skilltrack-server desktop-release publish`) and answers
//! Tauri's updater at `/api/v1/desktop/updates/…`. The app installs one only when its signature
//! verifies with the public key compiled into this build (`SKILLTRACK_UPDATE_PUBKEY` when
//! `scripts/package` built it) and names the very version the server announced: a server, or
//! anyone between it and the learner, can withhold an update but never hand over another
//! program, nor an older release dressed as a newer one.
//!
//! Only a copy installed from a package updates itself (the bundler marks the binary it
//! packages as `.deb` or `.rpm`): a build from source is updated by building it again.

use std::sync::Mutex;

use serde::Serialize;
use tauri::{AppHandle, Emitter as _, Manager as _, Runtime};
use tauri_plugin_updater::UpdaterExt as _;
use ts_rs::TS;

use crate::error::CommandError;

/// The updater's public key, compiled in by `scripts/package` (none in a plain `cargo build`).
pub const UPDATE_PUBKEY: Option<&str> = option_env!("SKILLTRACK_UPDATE_PUBKEY");

/// The event an update's download reports its progress on.
pub const UPDATE_PROGRESS_EVENT: &str = "update-progress";

/// What the app knows of its own updates.
#[derive(Debug, Clone, Serialize, TS)]
#[ts(export)]
pub struct UpdateStatus {
    /// This app's version.
    pub current_version: String,
    /// Whether a newer one is there.
    pub state: UpdateState,
}

/// Whether there is a newer version, or why this copy cannot say.
#[derive(Debug, Clone, Serialize, TS)]
#[ts(export)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum UpdateState {
    /// This copy cannot update itself.
    Unavailable {
        /// Why.
        reason: UpdateUnavailable,
    },
    /// The server has nothing newer.
    UpToDate,
    /// The server offers a newer version.
    Available {
        /// Its version.
        version: String,
        /// What changed, in the publisher's words (may be empty).
        notes: String,
        /// When it was published (RFC 3339), if the server said.
        published_at: Option<String>,
    },
}

/// Why a copy of the app cannot update itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[ts(export)]
#[serde(rename_all = "snake_case")]
pub enum UpdateUnavailable {
    /// Built from source or run from the build directory: not installed from a package.
    NotInstalledFromPackage,
    /// Built without an update key, so no update could be trusted.
    NoUpdateKey,
}

/// An update's download, as it goes.
#[derive(Debug, Clone, Serialize, TS)]
#[ts(export)]
pub struct UpdateProgress {
    /// Bytes received so far.
    #[ts(type = "number")]
    pub received: u64,
    /// The package's size, when the server said.
    #[ts(type = "number | null")]
    pub total: Option<u64>,
}

/// The update found by the last check, kept until it is installed or a check finds another.
#[derive(Default)]
pub struct PendingUpdate(Mutex<Option<tauri_plugin_updater::Update>>);

/// Why this copy cannot update itself, if it cannot.
fn unavailable() -> Option<UpdateUnavailable> {
    use tauri::utils::config::BundleType;
    if !matches!(
        tauri::utils::platform::bundle_type(),
        Some(BundleType::Deb | BundleType::Rpm)
    ) {
        return Some(UpdateUnavailable::NotInstalledFromPackage);
    }
    match UPDATE_PUBKEY {
        Some(key) if !key.trim().is_empty() => None,
        _ => Some(UpdateUnavailable::NoUpdateKey),
    }
}

/// Asks `server` whether there is a newer version than this one.
pub async fn check<R: Runtime>(
    app: &AppHandle<R>,
    server: &str,
) -> Result<UpdateStatus, CommandError> {
    let current_version = app.package_info().version.to_string();
    if let Some(reason) = unavailable() {
        return Ok(UpdateStatus {
            current_version,
            state: UpdateState::Unavailable { reason },
        });
    }
    let endpoint = format!(
        "{}/api/v1/desktop/updates/{{{{target}}}}/{{{{arch}}}}/{{{{bundle_type}}}}/{{{{current_version}}}}",
        server.trim_end_matches('/')
    );
    let endpoint = tauri::Url::parse(&endpoint).map_err(|e| {
        CommandError::new(
            "invalid_server",
            format!("The server's address is not usable for updates: {e}"),
        )
    })?;
    let updater = app
        .updater_builder()
        .pubkey(UPDATE_PUBKEY.unwrap_or_default().trim())
        .endpoints(vec![endpoint])
        .and_then(tauri_plugin_updater::UpdaterBuilder::build)
        .map_err(refused)?;
    let found = updater.check().await.map_err(refused)?;
    let state = match &found {
        Some(update) => UpdateState::Available {
            version: update.version.clone(),
            notes: update.body.clone().unwrap_or_default(),
            published_at: update
                .raw_json
                .get("pub_date")
                .and_then(serde_json::Value::as_str)
                .map(str::to_owned),
        },
        None => UpdateState::UpToDate,
    };
    tracing::info!(current = %current_version, ?state, "checked for updates");
    *app.state::<PendingUpdate>()
        .0
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner) = found;
    Ok(UpdateStatus {
        current_version,
        state,
    })
}

/// Downloads the update the last check found, checks its signature, installs it with the
/// system's package manager and starts the new version.
pub async fn install<R: Runtime>(app: &AppHandle<R>) -> Result<(), CommandError> {
    let update = app
        .state::<PendingUpdate>()
        .0
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .clone()
        .ok_or_else(|| {
            CommandError::new(
                "no_update",
                "There is no update to install: check for updates first.",
            )
        })?;
    tracing::info!(from = %update.current_version, to = %update.version, "downloading the update");
    let mut received = 0_u64;
    let progress = app.clone();
    let bytes = update
        .download(
            move |chunk, total| {
                received += chunk as u64;
                let _ = progress.emit(UPDATE_PROGRESS_EVENT, UpdateProgress { received, total });
            },
            || {},
        )
        .await
        .map_err(refused)?;
    tracing::info!(version = %update.version, bytes = bytes.len(), "the update's signature verified; installing it");
    // The package manager asks for an administrator's password (pkexec, else sudo) and blocks.
    let installer = update.clone();
    tauri::async_runtime::spawn_blocking(move || installer.install(bytes))
        .await
        .map_err(|e| {
            CommandError::new(
                "update_install_failed",
                format!("The installation stopped: {e}"),
            )
        })?
        .map_err(refused)?;
    tracing::info!(version = %update.version, "the update is installed; restarting");
    app.restart()
}

/// The updater's errors, as the learner reads them.
fn refused(e: tauri_plugin_updater::Error) -> CommandError {
    use tauri_plugin_updater::Error;
    tracing::warn!(error = %e, "update refused or failed");
    match e {
        Error::Minisign(_) | Error::Base64(_) | Error::SignatureUtf8(_) => CommandError::new(
            "update_signature_invalid",
            "The downloaded update is not signed by Skilltrack's publisher key, so it was \
             refused: nothing was installed. Tell the server's operator.",
        ),
        Error::SignedVersionMismatch { signed, announced } => CommandError::new(
            "update_signature_invalid",
            format!(
                "The server announced version {announced}, but the package it sent was signed \
                 as version {signed}, so it was refused: nothing was installed. Tell the \
                 server's operator."
            ),
        ),
        Error::MissingSignedVersion => CommandError::new(
            "update_signature_invalid",
            "The update's signature does not say which version it is, so it was refused: \
             nothing was installed. Tell the server's operator.",
        ),
        Error::ReleaseNotFound => CommandError::new(
            "update_check_failed",
            "The server did not answer the update check with a release: it may not publish \
             updates yet. Try again later.",
        ),
        Error::Reqwest(_) | Error::Network(_) => CommandError::new(
            "offline",
            format!("The server could not be reached for the update: {e}"),
        ),
        Error::AuthenticationFailed => CommandError::new(
            "update_install_failed",
            "Installing the update needs an administrator's password, which was not given: \
             nothing was installed.",
        ),
        Error::DebInstallFailed | Error::PackageInstallFailed | Error::TempDirNotFound => {
            CommandError::new(
                "update_install_failed",
                format!("The system's package manager could not install the update: {e}."),
            )
        }
        other => CommandError::new(
            "update_failed",
            format!("The update could not be checked or installed: {other}"),
        ),
    }
}
