//! Rebuilds the server when a migration changes: `sqlx::migrate!` embeds `migrations/` at
//! compile time, and cargo does not otherwise know to look there. Also compiles in the demo
//! labs' files (`seed/labs/<slug>/…`, the Killercoda layout) as a table the seed reads.

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

fn main() {
    println!("cargo:rerun-if-changed=../migrations");
    println!("cargo:rerun-if-changed=seed/labs");
    let manifest = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets it"));
    let labs = manifest.join("seed/labs");
    let mut found = Vec::new();
    files(&labs, &mut found);
    found.sort();
    let mut table = String::from("/// The demo labs' files: (`<slug>/<path>`, text).\n");
    table.push_str("pub static SEED_LAB_FILES: &[(&str, &str)] = &[\n");
    for path in &found {
        println!("cargo:rerun-if-changed={}", path.display());
        let name = path
            .strip_prefix(&labs)
            .expect("under seed/labs")
            .to_string_lossy()
            .replace('\\', "/");
        writeln!(
            table,
            "    ({name:?}, include_str!({:?})),",
            path.display().to_string()
        )
        .expect("writing to a string");
    }
    table.push_str("];\n");
    let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets it"));
    std::fs::write(out.join("seed_labs.rs"), table).expect("writing the demo labs' table");
}
