//! Offline sync: pulling changed rows into a device's cache, pushing its queued writes, and the
//! live channel that says "pull now".
//!
//! **Pull** (`GET /api/v1/sync/pull?cursor=…&limit=…`) answers a [`PullPage`]: the current
//! version of every row the caller may see that changed after the cursor, or a tombstone for a
//! row deleted or no longer visible to them. Apply a page and store its `cursor` in one local
//! transaction; pull again at once while `has_more`. With no cursor the server starts a
//! snapshot of everything the caller may see. A cursor the server can no longer serve (older
//! than its log's compaction horizon) is answered with the first page of a fresh snapshot and
//! `reset: true`: drop every synced row, then apply the page.
//!
//! **Push** (`POST /api/v1/sync/push`) sends a [`PushRequest`] of up to
//! [`MAX_PUSH_MUTATIONS`] queued writes, each with a client-made UUIDv7 id; the answer has one
//! [`MutationResult`] per mutation, in order. A retried mutation changes nothing the second
//! time and is answered `duplicate` (or with the same rejection).
//!
//! **Live** (`GET /api/v1/sync/live`, Server-Sent Events) sends a `pull` event with a
//! [`LiveSignal`] whenever something the caller may care about changed.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use ts_rs::TS;
use uuid::Uuid;

use crate::engagement::BookmarkEntity;

/// The most mutations one push may carry: 500 progress, bookmark or enrollment mutations are
/// about 100 KB and well inside the 30 s request timeout. The request body limit (1 MiB by
/// default) still applies: a client fills a batch up to 500 mutations *or* about 512 KB of
/// JSON, whichever comes first (a review may carry 10,000 characters, up to 40 KB).
pub const MAX_PUSH_MUTATIONS: usize = 500;

/// Rows per pull page when the client does not say.
pub const DEFAULT_PULL_LIMIT: u32 = 1000;

/// The most rows a pull page may hold.
pub const MAX_PULL_LIMIT: u32 = 5000;

/// Roughly the most row data one pull page carries, in bytes of JSON: a page ends early (with
/// `has_more`) rather than grow past it, whatever `limit` says. A single row larger than this
/// still travels, alone.
pub const MAX_PULL_PAGE_BYTES: usize = 4 << 20;

/// A table the sync feed carries. Rows travel as JSON objects with the table's columns (see
/// [`RowChange::row`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum SyncTable {
    /// `services`.
    Services,
    /// `lab_categories`.
    LabCategories,
    /// `course_tags`.
    CourseTags,
    /// `courses`.
    Courses,
    /// `course_modules`.
    CourseModules,
    /// `course_lessons` (enrolled learners, the course's instructor, admins).
    CourseLessons,
    /// `course_tag_relationships`.
    CourseTagRelationships,
    /// `course_prerequisites`.
    CoursePrerequisites,
    /// `labs`.
    Labs,
    /// `lab_prerequisites`.
    LabPrerequisites,
    /// `assessments`.
    Assessments,
    /// `assessment_questions`, always as a learner sees them: never `correct_answer`, never
    /// `explanation` (whoever pulls).
    AssessmentQuestions,
    /// `course_reviews`.
    CourseReviews,
    /// `lab_reviews`.
    LabReviews,
    /// The caller's own profile.
    Profiles,
    /// The caller's enrollments.
    Enrollments,
    /// The caller's lesson progress.
    UserProgress,
    /// The caller's bookmarks.
    UserBookmarks,
    /// The caller's notifications.
    Notifications,
    /// The caller's certificates.
    Certificates,
    /// The caller's assessment attempts.
    UserAssessmentAttempts,
    /// The caller's answers.
    UserAssessmentAnswers,
}

