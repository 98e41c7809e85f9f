//! The `skilltrack-server` binary as a child process, with its embedded PostgreSQL.

use std::io::{BufRead as _, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

/// The `skilltrack-server` binary, built by the test command before the tests run.
pub fn server_binary() -> PathBuf {
    let exe = std::env::current_exe().expect("current_exe");
    // target/<profile>/deps/tests-<hash> → target/<profile>/skilltrack-server
    let bin = exe
        .parent()
        .and_then(|deps| deps.parent())
        .map(|profile| profile.join("skilltrack-server"))
        .expect("target directory");
    assert!(
        bin.exists(),
        "{} is missing: build it first (`cargo build -p skilltrack-server`), as the README's test command does",
        bin.display()
    );
    bin
}

/// The `skilltrack` CLI (the client engine), built by the test command before the tests run.
pub fn client_binary() -> PathBuf {
    let bin = server_binary().with_file_name("skilltrack");
    assert!(
        bin.exists(),
        "{} is missing: build it first (`cargo build -p skilltrack-client --bin skilltrack`), as the README's test command does",
        bin.display()
    );
    bin
}

/// A data directory the cluster's OS user can reach even when the tests run as root.
pub fn data_dir() -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix("skilltrack-server-")
        .tempdir_in("/tmp")
        .expect("tempdir")
}

/// `skilltrack-server --data-dir <dir> <args>`, on the embedded cluster.
pub fn server_command(data_dir: &Path, args: &[&str]) -> Command {
    let mut cmd = Command::new(server_binary());
    cmd.arg("--data-dir")
        .arg(data_dir)
        .args(args)
        .env_remove("DATABASE_URL");
    cmd
}

/// A running `skilltrack-server serve`, stopped with SIGTERM when dropped.
pub struct ServerProcess {
    /// The process.
    pub child: Child,
    /// `http://127.0.0.1:<port>`, read from its log.
    pub url: String,
    /// Its log lines after the one that gave the URL (drained so it never blocks on stderr).
    pub log: mpsc::Receiver<String>,
    /// Its log lines before that one (what it said while starting).
    pub startup_log: Vec<String>,
}

impl ServerProcess {
    /// Starts `serve` on a free port and waits until it says where it listens.
    pub fn start(data_dir: &Path) -> Self {
        Self::start_with_env(data_dir, &[])
    }

    /// [`Self::start`] with extra environment variables (e.g. `RUST_LOG`).
    pub fn start_with_env(data_dir: &Path, env: &[(&str, &str)]) -> Self {
        Self::start_with(data_dir, &[], env)
    }

    /// [`Self::start`] with extra arguments (before `serve`) and environment variables.
    pub fn start_with(data_dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Self {
        let mut all = args.to_vec();
        all.extend(["serve", "--listen", "127.0.0.1:0"]);
        let mut cmd = server_command(data_dir, &all);
        cmd.envs(env.iter().copied());
        Self::start_command(cmd)
    }

    /// Starts a prepared `serve` command (it must listen on a free port) and waits until it
    /// says where it listens.
    pub fn start_command(mut cmd: Command) -> Self {
        let mut child = cmd
            .stderr(Stdio::piped())
            .stdout(Stdio::null())
            .spawn()
            .expect("spawning the server");
        let stderr = child.stderr.take().expect("stderr");
        let (lines_tx, log) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                let _ = lines_tx.send(line);
            }
        });
        let deadline = Instant::now() + Duration::from_secs(120);
        let mut seen = Vec::new();
        while Instant::now() < deadline {
            let Ok(line) = log.recv_timeout(Duration::from_secs(1)) else {
                continue;
            };
            if let Some(rest) = line.split("listening on ").nth(1) {
                let url: String = rest
                    .chars()
                    .take_while(|c| !c.is_whitespace() && !c.is_control())
                    .collect();
                return Self {
                    child,
                    url,
                    log,
                    startup_log: seen,
                };
            }
            seen.push(line);
        }
        let _ = child.kill();
        let _ = child.wait();
        panic!(
            "the server never said where it listens; its log:\n{}",
            seen.join("\n")
        );
    }

    /// The process id.
    pub fn pid(&self) -> Pid {
        Pid::from_raw(i32::try_from(self.child.id()).expect("pid"))
    }

    /// SIGTERM, then waits for the exit.
    pub fn terminate(&mut self) -> ExitStatus {
        let _ = kill(self.pid(), Signal::SIGTERM);
        self.child.wait().expect("waiting for the server")
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = self.terminate();
        }
    }
}

