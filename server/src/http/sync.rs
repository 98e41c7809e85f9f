//! Offline sync over HTTP: pull pages of changes, push queued offline writes, and the live
//! channel (Server-Sent Events) that tells a device to pull now. The wire types and their rules
//! are in `skilltrack_protocol::sync`; the SQL in `crate::db::sync`.
//!
//! Every pull and push runs under the caller's RLS role, so a device receives and changes only
//! what its user may.

use std::collections::{HashMap, HashSet};
use std::convert::Infallible;
use std::time::Duration;

use axum::Json;
use axum::extract::State;
use axum::response::sse::{Event, KeepAlive, Sse};
use futures_util::Stream;
use serde::Deserialize;
use skilltrack_protocol::EnrollmentStatus;
use skilltrack_protocol::Problem;
use skilltrack_protocol::engagement::BookmarkEntity;
use skilltrack_protocol::learning::ProgressUpdate;
use skilltrack_protocol::profile::ProfilePatch;
use skilltrack_protocol::sync::{
    DEFAULT_PULL_LIMIT, LiveScope, LiveSignal, MAX_PULL_LIMIT, MAX_PUSH_MUTATIONS, Mutation,
    MutationKind, MutationOutcome, MutationResult, PullPage, PushRequest, PushResponse,
};
use sqlx::{Connection as _, PgConnection};
use tokio::sync::{broadcast, watch};
use tokio::time::Instant;
use tower_http::compression::CompressionLayer;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::AppState;
use super::error::{ApiError, sqlstate};
use super::extract::{ApiJson, ApiQuery, SignedIn};
use super::validate::Checks;
use crate::auth::revocation::RevokedSessions;
use crate::db::session::{Access, begin};
use crate::db::{engagement, learning, profiles, sync};
use crate::sync::Notice;

/// The sync routes. Their answers are compressed (gzip or zstd, as the client accepts): a pull
/// page of rows shrinks several times over.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(pull))
        .routes(routes!(push))
        .routes(routes!(live))
        .layer(CompressionLayer::new())
}

/// `GET /api/v1/sync/pull` query.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PullQuery {
    /// Where to resume: the `cursor` of the last page applied; absent for a first sync.
    pub cursor: Option<String>,
    /// Rows per page, 1–5000 (default 1000).
    #[param(minimum = 1, maximum = 5000)]
    pub limit: Option<u32>,
}

/// Pull the changes after a cursor: the current version of every changed row the caller may
/// see, and a tombstone for every row deleted or no longer visible to them. Apply the page and
/// its `cursor` in one local transaction; pull again while `has_more`. With no cursor: a
/// snapshot of everything the caller may see. A cursor older than the log's compaction horizon
/// starts a fresh snapshot with `reset: true` (drop every synced row first).
#[utoipa::path(
    get, path = "/api/v1/sync/pull", tag = "sync",
    params(PullQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "A page of changes", body = PullPage),
        (status = 400, description = "Malformed query", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`limit` out of range", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn pull(
    State(state): State<AppState>,
    me: SignedIn,
    ApiQuery(query): ApiQuery<PullQuery>,
) -> Result<Json<PullPage>, ApiError> {
    let limit = query.limit.unwrap_or(DEFAULT_PULL_LIMIT);
    Checks::default()
        .check(
            (1..=MAX_PULL_LIMIT).contains(&limit),
            "/limit",
            "out_of_range",
            format!("From 1 to {MAX_PULL_LIMIT}."),
        )
        .finish()?;
    // Number what has committed if nobody else is (in a transaction of its own: the
    // sequencer's lock lasts to the end of it), then read under the caller's role. Whatever a
    // device was told about is numbered already (the live channel's listener and the push
    // route number before they answer), so a pull never waits for the lock.
    sync::sequence_if_free(state.db.api()).await?;
    let mut tx = begin(state.db.api(), me.caller(), Access::ReadOnly).await?;
    let page = sync::pull(&mut tx, me.0.sub, query.cursor.as_deref(), limit).await?;
    tx.commit().await?;
    Ok(Json(page))
}

