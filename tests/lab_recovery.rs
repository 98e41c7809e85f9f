//! A server killed with SIGKILL while labs run (issue 19, part 3): the next start on the same
//! data directory reclaims every mount, loop device, cgroup and sandbox process the killed one
//! left, pauses the sessions it lost and tells their learner, and a paused session resumes over
//! the same files.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::{Value, json};
use skilltrack_tests::ServerProcess;
use skilltrack_tests::process::{data_dir, eventually, processes_with, server_command};
use sqlx::Connection as _;
use uuid::Uuid;

use crate::terminal::Term;

/// Mount points under `dir` (this process's mount namespace: the server's, the host's).
fn mounts_under(dir: &Path) -> Vec<PathBuf> {
    std::fs::read_to_string("/proc/self/mountinfo")
        .unwrap()
        .lines()
        .filter_map(|l| l.split(' ').nth(4))
        .map(PathBuf::from)
        .filter(|m| m.starts_with(dir))
        .collect()
}

/// Loop devices whose backing file lies under `dir`.
fn loops_under(dir: &Path) -> Vec<String> {
    std::fs::read_dir("/sys/block")
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with("loop"))
        .filter_map(|e| {
            let backing = std::fs::read_to_string(e.path().join("loop/backing_file")).ok()?;
            Path::new(backing.trim())
                .starts_with(dir)
                .then(|| format!("{}: {}", e.file_name().to_string_lossy(), backing.trim()))
        })
        .collect()
}

/// The cgroup directories of these environments, on cgroup v2 or v1.
fn cgroups_of(environments: &[Uuid]) -> Vec<PathBuf> {
    let parents = [
        "/sys/fs/cgroup/skilltrack-labs",
        "/sys/fs/cgroup/memory/skilltrack-labs",
        "/sys/fs/cgroup/pids/skilltrack-labs",
        "/sys/fs/cgroup/cpu/skilltrack-labs",
    ];
    parents
        .iter()
        .flat_map(|p| {
            environments
                .iter()
                .map(move |e| Path::new(p).join(e.to_string()))
        })
        .filter(|d| d.exists())
        .collect()
}

/// When a running process started (field 22 of its `stat`); `None` when it is gone or a zombie.
fn started_at(pid: i32) -> Option<String> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    (fields.first() != Some(&"Z")).then(|| fields.get(19).map(|s| (*s).to_owned()))?
}

/// A connection to the server's embedded PostgreSQL, as its superuser (root reaches the
/// cluster's private socket).
async fn superuser(dir: &Path) -> sqlx::PgConnection {
    let options = sqlx::postgres::PgConnectOptions::new()
        .socket(dir.join("postgres/run"))
        .port(5432)
        .username(skilltrack_server::cluster::SUPERUSER)
        .database(skilltrack_server::cluster::DATABASE);
    sqlx::PgConnection::connect_with(&options).await.unwrap()
}

