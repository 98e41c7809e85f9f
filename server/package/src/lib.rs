//! Skilltrack content as files.
//!
//! [`course`]: a course package, a folder an instructor edits and keeps in git (course, modules,
//! lessons, assessments and labs, one file each), read and checked into the authoring API's
//! drafts.
//!
//! [`lab`]: a lab in steps, written in the layout of a Killercoda scenario (`index.json` naming
//! markdown pages and shell scripts), so that scenarios written for Killercoda run here as
//! they are, and authors keep a lab in version control beside its course.
//!
//! [`tree`]: a package as the wire's `CourseTree` (what `course push` sends) and a tree as a
//! package's files (what `course pull` writes), each the other's inverse.
//!
//! [`pack`]: a package as one reproducible `.tar.gz`, and back.
//! [`grading`]: how quiz answers are checked against their keys and scored, as pure functions:
//! the server grades attempts with them, and the desktop app's local preview grades a package's
//! quizzes with the same rules, from the keys in the package on disk.

#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod course;
pub mod grading;
pub mod lab;
pub mod pack;
pub mod tree;
