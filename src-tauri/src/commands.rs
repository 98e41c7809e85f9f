//! The commands the window calls: thin adapters that read the engine's cache (so every screen
//! works offline) or call the engine, and shape the answer with [`crate::views`].

pub mod media;
pub mod startup;
pub mod system;

use std::collections::HashSet;
use std::sync::Arc;

use serde_json::{Value, json};
use skilltrack_client::cache::{CourseFilter, DownloadRecord, DownloadState};
use skilltrack_client::course_downloads::lesson_files;
use skilltrack_client::sync::{SyncEngine, SyncError, lock};
use skilltrack_client::writes::ProgressInput;
use skilltrack_protocol::engagement::BookmarkEntity;
use skilltrack_protocol::sync::SyncTable;
use tauri::{AppHandle, Emitter as _, Manager as _, State};
use uuid::Uuid;

use crate::Desktop;
use crate::device::Device;
use crate::error::CommandError;
use crate::local_media::LocalMedia;
use crate::preferences::Preferences;
use crate::views::{
    Account, BookmarkItem, CaptionTrack, CatalogQuery, CertificateItem, CourseCard, CourseScreen,
    LaunchState, LearningItem, LessonDownload, LessonItem, LessonPage, ModuleItem, MyLearningPage,
    PrerequisiteItem, ReviewItem, SettingsPage, StreamedExtras, StreamedPicture, opt_text, text,
};

pub mod account;
pub mod certificates;
pub mod course_downloads;
pub mod notifications;
pub mod quiz;

pub mod instructor;
pub mod labs;
pub mod package_preview;

type Answer<T> = Result<T, CommandError>;

/// The event that carries [`LessonDownload`] progress to the window.
pub const DOWNLOAD_PROGRESS_EVENT: &str = "download-progress";

pub(crate) fn id(s: &str) -> Answer<Uuid> {
    s.parse()
        .map_err(|_| CommandError::new("invalid_id", format!("{s:?} is not an id")))
}

pub(crate) async fn engine(desktop: &Desktop) -> Arc<SyncEngine> {
    Arc::clone(&desktop.device.lock().await.engine)
}

pub(crate) async fn user(engine: &SyncEngine) -> Answer<String> {
    engine
        .signed_in_user()
        .await
        .map(|u| u.to_string())
        .ok_or_else(|| CommandError::new("signed_out", "Sign in first."))
}

pub(crate) fn own(rows: Vec<Value>, user: &str) -> impl Iterator<Item = Value> + '_ {
    rows.into_iter()
        .filter(move |r| r["user_id"] == json!(user))
}

/// Lessons of a course the learner completed, as the cache holds them (with unsynced ones).
fn completed_lessons(engine: &SyncEngine, user: &str, course_id: &str) -> Answer<HashSet<String>> {
    let rows = lock(engine.cache()).rows_where(SyncTable::UserProgress, "course_id", course_id)?;
    Ok(own(rows, user)
        .filter(|r| !r["completed_at"].is_null())
        .map(|r| text(&r, "lesson_id"))
        .collect())
}

fn percent(done: usize, total: usize) -> i32 {
    if total == 0 {
        return 0;
    }
    i32::try_from(done * 100 / total).unwrap_or(100)
}

/// Where the app syncs, who is signed in, how sync is doing.
#[tauri::command]
pub async fn launch_state(desktop: State<'_, Desktop>) -> Answer<LaunchState> {
    let device = desktop.device.lock().await;
    Ok(LaunchState {
        server: device.server.clone(),
        account: device.kept_account(),
        status: device.engine.status().borrow().clone(),
        server_refused: desktop.server_refused.clone(),
        system_locale: crate::preferences::system_locale(),
    })
}

/// Signs in and starts syncing.
#[tauri::command]
pub async fn sign_in(
    desktop: State<'_, Desktop>,
    email: String,
    password: String,
) -> Answer<Account> {
    let engine = engine(&desktop).await;
    engine.sign_in(email.trim(), &password).await?;
    let mut device = desktop.device.lock().await;
    device.start_syncing();
    device
        .kept_account()
        .ok_or_else(|| CommandError::new("session_store", "The session could not be kept."))
}

/// Stops syncing and forgets the session (the cache and downloads stay).
#[tauri::command]
pub async fn sign_out(desktop: State<'_, Desktop>) -> Answer<()> {
    let mut device = desktop.device.lock().await;
    device.stop_syncing();
    device.engine.sign_out().await?;
    Ok(())
}

