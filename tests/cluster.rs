//! Three real `skilltrack-server` processes on one PostgreSQL, behind nginx on loopback (issue
//! 19, part 2): the deployment of docs/deployment.md, section 3, started by the test.
//!
//! * the test's own PostgreSQL (an embedded cluster it starts, as `DATABASE_URL` for all three);
//! * three processes started at the same moment on the empty database (migrations run once);
//! * nginx from Debian, with a configuration the test writes in a temporary directory (pid, logs
//!   and temporary files there too), on a free loopback port, never port 80.
//!
//! Nothing here is timed: every wait is for a condition, with a generous bound.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use futures_util::{SinkExt as _, StreamExt as _};
use nix::sys::signal::{Signal, kill};
use reqwest::StatusCode;
use serde_json::{Value, json};
use skilltrack_server::cluster::{ClusterOptions, DATABASE, EmbeddedCluster, SUPERUSER};
use skilltrack_tests::nginx::{Nginx, free_port};
use skilltrack_tests::process::{ServerProcess, client_binary, data_dir, server_command};
use sqlx::postgres::PgPool;
use tokio_tungstenite::tungstenite::Message;

/// The three processes' shared secrets (every process must verify the others' tokens).
const JWT_SECRET: &str = "the-cluster-test-jwt-secret-of-enough-length-0123456789";
const AUTHENTICATOR_PASSWORD: &str = "cluster-test";
/// Sign-ins (and, apart, sign-ups) per address per window, for the whole cluster.
const PER_IP: u32 = 10;

/// A server process's log, kept whole: lines are read from its channel as they come.
struct Log {
    rx: mpsc::Receiver<String>,
    lines: Vec<String>,
}

impl Log {
    fn drain(&mut self) -> &[String] {
        while let Ok(line) = self.rx.try_recv() {
            self.lines.push(line);
        }
        &self.lines
    }

    fn count(&mut self, all: &[&str]) -> usize {
        self.drain()
            .iter()
            .filter(|l| all.iter().all(|part| l.contains(part)))
            .count()
    }
}

struct Process {
    server: ServerProcess,
    log: Log,
    _dir: tempfile::TempDir,
}

struct Cluster {
    processes: Vec<Process>,
    nginx: Nginx,
    owner: PgPool,
    database_url: String,
    pg_dir: PathBuf,
    pg_options: ClusterOptions,
    pg: Option<EmbeddedCluster>,
}

impl Drop for Cluster {
    /// The processes stop first, then PostgreSQL, then its files go.
    fn drop(&mut self) {
        self.processes.clear();
        drop(self.pg.take());
        let _ = std::fs::remove_dir_all(&self.pg_dir);
    }
}

impl Cluster {
    /// PostgreSQL, then three processes at once on the empty database, then nginx before them.
    async fn start() -> Self {
        let options = ClusterOptions {
            // Under /tmp by name, so the cluster's OS user can reach it when the tests run as root.
            dir: std::env::temp_dir().join(format!(
                "skilltrack-cluster-{}-{}",
                std::process::id(),
                uuid::Uuid::now_v7().simple()
            )),
            bin_dir: std::env::var_os("SKILLTRACK_PG_BIN_DIR").map(PathBuf::from),
            os_user: std::env::var("SKILLTRACK_PG_OS_USER")
                .unwrap_or_else(|_| "postgres".to_owned()),
            durable: false,
        };
        let pg_dir = options.dir.clone();
        let pg_options = options.clone();
        let pg = tokio::task::spawn_blocking(move || EmbeddedCluster::start(&options))
            .await
            .unwrap()
            .expect("starting the test's own PostgreSQL");
        skilltrack_server::db::bootstrap::ensure_database(
            pg.connect_options(SUPERUSER, "postgres"),
            DATABASE,
        )
        .await
        .unwrap();
        let owner = skilltrack_server::db::connect_pool(pg.connect_options(SUPERUSER, DATABASE), 2)
            .await
            .unwrap();
        let database_url = format!(
            "postgres://{SUPERUSER}@localhost/{DATABASE}?host={}",
            pg.socket_dir().display()
        );
        // All three at the same moment, on a database with no schema yet.
        let ports: Vec<u16> = (0..3).map(|_| free_port()).collect();
        let starting: Vec<_> = ports
            .into_iter()
            .map(|port| {
                let url = database_url.clone();
                std::thread::spawn(move || start_process(port, &url))
            })
            .collect();
        let processes: Vec<Process> = starting.into_iter().map(|t| t.join().unwrap()).collect();
        let upstreams: Vec<&str> = processes
            .iter()
            .map(|p| p.server.url.trim_start_matches("http://"))
            .collect();
        let nginx = Nginx::start(&upstreams);
        Self {
            processes,
            nginx,
            owner,
            database_url,
            pg_dir,
            pg_options,
            pg: Some(pg),
        }
    }

