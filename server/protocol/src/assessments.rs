//! Quizzes and exams: what a learner sees and sends while taking one, what comes back after
//! grading, and what an instructor sends to author and grade them.
//!
//! **Answer keys** ([`AnswerKey`]) and explanations reach a learner only inside a submitted
//! [`Attempt`]; [`QuestionOptions`] holds only what a learner may see before answering, and
//! refuses unknown fields so a key cannot be smuggled into it.
//!
//! **Answers** ([`AnswerValue`]) by question type: `multiple_choice` an array of choice ids
//! (one id when the question is not `multiple`), `true_false` a boolean, `short_answer`,
//! `essay` and `code` a string.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use ts_rs::TS;
use uuid::Uuid;

use crate::authoring::nullable;
use crate::enums::{AssessmentType, QuestionType, ReviewPolicy};

/// One choice of a multiple-choice question.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
#[ts(export)]
pub struct Choice {
    /// Stable id within the question, e.g. `"a"`.
    pub id: String,
    /// What the learner reads.
    pub text: String,
}

/// What a learner sees of a question besides its text, by type: `choices` and `multiple` for
/// multiple choice; `min_words` for essays; `language` and `starter_code` for code. Nothing
/// else is accepted: the answer key has its own field ([`AnswerKey`]).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
#[ts(export)]
pub struct QuestionOptions {
    /// The choices, in display order (multiple choice).
    #[serde(default)]
    #[ts(optional = nullable)]
    pub choices: Option<Vec<Choice>>,
    /// Whether more than one choice is right and may be picked (multiple choice).
    #[serde(default)]
    #[ts(optional = nullable)]
    pub multiple: Option<bool>,
    /// A suggested minimum length (essays).
    #[serde(default)]
    #[ts(optional = nullable)]
    pub min_words: Option<i32>,
    /// The programming language (code).
    #[serde(default)]
    #[ts(optional = nullable)]
    pub language: Option<String>,
    /// Code the answer starts from (code).
    #[serde(default)]
    #[ts(optional = nullable)]
    pub starter_code: Option<String>,
}

/// A learner's answer to one question (see the module's documentation for which form goes
/// with which question type).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(untagged)]
#[ts(export)]
pub enum AnswerValue {
    /// Picked choice ids (multiple choice).
    Choices(Vec<String>),
    /// True or false.
    Boolean(bool),
    /// Text (short answer, essay, code).
    Text(String),
}

/// The right answer of an automatically graded question. Essays and code have none: the
/// course's instructor grades them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "kind", rename_all = "snake_case")]
#[ts(export)]
pub enum AnswerKey {
    /// Multiple choice: exactly these choice ids must be picked, no more, no fewer.
    Choices {
        /// The right choice ids.
        ids: Vec<String>,
    },
    /// True/false.
    TrueFalse {
        /// The right value.
        value: bool,
    },
    /// Short answer: any of these, compared ignoring case, spacing and punctuation.
    Accepted {
        /// The accepted answers.
        answers: Vec<String>,
    },
}

// Taking an assessment --------------------------------------------------------------------------

/// An assessment as a learner or its instructor sees it, without its questions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[ts(export)]
pub struct AssessmentSummary {
    /// Id.
    pub id: Uuid,
    /// Its course.
    pub course_id: Uuid,
    /// Title.
    pub title: String,
    /// Description.
    pub description: Option<String>,
    /// Quiz, assignment or final exam (which must be passed for the course to complete).
    pub kind: AssessmentType,
    /// Minutes from the start of an attempt; `null`: untimed (and it can be taken offline).
    pub time_limit_minutes: Option<i32>,
    /// Attempts allowed; `null`: unlimited.
    pub max_attempts: Option<i32>,
    /// Score needed to pass, 0–100.
    pub passing_score: i32,
    /// When learners see answer keys and explanations (the default for its kind and limits
    /// unless its instructor chose one).
    pub review_policy: ReviewPolicy,
    /// Whether learners can take it (if its course is published too).
    pub is_published: bool,
    /// Number of questions.
    pub question_count: i32,
    /// Points of all its questions together.
    pub points_possible: i32,
}