/// Asks the sync loop to sync now.
#[tauri::command]
pub async fn sync_now(desktop: State<'_, Desktop>) -> Answer<()> {
    engine(&desktop).await.nudge();
    Ok(())
}

/// Switches to another server (its own cache and session) and remembers the choice.
#[tauri::command]
pub async fn set_server(
    app: AppHandle,
    desktop: State<'_, Desktop>,
    url: String,
) -> Answer<LaunchState> {
    let url = url.trim().trim_end_matches('/').to_owned();
    // The engine's rule (https://, or http:// on this computer only), before anything is
    // opened or saved.
    skilltrack_client::api::server_url(&url).map_err(SyncError::from)?;
    let mut device = desktop.device.lock().await;
    let switched = device.server != url;
    if switched {
        let next = Device::open(&app, &desktop.config, &url)?;
        allow_media(&app, &next)?;
        *device = next;
        std::fs::write(desktop.config.data_root.join("server-url"), &url)
            .map_err(|e| CommandError::new("io", format!("The server could not be saved: {e}")))?;
    }
    let state = LaunchState {
        server: device.server.clone(),
        account: device.kept_account(),
        status: device.engine.status().borrow().clone(),
        server_refused: None,
        system_locale: crate::preferences::system_locale(),
    };
    drop(device);
    if switched {
        // The other server's queue from now on.
        app.state::<crate::offline_queue::OfflineQueue>()
            .restart(&app);
    }
    Ok(state)
}

/// Lets the window play this device's downloaded media (and nothing else on disk) from the
/// loopback media server.
pub fn allow_media(app: &AppHandle, device: &Device) -> Answer<()> {
    let dir = device.media_dir();
    std::fs::create_dir_all(&dir)
        .map_err(|e| CommandError::new("io", format!("{}: {e}", dir.display())))?;
    let media = app.state::<LocalMedia>();
    media.serve_from(dir);
    media.stream_through(Arc::clone(&device.engine));
    Ok(())
}

/// The catalog from the cache, with offline search and filters.
#[tauri::command]
pub async fn catalog(desktop: State<'_, Desktop>, query: CatalogQuery) -> Answer<Vec<CourseCard>> {
    let engine = engine(&desktop).await;
    let filter = CourseFilter {
        text: query.text.filter(|t| !t.trim().is_empty()),
        level: query.level.filter(|l| !l.is_empty()),
        free_only: query.free_only,
        limit: query.limit,
        ..CourseFilter::default()
    };
    let cards = lock(engine.cache()).courses(&filter)?;
    Ok(cards
        .iter()
        .map(|c| CourseCard::from_row(&c.course))
        .collect())
}

