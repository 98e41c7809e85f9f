//! The `skilltrack-server` binary with its embedded PostgreSQL: it starts, serves, and never
//! leaves its cluster running, whether it stops cleanly or is killed.

use std::process::Command;

use skilltrack_tests::process::{cli, data_dir, postmaster_pid, server_command, wait_until_gone};
use skilltrack_tests::{ServerProcess, server_binary};

#[tokio::test]
async fn serve_answers_then_stops_its_cluster_on_sigterm() {
    let dir = data_dir();
    let mut server = ServerProcess::start(dir.path());
    let ready = reqwest::get(format!("{}/readyz", server.url))
        .await
        .unwrap();
    assert_eq!(ready.status(), 200);
    let postmaster = postmaster_pid(dir.path());

    // A second server on the same data directory refuses, and says why.
    let second = server_command(dir.path(), &["migrate"]).output().unwrap();
    assert!(!second.status.success());
    let said = String::from_utf8_lossy(&second.stderr);
    assert!(
        said.contains("another skilltrack-server is using"),
        "{said}"
    );

    let status = server.terminate();
    assert!(status.success(), "{status}");
    assert!(
        wait_until_gone(postmaster),
        "PostgreSQL {postmaster} outlived the server"
    );
    assert!(!dir.path().join("postgres/data/postmaster.pid").exists());
}

#[tokio::test]
async fn the_cluster_dies_with_a_killed_server_and_the_next_start_recovers() {
    let dir = data_dir();
    let mut server = ServerProcess::start(dir.path());
    let postmaster = postmaster_pid(dir.path());
    server.child.kill().unwrap(); // SIGKILL: no chance to clean up.
    server.child.wait().unwrap();
    assert!(
        wait_until_gone(postmaster),
        "PostgreSQL {postmaster} outlived a killed server"
    );

    let mut server = ServerProcess::start(dir.path());
    assert_eq!(
        reqwest::get(format!("{}/readyz", server.url))
            .await
            .unwrap()
            .status(),
        200
    );
    assert!(server.terminate().success());
}

#[test]
fn help_explains_the_commands_and_settings() {
    let out = Command::new(server_binary())
        .arg("--help")
        .output()
        .unwrap();
    assert!(out.status.success());
    let help = String::from_utf8_lossy(&out.stdout);
    for needle in [
        "serve",
        "migrate",
        "seed-demo",
        "--data-dir",
        "DATABASE_URL",
        "--pg-bin-dir",
        "--config",
        "SKILLTRACK_CONFIG",
        "deploy/skilltrack.toml",
    ] {
        assert!(
            help.contains(needle),
            "--help does not mention {needle}:\n{help}"
        );
    }
}