impl SyncTable {
    /// Every synced table, parents before children (the order of a snapshot).
    pub const ALL: [Self; 22] = [
        Self::Services,
        Self::LabCategories,
        Self::CourseTags,
        Self::Courses,
        Self::CourseModules,
        Self::CourseLessons,
        Self::CourseTagRelationships,
        Self::CoursePrerequisites,
        Self::Labs,
        Self::LabPrerequisites,
        Self::Assessments,
        Self::AssessmentQuestions,
        Self::CourseReviews,
        Self::LabReviews,
        Self::Profiles,
        Self::Enrollments,
        Self::UserProgress,
        Self::UserBookmarks,
        Self::Notifications,
        Self::Certificates,
        Self::UserAssessmentAttempts,
        Self::UserAssessmentAnswers,
    ];

    /// The PostgreSQL table's name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Services => "services",
            Self::LabCategories => "lab_categories",
            Self::CourseTags => "course_tags",
            Self::Courses => "courses",
            Self::CourseModules => "course_modules",
            Self::CourseLessons => "course_lessons",
            Self::CourseTagRelationships => "course_tag_relationships",
            Self::CoursePrerequisites => "course_prerequisites",
            Self::Labs => "labs",
            Self::LabPrerequisites => "lab_prerequisites",
            Self::Assessments => "assessments",
            Self::AssessmentQuestions => "assessment_questions",
            Self::CourseReviews => "course_reviews",
            Self::LabReviews => "lab_reviews",
            Self::Profiles => "profiles",
            Self::Enrollments => "enrollments",
            Self::UserProgress => "user_progress",
            Self::UserBookmarks => "user_bookmarks",
            Self::Notifications => "notifications",
            Self::Certificates => "certificates",
            Self::UserAssessmentAttempts => "user_assessment_attempts",
            Self::UserAssessmentAnswers => "user_assessment_answers",
        }
    }

    /// The table named `name`, if it is synced.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.as_str() == name)
    }
}

/// Whether a change brings a row or takes it away.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum ChangeOp {
    /// Insert or replace the row with `row`.
    Upsert,
    /// A tombstone: delete the row if present (it was deleted, or the caller may no longer see
    /// it). Deleting a row one never had is a no-op.
    Delete,
}

/// One row of a pull page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[ts(export)]
pub struct RowChange {
    /// Its table.
    pub table: SyncTable,
    /// Its id (every synced table's primary key).
    pub id: Uuid,
    /// Upsert or delete.
    pub op: ChangeOp,
    /// For an upsert, the row as a JSON object of its columns, named as in the database
    /// (times RFC 3339; numeric money and ratings as strings, exact; enums as their database
    /// spelling). Absent for a delete.
    #[serde(default)]
    #[serde(skip_serializing_if = "Option::is_none")]
    // Absent, never null, when there is no row.
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    #[ts(
        optional,
        as = "Option<std::collections::HashMap<String, serde_json::Value>>"
    )]
    pub row: Option<RowData>,
}

/// A synced row's columns as the JSON text it travels as. Neither side builds a tree for a row
/// it only passes on or stores: the server sends the text PostgreSQL made, a device's cache
/// stores the text it received. [`RowData::to_value`] parses it where a field is needed.
///
/// Equality is of the text: the same row written with other spacing or key order is unequal.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(transparent)]
pub struct RowData(Box<serde_json::value::RawValue>);

impl RowData {
    /// A row from a JSON value (written compactly).
    pub fn from_value(value: &serde_json::Value) -> Self {
        // A `Value` always serializes, and always to valid JSON.
        Self(serde_json::value::to_raw_value(value).unwrap_or_else(|_| Self::null()))
    }

    fn null() -> Box<serde_json::value::RawValue> {
        serde_json::value::RawValue::NULL.to_owned()
    }

    /// The JSON text.
    pub fn as_json(&self) -> &str {
        self.0.get()
    }

    /// The row parsed.
    ///
    /// # Errors
    /// Never for a row received or made from a value (the text was checked or written as JSON).
    pub fn to_value(&self) -> Result<serde_json::Value, serde_json::Error> {
        serde_json::from_str(self.0.get())
    }
}

impl From<Box<serde_json::value::RawValue>> for RowData {
    fn from(raw: Box<serde_json::value::RawValue>) -> Self {
        Self(raw)
    }
}

