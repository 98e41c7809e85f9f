//! Builds the Tauri context. The product card puts `tauri.conf.json` at the top of the repository,
//! but tauri-build reads `tauri.conf.json`, `Cargo.toml` and `capabilities/` from the current
//! directory (it has no config path option), so this script gives it a directory in `OUT_DIR`
//! where all three are links to the real files.

#![forbid(unsafe_code)]

use std::path::{Path, PathBuf};

/// Every command the app registers. Tauri allows every registered command in every window
/// unless the app manifest lists them; listed, each needs a capability to be callable.
const COMMANDS: &[&str] = &[
    "launch_state",
    "sign_in",
    "sign_out",
    "sync_now",
    "set_server",
    "catalog",
    "course_page",
    "lesson",
    "streamed_extras",
    "preferences",
    "set_preferences",
    "course_download_plan",
    "keep_course_offline",
    "open_attachment",
    "pause_course_download",
    "delete_course_downloads",
    "offline_courses",
    "next_lessons_state",
    "course_by_slug",
    "complete_lesson",
    "set_bookmark",
    "my_learning",
    "download_lesson_media",
    "settings",
    "enroll",
    "review_course",
    "record_video_position",
    "sign_up",
    "request_password_reset",
    "notifications",
    "unread_notifications",
    "mark_notification_read",
    "mark_all_notifications_read",
    "quiz",
    "start_attempt",
    "save_answer",
    "submit_attempt",
    "discard_attempt",
    "attempt_result",
    "instructor_courses",
    "publish_course",
    "unpublish_course",
    "grading_queue",
    "grade_answer",
    "media_url",
    "catalog_interactive",
    "labs",
    "lab_page",
    "lab_live_session",
    "lab_session",
    "start_lab",
    "pause_lab",
    "resume_lab",
    "stop_lab",
    "lab_steps",
    "check_lab_step",
    "instructor_labs",
    "self_test_lab",
    "lab_files",
    "lab_make_directory",
    "lab_delete_file",
    "lab_upload_file",
    "lab_download_file",
    "open_terminal",
    "terminal_input",
    "terminal_resize",
    "close_terminal",
    "open_package_preview",
    "pick_package_folder",
    "close_package_preview",
    "package_preview_status",
    "preview_catalog",
    "preview_course_page",
    "preview_lesson",
    "preview_quiz",
    "preview_start_attempt",
    "preview_save_answer",
    "preview_submit_attempt",
    "preview_discard_attempt",
    "preview_attempt_result",
    "preview_lab",
    "push_package_preview",
    "save_certificate",
    "verify_certificate",
    "opened_links",
    "open_log_folder",
    "check_for_update",
    "install_update",
];

fn link(from: &Path, to: &Path) {
    let _ = std::fs::remove_file(to);
    std::os::unix::fs::symlink(from, to)
        .unwrap_or_else(|e| panic!("linking {} to {}: {e}", to.display(), from.display()));
}

/// Names one build of the UI: the newest modification time and the total size of its files.
fn ui_build_stamp(dir: &Path) -> String {
    fn walk(dir: &Path, newest: &mut u128, bytes: &mut u64) {
        for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
            let Ok(meta) = entry.metadata() else { continue };
            if meta.is_dir() {
                walk(&entry.path(), newest, bytes);
            } else {
                *bytes += meta.len();
                let modified = meta
                    .modified()
                    .ok()
                    .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
                    .map_or(0, |d| d.as_nanos());
                *newest = (*newest).max(modified);
            }
        }
    }
    let (mut newest, mut bytes) = (0, 0);
    walk(dir, &mut newest, &mut bytes);
    format!("{newest}-{bytes}")
}

fn main() {
    let crate_dir =
        PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").expect("CARGO_MANIFEST_DIR"));
    let top = crate_dir
        .parent()
        .expect("src-tauri sits in the repository")
        .to_owned();
    let dist = top.join("ui/dist");
    println!(
        "cargo:rerun-if-changed={}",
        top.join("tauri.conf.json").display()
    );
    println!("cargo:rerun-if-changed={}", dist.display());
    println!(
        "cargo:rerun-if-changed={}",
        crate_dir.join("capabilities").display()
    );
    assert!(
        dist.join("index.html").exists(),
        "{} is missing: build the UI first (`cd ui && npm ci && npm run build`; scripts/test-all does)",
        dist.display()
    );

    // The window's files are compiled into the binary: a new UI build must rebuild the crate,
    // which a changed environment variable does.
    println!(
        "cargo:rustc-env=SKILLTRACK_UI_BUILD={}",
        ui_build_stamp(&dist)
    );

    let root =
        PathBuf::from(std::env::var_os("OUT_DIR").expect("OUT_DIR")).join("tauri-build-root");
    std::fs::create_dir_all(&root).expect("creating the tauri-build directory");
    link(&top.join("tauri.conf.json"), &root.join("tauri.conf.json"));
    link(&crate_dir.join("Cargo.toml"), &root.join("Cargo.toml"));
    link(&crate_dir.join("capabilities"), &root.join("capabilities"));
    std::env::set_current_dir(&root).expect("entering the tauri-build directory");

    tauri_build::try_build(
        tauri_build::Attributes::new()
            .app_manifest(tauri_build::AppManifest::new().commands(COMMANDS)),
    )
    .expect("tauri-build failed");
}
