//! Instructor authoring: what instructors (and admins) send to create and edit their courses,
//! modules, lessons and labs under `/api/v1/authoring`. Answers reuse the catalog's types
//! ([`crate::catalog::CourseDetail`], [`crate::catalog::ModuleOutline`],
//! [`crate::catalog::Lesson`], [`crate::catalog::LabDetail`]), so a draft looks exactly as a
//! learner will see it once published.
//!
//! Drafts (`…Draft`) create; patches (`…Patch`) change only the fields present (a patch is
//! only ever read, so it has no serializer: a client sends just the fields it changes). In a
//! patch, an optional field set to `null` is cleared (an empty string clears an optional text
//! field too); `null` for a required field changes nothing.
//! Derived columns (ratings, learner counts) and publication are never part of these bodies:
//! unknown fields are refused.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use ts_rs::TS;
use uuid::Uuid;

use crate::enums::DifficultyLevel;

/// An optional field of a patch whose `null` means "clear it": read as `Some(None)`, while an
/// absent field (left unchanged) stays `None`.
pub(crate) mod nullable {
    use serde::{Deserialize, Deserializer};

    #[allow(
        clippy::option_option,
        reason = "absent, null and a value are three different things in a patch"
    )]
    pub(crate) fn deserialize<'de, T, D>(d: D) -> Result<Option<Option<T>>, D::Error>
    where
        T: Deserialize<'de>,
        D: Deserializer<'de>,
    {
        Option::<T>::deserialize(d).map(Some)
    }
}

/// What a lesson is (`course_lessons.content_type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
#[ts(export)]
pub enum LessonContentType {
    /// A video: `content_url` points at it.
    Video,
    /// Reading: `content_body` holds the markdown.
    Text,
    /// A quiz.
    Quiz,
    /// A hands-on lab.
    Lab,
    /// An assignment.
    Assignment,
}

impl LessonContentType {
    /// The database's spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Video => "video",
            Self::Text => "text",
            Self::Quiz => "quiz",
            Self::Lab => "lab",
            Self::Assignment => "assignment",
        }
    }
}

impl std::fmt::Display for LessonContentType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for LessonContentType {
    type Err = UnknownContentType;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(match s {
            "video" => Self::Video,
            "text" => Self::Text,
            "quiz" => Self::Quiz,
            "lab" => Self::Lab,
            "assignment" => Self::Assignment,
            other => return Err(UnknownContentType(other.to_owned())),
        })
    }
}

/// A `content_type` that is not one of the five.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not a lesson content type (video, text, quiz, lab, assignment)")]
pub struct UnknownContentType(pub String);

