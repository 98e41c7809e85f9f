//! Courses kept offline: the size first, then the background queue ([`crate::offline_queue`]),
//! pause and resume, storage per course, the learner's limit, deletion.

use std::collections::BTreeSet;

use serde::Serialize;
use skilltrack_client::course_downloads::{CourseDownloadPlan, NextLessonsState};
use skilltrack_client::sync::lock;
use skilltrack_protocol::sync::SyncTable;
use tauri::{AppHandle, Emitter as _, State};
use ts_rs::TS;

use super::{Answer, engine, id};
use crate::Desktop;
use crate::error::CommandError;
use crate::offline_queue::{
    COURSE_DOWNLOAD_EVENT, CourseDownloadState, CourseDownloadStatus, OfflineQueue,
};
use crate::preferences::Preferences;
use crate::views::text;

/// A course with files on this device, or kept offline.
#[derive(Debug, Clone, Serialize, TS)]
#[ts(export)]
pub struct OfflineCourse {
    /// The course.
    pub course_id: String,
    /// Its title.
    pub title: String,
    /// Files of it here, whole.
    pub files: u32,
    /// Bytes of it here.
    #[ts(type = "number")]
    pub bytes: u64,
    /// The learner keeps it (or some of its modules) offline.
    pub kept: bool,
    /// Its downloads are paused.
    pub paused: bool,
}

/// What keeping a course (or one module) offline takes: files and bytes, before anything is
/// fetched (the server is asked each file's size).
#[tauri::command]
pub async fn course_download_plan(
    desktop: State<'_, Desktop>,
    course_id: String,
    module_id: Option<String>,
) -> Answer<CourseDownloadPlan> {
    let engine = engine(&desktop).await;
    Ok(engine
        .course_download_plan(&course_id, module_id.as_deref())
        .await?)
}

/// Keeps a course (or one module) offline: refused past the learner's storage limit, else
/// queued and downloaded in the background.
#[tauri::command]
pub async fn keep_course_offline(
    app: AppHandle,
    desktop: State<'_, Desktop>,
    queue: State<'_, OfflineQueue>,
    course_id: String,
    module_id: Option<String>,
) -> Answer<()> {
    let engine = engine(&desktop).await;
    id(&course_id)?;
    let limit = Preferences::load(&desktop.config.data_root).storage_limit_mb;
    if let Some(limit_mb) = limit {
        let plan = engine
            .course_download_plan(&course_id, module_id.as_deref())
            .await?;
        let used = u64::try_from(lock(engine.cache()).download_bytes()?).unwrap_or(0);
        let more = plan.bytes_total.saturating_sub(plan.bytes_done);
        let limit = u64::from(limit_mb) * 1024 * 1024;
        if used + more > limit {
            return Err(CommandError::new(
                "storage_limit",
                format!(
                    "This needs {} MB more, and downloads already use {} MB of the {limit_mb} MB \
                     you allowed. Delete another course's downloads or raise the limit in Settings.",
                    more.div_ceil(1024 * 1024),
                    used.div_ceil(1024 * 1024),
                ),
            ));
        }
    }
    lock(engine.cache()).keep_offline(&course_id, module_id.as_deref())?;
    queue.restart(&app);
    Ok(())
}

/// Pauses a course's downloads (the current file stops where it is) or resumes them.
#[tauri::command]
pub async fn pause_course_download(
    app: AppHandle,
    desktop: State<'_, Desktop>,
    queue: State<'_, OfflineQueue>,
    course_id: String,
    paused: bool,
) -> Answer<()> {
    let engine = engine(&desktop).await;
    lock(engine.cache()).pause_offline(&course_id, paused)?;
    queue.restart(&app);
    if paused {
        let (files, bytes) = lock(engine.cache()).course_storage(&course_id)?;
        let _ = app.emit(
            COURSE_DOWNLOAD_EVENT,
            CourseDownloadStatus {
                course_id,
                state: CourseDownloadState::Paused,
                files_total: 0,
                files_done: files,
                bytes_done: bytes,
                error: None,
            },
        );
    }
    Ok(())
}

/// Stops keeping a course offline and deletes its files (those another kept course uses
/// stay). Answers the bytes freed.
#[tauri::command]
pub async fn delete_course_downloads(
    app: AppHandle,
    desktop: State<'_, Desktop>,
    queue: State<'_, OfflineQueue>,
    course_id: String,
) -> Answer<u64> {
    let engine = engine(&desktop).await;
    lock(engine.cache()).forget_offline(&course_id)?;
    // The running download of this course stops before its files go.
    queue.restart(&app);
    Ok(engine.delete_course_files(&course_id).await?)
}

