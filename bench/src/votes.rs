//! `vote-storm`: one learner flips a helpful vote in a loop while many devices hold the live
//! channel open and pull whenever they are told to (issue 14, finding 9). Measures what the
//! loop costs everyone else: pull signals per device, pulls per second across the devices, and
//! the votes the server took or refused. Run it on two builds to compare them. Prints a
//! Markdown table for docs/benchmarks.md.
//!
//!     cargo run --release -p skilltrack-bench --bin vote-storm -- --help

#![forbid(unsafe_code)]
#![allow(
    clippy::print_stdout,
    reason = "the table on stdout is this program's output"
)]
#![allow(clippy::cast_precision_loss, reason = "counts of at most millions")]

mod accounts;
mod stack;

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context as _;
use clap::Parser;
use futures_util::StreamExt as _;
use serde_json::Value;

use crate::accounts::sign_up;
use crate::stack::{Stack, StackOptions};

/// Every learner's password here.
const PASSWORD: &str = "vote-storm-password";

/// Flips a helpful vote in a loop beside many live devices.
#[derive(Debug, Parser)]
#[command(version)]
struct Args {
    /// Devices holding the live channel open (each its own learner).
    #[arg(long, default_value_t = 200)]
    devices: usize,
    /// Seconds the vote loop runs.
    #[arg(long, default_value_t = 20)]
    seconds: u64,
    /// Connections in the server's API pool.
    #[arg(long, default_value_t = 16)]
    pool: u32,
    /// Worker threads of the server's runtime.
    #[arg(long, default_value_t = 2)]
    server_threads: usize,
    /// Directory for PostgreSQL's binaries (default: searched).
    #[arg(long)]
    pg_bin_dir: Option<PathBuf>,
}

/// What the devices did.
#[derive(Debug, Default)]
struct Counts {
    signals: AtomicU64,
    pulls: AtomicU64,
    rows: AtomicU64,
}

/// Pulls after `cursor` until the feed has no more; returns the new cursor.
async fn pull_all(
    http: &reqwest::Client,
    url: &str,
    token: &str,
    mut cursor: String,
    counts: &Counts,
) -> anyhow::Result<String> {
    loop {
        let page: Value = http
            .get(format!("{url}/api/v1/sync/pull?limit=5000&cursor={cursor}"))
            .bearer_auth(token)
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?;
        counts.pulls.fetch_add(1, Ordering::Relaxed);
        counts.rows.fetch_add(
            page["changes"].as_array().map_or(0, Vec::len) as u64,
            Ordering::Relaxed,
        );
        page["cursor"]
            .as_str()
            .context("no cursor")?
            .clone_into(&mut cursor);
        if page["has_more"] != true {
            return Ok(cursor);
        }
    }
}

/// One device: a first sync, then the live channel, pulling whenever told, until `stop`.
async fn device(
    http: reqwest::Client,
    url: String,
    token: String,
    counts: Arc<Counts>,
    ready: tokio::sync::mpsc::Sender<()>,
    stop: tokio::sync::watch::Receiver<bool>,
) -> anyhow::Result<()> {
    let snapshot = Counts::default();
    let mut cursor = pull_all(&http, &url, &token, "0".to_owned(), &snapshot).await?;
    let response = http
        .get(format!("{url}/api/v1/sync/live"))
        .bearer_auth(&token)
        .send()
        .await?
        .error_for_status()?;
    let mut events = response.bytes_stream();
    let mut buffer = String::new();
    let mut greeted = false;
    let mut stop = stop;
    loop {
        let chunk = tokio::select! {
            _ = stop.wait_for(|s| *s) => return Ok(()),
            chunk = events.next() => chunk,
        };
        let Some(chunk) = chunk else { return Ok(()) };
        buffer.push_str(&String::from_utf8_lossy(&chunk?));
        while let Some(end) = buffer.find("\n\n") {
            let block: String = buffer.drain(..end + 2).collect();
            if !block.contains("event: pull") {
                continue;
            }
            if greeted {
                counts.signals.fetch_add(1, Ordering::Relaxed);
                cursor = pull_all(&http, &url, &token, cursor, &counts).await?;
            } else {
                greeted = true;
                let _ = ready.send(()).await;
            }
        }
    }
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let stack = Stack::start(&StackOptions {
        pg_bin_dir: args.pg_bin_dir.clone(),
        pool: args.pool,
        server_threads: args.server_threads,
        labs: false,
    })?;
    let url = stack.url.clone();
    let client = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let review: uuid::Uuid = stack.runtime.block_on(async {
        sqlx::query_scalar(
            "SELECT r.id FROM course_reviews r JOIN courses c ON c.id = r.course_id
             WHERE c.is_published ORDER BY r.id LIMIT 1",
        )
        .fetch_one(stack.db.owner())
        .await
    })?;
    let report = client.block_on(async {
        let http = reqwest::Client::builder()
            .pool_max_idle_per_host(args.devices + 8)
            .build()?;
        let counts = Arc::new(Counts::default());
        let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
        let (ready_tx, mut ready_rx) = tokio::sync::mpsc::channel(args.devices);
        let mut tasks = Vec::new();
        for n in 0..args.devices {
            let email = format!("device{n}@vote-storm.test");
            let token = sign_up(&http, &url, &email, PASSWORD).await?;
            tasks.push(tokio::spawn(device(
                http.clone(),
                url.clone(),
                token,
                Arc::clone(&counts),
                ready_tx.clone(),
                stop_rx.clone(),
            )));
        }
        for _ in 0..args.devices {
            ready_rx
                .recv()
                .await
                .context("a device never got on the live channel")?;
        }
        let voter = sign_up(&http, &url, "voter@vote-storm.test", PASSWORD).await?;
        let vote = format!("{url}/api/v1/reviews/courses/{review}/vote");
        let (mut taken, mut refused, mut flips) = (0u64, 0u64, 0u64);
        let started = Instant::now();
        let until = started + Duration::from_secs(args.seconds);
        while Instant::now() < until {
            let request = if flips % 2 == 0 {
                http.put(&vote)
            } else {
                http.delete(&vote)
            };
            let status = request.bearer_auth(&voter).send().await?.status();
            flips += 1;
            if status.is_success() {
                taken += 1;
            } else if status.as_u16() == 429 {
                refused += 1;
            } else {
                anyhow::bail!("a vote answered {status}");
            }
        }
        // Let the last signals land, then count.
        tokio::time::sleep(Duration::from_secs(1)).await;
        let elapsed = started.elapsed().as_secs_f64();
        stop_tx.send_replace(true);
        for task in tasks {
            task.await??;
        }
        anyhow::Ok((counts, taken, refused, elapsed))
    })?;
    let (counts, taken, refused, elapsed) = report;
    let signals = counts.signals.load(Ordering::Relaxed);
    let pulls = counts.pulls.load(Ordering::Relaxed);
    println!(
        "| devices | vote requests | votes taken | refused (429) | signals per device | pulls | pulls/s | rows pulled |"
    );
    println!("|---|---|---|---|---|---|---|---|");
    println!(
        "| {} | {} | {taken} | {refused} | {:.1} | {pulls} | {:.0} | {} |",
        args.devices,
        taken + refused,
        signals as f64 / args.devices as f64,
        pulls as f64 / elapsed,
        counts.rows.load(Ordering::Relaxed),
    );
    Ok(())
}