/// Push queued offline writes (1–500, oldest first). Each is applied under the caller's role
/// with its id recorded in the same transaction, so a retried mutation changes nothing; each
/// gets its own answer (applied, duplicate, or rejected with a code), and a rejected one never
/// holds back the ones after it. The whole batch commits together: after an error answer or a
/// lost connection, send the same batch again.
#[utoipa::path(
    post, path = "/api/v1/sync/push", tag = "sync",
    request_body = PushRequest,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "One answer per mutation, in order", body = PushResponse),
        (status = 400, description = "Malformed request", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "The body is over the request size limit (1 MiB by default)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Not a batch of 1–500 well-formed mutations", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn push(
    State(state): State<AppState>,
    me: SignedIn,
    ApiJson(request): ApiJson<PushRequest>,
) -> Result<Json<PushResponse>, ApiError> {
    Checks::default()
        .check(
            (1..=MAX_PUSH_MUTATIONS).contains(&request.mutations.len()),
            "/mutations",
            "out_of_range",
            format!("From 1 to {MAX_PUSH_MUTATIONS} mutations per push."),
        )
        .finish()?;
    let mut attempt = 0;
    let mut isolation = Isolation::Optimistic;
    loop {
        match push_once(&state, &me, &request.mutations, isolation).await {
            Err(Refusal::Abandon) => isolation = Isolation::Savepoints,
            Err(Refusal::Db(e)) if must_retry(&e) && attempt < 4 => {
                attempt += 1;
                tracing::info!(attempt, "push deadlocked with another; running it again");
                tokio::time::sleep(Duration::from_millis(10 * (1 << attempt))).await;
            }
            Err(Refusal::Db(e)) => return Err(ApiError::from(e)),
            Err(Refusal::Api(e)) => return Err(e),
            Ok(response) => {
                // Numbered before the answer, so the device's next pull carries what its push
                // changed on the server (grades, counters) however busy the sequencer is.
                sync::sequence(state.db.api()).await?;
                return Ok(Json(response));
            }
        }
    }
}

/// How the mutations of one attempt at a batch are kept apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Isolation {
    /// No savepoints (two round trips fewer per mutation): the usual batch, where everything
    /// applies. The first refusal abandons the attempt, which then runs again with savepoints.
    Optimistic,
    /// A savepoint per mutation: a refusal rolls back alone and the batch goes on.
    Savepoints,
}

/// The batch in one transaction.
async fn push_once(
    state: &AppState,
    me: &SignedIn,
    mutations: &[Mutation],
    isolation: Isolation,
) -> Result<PushResponse, Refusal> {
    let user = me.0.sub;
    let mut tx = begin(state.db.api(), me.caller(), Access::ReadWrite).await?;
    let mut results = Vec::with_capacity(mutations.len());
    let mut rest = mutations;
    while let Some(mutation) = rest.first() {
        // Consecutive progress mutations go together when everything is expected to apply.
        let run = rest.iter().take_while(|m| is_progress(m)).count();
        if isolation == Isolation::Optimistic && run > 1 {
            let (together, after) = rest.split_at(run);
            let outcomes = progress_run(&mut tx, user, together).await?;
            results.extend(
                together
                    .iter()
                    .zip(outcomes)
                    .map(|(m, outcome)| MutationResult { id: m.id, outcome }),
            );
            rest = after;
            continue;
        }
        let outcome = match isolation {
            Isolation::Optimistic => apply_optimistically(&mut tx, user, mutation).await?,
            Isolation::Savepoints => apply(&mut tx, user, mutation).await?,
        };
        results.push(MutationResult {
            id: mutation.id,
            outcome,
        });
        rest = &rest[1..];
    }
    tx.commit().await?;
    if mutations.iter().any(is_progress) {
        // Progress may have completed a course: sign its certificate now. A failure here
        // loses nothing (the credential is signed when first asked for), so it is only logged.
        if let Err(e) =
            crate::certificates::sign_pending_of(&state.db, &state.certificates, user).await
        {
            tracing::warn!(error = %e, "signing a new certificate after a push failed");
        }
    }
    Ok(PushResponse { results })
}

/// Whether a mutation is a lesson's progress (those are applied in runs, [`progress_run`]).
fn is_progress(mutation: &Mutation) -> bool {
    matches!(mutation.change, MutationKind::LessonProgress { .. })
}