/// A course: syllabus, enrollment, bookmark, progress.
#[tauri::command]
pub async fn course_page(desktop: State<'_, Desktop>, course_id: String) -> Answer<CourseScreen> {
    let engine = engine(&desktop).await;
    let user = engine
        .signed_in_user()
        .await
        .map(|u| u.to_string())
        .unwrap_or_default();
    let done = completed_lessons(&engine, &user, &course_id)?;
    let cache = lock(engine.cache());
    let row = cache
        .row(SyncTable::Courses, id(&course_id)?)?
        .ok_or_else(|| CommandError::new("not_found", "This course is not on this device."))?;
    let modules: Vec<ModuleItem> = cache
        .syllabus(&course_id)?
        .iter()
        .map(|m| ModuleItem {
            id: text(&m.module, "id"),
            title: text(&m.module, "title"),
            lessons: m
                .lessons
                .iter()
                .map(|l| LessonItem::from_row(&l.lesson, done.contains(&text(&l.lesson, "id"))))
                .collect(),
            draft: crate::views::is_draft(&m.module),
            slug: crate::views::opt_text(&m.module, "package_slug"),
        })
        .collect();
    let enrolled = own(
        cache.rows_where(SyncTable::Enrollments, "course_id", &course_id)?,
        &user,
    )
    .any(|e| e["status"] != json!("cancelled"));
    let bookmarked = own(cache.all_rows(SyncTable::UserBookmarks)?, &user)
        .any(|b| b["entity_type"] == json!("course") && b["entity_id"] == json!(course_id));
    let completed_courses: HashSet<String> = own(cache.all_rows(SyncTable::Enrollments)?, &user)
        .filter(|e| e["status"] == json!("completed"))
        .map(|e| text(&e, "course_id"))
        .collect();
    let mut prerequisites = Vec::new();
    for p in cache.rows_where(SyncTable::CoursePrerequisites, "course_id", &course_id)? {
        let prerequisite = text(&p, "prerequisite_course_id");
        let title = match prerequisite.parse() {
            Ok(pid) => cache
                .row(SyncTable::Courses, pid)?
                .map(|c| text(&c, "title"))
                .unwrap_or_default(),
            Err(_) => String::new(),
        };
        prerequisites.push(PrerequisiteItem {
            completed: completed_courses.contains(&prerequisite),
            course_id: prerequisite,
            title,
        });
    }
    let mut reviews: Vec<ReviewItem> = cache
        .rows_where(SyncTable::CourseReviews, "course_id", &course_id)?
        .iter()
        .map(|r| ReviewItem::from_row(r, &user))
        .collect();
    reviews.sort_by(|a, b| b.written_at.cmp(&a.written_at));
    let my_review = reviews.iter().find(|r| r.mine).cloned();
    let assessments = if enrolled {
        quiz::course_assessments(&cache, &user, &course_id)?
    } else {
        Vec::new()
    };
    let total: usize = modules.iter().map(|m| m.lessons.len()).sum();
    let completed = modules
        .iter()
        .flat_map(|m| &m.lessons)
        .filter(|l| l.completed)
        .count();
    Ok(CourseScreen {
        card: CourseCard::from_row(&row),
        description: text(&row, "description"),
        objectives: CourseScreen::objectives_of(&row),
        modules,
        enrolled,
        bookmarked,
        progress_percentage: percent(completed, total),
        prerequisites,
        assessments,
        reviews,
        my_review,
    })
}

/// Enrolls in a course. Only the server can decide (payment, seats, deadline, prerequisites),
/// so this needs the network; the next sync brings the course's lessons.
#[tauri::command]
pub async fn enroll(desktop: State<'_, Desktop>, course_id: String) -> Answer<()> {
    let engine = engine(&desktop).await;
    engine
        .enroll(id(&course_id)?)
        .await
        .map_err(|e| needs_network(e, "Enrolling"))?;
    Ok(())
}

/// The error of an action that needs the server: offline, it says so in words instead of the
/// sync engine's "saved here" (nothing is saved for later).
pub(crate) fn needs_network(e: skilltrack_client::sync::SyncError, what: &str) -> CommandError {
    use skilltrack_client::api::ApiError;
    use skilltrack_client::sync::SyncError;
    match e {
        SyncError::Api(ApiError::Offline(_)) => CommandError::new(
            "offline",
            format!(
                "{what} needs the server, which cannot be reached now. Try again when you are online."
            ),
        ),
        other => other.into(),
    }
}

/// Writes or rewrites the learner's review of a course (here at once, on the server when synced).
#[tauri::command]
pub async fn review_course(
    desktop: State<'_, Desktop>,
    course_id: String,
    rating: i32,
    review_text: Option<String>,
) -> Answer<()> {
    if !(1..=5).contains(&rating) {
        return Err(CommandError::new(
            "invalid_rating",
            "Give the course from 1 to 5 stars.",
        ));
    }
    let words = review_text
        .map(|t| t.trim().to_owned())
        .filter(|t| !t.is_empty());
    if words.as_ref().is_some_and(|t| t.chars().count() > 10_000) {
        return Err(CommandError::new(
            "review_too_long",
            "A review may be at most 10,000 characters.",
        ));
    }
    let engine = engine(&desktop).await;
    engine.review_course(id(&course_id)?, rating, words).await?;
    Ok(())
}

/// Records how far a video lesson has played, so it resumes there on any device: the share of
/// its length, kept as the lesson's `progress_percentage` (which only goes up and syncs).
/// Nothing is written unless the share grew.
#[tauri::command]
pub async fn record_video_position(
    desktop: State<'_, Desktop>,
    lesson_id: String,
    position_seconds: f64,
    duration_seconds: f64,
) -> Answer<i32> {
    let engine = engine(&desktop).await;
    let user = user(&engine).await?;
    let lesson = id(&lesson_id)?;
    let Some(share) = video_share(position_seconds, duration_seconds) else {
        return Err(CommandError::new(
            "invalid_position",
            "The video's position and length must be positive numbers.",
        ));
    };
    let before = lesson_percentage(&engine, &user, &lesson_id)?;
    if share <= before {
        return Ok(before);
    }
    engine
        .record_progress(
            lesson,
            ProgressInput {
                percentage: Some(share),
                add_minutes: None,
                completed: false,
            },
        )
        .await?;
    Ok(share)
}

