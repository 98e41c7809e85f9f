//! What the commands answer: the screens' data, shaped from cached rows here so the front end
//! reads typed fields. Exported to `ui/src/bindings/` with ts-rs; never retyped in TypeScript.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use skilltrack_client::cache::{DownloadRecord, Rejection};
use skilltrack_client::sync::SyncStatus;
use skilltrack_protocol::credentials::CredentialVerdict;
use ts_rs::TS;

use crate::error::CommandError;

pub mod instructor;
pub mod labs;
pub mod package_preview;

pub mod quiz;

use self::quiz::AssessmentItem;

/// The signed-in account.
#[derive(Debug, Clone, Serialize, TS)]
#[ts(export)]
pub struct Account {
    /// The user's id.
    pub id: String,
    /// E-mail address.
    pub email: String,
    /// Display name.
    pub full_name: Option<String>,
    /// `learner`, `instructor` or `admin`.
    pub role: String,
}

/// What the app needs at start: where it syncs, who is signed in, how sync is doing.
#[derive(Debug, Clone, Serialize, TS)]
#[ts(export)]
pub struct LaunchState {
    /// The server's URL.
    pub server: String,
    /// The signed-in account, if any (known offline from the kept session).
    pub account: Option<Account>,
    /// Sync status now.
    pub status: SyncStatus,
    /// The server named at start (`SKILLTRACK_SERVER` or the saved choice) when it was refused
    /// (`insecure_server`: plain `http://` to another computer), and why; the app then started
    /// on [`crate::DEFAULT_SERVER`] instead.
    pub server_refused: Option<CommandError>,
    /// The operating system's language (`LC_ALL`, `LC_MESSAGES`, `LANG`) as a BCP 47 tag: the
    /// app's words follow it unless the learner chose a language in Settings.
    pub system_locale: Option<String>,
}

/// How to narrow the catalog.
#[derive(Debug, Clone, Default, Deserialize, TS)]
#[ts(export)]
pub struct CatalogQuery {
    /// Words to search for (offline full-text search).
    pub text: Option<String>,
    /// `Beginner`, `Intermediate` or `Advanced`.
    pub level: Option<String>,
    /// Only free courses.
    pub free_only: bool,
    /// How many cards, best first (the screen shows a page and asks for more; the cache's
    /// default when absent, at most 500).
    pub limit: Option<u32>,
}

/// A course in the catalog.
#[derive(Debug, Clone, Serialize, TS)]
#[ts(export)]
pub struct CourseCard {
    /// Id.
    pub id: String,
    /// URL name.
    pub slug: String,
    /// Title.
    pub title: String,
    /// One line about it.
    pub summary: String,
    /// Difficulty.
    pub level: String,
    /// How long, in words (e.g. `6 weeks`).
    pub duration: String,
    /// Price, exact decimal text (`0.00` when free).
    pub price: String,
    /// Costs nothing.
    pub is_free: bool,
    /// Average rating, exact decimal text.
    pub rating: String,
    /// Tags.
    pub tags: Vec<String>,
}

/// A lesson in a syllabus.
#[derive(Debug, Clone, Serialize, TS)]
#[ts(export)]
pub struct LessonItem {
    /// Id.
    pub id: String,
    /// Title.
    pub title: String,
    /// `text`, `video`, `quiz`, `lab` or `assignment`.
    pub content_type: String,
    /// Minutes, if known.
    pub duration_minutes: Option<i32>,
    /// The learner completed it.
    pub completed: bool,
    /// Not published: only the course's managers have it (a preview marks it; learners never
    /// see it).
    pub draft: bool,
    /// Its name in the course's package (its file name without the order prefix and `.md`),
    /// by which a link in another lesson's text leads to it; none for a lesson made through
    /// the API and never pulled.
    pub slug: Option<String>,
}

/// A module of a course.
#[derive(Debug, Clone, Serialize, TS)]
#[ts(export)]
pub struct ModuleItem {
    /// Id.
    pub id: String,
    /// Title.
    pub title: String,
    /// Its lessons the learner may study (none when not enrolled).
    pub lessons: Vec<LessonItem>,
    /// Not published (see [`LessonItem::draft`]).
    pub draft: bool,
    /// Its name in the course's package (its folder without the order prefix); see
    /// [`LessonItem::slug`].
    pub slug: Option<String>,
}

