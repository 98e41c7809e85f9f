//! The same scenario through the client engine (`skilltrack-client`), as a device lives it: a
//! first sync applied page by page into a real SQLite cache, beside inserting the very same
//! rows straight into SQLite; a change travelling between two online devices (the writer's
//! sync loop pushes, the live channel wakes the reader's, which pulls); and a queue of offline
//! writes pushed on reconnect.

use std::sync::Arc;
use std::time::{Duration, Instant};

use skilltrack_client::cache::Cache;
use skilltrack_client::sync::{SyncEngine, lock};
use skilltrack_client::tokens::StoreKind;
use skilltrack_client::writes::ProgressInput;
use skilltrack_protocol::sync::SyncTable;
use uuid::Uuid;

use super::Figure;

fn device(url: &str, dir: &std::path::Path, page: u32) -> anyhow::Result<Arc<SyncEngine>> {
    let engine = skilltrack_client::device::open(url, dir, &StoreKind::File)?;
    engine.set_page_size(page);
    Ok(Arc::new(engine))
}

/// Every cached row of every synced table.
fn cached_rows(engine: &SyncEngine) -> anyhow::Result<Vec<(SyncTable, Uuid, serde_json::Value)>> {
    let cache = lock(engine.cache());
    let mut rows = Vec::new();
    for table in SyncTable::ALL {
        for row in cache.all_rows(table)? {
            let id = row["id"].as_str().unwrap_or_default().parse()?;
            rows.push((table, id, row));
        }
    }
    Ok(rows)
}

#[allow(
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss,
    reason = "an index into at most a few hundred samples"
)]
fn percentile(sorted: &[f64], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted.get(i).copied().unwrap_or(0.0)
}

/// The client-side figures, and the propagation latencies (ms, sorted).
pub async fn measure(
    url: &str,
    page: u32,
    mutations: usize,
) -> anyhow::Result<(Vec<Figure>, Vec<f64>)> {
    let root = tempfile::Builder::new()
        .prefix("skilltrack-sync-client-")
        .tempdir_in("/tmp")?;
    let laptop = signed_in_device(url, &root.path().join("laptop"), page).await?;
    let mut figures = first_sync(&laptop, &root.path().join("raw.sqlite3"), page).await?;
    let phone = signed_in_device(url, &root.path().join("phone"), page).await?;
    phone
        .sync_once()
        .await
        .map_err(|e| anyhow::anyhow!(e.explain()))?;
    let latencies = propagation(&laptop, &phone).await?;
    figures.push(offline_push(&laptop, mutations).await?);
    figures.push(Figure {
        what: format!(
            "change between two online devices: p50 {:.0} ms, p99 {:.0} ms (50 writes)",
            percentile(&latencies, 0.5),
            percentile(&latencies, 0.99)
        ),
        rows: latencies.len(),
        seconds: latencies.iter().sum::<f64>() / 1000.0,
        bytes: 0,
        requests: 0,
    });
    Ok((figures, latencies))
}

async fn signed_in_device(
    url: &str,
    dir: &std::path::Path,
    page: u32,
) -> anyhow::Result<Arc<SyncEngine>> {
    let engine = device(url, dir, page)?;
    engine
        .sign_in("learner@skilltrack.dev", "learner-demo-pass")
        .await
        .map_err(|e| anyhow::anyhow!(e.explain()))?;
    Ok(engine)
}

/// A first sync into a real SQLite file (WAL, synchronous=FULL), page by page; then the same
/// rows inserted straight into a fresh SQLite file, one transaction per page too.
async fn first_sync(
    laptop: &SyncEngine,
    raw_path: &std::path::Path,
    page: u32,
) -> anyhow::Result<Vec<Figure>> {
    let started = Instant::now();
    let report = laptop
        .sync_once()
        .await
        .map_err(|e| anyhow::anyhow!(e.explain()))?;
    let synced = Figure {
        what: "client: first sync into SQLite (pull + apply, page by page)".to_owned(),
        rows: report.pulled,
        seconds: started.elapsed().as_secs_f64(),
        bytes: 0,
        requests: report.pages,
    };
    let rows = cached_rows(laptop)?;
    let mut raw = Cache::open(raw_path)?;
    let started = Instant::now();
    for chunk in rows.chunks(page as usize) {
        raw.insert_raw(chunk)?;
    }
    let inserted = Figure {
        what: "raw SQLite: the same rows inserted, same page size".to_owned(),
        rows: rows.len(),
        seconds: started.elapsed().as_secs_f64(),
        bytes: 0,
        requests: rows.len().div_ceil(page as usize),
    };
    Ok(vec![synced, inserted])
}

