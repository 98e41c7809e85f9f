//! Analytics: signed-in users send batches of events (idempotent by event id); admins read
//! summaries. Who may write and read is RLS's decision (`migrations/0006_row_level_security.sql`);
//! the summaries first ask `public.require_admin()`, so a non-admin gets 403 rather than an
//! RLS-filtered, misleading answer.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::{Datelike as _, Duration, NaiveDate, Utc};
use serde::Deserialize;
use skilltrack_protocol::analytics::{
    ActiveLearners, AnalyticsEvent, CourseAnalyticsPage, EventBatch, EventBatchReceipt,
    MAX_BATCH_EVENTS, MAX_EVENT_DATA_BYTES, MAX_SUMMARY_DAYS,
};
use skilltrack_protocol::{FieldError, Problem};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::AppState;
use super::error::ApiError;
use super::extract::{ApiJson, ApiQuery, SignedIn};
use super::pagination::{self, PageQuery, Position};
use super::validate::Checks;
use crate::db::analytics as db;
use crate::db::auth::ClientInfo;
use crate::db::profiles;
use crate::db::session::{Access, begin};

/// The analytics routes.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(ingest_events))
        .routes(routes!(active_learners))
        .routes(routes!(course_analytics))
}

/// How far ahead of the server's clock an event may be (a client's clock runs a little fast);
/// such an event is stored as happening now.
const CLOCK_SKEW: Duration = Duration::minutes(5);
/// The oldest event accepted: the app may queue events offline for a while, not forever.
const MAX_EVENT_AGE: Duration = Duration::days(90);
/// The longest `session_id`.
const MAX_SESSION_ID: usize = 200;
/// The longest `page_url` and `referrer`.
const MAX_URL: usize = 2048;

/// An event name: ASCII letters, digits and `_ . : / -`, starting with a letter.
fn is_event_name(name: &str) -> bool {
    name.starts_with(|c: char| c.is_ascii_alphabetic())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | ':' | '/' | '-'))
}

/// Whether any string or key in `value` holds a NUL, which PostgreSQL's `jsonb` cannot store.
fn has_nul(value: &serde_json::Value) -> bool {
    match value {
        serde_json::Value::String(s) => s.contains('\0'),
        serde_json::Value::Array(items) => items.iter().any(has_nul),
        serde_json::Value::Object(map) => map.iter().any(|(k, v)| k.contains('\0') || has_nul(v)),
        _ => false,
    }
}

/// An optional text field: 1 to `max` characters, no control characters.
fn check_text(checks: &mut Checks, value: Option<&str>, pointer: &str, max: usize) {
    if let Some(value) = value {
        checks.length(value, pointer, 1, max).check(
            !value.chars().any(char::is_control),
            pointer,
            "invalid_text",
            "No control characters.",
        );
    }
}

/// Every rule of one event, reported under `/events/{index}/…`.
fn check_event(
    checks: &mut Checks,
    index: usize,
    event: &AnalyticsEvent,
    now: chrono::DateTime<Utc>,
) {
    let at = |field: &str| format!("/events/{index}/{field}");
    checks.check(
        !event.id.is_nil(),
        &at("id"),
        "invalid_id",
        "Not the nil UUID: make one per event (UUIDv7 recommended).",
    );
    let name = at("event_name");
    checks.length(&event.event_name, &name, 1, 200);
    if !event.event_name.is_empty() {
        checks.check(
            is_event_name(&event.event_name),
            &name,
            "invalid_event_name",
            "ASCII letters, digits and `_ . : / -`, starting with a letter.",
        );
    }
    if let Some(data) = &event.event_data {
        let pointer = at("event_data");
        if data.is_object() {
            let size = serde_json::to_string(data).map_or(usize::MAX, |s| s.len());
            checks
                .check(
                    size <= MAX_EVENT_DATA_BYTES,
                    &pointer,
                    "too_large",
                    "At most 8 KiB of JSON.",
                )
                .check(
                    !has_nul(data),
                    &pointer,
                    "invalid_text",
                    "No NUL characters (\\u0000) in keys or strings.",
                );
        } else if !data.is_null() {
            checks.check(false, &pointer, "not_an_object", "A JSON object.");
        }
    }
    check_text(
        checks,
        event.session_id.as_deref(),
        &at("session_id"),
        MAX_SESSION_ID,
    );
    check_text(checks, event.page_url.as_deref(), &at("page_url"), MAX_URL);
    check_text(checks, event.referrer.as_deref(), &at("referrer"), MAX_URL);
    if let Some(when) = event.occurred_at {
        let pointer = at("occurred_at");
        checks
            .check(
                when <= now + CLOCK_SKEW,
                &pointer,
                "in_future",
                "More than 5 minutes ahead of the server's clock.",
            )
            .check(
                when >= now - MAX_EVENT_AGE,
                &pointer,
                "too_old",
                "More than 90 days ago.",
            );
    }
}

