//! `desktop-bench`: the desktop app's cold start to an interactive catalog, and its memory (PSS
//! summed over the app and its `WebKit` processes), with a large catalog in its cache (by default
//! 10,000 courses), beside an empty Tauri window (`bench/empty-window`) measured in the same run
//! under the same Xvfb. Prints a Markdown table for docs/benchmarks.md.
//!
//! Each is launched two ways: the empty window as Tauri makes it and told not to composite
//! with the GPU; the app as it chooses on this machine and with GPU compositing forced on (see
//! [`variants`]). All are timed from `spawn` to the line each logs once its page is painted and
//! answering (the app: `catalog interactive`, after its catalog screen rendered cards from the
//! cache; the empty window: `window painted`). Each run launches all four in turn, so a slow
//! moment of the machine hits them alike.
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

use std::fmt::Write as _;
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
    let variants = variants(&app, &empty, &stack.url, data.path(), &display);
    let mut runs: Vec<Vec<Launch>> = vec![Vec::new(); variants.len()];
    for run in 1..=args.runs {
        let settle = Duration::from_secs(args.settle_seconds);
        let mut line = format!("run {run}:");
        for (variant, launches) in variants.iter().zip(&mut runs) {
            let l =
                launch(&mut variant.command(), variant.marker, settle).context(variant.label)?;
            let _ = write!(
                line,
                " {} {:.0} ms {:.0} MiB;",
                variant.short,
                l.ready_ms,
                mib(l.pss_kib)
            );
            launches.push(l);
        }
        eprintln!("{line}");
    }
    stop(xvfb);
    print_table(&args, rows, cache_bytes, &variants, &runs);
    drop(stack);
    Ok(())
}

/// One program launched the same way each run.
struct Variant {
    label: &'static str,
    short: &'static str,
    program: PathBuf,
    env: Vec<(&'static str, String)>,
    marker: &'static str,
}

impl Variant {
    fn command(&self) -> Command {
        let mut command = Command::new(&self.program);
        command.envs(self.env.iter().map(|(k, v)| (k, v)));
        command
    }
}

/// The empty window and the app, each as it paints on this machine by default and the other
/// way: the app composites with the GPU only where there is one (`SKILLTRACK_GPU`,
/// `src-tauri/src/rendering.rs`); an empty Tauri window always does, unless `WebKit` is told
/// not to (`WEBKIT_DISABLE_COMPOSITING_MODE`, what the app's `Never` policy amounts to).
fn variants(app: &Path, empty: &Path, url: &str, data: &Path, display: &str) -> Vec<Variant> {
    let app_env = |gpu: &str| {
        vec![
            ("DISPLAY", display.to_owned()),
            ("SKILLTRACK_SERVER", url.to_owned()),
            ("SKILLTRACK_DATA_DIR", data.display().to_string()),
            ("SKILLTRACK_TOKEN_STORE", "file".to_owned()),
            ("SKILLTRACK_GPU", gpu.to_owned()),
            ("RUST_LOG", "info".to_owned()),
        ]
    };
    vec![
        Variant {
            label: "empty Tauri window (painted), Tauri's defaults",
            short: "empty",
            program: empty.to_owned(),
            env: vec![("DISPLAY", display.to_owned())],
            marker: "window painted",
        },
        Variant {
            label: "empty Tauri window, GPU compositing off",
            short: "empty/cpu",
            program: empty.to_owned(),
            env: vec![
                ("DISPLAY", display.to_owned()),
                ("WEBKIT_DISABLE_COMPOSITING_MODE", "1".to_owned()),
            ],
            marker: "window painted",
        },
        Variant {
            label: "Skilltrack (catalog interactive), as it runs here",
            short: "app",
            program: app.to_owned(),
            env: app_env("auto"),
            marker: "catalog interactive",
        },
        Variant {
            label: "Skilltrack, GPU compositing forced on",
            short: "app/gpu",
            program: app.to_owned(),
            env: app_env("on"),
            marker: "catalog interactive",
        },
    ]
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

fn print_table(
    args: &Args,
    rows: usize,
    cache_bytes: u64,
    variants: &[Variant],
    runs: &[Vec<Launch>],
) {
    let start = |runs: &[Launch]| median(runs.iter().map(|l| l.ready_ms).collect());
    let best = |runs: &[Launch]| {
        runs.iter()
            .map(|l| l.ready_ms)
            .fold(f64::INFINITY, f64::min)
    };
    let pss = |runs: &[Launch]| median(runs.iter().map(|l| mib(l.pss_kib)).collect());
    println!(
        "Cache: {} courses ({rows} rows synced, {:.1} MiB); {} launches each, in turn; \
         memory read {} s after ready.\n",
        args.courses,
        cache_bytes as f64 / 1_048_576.0,
        args.runs,
        args.settle_seconds
    );
    println!(
        "| | start to ready, median | best | PSS (app + WebKit), median | ÷ empty window: start / PSS |"
    );
    println!("|---|---:|---:|---:|---:|");
    let baseline = &runs[0];
    for (variant, launches) in variants.iter().zip(runs) {
        println!(
            "| {} | {:.0} ms | {:.0} ms | {:.0} MiB | {:.2}× / {:.2}× |",
            variant.label,
            start(launches),
            best(launches),
            pss(launches),
            start(launches) / start(baseline),
            pss(launches) / pss(baseline)
        );
    }
}
