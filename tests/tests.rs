#![allow(clippy::unwrap_used, reason = "tests fail loudly on purpose")]
#![allow(clippy::too_many_lines, reason = "a scenario reads best as one story")]

//! Skilltrack's end-to-end tests, one binary: the real server against real PostgreSQL.

mod account_recovery;
mod analytics_api;
mod assessments_api;
mod auth_api;
mod authoring_api;
mod backup_restore;
mod catalog_cache;
mod certificates;
mod client_credentials;
mod client_sync;
mod cluster;
mod config_file;
mod course_downloads;
mod course_packages;
mod desktop_a11y_e2e;
mod desktop_commands;
mod desktop_e2e;
mod desktop_i18n_e2e;
mod desktop_install_e2e;
mod desktop_instructor_e2e;
mod desktop_lab_e2e;
mod desktop_os_e2e;
mod desktop_playback_e2e;
mod desktop_preview_e2e;
mod desktop_releases;
mod disk_full;
mod engagement_api;
mod http_api;
mod lab_images;
mod lab_recovery;
mod lab_sandbox;
mod lab_steps;
mod labs_api;
mod learning_api;
mod openapi;
mod profile_api;
mod rls_matrix;
mod schema;
mod security_review;
mod seed_demo;
mod server_messages;
mod server_process;
mod session;
mod sync_api;
mod sync_push_runs;
mod taxonomy_api;
mod terminal;
mod triggers;
mod uploads_api;