/// Every course with files here or kept offline, with its storage.
#[tauri::command]
pub async fn offline_courses(desktop: State<'_, Desktop>) -> Answer<Vec<OfflineCourse>> {
    let engine = engine(&desktop).await;
    let cache = lock(engine.cache());
    let requests = cache.offline_requests()?;
    let mut courses: BTreeSet<String> = requests.iter().map(|r| r.course_id.clone()).collect();
    // Courses of downloaded lessons (a video downloaded on its own counts too).
    for download in cache.downloads()? {
        let lesson = download.lesson_id.as_deref().and_then(|l| l.parse().ok());
        let Some(lesson) = lesson else { continue };
        if let Some(row) = cache.row(SyncTable::CourseLessons, lesson)? {
            if let Ok(module) = text(&row, "module_id").parse() {
                if let Some(m) = cache.row(SyncTable::CourseModules, module)? {
                    courses.insert(text(&m, "course_id"));
                }
            }
        }
    }
    let mut out = Vec::new();
    for course_id in courses {
        let Ok(uuid) = course_id.parse() else {
            continue;
        };
        let title = cache
            .row(SyncTable::Courses, uuid)?
            .map(|c| text(&c, "title"))
            .unwrap_or_default();
        let (files, bytes) = cache.course_storage(&course_id)?;
        let mine = requests.iter().filter(|r| r.course_id == course_id);
        out.push(OfflineCourse {
            kept: mine.clone().next().is_some(),
            paused: mine.clone().any(|r| r.paused),
            course_id,
            title,
            files,
            bytes,
        });
    }
    Ok(out)
}

/// How keeping the next lessons of enrolled courses downloaded stood after the offline
/// queue's last run (none: the switch is off, or it has not run yet).
#[tauri::command]
#[allow(
    clippy::needless_pass_by_value,
    reason = "Tauri hands commands their arguments by value"
)]
pub fn next_lessons_state(queue: State<'_, OfflineQueue>) -> Option<NextLessonsState> {
    queue.next_lessons()
}

/// An attachment the learner opened: the file on this device it opened.
#[derive(Debug, Clone, Serialize, TS)]
#[ts(export)]
pub struct OpenedAttachment {
    /// The file's name.
    pub name: String,
    /// Where it is on this device.
    pub path: String,
}

/// Opens a document a lesson links to (a PDF, a data file: see
/// [`skilltrack_client::course_downloads::ATTACHMENT_EXTENSIONS`]) in the learner's own
/// application: from disk when it came with the course, else downloaded first (online).
/// Only a file the lesson's own text links to is opened, so the window cannot have the app
/// fetch and open anything else.
#[tauri::command]
pub async fn open_attachment(
    app: AppHandle,
    desktop: State<'_, Desktop>,
    lesson_id: String,
    url: String,
) -> Answer<OpenedAttachment> {
    use tauri_plugin_opener::OpenerExt as _;
    let (engine, dir) = {
        let device = desktop.device.lock().await;
        (std::sync::Arc::clone(&device.engine), device.media_dir())
    };
    let body = lock(engine.cache())
        .row(SyncTable::CourseLessons, id(&lesson_id)?)?
        .and_then(|row| row["content_body"].as_str().map(str::to_owned))
        .unwrap_or_default();
    if !skilltrack_client::course_downloads::markdown_attachments(&body).contains(&url) {
        return Err(CommandError::new(
            "not_an_attachment",
            "This lesson does not link to that file.",
        ));
    }
    let record = engine
        .download(&url, Some(&lesson_id), &dir, |_| {})
        .await?;
    let name = url
        .split(['?', '#'])
        .next()
        .and_then(|p| p.rsplit('/').next())
        .unwrap_or_default()
        .to_owned();
    app.opener()
        .open_path(record.path.clone(), None::<&str>)
        .map_err(|e| {
            CommandError::new(
                "no_application",
                format!(
                    "{name} is on this computer at {}, but no application opened it: {e}",
                    record.path
                ),
            )
        })?;
    tracing::info!(lesson = %lesson_id, file = %record.path, "opened an attachment");
    Ok(OpenedAttachment {
        name,
        path: record.path,
    })
}
