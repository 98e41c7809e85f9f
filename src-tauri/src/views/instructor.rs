//! What the instructor's screens show: the courses they teach, drafts included. The grading
//! queue and a grade's result are the server's own types (`GradingQueue`, `Attempt`), already
//! exported from the protocol crate.

use serde::Serialize;
use skilltrack_client::authoring::TaughtCourse;
use ts_rs::TS;

use super::{CourseCard, text};

/// A course the instructor teaches.
#[derive(Debug, Clone, Serialize, TS)]
#[ts(export)]
pub struct InstructorCourse {
    /// The card fields, as learners see them in the catalog.
    pub card: CourseCard,
    /// Learners see it (false: a draft only its instructor and admins see).
    pub is_published: bool,
    /// Enrolled learners.
    pub student_count: i32,
    /// Modules on this device.
    pub modules: i32,
    /// Of those, not published (learners will not see them even once the course is).
    pub draft_modules: i32,
    /// Lessons on this device.
    pub lessons: i32,
    /// Of those, not published.
    pub draft_lessons: i32,
    /// Last changed, RFC 3339.
    pub updated_at: String,
}

fn count(n: usize) -> i32 {
    i32::try_from(n).unwrap_or(i32::MAX)
}

impl InstructorCourse {
    /// The entry of a course from the cache.
    pub fn from_taught(t: &TaughtCourse) -> Self {
        Self {
            card: CourseCard::from_row(&t.course),
            is_published: t.course["is_published"].as_bool().unwrap_or(false),
            student_count: t.course["student_count"]
                .as_i64()
                .and_then(|n| i32::try_from(n).ok())
                .unwrap_or(0),
            modules: count(t.modules),
            draft_modules: count(t.draft_modules),
            lessons: count(t.lessons),
            draft_lessons: count(t.draft_lessons),
            updated_at: text(&t.course, "updated_at"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_draft_reads_as_unpublished_whatever_the_row_lacks() {
        let entry = InstructorCourse::from_taught(&TaughtCourse {
            course: json!({"id": "c", "title": "Draft", "price": "99.00", "student_count": 3}),
            modules: 2,
            draft_modules: 1,
            lessons: 5,
            draft_lessons: 0,
        });
        assert!(!entry.is_published);
        assert_eq!(entry.student_count, 3);
        assert_eq!(
            (entry.modules, entry.draft_modules, entry.lessons),
            (2, 1, 5)
        );
        let published = InstructorCourse::from_taught(&TaughtCourse {
            course: json!({"id": "c", "is_published": true}),
            modules: 0,
            draft_modules: 0,
            lessons: 0,
            draft_lessons: 0,
        });
        assert!(published.is_published);
    }
}
