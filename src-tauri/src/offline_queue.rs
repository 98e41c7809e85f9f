//! The courses a learner keeps offline, downloaded in the background one file after another:
//! the queue lives in the cache (so a restart resumes it, partial files by HTTP Range), and
//! the window hears each course's progress as the `course-download` event. A lost network
//! waits for the sync loop to be online again (or 30 s) and carries on; pausing a course stops
//! its current file where it is.
//!
//! When the learner asks for it in Settings (`keep_next_lessons`), each run then keeps the
//! next [`LESSONS_AHEAD`] lessons of every enrolled course downloaded, within their storage
//! limit, and tells the window how that stands (`next-lessons`); a run starts after each sync
//! too, so a lesson completed or a course joined moves what is kept.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde::Serialize;
use skilltrack_client::api::ApiError;
use skilltrack_client::course_downloads::{
    CourseDownloadProgress, LESSONS_AHEAD, NextLessonsState,
};
use skilltrack_client::downloads::DownloadError;
use skilltrack_client::sync::{SyncError, lock};
use tauri::{AppHandle, Emitter as _, Manager as _};
use ts_rs::TS;

use crate::Desktop;
use crate::error::CommandError;
use crate::preferences::Preferences;

/// The event that carries [`NextLessonsState`] to the window.
pub const NEXT_LESSONS_EVENT: &str = "next-lessons";

/// The event that carries [`CourseDownloadStatus`] to the window.
pub const COURSE_DOWNLOAD_EVENT: &str = "course-download";

/// Where a course's download stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum CourseDownloadState {
    /// Files are arriving.
    Downloading,
    /// The learner paused it.
    Paused,
    /// The network is gone; it carries on when it is back.
    WaitingForNetwork,
    /// Every file is here.
    Done,
    /// A file could not be had (refused, disk full…): `error` says why.
    Failed,
}

/// A course's download, as the window shows it.
#[derive(Debug, Clone, Serialize, TS)]
#[ts(export)]
pub struct CourseDownloadStatus {
    /// The course.
    pub course_id: String,
    /// Where it stands.
    pub state: CourseDownloadState,
    /// Files to have.
    pub files_total: u32,
    /// Files here.
    pub files_done: u32,
    /// Bytes here.
    #[ts(type = "number")]
    pub bytes_done: u64,
    /// Why it failed.
    pub error: Option<String>,
}

/// The background download of the courses kept offline (at most one run at a time).
#[derive(Default)]
pub struct OfflineQueue {
    running: Mutex<Option<tauri::async_runtime::JoinHandle<()>>>,
    /// How keeping the next lessons stood at the end of the last run that did it.
    next_lessons: Mutex<Option<NextLessonsState>>,
}

