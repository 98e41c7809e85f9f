//! Assessments for instructors under `/api/v1/authoring`: write assessments and questions with
//! their answer keys, grade essays and code by hand, and see attempts and per-question
//! statistics — for the courses the caller manages (RLS decides, as in
//! [`super::authoring`]: anything else is 404).

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use skilltrack_protocol::assessments::{
    AssessmentDraft, AssessmentList, AssessmentPatch, AssessmentStatistics, AssessmentSummary,
    Attempt, AuthoredAssessment, AuthoredQuestion, GradingQueue, LearnerAttemptList, ManualGrade,
    QuestionDraft, QuestionPatch, QuestionStatistics, WrongAnswerCount,
};
use skilltrack_protocol::{FieldError, Problem, QuestionType};
use sqlx::PgConnection;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::AppState;
use super::assessments::attempt_view;
use super::error::ApiError;
use super::extract::{ApiJson, ApiPath, ApiQuery, SignedIn};
use super::validate::Checks;
use crate::db::assessments::{self as db, QuestionRecord, QuestionWrite};
use crate::db::authoring::lock_course;
use crate::db::session::{Access, begin};
use crate::grading;

/// The instructor's assessment routes.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_course_assessments, create_assessment))
        .routes(routes!(get_assessment, patch_assessment, delete_assessment))
        .routes(routes!(create_question))
        .routes(routes!(patch_question, delete_question))
        .routes(routes!(grading_queue))
        .routes(routes!(grade_answer))
        .routes(routes!(list_attempts))
        .routes(routes!(statistics))
}

fn not_found(what: &str) -> ApiError {
    ApiError::NotFound(format!("No such {what} among those you manage."))
}

fn blank_to_none(value: Option<String>) -> Option<String> {
    value.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty())
}

// Rules -----------------------------------------------------------------------------------------

fn check_assessment(c: &mut Checks, p: &AssessmentPatch) {
    if let Some(title) = &p.title {
        c.length(title, "/title", 1, 200);
    }
    if let Some(Some(d)) = &p.description {
        c.length(d, "/description", 0, 10_000);
    }
    if let Some(Some(m)) = p.time_limit_minutes {
        c.check(
            (1..=1440).contains(&m),
            "/time_limit_minutes",
            "out_of_range",
            "From 1 to 1440 minutes.",
        );
    }
    if let Some(Some(m)) = p.max_attempts {
        c.check(
            (1..=100).contains(&m),
            "/max_attempts",
            "out_of_range",
            "From 1 to 100, or null for unlimited.",
        );
    }
    if let Some(s) = p.passing_score {
        c.check(
            (0..=100).contains(&s),
            "/passing_score",
            "out_of_range",
            "From 0 to 100.",
        );
    }
}

fn check_question(
    c: &mut Checks,
    q: &QuestionWrite,
    key: Option<&skilltrack_protocol::assessments::AnswerKey>,
) {
    c.length(&q.question_text, "/question_text", 1, 10_000);
    c.check(
        (0..=1000).contains(&q.points),
        "/points",
        "out_of_range",
        "From 0 to 1000.",
    );
    if let Some(e) = &q.explanation {
        c.length(e, "/explanation", 0, 10_000);
    }
    if let Some(order) = q.sort_order {
        c.check(order >= 0, "/sort_order", "out_of_range", "0 or more.");
    }
    if let Err(e) = grading::check_question(q.question_type, &q.options, key, false) {
        let pointer = match e {
            grading::FitError::InvalidOptions(_) => "/options",
            _ => "/answer_key",
        };
        c.check(false, pointer, e.code(), capitalise(&e.to_string()));
    }
}

/// A new assessment, normalised and checked (shared with course packages).
pub(super) fn prepare_assessment(draft: &mut AssessmentDraft) -> Result<(), ApiError> {
    draft.title = draft.title.trim().to_owned();
    draft.description = blank_to_none(draft.description.take());
    let mut checks = Checks::default();
    check_assessment(&mut checks, &assessment_draft_as_patch(draft));
    checks.finish()
}

