//! `cluster-load`: the API load benchmark (`api-load`'s course page GET and progress PUT)
//! against one `skilltrack-server` process, then one process behind nginx, then three
//! processes behind nginx (issue 19, part 2; docs/deployment.md, section 3), in one run on one
//! PostgreSQL, so the three rows compare like with like.
//!
//! PostgreSQL is an embedded cluster this program starts (durable: fsync on), given to every
//! server process as `DATABASE_URL`; the servers are the real binary (release), each in a
//! process of its own with its own data directory; nginx is Debian's, with the configuration
//! the cluster tests use (`skilltrack_tests::nginx`). Prints a Markdown table for
//! docs/benchmarks.md.
//!
//!     cargo build --release -p skilltrack-server -p skilltrack-bench
//!     target/release/cluster-load --help

#![forbid(unsafe_code)]
#![allow(
    clippy::print_stdout,
    reason = "the table on stdout is this program's output"
)]

mod load;
mod server_binary;

use std::path::PathBuf;
use std::time::Duration;

use clap::Parser;
use skilltrack_server::cluster::{ClusterOptions, DATABASE, EmbeddedCluster, SUPERUSER};
use skilltrack_tests::nginx::Nginx;
use skilltrack_tests::process::ServerProcess;

/// Every process verifies the others' tokens: one secret for all.
const JWT_SECRET: &str = "the-cluster-load-jwt-secret-of-enough-length-0123456789";
const AUTHENTICATOR_PASSWORD: &str = "cluster-load";

/// The API under load through one process, and through several behind nginx.
#[derive(Debug, Parser)]
#[command(version)]
struct Args {
    /// Concurrent connections of the load generator.
    #[arg(long, default_value_t = 50)]
    connections: usize,
    /// Seconds of measurement per scenario (after a warm-up of a fifth of it).
    #[arg(long, default_value_t = 10)]
    seconds: u64,
    /// Server processes behind nginx in the last configuration.
    #[arg(long, default_value_t = 3)]
    processes: usize,
    /// nginx worker processes.
    #[arg(long, default_value_t = 1)]
    nginx_workers: usize,
    /// The server binary (default: `skilltrack-server` beside this program).
    #[arg(long)]
    server: Option<PathBuf>,
}

/// How the load reaches the servers.
#[derive(Debug, Clone, Copy)]
enum Layout {
    Direct,
    BehindNginx(usize),
}

impl Layout {
    fn name(self) -> String {
        match self {
            Self::Direct => "1 process".to_owned(),
            Self::BehindNginx(1) => "nginx → 1 process".to_owned(),
            Self::BehindNginx(n) => format!("nginx → {n} processes"),
        }
    }
}

