//! Analytics: the events the app sends in batches, and the summaries admins read.
//!
//! Events are idempotent by their client-made id: a retried batch stores nothing twice. The
//! server, never the client, decides who sent an event, from which address and with which user
//! agent.

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use ts_rs::TS;
use uuid::Uuid;

use crate::catalog::CourseRef;

/// The most events one batch may carry.
pub const MAX_BATCH_EVENTS: usize = 100;
/// The largest `event_data`, in bytes of compact JSON.
pub const MAX_EVENT_DATA_BYTES: usize = 8 * 1024;
/// The longest range of days a summary covers.
pub const MAX_SUMMARY_DAYS: i64 = 366;

/// One event, as the app recorded it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
#[ts(export)]
pub struct AnalyticsEvent {
    /// Made by the client when the event happens (UUIDv7 recommended; not the nil UUID). Sending
    /// the same id again stores nothing: it is counted as a duplicate.
    pub id: Uuid,
    /// What happened, 1–200 characters: ASCII letters, digits and `_ . : / -`, starting with a
    /// letter, e.g. `lesson.video.play`.
    #[cfg_attr(
        feature = "openapi",
        schema(
            min_length = 1,
            max_length = 200,
            pattern = r"^[A-Za-z][A-Za-z0-9_.:/-]*$"
        )
    )]
    pub event_name: String,
    /// Particulars: a JSON object of at most 8 KiB (compact JSON); absent or `null` is `{}`.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Object>))]
    #[ts(type = "Record<string, unknown> | null")]
    pub event_data: Option<serde_json::Value>,
    /// The app's session (any text of 1–200 characters, no control characters).
    #[serde(default)]
    pub session_id: Option<String>,
    /// Where in the app it happened, e.g. `/courses/docker-fundamentals` (1–2048 characters, no
    /// control characters).
    #[serde(default)]
    pub page_url: Option<String>,
    /// Where the user came from (1–2048 characters, no control characters).
    #[serde(default)]
    pub referrer: Option<String>,
    /// When it happened (RFC 3339); absent means when the server receives it. At most 90 days
    /// old; at most 5 minutes ahead of the server's clock (a time ahead is stored as the
    /// server's "now").
    #[serde(default)]
    pub occurred_at: Option<DateTime<Utc>>,
}

/// `POST /api/v1/analytics/events`: 1–100 events.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
#[ts(export)]
pub struct EventBatch {
    /// The events, 1 to 100.
    #[cfg_attr(feature = "openapi", schema(min_items = 1, max_items = 100))]
    pub events: Vec<AnalyticsEvent>,
}

/// What became of a batch: every event is either newly stored or a duplicate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[ts(export)]
pub struct EventBatchReceipt {
    /// Events stored by this request.
    pub accepted: u32,
    /// Events whose id the server already had (an earlier try of the batch, or an id repeated in
    /// it): nothing was stored for them.
    pub duplicates: u32,
}

/// Active users on one UTC day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[ts(export)]
pub struct ActiveDay {
    /// The day (UTC), `YYYY-MM-DD`.
    pub day: NaiveDate,
    /// Distinct signed-in users with any activity or analytics event that day.
    pub active_users: u32,
}

/// `GET /api/v1/admin/analytics/active-learners`: active users per UTC day, every day of the
/// range listed (zero when nobody was active).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[ts(export)]
pub struct ActiveLearners {
    /// The first day (UTC).
    pub from: NaiveDate,
    /// The last day (UTC), included.
    pub to: NaiveDate,
    /// Distinct users active on any day of the range (not the sum of the days).
    pub distinct_users: u32,
    /// One entry per day, oldest first.
    pub days: Vec<ActiveDay>,
}

/// One course's enrollment figures, for admins.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[ts(export)]
pub struct CourseAnalytics {
    /// The course.
    pub course: CourseRef,
    /// Published (drafts are listed too).
    pub is_published: bool,
    /// When the course was created (the list's order).
    pub created_at: DateTime<Utc>,
    /// Every enrollment, cancelled ones included.
    pub enrollments: u32,
    /// Enrollments in progress.
    pub active: u32,
    /// Completed enrollments.
    pub completed: u32,
    /// Cancelled enrollments.
    pub cancelled: u32,
    /// `completed / enrollments` as a percentage with two decimals, e.g. `"33.33"`; absent
    /// without enrollments.
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, example = "33.33"))]
    #[ts(type = "string | null")]
    pub completion_rate: Option<Decimal>,
    /// The mean progress of every enrollment (0–100, two decimals); absent without enrollments.
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, example = "47.50"))]
    #[ts(type = "string | null")]
    pub average_progress: Option<Decimal>,
}

/// `GET /api/v1/admin/analytics/courses`: a page of courses, newest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[ts(export)]
pub struct CourseAnalyticsPage {
    /// The courses, newest first.
    pub items: Vec<CourseAnalytics>,
    /// Pass as `cursor` for the next page; absent on the last page.
    pub next_cursor: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_refuse_fields_the_server_decides() {
        let id = Uuid::now_v7();
        for sneaky in [
            serde_json::json!({"id": id, "event_name": "x", "user_id": Uuid::now_v7()}),
            serde_json::json!({"id": id, "event_name": "x", "ip_address": "10.0.0.1"}),
            serde_json::json!({"id": id, "event_name": "x", "user_agent": "me"}),
        ] {
            assert!(serde_json::from_value::<AnalyticsEvent>(sneaky).is_err());
        }
        let minimal: AnalyticsEvent =
            serde_json::from_value(serde_json::json!({"id": id, "event_name": "x"})).unwrap();
        assert_eq!((minimal.event_data, minimal.occurred_at), (None, None));
    }

    #[test]
    fn days_are_plain_dates_on_the_wire() {
        let day = ActiveDay {
            day: NaiveDate::from_ymd_opt(2026, 1, 31).unwrap(),
            active_users: 3,
        };
        assert_eq!(
            serde_json::to_value(day).unwrap(),
            serde_json::json!({"day": "2026-01-31", "active_users": 3})
        );
    }
}
