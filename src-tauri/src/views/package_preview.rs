//! The local preview of a course package (see [`crate::package_preview`]): what the window is
//! told when the folder is read again, and the lab page of a preview. The course, its lessons
//! and its quizzes use the learner screens' own views ([`super::CourseScreen`],
//! [`super::LessonPage`], [`super::quiz::QuizScreen`], …).

use serde::Serialize;
use ts_rs::TS;

/// One problem of a package, where it is and how to fix it (as `skilltrack course validate`
/// prints it: `file:line:column: message (fix)`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[ts(export)]
pub struct PackageProblem {
    /// The file, relative to the package's folder (`01-getting-started/module.json`).
    pub file: String,
    /// 1-based line.
    pub line: u32,
    /// 1-based column.
    pub column: u32,
    /// What is wrong.
    pub message: String,
    /// How to fix it.
    pub fix: String,
}

/// The preview as it stands after the latest read of the folder, sent as the
/// `package-preview` event after every read and answered by `open_package_preview`.
#[derive(Debug, Clone, Serialize, TS)]
#[ts(export)]
pub struct PreviewStatus {
    /// The package's folder, as opened.
    pub folder: String,
    /// 1 for the first read, then one more for every read after a change on disk. Screens
    /// reload when it changes.
    #[ts(type = "number")]
    pub version: u64,
    /// The course's id in the preview's screens, when the package reads.
    pub course_id: Option<String>,
    /// The course's title, when the package reads.
    pub title: Option<String>,
    /// Every problem of the package, empty when it reads.
    pub problems: Vec<PackageProblem>,
    /// When the folder was read, milliseconds since the Unix epoch.
    #[ts(type = "number")]
    pub read_at_ms: u64,
}

/// One step of a lab in a preview: its text, without its scripts.
#[derive(Debug, Clone, Serialize, TS)]
#[ts(export)]
pub struct PreviewLabStep {
    /// Its title.
    pub title: String,
    /// What to do, in markdown.
    pub body: String,
    /// Hints, in order.
    pub hints: Vec<String>,
    /// The step has a verify script (run in the learner's sandbox once pushed).
    pub checked: bool,
}

/// A lab of a package as a learner reads it: its pages, with no terminal (a preview runs no
/// sandbox).
#[derive(Debug, Clone, Serialize, TS)]
#[ts(export)]
pub struct PreviewLab {
    /// Its id in the preview (its folder under `labs/`).
    pub id: String,
    /// Title.
    pub title: String,
    /// What it is about.
    pub description: String,
    /// `Beginner`, `Intermediate` or `Advanced`.
    pub difficulty: String,
    /// How long, in words.
    pub duration: String,
    /// The intro page, in markdown.
    pub intro: Option<String>,
    /// The steps in order.
    pub steps: Vec<PreviewLabStep>,
    /// The finish page, in markdown.
    pub finish: Option<String>,
}

/// What "Push as draft" did from the preview: the server's report and the media it uploaded.
#[derive(Debug, Clone, Serialize, TS)]
#[ts(export)]
pub struct PreviewPush {
    /// The course on the server.
    pub course_id: String,
    /// What changed (or, in a dry run, would change), as `skilltrack course push` prints it.
    pub changes: Vec<skilltrack_protocol::course_packages::PackageChange>,
    /// False for a dry run, or when nothing differed.
    pub applied: bool,
    /// The package's media files uploaded by this push (the others were uploaded before).
    pub uploaded: Vec<String>,
}