impl OfflineQueue {
    /// How keeping the next lessons downloaded stood after the last run (none: not yet run).
    pub fn next_lessons(&self) -> Option<NextLessonsState> {
        self.next_lessons
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    /// After a sync: when the learner keeps the next lessons downloaded, a run moves them
    /// along (a lesson completed, a course joined).
    pub fn after_sync(&self, app: &AppHandle) {
        let Some(desktop) = app.try_state::<Desktop>() else {
            return;
        };
        if Preferences::load(&desktop.config.data_root).keep_next_lessons {
            self.kick(app);
        }
    }

    /// Starts working through the queue unless it already is.
    pub fn kick(&self, app: &AppHandle) {
        let mut running = self
            .running
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if running
            .as_ref()
            .is_some_and(|task| !task.inner().is_finished())
        {
            return;
        }
        let app = app.clone();
        *running = Some(tauri::async_runtime::spawn(async move { run(app).await }));
    }

    /// Stops the current file where it is (it resumes by Range) and starts again from the
    /// queue as it now is: after a pause, a deletion or a switch of server.
    pub fn restart(&self, app: &AppHandle) {
        if let Some(task) = self
            .running
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .take()
        {
            task.abort();
        }
        self.kick(app);
    }
}

fn is_offline(e: &DownloadError) -> bool {
    matches!(
        e,
        DownloadError::Api(ApiError::Offline(_))
            | DownloadError::Sync(SyncError::Api(ApiError::Offline(_)))
    )
}

/// Works through the queue until every course not paused is whole or failed.
async fn run(app: AppHandle) {
    loop {
        let desktop = app.state::<Desktop>();
        let (engine, dir) = {
            let device = desktop.device.lock().await;
            (Arc::clone(&device.engine), device.media_dir())
        };
        let requests = match lock(engine.cache()).offline_requests() {
            Ok(r) => r,
            Err(e) => {
                tracing::error!(error = %e, "the offline queue could not be read");
                return;
            }
        };
        let mut network_lost = false;
        for request in requests.iter().filter(|r| !r.paused) {
            let course = request.course_id.clone();
            let mut last_sent = Instant::now();
            let outcome = engine
                .download_course(&course, request.module_id.as_deref(), &dir, |p| {
                    // A progress bar needs a few updates a second, not one per network chunk.
                    let whole = p.files_done == p.files_total;
                    if whole || last_sent.elapsed() >= Duration::from_millis(100) {
                        last_sent = Instant::now();
                        emit(&app, &course, CourseDownloadState::Downloading, p, None);
                    }
                })
                .await;
            match outcome {
                Ok(p) => emit(&app, &course, CourseDownloadState::Done, &p, None),
                Err(e) if is_offline(&e) => {
                    tracing::info!(course = %course, "course download waits for the network");
                    let nothing = CourseDownloadProgress::default();
                    emit(
                        &app,
                        &course,
                        CourseDownloadState::WaitingForNetwork,
                        &nothing,
                        None,
                    );
                    network_lost = true;
                    break;
                }
                Err(e) => {
                    tracing::warn!(course = %course, error = %e, "a course download failed");
                    let words = CommandError::from(e).message;
                    let nothing = CourseDownloadProgress::default();
                    emit(
                        &app,
                        &course,
                        CourseDownloadState::Failed,
                        &nothing,
                        Some(words),
                    );
                }
            }
        }
        if !network_lost {
            network_lost = keep_next_lessons(&app, &engine, &dir).await;
        }
        if !network_lost {
            return;
        }
        // Back when the sync loop reaches the server again, or in 30 s at the latest.
        let mut status = engine.status();
        let _ = tokio::time::timeout(Duration::from_secs(30), async {
            let _ = status.borrow_and_update();
            while status.changed().await.is_ok() {
                if status.borrow().online {
                    return;
                }
            }
        })
        .await;
    }
}

/// Keeps the next lessons of enrolled courses downloaded when the learner asked for it;
/// answers whether the network was lost on the way.
async fn keep_next_lessons(
    app: &AppHandle,
    engine: &skilltrack_client::sync::SyncEngine,
    dir: &std::path::Path,
) -> bool {
    let preferences = Preferences::load(&app.state::<Desktop>().config.data_root);
    if !preferences.keep_next_lessons {
        return false;
    }
    let limit = preferences
        .storage_limit_mb
        .map(|mb| u64::from(mb) * 1024 * 1024);
    let mut last_sent = Instant::now();
    let outcome = engine
        .keep_next_lessons(dir, LESSONS_AHEAD, limit, |state| {
            if last_sent.elapsed() >= Duration::from_millis(250) {
                last_sent = Instant::now();
                let _ = app.emit(NEXT_LESSONS_EVENT, state.clone());
            }
        })
        .await;
    match outcome {
        Ok(state) => {
            tracing::info!(?state, "the next lessons are kept downloaded");
            *app.state::<OfflineQueue>()
                .next_lessons
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(state.clone());
            let _ = app.emit(NEXT_LESSONS_EVENT, state);
            false
        }
        Err(e) if is_offline(&e) => true,
        Err(DownloadError::Sync(SyncError::SignedOut)) => false,
        Err(e) => {
            tracing::warn!(error = %e, "keeping the next lessons downloaded failed");
            false
        }
    }
}

fn emit(
    app: &AppHandle,
    course_id: &str,
    state: CourseDownloadState,
    progress: &CourseDownloadProgress,
    error: Option<String>,
) {
    let _ = app.emit(
        COURSE_DOWNLOAD_EVENT,
        CourseDownloadStatus {
            course_id: course_id.to_owned(),
            state,
            files_total: progress.files_total,
            files_done: progress.files_done,
            bytes_done: progress.bytes_done,
            error,
        },
    );
}
