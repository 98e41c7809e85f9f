//! A server's start after one killed while labs ran (issue 19, decisions 363–365): the host's
//! leftovers reclaimed, the lost sessions paused and their learners told.
//!
//! 1. **Which process had these workspaces.** The server holds an exclusive lock on
//!    `<workspace root>/.server-instance` for as long as it runs, and writes its instance id
//!    in it. The kernel drops the lock when the process dies, however it dies, so a start that
//!    gets the lock knows the process named in the file is dead (its heartbeat may look fresh
//!    for a while yet), and that no live process uses these workspaces. A start that does not
//!    get it (another process uses the same workspace root) reclaims nothing.
//! 2. **The host's leftovers** ([`super::driver::EnvironmentDriver::reclaim`]): sandbox
//!    processes, mounts, loop devices, cgroups; workspaces stay.
//! 3. **The sessions it lost**: the live sessions the dead process hosted
//!    (`private.lab_session_hosts`), or whose environments it left behind, become `paused`
//!    (their environment too), are marked `interrupted_at` in `environment_data`, and their
//!    learner gets a notification saying so and that resuming carries on over the same files.
//!    A session that a live process of the cluster hosts now is left alone. The dead
//!    process's rows are removed, so no terminal is routed to it.

use std::fs::{File, OpenOptions};
use std::io::{Read as _, Seek as _, Write as _};
use std::os::unix::fs::OpenOptionsExt as _;
use std::path::Path;

use nix::fcntl::{Flock, FlockArg};
use uuid::Uuid;

use super::Labs;
use super::driver::Reclaimed;
use crate::db::Database;
use crate::db::session::begin_service;
use crate::instance::{Instance, STALE_AFTER};

/// The file under the workspace root that names the process using it, locked while it does.
pub const INSTANCE_FILE: &str = ".server-instance";

/// This process's hold on a workspace root: kept for as long as the server runs.
#[derive(Debug)]
pub struct HostClaim {
    _lock: Flock<File>,
    /// The process that held it before (dead: its lock was released).
    pub previous: Option<Uuid>,
}

impl HostClaim {
    /// Takes the workspace root for `me`; `Ok(None)` when another live process holds it.
    ///
    /// # Errors
    /// When the file cannot be made, read or written.
    pub fn take(root: &Path, me: Uuid) -> std::io::Result<Option<Self>> {
        std::fs::create_dir_all(root)?;
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .mode(0o600)
            .open(root.join(INSTANCE_FILE))?;
        let Ok(mut lock) = Flock::lock(file, FlockArg::LockExclusiveNonblock) else {
            return Ok(None);
        };
        let mut text = String::new();
        lock.read_to_string(&mut text)?;
        let previous = text.trim().parse().ok().filter(|id| *id != me);
        lock.set_len(0)?;
        lock.rewind()?;
        writeln!(lock, "{me}")?;
        lock.sync_all()?;
        Ok(Some(Self {
            _lock: lock,
            previous,
        }))
    }
}

/// What a start recovered.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Recovered {
    /// The host's leftovers.
    pub reclaimed: Reclaimed,
    /// The lab sessions paused because their server was lost.
    pub paused: Vec<Uuid>,
}

/// Takes the labs' workspace root for this process and recovers from the one before it, if
/// it was killed: the leftovers, then the sessions (see the module docs). Call it at start,
/// before anything runs a lab; keep the claim for as long as the server runs. A failure is
/// logged, never fatal: labs that were not recovered are still reaped when idle.
pub async fn recover(
    db: &Database,
    labs: &Labs,
    instance: &Instance,
) -> (Option<HostClaim>, Recovered) {
    let root = labs.settings.sandbox.workspace_root.clone();
    let claim = match HostClaim::take(&root, instance.id) {
        Ok(Some(claim)) => claim,
        Ok(None) => {
            tracing::warn!(
                root = %root.display(),
                "another server process uses these lab workspaces: nothing of them is reclaimed"
            );
            return (None, Recovered::default());
        }
        Err(e) => {
            tracing::warn!(root = %root.display(), error = %e, "the lab workspaces cannot be claimed: nothing of them is reclaimed");
            return (None, Recovered::default());
        }
    };
    let reclaimed = labs
        .blocking(|driver| Ok(driver.reclaim()))
        .await
        .unwrap_or_default();
    if !reclaimed.is_empty() {
        tracing::warn!(
            environments = reclaimed.environments.len(),
            processes = reclaimed.processes,
            mounts = reclaimed.mounts,
            loop_devices = reclaimed.loop_devices,
            cgroups = reclaimed.cgroups,
            previous = ?claim.previous,
            "reclaimed what a server killed while labs ran left behind"
        );
    }
    let paused = match pause_lost(db, claim.previous, &reclaimed.environments, instance).await {
        Ok(paused) => paused,
        Err(e) => {
            tracing::warn!(error = %e, "pausing the lab sessions a killed server lost failed");
            Vec::new()
        }
    };
    if !paused.is_empty() {
        tracing::warn!(
            sessions = paused.len(),
            "paused the lab sessions a killed server was running; their learners were told"
        );
    }
    (Some(claim), Recovered { reclaimed, paused })
}

async fn pause_lost(
    db: &Database,
    previous: Option<Uuid>,
    environments: &[Uuid],
    instance: &Instance,
) -> Result<Vec<Uuid>, sqlx::Error> {
    let mut tx = begin_service(db.api()).await?;
    let paused = crate::db::labs::pause_lost_sessions(
        &mut tx,
        previous,
        environments,
        instance.id,
        STALE_AFTER,
    )
    .await?;
    if let Some(previous) = previous {
        crate::db::instances::remove(&mut tx, previous).await?;
    }
    tx.commit().await?;
    Ok(paused)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_claim_names_the_process_before_and_a_second_one_is_refused() {
        let root = tempfile::tempdir().expect("tempdir");
        let (first, second) = (Uuid::now_v7(), Uuid::now_v7());
        let claim = HostClaim::take(root.path(), first)
            .expect("claim")
            .expect("free");
        assert_eq!(claim.previous, None);
        assert!(
            HostClaim::take(root.path(), second)
                .expect("claim")
                .is_none()
        );
        drop(claim);
        let claim = HostClaim::take(root.path(), second)
            .expect("claim")
            .expect("free");
        assert_eq!(claim.previous, Some(first));
    }
}
