//! The idle reaper: every `reaper_interval` it saves each active session's last input, usage,
//! duration and cost; warns a learner whose lab will stop within `idle_warning`; stops
//! environments idle for their `auto_stop_minutes` (the session `expired`); and pauses a session
//! whose shell has had no connection for the reconnect grace period.
//!
//! Keystrokes only touch memory ([`super::terminal::Terminal::write`]); the database hears of
//! them here, once a round, so typing never waits for PostgreSQL.
//!
//! With several server processes, each session is reaped by one of them (decision 269): a
//! session whose shell runs in this process by this process (only it knows the last
//! keystroke, and only it can stop the sandbox); a session another live process hosts is left
//! to that one; the rest (no shell anywhere, or a host that died) by the one process of the
//! cluster that wins the round ([`crate::instance::run_once`]).

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Instant;

use chrono::Utc;
use skilltrack_protocol::LabSessionStatus;

use super::Labs;
use crate::db::Database;
use crate::db::labs::{self as db, SessionRow};
use crate::db::session::begin_service;
use crate::instance::{self, Instance};

/// Runs the reaper until the task is dropped.
pub fn spawn(
    db: Database,
    labs: Arc<Labs>,
    instance: Arc<Instance>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(labs.settings.reaper_interval);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            if let Err(e) = sweep(&db, &labs, &instance).await {
                tracing::warn!(error = %e, "the lab reaper's round failed");
            }
        }
    })
}

fn since(instant: Instant) -> chrono::Duration {
    chrono::Duration::from_std(instant.elapsed()).unwrap_or_default()
}

/// One round of the reaper: the sessions whose shell runs here, then (in one process of the
/// cluster) the sessions no live process hosts.
pub async fn sweep(db: &Database, labs: &Labs, instance: &Instance) -> Result<(), sqlx::Error> {
    let mut tx = begin_service(db.api()).await?;
    let rows = db::active_sessions(&mut tx).await?;
    tx.commit().await?;
    let terminals = labs.terminals().await;
    let here: HashSet<uuid::Uuid> = terminals.iter().map(|(id, _)| *id).collect();
    // A session paused or stopped through another process of the cluster leaves its shell
    // running here: stop it (its workspace stays; the process that stopped the session
    // decided about that).
    let ids: Vec<uuid::Uuid> = here.iter().copied().collect();
    let mut tx = begin_service(db.api()).await?;
    let ended = crate::db::instances::sessions_ended(&mut tx, &ids).await?;
    tx.commit().await?;
    for (id, terminal) in terminals.iter().filter(|(id, _)| ended.contains(id)) {
        // Not if the session was resumed here meanwhile (a new shell under the same id).
        let same = labs
            .terminal(*id)
            .await
            .is_some_and(|now| Arc::ptr_eq(&now, terminal));
        if same {
            tracing::info!(session = %id, "stopping a lab shell whose session ended through another server process");
            let _ = labs.stop(*id, &terminal.spec, true).await;
        }
    }
    let elsewhere: HashSet<uuid::Uuid> = instance::sessions_hosted_elsewhere(db, instance)
        .await?
        .into_iter()
        .collect();
    let (mine, rest): (Vec<SessionRow>, Vec<SessionRow>) =
        rows.into_iter().partition(|row| here.contains(&row.id));
    for row in &mine {
        sweep_logged(db, labs, row).await;
    }
    let unhosted: Vec<SessionRow> = rest
        .into_iter()
        .filter(|row| !elsewhere.contains(&row.id))
        .collect();
    instance::run_once(
        db,
        instance,
        "lab_reaper",
        labs.settings.reaper_interval,
        async {
            for row in &unhosted {
                sweep_logged(db, labs, row).await;
            }
        },
    )
    .await?;
    Ok(())
}

async fn sweep_logged(db: &Database, labs: &Labs, row: &SessionRow) {
    if let Err(e) = sweep_one(db, labs, row).await {
        tracing::warn!(session = %row.id, error = %e, "reaping a lab session failed");
    }
}

async fn sweep_one(db: &Database, labs: &Labs, row: &SessionRow) -> Result<(), sqlx::Error> {
    let now = Utc::now();
    let spec = labs.spec_for(row);
    let terminal = labs.terminal(row.id).await;
    let input_at = terminal
        .as_ref()
        .filter(|t| t.take_input_unsaved())
        .map(|t| now - since(t.last_input()));
    let usage_spec = spec.clone();
    let usage = labs
        .blocking(move |driver| Ok(driver.usage(&usage_spec)))
        .await
        .unwrap_or_default();
    let usage = serde_json::json!({
        "memory_bytes": usage.memory_bytes,
        "processes": usage.processes,
        "disk_bytes": usage.disk_bytes,
        "measured_at": now,
    });
    let mut tx = begin_service(db.api()).await?;
    db::record_activity(&mut tx, row.id, input_at, &usage).await?;
    let last = input_at.unwrap_or(row.last_activity_at());
    let stops_at = last + chrono::Duration::minutes(i64::from(row.auto_stop_minutes));
    let warn_at =
        stops_at - chrono::Duration::from_std(labs.settings.idle_warning).unwrap_or_default();
    let orphaned = terminal
        .as_ref()
        .and_then(|t| t.detached_since())
        .is_some_and(|d| d.elapsed() > labs.settings.reconnect_grace);
    if now >= stops_at {
        let moved = db::transition(
            &mut tx,
            row.id,
            &[LabSessionStatus::Active],
            LabSessionStatus::Expired,
            if row.auto_save_enabled {
                "stopped"
            } else {
                "deleted"
            },
        )
        .await?;
        if moved {
            // The sandbox goes before the new status is visible: whoever reads "expired" (the
            // learner, a test) finds its processes and resource controls already gone. The row
            // stays locked meanwhile, so a learner's own stop waits instead of racing this one.
            tracing::info!(session = %row.id, "stopping an idle lab environment");
            let _ = labs.stop(row.id, &spec, row.auto_save_enabled).await;
            db::notify_stopped(&mut tx, row).await?;
        }
        tx.commit().await?;
        return Ok(());
    }
    if orphaned {
        let moved = db::transition(
            &mut tx,
            row.id,
            &[LabSessionStatus::Active],
            LabSessionStatus::Paused,
            "paused",
        )
        .await?;
        if moved {
            tracing::info!(session = %row.id, "pausing a lab left without a connection");
            let _ = labs.stop(row.id, &spec, true).await;
        }
        tx.commit().await?;
        return Ok(());
    }
    if now >= warn_at && !db::was_warned(row) && input_at.is_none() {
        db::warn_idle(&mut tx, row, stops_at).await?;
    }
    tx.commit().await?;
    Ok(())
}
