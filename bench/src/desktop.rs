//! `desktop-bench`: the desktop app's cold start to an interactive catalog, and its memory (PSS
//! summed over the app and its `WebKit` processes), with a large catalog in its cache (by default
//! 10,000 courses), beside an empty Tauri window (`bench/empty-window`) measured in the same run
//! under the same Xvfb. Prints a Markdown table for docs/benchmarks.md.
//!
//! Both programs are timed from `spawn` to the line each logs once its page is painted and
//! answering (the app: `catalog interactive`, after its catalog screen rendered cards from the
//! cache; the empty window: `window painted`). Runs alternate between the two, so a slow moment
//! of the machine hits both.
//!
//!     cargo build --release -p skilltrack-bench -p skilltrack-desktop -p skilltrack-empty-window
//!     target/release/desktop-bench --help

#![forbid(unsafe_code)]
#![allow(
    clippy::print_stdout,
    reason = "the table on stdout is this program's output"
)]
#![allow(clippy::cast_precision_loss, reason = "milliseconds and mebibytes")]

mod stack;

use std::io::{BufRead as _, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use clap::Parser;
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use skilltrack_client::tokens::StoreKind;

use crate::stack::{Stack, StackOptions};

/// Measures the desktop app's start and memory beside an empty Tauri window.
#[derive(Debug, Parser)]
#[command(version)]
struct Args {
    /// Generated courses in the app's cache (published, 2 modules × 5 lessons each).
    #[arg(long, default_value_t = 10_000)]
    courses: u32,
    /// Launches of each program.
    #[arg(long, default_value_t = 5)]
    runs: usize,
    /// Seconds to wait after the page is ready before reading memory.
    #[arg(long, default_value_t = 3)]
    settle_seconds: u64,
    /// The app (default: `skilltrack-desktop` beside this program).
    #[arg(long)]
    app: Option<PathBuf>,
    /// The empty window (default: `empty-window` beside this program).
    #[arg(long)]
    empty_window: Option<PathBuf>,
    /// Directory for PostgreSQL's binaries (default: searched).
    #[arg(long)]
    pg_bin_dir: Option<PathBuf>,
}

/// One launch: milliseconds to ready, and PSS in KiB once settled.
#[derive(Debug, Clone, Copy)]
struct Launch {
    ready_ms: f64,
    pss_kib: u64,
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let beside = |name: &str| -> anyhow::Result<PathBuf> {
        let exe = std::env::current_exe()?;
        Ok(exe.with_file_name(name))
    };
    let app = match &args.app {
        Some(p) => p.clone(),
        None => beside("skilltrack-desktop")?,
    };
    let empty = match &args.empty_window {
        Some(p) => p.clone(),
        None => beside("empty-window")?,
    };
    for program in [&app, &empty] {
        if !program.exists() {
            bail!(
                "{} is missing: build it first (cargo build --release -p skilltrack-desktop \
                 -p skilltrack-empty-window)",
                program.display()
            );
        }
    }

    let started = Instant::now();
    let stack = Stack::start(&StackOptions {
        pg_bin_dir: args.pg_bin_dir.clone(),
        pool: 8,
        server_threads: 2,
        labs: false,
    })?;
    stack.runtime.block_on(generate(&stack, args.courses))?;
    let data = tempfile::Builder::new()
        .prefix("skilltrack-desktop-bench-")
        .tempdir_in("/tmp")?;
    let (rows, cache_bytes) = stack
        .runtime
        .block_on(fill_cache(&stack.url, data.path()))?;
    eprintln!(
        "generated {} courses and synced {rows} rows ({:.1} MiB of cache) in {:.1} s",
        args.courses,
        cache_bytes as f64 / 1_048_576.0,
        started.elapsed().as_secs_f64()
    );

    let (xvfb, display) = start_xvfb()?;
    let mut app_runs = Vec::new();
    let mut empty_runs = Vec::new();
    for run in 1..=args.runs {
        let settle = Duration::from_secs(args.settle_seconds);
        let e = launch(
            Command::new(&empty).env("DISPLAY", &display),
            "window painted",
            settle,
        )
        .context("the empty window")?;
        let a = launch(
            Command::new(&app)
                .env("DISPLAY", &display)
                .env("SKILLTRACK_SERVER", &stack.url)
                .env("SKILLTRACK_DATA_DIR", data.path())
                .env("SKILLTRACK_TOKEN_STORE", "file")
                .env("RUST_LOG", "info"),
            "catalog interactive",
            settle,
        )
        .context("the app")?;
        eprintln!(
            "run {run}: empty window {:.0} ms {:.0} MiB; app {:.0} ms {:.0} MiB",
            e.ready_ms,
            mib(e.pss_kib),
            a.ready_ms,
            mib(a.pss_kib)
        );
        empty_runs.push(e);
        app_runs.push(a);
    }
    stop(xvfb);
    print_table(&args, rows, cache_bytes, &app_runs, &empty_runs);
    drop(stack);
    Ok(())
}

/// The generated catalog, written as the owner (the change log is not needed: a first sync
/// reads the tables).
async fn generate(stack: &Stack, courses: u32) -> anyhow::Result<()> {
    let mut tx = stack.db.owner().begin().await?;
    sqlx::query("SET LOCAL session_replication_role = replica")
        .execute(&mut *tx)
        .await?;
    stack::generate_catalog(&mut tx, courses, 2, 5).await?;
    tx.commit().await?;
    sqlx::query("ANALYZE").execute(stack.db.owner()).await?;
    Ok(())
}

/// Signs the demo learner in where the app keeps its data and syncs everything, as a first
/// launch would have: the measured launches then start from a full cache.
async fn fill_cache(url: &str, data_root: &Path) -> anyhow::Result<(usize, u64)> {
    let dir = skilltrack_client::device::server_data_dir(data_root, url);
    let engine = skilltrack_client::device::open(url, &dir, &StoreKind::File)
        .map_err(|e| anyhow::anyhow!(e.explain()))?;
    engine
        .sign_in("learner@skilltrack.dev", "learner-demo-pass")
        .await
        .map_err(|e| anyhow::anyhow!(e.explain()))?;
    let report = engine
        .sync_once()
        .await
        .map_err(|e| anyhow::anyhow!(e.explain()))?;
    drop(engine);
    let bytes = std::fs::read_dir(&dir)?
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with("cache.sqlite3"))
        .filter_map(|e| e.metadata().ok())
        .map(|m| m.len())
        .sum();
    Ok((report.pulled, bytes))
}

