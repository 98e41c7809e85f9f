//! This server process among the others of a cluster: its identity, its heartbeat, and the
//! periodic jobs that must run once for the whole cluster, not once per process.
//!
//! * Every process gets a new id when it starts ([`Instance`]) and says every
//!   [`HEARTBEAT`] that it is alive, with the address the other processes reach it at
//!   (`--internal-url`), in `private.server_instances`. A process not heard from for
//!   [`STALE_AFTER`] is taken for dead (killed, or cut off from the database): the lab
//!   sessions it hosted are nobody's, and the reaper treats them as such.
//! * [`run_once`] runs a job in the one process holding the job's advisory lock, and only if
//!   the job's last run (by any process) started a period or more ago.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use uuid::Uuid;

use crate::db::session::begin_service;
use crate::db::{Database, instances, periodic};

/// How often a process says it is alive.
pub const HEARTBEAT: Duration = Duration::from_secs(10);
/// How long a process may stay silent before the others take it for dead: a few missed
/// heartbeats, so one slow round trip is not a death.
pub const STALE_AFTER: Duration = Duration::from_secs(45);

/// This server process.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Instance {
    /// New at every start.
    pub id: Uuid,
    /// Where the other processes reach this one (its lab terminals), when it said.
    pub internal_url: Option<String>,
}

impl Instance {
    /// A new process identity.
    pub fn new(internal_url: Option<String>) -> Arc<Self> {
        Arc::new(Self {
            id: Uuid::now_v7(),
            internal_url: internal_url.map(|u| u.trim_end_matches('/').to_owned()),
        })
    }
}

/// Runs `job` now if this process is the one to run it: no other process is running it, and
/// its last run started at least `every` ago. `Ok(None)`: another process has it. The job's
/// lock is held, in a transaction of its own, until `run` ends (or the task is dropped, or the
/// process dies: the transaction ends and the lock with it).
pub async fn run_once<T, F>(
    db: &Database,
    instance: &Instance,
    job: &str,
    every: Duration,
    run: F,
) -> Result<Option<T>, sqlx::Error>
where
    F: Future<Output = T>,
{
    let mut tx = begin_service(db.api()).await?;
    if !periodic::try_lock(&mut tx, job).await? {
        tracing::debug!(job, "another server process is running this job");
        return Ok(None);
    }
    if !periodic::claim(&mut tx, job, every, instance.id).await? {
        tracing::debug!(job, "another server process ran this job this period");
        return Ok(None);
    }
    tracing::debug!(job, "running this job for the cluster");
    let out = run.await;
    tx.commit().await?;
    Ok(Some(out))
}

/// Says every [`HEARTBEAT`] that this process is alive; once a minute (for the cluster)
/// forgets dead processes and expired rate-limit counters.
pub fn spawn_heartbeat(db: Database, instance: Arc<Instance>) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(HEARTBEAT);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            if db.api().is_closed() {
                return;
            }
            if let Err(e) = heartbeat(&db, &instance).await {
                tracing::warn!(error = %e, "saying this server process is alive failed");
            }
            let cleanup = run_once(&db, &instance, "cleanup", Duration::from_secs(60), async {
                let stale = forget_stale(&db).await;
                let expired = crate::auth::rate_limit::delete_expired(db.api()).await;
                (stale, expired)
            })
            .await;
            match cleanup {
                Ok(Some((Ok(stale), Ok(expired)))) => {
                    if stale > 0 || expired > 0 {
                        tracing::info!(
                            dead_processes = stale,
                            rate_limit_counters = expired,
                            "forgot dead server processes and ended rate-limit windows"
                        );
                    }
                }
                Ok(Some((Err(e), _) | (_, Err(e)))) | Err(e) => {
                    tracing::warn!(error = %e, "the cluster's cleanup failed; retrying in a minute");
                }
                Ok(None) => {}
            }
        }
    })
}

async fn heartbeat(db: &Database, instance: &Instance) -> Result<(), sqlx::Error> {
    let mut tx = begin_service(db.api()).await?;
    instances::heartbeat(&mut tx, instance.id, instance.internal_url.as_deref()).await?;
    tx.commit().await
}

async fn forget_stale(db: &Database) -> Result<u64, sqlx::Error> {
    let mut tx = begin_service(db.api()).await?;
    let n = instances::forget_stale(&mut tx, STALE_AFTER).await?;
    tx.commit().await?;
    Ok(n)
}

/// Says this process is gone (a clean stop), so no one waits [`STALE_AFTER`] to know.
pub async fn leave(db: &Database, instance: &Instance) {
    let left = async {
        let mut tx = begin_service(db.api()).await?;
        instances::remove(&mut tx, instance.id).await?;
        tx.commit().await
    }
    .await;
    if let Err(e) = left {
        tracing::warn!(error = %e, "saying this server process stopped failed");
    }
}

/// Records that this process hosts the lab session's shell.
pub async fn host_session(
    db: &Database,
    instance: &Instance,
    session: Uuid,
) -> Result<(), sqlx::Error> {
    let mut tx = begin_service(db.api()).await?;
    instances::host_session(&mut tx, session, instance.id).await?;
    tx.commit().await
}

/// The live process hosting the lab session, if one does.
pub async fn session_host(
    db: &Database,
    session: Uuid,
) -> Result<Option<instances::Host>, sqlx::Error> {
    let mut tx = begin_service(db.api()).await?;
    let host = instances::session_host(&mut tx, session, STALE_AFTER).await?;
    tx.commit().await?;
    Ok(host)
}

/// The lab sessions live processes other than this one host.
pub async fn sessions_hosted_elsewhere(
    db: &Database,
    instance: &Instance,
) -> Result<Vec<Uuid>, sqlx::Error> {
    let mut tx = begin_service(db.api()).await?;
    let ids = instances::sessions_hosted_elsewhere(&mut tx, instance.id, STALE_AFTER).await?;
    tx.commit().await?;
    Ok(ids)
}
