//! The quiz screens' data: an assessment with its questions as a learner sees them, attempts and
//! where each stands, and results with explanations once graded.

use std::collections::HashMap;

use serde::Serialize;
use serde_json::Value;
use skilltrack_protocol::assessments::{AnswerKey, AnswerValue, QuestionOptions};
use skilltrack_protocol::enums::QuestionType;
use ts_rs::TS;

use super::{opt_text, text};

/// Where an attempt stands, as the learner reads it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum AttemptStatus {
    /// Started, not submitted.
    InProgress,
    /// Submitted on this device and waiting to reach the server, which grades it.
    WaitingToSync,
    /// On the server; essays or code wait for the instructor.
    AwaitingGrading,
    /// Score and pass are final.
    Graded,
}

/// One attempt, without its questions.
#[derive(Debug, Clone, Serialize, TS)]
#[ts(export)]
pub struct AttemptItem {
    /// Id (chosen by this device).
    pub id: String,
    /// The assessment.
    pub assessment_id: String,
    /// 1 for the first attempt; `null` until the server has numbered it.
    pub attempt_number: Option<i32>,
    /// Where it stands.
    pub status: AttemptStatus,
    /// Started, RFC 3339.
    pub started_at: String,
    /// Submitted, RFC 3339.
    pub completed_at: Option<String>,
    /// Score 0–100 once graded.
    pub score: Option<i32>,
    /// Score ≥ the passing score (final once graded).
    pub passed: bool,
    /// Exists only on this device so far (taken offline).
    pub local: bool,
}

/// An assessment of a course, as listed on the course page.
#[derive(Debug, Clone, Serialize, TS)]
#[ts(export)]
pub struct AssessmentItem {
    /// Id.
    pub id: String,
    /// Its course.
    pub course_id: String,
    /// Title.
    pub title: String,
    /// What it covers.
    pub description: Option<String>,
    /// `quiz`, `assignment` or `final_exam`.
    pub kind: String,
    /// Minutes for an attempt; `null`: untimed (and it can be taken offline).
    pub time_limit_minutes: Option<i32>,
    /// Attempts allowed; `null`: unlimited.
    pub max_attempts: Option<i32>,
    /// Score needed to pass.
    pub passing_score: i32,
    /// Questions cached here.
    pub question_count: i32,
    /// The learner's attempts so far (submitted or started on the server).
    pub attempts_used: i32,
    /// The learner's latest attempt.
    pub latest: Option<AttemptItem>,
}

/// A question as a learner sees it (never its answer key).
#[derive(Debug, Clone, Serialize, TS)]
#[ts(export)]
pub struct QuizQuestion {
    /// Id.
    pub id: String,
    /// The question (markdown).
    pub question_text: String,
    /// How it is answered.
    pub question_type: QuestionType,
    /// Choices and hints.
    pub options: QuestionOptions,
    /// What it is worth.
    pub points: i32,
}

/// An attempt being taken.
#[derive(Debug, Clone, Serialize, TS)]
#[ts(export)]
pub struct OpenAttempt {
    /// The attempt.
    pub id: String,
    /// Taken on the server (timed): answers are saved there, and need the network.
    pub online: bool,
    /// The last moment answers are accepted (timed), RFC 3339.
    pub deadline: Option<String>,
    /// The questions.
    pub questions: Vec<QuizQuestion>,
    /// Answers given so far, by question id.
    pub answers: HashMap<String, AnswerValue>,
    /// The server refused this attempt's submission (taken offline): it is in progress again
    /// here, its answers kept, until it is submitted again or discarded.
    pub refused: Option<RefusedSubmission>,
}

/// Why the server would not take an attempt submitted from this device.
#[derive(Debug, Clone, Serialize, TS)]
#[ts(export)]
pub struct RefusedSubmission {
    /// The server's stable code (`no_attempts_left`, `not_found`, …).
    pub code: String,
    /// The server's reason, in words.
    pub reason: String,
    /// When, RFC 3339.
    pub refused_at: String,
}

/// The quiz screen.
#[derive(Debug, Clone, Serialize, TS)]
#[ts(export)]
pub struct QuizScreen {
    /// The assessment.
    pub assessment: AssessmentItem,
    /// Its course's title.
    pub course_title: String,
    /// The learner's attempts, newest first.
    pub attempts: Vec<AttemptItem>,
    /// The attempt in progress, if any.
    pub open_attempt: Option<OpenAttempt>,
    /// The assessment is timed, so its clock runs on the server and taking it needs the
    /// network (the window says so in the learner's language).
    pub needs_network: bool,
}

/// One question of a result.
#[derive(Debug, Clone, Serialize, TS)]
#[ts(export)]
pub struct ResultQuestion {
    /// The question.
    pub question: QuizQuestion,
    /// The learner's answer.
    pub answer: Option<AnswerValue>,
    /// Full points; `null` until graded.
    pub is_correct: Option<bool>,
    /// Points earned.
    pub points_earned: i32,
    /// The instructor's feedback (essays, code).
    pub feedback: Option<String>,
    /// The right answer (from the server, after submission; none for essays and code).
    pub correct_answer: Option<AnswerKey>,
    /// Why (from the server, after submission).
    pub explanation: Option<String>,
}

/// An attempt's result.
#[derive(Debug, Clone, Serialize, TS)]
#[ts(export)]
pub struct QuizResult {
    /// The attempt.
    pub attempt: AttemptItem,
    /// The assessment's title.
    pub title: String,
    /// Score needed to pass.
    pub passing_score: i32,
    /// Questions with answers and grades.
    pub questions: Vec<ResultQuestion>,
    /// Right answers and explanations are included (they come from the server).
    pub explained: bool,
    /// Why something is missing (e.g. explanations need the network); the window words it in
    /// the learner's language.
    pub note: Option<ResultNote>,
}

