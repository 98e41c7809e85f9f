//! Taking quizzes: untimed ones entirely on this device (offline or not — the attempt is pushed
//! as `assessment_submit` and graded by the server when it arrives), timed ones on the server,
//! whose clock they run on. Results come from the cache (score, grades) and, when the server
//! can be reached, from its review of the attempt (answer keys and explanations, which a
//! device never holds before submitting).

use std::collections::HashMap;
use std::time::Duration;

use serde_json::{Value, json};
use skilltrack_client::cache::Cache;
use skilltrack_client::sync::{SyncEngine, lock};
use skilltrack_protocol::assessments::{AnswerValue, Attempt, AttemptState};
use skilltrack_protocol::sync::SyncTable;
use tauri::State;
use uuid::Uuid;

use super::{Answer, engine, id, needs_network, own, user};
use crate::Desktop;
use crate::error::CommandError;
use crate::views::quiz::{
    AssessmentItem, AttemptItem, AttemptStatus, OpenAttempt, QuizQuestion, QuizResult, QuizScreen,
    RefusedSubmission, ResultNote, ResultQuestion, answer_from_stored,
};
use crate::views::{opt_text, text};

/// How long a result waits for the server's explanations before showing what the cache has.
const REVIEW_PATIENCE: Duration = Duration::from_secs(4);

/// The learner's attempts at an assessment, newest first.
fn attempts(cache: &Cache, user: &str, assessment_id: &str) -> Answer<Vec<Value>> {
    let mut rows: Vec<Value> = own(
        cache.rows_where(
            SyncTable::UserAssessmentAttempts,
            "assessment_id",
            assessment_id,
        )?,
        user,
    )
    .collect();
    rows.sort_by_key(|r| std::cmp::Reverse(text(r, "started_at")));
    Ok(rows)
}

fn questions(cache: &Cache, assessment_id: &str) -> Answer<Vec<QuizQuestion>> {
    let mut rows = cache.rows_where(
        SyncTable::AssessmentQuestions,
        "assessment_id",
        assessment_id,
    )?;
    rows.sort_by_key(|q| (q["sort_order"].as_i64().unwrap_or(0), text(q, "id")));
    Ok(rows.iter().filter_map(QuizQuestion::from_row).collect())
}

/// The published assessments of a course with the learner's attempts (the course page).
pub fn course_assessments(
    cache: &Cache,
    user: &str,
    course_id: &str,
) -> Answer<Vec<AssessmentItem>> {
    let mut items = Vec::new();
    for a in cache.rows_where(SyncTable::Assessments, "course_id", course_id)? {
        if a["is_published"] == json!(false) {
            continue;
        }
        let aid = text(&a, "id");
        let tries: Vec<AttemptItem> = attempts(cache, user, &aid)?
            .iter()
            .map(AttemptItem::from_row)
            .collect();
        let count = cache
            .rows_where(SyncTable::AssessmentQuestions, "assessment_id", &aid)?
            .len();
        items.push(AssessmentItem::from_row(&a, count, &tries));
    }
    items.sort_by(|a, b| a.title.cmp(&b.title));
    Ok(items)
}

fn assessment_row(cache: &Cache, assessment_id: &str) -> Answer<Value> {
    cache
        .row(SyncTable::Assessments, id(assessment_id)?)?
        .ok_or_else(|| {
            CommandError::new(
                "not_found",
                "This assessment is not on this device: enroll in its course and sync.",
            )
        })
}

