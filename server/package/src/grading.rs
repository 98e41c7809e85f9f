//! Grading, as pure functions: how answers and answer keys are stored, whether an answer fits
//! its question, and what it earns. The database layer reads and writes; the rules are here,
//! where a table of cases tests them (below).
//!
//! Stored forms (`user_assessment_answers.answer_text`, `assessment_questions.correct_answer`,
//! docs/decisions.md 6): a multiple-choice answer or key is a JSON array of choice ids; a
//! true/false answer or key is `true` or `false`; short-answer keys are a JSON array of
//! accepted answers; text answers are stored as written.

use std::collections::BTreeSet;

use skilltrack_protocol::assessments::{AnswerKey, AnswerValue, QuestionOptions};
use skilltrack_protocol::enums::QuestionType;
use unicode_normalization::UnicodeNormalization as _;

/// Why an answer, a key or options do not fit a question.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FitError {
    /// The answer's form is not the question type's (`code` for the client).
    #[error("{0}")]
    WrongForm(&'static str),
    /// A picked choice is not among the question's.
    #[error("\"{0}\" is not one of this question's choices")]
    UnknownChoice(String),
    /// More than one choice picked on a single-answer question.
    #[error("this question takes one choice")]
    OneChoiceOnly,
    /// The options break a rule.
    #[error("{0}")]
    InvalidOptions(&'static str),
    /// The answer key breaks a rule.
    #[error("{0}")]
    InvalidKey(&'static str),
}

impl FitError {
    /// The stable code a client sees.
    pub fn code(&self) -> &'static str {
        match self {
            Self::WrongForm(_) => "wrong_answer_form",
            Self::UnknownChoice(_) => "unknown_choice",
            Self::OneChoiceOnly => "one_choice_only",
            Self::InvalidOptions(_) => "invalid_options",
            Self::InvalidKey(_) => "invalid_key",
        }
    }
}

/// Longest text answer accepted, in characters.
pub const MAX_ANSWER_CHARS: usize = 100_000;

/// Checks that `answer` has the form `kind` takes, with choices among `options`, and returns
/// the text to store.
pub fn answer_to_stored(
    kind: QuestionType,
    options: &QuestionOptions,
    answer: &AnswerValue,
) -> Result<String, FitError> {
    match (kind, answer) {
        (QuestionType::MultipleChoice, AnswerValue::Choices(ids)) => {
            let picked: BTreeSet<&str> = ids.iter().map(String::as_str).collect();
            let known: BTreeSet<&str> = options
                .choices
                .iter()
                .flatten()
                .map(|c| c.id.as_str())
                .collect();
            if let Some(unknown) = picked.iter().find(|id| !known.contains(*id)) {
                return Err(FitError::UnknownChoice((*unknown).to_owned()));
            }
            if picked.len() > 1 && options.multiple != Some(true) {
                return Err(FitError::OneChoiceOnly);
            }
            Ok(serde_json::to_string(&picked).unwrap_or_default())
        }
        (QuestionType::MultipleChoice, _) => Err(FitError::WrongForm(
            "a multiple-choice answer is an array of choice ids",
        )),
        (QuestionType::TrueFalse, AnswerValue::Boolean(b)) => Ok(b.to_string()),
        (QuestionType::TrueFalse, _) => {
            Err(FitError::WrongForm("a true/false answer is true or false"))
        }
        (
            QuestionType::ShortAnswer | QuestionType::Essay | QuestionType::Code,
            AnswerValue::Text(t),
        ) => {
            if t.chars().count() > MAX_ANSWER_CHARS {
                Err(FitError::WrongForm(
                    "an answer may be at most 100,000 characters",
                ))
            } else {
                Ok(t.clone())
            }
        }
        (QuestionType::ShortAnswer | QuestionType::Essay | QuestionType::Code, _) => {
            Err(FitError::WrongForm("this question's answer is text"))
        }
    }
}

/// The stored answer as the learner gave it; `None` when it cannot be read (never expected:
/// only [`answer_to_stored`] writes it).
pub fn answer_from_stored(kind: QuestionType, stored: &str) -> Option<AnswerValue> {
    match kind {
        QuestionType::MultipleChoice => serde_json::from_str(stored).ok().map(AnswerValue::Choices),
        QuestionType::TrueFalse => stored.parse().ok().map(AnswerValue::Boolean),
        QuestionType::ShortAnswer | QuestionType::Essay | QuestionType::Code => {
            Some(AnswerValue::Text(stored.to_owned()))
        }
    }
}

/// Checks that options and key fit the question type; essays and code take no key, every
/// other type needs one before its assessment is published (`key_required`).
pub fn check_question(
    kind: QuestionType,
    options: &QuestionOptions,
    key: Option<&AnswerKey>,
    key_required: bool,
) -> Result<(), FitError> {
    let choices = options.choices.as_deref().unwrap_or_default();
    match kind {
        QuestionType::MultipleChoice => {
            if choices.len() < 2 {
                return Err(FitError::InvalidOptions(
                    "a multiple-choice question needs at least two choices",
                ));
            }
            let ids: BTreeSet<&str> = choices.iter().map(|c| c.id.as_str()).collect();
            if ids.len() != choices.len()
                || ids.iter().any(|id| id.trim().is_empty() || id.len() > 64)
            {
                return Err(FitError::InvalidOptions(
                    "choice ids must be unique, 1–64 characters",
                ));
            }
            if choices.iter().any(|c| c.text.trim().is_empty()) {
                return Err(FitError::InvalidOptions("every choice needs text"));
            }
        }
        _ if options.choices.is_some() || options.multiple.is_some() => {
            return Err(FitError::InvalidOptions(
                "only multiple-choice questions have choices",
            ));
        }
        _ => {}
    }
    match (kind, key) {
        (QuestionType::MultipleChoice, Some(AnswerKey::Choices { ids })) => {
            let known: BTreeSet<&str> = choices.iter().map(|c| c.id.as_str()).collect();
            let right: BTreeSet<&str> = ids.iter().map(String::as_str).collect();
            if right.is_empty() {
                return Err(FitError::InvalidKey(
                    "the key needs at least one right choice",
                ));
            }
            if let Some(unknown) = right.iter().find(|id| !known.contains(*id)) {
                return Err(FitError::UnknownChoice((*unknown).to_owned()));
            }
            if right.len() > 1 && options.multiple != Some(true) {
                return Err(FitError::InvalidKey(
                    "several right choices need \"multiple\": true in the options",
                ));
            }
            Ok(())
        }

        (QuestionType::ShortAnswer, Some(AnswerKey::Accepted { answers })) => {
            if answers.iter().any(|a| normalize_short_answer(a).is_empty()) || answers.is_empty() {
                Err(FitError::InvalidKey(
                    "accepted answers must be non-empty text",
                ))
            } else {
                Ok(())
            }
        }
        (QuestionType::TrueFalse, Some(AnswerKey::TrueFalse { .. }))
        | (QuestionType::Essay | QuestionType::Code, None) => Ok(()),
        (QuestionType::Essay | QuestionType::Code, Some(_)) => Err(FitError::InvalidKey(
            "essays and code are graded by the instructor and take no answer key",
        )),
        (_, None) if !key_required => Ok(()),
        (_, None) => Err(FitError::InvalidKey("this question needs an answer key")),
        (_, Some(_)) => Err(FitError::InvalidKey(
            "the answer key's kind does not fit the question type",
        )),
    }
}

/// The stored form of a key.
pub fn key_to_stored(key: &AnswerKey) -> String {
    match key {
        AnswerKey::Choices { ids } => {
            let ids: BTreeSet<&str> = ids.iter().map(String::as_str).collect();
            serde_json::to_string(&ids).unwrap_or_default()
        }
        AnswerKey::TrueFalse { value } => value.to_string(),
        AnswerKey::Accepted { answers } => serde_json::to_string(answers).unwrap_or_default(),
    }
}

/// A stored key as its instructor wrote it; `None` for essays, code, or a key that cannot be
/// read (which grades every answer wrong rather than right).
pub fn key_from_stored(kind: QuestionType, stored: Option<&str>) -> Option<AnswerKey> {
    let stored = stored?;
    match kind {
        QuestionType::MultipleChoice => serde_json::from_str(stored)
            .ok()
            .map(|ids| AnswerKey::Choices { ids }),
        QuestionType::TrueFalse => stored
            .parse()
            .ok()
            .map(|value| AnswerKey::TrueFalse { value }),
        QuestionType::ShortAnswer => serde_json::from_str(stored)
            .ok()
            .map(|answers| AnswerKey::Accepted { answers }),
        QuestionType::Essay | QuestionType::Code => None,
    }
}

/// A short answer reduced to what matters: Unicode-compatible forms folded (NFKC), lower case,
/// punctuation and symbols dropped, runs of white space made one space, trimmed.
pub fn normalize_short_answer(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut space = false;
    for c in text.nfkc().flat_map(char::to_lowercase) {
        if c.is_alphanumeric() {
            if space && !out.is_empty() {
                out.push(' ');
            }
            space = false;
            out.push(c);
        } else if c.is_whitespace() || is_separator_punctuation(c) {
            space = true;
        }
        // Other punctuation (apostrophes, quotes, brackets, …) vanishes: "don't" is "dont".
    }
    out
}

/// Punctuation that separates words when it is dropped ("true-positive", "df.groupby").
fn is_separator_punctuation(c: char) -> bool {
    matches!(
        c,
        '-' | '_' | '.' | ',' | ';' | ':' | '/' | '\\' | '|' | '–' | '—' | '+' | '&'
    )
}

/// What an answer earned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Grade {
    /// Full points; `None`: waits for the instructor.
    pub is_correct: Option<bool>,
    /// Points earned.
    pub points: i32,
}

