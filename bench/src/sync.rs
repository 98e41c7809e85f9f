//! `sync-bench`: the sync endpoints, server side, on a generated catalog (by default 1,000
//! courses × 10 modules × 10 lessons, the demo learner enrolled in all of them, with 50,000 rows
//! of their own progress), against the real server in this process and its embedded
//! PostgreSQL. Measures: a first sync (snapshot) in rows/s and bytes per row, plain and gzip;
//! 10,000 queued offline mutations pushed on reconnect, in mutations/s; and the pull that
//! brings those changes to a second device. Prints a Markdown table for docs/benchmarks.md.
//!
//!     cargo run --release -p skilltrack-bench --bin sync-bench -- --help

#![forbid(unsafe_code)]
#![allow(
    clippy::print_stdout,
    reason = "the table on stdout is this program's output"
)]
#![allow(
    clippy::cast_precision_loss,
    reason = "rates of at most millions of rows"
)]

mod accounts;
mod stack;
mod sync_client;

use std::path::PathBuf;
use std::time::Instant;

use anyhow::Context as _;
use clap::Parser;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::accounts::sign_in;
use crate::stack::{Stack, StackOptions};

/// Measures pull and push on a generated catalog.
#[derive(Debug, Parser)]
#[command(version)]
struct Args {
    /// Generated courses (all published, free, the learner enrolled).
    #[arg(long, default_value_t = 1000)]
    courses: u32,
    /// Modules per course.
    #[arg(long, default_value_t = 10)]
    modules: u32,
    /// Lessons per module.
    #[arg(long, default_value_t = 10)]
    lessons: u32,
    /// Rows of the learner's own progress.
    #[arg(long, default_value_t = 50_000)]
    own_rows: u32,
    /// Rows per pull page.
    #[arg(long, default_value_t = 5000)]
    page: u32,
    /// Offline mutations pushed.
    #[arg(long, default_value_t = 10_000)]
    mutations: usize,
    /// Mutations per push.
    #[arg(long, default_value_t = 500)]
    batch: usize,
    /// Connections in the server's API pool.
    #[arg(long, default_value_t = 16)]
    pool: u32,
    /// Worker threads of the server's runtime.
    #[arg(long, default_value_t = 2)]
    server_threads: usize,
    /// Directory for PostgreSQL's `initdb` and `postgres` (default: searched).
    #[arg(long)]
    pg_bin_dir: Option<PathBuf>,
}

/// One measured phase.
struct Figure {
    what: String,
    rows: usize,
    seconds: f64,
    bytes: usize,
    requests: usize,
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let started = Instant::now();
    let stack = Stack::start(&StackOptions {
        pg_bin_dir: args.pg_bin_dir.clone(),
        pool: args.pool,
        server_threads: args.server_threads,
        labs: false,
    })?;
    stack.runtime.block_on(generate(&stack.db, &args))?;
    let url = stack.url.clone();
    eprintln!("generated in {:.1} s", started.elapsed().as_secs_f64());

    let client_rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let figures = client_rt.block_on(measure(&url, &args))?;
    print_table(&args, &figures);

    drop(stack);
    Ok(())
}

/// The generated catalog and the learner's rows, written as the owner with triggers off (the
/// change log is not needed: a first sync reads the tables).
async fn generate(db: &skilltrack_server::db::Database, args: &Args) -> anyhow::Result<()> {
    let mut tx = db.owner().begin().await?;
    sqlx::query("SET LOCAL session_replication_role = replica")
        .execute(&mut *tx)
        .await?;
    stack::generate_catalog(&mut tx, args.courses, args.modules, args.lessons).await?;
    sqlx::query(
        "INSERT INTO enrollments (user_id, course_id)
         SELECT p.id, c.id FROM profiles p CROSS JOIN courses c
         WHERE p.email = 'learner@skilltrack.dev' AND c.slug LIKE 'bench-course-%'",
    )
    .execute(&mut *tx)
    .await?;
    sqlx::query(
        "INSERT INTO user_progress (user_id, course_id, module_id, lesson_id, progress_percentage,
                                    time_spent_minutes)
         SELECT p.id, m.course_id, m.id, l.id, 50, 5
         FROM profiles p
         CROSS JOIN course_lessons l JOIN course_modules m ON m.id = l.module_id
         JOIN courses c ON c.id = m.course_id
         WHERE p.email = 'learner@skilltrack.dev' AND c.slug LIKE 'bench-course-%'
         ORDER BY l.id LIMIT $1",
    )
    .bind(i64::from(args.own_rows))
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    sqlx::query("ANALYZE").execute(db.owner()).await?;
    Ok(())
}

