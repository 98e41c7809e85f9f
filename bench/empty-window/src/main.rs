//! An empty Tauri window that says on stderr when it has painted: the baseline the desktop
//! benchmark (`bench/src/desktop.rs`) measures the app's start and memory against, in the same
//! run, on the same machine.

#![forbid(unsafe_code)]
#![allow(
    clippy::print_stderr,
    reason = "the painted line on stderr is what the benchmark reads"
)]

use std::sync::OnceLock;
use std::time::Instant;

static LAUNCHED: OnceLock<Instant> = OnceLock::new();

/// The page painted its first frame.
#[tauri::command]
fn painted() {
    let ms = LAUNCHED.get().map_or(0, |t| t.elapsed().as_millis());
    eprintln!("window painted since_launch_ms={ms}");
}

fn main() -> tauri::Result<()> {
    let _ = LAUNCHED.set(Instant::now());
    tauri::Builder::default()
        .invoke_handler(tauri::generate_handler![painted])
        .run(tauri::generate_context!())
}
