//! An instructor's calls: the courses they teach (from the cache, drafts included), publishing
//! and unpublishing, and the grading queue of essay and code answers.
//!
//! The list reads the cache because the pull already brings an instructor's own drafts: the
//! server reads every synced row under the caller's RLS role, and the course, module and lesson
//! policies let a course's instructor see all of it, published or not. So the list and the
//! learner screens' preview of a draft work offline like every other screen.
//!
//! Publishing and grading change what other people see, so they are never queued: each is one
//! call to the server (under `/api/v1/authoring`), and fails with [`ApiError::Offline`] when the
//! server cannot be reached. After a publish or unpublish the engine is nudged, so the next pull
//! brings the course's new state (and its modules and lessons, which the server re-logs) into
//! the cache at once rather than at the next timer.

use reqwest::Method;
use serde_json::{Value, json};
use skilltrack_protocol::assessments::{Attempt, GradingQueue, ManualGrade};
use skilltrack_protocol::catalog::CourseDetail;
use skilltrack_protocol::sync::SyncTable;
use uuid::Uuid;

use crate::api::ApiError;
use crate::sync::{SyncEngine, SyncError, lock};

/// The most answers one grading-queue call returns (the server's own ceiling).
pub const GRADING_QUEUE_LIMIT: u32 = 200;

/// A course the signed-in instructor teaches, as the cache holds it, with its syllabus counted.
#[derive(Debug, Clone)]
pub struct TaughtCourse {
    /// The cached `courses` row.
    pub course: Value,
    /// Its modules in the cache.
    pub modules: usize,
    /// Of those, not published.
    pub draft_modules: usize,
    /// Its lessons in the cache.
    pub lessons: usize,
    /// Of those, not published.
    pub draft_lessons: usize,
}

fn is_draft(row: &Value) -> bool {
    row["is_published"] == json!(false)
}

impl SyncEngine {
    /// The courses `instructor` teaches, drafts included, newest first, from the cache (so it
    /// works offline).
    pub fn taught_courses(&self, instructor: Uuid) -> Result<Vec<TaughtCourse>, SyncError> {
        let me = json!(instructor.to_string());
        let cache = lock(self.cache());
        let mut courses: Vec<Value> = cache
            .all_rows(SyncTable::Courses)?
            .into_iter()
            .filter(|c| c["instructor_id"] == me)
            .collect();
        // RFC 3339 in UTC sorts as text.
        courses.sort_by(|a, b| {
            b["created_at"]
                .as_str()
                .cmp(&a["created_at"].as_str())
                .then_with(|| b["id"].as_str().cmp(&a["id"].as_str()))
        });
        courses
            .into_iter()
            .map(|course| {
                let syllabus = cache.syllabus(course["id"].as_str().unwrap_or_default())?;
                let lessons = || syllabus.iter().flat_map(|m| &m.lessons);
                Ok(TaughtCourse {
                    modules: syllabus.len(),
                    draft_modules: syllabus.iter().filter(|m| is_draft(&m.module)).count(),
                    lessons: lessons().count(),
                    draft_lessons: lessons().filter(|l| is_draft(&l.lesson)).count(),
                    course,
                })
            })
            .collect()
    }

    /// Publishes a course the caller teaches. The server refuses one that is not ready
    /// (`course_incomplete`, its checks in the problem's words); publishing a published course
    /// changes nothing.
    pub async fn publish_course(&self, course: Uuid) -> Result<CourseDetail, SyncError> {
        self.set_published(course, true).await
    }

    /// Unpublishes a course the caller teaches: it leaves the catalog; its enrolled learners
    /// keep their progress.
    pub async fn unpublish_course(&self, course: Uuid) -> Result<CourseDetail, SyncError> {
        self.set_published(course, false).await
    }

    async fn set_published(&self, course: Uuid, publish: bool) -> Result<CourseDetail, SyncError> {
        let token = self.session().await?.access_token;
        let action = if publish { "publish" } else { "unpublish" };
        let detail: CourseDetail = self
            .api()
            .json::<(), _>(
                Method::POST,
                &format!("/api/v1/authoring/courses/{course}/{action}"),
                &token,
                None,
            )
            .await?;
        self.nudge();
        Ok(detail)
    }