/// `POST /api/v1/authoring/courses`: a new course, created as an unpublished draft of the
/// caller's.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
#[ts(export)]
pub struct CourseDraft {
    /// URL name: kebab-case (`intro-to-rust`), at most 100 characters, unique.
    #[cfg_attr(
        feature = "openapi",
        schema(max_length = 100, pattern = r"^[a-z0-9]+(-[a-z0-9]+)*$")
    )]
    pub slug: String,
    /// The service it belongs to.
    pub service_id: Uuid,
    /// 1 to 200 characters.
    #[cfg_attr(
        feature = "openapi",
        schema(min_length = 1, max_length = 200, pattern = r"\S")
    )]
    pub title: String,
    /// What it teaches: up to 10000 characters (required to publish).
    #[cfg_attr(feature = "openapi", schema(max_length = 10_000))]
    pub description: String,
    /// e.g. `6 weeks`: 1 to 100 characters.
    #[cfg_attr(
        feature = "openapi",
        schema(min_length = 1, max_length = 100, pattern = r"\S")
    )]
    pub duration: String,
    /// How demanding.
    pub level: DifficultyLevel,
    /// Price in USD, at most 2 decimals; `"0.00"` (the default) is free.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, example = "49.00"))]
    #[ts(optional, as = "Option<String>")]
    pub price: Decimal,
    /// Language (BCP 47); `en` by default.
    #[serde(default)]
    #[ts(optional)]
    #[cfg_attr(
        feature = "openapi",
        schema(
            max_length = 35,
            pattern = r"^[a-z]{2,3}(-[A-Z][a-z]{3})?(-([A-Z]{2}|[0-9]{3}))?$"
        )
    )]
    pub language: Option<String>,
    /// Picture: an http(s) URL or a `/media/…` path.
    #[serde(default)]
    #[ts(optional)]
    #[cfg_attr(
        feature = "openapi",
        schema(
            max_length = 2048,
            pattern = r"^(|https?://[^/?#\s\x00-\x1f\x7f-\x9f]+[^\s\x00-\x1f\x7f-\x9f]*|/media/[^/.\s\x00-\x1f\x7f-\x9f][^/\s\x00-\x1f\x7f-\x9f]*(/[^/.\s\x00-\x1f\x7f-\x9f][^/\s\x00-\x1f\x7f-\x9f]*)*|/labs/[a-z0-9-]+)$"
        )
    )]
    pub image_url: Option<String>,
    /// A trailer: an http(s) URL or a `/media/…` path.
    #[serde(default)]
    #[ts(optional)]
    #[cfg_attr(
        feature = "openapi",
        schema(
            max_length = 2048,
            pattern = r"^(|https?://[^/?#\s\x00-\x1f\x7f-\x9f]+[^\s\x00-\x1f\x7f-\x9f]*|/media/[^/.\s\x00-\x1f\x7f-\x9f][^/\s\x00-\x1f\x7f-\x9f]*(/[^/.\s\x00-\x1f\x7f-\x9f][^/\s\x00-\x1f\x7f-\x9f]*)*|/labs/[a-z0-9-]+)$"
        )
    )]
    pub preview_video_url: Option<String>,
    /// What it includes (up to 50 items of up to 500 characters).
    #[serde(default)]
    #[ts(optional, as = "Option<Vec<String>>")]
    #[cfg_attr(feature = "openapi", schema(max_items = 50))]
    pub features: Vec<String>,
    /// What a learner will be able to do (up to 50 items of up to 500 characters).
    #[serde(default)]
    #[ts(optional, as = "Option<Vec<String>>")]
    #[cfg_attr(feature = "openapi", schema(max_items = 50))]
    pub objectives: Vec<String>,
    /// Knowledge it assumes, as free text (up to 50 items of up to 500 characters). Courses to
    /// complete first are set with `PUT …/prerequisites`.
    #[serde(default)]
    #[ts(optional, as = "Option<Vec<String>>")]
    #[cfg_attr(feature = "openapi", schema(max_items = 50))]
    pub prerequisite_notes: Vec<String>,
    /// Subtitle languages (BCP 47).
    #[serde(default)]
    #[ts(optional, as = "Option<Vec<String>>")]
    #[cfg_attr(feature = "openapi", schema(max_items = 50))]
    pub subtitles: Vec<String>,
    /// Seats (more than 0); absent means unlimited.
    #[serde(default)]
    #[ts(optional)]
    #[cfg_attr(feature = "openapi", schema(minimum = 1))]
    pub max_students: Option<i32>,
    /// Starts.
    #[serde(default)]
    #[ts(optional)]
    pub start_date: Option<DateTime<Utc>>,
    /// Ends: not before `start_date`.
    #[serde(default)]
    #[ts(optional)]
    pub end_date: Option<DateTime<Utc>>,
    /// No enrollment after: not after `end_date`.
    #[serde(default)]
    #[ts(optional)]
    pub enrollment_deadline: Option<DateTime<Utc>>,
}

