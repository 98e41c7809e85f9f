//! Skilltrack's wire types: the one definition of every enum, id and message that the server,
//! the desktop client and the UI share.
//!
//! This crate does no I/O and knows nothing of axum, sqlx or Tauri. The UI gets TypeScript
//! versions of these types from `ts-rs` (`cargo test -p skilltrack-protocol` writes them to
//! `ui/src/bindings/`), so nothing here is ever retyped by hand.
//!
//! * [`enums`]: the 13 PostgreSQL enums of the schema, spelled exactly as in the database.
//! * [`problem`]: the RFC 9457 error body every failed request answers with.
//! * [`health`]: the readiness report.
//! * [`auth`], [`profile`], [`settings`]: accounts, sessions, profiles and platform settings.
//! * [`catalog`], [`learning`]: the catalog; enrollments, progress, certificates, payments.
//! * [`credentials`]: certificates as signed Open Badges 3.0 credentials; keys, revocation.
//! * [`authoring`]: what instructors send to create and edit their courses and labs.
//! * [`taxonomy`]: what admins send to create and edit services and lab categories.
//! * [`course_packages`]: a whole course as one tree, for `course push` and `course pull`.
//! * [`analytics`]: event batches and the admins' summaries.
//! * [`sync`]: offline sync: pull pages, pushed mutations, live signals.
//! * [`assessments`]: quizzes and exams: questions, attempts, grading, statistics.
//! * [`labs`], [`lab_steps`]: lab sessions, their files and terminal; labs in checked steps.
//! * [`desktop_updates`]: the desktop app's update check and its answer (Tauri's updater).

#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod analytics;
pub mod assessments;
pub mod auth;
pub mod authoring;
pub mod catalog;
pub mod course_packages;
pub mod credentials;
pub mod desktop_updates;
pub mod engagement;
pub mod enums;
pub mod health;
pub mod lab_steps;
pub mod labs;
pub mod learning;
pub mod problem;
pub mod profile;
pub mod settings;
pub mod sync;
pub mod taxonomy;
pub mod uploads;

pub use enums::*;
pub use problem::{FieldError, Problem};
