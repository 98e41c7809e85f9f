//! Assessments: taking them (as the learner, under RLS), grading them (as the server's grader,
//! `service_role`, inside the learner's transaction), and authoring, grading by hand and
//! reviewing them (as the course's instructor, under RLS). The rules the database enforces
//! itself — attempt numbers within `max_attempts`, server-stamped start and submission,
//! answers only before the deadline, keys hidden until submission — are in
//! `migrations/0016_assessments.sql`; the grading rules are in [`crate::grading`].

use chrono::{DateTime, Utc};
use skilltrack_protocol::assessments::{
    AssessmentDraft, AssessmentPatch, AssessmentSummary, AttemptState, LearnerAttempt,
    PendingAnswer, QuestionOptions,
};
use skilltrack_protocol::{AssessmentType, PgEnum as _, QuestionType, ReviewPolicy};
use sqlx::PgConnection;
use uuid::Uuid;

use super::decode;
use super::session::Caller;
use crate::grading;

// Reading assessments ---------------------------------------------------------------------------

const SUMMARY_COLUMNS: &str = "a.id, a.course_id, a.title, a.description, a.type::text AS kind,
    a.time_limit_minutes, a.max_attempts, a.passing_score, a.is_published,
    private.effective_review_policy(a.type, a.max_attempts, a.review_policy)::text
      AS review_policy,
    t.question_count, t.points_possible";

#[derive(sqlx::FromRow)]
struct SummaryRow {
    id: Uuid,
    course_id: Uuid,
    title: String,
    description: Option<String>,
    kind: String,
    time_limit_minutes: Option<i32>,
    max_attempts: Option<i32>,
    passing_score: i32,
    review_policy: String,
    is_published: bool,
    question_count: Option<i32>,
    points_possible: Option<i32>,
}

impl TryFrom<SummaryRow> for AssessmentSummary {
    type Error = sqlx::Error;
    fn try_from(r: SummaryRow) -> Result<Self, Self::Error> {
        Ok(Self {
            id: r.id,
            course_id: r.course_id,
            title: r.title,
            description: r.description,
            kind: decode("kind", &r.kind)?,
            time_limit_minutes: r.time_limit_minutes,
            max_attempts: r.max_attempts,
            passing_score: r.passing_score,
            review_policy: decode("review_policy", &r.review_policy)?,
            is_published: r.is_published,
            question_count: r.question_count.unwrap_or(0),
            points_possible: r.points_possible.unwrap_or(0),
        })
    }
}

/// An assessment the caller may take or manages.
pub async fn assessment(
    conn: &mut PgConnection,
    id: Uuid,
) -> Result<Option<AssessmentSummary>, sqlx::Error> {
    sqlx::query_as::<_, SummaryRow>(&format!(
        "SELECT {SUMMARY_COLUMNS} FROM assessments a
         LEFT JOIN LATERAL public.assessment_totals(a.id) t ON true WHERE a.id = $1"
    ))
    .bind(id)
    .fetch_optional(conn)
    .await?
    .map(TryInto::try_into)
    .transpose()
}

/// An assessment of a course the caller manages (instructor or admin).
pub async fn managed_assessment(
    conn: &mut PgConnection,
    id: Uuid,
) -> Result<Option<AssessmentSummary>, sqlx::Error> {
    sqlx::query_as::<_, SummaryRow>(&format!(
        "SELECT {SUMMARY_COLUMNS} FROM assessments a
         LEFT JOIN LATERAL public.assessment_totals(a.id) t ON true
         WHERE a.id = $1 AND private.manages_course(a.course_id)"
    ))
    .bind(id)
    .fetch_optional(conn)
    .await?
    .map(TryInto::try_into)
    .transpose()
}

/// A course's assessments the caller may see (published ones of a course they study; all of
/// a course they manage), in creation order.
pub async fn course_assessments(
    conn: &mut PgConnection,
    course: Uuid,
    managed_only: bool,
) -> Result<Vec<AssessmentSummary>, sqlx::Error> {
    sqlx::query_as::<_, SummaryRow>(&format!(
        "SELECT {SUMMARY_COLUMNS} FROM assessments a
         LEFT JOIN LATERAL public.assessment_totals(a.id) t ON true
         WHERE a.course_id = $1 AND (NOT $2 OR private.manages_course(a.course_id))
         ORDER BY a.created_at, a.id"
    ))
    .bind(course)
    .bind(managed_only)
    .fetch_all(conn)
    .await?
    .into_iter()
    .map(TryInto::try_into)
    .collect()
}

