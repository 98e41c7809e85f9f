//! The instructor's commands: the courses they teach (from the cache, so the list and the
//! preview of a draft work offline), publish and unpublish, and the grading queue. Preview
//! itself needs no command of its own: the learner screens' `course_page` and `lesson` read any
//! course the cache holds, and an instructor's cache holds their drafts.
//!
//! Publishing and grading are online only: they change what learners see and are never queued.
//! Offline, they fail with `offline` and words that say so (not the learner's "saved here and
//! sent later", which would be untrue for them).

use skilltrack_client::sync::SyncError;
use skilltrack_protocol::assessments::{Attempt, GradingQueue, ManualGrade};
use skilltrack_protocol::catalog::CourseDetail;
use tauri::State;

use super::{Answer, engine, id};
use crate::Desktop;
use crate::error::CommandError;
use crate::views::instructor::InstructorCourse;

/// A failed online-only action, in words: offline says the action needs the server.
fn online_only(e: SyncError, action: &str) -> CommandError {
    if skilltrack_client::authoring::is_offline(&e) {
        return CommandError::new(
            "offline",
            format!(
                "{action} needs the server, which cannot be reached now. Try again once you are online."
            ),
        );
    }
    e.into()
}

/// The courses the signed-in instructor teaches, drafts included, newest first.
#[tauri::command]
pub async fn instructor_courses(desktop: State<'_, Desktop>) -> Answer<Vec<InstructorCourse>> {
    let engine = engine(&desktop).await;
    let me = engine
        .signed_in_user()
        .await
        .ok_or_else(|| CommandError::new("signed_out", "Sign in first."))?;
    Ok(engine
        .taught_courses(me)?
        .iter()
        .map(InstructorCourse::from_taught)
        .collect())
}

/// Publishes a course (online only). Refused with `course_incomplete` and the server's checks
/// in words when it is not ready.
#[tauri::command]
pub async fn publish_course(
    desktop: State<'_, Desktop>,
    course_id: String,
) -> Answer<CourseDetail> {
    let course = id(&course_id)?;
    engine(&desktop)
        .await
        .publish_course(course)
        .await
        .map_err(|e| online_only(e, "Publishing"))
}

/// Unpublishes a course (online only).
#[tauri::command]
pub async fn unpublish_course(
    desktop: State<'_, Desktop>,
    course_id: String,
) -> Answer<CourseDetail> {
    let course = id(&course_id)?;
    engine(&desktop)
        .await
        .unpublish_course(course)
        .await
        .map_err(|e| online_only(e, "Unpublishing"))
}

/// Essay and code answers waiting for the instructor's grade (online only).
#[tauri::command]
pub async fn grading_queue(desktop: State<'_, Desktop>) -> Answer<GradingQueue> {
    engine(&desktop)
        .await
        .grading_queue(None)
        .await
        .map_err(|e| online_only(e, "The grading queue"))
}

/// Grades one answer with points and optional feedback (online only).
#[tauri::command]
pub async fn grade_answer(
    desktop: State<'_, Desktop>,
    answer_id: String,
    points: i32,
    feedback: Option<String>,
) -> Answer<Attempt> {
    let answer = id(&answer_id)?;
    if points < 0 {
        return Err(CommandError::new(
            "invalid_points",
            "Points cannot be negative.",
        ));
    }
    let grade = ManualGrade {
        points,
        feedback: feedback.filter(|f| !f.trim().is_empty()),
    };
    engine(&desktop)
        .await
        .grade_answer(answer, &grade)
        .await
        .map_err(|e| online_only(e, "Grading"))
}
