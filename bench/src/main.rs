//! `api-load`: the course-detail GET and the progress PUT at N concurrent connections against
//! the real server (in this process, on its own runtime) and its embedded PostgreSQL, and,
//! in the same run, pgbench executing the same SQL under the same RLS role. Prints one
//! Markdown table for docs/benchmarks.md.
//!
//!     cargo run --release -p skilltrack-bench -- --help

#![forbid(unsafe_code)]
#![allow(
    clippy::print_stdout,
    reason = "the table on stdout is this program's output"
)]

mod load;
mod pgbench;
mod stack;

use std::path::PathBuf;
use std::time::Duration;

use clap::Parser;

use crate::stack::{Stack, StackOptions};

/// Load-tests the course-detail GET and the progress PUT, beside pgbench on the same SQL.
#[derive(Debug, Parser)]
#[command(version)]
struct Args {
    /// Concurrent connections.
    #[arg(long, default_value_t = 50)]
    connections: usize,
    /// Seconds of measurement per scenario (after a warm-up of a fifth of it).
    #[arg(long, default_value_t = 10)]
    seconds: u64,
    /// Connections in the server's API pool.
    #[arg(long, default_value_t = 16)]
    pool: u32,
    /// Worker threads of the server's runtime.
    #[arg(long, default_value_t = 2)]
    server_threads: usize,
    /// Directory for PostgreSQL's `initdb`, `postgres` and `pgbench` (default: searched).
    #[arg(long)]
    pg_bin_dir: Option<PathBuf>,
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let bin_dir = skilltrack_server::cluster::find_binaries(args.pg_bin_dir.as_deref())?;
    // The server: its own runtime and threads, as in production.
    let stack = Stack::start(&StackOptions {
        pg_bin_dir: args.pg_bin_dir.clone(),
        pool: args.pool,
        server_threads: args.server_threads,
        labs: false,
    })?;
    let url = stack.url.clone();

    // The client: another runtime, so the load generator does not queue behind the server.
    let client_rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let setup = client_rt.block_on(load::prepare(&url))?;
    let duration = Duration::from_secs(args.seconds);
    let get = client_rt.block_on(load::run(
        &url,
        &setup,
        load::Scenario::CourseDetail,
        args.connections,
        duration,
    ))?;
    let put = client_rt.block_on(load::run(
        &url,
        &setup,
        load::Scenario::Progress,
        args.connections,
        duration,
    ))?;
    let pg = pgbench::course_detail(
        &bin_dir,
        stack.socket_dir(),
        &setup,
        pgbench::Statement::Page,
        args.connections,
        args.seconds,
    )?;
    let pg_probe = pgbench::course_detail(
        &bin_dir,
        stack.socket_dir(),
        &setup,
        pgbench::Statement::Probe,
        args.connections,
        args.seconds,
    )?;

    print_table(args.connections, &get, &put, &pg, &pg_probe);

    drop(stack);
    Ok(())
}

/// The figures as a Markdown table, for docs/benchmarks.md.
fn print_table(
    connections: usize,
    get: &load::Report,
    put: &load::Report,
    pg: &pgbench::Report,
    pg_probe: &pgbench::Report,
) {
    println!("| scenario | connections | requests | req/s | p50 ms | p95 ms | p99 ms | errors |");
    println!("|---|---|---|---|---|---|---|---|");
    for (name, r) in [
        ("GET /api/v1/courses/{slug}", &get),
        ("PUT /api/v1/lessons/{id}/progress", &put),
    ] {
        println!(
            "| {name} | {} | {} | {:.0} | {:.1} | {:.1} | {:.1} | {} |",
            connections, r.requests, r.rate, r.p50_ms, r.p95_ms, r.p99_ms, r.errors
        );
    }
    for (name, r) in [
        ("the whole course page (`PAGE`)", pg),
        ("the per-caller probe (`PROBE`)", pg_probe),
    ] {
        println!(
            "| pgbench: {name} as `authenticated` | {} | {} | {:.0} | – | {:.1} (avg) | – | – |",
            connections, r.transactions, r.tps, r.latency_avg_ms
        );
    }
    println!();
    println!(
        "GET rate ÷ pgbench rate: {:.2} (whole page), {:.2} (probe)",
        get.rate / pg.tps,
        get.rate / pg_probe.tps
    );
}