fn serve(server_bin: &PathBuf, database_url: &str) -> (ServerProcess, tempfile::TempDir) {
    let dir = skilltrack_tests::process::data_dir();
    let mut serve = std::process::Command::new(server_bin);
    serve
        .arg("--data-dir")
        .arg(dir.path())
        .args(["serve", "--listen", "127.0.0.1:0"])
        .args(["--auth-limit-per-ip", "1000000"])
        .env("DATABASE_URL", database_url)
        .env("SKILLTRACK_AUTHENTICATOR_PASSWORD", AUTHENTICATOR_PASSWORD)
        .env("SKILLTRACK_JWT_SECRET", JWT_SECRET)
        .env("SKILLTRACK_LAB_WORKSPACE_VOLUMES", "false")
        .env("RUST_LOG", "warn,skilltrack_server=info");
    (ServerProcess::start_command(serve), dir)
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let server_bin = server_binary::resolve(args.server.as_deref())?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let options = ClusterOptions {
        // Under /tmp by name, so the cluster's OS user reaches it when this runs as root.
        dir: std::env::temp_dir().join(format!("skilltrack-cluster-load-{}", std::process::id())),
        bin_dir: None,
        os_user: "postgres".to_owned(),
        durable: true,
    };
    let pg_dir = options.dir.clone();
    let pg = EmbeddedCluster::start(&options)?;
    runtime.block_on(skilltrack_server::db::bootstrap::ensure_database(
        pg.connect_options(SUPERUSER, "postgres"),
        DATABASE,
    ))?;
    let database_url = format!(
        "postgres://{SUPERUSER}@localhost/{DATABASE}?host={}",
        pg.socket_dir().display()
    );
    let seed_dir = skilltrack_tests::process::data_dir();
    let seeded = std::process::Command::new(&server_bin)
        .arg("--data-dir")
        .arg(seed_dir.path())
        .arg("seed-demo")
        .env("DATABASE_URL", &database_url)
        .env("SKILLTRACK_AUTHENTICATOR_PASSWORD", AUTHENTICATOR_PASSWORD)
        .output()?;
    anyhow::ensure!(
        seeded.status.success(),
        "seed-demo failed: {}",
        String::from_utf8_lossy(&seeded.stderr)
    );

    let mut rows = Vec::new();
    for layout in [
        Layout::Direct,
        Layout::BehindNginx(1),
        Layout::BehindNginx(args.processes),
    ] {
        let (get, put) = measure(&runtime, &args, &server_bin, &database_url, layout)?;
        rows.push((layout, get, put));
    }
    drop(pg);
    let _ = std::fs::remove_dir_all(&pg_dir);

    print_table(args.connections, &rows);
    Ok(())
}

/// The two scenarios through `layout`, on new server processes.
fn measure(
    runtime: &tokio::runtime::Runtime,
    args: &Args,
    server_bin: &PathBuf,
    database_url: &str,
    layout: Layout,
) -> anyhow::Result<(load::Report, load::Report)> {
    let duration = Duration::from_secs(args.seconds);
    let count = match layout {
        Layout::Direct => 1,
        Layout::BehindNginx(n) => n,
    };
    let servers: Vec<_> = (0..count)
        .map(|_| serve(server_bin, database_url))
        .collect();
    let nginx = match layout {
        Layout::Direct => None,
        Layout::BehindNginx(_) => {
            let upstreams: Vec<&str> = servers
                .iter()
                .map(|(s, _)| s.url.trim_start_matches("http://"))
                .collect();
            Some(Nginx::start_with_workers(&upstreams, args.nginx_workers))
        }
    };
    let url = nginx
        .as_ref()
        .map_or_else(|| servers[0].0.url.clone(), |n| n.url.clone());
    eprintln!("{}: {url}", layout.name());
    let (get, put) = runtime.block_on(async {
        let setup = load::prepare(&url).await?;
        eprintln!("as the demo learner {}", setup.user_id);
        let get = load::run(
            &url,
            &setup,
            load::Scenario::CourseDetail,
            args.connections,
            duration,
        )
        .await?;
        let put = load::run(
            &url,
            &setup,
            load::Scenario::Progress,
            args.connections,
            duration,
        )
        .await?;
        anyhow::Ok((get, put))
    })?;
    Ok((get, put))
}

fn print_table(connections: usize, rows: &[(Layout, load::Report, load::Report)]) {
    println!(
        "| layout | scenario | connections | requests | req/s | p50 ms | p95 ms | p99 ms | errors |"
    );
    println!("|---|---|---|---|---|---|---|---|---|");
    for (layout, get, put) in rows {
        for (name, r) in [
            ("GET /api/v1/courses/{slug}", get),
            ("PUT /api/v1/lessons/{id}/progress", put),
        ] {
            println!(
                "| {} | {name} | {} | {} | {:.0} | {:.1} | {:.1} | {:.1} | {} |",
                layout.name(),
                connections,
                r.requests,
                r.rate,
                r.p50_ms,
                r.p95_ms,
                r.p99_ms,
                r.errors
            );
        }
    }
}