/// `PATCH /api/v1/authoring/courses/{id}`: absent fields stay; `null` clears an optional one.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
#[ts(export)]
pub struct CoursePatch {
    /// URL name: kebab-case, at most 100 characters, unique.
    #[serde(default)]
    #[ts(optional)]
    #[cfg_attr(
        feature = "openapi",
        schema(max_length = 100, pattern = r"^[a-z0-9]+(-[a-z0-9]+)*$")
    )]
    pub slug: Option<String>,
    /// The service it belongs to.
    #[serde(default)]
    #[ts(optional)]
    pub service_id: Option<Uuid>,
    /// 1 to 200 characters.
    #[serde(default)]
    #[ts(optional)]
    #[cfg_attr(
        feature = "openapi",
        schema(min_length = 1, max_length = 200, pattern = r"\S")
    )]
    pub title: Option<String>,
    /// Up to 10000 characters.
    #[serde(default)]
    #[ts(optional)]
    #[cfg_attr(feature = "openapi", schema(max_length = 10_000))]
    pub description: Option<String>,
    /// 1 to 100 characters.
    #[serde(default)]
    #[ts(optional)]
    #[cfg_attr(
        feature = "openapi",
        schema(min_length = 1, max_length = 100, pattern = r"\S")
    )]
    pub duration: Option<String>,
    /// How demanding.
    #[serde(default)]
    #[ts(optional)]
    pub level: Option<DifficultyLevel>,
    /// Price in USD, at most 2 decimals.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, example = "49.00"))]
    #[ts(optional, as = "Option<String>")]
    pub price: Option<Decimal>,
    /// Language (BCP 47).
    #[serde(default)]
    #[ts(optional)]
    #[cfg_attr(
        feature = "openapi",
        schema(
            max_length = 35,
            pattern = r"^[a-z]{2,3}(-[A-Z][a-z]{3})?(-([A-Z]{2}|[0-9]{3}))?$"
        )
    )]
    pub language: Option<String>,
    /// Picture; `null` or `""` removes it.
    #[serde(default, with = "nullable")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    #[ts(as = "Option<String>", optional = nullable)]
    #[cfg_attr(
        feature = "openapi",
        schema(
            max_length = 2048,
            pattern = r"^(|https?://[^/?#\s\x00-\x1f\x7f-\x9f]+[^\s\x00-\x1f\x7f-\x9f]*|/media/[^/.\s\x00-\x1f\x7f-\x9f][^/\s\x00-\x1f\x7f-\x9f]*(/[^/.\s\x00-\x1f\x7f-\x9f][^/\s\x00-\x1f\x7f-\x9f]*)*|/labs/[a-z0-9-]+)$"
        )
    )]
    pub image_url: Option<Option<String>>,
    /// A trailer; `null` or `""` removes it.
    #[serde(default, with = "nullable")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    #[ts(as = "Option<String>", optional = nullable)]
    #[cfg_attr(
        feature = "openapi",
        schema(
            max_length = 2048,
            pattern = r"^(|https?://[^/?#\s\x00-\x1f\x7f-\x9f]+[^\s\x00-\x1f\x7f-\x9f]*|/media/[^/.\s\x00-\x1f\x7f-\x9f][^/\s\x00-\x1f\x7f-\x9f]*(/[^/.\s\x00-\x1f\x7f-\x9f][^/\s\x00-\x1f\x7f-\x9f]*)*|/labs/[a-z0-9-]+)$"
        )
    )]
    pub preview_video_url: Option<Option<String>>,
    /// Replaces the list.
    #[serde(default)]
    #[ts(optional)]
    #[cfg_attr(feature = "openapi", schema(max_items = 50))]
    pub features: Option<Vec<String>>,
    /// Replaces the list.
    #[serde(default)]
    #[ts(optional)]
    #[cfg_attr(feature = "openapi", schema(max_items = 50))]
    pub objectives: Option<Vec<String>>,
    /// Replaces the list.
    #[serde(default)]
    #[ts(optional)]
    #[cfg_attr(feature = "openapi", schema(max_items = 50))]
    pub prerequisite_notes: Option<Vec<String>>,
    /// Replaces the list.
    #[serde(default)]
    #[ts(optional)]
    #[cfg_attr(feature = "openapi", schema(max_items = 50))]
    pub subtitles: Option<Vec<String>>,
    /// Seats; `null`: unlimited.
    #[serde(default, with = "nullable")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<i32>))]
    #[ts(as = "Option<i32>", optional = nullable)]
    #[cfg_attr(feature = "openapi", schema(minimum = 1))]
    pub max_students: Option<Option<i32>>,
    /// Starts; `null`: no start date.
    #[serde(default, with = "nullable")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<DateTime<Utc>>))]
    #[ts(as = "Option<DateTime<Utc>>", optional = nullable)]
    pub start_date: Option<Option<DateTime<Utc>>>,
    /// Ends; `null`: no end date.
    #[serde(default, with = "nullable")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<DateTime<Utc>>))]
    #[ts(as = "Option<DateTime<Utc>>", optional = nullable)]
    pub end_date: Option<Option<DateTime<Utc>>>,
    /// No enrollment after; `null`: no deadline.
    #[serde(default, with = "nullable")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<DateTime<Utc>>))]
    #[ts(as = "Option<DateTime<Utc>>", optional = nullable)]
    pub enrollment_deadline: Option<Option<DateTime<Utc>>>,
}

/// `POST /api/v1/authoring/courses/{id}/modules`: a new module at the end of the course (or at
/// `sort_order`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(
    feature = "openapi",
    schema(example = json!({"title": "Getting started", "description": "Open a terminal and find your way around.", "duration_minutes": 20, "is_published": true}))
)]
#[serde(deny_unknown_fields)]
#[ts(export)]
pub struct ModuleDraft {
    /// 1 to 200 characters.
    #[cfg_attr(
        feature = "openapi",
        schema(min_length = 1, max_length = 200, pattern = r"\S")
    )]
    pub title: String,
    /// Up to 10000 characters.
    #[serde(default)]
    #[ts(optional)]
    #[cfg_attr(feature = "openapi", schema(max_length = 10_000))]
    pub description: Option<String>,
    /// Minutes, 0 or more.
    #[serde(default)]
    #[ts(optional)]
    #[cfg_attr(feature = "openapi", schema(minimum = 0, maximum = 100_000))]
    pub duration_minutes: Option<i32>,
    /// Position in the course, 0 or more; after the last module by default.
    #[serde(default)]
    #[ts(optional)]
    #[cfg_attr(feature = "openapi", schema(minimum = 0, maximum = 100_000))]
    pub sort_order: Option<i32>,
    /// Visible to learners (of a published course); false by default.
    #[serde(default)]
    #[ts(optional, as = "Option<bool>")]
    pub is_published: bool,
}

