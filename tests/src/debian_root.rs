//! A clean Debian of the test's own, to install the app's package into as a learner would
//! (`apt install ./skilltrack_*.deb`): a root filesystem made by mmdebstrap (Debian's `apt`
//! variant: the essential packages and apt, nothing else), unpacked fresh for each test from
//! the archive `scripts/lib.sh` makes once (`ensure_debian_root`), and entered with chroot.
//!
//! The root shares the machine's network (the test's server on loopback is reachable), its
//! kernel file systems and its X display sockets (the app draws on the test's Xvfb). Downloaded
//! Debian packages are kept between runs in `~/.cache/skilltrack/apt-archives` (copied in and
//! out, hard-linked where possible), so only the first run fetches them. Everything is unmounted and deleted when it is dropped.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

/// The archive `scripts/lib.sh` (`ensure_debian_root`) makes with mmdebstrap.
pub fn root_archive() -> PathBuf {
    cache_dir().join("debian-bookworm-apt.tar")
}

fn cache_dir() -> PathBuf {
    std::env::var_os("HOME")
        .map_or_else(|| PathBuf::from("/root"), PathBuf::from)
        .join(".cache/skilltrack")
}

/// A Debian root filesystem in a temporary directory, with `/proc`, `/sys`, `/dev` and the X
/// sockets mounted into it.
pub struct DebianRoot {
    dir: tempfile::TempDir,
    mounts: Vec<PathBuf>,
    apt_updated: std::sync::atomic::AtomicBool,
}

impl DebianRoot {
    /// Unpacks a fresh root and mounts what programs in it need.
    ///
    /// # Panics
    /// When the archive is missing (run `scripts/test-all`, which makes it) or a mount fails
    /// (the tests run as root).
    pub fn create() -> Self {
        let archive = root_archive();
        assert!(
            archive.exists(),
            "{} is missing: scripts/test-all makes it (scripts/lib.sh, ensure_debian_root)",
            archive.display()
        );
        // Beside the build, not in /tmp: the root holds a desktop's worth of libraries.
        let dir = tempfile::Builder::new()
            .prefix("skilltrack-debian-root-")
            .tempdir_in(std::env::temp_dir())
            .expect("a directory for the Debian root");
        run_ok(
            Command::new("tar")
                .arg("-xf")
                .arg(&archive)
                .arg("-C")
                .arg(dir.path()),
            "unpacking the Debian root",
        );
        let mut root = Self {
            dir,
            mounts: Vec::new(),
            apt_updated: std::sync::atomic::AtomicBool::new(false),
        };
        // A throw-away root: dpkg need not sync every file it writes (it takes minutes).
        std::fs::write(
            root.host_path("etc/dpkg/dpkg.cfg.d/skilltrack-test-unsafe-io"),
            "force-unsafe-io\n",
        )
        .expect("configuring dpkg in the Debian root");
        std::fs::create_dir_all(cache_dir().join("apt-archives")).expect("the apt archive cache");
        root.mount(&["--bind"], Path::new("/proc"), "proc");
        root.mount(&["--rbind"], Path::new("/sys"), "sys");
        root.mount(&["--rbind"], Path::new("/dev"), "dev");
        root.mount(&["--bind"], Path::new("/tmp/.X11-unix"), "tmp/.X11-unix");
        root
    }

    fn mount(&mut self, how: &[&str], from: &Path, to: &str) {
        let target = self.dir.path().join(to);
        std::fs::create_dir_all(&target).expect("a mount point in the Debian root");
        run_ok(
            Command::new("mount").args(how).arg(from).arg(&target),
            &format!("mounting {} on {}", from.display(), target.display()),
        );
        self.mounts.push(target);
    }

    /// The root's directory on the machine.
    #[must_use]
    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Where `inside` (an absolute path in the root) is on the machine.
    #[must_use]
    pub fn host_path(&self, inside: &str) -> PathBuf {
        self.dir.path().join(inside.trim_start_matches('/'))
    }

    /// Runs `program` in the root (as root, in `/`), and answers what it printed.
    #[must_use]
    pub fn run(&self, program: &str, args: &[&str]) -> Output {
        Command::new("chroot")
            .arg(self.dir.path())
            .arg(program)
            .args(args)
            .env("DEBIAN_FRONTEND", "noninteractive")
            .env("LC_ALL", "C.UTF-8")
            .env("PATH", "/usr/sbin:/usr/bin:/sbin:/bin")
            .stdin(Stdio::null())
            .output()
            .unwrap_or_else(|e| panic!("running {program} in the Debian root: {e}"))
    }

