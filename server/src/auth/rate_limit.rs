//! Rate limits, in memory (one server process enforces its own count; see docs/decisions.md):
//!
//! * [`RateLimiter`]: fixed windows, exactly `limit` attempts per key per window, then 429 with
//!   `Retry-After` until the window ends (sign-ins and sign-ups per address, votes per user,
//!   certificate checks per address).
//! * [`FailureBackoff`]: failed sign-ins per account and address. A few are free, then each
//!   further try waits twice as long as the last. Only failures count and a success forgets
//!   them, so an attacker who fails on someone's account slows themselves down without ever
//!   locking the owner (at another address, with the right password) out.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

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
        if failures < self.free {
            return Duration::ZERO;
        }
        let doublings = (failures - self.free).min(20);
        self.base.saturating_mul(1 << doublings).min(self.max)
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