/// A question as stored, answer key included only where the caller may read it.
#[derive(Debug, Clone)]
pub struct QuestionRecord {
    /// Id.
    pub id: Uuid,
    /// Its assessment.
    pub assessment_id: Uuid,
    /// Text.
    pub question_text: String,
    /// Type.
    pub question_type: QuestionType,
    /// Learner-visible options.
    pub options: QuestionOptions,
    /// The stored key (`None` when unread or absent).
    pub correct_answer: Option<String>,
    /// Points.
    pub points: i32,
    /// Explanation (`None` when unread or absent).
    pub explanation: Option<String>,
    /// Position.
    pub sort_order: i32,
}

/// The columns of a question as the grader and managers read them.
const QUESTION_COLUMNS: &str =
    "id, assessment_id, question_text, question_type::text AS question_type,
    options, correct_answer, points, explanation, sort_order";

#[derive(sqlx::FromRow)]
struct QuestionRow {
    id: Uuid,
    assessment_id: Uuid,
    question_text: String,
    question_type: String,
    options: sqlx::types::Json<serde_json::Value>,
    correct_answer: Option<String>,
    points: i32,
    explanation: Option<String>,
    sort_order: i32,
}

impl TryFrom<QuestionRow> for QuestionRecord {
    type Error = sqlx::Error;
    fn try_from(r: QuestionRow) -> Result<Self, Self::Error> {
        Ok(Self {
            id: r.id,
            assessment_id: r.assessment_id,
            question_text: r.question_text,
            question_type: decode("question_type", &r.question_type)?,
            // Options written before the typed format (or by hand) that do not fit show none
            // rather than failing the whole assessment.
            options: serde_json::from_value(r.options.0).unwrap_or_default(),
            correct_answer: r.correct_answer,
            points: r.points,
            explanation: r.explanation,
            sort_order: r.sort_order,
        })
    }
}

/// An assessment's questions as a learner may see them: no keys, no explanations (and none at
/// all for a timed assessment they have not started).
pub async fn learner_questions(
    conn: &mut PgConnection,
    assessment: Uuid,
) -> Result<Vec<QuestionRecord>, sqlx::Error> {
    sqlx::query_as::<_, QuestionRow>(
        "SELECT id, assessment_id, question_text, question_type::text AS question_type, options,
                NULL::text AS correct_answer, points, NULL::text AS explanation, sort_order
         FROM public.assessment_questions_for_learner($1)",
    )
    .bind(assessment)
    .fetch_all(conn)
    .await?
    .into_iter()
    .map(TryInto::try_into)
    .collect()
}

/// An assessment's questions with keys and explanations: for its managers (RLS returns nothing
/// to anyone else) and the grader.
pub async fn questions_with_keys(
    conn: &mut PgConnection,
    assessment: Uuid,
) -> Result<Vec<QuestionRecord>, sqlx::Error> {
    sqlx::query_as::<_, QuestionRow>(&format!(
        "SELECT {QUESTION_COLUMNS} FROM assessment_questions
         WHERE assessment_id = $1 ORDER BY sort_order, id"
    ))
    .bind(assessment)
    .fetch_all(conn)
    .await?
    .into_iter()
    .map(TryInto::try_into)
    .collect()
}

/// One question with its key, if the caller manages it.
pub async fn question_with_key(
    conn: &mut PgConnection,
    id: Uuid,
) -> Result<Option<QuestionRecord>, sqlx::Error> {
    sqlx::query_as::<_, QuestionRow>(&format!(
        "SELECT {QUESTION_COLUMNS} FROM assessment_questions WHERE id = $1"
    ))
    .bind(id)
    .fetch_optional(conn)
    .await?
    .map(TryInto::try_into)
    .transpose()
}

/// Keys and explanations of an attempt's questions: for its learner once submitted, for the
/// course's managers always; empty otherwise.
pub async fn attempt_review(
    conn: &mut PgConnection,
    attempt: Uuid,
) -> Result<Vec<(Uuid, Option<String>, Option<String>)>, sqlx::Error> {
    sqlx::query_as("SELECT question_id, correct_answer, explanation FROM public.attempt_review($1)")
        .bind(attempt)
        .fetch_all(conn)
        .await
}

// Attempts --------------------------------------------------------------------------------------

