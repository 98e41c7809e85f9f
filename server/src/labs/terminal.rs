//! One running shell and what connects to it: a PTY whose output is kept in a bounded replay
//! buffer and fanned out to attached `WebSockets`, and whose input comes from one writer thread.
//!
//! PTY reads block, so they run on a thread of their own; writes go through one owner thread
//! fed by a queue bounded in bytes ([`INPUT_BUDGET_BYTES`] per shell: this memory is the
//! server's, outside the sandbox's cgroup). A client that types faster than the shell reads
//! waits for room, so its WebSocket is no longer read and TCP pushes back on it. Output is never queued without bound: each attached client gets a
//! bounded broadcast queue, and a client that falls behind it is told so and disconnected (it
//! reconnects and gets the replay), so a flood of output cannot exhaust the server's memory.
//! While clients read, though slower than the shell prints, the reader waits for them (flow
//! control, as a real terminal does); only a client that stops reading is cut off.
//! The shell itself does not depend on any connection: it lives until it is stopped, paused,
//! reaped idle, or left without a connection longer than the grace period.

use std::collections::VecDeque;
use std::io::{Read as _, Write as _};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Instant;

use axum::body::Bytes;
use portable_pty::{ChildKiller, MasterPty, PtySize};
use tokio::sync::{broadcast, watch};

use super::driver::{DriverError, EnvironmentSpec, ShellProcess};

/// How many output chunks (each at most [`CHUNK`] bytes) a client may fall behind.
const CLIENT_QUEUE: usize = 64;
/// How long output waits for a client that makes no progress before that client is dropped.
const STALL: std::time::Duration = std::time::Duration::from_secs(1);
/// The largest read from the PTY.
const CHUNK: usize = 16 * 1024;
/// The most input bytes one shell queues for its PTY: a client typing (or pasting) faster than
/// the shell reads waits for room, so its WebSocket stops being read and TCP pushes back.
pub const INPUT_BUDGET_BYTES: usize = 64 * 1024;
/// The largest piece of input queued at once (a 1 MiB frame is queued in pieces, as room
/// comes).
const INPUT_PIECE: usize = 16 * 1024;

struct Output {
    replay: VecDeque<u8>,
    capacity: usize,
    live: broadcast::Sender<Bytes>,
}

/// What the input queue holds, in bytes: counted so its bound can be checked from outside.
#[derive(Debug, Default)]
struct InputBytes {
    /// Queued now (taken from a client, not yet written to the PTY).
    queued: AtomicUsize,
    /// The most ever queued at once.
    peak: AtomicUsize,
    /// Taken from clients in all.
    received: AtomicUsize,
}

/// A shell on a PTY in a lab environment.
pub struct Terminal {
    /// The environment it runs in.
    pub spec: EnvironmentSpec,
    input: tokio::sync::mpsc::UnboundedSender<Vec<u8>>,
    /// Room in the input queue, one permit a byte: the queue's bound.
    input_room: Arc<tokio::sync::Semaphore>,
    input_bytes: Arc<InputBytes>,
    master: Mutex<Box<dyn MasterPty + Send>>,
    killer: Mutex<Box<dyn ChildKiller + Send + Sync>>,
    pid: Option<u32>,
    output: Arc<Mutex<Output>>,
    exited: watch::Receiver<bool>,
    last_input: Mutex<Instant>,
    input_unsaved: AtomicBool,
    attached: AtomicUsize,
    detached_since: Mutex<Option<Instant>>,
    started: Instant,
}

impl std::fmt::Debug for Terminal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Terminal")
            .field("environment", &self.spec.environment_id)
            .field("pid", &self.pid)
            .finish_non_exhaustive()
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// What a client gets when it attaches: the recent output, then everything after it, with
/// nothing lost or repeated in between.
#[derive(Debug)]
pub struct Attachment {
    /// The recent output (at most the replay buffer's size).
    pub replay: Vec<u8>,
    /// Output from now on.
    pub live: broadcast::Receiver<Bytes>,
    /// Becomes `true` when the shell ends.
    pub exited: watch::Receiver<bool>,
}