/// A course's page.
#[derive(Debug, Clone, Serialize, TS)]
#[ts(export)]
pub struct CourseScreen {
    /// The card fields.
    pub card: CourseCard,
    /// The full description.
    pub description: String,
    /// What the learner will be able to do.
    pub objectives: Vec<String>,
    /// Modules in order.
    pub modules: Vec<ModuleItem>,
    /// The learner is enrolled.
    pub enrolled: bool,
    /// The learner bookmarked it.
    pub bookmarked: bool,
    /// Share of its lessons completed, 0–100.
    pub progress_percentage: i32,
    /// Courses to complete before enrolling, and whether the learner has.
    pub prerequisites: Vec<PrerequisiteItem>,
    /// Its published quizzes, assignments and exams (enrolled learners).
    pub assessments: Vec<AssessmentItem>,
    /// Learners' reviews, newest first (the learner's own included).
    pub reviews: Vec<ReviewItem>,
    /// The learner's own review, if written.
    pub my_review: Option<ReviewItem>,
}

/// A course to complete before enrolling in another.
#[derive(Debug, Clone, Serialize, TS)]
#[ts(export)]
pub struct PrerequisiteItem {
    /// The course.
    pub course_id: String,
    /// Its title (empty if it is not on this device).
    pub title: String,
    /// The learner has completed it.
    pub completed: bool,
}

/// A review of a course.
#[derive(Debug, Clone, Serialize, TS)]
#[ts(export)]
pub struct ReviewItem {
    /// Id.
    pub id: String,
    /// Stars, 1–5.
    pub rating: i32,
    /// Words.
    pub review_text: Option<String>,
    /// Written by the signed-in learner.
    pub mine: bool,
    /// The reviewer had paid or enrolled.
    pub verified: bool,
    /// Learners who found it helpful.
    pub helpful_votes: i32,
    /// Last written, RFC 3339.
    pub written_at: String,
}

/// A notification.
#[derive(Debug, Clone, Serialize, TS)]
#[ts(export)]
pub struct NotificationItem {
    /// Id.
    pub id: String,
    /// Headline.
    pub title: String,
    /// Words.
    pub message: String,
    /// What it is about (`course`, `certificate`, `assessment`, …).
    pub entity_type: Option<String>,
    /// Its id.
    pub entity_id: Option<String>,
    /// Sent, RFC 3339.
    pub created_at: String,
    /// Read (here, even before the server knows).
    pub read: bool,
}

/// The notifications screen.
#[derive(Debug, Clone, Serialize, TS)]
#[ts(export)]
pub struct NotificationsPage {
    /// Newest first.
    pub items: Vec<NotificationItem>,
    /// How many are unread.
    pub unread: i32,
}

/// A certificate the learner earned.
#[derive(Debug, Clone, Serialize, TS)]
#[ts(export)]
pub struct CertificateItem {
    /// Id.
    pub id: String,
    /// The course.
    pub course_id: String,
    /// Its title.
    pub course_title: String,
    /// The number anyone can verify.
    pub certificate_number: String,
    /// Issued, RFC 3339.
    pub issued_at: String,
    /// Not revoked.
    pub is_valid: bool,
    /// Its signed credential is on this device, so it can be saved (JSON, PDF, PNG badge) and
    /// verified offline.
    pub has_credential: bool,
}

/// What verifying a certificate on this device concluded: offline, from the issuer's keys and
/// revocation list cached after the last sync.
#[derive(Debug, Clone, Serialize, TS)]
#[ts(export)]
pub struct CertificateCheck {
    /// The verdict.
    pub verdict: CredentialVerdict,
    /// The verdict in words.
    pub explanation: String,
    /// Why.
    pub detail: String,
    /// When the revocation list used was issued, RFC 3339.
    pub status_issued_at: Option<String>,
    /// How old that list is, in words ("3 hours").
    pub status_age: Option<String>,
    /// When the issuer's keys and lists were fetched, RFC 3339.
    pub keys_fetched_at: Option<String>,
    /// How long ago, in words.
    pub keys_fetched_ago: Option<String>,
}

/// Something the learner bookmarked.
#[derive(Debug, Clone, Serialize, TS)]
#[ts(export)]
pub struct BookmarkItem {
    /// `course`, `lab` or `service`.
    pub entity_type: String,
    /// Its id.
    pub entity_id: String,
    /// Its title (empty if it is not on this device).
    pub title: String,
}

