//! The courses and modules a learner keeps offline: the download queue, kept in the cache so
//! it resumes after a restart.

use rusqlite::params;
use serde::Serialize;

use super::{Cache, CacheError};

/// A course, or one of its modules, kept offline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
#[ts(export)]
pub struct OfflineRequest {
    /// The course.
    pub course_id: String,
    /// One module of it; none: the whole course.
    pub module_id: Option<String>,
    /// The learner paused its downloads.
    pub paused: bool,
}

impl Cache {
    /// Keeps `course_id` (or only its `module_id`) offline; asking again resumes it.
    pub fn keep_offline(&self, course_id: &str, module_id: Option<&str>) -> Result<(), CacheError> {
        self.conn.execute(
            "INSERT INTO offline_requests (course_id, module_id) VALUES (?1, ?2)
             ON CONFLICT (course_id, module_id) DO UPDATE SET paused = 0",
            params![course_id, module_id.unwrap_or_default()],
        )?;
        self.conn.execute(
            "UPDATE offline_requests SET paused = 0 WHERE course_id = ?1",
            [course_id],
        )?;
        Ok(())
    }

    /// What is kept offline, in the order it was asked for.
    pub fn offline_requests(&self) -> Result<Vec<OfflineRequest>, CacheError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT course_id, module_id, paused FROM offline_requests
             ORDER BY requested_at, course_id, module_id",
        )?;
        let rows = stmt
            .query_map([], |r| {
                let module: String = r.get(1)?;
                Ok(OfflineRequest {
                    course_id: r.get(0)?,
                    module_id: (!module.is_empty()).then_some(module),
                    paused: r.get::<_, i64>(2)? != 0,
                })
            })?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(rows)
    }

    /// Pauses (or resumes) every download of `course_id`.
    pub fn pause_offline(&self, course_id: &str, paused: bool) -> Result<(), CacheError> {
        self.conn.execute(
            "UPDATE offline_requests SET paused = ?2 WHERE course_id = ?1",
            params![course_id, i64::from(paused)],
        )?;
        Ok(())
    }

    /// Records that `url` was downloaded by itself, for the next lessons of `course_id`.
    pub fn mark_ahead(&self, url: &str, course_id: &str) -> Result<(), CacheError> {
        self.conn.execute(
            "INSERT INTO ahead_files (url, course_id) VALUES (?1, ?2)
             ON CONFLICT (url) DO UPDATE SET course_id = excluded.course_id",
            params![url, course_id],
        )?;
        Ok(())
    }

    /// The files downloaded by themselves for next lessons: (url, course), by URL.
    pub fn ahead_files(&self) -> Result<Vec<(String, String)>, CacheError> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT url, course_id FROM ahead_files ORDER BY url")?;
        let rows = stmt
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(rows)
    }

    /// `url` is no longer a file downloaded by itself (deleted, or the learner's now).
    pub fn forget_ahead(&self, url: &str) -> Result<(), CacheError> {
        self.conn
            .execute("DELETE FROM ahead_files WHERE url = ?1", [url])?;
        Ok(())
    }

    /// No longer keeps `course_id` offline (the caller deletes its files).
    pub fn forget_offline(&self, course_id: &str) -> Result<(), CacheError> {
        self.conn.execute(
            "DELETE FROM offline_requests WHERE course_id = ?1",
            [course_id],
        )?;
        Ok(())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, reason = "tests fail loudly on purpose")]
mod tests {
    use super::*;

    #[test]
    fn the_queue_is_kept_paused_and_resumed() {
        let cache = Cache::in_memory().unwrap();
        cache.keep_offline("c1", Some("m1")).unwrap();
        cache.keep_offline("c2", None).unwrap();
        cache.pause_offline("c1", true).unwrap();
        let queue = cache.offline_requests().unwrap();
        assert_eq!(queue.len(), 2);
        assert_eq!(queue[0].module_id.as_deref(), Some("m1"));
        assert!(queue[0].paused);
        assert!(!queue[1].paused);
        // Asking again (another module, or the same) resumes the whole course.
        cache.keep_offline("c1", None).unwrap();
        assert!(cache.offline_requests().unwrap().iter().all(|r| !r.paused));
        cache.forget_offline("c1").unwrap();
        assert_eq!(cache.offline_requests().unwrap().len(), 1);
    }

    #[test]
    fn files_fetched_ahead_are_remembered_until_forgotten() {
        let cache = Cache::in_memory().unwrap();
        cache.mark_ahead("/media/b.webm", "c1").unwrap();
        cache.mark_ahead("/media/a.png", "c1").unwrap();
        cache.mark_ahead("/media/a.png", "c2").unwrap();
        assert_eq!(
            cache.ahead_files().unwrap(),
            [
                ("/media/a.png".to_owned(), "c2".to_owned()),
                ("/media/b.webm".to_owned(), "c1".to_owned())
            ]
        );
        cache.forget_ahead("/media/a.png").unwrap();
        assert_eq!(cache.ahead_files().unwrap().len(), 1);
    }
}
