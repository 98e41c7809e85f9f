//! The `skilltrack-server` binary a benchmark runs in processes of its own.

use std::path::{Path, PathBuf};

use anyhow::Context as _;

/// `explicit` if given, else `skilltrack-server` beside this program; it must exist.
pub fn resolve(explicit: Option<&Path>) -> anyhow::Result<PathBuf> {
    let path = match explicit {
        Some(path) => path.to_path_buf(),
        None => std::env::current_exe()?
            .parent()
            .context("no directory")?
            .join("skilltrack-server"),
    };
    anyhow::ensure!(
        path.exists(),
        "{} is missing: `cargo build --release -p skilltrack-server` first",
        path.display()
    );
    Ok(path)
}