/// `PATCH /api/v1/authoring/modules/{id}`: absent fields stay; `null` clears an optional one.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
#[ts(export)]
pub struct ModulePatch {
    /// 1 to 200 characters.
    #[serde(default)]
    #[ts(optional)]
    #[cfg_attr(
        feature = "openapi",
        schema(min_length = 1, max_length = 200, pattern = r"\S")
    )]
    pub title: Option<String>,
    /// Up to 10000 characters; `null` or `""` removes it.
    #[serde(default, with = "nullable")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    #[ts(as = "Option<String>", optional = nullable)]
    #[cfg_attr(feature = "openapi", schema(max_length = 10_000))]
    pub description: Option<Option<String>>,
    /// Minutes; `null` removes it.
    #[serde(default, with = "nullable")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<i32>))]
    #[ts(as = "Option<i32>", optional = nullable)]
    #[cfg_attr(feature = "openapi", schema(minimum = 0, maximum = 100_000))]
    pub duration_minutes: Option<Option<i32>>,
    /// Position in the course, 0 or more.
    #[serde(default)]
    #[ts(optional)]
    #[cfg_attr(feature = "openapi", schema(minimum = 0, maximum = 100_000))]
    pub sort_order: Option<i32>,
    /// Visible to learners.
    #[serde(default)]
    #[ts(optional)]
    pub is_published: Option<bool>,
}

/// `POST /api/v1/authoring/modules/{id}/lessons`: a new lesson at the end of the module (or at
/// `sort_order`). A published text lesson needs `content_body`, a published video lesson
/// `content_url`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(
    feature = "openapi",
    schema(example = json!({"title": "Welcome to the terminal", "content_type": "video", "content_url": "/media/demo/intro-to-the-terminal.webm", "poster_url": "/media/demo/intro-to-the-terminal.png", "captions": [{"language": "en", "url": "/media/demo/intro-to-the-terminal.en.vtt"}, {"language": "fr", "url": "/media/demo/intro-to-the-terminal.fr.vtt"}], "duration_minutes": 1, "is_published": true}))
)]
#[serde(deny_unknown_fields)]
#[ts(export)]
pub struct LessonDraft {
    /// 1 to 200 characters.
    #[cfg_attr(
        feature = "openapi",
        schema(min_length = 1, max_length = 200, pattern = r"\S")
    )]
    pub title: String,
    /// One line about it, up to 1000 characters.
    #[serde(default)]
    #[ts(optional)]
    #[cfg_attr(feature = "openapi", schema(max_length = 1000))]
    pub description: Option<String>,
    /// What it is.
    pub content_type: LessonContentType,
    /// Markdown (text lessons), up to 200000 characters.
    #[serde(default)]
    #[ts(optional)]
    #[cfg_attr(feature = "openapi", schema(max_length = 200_000))]
    pub content_body: Option<String>,
    /// The media (video lessons): an http(s) URL or a `/media/…` path.
    #[serde(default)]
    #[ts(optional)]
    #[cfg_attr(
        feature = "openapi",
        schema(
            max_length = 2048,
            pattern = r"^(|https?://[^/?#\s\x00-\x1f\x7f-\x9f]+[^\s\x00-\x1f\x7f-\x9f]*|/media/[^/.\s\x00-\x1f\x7f-\x9f][^/\s\x00-\x1f\x7f-\x9f]*(/[^/.\s\x00-\x1f\x7f-\x9f][^/\s\x00-\x1f\x7f-\x9f]*)*|/labs/[a-z0-9-]+)$"
        )
    )]
    pub content_url: Option<String>,
    /// A video lesson's poster, shown before it plays: an image, as an http(s) URL or a
    /// `/media/…` path.
    #[serde(default)]
    #[ts(optional)]
    #[cfg_attr(
        feature = "openapi",
        schema(
            max_length = 2048,
            pattern = r"^(|https?://[^/?#\s\x00-\x1f\x7f-\x9f]+[^\s\x00-\x1f\x7f-\x9f]*|/media/[^/.\s\x00-\x1f\x7f-\x9f][^/\s\x00-\x1f\x7f-\x9f]*(/[^/.\s\x00-\x1f\x7f-\x9f][^/\s\x00-\x1f\x7f-\x9f]*)*)$"
        )
    )]
    pub poster_url: Option<String>,
    /// A video lesson's captions, one WebVTT track per language (at most 20); kept in the
    /// order of their language tags.
    #[serde(default)]
    #[ts(optional, as = "Option<Vec<LessonCaption>>")]
    #[cfg_attr(feature = "openapi", schema(max_items = 20))]
    pub captions: Vec<LessonCaption>,
    /// Minutes, 0 or more.
    #[serde(default)]
    #[ts(optional)]
    #[cfg_attr(feature = "openapi", schema(minimum = 0, maximum = 100_000))]
    pub duration_minutes: Option<i32>,
    /// Position in the module, 0 or more; after the last lesson by default.
    #[serde(default)]
    #[ts(optional)]
    #[cfg_attr(feature = "openapi", schema(minimum = 0, maximum = 100_000))]
    pub sort_order: Option<i32>,
    /// Visible to enrolled learners; false by default.
    #[serde(default)]
    #[ts(optional, as = "Option<bool>")]
    pub is_published: bool,
}