impl Terminal {
    /// Takes over a started shell: starts its reader and writer threads.
    pub fn spawn(
        spec: EnvironmentSpec,
        shell: ShellProcess,
        replay_bytes: usize,
    ) -> Result<Arc<Self>, DriverError> {
        let ShellProcess {
            master,
            mut child,
            killer,
        } = shell;
        let pid = child.process_id();
        let mut reader = master
            .try_clone_reader()
            .map_err(|e| DriverError::io("reading the PTY", e))?;
        let mut writer = master
            .take_writer()
            .map_err(|e| DriverError::io("writing the PTY", e))?;
        let (live, _) = broadcast::channel(CLIENT_QUEUE);
        let output = Arc::new(Mutex::new(Output {
            replay: VecDeque::new(),
            capacity: replay_bytes,
            live,
        }));
        let (exited_tx, exited) = watch::channel(false);
        let reader_output = Arc::clone(&output);
        std::thread::Builder::new()
            .name("pty-reader".into())
            .stack_size(128 * 1024)
            .spawn(move || {
                let mut buf = vec![0u8; CHUNK];
                let mut stalled = false;
                loop {
                    // Linux ends a PTY read with EIO, not EOF, when the shell is gone.
                    let n = match reader.read(&mut buf) {
                        Ok(0) | Err(_) => break,
                        Ok(n) => n,
                    };
                    let chunk = Bytes::copy_from_slice(&buf[..n]);
                    // Flow control: while the slowest client is nearly a queue behind, stop
                    // reading, so the shell waits for it as for a slow real terminal; a client
                    // that makes no progress for STALL is let fall behind (and is cut off),
                    // and the shell runs at full speed until the queue drains again.
                    let full = |o: &Mutex<Output>| lock(o).live.len() >= CLIENT_QUEUE - 4;
                    if !full(&reader_output) {
                        stalled = false;
                    } else if !stalled {
                        let give_up = Instant::now() + STALL;
                        while full(&reader_output) && Instant::now() < give_up {
                            std::thread::sleep(std::time::Duration::from_millis(1));
                        }
                        stalled = full(&reader_output);
                    }
                    let mut out = lock(&reader_output);
                    out.replay.extend(&chunk[..]);
                    let excess = out.replay.len().saturating_sub(out.capacity);
                    out.replay.drain(..excess);
                    // No receiver is fine: nobody is attached right now.
                    let _ = out.live.send(chunk);
                }
                let _ = child.wait();
                let _ = exited_tx.send(true);
            })
            .map_err(|e| DriverError::io("starting the PTY reader", e))?;
        // Unbounded in messages, bounded in bytes by `input_room`.
        let (input, mut queue) = tokio::sync::mpsc::unbounded_channel::<Vec<u8>>();
        let input_room = Arc::new(tokio::sync::Semaphore::new(INPUT_BUDGET_BYTES));
        let input_bytes = Arc::new(InputBytes::default());
        let writer_bytes = Arc::clone(&input_bytes);
        let writer_room = Arc::clone(&input_room);
        std::thread::Builder::new()
            .name("pty-writer".into())
            .stack_size(128 * 1024)
            .spawn(move || {
                while let Some(bytes) = queue.blocking_recv() {
                    let written = writer.write_all(&bytes).and_then(|()| writer.flush());
                    writer_bytes.queued.fetch_sub(bytes.len(), Ordering::SeqCst);
                    writer_room.add_permits(bytes.len());
                    if written.is_err() {
                        break;
                    }
                }
                // Writers still waiting for room give up.
                writer_room.close();
            })
            .map_err(|e| DriverError::io("starting the PTY writer", e))?;
        let now = Instant::now();
        Ok(Arc::new(Self {
            spec,
            input,
            input_room,
            input_bytes,
            master: Mutex::new(master),
            killer: Mutex::new(killer),
            pid,
            output,
            exited,
            last_input: Mutex::new(now),
            input_unsaved: AtomicBool::new(false),
            attached: AtomicUsize::new(0),
            detached_since: Mutex::new(Some(now)),
            started: now,
        }))
    }

