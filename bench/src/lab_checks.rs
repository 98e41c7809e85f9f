//! `lab-check-bench`: labs in steps — a learner's check of a trivial verify script (request →
//! result, through the server and a fresh sandbox of the learner's environment), beside a
//! files-API listing of the same workspace in the same run (the same sandbox spawn, no
//! script); and an author's self-test of a 5-step lab. The server runs in this process (its own
//! runtime) over an embedded PostgreSQL with the demo data. Needs bubblewrap and, as root, the
//! `skilltrack-lab` user (`scripts/lib.sh` makes both).
//!
//!     cargo run --release -p skilltrack-bench --bin lab-check-bench -- --help

#![forbid(unsafe_code)]
#![allow(
    clippy::print_stdout,
    reason = "the figures on stdout are this program's output"
)]

mod stack;
mod stats;

use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use clap::Parser;
use serde_json::{Value, json};

use crate::stack::{Stack, StackOptions, call};
use crate::stats::percentile;

/// Measures checks and self-tests.
#[derive(Debug, Parser)]
#[command(version)]
struct Args {
    /// Checks timed.
    #[arg(long, default_value_t = 100)]
    checks: usize,
    /// Self-tests of the 5-step lab timed.
    #[arg(long, default_value_t = 5)]
    self_tests: usize,
    /// Worker threads of the server's runtime.
    #[arg(long, default_value_t = 2)]
    server_threads: usize,
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

async fn token(
    http: &reqwest::Client,
    url: &str,
    path: &str,
    body: Value,
) -> anyhow::Result<String> {
    let res: Value = http
        .post(format!("{url}{path}"))
        .json(&body)
        .send()
        .await?
        .json()
        .await?;
    res["access_token"]
        .as_str()
        .map(str::to_owned)
        .with_context(|| format!("no token from {path}: {res}"))
}

/// A step that makes `~/stepN` and checks it.
fn step(n: usize) -> Value {
    json!({
        "title": format!("Step {n}"),
        "body": format!("Make `~/step{n}`."),
        "setup": format!("mkdir -p ~/setup{n}"),
        "verify": format!("test -f ~/step{n} || {{ echo 'no ~/step{n}'; exit 1; }}"),
        "solve": format!("touch ~/step{n}")
    })
}

struct Figures {
    checks: Vec<Duration>,
    listings: Vec<Duration>,
    self_tests: Vec<Duration>,
    self_test_server_ms: Vec<u64>,
}

async fn measure(url: &str, args: &Args, lab: uuid::Uuid) -> anyhow::Result<Figures> {
    let http = reqwest::Client::new();
    let author = token(
        &http,
        url,
        "/api/v1/auth/sign-in",
        json!({"email": "instructor@skilltrack.dev", "password": "instructor-demo-pass"}),
    )
    .await?;
    let learner = token(
        &http,
        url,
        "/api/v1/auth/sign-up",
        json!({"email": "checker@example.com", "password": "bench-password-1", "full_name": "Checker"}),
    )
    .await?;
    let steps: Vec<Value> = (1..=5).map(step).collect();
    let saved = call(
        &http,
        reqwest::Method::PUT,
        &format!("{url}/api/v1/authoring/labs/{lab}/steps"),
        &author,
        Some(json!({"steps": steps})),
    )
    .await?;
    let first = saved["steps"][0]["step"]["id"].clone();

    // Self-tests of the 5-step lab: 20 scripts each, in a fresh sandbox.
    let mut self_tests = Vec::new();
    let mut self_test_server_ms = Vec::new();
    for _ in 0..args.self_tests {
        let t = Instant::now();
        let report = call(
            &http,
            reqwest::Method::POST,
            &format!("{url}/api/v1/authoring/lab-self-tests"),
            &author,
            Some(json!({"lab_id": lab})),
        )
        .await?;
        self_tests.push(t.elapsed());
        if report["ok"] != true {
            bail!("the bench lab failed its self-test: {report}");
        }
        self_test_server_ms.push(report["duration_ms"].as_u64().unwrap_or(0));
    }
    self_tests.sort();

    // A learner's checks of step 1 (trivial: `test -f`), beside listings of the workspace.
    let session = call(
        &http,
        reqwest::Method::POST,
        &format!("{url}/api/v1/labs/{lab}/sessions"),
        &learner,
        Some(json!({})),
    )
    .await?;
    let id = session["id"].as_str().context("session id")?.to_owned();
    let check_url = format!("{url}/api/v1/lab-sessions/{id}/check");
    let list_url = format!("{url}/api/v1/lab-sessions/{id}/files?path=");
    let mut checks = Vec::new();
    let mut listings = Vec::new();
    for _ in 0..args.checks {
        let t = Instant::now();
        let result = call(
            &http,
            reqwest::Method::POST,
            &check_url,
            &learner,
            Some(json!({"step_id": first})),
        )
        .await?;
        checks.push(t.elapsed());
        if result["outcome"] != "failed" {
            bail!("the check should fail (nothing done): {result}");
        }
        let t = Instant::now();
        call(&http, reqwest::Method::GET, &list_url, &learner, None).await?;
        listings.push(t.elapsed());
    }
    checks.sort();
    listings.sort();
    call(
        &http,
        reqwest::Method::POST,
        &format!("{url}/api/v1/lab-sessions/{id}/stop"),
        &learner,
        None,
    )
    .await?;
    Ok(Figures {
        checks,
        listings,
        self_tests,
        self_test_server_ms,
    })
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let stack = Stack::start(&StackOptions {
        pg_bin_dir: None,
        pool: 16,
        server_threads: args.server_threads,
        labs: true,
    })?;
    let url = stack.url.clone();
    let lab: uuid::Uuid = stack.runtime.block_on(async {
        sqlx::query_scalar(
            "INSERT INTO labs (slug, title, description, difficulty, duration, provider,
               environment_template, instructor_id, is_published, is_free)
             SELECT 'bench-steps', 'Five steps', 'A lab in steps.', 'Beginner', '5 min',
               'local', 'shell-basic', id, true, true
               FROM profiles WHERE email = 'instructor@skilltrack.dev'
             RETURNING id",
        )
        .fetch_one(stack.db.owner())
        .await
    })?;
    let client_rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()?;
    let f = client_rt.block_on(measure(&url, &args, lab))?;

    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .map(|l| l.split(':').nth(1).unwrap_or("").trim().to_owned())
        })
        .unwrap_or_default();
    let cores = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
    println!(
        "Machine: {cores} cores ({cpu}), server runtime {} threads",
        args.server_threads
    );
    println!();
    println!("| figure | measured | comparison (same run) | target |");
    println!("|---|---|---|---|");
    println!(
        "| check round trip, trivial verify, p50 ({} checks) | {} | files-API listing of the same workspace: {} | |",
        args.checks,
        ms(percentile(&f.checks, 0.5)),
        ms(percentile(&f.listings, 0.5))
    );
    println!(
        "| check round trip, p95 | {} | listing p95: {} | ≤ 300 ms |",
        ms(percentile(&f.checks, 0.95)),
        ms(percentile(&f.listings, 0.95))
    );
    let mut server_ms = f.self_test_server_ms.clone();
    server_ms.sort_unstable();
    println!(
        "| self-test of a 5-step lab (20 scripts), median of {} | {} | the server's own count: {} ms | ≤ 15 s |",
        args.self_tests,
        ms(percentile(&f.self_tests, 0.5)),
        server_ms.get(server_ms.len() / 2).copied().unwrap_or(0)
    );
    println!(
        "| self-test of a 5-step lab, slowest | {} | | |",
        ms(f.self_tests.last().copied().unwrap_or_default())
    );
    drop(stack);
    Ok(())
}
