//! Taking assessments: a learner reads an assessment, starts an attempt (with an id of their
//! own, so a retry is the same attempt), saves answers as they go, and submits; the server
//! grades at once what it can, and the course's instructor the rest
//! ([`super::assessment_authoring`]).
//!
//! The database holds the rules that must survive any route: attempt numbers within
//! `max_attempts` under concurrent starts, the server's clock for start, submission and
//! deadline, no answers after the deadline or after submission, and answer keys hidden until
//! submission (`migrations/0016_assessments.sql`). [`submit_attempt`] is also how an attempt
//! taken offline arrives, whichever route brings it.

use std::collections::{HashMap, HashSet};

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::Utc;
use skilltrack_protocol::assessments::{
    AnswerEntry, AnswerSave, AssessmentList, Attempt, AttemptList, AttemptQuestion, AttemptStart,
    AttemptSubmission, LearnerAssessment, LearnerQuestion,
};
use skilltrack_protocol::{FieldError, Problem};
use sqlx::{Connection as _, PgConnection};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::AppState;
use super::error::{ApiError, rule_code, sqlstate};
use super::extract::{ApiJson, ApiPath, SignedIn};
use crate::db::assessments::{self as db, AttemptRecord, QuestionRecord};
use crate::db::session::{Access, Caller, begin};
use crate::grading;

/// The learner's assessment routes.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(course_assessments))
        .routes(routes!(get_assessment))
        .routes(routes!(list_my_attempts, start_attempt))
        .routes(routes!(get_attempt))
        .routes(routes!(save_answer))
        .routes(routes!(submit))
}

fn no_assessment() -> ApiError {
    ApiError::NotFound(
        "No such assessment, or you are not enrolled in its published course.".to_owned(),
    )
}

fn no_attempt() -> ApiError {
    ApiError::NotFound("No such attempt among yours.".to_owned())
}

fn rule(status: StatusCode, code: &str, detail: impl Into<String>) -> ApiError {
    ApiError::Rule {
        status,
        code: code.to_owned(),
        detail: detail.into(),
        errors: Vec::new(),
    }
}

/// The question as a learner sees it.
pub(crate) fn learner_question(q: &QuestionRecord) -> LearnerQuestion {
    LearnerQuestion {
        id: q.id,
        question_text: q.question_text.clone(),
        question_type: q.question_type,
        options: q.options.clone(),
        points: q.points,
        sort_order: q.sort_order,
    }
}

/// An attempt with its questions and answers, as `viewer` may see it. Its learner sees keys,
/// explanations and which auto-graded answers were right only once the assessment's review
/// policy opens the review (`record.review_open`, decided by the database, which releases the
/// keys on the same terms); the course's managers see everything.
pub(crate) async fn attempt_view(
    conn: &mut PgConnection,
    record: &AttemptRecord,
    viewer: Uuid,
) -> Result<Attempt, ApiError> {
    let questions = db::learner_questions(conn, record.assessment_id).await?;
    let answers = db::answers(conn, record.id).await?;
    let open = record.review_open || viewer != record.user_id;
    let review: HashMap<Uuid, (Option<String>, Option<String>)> =
        if open && record.completed_at.is_some() {
            db::attempt_review(conn, record.id)
                .await?
                .into_iter()
                .map(|(id, key, why)| (id, (key, why)))
                .collect()
        } else {
            HashMap::new()
        };
    let questions = questions
        .iter()
        .map(|q| {
            let answer = answers.iter().find(|a| a.question_id == q.id);
            let (key, explanation) = review.get(&q.id).cloned().unwrap_or_default();
            // Right or wrong per question is a key too (a true/false gives it away at once);
            // an instructor's grade of an essay or code is theirs to share.
            let graded_shown = open || !grading::is_auto_graded(q.question_type);
            AttemptQuestion {
                question: learner_question(q),
                answer: answer
                    .and_then(|a| a.answer_text.as_deref())
                    .and_then(|t| grading::answer_from_stored(q.question_type, t)),
                is_correct: answer.and_then(|a| a.is_correct).filter(|_| graded_shown),
                points_earned: answer
                    .filter(|_| graded_shown)
                    .map_or(0, |a| a.points_earned),
                feedback: answer.and_then(|a| a.feedback.clone()),
                correct_answer: grading::key_from_stored(q.question_type, key.as_deref()),
                explanation,
            }
        })
        .collect();
    Ok(Attempt {
        questions,
        ..attempt_summary(record)
    })
}

