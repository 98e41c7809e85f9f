//! Rate limits.
//!
//! * [`RateLimiter`]: fixed windows, exactly `limit` attempts per key per window, then 429 with
//!   `Retry-After` until the window ends. In memory: each process counts its own (votes per
//!   user, certificate checks per address, analytics batches).
//! * [`SharedLimiter`]: the same windows counted in PostgreSQL, so every server process of a
//!   cluster counts the same attempts (sign-ins and sign-ups per address; decision 266).
//! * [`SharedBackoff`] (and [`FailureBackoff`], its in-memory model): failed sign-ins per
//!   account and address. A few are free, then each further try waits twice as long as the
//!   last. Only failures count and a success forgets them, so an attacker who fails on
//!   someone's account slows themselves down without ever locking the owner (at another
//!   address, with the right password) out.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use sha2::{Digest as _, Sha256};
use sqlx::PgPool;

use crate::db::rate_limits as db;
use crate::db::session::begin_service;

/// A limit: `limit` attempts per `window`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limit {
    /// Attempts allowed per window.
    pub limit: u32,
    /// The window.
    pub window: Duration,
}

/// Counts attempts per key.
#[derive(Debug)]
pub struct RateLimiter {
    limit: Limit,
    windows: Mutex<HashMap<String, (Instant, u32)>>,
}

impl RateLimiter {
    /// A limiter enforcing `limit`.
    pub fn new(limit: Limit) -> Self {
        Self {
            limit,
            windows: Mutex::new(HashMap::new()),
        }
    }

    /// Counts an attempt for `key` at `now`: `Ok` if it is within the limit, else how long until
    /// the next attempt is allowed.
    pub fn check(&self, key: &str, now: Instant) -> Result<(), Duration> {
        let mut windows = self
            .windows
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        // Forget finished windows now and then so the map cannot grow without bound.
        if windows.len() > 10_000 {
            let window = self.limit.window;
            windows.retain(|_, (start, _)| now.duration_since(*start) < window);
        }
        let entry = windows.entry(key.to_owned()).or_insert((now, 0));
        if now.duration_since(entry.0) >= self.limit.window {
            *entry = (now, 0);
        }
        if entry.1 >= self.limit.limit {
            return Err(self
                .limit
                .window
                .saturating_sub(now.duration_since(entry.0)));
        }
        entry.1 += 1;
        Ok(())
    }
}

/// How long a key waits after `failures` failures: nothing for the first `free`, then `base`,
/// doubling with each further failure, never more than `max`.
fn wait_after(failures: u32, free: u32, base: Duration, max: Duration) -> Duration {
    if failures < free {
        return Duration::ZERO;
    }
    let doublings = (failures - free).min(20);
    base.saturating_mul(1 << doublings).min(max)
}

/// The key as stored: a SHA-256, so the shared table holds no address or e-mail in clear.
fn key_hash(key: &str) -> [u8; 32] {
    Sha256::digest(key.as_bytes()).into()
}

/// A [`Limit`] counted in PostgreSQL, so that every process of a cluster counts one window per
/// key: 30 attempts through three processes are 30, not 90. Each check is one statement that
/// counts and answers (no read-then-write race between processes), in a short transaction of
/// its own that commits whether or not the request then succeeds.
#[derive(Debug)]
pub struct SharedLimiter {
    name: &'static str,
    limit: Limit,
}

impl SharedLimiter {
    /// A limiter named `name` (its rows' `limiter`) enforcing `limit`.
    pub fn new(name: &'static str, limit: Limit) -> Self {
        Self { name, limit }
    }

    /// Counts an attempt for `key`: `Ok(Ok(()))` within the limit, `Ok(Err(wait))` past it.
    pub async fn check(
        &self,
        api: &PgPool,
        key: &str,
    ) -> Result<Result<(), Duration>, sqlx::Error> {
        let mut tx = begin_service(api).await?;
        let window = db::hit(&mut tx, self.name, &key_hash(key), self.limit.window).await?;
        tx.commit().await?;
        if window.hits > self.limit.limit {
            // Never "retry after 0 s": the window ends within the next second at the latest.
            Ok(Err(window.remaining.max(Duration::from_millis(1))))
        } else {
            Ok(Ok(()))
        }
    }
}

/// [`FailureBackoff`] kept in PostgreSQL, shared by every process of a cluster: failures
/// through one process make the next try through another wait.
#[derive(Debug)]
pub struct SharedBackoff {
    name: &'static str,
    free: u32,
    base: Duration,
    max: Duration,
}

impl SharedBackoff {
    /// `free` failures, then waits of `base`, `2 × base`, … up to `max`; failures are
    /// forgotten `max` after the last one.
    pub fn new(name: &'static str, free: u32, base: Duration, max: Duration) -> Self {
        Self {
            name,
            free,
            base,
            max,
        }
    }

