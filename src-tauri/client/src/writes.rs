//! A learner's writes, made offline first: each changes the cache at once (so the screens show
//! it) and queues a mutation for the server, in one transaction. The server's merge rules
//! decide the final state; the next pull brings it back.

use chrono::{DateTime, Utc};
use serde_json::{Value, json};
use skilltrack_protocol::assessments::{AnswerEntry, AnswerValue};
use skilltrack_protocol::engagement::BookmarkEntity;
use skilltrack_protocol::sync::{Mutation, MutationKind, SyncTable};
use uuid::Uuid;

use crate::cache::{PendingWrite, row_key};
use crate::sync::{SyncEngine, SyncError, lock};

/// Progress in a lesson, as the player reports it.
#[derive(Debug, Clone, Copy, Default)]
pub struct ProgressInput {
    /// How far, 0–100 (lower than recorded changes nothing).
    pub percentage: Option<i32>,
    /// Minutes spent since the last report.
    pub add_minutes: Option<i32>,
    /// Done.
    pub completed: bool,
}

fn stamp(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
}

impl SyncEngine {
    async fn user_id(&self) -> Result<Uuid, SyncError> {
        // The kept session, not a refreshed one: writes must work offline.
        self.signed_in_user().await.ok_or(SyncError::SignedOut)
    }

    fn queue(&self, write: &PendingWrite) -> Result<(), SyncError> {
        lock(self.cache()).record(write)?;
        self.nudge();
        Ok(())
    }

    /// Records progress in a lesson: the percentage only goes up, completion sticks, minutes
    /// add up — here at once, on the server when synced.
    pub async fn record_progress(
        &self,
        lesson_id: Uuid,
        input: ProgressInput,
    ) -> Result<Value, SyncError> {
        let user = self.user_id().await?;
        let now = Utc::now();
        let (existing, lesson, module) = {
            let cache = lock(self.cache());
            let existing = cache
                .rows_where(SyncTable::UserProgress, "lesson_id", &lesson_id.to_string())?
                .into_iter()
                .find(|r| r["user_id"] == json!(user));
            let lesson = cache.row(SyncTable::CourseLessons, lesson_id)?;
            let module = lesson
                .as_ref()
                .and_then(|l| l["module_id"].as_str())
                .and_then(|m| m.parse().ok())
                .map(|m| cache.row(SyncTable::CourseModules, m))
                .transpose()?
                .flatten();
            (existing, lesson, module)
        };
        let mut row = existing.unwrap_or_else(|| {
            json!({
                "id": Uuid::now_v7(),
                "user_id": user,
                "lesson_id": lesson_id,
                "module_id": lesson.as_ref().map(|l| l["module_id"].clone()),
                "course_id": module.as_ref().map(|m| m["course_id"].clone()),
                "progress_percentage": 0,
                "time_spent_minutes": 0,
                "completed_at": null,
                "created_at": stamp(now),
            })
        });
        let before = row["progress_percentage"].as_i64().unwrap_or(0);
        let percentage = i64::from(input.percentage.unwrap_or(0).clamp(0, 100));
        row["progress_percentage"] =
            json!(before.max(if input.completed { 100 } else { percentage }));
        row["time_spent_minutes"] = json!(
            row["time_spent_minutes"].as_i64().unwrap_or(0)
                + i64::from(input.add_minutes.unwrap_or(0).clamp(0, 1440))
        );
        if input.completed && row["completed_at"].is_null() {
            row["completed_at"] = json!(stamp(now));
        }
        row["updated_at"] = json!(stamp(now));
        let id: Uuid = row["id"]
            .as_str()
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(Uuid::now_v7);
        let write = PendingWrite {
            table: SyncTable::UserProgress,
            row_id: id,
            row_key: row_key(SyncTable::UserProgress, id, &row),
            row: Some(row.clone()),
            mutation: Mutation {
                id: Uuid::now_v7(),
                at: now,
                change: MutationKind::LessonProgress {
                    lesson_id,
                    progress_percentage: input.percentage,
                    add_minutes: input.add_minutes,
                    completed: input.completed,
                },
            },
        };
        self.queue(&write)?;
        Ok(row)
    }