/// Why a result shows less than everything, or where it came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum ResultNote {
    /// Taken offline: saved here, graded once it reaches the server.
    WaitingToSync,
    /// The assessment's review policy never shows the right answers.
    AnswersNeverShown,
    /// Right answers and explanations show once the learner passes or after the last attempt.
    AnswersAfterPassOrLastAttempt,
    /// Right answers and explanations come from the server, which cannot be reached now.
    AnswersNeedNetwork,
    /// Graded in a package preview from the package's own keys; nothing was sent or saved.
    GradedInPreview,
}

fn int(row: &Value, field: &str) -> Option<i32> {
    row[field].as_i64().and_then(|v| i32::try_from(v).ok())
}

impl AttemptStatus {
    /// Where a cached `user_assessment_attempts` row stands: a row submitted here keeps
    /// `awaiting_grading` until the server's graded row replaces it.
    pub fn of_row(row: &Value) -> Self {
        if row["completed_at"].is_null() {
            Self::InProgress
        } else if row["awaiting_grading"] == Value::Bool(true) {
            Self::WaitingToSync
        } else if row["score"].is_null() {
            Self::AwaitingGrading
        } else {
            Self::Graded
        }
    }
}

impl AttemptItem {
    /// The item of a cached `user_assessment_attempts` row.
    pub fn from_row(row: &Value) -> Self {
        Self {
            id: text(row, "id"),
            assessment_id: text(row, "assessment_id"),
            attempt_number: int(row, "attempt_number"),
            status: AttemptStatus::of_row(row),
            started_at: text(row, "started_at"),
            completed_at: opt_text(row, "completed_at"),
            score: int(row, "score"),
            passed: row["passed"].as_bool().unwrap_or(false),
            local: row["local_only"] == Value::Bool(true)
                || row["awaiting_grading"] == Value::Bool(true),
        }
    }
}

impl AssessmentItem {
    /// The item of a cached `assessments` row, with the learner's attempts at it.
    pub fn from_row(row: &Value, question_count: usize, attempts: &[AttemptItem]) -> Self {
        Self {
            id: text(row, "id"),
            course_id: text(row, "course_id"),
            title: text(row, "title"),
            description: opt_text(row, "description").filter(|d| !d.is_empty()),
            kind: text(row, "type"),
            time_limit_minutes: int(row, "time_limit_minutes"),
            max_attempts: int(row, "max_attempts"),
            passing_score: int(row, "passing_score").unwrap_or(70),
            question_count: i32::try_from(question_count).unwrap_or(i32::MAX),
            attempts_used: i32::try_from(
                attempts
                    .iter()
                    .filter(|a| a.status != AttemptStatus::InProgress || !a.local)
                    .count(),
            )
            .unwrap_or(i32::MAX),
            latest: attempts.first().cloned(),
        }
    }
}

impl QuizQuestion {
    /// The question of a cached `assessment_questions` row (the learner's projection), if it
    /// reads.
    pub fn from_row(row: &Value) -> Option<Self> {
        Some(Self {
            id: text(row, "id"),
            question_text: text(row, "question_text"),
            question_type: serde_json::from_value(row["question_type"].clone()).ok()?,
            options: serde_json::from_value(row["options"].clone()).unwrap_or_default(),
            points: int(row, "points").unwrap_or(1),
        })
    }
}

/// An answer as the server stores it in `user_assessment_answers.answer_text` (multiple choice
/// a JSON array of ids, true/false `true`/`false`, text as it is), read back by question type.
pub fn answer_from_stored(kind: QuestionType, stored: &str) -> Option<AnswerValue> {
    match kind {
        QuestionType::MultipleChoice => serde_json::from_str(stored).ok().map(AnswerValue::Choices),
        QuestionType::TrueFalse => stored.parse().ok().map(AnswerValue::Boolean),
        _ => Some(AnswerValue::Text(stored.to_owned())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn an_attempt_submitted_here_waits_until_the_servers_grade_replaces_it() {
        let open = json!({"id": "a", "completed_at": null, "local_only": true});
        assert_eq!(AttemptStatus::of_row(&open), AttemptStatus::InProgress);
        let sent = json!({"id": "a", "completed_at": "2026-01-01T00:00:00Z",
                          "awaiting_grading": true, "local_only": false});
        assert_eq!(AttemptStatus::of_row(&sent), AttemptStatus::WaitingToSync);
        assert!(AttemptItem::from_row(&sent).local);
        let essay = json!({"id": "a", "completed_at": "2026-01-01T00:00:00Z", "score": null});
        assert_eq!(
            AttemptStatus::of_row(&essay),
            AttemptStatus::AwaitingGrading
        );
        let graded = json!({"id": "a", "completed_at": "2026-01-01T00:00:00Z", "score": 67,
                            "attempt_number": 1, "passed": false});
        let item = AttemptItem::from_row(&graded);
        assert_eq!(
            (item.status, item.score, item.attempt_number, item.local),
            (AttemptStatus::Graded, Some(67), Some(1), false)
        );
    }

    #[test]
    fn stored_answers_read_back_by_question_type() {
        assert_eq!(
            answer_from_stored(QuestionType::MultipleChoice, r#"["a","c"]"#),
            Some(AnswerValue::Choices(vec!["a".into(), "c".into()]))
        );
        assert_eq!(
            answer_from_stored(QuestionType::TrueFalse, "false"),
            Some(AnswerValue::Boolean(false))
        );
        assert_eq!(
            answer_from_stored(QuestionType::ShortAnswer, "pwd"),
            Some(AnswerValue::Text("pwd".into()))
        );
        assert_eq!(answer_from_stored(QuestionType::MultipleChoice, "b"), None);
    }
}