/// Consecutive progress mutations, applied together in an optimistic attempt: claimed in one
/// statement, checked in one, merged per lesson and written in (at most) two, instead of three
/// statements per mutation. Same answers, same effects as one by one: progress merges
/// commutatively (highest percentage, minutes added, completion kept), a mutation seen before
/// (or twice in the run) is a duplicate, and the course-start activity goes to the first lesson
/// of each course (see [`apply_progress_rows`]). Anything that would be refused abandons the
/// attempt, which then runs one mutation at a time with savepoints and gives each refusal its
/// own answer.
async fn progress_run(
    tx: &mut PgConnection,
    user: Uuid,
    run: &[Mutation],
) -> Result<Vec<MutationOutcome>, Refusal> {
    let mut updates = Vec::with_capacity(run.len());
    for mutation in run {
        let MutationKind::LessonProgress {
            lesson_id,
            progress_percentage,
            add_minutes,
            completed,
        } = &mutation.change
        else {
            return Err(Refusal::Abandon);
        };
        // The ranges of `progress`, whose refusal the savepoint attempt will word.
        if !progress_percentage.is_none_or(|p| (0..=100).contains(&p))
            || !add_minutes.is_none_or(|m| (0..=1440).contains(&m))
        {
            return Err(Refusal::Abandon);
        }
        updates.push(learning::MergedProgress {
            lesson: *lesson_id,
            progress_percentage: progress_percentage.unwrap_or(0),
            add_minutes: add_minutes.unwrap_or(0),
            completed: *completed,
        });
    }
    let ids: Vec<Uuid> = run.iter().map(|m| m.id).collect();
    let claimed = learning::claim_mutations(tx, user, &ids, "lesson_progress").await?;

    // Answers in order: the first occurrence of an id claimed now applies; any other is a
    // duplicate, or gets the answer an earlier push got.
    let mut outcomes = Vec::with_capacity(run.len());
    let mut applying = HashSet::with_capacity(run.len());
    let mut earlier = Vec::new();
    for mutation in run {
        if claimed.contains(&mutation.id) && applying.insert(mutation.id) {
            outcomes.push(Some(MutationOutcome::Applied));
        } else if claimed.contains(&mutation.id) {
            outcomes.push(Some(MutationOutcome::Duplicate));
        } else {
            earlier.push(mutation.id);
            outcomes.push(None);
        }
    }
    let previous = if earlier.is_empty() {
        HashMap::new()
    } else {
        sync::previous_outcomes(tx, &earlier).await?
    };
    let outcomes = run
        .iter()
        .zip(outcomes)
        .map(|(mutation, outcome)| {
            outcome.unwrap_or_else(|| match previous.get(&mutation.id) {
                Some(Some((code, reason))) => MutationOutcome::Rejected {
                    code: code.clone(),
                    reason: reason.clone(),
                },
                _ => MutationOutcome::Duplicate,
            })
        })
        .collect();

    // The effects of the mutations applied now, merged per lesson (first seen first).
    let mut merged: Vec<learning::MergedProgress> = Vec::new();
    let mut position: HashMap<Uuid, usize> = HashMap::new();
    let mut seen = HashSet::with_capacity(run.len());
    for (mutation, update) in run.iter().zip(&updates) {
        if !applying.contains(&mutation.id) || !seen.insert(mutation.id) {
            continue;
        }
        if let Some(&k) = position.get(&update.lesson) {
            let row = &mut merged[k];
            row.progress_percentage = row.progress_percentage.max(update.progress_percentage);
            row.add_minutes += update.add_minutes;
            row.completed |= update.completed;
        } else {
            position.insert(update.lesson, merged.len());
            merged.push(*update);
        }
    }
    if merged.is_empty() {
        return Ok(outcomes);
    }
    let lessons: Vec<Uuid> = merged.iter().map(|r| r.lesson).collect();
    let courses = sync::lessons_i_may_study(tx, &lessons).await?;
    if merged.iter().any(|r| !courses.contains_key(&r.lesson)) {
        return Err(Refusal::Abandon);
    }
    apply_progress_rows(tx, user, &merged, &courses).await?;
    Ok(outcomes)
}

/// Writes merged progress rows: first one row per course, then the rest. The course-start
/// activity is recorded by a row trigger for a new row when no *other* progress row of the
/// learner in that course exists; row triggers run at the end of their statement and see all
/// of its rows, so two new lessons of a course in one statement would each see the other and
/// neither record it. One new row per course in the first statement keeps the rule of one
/// mutation at a time.
async fn apply_progress_rows(
    tx: &mut PgConnection,
    user: Uuid,
    rows: &[learning::MergedProgress],
    courses: &HashMap<Uuid, Uuid>,
) -> Result<(), Refusal> {
    let mut started = HashSet::new();
    let (first, rest): (Vec<_>, Vec<_>) = rows
        .iter()
        .copied()
        .partition(|r| courses.get(&r.lesson).is_some_and(|c| started.insert(*c)));
    for part in [first, rest] {
        if part.is_empty() {
            continue;
        }
        learning::record_progress_rows(tx, user, &part)
            .await
            .map_err(|e| {
                if must_retry(&e) {
                    Refusal::Db(e)
                } else {
                    Refusal::Abandon
                }
            })?;
    }
    Ok(())
}

/// Why a mutation was not applied: a refusal for the client, or a database error, kept whole so
/// that a deadlock between two pushes of the same user can be told apart and retried.
#[derive(Debug)]
enum Refusal {
    Api(ApiError),
    Db(sqlx::Error),
    /// A mutation was refused in an optimistic attempt: run the batch again with savepoints.
    Abandon,
}