/// The "my learning" screen.
#[derive(Debug, Clone, Serialize, TS)]
#[ts(export)]
pub struct MyLearningPage {
    /// Enrolled courses with progress.
    pub courses: Vec<LearningItem>,
    /// Certificates earned.
    pub certificates: Vec<CertificateItem>,
    /// Bookmarks.
    pub bookmarks: Vec<BookmarkItem>,
}

/// A lesson to study.
#[derive(Debug, Clone, Serialize, TS)]
#[ts(export)]
pub struct LessonPage {
    /// The syllabus fields.
    pub item: LessonItem,
    /// Its course.
    pub course_id: String,
    /// What it is about.
    pub description: Option<String>,
    /// Markdown, for text lessons.
    pub content_body: Option<String>,
    /// Its media (a video), on the server.
    pub content_url: Option<String>,
    /// The media downloaded for offline, if it is.
    pub download: Option<DownloadRecord>,
    /// A URL the window plays the video from as it is, with no download: streamed from the
    /// server through the app's loopback media server while it is not downloaded, or a
    /// package preview's local file.
    pub video_url: Option<String>,
    /// Whether `video_url` streams from the server (the video is not downloaded), so it plays
    /// only online.
    pub streamed: bool,
    /// The video's poster, as a URL the window can load (a package preview's local file).
    pub poster_url: Option<String>,
    /// The video's captions, in the order of their languages, with their text: the window
    /// plays them from memory (a `blob:` URL of its own origin, which a `<track>` needs).
    pub captions: Vec<CaptionTrack>,
    /// A quiz or assignment lesson's assessment, when known (a package preview knows it; the
    /// cache does not link lessons to assessments).
    pub assessment_id: Option<String>,
    /// A lab lesson's lab, when known (a package preview).
    pub lab_id: Option<String>,
    /// How far the learner got, 0–100 (synced from any device; a video resumes at this share
    /// of its length).
    pub progress_percentage: i32,
}

/// A video's captions in one language.
#[derive(Debug, Clone, Serialize, TS)]
#[ts(export)]
pub struct CaptionTrack {
    /// A BCP 47 language tag (`en`, `pt-BR`).
    pub language: String,
    /// The WebVTT file's text.
    pub webvtt: String,
}

/// A course the learner is enrolled in.
#[derive(Debug, Clone, Serialize, TS)]
#[ts(export)]
pub struct LearningItem {
    /// The course.
    pub course_id: String,
    /// Its title.
    pub title: String,
    /// `active`, `completed` or `cancelled`.
    pub status: String,
    /// Lessons completed (here, including changes not yet synced).
    pub lessons_done: i32,
    /// Lessons in the course.
    pub lessons_total: i32,
    /// Share completed, 0–100.
    pub progress_percentage: i32,
}

/// The settings screen.
#[derive(Debug, Clone, Serialize, TS)]
#[ts(export)]
pub struct SettingsPage {
    /// The server's URL.
    pub server: String,
    /// The signed-in account.
    pub account: Option<Account>,
    /// Where this device keeps its data.
    pub data_dir: String,
    /// Bytes used by downloaded media.
    #[ts(type = "number")]
    pub storage_bytes: i64,
    /// Downloaded media.
    pub downloads: Vec<DownloadRecord>,
    /// Writes the server refused, with its reasons.
    pub rejections: Vec<Rejection>,
    /// The log file the app writes now (none when it could not make one).
    pub log_file: Option<String>,
    /// This app's version.
    pub app_version: String,
}

/// A streamed lesson's poster, captions and pictures, fetched online.
#[derive(Debug, Clone, Default, Serialize, TS)]
#[ts(export)]
pub struct StreamedExtras {
    /// The poster, as a `data:` URL.
    pub poster_url: Option<String>,
    /// The captions, in the order of their languages.
    pub captions: Vec<CaptionTrack>,
    /// The pictures of the lesson's text that are not downloaded.
    pub pictures: Vec<StreamedPicture>,
}

/// A picture of a lesson's text, fetched online.
#[derive(Debug, Clone, Serialize, TS)]
#[ts(export)]
pub struct StreamedPicture {
    /// Its URL, as the lesson's text names it.
    pub url: String,
    /// The picture, as a `data:` URL (the window's CSP takes pictures from `data:` only).
    pub data_url: String,
}