    /// Starts PostgreSQL again on the same files, after the test stopped it.
    async fn start_postgresql(&mut self) {
        let options = self.pg_options.clone();
        let pg = tokio::task::spawn_blocking(move || EmbeddedCluster::start(&options))
            .await
            .unwrap()
            .expect("starting the test's own PostgreSQL again");
        self.pg = Some(pg);
    }

    fn url(&self, i: usize) -> &str {
        &self.processes[i].server.url
    }

    /// `skilltrack-server seed-demo` on the cluster's database (the processes keep running).
    fn seed_demo(&self) {
        let dir = data_dir();
        let out = server_command(dir.path(), &["seed-demo"])
            .env("DATABASE_URL", &self.database_url)
            .env("SKILLTRACK_AUTHENTICATOR_PASSWORD", AUTHENTICATOR_PASSWORD)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

fn start_process(port: u16, database_url: &str) -> Process {
    use std::os::unix::fs::PermissionsExt as _;
    let dir = data_dir();
    // The lab sandbox user must pass through the data directory to reach its workspaces.
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o711)).unwrap();
    let listen = format!("127.0.0.1:{port}");
    let internal = format!("http://{listen}");
    let mut cmd = server_command(
        dir.path(),
        &["serve", "--listen", &listen, "--internal-url", &internal],
    );
    cmd.envs([
        ("DATABASE_URL", database_url),
        ("SKILLTRACK_AUTHENTICATOR_PASSWORD", AUTHENTICATOR_PASSWORD),
        ("SKILLTRACK_JWT_SECRET", JWT_SECRET),
        ("SKILLTRACK_TRUSTED_PROXIES", "127.0.0.1"),
        ("SKILLTRACK_AUTH_LIMIT_PER_IP", &PER_IP.to_string()),
        // One round of each periodic job in the test's lifetime: each process's first tick
        // comes at its start, and the next an hour later.
        ("SKILLTRACK_LAB_REAPER_INTERVAL_SECS", "3600"),
        ("SKILLTRACK_LAB_WORKSPACE_VOLUMES", "false"),
        (
            "RUST_LOG",
            "info,sqlx=warn,skilltrack_server::instance=debug,skilltrack_server::http::terminal=debug,skilltrack_server::http::relay=debug",
        ),
    ]);
    let mut server = ServerProcess::start_command(cmd);
    let (tx, rx) = mpsc::channel();
    for line in std::mem::take(&mut server.startup_log) {
        let _ = tx.send(line);
    }
    // The server's own channel, drained by a thread into ours (after the startup lines).
    let own = std::mem::replace(&mut server.log, mpsc::channel().1);
    std::thread::spawn(move || {
        while let Ok(line) = own.recv() {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    Process {
        server,
        log: Log {
            rx,
            lines: Vec::new(),
        },
        _dir: dir,
    }
}

/// `skilltrack` (the CLI) on `data`, against `server`; its JSON answer, or its error.
fn cli(server: &str, data: &Path, email_password: &str, args: &[&str]) -> Result<Value, String> {
    skilltrack_tests::process::cli_with_password(server, data, email_password, args)
}

async fn sign_in(base: &str, email: &str, password: &str) -> String {
    skilltrack_tests::api::Api::new(base)
        .access_token(email, password)
        .await
}

/// Reads SSE events until one arrives or the bound passes.
async fn next_event(
    stream: &mut (impl futures_util::Stream<Item = reqwest::Result<axum::body::Bytes>> + Unpin),
    buffer: &mut String,
) -> Option<Value> {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        if let Some(end) = buffer.find("\n\n") {
            let block: String = buffer.drain(..end + 2).collect();
            if let Some(data) = block.lines().find_map(|l| l.strip_prefix("data: ")) {
                return Some(serde_json::from_str(data).unwrap());
            }
            continue;
        }
        match tokio::time::timeout_at(deadline, stream.next()).await {
            Ok(Some(Ok(bytes))) => buffer.push_str(&String::from_utf8_lossy(&bytes)),
            _ => return None,
        }
    }
}

async fn landed(owner: &PgPool) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM applied_mutations")
        .fetch_one(owner)
        .await
        .unwrap()
}

async fn wait_for(what: &str, mut done: impl FnMut() -> bool) {
    assert!(
        skilltrack_tests::process::eventually(&mut done).await,
        "never happened: {what}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_processes_behind_nginx_act_as_one_server() {
    let mut c = Cluster::start().await;

    // Migrations ran once: every one applied, successfully, and all three processes started
    // (a second run of any would have failed on objects that exist).
    let files = std::fs::read_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join("../migrations"))
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .is_ok_and(|e| e.path().extension().is_some_and(|x| x == "sql"))
        })
        .count();
    let (applied, failed): (i64, i64) = sqlx::query_as(
        "SELECT count(*), count(*) FILTER (WHERE NOT success) FROM _sqlx_migrations",
    )
    .fetch_one(&c.owner)
    .await
    .unwrap();
    assert_eq!(
        (applied, failed),
        (i64::try_from(files).unwrap(), 0),
        "migrations applied"
    );
    c.seed_demo();

    // The periodic jobs ran once for the cluster: each process's first round came at its
    // start; one ran each job, the two others saw it taken.
    for job in ["sync_compaction", "lab_reaper"] {
        let decided = |c: &mut Cluster| {
            c.processes
                .iter_mut()
                .map(|p| {
                    (
                        p.log.count(&["running this job for the cluster", job]),
                        p.log.count(&["another server process", job]),
                    )
                })
                .collect::<Vec<_>>()
        };
        let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
        let mut seen = decided(&mut c);
        while seen.iter().any(|(ran, skipped)| ran + skipped == 0)
            && tokio::time::Instant::now() < deadline
        {
            tokio::time::sleep(Duration::from_millis(100)).await;
            seen = decided(&mut c);
        }
        let ran: usize = seen.iter().map(|(r, _)| r).sum();
        let skipped: usize = seen.iter().map(|(_, s)| s).sum();
        assert_eq!((ran, skipped), (1, 2), "{job}: {seen:?}");
        let runs: i64 = sqlx::query_scalar("SELECT runs FROM private.periodic_runs WHERE job = $1")
            .bind(job)
            .fetch_one(&c.owner)
            .await
            .unwrap();
        assert_eq!(runs, 1, "{job}");
    }

    // Sign-in limits hold across processes: attempts from one address spread over A, B and C
    // count as one window; then every process refuses that address.
    let http = reqwest::Client::new();
    let attempt = |base: String, address: &'static str, email: String, password: &'static str| {
        let http = http.clone();
        async move {
            http.post(format!("{base}/api/v1/auth/sign-in"))
                .header("x-forwarded-for", address)
                .json(&json!({"email": email, "password": password}))
                .send()
                .await
                .unwrap()
        }
    };
    for n in 0..PER_IP {
        let base = c.url(usize::try_from(n).unwrap() % 3).to_owned();
        let a = attempt(
            base,
            "203.0.113.7",
            format!("nobody{n}@example.com"),
            "wrong-pass",
        )
        .await;
        assert_eq!(a.status(), StatusCode::UNAUTHORIZED, "attempt {n}");
    }
    for i in 0..3 {
        let a = attempt(
            c.url(i).to_owned(),
            "203.0.113.7",
            "nobody@example.com".into(),
            "x",
        )
        .await;
        assert_eq!(a.status(), StatusCode::TOO_MANY_REQUESTS, "process {i}");
        let retry: u64 = a.headers()["retry-after"]
            .to_str()
            .unwrap()
            .parse()
            .unwrap();
        assert!((1..=300).contains(&retry), "{retry}");
        let body: Value = a.json().await.unwrap();
        assert_eq!(body["code"], "rate_limited");
    }
    // Failed sign-ins on one account back off across processes too (5 free, then a wait),
    // and the right password waits like a wrong one.
    for n in 0..5 {
        let base = c.url(n % 3).to_owned();
        let a = attempt(
            base,
            "203.0.113.8",
            "learner@skilltrack.dev".into(),
            "wrong-pass",
        )
        .await;
        assert_eq!(a.status(), StatusCode::UNAUTHORIZED, "failure {n}");
    }
    for i in 0..3 {
        let a = attempt(
            c.url(i).to_owned(),
            "203.0.113.8",
            "learner@skilltrack.dev".into(),
            "learner-demo-pass",
        )
        .await;
        assert_eq!(a.status(), StatusCode::TOO_MANY_REQUESTS, "process {i}");
    }

    // A change made through A reaches a device listening on C, and C's course page (cached
    // before the change) shows it.
    let learner = sign_in(c.url(2), "learner@skilltrack.dev", "learner-demo-pass").await;
    let instructor = sign_in(
        c.url(0),
        "instructor@skilltrack.dev",
        "instructor-demo-pass",
    )
    .await;
    let slug = "git-and-github-essentials";
    let page_on_c = |http: reqwest::Client, base: String| async move {
        let a = http
            .get(format!("{base}/api/v1/courses/{slug}"))
            .send()
            .await
            .unwrap();
        assert_eq!(a.status(), StatusCode::OK);
        a.json::<Value>().await.unwrap()
    };
    let before = page_on_c(http.clone(), c.url(2).to_owned()).await;
    let again = page_on_c(http.clone(), c.url(2).to_owned()).await;
    assert_eq!(before["course"]["title"], again["course"]["title"]);
    let course_id = before["course"]["id"].as_str().unwrap().to_owned();
    let live = http
        .get(format!("{}/api/v1/sync/live", c.url(2)))
        .bearer_auth(&learner)
        .send()
        .await
        .unwrap();
    assert_eq!(live.status(), StatusCode::OK);
    let mut events = live.bytes_stream();
    let mut buffer = String::new();
    assert_eq!(
        next_event(&mut events, &mut buffer).await,
        Some(json!({"scope": "everything"}))
    );
    let renamed = http
        .patch(format!("{}/api/v1/authoring/courses/{course_id}", c.url(0)))
        .bearer_auth(&instructor)
        .json(&json!({"title": "Git, Renamed Through A"}))
        .send()
        .await
        .unwrap();
    assert!(renamed.status().is_success(), "{renamed:?}");
    // (Signals about the learner's own rows, from signing in, may come first.)
    let mut heard = None;
    for _ in 0..10 {
        heard = next_event(&mut events, &mut buffer).await;
        if heard != Some(json!({"scope": "mine"})) {
            break;
        }
    }
    assert_eq!(
        heard,
        Some(json!({"scope": "catalog"})),
        "C's device heard A's change"
    );
    let after = page_on_c(http.clone(), c.url(2).to_owned()).await;
    assert_eq!(after["course"]["title"], "Git, Renamed Through A");
    drop(events);

    // Kill A (SIGKILL) while a device pushes through nginx: the device carries on through B
    // and C, and every write lands exactly once.
    let device = tempfile::tempdir().unwrap();
    let run = |args: &[&str]| cli(&c.nginx.url, device.path(), "learner-demo-pass", args);
    run(&["sign-in", "--email", "learner@skilltrack.dev"]).unwrap();
    run(&["sync"]).unwrap();
    let lesson = skilltrack_tests::process::first_cached_lesson(&c.nginx.url, device.path());
    let applied_before: i64 = sqlx::query_scalar("SELECT count(*) FROM applied_mutations")
        .fetch_one(&c.owner)
        .await
        .unwrap();
    let minutes_before: i64 = sqlx::query_scalar(
        "SELECT coalesce(sum(time_spent_minutes), 0)::bigint FROM user_progress WHERE lesson_id = $1::uuid",
    )
    .bind(&lesson)
    .fetch_one(&c.owner)
    .await
    .unwrap();
    let writes = 40;
    for _ in 0..writes {
        run(&["progress", &lesson, "--minutes", "1"]).unwrap();
    }
    let mut pushing = Command::new(client_binary())
        .args([
            "--server",
            &c.nginx.url,
            "--token-store",
            "file",
            "--json",
            "--data-dir",
        ])
        .arg(device.path())
        .args(["sync", "--push-batch", "1"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Once some of the pushes have landed (the push is under way), A dies.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    while landed(&c.owner).await < applied_before + 3 && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    kill(c.processes[0].server.pid(), Signal::SIGKILL).unwrap();
    let _ = c.processes[0].server.child.wait();
    let _ = pushing.wait();
    // The device syncs again (as the app does when a sync fails) until nothing is pending.
    let mut pending = u64::MAX;
    for _ in 0..20 {
        let _ = run(&["sync"]);
        pending = run(&["status"]).unwrap()["pending"].as_u64().unwrap();
        if pending == 0 {
            break;
        }
    }
    assert_eq!(pending, 0, "the device's writes never all landed");
    let applied_after = landed(&c.owner).await;
    assert_eq!(
        applied_after - applied_before,
        writes,
        "each write applied once"
    );
    let minutes_after: i64 = sqlx::query_scalar(
        "SELECT coalesce(sum(time_spent_minutes), 0)::bigint FROM user_progress WHERE lesson_id = $1::uuid",
    )
    .bind(&lesson)
    .fetch_one(&c.owner)
    .await
    .unwrap();
    assert_eq!(
        minutes_after - minutes_before,
        writes,
        "no minute lost or doubled"
    );
}

/// A terminal opened through B types into the shell A started (B passes the connection on to
/// A, as the learner); the workspace's files listed through B are A's, and the session stopped
/// through B is stopped by A.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_terminal_opened_through_b_types_into_the_shell_that_a_started() {
    let mut c = Cluster::start().await;
    c.seed_demo();
    let lab: uuid::Uuid =
        sqlx::query_scalar("SELECT id FROM labs WHERE slug = 'terminal-first-steps'")
            .fetch_one(&c.owner)
            .await
            .unwrap();
    let learner = sign_in(c.url(0), "learner@skilltrack.dev", "learner-demo-pass").await;
    let started = reqwest::Client::new()
        .post(format!("{}/api/v1/labs/{lab}/sessions", c.url(0)))
        .bearer_auth(&learner)
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(started.status(), StatusCode::CREATED, "{started:?}");
    let session = started.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();

    // Through B: the shell is A's.
    let url = format!(
        "{}/api/v1/lab-sessions/{session}/terminal",
        c.url(1).replacen("http", "ws", 1)
    );
    let (mut socket, _) = tokio_tungstenite::connect_async(url).await.unwrap();
    socket
        .send(Message::Text(
            json!({"type": "auth", "token": learner}).to_string().into(),
        ))
        .await
        .unwrap();
    let mut output = String::new();
    let mut ready = None;
    socket
        .send(Message::Binary(
            b"echo relayed > ~/relayed-through-b.txt; echo from-$((40+2))-in\n"
                .to_vec()
                .into(),
        ))
        .await
        .unwrap();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    while !output.contains("from-42-in") {
        let Ok(Some(Ok(m))) = tokio::time::timeout_at(deadline, socket.next()).await else {
            panic!("no echo through B; ready {ready:?}; output {output:?}");
        };
        match m {
            Message::Text(t) => ready = Some(t.as_str().to_owned()),
            Message::Binary(b) => output.push_str(&String::from_utf8_lossy(&b)),
            Message::Close(f) => panic!("closed: {f:?}; output {output:?}"),
            _ => {}
        }
    }
    assert!(
        ready.is_some_and(|r| r.contains("interactive")),
        "the learner's own shell"
    );
    let _ = socket.close(None).await;
    // B passed it on; A ran it.
    wait_for("B says it passed the terminal on", || {
        c.processes[1]
            .log
            .count(&["passing a terminal on to the process running its shell"])
            > 0
    })
    .await;
    let hosts: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM private.lab_session_hosts h JOIN private.server_instances i
         ON i.id = h.instance_id WHERE h.session_id = $1::uuid AND i.internal_url = $2",
    )
    .bind(&session)
    .bind(c.url(0))
    .fetch_one(&c.owner)
    .await
    .unwrap();
    assert_eq!(hosts, 1, "A hosts the session");
    // The workspace's files, through B: A's workspace, where the shell wrote.
    let http = reqwest::Client::new();
    let listing = http
        .get(format!("{}/api/v1/lab-sessions/{session}/files", c.url(1)))
        .bearer_auth(&learner)
        .send()
        .await
        .unwrap();
    assert_eq!(listing.status(), StatusCode::OK);
    let listing = listing.text().await.unwrap();
    assert!(listing.contains("relayed-through-b.txt"), "{listing}");
    // Stopped through B: A stops it (the shell is A's to stop).
    let stopped = http
        .post(format!("{}/api/v1/lab-sessions/{session}/stop", c.url(1)))
        .bearer_auth(&learner)
        .send()
        .await
        .unwrap();
    assert_eq!(stopped.status(), StatusCode::OK);
    wait_for("B says it passed the lab requests on", || {
        c.processes[1]
            .log
            .count(&["passing a lab request on to the process running its sandbox"])
            >= 2
    })
    .await;
}