impl From<ApiError> for Refusal {
    fn from(e: ApiError) -> Self {
        Self::Api(e)
    }
}

impl From<sqlx::Error> for Refusal {
    fn from(e: sqlx::Error) -> Self {
        Self::Db(e)
    }
}

/// Two pushes of one user (two devices) may lock the same enrollments in different orders;
/// PostgreSQL then aborts one of them, which is worth running again, not refusing.
fn must_retry(e: &sqlx::Error) -> bool {
    matches!(sqlstate(e).as_deref(), Some("40P01" | "40001"))
}

/// A database error as the client's refusal, with a sentence of our own for `forbidden`.
fn refused(e: sqlx::Error, forbidden: &str) -> Refusal {
    if must_retry(&e) {
        return Refusal::Db(e);
    }
    match ApiError::from(e) {
        ApiError::Forbidden(_) => Refusal::Api(ApiError::Forbidden(forbidden.to_owned())),
        other => Refusal::Api(other),
    }
}

/// One mutation, without a savepoint: applied, a duplicate, or the end of this attempt.
async fn apply_optimistically(
    tx: &mut PgConnection,
    user: Uuid,
    mutation: &Mutation,
) -> Result<MutationOutcome, Refusal> {
    if !learning::claim_mutation(tx, user, mutation.id, mutation.change.name()).await? {
        return Ok(match sync::previous_outcome(tx, mutation.id).await? {
            Some(Some((code, reason))) => MutationOutcome::Rejected { code, reason },
            _ => MutationOutcome::Duplicate,
        });
    }
    match effect(tx, user, mutation).await {
        Ok(()) => Ok(MutationOutcome::Applied),
        Err(Refusal::Db(e)) if must_retry(&e) => Err(Refusal::Db(e)),
        Err(_) => Err(Refusal::Abandon),
    }
}

/// One mutation, in a savepoint of its own: claimed, then applied; a refusal rolls back to the
/// savepoint (the batch goes on) and is recorded with its reason.
async fn apply(
    tx: &mut PgConnection,
    user: Uuid,
    mutation: &Mutation,
) -> Result<MutationOutcome, Refusal> {
    let kind = mutation.change.name();
    let mut savepoint = tx.begin().await?;
    // Claimed first: a concurrent push of the same mutation waits here for this one's
    // transaction, then finds the id taken.
    if !learning::claim_mutation(&mut savepoint, user, mutation.id, kind).await? {
        savepoint.rollback().await?;
        return Ok(match sync::previous_outcome(tx, mutation.id).await? {
            Some(Some((code, reason))) => MutationOutcome::Rejected { code, reason },
            _ => MutationOutcome::Duplicate,
        });
    }
    match effect(&mut savepoint, user, mutation).await {
        Ok(()) => {
            savepoint.commit().await?;
            Ok(MutationOutcome::Applied)
        }
        Err(Refusal::Db(e)) if must_retry(&e) => Err(Refusal::Db(e)),
        Err(refusal) => {
            savepoint.rollback().await?;
            let (code, reason) = rejection(match refusal {
                Refusal::Api(e) => e,
                Refusal::Db(e) => ApiError::from(e),
                Refusal::Abandon => ApiError::Internal("an optimistic refusal escaped".to_owned()),
            })
            .map_err(Refusal::Api)?;
            sync::record_rejection(tx, user, mutation.id, kind, &code, &reason).await?;
            Ok(MutationOutcome::Rejected { code, reason })
        }
    }
}

/// A refusal's stable code and sentence. Errors that are the server's (the database away, a
/// bug) are not refusals: they fail the whole push, which the client retries.
fn rejection(e: ApiError) -> Result<(String, String), ApiError> {
    Ok(match e {
        ApiError::BadRequest(detail) => ("bad_request".to_owned(), detail),
        ApiError::Unauthorized { code, detail } | ApiError::Conflict { code, detail } => {
            (code.to_owned(), detail)
        }
        ApiError::Forbidden(detail) => ("forbidden".to_owned(), detail),
        ApiError::NotFound(detail) => ("not_found".to_owned(), detail),
        ApiError::Validation { detail, errors } => {
            let particulars: Vec<String> = errors
                .into_iter()
                .map(|f| format!("{}: {}", f.pointer, f.detail))
                .collect();
            let reason = if particulars.is_empty() {
                detail
            } else {
                particulars.join("; ")
            };
            ("validation_failed".to_owned(), reason)
        }
        ApiError::Rule { code, detail, .. } => (code, detail),
        // A full disk refuses no mutation for good: the push fails whole and is sent again.
        e @ (ApiError::RateLimited { .. }
        | ApiError::Unavailable
        | ApiError::StorageFull
        | ApiError::Internal(_)) => {
            return Err(e);
        }
    })
}