/// Checks a batch; `Ok` with its events, a time slightly ahead brought back to `now`.
fn checked_batch(
    batch: EventBatch,
    now: chrono::DateTime<Utc>,
) -> Result<Vec<AnalyticsEvent>, ApiError> {
    if batch.events.len() > MAX_BATCH_EVENTS {
        return Err(ApiError::Rule {
            status: StatusCode::UNPROCESSABLE_ENTITY,
            code: "batch_too_large".to_owned(),
            detail: format!(
                "A batch holds at most {MAX_BATCH_EVENTS} events; this one has {}. Send the rest \
                 in another batch.",
                batch.events.len()
            ),
            errors: vec![FieldError {
                pointer: "/events".to_owned(),
                code: "too_many".to_owned(),
                detail: format!("At most {MAX_BATCH_EVENTS} events."),
            }],
        });
    }
    let mut checks = Checks::default();
    checks.check(
        !batch.events.is_empty(),
        "/events",
        "empty",
        "At least one event.",
    );
    for (index, event) in batch.events.iter().enumerate() {
        check_event(&mut checks, index, event, now);
    }
    checks.finish()?;
    Ok(batch
        .events
        .into_iter()
        .map(|mut e| {
            e.occurred_at = e.occurred_at.map(|t| t.min(now));
            e
        })
        .collect())
}

/// Batches one user may send per minute: an app sends one every few seconds at most; more is
/// a bug or abuse, and each batch is up to 100 rows written.
pub const BATCHES_PER_MINUTE: u32 = 60;

/// The per-user limit on analytics batches.
pub fn batch_limiter() -> crate::auth::rate_limit::RateLimiter {
    crate::auth::rate_limit::RateLimiter::new(crate::auth::rate_limit::Limit {
        limit: BATCHES_PER_MINUTE,
        window: std::time::Duration::from_secs(60),
    })
}

/// Send a batch of events (1–100). Idempotent by event id: events whose id the server already
/// has are counted as duplicates and change nothing, so a failed batch can simply be sent again.
/// The server records who sent them, from which address and with which user agent.
#[utoipa::path(
    post, path = "/api/v1/analytics/events", tag = "analytics",
    request_body = EventBatch,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Stored: how many events were new and how many the server already had", body = EventBatchReceipt),
        (status = 400, description = "Malformed JSON, or not sent as JSON", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in (anonymous events are not accepted)", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "`payload_too_large`: the body is over the server's limit (1 MiB by default)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`batch_too_large` (more than 100 events), or `validation_failed` with every bad field under `/events/{index}/…`; nothing of the batch is stored", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "`rate_limited`: more than 60 batches a minute from this user; `Retry-After` says when to send again", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn ingest_events(
    State(state): State<AppState>,
    me: SignedIn,
    client: ClientInfo,
    ApiJson(batch): ApiJson<EventBatch>,
) -> Result<Json<EventBatchReceipt>, ApiError> {
    state
        .analytics_limit
        .check(&me.0.sub.to_string(), std::time::Instant::now())
        .map_err(|retry_after| ApiError::RateLimited { retry_after })?;
    let events = checked_batch(batch, Utc::now())?;
    let mut tx = begin(state.db.api(), me.caller(), Access::ReadWrite).await?;
    let inserted = db::insert_events(&mut tx, me.0.sub, &client, &events).await?;
    tx.commit().await?;
    let accepted = u32::try_from(inserted).unwrap_or(u32::MAX);
    let total = u32::try_from(events.len()).unwrap_or(u32::MAX);
    Ok(Json(EventBatchReceipt {
        accepted,
        duplicates: total.saturating_sub(accepted),
    }))
}

/// Query of `GET /api/v1/admin/analytics/active-learners`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RangeQuery {
    /// The first day (UTC), `YYYY-MM-DD`; by default 29 days before `to`.
    from: Option<NaiveDate>,
    /// The last day (UTC), included, `YYYY-MM-DD`; by default today.
    to: Option<NaiveDate>,
}