const ATTEMPT_COLUMNS: &str = "t.id, t.assessment_id, t.user_id, t.attempt_number, t.started_at,
    private.attempt_deadline(t.started_at, a.time_limit_minutes) AS deadline,
    t.completed_at, t.score, t.passed, t.time_taken_minutes, a.time_limit_minutes,
    a.passing_score, private.review_open(t.id) AS review_open,
    EXISTS (SELECT 1 FROM user_assessment_answers w
            WHERE w.attempt_id = t.id AND w.is_correct IS NULL) AS awaiting";

/// An attempt as stored.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AttemptRecord {
    /// Id.
    pub id: Uuid,
    /// Assessment.
    pub assessment_id: Uuid,
    /// Learner.
    pub user_id: Uuid,
    /// Number.
    pub attempt_number: i32,
    /// Started (server time).
    pub started_at: DateTime<Utc>,
    /// Last moment answers count (timed only).
    pub deadline: Option<DateTime<Utc>>,
    /// Submitted.
    pub completed_at: Option<DateTime<Utc>>,
    /// Score once graded.
    pub score: Option<i32>,
    /// Passed.
    pub passed: bool,
    /// Minutes taken.
    pub time_taken_minutes: Option<i32>,
    /// The assessment's limit.
    pub time_limit_minutes: Option<i32>,
    /// The assessment's passing score.
    pub passing_score: i32,
    /// Whether its learner may see keys, explanations and per-question grades now (the
    /// assessment's review policy, `private.review_open`).
    pub review_open: bool,
    /// Some answer waits for the instructor.
    awaiting: bool,
}

impl AttemptRecord {
    /// Where it stands.
    pub fn state(&self) -> AttemptState {
        if self.completed_at.is_none() {
            AttemptState::InProgress
        } else if self.score.is_none() || self.awaiting {
            AttemptState::AwaitingGrading
        } else {
            AttemptState::Graded
        }
    }

    /// Whether it is open but past its deadline (it closes with what was saved).
    pub fn expired(&self, now: DateTime<Utc>) -> bool {
        self.completed_at.is_none() && self.deadline.is_some_and(|d| now > d)
    }
}

/// An attempt the caller may see (their own, or one in a course they manage).
pub async fn attempt(
    conn: &mut PgConnection,
    id: Uuid,
) -> Result<Option<AttemptRecord>, sqlx::Error> {
    sqlx::query_as::<_, AttemptRecord>(&format!(
        "SELECT {ATTEMPT_COLUMNS} FROM user_assessment_attempts t
         JOIN assessments a ON a.id = t.assessment_id WHERE t.id = $1"
    ))
    .bind(id)
    .fetch_optional(conn)
    .await
}

/// A learner's attempts at an assessment, newest first.
pub async fn attempts_of(
    conn: &mut PgConnection,
    user: Uuid,
    assessment: Uuid,
) -> Result<Vec<AttemptRecord>, sqlx::Error> {
    sqlx::query_as::<_, AttemptRecord>(&format!(
        "SELECT {ATTEMPT_COLUMNS} FROM user_assessment_attempts t
         JOIN assessments a ON a.id = t.assessment_id
         WHERE t.user_id = $1 AND t.assessment_id = $2 ORDER BY t.attempt_number DESC"
    ))
    .bind(user)
    .bind(assessment)
    .fetch_all(conn)
    .await
}

/// Serialises the starts and submissions of one learner at one assessment until the
/// transaction ends, so "is an attempt open?" and "which number is next?" stay true until the
/// new attempt is written.
pub async fn lock_attempts_of(
    conn: &mut PgConnection,
    user: Uuid,
    assessment: Uuid,
) -> Result<(), sqlx::Error> {
    sqlx::query("SELECT pg_advisory_xact_lock(hashtextextended($1::text || '/' || $2::text, 16))")
        .bind(user)
        .bind(assessment)
        .execute(conn)
        .await
        .map(drop)
}

/// Starts an attempt with the next number. The database stamps the start and refuses a
/// number beyond `max_attempts` (`no_attempts_left`).
pub async fn insert_attempt(
    conn: &mut PgConnection,
    id: Uuid,
    user: Uuid,
    assessment: Uuid,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO user_assessment_attempts (id, user_id, assessment_id, attempt_number)
         SELECT $1, $2, $3, coalesce(max(attempt_number), 0) + 1
         FROM user_assessment_attempts WHERE user_id = $2 AND assessment_id = $3",
    )
    .bind(id)
    .bind(user)
    .bind(assessment)
    .execute(conn)
    .await
    .map(drop)
}

