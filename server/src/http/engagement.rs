//! Engagement: reviews of courses and labs with helpful votes, the caller's bookmarks, and the
//! caller's notifications. Every request runs under the caller's RLS role; who may write which
//! review, vote or bookmark is the database's decision (`migrations/0006_row_level_security.sql`,
//! `migrations/0011_engagement.sql`), which the handlers turn into clear problem codes.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use skilltrack_protocol::Problem;
use skilltrack_protocol::engagement::{
    Bookmark, BookmarkEntity, BookmarkPage, CourseReview, CourseReviewPage, CourseReviewPatch,
    CourseReviewWrite, HelpfulVotes, LabReview, LabReviewPage, LabReviewPatch, LabReviewWrite,
    MarkedRead, Notification, NotificationPage, UnreadCount,
};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::AppState;
use super::error::{ApiError, sqlstate};
use super::extract::{AnyCaller, ApiJson, ApiPath, ApiQuery, SignedIn};
use super::pagination::{self, PageQuery, Position};
use super::validate::Checks;
use crate::db::engagement::{self as db, ReviewKind};
use crate::db::session::{Access, begin};

/// Reviews, votes, bookmarks and notifications.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_course_reviews, create_course_review))
        .routes(routes!(list_lab_reviews, create_lab_review))
        .routes(routes!(patch_course_review, delete_course_review))
        .routes(routes!(patch_lab_review, delete_lab_review))
        .routes(routes!(vote_course_review, unvote_course_review))
        .routes(routes!(vote_lab_review, unvote_lab_review))
        .routes(routes!(list_bookmarks))
        .routes(routes!(put_bookmark, delete_bookmark))
        .routes(routes!(list_notifications))
        .routes(routes!(unread_count))
        .routes(routes!(mark_read))
        .routes(routes!(mark_all_read))
}

fn not_found(what: &str) -> ApiError {
    ApiError::NotFound(format!("No such {what}."))
}

// Paging ---------------------------------------------------------------------------------------

/// Query of `GET /api/v1/me/bookmarks`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct BookmarkQuery {
    /// Only bookmarks of this kind.
    entity_type: Option<BookmarkEntity>,
    /// From a previous page's `next_cursor`.
    cursor: Option<String>,
    /// Page size, 1 to 100 (default 25).
    #[param(minimum = 1, maximum = 100)]
    limit: Option<u32>,
}

/// Query of `GET /api/v1/me/notifications`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct NotificationQuery {
    /// `true`: only notifications not read yet.
    unread: Option<bool>,
    /// From a previous page's `next_cursor`.
    cursor: Option<String>,
    /// Page size, 1 to 100 (default 25).
    #[param(minimum = 1, maximum = 100)]
    limit: Option<u32>,
}

// Reviews --------------------------------------------------------------------------------------

fn check_review(
    checks: &mut Checks,
    rating: Option<i32>,
    text: Option<&str>,
    sub_ratings: &[(&str, Option<i32>)],
) {
    for &(pointer, value) in [("/rating", rating)].iter().chain(sub_ratings) {
        if let Some(value) = value {
            checks.check(
                (1..=5).contains(&value),
                pointer,
                "out_of_range",
                "From 1 to 5.",
            );
        }
    }
    checks.length(text.unwrap_or(""), "/review_text", 0, 10_000);
}

