//! Course packages and the server: `course push` and `course pull` (docs/course-packages.md).
//!
//! A folder remembers, in `.skilltrack/state.json` beside its files, which server course it was
//! last pulled from or pushed to, at which revision, and which media files it uploaded (by
//! SHA-256). The revision is how the server tells a folder behind its own changes
//! (`course_changed_on_server`); the hashes are how a push uploads a video once, however often
//! the folder is pushed.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use reqwest::Method;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use skilltrack_package::course::{self, Problems};
use skilltrack_protocol::course_packages::{CoursePush, CoursePushReport, PulledCourse};
use skilltrack_protocol::uploads::ContentUpload;
use uuid::Uuid;

use crate::sync::{SyncEngine, SyncError};

/// The folder, beside a package's files, where what a push or pull remembers is kept. The
/// package reader skips folders whose names start with `.`.
pub const STATE_DIR: &str = ".skilltrack";
const STATE_FILE: &str = "state.json";

/// A media file takes this long at most to upload.
const UPLOAD_TIMEOUT: Duration = Duration::from_secs(600);

/// What a package's folder remembers of the server.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PackageState {
    /// The server it was pulled from or pushed to.
    pub server: String,
    /// The course there.
    pub course_id: Uuid,
    /// The course's revision at that pull or push.
    pub revision: String,
    /// Media uploaded from this folder: SHA-256 → the server's URL.
    #[serde(default)]
    pub media: BTreeMap<String, String>,
}

impl PackageState {
    fn path(dir: &Path) -> PathBuf {
        dir.join(STATE_DIR).join(STATE_FILE)
    }

    /// The folder's state, if it has been pushed or pulled.
    pub fn load(dir: &Path) -> Result<Option<Self>, PackageError> {
        let path = Self::path(dir);
        match std::fs::read(&path) {
            Ok(bytes) => serde_json::from_slice(&bytes)
                .map(Some)
                .map_err(|e| PackageError::State(path, e.to_string())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(PackageError::Io(path, e)),
        }
    }

    /// Saves the state (and keeps it out of git: the folder gets its own `.gitignore`).
    pub fn save(&self, dir: &Path) -> Result<(), PackageError> {
        let state_dir = dir.join(STATE_DIR);
        std::fs::create_dir_all(&state_dir).map_err(|e| PackageError::Io(state_dir.clone(), e))?;
        let ignore = state_dir.join(".gitignore");
        if !ignore.exists() {
            std::fs::write(&ignore, "*\n").map_err(|e| PackageError::Io(ignore, e))?;
        }
        let path = Self::path(dir);
        let mut text = serde_json::to_string_pretty(self).unwrap_or_default();
        text.push('\n');
        std::fs::write(&path, text).map_err(|e| PackageError::Io(path, e))
    }
}

/// Why a push or pull did not happen.
#[derive(Debug, thiserror::Error)]
pub enum PackageError {
    /// The package has problems (each with its file, line and column).
    #[error("the package has {} problem(s)", .0.0.len())]
    Invalid(Problems),
    /// The server refused, or could not be reached.
    #[error(transparent)]
    Server(#[from] SyncError),
    /// A file could not be read or written.
    #[error("{}: {}", .0.display(), .1)]
    Io(PathBuf, std::io::Error),
    /// The folder's `.skilltrack/state.json` is not readable.
    #[error("{}: {} (delete it to push as a new folder)", .0.display(), .1)]
    State(PathBuf, String),
    /// A pull would overwrite a folder that holds something else.
    #[error("{}", .0)]
    Refused(String),
}

/// How to push.
#[derive(Debug, Clone, Copy, Default)]
pub struct PushOptions {
    /// Only say what would change.
    pub dry_run: bool,
    /// Replace changes made on the server since the folder's last pull or push.
    pub force: bool,
    /// Publish the course once written.
    pub publish: bool,
}

/// What a push did.
#[derive(Debug, Clone)]
pub struct Pushed {
    /// The server's report.
    pub report: CoursePushReport,
    /// Media files uploaded by this push (package paths); the others were uploaded before.
    pub uploaded: Vec<String>,
}

/// A media type for a file the server accepts, from its extension.
fn media_type(path: &str) -> &'static str {
    let ext = path
        .rsplit('.')
        .next()
        .unwrap_or_default()
        .to_ascii_lowercase();
    match ext.as_str() {
        "webm" => "video/webm",
        "mp4" | "m4v" => "video/mp4",
        "ogv" => "video/ogg",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "gif" => "image/gif",
        "webp" => "image/webp",
        "vtt" => "text/vtt",
        "pdf" => "application/pdf",
        _ => "application/octet-stream",
    }
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    bytes
        .iter()
        .fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
}

impl SyncEngine {
    /// Pushes the package in `dir` as a draft (see [`PushOptions`]): uploads media the server
    /// does not have from this folder yet, sends the tree, and remembers the new revision.
    pub async fn push_package(
        &self,
        dir: &Path,
        options: PushOptions,
    ) -> Result<Pushed, PackageError> {
        let package = course::read_dir(dir).map_err(PackageError::Invalid)?;
        let mut state = PackageState::load(dir)?
            .filter(|s| s.server == self.api().base())
            .unwrap_or_default();
        let token = self.session().await?.access_token;
        let mut urls = std::collections::HashMap::new();
        let mut uploaded = Vec::new();
        for media in skilltrack_package::tree::media_files(&package) {
            let file = &media.path;
            if urls.contains_key(file) {
                continue;
            }
            let path = dir.join(file);
            let bytes = std::fs::read(&path).map_err(|e| PackageError::Io(path.clone(), e))?;
            let sha = hex(&Sha256::digest(&bytes));
            let url = if let Some(url) = state.media.get(&sha) {
                url.clone()
            } else if options.dry_run {
                // Not uploaded in a dry run: a placeholder under /media/ keeps the lesson valid.
                format!("/media/uploads/{sha}")
            } else {
                let name = file.rsplit('/').next().unwrap_or(file);
                let upload: ContentUpload = self
                    .api()
                    .upload(
                        &format!("/api/v1/uploads?filename={}", crate::api::urlencode(name)),
                        &token,
                        media_type(file),
                        bytes,
                        UPLOAD_TIMEOUT,
                    )
                    .await
                    .map_err(SyncError::from)?;
                uploaded.push(file.clone());
                state.media.insert(sha, upload.file_url.clone());
                upload.file_url
            };
            urls.insert(file.clone(), url);
        }
        let tree = skilltrack_package::tree::to_tree_with_media(&package, &urls);
        let push = CoursePush {
            tree,
            base_revision: (!state.revision.is_empty()).then(|| state.revision.clone()),
            force: options.force,
            dry_run: options.dry_run,
            publish: options.publish,
        };
        let report: CoursePushReport = self
            .api()
            .json(
                Method::PUT,
                "/api/v1/authoring/course-packages",
                &token,
                Some(&push),
            )
            .await
            .map_err(SyncError::from)?;
        if report.applied {
            state.server = self.api().base().to_owned();
            state.course_id = report.course_id;
            state.revision.clone_from(&report.revision);
            state.save(dir)?;
            self.nudge();
        } else if !uploaded.is_empty() {
            state.save(dir)?;
        }
        Ok(Pushed { report, uploaded })
    }

