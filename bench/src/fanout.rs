//! `live-fanout`: a thousand devices of a thousand learners hold the live channel open against
//! the real server binary (issue 19, part 1). Each device has done its first sync and pulls
//! whenever told, as the app does. Then:
//!
//! 1. an instructor renames a published course, several times: per device, the time from the
//!    rename request to the notice, and to the moment the device's own pull has the new title;
//! 2. several learners, one at a time, enroll in a course (a change only they may see): the
//!    same two times for their device, and how many of the other devices were told anything;
//! 3. the server's memory (its process's resident set) before the live channels open and with
//!    every device idle on one, per device.
//!
//! The server is `skilltrack-server` (release) on its embedded PostgreSQL with the demo data,
//! in a process of its own, so that its memory is its own. Prints a Markdown table for
//! docs/benchmarks.md.
//!
//!     cargo build --release -p skilltrack-server -p skilltrack-bench
//!     target/release/live-fanout --help

#![forbid(unsafe_code)]
#![allow(
    clippy::print_stdout,
    reason = "the table on stdout is this program's output"
)]
#![allow(
    clippy::cast_precision_loss,
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss,
    reason = "counts and durations far below 2^52"
)]

mod accounts;
mod server_binary;
mod stats;

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use anyhow::Context as _;
use clap::Parser;
use futures_util::StreamExt as _;
use serde_json::{Value, json};
use skilltrack_protocol::sync::{LiveSignal, PullPage, SyncTable};
use skilltrack_tests::process::ServerProcess;
use uuid::Uuid;

use crate::accounts::{sign_in, sign_up};
use crate::stats::percentile;

/// A thousand learners' devices on the live channel: a catalog change and personal changes.
#[derive(Debug, Parser)]
#[command(version)]
struct Args {
    /// Devices on the live channel, each its own learner.
    #[arg(long, default_value_t = 1000)]
    devices: usize,
    /// Times the instructor renames the course.
    #[arg(long, default_value_t = 5)]
    renames: usize,
    /// Learners who, one after the other, enroll in a course.
    #[arg(long, default_value_t = 20)]
    personal: usize,
    /// Sign-ups and first syncs running at once while the devices are prepared.
    #[arg(long, default_value_t = 8)]
    concurrency: usize,
    /// The server binary (default: `skilltrack-server` beside this program).
    #[arg(long)]
    server: Option<PathBuf>,
    /// How long a device may take to have a change before the round gives up on it.
    #[arg(long, default_value_t = 30)]
    round_timeout_secs: u64,
}

/// What the devices look out for in the current round.
#[derive(Debug, Clone, Copy)]
enum Target {
    /// Between rounds: notices are not timed.
    Nothing,
    /// The course, once its title is this round's.
    Title { course: Uuid, round: usize },
    /// An enrollment of this device's learner in the course.
    Enrollment { device: usize, course: Uuid },
}

/// One device's times in the current round, in microseconds after [`Shared::base`] (0: not yet).
#[derive(Debug, Default)]
struct Slot {
    notice: AtomicU64,
    row: AtomicU64,
    /// Pull signals received during the round.
    signals: AtomicU64,
}

/// What the devices and the conductor share.
struct Shared {
    url: String,
    http: reqwest::Client,
    base: Instant,
    target: RwLock<Target>,
    slots: Vec<Slot>,
    ready: AtomicUsize,
}

impl Shared {
    fn now(&self) -> u64 {
        self.base.elapsed().as_micros().max(1) as u64
    }