impl PartialEq for RowData {
    fn eq(&self, other: &Self) -> bool {
        self.as_json() == other.as_json()
    }
}

/// `GET /api/v1/sync/pull`: one page of changes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[ts(export)]
pub struct PullPage {
    /// The changes, each row at most once per page.
    pub changes: Vec<RowChange>,
    /// Where the next pull starts: store it with the page, in the same local transaction. Opaque.
    pub cursor: String,
    /// More changes wait: pull again at once with `cursor`.
    pub has_more: bool,
    /// The cursor sent could not be served (it was older than the server's compaction horizon,
    /// or unknown): drop every synced row, then apply this page, the first of a new snapshot.
    pub reset: bool,
}

/// `POST /api/v1/sync/push`: queued offline writes, oldest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
#[ts(export)]
pub struct PushRequest {
    /// 1 to [`MAX_PUSH_MUTATIONS`] mutations, applied in order.
    #[cfg_attr(feature = "openapi", schema(min_items = 1, max_items = 500))]
    pub mutations: Vec<Mutation>,
}

/// One offline write.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
#[ts(export)]
pub struct Mutation {
    /// Made by the client when the write happened (UUIDv7): the same id is never applied twice.
    pub id: Uuid,
    /// When the write happened, by the client's clock (orders last-writer-wins kinds).
    pub at: DateTime<Utc>,
    /// What was done.
    pub change: MutationKind,
}

/// What an offline write did. The merge rule of each kind is the server's: see each variant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "kind", rename_all = "snake_case")]
#[serde(deny_unknown_fields)]
#[ts(export)]
pub enum MutationKind {
    /// Progress in a lesson: the percentage only goes up, completion sticks, minutes add up.
    LessonProgress {
        /// The lesson.
        lesson_id: Uuid,
        /// How far, 0–100.
        #[serde(default)]
        progress_percentage: Option<i32>,
        /// Minutes spent since the last update, 0–1440.
        #[serde(default)]
        add_minutes: Option<i32>,
        /// The lesson is done.
        #[serde(default)]
        completed: bool,
    },
    /// Write or rewrite one's review of a course (last writer wins, by `at`).
    CourseReviewPut {
        /// The course.
        course_id: Uuid,
        /// Stars, 1–5.
        rating: i32,
        /// Words, at most 10,000 characters.
        #[serde(default)]
        review_text: Option<String>,
    },
    /// Delete one's review of a course (last writer wins, by `at`).
    CourseReviewDelete {
        /// The course.
        course_id: Uuid,
    },
    /// Write or rewrite one's review of a lab (last writer wins, by `at`).
    LabReviewPut {
        /// The lab.
        lab_id: Uuid,
        /// Stars, 1–5.
        rating: i32,
        /// Words, at most 10,000 characters.
        #[serde(default)]
        review_text: Option<String>,
        /// How hard, 1–5.
        #[serde(default)]
        difficulty_rating: Option<i32>,
        /// How accurate the announced duration was, 1–5.
        #[serde(default)]
        time_accuracy_rating: Option<i32>,
    },
    /// Delete one's review of a lab (last writer wins, by `at`).
    LabReviewDelete {
        /// The lab.
        lab_id: Uuid,
    },
    /// Bookmark a course, lab or service (an add/remove set: the later `at` wins, so a stale
    /// add never brings back a bookmark removed later).
    BookmarkAdd {
        /// What kind of thing.
        entity_type: BookmarkEntity,
        /// Its id.
        entity_id: Uuid,
    },
    /// Remove a bookmark (see [`MutationKind::BookmarkAdd`]).
    BookmarkRemove {
        /// What kind of thing.
        entity_type: BookmarkEntity,
        /// Its id.
        entity_id: Uuid,
    },
    /// Mark a notification read (idempotent).
    NotificationRead {
        /// The notification.
        notification_id: Uuid,
    },
    /// Enroll in a course. The server decides, by the same rules as the online route (payment,
    /// prerequisites, seats, dates); a refusal is a rejection with the rule's code.
    Enroll {
        /// The course.
        course_id: Uuid,
    },
    /// Leave a course (progress is kept).
    CancelEnrollment {
        /// The course.
        course_id: Uuid,
    },
    /// Submit an untimed assessment taken offline (or a timed one started online): the server
    /// creates the attempt if it has never seen it (counted against `max_attempts`), saves the
    /// answers, and grades it — once, by `attempt_id` (append-only, server-graded). A refusal
    /// carries the rule's code (`no_attempts_left`, `timed_attempt_must_start_online`, …).
    AssessmentSubmit {
        /// The attempt (the client's id).
        attempt_id: Uuid,
        /// The assessment.
        assessment_id: Uuid,
        /// At most one answer per question.
        #[serde(default)]
        answers: Vec<crate::assessments::AnswerEntry>,
    },
    /// The language the learner chose in the app (a BCP 47 tag, as `PATCH /api/v1/me` takes
    /// it): the server writes its notifications and mails to them in it. Last writer wins, by
    /// `at`.
    ProfileLanguage {
        /// A BCP 47 language tag, e.g. `fr`, `en-GB`.
        language: String,
    },
}

