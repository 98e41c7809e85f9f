//! Course pages, shared between callers: the part of a published course's page that is the same
//! for every visitor and learner, kept in memory per course and per version.
//!
//! A course page is one statement of row-level-secured SQL (`db::catalog::course_page_sql`),
//! and under load that statement, not HTTP, is the limit: most of its cost is the policies
//! deciding, row by row, what the caller may see. Yet for anyone who manages nothing (neither an
//! admin nor any course's instructor) the answer depends on two things only: the course's
//! content and whether the caller studies the course (an active or completed enrollment: then
//! the published lessons are listed, otherwise none). So:
//!
//! * every request reads, under the caller's role, one small row: the course's id and page
//!   version, whether the caller manages anything, and the caller's enrollment
//!   ([`db::catalog::course_page_probe`](crate::db::catalog::course_page_probe));
//! * a page cached at that very version is completed with the caller's enrollment and, if they
//!   study the course, the lessons, and served;
//! * otherwise the whole page is read under the caller's role as before, and what RLS showed
//!   is remembered for the next callers of the same kind.
//!
//! RLS stays the only judge of what anyone sees: the cache only ever holds what RLS showed a
//! non-manager at a version, and serves it only to non-managers at the same version, lessons
//! only to those who study the course. The version (`migrations/0032_course_page_versions.sql`)
//! changes in the same transaction as anything the page shows, so a change is visible to the
//! next request, whichever server process made it, with no message to wait for.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use skilltrack_protocol::EnrollmentStatus;
use skilltrack_protocol::catalog::{CourseDetail, LessonSummary};
use uuid::Uuid;

/// How many courses' pages are kept; past it, one is dropped for each added (a catalog rarely
/// has this many, and a page is a few kilobytes).
const MAX_PAGES: usize = 10_000;

/// The shared parts of course pages. Cheap to clone; one per server process.
#[derive(Debug, Clone, Default)]
pub struct CoursePageCache {
    pages: Arc<RwLock<HashMap<Uuid, Arc<SharedPage>>>>,
}

/// What every non-manager is shown of a published course at one version.
#[derive(Debug)]
struct SharedPage {
    version: i64,
    /// The page with no lessons and no enrollment: what a visitor sees.
    page: CourseDetail,
    /// Each module's lessons (in the order of `page.modules`) as a learner who studies the
    /// course sees them; `None` until such a learner's page has been read.
    lessons: Option<Vec<Vec<LessonSummary>>>,
}

/// Whether an enrollment in this state lets its learner see the course's published lessons:
/// the rule of the lesson policy (`private.modules_i_may_study`).
pub fn studies(status: EnrollmentStatus) -> bool {
    matches!(
        status,
        EnrollmentStatus::Active | EnrollmentStatus::Completed
    )
}

impl CoursePageCache {
    /// An empty cache.
    pub fn new() -> Self {
        Self::default()
    }

    /// The page of `course` at `version` as a non-manager sees it — with the lessons if
    /// `with_lessons` (they study the course), without an enrollment (the caller adds theirs) —
    /// if it is cached at exactly that version.
    pub fn page(&self, course: Uuid, version: i64, with_lessons: bool) -> Option<CourseDetail> {
        let shared = {
            let pages = self
                .pages
                .read()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            Arc::clone(pages.get(&course)?)
        };
        if shared.version != version {
            return None;
        }
        let mut page = shared.page.clone();
        if with_lessons {
            let lessons = shared.lessons.as_ref()?;
            for (module, lessons) in page.modules.iter_mut().zip(lessons) {
                module.lessons.clone_from(lessons);
            }
        }
        Some(page)
    }

