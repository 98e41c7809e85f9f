//! How long a launch took, in the log: from the start of the app to the catalog on screen.

use std::sync::OnceLock;
use std::time::Instant;

static LAUNCHED: OnceLock<Instant> = OnceLock::new();
static REPORTED: OnceLock<()> = OnceLock::new();

/// Marks the start of the launch (the first thing [`crate::run`] does).
pub fn mark_launch() {
    let _ = LAUNCHED.set(Instant::now());
}

/// The window painted the catalog with `cards` cards and answers input: logged once per launch
/// as `catalog interactive`, with the milliseconds since the launch.
#[tauri::command]
pub fn catalog_interactive(cards: u32) {
    if REPORTED.set(()).is_ok() {
        let since_launch_ms = LAUNCHED.get().map_or(0, |t| t.elapsed().as_millis());
        tracing::info!(since_launch_ms, cards, "catalog interactive");
    }
}