/// The share of a video played, 0–99: a position at the very end is still "resume near the
/// end", never completion (the learner marks a lesson complete). `None` for nonsense.
fn video_share(position: f64, duration: f64) -> Option<i32> {
    if !(position.is_finite() && duration.is_finite()) || position < 0.0 || duration <= 0.0 {
        return None;
    }
    let share = (position / duration * 100.0).floor().clamp(0.0, 99.0);
    // In range by the clamp above.
    #[allow(clippy::cast_possible_truncation)]
    Some(share as i32)
}

/// The learner's recorded progress in a lesson, 0–100.
fn lesson_percentage(engine: &SyncEngine, user: &str, lesson_id: &str) -> Answer<i32> {
    let rows = lock(engine.cache()).rows_where(SyncTable::UserProgress, "lesson_id", lesson_id)?;
    Ok(own(rows, user)
        .filter_map(|r| r["progress_percentage"].as_i64())
        .max()
        .and_then(|p| i32::try_from(p).ok())
        .unwrap_or(0))
}

/// A lesson to study, with its downloaded media if any.
#[tauri::command]
pub async fn lesson(
    desktop: State<'_, Desktop>,
    media: State<'_, LocalMedia>,
    lesson_id: String,
) -> Answer<LessonPage> {
    let engine = engine(&desktop).await;
    let user = engine
        .signed_in_user()
        .await
        .map(|u| u.to_string())
        .unwrap_or_default();
    let (row, course_id) = {
        let cache = lock(engine.cache());
        let row = cache
            .row(SyncTable::CourseLessons, id(&lesson_id)?)?
            .ok_or_else(|| CommandError::new("not_found", "This lesson is not on this device."))?;
        let module = cache.row(SyncTable::CourseModules, id(&text(&row, "module_id"))?)?;
        let course_id = module.map(|m| text(&m, "course_id")).unwrap_or_default();
        (row, course_id)
    };
    let completed = completed_lessons(&engine, &user, &course_id)?.contains(&lesson_id);
    let progress_percentage = lesson_percentage(&engine, &user, &lesson_id)?;
    let content_url = opt_text(&row, "content_url").filter(|u| !u.is_empty());
    let download = match &content_url {
        Some(url) => lock(engine.cache()).download(url)?,
        None => None,
    };
    // The poster and captions downloaded with the video, read from disk.
    let downloaded = |url: &str| -> Answer<Option<std::path::PathBuf>> {
        Ok(lock(engine.cache())
            .download(url)?
            .filter(|d| d.state == DownloadState::Complete)
            .map(|d| std::path::PathBuf::from(d.path)))
    };
    let poster_url = match opt_text(&row, "poster_url") {
        Some(url) => downloaded(&url)?.and_then(|p| crate::local_media::picture_data_url(&p)),
        None => None,
    };
    let mut captions = Vec::new();
    for (language, url) in lesson_captions(&row) {
        if let Some(webvtt) = downloaded(&url)?.and_then(|p| std::fs::read_to_string(p).ok()) {
            captions.push(CaptionTrack { language, webvtt });
        }
    }
    // Not downloaded (or not finished): played at once by streaming it from the server.
    let video_url = content_url
        .as_deref()
        .filter(|_| {
            !download
                .as_ref()
                .is_some_and(|d| d.state == DownloadState::Complete)
        })
        .map(|url| media.stream_url_of(url));
    // Pictures downloaded with the course show from disk, offline too (the window's CSP takes
    // pictures from the app and `data:` only).
    let content_body = match opt_text(&row, "content_body") {
        Some(body) => Some(with_downloaded_pictures(&engine, body)?),
        None => None,
    };
    Ok(LessonPage {
        item: LessonItem::from_row(&row, completed),
        course_id,
        description: opt_text(&row, "description"),
        content_body,
        content_url,
        download,
        streamed: video_url.is_some(),
        video_url,
        poster_url,
        captions,
        assessment_id: None,
        lab_id: None,
        progress_percentage,
    })
}

