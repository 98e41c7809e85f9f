//! Courses as code from the command line: `skilltrack course new` writes a package that
//! `skilltrack course validate` passes, and a broken package fails validation with every
//! problem at its `file:line:column`. Neither needs a server: the CLI is pointed at an address
//! where nothing listens.

use std::path::Path;
use std::process::Output;

/// Runs the `skilltrack` CLI with `args`, a data directory of its own and a server URL that
/// nothing answers.
fn cli(data: &Path, args: &[&str]) -> Output {
    std::process::Command::new(skilltrack_tests::process::client_binary())
        .args(["--server", "http://127.0.0.1:9", "--token-store", "file"])
        .arg("--data-dir")
        .arg(data)
        .args(args)
        .env_remove("RUST_BACKTRACE")
        .output()
        .unwrap()
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

#[test]
fn course_new_writes_a_package_that_validates_and_a_broken_one_exits_1_with_positions() {
    let data = tempfile::tempdir().unwrap();
    let work = tempfile::tempdir().unwrap();
    let dir = work.path().join("intro-to-shell");
    let dir_arg = dir.to_str().unwrap();

    let created = cli(data.path(), &["course", "new", dir_arg]);
    assert!(created.status.success(), "{}", text(&created));
    assert!(dir.join("course.json").is_file());
    assert!(dir.join("labs/first-lab/step1/verify.sh").is_file());

    let valid = cli(data.path(), &["course", "validate", dir_arg]);
    assert!(valid.status.success(), "{}", text(&valid));
    assert_eq!(
        String::from_utf8_lossy(&valid.stdout),
        format!(
            "{dir_arg} is valid: course intro-to-shell, 1 module(s), 3 lesson(s), \
             1 assessment(s), 1 lab(s).\n"
        )
    );

    let again = cli(data.path(), &["course", "new", dir_arg]);
    assert!(!again.status.success(), "{}", text(&again));
    assert!(text(&again).contains("is not empty"), "{}", text(&again));

    // Two mistakes in two files: both are reported, at their line and column.
    let module = dir.join("01-getting-started/module.json");
    let json = std::fs::read_to_string(&module).unwrap();
    std::fs::write(&module, json.replace("\"description\"", "\"summary\"")).unwrap();
    std::fs::remove_file(dir.join("labs/first-lab/step1/verify.sh")).unwrap();
    let broken = cli(data.path(), &["course", "validate", dir_arg]);
    assert_eq!(broken.status.code(), Some(1), "{}", text(&broken));
    let stdout = String::from_utf8_lossy(&broken.stdout);
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(
        lines,
        [
            format!(
                "{dir_arg}/labs/first-lab/index.json:10:9: `verify` names `step1/verify.sh`, \
                 which is missing (create labs/first-lab/step1/verify.sh, or remove `verify`)"
            ),
            format!(
                "{dir_arg}/01-getting-started/module.json:3:3: unknown field `summary` (remove \
                 it, or use one of: title, description, duration_minutes)"
            ),
        ]
    );
    assert!(text(&broken).contains("2 problem(s)"), "{}", text(&broken));

    let as_json = cli(data.path(), &["course", "validate", "--json", dir_arg]);
    assert_eq!(as_json.status.code(), Some(1), "{}", text(&as_json));
    let report: serde_json::Value = serde_json::from_slice(&as_json.stdout).unwrap();
    assert_eq!(report["valid"], false);
    assert_eq!(
        report["problems"][1]["file"],
        "01-getting-started/module.json"
    );
    assert_eq!(report["problems"][1]["line"], 3);
    assert_eq!(report["problems"][1]["column"], 3);
}