/// A question as a learner sees it: never its answer key or explanation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[ts(export)]
pub struct LearnerQuestion {
    /// Id.
    pub id: Uuid,
    /// The question (markdown).
    pub question_text: String,
    /// How it is answered.
    pub question_type: QuestionType,
    /// Choices and hints.
    pub options: QuestionOptions,
    /// What it is worth.
    pub points: i32,
    /// Position.
    pub sort_order: i32,
}

/// `GET /api/v1/assessments/{id}`: an assessment for the learner who may take it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[ts(export)]
pub struct LearnerAssessment {
    /// The assessment.
    pub assessment: AssessmentSummary,
    /// Its questions. Empty for a timed assessment until the learner starts an attempt, so
    /// nobody reads an exam before its clock runs.
    pub questions: Vec<LearnerQuestion>,
    /// Attempts the caller has started.
    pub attempts_used: i32,
    /// Attempts left; `null`: unlimited.
    pub attempts_left: Option<i32>,
    /// The caller's attempt in progress, if any.
    pub open_attempt: Option<Uuid>,
}

/// `POST /api/v1/assessments/{id}/attempts`: start an attempt with an id the client chose, so
/// that a retried request is the same attempt, not a second one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
#[ts(export)]
pub struct AttemptStart {
    /// The new attempt's id (UUIDv7 recommended).
    pub id: Uuid,
}

/// `PUT /api/v1/attempts/{id}/answers/{question}`: save one answer while the attempt is open.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
#[ts(export)]
pub struct AnswerSave {
    /// The answer.
    pub answer: AnswerValue,
}

/// One answer in a submission.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
#[ts(export)]
pub struct AnswerEntry {
    /// The question.
    pub question_id: Uuid,
    /// The answer.
    pub answer: AnswerValue,
}

/// `PUT /api/v1/attempts/{id}/submission`: submit an attempt for grading, with any answers not
/// saved yet. Idempotent: submitting a submitted attempt again answers with its result and
/// changes nothing. An attempt the server has never seen is created and submitted at once —
/// how an untimed assessment taken offline arrives; a timed one must have been started online.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
#[ts(export)]
pub struct AttemptSubmission {
    /// The assessment (checked against the attempt's).
    pub assessment_id: Uuid,
    /// Answers, at most one per question; they replace saved ones. Questions left out keep
    /// their saved answer, or count as unanswered.
    #[serde(default)]
    pub answers: Vec<AnswerEntry>,
}

/// Where an attempt stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum AttemptState {
    /// Started, not submitted.
    InProgress,
    /// Submitted; an instructor still has essays or code to grade.
    AwaitingGrading,
    /// Score and pass are final.
    Graded,
}

/// One question of an attempt, with the learner's answer and, once submitted, its grade, the
/// answer key and the explanation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[ts(export)]
pub struct AttemptQuestion {
    /// The question.
    pub question: LearnerQuestion,
    /// The learner's answer, if any.
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub answer: Option<AnswerValue>,
    /// Whether it earned full points; `null` until graded.
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub is_correct: Option<bool>,
    /// Points earned.
    pub points_earned: i32,
    /// The instructor's feedback (essays, code).
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub feedback: Option<String>,
    /// The right answer, after submission (none for essays and code).
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub correct_answer: Option<AnswerKey>,
    /// Why, after submission.
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub explanation: Option<String>,
}

/// An attempt at an assessment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[ts(export)]
pub struct Attempt {
    /// Id (chosen by the client that started it).
    pub id: Uuid,
    /// The assessment.
    pub assessment_id: Uuid,
    /// The learner.
    pub user_id: Uuid,
    /// 1 for the first attempt, and so on.
    pub attempt_number: i32,
    /// Where it stands.
    pub state: AttemptState,
    /// When the server started it.
    pub started_at: DateTime<Utc>,
    /// The last moment answers are accepted (timed assessments: start + limit + 30 s).
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub deadline: Option<DateTime<Utc>>,
    /// When it was submitted.
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub completed_at: Option<DateTime<Utc>>,
    /// Points earned ÷ points possible × 100, rounded down; `null` until graded.
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub score: Option<i32>,
    /// Score ≥ the passing score (final once graded).
    pub passed: bool,
    /// Minutes from start to submission (at most the time limit).
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub time_taken_minutes: Option<i32>,
    /// Whether the assessment's review policy lets its learner see the answer keys,
    /// explanations and which answers were right; until then they are `null` (the score and the
    /// instructor's feedback on essays and code are always shown).
    pub review_open: bool,
    /// Its questions with answers (and grades, keys and explanations once the review is open).
    pub questions: Vec<AttemptQuestion>,
}