/// The patch that sets every field of an assessment draft but its published state.
pub(super) fn assessment_draft_as_patch(draft: &AssessmentDraft) -> AssessmentPatch {
    AssessmentPatch {
        title: Some(draft.title.clone()),
        description: Some(draft.description.clone()),
        kind: Some(draft.kind),
        time_limit_minutes: Some(draft.time_limit_minutes),
        max_attempts: Some(draft.max_attempts),
        passing_score: Some(draft.passing_score),
        review_policy: Some(draft.review_policy),
        is_published: None,
    }
}

/// A new question as it is stored (its key encoded), normalised and checked.
pub(super) fn prepare_question(draft: QuestionDraft) -> Result<QuestionWrite, ApiError> {
    let write = QuestionWrite {
        question_text: draft.question_text.trim().to_owned(),
        question_type: draft.question_type,
        options: draft.options,
        correct_answer: draft.answer_key.as_ref().map(grading::key_to_stored),
        points: draft.points,
        explanation: blank_to_none(draft.explanation),
        sort_order: draft.sort_order,
    };
    let mut checks = Checks::default();
    check_question(&mut checks, &write, draft.answer_key.as_ref());
    checks.finish()?;
    Ok(write)
}

/// A stored question as the draft that would write it.
pub(super) fn question_draft_of(q: &QuestionRecord) -> QuestionDraft {
    QuestionDraft {
        question_text: q.question_text.clone(),
        question_type: q.question_type,
        options: q.options.clone(),
        answer_key: grading::key_from_stored(q.question_type, q.correct_answer.as_deref()),
        points: q.points,
        explanation: q.explanation.clone(),
        sort_order: None,
    }
}

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    c.next().map_or_else(String::new, |f| {
        format!("{}{}.", f.to_uppercase(), c.as_str())
    })
}

/// What stops an assessment from being published, if anything: it needs questions, points to
/// earn, and a key on every question the server grades.
fn publish_problems(questions: &[QuestionRecord]) -> Vec<FieldError> {
    let mut problems = Vec::new();
    if questions.is_empty() {
        problems.push(FieldError {
            pointer: "/questions".to_owned(),
            code: "no_questions".to_owned(),
            detail: "An assessment needs at least one question.".to_owned(),
        });
    } else if questions.iter().map(|q| i64::from(q.points)).sum::<i64>() <= 0 {
        problems.push(FieldError {
            pointer: "/questions".to_owned(),
            code: "no_points".to_owned(),
            detail: "Its questions must be worth at least one point together.".to_owned(),
        });
    }
    for q in questions {
        let key = grading::key_from_stored(q.question_type, q.correct_answer.as_deref());
        if let Err(e) = grading::check_question(q.question_type, &q.options, key.as_ref(), true) {
            problems.push(FieldError {
                pointer: format!("/questions/{}", q.id),
                code: "incomplete_question".to_owned(),
                detail: capitalise(&e.to_string()),
            });
        }
    }
    problems
}

fn authored_question(q: QuestionRecord) -> AuthoredQuestion {
    AuthoredQuestion {
        answer_key: grading::key_from_stored(q.question_type, q.correct_answer.as_deref()),
        id: q.id,
        assessment_id: q.assessment_id,
        question_text: q.question_text,
        question_type: q.question_type,
        options: q.options,
        points: q.points,
        explanation: q.explanation,
        sort_order: q.sort_order,
    }
}

async fn managed(conn: &mut PgConnection, id: Uuid) -> Result<AssessmentSummary, ApiError> {
    db::managed_assessment(conn, id)
        .await?
        .ok_or_else(|| not_found("assessment"))
}

async fn authored(conn: &mut PgConnection, id: Uuid) -> Result<AuthoredAssessment, ApiError> {
    let assessment = managed(conn, id).await?;
    let questions = db::questions_with_keys(conn, id)
        .await?
        .into_iter()
        .map(authored_question)
        .collect();
    Ok(AuthoredAssessment {
        assessment,
        questions,
    })
}