/// What a mutation does, by its kind's merge rule.
async fn effect(conn: &mut PgConnection, user: Uuid, mutation: &Mutation) -> Result<(), Refusal> {
    let at = mutation.at;
    match &mutation.change {
        MutationKind::LessonProgress {
            lesson_id,
            progress_percentage,
            add_minutes,
            completed,
        } => {
            let update = ProgressUpdate {
                progress_percentage: *progress_percentage,
                add_minutes: *add_minutes,
                completed: *completed,
                mutation_id: Some(mutation.id),
            };
            progress(conn, user, *lesson_id, &update).await
        }
        MutationKind::CourseReviewPut {
            course_id,
            rating,
            review_text,
        } => {
            let review = CourseReview {
                course: *course_id,
                rating: *rating,
                text: review_text.as_deref(),
            };
            course_review(conn, user, *course_id, at, Some(review)).await
        }
        MutationKind::CourseReviewDelete { course_id } => {
            course_review(conn, user, *course_id, at, None).await
        }
        MutationKind::LabReviewPut { lab_id, .. } | MutationKind::LabReviewDelete { lab_id } => {
            lab_review(conn, user, *lab_id, at, &mutation.change).await
        }
        MutationKind::BookmarkAdd {
            entity_type,
            entity_id,
        } => bookmark(conn, user, *entity_type, *entity_id, at, true).await,
        MutationKind::BookmarkRemove {
            entity_type,
            entity_id,
        } => bookmark(conn, user, *entity_type, *entity_id, at, false).await,
        MutationKind::NotificationRead { notification_id } => {
            engagement::mark_read(conn, user, *notification_id)
                .await?
                .ok_or_else(|| ApiError::NotFound("You have no such notification.".to_owned()))?;
            Ok(())
        }
        MutationKind::Enroll { course_id } => enroll(conn, user, *course_id).await,
        MutationKind::CancelEnrollment { course_id } => {
            if !learning::cancel(conn, user, *course_id).await?
                && learning::my_enrollment(conn, user, *course_id)
                    .await?
                    .is_none()
            {
                return Err(Refusal::Api(ApiError::NotFound(
                    "You have no enrollment in this course.".to_owned(),
                )));
            }
            Ok(())
        }
        MutationKind::AssessmentSubmit {
            attempt_id,
            assessment_id,
            answers,
        } => {
            let submission = skilltrack_protocol::assessments::AttemptSubmission {
                assessment_id: *assessment_id,
                answers: answers.clone(),
            };
            super::assessments::submit_attempt(
                conn,
                crate::db::session::Caller::User(user),
                user,
                *attempt_id,
                &submission,
            )
            .await?;
            Ok(())
        }
        MutationKind::ProfileLanguage { language } => {
            let patch = ProfilePatch {
                language: Some(language.clone()),
                ..ProfilePatch::default()
            };
            super::me::check_patch(&patch)?;
            // Last writer wins, by the time the learner chose (as reviews).
            if !sync::clock_advance(conn, "profile_language", &user.to_string(), at).await? {
                return Ok(());
            }
            profiles::update(conn, user, &patch)
                .await?
                .ok_or_else(|| ApiError::NotFound("This account no longer exists.".to_owned()))?;
            Ok(())
        }
    }
}

/// A course review's words, as a mutation carries them.
struct CourseReview<'a> {
    course: Uuid,
    rating: i32,
    text: Option<&'a str>,
}

/// Write (`Some`) or delete (`None`) the caller's review of a course, last writer winning.
async fn course_review(
    conn: &mut PgConnection,
    user: Uuid,
    course: Uuid,
    at: chrono::DateTime<chrono::Utc>,
    review: Option<CourseReview<'_>>,
) -> Result<(), Refusal> {
    if let Some(r) = &review {
        review_checks(r.rating, r.text, None, None)?;
    }
    if !sync::clock_advance(conn, "course_review", &course.to_string(), at).await? {
        return Ok(());
    }
    match review {
        Some(r) => sync::put_course_review(conn, user, r.course, r.rating, r.text)
            .await
            .map_err(|e| review_refused(e, "course")),
        None => Ok(sync::delete_course_review(conn, user, course).await?),
    }
}

