//! Engagement: reviews of courses and labs with their helpful votes, bookmarks, and the
//! caller's notifications.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use ts_rs::TS;
use uuid::Uuid;

use crate::catalog::PublicProfile;
use crate::enums::{NotificationStatus, NotificationType};

/// A learner's review of a course.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[ts(export)]
pub struct CourseReview {
    /// Id.
    pub id: Uuid,
    /// The course reviewed.
    pub course_id: Uuid,
    /// Who wrote it: their public name and picture (both absent while the reviewer is not
    /// public, e.g. on a course not yet published).
    pub reviewer: PublicProfile,
    /// Stars, 1–5.
    pub rating: i32,
    /// What they wrote.
    pub review_text: Option<String>,
    /// The reviewer held an active or completed enrollment when writing, and the course is free
    /// or they paid for it. Set by the server, never by the client.
    pub is_verified_purchase: bool,
    /// How many people found it helpful.
    pub helpful_votes: i32,
    /// The caller found it helpful (always false for anonymous callers).
    pub voted_by_me: bool,
    /// Written.
    pub created_at: DateTime<Utc>,
    /// Last edited by its author.
    pub updated_at: DateTime<Utc>,
}

/// A learner's review of a lab.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[ts(export)]
pub struct LabReview {
    /// Id.
    pub id: Uuid,
    /// The lab reviewed.
    pub lab_id: Uuid,
    /// Who wrote it: their public name and picture.
    pub reviewer: PublicProfile,
    /// Stars, 1–5.
    pub rating: i32,
    /// What they wrote.
    pub review_text: Option<String>,
    /// How hard it was, 1 (easy) – 5 (hard).
    pub difficulty_rating: Option<i32>,
    /// How well the stated duration matched, 1–5.
    pub time_accuracy_rating: Option<i32>,
    /// How many people found it helpful.
    pub helpful_votes: i32,
    /// The caller found it helpful (always false for anonymous callers).
    pub voted_by_me: bool,
    /// Written.
    pub created_at: DateTime<Utc>,
    /// Last edited by its author.
    pub updated_at: DateTime<Utc>,
}

/// A page of course reviews, newest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[ts(export)]
pub struct CourseReviewPage {
    /// The reviews.
    pub items: Vec<CourseReview>,
    /// Pass as `cursor` for the next page; absent on the last page.
    pub next_cursor: Option<String>,
}

/// A page of lab reviews, newest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[ts(export)]
pub struct LabReviewPage {
    /// The reviews.
    pub items: Vec<LabReview>,
    /// Pass as `cursor` for the next page; absent on the last page.
    pub next_cursor: Option<String>,
}

/// `POST /api/v1/courses/{id}/reviews`: one review per learner per course.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(
    feature = "openapi",
    schema(example = json!({"rating": 5, "review_text": "Clear, hands-on, and the labs worked first time."}))
)]
#[serde(deny_unknown_fields)]
#[ts(export)]
pub struct CourseReviewWrite {
    /// Stars, 1–5.
    #[cfg_attr(feature = "openapi", schema(minimum = 1, maximum = 5))]
    pub rating: i32,
    /// Up to 10000 characters; empty or absent for none.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(max_length = 10_000))]
    pub review_text: Option<String>,
}

/// `PATCH /api/v1/reviews/courses/{review_id}`: absent fields stay, an empty `review_text`
/// clears it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
#[ts(export)]
pub struct CourseReviewPatch {
    /// Stars, 1–5.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(minimum = 1, maximum = 5))]
    pub rating: Option<i32>,
    /// Up to 10000 characters; empty clears it.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(max_length = 10_000))]
    pub review_text: Option<String>,
}

/// `POST /api/v1/labs/{id}/reviews`: one review per learner per lab.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
#[ts(export)]
pub struct LabReviewWrite {
    /// Stars, 1–5.
    #[cfg_attr(feature = "openapi", schema(minimum = 1, maximum = 5))]
    pub rating: i32,
    /// Up to 10000 characters; empty or absent for none.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(max_length = 10_000))]
    pub review_text: Option<String>,
    /// How hard it was, 1 (easy) – 5 (hard).
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(minimum = 1, maximum = 5))]
    pub difficulty_rating: Option<i32>,
    /// How well the stated duration matched, 1–5.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(minimum = 1, maximum = 5))]
    pub time_accuracy_rating: Option<i32>,
}

