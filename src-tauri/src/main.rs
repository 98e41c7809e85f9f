//! The Skilltrack desktop app (see the library for how it is put together).

#![forbid(unsafe_code)]
// No console window on Windows release builds.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

fn main() -> anyhow::Result<()> {
    skilltrack_desktop::logging::start();
    skilltrack_desktop::run()?;
    Ok(())
}