/// Write or delete the caller's review of a lab, last writer winning.
async fn lab_review(
    conn: &mut PgConnection,
    user: Uuid,
    lab: Uuid,
    at: chrono::DateTime<chrono::Utc>,
    change: &MutationKind,
) -> Result<(), Refusal> {
    if let MutationKind::LabReviewPut {
        rating,
        review_text,
        difficulty_rating,
        time_accuracy_rating,
        ..
    } = change
    {
        review_checks(
            *rating,
            review_text.as_deref(),
            *difficulty_rating,
            *time_accuracy_rating,
        )?;
        if sync::clock_advance(conn, "lab_review", &lab.to_string(), at).await? {
            sync::put_lab_review(
                conn,
                user,
                lab,
                *rating,
                review_text.as_deref(),
                *difficulty_rating,
                *time_accuracy_rating,
            )
            .await
            .map_err(|e| review_refused(e, "lab"))?;
        }
    } else if sync::clock_advance(conn, "lab_review", &lab.to_string(), at).await? {
        sync::delete_lab_review(conn, user, lab).await?;
    }
    Ok(())
}

/// Monotonic percentage, sticky completion, additive minutes: the database's merge.
async fn progress(
    conn: &mut PgConnection,
    user: Uuid,
    lesson: Uuid,
    update: &ProgressUpdate,
) -> Result<(), Refusal> {
    Checks::default()
        .check(
            update
                .progress_percentage
                .is_none_or(|p| (0..=100).contains(&p)),
            "/change/progress_percentage",
            "out_of_range",
            "From 0 to 100.",
        )
        .check(
            update.add_minutes.is_none_or(|m| (0..=1440).contains(&m)),
            "/change/add_minutes",
            "out_of_range",
            "From 0 to 1440 (a day).",
        )
        .finish()?;
    if !sync::may_study_lesson(conn, lesson).await? {
        return Err(Refusal::Api(ApiError::NotFound(
            "No such lesson, or you are not enrolled in its course.".to_owned(),
        )));
    }
    learning::record_progress(conn, user, lesson, update)
        .await
        .map_err(|e| refused(e, "Only learners enrolled in the course record progress."))?;
    Ok(())
}

fn review_checks(
    rating: i32,
    text: Option<&str>,
    difficulty: Option<i32>,
    time_accuracy: Option<i32>,
) -> Result<(), ApiError> {
    let mut checks = Checks::default();
    for (value, pointer) in [
        (Some(rating), "/change/rating"),
        (difficulty, "/change/difficulty_rating"),
        (time_accuracy, "/change/time_accuracy_rating"),
    ] {
        checks.check(
            value.is_none_or(|v| (1..=5).contains(&v)),
            pointer,
            "out_of_range",
            "From 1 to 5.",
        );
    }
    checks
        .check(
            text.is_none_or(|t| t.chars().count() <= 10_000),
            "/change/review_text",
            "too_long",
            "At most 10,000 characters.",
        )
        .finish()
}

/// An add/remove set with remembered removals: the later client time wins.
async fn bookmark(
    conn: &mut PgConnection,
    user: Uuid,
    entity: BookmarkEntity,
    id: Uuid,
    at: chrono::DateTime<chrono::Utc>,
    add: bool,
) -> Result<(), Refusal> {
    let target = format!("{}:{id}", entity.as_str());
    if !sync::clock_advance(conn, "bookmark", &target, at).await? {
        return Ok(());
    }
    if !add {
        engagement::remove_bookmark(conn, user, entity, id).await?;
        return Ok(());
    }
    engagement::add_bookmark(conn, user, entity, id)
        .await
        .map_err(|e| match refused(e, "") {
            Refusal::Api(ApiError::NotFound(_) | ApiError::Forbidden(_)) => Refusal::Api(
                ApiError::NotFound("Nothing to bookmark there, or you may not see it.".to_owned()),
            ),
            other => other,
        })?;
    Ok(())
}

/// The server decides, by the online route's rules; already enrolled is what was asked for.
async fn enroll(conn: &mut PgConnection, user: Uuid, course: Uuid) -> Result<(), Refusal> {
    let (_, published) = learning::course_price(conn, course)
        .await?
        .ok_or_else(|| ApiError::NotFound("No such course.".to_owned()))?;
    if !published {
        return Err(Refusal::Api(ApiError::Conflict {
            code: "course_unpublished",
            detail: "This course is not open for enrollment.".to_owned(),
        }));
    }
    let existing = learning::my_enrollment(conn, user, course).await?;
    if existing
        .as_ref()
        .is_some_and(|e| e.status != EnrollmentStatus::Cancelled)
    {
        return Ok(());
    }
    learning::enroll(conn, user, course, existing.as_ref()).await?;
    Ok(())
}

fn review_refused(e: sqlx::Error, what: &str) -> Refusal {
    refused(
        e,
        if what == "course" {
            "Only learners enrolled in the course may review it."
        } else {
            "Only learners who have tried the lab may review it."
        },
    )
}

