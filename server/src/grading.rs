//! Grading's rules live in [`skilltrack_package::grading`], shared with the desktop app's local
//! preview of a course package, which grades a package's quizzes with the same functions.

pub use skilltrack_package::grading::*;
