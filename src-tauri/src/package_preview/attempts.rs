//! Quizzes taken in a preview: kept in memory for as long as the preview is open, and graded
//! here, when submitted, by the server's own rules ([`skilltrack_package::grading`]) from the
//! answer keys in the package as it is on disk at that moment. Nothing is queued, synced or
//! written to the cache, and the keys never leave this process except into the preview's own
//! result screen.

use std::collections::HashMap;

use chrono::{SecondsFormat, Utc};
use skilltrack_package::course::PackageAssessment;
use skilltrack_package::grading;
use skilltrack_protocol::assessments::AnswerValue;

use super::screens::{question_id, questions};
use crate::error::CommandError;
use crate::views::quiz::{
    AttemptItem, AttemptStatus, OpenAttempt, QuizResult, ResultNote, ResultQuestion,
};

/// One question's grade.
#[derive(Debug, Clone, Copy)]
struct Graded {
    is_correct: Option<bool>,
    points: i32,
}

/// One attempt.
#[derive(Debug, Clone)]
struct Attempt {
    id: String,
    assessment: String,
    number: i32,
    started_at: String,
    answers: HashMap<String, AnswerValue>,
    /// Once submitted: when, and each question's grade by id.
    submitted: Option<(String, HashMap<String, Graded>)>,
    score: Option<i32>,
    passed: bool,
}

impl Attempt {
    fn item(&self) -> AttemptItem {
        let status = match (&self.submitted, self.score) {
            (None, _) => AttemptStatus::InProgress,
            (Some(_), None) => AttemptStatus::AwaitingGrading,
            (Some(_), Some(_)) => AttemptStatus::Graded,
        };
        AttemptItem {
            id: self.id.clone(),
            assessment_id: self.assessment.clone(),
            attempt_number: Some(self.number),
            status,
            started_at: self.started_at.clone(),
            completed_at: self.submitted.as_ref().map(|(at, _)| at.clone()),
            score: self.score,
            passed: self.passed,
            local: true,
        }
    }
}

/// The attempts of one preview, oldest first.
#[derive(Debug, Default)]
pub struct Attempts {
    list: Vec<Attempt>,
}

fn no_attempt(id: &str) -> CommandError {
    CommandError::new(
        "no_open_attempt",
        format!("No attempt {id} is open in this preview."),
    )
}

fn now() -> String {
    Utc::now().to_rfc3339_opts(SecondsFormat::Millis, true)
}

impl Attempts {
    /// The attempts at `assessment`, newest first.
    pub fn items(&self, assessment: &str) -> Vec<AttemptItem> {
        self.list
            .iter()
            .rev()
            .filter(|a| a.assessment == assessment)
            .map(Attempt::item)
            .collect()
    }

    /// How many attempts at `assessment` were submitted.
    pub fn submitted(&self, assessment: &str) -> usize {
        self.list
            .iter()
            .filter(|a| a.assessment == assessment && a.submitted.is_some())
            .count()
    }

    fn open_at(&self, assessment: &str) -> Option<&Attempt> {
        self.list
            .iter()
            .find(|a| a.assessment == assessment && a.submitted.is_none())
    }

    /// The attempt in progress at `assessment`, with its questions as they are now.
    pub fn open(&self, assessment: &PackageAssessment) -> Option<OpenAttempt> {
        self.open_at(&assessment.slug).map(|a| OpenAttempt {
            id: a.id.clone(),
            online: false,
            deadline: None,
            questions: questions(assessment),
            answers: a.answers.clone(),
            refused: None,
        })
    }

    /// Starts an attempt at `assessment` (or gives back the one in progress), within its
    /// `max_attempts` as the server would.
    pub fn start(&mut self, assessment: &PackageAssessment) -> Result<OpenAttempt, CommandError> {
        if self.open_at(&assessment.slug).is_none() {
            let used = self.submitted(&assessment.slug);
            if let Some(max) = assessment.assessment.max_attempts
                && used >= usize::try_from(max).unwrap_or(0)
            {
                return Err(CommandError::new(
                    "no_attempts_left",
                    format!(
                        "All {max} attempts are used (close and open the folder again to start over)."
                    ),
                ));
            }
            self.list.push(Attempt {
                id: uuid::Uuid::now_v7().to_string(),
                assessment: assessment.slug.clone(),
                number: i32::try_from(used + 1).unwrap_or(i32::MAX),
                started_at: now(),
                answers: HashMap::new(),
                submitted: None,
                score: None,
                passed: false,
            });
        }
        self.open(assessment)
            .ok_or_else(|| no_attempt(&assessment.slug))
    }

    fn in_progress(&mut self, attempt: &str) -> Result<&mut Attempt, CommandError> {
        self.list
            .iter_mut()
            .find(|a| a.id == attempt && a.submitted.is_none())
            .ok_or_else(|| no_attempt(attempt))
    }

    /// The assessment an attempt is at.
    pub fn assessment_of(&self, attempt: &str) -> Result<String, CommandError> {
        self.list
            .iter()
            .find(|a| a.id == attempt)
            .map(|a| a.assessment.clone())
            .ok_or_else(|| no_attempt(attempt))
    }

