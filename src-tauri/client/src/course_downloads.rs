//! Whole courses offline: every file a course's lessons need (videos, their posters and
//! captions, the pictures in lesson text), downloaded one after another with the resumable,
//! verified downloads of [`crate::downloads`], with the size told before anything is fetched.
//! What a learner keeps offline is a queue in the cache ([`Cache::keep_offline`]), so the app
//! resumes it after a restart or a lost network; a file already whole is never fetched again.

use std::collections::BTreeSet;
use std::path::Path;

use serde::Serialize;
use serde_json::Value;
use skilltrack_protocol::sync::SyncTable;

use crate::cache::{Cache, CacheError, DownloadState};
use crate::downloads::{DownloadError, DownloadProgress};
use crate::sync::{SyncEngine, lock};

/// One file a lesson needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CourseFile {
    /// Its URL, as the lesson names it.
    pub url: String,
    /// The lesson.
    pub lesson_id: String,
}

/// What keeping a course (or a module) offline takes, told before it starts.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, ts_rs::TS)]
#[ts(export)]
pub struct CourseDownloadPlan {
    /// The course.
    pub course_id: String,
    /// One module of it; none: the whole course.
    pub module_id: Option<String>,
    /// Files its lessons need.
    pub files: u32,
    /// Of those, already here.
    pub files_done: u32,
    /// Bytes of them all (those whose size the server told).
    #[ts(type = "number")]
    pub bytes_total: u64,
    /// Bytes already here.
    #[ts(type = "number")]
    pub bytes_done: u64,
    /// Files whose size the server did not tell (they are not in `bytes_total`).
    pub sizes_unknown: u32,
}

/// How far a course's download is.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, ts_rs::TS)]
#[ts(export)]
pub struct CourseDownloadProgress {
    /// The course.
    pub course_id: String,
    /// Files to have.
    pub files_total: u32,
    /// Files here, whole.
    pub files_done: u32,
    /// Bytes of the files done, plus what has arrived of the current one.
    #[ts(type = "number")]
    pub bytes_done: u64,
}

/// How many lessons ahead of the learner the app keeps downloaded in each enrolled course,
/// when they ask it to (Settings' "keep the next lessons downloaded").
pub const LESSONS_AHEAD: usize = 3;

/// The next lessons of one enrolled course: the first ones the learner has not completed, in
/// the syllabus's order, and the files they need.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NextLessons {
    /// The course.
    pub course_id: String,
    /// Its next lessons.
    pub lesson_ids: Vec<String>,
    /// The files they need that an earlier course of the list does not already count.
    pub files: Vec<CourseFile>,
}

/// Where keeping the next lessons downloaded stands, after a run (or during one).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, ts_rs::TS)]
#[ts(export)]
pub struct NextLessonsState {
    /// Enrolled courses with lessons still to do.
    pub courses: u32,
    /// Their next lessons (at most [`LESSONS_AHEAD`] each).
    pub lessons: u32,
    /// Files those lessons need.
    pub files: u32,
    /// Of those, here whole.
    pub files_done: u32,
    /// Bytes of the files here (and of the one arriving).
    #[ts(type = "number")]
    pub bytes_done: u64,
    /// Files fetched ahead earlier and deleted now, their lessons done.
    pub files_released: u32,
    /// Files left out because they would pass the learner's storage limit.
    pub files_over_limit: u32,
}

/// Progress that counts whole files and bytes: a course's download, the next lessons'.
trait Tally {
    /// Files whole, bytes here.
    fn counts(&mut self) -> (&mut u32, &mut u64);
}

impl Tally for CourseDownloadProgress {
    fn counts(&mut self) -> (&mut u32, &mut u64) {
        (&mut self.files_done, &mut self.bytes_done)
    }
}

impl Tally for NextLessonsState {
    fn counts(&mut self) -> (&mut u32, &mut u64) {
        (&mut self.files_done, &mut self.bytes_done)
    }
}

