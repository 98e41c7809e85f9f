//! The live channel's source: one `LISTEN skilltrack_sync` connection per server, fanned out to
//! every connected device through a tokio broadcast channel.
//!
//! The change-log triggers (`migrations/0030_sync_log.sql`) `NOTIFY skilltrack_sync` with the
//! owning user's id for personal rows, or `catalog` for shared ones; PostgreSQL delivers each at
//! commit, once per distinct payload per transaction. A device's stream keeps the notices meant
//! for it (its user's, and the catalog's) and tells it to pull; what it may actually read is
//! decided by the pull, under its RLS role, never here.
//!
//! [`spawn_compaction`] keeps the log itself short.
//!
//! The listener starts with the first subscriber. When its connection drops, notifications
//! may have been lost, so after reconnecting it tells everyone to pull
//! ([`Notice::Everything`]).

use std::sync::Arc;
use std::time::Duration;

use sqlx::postgres::{PgListener, PgPool, PgPoolOptions};
use tokio::sync::{OnceCell, broadcast, watch};
use uuid::Uuid;

use crate::db::Database;
use crate::db::session::begin_service;

/// The channel the change-log triggers notify.
pub const CHANNEL: &str = "skilltrack_sync";

/// How many notices a slow subscriber may fall behind before it is told to pull everything.
const BACKLOG: usize = 1024;

/// Something changed in the database.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Notice {
    /// Shared rows (the catalog, reviews).
    Catalog,
    /// This user's own rows.
    User(Uuid),
    /// Unknown: notifications may have been missed.
    Everything,
}

impl Notice {
    fn parse(payload: &str) -> Self {
        match payload {
            "catalog" => Self::Catalog,
            other => other.parse().map_or(Self::Everything, Self::User),
        }
    }
}

/// The fan-out: cheap to clone, shared by every handler.
#[derive(Debug, Clone)]
pub struct LiveFeed {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    api: PgPool,
    notices: broadcast::Sender<Notice>,
    started: OnceCell<()>,
    closed: watch::Sender<bool>,
}

impl LiveFeed {
    /// A feed listening through a connection made like the API pool's (its own, so the
    /// listener never takes a request's connection).
    pub fn new(api: &PgPool) -> Self {
        Self {
            inner: Arc::new(Inner {
                api: api.clone(),
                notices: broadcast::channel(BACKLOG).0,
                started: OnceCell::new(),
                closed: watch::channel(false).0,
            }),
        }
    }

    /// How many live channels listen now (one per connected device).
    pub fn listeners(&self) -> usize {
        self.inner.notices.receiver_count()
    }

    /// A receiver of every notice from now on. Starts the listener if it is not running, and
    /// waits (a few seconds at most) until it listens, so that no change committed after this
    /// returns goes unnoticed.
    pub async fn subscribe(&self) -> broadcast::Receiver<Notice> {
        let receiver = self.inner.notices.subscribe();
        self.inner
            .started
            .get_or_init(|| async {
                let (ready_tx, mut ready_rx) = watch::channel(false);
                tokio::spawn(listen(
                    self.inner.api.clone(),
                    self.inner.notices.clone(),
                    self.inner.closed.subscribe(),
                    ready_tx,
                ));
                let _ =
                    tokio::time::timeout(Duration::from_secs(5), ready_rx.wait_for(|r| *r)).await;
            })
            .await;
        receiver
    }

    /// Fires when the server shuts down: live streams end then, so that a graceful shutdown
    /// does not wait for devices that never hang up.
    pub fn closed(&self) -> watch::Receiver<bool> {
        self.inner.closed.subscribe()
    }

    /// Ends every live stream and the listener.
    pub fn close(&self) {
        self.inner.closed.send_replace(true);
    }
}