/// Saves answers (stored forms) into an open attempt, replacing earlier ones. The database
/// refuses them after the deadline (`time_limit_passed`) or once submitted.
pub async fn save_answers(
    conn: &mut PgConnection,
    attempt: Uuid,
    answers: &[(Uuid, String)],
) -> Result<(), sqlx::Error> {
    if answers.is_empty() {
        return Ok(());
    }
    let (questions, texts): (Vec<Uuid>, Vec<String>) = answers.iter().cloned().unzip();
    sqlx::query(
        "INSERT INTO user_assessment_answers (attempt_id, question_id, answer_text)
         SELECT $1, q, a FROM unnest($2::uuid[], $3::text[]) AS x(q, a)
         ON CONFLICT (attempt_id, question_id) DO UPDATE SET answer_text = EXCLUDED.answer_text",
    )
    .bind(attempt)
    .bind(&questions)
    .bind(&texts)
    .execute(conn)
    .await
    .map(drop)
}

/// Submits an open attempt (the database stamps the time). False if it was already submitted.
pub async fn submit(conn: &mut PgConnection, attempt: Uuid) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE user_assessment_attempts SET completed_at = now()
         WHERE id = $1 AND completed_at IS NULL",
    )
    .bind(attempt)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// One saved answer.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AnswerRecord {
    /// Id.
    pub id: Uuid,
    /// Question.
    pub question_id: Uuid,
    /// The stored answer.
    pub answer_text: Option<String>,
    /// Full points; `None` until graded.
    pub is_correct: Option<bool>,
    /// Points earned.
    pub points_earned: i32,
    /// The instructor's feedback.
    pub feedback: Option<String>,
}

/// An attempt's saved answers.
pub async fn answers(
    conn: &mut PgConnection,
    attempt: Uuid,
) -> Result<Vec<AnswerRecord>, sqlx::Error> {
    sqlx::query_as::<_, AnswerRecord>(
        "SELECT id, question_id, answer_text, is_correct, points_earned, feedback
         FROM user_assessment_answers WHERE attempt_id = $1",
    )
    .bind(attempt)
    .fetch_all(conn)
    .await
}

// Grading ---------------------------------------------------------------------------------------

/// Grades a submitted attempt: every question gets an answer row with its grade (unanswered
/// ones earn nothing), and when nothing waits for the instructor the score, pass and time
/// taken become final. Runs as the server's grader (`service_role`) for the rest of the
/// transaction's current step; [`act_as`] gives the caller's role back.
pub async fn grade_submitted(
    conn: &mut PgConnection,
    caller: Caller,
    attempt: Uuid,
) -> Result<(), sqlx::Error> {
    act_as_grader(conn).await?;
    let result = grade_as_grader(conn, attempt).await;
    act_as(conn, caller).await?;
    result
}

async fn grade_as_grader(conn: &mut PgConnection, attempt: Uuid) -> Result<(), sqlx::Error> {
    let Some(record) = self::attempt(conn, attempt).await? else {
        return Ok(());
    };
    let questions = questions_with_keys(conn, record.assessment_id).await?;
    let saved = answers(conn, attempt).await?;
    let mut ids = Vec::with_capacity(questions.len());
    let mut correct = Vec::with_capacity(questions.len());
    let mut points = Vec::with_capacity(questions.len());
    for q in &questions {
        let answer = saved.iter().find(|a| a.question_id == q.id);
        // Answers an instructor graded already keep their grade.
        if answer.is_some_and(|a| a.is_correct.is_some()) {
            continue;
        }
        let key = grading::key_from_stored(q.question_type, q.correct_answer.as_deref());
        let grade = grading::grade(
            q.question_type,
            key.as_ref(),
            q.points,
            answer.and_then(|a| a.answer_text.as_deref()),
        );
        ids.push(q.id);
        correct.push(grade.is_correct);
        points.push(grade.points);
    }
    sqlx::query(
        "INSERT INTO user_assessment_answers (attempt_id, question_id, is_correct, points_earned)
         SELECT $1, q, c, p FROM unnest($2::uuid[], $3::bool[], $4::int[]) AS x(q, c, p)
         ON CONFLICT (attempt_id, question_id)
         DO UPDATE SET is_correct = EXCLUDED.is_correct, points_earned = EXCLUDED.points_earned",
    )
    .bind(attempt)
    .bind(&ids)
    .bind(&correct)
    .bind(&points)
    .execute(&mut *conn)
    .await?;
    finalize(conn, attempt).await
}