/// The files a lesson's synced row names: its video, the video's poster and captions, and
/// the pictures its text shows. Lab links (`/labs/…`) are not files.
#[must_use]
pub fn lesson_files(row: &Value) -> Vec<String> {
    let text = |key: &str| {
        row[key]
            .as_str()
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
    };
    let mut files: Vec<String> = text("content_url")
        .filter(|u| !u.starts_with("/labs/"))
        .into_iter()
        .chain(text("poster_url"))
        .collect();
    if let Some(tracks) = row["captions"].as_array() {
        files.extend(
            tracks
                .iter()
                .filter_map(|t| t["url"].as_str().map(str::to_owned)),
        );
    }
    if let Some(body) = row["content_body"].as_str() {
        files.extend(markdown_images(body));
        files.extend(markdown_attachments(body));
    }
    files.retain(|u| fetchable(u));
    files
}

/// A URL the engine can fetch: a path on the server, or a web address.
fn fetchable(url: &str) -> bool {
    (url.starts_with('/') && !url.starts_with("//"))
        || url.starts_with("https://")
        || url.starts_with("http://")
}

/// Kinds of files a lesson may link to as an attachment, downloaded with its course and opened
/// in the learner's own application: documents and data, never anything a desktop would run.
pub const ATTACHMENT_EXTENSIONS: &[&str] = &["pdf", "txt", "csv", "zip", "json", "odt", "ods"];

/// Whether `url` is an attachment: a file on the server (`/media/…`) of a kind listed in
/// [`ATTACHMENT_EXTENSIONS`].
#[must_use]
pub fn is_attachment(url: &str) -> bool {
    let path = url.split(['?', '#']).next().unwrap_or_default();
    let extension = path.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase());
    path.starts_with("/media/")
        && !path.contains("/../")
        && extension.is_some_and(|e| ATTACHMENT_EXTENSIONS.contains(&e.as_str()))
}

/// The attachments a lesson's markdown links to (`[cheat sheet](/media/…/sheet.pdf)`), each
/// once, in order.
#[must_use]
pub fn markdown_attachments(markdown: &str) -> Vec<String> {
    let mut found: Vec<String> = Vec::new();
    let mut rest = markdown;
    while let Some(at) = rest.find("](") {
        let target = &rest[at + 2..];
        let end = target.find(')').unwrap_or(target.len());
        if let Some(url) = target[..end].split_whitespace().next() {
            let url = url.trim_matches(['<', '>']);
            if is_attachment(url) && !found.iter().any(|f| f == url) {
                found.push(url.to_owned());
            }
        }
        rest = &target[end..];
    }
    found
}

/// The picture addresses of a lesson's markdown: `![alt](url "title")` and `<img src="url">`.
#[must_use]
pub fn markdown_images(markdown: &str) -> Vec<String> {
    let mut found = Vec::new();
    let mut rest = markdown;
    while let Some(at) = rest.find("![") {
        rest = &rest[at + 2..];
        let Some(close) = rest.find("](") else { break };
        let target = &rest[close + 2..];
        let end = target.find(')').unwrap_or(target.len());
        if let Some(url) = target[..end].split_whitespace().next() {
            found.push(url.trim_matches(['<', '>']).to_owned());
        }
        rest = &target[end..];
    }
    let lower = markdown.to_ascii_lowercase();
    let mut from = 0;
    while let Some(at) = lower[from..].find("<img") {
        let tag_start = from + at;
        let tag_end = lower[tag_start..]
            .find('>')
            .map_or(lower.len(), |e| tag_start + e);
        let tag = &markdown[tag_start..tag_end];
        if let Some(src) = tag.to_ascii_lowercase().find("src=") {
            let value = &tag[src + 4..];
            let quote = value.chars().next().filter(|c| *c == '"' || *c == '\'');
            let url = match quote {
                Some(q) => value[1..].split(q).next().unwrap_or_default(),
                None => value.split_whitespace().next().unwrap_or_default(),
            };
            if !url.is_empty() {
                found.push(url.to_owned());
            }
        }
        from = tag_end;
    }
    found
}

impl Cache {
    /// The files the lessons of `course_id` (or of its `module_id` only) need, each once.
    pub fn course_files(
        &self,
        course_id: &str,
        module_id: Option<&str>,
    ) -> Result<Vec<CourseFile>, CacheError> {
        let mut seen = BTreeSet::new();
        let mut files = Vec::new();
        for module in self.syllabus(course_id)? {
            if module_id.is_some_and(|m| module.module["id"].as_str() != Some(m)) {
                continue;
            }
            for lesson in &module.lessons {
                let lesson_id = lesson.lesson["id"].as_str().unwrap_or_default();
                for url in lesson_files(&lesson.lesson) {
                    if seen.insert(url.clone()) {
                        files.push(CourseFile {
                            url,
                            lesson_id: lesson_id.to_owned(),
                        });
                    }
                }
            }
        }
        Ok(files)
    }