    /// Essay and code answers waiting for the caller's grade, oldest submission first (only
    /// `course`'s when given).
    pub async fn grading_queue(&self, course: Option<Uuid>) -> Result<GradingQueue, SyncError> {
        let token = self.session().await?.access_token;
        let path = match course {
            Some(course) => format!(
                "/api/v1/authoring/grading-queue?limit={GRADING_QUEUE_LIMIT}&course={course}"
            ),
            None => format!("/api/v1/authoring/grading-queue?limit={GRADING_QUEUE_LIMIT}"),
        };
        Ok(self
            .api()
            .json::<(), _>(Method::GET, &path, &token, None)
            .await?)
    }

    /// Grades one essay or code answer; the answer is the attempt as graded so far (final once
    /// its last hand-graded answer has a grade).
    pub async fn grade_answer(
        &self,
        answer: Uuid,
        grade: &ManualGrade,
    ) -> Result<Attempt, SyncError> {
        let token = self.session().await?.access_token;
        let attempt: Attempt = self
            .api()
            .json(
                Method::PUT,
                &format!("/api/v1/authoring/answers/{answer}/grade"),
                &token,
                Some(grade),
            )
            .await?;
        // The learner's attempt changed on the server; nothing of it is in this device's cache
        // (attempts sync to their learner only), so there is nothing to pull for it here.
        Ok(attempt)
    }
}

/// Whether a failed instructor call failed because the server could not be reached.
pub fn is_offline(e: &SyncError) -> bool {
    matches!(e, SyncError::Api(ApiError::Offline(_)))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests fail loudly on purpose")]

    use std::sync::{Arc, Mutex};

    use skilltrack_protocol::sync::{ChangeOp, PullPage, RowChange, RowData};

    use super::*;
    use crate::api::ApiClient;
    use crate::cache::Cache;
    use crate::tokens::{StoreKind, TokenStore};

    fn upsert(table: SyncTable, row: &Value) -> RowChange {
        RowChange {
            table,
            id: row["id"].as_str().unwrap().parse().unwrap(),
            op: ChangeOp::Upsert,
            row: Some(RowData::from_value(row)),
        }
    }

    #[test]
    fn taught_courses_are_the_instructors_own_drafts_included_newest_first() {
        let dir = tempfile::tempdir().unwrap();
        let mut cache = Cache::open(&dir.path().join("cache.sqlite3")).unwrap();
        let me = Uuid::now_v7();
        let (old, new, theirs) = (Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7());
        let (module, lesson, draft) = (Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7());
        let course = |id: Uuid, who: Uuid, published: bool, created: &str| {
            upsert(
                SyncTable::Courses,
                &json!({"id": id.to_string(), "instructor_id": who.to_string(), "title": "t",
                       "is_published": published, "created_at": created}),
            )
        };
        let page = PullPage {
            changes: vec![
                course(old, me, true, "2026-01-01T00:00:00Z"),
                course(new, me, false, "2026-02-01T00:00:00Z"),
                course(theirs, Uuid::now_v7(), true, "2026-03-01T00:00:00Z"),
                upsert(
                    SyncTable::CourseModules,
                    &json!({"id": module.to_string(), "course_id": new.to_string(),
                           "is_published": true}),
                ),
                upsert(
                    SyncTable::CourseLessons,
                    &json!({"id": lesson.to_string(), "module_id": module.to_string(),
                           "is_published": true}),
                ),
                upsert(
                    SyncTable::CourseLessons,
                    &json!({"id": draft.to_string(), "module_id": module.to_string(),
                           "is_published": false}),
                ),
            ],
            cursor: "c".to_owned(),
            has_more: false,
            reset: false,
        };
        cache.apply_page(&page).unwrap();
        let engine = SyncEngine::new(
            ApiClient::new("http://127.0.0.1:9").unwrap(),
            Arc::new(Mutex::new(cache)),
            TokenStore::open(dir.path(), "test", &StoreKind::File),
        )
        .unwrap();
        let taught = engine.taught_courses(me).unwrap();
        let ids: Vec<&str> = taught
            .iter()
            .map(|t| t.course["id"].as_str().unwrap())
            .collect();
        assert_eq!(ids, [new.to_string(), old.to_string()]);
        assert_eq!(
            (
                taught[0].modules,
                taught[0].draft_modules,
                taught[0].lessons,
                taught[0].draft_lessons
            ),
            (1, 0, 2, 1)
        );
    }
}
