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

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context as _;
use clap::Parser;
use skilltrack_server::cluster::{self, ClusterOptions, EmbeddedCluster};
use skilltrack_server::db::{Database, PoolSizes};
use skilltrack_server::http::{self, AppState, HttpLimits};

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
    let dir = tempfile::Builder::new()
        .prefix("skilltrack-bench-")
        .tempdir_in("/tmp")?;
    let options = ClusterOptions {
        dir: dir.path().join("postgres"),
        bin_dir: args.pg_bin_dir.clone(),
        os_user: "postgres".to_owned(),
        durable: true,
    };
    let cluster = EmbeddedCluster::start(&options).context("starting PostgreSQL")?;
    let bin_dir = cluster::find_binaries(args.pg_bin_dir.as_deref())?;

    // The server: its own runtime and threads, as in production.
    let server_rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(args.server_threads)
        .enable_all()
        .build()?;
    let media = dir.path().join("media");
    let (db, url) = server_rt.block_on(async {
        skilltrack_server::db::bootstrap::ensure_database(
            cluster.connect_options(cluster::SUPERUSER, "postgres"),
            cluster::DATABASE,
        )
        .await?;
        let db = Database::open(
            cluster.connect_options(cluster::SUPERUSER, cluster::DATABASE),
            None,
            PoolSizes {
                owner: 2,
                api: args.pool,
            },
        )
        .await?;
        skilltrack_server::seed::load_demo(&db, dir.path()).await?;
        let keys = skilltrack_server::auth::tokens::TokenKeys::new(
            &[42u8; 32],
            Duration::from_secs(3600),
        )?;
        let limits = HttpLimits::default();
        let state = AppState::new(
            db.clone(),
            keys,
            http::auth::AuthLimits::default(),
            &media,
            limits.upload_bytes,
        );
        let app = http::router(state, &limits, &media);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let url = format!("http://{}", listener.local_addr()?);
        tokio::spawn(async move {
            let _ = axum::serve(
                listener,
                app.into_make_service_with_connect_info::<std::net::SocketAddr>(),
            )
            .await;
        });
        anyhow::Ok((db, url))
    })?;

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
        cluster.socket_dir(),
        &setup,
        pgbench::Statement::Page,
        args.connections,
        args.seconds,
    )?;
    let pg_probe = pgbench::course_detail(
        &bin_dir,
        cluster.socket_dir(),
        &setup,
        pgbench::Statement::Probe,
        args.connections,
        args.seconds,
    )?;

    print_table(args.connections, &get, &put, &pg, &pg_probe);

    server_rt.block_on(db.close());
    drop(server_rt);
    drop(cluster);
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
