//! The local preview of a course package: an instructor opens a course folder (see
//! `docs/course-packages.md`) and studies it through the learner's own screens, with no server
//! and no network.
//!
//! * [`Watch`]: reads the folder with [`skilltrack_package::course::read_dir`], then again
//!   each time a file in it changes (a `notify` watcher, debounced by [`DEBOUNCE`]), and hands
//!   every read, a [`Snapshot`], to whoever listens (the app sends it to the window as the
//!   `package-preview` event, and the open screen reloads).
//! * [`screens`]: the learner screens' views, shaped from a package instead of the cache.
//! * [`attempts`]: quizzes taken in the preview, graded here by the server's own rules
//!   ([`skilltrack_package::grading`]) from the answer keys in the package on disk.
//!
//! Nothing of a preview is written anywhere: the package, its attempts and its keys stay in
//! this process's memory, never in the learner's cache, and a preview makes no network call.

pub mod attempts;
pub mod screens;

use std::path::{Path, PathBuf};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use notify::{EventKind, RecursiveMode, Watcher as _};
use skilltrack_package::course::{CoursePackage, Problems, read_dir};

use crate::local_media::LocalMedia;
use crate::views::package_preview::{PackageProblem, PreviewStatus};

use self::attempts::Attempts;

/// How long the folder must be quiet after a change before it is read again: an editor's save
/// (a write, a rename, a touch of the folder) or a `git checkout` of many files is one read.
pub const DEBOUNCE: Duration = Duration::from_millis(60);

/// The longest a stream of changes can put off a read: a file written continuously still
/// repaints.
const MAX_DELAY: Duration = Duration::from_millis(500);

/// One read of the package's folder.
#[derive(Debug)]
pub struct Snapshot {
    /// 1 for the first read, then one more for each read after a change.
    pub version: u64,
    /// The package, or every problem it has.
    pub read: Result<CoursePackage, Problems>,
    /// When it was read, milliseconds since the Unix epoch.
    pub read_at_ms: u64,
}

impl Snapshot {
    fn read(dir: &Path, version: u64) -> Self {
        let read = read_dir(dir);
        Self {
            version,
            read,
            read_at_ms: now_ms(),
        }
    }