    /// Saves an answer, refused as the server refuses one that does not fit its question.
    pub fn save(
        &mut self,
        assessment: &PackageAssessment,
        attempt: &str,
        question: &str,
        answer: AnswerValue,
    ) -> Result<(), CommandError> {
        let q = assessment
            .questions
            .iter()
            .enumerate()
            .find(|(i, _)| question_id(&assessment.slug, *i) == question)
            .map(|(_, q)| q)
            .ok_or_else(|| {
                CommandError::new(
                    "not_found",
                    format!("The quiz has no question {question} now."),
                )
            })?;
        grading::answer_to_stored(q.question_type, &q.options, &answer)
            .map_err(|e| CommandError::new(e.code(), e.to_string()))?;
        self.in_progress(attempt)?
            .answers
            .insert(question.to_owned(), answer);
        Ok(())
    }

    /// Submits and grades an attempt against the package's keys.
    pub fn submit(
        &mut self,
        assessment: &PackageAssessment,
        attempt: &str,
    ) -> Result<AttemptItem, CommandError> {
        let a = self.in_progress(attempt)?;
        let mut grades = HashMap::new();
        let (mut earned, mut possible, mut waiting) = (0_i64, 0_i64, false);
        for (i, q) in assessment.questions.iter().enumerate() {
            let id = question_id(&assessment.slug, i);
            let stored = a
                .answers
                .get(&id)
                .and_then(|v| grading::answer_to_stored(q.question_type, &q.options, v).ok());
            let grade = grading::grade(
                q.question_type,
                q.answer_key.as_ref(),
                q.points,
                stored.as_deref(),
            );
            earned += i64::from(grade.points);
            possible += i64::from(q.points);
            waiting |= grade.is_correct.is_none();
            grades.insert(
                id,
                Graded {
                    is_correct: grade.is_correct,
                    points: grade.points,
                },
            );
        }
        let score = grading::score(earned, possible);
        a.submitted = Some((now(), grades));
        // Essays and code wait for the instructor, as on the server: no final score yet.
        a.score = (!waiting).then_some(score);
        a.passed = !waiting && score >= assessment.assessment.passing_score;
        Ok(a.item())
    }

    /// Forgets an attempt in progress.
    pub fn discard(&mut self, attempt: &str) -> Result<(), CommandError> {
        self.in_progress(attempt)?;
        self.list.retain(|a| a.id != attempt);
        Ok(())
    }

    /// An attempt's result, with the package's keys and explanations.
    pub fn result(
        &self,
        assessment: &PackageAssessment,
        attempt: &str,
    ) -> Result<QuizResult, CommandError> {
        let a = self
            .list
            .iter()
            .find(|a| a.id == attempt)
            .ok_or_else(|| no_attempt(attempt))?;
        let grades = a.submitted.as_ref().map(|(_, g)| g);
        let shown = questions(assessment);
        Ok(QuizResult {
            attempt: a.item(),
            title: assessment.assessment.title.clone(),
            passing_score: assessment.assessment.passing_score,
            questions: shown
                .into_iter()
                .zip(&assessment.questions)
                .map(|(question, draft)| {
                    let grade = grades.and_then(|g| g.get(&question.id));
                    ResultQuestion {
                        answer: a.answers.get(&question.id).cloned(),
                        is_correct: grade.and_then(|g| g.is_correct),
                        points_earned: grade.map_or(0, |g| g.points),
                        feedback: None,
                        correct_answer: draft.answer_key.clone(),
                        explanation: draft.explanation.clone(),
                        question,
                    }
                })
                .collect(),
            explained: true,
            note: Some(ResultNote::GradedInPreview),
        })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, reason = "tests fail loudly on purpose")]
mod tests {
    use super::*;

    #[test]
    fn an_attempt_is_graded_from_the_packages_keys() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("graded-course");
        skilltrack_package::course::write_skeleton(&dir).unwrap();
        let package = skilltrack_package::course::read_dir(&dir).unwrap();
        let quiz = &package.assessments[0];
        let mut attempts = Attempts::default();

        let open = attempts.start(quiz).unwrap();
        assert_eq!(open.questions.len(), 2);
        // The same attempt while it is open.
        assert_eq!(attempts.start(quiz).unwrap().id, open.id);
        // Answers that do not fit are refused, as the server refuses them.
        let err = attempts
            .save(
                quiz,
                &open.id,
                &open.questions[0].id,
                AnswerValue::Choices(vec!["z".into()]),
            )
            .unwrap_err();
        assert_eq!(err.code, "unknown_choice");
        attempts
            .save(
                quiz,
                &open.id,
                &open.questions[0].id,
                AnswerValue::Choices(vec!["a".into()]),
            )
            .unwrap();
        attempts
            .save(
                quiz,
                &open.id,
                &open.questions[1].id,
                AnswerValue::Boolean(false),
            )
            .unwrap();
        let done = attempts.submit(quiz, &open.id).unwrap();
        assert_eq!(done.status, AttemptStatus::Graded);
        // One point of two: 50 %, under the skeleton's 70.
        assert_eq!((done.score, done.passed), (Some(50), false));

        let result = attempts.result(quiz, &open.id).unwrap();
        assert_eq!(result.questions[0].is_correct, Some(true));
        assert_eq!(result.questions[1].is_correct, Some(false));
        assert!(result.questions[0].explanation.is_some());
        assert!(result.questions[1].correct_answer.is_some());
        assert_eq!(attempts.submitted(&quiz.slug), 1);
        assert!(attempts.submit(quiz, &open.id).is_err(), "submitted once");
    }
}