/// `markdown` with each picture this device has downloaded written as a `data:` URL.
fn with_downloaded_pictures(engine: &SyncEngine, mut markdown: String) -> Answer<String> {
    for url in skilltrack_client::course_downloads::markdown_images(&markdown) {
        let file = lock(engine.cache())
            .download(&url)?
            .filter(|d| d.state == DownloadState::Complete)
            .map(|d| std::path::PathBuf::from(d.path));
        if let Some(data) = file.and_then(|f| crate::local_media::picture_data_url(&f)) {
            markdown = markdown.replace(&url, &data);
        }
    }
    Ok(markdown)
}

/// Marks a lesson complete (here at once; on the server when synced).
#[tauri::command]
pub async fn complete_lesson(desktop: State<'_, Desktop>, lesson_id: String) -> Answer<()> {
    let engine = engine(&desktop).await;
    engine
        .record_progress(
            id(&lesson_id)?,
            ProgressInput {
                percentage: Some(100),
                add_minutes: None,
                completed: true,
            },
        )
        .await?;
    Ok(())
}

/// Bookmarks a course, or removes the bookmark.
#[tauri::command]
pub async fn set_bookmark(desktop: State<'_, Desktop>, course_id: String, on: bool) -> Answer<()> {
    let engine = engine(&desktop).await;
    engine
        .set_bookmark(BookmarkEntity::Course, id(&course_id)?, on)
        .await?;
    Ok(())
}

/// The learner's courses with progress (unsynced completions included), certificates and
/// bookmarks, from cached rows.
#[tauri::command]
pub async fn my_learning(desktop: State<'_, Desktop>) -> Answer<MyLearningPage> {
    let engine = engine(&desktop).await;
    let user = user(&engine).await?;
    let enrollments: Vec<Value> = own(
        lock(engine.cache()).all_rows(SyncTable::Enrollments)?,
        &user,
    )
    .collect();
    let mut items = Vec::with_capacity(enrollments.len());
    for e in enrollments {
        let course_id = text(&e, "course_id");
        let done = completed_lessons(&engine, &user, &course_id)?;
        let cache = lock(engine.cache());
        let title = cache
            .row(SyncTable::Courses, id(&course_id)?)?
            .map(|c| text(&c, "title"))
            .unwrap_or_default();
        let lessons: Vec<String> = cache
            .syllabus(&course_id)?
            .iter()
            .flat_map(|m| m.lessons.iter().map(|l| text(&l.lesson, "id")))
            .collect();
        let lessons_done = lessons.iter().filter(|l| done.contains(*l)).count();
        items.push(LearningItem {
            course_id,
            title,
            status: text(&e, "status"),
            lessons_done: i32::try_from(lessons_done).unwrap_or(i32::MAX),
            lessons_total: i32::try_from(lessons.len()).unwrap_or(i32::MAX),
            progress_percentage: percent(lessons_done, lessons.len()),
        });
    }
    items.sort_by(|a, b| a.title.cmp(&b.title));
    let cache = lock(engine.cache());
    let title_of = |table: SyncTable, entity: &str| -> Answer<String> {
        Ok(match entity.parse() {
            Ok(eid) => cache
                .row(table, eid)?
                .map(|r| match opt_text(&r, "title") {
                    Some(t) => t,
                    None => text(&r, "name"),
                })
                .unwrap_or_default(),
            Err(_) => String::new(),
        })
    };
    let mut certificates = Vec::new();
    for c in own(cache.all_rows(SyncTable::Certificates)?, &user) {
        let course_id = text(&c, "course_id");
        certificates.push(CertificateItem {
            id: text(&c, "id"),
            course_title: title_of(SyncTable::Courses, &course_id)?,
            course_id,
            certificate_number: text(&c, "certificate_number"),
            issued_at: text(&c, "issued_at"),
            is_valid: c["is_valid"].as_bool().unwrap_or(true),
            has_credential: c["credential"].is_string(),
        });
    }
    certificates.sort_by(|a, b| b.issued_at.cmp(&a.issued_at));
    let mut bookmarks = Vec::new();
    for b in own(cache.all_rows(SyncTable::UserBookmarks)?, &user) {
        let entity_type = text(&b, "entity_type");
        let entity_id = text(&b, "entity_id");
        let table = match entity_type.as_str() {
            "course" => Some(SyncTable::Courses),
            "lab" => Some(SyncTable::Labs),
            "service" => Some(SyncTable::Services),
            _ => None,
        };
        let title = match table {
            Some(t) => title_of(t, &entity_id)?,
            None => String::new(),
        };
        bookmarks.push(BookmarkItem {
            entity_type,
            entity_id,
            title,
        });
    }
    bookmarks.sort_by(|a, b| a.title.cmp(&b.title));
    Ok(MyLearningPage {
        courses: items,
        certificates,
        bookmarks,
    })
}

