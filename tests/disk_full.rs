//! The server's disk fills up (issue 19, part 3): writes fail with a clear error and nothing
//! corrupts. The server's whole data directory (its embedded PostgreSQL, its media) is a small
//! filesystem of the test's own, filled with a filler file.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use serde_json::Value;
use skilltrack_tests::ServerProcess;
use skilltrack_tests::process::{cli, server_command};

/// The size of the server's filesystem, and the free space it keeps for its database.
const DISK_MB: u64 = 640;
const RESERVE_MB: u64 = 96;

/// A tmpfs of [`DISK_MB`], mounted for the test and unmounted when dropped.
struct SmallDisk {
    path: PathBuf,
}

impl SmallDisk {
    fn mount() -> Self {
        let path = std::env::temp_dir().join(format!(
            "skilltrack-disk-full-{}",
            uuid::Uuid::now_v7().simple()
        ));
        std::fs::create_dir_all(&path).unwrap();
        // 0711: the cluster's and the labs' OS users pass through to their own directories.
        let out = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={DISK_MB}m,mode=0711")])
            .arg("skilltrack-disk-full")
            .arg(&path)
            .output()
            .unwrap();
        assert!(out.status.success(), "mounting a tmpfs: {out:?}");
        Self { path }
    }

    fn free_bytes(&self) -> u64 {
        skilltrack_server::storage::free_bytes(&self.path).unwrap()
    }

    /// A filler file of the size that leaves `free` bytes free (as near as the filesystem's
    /// pages allow).
    fn fill_leaving(&self, name: &str, free: u64) -> PathBuf {
        let filler = self.path.join(name);
        let size = self.free_bytes().saturating_sub(free);
        let out = Command::new("fallocate")
            .args(["-l", &size.to_string()])
            .arg(&filler)
            .output()
            .unwrap();
        assert!(out.status.success(), "fallocate: {out:?}");
        filler
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.path).output();
        let _ = std::fs::remove_dir(&self.path);
    }
}

/// Uploads `bytes` as a PNG; the status, the `Retry-After` header and the body.
async fn upload(
    http: &reqwest::Client,
    url: &str,
    token: &str,
    bytes: Vec<u8>,
) -> (u16, Option<String>, Value) {
    let answer = http
        .post(format!(
            "{url}/api/v1/uploads?filename=poster.png&entity_type=course"
        ))
        .bearer_auth(token)
        .header("content-type", "image/png")
        .body(bytes)
        .send()
        .await
        .unwrap();
    let retry = answer
        .headers()
        .get("retry-after")
        .map(|v| v.to_str().unwrap().to_owned());
    (
        answer.status().as_u16(),
        retry,
        answer.json().await.unwrap_or(Value::Null),
    )
}

fn png(len: usize) -> Vec<u8> {
    let mut bytes = b"\x89PNG\r\n\x1a\n".to_vec();
    // Distinct bytes each time: the store keeps one copy of equal content.
    bytes.extend_from_slice(uuid::Uuid::now_v7().as_bytes());
    bytes.resize(len, 7);
    bytes
}

