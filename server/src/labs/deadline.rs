//! Running a sandbox command to its end, its deadline, or a stop from outside, whichever
//! comes first.
//!
//! A command's process is the sandbox's bubblewrap (`setpriv` and `prlimit` `exec` it), and
//! bubblewrap's child is PID 1 of the sandbox's PID namespace: when PID 1 of a namespace dies
//! the kernel kills everything else in it. That child is meant to die with bubblewrap
//! (`--die-with-parent`), but it did not always (seen when a session was stopped), so the
//! command's children get their `SIGKILL` first, from us, then the command itself: every process
//! of that sandbox ends, however deep.
//!
//! The process is killed by its PID, so that PID must still be the command's: the waiting
//! thread waits with `WNOWAIT` (the exited process stays a zombie, its PID taken), and reaps it
//! only once the thread that may kill it has finished.

use std::io::Write as _;
use std::process::{Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use nix::errno::Errno;
use nix::sys::signal::{Signal, kill};
use nix::sys::wait::{Id, WaitPidFlag, waitid};
use nix::unistd::Pid;

/// What the thread that may kill the command hears.
#[derive(Debug)]
enum Word {
    /// The command ended by itself.
    Done,
    /// Kill it now (its environment is stopping).
    Stop,
}

/// Stops one running command from another thread (see [`Watch::stop_handle`]).
#[derive(Debug, Clone)]
pub struct StopHandle(mpsc::Sender<Word>);

impl StopHandle {
    /// Kills the command (a no-op once it has ended).
    pub fn stop(&self) {
        let _ = self.0.send(Word::Stop);
    }
}

/// The channel a running command is stopped through; make it before the command starts, so a
/// stop that comes first is not lost.
#[derive(Debug)]
pub struct Watch {
    tx: mpsc::Sender<Word>,
    rx: mpsc::Receiver<Word>,
}

impl Default for Watch {
    fn default() -> Self {
        let (tx, rx) = mpsc::channel();
        Self { tx, rx }
    }
}

impl Watch {
    /// A handle that stops the command.
    pub fn stop_handle(&self) -> StopHandle {
        StopHandle(self.tx.clone())
    }
}

/// How a command ended.
#[derive(Debug)]
pub enum Outcome {
    /// By itself.
    Finished {
        /// Its exit status.
        status: ExitStatus,
        /// Its standard output.
        stdout: Vec<u8>,
        /// Its standard error.
        stderr: Vec<u8>,
    },
    /// Killed at its deadline.
    TimedOut,
    /// Killed by a [`StopHandle`].
    Stopped,
}

/// The processes whose parent is `parent` (from `/proc/*/stat`). They cannot be reaped and
/// their PIDs reused meanwhile: only `parent`, which is not waiting, could reap them.
fn children(parent: Pid) -> Vec<Pid> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<i32>().ok())
        .filter(|pid| {
            std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|stat| {
                // `pid (comm) state ppid …`; comm may hold spaces and parentheses.
                stat.rfind(')')
                    .and_then(|close| stat[close + 1..].split_whitespace().nth(1))
                    .and_then(|ppid| ppid.parse::<i32>().ok())
                    == Some(parent.as_raw())
            })
        })
        .map(Pid::from_raw)
        .collect()
}

/// Reads the pipe to its end, keeping its first `cap` bytes: a command that writes without end
/// is drained (so it never blocks on a full pipe) but never fills the server's memory.
fn read_all(
    mut pipe: impl std::io::Read + Send + 'static,
    cap: usize,
) -> std::thread::JoinHandle<Vec<u8>> {
    std::thread::spawn(move || {
        let mut bytes = Vec::new();
        let mut chunk = [0u8; 8192];
        loop {
            match pipe.read(&mut chunk) {
                Ok(0) => break,
                Ok(n) => {
                    let room = cap.saturating_sub(bytes.len());
                    bytes.extend_from_slice(&chunk[..n.min(room)]);
                }
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(_) => break,
            }
        }
        bytes
    })
}

/// Runs `command` (its standard streams are set here) with `input` on its standard input, until
/// it ends, `deadline` passes, or `watch` is told to stop it.
pub fn run(
    command: &mut Command,
    input: Option<&[u8]>,
    deadline: Duration,
    watch: Watch,
) -> std::io::Result<Outcome> {
    run_capped(command, input, deadline, watch, usize::MAX)
}