    fn target(&self) -> Target {
        *self
            .target
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn set_target(&self, target: Target) {
        *self
            .target
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = target;
    }

    fn reset_slots(&self) {
        for slot in &self.slots {
            slot.notice.store(0, Ordering::SeqCst);
            slot.row.store(0, Ordering::SeqCst);
            slot.signals.store(0, Ordering::SeqCst);
        }
    }
}

/// Whether `change` is what `target` waits for, as device `me` sees it.
fn is_awaited(target: Target, me: usize, change: &skilltrack_protocol::sync::RowChange) -> bool {
    let row = || change.row.as_ref().and_then(|r| r.to_value().ok());
    match target {
        Target::Nothing => false,
        Target::Title { course, round } => {
            change.table == SyncTable::Courses
                && change.id == course
                && row().is_some_and(|r| r["title"] == json!(title(round)))
        }
        Target::Enrollment { device, course } => {
            device == me
                && change.table == SyncTable::Enrollments
                && row().is_some_and(|r| r["course_id"] == json!(course))
        }
    }
}

/// The course's title after rename `round`.
fn title(round: usize) -> String {
    format!("Renamed by live-fanout ({round})")
}

/// Pulls after `cursor` until the feed has no more; returns the new cursor and whether the
/// pages held what the device waits for.
async fn pull_all(
    shared: &Shared,
    token: &str,
    mut cursor: String,
    me: usize,
) -> anyhow::Result<(String, bool)> {
    let target = shared.target();
    let mut found = false;
    loop {
        let page: PullPage = shared
            .http
            .get(format!("{}/api/v1/sync/pull", shared.url))
            .query(&[("limit", "500"), ("cursor", cursor.as_str())])
            .bearer_auth(token)
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?;
        found |= page.changes.iter().any(|c| is_awaited(target, me, c));
        cursor = page.cursor;
        if !page.has_more {
            return Ok((cursor, found));
        }
    }
}

/// One device after its first sync: on the live channel, pulling whenever told.
async fn device(
    shared: Arc<Shared>,
    me: usize,
    token: String,
    mut cursor: String,
    mut stop: tokio::sync::watch::Receiver<bool>,
) -> anyhow::Result<()> {
    let response = shared
        .http
        .get(format!("{}/api/v1/sync/live", shared.url))
        .bearer_auth(&token)
        .send()
        .await?
        .error_for_status()?;
    let mut events = response.bytes_stream();
    let mut buffer = String::new();
    let mut greeted = false;
    loop {
        let chunk = tokio::select! {
            _ = stop.wait_for(|s| *s) => return Ok(()),
            chunk = events.next() => chunk,
        };
        let Some(chunk) = chunk else {
            anyhow::bail!("device {me}: the server ended the live channel")
        };
        buffer.push_str(&String::from_utf8_lossy(&chunk?));
        while let Some(end) = buffer.find("\n\n") {
            let block: String = buffer.drain(..end + 2).collect();
            if !block.contains("event: pull") {
                continue;
            }
            let slot = &shared.slots[me];
            let after = block
                .lines()
                .find_map(|l| l.strip_prefix("data:"))
                .and_then(|data| serde_json::from_str::<LiveSignal>(data.trim()).ok())
                .and_then(|signal| signal.pull_after_ms);
            if greeted {
                let at = shared.now();
                slot.signals.fetch_add(1, Ordering::SeqCst);
                let _ = slot
                    .notice
                    .compare_exchange(0, at, Ordering::SeqCst, Ordering::SeqCst);
            }
            // As the app does: the server spreads a shared change's pulls.
            if let Some(ms) = after {
                tokio::time::sleep(Duration::from_millis(ms.into())).await;
            }
            let (next, found) = pull_all(&shared, &token, cursor, me).await?;
            cursor = next;
            if found {
                let at = shared.now();
                let _ = slot
                    .row
                    .compare_exchange(0, at, Ordering::SeqCst, Ordering::SeqCst);
            }
            if !greeted {
                greeted = true;
                shared.ready.fetch_add(1, Ordering::SeqCst);
            }
        }
    }
}

/// The server process's resident set, in KiB.
fn resident_kib(pid: u32) -> anyhow::Result<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .context("no VmRSS")
}