/// Downloads a lesson's media for offline study (resuming a partial download), sending
/// `download-progress` events as bytes arrive.
#[tauri::command]
pub async fn download_lesson_media(
    app: AppHandle,
    desktop: State<'_, Desktop>,
    lesson_id: String,
) -> Answer<DownloadRecord> {
    let (engine, dir) = {
        let device = desktop.device.lock().await;
        (Arc::clone(&device.engine), device.media_dir())
    };
    let url = lock(engine.cache())
        .row(SyncTable::CourseLessons, id(&lesson_id)?)?
        .and_then(|l| opt_text(&l, "content_url"))
        .ok_or_else(|| CommandError::new("no_media", "This lesson has nothing to download."))?;
    let mut last_sent = 0u64;
    let record = engine
        .download(&url, Some(&lesson_id), &dir, |p| {
            // A progress bar needs a few hundred updates at most, not one per network chunk.
            if p.done - last_sent >= 64 * 1024 || Some(p.done) == p.total || p.done == 0 {
                last_sent = p.done;
                let _ = app.emit(
                    DOWNLOAD_PROGRESS_EVENT,
                    LessonDownload {
                        lesson_id: lesson_id.clone(),
                        done: p.done,
                        total: p.total,
                    },
                );
            }
        })
        .await?;
    // The rest of what the lesson shows (the video's poster and captions, the pictures of its
    // text: the same list a whole-course download takes) comes with it, so the lesson looks
    // the same offline. They are small; one that fails to arrive is left out.
    let row = lock(engine.cache()).row(SyncTable::CourseLessons, id(&lesson_id)?)?;
    let extras = row.as_ref().map(lesson_files).unwrap_or_default();
    for extra in extras.iter().filter(|u| **u != url) {
        if let Err(e) = engine.download(extra, Some(&lesson_id), &dir, |_| {}).await {
            tracing::warn!(lesson = %lesson_id, url = %extra, error = %e, "a file the lesson shows did not download");
        }
    }
    Ok(record)
}

/// The learner's choices on this computer (player speed, captions, theme).
#[tauri::command]
#[allow(
    clippy::needless_pass_by_value,
    reason = "Tauri hands commands their arguments by value"
)]
pub fn preferences(desktop: State<'_, Desktop>) -> Preferences {
    Preferences::load(&desktop.config.data_root)
}

/// Keeps the learner's choices on this computer. A new language also goes to the signed-in
/// learner's profile (through the outbox, so offline too), for the server to write to them in
/// it; turning on "keep the next lessons downloaded" starts the offline queue.
#[tauri::command]
pub async fn set_preferences(
    app: AppHandle,
    desktop: State<'_, Desktop>,
    queue: State<'_, crate::offline_queue::OfflineQueue>,
    preferences: Preferences,
) -> Answer<()> {
    let before = Preferences::load(&desktop.config.data_root);
    preferences.save(&desktop.config.data_root)?;
    if before.language != preferences.language {
        let language = preferences
            .language
            .clone()
            .or_else(crate::preferences::system_locale)
            .unwrap_or_else(|| "en".to_owned());
        match engine(&desktop).await.set_profile_language(&language).await {
            Ok(()) | Err(SyncError::SignedOut) => {}
            Err(e) => return Err(e.into()),
        }
    }
    if before.keep_next_lessons != preferences.keep_next_lessons {
        queue.restart(&app);
    }
    Ok(())
}

/// The course a link in a lesson, quiz or lab names by its package's folder
/// (`../../git-basics/`), which is the course's slug: its id, when this device knows the
/// course (none: the window says so).
#[tauri::command]
pub async fn course_by_slug(desktop: State<'_, Desktop>, slug: String) -> Answer<Option<String>> {
    let engine = engine(&desktop).await;
    Ok(lock(engine.cache()).course_by_slug(&slug)?)
}

/// The largest caption file a streamed video shows (they are a few KiB of text).
const MAX_STREAMED_CAPTION_BYTES: usize = 1024 * 1024;