fn open_attempt(cache: &Cache, row: &Value, assessment_id: &str) -> Answer<OpenAttempt> {
    let refused = cache
        .attempt_refusal(id(&text(row, "id"))?)?
        .map(|r| RefusedSubmission {
            code: r.code,
            reason: r.reason,
            refused_at: r.rejected_at,
        });
    let mut answers = HashMap::new();
    if let Some(local) = row["answers"].as_object() {
        for (q, a) in local {
            if let Ok(a) = serde_json::from_value::<AnswerValue>(a.clone()) {
                answers.insert(q.clone(), a);
            }
        }
    }
    let qs = questions(cache, assessment_id)?;
    // An attempt open on the server: its saved answers, as the last pull brought them.
    for a in cache.rows_where(
        SyncTable::UserAssessmentAnswers,
        "attempt_id",
        &text(row, "id"),
    )? {
        let qid = text(&a, "question_id");
        let kind = qs.iter().find(|q| q.id == qid).map(|q| q.question_type);
        if let (Some(kind), Some(stored)) = (kind, opt_text(&a, "answer_text")) {
            if let Some(v) = answer_from_stored(kind, &stored) {
                answers.entry(qid).or_insert(v);
            }
        }
    }
    Ok(OpenAttempt {
        id: text(row, "id"),
        online: row["local_only"] != json!(true),
        deadline: None,
        questions: qs,
        answers,
        refused,
    })
}

/// The quiz screen, from the cache.
#[tauri::command]
pub async fn quiz(desktop: State<'_, Desktop>, assessment_id: String) -> Answer<QuizScreen> {
    let engine = engine(&desktop).await;
    let user = user(&engine).await?;
    let cache = lock(engine.cache());
    let row = assessment_row(&cache, &assessment_id)?;
    let rows = attempts(&cache, &user, &assessment_id)?;
    let tries: Vec<AttemptItem> = rows.iter().map(AttemptItem::from_row).collect();
    let count = questions(&cache, &assessment_id)?.len();
    let assessment = AssessmentItem::from_row(&row, count, &tries);
    let open = rows
        .iter()
        .find(|r| r["completed_at"].is_null())
        .map(|r| open_attempt(&cache, r, &assessment_id))
        .transpose()?;
    let course_title = cache
        .row(SyncTable::Courses, id(&assessment.course_id)?)?
        .map(|c| text(&c, "title"))
        .unwrap_or_default();
    Ok(QuizScreen {
        needs_network: assessment.time_limit_minutes.is_some(),
        assessment,
        course_title,
        attempts: tries,
        open_attempt: open,
    })
}

/// Starts an attempt: an untimed assessment here (no network needed), a timed one on the server.
#[tauri::command]
pub async fn start_attempt(
    desktop: State<'_, Desktop>,
    assessment_id: String,
) -> Answer<OpenAttempt> {
    let engine = engine(&desktop).await;
    let user = user(&engine).await?;
    let assessment = id(&assessment_id)?;
    let (row, existing) = {
        let cache = lock(engine.cache());
        let row = assessment_row(&cache, &assessment_id)?;
        let existing = attempts(&cache, &user, &assessment_id)?
            .into_iter()
            .find(|r| r["completed_at"].is_null());
        (row, existing)
    };
    if let Some(open) = existing {
        let cache = lock(engine.cache());
        return open_attempt(&cache, &open, &assessment_id);
    }
    if let Some(max) = row["max_attempts"].as_i64() {
        let taken = lock(engine.cache())
            .rows_where(
                SyncTable::UserAssessmentAttempts,
                "assessment_id",
                &assessment_id,
            )?
            .iter()
            .filter(|r| r["user_id"] == json!(user))
            .count();
        if i64::try_from(taken).unwrap_or(i64::MAX) >= max {
            return Err(CommandError::new(
                "no_attempts_left",
                format!("You have used all {max} attempts at this assessment."),
            ));
        }
    }
    if row["time_limit_minutes"].is_null() {
        let attempt = engine.start_offline_attempt(assessment).await?;
        let cache = lock(engine.cache());
        let row = cache
            .row(SyncTable::UserAssessmentAttempts, attempt)?
            .ok_or_else(|| CommandError::new("cache", "The new attempt was not kept."))?;
        return open_attempt(&cache, &row, &assessment_id);
    }
    let started = engine
        .start_online_attempt(assessment, Uuid::now_v7())
        .await
        .map_err(|e| needs_network(e, "A timed exam"))?;
    Ok(OpenAttempt {
        id: started.id.to_string(),
        online: true,
        deadline: started.deadline.map(|d| d.to_rfc3339()),
        questions: started
            .questions
            .iter()
            .map(|q| QuizQuestion {
                id: q.question.id.to_string(),
                question_text: q.question.question_text.clone(),
                question_type: q.question.question_type,
                options: q.question.options.clone(),
                points: q.question.points,
            })
            .collect(),
        answers: started
            .questions
            .iter()
            .filter_map(|q| Some((q.question.id.to_string(), q.answer.clone()?)))
            .collect(),
        refused: None,
    })
}