/// Makes an attempt's score and pass final if no answer waits for the instructor; records the
/// time taken (capped at the limit) either way. Runs as the grader or the course's manager.
pub async fn finalize(conn: &mut PgConnection, attempt: Uuid) -> Result<(), sqlx::Error> {
    let (earned, possible, waiting): (i64, i64, bool) = sqlx::query_as(
        "SELECT coalesce((SELECT sum(w.points_earned) FROM user_assessment_answers w
                          JOIN assessment_questions q ON q.id = w.question_id
                          WHERE w.attempt_id = t.id), 0)::bigint,
                coalesce((SELECT sum(q.points) FROM assessment_questions q
                          WHERE q.assessment_id = t.assessment_id), 0)::bigint,
                EXISTS (SELECT 1 FROM user_assessment_answers w
                        WHERE w.attempt_id = t.id AND w.is_correct IS NULL)
         FROM user_assessment_attempts t WHERE t.id = $1",
    )
    .bind(attempt)
    .fetch_one(&mut *conn)
    .await?;
    let score = (!waiting).then(|| grading::score(earned, possible));
    sqlx::query(
        "UPDATE user_assessment_attempts t SET
           score = $2,
           passed = coalesce($2 >= a.passing_score, false),
           time_taken_minutes = least(
             ceil(extract(epoch FROM t.completed_at - t.started_at) / 60)::integer,
             coalesce(a.time_limit_minutes, 2147483647))
         FROM assessments a
         WHERE t.id = $1 AND a.id = t.assessment_id",
    )
    .bind(attempt)
    .bind(score)
    .execute(conn)
    .await?;
    Ok(())
}

/// The rest of the transaction runs as the server's grader, which may read answer keys and
/// write grades.
async fn act_as_grader(conn: &mut PgConnection) -> Result<(), sqlx::Error> {
    sqlx::query("SELECT set_config('role', 'service_role', true)")
        .execute(conn)
        .await
        .map(drop)
}

/// The rest of the transaction runs as `caller` again.
pub async fn act_as(conn: &mut PgConnection, caller: Caller) -> Result<(), sqlx::Error> {
    sqlx::query("SELECT set_config('role', $1, true)")
        .bind(caller.db_role())
        .execute(conn)
        .await
        .map(drop)
}

/// Open attempts past their deadline, closed at their deadline and graded with what was saved
/// (run as `service_role` by the server's sweeper). Returns how many were closed.
pub async fn close_expired(conn: &mut PgConnection, limit: i64) -> Result<usize, sqlx::Error> {
    let closed: Vec<Uuid> = sqlx::query_scalar(
        "UPDATE user_assessment_attempts t
         SET completed_at = private.attempt_deadline(t.started_at, a.time_limit_minutes)
         FROM assessments a
         WHERE a.id = t.assessment_id AND t.id IN (
           SELECT t2.id FROM user_assessment_attempts t2
           JOIN assessments a2 ON a2.id = t2.assessment_id
           WHERE t2.completed_at IS NULL
             AND private.attempt_deadline(t2.started_at, a2.time_limit_minutes) < now()
           ORDER BY t2.started_at LIMIT $1 FOR UPDATE OF t2 SKIP LOCKED)
         RETURNING t.id",
    )
    .bind(limit)
    .fetch_all(&mut *conn)
    .await?;
    for id in &closed {
        grade_as_grader(conn, *id).await?;
    }
    Ok(closed.len())
}

// Authoring -------------------------------------------------------------------------------------

/// Creates an assessment in a course (RLS: only its managers may).
pub async fn create_assessment(
    conn: &mut PgConnection,
    course: Uuid,
    draft: &AssessmentDraft,
) -> Result<Uuid, sqlx::Error> {
    sqlx::query_scalar(
        "INSERT INTO assessments (course_id, title, description, type, time_limit_minutes,
                                  max_attempts, passing_score, review_policy, is_published)
         VALUES ($1, $2, $3, $4::assessment_type, $5, $6, $7, $8::review_policy, false)
         RETURNING id",
    )
    .bind(course)
    .bind(&draft.title)
    .bind(&draft.description)
    .bind(draft.kind.as_str())
    .bind(draft.time_limit_minutes)
    .bind(draft.max_attempts)
    .bind(draft.passing_score)
    .bind(draft.review_policy.map(ReviewPolicy::as_str))
    .fetch_one(conn)
    .await
}