    /// Whether `key` may try now: `Ok(Err(wait))` with how long it must still wait.
    pub async fn check(
        &self,
        api: &PgPool,
        key: &str,
    ) -> Result<Result<(), Duration>, sqlx::Error> {
        let mut tx = begin_service(api).await?;
        let failures = db::failures(&mut tx, self.name, &key_hash(key)).await?;
        tx.commit().await?;
        let Some((count, ago)) = failures else {
            return Ok(Ok(()));
        };
        let wait = wait_after(count, self.free, self.base, self.max);
        Ok(match wait.checked_sub(ago) {
            Some(left) if !left.is_zero() => Err(left),
            _ => Ok(()),
        })
    }

    /// Counts a failure of `key` now.
    pub async fn failed(&self, api: &PgPool, key: &str) -> Result<(), sqlx::Error> {
        let mut tx = begin_service(api).await?;
        db::record_failure(&mut tx, self.name, &key_hash(key), self.max).await?;
        tx.commit().await
    }

    /// Forgets the failures of `key` (it succeeded).
    pub async fn succeeded(&self, api: &PgPool, key: &str) -> Result<(), sqlx::Error> {
        let mut tx = begin_service(api).await?;
        db::forget(&mut tx, self.name, &key_hash(key)).await?;
        tx.commit().await
    }
}

/// Deletes shared counters whose window or memory has ended; returns how many.
pub async fn delete_expired(api: &PgPool) -> Result<u64, sqlx::Error> {
    let mut tx = begin_service(api).await?;
    let deleted = db::delete_expired(&mut tx).await?;
    tx.commit().await?;
    Ok(deleted)
}

/// Exponential backoff after repeated failures, per key.
#[derive(Debug)]
pub struct FailureBackoff {
    /// Failures allowed before the first wait.
    free: u32,
    /// The first wait; each further failure doubles it.
    base: Duration,
    /// The longest wait (and how long failures are remembered after the last one).
    max: Duration,
    failures: Mutex<HashMap<String, (u32, Instant)>>,
}

impl FailureBackoff {
    /// `free` failures, then waits of `base`, `2 × base`, … up to `max`.
    pub fn new(free: u32, base: Duration, max: Duration) -> Self {
        Self {
            free,
            base,
            max,
            failures: Mutex::new(HashMap::new()),
        }
    }

    fn wait_after(&self, failures: u32) -> Duration {
        wait_after(failures, self.free, self.base, self.max)
    }

    /// Whether `key` may try now: `Err` with how long it must still wait.
    pub fn check(&self, key: &str, now: Instant) -> Result<(), Duration> {
        let failures = self
            .failures
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let Some(&(count, last)) = failures.get(key) else {
            return Ok(());
        };
        let ready = last + self.wait_after(count);
        if now >= ready {
            Ok(())
        } else {
            Err(ready - now)
        }
    }

    /// Counts a failure of `key` at `now`.
    pub fn failed(&self, key: &str, now: Instant) {
        let mut failures = self
            .failures
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if failures.len() > 10_000 {
            let max = self.max;
            failures.retain(|_, (_, last)| now.duration_since(*last) < max);
        }
        let entry = failures.entry(key.to_owned()).or_insert((0, now));
        if now.duration_since(entry.1) >= self.max {
            *entry = (0, now);
        }
        entry.0 = entry.0.saturating_add(1);
        entry.1 = now;
    }

    /// Forgets the failures of `key` (it succeeded).
    pub fn succeeded(&self, key: &str) {
        self.failures
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .remove(key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failures_back_off_exponentially_and_a_success_forgets_them() {
        let backoff = FailureBackoff::new(2, Duration::from_secs(30), Duration::from_secs(100));
        let t0 = Instant::now();
        for _ in 0..2 {
            assert_eq!(backoff.check("a", t0), Ok(()));
            backoff.failed("a", t0);
        }
        assert_eq!(backoff.check("a", t0), Err(Duration::from_secs(30)));
        assert_eq!(backoff.check("b", t0), Ok(()), "keys are separate");
        let t1 = t0 + Duration::from_secs(30);
        assert_eq!(backoff.check("a", t1), Ok(()));
        backoff.failed("a", t1);
        assert_eq!(backoff.check("a", t1), Err(Duration::from_secs(60)));
        backoff.failed("a", t1);
        assert_eq!(
            backoff.check("a", t1),
            Err(Duration::from_secs(100)),
            "capped"
        );
        backoff.succeeded("a");
        assert_eq!(backoff.check("a", t1), Ok(()));
    }

    #[test]
    fn exactly_the_limit_then_refused_until_the_window_ends() {
        let limiter = RateLimiter::new(Limit {
            limit: 3,
            window: Duration::from_secs(60),
        });
        let t0 = Instant::now();
        for _ in 0..3 {
            assert_eq!(limiter.check("a", t0), Ok(()));
        }
        assert_eq!(
            limiter.check("a", t0 + Duration::from_secs(10)),
            Err(Duration::from_secs(50))
        );
        assert_eq!(limiter.check("b", t0), Ok(()), "keys are separate");
        assert_eq!(limiter.check("a", t0 + Duration::from_secs(60)), Ok(()));
    }
}