/// A video lesson's captions in one language.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
#[ts(export)]
pub struct LessonCaption {
    /// A BCP 47 language tag, e.g. `en` or `pt-BR`; one track per language.
    #[cfg_attr(
        feature = "openapi",
        schema(
            max_length = 35,
            pattern = r"^[a-z]{2,3}(-[A-Z][a-z]{3})?(-([A-Z]{2}|[0-9]{3}))?$"
        )
    )]
    pub language: String,
    /// The WebVTT file: an http(s) URL or a `/media/…` path (an upload of type `text/vtt`).
    #[cfg_attr(
        feature = "openapi",
        schema(
            max_length = 2048,
            pattern = r"^(https?://[^/?#\s\x00-\x1f\x7f-\x9f]+[^\s\x00-\x1f\x7f-\x9f]*|/media/[^/.\s\x00-\x1f\x7f-\x9f][^/\s\x00-\x1f\x7f-\x9f]*(/[^/.\s\x00-\x1f\x7f-\x9f][^/\s\x00-\x1f\x7f-\x9f]*)*)$"
        )
    )]
    pub url: String,
}

/// `PATCH /api/v1/authoring/lessons/{id}`: absent fields stay; `null` clears an optional one.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
#[ts(export)]
pub struct LessonPatch {
    /// 1 to 200 characters.
    #[serde(default)]
    #[ts(optional)]
    #[cfg_attr(
        feature = "openapi",
        schema(min_length = 1, max_length = 200, pattern = r"\S")
    )]
    pub title: Option<String>,
    /// Up to 1000 characters; `null` or `""` removes it.
    #[serde(default, with = "nullable")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    #[ts(as = "Option<String>", optional = nullable)]
    #[cfg_attr(feature = "openapi", schema(max_length = 1000))]
    pub description: Option<Option<String>>,
    /// What it is.
    #[serde(default)]
    #[ts(optional)]
    pub content_type: Option<LessonContentType>,
    /// Markdown; `null` or `""` removes it.
    #[serde(default, with = "nullable")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    #[ts(as = "Option<String>", optional = nullable)]
    #[cfg_attr(feature = "openapi", schema(max_length = 200_000))]
    pub content_body: Option<Option<String>>,
    /// The media; `null` or `""` removes it.
    #[serde(default, with = "nullable")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    #[ts(as = "Option<String>", optional = nullable)]
    #[cfg_attr(
        feature = "openapi",
        schema(
            max_length = 2048,
            pattern = r"^(|https?://[^/?#\s\x00-\x1f\x7f-\x9f]+[^\s\x00-\x1f\x7f-\x9f]*|/media/[^/.\s\x00-\x1f\x7f-\x9f][^/\s\x00-\x1f\x7f-\x9f]*(/[^/.\s\x00-\x1f\x7f-\x9f][^/\s\x00-\x1f\x7f-\x9f]*)*|/labs/[a-z0-9-]+)$"
        )
    )]
    pub content_url: Option<Option<String>>,
    /// The poster; `null` or `""` removes it.
    #[serde(default, with = "nullable")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    #[ts(as = "Option<String>", optional = nullable)]
    #[cfg_attr(
        feature = "openapi",
        schema(
            max_length = 2048,
            pattern = r"^(|https?://[^/?#\s\x00-\x1f\x7f-\x9f]+[^\s\x00-\x1f\x7f-\x9f]*|/media/[^/.\s\x00-\x1f\x7f-\x9f][^/\s\x00-\x1f\x7f-\x9f]*(/[^/.\s\x00-\x1f\x7f-\x9f][^/\s\x00-\x1f\x7f-\x9f]*)*)$"
        )
    )]
    pub poster_url: Option<Option<String>>,
    /// The captions (replaces them all; `[]` removes them).
    #[serde(default)]
    #[ts(optional)]
    #[cfg_attr(feature = "openapi", schema(max_items = 20))]
    pub captions: Option<Vec<LessonCaption>>,
    /// Minutes; `null` removes it.
    #[serde(default, with = "nullable")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<i32>))]
    #[ts(as = "Option<i32>", optional = nullable)]
    #[cfg_attr(feature = "openapi", schema(minimum = 0, maximum = 100_000))]
    pub duration_minutes: Option<Option<i32>>,
    /// Position in the module, 0 or more.
    #[serde(default)]
    #[ts(optional)]
    #[cfg_attr(feature = "openapi", schema(minimum = 0, maximum = 100_000))]
    pub sort_order: Option<i32>,
    /// Visible to enrolled learners.
    #[serde(default)]
    #[ts(optional)]
    pub is_published: Option<bool>,
}