/// A learner's attempts at one assessment, newest first (without their questions).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[ts(export)]
pub struct AttemptList {
    /// The attempts (their `questions` are empty here).
    pub items: Vec<Attempt>,
}

// Authoring -------------------------------------------------------------------------------------

/// `POST /api/v1/authoring/courses/{id}/assessments`: a new assessment (unpublished unless
/// said otherwise; publishing needs questions, see [`AssessmentPatch`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
#[ts(export)]
pub struct AssessmentDraft {
    /// Title, 1–200 characters.
    #[cfg_attr(
        feature = "openapi",
        schema(min_length = 1, max_length = 200, pattern = r"\S")
    )]
    pub title: String,
    /// Description.
    #[serde(default)]
    #[ts(optional)]
    #[cfg_attr(feature = "openapi", schema(max_length = 10_000))]
    pub description: Option<String>,
    /// Quiz, assignment or final exam.
    pub kind: AssessmentType,
    /// Minutes per attempt, 1–1440; absent: untimed.
    #[serde(default)]
    #[ts(optional)]
    #[cfg_attr(feature = "openapi", schema(minimum = 1, maximum = 1440))]
    pub time_limit_minutes: Option<i32>,
    /// Attempts allowed, 1–100 (default 1); `null`: unlimited.
    #[serde(default = "one_attempt")]
    #[ts(optional)]
    #[cfg_attr(feature = "openapi", schema(minimum = 1, maximum = 100))]
    pub max_attempts: Option<i32>,
    /// Score needed to pass, 0–100 (default 70).
    #[serde(default = "seventy")]
    #[cfg_attr(feature = "openapi", schema(minimum = 0, maximum = 100))]
    pub passing_score: i32,
    /// When learners see keys and explanations; absent: the default for its kind and limits
    /// (see [`ReviewPolicy`]).
    #[serde(default)]
    #[ts(optional)]
    pub review_policy: Option<ReviewPolicy>,
}

#[allow(
    clippy::unnecessary_wraps,
    reason = "serde's default must return the field's type"
)]
fn one_attempt() -> Option<i32> {
    Some(1)
}

fn seventy() -> i32 {
    70
}

/// `PATCH /api/v1/authoring/assessments/{id}`: changes only the fields present. Publishing
/// needs at least one question, points to earn, and an answer key on every question graded
/// by the server.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
#[ts(export)]
pub struct AssessmentPatch {
    /// Title.
    #[serde(default)]
    #[ts(optional)]
    #[cfg_attr(
        feature = "openapi",
        schema(min_length = 1, max_length = 200, pattern = r"\S")
    )]
    pub title: Option<String>,
    /// Description; `null` or `""` clears it.
    #[serde(default, with = "nullable")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    #[ts(as = "Option<String>", optional = nullable)]
    #[cfg_attr(feature = "openapi", schema(max_length = 10_000))]
    pub description: Option<Option<String>>,
    /// Quiz, assignment or final exam.
    #[serde(default)]
    #[ts(optional)]
    pub kind: Option<AssessmentType>,
    /// Minutes per attempt; `null` makes it untimed.
    #[serde(default, with = "nullable")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<i32>))]
    #[ts(as = "Option<i32>", optional = nullable)]
    #[cfg_attr(feature = "openapi", schema(minimum = 1, maximum = 1440))]
    pub time_limit_minutes: Option<Option<i32>>,
    /// Attempts allowed; `null`: unlimited.
    #[serde(default, with = "nullable")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<i32>))]
    #[ts(as = "Option<i32>", optional = nullable)]
    #[cfg_attr(feature = "openapi", schema(minimum = 1, maximum = 100))]
    pub max_attempts: Option<Option<i32>>,
    /// Score needed to pass.
    #[serde(default)]
    #[ts(optional)]
    #[cfg_attr(feature = "openapi", schema(minimum = 0, maximum = 100))]
    pub passing_score: Option<i32>,
    /// When learners see keys and explanations; `null`: back to the default for its kind and
    /// limits.
    #[serde(default, with = "nullable")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<ReviewPolicy>))]
    #[ts(as = "Option<ReviewPolicy>", optional = nullable)]
    pub review_policy: Option<Option<ReviewPolicy>>,
    /// Publish or hide it.
    #[serde(default)]
    #[ts(optional)]
    pub is_published: Option<bool>,
}