/// [`run`], keeping at most `output_cap` bytes of each of its standard output and error.
pub fn run_capped(
    command: &mut Command,
    input: Option<&[u8]>,
    deadline: Duration,
    watch: Watch,
    output_cap: usize,
) -> std::io::Result<Outcome> {
    let mut child = command
        .stdin(if input.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()?;
    let pid = Pid::from_raw(i32::try_from(child.id()).unwrap_or(i32::MAX));
    let Watch { tx, rx } = watch;
    let killer = std::thread::Builder::new()
        .name("lab-deadline".into())
        .stack_size(64 * 1024)
        .spawn(move || {
            let outcome = match rx.recv_timeout(deadline) {
                Ok(Word::Done) | Err(mpsc::RecvTimeoutError::Disconnected) => return None,
                Ok(Word::Stop) => Outcome::Stopped,
                Err(mpsc::RecvTimeoutError::Timeout) => Outcome::TimedOut,
            };
            for child in children(pid) {
                let _ = kill(child, Signal::SIGKILL);
            }
            let _ = kill(pid, Signal::SIGKILL);
            Some(outcome)
        });
    let killer = match killer {
        Ok(k) => k,
        Err(e) => {
            let _ = child.kill();
            let _ = child.wait();
            return Err(e);
        }
    };
    // Input is written from a thread of its own: a command that does not read it must not
    // keep this one from watching the deadline.
    let writer = input.map(<[u8]>::to_vec).and_then(|bytes| {
        let mut pipe = child.stdin.take()?;
        Some(std::thread::spawn(move || {
            // A write error means the command ended early; its status says why.
            let _ = pipe.write_all(&bytes);
        }))
    });
    let stdout = child.stdout.take().map(|p| read_all(p, output_cap));
    let stderr = child.stderr.take().map(|p| read_all(p, output_cap));
    while let Err(Errno::EINTR) = waitid(Id::Pid(pid), WaitPidFlag::WEXITED | WaitPidFlag::WNOWAIT)
    {
    }
    let _ = tx.send(Word::Done);
    let ended_early = killer.join().unwrap_or(None);
    let status = child.wait()?;
    let stdout = stdout.and_then(|t| t.join().ok()).unwrap_or_default();
    let stderr = stderr.and_then(|t| t.join().ok()).unwrap_or_default();
    if let Some(w) = writer {
        let _ = w.join();
    }
    Ok(ended_early.unwrap_or(Outcome::Finished {
        status,
        stdout,
        stderr,
    }))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, reason = "tests fail loudly on purpose")]
mod tests {
    use super::*;

    #[test]
    fn a_command_that_ends_in_time_gives_its_output() {
        let outcome = run(
            Command::new("/bin/sh").args(["-c", "cat; echo err >&2; exit 3"]),
            Some(b"in"),
            Duration::from_secs(60),
            Watch::default(),
        )
        .unwrap();
        let Outcome::Finished {
            status,
            stdout,
            stderr,
        } = outcome
        else {
            panic!("{outcome:?}")
        };
        assert_eq!(status.code(), Some(3));
        assert_eq!(stdout, b"in");
        assert_eq!(stderr, b"err\n");
    }

    #[test]
    fn output_past_the_cap_is_drained_and_dropped() {
        let outcome = run_capped(
            Command::new("/bin/sh").args(["-c", "head -c 1000000 /dev/zero; echo done >&2"]),
            None,
            Duration::from_secs(60),
            Watch::default(),
            100,
        )
        .unwrap();
        let Outcome::Finished { stdout, stderr, .. } = outcome else {
            panic!("{outcome:?}")
        };
        assert_eq!(stdout.len(), 100);
        assert_eq!(stderr, b"done\n");
    }

    #[test]
    fn a_command_past_its_deadline_is_killed() {
        let outcome = run(
            Command::new("/bin/sleep").arg("600"),
            None,
            Duration::from_millis(10),
            Watch::default(),
        )
        .unwrap();
        assert!(matches!(outcome, Outcome::TimedOut), "{outcome:?}");
    }

    #[test]
    fn a_stop_that_comes_before_the_command_starts_still_kills_it() {
        let watch = Watch::default();
        watch.stop_handle().stop();
        let outcome = run(
            Command::new("/bin/sleep").arg("600"),
            None,
            Duration::from_secs(600),
            watch,
        )
        .unwrap();
        assert!(matches!(outcome, Outcome::Stopped), "{outcome:?}");
    }
}