async fn call(
    http: &reqwest::Client,
    method: reqwest::Method,
    url: String,
    token: &str,
) -> (u16, Value) {
    let answer = http
        .request(method.clone(), &url)
        .bearer_auth(token)
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    let status = answer.status().as_u16();
    (status, answer.json().await.unwrap_or(Value::Null))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[allow(
    clippy::too_many_lines,
    reason = "one story: labs run, the server dies, it comes back"
)]
async fn a_server_killed_while_labs_run_is_reclaimed_at_its_next_start_and_its_sessions_paused() {
    use std::os::unix::fs::PermissionsExt as _;
    let dir = data_dir();
    let root = dir.path().canonicalize().unwrap();
    // The sandboxes' command lines name their workspaces under here (PostgreSQL's name the
    // data directory too).
    let labs_root = root.join("labs");
    // The sandbox user must pass through the data directory to its workspaces.
    std::fs::set_permissions(&root, std::fs::Permissions::from_mode(0o711)).unwrap();
    let prepare = |args: &[&str]| {
        let out = server_command(&root, args).output().unwrap();
        assert!(out.status.success(), "{args:?}: {out:?}");
    };
    prepare(&["seed-demo"]);
    let work = tempfile::tempdir().unwrap();
    let archive = crate::lab_images::busybox_rootfs(work.path());
    prepare(&[
        "lab-images",
        "import",
        "crash-busybox",
        &archive.to_string_lossy(),
    ]);
    let env = [("SKILLTRACK_LAB_MAX_RUNNING_PER_LEARNER", "3")];
    let server = ServerProcess::start_with_env(&root, &env);
    let url = server.url.clone();

    // Three labs the learner may start: one connected to, one networked and never connected
    // to, one on an image.
    let mut db = superuser(&root).await;
    let labs: Vec<Uuid> = sqlx::query_scalar(
        "SELECT id FROM labs WHERE is_published
          ORDER BY slug = 'terminal-first-steps' DESC, slug LIMIT 3",
    )
    .fetch_all(&mut db)
    .await
    .unwrap();
    assert_eq!(labs.len(), 3);
    sqlx::query(
        "UPDATE labs SET is_free = true, docker_image = NULL,
                environment_template = CASE id WHEN $2 THEN 'shell-basic-net' ELSE 'shell-basic' END
          WHERE id = ANY($1)",
    )
    .bind(&labs)
    .bind(labs[1])
    .execute(&mut db)
    .await
    .unwrap();
    sqlx::query("UPDATE labs SET docker_image = 'crash-busybox' WHERE id = $1")
        .bind(labs[2])
        .execute(&mut db)
        .await
        .unwrap();
    sqlx::query("DELETE FROM lab_prerequisites WHERE lab_id = ANY($1)")
        .bind(&labs)
        .execute(&mut db)
        .await
        .unwrap();

    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(60))
        .build()
        .unwrap();
    let token = skilltrack_tests::api::Api::new(&url)
        .access_token("learner@skilltrack.dev", "learner-demo-pass")
        .await;
    let mut sessions = Vec::new();
    for lab in &labs {
        let (status, session) = call(
            &http,
            reqwest::Method::POST,
            format!("{url}/api/v1/labs/{lab}/sessions"),
            &token,
        )
        .await;
        assert_eq!(status, 201, "{session}");
        sessions.push(session);
    }
    let ids: Vec<String> = sessions
        .iter()
        .map(|s| s["id"].as_str().unwrap().to_owned())
        .collect();
    let environments: Vec<Uuid> = sessions
        .iter()
        .map(|s| s["environment"]["id"].as_str().unwrap().parse().unwrap())
        .collect();
    // The connected one: a file written from its shell, and a process left running in it.
    let mut term = Term::connect(&url, &ids[0], &token).await;
    let written = term
        .run("echo kept-across-the-crash > kept.txt; sleep 3600 & cat kept.txt")
        .await;
    assert!(written.contains("kept-across-the-crash"), "{written}");

    // SIGKILL: no shutdown runs at all.
    let mut server = server;
    server.child.kill().unwrap();
    server.child.wait().unwrap();
    drop(term);
    drop(db);
    // What a killed server leaves, as this host shows it (decision 363 lists what was found).
    let mounts = mounts_under(&root);
    let loops = loops_under(&root);
    let cgroups = cgroups_of(&environments);
    // The sandboxes themselves outlive it here (bubblewrap's pid 1 and what runs under it,
    // slirp4netns): by their command lines, and by their cgroups.
    let mut pids: Vec<i32> = processes_with(&labs_root.to_string_lossy())
        .into_iter()
        .chain(cgroups.iter().flat_map(|c| {
            std::fs::read_to_string(c.join("cgroup.procs"))
                .unwrap_or_default()
                .lines()
                .filter_map(|l| l.trim().parse().ok())
                .collect::<Vec<i32>>()
        }))
        .collect();
    pids.sort_unstable();
    pids.dedup();
    // Each by its pid and start time: on a busy host a pid is soon another process's.
    let seen: Vec<(i32, Option<String>)> = pids.iter().map(|p| (*p, started_at(*p))).collect();
    let processes: Vec<String> = pids
        .iter()
        .map(|pid| {
            let comm = std::fs::read_to_string(format!("/proc/{pid}/comm")).unwrap_or_default();
            format!("{pid} {}", comm.trim())
        })
        .collect();
    eprintln!(
        "left by the killed server: mounts {mounts:?}\nloop devices {loops:?}\ncgroups {cgroups:?}\nprocesses {processes:?}"
    );
    // Three workspace volumes and the image's root at least.
    assert!(mounts.len() >= 4, "{mounts:?}");
    assert!(loops.len() >= 3, "{loops:?}");

    // Those processes have died by the time a server starts again here; a restart that is
    // quicker (or a sandbox that lingers) meets them. One stands in for them, in the first
    // environment's cgroup, for the next start to find and kill.
    let mut straggler = cgroups.first().map(|cgroup| {
        let child = std::process::Command::new("sleep")
            .arg("3600")
            .spawn()
            .unwrap();
        std::fs::write(cgroup.join("cgroup.procs"), child.id().to_string()).unwrap();
        child
    });

    // The next start on the same data directory.
    let server = ServerProcess::start_with_env(&root, &env);
    let url = server.url.clone();
    let said = server.startup_log.join("\n");
    for line in server
        .startup_log
        .iter()
        .filter(|l| l.contains("reclaimed") || l.contains("paused the lab"))
    {
        eprintln!("{line}");
    }
    assert!(
        said.contains("reclaimed what a server killed while labs ran left behind"),
        "{said}"
    );
    assert!(said.contains("paused the lab sessions"), "{said}");
    if let Some(straggler) = &mut straggler {
        assert!(
            eventually(|| straggler.try_wait().unwrap().is_some()).await,
            "a process in a killed server's lab cgroup outlived the next start"
        );
        assert!(!said.contains("processes=0"), "{said}");
    }
    assert_eq!(mounts_under(&root), Vec::<PathBuf>::new());
    assert_eq!(loops_under(&root), Vec::<String>::new());
    assert_eq!(cgroups_of(&environments), Vec::<PathBuf>::new());
    assert!(
        eventually(|| processes_with(&labs_root.to_string_lossy()).is_empty()).await,
        "{:?}",
        processes_with(&labs_root.to_string_lossy())
    );
    let running =
        |(pid, started): &(i32, Option<String>)| started.is_some() && started_at(*pid) == *started;
    assert!(
        eventually(|| !seen.iter().any(running)).await,
        "sandbox processes outlived the restart: {:?}",
        seen.iter().filter(|p| running(p)).collect::<Vec<_>>()
    );
    assert!(!labs_root.join(".running").read_dir().unwrap().any(|_| true));

    // Every lost session is paused, its environment too, and its learner was told.
    let token = skilltrack_tests::api::Api::new(&url)
        .access_token("learner@skilltrack.dev", "learner-demo-pass")
        .await;
    for id in &ids {
        let (status, session) = call(
            &http,
            reqwest::Method::GET,
            format!("{url}/api/v1/lab-sessions/{id}"),
            &token,
        )
        .await;
        assert_eq!(status, 200, "{session}");
        assert_eq!(session["status"], "paused", "{session}");
        assert_eq!(session["environment"]["status"], "paused", "{session}");
    }
    let (_, notifications) = call(
        &http,
        reqwest::Method::GET,
        format!("{url}/api/v1/me/notifications"),
        &token,
    )
    .await;
    let interrupted = notifications["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|n| n["title"] == "Your lab was interrupted")
        .count();
    assert_eq!(interrupted, 3, "{notifications}");
    let mut db = superuser(&root).await;
    let hosts: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM private.lab_session_hosts WHERE session_id::text = ANY($1)",
    )
    .bind(&ids)
    .fetch_one(&mut db)
    .await
    .unwrap();
    assert_eq!(hosts, 0, "the killed server still hosts sessions");

    // Resuming carries on over the same files.
    let (status, resumed) = call(
        &http,
        reqwest::Method::POST,
        format!("{url}/api/v1/lab-sessions/{}/resume", ids[0]),
        &token,
    )
    .await;
    assert_eq!(status, 200, "{resumed}");
    assert_eq!(resumed["status"], "active");
    let mut term = Term::connect(&url, &ids[0], &token).await;
    let read = term.run("cat kept.txt").await;
    assert!(read.contains("kept-across-the-crash"), "{read}");
    term.close().await;
    // The image lab resumes too, on its image.
    let (status, resumed) = call(
        &http,
        reqwest::Method::POST,
        format!("{url}/api/v1/lab-sessions/{}/resume", ids[2]),
        &token,
    )
    .await;
    assert_eq!(status, 200, "{resumed}");
    drop(db);
    let mut server = server;
    assert!(server.terminate().success());
    assert_eq!(mounts_under(&root), Vec::<PathBuf>::new());
}

