//! What a lab server killed with SIGKILL leaves on its host, found again at the next start
//! (issue 19, decision 363).
//!
//! A killed server runs no cleanup: its sandboxes die with it (bubblewrap's
//! `--die-with-parent`, `setpriv --pdeathsig`), but the kernel keeps what is not a process:
//! workspace volumes and image roots stay mounted (and their loop devices attached, since a
//! loop device made by `mount -o loop` is freed only by unmounting it), the environments'
//! cgroups stay, and so do the image roots' mount points. The driver keeps a note per
//! environment it prepared (`<workspace root>/.running/<environment>`), removed when the
//! environment stops, so the next start knows which of the host's cgroups were this data
//! directory's, without asking the database.
//!
//! Everything here is scoped to one workspace root: other servers of the same host (their own
//! data directories) and their sandboxes are never touched.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use uuid::Uuid;

/// The directory of the per-environment notes, under the workspace root.
pub const RUNNING_DIR: &str = ".running";

/// The programs of a sandbox's command line (see [`super::sandbox`]): a process with one of
/// these names whose arguments name the workspace root is one of its sandboxes (or the network
/// holder of one).
const SANDBOX_PROGRAMS: &[&str] = &[
    "bwrap",
    "setpriv",
    "prlimit",
    "sh",
    "unshare",
    "nsenter",
    "slirp4netns",
];

/// The environments with a note under `root` (prepared and not stopped).
pub fn noted_environments(root: &Path) -> Vec<Uuid> {
    let Ok(entries) = std::fs::read_dir(root.join(RUNNING_DIR)) else {
        return Vec::new();
    };
    let mut ids: Vec<Uuid> = entries
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse().ok())
        .collect();
    ids.sort_unstable();
    ids
}

/// Forgets an environment's note.
pub fn forget(root: &Path, environment: Uuid) {
    let _ = std::fs::remove_file(root.join(RUNNING_DIR).join(environment.to_string()));
}

/// Notes that the environment was prepared (its workspace `<user>/<lab>`), so a start after a
/// crash finds it. The directory is the server's only (0700).
pub fn note(root: &Path, environment: Uuid, workspace: &str) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt as _;
    let dir = root.join(RUNNING_DIR);
    std::fs::create_dir_all(&dir)?;
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700))?;
    std::fs::write(dir.join(environment.to_string()), workspace)
}

/// The host's processes that are sandboxes of `root` (by name and command line), this process
/// aside.
pub fn sandbox_processes(root: &Path) -> Vec<i32> {
    let me = std::process::id();
    let root = root.to_string_lossy().into_owned();
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| *pid != me)
        .filter(|pid| {
            let comm = std::fs::read_to_string(format!("/proc/{pid}/comm")).unwrap_or_default();
            SANDBOX_PROGRAMS.contains(&comm.trim())
                && std::fs::read(format!("/proc/{pid}/cmdline")).is_ok_and(|line| {
                    line.split(|b| *b == 0)
                        .any(|arg| String::from_utf8_lossy(arg).contains(&root))
                })
        })
        .filter_map(|pid| i32::try_from(pid).ok())
        .collect()
}

/// Kills `pids` and waits (a few seconds at most) until they are gone, so what they held
/// (a mount, a loop device) can be let go of. Returns how many there were.
pub fn kill_all(pids: &[i32]) -> usize {
    for pid in pids {
        let _ = nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(*pid),
            nix::sys::signal::Signal::SIGKILL,
        );
    }
    let deadline = Instant::now() + Duration::from_secs(5);
    while Instant::now() < deadline && pids.iter().any(|p| running(*p)) {
        std::thread::sleep(Duration::from_millis(20));
    }
    pids.len()
}

/// Whether a process runs (a zombie does not: it is gone but for its exit status).
fn running(pid: i32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|stat| {
            let state = stat
                .rsplit_once(')')?
                .1
                .split_whitespace()
                .next()?
                .to_owned();
            Some(state != "Z")
        })
        .unwrap_or(false)
}

/// Loop devices whose backing file lies under `root`: (`/dev/loopN`, backing file).
pub fn loop_devices(root: &Path) -> Vec<(PathBuf, PathBuf)> {
    let Ok(entries) = std::fs::read_dir("/sys/block") else {
        return Vec::new();
    };
    let mut found: Vec<(PathBuf, PathBuf)> = entries
        .flatten()
        .filter_map(|e| {
            let name = e.file_name().to_str()?.to_owned();
            if !name.starts_with("loop") {
                return None;
            }
            let backing = std::fs::read_to_string(e.path().join("loop/backing_file")).ok()?;
            let backing = PathBuf::from(backing.trim().trim_end_matches(" (deleted)"));
            backing
                .starts_with(root)
                .then(|| (Path::new("/dev").join(name), backing))
        })
        .collect();
    found.sort();
    found
}

/// The mount sources of this mount namespace (`/dev/loop3`, …), from `/proc/self/mountinfo`.
fn mount_sources() -> Vec<PathBuf> {
    std::fs::read_to_string("/proc/self/mountinfo")
        .unwrap_or_default()
        .lines()
        // `… - fstype source options`
        .filter_map(|line| line.split(" - ").nth(1)?.split(' ').nth(1))
        .map(PathBuf::from)
        .collect()
}

/// Detaches the loop devices of `root` that nothing mounts any more (left attached when a
/// lazy unmount outlived the server); returns how many.
pub fn detach_unmounted_loops(root: &Path, losetup: Option<&Path>) -> usize {
    let Some(losetup) = losetup else { return 0 };
    let mounted = mount_sources();
    loop_devices(root)
        .into_iter()
        .filter(|(device, _)| !mounted.contains(device))
        .filter(|(device, _)| {
            std::process::Command::new(losetup)
                .arg("-d")
                .arg(device)
                .output()
                .is_ok_and(|o| o.status.success())
        })
        .count()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notes_are_listed_and_forgotten() {
        let root = tempfile::tempdir().expect("tempdir");
        assert!(noted_environments(root.path()).is_empty());
        let (a, b) = (Uuid::now_v7(), Uuid::now_v7());
        note(root.path(), a, "u/l").expect("note");
        note(root.path(), b, "u/m").expect("note");
        std::fs::write(root.path().join(RUNNING_DIR).join("not-an-id"), "").expect("write");
        assert_eq!(noted_environments(root.path()), vec![a, b]);
        forget(root.path(), a);
        assert_eq!(noted_environments(root.path()), vec![b]);
    }

    #[test]
    fn no_process_is_a_sandbox_of_a_new_root() {
        let root = tempfile::tempdir().expect("tempdir");
        assert!(sandbox_processes(root.path()).is_empty());
        assert!(loop_devices(root.path()).is_empty());
    }
}
