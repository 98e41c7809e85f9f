//! Revoked sessions, known to every server process within moments of the revocation.
//!
//! Access tokens are signed and live for minutes; checking the database on every request
//! would cost a query each. Instead each process keeps the sessions revoked recently (no
//! older than an access token can live: a token of a session revoked before that has expired
//! anyway) and refuses their tokens. The set is filled three ways:
//!
//! * by this process, the moment it revokes a session itself ([`RevokedSessions::insert`]);
//! * by `NOTIFY skilltrack_revoked` from the triggers of `migrations/0036`, whichever process
//!   or operator revoked it ([`spawn_listener`]);
//! * by reading `auth.sessions` whenever the listener (re)connects, so revocations sent while
//!   it was away are not missed.
//!
//! Long-lived connections (the live sync stream, lab terminals) [`RevokedSessions::watch`] and
//! end when their session is revoked.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use chrono::{DateTime, Utc};
use sqlx::postgres::{PgListener, PgPoolOptions};
use tokio::sync::broadcast;
use uuid::Uuid;

use crate::db::Database;

/// The channel the revocation triggers notify, with the session id as the payload.
pub const CHANNEL: &str = "skilltrack_revoked";

/// The sessions revoked within the last access-token lifetime.
#[derive(Debug, Clone)]
pub struct RevokedSessions {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    /// Session → when it was revoked.
    sessions: RwLock<HashMap<Uuid, DateTime<Utc>>>,
    /// How long an entry matters: the longest an access token lives, plus leeway.
    keep: chrono::Duration,
    revoked: broadcast::Sender<Uuid>,
}

impl RevokedSessions {
    /// An empty set whose entries matter for `token_ttl` (plus a minute of leeway).
    pub fn new(token_ttl: Duration) -> Self {
        let keep = chrono::Duration::from_std(token_ttl).unwrap_or(chrono::Duration::MAX)
            + chrono::Duration::minutes(1);
        Self {
            inner: Arc::new(Inner {
                sessions: RwLock::new(HashMap::new()),
                keep,
                revoked: broadcast::channel(256).0,
            }),
        }
    }

    /// Whether the session's tokens must be refused.
    pub fn contains(&self, session: Uuid) -> bool {
        self.inner
            .sessions
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .contains_key(&session)
    }

    /// Records a revocation and tells whoever watches.
    pub fn insert(&self, session: Uuid, at: DateTime<Utc>) {
        let fresh = {
            let mut sessions = self
                .inner
                .sessions
                .write()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            let horizon = Utc::now() - self.inner.keep;
            // Entries older than any living token mean nothing any more.
            if sessions.len() > 1024 {
                sessions.retain(|_, revoked| *revoked > horizon);
            }
            sessions.insert(session, at).is_none()
        };
        if fresh {
            let _ = self.inner.revoked.send(session);
        }
    }

    /// A stream of revoked session ids, from now on.
    pub fn watch(&self) -> broadcast::Receiver<Uuid> {
        self.inner.revoked.subscribe()
    }

    /// Resolves when `session` is revoked (at once if it already is). A lagging watcher checks
    /// the set again, so it never misses its own session.
    pub async fn revoked(&self, session: Uuid) {
        let mut events = self.watch();
        if self.contains(session) {
            return;
        }
        loop {
            match events.recv().await {
                Ok(id) if id == session => return,
                Ok(_) => {}
                Err(broadcast::error::RecvError::Lagged(_)) => {
                    if self.contains(session) {
                        return;
                    }
                }
                // The set is gone with the server: nothing will be revoked any more.
                Err(broadcast::error::RecvError::Closed) => std::future::pending().await,
            }
        }
    }

    /// How far back the database must be read to know every revocation that still matters.
    fn since(&self) -> DateTime<Utc> {
        Utc::now() - self.inner.keep
    }
}

/// Listens for revocations from every process and keeps `revoked` current; on every
/// (re)connection it first reads the recent revocations from the database. Ends when the
/// pools close.
pub fn spawn_listener(db: Database, revoked: RevokedSessions) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let own = PgPoolOptions::new()
            .max_connections(1)
            .connect_lazy_with(db.api().connect_options().as_ref().clone());
        let mut pause = Duration::from_millis(100);
        loop {
            if db.api().is_closed() {
                return;
            }
            match listen(&db, &own, &revoked).await {
                Ok(()) => return,
                Err(e) => {
                    tracing::warn!(error = %e, "the revocation listener lost its connection; reconnecting");
                }
            }
            tokio::time::sleep(pause).await;
            pause = (pause * 2).min(Duration::from_secs(10));
        }
    })
}

/// One connection's life: LISTEN, catch up from the table, then follow the notifications.
async fn listen(
    db: &Database,
    own: &sqlx::PgPool,
    revoked: &RevokedSessions,
) -> Result<(), sqlx::Error> {
    let mut listener = PgListener::connect_with(own).await?;
    listener.listen(CHANNEL).await?;
    // Listening first, then reading: a revocation committed in between is seen twice, never
    // not at all.
    let mut tx = crate::db::session::begin_service(db.api()).await?;
    let recent = crate::db::auth::revoked_sessions_since(&mut tx, revoked.since()).await?;
    tx.commit().await?;
    for (session, at) in recent {
        revoked.insert(session, at);
    }
    loop {
        let Some(notification) = listener.try_recv().await? else {
            // The connection dropped; revocations may have been sent meanwhile: catch up again.
            return Err(sqlx::Error::Io(std::io::Error::other(
                "the listening connection dropped",
            )));
        };
        if let Ok(session) = notification.payload().parse::<Uuid>() {
            revoked.insert(session, Utc::now());
        } else {
            tracing::warn!(
                payload = notification.payload(),
                "a revocation notice without a session id"
            );
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, reason = "tests fail loudly on purpose")]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_watcher_hears_its_own_session_and_no_other() {
        let revoked = RevokedSessions::new(Duration::from_secs(900));
        let (mine, other) = (Uuid::now_v7(), Uuid::now_v7());
        let waiting = tokio::spawn({
            let revoked = revoked.clone();
            async move { revoked.revoked(mine).await }
        });
        revoked.insert(other, Utc::now());
        tokio::task::yield_now().await;
        assert!(!waiting.is_finished());
        assert!(revoked.contains(other) && !revoked.contains(mine));
        revoked.insert(mine, Utc::now());
        waiting.await.unwrap();
        // Already revoked: at once.
        revoked.revoked(mine).await;
    }
}