/// The live channel: a Server-Sent Events stream of `pull` events (data: a [`LiveSignal`]),
/// one at once on connecting and one whenever the catalog or the caller's own rows change,
/// at most one per [`LIVE_DEBOUNCE`] (changes in between are told together). The stream ends
/// when the access token expires (reconnect with a fresh one), when its session is revoked,
/// and when the server shuts down; a comment every 15 s keeps proxies from closing it.
#[utoipa::path(
    get, path = "/api/v1/sync/live", tag = "sync",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "`text/event-stream` of `pull` events", body = LiveSignal, content_type = "text/event-stream"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn live(
    State(state): State<AppState>,
    me: SignedIn,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let notices = state.live.subscribe().await;
    let left = u64::try_from(me.0.exp - chrono::Utc::now().timestamp()).unwrap_or(0);
    let feed = state.live.clone();
    let stream = LiveStream {
        listeners: std::sync::Arc::new(move || feed.listeners()),
        notices,
        closed: state.live.closed(),
        revoked: state.revoked.clone(),
        session: me.0.sid,
        user: me.0.sub,
        greeted: false,
        until: Instant::now() + Duration::from_secs(left),
        quiet_until: None,
    };
    Sse::new(futures_util::stream::unfold(stream, LiveStream::next))
        .keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
}

/// The least time between two signals to one device: a burst of changes (an instructor
/// saving a course many times, a loop of votes) makes one pull, not one per change.
pub const LIVE_DEBOUNCE: Duration = Duration::from_millis(250);

/// One device's view of the feed.
struct LiveStream {
    /// How many devices listen now (on this server).
    listeners: std::sync::Arc<dyn Fn() -> usize + Send + Sync>,
    notices: broadcast::Receiver<Notice>,
    closed: watch::Receiver<bool>,
    revoked: RevokedSessions,
    session: Uuid,
    user: Uuid,
    greeted: bool,
    until: Instant,
    /// No signal before then (the last one went out less than [`LIVE_DEBOUNCE`] ago).
    quiet_until: Option<Instant>,
}

enum Step {
    End,
    Received(Result<Notice, broadcast::error::RecvError>),
    QuietOver,
}

impl LiveStream {
    async fn next(mut self) -> Option<(Result<Event, Infallible>, Self)> {
        // Whatever happened while the device was away, it pulls once on connecting.
        if !self.greeted {
            self.greeted = true;
            return Some((Ok(signal(LiveScope::Everything, None)), self));
        }
        let mut pending: Option<LiveScope> = None;
        loop {
            let quiet = self.quiet_until.filter(|q| *q > Instant::now());
            let closed = &mut self.closed;
            let notices = &mut self.notices;
            let step = tokio::select! {
                () = async { let _ = closed.wait_for(|c| *c).await; } => Step::End,
                () = tokio::time::sleep_until(self.until) => Step::End,
                () = self.revoked.revoked(self.session) => Step::End,
                () = tokio::time::sleep_until(quiet.unwrap_or_else(Instant::now)),
                    if pending.is_some() => Step::QuietOver,
                received = notices.recv() => Step::Received(received),
            };
            let scope = match step {
                Step::End | Step::Received(Err(broadcast::error::RecvError::Closed)) => {
                    return None;
                }
                Step::QuietOver => None,
                Step::Received(Ok(Notice::Catalog)) => Some(LiveScope::Catalog),
                Step::Received(Ok(Notice::User(u))) if u == self.user => Some(LiveScope::Mine),
                Step::Received(Ok(Notice::User(_))) => continue,
                // Fell behind, or the server's listener may have missed something.
                Step::Received(
                    Ok(Notice::Everything) | Err(broadcast::error::RecvError::Lagged(_)),
                ) => Some(LiveScope::Everything),
            };
            if let Some(scope) = scope {
                pending = Some(match pending {
                    Some(p) if p != scope => LiveScope::Everything,
                    _ => scope,
                });
            }
            let quiet = self.quiet_until.is_some_and(|q| q > Instant::now());
            if let (Some(scope), false) = (pending, quiet) {
                self.quiet_until = Some(Instant::now() + LIVE_DEBOUNCE);
                // Everyone's devices were told of a shared change at once: spread their pulls.
                let after = match scope {
                    LiveScope::Mine => None,
                    LiveScope::Catalog | LiveScope::Everything => pull_after((self.listeners)()),
                };
                return Some((Ok(signal(scope, after)), self));
            }
        }
    }
}

/// How much a shared change's pulls are spread per device listening: about what one tail pull
/// costs the server, so that a thousand devices' pulls arrive about as fast as it serves them.
const PULL_SPREAD_PER_LISTENER: Duration = Duration::from_micros(500);

/// The latest a device is told to pull: every device still has a shared change within a
/// second.
const MAX_PULL_SPREAD: Duration = Duration::from_millis(750);