// Assessments -----------------------------------------------------------------------------------

/// A course's assessments, published or not.
#[utoipa::path(
    get, path = "/api/v1/authoring/courses/{id}/assessments", tag = "authoring",
    params(("id" = Uuid, Path, description = "The course")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The assessments", body = AssessmentList),
        (status = 400, description = "Malformed id", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn list_course_assessments(
    State(state): State<AppState>,
    me: SignedIn,
    ApiPath(course): ApiPath<Uuid>,
) -> Result<Json<AssessmentList>, ApiError> {
    let mut tx = begin(state.db.api(), me.caller(), Access::ReadOnly).await?;
    let items = db::course_assessments(&mut tx, course, true).await?;
    tx.commit().await?;
    Ok(Json(AssessmentList { items }))
}

/// Creates an assessment (unpublished) in a course the caller manages.
#[utoipa::path(
    post, path = "/api/v1/authoring/courses/{id}/assessments", tag = "authoring",
    params(("id" = Uuid, Path, description = "The course")),
    request_body = AssessmentDraft,
    security(("bearer" = [])),
    responses(
        (status = 201, description = "The assessment", body = AuthoredAssessment),
        (status = 400, description = "Malformed request", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such course among those the caller manages", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A field breaks a rule", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn create_assessment(
    State(state): State<AppState>,
    me: SignedIn,
    ApiPath(course): ApiPath<Uuid>,
    ApiJson(mut draft): ApiJson<AssessmentDraft>,
) -> Result<(StatusCode, Json<AuthoredAssessment>), ApiError> {
    prepare_assessment(&mut draft)?;
    let mut tx = begin(state.db.api(), me.caller(), Access::ReadWrite).await?;
    lock_course(&mut tx, course)
        .await?
        .ok_or_else(|| not_found("course"))?;
    let id = db::create_assessment(&mut tx, course, &draft).await?;
    let view = authored(&mut tx, id).await?;
    tx.commit().await?;
    Ok((StatusCode::CREATED, Json(view)))
}

/// An assessment with its questions, answer keys and explanations.
#[utoipa::path(
    get, path = "/api/v1/authoring/assessments/{id}", tag = "authoring",
    operation_id = "get_authored_assessment",
    params(("id" = Uuid, Path, description = "The assessment")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The assessment", body = AuthoredAssessment),
        (status = 400, description = "Malformed id", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such assessment among those the caller manages", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn get_assessment(
    State(state): State<AppState>,
    me: SignedIn,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Json<AuthoredAssessment>, ApiError> {
    let mut tx = begin(state.db.api(), me.caller(), Access::ReadOnly).await?;
    let view = authored(&mut tx, id).await?;
    tx.commit().await?;
    Ok(Json(view))
}

/// Edits an assessment; `is_published: true` publishes it once it has questions, points and
/// every answer key it needs.
#[utoipa::path(
    patch, path = "/api/v1/authoring/assessments/{id}", tag = "authoring",
    params(("id" = Uuid, Path, description = "The assessment")),
    request_body = AssessmentPatch,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The assessment as edited", body = AuthoredAssessment),
        (status = 400, description = "Malformed request", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such assessment among those the caller manages", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`not_ready_to_publish`: what is missing is listed", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A field breaks a rule", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn patch_assessment(
    State(state): State<AppState>,
    me: SignedIn,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(mut patch): ApiJson<AssessmentPatch>,
) -> Result<Json<AuthoredAssessment>, ApiError> {
    patch.title = patch.title.map(|t| t.trim().to_owned());
    patch.description = patch.description.map(blank_to_none);
    let mut checks = Checks::default();
    check_assessment(&mut checks, &patch);
    checks.finish()?;
    let mut tx = begin(state.db.api(), me.caller(), Access::ReadWrite).await?;
    managed(&mut tx, id).await?;
    if patch.is_published == Some(true) {
        let questions = db::questions_with_keys(&mut tx, id).await?;
        let problems = publish_problems(&questions);
        if !problems.is_empty() {
            return Err(ApiError::Rule {
                status: StatusCode::CONFLICT,
                code: "not_ready_to_publish".to_owned(),
                detail: format!(
                    "This assessment cannot be published yet: {}",
                    problems
                        .iter()
                        .map(|p| p.detail.as_str())
                        .collect::<Vec<_>>()
                        .join(" ")
                ),
                errors: problems,
            });
        }
    }
    db::update_assessment(&mut tx, id, &patch).await?;
    let view = authored(&mut tx, id).await?;
    tx.commit().await?;
    Ok(Json(view))
}

/// Deletes an assessment and its questions, unless learners have submitted attempts (then
/// unpublish it instead: their results stay).
#[utoipa::path(
    delete, path = "/api/v1/authoring/assessments/{id}", tag = "authoring",
    params(("id" = Uuid, Path, description = "The assessment")),
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Deleted"),
        (status = 400, description = "Malformed id", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such assessment among those the caller manages", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`assessment_has_attempts`", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn delete_assessment(
    State(state): State<AppState>,
    me: SignedIn,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<StatusCode, ApiError> {
    let mut tx = begin(state.db.api(), me.caller(), Access::ReadWrite).await?;
    managed(&mut tx, id).await?;
    if db::has_submitted_attempts(&mut tx, id).await? {
        return Err(ApiError::Conflict {
            code: "assessment_has_attempts",
            detail:
                "Learners have submitted attempts at this assessment; unpublish it instead, so \
                     their results stay."
                    .to_owned(),
        });
    }
    if !db::delete_assessment(&mut tx, id).await? {
        return Err(not_found("assessment"));
    }
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

// Questions -------------------------------------------------------------------------------------

/// Adds a question to an assessment the caller manages.
#[utoipa::path(
    post, path = "/api/v1/authoring/assessments/{id}/questions", tag = "authoring",
    params(("id" = Uuid, Path, description = "The assessment")),
    request_body = QuestionDraft,
    security(("bearer" = [])),
    responses(
        (status = 201, description = "The question", body = AuthoredQuestion),
        (status = 400, description = "Malformed request", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such assessment among those the caller manages", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Text, options or key break a rule", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn create_question(
    State(state): State<AppState>,
    me: SignedIn,
    ApiPath(assessment): ApiPath<Uuid>,
    ApiJson(draft): ApiJson<QuestionDraft>,
) -> Result<(StatusCode, Json<AuthoredQuestion>), ApiError> {
    let write = prepare_question(draft)?;
    let mut tx = begin(state.db.api(), me.caller(), Access::ReadWrite).await?;
    managed(&mut tx, assessment).await?;
    let id = db::create_question(&mut tx, assessment, &write).await?;
    let question = db::question_with_key(&mut tx, id)
        .await?
        .ok_or_else(|| not_found("question"))?;
    tx.commit().await?;
    Ok((StatusCode::CREATED, Json(authored_question(question))))
}

/// Edits a question. Attempts graded already keep their grades.
#[utoipa::path(
    patch, path = "/api/v1/authoring/questions/{id}", tag = "authoring",
    params(("id" = Uuid, Path, description = "The question")),
    request_body = QuestionPatch,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The question as edited", body = AuthoredQuestion),
        (status = 400, description = "Malformed request", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such question among those the caller manages", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Text, options or key break a rule", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn patch_question(
    State(state): State<AppState>,
    me: SignedIn,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(patch): ApiJson<QuestionPatch>,
) -> Result<Json<AuthoredQuestion>, ApiError> {
    let mut tx = begin(state.db.api(), me.caller(), Access::ReadWrite).await?;
    let current = db::question_with_key(&mut tx, id)
        .await?
        .ok_or_else(|| not_found("question"))?;
    let key = match patch.answer_key {
        Some(key) => key,
        None => grading::key_from_stored(current.question_type, current.correct_answer.as_deref()),
    };
    let write = QuestionWrite {
        question_text: patch
            .question_text
            .map_or(current.question_text, |t| t.trim().to_owned()),
        question_type: patch.question_type.unwrap_or(current.question_type),
        options: patch.options.unwrap_or(current.options),
        correct_answer: key.as_ref().map(grading::key_to_stored),
        points: patch.points.unwrap_or(current.points),
        explanation: match patch.explanation {
            Some(e) => blank_to_none(e),
            None => current.explanation,
        },
        sort_order: patch.sort_order,
    };
    let mut checks = Checks::default();
    check_question(&mut checks, &write, key.as_ref());
    checks.finish()?;
    db::update_question(&mut tx, id, &write).await?;
    let question = db::question_with_key(&mut tx, id)
        .await?
        .ok_or_else(|| not_found("question"))?;
    tx.commit().await?;
    Ok(Json(authored_question(question)))
}

/// Deletes a question, unless learners' submitted attempts answered it.
#[utoipa::path(
    delete, path = "/api/v1/authoring/questions/{id}", tag = "authoring",
    params(("id" = Uuid, Path, description = "The question")),
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Deleted"),
        (status = 400, description = "Malformed id", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such question among those the caller manages", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`question_has_answers`", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn delete_question(
    State(state): State<AppState>,
    me: SignedIn,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<StatusCode, ApiError> {
    let mut tx = begin(state.db.api(), me.caller(), Access::ReadWrite).await?;
    db::question_with_key(&mut tx, id)
        .await?
        .ok_or_else(|| not_found("question"))?;
    if db::question_has_answers(&mut tx, id).await? {
        return Err(ApiError::Conflict {
            code: "question_has_answers",
            detail: "Learners have answered this question in submitted attempts; edit it instead."
                .to_owned(),
        });
    }
    if !db::delete_question(&mut tx, id).await? {
        return Err(not_found("question"));
    }
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

// Grading ---------------------------------------------------------------------------------------

/// Query of `GET /api/v1/authoring/grading-queue`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct QueueQuery {
    /// Only this course.
    course: Option<Uuid>,
    /// At most this many, 1–200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    limit: Option<u32>,
}

/// Essay and code answers waiting for the caller's grade, oldest submission first.
#[utoipa::path(
    get, path = "/api/v1/authoring/grading-queue", tag = "authoring",
    params(QueueQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Answers to grade", body = GradingQueue),
        (status = 400, description = "Malformed query", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`limit` out of range", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn grading_queue(
    State(state): State<AppState>,
    me: SignedIn,
    ApiQuery(q): ApiQuery<QueueQuery>,
) -> Result<Json<GradingQueue>, ApiError> {
    let limit = q.limit.unwrap_or(50);
    Checks::default()
        .check(
            (1..=200).contains(&limit),
            "/limit",
            "out_of_range",
            "From 1 to 200.",
        )
        .finish()?;
    let mut tx = begin(state.db.api(), me.caller(), Access::ReadOnly).await?;
    let items = db::grading_queue(&mut tx, q.course, i64::from(limit)).await?;
    tx.commit().await?;
    Ok(Json(GradingQueue { items }))
}

/// Grades an essay or code answer. When the attempt's last such answer is graded, its score
/// and pass are final and the learner is notified. A grade can be changed later.
#[utoipa::path(
    put, path = "/api/v1/authoring/answers/{id}/grade", tag = "authoring",
    params(("id" = Uuid, Path, description = "The answer")),
    request_body = ManualGrade,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The attempt after grading", body = Attempt),
        (status = 400, description = "Malformed request", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such answer in the caller's courses", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`not_submitted` or `graded_by_server`", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Points out of range", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn grade_answer(
    State(state): State<AppState>,
    me: SignedIn,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(grade): ApiJson<ManualGrade>,
) -> Result<Json<Attempt>, ApiError> {
    let feedback = blank_to_none(grade.feedback);
    let mut checks = Checks::default();
    if let Some(f) = &feedback {
        checks.length(f, "/feedback", 0, 10_000);
    }
    checks.finish()?;
    let mut tx = begin(state.db.api(), me.caller(), Access::ReadWrite).await?;
    let (attempt, kind, full, submitted) = db::gradable_answer(&mut tx, id)
        .await?
        .ok_or_else(|| not_found("answer"))?;
    if !submitted {
        return Err(ApiError::Conflict {
            code: "not_submitted",
            detail: "This attempt is still in progress; grade it once submitted.".to_owned(),
        });
    }
    if !matches!(kind, QuestionType::Essay | QuestionType::Code) {
        return Err(ApiError::Conflict {
            code: "graded_by_server",
            detail: "Only essay and code answers are graded by hand.".to_owned(),
        });
    }
    Checks::default()
        .check(
            (0..=full).contains(&grade.points),
            "/points",
            "out_of_range",
            format!("From 0 to {full}, the question's points."),
        )
        .finish()?;
    db::grade_answer(&mut tx, id, grade.points, full, feedback.as_deref()).await?;
    db::finalize(&mut tx, attempt).await?;
    let record = db::attempt(&mut tx, attempt)
        .await?
        .ok_or_else(|| not_found("attempt"))?;
    let view = attempt_view(&mut tx, &record, me.0.sub).await?;
    tx.commit().await?;
    Ok(Json(view))
}

/// Every learner's attempts at an assessment the caller manages.
#[utoipa::path(
    get, path = "/api/v1/authoring/assessments/{id}/attempts", tag = "authoring",
    params(("id" = Uuid, Path, description = "The assessment")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Attempts by learner", body = LearnerAttemptList),
        (status = 400, description = "Malformed id", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such assessment among those the caller manages", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn list_attempts(
    State(state): State<AppState>,
    me: SignedIn,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Json<LearnerAttemptList>, ApiError> {
    let mut tx = begin(state.db.api(), me.caller(), Access::ReadOnly).await?;
    managed(&mut tx, id).await?;
    let items = db::learner_attempts(&mut tx, id).await?;
    tx.commit().await?;
    Ok(Json(LearnerAttemptList { items }))
}

/// How each question fared: share answered correctly and the most common wrong answers.
#[utoipa::path(
    get, path = "/api/v1/authoring/assessments/{id}/statistics", tag = "authoring",
    params(("id" = Uuid, Path, description = "The assessment")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Per-question statistics", body = AssessmentStatistics),
        (status = 400, description = "Malformed id", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such assessment among those the caller manages", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn statistics(
    State(state): State<AppState>,
    me: SignedIn,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Json<AssessmentStatistics>, ApiError> {
    let mut tx = begin(state.db.api(), me.caller(), Access::ReadOnly).await?;
    managed(&mut tx, id).await?;
    let questions = db::questions_with_keys(&mut tx, id).await?;
    let per_question = db::question_statistics(&mut tx, id).await?;
    let (submitted_attempts, passed_attempts) = db::attempt_totals(&mut tx, id).await?;
    tx.commit().await?;
    let questions = questions
        .into_iter()
        .map(|q| {
            let (graded, correct, wrong) = per_question
                .iter()
                .find(|s| s.0 == q.id)
                .map(|s| (s.1, s.2, s.3.clone()))
                .unwrap_or_default();
            QuestionStatistics {
                question_id: q.id,
                question_type: q.question_type,
                percent_correct: (graded > 0)
                    .then(|| i32::try_from(correct * 100 / graded).unwrap_or(0)),
                common_wrong_answers: wrong
                    .into_iter()
                    .filter_map(|(text, count)| {
                        grading::answer_from_stored(q.question_type, &text)
                            .map(|answer| WrongAnswerCount { answer, count })
                    })
                    .collect(),
                question_text: q.question_text,
                graded,
                correct,
            }
        })
        .collect();
    Ok(Json(AssessmentStatistics {
        submitted_attempts,
        passed_attempts,
        questions,
    }))
}
