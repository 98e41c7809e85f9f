//! The `skilltrack-server` binary with its embedded PostgreSQL: it starts, serves, and never
//! leaves its cluster running, whether it stops cleanly or is killed.

use std::process::Command;

use skilltrack_tests::process::{data_dir, postmaster_pid, server_command, wait_until_gone};
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