/// Applies a patch (absent fields unchanged).
pub async fn update_assessment(
    conn: &mut PgConnection,
    id: Uuid,
    patch: &AssessmentPatch,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE assessments SET
           title = coalesce($2, title),
           description = CASE WHEN $3 THEN $4 ELSE description END,
           type = coalesce($5::assessment_type, type),
           time_limit_minutes = CASE WHEN $6 THEN $7 ELSE time_limit_minutes END,
           max_attempts = CASE WHEN $8 THEN $9 ELSE max_attempts END,
           passing_score = coalesce($10, passing_score),
           is_published = coalesce($11, is_published),
           review_policy = CASE WHEN $12 THEN $13::review_policy ELSE review_policy END
         WHERE id = $1",
    )
    .bind(id)
    .bind(&patch.title)
    .bind(patch.description.is_some())
    .bind(patch.description.clone().flatten())
    .bind(patch.kind.map(AssessmentType::as_str))
    .bind(patch.time_limit_minutes.is_some())
    .bind(patch.time_limit_minutes.flatten())
    .bind(patch.max_attempts.is_some())
    .bind(patch.max_attempts.flatten())
    .bind(patch.passing_score)
    .bind(patch.is_published)
    .bind(patch.review_policy.is_some())
    .bind(patch.review_policy.flatten().map(ReviewPolicy::as_str))
    .execute(conn)
    .await
    .map(drop)
}

/// Whether any learner has submitted an attempt (then deleting would destroy their results).
pub async fn has_submitted_attempts(
    conn: &mut PgConnection,
    assessment: Uuid,
) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM user_assessment_attempts
                        WHERE assessment_id = $1 AND completed_at IS NOT NULL)",
    )
    .bind(assessment)
    .fetch_one(conn)
    .await
}

/// Deletes an assessment (with its questions). False if the caller may not.
pub async fn delete_assessment(conn: &mut PgConnection, id: Uuid) -> Result<bool, sqlx::Error> {
    Ok(sqlx::query("DELETE FROM assessments WHERE id = $1")
        .bind(id)
        .execute(conn)
        .await?
        .rows_affected()
        == 1)
}

/// A question to write: text, type, options and key in their stored forms.
#[derive(Debug, Clone)]
pub struct QuestionWrite {
    /// Text.
    pub question_text: String,
    /// Type.
    pub question_type: QuestionType,
    /// Options (learner-visible).
    pub options: QuestionOptions,
    /// Stored key.
    pub correct_answer: Option<String>,
    /// Points.
    pub points: i32,
    /// Explanation.
    pub explanation: Option<String>,
    /// Position; `None`: after the last.
    pub sort_order: Option<i32>,
}

/// Adds a question.
pub async fn create_question(
    conn: &mut PgConnection,
    assessment: Uuid,
    q: &QuestionWrite,
) -> Result<Uuid, sqlx::Error> {
    sqlx::query_scalar(
        "INSERT INTO assessment_questions (assessment_id, question_text, question_type, options,
                                           correct_answer, points, explanation, sort_order)
         VALUES ($1, $2, $3::question_type, $4, $5, $6, $7,
                 coalesce($8, (SELECT coalesce(max(sort_order), -1) + 1
                               FROM assessment_questions WHERE assessment_id = $1)))
         RETURNING id",
    )
    .bind(assessment)
    .bind(&q.question_text)
    .bind(q.question_type.as_str())
    .bind(sqlx::types::Json(&q.options))
    .bind(&q.correct_answer)
    .bind(q.points)
    .bind(&q.explanation)
    .bind(q.sort_order)
    .fetch_one(conn)
    .await
}

/// Replaces a question's fields with `q` (the handler merged the patch).
pub async fn update_question(
    conn: &mut PgConnection,
    id: Uuid,
    q: &QuestionWrite,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE assessment_questions SET question_text = $2, question_type = $3::question_type,
           options = $4, correct_answer = $5, points = $6, explanation = $7,
           sort_order = coalesce($8, sort_order)
         WHERE id = $1",
    )
    .bind(id)
    .bind(&q.question_text)
    .bind(q.question_type.as_str())
    .bind(sqlx::types::Json(&q.options))
    .bind(&q.correct_answer)
    .bind(q.points)
    .bind(&q.explanation)
    .bind(q.sort_order)
    .execute(conn)
    .await
    .map(drop)
}

/// Whether a question has answers in submitted attempts.
pub async fn question_has_answers(
    conn: &mut PgConnection,
    question: Uuid,
) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM user_assessment_answers w
                        JOIN user_assessment_attempts t ON t.id = w.attempt_id
                        WHERE w.question_id = $1 AND t.completed_at IS NOT NULL)",
    )
    .bind(question)
    .fetch_one(conn)
    .await
}