/// How long telling one more device takes, about: no device pulls before all were told, so
/// that the first pulls do not hold back the last notices.
const TELLING_PER_LISTENER: Duration = Duration::from_micros(60);

/// When this device should pull after a change told to `listeners` devices at once: once all
/// of them were told, at a random point of a window that grows with them; at once when they
/// are few.
fn pull_after(listeners: usize) -> Option<u32> {
    let listeners = u32::try_from(listeners).unwrap_or(u32::MAX);
    let window = PULL_SPREAD_PER_LISTENER.saturating_mul(listeners);
    if window < Duration::from_millis(10) {
        return None;
    }
    let start = TELLING_PER_LISTENER
        .saturating_mul(listeners)
        .min(MAX_PULL_SPREAD / 2);
    let window = window.min(MAX_PULL_SPREAD.saturating_sub(start));
    let ms = |d: Duration| u32::try_from(d.as_millis()).unwrap_or(u32::MAX);
    Some(ms(start) + rand::Rng::gen_range(&mut rand::thread_rng(), 0..ms(window).max(1)))
}

fn signal(scope: LiveScope, pull_after_ms: Option<u32>) -> Event {
    Event::default()
        .event("pull")
        .json_data(LiveSignal {
            scope,
            pull_after_ms,
        })
        .unwrap_or_else(|_| Event::default().event("pull"))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, reason = "tests fail loudly on purpose")]
mod tests {
    use super::*;
    use futures_util::StreamExt as _;

    /// A device's stream over a feed the test drives, with the greeting already read.
    async fn stream(
        user: Uuid,
    ) -> (
        (broadcast::Sender<Notice>, watch::Sender<bool>),
        RevokedSessions,
        Uuid,
        impl Stream<Item = Result<Event, Infallible>>,
    ) {
        let (notices, receiver) = broadcast::channel(64);
        let (shutdown, closed) = watch::channel(false);
        let revoked = RevokedSessions::new(Duration::from_secs(900));
        let session = Uuid::now_v7();
        let live = LiveStream {
            listeners: std::sync::Arc::new(|| 1),
            notices: receiver,
            closed,
            revoked: revoked.clone(),
            session,
            user,
            greeted: false,
            until: Instant::now() + Duration::from_secs(3600),
            quiet_until: None,
        };
        let mut events = Box::pin(futures_util::stream::unfold(live, LiveStream::next));
        let _greeting = events.next().await.unwrap().unwrap();
        ((notices, shutdown), revoked, session, events)
    }

    #[tokio::test(start_paused = true)]
    async fn a_burst_of_changes_makes_one_signal_at_once_and_one_after_the_quiet_time() {
        let me = Uuid::now_v7();
        let ((notices, _shutdown), _, _, mut events) = stream(me).await;
        let started = Instant::now();
        notices.send(Notice::Catalog).unwrap();
        let _first = events.next().await.unwrap().unwrap();
        assert_eq!(Instant::now(), started, "the first change is told at once");
        for _ in 0..50 {
            notices.send(Notice::Catalog).unwrap();
        }
        notices.send(Notice::User(me)).unwrap();
        notices.send(Notice::User(Uuid::now_v7())).unwrap();
        let _merged = events.next().await.unwrap().unwrap();
        assert_eq!(
            Instant::now(),
            started + LIVE_DEBOUNCE,
            "the rest wait for the quiet time, together"
        );
        // Nothing left over.
        let more = tokio::time::timeout(Duration::from_secs(5), events.next()).await;
        assert!(more.is_err(), "{more:?}");
    }

    #[test]
    fn a_shared_change_spreads_pulls_by_how_many_devices_listen() {
        // A few devices pull at once; a thousand once all were told (60 ms), over half a
        // second; never later than 750 ms.
        assert_eq!(pull_after(2), None);
        assert_eq!(pull_after(19), None);
        let spread: Vec<u32> = (0..2000).map(|_| pull_after(1000).unwrap()).collect();
        assert!(spread.iter().all(|ms| (60..560).contains(ms)), "{spread:?}");
        assert!(spread.iter().any(|ms| *ms < 110) && spread.iter().any(|ms| *ms > 510));
        assert!((0..2000).all(|_| pull_after(1_000_000).is_some_and(|ms| ms < 750)));
    }

    #[tokio::test(start_paused = true)]
    async fn a_revoked_session_ends_its_stream() {
        let (_feed, revoked, session, mut events) = stream(Uuid::now_v7()).await;
        revoked.insert(Uuid::now_v7(), chrono::Utc::now());
        revoked.insert(session, chrono::Utc::now());
        assert!(events.next().await.is_none());
    }
}