/// Pulls from `cursor` until the server has nothing more; every cursor sent, in order.
async fn pull_all(
    http: &reqwest::Client,
    url: &str,
    token: &str,
    mut cursor: Option<String>,
    page: u32,
    what: &str,
) -> anyhow::Result<(Figure, Vec<Option<String>>, Option<String>)> {
    let mut sent = Vec::new();
    let mut figure = Figure {
        what: what.to_owned(),
        rows: 0,
        seconds: 0.0,
        bytes: 0,
        requests: 0,
    };
    let started = Instant::now();
    loop {
        let mut request = http
            .get(format!("{url}/api/v1/sync/pull"))
            .bearer_auth(token)
            .query(&[("limit", page.to_string())]);
        if let Some(c) = &cursor {
            request = request.query(&[("cursor", c)]);
        }
        sent.push(cursor.clone());
        let body = request.send().await?.error_for_status()?.bytes().await?;
        let parsed: Value = serde_json::from_slice(&body)?;
        figure.requests += 1;
        figure.bytes += body.len();
        figure.rows += parsed["changes"].as_array().map_or(0, Vec::len);
        cursor = parsed["cursor"].as_str().map(str::to_owned);
        if parsed["has_more"] != json!(true) {
            break;
        }
    }
    figure.seconds = started.elapsed().as_secs_f64();
    Ok((figure, sent, cursor))
}

/// The same pages again, gzip-compressed: bytes on the wire (the body is not decoded).
async fn gzip_bytes(
    http: &reqwest::Client,
    url: &str,
    token: &str,
    cursors: &[Option<String>],
    page: u32,
    rows: usize,
) -> anyhow::Result<Figure> {
    let mut figure = Figure {
        what: "first sync, gzip (same pages)".to_owned(),
        rows,
        seconds: 0.0,
        bytes: 0,
        requests: 0,
    };
    let started = Instant::now();
    for cursor in cursors {
        let mut request = http
            .get(format!("{url}/api/v1/sync/pull"))
            .bearer_auth(token)
            .header("accept-encoding", "gzip")
            .query(&[("limit", page.to_string())]);
        if let Some(c) = cursor {
            request = request.query(&[("cursor", c)]);
        }
        let response = request.send().await?.error_for_status()?;
        anyhow::ensure!(
            response
                .headers()
                .get("content-encoding")
                .is_some_and(|v| v == "gzip"),
            "the pull was not compressed"
        );
        figure.bytes += response.bytes().await?.len();
        figure.requests += 1;
    }
    figure.seconds = started.elapsed().as_secs_f64();
    Ok(figure)
}

async fn push_all(
    http: &reqwest::Client,
    url: &str,
    token: &str,
    batches: &[Vec<Value>],
    what: &str,
) -> anyhow::Result<Figure> {
    let started = Instant::now();
    let mut figure = Figure {
        what: what.to_owned(),
        rows: 0,
        seconds: 0.0,
        bytes: 0,
        requests: 0,
    };
    // One batch at a time, as a device's outbox drains: each answer before the next batch.
    for batch in batches {
        let body: Value = http
            .post(format!("{url}/api/v1/sync/push"))
            .bearer_auth(token)
            .json(&json!({ "mutations": batch }))
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?;
        let results = body["results"].as_array().context("no results")?;
        anyhow::ensure!(
            results
                .iter()
                .all(|r| r["outcome"]["status"] == json!("applied")),
            "a mutation was not applied: {results:?}"
        );
        figure.rows += results.len();
        figure.requests += 1;
    }
    figure.seconds = started.elapsed().as_secs_f64();
    Ok(figure)
}

async fn measure(url: &str, args: &Args) -> anyhow::Result<Vec<Figure>> {
    // Bytes as they travel: never decompressed behind our back, whichever features another
    // crate of the workspace turns on.
    let http = reqwest::Client::builder().no_gzip().build()?;
    let token = sign_in(&http, url, "learner@skilltrack.dev", "learner-demo-pass").await?;
    let mut figures = Vec::new();

    // A first device: the snapshot, then a warm second run for the steady figure.
    let (cold, _, _) = pull_all(&http, url, &token, None, args.page, "first sync, cold").await?;
    figures.push(cold);
    let (first, cursors, tail) =
        pull_all(&http, url, &token, None, args.page, "first sync (snapshot)").await?;
    let rows = first.rows;
    figures.push(first);
    figures.push(gzip_bytes(&http, url, &token, &cursors, args.page, rows).await?);

    // Offline work queued on a device, pushed on reconnect: progress on lessons not yet
    // started (so every mutation inserts), a minute each.
    let (fresh, started) = lessons_by_progress(&http, url, &token, args).await?;
    anyhow::ensure!(
        fresh.len() >= args.mutations,
        "only {} lessons without progress for {} mutations",
        fresh.len(),
        args.mutations
    );
    let mutations: Vec<Value> = fresh
        .iter()
        .take(args.mutations)
        .map(|lesson| {
            json!({
                "id": Uuid::now_v7(),
                "at": chrono::Utc::now(),
                "change": {"kind": "lesson_progress", "lesson_id": lesson,
                           "progress_percentage": 60, "add_minutes": 1},
            })
        })
        .collect();
    let batches: Vec<Vec<Value>> = mutations
        .chunks(args.batch)
        .map(<[Value]>::to_vec)
        .collect();
    figures.push(
        push_all(
            &http,
            url,
            &token,
            &batches,
            "offline mutations pushed on reconnect (lessons not started)",
        )
        .await?,
    );
    // The common case: more time on lessons already started (no course-progress refresh).
    let updates = progress_mutations(&started, args.mutations);
    let update_batches: Vec<Vec<Value>> =
        updates.chunks(args.batch).map(<[Value]>::to_vec).collect();
    figures.push(
        push_all(
            &http,
            url,
            &token,
            &update_batches,
            "offline mutations pushed on reconnect (lessons started)",
        )
        .await?,
    );
    figures.push(retry_all(&http, url, &token, &batches, mutations.len()).await?);

    // The other device catches up with what was pushed.
    let (mut catch_up, _, _) = pull_all(
        &http,
        url,
        &token,
        tail,
        args.page,
        "second device catches up",
    )
    .await?;
    catch_up.what = format!(
        "{} ({} mutations)",
        catch_up.what,
        mutations.len() + updates.len()
    );
    figures.push(catch_up);

    // The same, lived by devices running the client engine.
    let (client, _) = sync_client::measure(url, args.page, args.mutations).await?;
    figures.extend(client);
    Ok(figures)
}