/// The postmaster's pid, from its pid file in the server's data directory.
pub fn postmaster_pid(data_dir: &Path) -> Pid {
    let text = std::fs::read_to_string(data_dir.join("postgres/data/postmaster.pid"))
        .expect("postmaster.pid");
    Pid::from_raw(
        text.lines()
            .next()
            .and_then(|l| l.trim().parse().ok())
            .expect("a pid"),
    )
}

/// Waits (up to a minute) for a process to end; false if it is still running.
pub fn wait_until_gone(pid: Pid) -> bool {
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline {
        // A zombie still answers signals; /proc says whether it is really running.
        let state = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
        if state.is_empty() || state.split_whitespace().nth(2) == Some("Z") {
            return true;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    false
}

/// The host's processes whose command line holds `token` (the test's own process aside).
pub fn processes_with(token: &str) -> Vec<i32> {
    let me = std::process::id();
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| *pid != me)
        .filter(|pid| {
            // A zombie has an empty command line: it is gone but for its exit status.
            std::fs::read(format!("/proc/{pid}/cmdline"))
                .is_ok_and(|c| c.split(|b| *b == 0).any(|arg| contains(arg, token)))
        })
        .filter_map(|pid| i32::try_from(pid).ok())
        .collect()
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len().max(1))
        .any(|w| w == needle.as_bytes())
}

/// Waits (up to a minute) until `done` holds; false if it never did.
pub async fn eventually(mut done: impl FnMut() -> bool) -> bool {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    while tokio::time::Instant::now() < deadline {
        if done() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    done()
}

/// The id of the first lesson in the cache of the CLI device kept in `device` (synced with
/// `server`), for a test that writes progress on it.
pub fn first_cached_lesson(server: &str, device: &Path) -> String {
    let engine = skilltrack_client::device::open(
        server,
        device,
        &skilltrack_client::tokens::StoreKind::File,
    )
    .expect("opening the CLI's device");
    let cache = skilltrack_client::sync::lock(engine.cache());
    cache
        .all_rows(skilltrack_protocol::sync::SyncTable::CourseLessons)
        .expect("reading the cached lessons")[0]["id"]
        .as_str()
        .expect("a lesson id")
        .to_owned()
}

/// `skilltrack` (the CLI) on the device kept in `data`, against `server`, signing in as a demo
/// learner when asked: its JSON answer, or its error (what it printed on stderr).
pub fn cli(server: &str, data: &Path, args: &[&str]) -> Result<serde_json::Value, String> {
    cli_with_password(server, data, "learner-demo-pass", args)
}

/// [`cli`], signing in with `password` when asked.
pub fn cli_with_password(
    server: &str,
    data: &Path,
    password: &str,
    args: &[&str],
) -> Result<serde_json::Value, String> {
    let out = Command::new(client_binary())
        .args([
            "--server",
            server,
            "--token-store",
            "file",
            "--json",
            "--data-dir",
        ])
        .arg(data)
        .args(args)
        .env("SKILLTRACK_PASSWORD", password)
        .output()
        .expect("running the CLI");
    if out.status.success() {
        Ok(serde_json::from_slice(&out.stdout).unwrap_or(serde_json::Value::Null))
    } else {
        Err(String::from_utf8_lossy(&out.stderr).into_owned())
    }
}

/// The demo learner's progress rows in `lesson`, as a new device sees them after its first
/// sync with `server`: what the server holds, whatever other devices cached.
///
/// # Panics
/// When the CLI or the device's cache fails.
pub fn fresh_device_progress(server: &str, lesson: &str) -> Vec<serde_json::Value> {
    let fresh = tempfile::tempdir().expect("a device directory");
    cli(
        server,
        fresh.path(),
        &["sign-in", "--email", "learner@skilltrack.dev"],
    )
    .expect("signing the new device in");
    cli(server, fresh.path(), &["sync"]).expect("the new device's first sync");
    let engine = skilltrack_client::device::open(
        server,
        fresh.path(),
        &skilltrack_client::tokens::StoreKind::File,
    )
    .expect("opening the new device");
    let cache = skilltrack_client::sync::lock(engine.cache());
    cache
        .rows_where(
            skilltrack_protocol::sync::SyncTable::UserProgress,
            "lesson_id",
            lesson,
        )
        .expect("reading its cache")
}