    /// The next `n` lessons `user` has not completed in each course they are enrolled in (and
    /// have not finished), courses in the order they enrolled, each file counted once.
    pub fn next_lessons(&self, user: &str, n: usize) -> Result<Vec<NextLessons>, CacheError> {
        let mut enrolled: Vec<Value> = self
            .all_rows(SyncTable::Enrollments)?
            .into_iter()
            .filter(|e| e["user_id"].as_str() == Some(user) && e["status"] == "active")
            .collect();
        enrolled.sort_by(|a, b| {
            (a["enrolled_at"].as_str(), a["course_id"].as_str())
                .cmp(&(b["enrolled_at"].as_str(), b["course_id"].as_str()))
        });
        let mut seen = BTreeSet::new();
        let mut out = Vec::new();
        for enrollment in enrolled {
            let course_id = enrollment["course_id"].as_str().unwrap_or_default();
            let done: BTreeSet<String> = self
                .rows_where(SyncTable::UserProgress, "course_id", course_id)?
                .iter()
                .filter(|p| p["user_id"].as_str() == Some(user) && !p["completed_at"].is_null())
                .filter_map(|p| p["lesson_id"].as_str().map(str::to_owned))
                .collect();
            let mut next = NextLessons {
                course_id: course_id.to_owned(),
                ..NextLessons::default()
            };
            let syllabus = self.syllabus(course_id)?;
            let lessons = syllabus.iter().flat_map(|m| &m.lessons);
            for lesson in lessons {
                let id = lesson.lesson["id"].as_str().unwrap_or_default();
                if next.lesson_ids.len() == n {
                    break;
                }
                if done.contains(id) {
                    continue;
                }
                next.lesson_ids.push(id.to_owned());
                for url in lesson_files(&lesson.lesson) {
                    if seen.insert(url.clone()) {
                        next.files.push(CourseFile {
                            url,
                            lesson_id: id.to_owned(),
                        });
                    }
                }
            }
            if !next.lesson_ids.is_empty() {
                out.push(next);
            }
        }
        Ok(out)
    }

    /// Files of `course_id` whole on this device, and their bytes.
    pub fn course_storage(&self, course_id: &str) -> Result<(u32, u64), CacheError> {
        let mut files = 0;
        let mut bytes = 0;
        for file in self.course_files(course_id, None)? {
            if let Some(d) = self.download(&file.url)? {
                if d.state == DownloadState::Complete {
                    files += 1;
                }
                bytes += u64::try_from(d.bytes_done).unwrap_or(0);
            }
        }
        Ok((files, bytes))
    }
}

impl SyncEngine {
    /// What keeping `course_id` (or its `module_id`) offline takes: the files, how many are
    /// here, and their sizes (asked of the server for the files not here yet).
    pub async fn course_download_plan(
        &self,
        course_id: &str,
        module_id: Option<&str>,
    ) -> Result<CourseDownloadPlan, DownloadError> {
        let files = lock(self.cache()).course_files(course_id, module_id)?;
        let mut plan = CourseDownloadPlan {
            course_id: course_id.to_owned(),
            module_id: module_id.map(str::to_owned),
            files: u32::try_from(files.len()).unwrap_or(u32::MAX),
            ..CourseDownloadPlan::default()
        };
        let token = self.session().await?.access_token;
        for file in &files {
            let known = lock(self.cache()).download(&file.url)?;
            if let Some(d) = known
                .as_ref()
                .filter(|d| d.state == DownloadState::Complete)
            {
                plan.files_done += 1;
                let size = u64::try_from(d.bytes_done).unwrap_or(0);
                plan.bytes_done += size;
                plan.bytes_total += size;
                continue;
            }
            match self.api().media_size(&token, &file.url).await? {
                Some(size) => plan.bytes_total += size,
                None => plan.sizes_unknown += 1,
            }
            if let Some(d) = known {
                plan.bytes_done += u64::try_from(d.bytes_done).unwrap_or(0);
            }
        }
        Ok(plan)
    }