/// What a request through nginx answered: its status, or 0 when it got no answer.
async fn status_of(http: &reqwest::Client, url: &str) -> u16 {
    http.get(url)
        .send()
        .await
        .map_or(0, |answer| answer.status().as_u16())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgresql_restarted_under_load_every_process_answers_503_then_recovers_and_no_queued_write_is_lost()
 {
    let mut c = Cluster::start().await;
    c.seed_demo();
    let device = tempfile::tempdir().unwrap();
    let nginx = c.nginx.url.clone();
    let run = |args: &[&str]| cli(&nginx, device.path(), "learner-demo-pass", args);
    run(&["sign-in", "--email", "learner@skilltrack.dev"]).unwrap();
    run(&["sync"]).unwrap();
    let lesson = skilltrack_tests::process::first_cached_lesson(&nginx, device.path());
    let before = landed(&c.owner).await;

    // Load through nginx all along: the catalog, asked again and again by another client.
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap();
    let (stop, mut stopped) = tokio::sync::watch::channel(false);
    let load = tokio::spawn({
        let http = http.clone();
        let url = format!("{nginx}/api/v1/courses");
        async move {
            let mut seen = Vec::new();
            while !*stopped.borrow() {
                seen.push(status_of(&http, &url).await);
                tokio::select! {
                    _ = stopped.changed() => {}
                    () = tokio::time::sleep(Duration::from_millis(20)) => {}
                }
            }
            seen
        }
    });

    // PostgreSQL stops (a fast shutdown, as its operator's restart does).
    drop(c.pg.take());
    for i in 0..3 {
        let down = http
            .get(format!("{}/api/v1/courses", c.url(i)))
            .send()
            .await
            .unwrap();
        assert_eq!(down.status(), 503, "process {i}");
        assert_eq!(down.headers()["retry-after"], "5", "process {i}");
        let body: Value = down.json().await.unwrap();
        assert_eq!(body["code"], "database_unavailable", "process {i}: {body}");
    }
    // The learner works on; the sync is refused and the writes stay queued.
    for minutes in ["2", "3", "4"] {
        run(&["progress", &lesson, "--minutes", minutes]).unwrap();
    }
    let refused = run(&["sync"]).unwrap_err();
    assert!(refused.contains("not available"), "{refused}");
    assert_eq!(run(&["status"]).unwrap()["pending"], 3);

    // PostgreSQL is back on the same files: every process recovers by itself.
    c.start_postgresql().await;
    for i in 0..3 {
        let url = format!("{}/api/v1/courses", c.url(i));
        let mut answered = 0;
        for _ in 0..600 {
            answered = status_of(&http, &url).await;
            if answered == 200 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert_eq!(answered, 200, "process {i} never answered again");
    }
    let report = run(&["sync"]).unwrap();
    assert_eq!(
        (report["pushed"].as_u64(), report["rejected"].as_u64()),
        (Some(3), Some(0)),
        "{report}"
    );
    assert_eq!(run(&["status"]).unwrap()["pending"], 0);
    assert_eq!(landed(&c.owner).await, before + 3, "each queued write once");

    // Under the load, every answer was the catalog or a 503 to retry: never an error, never
    // a hang, never nothing.
    stop.send(true).unwrap();
    let seen = load.await.unwrap();
    assert!(
        seen.iter().all(|s| *s == 200 || *s == 503),
        "answers through nginx: {seen:?}"
    );
    assert!(
        seen.contains(&503),
        "the load never met the outage: {seen:?}"
    );
    assert_eq!(seen.last(), Some(&200), "{seen:?}");
}
