//! The Skilltrack client engine: the offline cache (SQLite), the sync engine, the HTTP client,
//! the session store and media downloads — with no Tauri dependency, so it is tested headless
//! and driven by the `skilltrack` CLI as well as by the desktop app.
//!
//! * [`cache`]: every SQL statement of the client; rows as synced, the outbox, downloads.
//! * [`api`]: the server's HTTP API.
//! * [`tls`]: the certificate authorities `https://` and the terminal's `wss://` trust.
//! * [`tokens`]: the session in the OS keyring (or a private file where there is none).
//! * [`sync`]: push, pull, the live channel, online/offline status, backoff.
//! * [`sync_lock`]: one sync at a time on one cache (the app and the CLI), by an OS file lock.
//! * [`writes`]: a learner's offline writes (progress, bookmarks, reviews, notifications read).
//! * [`online`]: what needs the server (sign-up, enrolling, timed attempts, reviews of attempts).
//! * [`downloads`]: resumable, verified media downloads.
//! * [`course_downloads`]: whole courses (or modules) offline, their size told first.
//! * [`labs`]: the lab catalog from the cache, lab sessions and files, the terminal connection.
//! * [`device`]: one account's data directory, with all of the above opened.
//! * [`authoring`]: an instructor's courses (drafts included), publishing, the grading queue.
//! * [`fault`]: named fault points, where tests crash the process at one step of a sync.
//! * [`certificates`]: signed certificates: the issuer's keys and revocation lists cached for
//!   offline verification, and verifying a credential file.

#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod api;
pub mod authoring;
pub mod cache;
pub mod certificates;
pub mod course_downloads;
pub mod course_packages;
pub mod device;
pub mod downloads;
pub mod fault;
pub mod labs;
pub mod online;
pub mod sync;
pub mod sync_lock;
pub mod tls;
pub mod tokens;
pub mod writes;
