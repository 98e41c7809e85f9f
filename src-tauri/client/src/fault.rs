//! Named fault points: the steps of a sync where a test can make this process die on the spot,
//! as a power cut or SIGKILL would, to prove that a crash at any step loses nothing and applies
//! nothing twice.
//!
//! Why named points rather than killing the process at a random moment: a kill that has to land
//! inside a timing window (a push takes 20 ms here) proves nothing when the machine is loaded
//! and the window moves; the old crash test counted its lucky kills and failed a fresh-clone run
//! of the whole suite (issue 19). A named point is reached by the same step whatever the load,
//! so a test chooses *where* to crash, and how often it has been there, from a seed.
//!
//! `SKILLTRACK_FAULT_POINT=<name>` (a [`FaultPoint::name`]) and `SKILLTRACK_FAULT_HIT=<n>`
//! (default 1): the n-th time this process reaches that point it aborts — no destructors, no
//! flush, no SQLite commit — after one line on stderr naming the point. Unset, every point is
//! one load of a value read once. Release builds compile every point to nothing: an app as
//! shipped cannot be crashed through its environment.

/// A step of push or pull where a test may crash the process.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FaultPoint {
    /// A batch was read from the outbox; nothing sent yet.
    PushBatchRead,
    /// The server answered a push (it answers after committing the batch); the answer is unread.
    PushAnswerUnread,
    /// The answer was read; the outbox is untouched.
    PushAnswerRead,
    /// The answered mutations are out of the outbox inside the transaction, not committed.
    PushResolveUncommitted,
    /// The answer is committed to the outbox; the next batch (or the pull) has not started.
    PushResolved,
    /// A pulled page arrived; nothing of it is applied.
    PullPageFetched,
    /// Inside a page's transaction, between one table's rows and the next table's.
    PullBetweenTables,
    /// Inside a page's transaction, every row written; the cursor is not saved yet.
    PullRowsWritten,
    /// A page and its cursor are committed; the next page is not applied yet.
    PullPageCommitted,
}

impl FaultPoint {
    /// Every point, in the order a sync reaches them.
    pub const ALL: [Self; 9] = [
        Self::PushBatchRead,
        Self::PushAnswerUnread,
        Self::PushAnswerRead,
        Self::PushResolveUncommitted,
        Self::PushResolved,
        Self::PullPageFetched,
        Self::PullBetweenTables,
        Self::PullRowsWritten,
        Self::PullPageCommitted,
    ];

    /// The name `SKILLTRACK_FAULT_POINT` takes.
    pub fn name(self) -> &'static str {
        match self {
            Self::PushBatchRead => "push.batch_read",
            Self::PushAnswerUnread => "push.answer_unread",
            Self::PushAnswerRead => "push.answer_read",
            Self::PushResolveUncommitted => "push.resolve_uncommitted",
            Self::PushResolved => "push.resolved",
            Self::PullPageFetched => "pull.page_fetched",
            Self::PullBetweenTables => "pull.between_tables",
            Self::PullRowsWritten => "pull.rows_written",
            Self::PullPageCommitted => "pull.page_committed",
        }
    }

    /// The point called `name`.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|p| p.name() == name)
    }
}

/// The variable naming the point to crash at.
pub const POINT_ENV: &str = "SKILLTRACK_FAULT_POINT";
/// The variable saying on which arrival at the point to crash (1 = the first).
pub const HIT_ENV: &str = "SKILLTRACK_FAULT_HIT";

/// This process has reached `point`: aborts here if a test asked for it (debug builds only).
#[inline]
pub fn reached(point: FaultPoint) {
    #[cfg(debug_assertions)]
    armed::reached(point);
    #[cfg(not(debug_assertions))]
    let _ = point;
}

#[cfg(debug_assertions)]
mod armed {
    use std::sync::OnceLock;
    use std::sync::atomic::{AtomicU64, Ordering};

    use super::{FaultPoint, HIT_ENV, POINT_ENV};

    /// The fault a test asked for, and how often its point has been reached.
    struct Armed {
        point: FaultPoint,
        hit: u64,
        arrivals: AtomicU64,
    }

    static ARMED: OnceLock<Option<Armed>> = OnceLock::new();

    fn from_env() -> Option<Armed> {
        let name = std::env::var(POINT_ENV).ok().filter(|n| !n.is_empty())?;
        let Some(point) = FaultPoint::from_name(&name) else {
            // Said, not fatal: a misspelt point in a test shows as a test that never crashed.
            eprintln!("{POINT_ENV}={name} names no fault point; none is armed");
            return None;
        };
        let hit = std::env::var(HIT_ENV)
            .ok()
            .and_then(|h| h.parse().ok())
            .unwrap_or(1);
        Some(Armed {
            point,
            hit,
            arrivals: AtomicU64::new(0),
        })
    }

    pub(super) fn reached(point: FaultPoint) {
        let Some(armed) = ARMED.get_or_init(from_env) else {
            return;
        };
        if armed.point != point {
            return;
        }
        let arrival = armed.arrivals.fetch_add(1, Ordering::SeqCst) + 1;
        if arrival == armed.hit {
            eprintln!(
                "fault point {} reached (arrival {arrival}): aborting",
                point.name()
            );
            std::process::abort();
        }
    }
}