fn files_under(dir: &Path) -> usize {
    std::fs::read_dir(dir).map_or(0, Iterator::count)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[allow(
    clippy::too_many_lines,
    reason = "one story: the disk fills, then empties"
)]
async fn a_full_disk_refuses_writes_clearly_keeps_queued_writes_and_recovers_by_itself() {
    let disk = SmallDisk::mount();
    let dir = disk.path.clone();
    let seeded = server_command(&dir, &["seed-demo"]).output().unwrap();
    assert!(seeded.status.success(), "{seeded:?}");
    let reserve = RESERVE_MB.to_string();
    let env = [("SKILLTRACK_MIN_FREE_DISK_MB", reserve.as_str())];
    let server = ServerProcess::start_with_env(&dir, &env);
    let url = server.url.clone();
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(120))
        .build()
        .unwrap();
    let instructor = skilltrack_tests::api::Api::new(&url)
        .access_token("instructor@skilltrack.dev", "instructor-demo-pass")
        .await;
    let device = tempfile::tempdir().unwrap();
    let run = |args: &[&str]| cli(&url, device.path(), args);
    run(&["sign-in", "--email", "learner@skilltrack.dev"]).unwrap();
    run(&["sync"]).unwrap();
    let lesson = skilltrack_tests::process::first_cached_lesson(&url, device.path());
    let (status, _, before) = upload(&http, &url, &instructor, png(4096)).await;
    assert_eq!(status, 201, "{before}");

    // 1. Room above the reserve, but less than a file needs: the disk itself says ENOSPC.
    let mb = 1u64 << 20;
    let first = disk.fill_leaving("filler-1", (RESERVE_MB + 32) * mb);
    let (status, retry, body) = upload(
        &http,
        &url,
        &instructor,
        png(usize::try_from((RESERVE_MB + 64) * mb).unwrap()),
    )
    .await;
    assert_eq!((status, retry.as_deref()), (507, Some("60")), "{body}");
    assert_eq!(body["code"], "storage_full", "{body}");
    assert!(
        body["detail"].as_str().unwrap().contains("storage is full"),
        "{body}"
    );
    // The partial file is gone, and its room with it.
    assert_eq!(files_under(&dir.join("media/uploads/tmp")), 0);
    assert!(disk.free_bytes() > RESERVE_MB * mb, "{}", disk.free_bytes());

    // 2. Under the reserve: writes are refused before they reach the disk; reads go on.
    let second = disk.fill_leaving("filler-2", (RESERVE_MB / 2) * mb);
    let (status, retry, body) = upload(&http, &url, &instructor, png(4096)).await;
    assert_eq!((status, retry.as_deref()), (507, Some("60")), "{body}");
    assert_eq!(body["code"], "storage_full", "{body}");
    let written = run(&["progress", &lesson, "--minutes", "9"]).unwrap();
    let refused = run(&["sync"]).unwrap_err();
    assert!(refused.contains("storage is full"), "{refused}");
    assert_eq!(run(&["status"]).unwrap()["pending"], 1);
    let courses = http
        .get(format!("{url}/api/v1/courses"))
        .send()
        .await
        .unwrap();
    assert_eq!(courses.status(), 200);
    // Signing in still works (from the reserve), so a learner can read on another device.
    let reader = tempfile::tempdir().unwrap();
    cli(
        &url,
        reader.path(),
        &["sign-in", "--email", "learner@skilltrack.dev"],
    )
    .unwrap();

    // 3. Room again: everything recovers by itself, without a restart.
    std::fs::remove_file(&first).unwrap();
    std::fs::remove_file(&second).unwrap();
    let report = run(&["sync"]).unwrap();
    assert_eq!(
        (report["pushed"].as_u64(), report["rejected"].as_u64()),
        (Some(1), Some(0)),
        "{report}"
    );
    assert_eq!(run(&["status"]).unwrap()["pending"], 0);
    let (status, _, body) = upload(&http, &url, &instructor, png(4096)).await;
    assert_eq!(status, 201, "{body}");
    // The queued write landed once, and what was written before the disk filled is intact:
    // a device that was never offline sees both.
    let rows = skilltrack_tests::process::fresh_device_progress(&url, &lesson);
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(rows[0]["time_spent_minutes"], written["time_spent_minutes"]);
    let uploaded = http
        .get(format!("{url}{}", before["file_url"].as_str().unwrap()))
        .bearer_auth(&instructor)
        .send()
        .await
        .unwrap();
    assert_eq!(uploaded.status(), 200);
    assert_eq!(uploaded.bytes().await.unwrap().len(), 4096);

    // 4. Nothing corrupt: PostgreSQL never panicked, and the server starts again on it.
    let mut server = server;
    assert!(server.terminate().success());
    // Both ways in were taken: the disk's own ENOSPC, then the reserve.
    let said: Vec<String> = server.log.try_iter().collect();
    let said = said.join("\n");
    for line in [
        "an upload met a full disk",
        "disk is nearly full: writes are refused",
        "has room again",
    ] {
        assert!(said.contains(line), "{line:?} is not in the log:\n{said}");
    }
    let log = std::fs::read_to_string(dir.join("postgres/postgres.log")).unwrap_or_default();
    assert!(!log.contains("PANIC"), "{log}");
    let server = ServerProcess::start_with_env(&dir, &env);
    let ready = http
        .get(format!("{}/readyz", server.url))
        .send()
        .await
        .unwrap();
    assert_eq!(ready.status(), 200);
    drop(server);
}