    /// The window's summary of this read.
    pub fn status(&self, folder: &Path) -> PreviewStatus {
        let (course_id, title, problems) = match &self.read {
            Ok(package) => (
                Some(screens::course_id(package)),
                Some(package.course.title.clone()),
                Vec::new(),
            ),
            Err(problems) => (
                None,
                None,
                problems
                    .0
                    .iter()
                    .map(|p| PackageProblem {
                        file: p.file.clone(),
                        line: u32::try_from(p.line).unwrap_or(u32::MAX),
                        column: u32::try_from(p.column).unwrap_or(u32::MAX),
                        message: p.message.clone(),
                        fix: p.fix.clone(),
                    })
                    .collect(),
            ),
        };
        PreviewStatus {
            folder: folder.display().to_string(),
            version: self.version,
            course_id,
            title,
            problems,
            read_at_ms: self.read_at_ms,
        }
    }
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

/// Why a folder cannot be previewed.
#[derive(Debug, thiserror::Error)]
pub enum PreviewError {
    /// No such folder.
    #[error("{0} is not a folder")]
    NotAFolder(String),
    /// The watcher could not start (too many watches, for example).
    #[error("cannot watch {folder} for changes: {source}")]
    Watch {
        /// The folder.
        folder: String,
        /// Why.
        source: notify::Error,
    },
}

/// Whether a change in the folder can change the package. Reads (our own included) change
/// nothing, and neither do hidden files (an editor's swap files, `.git/`), which the reader
/// skips.
fn matters(event: &notify::Event, root: &Path) -> bool {
    use notify::event::{AccessKind, AccessMode};
    if let EventKind::Access(access) = event.kind
        && access != AccessKind::Close(AccessMode::Write)
    {
        return false;
    }
    let hidden = |rel: &Path| {
        rel.components()
            .any(|c| c.as_os_str().to_string_lossy().starts_with('.'))
    };
    event.paths.is_empty()
        || event
            .paths
            .iter()
            .any(|path| !path.strip_prefix(root).is_ok_and(hidden))
}

/// A package's folder, read now and again after every change until dropped.
pub struct Watch {
    latest: Arc<Mutex<Arc<Snapshot>>>,
    // Dropping the watcher closes the channel, which ends the reading thread.
    _watcher: notify::RecommendedWatcher,
}

impl Watch {
    /// Reads `folder`, hands the read to `publish`, then watches the folder and hands every
    /// later read to `publish` too (on a thread of its own).
    ///
    /// # Errors
    /// When `folder` is no folder or cannot be watched.
    pub fn start(
        folder: &Path,
        publish: impl Fn(&Arc<Snapshot>) + Send + 'static,
    ) -> Result<Self, PreviewError> {
        if !folder.is_dir() {
            return Err(PreviewError::NotAFolder(folder.display().to_string()));
        }
        let root = folder.to_owned();
        let (tx, rx) = mpsc::channel::<notify::Event>();
        let watch_root = root.clone();
        let mut watcher =
            notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
                if let Ok(event) = event
                    && matters(&event, &watch_root)
                {
                    let _ = tx.send(event);
                }
            })
            .map_err(|source| PreviewError::Watch {
                folder: root.display().to_string(),
                source,
            })?;
        // Watch before the first read, so that a change made during it is not missed.
        watcher
            .watch(&root, RecursiveMode::Recursive)
            .map_err(|source| PreviewError::Watch {
                folder: root.display().to_string(),
                source,
            })?;
        let first = Arc::new(Snapshot::read(&root, 1));
        publish(&first);
        let latest = Arc::new(Mutex::new(first));
        let shared = Arc::clone(&latest);
        std::thread::Builder::new()
            .name("package-preview".into())
            .spawn(move || {
                let mut version = 1;
                // Each loop: wait for a change, let the folder go quiet, read it.
                while rx.recv().is_ok() {
                    let first_change = Instant::now();
                    loop {
                        match rx.recv_timeout(DEBOUNCE) {
                            Ok(_) if first_change.elapsed() < MAX_DELAY => {}
                            Ok(_) | Err(RecvTimeoutError::Timeout) => break,
                            Err(RecvTimeoutError::Disconnected) => return,
                        }
                    }
                    version += 1;
                    let snapshot = Arc::new(Snapshot::read(&root, version));
                    *shared.lock().unwrap_or_else(PoisonError::into_inner) = Arc::clone(&snapshot);
                    publish(&snapshot);
                }
            })
            .map_err(|e| PreviewError::Watch {
                folder: folder.display().to_string(),
                source: notify::Error::io(e),
            })?;
        Ok(Self {
            latest,
            _watcher: watcher,
        })
    }

    /// The latest read.
    pub fn latest(&self) -> Arc<Snapshot> {
        Arc::clone(&self.latest.lock().unwrap_or_else(PoisonError::into_inner))
    }
}

/// One open preview: its folder, the watch on it, and the quizzes taken in it.
pub struct Session {
    /// The package's folder.
    pub folder: PathBuf,
    /// The watch on it.
    pub watch: Watch,
    /// Attempts at its quizzes, in memory only.
    pub attempts: Mutex<Attempts>,
}

/// The app's preview state: at most one package open at a time, and the loopback server that
/// plays its videos (started with the first preview).
#[derive(Default)]
pub struct PackagePreview {
    session: Mutex<Option<Arc<Session>>>,
    media: Mutex<Option<LocalMedia>>,
}

impl PackagePreview {
    /// Opens `folder` in place of any preview open now; `publish` gets every read.
    ///
    /// # Errors
    /// See [`Watch::start`].
    pub fn open(
        &self,
        folder: &Path,
        publish: impl Fn(&Arc<Snapshot>) + Send + 'static,
    ) -> Result<Arc<Session>, PreviewError> {
        // The old watch stops first: its thread must not publish over the new folder's reads.
        self.close();
        let watch = Watch::start(folder, publish)?;
        let session = Arc::new(Session {
            folder: folder.to_owned(),
            watch,
            attempts: Mutex::new(Attempts::default()),
        });
        *self.session.lock().unwrap_or_else(PoisonError::into_inner) = Some(Arc::clone(&session));
        Ok(session)
    }

    /// Closes the preview (its watch stops, its attempts are forgotten).
    pub fn close(&self) {
        self.session
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
    }

    /// The open preview, if any.
    pub fn session(&self) -> Option<Arc<Session>> {
        self.session
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// The loopback URL of a video file of the open package (in its `media/` folder).
    ///
    /// # Errors
    /// When the media server cannot start.
    pub fn media_url(&self, file: &Path) -> Result<Option<String>, crate::local_media::StartError> {
        let Some(dir) = file.parent() else {
            return Ok(None);
        };
        let mut media = self.media.lock().unwrap_or_else(PoisonError::into_inner);
        let server = match media.as_ref() {
            Some(server) => {
                server.serve_from(dir.to_owned());
                server.clone()
            }
            None => media.insert(LocalMedia::start(dir.to_owned())?).clone(),
        };
        Ok(server.url_of(file))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, reason = "tests fail loudly on purpose")]
mod tests {
    use super::*;