/// The same batches again, as after a lost answer: every mutation must come back a duplicate.
async fn retry_all(
    http: &reqwest::Client,
    url: &str,
    token: &str,
    batches: &[Vec<Value>],
    expected: usize,
) -> anyhow::Result<Figure> {
    let started = Instant::now();
    let mut duplicates = 0;
    for batch in batches {
        let body: Value = http
            .post(format!("{url}/api/v1/sync/push"))
            .bearer_auth(token)
            .json(&json!({ "mutations": batch }))
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?;
        duplicates += body["results"].as_array().map_or(0, |r| {
            r.iter()
                .filter(|x| x["outcome"]["status"] == json!("duplicate"))
                .count()
        });
    }
    anyhow::ensure!(duplicates == expected, "a retry applied something twice");
    Ok(Figure {
        what: "push retried (all duplicates)".to_owned(),
        rows: duplicates,
        seconds: started.elapsed().as_secs_f64(),
        bytes: 0,
        requests: batches.len(),
    })
}

/// A minute and 60 % on each lesson, up to `count` mutations.
fn progress_mutations(lessons: &[Uuid], count: usize) -> Vec<Value> {
    lessons
        .iter()
        .take(count)
        .map(|lesson| {
            json!({
                "id": Uuid::now_v7(),
                "at": chrono::Utc::now(),
                "change": {"kind": "lesson_progress", "lesson_id": lesson,
                           "progress_percentage": 60, "add_minutes": 1},
            })
        })
        .collect()
}

/// Lesson ids the learner has no progress in yet, and those they have, from a full pull.
async fn lessons_by_progress(
    http: &reqwest::Client,
    url: &str,
    token: &str,
    args: &Args,
) -> anyhow::Result<(Vec<Uuid>, Vec<Uuid>)> {
    let mut lessons = Vec::new();
    let mut started = std::collections::HashSet::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut request = http
            .get(format!("{url}/api/v1/sync/pull"))
            .bearer_auth(token)
            .query(&[("limit", args.page.to_string())]);
        if let Some(c) = &cursor {
            request = request.query(&[("cursor", c)]);
        }
        let page: Value = request.send().await?.error_for_status()?.json().await?;
        for change in page["changes"].as_array().context("no changes")? {
            match change["table"].as_str() {
                Some("course_lessons") => {
                    lessons.push(change["id"].as_str().unwrap_or("").parse()?);
                }
                Some("user_progress") => {
                    started.insert(change["row"]["lesson_id"].as_str().unwrap_or("").to_owned());
                }
                _ => {}
            }
        }
        cursor = page["cursor"].as_str().map(str::to_owned);
        if page["has_more"] != json!(true) {
            break;
        }
    }
    let (begun, fresh): (Vec<Uuid>, Vec<Uuid>) = lessons
        .into_iter()
        .partition(|l: &Uuid| started.contains(&l.to_string()));
    Ok((fresh, begun))
}

fn print_table(args: &Args, figures: &[Figure]) {
    println!(
        "Catalog: {} courses × {} modules × {} lessons; {} rows of the learner's own progress; \
         pages of {} rows; pushes of {} mutations.",
        args.courses, args.modules, args.lessons, args.own_rows, args.page, args.batch
    );
    println!();
    println!("| phase | rows | requests | seconds | rows/s | bytes/row |");
    println!("|---|---|---|---|---|---|");
    for f in figures {
        let per_row = if f.bytes == 0 || f.rows == 0 {
            "–".to_owned()
        } else {
            format!("{:.0}", f.bytes as f64 / f.rows as f64)
        };
        println!(
            "| {} | {} | {} | {:.2} | {:.0} | {} |",
            f.what,
            f.rows,
            f.requests,
            f.seconds,
            f.rows as f64 / f.seconds.max(1e-9),
            per_row
        );
    }
}
