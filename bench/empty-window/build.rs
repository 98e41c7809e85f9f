//! Builds the Tauri context from this directory's `tauri.conf.json`.

#![forbid(unsafe_code)]

fn main() {
    tauri_build::build();
}