/// Starts `command`, waits for `marker` on its stderr, lets it settle, reads its memory, and
/// stops it.
fn launch(command: &mut Command, marker: &'static str, settle: Duration) -> anyhow::Result<Launch> {
    let started = Instant::now();
    let mut child = command
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()?;
    let stderr = child.stderr.take().context("stderr")?;
    let (ready_tx, ready_rx) = mpsc::channel();
    // Reads stderr to its end (a full pipe would stall the program), noting the marker's time.
    let reader = std::thread::spawn(move || {
        let mut last = Vec::new();
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if line.contains(marker) {
                let _ = ready_tx.send(started.elapsed());
            }
            last.push(line);
            if last.len() > 20 {
                last.remove(0);
            }
        }
        last
    });
    let Ok(ready) = ready_rx.recv_timeout(Duration::from_secs(60)) else {
        stop(child);
        let tail = reader.join().unwrap_or_default().join("\n");
        bail!("never said `{marker}` within 60 s; its last words:\n{tail}");
    };
    std::thread::sleep(settle);
    let processes = pss_of_tree(child.id());
    let pss_kib = processes.iter().map(|(_, kib)| kib).sum();
    let parts: Vec<String> = processes
        .iter()
        .map(|(name, kib)| format!("{name} {:.0} MiB", mib(*kib)))
        .collect();
    eprintln!("  {marker}: {}", parts.join(", "));
    stop(child);
    let _ = reader.join();
    Ok(Launch {
        ready_ms: ready.as_secs_f64() * 1000.0,
        pss_kib,
    })
}