    /// The PID of the outermost sandbox process.
    pub fn pid(&self) -> Option<u32> {
        self.pid
    }

    /// Whether the shell has ended.
    pub fn has_exited(&self) -> bool {
        *self.exited.borrow()
    }

    /// Attaches a client (see [`Attachment`]); call [`Terminal::detach`] when it leaves.
    pub fn attach(&self) -> Attachment {
        let out = lock(&self.output);
        let replay: Vec<u8> = out.replay.iter().copied().collect();
        let live = out.live.subscribe();
        drop(out);
        self.attached.fetch_add(1, Ordering::SeqCst);
        *lock(&self.detached_since) = None;
        Attachment {
            replay,
            live,
            exited: self.exited.clone(),
        }
    }

    /// A client left.
    pub fn detach(&self) {
        if self.attached.fetch_sub(1, Ordering::SeqCst) == 1 {
            *lock(&self.detached_since) = Some(Instant::now());
        }
    }

    /// Since when no client has been attached (`None`: one is).
    pub fn detached_since(&self) -> Option<Instant> {
        *lock(&self.detached_since)
    }

    /// Sends keystrokes; waits while the input queue holds its budget (the shell reads slower
    /// than the client types), so input backs up to the client instead of piling up here.
    /// `false` when the shell is gone.
    pub async fn write(&self, bytes: Vec<u8>) -> bool {
        *lock(&self.last_input) = Instant::now();
        self.input_unsaved.store(true, Ordering::Relaxed);
        let mut exited = self.exited.clone();
        for piece in bytes.chunks(INPUT_PIECE) {
            let n = piece.len();
            let room = tokio::select! {
                room = self.input_room.acquire_many(u32::try_from(n).unwrap_or(u32::MAX)) => room,
                _ = exited.wait_for(|done| *done) => return false,
            };
            let Ok(room) = room else { return false };
            // Given back by the writer thread once these bytes are written.
            room.forget();
            let queued = self.input_bytes.queued.fetch_add(n, Ordering::SeqCst) + n;
            self.input_bytes.peak.fetch_max(queued, Ordering::SeqCst);
            self.input_bytes.received.fetch_add(n, Ordering::SeqCst);
            if self.input.send(piece.to_vec()).is_err() {
                return false;
            }
        }
        true
    }

    /// Input bytes queued now for the PTY (taken from a client, not yet written).
    pub fn input_queued_bytes(&self) -> usize {
        self.input_bytes.queued.load(Ordering::SeqCst)
    }

    /// The most input bytes ever queued at once for this shell.
    pub fn input_queued_peak(&self) -> usize {
        self.input_bytes.peak.load(Ordering::SeqCst)
    }

    /// Input bytes taken from clients since the shell started.
    pub fn input_received_bytes(&self) -> usize {
        self.input_bytes.received.load(Ordering::SeqCst)
    }

    /// When input last came (the start, if none has).
    pub fn last_input(&self) -> Instant {
        *lock(&self.last_input)
    }

    /// Whether input came since the last call (the reaper saves `last_activity` then).
    pub fn take_input_unsaved(&self) -> bool {
        self.input_unsaved.swap(false, Ordering::Relaxed)
    }

    /// When the shell started.
    pub fn started(&self) -> Instant {
        self.started
    }

    /// Resizes the PTY.
    pub fn resize(&self, cols: u16, rows: u16) -> Result<(), DriverError> {
        lock(&self.master)
            .resize(PtySize {
                rows,
                cols,
                pixel_width: 0,
                pixel_height: 0,
            })
            .map_err(|e| DriverError::io("resizing the PTY", e))
    }

    /// Kills the shell (the sandbox dies with it: `--die-with-parent` and its PID namespace).
    pub fn kill(&self) {
        let _ = lock(&self.killer).kill();
    }
}