/// A question as its instructor sees it: with its answer key and explanation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[ts(export)]
pub struct AuthoredQuestion {
    /// Id.
    pub id: Uuid,
    /// Its assessment.
    pub assessment_id: Uuid,
    /// The question (markdown).
    pub question_text: String,
    /// How it is answered.
    pub question_type: QuestionType,
    /// What learners see besides the text.
    pub options: QuestionOptions,
    /// The right answer (none for essays and code).
    pub answer_key: Option<AnswerKey>,
    /// What it is worth.
    pub points: i32,
    /// Shown to learners after they submit.
    pub explanation: Option<String>,
    /// Position.
    pub sort_order: i32,
}

/// An assessment with its questions and keys, for its instructor.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[ts(export)]
pub struct AuthoredAssessment {
    /// The assessment.
    pub assessment: AssessmentSummary,
    /// Its questions in order.
    pub questions: Vec<AuthoredQuestion>,
}

/// A course's assessments, for its instructor.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[ts(export)]
pub struct AssessmentList {
    /// The assessments, in creation order.
    pub items: Vec<AssessmentSummary>,
}

/// `POST /api/v1/authoring/assessments/{id}/questions`: a new question. The key must fit the
/// type: choice ids of existing choices (exactly one unless `multiple`), a boolean, or at
/// least one accepted answer; essays and code take none.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
#[ts(export)]
pub struct QuestionDraft {
    /// The question, 1–10,000 characters.
    pub question_text: String,
    /// How it is answered.
    pub question_type: QuestionType,
    /// What learners see besides the text.
    #[serde(default)]
    pub options: QuestionOptions,
    /// The right answer.
    #[serde(default)]
    #[ts(optional)]
    pub answer_key: Option<AnswerKey>,
    /// What it is worth, 0–1000 (default 1).
    #[serde(default = "one_point")]
    pub points: i32,
    /// Shown after submission.
    #[serde(default)]
    #[ts(optional)]
    pub explanation: Option<String>,
    /// Position (default: after the last question).
    #[serde(default)]
    #[ts(optional)]
    pub sort_order: Option<i32>,
}

fn one_point() -> i32 {
    1
}

/// `PATCH /api/v1/authoring/questions/{id}`: changes only the fields present; the result must
/// still fit together (type, options and key). Attempts graded already keep their grades.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
#[ts(export)]
pub struct QuestionPatch {
    /// The question.
    #[serde(default)]
    #[ts(optional)]
    pub question_text: Option<String>,
    /// How it is answered.
    #[serde(default)]
    #[ts(optional)]
    pub question_type: Option<QuestionType>,
    /// Replaces the options.
    #[serde(default)]
    #[ts(optional)]
    pub options: Option<QuestionOptions>,
    /// The right answer; `null` removes it (essays and code).
    #[serde(default, with = "nullable")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<AnswerKey>))]
    #[ts(as = "Option<AnswerKey>", optional = nullable)]
    pub answer_key: Option<Option<AnswerKey>>,
    /// Points.
    #[serde(default)]
    #[ts(optional)]
    pub points: Option<i32>,
    /// Explanation; `null` or `""` clears it.
    #[serde(default, with = "nullable")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    #[ts(as = "Option<String>", optional = nullable)]
    pub explanation: Option<Option<String>>,
    /// Position.
    #[serde(default)]
    #[ts(optional)]
    pub sort_order: Option<i32>,
}