    /// Downloads every file of `course_id` (or its `module_id`) not yet whole into `dir`, one
    /// after another, resuming a partial one, calling `progress` as bytes arrive. Stops at the
    /// first failure (offline, refused, disk full), leaving what it has for the next run.
    pub async fn download_course(
        &self,
        course_id: &str,
        module_id: Option<&str>,
        dir: &Path,
        mut progress: impl FnMut(&CourseDownloadProgress) + Send,
    ) -> Result<CourseDownloadProgress, DownloadError> {
        let files = lock(self.cache()).course_files(course_id, module_id)?;
        let mut state = CourseDownloadProgress {
            course_id: course_id.to_owned(),
            files_total: u32::try_from(files.len()).unwrap_or(u32::MAX),
            ..CourseDownloadProgress::default()
        };
        let mut todo = Vec::new();
        for file in files {
            match lock(self.cache()).download(&file.url)? {
                Some(d) if d.state == DownloadState::Complete => {
                    state.files_done += 1;
                    state.bytes_done += u64::try_from(d.bytes_done).unwrap_or(0);
                }
                _ => todo.push(file),
            }
        }
        progress(&state);
        for file in todo {
            self.fetch_counted(&file, dir, &mut state, &mut progress)
                .await?;
        }
        Ok(state)
    }

    /// Downloads `file` whole into `dir` (resuming what is there), counting its bytes into
    /// `state` as they arrive and the file once whole, telling `progress` each time; a
    /// corrupt file is fetched once more, then reported.
    async fn fetch_counted<T: Tally + Send>(
        &self,
        file: &CourseFile,
        dir: &Path,
        state: &mut T,
        progress: &mut (impl FnMut(&T) + Send),
    ) -> Result<(), DownloadError> {
        let before = *state.counts().1;
        let mut attempts = 0;
        let record = loop {
            attempts += 1;
            let result = self
                .download(
                    &file.url,
                    Some(&file.lesson_id),
                    dir,
                    |p: DownloadProgress| {
                        *state.counts().1 = before + p.done;
                        progress(state);
                    },
                )
                .await;
            match result {
                Err(DownloadError::Corrupt { .. }) if attempts < 2 => {}
                other => break other?,
            }
        };
        let (files, bytes) = state.counts();
        *files += 1;
        *bytes = before + u64::try_from(record.bytes_done).unwrap_or(0);
        progress(state);
        Ok(())
    }

    /// Keeps the next `n` lessons of every course the signed-in learner is enrolled in
    /// downloaded ([`Cache::next_lessons`]): files fetched ahead earlier whose lessons are done
    /// are deleted (unless a course kept offline uses them), then the missing files are
    /// fetched into `dir`, each only if it fits under `limit` bytes of downloads in all (the
    /// learner's storage limit; a file that does not fit is left out and counted). Only files
    /// this fetched are ever deleted by it: what the learner downloaded stays theirs.
    pub async fn keep_next_lessons(
        &self,
        dir: &Path,
        n: usize,
        limit: Option<u64>,
        mut progress: impl FnMut(&NextLessonsState) + Send,
    ) -> Result<NextLessonsState, DownloadError> {
        let user = self
            .signed_in_user()
            .await
            .ok_or(crate::sync::SyncError::SignedOut)?;
        let (next, ahead, kept) = {
            let cache = lock(self.cache());
            let mut kept = BTreeSet::new();
            for request in cache.offline_requests()? {
                for f in cache.course_files(&request.course_id, request.module_id.as_deref())? {
                    kept.insert(f.url);
                }
            }
            (
                cache.next_lessons(&user.to_string(), n)?,
                cache.ahead_files()?,
                kept,
            )
        };
        let wanted: BTreeSet<&str> = next
            .iter()
            .flat_map(|c| c.files.iter().map(|f| f.url.as_str()))
            .collect();
        let count = |n: usize| u32::try_from(n).unwrap_or(u32::MAX);
        let mut state = NextLessonsState {
            courses: count(next.len()),
            lessons: count(next.iter().map(|c| c.lesson_ids.len()).sum()),
            files: count(wanted.len()),
            ..NextLessonsState::default()
        };
        for (url, _) in &ahead {
            if wanted.contains(url.as_str()) {
                continue;
            }
            if !kept.contains(url) {
                self.delete_download(url).await?;
                state.files_released += 1;
            }
            lock(self.cache()).forget_ahead(url)?;
        }
        progress(&state);
        let mut token = None;
        for course in &next {
            for file in &course.files {
                let known = lock(self.cache()).download(&file.url)?;
                let have = known
                    .as_ref()
                    .map_or(0, |d| u64::try_from(d.bytes_done).unwrap_or(0));
                if known
                    .as_ref()
                    .is_some_and(|d| d.state == DownloadState::Complete)
                {
                    state.files_done += 1;
                    state.bytes_done += have;
                    continue;
                }
                if let Some(limit) = limit {
                    if token.is_none() {
                        token = Some(self.session().await?.access_token);
                    }
                    let access = token.as_deref().unwrap_or_default();
                    let size = self.api().media_size(access, &file.url).await?;
                    let in_use = u64::try_from(lock(self.cache()).download_bytes()?).unwrap_or(0);
                    let more = size.unwrap_or(0).saturating_sub(have);
                    if in_use + more > limit {
                        state.files_over_limit += 1;
                        continue;
                    }
                }
                // A file begun by the learner (a lesson's own download) stays theirs.
                if known.is_none() {
                    lock(self.cache()).mark_ahead(&file.url, &course.course_id)?;
                }
                self.fetch_counted(file, dir, &mut state, &mut progress)
                    .await?;
            }
        }
        Ok(state)
    }