    /// Bookmarks (or un-bookmarks) a course, lab or service.
    pub async fn set_bookmark(
        &self,
        entity_type: BookmarkEntity,
        entity_id: Uuid,
        on: bool,
    ) -> Result<(), SyncError> {
        let user = self.user_id().await?;
        let now = Utc::now();
        let kind = serde_json::to_value(entity_type).unwrap_or_default();
        let existing = lock(self.cache())
            .all_rows(SyncTable::UserBookmarks)?
            .into_iter()
            .find(|r| r["entity_type"] == kind && r["entity_id"] == json!(entity_id));
        let row = json!({
            "id": existing.as_ref().map_or_else(|| json!(Uuid::now_v7()), |r| r["id"].clone()),
            "user_id": user,
            "entity_type": kind,
            "entity_id": entity_id,
            "created_at": stamp(now),
        });
        let id: Uuid = row["id"]
            .as_str()
            .and_then(|s| s.parse().ok())
            .unwrap_or_default();
        let write = PendingWrite {
            table: SyncTable::UserBookmarks,
            row_id: id,
            row_key: row_key(SyncTable::UserBookmarks, id, &row),
            row: on.then_some(row),
            mutation: Mutation {
                id: Uuid::now_v7(),
                at: now,
                change: if on {
                    MutationKind::BookmarkAdd {
                        entity_type,
                        entity_id,
                    }
                } else {
                    MutationKind::BookmarkRemove {
                        entity_type,
                        entity_id,
                    }
                },
            },
        };
        self.queue(&write)
    }

    /// Writes or rewrites one's review of a course (the latest write wins).
    pub async fn review_course(
        &self,
        course_id: Uuid,
        rating: i32,
        review_text: Option<String>,
    ) -> Result<(), SyncError> {
        let user = self.user_id().await?;
        let now = Utc::now();
        let existing = lock(self.cache())
            .rows_where(
                SyncTable::CourseReviews,
                "course_id",
                &course_id.to_string(),
            )?
            .into_iter()
            .find(|r| r["user_id"] == json!(user));
        let mut row = existing.unwrap_or_else(|| {
            json!({"id": Uuid::now_v7(), "user_id": user, "course_id": course_id,
                   "helpful_votes": 0, "is_verified_purchase": false, "created_at": stamp(now)})
        });
        row["rating"] = json!(rating.clamp(1, 5));
        row["review_text"] = json!(review_text);
        row["updated_at"] = json!(stamp(now));
        let id: Uuid = row["id"]
            .as_str()
            .and_then(|s| s.parse().ok())
            .unwrap_or_default();
        let write = PendingWrite {
            table: SyncTable::CourseReviews,
            row_id: id,
            row_key: row_key(SyncTable::CourseReviews, id, &row),
            row: Some(row),
            mutation: Mutation {
                id: Uuid::now_v7(),
                at: now,
                change: MutationKind::CourseReviewPut {
                    course_id,
                    rating,
                    review_text,
                },
            },
        };
        self.queue(&write)
    }

    /// Tells the server the language the learner chose in the app, so it writes their
    /// notifications and mails in it: the cached profile shows it at once, the server has it
    /// when synced (the latest choice wins).
    pub async fn set_profile_language(&self, language: &str) -> Result<(), SyncError> {
        let user = self.user_id().await?;
        let now = Utc::now();
        let mut row = lock(self.cache())
            .row(SyncTable::Profiles, user)?
            .unwrap_or_else(|| json!({"id": user}));
        row["language"] = json!(language);
        let write = PendingWrite {
            table: SyncTable::Profiles,
            row_id: user,
            row_key: format!("profiles:{user}"),
            row: Some(row),
            mutation: Mutation {
                id: Uuid::now_v7(),
                at: now,
                change: MutationKind::ProfileLanguage {
                    language: language.to_owned(),
                },
            },
        };
        self.queue(&write)
    }