/// Deletes a question. False if the caller may not.
pub async fn delete_question(conn: &mut PgConnection, id: Uuid) -> Result<bool, sqlx::Error> {
    Ok(
        sqlx::query("DELETE FROM assessment_questions WHERE id = $1")
            .bind(id)
            .execute(conn)
            .await?
            .rows_affected()
            == 1,
    )
}

// Grading by hand, attempts and statistics ------------------------------------------------------

#[derive(sqlx::FromRow)]
struct PendingRow {
    answer_id: Uuid,
    attempt_id: Uuid,
    assessment_id: Uuid,
    assessment_title: String,
    course_id: Uuid,
    learner_id: Uuid,
    learner_name: Option<String>,
    question_id: Uuid,
    question_text: String,
    question_type: String,
    points_possible: i32,
    answer_text: Option<String>,
    submitted_at: DateTime<Utc>,
}

/// Essay and code answers of submitted attempts in the courses the caller manages, waiting for
/// a grade, oldest submission first.
pub async fn grading_queue(
    conn: &mut PgConnection,
    course: Option<Uuid>,
    limit: i64,
) -> Result<Vec<PendingAnswer>, sqlx::Error> {
    sqlx::query_as::<_, PendingRow>(
        "SELECT w.id AS answer_id, t.id AS attempt_id, a.id AS assessment_id,
                a.title AS assessment_title, a.course_id, t.user_id AS learner_id,
                p.full_name AS learner_name, q.id AS question_id, q.question_text,
                q.question_type::text AS question_type, q.points AS points_possible,
                w.answer_text, t.completed_at AS submitted_at
         FROM user_assessment_answers w
         JOIN user_assessment_attempts t ON t.id = w.attempt_id
         JOIN assessments a ON a.id = t.assessment_id
         JOIN assessment_questions q ON q.id = w.question_id
         LEFT JOIN LATERAL public.learner_cards(ARRAY[t.user_id]) p ON true
         WHERE w.is_correct IS NULL AND t.completed_at IS NOT NULL
           AND private.manages_course(a.course_id)
           AND ($1::uuid IS NULL OR a.course_id = $1)
         ORDER BY t.completed_at, q.sort_order, w.id
         LIMIT $2",
    )
    .bind(course)
    .bind(limit)
    .fetch_all(conn)
    .await?
    .into_iter()
    .map(|r| {
        Ok(PendingAnswer {
            answer_id: r.answer_id,
            attempt_id: r.attempt_id,
            assessment_id: r.assessment_id,
            assessment_title: r.assessment_title,
            course_id: r.course_id,
            learner_id: r.learner_id,
            learner_name: r.learner_name,
            question_id: r.question_id,
            question_text: r.question_text,
            question_type: decode("question_type", &r.question_type)?,
            points_possible: r.points_possible,
            answer_text: r.answer_text,
            submitted_at: r.submitted_at,
        })
    })
    .collect()
}

/// An answer an instructor may grade: its attempt, the question's type and points, and
/// whether the attempt is submitted.
pub async fn gradable_answer(
    conn: &mut PgConnection,
    answer: Uuid,
) -> Result<Option<(Uuid, QuestionType, i32, bool)>, sqlx::Error> {
    let row: Option<(Uuid, String, i32, bool)> = sqlx::query_as(
        "SELECT w.attempt_id, q.question_type::text, q.points, t.completed_at IS NOT NULL
         FROM user_assessment_answers w
         JOIN user_assessment_attempts t ON t.id = w.attempt_id
         JOIN assessment_questions q ON q.id = w.question_id
         WHERE w.id = $1 AND private.manages_assessment(t.assessment_id)
         FOR UPDATE OF t",
    )
    .bind(answer)
    .fetch_optional(conn)
    .await?;
    row.map(|(attempt, kind, points, submitted)| {
        Ok((attempt, decode("question_type", &kind)?, points, submitted))
    })
    .transpose()
}

/// Records an instructor's grade for one answer.
pub async fn grade_answer(
    conn: &mut PgConnection,
    answer: Uuid,
    points: i32,
    full_points: i32,
    feedback: Option<&str>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE user_assessment_answers SET points_earned = $2, is_correct = ($2 = $3),
           feedback = $4, graded_at = now(), graded_by = auth.uid()
         WHERE id = $1",
    )
    .bind(answer)
    .bind(points)
    .bind(full_points)
    .bind(feedback)
    .execute(conn)
    .await
    .map(drop)
}