/// Waits until `done`, or `timeout`; whether it happened.
async fn until(timeout: Duration, done: impl Fn() -> bool) -> bool {
    let deadline = Instant::now() + timeout;
    while !done() {
        if Instant::now() > deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    true
}

/// Percentiles of a sample of microseconds, as a table's cells in milliseconds.
struct Spread {
    count: usize,
    sorted: Vec<Duration>,
}

impl Spread {
    fn of(micros: Vec<u64>) -> Self {
        let mut sorted: Vec<Duration> = micros.into_iter().map(Duration::from_micros).collect();
        sorted.sort_unstable();
        Self {
            count: sorted.len(),
            sorted,
        }
    }

    fn cells(&self) -> String {
        let ms = |p| percentile(&self.sorted, p).as_secs_f64() * 1000.0;
        format!(
            "{:.1} | {:.1} | {:.1} | {:.1}",
            ms(0.50),
            ms(0.95),
            ms(0.99),
            ms(1.0)
        )
    }
}

/// One round's times: after `start`, per device in `devices`.
fn collect(
    shared: &Shared,
    start: u64,
    devices: impl Iterator<Item = usize>,
) -> (Vec<u64>, Vec<u64>) {
    let (mut notices, mut rows) = (Vec::new(), Vec::new());
    for d in devices {
        let slot = &shared.slots[d];
        let (n, r) = (
            slot.notice.load(Ordering::SeqCst),
            slot.row.load(Ordering::SeqCst),
        );
        if n > 0 {
            notices.push(n.saturating_sub(start));
        }
        if r > 0 {
            rows.push(r.saturating_sub(start));
        }
    }
    (notices, rows)
}

fn raise_open_files_limit() -> anyhow::Result<()> {
    use nix::sys::resource::{Resource, getrlimit, setrlimit};
    let (_, hard) = getrlimit(Resource::RLIMIT_NOFILE)?;
    setrlimit(Resource::RLIMIT_NOFILE, hard, hard)?;
    Ok(())
}

#[allow(clippy::too_many_lines, reason = "the benchmark's script, in order")]
fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    // Two sockets per device here, and as many in the server (which inherits the limit).
    raise_open_files_limit()?;
    let server_bin = server_binary::resolve(args.server.as_deref())?;
    let data = skilltrack_tests::process::data_dir();
    eprintln!("seeding the demo data in {}", data.path().display());
    let seeded = std::process::Command::new(&server_bin)
        .arg("--data-dir")
        .arg(data.path())
        .arg("seed-demo")
        .env_remove("DATABASE_URL")
        .output()?;
    anyhow::ensure!(
        seeded.status.success(),
        "seed-demo failed: {}",
        String::from_utf8_lossy(&seeded.stderr)
    );
    let mut serve = std::process::Command::new(&server_bin);
    serve
        .arg("--data-dir")
        .arg(data.path())
        .args(["serve", "--listen", "127.0.0.1:0"])
        .args(["--auth-limit-per-ip", "1000000"])
        .env_remove("DATABASE_URL")
        .env("RUST_LOG", "warn,skilltrack_server=info");
    let server = ServerProcess::start_command(serve);
    let pid = server.child.id();
    let url = server.url.clone();
    eprintln!("server {pid} on {url}");

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        let http = reqwest::Client::builder()
            .pool_max_idle_per_host(args.devices * 2 + 16)
            .build()?;
        let shared = Arc::new(Shared {
            url: url.clone(),
            http: http.clone(),
            base: Instant::now(),
            target: RwLock::new(Target::Nothing),
            slots: (0..args.devices).map(|_| Slot::default()).collect(),
            ready: AtomicUsize::new(0),
        });

        // Learners, each with a first sync.
        let started = Instant::now();
        let prepared: Vec<(usize, String, String)> = futures_util::stream::iter(0..args.devices)
            .map(|n| {
                let shared = Arc::clone(&shared);
                async move {
                    let email = format!("device{n}@fanout.test");
                    let token =
                        sign_up(&shared.http, &shared.url, &email, "live-fanout-password").await?;
                    let (cursor, _) = pull_all(&shared, &token, "0".to_owned(), n).await?;
                    anyhow::Ok((n, token, cursor))
                }
            })
            .buffer_unordered(args.concurrency)
            .collect::<Vec<_>>()
            .await
            .into_iter()
            .collect::<anyhow::Result<_>>()?;
        eprintln!(
            "{} learners signed up and synced in {:.1} s",
            prepared.len(),
            started.elapsed().as_secs_f64()
        );
        tokio::time::sleep(Duration::from_secs(2)).await;
        let rss_synced = resident_kib(pid)?;

        // Every device on the live channel.
        let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
        let mut tasks = tokio::task::JoinSet::new();
        let mut tokens = vec![String::new(); args.devices];
        // A few at a time, as devices come online over a morning rather than in one instant:
        // what is measured is what an idle device costs, not what a burst of greetings left.
        let mut spawned = 0;
        for chunk in prepared.chunks(args.concurrency.max(1)) {
            for (n, token, cursor) in chunk {
                tokens[*n].clone_from(token);
                tasks.spawn(device(
                    Arc::clone(&shared),
                    *n,
                    token.clone(),
                    cursor.clone(),
                    stop_rx.clone(),
                ));
            }
            spawned += chunk.len();
            anyhow::ensure!(
                until(Duration::from_secs(60), || {
                    shared.ready.load(Ordering::SeqCst) == spawned
                })
                .await,
                "only {} of {spawned} devices got on the live channel",
                shared.ready.load(Ordering::SeqCst),
            );
        }
        tokio::time::sleep(Duration::from_secs(3)).await;
        let rss_live = resident_kib(pid)?;
        eprintln!(
            "{} devices live; server {rss_synced} KiB before, {rss_live} KiB now",
            args.devices
        );

        // The catalog change.
        let instructor = sign_in(
            &http,
            &url,
            "instructor@skilltrack.dev",
            "instructor-demo-pass",
        )
        .await?;
        let mine: Value = http
            .get(format!("{url}/api/v1/authoring/courses"))
            .bearer_auth(&instructor)
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?;
        let course: Uuid = mine["items"]
            .as_array()
            .and_then(|items| items.iter().find(|c| c["is_published"] == true))
            .and_then(|c| c["id"].as_str())
            .context("the demo instructor has no published course")?
            .parse()?;
        let timeout = Duration::from_secs(args.round_timeout_secs);
        let (mut rename_notices, mut rename_rows, mut rename_requests) =
            (Vec::new(), Vec::new(), Vec::new());
        let mut missed = 0;
        for round in 1..=args.renames {
            shared.reset_slots();
            shared.set_target(Target::Title { course, round });
            let start = shared.now();
            http.patch(format!("{url}/api/v1/authoring/courses/{course}"))
                .bearer_auth(&instructor)
                .json(&json!({ "title": title(round) }))
                .send()
                .await?
                .error_for_status()?;
            rename_requests.push(shared.now() - start);
            let all = until(timeout, || {
                shared
                    .slots
                    .iter()
                    .all(|s| s.row.load(Ordering::SeqCst) > 0)
            })
            .await;
            let (notices, rows) = collect(&shared, start, 0..args.devices);
            if !all {
                missed += args.devices - rows.len();
            }
            eprintln!(
                "rename {round}: {} notices, {} devices have the new title",
                notices.len(),
                rows.len()
            );
            rename_notices.extend(notices);
            rename_rows.extend(rows);
            shared.set_target(Target::Nothing);
            // Past the live channel's debounce, so the next round's notice is not held back.
            tokio::time::sleep(Duration::from_millis(600)).await;
        }

        // Changes only one learner may see.
        let catalog: Value = http
            .get(format!("{url}/api/v1/courses?limit=100"))
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?;
        let candidates: Vec<Uuid> = catalog["items"]
            .as_array()
            .context("no catalog")?
            .iter()
            .filter(|c| c["price"] == "0" || c["price"] == "0.00" || c["price"] == 0)
            .filter_map(|c| c["id"].as_str()?.parse().ok())
            .collect();
        let (mut personal_notices, mut personal_rows, mut others_told) =
            (Vec::new(), Vec::new(), 0u64);
        let mut free_course = None;
        let step = (args.devices / args.personal.max(1)).max(1);
        for k in 0..args.personal.min(args.devices) {
            let who = k * step;
            shared.reset_slots();
            // Found with the first learner: a free course anyone may enroll in.
            let courses: Vec<Uuid> = free_course.map_or_else(|| candidates.clone(), |c| vec![c]);
            let mut enrolled = None;
            let mut start = 0;
            for candidate in courses {
                shared.set_target(Target::Enrollment {
                    device: who,
                    course: candidate,
                });
                start = shared.now();
                let answer = http
                    .post(format!("{url}/api/v1/courses/{candidate}/enrollment"))
                    .bearer_auth(&tokens[who])
                    .send()
                    .await?;
                if answer.status().is_success() {
                    enrolled = Some(candidate);
                    break;
                }
            }
            let course = enrolled.context("no free course to enroll in")?;
            free_course = Some(course);
            let slot = &shared.slots[who];
            until(timeout, || slot.row.load(Ordering::SeqCst) > 0).await;
            // Anyone else told would be told by now.
            tokio::time::sleep(Duration::from_millis(300)).await;
            let (notices, rows) = collect(&shared, start, std::iter::once(who));
            personal_notices.extend(notices);
            personal_rows.extend(rows);
            others_told += shared
                .slots
                .iter()
                .enumerate()
                .filter(|(d, s)| *d != who && s.signals.load(Ordering::SeqCst) > 0)
                .count() as u64;
            shared.set_target(Target::Nothing);
            tokio::time::sleep(Duration::from_millis(300)).await;
        }

        stop_tx.send_replace(true);
        while let Some(done) = tasks.join_next().await {
            done??;
        }

        let devices = args.devices;
        let per_device = (rss_live.saturating_sub(rss_synced)) as f64 / devices as f64;
        let requests = Spread::of(rename_requests);
        let (rn, rr) = (Spread::of(rename_notices), Spread::of(rename_rows));
        let (pn, pr) = (Spread::of(personal_notices), Spread::of(personal_rows));
        println!("| measure | samples | p50 ms | p95 ms | p99 ms | max ms |");
        println!("|---|---|---|---|---|---|");
        println!(
            "| rename: the instructor's request answered | {} | {} |",
            requests.count,
            requests.cells()
        );
        println!(
            "| rename: notice on the device | {} | {} |",
            rn.count,
            rn.cells()
        );
        println!(
            "| rename: the device's pull has the new title | {} | {} |",
            rr.count,
            rr.cells()
        );
        println!(
            "| enrollment: notice on the learner's device | {} | {} |",
            pn.count,
            pn.cells()
        );
        println!(
            "| enrollment: the device's pull has the row | {} | {} |",
            pr.count,
            pr.cells()
        );
        println!();
        println!(
            "{devices} devices, {} renames ({missed} device-rounds without the title after {} s), \
             {} enrollments; other devices told of an enrollment: {others_told}.",
            args.renames, args.round_timeout_secs, args.personal
        );
        println!(
            "Server resident memory: {rss_synced} KiB after the first syncs, {rss_live} KiB with \
             every device idle on the live channel: {per_device:.1} KiB per idle live device."
        );
        anyhow::Ok(())
    })?;
    drop(server);
    Ok(())
}
