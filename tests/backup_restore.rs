//! `skilltrack-server backup` and `restore` (docs/deployment.md, section 5), as an operator
//! uses them after losing a server's disk: the backup taken while the server serves, the
//! server started again on an empty disk from it, and the devices carrying on.

use std::path::Path;

use serde_json::Value;
use skilltrack_protocol::sync::SyncTable;
use skilltrack_tests::process::{ServerProcess, data_dir, server_command};

const LEARNER: &str = "learner@skilltrack.dev";

/// `skilltrack` (the CLI) on the device in `device`, against `server`: its JSON answer.
fn cli(server: &str, device: &Path, args: &[&str]) -> Value {
    skilltrack_tests::process::cli(server, device, args)
        .unwrap_or_else(|e| panic!("skilltrack {args:?}: {e}"))
}

/// `skilltrack-server` on `data`, to its end: its JSON answer.
fn server(data: &Path, args: &[&str]) -> Value {
    let out = server_command(data, args).output().unwrap();
    assert!(
        out.status.success(),
        "skilltrack-server {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap_or(Value::Null)
}

/// The learner's progress rows in the device's cache: lesson → minutes spent.
fn progress(url: &str, device: &Path) -> std::collections::BTreeMap<String, i64> {
    let engine =
        skilltrack_client::device::open(url, device, &skilltrack_client::tokens::StoreKind::File)
            .unwrap();
    let cache = skilltrack_client::sync::lock(engine.cache());
    cache
        .all_rows(SyncTable::UserProgress)
        .unwrap()
        .iter()
        .map(|row| {
            (
                row["lesson_id"].as_str().unwrap().to_owned(),
                row["time_spent_minutes"].as_i64().unwrap_or(0),
            )
        })
        .collect()
}

/// Two lessons of one module of a course the learner studies, from the device's cache.
fn two_lessons(url: &str, device: &Path) -> (String, String) {
    let engine =
        skilltrack_client::device::open(url, device, &skilltrack_client::tokens::StoreKind::File)
            .unwrap();
    let cache = skilltrack_client::sync::lock(engine.cache());
    let lessons = cache.all_rows(SyncTable::CourseLessons).unwrap();
    let first = &lessons[0];
    let second = lessons
        .iter()
        .find(|l| l["module_id"] == first["module_id"] && l["id"] != first["id"])
        .expect("a second lesson in the module");
    let id = |l: &Value| l["id"].as_str().unwrap().to_owned();
    (id(first), id(second))
}

/// The log position a device's cursor stands at.
fn position(url: &str, device: &Path) -> i64 {
    let status = cli(url, device, &["status"]);
    let cursor = status["cursor"].as_str().unwrap();
    let position = cursor.rsplit(':').next().unwrap();
    position.parse().unwrap_or_else(|_| panic!("{cursor}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restored_backup_serves_again_and_devices_offline_throughout_lose_nothing_they_held() {
    let disk = data_dir();
    server(disk.path(), &["seed-demo"]);
    let mut first = ServerProcess::start(disk.path());
    let url = first.url.clone();

    // Device A syncs, records progress that reaches the server, then goes offline for good.
    let a = tempfile::tempdir().unwrap();
    cli(&url, a.path(), &["sign-in", "--email", LEARNER]);
    cli(&url, a.path(), &["sync"]);
    let (lesson, other) = two_lessons(&url, a.path());
    cli(&url, a.path(), &["progress", &lesson, "--minutes", "3"]);
    cli(&url, a.path(), &["sync"]);
    let backed_up = progress(&url, a.path())[&lesson];

    // The backup, taken while the server serves.
    let backup = tempfile::tempdir().unwrap();
    let manifest = server(disk.path(), &["backup", backup.path().to_str().unwrap()]);
    assert_eq!(manifest["database"], "embedded", "{manifest}");
    assert!(manifest["dump_bytes"].as_u64().unwrap() > 0, "{manifest}");
    assert_eq!(
        manifest["key_files"],
        serde_json::json!(["jwt-secret", "certificate-keys.json"]),
        "{manifest}"
    );

    // After the backup: device B's write reaches the server (and is lost with its disk); A,
    // offline, queues one.
    let b = tempfile::tempdir().unwrap();
    cli(&url, b.path(), &["sign-in", "--email", LEARNER]);
    cli(&url, b.path(), &["sync"]);
    cli(&url, b.path(), &["progress", &other, "--minutes", "9"]);
    cli(&url, b.path(), &["sync"]);
    assert_eq!(progress(&url, b.path()).get(&other), Some(&9));
    let b_position = position(&url, b.path());
    cli(&url, a.path(), &["progress", &lesson, "--minutes", "7"]);

    // The disk is lost. A new one, the backup restored onto it, the server started again at
    // the same address.
    first.terminate();
    drop(disk);
    let disk = data_dir();
    let restored = server(disk.path(), &["restore", backup.path().to_str().unwrap()]);
    assert_eq!(restored["dump_bytes"], manifest["dump_bytes"], "{restored}");
    let listen = url.trim_start_matches("http://");
    let _second =
        ServerProcess::start_command(server_command(disk.path(), &["serve", "--listen", listen]));

    // A, offline throughout, is still signed in (the token secret came back) and sends its
    // queued write, once.
    let report = cli(&url, a.path(), &["sync"]);
    assert_eq!(
        (report["pushed"].as_u64(), report["rejected"].as_u64()),
        (Some(1), Some(0)),
        "{report}"
    );
    assert_eq!(cli(&url, a.path(), &["status"])["pending"], 0);
    // The restored log numbers again from the backup's position; more writes take it past
    // where B's cursor stands, so a cursor taken for this log's would skip what lies between.
    let mut minutes = backed_up + 7;
    while position(&url, a.path()) <= b_position {
        cli(&url, a.path(), &["progress", &lesson, "--minutes", "1"]);
        cli(&url, a.path(), &["sync"]);
        minutes += 1;
    }

    // What the restored server holds, seen by a new device: the progress from before the
    // backup and A's writes, each once; B's write after the backup is gone with the disk.
    let fresh = tempfile::tempdir().unwrap();
    cli(&url, fresh.path(), &["sign-in", "--email", LEARNER]);
    cli(&url, fresh.path(), &["sync"]);
    let held = progress(&url, fresh.path());
    assert_eq!(held.get(&lesson), Some(&minutes), "{held:?}");
    assert_eq!(held.get(&other), None, "{held:?}");
    // A and B see exactly that: B's cursor names the lost database's log, so B starts over
    // rather than keeping a row the server no longer has.
    cli(&url, b.path(), &["sync"]);
    assert_eq!(progress(&url, a.path()), held);
    assert_eq!(progress(&url, b.path()), held);
}

#[test]
fn restore_refuses_a_directory_that_is_not_a_backup_and_a_running_server() {
    let disk = data_dir();
    server(disk.path(), &["migrate"]);
    let empty = tempfile::tempdir().unwrap();
    let out = server_command(disk.path(), &["restore", empty.path().to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(said.contains("is not a Skilltrack backup"), "{said}");

    let backup = tempfile::tempdir().unwrap();
    server(disk.path(), &["backup", backup.path().to_str().unwrap()]);
    let _running = ServerProcess::start(disk.path());
    let out = server_command(disk.path(), &["restore", backup.path().to_str().unwrap()])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(said.contains("stop it before restoring"), "{said}");
}