/// `PUT /api/v1/authoring/courses/{id}/prerequisites`: the courses a learner must complete
/// first (replaces the set; empty clears it).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
#[ts(export)]
pub struct PrerequisiteSet {
    /// Up to 20 courses the caller can see; never the course itself.
    pub course_ids: Vec<Uuid>,
}

/// `PUT /api/v1/authoring/labs/{id}/prerequisites`: the labs a learner completes before
/// starting this one (replaces the set; empty clears it).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
#[ts(export)]
pub struct LabPrerequisiteSet {
    /// Up to 20 labs the caller can see; never the lab itself.
    pub lab_ids: Vec<Uuid>,
}

/// `PUT /api/v1/authoring/courses/{id}/tags`: the course's tags (replaces the set; empty
/// clears it). Unknown tags are created.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
#[ts(export)]
pub struct TagSet {
    /// Up to 20 tags: lowercase letters, digits and `-+#.`, 1 to 60 characters (`rust`,
    /// `machine-learning`, `c++`). Written in another case, they are lowercased.
    pub names: Vec<String>,
}

/// `POST /api/v1/authoring/labs`: a new lab, created as an unpublished draft of the caller's.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
#[ts(export)]
pub struct LabDraft {
    /// URL name: kebab-case, at most 100 characters, unique among labs.
    #[cfg_attr(
        feature = "openapi",
        schema(max_length = 100, pattern = r"^[a-z0-9]+(-[a-z0-9]+)*$")
    )]
    pub slug: String,
    /// Its category (required to publish).
    #[serde(default)]
    #[ts(optional)]
    pub category_id: Option<Uuid>,
    /// 1 to 200 characters.
    #[cfg_attr(
        feature = "openapi",
        schema(min_length = 1, max_length = 200, pattern = r"\S")
    )]
    pub title: String,
    /// What it practises: up to 10000 characters.
    #[cfg_attr(feature = "openapi", schema(max_length = 10_000))]
    pub description: String,
    /// How demanding.
    pub difficulty: DifficultyLevel,
    /// e.g. `45 minutes`: 1 to 100 characters.
    #[cfg_attr(
        feature = "openapi",
        schema(min_length = 1, max_length = 100, pattern = r"\S")
    )]
    pub duration: String,
    /// Tools used (up to 20, each 1 to 60 characters).
    #[serde(default)]
    #[ts(optional, as = "Option<Vec<String>>")]
    #[cfg_attr(feature = "openapi", schema(max_items = 20))]
    pub technology: Vec<String>,
    /// Where it runs, 1 to 100 characters (e.g. `local-sandbox`).
    #[cfg_attr(
        feature = "openapi",
        schema(min_length = 1, max_length = 100, pattern = r"\S")
    )]
    pub provider: String,
    /// Picture: an http(s) URL or a `/media/…` path.
    #[serde(default)]
    #[ts(optional)]
    #[cfg_attr(
        feature = "openapi",
        schema(
            max_length = 2048,
            pattern = r"^(|https?://[^/?#\s\x00-\x1f\x7f-\x9f]+[^\s\x00-\x1f\x7f-\x9f]*|/media/[^/.\s\x00-\x1f\x7f-\x9f][^/\s\x00-\x1f\x7f-\x9f]*(/[^/.\s\x00-\x1f\x7f-\x9f][^/\s\x00-\x1f\x7f-\x9f]*)*|/labs/[a-z0-9-]+)$"
        )
    )]
    pub image_url: Option<String>,
    /// What it includes (up to 50 items of up to 500 characters).
    #[serde(default)]
    #[ts(optional, as = "Option<Vec<String>>")]
    #[cfg_attr(feature = "openapi", schema(max_items = 50))]
    pub features: Vec<String>,
    /// What a learner will be able to do.
    #[serde(default)]
    #[ts(optional, as = "Option<Vec<String>>")]
    #[cfg_attr(feature = "openapi", schema(max_items = 50))]
    pub objectives: Vec<String>,
    /// Knowledge it assumes (free text).
    #[serde(default)]
    #[ts(optional, as = "Option<Vec<String>>")]
    #[cfg_attr(feature = "openapi", schema(max_items = 50))]
    pub prerequisite_notes: Vec<String>,
    /// Step-by-step instructions (markdown, up to 200000 characters; required to publish).
    #[serde(default)]
    #[ts(optional)]
    #[cfg_attr(feature = "openapi", schema(max_length = 200_000))]
    pub instructions: Option<String>,
    /// Before starting (markdown).
    #[serde(default)]
    #[ts(optional)]
    #[cfg_attr(feature = "openapi", schema(max_length = 200_000))]
    pub setup_instructions: Option<String>,
    /// After finishing (markdown).
    #[serde(default)]
    #[ts(optional)]
    #[cfg_attr(feature = "openapi", schema(max_length = 200_000))]
    pub cleanup_instructions: Option<String>,
    /// The sandbox profile it runs in, up to 100 characters.
    #[serde(default)]
    #[ts(optional)]
    #[cfg_attr(feature = "openapi", schema(max_length = 100))]
    pub environment_template: Option<String>,
    /// `{"cpu": …, "memory": …, "storage": …}` (cores, GiB, GiB), each a positive number;
    /// `{"cpu": 1, "memory": 2, "storage": 10}` by default.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Object>))]
    #[ts(optional, as = "Option<std::collections::HashMap<String, f64>>")]
    pub resource_requirements: Option<serde_json::Value>,
    /// How many learners may run it at once, 1 to 10000 (100 by default).
    #[serde(default)]
    #[ts(optional)]
    #[cfg_attr(feature = "openapi", schema(minimum = 1, maximum = 10_000))]
    pub max_concurrent_users: Option<i32>,
    /// Estimated cost per hour in USD, at most 4 decimals (`"0.0000"` by default).
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, example = "0.0150"))]
    #[ts(optional, as = "Option<String>")]
    pub estimated_cost: Decimal,
    /// Free to run.
    #[serde(default)]
    #[ts(optional, as = "Option<bool>")]
    pub is_free: bool,
    /// Courses that go with it (ones the caller can see).
    #[serde(default)]
    #[ts(optional, as = "Option<Vec<Uuid>>")]
    #[cfg_attr(feature = "openapi", schema(max_items = 50))]
    pub related_courses: Vec<Uuid>,
}