/// Throws away an attempt taken on this device and not sent (one the server refused, say):
/// its answers go, and the learner may start again if attempts are left.
#[tauri::command]
pub async fn discard_attempt(desktop: State<'_, Desktop>, attempt_id: String) -> Answer<()> {
    let engine = engine(&desktop).await;
    engine.discard_offline_attempt(id(&attempt_id)?)?;
    Ok(())
}

/// Whether an attempt is one taken on this device (not yet on the server).
fn is_local(engine: &SyncEngine, attempt: Uuid) -> Answer<bool> {
    Ok(lock(engine.cache())
        .row(SyncTable::UserAssessmentAttempts, attempt)?
        .is_some_and(|r| r["local_only"] == json!(true)))
}

/// Saves an answer: here for an attempt taken on this device, on the server for a timed one.
#[tauri::command]
pub async fn save_answer(
    desktop: State<'_, Desktop>,
    attempt_id: String,
    question_id: String,
    answer: AnswerValue,
) -> Answer<()> {
    let engine = engine(&desktop).await;
    let (attempt, question) = (id(&attempt_id)?, id(&question_id)?);
    if is_local(&engine, attempt)? {
        engine.answer_offline(attempt, question, &answer)?;
    } else {
        engine
            .save_online_answer(attempt, question, &answer)
            .await
            .map_err(|e| needs_network(e, "A timed exam"))?;
    }
    Ok(())
}

/// Submits an attempt. One taken here waits to be graded until it reaches the server; a timed
/// one is graded at once.
#[tauri::command]
pub async fn submit_attempt(
    desktop: State<'_, Desktop>,
    attempt_id: String,
) -> Answer<AttemptItem> {
    let engine = engine(&desktop).await;
    let attempt = id(&attempt_id)?;
    if is_local(&engine, attempt)? {
        engine.submit_offline_attempt(attempt)?;
        let row = lock(engine.cache())
            .row(SyncTable::UserAssessmentAttempts, attempt)?
            .ok_or_else(|| CommandError::new("cache", "The attempt was not kept."))?;
        return Ok(AttemptItem::from_row(&row));
    }
    let assessment = lock(engine.cache())
        .row(SyncTable::UserAssessmentAttempts, attempt)?
        .and_then(|r| opt_text(&r, "assessment_id"))
        .map(|a| id(&a))
        .transpose()?;
    let assessment = match assessment {
        Some(a) => a,
        // Started online moments ago, before a pull brought the row: the server knows it.
        None => {
            engine
                .attempt_review(attempt)
                .await
                .map_err(|e| needs_network(e, "A timed exam"))?
                .assessment_id
        }
    };
    let done = engine
        .submit_online_attempt(attempt, assessment)
        .await
        .map_err(|e| needs_network(e, "Submitting a timed exam"))?;
    Ok(item_of(&done))
}

fn item_of(a: &Attempt) -> AttemptItem {
    AttemptItem {
        id: a.id.to_string(),
        assessment_id: a.assessment_id.to_string(),
        attempt_number: Some(a.attempt_number),
        status: match a.state {
            AttemptState::InProgress => AttemptStatus::InProgress,
            AttemptState::AwaitingGrading => AttemptStatus::AwaitingGrading,
            AttemptState::Graded => AttemptStatus::Graded,
        },
        started_at: a.started_at.to_rfc3339(),
        completed_at: a.completed_at.map(|d| d.to_rfc3339()),
        score: a.score,
        passed: a.passed,
        local: false,
    }
}

