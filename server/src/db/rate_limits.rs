//! Rate-limit counters shared by every server process (`private.rate_limits`, migration 0072):
//! each statement reads and moves a counter in one step, so attempts through three processes
//! at once are counted as they would be by one.
//!
//! Times are the database's (`now()`), never a process's clock: processes on different hosts
//! agree on when a window ends. Run each call as `service_role` (the API roles have no
//! privilege on the table).

use std::time::Duration;

use sqlx::PgConnection;

fn millis(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

fn duration(ms: i64) -> Duration {
    Duration::from_millis(u64::try_from(ms).unwrap_or(0))
}

/// A counter after an attempt was counted: attempts in the current window (this one included),
/// and how long until the window ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    /// Attempts in the window, this one included.
    pub hits: u32,
    /// Until the window ends.
    pub remaining: Duration,
}

/// Counts an attempt of `key` against `limiter`'s fixed window of `window`: a window that has
/// ended starts again with this attempt.
pub async fn hit(
    conn: &mut PgConnection,
    limiter: &str,
    key_hash: &[u8],
    window: Duration,
) -> Result<Window, sqlx::Error> {
    let (hits, remaining): (i32, i64) = sqlx::query_as(
        "INSERT INTO private.rate_limits AS r (limiter, key_hash, started_at, hits, expires_at)
         VALUES ($1, $2, now(), 1, now() + $3 * interval '1 millisecond')
         ON CONFLICT (limiter, key_hash) DO UPDATE SET
           started_at = CASE WHEN r.expires_at <= now() THEN now() ELSE r.started_at END,
           hits = CASE WHEN r.expires_at <= now() THEN 1 ELSE least(r.hits, 2147483646) + 1 END,
           expires_at = CASE WHEN r.expires_at <= now()
                             THEN now() + $3 * interval '1 millisecond' ELSE r.expires_at END
         RETURNING hits, ceil(extract(epoch FROM expires_at - now()) * 1000)::bigint",
    )
    .bind(limiter)
    .bind(key_hash)
    .bind(millis(window))
    .fetch_one(conn)
    .await?;
    Ok(Window {
        hits: u32::try_from(hits).unwrap_or(0),
        remaining: duration(remaining),
    })
}

/// Failures remembered for `key`: how many, and how long ago the last was. `None` when there
/// are none (or they are forgotten).
pub async fn failures(
    conn: &mut PgConnection,
    limiter: &str,
    key_hash: &[u8],
) -> Result<Option<(u32, Duration)>, sqlx::Error> {
    let row: Option<(i32, i64)> = sqlx::query_as(
        "SELECT hits, floor(extract(epoch FROM now() - started_at) * 1000)::bigint
         FROM private.rate_limits
         WHERE limiter = $1 AND key_hash = $2 AND expires_at > now()",
    )
    .bind(limiter)
    .bind(key_hash)
    .fetch_optional(conn)
    .await?;
    Ok(row.map(|(hits, ago)| (u32::try_from(hits).unwrap_or(0), duration(ago))))
}

/// Counts a failure of `key` now; failures are forgotten `forget_after` after the last one.
pub async fn record_failure(
    conn: &mut PgConnection,
    limiter: &str,
    key_hash: &[u8],
    forget_after: Duration,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO private.rate_limits AS r (limiter, key_hash, started_at, hits, expires_at)
         VALUES ($1, $2, now(), 1, now() + $3 * interval '1 millisecond')
         ON CONFLICT (limiter, key_hash) DO UPDATE SET
           hits = CASE WHEN r.expires_at <= now() THEN 1 ELSE least(r.hits, 2147483646) + 1 END,
           started_at = now(),
           expires_at = now() + $3 * interval '1 millisecond'",
    )
    .bind(limiter)
    .bind(key_hash)
    .bind(millis(forget_after))
    .execute(conn)
    .await
    .map(drop)
}

/// Forgets the counter of `key` (a sign-in succeeded).
pub async fn forget(
    conn: &mut PgConnection,
    limiter: &str,
    key_hash: &[u8],
) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM private.rate_limits WHERE limiter = $1 AND key_hash = $2")
        .bind(limiter)
        .bind(key_hash)
        .execute(conn)
        .await
        .map(drop)
}

/// Deletes every counter whose window or memory has ended; returns how many.
pub async fn delete_expired(conn: &mut PgConnection) -> Result<u64, sqlx::Error> {
    sqlx::query("DELETE FROM private.rate_limits WHERE expires_at <= now()")
        .execute(conn)
        .await
        .map(|r| r.rows_affected())
}
