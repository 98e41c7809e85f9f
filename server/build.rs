//! Rebuilds the server when a migration changes: `sqlx::migrate!` embeds `migrations/` at
//! compile time, and cargo does not otherwise know to look there. Also compiles in the demo
//! labs' files (`seed/labs/<slug>/…`, the Killercoda layout) and the demo courses' packages
//! (`seed/courses/<slug>/…`, docs/course-packages.md) as tables the seed reads.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

fn files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            files(&path, out);
        } else {
            out.push(path);
        }
    }
}

/// Writes `pub static <name>: &[(&str, &[u8])]`, every file under `dir` by its path there.
fn embed(dir: &Path, name: &str, what: &str) -> String {
    println!("cargo:rerun-if-changed={}", dir.display());
    let mut found = Vec::new();
    files(dir, &mut found);
    found.sort();
    let mut table = format!("/// {what}: (`<slug>/<path>`, bytes).\n");
    writeln!(table, "pub static {name}: &[(&str, &[u8])] = &[").expect("writing to a string");
    for path in &found {
        println!("cargo:rerun-if-changed={}", path.display());
        let relative = path
            .strip_prefix(dir)
            .expect("under the folder")
            .to_string_lossy()
            .replace('\\', "/");
        writeln!(
            table,
            "    ({relative:?}, include_bytes!({:?})),",
            path.display().to_string()
        )
        .expect("writing to a string");
    }
    table.push_str("];\n");
    table
}

fn main() {
    println!("cargo:rerun-if-changed=../migrations");
    let manifest = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets it"));
    let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets it"));
    let labs = embed(
        &manifest.join("seed/labs"),
        "SEED_LAB_FILES",
        "The demo labs' files",
    );
    std::fs::write(out.join("seed_labs.rs"), labs).expect("writing the demo labs' table");
    let courses = embed(
        &manifest.join("seed/courses"),
        "SEED_COURSE_FILES",
        "The demo courses' packages",
    );
    std::fs::write(out.join("seed_courses.rs"), courses).expect("writing the demo courses' table");
}