#[test]
fn missing_postgres_binaries_are_a_clear_error() {
    let dir = data_dir();
    let out = server_command(dir.path(), &["migrate", "--pg-bin-dir", "/nonexistent"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(said.contains("apt-get install postgresql"), "{said}");
}

/// A lab's file operation stuck in its sandbox must not keep the server from stopping: SIGTERM
/// kills the sandbox, and the server exits (its cluster stopped) instead of waiting on it.
#[tokio::test]
async fn serve_exits_on_sigterm_while_a_lab_file_operation_hangs() {
    use skilltrack_tests::process::{eventually, processes_with};
    use std::os::unix::fs::PermissionsExt as _;
    let dir = data_dir();
    // The sandbox user must pass through the data directory to its workspace.
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o711)).unwrap();
    let seeded = server_command(dir.path(), &["seed-demo"]).output().unwrap();
    assert!(
        seeded.status.success(),
        "{}",
        String::from_utf8_lossy(&seeded.stderr)
    );
    let mut server = ServerProcess::start_with_env(
        dir.path(),
        &[
            ("SKILLTRACK_LAB_FAULT", "hang-file-operations"),
            ("SKILLTRACK_LAB_DRIVER_TIMEOUT_SECS", "3600"),
        ],
    );
    let http = reqwest::Client::new();
    let session: serde_json::Value = http
        .post(format!("{}/api/v1/auth/sign-in", server.url))
        .json(&serde_json::json!({"email": "learner@skilltrack.dev", "password": "learner-demo-pass"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = session["access_token"].as_str().unwrap().to_owned();
    let lab: serde_json::Value = http
        .get(format!("{}/api/v1/labs/terminal-first-steps", server.url))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let lab_id = lab["lab"]["id"]
        .as_str()
        .or_else(|| lab["id"].as_str())
        .unwrap()
        .to_owned();
    let started = http
        .post(format!("{}/api/v1/labs/{lab_id}/sessions", server.url))
        .bearer_auth(&token)
        .json(&serde_json::json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(started.status(), 201);
    let started: serde_json::Value = started.json().await.unwrap();
    let probe = format!("sigterm-probe-{}", uuid::Uuid::now_v7().simple());
    let stuck = tokio::spawn(
        http.get(format!(
            "{}/api/v1/lab-sessions/{}/files/content",
            server.url,
            started["id"].as_str().unwrap()
        ))
        .query(&[("path", &probe)])
        .bearer_auth(&token)
        .send(),
    );
    assert!(
        eventually(|| !processes_with(&probe).is_empty()).await,
        "the file operation never started"
    );
    let postmaster = postmaster_pid(dir.path());
    nix::sys::signal::kill(server.pid(), nix::sys::signal::Signal::SIGTERM).unwrap();
    let exited = wait_until_gone(server.pid());
    if !exited {
        // Do not leave it behind (nor wait for it in Drop).
        let _ = server.child.kill();
        let _ = server.child.wait();
    }
    assert!(
        exited,
        "the server ignored SIGTERM while a lab file operation hung"
    );
    assert!(server.child.wait().unwrap().success());
    assert!(
        wait_until_gone(postmaster),
        "PostgreSQL outlived the server"
    );
    assert!(
        eventually(|| processes_with(&probe).is_empty()).await,
        "the stuck sandbox outlived the server: {:?}",
        processes_with(&probe)
    );
    stuck.abort();
}

/// A PostgreSQL of the test's own, stopped and started again under a running server.
fn own_cluster_options() -> skilltrack_server::cluster::ClusterOptions {
    skilltrack_server::cluster::ClusterOptions {
        // Under /tmp by name (not a private temporary directory), so the cluster's OS user can
        // reach it when the tests run as root.
        dir: std::env::temp_dir().join(format!(
            "skilltrack-pg-down-{}-{}",
            std::process::id(),
            uuid::Uuid::now_v7().simple()
        )),
        bin_dir: std::env::var_os("SKILLTRACK_PG_BIN_DIR").map(std::path::PathBuf::from),
        os_user: std::env::var("SKILLTRACK_PG_OS_USER").unwrap_or_else(|_| "postgres".to_owned()),
        durable: false,
    }
}

async fn start_cluster(
    options: &skilltrack_server::cluster::ClusterOptions,
) -> skilltrack_server::cluster::EmbeddedCluster {
    let options = options.clone();
    tokio::task::spawn_blocking(move || {
        skilltrack_server::cluster::EmbeddedCluster::start(&options)
    })
    .await
    .unwrap()
    .expect("starting the test's own PostgreSQL")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgresql_down_answers_503_with_retry_after_and_a_queued_write_survives_it() {
    use skilltrack_server::cluster::{DATABASE, SUPERUSER};
    let options = own_cluster_options();
    let cluster = start_cluster(&options).await;
    skilltrack_server::db::bootstrap::ensure_database(
        cluster.connect_options(SUPERUSER, "postgres"),
        DATABASE,
    )
    .await
    .unwrap();
    let url = format!(
        "postgres://{SUPERUSER}@localhost/{DATABASE}?host={}",
        cluster.socket_dir().display()
    );
    let env = [
        ("DATABASE_URL", url.as_str()),
        ("SKILLTRACK_AUTHENTICATOR_PASSWORD", "pg-down-test"),
    ];
    let dir = data_dir();
    let seeded = server_command(dir.path(), &["seed-demo"])
        .envs(env)
        .output()
        .unwrap();
    assert!(
        seeded.status.success(),
        "{}",
        String::from_utf8_lossy(&seeded.stderr)
    );
    let mut serve = server_command(dir.path(), &["serve", "--listen", "127.0.0.1:0"]);
    serve.envs(env);
    let server = ServerProcess::start_command(serve);
    let device = tempfile::tempdir().unwrap();
    let run = |args: &[&str]| cli(&server.url, device.path(), args);
    run(&["sign-in", "--email", "learner@skilltrack.dev"]).unwrap();
    run(&["sync"]).unwrap();
    let lesson = skilltrack_tests::process::first_cached_lesson(&server.url, device.path());

    // PostgreSQL stops (a fast shutdown, as a restart by its operator does).
    drop(cluster);
    let http = reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(30))
        .build()
        .unwrap();
    for path in ["/api/v1/courses", "/readyz"] {
        let down = http
            .get(format!("{}{path}", server.url))
            .send()
            .await
            .unwrap();
        assert_eq!(down.status(), 503, "{path}");
        if path != "/readyz" {
            assert_eq!(down.headers()["retry-after"], "5", "{path}");
            let body: serde_json::Value = down.json().await.unwrap();
            assert_eq!(body["code"], "database_unavailable", "{body}");
        }
    }
    // The learner keeps working; the sync fails and the write stays queued.
    let written = run(&["progress", &lesson, "--minutes", "7"]).unwrap();
    let refused = run(&["sync"]).unwrap_err();
    assert!(refused.contains("not available"), "{refused}");
    assert_eq!(run(&["status"]).unwrap()["pending"], 1);

    // PostgreSQL is back: the server recovers by itself, the queued write lands once.
    let _cluster = start_cluster(&options).await;
    let mut recovered = false;
    for _ in 0..600 {
        let answer = http
            .get(format!("{}/api/v1/courses", server.url))
            .send()
            .await;
        if answer.is_ok_and(|a| a.status() == 200) {
            recovered = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(
        recovered,
        "the server never answered again after PostgreSQL came back"
    );
    let report = run(&["sync"]).unwrap();
    assert_eq!(
        (report["pushed"].as_u64(), report["rejected"].as_u64()),
        (Some(1), Some(0))
    );
    assert_eq!(run(&["status"]).unwrap()["pending"], 0);
    // What the server holds, seen by a device that was never offline: the write, once.
    let rows = skilltrack_tests::process::fresh_device_progress(&server.url, &lesson);
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(rows[0]["time_spent_minutes"], written["time_spent_minutes"]);
    drop(server);
    let _ = std::fs::remove_dir_all(&options.dir);
}