/// The listener loop: connect, LISTEN, forward; on a lost connection tell everyone to pull and
/// start again after a pause.
async fn listen(
    api: PgPool,
    notices: broadcast::Sender<Notice>,
    mut closed: watch::Receiver<bool>,
    ready: watch::Sender<bool>,
) {
    let own = PgPoolOptions::new()
        .max_connections(1)
        .connect_lazy_with(api.connect_options().as_ref().clone());
    let mut pause = Duration::from_millis(100);
    let mut lost = false;
    loop {
        if *closed.borrow() {
            return;
        }
        let attempt = async {
            let mut listener = PgListener::connect_with(&own).await?;
            listener.listen(CHANNEL).await?;
            Ok::<_, sqlx::Error>(listener)
        };
        match attempt.await {
            Ok(mut listener) => {
                ready.send_replace(true);
                pause = Duration::from_millis(100);
                if lost {
                    let _ = notices.send(Notice::Everything);
                }
                loop {
                    let received = tokio::select! {
                        _ = closed.wait_for(|c| *c) => return,
                        received = listener.try_recv() => received,
                    };
                    if let Ok(Some(n)) = received {
                        // Everything that arrived together goes out together, once numbered.
                        let mut batch = vec![Notice::parse(n.payload())];
                        while let Some(n) = listener.next_buffered() {
                            let notice = Notice::parse(n.payload());
                            if !batch.contains(&notice) {
                                batch.push(notice);
                            }
                        }
                        number_committed(&api).await;
                        for notice in batch {
                            let _ = notices.send(notice);
                        }
                    } else {
                        tracing::warn!("the sync listener lost its connection; reconnecting");
                        lost = true;
                        break;
                    }
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, "the sync listener cannot connect; retrying");
                lost = true;
            }
        }
        tokio::select! {
            _ = closed.wait_for(|c| *c) => return,
            () = tokio::time::sleep(pause) => {}
        }
        pause = (pause * 2).min(Duration::from_secs(10));
    }
}

/// Numbers the change log's committed entries before devices are told to pull: a pull never
/// waits for the sequencer (it numbers only when the lock is free), so whoever tells devices
/// about a change makes sure it is numbered first. A failure is logged; the devices still pull
/// and find the change at the next numbering.
async fn number_committed(api: &PgPool) {
    if let Err(e) = crate::db::sync::sequence(api).await {
        tracing::warn!(error = %e, "numbering the sync change log failed");
    }
}

/// Compacts the change log every `every`, dropping what is older than `retention` (devices
/// that last synced before then start again from a snapshot, cleanly). Ends with the pools.
/// Once for the cluster: of several server processes on one database, one compacts each
/// period ([`crate::instance::run_once`]).
pub fn spawn_compaction(
    db: Database,
    instance: Arc<crate::instance::Instance>,
    retention: chrono::Duration,
    every: Duration,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
        loop {
            tick.tick().await;
            if db.api().is_closed() {
                return;
            }
            let ran = crate::instance::run_once(&db, &instance, "sync_compaction", every, async {
                compact_once(&db, chrono::Utc::now() - retention).await
            })
            .await;
            match ran {
                Ok(Some(Ok(horizon))) => tracing::info!(horizon, "sync change log compacted"),
                Ok(Some(Err(e))) | Err(e) => {
                    tracing::warn!(error = %e, "compacting the sync change log failed");
                }
                Ok(None) => {}
            }
        }
    })
}

async fn compact_once(
    db: &Database,
    before: chrono::DateTime<chrono::Utc>,
) -> Result<i64, sqlx::Error> {
    // Numbered first, in a transaction of its own: only numbered entries are compacted.
    crate::db::sync::sequence(db.api()).await?;
    let mut tx = begin_service(db.api()).await?;
    let horizon = crate::db::sync::compact(&mut tx, before).await?;
    tx.commit().await?;
    Ok(horizon)
}

#[cfg(test)]
mod tests {
    use super::Notice;

    #[test]
    fn payloads_name_a_user_or_the_catalog() {
        let id = uuid::Uuid::now_v7();
        assert_eq!(Notice::parse("catalog"), Notice::Catalog);
        assert_eq!(Notice::parse(&id.to_string()), Notice::User(id));
        assert_eq!(Notice::parse("garbage"), Notice::Everything);
    }
}