fn attempt_summary(r: &AttemptRecord) -> Attempt {
    Attempt {
        id: r.id,
        assessment_id: r.assessment_id,
        user_id: r.user_id,
        attempt_number: r.attempt_number,
        state: r.state(),
        started_at: r.started_at,
        deadline: r.deadline,
        completed_at: r.completed_at,
        score: r.score,
        passed: r.passed,
        time_taken_minutes: r.time_taken_minutes,
        review_open: r.review_open,
        questions: Vec::new(),
    }
}

/// Checks answers against the questions they answer and returns their stored forms; every
/// problem is reported at once, each at its place in the request.
fn stored_answers(
    questions: &[QuestionRecord],
    answers: &[AnswerEntry],
    pointer: &str,
) -> Result<Vec<(Uuid, String)>, ApiError> {
    let mut errors = Vec::new();
    let mut seen = HashSet::new();
    let mut stored = Vec::with_capacity(answers.len());
    for (i, entry) in answers.iter().enumerate() {
        let at = format!("{pointer}/{i}");
        let Some(q) = questions.iter().find(|q| q.id == entry.question_id) else {
            errors.push(FieldError {
                pointer: format!("{at}/question_id"),
                code: "unknown_question".to_owned(),
                detail: "Not a question of this assessment.".to_owned(),
            });
            continue;
        };
        if !seen.insert(q.id) {
            errors.push(FieldError {
                pointer: format!("{at}/question_id"),
                code: "duplicate_question".to_owned(),
                detail: "One answer per question.".to_owned(),
            });
            continue;
        }
        match grading::answer_to_stored(q.question_type, &q.options, &entry.answer) {
            Ok(text) => stored.push((q.id, text)),
            Err(e) => errors.push(FieldError {
                pointer: format!("{at}/answer"),
                code: e.code().to_owned(),
                detail: capitalise(&e.to_string()),
            }),
        }
    }
    if errors.is_empty() {
        Ok(stored)
    } else {
        let detail = if errors.len() == 1 {
            errors[0].detail.clone()
        } else {
            format!("{} answers do not fit their questions.", errors.len())
        };
        Err(ApiError::Validation { detail, errors })
    }
}

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    c.next().map_or_else(String::new, |f| {
        format!("{}{}.", f.to_uppercase(), c.as_str())
    })
}

/// Submits an open attempt of the caller's and grades it, as one step of the caller's
/// transaction.
async fn close_and_grade(
    conn: &mut PgConnection,
    caller: Caller,
    attempt: Uuid,
) -> Result<(), ApiError> {
    if db::submit(conn, attempt).await? {
        db::grade_submitted(conn, caller, attempt).await?;
    }
    Ok(())
}

/// Closes the caller's open attempts at an assessment whose time is up (they count with what
/// was saved) and answers with the one still in progress, if any.
async fn settle_open_attempts(
    conn: &mut PgConnection,
    caller: Caller,
    user: Uuid,
    assessment: Uuid,
) -> Result<Vec<AttemptRecord>, ApiError> {
    let mut attempts = db::attempts_of(conn, user, assessment).await?;
    let now = Utc::now();
    let mut changed = false;
    for a in attempts.iter().filter(|a| a.expired(now)) {
        close_and_grade(conn, caller, a.id).await?;
        changed = true;
    }
    if changed {
        attempts = db::attempts_of(conn, user, assessment).await?;
    }
    Ok(attempts)
}