    /// Stops keeping `course_id` offline and deletes its files, except those another course
    /// kept offline also uses. Answers the bytes freed.
    pub async fn delete_course_files(&self, course_id: &str) -> Result<u64, DownloadError> {
        let (files, keep) = {
            let cache = lock(self.cache());
            cache.forget_offline(course_id)?;
            let mut keep = BTreeSet::new();
            for other in cache.offline_requests()? {
                for f in cache.course_files(&other.course_id, other.module_id.as_deref())? {
                    keep.insert(f.url);
                }
            }
            (cache.course_files(course_id, None)?, keep)
        };
        let mut freed = 0;
        for file in files.iter().filter(|f| !keep.contains(&f.url)) {
            if let Some(d) = lock(self.cache()).download(&file.url)? {
                freed += u64::try_from(d.bytes_done).unwrap_or(0);
            }
            self.delete_download(&file.url).await?;
        }
        Ok(freed)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, reason = "tests fail loudly on purpose")]
mod tests {
    use super::*;

    #[test]
    fn a_lesson_needs_its_video_poster_captions_and_pictures() {
        let row = serde_json::json!({
            "content_url": "/media/demo/clip.mp4",
            "poster_url": "/media/demo/clip.png",
            "captions": [{"language": "en", "url": "/media/demo/clip.en.vtt"}],
            "content_body": "Look: ![a prompt](/media/uploads/ab.png \"The prompt\") and \
                <IMG alt=x SRC='https://cdn.example.com/b.webp'> and ![x](<c d.png>) \
                but not ![inline](data:image/png;base64,AAAA) nor ![](javascript:alert(1))",
        });
        assert_eq!(
            lesson_files(&row),
            [
                "/media/demo/clip.mp4",
                "/media/demo/clip.png",
                "/media/demo/clip.en.vtt",
                "/media/uploads/ab.png",
                "https://cdn.example.com/b.webp",
            ]
        );
        let lab = serde_json::json!({"content_url": "/labs/linux-basics"});
        assert!(lesson_files(&lab).is_empty());
    }

    #[test]
    fn a_lesson_needs_the_documents_it_links_to_but_nothing_a_desktop_would_run() {
        let row = serde_json::json!({
            "content_body": "Print [the cheat sheet](/media/demo/sheet.PDF \"PDF\"), open \
                [the data](</media/uploads/d.csv>), again [the sheet](/media/demo/sheet.PDF); \
                not [a script](/media/demo/run.sh), [a launcher](/media/x.desktop), \
                [a page](https://example.com/a.pdf), [up](/media/../etc/x.pdf) \
                nor [another lesson](02-next.md)",
        });
        assert_eq!(
            lesson_files(&row),
            ["/media/demo/sheet.PDF", "/media/uploads/d.csv"]
        );
        assert!(is_attachment("/media/demo/sheet.pdf?v=2"));
        assert!(!is_attachment("/api/v1/me.json"));
    }
}