    /// Runs `program` in the root and fails the test, with its output, unless it succeeds.
    pub fn run_ok(&self, program: &str, args: &[&str]) -> String {
        let out = self.run(program, args);
        assert!(
            out.status.success(),
            "{program} {args:?} failed in the Debian root ({}):\n{}\n{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// `apt-get update` once, then `apt-get install -y --no-install-recommends` of `packages`
    /// (names, or paths of `.deb` files inside the root). Without the recommended packages a
    /// learner's apt would add: what a package declares it depends on must be enough.
    pub fn apt_install(&self, packages: &[&str]) {
        if !self
            .apt_updated
            .swap(true, std::sync::atomic::Ordering::SeqCst)
        {
            self.run_ok("apt-get", &["update", "-q"]);
        }
        // The packages downloaded by earlier runs, copied in (not mounted: two tests' apts
        // would wait on one lock), and what this one downloaded, kept for the next.
        let cache = cache_dir().join("apt-archives");
        let archives = self.host_path("var/cache/apt/archives");
        copy_debs(&cache, &archives);
        let mut args = vec!["install", "-y", "-q", "--no-install-recommends"];
        args.extend_from_slice(packages);
        self.run_ok("apt-get", &args);
        copy_debs(&archives, &cache);
    }

    /// Copies `file` into the root's `/tmp` and answers its path inside the root.
    #[must_use]
    pub fn copy_in(&self, file: &Path) -> String {
        let name = file
            .file_name()
            .expect("a file name")
            .to_string_lossy()
            .into_owned();
        std::fs::copy(file, self.host_path("tmp").join(&name))
            .unwrap_or_else(|e| panic!("copying {} into the Debian root: {e}", file.display()));
        format!("/tmp/{name}")
    }

    /// An executable on the machine that runs `program` inside the root with the arguments it
    /// is given (for tauri-driver's `--native-driver`: `WebKitWebDriver` in the root starts the
    /// installed app).
    #[must_use]
    pub fn launcher(&self, program: &str) -> PathBuf {
        use std::os::unix::fs::PermissionsExt as _;
        let name = Path::new(program)
            .file_name()
            .expect("a program name")
            .to_string_lossy()
            .into_owned();
        let script = self.dir.path().join(format!("launch-{name}"));
        std::fs::write(
            &script,
            format!(
                "#!/bin/sh\nexec chroot '{}' '{program}' \"$@\"\n",
                self.dir.path().display()
            ),
        )
        .expect("writing the launcher");
        std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755))
            .expect("making the launcher executable");
        script
    }
}

impl DebianRoot {
    /// The processes running inside the root (their `/proc/<pid>/root` is it).
    #[must_use]
    pub fn processes(&self) -> Vec<i32> {
        let Ok(me) = self.dir.path().canonicalize() else {
            return Vec::new();
        };
        std::fs::read_dir("/proc")
            .into_iter()
            .flatten()
            .filter_map(Result::ok)
            .filter_map(|e| e.file_name().to_str()?.parse::<i32>().ok())
            .filter(|pid| {
                std::fs::read_link(format!("/proc/{pid}/root")).is_ok_and(|root| root == me)
            })
            .collect()
    }

    /// Stops every process still running inside the root (an app the updater restarted, say):
    /// SIGTERM, then SIGKILL for any still there after 5 seconds.
    pub fn stop_processes(&self) {
        use nix::sys::signal::{Signal, kill};
        use nix::unistd::Pid;
        for pid in self.processes() {
            let _ = kill(Pid::from_raw(pid), Signal::SIGTERM);
        }
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        while !self.processes().is_empty() && std::time::Instant::now() < deadline {
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        for pid in self.processes() {
            let _ = kill(Pid::from_raw(pid), Signal::SIGKILL);
        }
    }
}

impl DebianRoot {
    /// The logs programs in the root wrote in `/tmp/<dir>/logs/` (the app's, when its data
    /// directory is there), file by file.
    #[must_use]
    pub fn logs(&self) -> String {
        let mut all = String::new();
        for dir in std::fs::read_dir(self.host_path("tmp"))
            .into_iter()
            .flatten()
            .flatten()
        {
            for log in std::fs::read_dir(dir.path().join("logs"))
                .into_iter()
                .flatten()
                .flatten()
            {
                let text = std::fs::read_to_string(log.path()).unwrap_or_default();
                let _ = writeln!(all, "--- {}\n{text}", log.path().display());
            }
        }
        all
    }
}

impl Drop for DebianRoot {
    fn drop(&mut self) {
        // A failed test says what the installed app logged before its root is gone.
        if std::thread::panicking() {
            eprintln!("logs in the Debian root:\n{}", self.logs());
        }
        self.stop_processes();
        for target in self.mounts.iter().rev() {
            let _ = Command::new("umount")
                .args(["--recursive", "--lazy"])
                .arg(target)
                .status();
        }
        // A mount still there (a process of the root still running) keeps its files: never
        // delete through a mount into the machine's /dev or /sys.
        let still_mounted = std::fs::read_to_string("/proc/self/mounts")
            .unwrap_or_default()
            .lines()
            .any(|line| line.contains(&*self.dir.path().to_string_lossy()));
        if still_mounted {
            eprintln!(
                "{} still has mounts: left in place",
                self.dir.path().display()
            );
            let dir = std::mem::replace(&mut self.dir, tempfile::tempdir().expect("a tempdir"));
            let _ = dir.keep();
        }
    }
}

/// Copies the `.deb` files of `from` that `to` lacks (hard links where it can).
fn copy_debs(from: &Path, to: &Path) {
    let _ = std::fs::create_dir_all(to);
    for entry in std::fs::read_dir(from).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.extension().is_none_or(|e| e != "deb") {
            continue;
        }
        let target = to.join(entry.file_name());
        if target.exists() {
            continue;
        }
        // A partial copy under its final name would be taken for a whole package.
        let partial = to.join(format!(".{}.partial", entry.file_name().to_string_lossy()));
        if std::fs::hard_link(&path, &target).is_err() && std::fs::copy(&path, &partial).is_ok() {
            let _ = std::fs::rename(&partial, &target);
        }
    }
}

fn run_ok(command: &mut Command, what: &str) {
    let out = command.output().unwrap_or_else(|e| panic!("{what}: {e}"));
    assert!(
        out.status.success(),
        "{what} failed ({}): {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
}
