//! pgbench replaying a course page's SQL — the very statements the server runs
//! (`skilltrack_server::db::catalog::course_page_sql`): the whole page (`PAGE`, what every
//! request ran before the page cache, and still runs when the cache cannot serve), and the
//! per-caller probe (`PROBE`, all a request runs when the shared part is cached) — in one
//! read-only transaction as `authenticated` with the learner's claims, exactly as the API's
//! request transaction does. It measures what the database alone can do, for the HTTP figures
//! to be read against.

use std::fmt::Write as _;
use std::path::Path;
use std::process::Command;

use anyhow::Context as _;
use skilltrack_server::db::catalog::course_page_sql as sql;

use crate::load::Setup;

/// pgbench's figures.
#[derive(Debug, Clone, Copy)]
pub struct Report {
    /// Transactions done.
    pub transactions: u64,
    /// Per second.
    pub tps: f64,
    /// Average latency.
    pub latency_avg_ms: f64,
}

/// One line per statement: pgbench reads a statement to its terminating semicolon.
fn one_line(statement: &str) -> String {
    statement.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Which of the course page's statements pgbench runs.
#[derive(Debug, Clone, Copy)]
pub enum Statement {
    /// The whole page ([`sql::PAGE`]).
    Page,
    /// The per-caller probe ([`sql::PROBE`]).
    Probe,
}

/// The script: the request transaction around one of the course page's statements, with the
/// learner's identity and the course as literals in place of the bind parameters.
pub fn script(setup: &Setup, statement: Statement) -> String {
    let claims = format!(r#"{{"role": "authenticated", "sub": "{}"}}"#, setup.user_id);
    let sql = match statement {
        Statement::Page => sql::PAGE,
        Statement::Probe => sql::PROBE,
    };
    let page = one_line(sql)
        .replace("$1", "NULL::uuid")
        .replace("$2", &format!("'{}'", setup.slug))
        .replace("$3", &format!("'{}'::uuid", setup.user_id));
    let mut s = String::new();
    let _ = writeln!(s, "BEGIN READ ONLY;");
    let _ = writeln!(
        s,
        "SELECT set_config('role', 'authenticated', true), set_config('request.jwt.claims', '{claims}', true);"
    );
    let _ = writeln!(s, "{page};");
    let _ = writeln!(s, "COMMIT;");
    s
}

#[allow(
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss,
    reason = "pgbench prints a whole, positive count"
)]
/// Runs the script for `seconds` on `clients` connections, logged in as `authenticator` like the
/// server, over the cluster's socket.
pub fn course_detail(
    bin_dir: &Path,
    socket_dir: &Path,
    setup: &Setup,
    statement: Statement,
    clients: usize,
    seconds: u64,
) -> anyhow::Result<Report> {
    let file = tempfile::Builder::new().suffix(".sql").tempfile()?;
    std::fs::write(file.path(), script(setup, statement))?;
    let out = Command::new(bin_dir.join("pgbench"))
        // Prepared statements, as sqlx uses them; the server's pool is smaller, but each of
        // pgbench's clients is a backend of its own, as each of the load's connections is.
        .args(["-n", "-M", "prepared", "-h"])
        .arg(socket_dir)
        .args(["-p", "5432", "-U", "authenticator", "-d", "skilltrack"])
        .args([
            "-c",
            &clients.to_string(),
            "-j",
            "2",
            "-T",
            &seconds.to_string(),
        ])
        .arg("-f")
        .arg(file.path())
        .output()
        .context("running pgbench (Debian: apt-get install postgresql-client)")?;
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    anyhow::ensure!(
        out.status.success(),
        "pgbench failed: {text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let number_after = |label: &str| -> Option<f64> {
        text.lines()
            .find(|l| l.trim_start().starts_with(label))
            .and_then(|l| l.split(['=', ':']).nth(1))
            .and_then(|v| v.split_whitespace().next())
            .and_then(|v| v.parse().ok())
    };
    Ok(Report {
        transactions: number_after("number of transactions actually processed")
            .map_or(0, |n| n as u64),
        tps: number_after("tps").context("no tps in pgbench's output")?,
        latency_avg_ms: number_after("latency average").unwrap_or(0.0),
    })
}