/// Submits attempt `id` of the caller with `submission`'s answers and grades it; creates it
/// first if the server has never seen it (an untimed attempt taken offline). Idempotent: a
/// submitted attempt answers with its result and keeps its answers. Answers that arrive after
/// a timed attempt's deadline are not counted; it closes with what was saved in time.
pub async fn submit_attempt(
    conn: &mut PgConnection,
    caller: Caller,
    user: Uuid,
    id: Uuid,
    submission: &AttemptSubmission,
) -> Result<Attempt, ApiError> {
    db::lock_attempts_of(conn, user, submission.assessment_id).await?;
    let record = match db::attempt(conn, id).await? {
        Some(r) if r.user_id != user => return Err(no_attempt()),
        Some(r) if r.assessment_id != submission.assessment_id => {
            return Err(ApiError::field(
                "/assessment_id",
                "mismatch",
                "This attempt belongs to another assessment.",
            ));
        }
        Some(r) if r.completed_at.is_some() => return attempt_view(conn, &r, user).await,
        Some(r) => r,
        None => {
            let assessment = db::assessment(conn, submission.assessment_id)
                .await?
                .ok_or_else(no_assessment)?;
            if assessment.time_limit_minutes.is_some() {
                return Err(rule(
                    StatusCode::CONFLICT,
                    "timed_attempt_must_start_online",
                    "A timed assessment starts online, so the server can keep its time; start \
                     this attempt while connected.",
                ));
            }
            insert_attempt(conn, id, user, submission.assessment_id).await?;
            db::attempt(conn, id)
                .await?
                .ok_or_else(|| ApiError::Internal("a new attempt is not visible".to_owned()))?
        }
    };
    if !record.expired(Utc::now()) {
        let questions = db::learner_questions(conn, record.assessment_id).await?;
        let stored = stored_answers(&questions, &submission.answers, "/answers")?;
        // The database keeps the deadline itself (the guard on answers); at the very edge of
        // the window its word is final, and the attempt closes with what was saved in time.
        let mut saving = conn.begin().await?;
        match db::save_answers(&mut saving, record.id, &stored).await {
            Ok(()) => saving.commit().await?,
            Err(e) if rule_code(&e) == Some("time_limit_passed") => saving.rollback().await?,
            Err(e) => return Err(e.into()),
        }
    }
    close_and_grade(conn, caller, record.id).await?;
    let graded = db::attempt(conn, record.id).await?.ok_or_else(no_attempt)?;
    attempt_view(conn, &graded, user).await
}

/// Inserts an attempt, turning the database's refusals into the learner's words.
async fn insert_attempt(
    conn: &mut PgConnection,
    id: Uuid,
    user: Uuid,
    assessment: Uuid,
) -> Result<(), ApiError> {
    db::insert_attempt(conn, id, user, assessment)
        .await
        .map_err(|e| match sqlstate(&e).as_deref() {
            Some("42501") => ApiError::Forbidden(
                "Only learners enrolled in the course take its published assessments.".to_owned(),
            ),
            Some("23505") => ApiError::Conflict {
                code: "attempt_id_taken",
                detail: "That attempt id is already used; start with a new one.".to_owned(),
            },
            _ => ApiError::from(e),
        })
}

// Handlers --------------------------------------------------------------------------------------