    /// Writes the server's course `course` (an id or a slug of one the caller manages) as a
    /// package in `dir`: a new or empty folder, or one holding this same course.
    pub async fn pull_package(
        &self,
        course: &str,
        dir: &Path,
    ) -> Result<PulledCourse, PackageError> {
        let token = self.session().await?.access_token;
        let pulled: PulledCourse = self
            .api()
            .json::<(), _>(
                Method::GET,
                &format!(
                    "/api/v1/authoring/course-packages/{}",
                    crate::api::urlencode(course)
                ),
                &token,
                None,
            )
            .await
            .map_err(SyncError::from)?;
        check_pull_target(dir, &pulled.tree.course.slug)?;
        skilltrack_package::tree::write_dir(&pulled.tree, dir)
            .map_err(|e| PackageError::Io(dir.to_owned(), e))?;
        let media = PackageState::load(dir)?
            .map(|s| s.media)
            .unwrap_or_default();
        PackageState {
            server: self.api().base().to_owned(),
            course_id: pulled.course_id,
            revision: pulled.revision.clone(),
            media,
        }
        .save(dir)?;
        Ok(pulled)
    }
}

/// A pull writes into an empty (or new) folder, or over a package of the same course.
fn check_pull_target(dir: &Path, slug: &str) -> Result<(), PackageError> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(PackageError::Io(dir.to_owned(), e)),
    };
    let visible = entries
        .filter_map(Result::ok)
        .any(|e| !e.file_name().to_string_lossy().starts_with('.'));
    if !visible {
        return Ok(());
    }
    let course_json = dir.join(course::COURSE_FILE);
    let same = std::fs::read(&course_json)
        .ok()
        .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok())
        .is_some_and(|v| v.get("slug").and_then(|s| s.as_str()) == Some(slug));
    if same {
        Ok(())
    } else {
        Err(PackageError::Refused(format!(
            "{} is not empty and is not a package of the course `{slug}`: pull into a new folder",
            dir.display()
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::{PackageState, check_pull_target, media_type};

    #[test]
    fn media_types_come_from_the_extension() {
        assert_eq!(media_type("media/intro.webm"), "video/webm");
        assert_eq!(media_type("media/Intro.MP4"), "video/mp4");
        assert_eq!(media_type("media/notes"), "application/octet-stream");
    }

    #[test]
    fn a_pull_never_writes_over_another_folder() {
        let dir = tempfile::tempdir().unwrap();
        check_pull_target(dir.path(), "a").unwrap();
        std::fs::write(dir.path().join("course.json"), r#"{"slug": "a"}"#).unwrap();
        check_pull_target(dir.path(), "a").unwrap();
        assert!(check_pull_target(dir.path(), "b").is_err());
        let other = tempfile::tempdir().unwrap();
        std::fs::write(other.path().join("notes.txt"), "mine").unwrap();
        assert!(check_pull_target(other.path(), "a").is_err());
    }

    #[test]
    fn the_state_round_trips_and_is_kept_out_of_git() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(PackageState::load(dir.path()).unwrap(), None);
        let state = PackageState {
            server: "http://127.0.0.1:8787".into(),
            revision: "abc".into(),
            ..PackageState::default()
        };
        state.save(dir.path()).unwrap();
        assert_eq!(PackageState::load(dir.path()).unwrap(), Some(state));
        assert_eq!(
            std::fs::read_to_string(dir.path().join(".skilltrack/.gitignore")).unwrap(),
            "*\n"
        );
    }
}
