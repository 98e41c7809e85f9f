//! The server processes of a cluster and the lab sessions each hosts
//! (`private.server_instances`, `private.lab_session_hosts`, migration 0072).

use std::time::Duration;

use sqlx::PgConnection;
use uuid::Uuid;

/// Says that `instance` runs (and where the others reach it), now.
pub async fn heartbeat(
    conn: &mut PgConnection,
    instance: Uuid,
    internal_url: Option<&str>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO private.server_instances (id, internal_url) VALUES ($1, $2)
         ON CONFLICT (id) DO UPDATE SET seen_at = now(), internal_url = EXCLUDED.internal_url",
    )
    .bind(instance)
    .bind(internal_url)
    .execute(conn)
    .await
    .map(drop)
}

/// Says that `instance` stopped (a clean shutdown): its sessions are nobody's.
pub async fn remove(conn: &mut PgConnection, instance: Uuid) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM private.lab_session_hosts WHERE instance_id = $1")
        .bind(instance)
        .execute(&mut *conn)
        .await?;
    sqlx::query("DELETE FROM private.server_instances WHERE id = $1")
        .bind(instance)
        .execute(conn)
        .await
        .map(drop)
}

/// Forgets processes not heard from for `stale` (killed, or cut off), and the lab sessions
/// they hosted; returns how many processes.
pub async fn forget_stale(conn: &mut PgConnection, stale: Duration) -> Result<u64, sqlx::Error> {
    let stale_ms = i64::try_from(stale.as_millis()).unwrap_or(i64::MAX / 2);
    sqlx::query(
        "DELETE FROM private.lab_session_hosts h USING private.server_instances i
         WHERE h.instance_id = i.id AND i.seen_at < now() - $1 * interval '1 millisecond'",
    )
    .bind(stale_ms)
    .execute(&mut *conn)
    .await?;
    sqlx::query(
        "DELETE FROM private.server_instances WHERE seen_at < now() - $1 * interval '1 millisecond'",
    )
    .bind(stale_ms)
    .execute(conn)
    .await
    .map(|r| r.rows_affected())
}

/// Records that `instance` runs the session's sandbox and shell (replacing an earlier host).
pub async fn host_session(
    conn: &mut PgConnection,
    session: Uuid,
    instance: Uuid,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO private.lab_session_hosts (session_id, instance_id) VALUES ($1, $2)
         ON CONFLICT (session_id) DO UPDATE SET instance_id = EXCLUDED.instance_id, since = now()",
    )
    .bind(session)
    .bind(instance)
    .execute(conn)
    .await
    .map(drop)
}

/// Forgets that `instance` hosts the session (its shell stopped).
pub async fn unhost_session(
    conn: &mut PgConnection,
    session: Uuid,
    instance: Uuid,
) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM private.lab_session_hosts WHERE session_id = $1 AND instance_id = $2")
        .bind(session)
        .bind(instance)
        .execute(conn)
        .await
        .map(drop)
}

/// The process hosting a session, when one alive (heard from within `stale`) does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Host {
    /// The process.
    pub instance: Uuid,
    /// Where the other processes reach it, when it said.
    pub internal_url: Option<String>,
}

/// Who hosts the session now, if a live process does.
pub async fn session_host(
    conn: &mut PgConnection,
    session: Uuid,
    stale: Duration,
) -> Result<Option<Host>, sqlx::Error> {
    let stale_ms = i64::try_from(stale.as_millis()).unwrap_or(i64::MAX / 2);
    let row: Option<(Uuid, Option<String>)> = sqlx::query_as(
        "SELECT i.id, i.internal_url FROM private.lab_session_hosts h
         JOIN private.server_instances i ON i.id = h.instance_id
         WHERE h.session_id = $1 AND i.seen_at >= now() - $2 * interval '1 millisecond'",
    )
    .bind(session)
    .bind(stale_ms)
    .fetch_optional(conn)
    .await?;
    Ok(row.map(|(instance, internal_url)| Host {
        instance,
        internal_url,
    }))
}

/// The sessions hosted by live processes other than `me` (the reaper leaves them to those).
pub async fn sessions_hosted_elsewhere(
    conn: &mut PgConnection,
    me: Uuid,
    stale: Duration,
) -> Result<Vec<Uuid>, sqlx::Error> {
    let stale_ms = i64::try_from(stale.as_millis()).unwrap_or(i64::MAX / 2);
    sqlx::query_scalar(
        "SELECT h.session_id FROM private.lab_session_hosts h
         JOIN private.server_instances i ON i.id = h.instance_id
         WHERE h.instance_id <> $1 AND i.seen_at >= now() - $2 * interval '1 millisecond'",
    )
    .bind(me)
    .bind(stale_ms)
    .fetch_all(conn)
    .await
}

/// Of these sessions, those neither starting nor active any more (paused, completed, expired,
/// or deleted): a shell still running for one of them was stopped through another process.
pub async fn sessions_ended(
    conn: &mut PgConnection,
    ids: &[Uuid],
) -> Result<Vec<Uuid>, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT t.id FROM unnest($1::uuid[]) AS t(id)
         WHERE NOT EXISTS (SELECT 1 FROM public.lab_sessions s
                           WHERE s.id = t.id AND s.status IN ('starting', 'active'))",
    )
    .bind(ids)
    .fetch_all(conn)
    .await
}

/// How many server processes said they were alive within `within`.
pub async fn alive(conn: &mut PgConnection, within: Duration) -> Result<i64, sqlx::Error> {
    let within_ms = i64::try_from(within.as_millis()).unwrap_or(i64::MAX / 2);
    sqlx::query_scalar(
        "SELECT count(*) FROM private.server_instances \
         WHERE seen_at >= now() - $1 * interval '1 millisecond'",
    )
    .bind(within_ms)
    .fetch_one(conn)
    .await
}