#[derive(sqlx::FromRow)]
struct LearnerAttemptRow {
    #[sqlx(flatten)]
    record: AttemptRecord,
    learner_name: Option<String>,
}

/// Every attempt at an assessment the caller manages, by learner then number.
pub async fn learner_attempts(
    conn: &mut PgConnection,
    assessment: Uuid,
) -> Result<Vec<LearnerAttempt>, sqlx::Error> {
    let rows = sqlx::query_as::<_, LearnerAttemptRow>(&format!(
        "SELECT {ATTEMPT_COLUMNS}, p.full_name AS learner_name
         FROM user_assessment_attempts t
         JOIN assessments a ON a.id = t.assessment_id
         LEFT JOIN LATERAL public.learner_cards(ARRAY[t.user_id]) p ON true
         WHERE t.assessment_id = $1 AND private.manages_course(a.course_id)
         ORDER BY p.full_name NULLS LAST, t.user_id, t.attempt_number"
    ))
    .bind(assessment)
    .fetch_all(conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| LearnerAttempt {
            attempt_id: r.record.id,
            learner_id: r.record.user_id,
            learner_name: r.learner_name,
            attempt_number: r.record.attempt_number,
            state: r.record.state(),
            started_at: r.record.started_at,
            completed_at: r.record.completed_at,
            score: r.record.score,
            passed: r.record.passed,
        })
        .collect())
}

/// Submitted and passed attempts at an assessment.
pub async fn attempt_totals(
    conn: &mut PgConnection,
    assessment: Uuid,
) -> Result<(i64, i64), sqlx::Error> {
    sqlx::query_as(
        "SELECT count(*) FILTER (WHERE completed_at IS NOT NULL),
                count(*) FILTER (WHERE completed_at IS NOT NULL AND passed)
         FROM user_assessment_attempts WHERE assessment_id = $1",
    )
    .bind(assessment)
    .fetch_one(conn)
    .await
}

/// How one question fared: its id, graded answers, correct ones, and the most common wrong
/// answers (stored forms) with their counts.
pub type QuestionTally = (Uuid, i64, i64, Vec<(String, i64)>);

/// Per question of an assessment: graded answers, correct ones, and the five most common
/// wrong answers.
pub async fn question_statistics(
    conn: &mut PgConnection,
    assessment: Uuid,
) -> Result<Vec<QuestionTally>, sqlx::Error> {
    type Row = (Uuid, i64, i64, sqlx::types::Json<Vec<(String, i64)>>);
    let rows: Vec<Row> = sqlx::query_as(
        "SELECT q.id,
                count(w.id) FILTER (WHERE w.is_correct IS NOT NULL),
                count(w.id) FILTER (WHERE w.is_correct),
                coalesce((SELECT json_agg(json_build_array(x.answer_text, x.n) ORDER BY x.n DESC,
                                          x.answer_text)
                          FROM (SELECT w2.answer_text, count(*) AS n
                                FROM user_assessment_answers w2
                                JOIN user_assessment_attempts t2 ON t2.id = w2.attempt_id
                                WHERE w2.question_id = q.id AND w2.is_correct = false
                                  AND w2.answer_text IS NOT NULL
                                  AND q.question_type NOT IN ('essay', 'code')
                                  AND t2.completed_at IS NOT NULL
                                GROUP BY w2.answer_text ORDER BY n DESC, w2.answer_text
                                LIMIT 5) x), '[]'::json)
         FROM assessment_questions q
         LEFT JOIN user_assessment_answers w ON w.question_id = q.id
         WHERE q.assessment_id = $1
         GROUP BY q.id, q.sort_order ORDER BY q.sort_order, q.id",
    )
    .bind(assessment)
    .fetch_all(conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(id, graded, correct, wrong)| (id, graded, correct, wrong.0))
        .collect())
}

/// Closes and grades attempts whose time ran out while nobody looked, in batches, as the
/// server itself. Returns how many it closed.
pub async fn sweep_expired_attempts(api: &sqlx::PgPool) -> Result<usize, sqlx::Error> {
    let mut total = 0;
    loop {
        let mut tx = super::session::begin_service(api).await?;
        let closed = close_expired(&mut tx, 100).await?;
        tx.commit().await?;
        total += closed;
        if closed < 100 {
            return Ok(total);
        }
    }
}