    /// The next published read, waiting at most 20 s.
    fn next(rx: &mpsc::Receiver<Arc<Snapshot>>) -> Arc<Snapshot> {
        rx.recv_timeout(Duration::from_secs(20))
            .expect("a read of the package after the change")
    }

    /// Reads until one satisfies `ok` (a save can arrive as more than one change).
    fn until(rx: &mpsc::Receiver<Arc<Snapshot>>, ok: impl Fn(&Snapshot) -> bool) -> Arc<Snapshot> {
        loop {
            let s = next(rx);
            if ok(&s) {
                return s;
            }
        }
    }

    fn welcome_body(s: &Snapshot) -> Option<String> {
        s.read
            .as_ref()
            .ok()
            .and_then(|p| p.modules[0].lessons[0].lesson.content_body.clone())
    }

    #[test]
    fn a_saved_file_publishes_a_new_read_problems_included_until_fixed() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("watched-course");
        skilltrack_package::course::write_skeleton(&dir).unwrap();
        let (tx, rx) = mpsc::channel();
        let watch = Watch::start(&dir, move |s| {
            let _ = tx.send(Arc::clone(s));
        })
        .unwrap();

        let first = next(&rx);
        assert_eq!(first.version, 1);
        assert!(
            welcome_body(&first)
                .unwrap()
                .contains("edit it in any editor")
        );

        // An edit to a lesson: a new version with the new text.
        let lesson = dir.join("01-getting-started/01-welcome.md");
        std::fs::write(
            &lesson,
            "---\ntitle: Welcome\ntype: text\n---\n\nThe text was changed on disk.\n",
        )
        .unwrap();
        let edited = until(&rx, |s| {
            welcome_body(s).is_some_and(|b| b.contains("changed on disk"))
        });
        assert!(edited.version > 1);
        assert_eq!(watch.latest().version, edited.version);

        // A broken course.json: the problems, with where they are.
        let course = dir.join("course.json");
        let good = std::fs::read_to_string(&course).unwrap();
        std::fs::write(&course, good.replace("\"level\"", "\"levle\"")).unwrap();
        let broken = until(&rx, |s| s.read.is_err());
        assert!(broken.version > edited.version);
        let status = broken.status(&dir);
        assert!(status.course_id.is_none());
        let problem = status
            .problems
            .iter()
            .find(|p| p.file == "course.json" && p.message.contains("levle"))
            .unwrap_or_else(|| panic!("a problem naming the field: {:?}", status.problems));
        assert!(problem.line > 1, "{problem:?}");
        assert!(!problem.fix.is_empty());

        // Fixed: the package again.
        std::fs::write(&course, good).unwrap();
        let fixed = until(&rx, |s| s.read.is_ok());
        assert!(fixed.version > broken.version);
        assert!(welcome_body(&fixed).unwrap().contains("changed on disk"));
        assert!(fixed.status(&dir).problems.is_empty());
    }

    #[test]
    fn reads_and_hidden_files_are_no_change() {
        let root = Path::new("/pkg");
        let event = |kind, path: &str| notify::Event::new(kind).add_path(PathBuf::from(path));
        let open = EventKind::Access(notify::event::AccessKind::Open(
            notify::event::AccessMode::Any,
        ));
        let write = EventKind::Modify(notify::event::ModifyKind::Data(
            notify::event::DataChange::Any,
        ));
        let saved = EventKind::Access(notify::event::AccessKind::Close(
            notify::event::AccessMode::Write,
        ));
        assert!(!matters(&event(open, "/pkg/course.json"), root));
        assert!(matters(&event(saved, "/pkg/course.json"), root));
        assert!(matters(&event(write, "/pkg/course.json"), root));
        assert!(!matters(&event(write, "/pkg/01-a/.01-b.md.swp"), root));
        assert!(!matters(&event(write, "/pkg/.git/index"), root));
    }

    #[test]
    fn a_missing_folder_is_refused() {
        let err = Watch::start(Path::new("/nonexistent/course"), |_| {}).err();
        assert!(matches!(err, Some(PreviewError::NotAFolder(_))));
    }
}