    /// Marks a notification read.
    pub fn mark_notification_read(&self, notification_id: Uuid) -> Result<(), SyncError> {
        let now = Utc::now();
        let mut row = lock(self.cache())
            .row(SyncTable::Notifications, notification_id)?
            .unwrap_or_else(|| json!({"id": notification_id}));
        row["read_at"] = json!(stamp(now));
        row["notification_status"] = json!("read");
        let write = PendingWrite {
            table: SyncTable::Notifications,
            row_id: notification_id,
            row_key: format!("notifications:{notification_id}"),
            row: Some(row),
            mutation: Mutation {
                id: Uuid::now_v7(),
                at: now,
                change: MutationKind::NotificationRead { notification_id },
            },
        };
        self.queue(&write)
    }

    /// Starts an attempt at an untimed assessment without the network: the attempt exists
    /// only here until it is submitted (the server numbers it and checks `max_attempts` then).
    pub async fn start_offline_attempt(&self, assessment_id: Uuid) -> Result<Uuid, SyncError> {
        let user = self.user_id().await?;
        let id = Uuid::now_v7();
        let row = json!({
            "id": id, "user_id": user, "assessment_id": assessment_id,
            "attempt_number": null, "started_at": stamp(Utc::now()), "completed_at": null,
            "score": null, "passed": false, "time_taken_minutes": null, "answers": {},
        });
        lock(self.cache()).put_local_row(SyncTable::UserAssessmentAttempts, id, &row)?;
        Ok(id)
    }

    /// Saves an answer into an attempt taken offline (replacing an earlier one).
    pub fn answer_offline(
        &self,
        attempt_id: Uuid,
        question_id: Uuid,
        answer: &AnswerValue,
    ) -> Result<(), SyncError> {
        let cache = lock(self.cache());
        let mut row = cache
            .row(SyncTable::UserAssessmentAttempts, attempt_id)?
            .filter(|r| r["local_only"] == json!(true) && r["completed_at"].is_null())
            .ok_or(SyncError::NoOpenAttempt)?;
        row["answers"][question_id.to_string()] = serde_json::to_value(answer).unwrap_or_default();
        cache.put_local_row(SyncTable::UserAssessmentAttempts, attempt_id, &row)?;
        Ok(())
    }

    /// Submits an attempt taken offline: it shows as waiting to be graded until the server has
    /// graded it and the next pull brings the result.
    pub fn submit_offline_attempt(&self, attempt_id: Uuid) -> Result<(), SyncError> {
        let now = Utc::now();
        let mut row = lock(self.cache())
            .row(SyncTable::UserAssessmentAttempts, attempt_id)?
            .filter(|r| r["local_only"] == json!(true) && r["completed_at"].is_null())
            .ok_or(SyncError::NoOpenAttempt)?;
        let answers: Vec<AnswerEntry> = row["answers"]
            .as_object()
            .into_iter()
            .flatten()
            .filter_map(|(question, answer)| {
                Some(AnswerEntry {
                    question_id: question.parse().ok()?,
                    answer: serde_json::from_value(answer.clone()).ok()?,
                })
            })
            .collect();
        let assessment_id: Uuid = row["assessment_id"]
            .as_str()
            .and_then(|s| s.parse().ok())
            .ok_or(SyncError::NoOpenAttempt)?;
        row["completed_at"] = json!(stamp(now));
        row["local_only"] = json!(false);
        row["awaiting_grading"] = json!(true);
        let write = PendingWrite {
            table: SyncTable::UserAssessmentAttempts,
            row_id: attempt_id,
            row_key: format!("user_assessment_attempts:{attempt_id}"),
            row: Some(row),
            mutation: Mutation {
                id: Uuid::now_v7(),
                at: now,
                change: MutationKind::AssessmentSubmit {
                    attempt_id,
                    assessment_id,
                    answers,
                },
            },
        };
        self.queue(&write)
    }

    /// Throws away an attempt taken offline that has not been sent (its answers, and the
    /// refusals of its submission): for an attempt the server will not take.
    pub fn discard_offline_attempt(&self, attempt_id: Uuid) -> Result<(), SyncError> {
        if lock(self.cache()).discard_local_attempt(attempt_id)? {
            Ok(())
        } else {
            Err(SyncError::NoOpenAttempt)
        }
    }
}