/// A course's reviews, newest first: anyone may read those of a published course.
#[utoipa::path(
    get, path = "/api/v1/courses/{id}/reviews", tag = "engagement",
    params(("id" = Uuid, Path, description = "The course"), PageQuery),
    security((), ("bearer" = [])),
    responses(
        (status = 200, description = "A page of reviews, newest first", body = CourseReviewPage),
        (status = 400, description = "A bad id, query or cursor", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "A bad or expired token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such course (or not visible to the caller)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A parameter breaks a rule", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn list_course_reviews(
    State(state): State<AppState>,
    AnyCaller(caller): AnyCaller,
    ApiPath(course_id): ApiPath<Uuid>,
    ApiQuery(query): ApiQuery<PageQuery>,
) -> Result<Json<CourseReviewPage>, ApiError> {
    let (limit, cursor) = pagination::by_time(query.limit, query.cursor.as_deref())?;
    let mut tx = begin(state.db.api(), caller, Access::ReadOnly).await?;
    if !db::course_visible(&mut tx, course_id).await? {
        return Err(not_found("course"));
    }
    let items = db::course_reviews(&mut tx, course_id, cursor, limit + 1).await?;
    tx.commit().await?;
    let (items, next_cursor) = pagination::cut(items, limit, |r| Position::at(r.created_at, r.id));
    Ok(Json(CourseReviewPage { items, next_cursor }))
}

/// A lab's reviews, newest first: anyone may read those of a published lab.
#[utoipa::path(
    get, path = "/api/v1/labs/{id}/reviews", tag = "engagement",
    params(("id" = Uuid, Path, description = "The lab"), PageQuery),
    security((), ("bearer" = [])),
    responses(
        (status = 200, description = "A page of reviews, newest first", body = LabReviewPage),
        (status = 400, description = "A bad id, query or cursor", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "A bad or expired token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such lab (or not visible to the caller)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A parameter breaks a rule", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn list_lab_reviews(
    State(state): State<AppState>,
    AnyCaller(caller): AnyCaller,
    ApiPath(lab_id): ApiPath<Uuid>,
    ApiQuery(query): ApiQuery<PageQuery>,
) -> Result<Json<LabReviewPage>, ApiError> {
    let (limit, cursor) = pagination::by_time(query.limit, query.cursor.as_deref())?;
    let mut tx = begin(state.db.api(), caller, Access::ReadOnly).await?;
    if !db::lab_visible(&mut tx, lab_id).await? {
        return Err(not_found("lab"));
    }
    let items = db::lab_reviews(&mut tx, lab_id, cursor, limit + 1).await?;
    tx.commit().await?;
    let (items, next_cursor) = pagination::cut(items, limit, |r| Position::at(r.created_at, r.id));
    Ok(Json(LabReviewPage { items, next_cursor }))
}

/// Reviews a course. Learners with an active or completed enrollment may, once per course.
#[utoipa::path(
    post, path = "/api/v1/courses/{id}/reviews", tag = "engagement",
    params(("id" = Uuid, Path, description = "The course")),
    request_body = CourseReviewWrite,
    security(("bearer" = [])),
    responses(
        (status = 201, description = "The review", body = CourseReview),
        (status = 400, description = "Malformed request", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "`not_enrolled`: only learners enrolled in the course may review it", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such course", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`already_reviewed`: the caller has reviewed this course; edit that review instead", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A field breaks a rule, or is not the client's to set (e.g. `is_verified_purchase`)", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn create_course_review(
    State(state): State<AppState>,
    me: SignedIn,
    ApiPath(course_id): ApiPath<Uuid>,
    ApiJson(write): ApiJson<CourseReviewWrite>,
) -> Result<(StatusCode, Json<CourseReview>), ApiError> {
    let mut checks = Checks::default();
    check_review(
        &mut checks,
        Some(write.rating),
        write.review_text.as_deref(),
        &[],
    );
    checks.finish()?;
    let mut tx = begin(state.db.api(), me.caller(), Access::ReadWrite).await?;
    if !db::course_visible(&mut tx, course_id).await? {
        return Err(not_found("course"));
    }
    let id = db::insert_course_review(&mut tx, me.0.sub, course_id, &write)
        .await
        .map_err(|e| review_write_error(e, "not_enrolled", NOT_ENROLLED))?;
    let review = db::course_review(&mut tx, id).await?;
    tx.commit().await?;
    let review = review.ok_or_else(|| not_found("review"))?;
    Ok((StatusCode::CREATED, Json(review)))
}

const NOT_ENROLLED: &str = "Only learners enrolled in this course may review it.";
const LAB_NOT_TRIED: &str = "Start this lab at least once before reviewing it.";

/// RLS refuses a review by someone who may not write one (42501); the unique constraint, a
/// second review (23505).
fn review_write_error(e: sqlx::Error, forbidden: &'static str, detail: &'static str) -> ApiError {
    match sqlstate(&e).as_deref() {
        Some("42501") => ApiError::Rule {
            status: StatusCode::FORBIDDEN,
            code: forbidden.to_owned(),
            detail: detail.to_owned(),
            errors: Vec::new(),
        },
        Some("23505") => ApiError::Conflict {
            code: "already_reviewed",
            detail: "You have reviewed this already; edit your review instead.".to_owned(),
        },
        _ => e.into(),
    }
}

/// Reviews a lab. Learners who have started the lab at least once may, once per lab.
#[utoipa::path(
    post, path = "/api/v1/labs/{id}/reviews", tag = "engagement",
    params(("id" = Uuid, Path, description = "The lab")),
    request_body = LabReviewWrite,
    security(("bearer" = [])),
    responses(
        (status = 201, description = "The review", body = LabReview),
        (status = 400, description = "Malformed request", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "`lab_not_tried`: only learners who have started the lab may review it", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such lab", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`already_reviewed`: the caller has reviewed this lab; edit that review instead", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A field breaks a rule", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn create_lab_review(
    State(state): State<AppState>,
    me: SignedIn,
    ApiPath(lab_id): ApiPath<Uuid>,
    ApiJson(write): ApiJson<LabReviewWrite>,
) -> Result<(StatusCode, Json<LabReview>), ApiError> {
    let mut checks = Checks::default();
    check_review(
        &mut checks,
        Some(write.rating),
        write.review_text.as_deref(),
        &[
            ("/difficulty_rating", write.difficulty_rating),
            ("/time_accuracy_rating", write.time_accuracy_rating),
        ],
    );
    checks.finish()?;
    let mut tx = begin(state.db.api(), me.caller(), Access::ReadWrite).await?;
    if !db::lab_visible(&mut tx, lab_id).await? {
        return Err(not_found("lab"));
    }
    let id = db::insert_lab_review(&mut tx, me.0.sub, lab_id, &write)
        .await
        .map_err(|e| review_write_error(e, "lab_not_tried", LAB_NOT_TRIED))?;
    let review = db::lab_review(&mut tx, id).await?;
    tx.commit().await?;
    let review = review.ok_or_else(|| not_found("review"))?;
    Ok((StatusCode::CREATED, Json(review)))
}

/// Edits the caller's review of a course (stars and words; the rest is derived).
#[utoipa::path(
    patch, path = "/api/v1/reviews/courses/{review_id}", tag = "engagement",
    params(("review_id" = Uuid, Path, description = "The review")),
    request_body = CourseReviewPatch,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The review as edited", body = CourseReview),
        (status = 400, description = "Malformed request", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such review of the caller's", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A field breaks a rule, or is not editable", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn patch_course_review(
    State(state): State<AppState>,
    me: SignedIn,
    ApiPath(review_id): ApiPath<Uuid>,
    ApiJson(patch): ApiJson<CourseReviewPatch>,
) -> Result<Json<CourseReview>, ApiError> {
    let mut checks = Checks::default();
    check_review(&mut checks, patch.rating, patch.review_text.as_deref(), &[]);
    checks.finish()?;
    let mut tx = begin(state.db.api(), me.caller(), Access::ReadWrite).await?;
    if !db::update_course_review(&mut tx, review_id, &patch).await? {
        return Err(not_found("review"));
    }
    let review = db::course_review(&mut tx, review_id).await?;
    tx.commit().await?;
    review.map(Json).ok_or_else(|| not_found("review"))
}

/// Edits the caller's review of a lab.
#[utoipa::path(
    patch, path = "/api/v1/reviews/labs/{review_id}", tag = "engagement",
    params(("review_id" = Uuid, Path, description = "The review")),
    request_body = LabReviewPatch,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The review as edited", body = LabReview),
        (status = 400, description = "Malformed request", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such review of the caller's", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A field breaks a rule, or is not editable", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn patch_lab_review(
    State(state): State<AppState>,
    me: SignedIn,
    ApiPath(review_id): ApiPath<Uuid>,
    ApiJson(patch): ApiJson<LabReviewPatch>,
) -> Result<Json<LabReview>, ApiError> {
    let mut checks = Checks::default();
    check_review(
        &mut checks,
        patch.rating,
        patch.review_text.as_deref(),
        &[
            ("/difficulty_rating", patch.difficulty_rating),
            ("/time_accuracy_rating", patch.time_accuracy_rating),
        ],
    );
    checks.finish()?;
    let mut tx = begin(state.db.api(), me.caller(), Access::ReadWrite).await?;
    if !db::update_lab_review(&mut tx, review_id, &patch).await? {
        return Err(not_found("review"));
    }
    let review = db::lab_review(&mut tx, review_id).await?;
    tx.commit().await?;
    review.map(Json).ok_or_else(|| not_found("review"))
}

async fn delete_review(
    state: &AppState,
    me: &SignedIn,
    kind: ReviewKind,
    review_id: Uuid,
) -> Result<StatusCode, ApiError> {
    let mut tx = begin(state.db.api(), me.caller(), Access::ReadWrite).await?;
    let deleted = db::delete_review(&mut tx, kind, review_id).await?;
    tx.commit().await?;
    if deleted {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(not_found("review"))
    }
}

/// Deletes the caller's review of a course.
#[utoipa::path(
    delete, path = "/api/v1/reviews/courses/{review_id}", tag = "engagement",
    params(("review_id" = Uuid, Path, description = "The review")),
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Deleted"),
        (status = 400, description = "Not a review id", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such review of the caller's", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn delete_course_review(
    State(state): State<AppState>,
    me: SignedIn,
    ApiPath(review_id): ApiPath<Uuid>,
) -> Result<StatusCode, ApiError> {
    delete_review(&state, &me, ReviewKind::Course, review_id).await
}

/// Deletes the caller's review of a lab.
#[utoipa::path(
    delete, path = "/api/v1/reviews/labs/{review_id}", tag = "engagement",
    params(("review_id" = Uuid, Path, description = "The review")),
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Deleted"),
        (status = 400, description = "Not a review id", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such review of the caller's", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn delete_lab_review(
    State(state): State<AppState>,
    me: SignedIn,
    ApiPath(review_id): ApiPath<Uuid>,
) -> Result<StatusCode, ApiError> {
    delete_review(&state, &me, ReviewKind::Lab, review_id).await
}

// Helpful votes --------------------------------------------------------------------------------

/// Votes (and takes back) per user per minute: enough for anyone reading reviews, not for a
/// loop that flips a vote to make every device pull.
pub const VOTES_PER_MINUTE: u32 = 30;

/// The limiter of [`VOTES_PER_MINUTE`].
pub fn vote_limiter() -> crate::auth::rate_limit::RateLimiter {
    crate::auth::rate_limit::RateLimiter::new(crate::auth::rate_limit::Limit {
        limit: VOTES_PER_MINUTE,
        window: std::time::Duration::from_secs(60),
    })
}

/// Votes for (`add`) or takes back the caller's vote on a review they can read.
async fn set_vote(
    state: &AppState,
    me: &SignedIn,
    kind: ReviewKind,
    review_id: Uuid,
    add: bool,
) -> Result<Json<HelpfulVotes>, ApiError> {
    state
        .vote_limit
        .check(&me.0.sub.to_string(), std::time::Instant::now())
        .map_err(|retry_after| ApiError::RateLimited { retry_after })?;
    let mut tx = begin(state.db.api(), me.caller(), Access::ReadWrite).await?;
    match db::review_author(&mut tx, kind, review_id).await? {
        None => return Err(not_found("review")),
        Some(author) if author == me.0.sub && add => {
            return Err(ApiError::Rule {
                status: StatusCode::UNPROCESSABLE_ENTITY,
                code: ("own_review").to_owned(),
                detail: ("You cannot vote for your own review.").to_owned(),
                errors: Vec::new(),
            });
        }
        Some(_) => {}
    }
    if add {
        db::vote(&mut tx, kind, me.0.sub, review_id).await?;
    } else {
        db::unvote(&mut tx, kind, me.0.sub, review_id).await?;
    }
    let votes = db::helpful_votes(&mut tx, kind, review_id).await?;
    tx.commit().await?;
    votes.map(Json).ok_or_else(|| not_found("review"))
}

/// Marks a course review helpful. Voting twice counts once; one's own review cannot be voted for.
#[utoipa::path(
    put, path = "/api/v1/reviews/courses/{review_id}/vote", tag = "engagement",
    params(("review_id" = Uuid, Path, description = "The review")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The review's votes, the caller's included", body = HelpfulVotes),
        (status = 400, description = "Not a review id", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such review", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`own_review`: the caller wrote this review", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "`rate_limited`: too many votes in a minute", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn vote_course_review(
    State(state): State<AppState>,
    me: SignedIn,
    ApiPath(review_id): ApiPath<Uuid>,
) -> Result<Json<HelpfulVotes>, ApiError> {
    set_vote(&state, &me, ReviewKind::Course, review_id, true).await
}

/// Takes back the caller's vote on a course review (nothing happens if there was none).
#[utoipa::path(
    delete, path = "/api/v1/reviews/courses/{review_id}/vote", tag = "engagement",
    params(("review_id" = Uuid, Path, description = "The review")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The review's votes, without the caller's", body = HelpfulVotes),
        (status = 400, description = "Not a review id", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such review", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "`rate_limited`: too many votes in a minute", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn unvote_course_review(
    State(state): State<AppState>,
    me: SignedIn,
    ApiPath(review_id): ApiPath<Uuid>,
) -> Result<Json<HelpfulVotes>, ApiError> {
    set_vote(&state, &me, ReviewKind::Course, review_id, false).await
}

/// Marks a lab review helpful. Voting twice counts once; one's own review cannot be voted for.
#[utoipa::path(
    put, path = "/api/v1/reviews/labs/{review_id}/vote", tag = "engagement",
    params(("review_id" = Uuid, Path, description = "The review")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The review's votes, the caller's included", body = HelpfulVotes),
        (status = 400, description = "Not a review id", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such review", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`own_review`: the caller wrote this review", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "`rate_limited`: too many votes in a minute", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn vote_lab_review(
    State(state): State<AppState>,
    me: SignedIn,
    ApiPath(review_id): ApiPath<Uuid>,
) -> Result<Json<HelpfulVotes>, ApiError> {
    set_vote(&state, &me, ReviewKind::Lab, review_id, true).await
}

/// Takes back the caller's vote on a lab review (nothing happens if there was none).
#[utoipa::path(
    delete, path = "/api/v1/reviews/labs/{review_id}/vote", tag = "engagement",
    params(("review_id" = Uuid, Path, description = "The review")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The review's votes, without the caller's", body = HelpfulVotes),
        (status = 400, description = "Not a review id", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such review", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "`rate_limited`: too many votes in a minute", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn unvote_lab_review(
    State(state): State<AppState>,
    me: SignedIn,
    ApiPath(review_id): ApiPath<Uuid>,
) -> Result<Json<HelpfulVotes>, ApiError> {
    set_vote(&state, &me, ReviewKind::Lab, review_id, false).await
}

// Bookmarks ------------------------------------------------------------------------------------

/// The caller's bookmarks, newest first.
#[utoipa::path(
    get, path = "/api/v1/me/bookmarks", tag = "engagement",
    params(BookmarkQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "A page of bookmarks, newest first", body = BookmarkPage),
        (status = 400, description = "A bad query or cursor", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A parameter breaks a rule", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn list_bookmarks(
    State(state): State<AppState>,
    me: SignedIn,
    ApiQuery(query): ApiQuery<BookmarkQuery>,
) -> Result<Json<BookmarkPage>, ApiError> {
    let (limit, cursor) = pagination::by_time(query.limit, query.cursor.as_deref())?;
    let mut tx = begin(state.db.api(), me.caller(), Access::ReadOnly).await?;
    let items = db::bookmarks(&mut tx, me.0.sub, query.entity_type, cursor, limit + 1).await?;
    tx.commit().await?;
    let (items, next_cursor) = pagination::cut(items, limit, |b| Position::at(b.created_at, b.id));
    Ok(Json(BookmarkPage { items, next_cursor }))
}

/// Bookmarks a course, lab or service the caller can see. Bookmarking twice keeps one.
#[utoipa::path(
    put, path = "/api/v1/me/bookmarks/{entity_type}/{entity_id}", tag = "engagement",
    params(
        ("entity_type" = BookmarkEntity, Path, description = "`course`, `lab` or `service`"),
        ("entity_id" = Uuid, Path, description = "The course, lab or service"),
    ),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Already bookmarked", body = Bookmark),
        (status = 201, description = "Bookmarked", body = Bookmark),
        (status = 400, description = "Not a kind of bookmark, or not an id", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such course, lab or service (or not visible to the caller)", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn put_bookmark(
    State(state): State<AppState>,
    me: SignedIn,
    ApiPath((entity, entity_id)): ApiPath<(BookmarkEntity, Uuid)>,
) -> Result<(StatusCode, Json<Bookmark>), ApiError> {
    let mut tx = begin(state.db.api(), me.caller(), Access::ReadWrite).await?;
    // The database checks that the entity exists and is visible to the caller (a trigger, so
    // every write path obeys it) and answers 23503 otherwise.
    let created = db::add_bookmark(&mut tx, me.0.sub, entity, entity_id)
        .await
        .map_err(|e| match sqlstate(&e).as_deref() {
            Some("23503") => not_found(entity.as_str()),
            _ => e.into(),
        })?;
    let bookmark = db::bookmark(&mut tx, me.0.sub, entity, entity_id).await?;
    tx.commit().await?;
    let bookmark = bookmark.ok_or_else(|| not_found(entity.as_str()))?;
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(bookmark)))
}

/// Removes a bookmark of the caller's; removing one that is not there is not an error.
#[utoipa::path(
    delete, path = "/api/v1/me/bookmarks/{entity_type}/{entity_id}", tag = "engagement",
    params(
        ("entity_type" = BookmarkEntity, Path, description = "`course`, `lab` or `service`"),
        ("entity_id" = Uuid, Path, description = "The course, lab or service"),
    ),
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Not bookmarked (any more)"),
        (status = 400, description = "Not a kind of bookmark, or not an id", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn delete_bookmark(
    State(state): State<AppState>,
    me: SignedIn,
    ApiPath((entity, entity_id)): ApiPath<(BookmarkEntity, Uuid)>,
) -> Result<StatusCode, ApiError> {
    let mut tx = begin(state.db.api(), me.caller(), Access::ReadWrite).await?;
    db::remove_bookmark(&mut tx, me.0.sub, entity, entity_id).await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

// Notifications --------------------------------------------------------------------------------

/// The caller's notifications, newest first.
#[utoipa::path(
    get, path = "/api/v1/me/notifications", tag = "engagement",
    params(NotificationQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "A page of notifications, newest first", body = NotificationPage),
        (status = 400, description = "A bad query or cursor", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A parameter breaks a rule", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn list_notifications(
    State(state): State<AppState>,
    me: SignedIn,
    ApiQuery(query): ApiQuery<NotificationQuery>,
) -> Result<Json<NotificationPage>, ApiError> {
    let (limit, cursor) = pagination::by_time(query.limit, query.cursor.as_deref())?;
    let unread_only = query.unread.unwrap_or(false);
    let mut tx = begin(state.db.api(), me.caller(), Access::ReadOnly).await?;
    let items = db::notifications(&mut tx, me.0.sub, unread_only, cursor, limit + 1).await?;
    tx.commit().await?;
    let (items, next_cursor) = pagination::cut(items, limit, |n| Position::at(n.created_at, n.id));
    Ok(Json(NotificationPage { items, next_cursor }))
}

/// How many of the caller's notifications are unread (for a badge).
#[utoipa::path(
    get, path = "/api/v1/me/notifications/unread-count", tag = "engagement",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The count", body = UnreadCount),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn unread_count(
    State(state): State<AppState>,
    me: SignedIn,
) -> Result<Json<UnreadCount>, ApiError> {
    let mut tx = begin(state.db.api(), me.caller(), Access::ReadOnly).await?;
    let unread = db::unread_count(&mut tx, me.0.sub).await?;
    tx.commit().await?;
    Ok(Json(UnreadCount {
        unread: u32::try_from(unread).unwrap_or(u32::MAX),
    }))
}

/// Marks one of the caller's notifications read (again: no change).
#[utoipa::path(
    post, path = "/api/v1/me/notifications/{id}/read", tag = "engagement",
    params(("id" = Uuid, Path, description = "The notification")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The notification, read", body = Notification),
        (status = 400, description = "Not a notification id", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such notification of the caller's", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn mark_read(
    State(state): State<AppState>,
    me: SignedIn,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Json<Notification>, ApiError> {
    let mut tx = begin(state.db.api(), me.caller(), Access::ReadWrite).await?;
    let notification = db::mark_read(&mut tx, me.0.sub, id).await?;
    tx.commit().await?;
    notification
        .map(Json)
        .ok_or_else(|| not_found("notification"))
}

/// Marks every unread notification of the caller's read.
#[utoipa::path(
    post, path = "/api/v1/me/notifications/read-all", tag = "engagement",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "How many were marked", body = MarkedRead),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn mark_all_read(
    State(state): State<AppState>,
    me: SignedIn,
) -> Result<Json<MarkedRead>, ApiError> {
    let mut tx = begin(state.db.api(), me.caller(), Access::ReadWrite).await?;
    let marked = db::mark_all_read(&mut tx, me.0.sub).await?;
    tx.commit().await?;
    Ok(Json(MarkedRead {
        marked: u32::try_from(marked).unwrap_or(u32::MAX),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn review_rules_are_reported_per_field() {
        let mut checks = Checks::default();
        check_review(
            &mut checks,
            Some(0),
            Some(&"x".repeat(10_001)),
            &[
                ("/difficulty_rating", Some(6)),
                ("/time_accuracy_rating", Some(3)),
            ],
        );
        let Err(ApiError::Validation { errors, .. }) = checks.finish() else {
            panic!("expected a validation error")
        };
        let pointers: Vec<&str> = errors.iter().map(|e| e.pointer.as_str()).collect();
        assert_eq!(pointers, ["/rating", "/difficulty_rating", "/review_text"]);
    }
}
