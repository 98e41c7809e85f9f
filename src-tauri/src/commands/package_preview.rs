//! The local preview of a course package (see [`crate::package_preview`]): thin adapters that
//! open a folder, answer the learner screens from the package on disk, and grade its quizzes
//! here. None of them touches the engine, its cache or the network, except "Push as draft"
//! ([`push_package_preview`]), which is the CLI's `course push` for the open folder.

use std::path::{Path, PathBuf};
use std::sync::{Arc, PoisonError};

use skilltrack_package::course::CoursePackage;
use skilltrack_protocol::assessments::AnswerValue;
use tauri::{AppHandle, Emitter as _, State};
use tauri_plugin_dialog::DialogExt as _;

use skilltrack_client::course_packages::{PackageError, PushOptions};

use super::{Answer, engine};
use crate::error::CommandError;
use crate::package_preview::{PackagePreview, PreviewError, Session, Snapshot, screens};
use crate::views::package_preview::{PreviewLab, PreviewPush, PreviewStatus};
use crate::views::quiz::{AttemptItem, OpenAttempt, QuizResult, QuizScreen};
use crate::views::{CourseCard, CourseScreen, LessonPage};

/// The event that carries a [`PreviewStatus`] to the window after every read of the folder.
pub const PACKAGE_PREVIEW_EVENT: &str = "package-preview";

impl From<PackageError> for CommandError {
    fn from(e: PackageError) -> Self {
        match e {
            PackageError::Server(e) => e.into(),
            PackageError::Invalid(problems) => Self::new(
                "package_problems",
                format!(
                    "The package has {} problem(s): fix them before pushing (they are shown in place).",
                    problems.0.len()
                ),
            ),
            PackageError::Io(..) => Self::new("io", e.to_string()),
            PackageError::State(..) => Self::new("package_state", e.to_string()),
            PackageError::Refused(_) => Self::new("refused", e.to_string()),
        }
    }
}

impl From<PreviewError> for CommandError {
    fn from(e: PreviewError) -> Self {
        let code = match e {
            PreviewError::NotAFolder(_) => "not_a_folder",
            PreviewError::Watch { .. } => "watch_failed",
        };
        Self::new(code, e.to_string())
    }
}

fn session(preview: &PackagePreview) -> Answer<Arc<Session>> {
    preview.session().ok_or_else(|| {
        CommandError::new(
            "no_preview",
            "No course folder is open: choose one with “Preview a folder…”.",
        )
    })
}

/// The open preview and its latest read.
fn latest(preview: &PackagePreview) -> Answer<(Arc<Session>, Arc<Snapshot>)> {
    let session = session(preview)?;
    let snapshot = session.watch.latest();
    Ok((session, snapshot))
}

/// The package of a read, or its problems as an error (the window shows them from the event).
fn read(snapshot: &Snapshot) -> Answer<&CoursePackage> {
    snapshot.read.as_ref().map_err(|problems| {
        CommandError::new(
            "package_problems",
            format!(
                "The package has {} problem(s); the first: {}",
                problems.0.len(),
                problems
                    .0
                    .first()
                    .map(ToString::to_string)
                    .unwrap_or_default()
            ),
        )
    })
}

/// Opens a course folder: reads it, and reads it again (telling the window) whenever a file
/// in it changes, until another folder is opened or the preview is closed.
#[tauri::command]
#[allow(
    clippy::needless_pass_by_value,
    reason = "Tauri hands commands their arguments by value"
)]
pub fn open_package_preview(
    app: AppHandle,
    preview: State<'_, PackagePreview>,
    folder: String,
) -> Answer<PreviewStatus> {
    let folder = PathBuf::from(folder.trim());
    let folder = std::fs::canonicalize(&folder).unwrap_or(folder);
    let shown = folder.clone();
    let session = preview.open(&folder, move |snapshot| {
        if snapshot.version > 1 {
            tracing::debug!(version = snapshot.version, "package preview read again");
        }
        let _ = app.emit(PACKAGE_PREVIEW_EVENT, snapshot.status(&shown));
    })?;
    Ok(session.watch.latest().status(&session.folder))
}