/// Whether the server grades this type of question against a key (the rest, essays and code,
/// the course's instructor grades by hand).
pub fn is_auto_graded(kind: QuestionType) -> bool {
    !matches!(kind, QuestionType::Essay | QuestionType::Code)
}

/// Grades one answer. Essays and code wait for the instructor unless left empty (nothing to
/// grade: 0 points at once). Multiple choice earns only for exactly the right set: a wrong
/// extra pick earns nothing. Anything unreadable is wrong.
pub fn grade(
    kind: QuestionType,
    key: Option<&AnswerKey>,
    points: i32,
    stored: Option<&str>,
) -> Grade {
    let wrong = Grade {
        is_correct: Some(false),
        points: 0,
    };
    let right = Grade {
        is_correct: Some(true),
        points,
    };
    let Some(stored) = stored else { return wrong };
    let correct = match (kind, key) {
        (QuestionType::Essay | QuestionType::Code, _) => {
            return if stored.trim().is_empty() {
                wrong
            } else {
                Grade {
                    is_correct: None,
                    points: 0,
                }
            };
        }
        (QuestionType::MultipleChoice, Some(AnswerKey::Choices { ids })) => {
            let picked: Option<BTreeSet<String>> = serde_json::from_str(stored).ok();
            let right: BTreeSet<String> = ids.iter().cloned().collect();
            picked.is_some_and(|p| !right.is_empty() && p == right)
        }
        (QuestionType::TrueFalse, Some(AnswerKey::TrueFalse { value })) => {
            stored.parse::<bool>().is_ok_and(|b| b == *value)
        }
        (QuestionType::ShortAnswer, Some(AnswerKey::Accepted { answers })) => {
            let given = normalize_short_answer(stored);
            !given.is_empty() && answers.iter().any(|a| normalize_short_answer(a) == given)
        }
        _ => false,
    };
    if correct { right } else { wrong }
}

