//! Periodic jobs that run once for the cluster (`private.periodic_runs`, migration 0072).
//!
//! A process runs a job in one transaction that holds the job's advisory lock for as long as
//! the job runs ([`try_lock`]) and claims the period ([`claim`]): the lock keeps two processes
//! from running it at once; the claim keeps a process whose timer fires just after another's
//! run from running it again in the same period. A transaction-level lock, not a session
//! one: if the process dies or the task is dropped mid-run, the transaction ends and the lock
//! with it, so no pooled connection can keep it.

use std::time::Duration;

use sqlx::PgConnection;
use uuid::Uuid;

/// Takes the job's advisory lock until the transaction ends, if no one holds it; false if
/// another process is running the job now.
pub async fn try_lock(conn: &mut PgConnection, job: &str) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar("SELECT pg_try_advisory_xact_lock(hashtextextended('periodic:' || $1, 0))")
        .bind(job)
        .fetch_one(conn)
        .await
}

/// Records that `instance` runs `job` now, unless its last run started less than `every` ago
/// (then false: this period's run is done). Call it holding the job's lock.
pub async fn claim(
    conn: &mut PgConnection,
    job: &str,
    every: Duration,
    instance: Uuid,
) -> Result<bool, sqlx::Error> {
    // A little slack: timers of one process drift by milliseconds, and a run due "now" must
    // not wait a whole further period because it came a hair early.
    let period_ms = i64::try_from(every.as_millis()).unwrap_or(i64::MAX / 2) * 9 / 10;
    let claimed: Option<i64> = sqlx::query_scalar(
        "INSERT INTO private.periodic_runs AS p (job, runs, last_started_at, last_instance)
         VALUES ($1, 1, now(), $3)
         ON CONFLICT (job) DO UPDATE SET
           runs = p.runs + 1, last_started_at = now(), last_instance = $3
         WHERE p.last_started_at <= now() - $2 * interval '1 millisecond'
         RETURNING runs",
    )
    .bind(job)
    .bind(period_ms)
    .bind(instance)
    .fetch_optional(conn)
    .await?;
    Ok(claimed.is_some())
}

/// How many times `job` has run, for the cluster (tests and operators).
pub async fn runs(conn: &mut PgConnection, job: &str) -> Result<i64, sqlx::Error> {
    let runs: Option<i64> =
        sqlx::query_scalar("SELECT runs FROM private.periodic_runs WHERE job = $1")
            .bind(job)
            .fetch_optional(conn)
            .await?;
    Ok(runs.unwrap_or(0))
}