/// `PATCH /api/v1/authoring/labs/{id}`: absent fields stay; `null` clears an optional one.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
#[ts(export)]
pub struct LabPatch {
    /// URL name: kebab-case, at most 100 characters, unique among labs.
    #[serde(default)]
    #[ts(optional)]
    #[cfg_attr(
        feature = "openapi",
        schema(max_length = 100, pattern = r"^[a-z0-9]+(-[a-z0-9]+)*$")
    )]
    pub slug: Option<String>,
    /// Its category; `null` removes it (a published lab needs one).
    #[serde(default, with = "nullable")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Uuid>))]
    #[ts(as = "Option<Uuid>", optional = nullable)]
    pub category_id: Option<Option<Uuid>>,
    /// 1 to 200 characters.
    #[serde(default)]
    #[ts(optional)]
    #[cfg_attr(
        feature = "openapi",
        schema(min_length = 1, max_length = 200, pattern = r"\S")
    )]
    pub title: Option<String>,
    /// Up to 10000 characters.
    #[serde(default)]
    #[ts(optional)]
    #[cfg_attr(feature = "openapi", schema(max_length = 10_000))]
    pub description: Option<String>,
    /// How demanding.
    #[serde(default)]
    #[ts(optional)]
    pub difficulty: Option<DifficultyLevel>,
    /// 1 to 100 characters.
    #[serde(default)]
    #[ts(optional)]
    #[cfg_attr(
        feature = "openapi",
        schema(min_length = 1, max_length = 100, pattern = r"\S")
    )]
    pub duration: Option<String>,
    /// Replaces the list.
    #[serde(default)]
    #[ts(optional)]
    #[cfg_attr(feature = "openapi", schema(max_items = 20))]
    pub technology: Option<Vec<String>>,
    /// 1 to 100 characters.
    #[serde(default)]
    #[ts(optional)]
    #[cfg_attr(
        feature = "openapi",
        schema(min_length = 1, max_length = 100, pattern = r"\S")
    )]
    pub provider: Option<String>,
    /// Picture; `null` or `""` removes it.
    #[serde(default, with = "nullable")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    #[ts(as = "Option<String>", optional = nullable)]
    #[cfg_attr(
        feature = "openapi",
        schema(
            max_length = 2048,
            pattern = r"^(|https?://[^/?#\s\x00-\x1f\x7f-\x9f]+[^\s\x00-\x1f\x7f-\x9f]*|/media/[^/.\s\x00-\x1f\x7f-\x9f][^/\s\x00-\x1f\x7f-\x9f]*(/[^/.\s\x00-\x1f\x7f-\x9f][^/\s\x00-\x1f\x7f-\x9f]*)*|/labs/[a-z0-9-]+)$"
        )
    )]
    pub image_url: Option<Option<String>>,
    /// Replaces the list.
    #[serde(default)]
    #[ts(optional)]
    #[cfg_attr(feature = "openapi", schema(max_items = 50))]
    pub features: Option<Vec<String>>,
    /// Replaces the list.
    #[serde(default)]
    #[ts(optional)]
    #[cfg_attr(feature = "openapi", schema(max_items = 50))]
    pub objectives: Option<Vec<String>>,
    /// Replaces the list.
    #[serde(default)]
    #[ts(optional)]
    #[cfg_attr(feature = "openapi", schema(max_items = 50))]
    pub prerequisite_notes: Option<Vec<String>>,
    /// Markdown; `null` or `""` removes it (a published lab needs instructions).
    #[serde(default, with = "nullable")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    #[ts(as = "Option<String>", optional = nullable)]
    #[cfg_attr(feature = "openapi", schema(max_length = 200_000))]
    pub instructions: Option<Option<String>>,
    /// Markdown; `null` or `""` removes it.
    #[serde(default, with = "nullable")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    #[ts(as = "Option<String>", optional = nullable)]
    #[cfg_attr(feature = "openapi", schema(max_length = 200_000))]
    pub setup_instructions: Option<Option<String>>,
    /// Markdown; `null` or `""` removes it.
    #[serde(default, with = "nullable")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    #[ts(as = "Option<String>", optional = nullable)]
    #[cfg_attr(feature = "openapi", schema(max_length = 200_000))]
    pub cleanup_instructions: Option<Option<String>>,
    /// `null` or `""` removes it.
    #[serde(default, with = "nullable")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    #[ts(as = "Option<String>", optional = nullable)]
    #[cfg_attr(feature = "openapi", schema(max_length = 100))]
    pub environment_template: Option<Option<String>>,
    /// Replaces the requirements.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Object>))]
    #[ts(optional, as = "Option<std::collections::HashMap<String, f64>>")]
    pub resource_requirements: Option<serde_json::Value>,
    /// 1 to 10000.
    #[serde(default)]
    #[ts(optional)]
    #[cfg_attr(feature = "openapi", schema(minimum = 1, maximum = 10_000))]
    pub max_concurrent_users: Option<i32>,
    /// At most 4 decimals.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, example = "0.0150"))]
    #[ts(optional, as = "Option<String>")]
    pub estimated_cost: Option<Decimal>,
    /// Free to run.
    #[serde(default)]
    #[ts(optional)]
    pub is_free: Option<bool>,
    /// Replaces the list.
    #[serde(default)]
    #[ts(optional)]
    #[cfg_attr(feature = "openapi", schema(max_items = 50))]
    pub related_courses: Option<Vec<Uuid>>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn absent_and_null_differ_in_a_patch() {
        let p: CoursePatch = serde_json::from_str(r#"{"max_students": null}"#).unwrap();
        assert_eq!(p.max_students, Some(None));
        assert_eq!(p.image_url, None);
        let p: CoursePatch = serde_json::from_str(r#"{"max_students": 30}"#).unwrap();
        assert_eq!(p.max_students, Some(Some(30)));
        assert!(serde_json::from_str::<CoursePatch>(r#"{"rating": "5.00"}"#).is_err());
    }

    #[test]
    fn content_types_round_trip() {
        for t in [
            LessonContentType::Video,
            LessonContentType::Text,
            LessonContentType::Quiz,
            LessonContentType::Lab,
            LessonContentType::Assignment,
        ] {
            assert_eq!(t.as_str().parse::<LessonContentType>(), Ok(t));
            assert_eq!(serde_json::to_value(t).unwrap(), t.as_str());
        }
        assert!("podcast".parse::<LessonContentType>().is_err());
    }
}