/// Asks for a course folder with the system's folder picker; `None` when cancelled.
#[tauri::command]
pub async fn pick_package_folder(app: AppHandle) -> Answer<Option<String>> {
    let picked = tauri::async_runtime::spawn_blocking(move || {
        app.dialog()
            .file()
            .set_title("Preview a course folder")
            .blocking_pick_folder()
    })
    .await
    .map_err(|e| CommandError::new("dialog", e.to_string()))?;
    Ok(picked
        .and_then(|p| p.into_path().ok())
        .map(|p| p.display().to_string()))
}

/// Closes the preview: the watch stops and its attempts are forgotten.
#[tauri::command]
#[allow(
    clippy::needless_pass_by_value,
    reason = "Tauri hands commands their arguments by value"
)]
pub fn close_package_preview(preview: State<'_, PackagePreview>) {
    preview.close();
}

/// The preview as it stands, if one is open.
#[tauri::command]
#[allow(
    clippy::needless_pass_by_value,
    reason = "Tauri hands commands their arguments by value"
)]
pub fn package_preview_status(preview: State<'_, PackagePreview>) -> Option<PreviewStatus> {
    preview
        .session()
        .map(|s| s.watch.latest().status(&s.folder))
}

/// The catalog of a preview: the package's course card.
#[tauri::command]
#[allow(
    clippy::needless_pass_by_value,
    reason = "Tauri hands commands their arguments by value"
)]
pub fn preview_catalog(preview: State<'_, PackagePreview>) -> Answer<Vec<CourseCard>> {
    let (_, snapshot) = latest(&preview)?;
    Ok(vec![screens::card(read(&snapshot)?)])
}

/// The course page of the package.
#[tauri::command]
#[allow(
    clippy::needless_pass_by_value,
    reason = "Tauri hands commands their arguments by value"
)]
pub fn preview_course_page(preview: State<'_, PackagePreview>) -> Answer<CourseScreen> {
    let (session, snapshot) = latest(&preview)?;
    let attempts = session
        .attempts
        .lock()
        .unwrap_or_else(PoisonError::into_inner);
    Ok(screens::course_screen(read(&snapshot)?, &attempts))
}

/// A lesson of the package (its id is its file).
#[tauri::command]
#[allow(
    clippy::needless_pass_by_value,
    reason = "Tauri hands commands their arguments by value"
)]
pub fn preview_lesson(preview: State<'_, PackagePreview>, lesson_id: String) -> Answer<LessonPage> {
    let (session, snapshot) = latest(&preview)?;
    screens::lesson_page(
        read(&snapshot)?,
        &session.folder,
        &lesson_id,
        |file: &Path| preview.media_url(file).ok().flatten(),
    )
}

/// A quiz of the package, with the attempts taken in this preview.
#[tauri::command]
#[allow(
    clippy::needless_pass_by_value,
    reason = "Tauri hands commands their arguments by value"
)]
pub fn preview_quiz(
    preview: State<'_, PackagePreview>,
    assessment_id: String,
) -> Answer<QuizScreen> {
    let (session, snapshot) = latest(&preview)?;
    let attempts = session
        .attempts
        .lock()
        .unwrap_or_else(PoisonError::into_inner);
    screens::quiz_screen(read(&snapshot)?, &assessment_id, &attempts)
}

/// Starts an attempt at a quiz of the package (kept in memory).
#[tauri::command]
#[allow(
    clippy::needless_pass_by_value,
    reason = "Tauri hands commands their arguments by value"
)]
pub fn preview_start_attempt(
    preview: State<'_, PackagePreview>,
    assessment_id: String,
) -> Answer<OpenAttempt> {
    let (session, snapshot) = latest(&preview)?;
    let assessment = screens::assessment(read(&snapshot)?, &assessment_id)?;
    session
        .attempts
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .start(assessment)
}