/// The published assessments of a course the caller studies (all of them, for its managers).
#[utoipa::path(
    get, path = "/api/v1/courses/{id}/assessments", tag = "assessments",
    params(("id" = Uuid, Path, description = "The course")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The assessments the caller may take or manage", body = AssessmentList),
        (status = 400, description = "Malformed id", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn course_assessments(
    State(state): State<AppState>,
    me: SignedIn,
    ApiPath(course): ApiPath<Uuid>,
) -> Result<Json<AssessmentList>, ApiError> {
    let mut tx = begin(state.db.api(), me.caller(), Access::ReadOnly).await?;
    let items = db::course_assessments(&mut tx, course, false).await?;
    tx.commit().await?;
    Ok(Json(AssessmentList { items }))
}

/// An assessment with its questions (never their answers), and the caller's attempts left.
/// A timed assessment shows its questions once an attempt is started.
#[utoipa::path(
    get, path = "/api/v1/assessments/{id}", tag = "assessments",
    params(("id" = Uuid, Path, description = "The assessment")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The assessment", body = LearnerAssessment),
        (status = 400, description = "Malformed id", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such assessment, or not one the caller may take", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn get_assessment(
    State(state): State<AppState>,
    me: SignedIn,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Json<LearnerAssessment>, ApiError> {
    let user = me.0.sub;
    let caller = me.caller();
    let mut tx = begin(state.db.api(), caller, Access::ReadWrite).await?;
    let assessment = db::assessment(&mut tx, id)
        .await?
        .ok_or_else(no_assessment)?;
    let attempts = settle_open_attempts(&mut tx, caller, user, id).await?;
    let questions = db::learner_questions(&mut tx, id).await?;
    tx.commit().await?;
    let started = i32::try_from(attempts.len()).unwrap_or(i32::MAX);
    Ok(Json(LearnerAssessment {
        attempts_left: assessment.max_attempts.map(|m| (m - started).max(0)),
        attempts_used: started,
        open_attempt: attempts
            .iter()
            .find(|a| a.completed_at.is_none())
            .map(|a| a.id),
        questions: questions.iter().map(learner_question).collect(),
        assessment,
    }))
}

/// The caller's attempts at an assessment, newest first (attempts whose time ran out are closed
/// and graded first).
#[utoipa::path(
    get, path = "/api/v1/assessments/{id}/attempts", tag = "assessments",
    params(("id" = Uuid, Path, description = "The assessment")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The caller's attempts", body = AttemptList),
        (status = 400, description = "Malformed id", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such assessment", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn list_my_attempts(
    State(state): State<AppState>,
    me: SignedIn,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Json<AttemptList>, ApiError> {
    let caller = me.caller();
    let mut tx = begin(state.db.api(), caller, Access::ReadWrite).await?;
    db::assessment(&mut tx, id)
        .await?
        .ok_or_else(no_assessment)?;
    let attempts = settle_open_attempts(&mut tx, caller, me.0.sub, id).await?;
    tx.commit().await?;
    Ok(Json(AttemptList {
        items: attempts.iter().map(attempt_summary).collect(),
    }))
}

/// Starts an attempt. The id is the client's: sending the same id again answers with the same
/// attempt (200) instead of starting another. The server stamps the start; a timed attempt
/// accepts answers until `deadline`.
#[utoipa::path(
    post, path = "/api/v1/assessments/{id}/attempts", tag = "assessments",
    params(("id" = Uuid, Path, description = "The assessment")),
    request_body = AttemptStart,
    security(("bearer" = [])),
    responses(
        (status = 201, description = "The new attempt, with its questions", body = Attempt),
        (status = 200, description = "The attempt this id started before", body = Attempt),
        (status = 400, description = "Malformed request", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Only enrolled learners take a published assessment", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such assessment", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`no_attempts_left`, `attempt_in_progress` or `attempt_id_taken`", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn start_attempt(
    State(state): State<AppState>,
    me: SignedIn,
    ApiPath(assessment): ApiPath<Uuid>,
    ApiJson(start): ApiJson<AttemptStart>,
) -> Result<(StatusCode, Json<Attempt>), ApiError> {
    let user = me.0.sub;
    let caller = me.caller();
    let mut tx = begin(state.db.api(), caller, Access::ReadWrite).await?;
    db::assessment(&mut tx, assessment)
        .await?
        .ok_or_else(no_assessment)?;
    db::lock_attempts_of(&mut tx, user, assessment).await?;
    if let Some(existing) = db::attempt(&mut tx, start.id).await? {
        if existing.user_id == user && existing.assessment_id == assessment {
            let view = attempt_view(&mut tx, &existing, user).await?;
            tx.commit().await?;
            return Ok((StatusCode::OK, Json(view)));
        }
        return Err(ApiError::Conflict {
            code: "attempt_id_taken",
            detail: "That attempt id is already used; start with a new one.".to_owned(),
        });
    }
    let attempts = settle_open_attempts(&mut tx, caller, user, assessment).await?;
    if let Some(open) = attempts.iter().find(|a| a.completed_at.is_none()) {
        // Commit the closing of expired attempts even though this start is refused.
        tx.commit().await?;
        return Err(ApiError::Rule {
            status: StatusCode::CONFLICT,
            code: "attempt_in_progress".to_owned(),
            detail: "You have an attempt in progress; submit it before starting another."
                .to_owned(),
            errors: vec![FieldError {
                pointer: "/open_attempt".to_owned(),
                code: "attempt_in_progress".to_owned(),
                detail: open.id.to_string(),
            }],
        });
    }
    insert_attempt(&mut tx, start.id, user, assessment).await?;
    let record = db::attempt(&mut tx, start.id)
        .await?
        .ok_or_else(no_attempt)?;
    let view = attempt_view(&mut tx, &record, user).await?;
    tx.commit().await?;
    Ok((StatusCode::CREATED, Json(view)))
}

/// An attempt: the learner's own, or one in a course the caller manages. Grades, correct
/// answers and explanations appear once it is submitted.
#[utoipa::path(
    get, path = "/api/v1/attempts/{id}", tag = "assessments",
    params(("id" = Uuid, Path, description = "The attempt")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The attempt", body = Attempt),
        (status = 400, description = "Malformed id", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such attempt among those the caller may see", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn get_attempt(
    State(state): State<AppState>,
    me: SignedIn,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Json<Attempt>, ApiError> {
    let caller = me.caller();
    let mut tx = begin(state.db.api(), caller, Access::ReadWrite).await?;
    let mut record = db::attempt(&mut tx, id).await?.ok_or_else(no_attempt)?;
    if record.user_id == me.0.sub && record.expired(Utc::now()) {
        close_and_grade(&mut tx, caller, id).await?;
        record = db::attempt(&mut tx, id).await?.ok_or_else(no_attempt)?;
    }
    let view = attempt_view(&mut tx, &record, me.0.sub).await?;
    tx.commit().await?;
    Ok(Json(view))
}

/// Saves one answer into the caller's open attempt (replacing an earlier one). After a timed
/// attempt's deadline it is refused, and the attempt closes with what was saved.
#[utoipa::path(
    put, path = "/api/v1/attempts/{id}/answers/{question}", tag = "assessments",
    params(
        ("id" = Uuid, Path, description = "The attempt"),
        ("question" = Uuid, Path, description = "The question"),
    ),
    request_body = AnswerSave,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The answer as saved", body = AnswerEntry),
        (status = 400, description = "Malformed request", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such attempt among the caller's", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`time_limit_passed` or `attempt_submitted`", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "The answer does not fit the question", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn save_answer(
    State(state): State<AppState>,
    me: SignedIn,
    ApiPath((id, question)): ApiPath<(Uuid, Uuid)>,
    ApiJson(save): ApiJson<AnswerSave>,
) -> Result<Json<AnswerEntry>, ApiError> {
    let caller = me.caller();
    let mut tx = begin(state.db.api(), caller, Access::ReadWrite).await?;
    let record = db::attempt(&mut tx, id)
        .await?
        .filter(|r| r.user_id == me.0.sub)
        .ok_or_else(no_attempt)?;
    if record.completed_at.is_some() {
        return Err(rule(
            StatusCode::CONFLICT,
            "attempt_submitted",
            "This attempt is already submitted; answers are final.",
        ));
    }
    if record.expired(Utc::now()) {
        close_and_grade(&mut tx, caller, id).await?;
        tx.commit().await?;
        return Err(rule(
            StatusCode::CONFLICT,
            "time_limit_passed",
            "The time limit of this attempt has passed; it was submitted with the answers saved \
             in time.",
        ));
    }
    let questions = db::learner_questions(&mut tx, record.assessment_id).await?;
    let entry = AnswerEntry {
        question_id: question,
        answer: save.answer,
    };
    let stored =
        stored_answers(&questions, std::slice::from_ref(&entry), "").map_err(|e| match e {
            ApiError::Validation { errors, .. } if errors[0].code == "unknown_question" => {
                ApiError::NotFound("No such question in this attempt's assessment.".to_owned())
            }
            other => other,
        })?;
    db::save_answers(&mut tx, id, &stored).await?;
    tx.commit().await?;
    Ok(Json(entry))
}

/// Submits an attempt for grading with any answers not saved yet; answers with the graded
/// attempt. Idempotent by attempt id, and the way an untimed attempt taken offline arrives
/// (the server has never seen it: it is created, counted against `max_attempts`, and graded).
#[utoipa::path(
    put, path = "/api/v1/attempts/{id}/submission", tag = "assessments",
    params(("id" = Uuid, Path, description = "The attempt (the client's id)")),
    request_body = AttemptSubmission,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The submitted attempt with its grades, keys and explanations", body = Attempt),
        (status = 400, description = "Malformed request", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Only enrolled learners take a published assessment", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such assessment or attempt", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`no_attempts_left`, `timed_attempt_must_start_online` or `attempt_id_taken`", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "An answer does not fit its question", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn submit(
    State(state): State<AppState>,
    me: SignedIn,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(submission): ApiJson<AttemptSubmission>,
) -> Result<Json<Attempt>, ApiError> {
    let caller = me.caller();
    let mut tx = begin(state.db.api(), caller, Access::ReadWrite).await?;
    let attempt = submit_attempt(&mut tx, caller, me.0.sub, id, &submission).await?;
    tx.commit().await?;
    Ok(Json(attempt))
}