/// PSS of a process and each of its descendants, in KiB (`/proc/<pid>/smaps_rollup`), with
/// their names.
fn pss_of_tree(root: u32) -> Vec<(String, u64)> {
    let mut parents = Vec::new();
    for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else {
            continue;
        };
        // The fields after the command name, which is in parentheses and may hold spaces.
        let parent = stat
            .rsplit_once(')')
            .and_then(|(_, rest)| rest.split_whitespace().nth(1))
            .and_then(|p| p.parse::<u32>().ok());
        if let Some(parent) = parent {
            parents.push((pid, parent));
        }
    }
    let mut tree = vec![root];
    let mut i = 0;
    while i < tree.len() {
        let parent = tree[i];
        tree.extend(
            parents
                .iter()
                .filter(|(_, p)| *p == parent)
                .map(|(c, _)| *c),
        );
        i += 1;
    }
    tree.iter()
        .filter_map(|pid| {
            let rollup = std::fs::read_to_string(format!("/proc/{pid}/smaps_rollup")).ok()?;
            let kib = rollup
                .lines()
                .find(|l| l.starts_with("Pss:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kib| kib.parse::<u64>().ok())?;
            let name = std::fs::read_to_string(format!("/proc/{pid}/comm")).unwrap_or_default();
            Some((name.trim().to_owned(), kib))
        })
        .collect()
}

/// SIGTERM, then SIGKILL after 10 s; reaped.
fn stop(mut child: Child) {
    if let Ok(pid) = i32::try_from(child.id()) {
        let _ = kill(Pid::from_raw(pid), Signal::SIGTERM);
    }
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        if matches!(child.try_wait(), Ok(Some(_))) {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = child.kill();
    let _ = child.wait();
}

fn start_xvfb() -> anyhow::Result<(Child, String)> {
    let n = (120..250)
        .find(|n| {
            !Path::new(&format!("/tmp/.X11-unix/X{n}")).exists()
                && !Path::new(&format!("/tmp/.X{n}-lock")).exists()
        })
        .context("no free X display number")?;
    let child = Command::new("Xvfb")
        .arg(format!(":{n}"))
        .args(["-screen", "0", "1280x900x24", "-nolisten", "tcp"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .context("starting Xvfb (Debian package xvfb)")?;
    let socket = format!("/tmp/.X11-unix/X{n}");
    let deadline = Instant::now() + Duration::from_secs(20);
    while !Path::new(&socket).exists() {
        if Instant::now() > deadline {
            bail!("Xvfb never opened display :{n}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    Ok((child, format!(":{n}")))
}

fn mib(kib: u64) -> f64 {
    kib as f64 / 1024.0
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

fn print_table(args: &Args, rows: usize, cache_bytes: u64, app: &[Launch], empty: &[Launch]) {
    let start = |runs: &[Launch]| median(runs.iter().map(|l| l.ready_ms).collect());
    let best = |runs: &[Launch]| {
        runs.iter()
            .map(|l| l.ready_ms)
            .fold(f64::INFINITY, f64::min)
    };
    let pss = |runs: &[Launch]| median(runs.iter().map(|l| mib(l.pss_kib)).collect());
    println!(
        "Cache: {} courses ({rows} rows synced, {:.1} MiB); {} launches each, alternating; \
         memory read {} s after ready.\n",
        args.courses,
        cache_bytes as f64 / 1_048_576.0,
        args.runs,
        args.settle_seconds
    );
    println!("| | start to ready, median | best | PSS (app + WebKit), median |");
    println!("|---|---:|---:|---:|");
    println!(
        "| empty Tauri window (painted) | {:.0} ms | {:.0} ms | {:.0} MiB |",
        start(empty),
        best(empty),
        pss(empty)
    );
    println!(
        "| Skilltrack (catalog interactive) | {:.0} ms | {:.0} ms | {:.0} MiB |",
        start(app),
        best(app),
        pss(app)
    );
    println!(
        "| app ÷ empty window | {:.2}× | | {:.2}× |",
        start(app) / start(empty),
        pss(app) / pss(empty)
    );
}