// Grading and statistics ------------------------------------------------------------------------

/// An essay or code answer waiting for its instructor.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[ts(export)]
pub struct PendingAnswer {
    /// The answer to grade.
    pub answer_id: Uuid,
    /// Its attempt.
    pub attempt_id: Uuid,
    /// The assessment.
    pub assessment_id: Uuid,
    /// Its title.
    pub assessment_title: String,
    /// The course.
    pub course_id: Uuid,
    /// The learner.
    pub learner_id: Uuid,
    /// Their name.
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub learner_name: Option<String>,
    /// The question.
    pub question_id: Uuid,
    /// Its text.
    pub question_text: String,
    /// Essay or code.
    pub question_type: QuestionType,
    /// What it is worth.
    pub points_possible: i32,
    /// The learner's answer.
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub answer_text: Option<String>,
    /// When the attempt was submitted.
    pub submitted_at: DateTime<Utc>,
}

/// `GET /api/v1/authoring/grading-queue`: answers waiting for the caller, oldest submission
/// first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[ts(export)]
pub struct GradingQueue {
    /// The answers.
    pub items: Vec<PendingAnswer>,
}

/// `PUT /api/v1/authoring/answers/{id}/grade`: an instructor's grade for an essay or code
/// answer. When the attempt's last such answer is graded, its score and pass become final and
/// the learner is notified.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
#[ts(export)]
pub struct ManualGrade {
    /// Points, from 0 to the question's points.
    #[cfg_attr(feature = "openapi", schema(minimum = 0, maximum = 1000))]
    pub points: i32,
    /// A word for the learner, up to 10,000 characters.
    #[serde(default)]
    #[ts(optional)]
    #[cfg_attr(feature = "openapi", schema(max_length = 10_000))]
    pub feedback: Option<String>,
}

/// One learner's attempt, for the course's instructor.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[ts(export)]
pub struct LearnerAttempt {
    /// The attempt.
    pub attempt_id: Uuid,
    /// The learner.
    pub learner_id: Uuid,
    /// Their name.
    pub learner_name: Option<String>,
    /// 1 for the first attempt, and so on.
    pub attempt_number: i32,
    /// Where it stands.
    pub state: AttemptState,
    /// Started.
    pub started_at: DateTime<Utc>,
    /// Submitted.
    pub completed_at: Option<DateTime<Utc>>,
    /// Score once graded.
    pub score: Option<i32>,
    /// Passed.
    pub passed: bool,
}

/// `GET /api/v1/authoring/assessments/{id}/attempts`: every attempt, by learner then number.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[ts(export)]
pub struct LearnerAttemptList {
    /// The attempts.
    pub items: Vec<LearnerAttempt>,
}

/// A wrong answer and how many gave it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[ts(export)]
pub struct WrongAnswerCount {
    /// The answer as given.
    pub answer: AnswerValue,
    /// How many graded answers were exactly this.
    #[ts(type = "number")]
    pub count: i64,
}

/// How one question fared in submitted attempts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[ts(export)]
pub struct QuestionStatistics {
    /// The question.
    pub question_id: Uuid,
    /// Its text.
    pub question_text: String,
    /// Its type.
    pub question_type: QuestionType,
    /// Graded answers (unanswered counts as answered wrong).
    #[ts(type = "number")]
    pub graded: i64,
    /// Of those, with full points.
    #[ts(type = "number")]
    pub correct: i64,
    /// `correct ÷ graded × 100`, rounded down; `null` with nothing graded.
    pub percent_correct: Option<i32>,
    /// The most common wrong answers, most common first (at most 5; not for essays and code).
    pub common_wrong_answers: Vec<WrongAnswerCount>,
}

/// `GET /api/v1/authoring/assessments/{id}/statistics`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[ts(export)]
pub struct AssessmentStatistics {
    /// Submitted attempts.
    #[ts(type = "number")]
    pub submitted_attempts: i64,
    /// Of those, passed.
    #[ts(type = "number")]
    pub passed_attempts: i64,
    /// Per question, in order.
    pub questions: Vec<QuestionStatistics>,
}