/// Both devices run their sync loops; each write on the laptop is timed until the phone's cache
/// holds it. Milliseconds, sorted.
async fn propagation(
    laptop: &Arc<SyncEngine>,
    phone: &Arc<SyncEngine>,
) -> anyhow::Result<Vec<f64>> {
    let (stop_tx, stop) = tokio::sync::watch::channel(false);
    let laptop_loop = tokio::spawn(Arc::clone(laptop).run(Duration::from_secs(3600), stop.clone()));
    let phone_loop = tokio::spawn(Arc::clone(phone).run(Duration::from_secs(3600), stop));
    tokio::time::sleep(Duration::from_millis(500)).await;
    let lesson: Uuid = lock(laptop.cache())
        .all_rows(SyncTable::UserProgress)?
        .first()
        .and_then(|r| r["lesson_id"].as_str().and_then(|s| s.parse().ok()))
        .ok_or_else(|| anyhow::anyhow!("no progress row to update"))?;
    let minutes = |engine: &SyncEngine| -> i64 {
        lock(engine.cache())
            .rows_where(SyncTable::UserProgress, "lesson_id", &lesson.to_string())
            .ok()
            .and_then(|r| r.first().and_then(|x| x["time_spent_minutes"].as_i64()))
            .unwrap_or(-1)
    };
    let mut latencies = Vec::new();
    for _ in 0..50 {
        let before = minutes(phone);
        let started = Instant::now();
        laptop
            .record_progress(
                lesson,
                ProgressInput {
                    add_minutes: Some(1),
                    ..ProgressInput::default()
                },
            )
            .await
            .map_err(|e| anyhow::anyhow!(e.explain()))?;
        while minutes(phone) <= before {
            anyhow::ensure!(
                started.elapsed() < Duration::from_secs(10),
                "a change never arrived"
            );
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        latencies.push(started.elapsed().as_secs_f64() * 1000.0);
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let _ = stop_tx.send(true);
    let _ = laptop_loop.await;
    let _ = phone_loop.await;
    latencies.sort_by(f64::total_cmp);
    Ok(latencies)
}

/// Offline writes queued on the laptop, pushed when it reconnects (and pulled back).
async fn offline_push(laptop: &SyncEngine, mutations: usize) -> anyhow::Result<Figure> {
    let lessons: Vec<Uuid> = lock(laptop.cache())
        .all_rows(SyncTable::UserProgress)?
        .iter()
        .filter_map(|r| r["lesson_id"].as_str().and_then(|s| s.parse().ok()))
        .take(mutations)
        .collect();
    for l in &lessons {
        laptop
            .record_progress(
                *l,
                ProgressInput {
                    add_minutes: Some(1),
                    ..ProgressInput::default()
                },
            )
            .await
            .map_err(|e| anyhow::anyhow!(e.explain()))?;
    }
    let queued = lock(laptop.cache()).outbox_len()?;
    let started = Instant::now();
    let report = laptop
        .sync_once()
        .await
        .map_err(|e| anyhow::anyhow!(e.explain()))?;
    anyhow::ensure!(
        i64::try_from(report.pushed)? == queued && report.rejected == 0,
        "{report:?}"
    );
    Ok(Figure {
        what: format!(
            "client: {queued} queued offline writes pushed on reconnect (and pulled back)"
        ),
        rows: report.pushed,
        seconds: started.elapsed().as_secs_f64(),
        bytes: 0,
        requests: report.pushed.div_ceil(500) + report.pages,
    })
}