/// An attempt's result: from the cache, with the server's answer keys and explanations when
/// it can be reached (and words saying why not when it cannot).
#[tauri::command]
pub async fn attempt_result(desktop: State<'_, Desktop>, attempt_id: String) -> Answer<QuizResult> {
    let engine = engine(&desktop).await;
    let attempt = id(&attempt_id)?;
    let (row, assessment, qs, graded_answers) = {
        let cache = lock(engine.cache());
        let row = cache
            .row(SyncTable::UserAssessmentAttempts, attempt)?
            .ok_or_else(|| CommandError::new("not_found", "This attempt is not on this device."))?;
        let assessment_id = text(&row, "assessment_id");
        let assessment = assessment_row(&cache, &assessment_id)?;
        let qs = questions(&cache, &assessment_id)?;
        let graded =
            cache.rows_where(SyncTable::UserAssessmentAnswers, "attempt_id", &attempt_id)?;
        (row, assessment, qs, graded)
    };
    let item = AttemptItem::from_row(&row);
    let mut result = QuizResult {
        title: text(&assessment, "title"),
        passing_score: assessment["passing_score"]
            .as_i64()
            .and_then(|p| i32::try_from(p).ok())
            .unwrap_or(70),
        questions: qs
            .into_iter()
            .map(|q| {
                let graded = graded_answers
                    .iter()
                    .find(|a| text(a, "question_id") == q.id);
                let answer = graded
                    .and_then(|a| opt_text(a, "answer_text"))
                    .and_then(|s| answer_from_stored(q.question_type, &s))
                    .or_else(|| serde_json::from_value(row["answers"][q.id.as_str()].clone()).ok());
                ResultQuestion {
                    answer,
                    is_correct: graded.and_then(|a| a["is_correct"].as_bool()),
                    points_earned: graded
                        .and_then(|a| a["points_earned"].as_i64())
                        .and_then(|p| i32::try_from(p).ok())
                        .unwrap_or(0),
                    feedback: graded.and_then(|a| opt_text(a, "feedback")),
                    correct_answer: None,
                    explanation: None,
                    question: q,
                }
            })
            .collect(),
        explained: false,
        note: None,
        attempt: item,
    };
    match result.attempt.status {
        AttemptStatus::InProgress => {}
        AttemptStatus::WaitingToSync => {
            result.note = Some(ResultNote::WaitingToSync);
        }
        AttemptStatus::AwaitingGrading | AttemptStatus::Graded => {
            match tokio::time::timeout(REVIEW_PATIENCE, engine.attempt_review(attempt)).await {
                Ok(Ok(review)) => {
                    explain(&mut result, &review);
                    if !review.review_open {
                        result.note = Some(review_closed(&assessment));
                    }
                }
                _ if row["review_open"] == Value::Bool(false) => {
                    result.note = Some(review_closed(&assessment));
                }
                _ => {
                    result.note = Some(ResultNote::AnswersNeedNetwork);
                }
            }
        }
    }
    Ok(result)
}

/// Why an attempt's right answers are not shown yet, from its assessment's review policy.
fn review_closed(assessment: &Value) -> ResultNote {
    match assessment["review_policy"].as_str() {
        Some("never") => ResultNote::AnswersNeverShown,
        _ => ResultNote::AnswersAfterPassOrLastAttempt,
    }
}

/// Adds the server's grades, keys and explanations to a result read from the cache.
fn explain(result: &mut QuizResult, review: &Attempt) {
    result.attempt = AttemptItem {
        local: false,
        ..item_of(review)
    };
    for q in &mut result.questions {
        if let Some(r) = review
            .questions
            .iter()
            .find(|r| r.question.id.to_string() == q.question.id)
        {
            q.answer = r.answer.clone().or(q.answer.take());
            q.is_correct = r.is_correct;
            q.points_earned = r.points_earned;
            q.feedback.clone_from(&r.feedback);
            q.correct_answer.clone_from(&r.correct_answer);
            q.explanation.clone_from(&r.explanation);
        }
    }
    result.explained = review.review_open;
}