/// Saves an answer of an attempt in the preview.
#[tauri::command]
#[allow(
    clippy::needless_pass_by_value,
    reason = "Tauri hands commands their arguments by value"
)]
pub fn preview_save_answer(
    preview: State<'_, PackagePreview>,
    attempt_id: String,
    question_id: String,
    answer: AnswerValue,
) -> Answer<()> {
    let (session, snapshot) = latest(&preview)?;
    let mut attempts = session
        .attempts
        .lock()
        .unwrap_or_else(PoisonError::into_inner);
    let assessment = screens::assessment(read(&snapshot)?, &attempts.assessment_of(&attempt_id)?)?;
    attempts.save(assessment, &attempt_id, &question_id, answer)
}

/// Submits an attempt: graded here against the package's keys as they are on disk now.
#[tauri::command]
#[allow(
    clippy::needless_pass_by_value,
    reason = "Tauri hands commands their arguments by value"
)]
pub fn preview_submit_attempt(
    preview: State<'_, PackagePreview>,
    attempt_id: String,
) -> Answer<AttemptItem> {
    let (session, snapshot) = latest(&preview)?;
    let mut attempts = session
        .attempts
        .lock()
        .unwrap_or_else(PoisonError::into_inner);
    let assessment = screens::assessment(read(&snapshot)?, &attempts.assessment_of(&attempt_id)?)?;
    attempts.submit(assessment, &attempt_id)
}

/// Forgets an attempt in progress.
#[tauri::command]
#[allow(
    clippy::needless_pass_by_value,
    reason = "Tauri hands commands their arguments by value"
)]
pub fn preview_discard_attempt(
    preview: State<'_, PackagePreview>,
    attempt_id: String,
) -> Answer<()> {
    let session = session(&preview)?;
    session
        .attempts
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .discard(&attempt_id)
}

/// An attempt's result, with the package's keys and explanations.
#[tauri::command]
#[allow(
    clippy::needless_pass_by_value,
    reason = "Tauri hands commands their arguments by value"
)]
pub fn preview_attempt_result(
    preview: State<'_, PackagePreview>,
    attempt_id: String,
) -> Answer<QuizResult> {
    let (session, snapshot) = latest(&preview)?;
    let attempts = session
        .attempts
        .lock()
        .unwrap_or_else(PoisonError::into_inner);
    let assessment = screens::assessment(read(&snapshot)?, &attempts.assessment_of(&attempt_id)?)?;
    attempts.result(assessment, &attempt_id)
}

/// A lab of the package: its intro, steps and finish page.
#[tauri::command]
#[allow(
    clippy::needless_pass_by_value,
    reason = "Tauri hands commands their arguments by value"
)]
pub fn preview_lab(preview: State<'_, PackagePreview>, lab_id: String) -> Answer<PreviewLab> {
    let (_, snapshot) = latest(&preview)?;
    screens::lab(read(&snapshot)?, &lab_id)
}

/// "Push as draft": pushes the open folder to the server this app is signed in to, as
/// `skilltrack course push [--dry-run]` does (media uploaded once, the folder's revision
/// remembered, a course changed on the server since refused). It never publishes: publishing
/// is the course editor's, with its checks.
#[tauri::command]
pub async fn push_package_preview(
    desktop: State<'_, crate::Desktop>,
    preview: State<'_, PackagePreview>,
    dry_run: bool,
) -> Answer<PreviewPush> {
    let folder = session(&preview)?.folder.clone();
    let engine = engine(&desktop).await;
    let pushed = engine
        .push_package(
            &folder,
            PushOptions {
                dry_run,
                force: false,
                publish: false,
            },
        )
        .await?;
    tracing::info!(
        folder = %folder.display(),
        course = %pushed.report.course_id,
        changes = pushed.report.changes.len(),
        applied = pushed.report.applied,
        "pushed a course folder from the preview"
    );
    Ok(PreviewPush {
        course_id: pushed.report.course_id.to_string(),
        changes: pushed.report.changes,
        applied: pushed.report.applied,
        uploaded: pushed.uploaded,
    })
}