    /// Remembers what RLS showed a non-manager of a published course at `version`: `page` as
    /// read for them, its lessons meaning "what those who study the course see" if `studies`,
    /// and nothing otherwise. A page older than the one kept is ignored.
    pub fn remember(&self, version: i64, page: &CourseDetail, studies: bool) {
        let course = page.course.id;
        let mut pages = self
            .pages
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let kept = pages.get(&course);
        // What is kept is newer, or of this version with everything this page could add.
        if kept.is_some_and(|k| {
            k.version > version || (k.version == version && (k.lessons.is_some() || !studies))
        }) {
            return;
        }
        let mut shared = SharedPage {
            version,
            page: page.clone(),
            lessons: None,
        };
        shared.page.my_enrollment = None;
        if studies {
            shared.lessons = Some(
                shared
                    .page
                    .modules
                    .iter_mut()
                    .map(|m| std::mem::take(&mut m.lessons))
                    .collect(),
            );
        } else {
            for module in &mut shared.page.modules {
                module.lessons.clear();
            }
        }
        if kept.is_none() && pages.len() >= MAX_PAGES {
            if let Some(&other) = pages.keys().next() {
                pages.remove(&other);
            }
        }
        pages.insert(course, Arc::new(shared));
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;
    use skilltrack_protocol::catalog::CourseDetail;
    use uuid::Uuid;

    use super::CoursePageCache;

    /// A page of one module with one lesson, as a learner who studies the course sees it.
    fn page(course: Uuid, title: &str) -> CourseDetail {
        serde_json::from_value(json!({
            "course": {
                "id": course, "slug": "c", "service_id": Uuid::nil(), "title": title,
                "description": "", "duration": "1 week", "level": "Beginner", "price": "0.00",
                "rating": "0.00", "student_count": 0, "instructor_id": null, "image_url": null,
                "tags": [], "language": "en", "is_published": true,
                "created_at": "2026-11-25T00:00:00Z", "updated_at": "2026-11-25T00:00:00Z"
            },
            "features": [], "objectives": [], "prerequisite_notes": [],
            "preview_video_url": null, "subtitles": [], "max_students": null,
            "start_date": null, "end_date": null, "enrollment_deadline": null,
            "instructor": null, "required_courses": [],
            "modules": [{
                "id": Uuid::now_v7(), "title": "m", "description": null,
                "duration_minutes": null, "sort_order": 1, "is_published": true,
                "lessons": [{
                    "id": Uuid::now_v7(), "title": "l", "description": null,
                    "content_type": "text", "duration_minutes": null, "sort_order": 1,
                    "is_published": true
                }]
            }],
            "my_enrollment": null
        }))
        .unwrap()
    }

    fn lessons(page: &CourseDetail) -> usize {
        page.modules.iter().map(|m| m.lessons.len()).sum()
    }

    #[test]
    fn lessons_are_served_only_to_those_who_study_the_course() {
        let cache = CoursePageCache::new();
        let course = Uuid::now_v7();
        cache.remember(7, &page(course, "a"), true);
        assert_eq!(cache.page(course, 7, true).map(|p| lessons(&p)), Some(1));
        assert_eq!(cache.page(course, 7, false).map(|p| lessons(&p)), Some(0));
    }

    #[test]
    fn a_page_kept_without_lessons_never_invents_them() {
        let cache = CoursePageCache::new();
        let course = Uuid::now_v7();
        // Read for a visitor: whatever it held, no lessons are kept, and a learner who studies
        // the course is not served from it.
        cache.remember(7, &page(course, "a"), false);
        assert_eq!(cache.page(course, 7, false).map(|p| lessons(&p)), Some(0));
        assert!(cache.page(course, 7, true).is_none());
        cache.remember(7, &page(course, "a"), true);
        assert_eq!(cache.page(course, 7, true).map(|p| lessons(&p)), Some(1));
    }

    #[test]
    fn only_the_current_version_is_served_and_an_older_one_never_replaces_it() {
        let cache = CoursePageCache::new();
        let course = Uuid::now_v7();
        cache.remember(7, &page(course, "old"), true);
        assert!(cache.page(course, 8, true).is_none());
        cache.remember(8, &page(course, "new"), true);
        cache.remember(7, &page(course, "old"), true);
        assert!(cache.page(course, 7, true).is_none());
        assert_eq!(cache.page(course, 8, false).unwrap().course.title, "new");
    }
}