/// `PATCH /api/v1/reviews/labs/{review_id}`: absent fields stay, an empty `review_text` clears
/// it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
#[ts(export)]
pub struct LabReviewPatch {
    /// Stars, 1–5.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(minimum = 1, maximum = 5))]
    pub rating: Option<i32>,
    /// Up to 10000 characters; empty clears it.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(max_length = 10_000))]
    pub review_text: Option<String>,
    /// How hard it was, 1 (easy) – 5 (hard).
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(minimum = 1, maximum = 5))]
    pub difficulty_rating: Option<i32>,
    /// How well the stated duration matched, 1–5.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(minimum = 1, maximum = 5))]
    pub time_accuracy_rating: Option<i32>,
}

/// A review's helpful votes after the caller voted or took their vote back.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[ts(export)]
pub struct HelpfulVotes {
    /// The review.
    pub review_id: Uuid,
    /// How many people found it helpful, the caller included.
    pub helpful_votes: i32,
    /// The caller's vote is counted.
    pub voted_by_me: bool,
}

/// What a bookmark points at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
#[ts(export)]
pub enum BookmarkEntity {
    /// A course.
    Course,
    /// A lab.
    Lab,
    /// A service (a catalog area).
    Service,
}

impl BookmarkEntity {
    /// The database's spelling (`user_bookmarks.entity_type`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Course => "course",
            Self::Lab => "lab",
            Self::Service => "service",
        }
    }
}

impl fmt::Display for BookmarkEntity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A string that is not a [`BookmarkEntity`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not course, lab or service")]
pub struct UnknownBookmarkEntity(pub String);

impl FromStr for BookmarkEntity {
    type Err = UnknownBookmarkEntity;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "course" => Ok(Self::Course),
            "lab" => Ok(Self::Lab),
            "service" => Ok(Self::Service),
            other => Err(UnknownBookmarkEntity(other.to_owned())),
        }
    }
}

/// A course, lab or service the caller saved for later.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[ts(export)]
pub struct Bookmark {
    /// Id.
    pub id: Uuid,
    /// What kind of thing it points at.
    pub entity_type: BookmarkEntity,
    /// The course, lab or service.
    pub entity_id: Uuid,
    /// Its title; absent when the caller can no longer see it (unpublished, retired).
    pub title: Option<String>,
    /// Its URL name; absent when the caller can no longer see it.
    pub slug: Option<String>,
    /// Saved.
    pub created_at: DateTime<Utc>,
}

/// A page of the caller's bookmarks, newest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[ts(export)]
pub struct BookmarkPage {
    /// The bookmarks.
    pub items: Vec<Bookmark>,
    /// Pass as `cursor` for the next page; absent on the last page.
    pub next_cursor: Option<String>,
}

/// A message from the platform to the caller.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[ts(export)]
pub struct Notification {
    /// Id.
    pub id: Uuid,
    /// Headline.
    pub title: String,
    /// Body text.
    pub message: String,
    /// The channel it was sent on.
    pub notification_type: NotificationType,
    /// Sent, delivered, read or failed.
    pub notification_status: NotificationStatus,
    /// What it is about, e.g. `course`, `certificate`.
    pub entity_type: Option<String>,
    /// The id of what it is about.
    pub entity_id: Option<Uuid>,
    /// When the caller read it; absent while unread.
    pub read_at: Option<DateTime<Utc>>,
    /// Sent.
    pub created_at: DateTime<Utc>,
}

/// A page of the caller's notifications, newest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[ts(export)]
pub struct NotificationPage {
    /// The notifications.
    pub items: Vec<Notification>,
    /// Pass as `cursor` for the next page; absent on the last page.
    pub next_cursor: Option<String>,
}

/// `GET /api/v1/me/notifications/unread-count`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[ts(export)]
pub struct UnreadCount {
    /// Notifications not read yet.
    pub unread: u32,
}

/// `POST /api/v1/me/notifications/read-all`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[ts(export)]
pub struct MarkedRead {
    /// How many notifications this marked read (those read before are not counted).
    pub marked: u32,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bookmark_entities_round_trip_through_text_and_json() {
        for e in [
            BookmarkEntity::Course,
            BookmarkEntity::Lab,
            BookmarkEntity::Service,
        ] {
            assert_eq!(e.as_str().parse::<BookmarkEntity>(), Ok(e));
            assert_eq!(serde_json::to_value(e).unwrap(), e.as_str());
        }
        assert!("courses".parse::<BookmarkEntity>().is_err());
    }

    #[test]
    fn review_writes_refuse_fields_the_server_decides() {
        let sneaky = serde_json::json!({"rating": 5, "is_verified_purchase": true});
        assert!(serde_json::from_value::<CourseReviewWrite>(sneaky).is_err());
        let sneaky = serde_json::json!({"helpful_votes": 100});
        assert!(serde_json::from_value::<LabReviewPatch>(sneaky).is_err());
    }
}