/// The range asked for: `to` defaults to today (UTC), `from` to 29 days before `to`; at most
/// [`MAX_SUMMARY_DAYS`] days, within the years 1970–9999.
fn day_range(query: &RangeQuery, today: NaiveDate) -> Result<(NaiveDate, NaiveDate), ApiError> {
    let to = query.to.unwrap_or(today);
    let from = query
        .from
        .unwrap_or_else(|| to.checked_sub_signed(Duration::days(29)).unwrap_or(to));
    let sane = |d: NaiveDate| (1970..=9999).contains(&d.year());
    Checks::default()
        .check(
            sane(from),
            "/from",
            "out_of_range",
            "A day from 1970 to 9999.",
        )
        .check(sane(to), "/to", "out_of_range", "A day from 1970 to 9999.")
        .check(from <= to, "/from", "after_to", "On or before `to`.")
        .check(
            from > to || (to - from).num_days() < MAX_SUMMARY_DAYS,
            "/to",
            "range_too_long",
            format!("At most {MAX_SUMMARY_DAYS} days from `from` to `to`, both included."),
        )
        .finish()?;
    Ok((from, to))
}

/// Active users per UTC day (admins only): distinct users with any activity (sign-in,
/// enrollment, course start or completion, payment, …) or analytics event that day. Every day of
/// the range is listed, with zero when nobody was active.
#[utoipa::path(
    get, path = "/api/v1/admin/analytics/active-learners", tag = "analytics",
    params(RangeQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "One entry per day, oldest first", body = ActiveLearners),
        (status = 400, description = "A day that is not `YYYY-MM-DD`", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an admin", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`from` after `to` (`after_to`), more than 366 days (`range_too_long`), or a year outside 1970–9999", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn active_learners(
    State(state): State<AppState>,
    me: SignedIn,
    ApiQuery(query): ApiQuery<RangeQuery>,
) -> Result<Json<ActiveLearners>, ApiError> {
    let (from, to) = day_range(&query, Utc::now().date_naive())?;
    let mut tx = begin(state.db.api(), me.caller(), Access::ReadOnly).await?;
    profiles::require_admin(&mut tx).await?;
    let (days, distinct_users) = db::active_users(&mut tx, from, to).await?;
    tx.commit().await?;
    Ok(Json(ActiveLearners {
        from,
        to,
        distinct_users,
        days,
    }))
}

/// Every course's enrollment figures (admins only), drafts included, newest course first.
#[utoipa::path(
    get, path = "/api/v1/admin/analytics/courses", tag = "analytics",
    params(PageQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "A page of courses with their figures, newest first", body = CourseAnalyticsPage),
        (status = 400, description = "A bad query or cursor", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an admin", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`limit` out of range", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn course_analytics(
    State(state): State<AppState>,
    me: SignedIn,
    ApiQuery(query): ApiQuery<PageQuery>,
) -> Result<Json<CourseAnalyticsPage>, ApiError> {
    let (limit, cursor) = pagination::by_time(query.limit, query.cursor.as_deref())?;
    let mut tx = begin(state.db.api(), me.caller(), Access::ReadOnly).await?;
    profiles::require_admin(&mut tx).await?;
    let items = db::course_stats(&mut tx, cursor, limit + 1).await?;
    tx.commit().await?;
    let (items, next_cursor) =
        pagination::cut(items, limit, |c| Position::at(c.created_at, c.course.id));
    Ok(Json(CourseAnalyticsPage { items, next_cursor }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_names() {
        for ok in ["a", "page_view", "lesson.video.play", "lab:terminal/open-2"] {
            assert!(is_event_name(ok), "{ok}");
        }
        for bad in ["", "1st", "_x", "a b", "é", "a\0", "a;drop"] {
            assert!(!is_event_name(bad), "{bad}");
        }
    }

    #[test]
    fn nul_characters_are_found_anywhere_in_event_data() {
        assert!(!has_nul(&serde_json::json!({"a": [1, "b", {"c": null}]})));
        assert!(has_nul(&serde_json::json!({"a": [1, "b\u{0}"]})));
        assert!(has_nul(&serde_json::json!({"a\u{0}": 1})));
    }

    #[test]
    fn ranges_default_to_thirty_days_and_are_bounded() {
        let today = NaiveDate::from_ymd_opt(2026, 3, 1).unwrap();
        let q = |from: Option<&str>, to: Option<&str>| RangeQuery {
            from: from.map(|d| d.parse().unwrap()),
            to: to.map(|d| d.parse().unwrap()),
        };
        let (from, to) = day_range(&q(None, None), today).unwrap();
        assert_eq!((to, (to - from).num_days()), (today, 29));
        assert!(day_range(&q(Some("2025-01-01"), Some("2026-01-01")), today).is_ok());
        assert!(day_range(&q(Some("2025-01-01"), Some("2026-01-02")), today).is_err());
        assert!(day_range(&q(Some("2026-01-02"), Some("2026-01-01")), today).is_err());
        assert!(day_range(&q(Some("1969-12-31"), Some("1970-01-01")), today).is_err());
    }
}