impl MutationKind {
    /// The kind's wire name, recorded with the mutation id.
    pub fn name(&self) -> &'static str {
        match self {
            Self::LessonProgress { .. } => "lesson_progress",
            Self::CourseReviewPut { .. } => "course_review_put",
            Self::CourseReviewDelete { .. } => "course_review_delete",
            Self::LabReviewPut { .. } => "lab_review_put",
            Self::LabReviewDelete { .. } => "lab_review_delete",
            Self::BookmarkAdd { .. } => "bookmark_add",
            Self::BookmarkRemove { .. } => "bookmark_remove",
            Self::NotificationRead { .. } => "notification_read",
            Self::Enroll { .. } => "enroll",
            Self::CancelEnrollment { .. } => "cancel_enrollment",
            Self::AssessmentSubmit { .. } => "assessment_submit",
            Self::ProfileLanguage { .. } => "profile_language",
        }
    }
}

/// What became of one mutation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "status", rename_all = "snake_case")]
#[ts(export)]
pub enum MutationOutcome {
    /// Applied now (for last-writer-wins kinds: possibly superseded by a later write, which is
    /// also an answer: the newer state wins and this one is done).
    Applied,
    /// Applied by an earlier push: nothing changed this time.
    Duplicate,
    /// Refused for good: show it to the user and drop it from the queue. A retry gets the same
    /// answer.
    Rejected {
        /// Stable machine-readable reason (`not_found`, `forbidden`, `validation_failed`,
        /// `payment_required`, `course_full`, …).
        code: String,
        /// A sentence for people.
        reason: String,
    },
}

/// The answer for one mutation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[ts(export)]
pub struct MutationResult {
    /// The mutation's id.
    pub id: Uuid,
    /// What became of it.
    pub outcome: MutationOutcome,
}

/// `POST /api/v1/sync/push`: one answer per mutation, in the order sent. Every mutation has an
/// answer once this arrives: delete the outbox rows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[ts(export)]
pub struct PushResponse {
    /// The answers.
    pub results: Vec<MutationResult>,
}

/// Which part of the caller's data changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum LiveScope {
    /// Shared rows (the catalog, reviews) changed.
    Catalog,
    /// The caller's own rows changed (maybe from another of their devices).
    Mine,
    /// The server may have missed changes (its database connection was lost): pull.
    Everything,
}

/// The data of a `pull` event on the live channel: pull now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[ts(export)]
pub struct LiveSignal {
    /// What changed.
    pub scope: LiveScope,
    /// Pull after this many milliseconds, not at once. A change told to many devices at the
    /// same moment (the catalog's) has their pulls spread over a short window, each device at
    /// its own point of it, instead of all of them reaching the server in the same instant.
    /// Absent: pull now.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(nullable = false))]
    #[ts(optional)]
    pub pull_after_ms: Option<u32>,
}