/// What a lesson shows that is not downloaded — a streamed video's poster and captions, the
/// pictures of its text — fetched from the server now and kept nowhere: asked for after the
/// lesson shows, so an offline lesson never waits on the network. What cannot be fetched is
/// left out.
#[tauri::command]
pub async fn streamed_extras(
    desktop: State<'_, Desktop>,
    lesson_id: String,
) -> Answer<StreamedExtras> {
    let engine = engine(&desktop).await;
    let row = lock(engine.cache())
        .row(SyncTable::CourseLessons, id(&lesson_id)?)?
        .ok_or_else(|| CommandError::new("not_found", "This lesson is not on this device."))?;
    let fetch = |url: String| {
        let engine = Arc::clone(&engine);
        async move {
            let answer = engine.stream_media(&url, None).await.ok()?;
            if !answer.status().is_success() {
                return None;
            }
            answer.bytes().await.ok()
        }
    };
    let mut extras = StreamedExtras::default();
    let video_here = match opt_text(&row, "content_url") {
        Some(url) => lock(engine.cache())
            .download(&url)?
            .is_some_and(|d| d.state == DownloadState::Complete),
        None => true,
    };
    if let Some(url) = opt_text(&row, "poster_url").filter(|_| !video_here) {
        let extension = url.rsplit('.').next().unwrap_or_default().to_owned();
        if let Some(bytes) = fetch(url).await {
            extras.poster_url = crate::local_media::picture_bytes_data_url(&bytes, &extension);
        }
    }
    // Pictures of the lesson's text not downloaded with the course, as data: URLs.
    let body = opt_text(&row, "content_body").unwrap_or_default();
    for url in skilltrack_client::course_downloads::markdown_images(&body) {
        let here = lock(engine.cache())
            .download(&url)?
            .is_some_and(|d| d.state == DownloadState::Complete);
        if here || !(url.starts_with('/') || url.starts_with("http")) {
            continue;
        }
        let extension = url.rsplit('.').next().unwrap_or_default().to_owned();
        if let Some(bytes) = fetch(url.clone()).await {
            if let Some(data) = crate::local_media::picture_bytes_data_url(&bytes, &extension) {
                extras.pictures.push(StreamedPicture {
                    url,
                    data_url: data,
                });
            }
        }
    }
    for (language, url) in lesson_captions(&row).into_iter().filter(|_| !video_here) {
        if let Some(bytes) = fetch(url).await {
            if bytes.len() <= MAX_STREAMED_CAPTION_BYTES {
                if let Ok(webvtt) = String::from_utf8(bytes.to_vec()) {
                    extras.captions.push(CaptionTrack { language, webvtt });
                }
            }
        }
    }
    Ok(extras)
}

/// A lesson's caption tracks, `(language, url)`, as its synced row names them.
fn lesson_captions(row: &serde_json::Value) -> Vec<(String, String)> {
    row["captions"]
        .as_array()
        .map(|tracks| {
            tracks
                .iter()
                .filter_map(|t| {
                    Some((
                        t["language"].as_str()?.to_owned(),
                        t["url"].as_str()?.to_owned(),
                    ))
                })
                .collect()
        })
        .unwrap_or_default()
}

/// The settings screen: server, account, storage used, refused writes.
#[tauri::command]
pub async fn settings(app: AppHandle, desktop: State<'_, Desktop>) -> Answer<SettingsPage> {
    let device = desktop.device.lock().await;
    let cache = lock(device.engine.cache());
    Ok(SettingsPage {
        server: device.server.clone(),
        account: device.kept_account(),
        data_dir: device.data_dir().display().to_string(),
        storage_bytes: cache.download_bytes()?,
        downloads: cache.downloads()?,
        rejections: cache.rejections()?,
        log_file: crate::logging::current_file().map(|f| f.display().to_string()),
        app_version: app.package_info().version.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::video_share;

    #[test]
    fn a_video_position_is_kept_as_a_share_below_completion() {
        assert_eq!(video_share(30.0, 60.0), Some(50));
        assert_eq!(video_share(59.9, 60.0), Some(99));
        // The end of the video is not completion: the learner marks the lesson complete.
        assert_eq!(video_share(60.0, 60.0), Some(99));
        assert_eq!(video_share(0.0, 60.0), Some(0));
        assert_eq!(video_share(-1.0, 60.0), None);
        assert_eq!(video_share(10.0, 0.0), None);
        assert_eq!(video_share(f64::NAN, 60.0), None);
    }
}