/// With several server processes on one database, a start pauses only what its own previous
/// process lost: a session that a live process hosts now stays active even when this host left
/// its environment behind, and one hosted by a third, dead process is that process's host's to
/// recover (decision 364).
#[tokio::test]
async fn a_start_pauses_only_the_sessions_its_own_dead_process_hosted() {
    use skilltrack_server::db::{instances, labs as db_labs, session::begin_service};
    let w = crate::labs_api::LabWorld::new(|_| {}).await;
    let second = w.add_lab("recovery-second", "shell-basic", true).await;
    let third = w.add_lab("recovery-third", "shell-basic", true).await;
    let mut sessions = Vec::new();
    for (name, lab) in [
        ("lost", w.lab),
        ("taken-over", second),
        ("elsewhere", third),
    ] {
        let who = w.learner(&format!("ana-{name}")).await;
        let started = w.start(&who, lab).await;
        assert_eq!(started["status"], "active", "{started}");
        sessions.push(started);
    }
    let id = |s: &Value| -> Uuid { s["id"].as_str().unwrap().parse().unwrap() };
    let env = |s: &Value| -> Uuid { s["environment"]["id"].as_str().unwrap().parse().unwrap() };
    let (dead, live, other_dead, me) = (
        Uuid::now_v7(),
        Uuid::now_v7(),
        Uuid::now_v7(),
        Uuid::now_v7(),
    );
    let db = &w.server.db.db;
    let mut tx = begin_service(db.api()).await.unwrap();
    for instance in [dead, live, other_dead, me] {
        instances::heartbeat(&mut tx, instance, None).await.unwrap();
    }
    // The dead processes' last heartbeats are recent: a process killed a moment ago looks
    // alive to the others; only the lock says it is dead, and only for its own host.
    instances::host_session(&mut tx, id(&sessions[0]), dead)
        .await
        .unwrap();
    instances::host_session(&mut tx, id(&sessions[1]), live)
        .await
        .unwrap();
    instances::host_session(&mut tx, id(&sessions[2]), other_dead)
        .await
        .unwrap();
    // This host left the environments of the first two behind.
    let left = [env(&sessions[0]), env(&sessions[1])];
    let paused = db_labs::pause_lost_sessions(
        &mut tx,
        Some(dead),
        &left,
        me,
        skilltrack_server::instance::STALE_AFTER,
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(paused, vec![id(&sessions[0])]);
    for (session, status) in sessions.iter().zip(["paused", "active", "active"]) {
        let mut tx = begin_service(db.api()).await.unwrap();
        let row = db_labs::session(&mut tx, id(session))
            .await
            .unwrap()
            .unwrap();
        tx.commit().await.unwrap();
        assert_eq!(row.status().unwrap().to_string(), status, "{session}");
        assert_eq!(
            row.environment_data.get("interrupted_at").is_some(),
            status == "paused"
        );
    }
}