/// Progress of a lesson's media download, sent as the `download-progress` event.
#[derive(Debug, Clone, Serialize, TS)]
#[ts(export)]
pub struct LessonDownload {
    /// The lesson.
    pub lesson_id: String,
    /// Bytes on disk.
    #[ts(type = "number")]
    pub done: u64,
    /// Full size, if known.
    #[ts(type = "number | null")]
    pub total: Option<u64>,
}

/// A text field of a row, or empty.
pub(crate) fn text(row: &Value, field: &str) -> String {
    match &row[field] {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// A text field of a row, if set.
pub(crate) fn opt_text(row: &Value, field: &str) -> Option<String> {
    row[field].as_str().map(str::to_owned)
}

fn strings(row: &Value, field: &str) -> Vec<String> {
    row[field]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

impl CourseCard {
    /// The card of a cached `courses` row.
    pub fn from_row(row: &Value) -> Self {
        let price = match text(row, "price") {
            p if p.is_empty() => "0.00".to_owned(),
            p => p,
        };
        let description = text(row, "description");
        let summary = opt_text(row, "short_description")
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| first_sentence(&description));
        Self {
            id: text(row, "id"),
            slug: text(row, "slug"),
            title: text(row, "title"),
            summary,
            level: text(row, "level"),
            duration: text(row, "duration"),
            is_free: price.parse::<f64>().is_ok_and(|p| p == 0.0),
            price,
            rating: text(row, "rating"),
            tags: strings(row, "tags"),
        }
    }
}

impl CourseScreen {
    /// The objectives of a cached `courses` row.
    pub fn objectives_of(row: &Value) -> Vec<String> {
        strings(row, "objectives")
    }
}

pub(crate) fn first_sentence(text: &str) -> String {
    let end = text.find(". ").map_or(text.len(), |i| i + 1);
    text[..end].to_owned()
}

impl ReviewItem {
    /// The item of a cached `course_reviews` row.
    pub fn from_row(row: &Value, user: &str) -> Self {
        Self {
            id: text(row, "id"),
            rating: row["rating"]
                .as_i64()
                .and_then(|r| i32::try_from(r).ok())
                .unwrap_or(0),
            review_text: opt_text(row, "review_text").filter(|t| !t.is_empty()),
            mine: !user.is_empty() && text(row, "user_id") == user,
            verified: row["is_verified_purchase"].as_bool().unwrap_or(false),
            helpful_votes: row["helpful_votes"]
                .as_i64()
                .and_then(|r| i32::try_from(r).ok())
                .unwrap_or(0),
            written_at: opt_text(row, "updated_at").unwrap_or_else(|| text(row, "created_at")),
        }
    }
}

impl NotificationItem {
    /// The item of a cached `notifications` row.
    pub fn from_row(row: &Value) -> Self {
        Self {
            id: text(row, "id"),
            title: text(row, "title"),
            message: text(row, "message"),
            entity_type: opt_text(row, "entity_type"),
            entity_id: opt_text(row, "entity_id"),
            created_at: text(row, "created_at"),
            read: !row["read_at"].is_null() || row["notification_status"] == "read",
        }
    }
}

impl LessonItem {
    /// The item of a cached `course_lessons` row.
    pub fn from_row(row: &Value, completed: bool) -> Self {
        Self {
            id: text(row, "id"),
            title: text(row, "title"),
            content_type: text(row, "content_type"),
            duration_minutes: row["duration_minutes"]
                .as_i64()
                .and_then(|m| i32::try_from(m).ok()),
            completed,
            draft: is_draft(row),
            slug: opt_text(row, "package_slug"),
        }
    }
}

/// Whether a cached module or lesson row is unpublished. Learners' caches never hold one; a
/// row without the column counts as published.
pub fn is_draft(row: &Value) -> bool {
    row["is_published"] == Value::Bool(false)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_course_card_reads_exact_prices_and_falls_back_to_the_first_sentence() {
        let card = CourseCard::from_row(&json!({
            "id": "c1", "slug": "py", "title": "Python", "description": "Learn pandas. Then more.",
            "price": "0.00", "level": "Beginner", "rating": "4.50", "tags": ["pandas"]
        }));
        assert!(card.is_free);
        assert_eq!(card.summary, "Learn pandas.");
        assert_eq!(card.tags, ["pandas"]);
        let paid = CourseCard::from_row(&json!({"price": "89.00"}));
        assert!(!paid.is_free);
        assert_eq!(paid.price, "89.00");
    }
}