/// Score = points earned ÷ points possible × 100, rounded down, so that `score ≥ passing` says
/// exactly whether the learner reached the passing share. No points possible scores 0.
pub fn score(earned: i64, possible: i64) -> i32 {
    if possible <= 0 {
        return 0;
    }
    i32::try_from((earned.clamp(0, possible) * 100) / possible).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests fail loudly on purpose")]

    use super::*;
    use skilltrack_protocol::assessments::Choice;

    fn choices(multiple: bool) -> QuestionOptions {
        QuestionOptions {
            choices: Some(
                ["a", "b", "c", "d"]
                    .iter()
                    .map(|id| Choice {
                        id: (*id).to_owned(),
                        text: format!("choice {id}"),
                    })
                    .collect(),
            ),
            multiple: Some(multiple),
            ..QuestionOptions::default()
        }
    }

    fn ids(v: &[&str]) -> AnswerValue {
        AnswerValue::Choices(v.iter().map(|s| (*s).to_owned()).collect())
    }

    fn key_ids(v: &[&str]) -> AnswerKey {
        AnswerKey::Choices {
            ids: v.iter().map(|s| (*s).to_owned()).collect(),
        }
    }

    fn accepted(v: &[&str]) -> AnswerKey {
        AnswerKey::Accepted {
            answers: v.iter().map(|s| (*s).to_owned()).collect(),
        }
    }

    /// Grades `answer` through the same path the server takes: checked, stored, graded.
    fn graded(
        kind: QuestionType,
        options: &QuestionOptions,
        key: Option<&AnswerKey>,
        answer: &AnswerValue,
    ) -> Grade {
        let stored = answer_to_stored(kind, options, answer).unwrap();
        grade(kind, key, 4, Some(&stored))
    }

    const RIGHT: Grade = Grade {
        is_correct: Some(true),
        points: 4,
    };
    const WRONG: Grade = Grade {
        is_correct: Some(false),
        points: 0,
    };
    const WAITING: Grade = Grade {
        is_correct: None,
        points: 0,
    };

    #[test]
    fn multiple_choice_single_answer() {
        let o = choices(false);
        let k = key_ids(&["b"]);
        let table: [(&[&str], Grade); 3] = [(&["b"], RIGHT), (&["a"], WRONG), (&[], WRONG)];
        for (answer, expected) in table {
            assert_eq!(
                graded(QuestionType::MultipleChoice, &o, Some(&k), &ids(answer)),
                expected,
                "{answer:?}"
            );
        }
        // Two picks on a single-answer question are refused before grading.
        assert_eq!(
            answer_to_stored(QuestionType::MultipleChoice, &o, &ids(&["a", "b"])),
            Err(FitError::OneChoiceOnly)
        );
        assert_eq!(
            answer_to_stored(QuestionType::MultipleChoice, &o, &ids(&["z"])),
            Err(FitError::UnknownChoice("z".into()))
        );
    }

    #[test]
    fn multiple_choice_several_answers_earn_only_for_exactly_the_right_set() {
        let o = choices(true);
        let k = key_ids(&["a", "c"]);
        let table: [(&[&str], Grade); 7] = [
            (&["a", "c"], RIGHT),
            (&["c", "a"], RIGHT),
            (&["a", "c", "c"], RIGHT), // a repeated pick is one pick
            (&["a"], WRONG),           // missing one
            (&["a", "c", "d"], WRONG), // a wrong extra pick earns nothing
            (&["a", "b", "c", "d"], WRONG),
            (&[], WRONG),
        ];
        for (answer, expected) in table {
            assert_eq!(
                graded(QuestionType::MultipleChoice, &o, Some(&k), &ids(answer)),
                expected,
                "{answer:?}"
            );
        }
    }

    #[test]
    fn true_false() {
        let o = QuestionOptions::default();
        let k = AnswerKey::TrueFalse { value: false };
        assert_eq!(
            graded(
                QuestionType::TrueFalse,
                &o,
                Some(&k),
                &AnswerValue::Boolean(false)
            ),
            RIGHT
        );
        assert_eq!(
            graded(
                QuestionType::TrueFalse,
                &o,
                Some(&k),
                &AnswerValue::Boolean(true)
            ),
            WRONG
        );
        assert!(matches!(
            answer_to_stored(
                QuestionType::TrueFalse,
                &o,
                &AnswerValue::Text("false".into())
            ),
            Err(FitError::WrongForm(_))
        ));
    }

    #[test]
    fn short_answer_ignores_case_spacing_and_punctuation() {
        let o = QuestionOptions::default();
        let k = accepted(&[
            "groupby",
            "df.groupby()",
            "True positive rate",
            "Ünïcödé",
            "café",
        ]);
        let table = [
            ("groupby", RIGHT),
            ("  GroupBy  ", RIGHT),      // case and surrounding spaces
            ("groupby()", RIGHT),        // punctuation
            ("df.groupby", RIGHT),       // matches "df.groupby()"
            ("df . groupby ( )", RIGHT), // spacing around punctuation
            ("true-positive   rate", RIGHT),
            ("true positive rate.", RIGHT),
            ("ünïcödé", RIGHT),        // unicode lower case
            ("cafe\u{301}", RIGHT),    // decomposed é is the same letter
            ("ｇｒｏｕｐｂｙ", RIGHT), // full-width letters
            ("group by", WRONG),       // a space inside a word is a different answer
            ("groupbyx", WRONG),
            ("", WRONG),
            ("   ", WRONG),
            ("...", WRONG),
        ];
        for (answer, expected) in table {
            assert_eq!(
                graded(
                    QuestionType::ShortAnswer,
                    &o,
                    Some(&k),
                    &AnswerValue::Text(answer.into())
                ),
                expected,
                "{answer:?}"
            );
        }
    }

    #[test]
    fn essays_and_code_wait_for_the_instructor_unless_empty() {
        let o = QuestionOptions::default();
        for kind in [QuestionType::Essay, QuestionType::Code] {
            assert_eq!(
                graded(kind, &o, None, &AnswerValue::Text("my essay".into())),
                WAITING
            );
            assert_eq!(
                graded(kind, &o, None, &AnswerValue::Text(" \n ".into())),
                WRONG
            );
            assert_eq!(grade(kind, None, 4, None), WRONG);
        }
    }

    #[test]
    fn unanswered_and_unreadable_answers_are_wrong() {
        let k = key_ids(&["a"]);
        assert_eq!(
            grade(QuestionType::MultipleChoice, Some(&k), 4, None),
            WRONG
        );
        assert_eq!(
            grade(QuestionType::MultipleChoice, Some(&k), 4, Some("not json")),
            WRONG
        );
        assert_eq!(
            grade(
                QuestionType::TrueFalse,
                Some(&AnswerKey::TrueFalse { value: true }),
                4,
                Some("yes")
            ),
            WRONG
        );
        // A question missing its key grades wrong, never right.
        assert_eq!(
            grade(QuestionType::ShortAnswer, None, 4, Some("anything")),
            WRONG
        );
        // A key of the wrong kind grades wrong.
        assert_eq!(
            grade(QuestionType::TrueFalse, Some(&k), 4, Some("true")),
            WRONG
        );
    }

    #[test]
    fn stored_forms_round_trip() {
        let o = choices(true);
        for (kind, answer) in [
            (QuestionType::MultipleChoice, ids(&["c", "a"])),
            (QuestionType::TrueFalse, AnswerValue::Boolean(true)),
            (QuestionType::ShortAnswer, AnswerValue::Text(" x ".into())),
        ] {
            let stored = answer_to_stored(kind, &o, &answer).unwrap();
            let back = answer_from_stored(kind, &stored).unwrap();
            match (&answer, &back) {
                (AnswerValue::Choices(a), AnswerValue::Choices(b)) => {
                    let mut a = a.clone();
                    a.sort();
                    assert_eq!(&a, b);
                }
                _ => assert_eq!(answer, back),
            }
        }
        for (kind, key) in [
            (QuestionType::MultipleChoice, key_ids(&["a", "c"])),
            (
                QuestionType::TrueFalse,
                AnswerKey::TrueFalse { value: false },
            ),
            (QuestionType::ShortAnswer, accepted(&["x", "y"])),
        ] {
            assert_eq!(key_from_stored(kind, Some(&key_to_stored(&key))), Some(key));
        }
        // The demo catalog's stored forms read back.
        assert_eq!(
            key_from_stored(QuestionType::MultipleChoice, Some("[\"b\"]")),
            Some(key_ids(&["b"]))
        );
        assert_eq!(
            key_from_stored(QuestionType::TrueFalse, Some("false")),
            Some(AnswerKey::TrueFalse { value: false })
        );
    }

    #[test]
    fn questions_are_checked_against_their_type() {
        let one = choices(false);
        let k = key_ids(&["a", "b"]);
        assert!(check_question(QuestionType::MultipleChoice, &one, Some(&k), true).is_err());
        assert!(
            check_question(QuestionType::MultipleChoice, &choices(true), Some(&k), true).is_ok()
        );
        assert!(
            check_question(
                QuestionType::MultipleChoice,
                &one,
                Some(&key_ids(&["q"])),
                true
            )
            .is_err()
        );
        assert!(check_question(QuestionType::MultipleChoice, &one, None, true).is_err());
        assert!(check_question(QuestionType::MultipleChoice, &one, None, false).is_ok());
        assert!(
            check_question(
                QuestionType::Essay,
                &QuestionOptions::default(),
                Some(&accepted(&["x"])),
                true
            )
            .is_err()
        );
        assert!(
            check_question(QuestionType::Essay, &QuestionOptions::default(), None, true).is_ok()
        );
        assert!(
            check_question(
                QuestionType::ShortAnswer,
                &QuestionOptions::default(),
                Some(&accepted(&["?!"])),
                true
            )
            .is_err()
        );
        assert!(
            check_question(
                QuestionType::TrueFalse,
                &one,
                Some(&AnswerKey::TrueFalse { value: true }),
                true
            )
            .is_err()
        );
        let mut duplicate = choices(false);
        duplicate.choices.as_mut().unwrap()[1].id = "a".into();
        assert!(
            check_question(
                QuestionType::MultipleChoice,
                &duplicate,
                Some(&key_ids(&["a"])),
                true
            )
            .is_err()
        );
    }

    #[test]
    fn score_rounds_down_so_passing_is_exact() {
        assert_eq!(score(2, 3), 66);
        assert_eq!(score(7, 10), 70);
        assert_eq!(score(69, 100), 69);
        assert_eq!(score(0, 5), 0);
        assert_eq!(score(5, 5), 100);
        assert_eq!(score(1, 0), 0);
        // 139/200 is 69.5 %: below a passing score of 70, and the score says so.
        assert!(score(139, 200) < 70);
    }
}
