//! The local sandbox driver: each environment is a workspace directory and a shell started
//! with `portable-pty` inside bubblewrap, as an unprivileged OS user.
//!
//! The command line, outermost first (each step `exec`s the next, so the PTY's child *is*
//! bubblewrap in the end):
//!
//! 1. `sh -c 'echo $$ > …/cgroup.procs; exec "$@"'` — only when the host lets us make cgroups
//!    (v2, or v1's `memory`, `pids` and `cpu` controllers): the sandbox joins its own cgroup
//!    before it is started, so nothing it runs ever escapes the limits;
//! 2. `setpriv --reuid --regid --clear-groups` — only when the server is root: bubblewrap run
//!    by root would be root inside and out, so the sandbox drops to the lab user first;
//! 3. `prlimit` — rlimits: core dumps off, open files, the largest file (the disk quota), a
//!    ceiling on processes, and the address space when there is no memory cgroup;
//! 4. `bwrap` — new user, pid, ipc, uts, cgroup and net namespaces (a networked lab's shell
//!    instead joins its environment's own namespace first, [`super::network`]); `/usr`
//!    read-only, of `/etc` only what a shell needs ([`ETC_FROM_HOST`], and `passwd`, `group`,
//!    `hosts`, `nsswitch.conf`, `resolv.conf` written for labs), a private `/tmp` of bounded
//!    size, the workspace as `/home/lab`, nothing else of the host (not the data directory,
//!    not `/run`, not other workspaces), the rest read-only; `--new-session`,
//!    `--die-with-parent`, `--disable-userns`, and a seccomp filter ([`super::seccomp`]);
//! 5. `script` — a PTY *inside* the sandbox. `--new-session` takes the shell away from the
//!    outer PTY (that is what stops `TIOCSTI` from typing into it), so without a terminal of
//!    its own the shell would have no job control and Ctrl-C would reach bubblewrap instead.
//!
//! Where the host allows it, each workspace is its own small filesystem (a loop-mounted ext4
//! image, [`super::volume`]), so its storage quota holds however many files a learner writes.
//!
//! The workspace's files are read and written by the same sandbox (`find`, `cat`, `mkdir`,
//! `rm` run inside it as the lab user), so a symbolic link made in the shell can only ever lead
//! to what the shell could already see. Only regular files are read or written (a FIFO would
//! block its reader forever), and each such command has a deadline after which its sandbox is
//! killed ([`super::deadline`]); stopping an environment kills the ones still running.
//!
//! bubblewrap's `--die-with-parent` is tied to the *thread* that spawned it, so shells are
//! spawned from one long-lived thread ([`Spawner`]), never from tokio's blocking pool, whose
//! idle threads exit.

use std::collections::HashMap;
use std::fmt;
use std::fmt::Write as _;
use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock, PoisonError, mpsc};
use std::time::{Duration, Instant};

use portable_pty::{CommandBuilder, PtySize, native_pty_system};
use uuid::Uuid;

use super::deadline::{self, Outcome, StopHandle, Watch};
use super::driver::{
    DriverError, EnvironmentDriver, EnvironmentSpec, Reclaimed, ScriptRun, ShellProcess, Usage,
    WorkspaceEntry, WorkspacePath,
};
use super::images::ImageStore;
use super::leftovers;
use super::network::{self, LabNetwork, NetworkPlan, NetworkTools};
use super::seccomp;
use super::volume::WorkspaceVolumes;

/// What of the host's `/etc` a lab's shell sees (each where the host has it): the shell's
/// startup files, the dynamic linker's cache, time zone, TLS authorities, `alternatives` (the
/// links behind `editor`, `pager`, …), and the tools' own settings. Not the host's accounts,
/// secrets, hostname, resolver, or any server's configuration.
pub const ETC_FROM_HOST: &[&str] = &[
    "alternatives",
    "bash.bashrc",
    "bash_completion.d",
    "ca-certificates",
    "debian_version",
    "ethertypes",
    "gai.conf",
    "gdb",
    "gitconfig",
    "host.conf",
    "inputrc",
    "iproute2",
    "ld.so.cache",
    "ld.so.conf",
    "ld.so.conf.d",
    "locale.alias",
    "localtime",
    "magic",
    "magic.mime",
    "manpath.config",
    "mime.types",
    "nanorc",
    "networks",
    "os-release",
    "perl",
    "profile",
    "profile.d",
    "protocols",
    "python3",
    "python3.11",
    "python3.12",
    "python3.13",
    "services",
    "shells",
    "ssl/certs",
    "ssl/openssl.cnf",
    "terminfo",
    "timezone",
    "vim",
    "wgetrc",
];

/// The fd bubblewrap reads the seccomp filter from (opened by the command line's `sh`; dash
/// redirects single-digit fds only).
const SECCOMP_FD: &str = "9";

/// Where the workspace appears inside the sandbox.
pub const SANDBOX_HOME: &str = "/home/lab";

/// The name of the cgroup directory that holds one cgroup per environment.
const CGROUP_PARENT: &str = "skilltrack-labs";

/// Settings of the local sandbox driver.
#[derive(Debug, Clone)]
pub struct SandboxSettings {
    /// One directory per learner and lab lives under here.
    pub workspace_root: PathBuf,
    /// The OS user sandboxes run as when the server is root.
    pub os_user: String,
    /// The most memory one environment may have, whatever its lab asks, in bytes.
    pub memory_cap_bytes: u64,
    /// The most processes one environment may run.
    pub process_cap: u32,
    /// The most storage one workspace may hold, in bytes.
    pub disk_cap_bytes: u64,
    /// The size of the sandbox's private `/tmp`, in bytes.
    pub tmp_bytes: u64,
    /// bubblewrap's program name (looked up in `PATH` and the usual directories) or path.
    pub bwrap: String,
    /// Each workspace its own filesystem where the host allows it, so its quota is a hard
    /// limit ([`super::volume`]).
    pub workspace_volumes: bool,
    /// A named fault to inject (tests only: `--lab-fault`).
    pub fault: Option<SandboxFault>,
    /// Addresses a networked lab may reach although they are in a refused range (tests only:
    /// a listener on the host's own address proves egress works).
    pub network_allowed_cidrs: Vec<String>,
    /// Where lab images live ([`super::images`]).
    pub images_dir: PathBuf,
}

/// Faults the driver can be told to inject, so tests reach failure paths without racing a
/// timer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum SandboxFault {
    /// Every files-API command hangs inside its sandbox (as a read of a swapped-in FIFO would)
    /// until it is killed.
    HangFileOperations,
    /// Every lab shell fails to start (as a broken bubblewrap or a full process table would
    /// make it), after its environment was made.
    FailShellStart,
}

/// The programs the driver runs, found at start.
#[derive(Debug, Clone)]
struct Tools {
    bwrap: PathBuf,
    setpriv: PathBuf,
    prlimit: PathBuf,
    script: PathBuf,
}

/// Files the sandboxes read, written by the server into `<workspace root>/.sandbox` (readable by
/// the lab user, outside every workspace): the seccomp filter, `/etc` files of the sandbox's
/// own, the nftables rules of networked labs.
#[derive(Debug, Clone)]
struct SupportFiles {
    dir: PathBuf,
}

impl SupportFiles {
    fn path(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    /// Writes them (again at every start: the lab user's ids may have changed).
    fn write(root: &Path, ids: Option<(u32, u32)>) -> Result<Self, String> {
        let program = seccomp::program().ok_or_else(|| {
            format!(
                "no seccomp filter for this architecture ({}): labs run on x86-64 only",
                std::env::consts::ARCH
            )
        })?;
        let (uid, gid) = ids.unwrap_or_else(|| {
            (
                nix::unistd::getuid().as_raw(),
                nix::unistd::getgid().as_raw(),
            )
        });
        let dir = root.join(".sandbox");
        let files: [(&str, Vec<u8>); 7] = [
            ("seccomp.bpf", seccomp::to_bytes(&program)),
            (
                "passwd",
                format!(
                    "root:x:0:0:root:/root:/usr/sbin/nologin\nlab:x:{uid}:{gid}:Lab:{SANDBOX_HOME}:/bin/bash\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n"
                )
                .into_bytes(),
            ),
            (
                "group",
                format!("root:x:0:\nlab:x:{gid}:\nnogroup:x:65534:\n").into_bytes(),
            ),
            (
                "hosts",
                b"127.0.0.1\tlocalhost\n127.0.1.1\tlab\n::1\tlocalhost ip6-localhost ip6-loopback\n"
                    .to_vec(),
            ),
            (
                "nsswitch.conf",
                b"passwd: files\ngroup: files\nshadow: files\nhosts: files dns\nnetworks: files\nprotocols: files\nservices: files\nethers: files\nrpc: files\n".to_vec(),
            ),
            ("resolv.conf", network::RESOLV_CONF.as_bytes().to_vec()),
            ("lab-egress.nft", network::NFT_RULES.as_bytes().to_vec()),
        ];
        let io = |what: &str, e: std::io::Error| format!("{what} {}: {e}", dir.display());
        std::fs::create_dir_all(&dir).map_err(|e| io("making", e))?;
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755))
            .map_err(|e| io("opening", e))?;
        for (name, bytes) in files {
            let path = dir.join(name);
            std::fs::write(&path, bytes).map_err(|e| io("writing into", e))?;
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644))
                .map_err(|e| io("opening", e))?;
        }
        Ok(Self { dir })
    }
}

/// Which cgroup hierarchy the host has, and where our environments' cgroups go.
#[derive(Debug, Clone)]
enum Cgroups {
    /// The unified hierarchy: one directory per environment under `parent`.
    V2 { parent: PathBuf },
    /// cgroup v1: a directory per environment under each controller's `parent`.
    V1 {
        parents: Vec<(&'static str, PathBuf)>,
    },
    /// No cgroup we may write: rlimits only.
    None,
}

/// Runs closures on one long-lived thread (see the module docs: `--die-with-parent`).
struct Spawner {
    jobs: mpsc::Sender<Box<dyn FnOnce() + Send>>,
}

impl fmt::Debug for Spawner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Spawner")
    }
}

impl Spawner {
    fn new() -> Result<Self, DriverError> {
        let (jobs, queue) = mpsc::channel::<Box<dyn FnOnce() + Send>>();
        std::thread::Builder::new()
            .name("lab-spawner".into())
            .stack_size(256 * 1024)
            .spawn(move || {
                for job in queue {
                    job();
                }
            })
            .map_err(|e| DriverError::io("starting the sandbox spawner thread", e))?;
        Ok(Self { jobs })
    }

    fn run<T: Send + 'static>(&self, f: impl FnOnce() -> T + Send + 'static) -> Option<T> {
        let (tx, rx) = mpsc::sync_channel(1);
        self.jobs
            .send(Box::new(move || {
                let _ = tx.send(f());
            }))
            .ok()?;
        rx.recv().ok()
    }
}

/// The local sandbox driver (see the module docs).
#[derive(Debug)]
pub struct LocalSandbox {
    settings: SandboxSettings,
    tools: Result<Tools, String>,
    network_tools: Result<NetworkTools, String>,
    /// `Some((uid, gid))` when the server is root and must drop to the lab user.
    identity: Result<Option<(u32, u32)>, String>,
    cgroups: Cgroups,
    volumes: WorkspaceVolumes,
    /// Started with the first shell.
    spawner: Mutex<Option<Spawner>>,
    /// The longest a files-API command may run.
    deadline: Duration,
    /// Written when first needed.
    support: OnceLock<Result<SupportFiles, String>>,
    /// Files-API commands running now, by environment: stopping it stops them.
    helpers: Mutex<HashMap<Uuid, HashMap<u64, StopHandle>>>,
    next_helper: AtomicU64,
    /// Networked environments' namespaces.
    networks: Mutex<HashMap<Uuid, LabNetwork>>,
    /// The lab images of this host.
    images: ImageStore,
    /// Environments on an image: the overlay mounted as their root, by environment.
    roots: Mutex<HashMap<Uuid, ImageRoot>>,
    /// Whether this driver has mounted anything: only then is what is mounted under the
    /// workspace root its to release when it goes (a driver made and dropped while the
    /// server starts must not unmount what the start has yet to reclaim).
    mounted: AtomicBool,
}

/// An environment's root filesystem on an image: the image, read-only, under a layer of its
/// own (in the workspace, so it is kept or thrown away with it), merged by overlayfs.
#[derive(Debug, Clone)]
struct ImageRoot {
    /// The merged tree the sandbox sees as `/`.
    merged: PathBuf,
    /// The shell the terminal starts.
    shell: String,
}

/// Where, inside an image's sandbox, the host's `script` and the two files it needs are bound:
/// an image need not have `script` (busybox has none), and it keeps the shell on a terminal of
/// its own (see the module docs).
const HELPER_DIR: &str = "/.skilltrack";

/// The workspace directory that holds an image environment's own layer (hidden from the
/// shell by an empty tmpfs over it).
const ROOT_LAYER: &str = ".skilltrack-root";

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

fn find_program(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(["/usr/bin", "/bin", "/usr/sbin", "/sbin", "/usr/local/bin"].map(PathBuf::from))
        .map(|dir| dir.join(name))
        .find(|p| p.is_file())
}

fn find_tools(bwrap: &str) -> Result<Tools, String> {
    let need = |name: &str, package: &str| {
        let found = if name.contains('/') {
            Some(PathBuf::from(name)).filter(|p| p.is_file())
        } else {
            find_program(name)
        };
        found.ok_or_else(|| format!("{name} (Debian package `{package}`)"))
    };
    Ok(Tools {
        bwrap: need(bwrap, "bubblewrap")?,
        setpriv: need("setpriv", "util-linux")?,
        prlimit: need("prlimit", "util-linux")?,
        script: need("script", "bsdutils")?,
    })
}

fn write_file(path: &Path, value: &str) -> std::io::Result<()> {
    std::fs::write(path, value)
}

impl Cgroups {
    /// Finds the hierarchy and makes our parent cgroup; `None` when it cannot be written.
    fn detect() -> Self {
        let root = Path::new("/sys/fs/cgroup");
        if root.join("cgroup.controllers").is_file() {
            let parent = root.join(CGROUP_PARENT);
            let ok = std::fs::create_dir_all(&parent).is_ok()
                && {
                    // Controllers must be enabled at every level above a leaf; errors here mean
                    // a delegation we do not have, checked below by the limit files existing.
                    let _ = write_file(&root.join("cgroup.subtree_control"), "+memory +pids +cpu");
                    let _ =
                        write_file(&parent.join("cgroup.subtree_control"), "+memory +pids +cpu");
                    true
                }
                && parent.join("cgroup.subtree_control").is_file();
            return if ok { Self::V2 { parent } } else { Self::None };
        }
        let mut parents = Vec::new();
        for controller in ["memory", "pids", "cpu"] {
            let dir = root.join(controller);
            if dir.join("cgroup.procs").is_file() {
                let parent = dir.join(CGROUP_PARENT);
                if std::fs::create_dir_all(&parent).is_ok() {
                    parents.push((controller, parent));
                }
            }
        }
        if parents.is_empty() {
            Self::None
        } else {
            Self::V1 { parents }
        }
    }

    fn has(&self, controller: &str) -> bool {
        match self {
            Self::V2 { .. } => true,
            Self::V1 { parents } => parents.iter().any(|(c, _)| *c == controller),
            Self::None => false,
        }
    }

    /// The directories an environment's processes join.
    fn dirs(&self, env: &str) -> Vec<(&'static str, PathBuf)> {
        match self {
            Self::V2 { parent } => vec![("unified", parent.join(env))],
            Self::V1 { parents } => parents.iter().map(|(c, p)| (*c, p.join(env))).collect(),
            Self::None => Vec::new(),
        }
    }

    fn create(&self, env: &str, spec: &EnvironmentSpec) -> Result<(), DriverError> {
        let limits = spec.limits;
        for (controller, dir) in self.dirs(env) {
            std::fs::create_dir_all(&dir).map_err(|e| DriverError::io("making the cgroup", e))?;
            let settings: Vec<(&str, String)> = match controller {
                "unified" => vec![
                    ("memory.max", limits.memory_bytes.to_string()),
                    ("memory.swap.max", "0".into()),
                    ("pids.max", limits.max_processes.to_string()),
                    (
                        "cpu.max",
                        format!("{} 100000", u64::from(limits.cpu_cores) * 100_000),
                    ),
                ],
                "memory" => vec![("memory.limit_in_bytes", limits.memory_bytes.to_string())],
                "pids" => vec![("pids.max", limits.max_processes.to_string())],
                "cpu" => vec![
                    ("cpu.cfs_period_us", "100000".into()),
                    (
                        "cpu.cfs_quota_us",
                        (u64::from(limits.cpu_cores) * 100_000).to_string(),
                    ),
                ],
                _ => Vec::new(),
            };
            for (file, value) in settings {
                let path = dir.join(file);
                // memory.swap.max is missing without swap accounting: not a failure.
                if path.exists() {
                    write_file(&path, &value)
                        .map_err(|e| DriverError::io(format!("setting {}", path.display()), e))?;
                }
            }
        }
        Ok(())
    }

    fn pids(&self, env: &str) -> Vec<i32> {
        let mut pids: Vec<i32> = self
            .dirs(env)
            .iter()
            .filter_map(|(_, dir)| std::fs::read_to_string(dir.join("cgroup.procs")).ok())
            .flat_map(|s| {
                s.lines()
                    .filter_map(|l| l.trim().parse().ok())
                    .collect::<Vec<_>>()
            })
            .collect();
        pids.sort_unstable();
        pids.dedup();
        pids
    }

    /// Kills whatever is left in the environment's cgroups and removes them.
    fn remove(&self, env: &str) {
        let deadline = Instant::now() + Duration::from_secs(3);
        loop {
            let pids = self.pids(env);
            if pids.is_empty() || Instant::now() > deadline {
                break;
            }
            for pid in pids {
                let _ = nix::sys::signal::kill(
                    nix::unistd::Pid::from_raw(pid),
                    nix::sys::signal::Signal::SIGKILL,
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        for (_, dir) in self.dirs(env) {
            for _ in 0..50 {
                if !dir.exists() || std::fs::remove_dir(&dir).is_ok() {
                    break;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
        }
    }

    fn read_u64(&self, env: &str, v1: (&str, &str), v2: &str) -> Option<u64> {
        let path = match self {
            Self::V2 { parent } => parent.join(env).join(v2),
            Self::V1 { parents } => parents
                .iter()
                .find(|(c, _)| *c == v1.0)?
                .1
                .join(env)
                .join(v1.1),
            Self::None => return None,
        };
        std::fs::read_to_string(path).ok()?.trim().parse().ok()
    }
}

/// Sums the sizes of the files under `dir` without following symbolic links.
fn tree_size(dir: &Path) -> u64 {
    let mut total = 0u64;
    let mut stack = vec![dir.to_path_buf()];
    let mut seen = 0usize;
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for entry in entries.flatten() {
            seen += 1;
            if seen > 200_000 {
                return total;
            }
            let Ok(meta) = entry.path().symlink_metadata() else {
                continue;
            };
            if meta.is_dir() {
                stack.push(entry.path());
            } else {
                total += meta.len();
            }
        }
    }
    total
}

/// The host's `/usr`, read-only, and of `/etc` only what a shell needs.
fn host_root(support: &SupportFiles, bwrap: &mut Vec<String>) {
    bwrap.extend(["--ro-bind", "/usr", "/usr"].map(String::from));
    // Merged-/usr hosts have these as links into /usr; older ones as directories.
    for top in ["bin", "sbin", "lib", "lib32", "lib64", "libx32"] {
        mirror(&Path::new("/").join(top), bwrap);
    }
    bwrap.extend(["--dir".into(), "/etc".into()]);
    for name in ETC_FROM_HOST {
        mirror(&Path::new("/etc").join(name), bwrap);
    }
    for name in ["passwd", "group", "hosts", "nsswitch.conf"] {
        bwrap.extend([
            "--ro-bind".into(),
            support.path(name).to_string_lossy().into_owned(),
            format!("/etc/{name}"),
        ]);
    }
}

/// The image's merged tree as `/`, writable (its own layer takes the writes), the learner root
/// inside the sandbox's user namespace (the lab user outside, as ever); and the host's `script`
/// with the C library and loader it needs, in a corner of its own.
fn image_root(root: &ImageRoot, bwrap: &mut Vec<String>) {
    bwrap.extend([
        "--bind".into(),
        root.merged.to_string_lossy().into_owned(),
        "/".into(),
        "--uid".into(),
        "0".into(),
        "--gid".into(),
        "0".into(),
    ]);
    for (host, inside) in script_helper() {
        bwrap.extend([
            "--ro-bind".into(),
            host.to_string_lossy().into_owned(),
            inside,
        ]);
    }
}

/// The host files that make up the PTY helper in an image, and where they go inside it.
fn script_helper() -> Vec<(PathBuf, String)> {
    let script = find_program("script").unwrap_or_else(|| "/usr/bin/script".into());
    let libc = [
        "/lib/x86_64-linux-gnu/libc.so.6",
        "/usr/lib/x86_64-linux-gnu/libc.so.6",
    ]
    .into_iter()
    .map(PathBuf::from)
    .find(|p| p.exists())
    .unwrap_or_else(|| "/lib/x86_64-linux-gnu/libc.so.6".into());
    vec![
        (script, format!("{HELPER_DIR}/bin/script")),
        (libc, format!("{HELPER_DIR}/lib/libc.so.6")),
        (
            PathBuf::from(HOST_LOADER),
            format!("{HELPER_DIR}/lib/ld.so"),
        ),
    ]
}

/// The host's dynamic loader: it runs the host's `script` inside an image.
const HOST_LOADER: &str = "/lib64/ld-linux-x86-64.so.2";

/// Whether something is mounted at `path` (as this process's mount namespace sees it).
fn is_mount_point(path: &Path) -> bool {
    let Ok(path) = path.canonicalize() else {
        return false;
    };
    super::volume::mount_points().contains(&path)
}

fn shell_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

impl LocalSandbox {
    /// A driver with these settings, whose files-API commands are killed after `deadline`. It
    /// always constructs: a missing tool or user is reported by [`EnvironmentDriver::check`]
    /// when a lab starts, with a clear error, so the rest of the API keeps working on a host
    /// without bubblewrap.
    pub fn new(settings: SandboxSettings, deadline: Duration) -> Self {
        let identity = if nix::unistd::geteuid().is_root() {
            match nix::unistd::User::from_name(&settings.os_user) {
                Ok(Some(user)) if !user.uid.is_root() => {
                    Ok(Some((user.uid.as_raw(), user.gid.as_raw())))
                }
                _ => Err(settings.os_user.clone()),
            }
        } else {
            Ok(None)
        };
        let volumes = if settings.workspace_volumes {
            WorkspaceVolumes::detect()
        } else {
            WorkspaceVolumes::disabled("turned off in the settings")
        };
        match volumes.availability() {
            Ok(()) => tracing::info!("lab storage quotas: each workspace its own filesystem"),
            Err(why) => tracing::info!(
                why,
                "lab storage quotas: plain directories, the largest file capped (not the total)"
            ),
        }
        Self {
            tools: find_tools(&settings.bwrap),
            network_tools: NetworkTools::find(find_program),
            identity,
            cgroups: Cgroups::detect(),
            volumes,
            spawner: Mutex::new(None),
            deadline,
            support: OnceLock::new(),
            helpers: Mutex::new(HashMap::new()),
            next_helper: AtomicU64::new(0),
            networks: Mutex::new(HashMap::new()),
            images: ImageStore::new(settings.images_dir.clone()),
            roots: Mutex::new(HashMap::new()),
            mounted: AtomicBool::new(false),
            settings,
        }
    }

    /// The root filesystem of an environment on an image: its overlay, mounted if it is not
    /// yet (the server must be root to mount it).
    fn ensure_root(&self, spec: &EnvironmentSpec, name: &str) -> Result<ImageRoot, DriverError> {
        if let Some(root) = lock(&self.roots).get(&spec.environment_id) {
            return Ok(root.clone());
        }
        let unavailable = |why: String| DriverError::ImageUnavailable(why);
        let info = self
            .images
            .info(name)
            .map_err(|e| unavailable(e.to_string()))?;
        let lower = self
            .images
            .rootfs(name)
            .map_err(|e| unavailable(e.to_string()))?;
        if !nix::unistd::geteuid().is_root() {
            return Err(unavailable(
                "labs on an image need the server to run as root (it mounts the image's \
                 copy-on-write layer)"
                    .into(),
            ));
        }
        self.mount(spec)?;
        let layer = self.workspace(spec).join(ROOT_LAYER);
        let (upper, work) = (layer.join("upper"), layer.join("work"));
        let merged = self
            .settings
            .workspace_root
            .join(".roots")
            .join(spec.environment_id.to_string());
        for dir in [&upper, &work, &merged] {
            std::fs::create_dir_all(dir)
                .map_err(|e| DriverError::io("making the image's layer", e))?;
        }
        // The merged root takes its top directory from the layer: the lab user's, like the
        // image's files, so the sandbox (root inside) may make its mount points there.
        if let Some((uid, gid)) = self.ids()? {
            for dir in [&layer, &upper, &work] {
                std::os::unix::fs::lchown(dir, Some(uid), Some(gid))
                    .map_err(|e| DriverError::io("giving the image's layer to the lab user", e))?;
            }
        }
        // The lab user passes through to its root, never lists the others.
        let _ = std::fs::set_permissions(
            self.settings.workspace_root.join(".roots"),
            std::fs::Permissions::from_mode(0o711),
        );
        let mounted = is_mount_point(&merged);
        if !mounted {
            let options = format!(
                "lowerdir={},upperdir={},workdir={}",
                lower.display(),
                upper.display(),
                work.display()
            );
            let output = Command::new(find_program("mount").unwrap_or_else(|| "mount".into()))
                .args(["-t", "overlay", "overlay", "-o", &options])
                .arg(&merged)
                .output()
                .map_err(|e| DriverError::io("mounting the image", e))?;
            if !output.status.success() {
                return Err(unavailable(format!(
                    "mounting the image {name:?} failed: {}",
                    String::from_utf8_lossy(&output.stderr).trim()
                )));
            }
        }
        let root = ImageRoot {
            merged,
            shell: info.shell,
        };
        lock(&self.roots).insert(spec.environment_id, root.clone());
        Ok(root)
    }

    /// Unmounts everything mounted under the workspace root (an image's overlay before the
    /// workspace volume its layer is on); returns how many mounts.
    ///
    /// A session's workspace is mounted when it starts, not only while a shell runs: one
    /// started and never connected to (or written through the files API, then left) stays
    /// mounted until its environment stops, and stopping the server stopped only the
    /// environments with shells.
    fn release_every_mount(&self) -> usize {
        let Ok(root) = self.settings.workspace_root.canonicalize() else {
            return 0;
        };
        let mut mounts: Vec<PathBuf> = super::volume::mount_points()
            .into_iter()
            .filter(|m| m.starts_with(&root) && *m != root)
            .collect();
        // Image roots first: an overlay's layer lives on a workspace volume (elsewhere in the
        // tree, so the order of the paths alone does not say it), which stays busy until the
        // overlay goes. Then deepest first.
        let roots = root.join(".roots");
        // A path mounted twice is listed twice and released twice (each release unmounts one).
        mounts.sort_by(|a, b| (!a.starts_with(&roots), b).cmp(&(!b.starts_with(&roots), a)));
        for mount in &mounts {
            self.volumes.release(mount);
        }
        if !mounts.is_empty() {
            tracing::info!(count = mounts.len(), "lab mounts released");
        }
        mounts.len()
    }

    /// Unmounts an environment's image root, if it has one.
    fn release_root(&self, env: Uuid) {
        let merged = lock(&self.roots).remove(&env).map_or_else(
            || {
                self.settings
                    .workspace_root
                    .join(".roots")
                    .join(env.to_string())
            },
            |r| r.merged,
        );
        if is_mount_point(&merged) {
            let umount = find_program("umount").unwrap_or_else(|| "umount".into());
            let plain = Command::new(&umount).arg(&merged).output();
            if !plain.is_ok_and(|o| o.status.success()) {
                // Still busy (a process lingers): detach it now, it goes when they do.
                let _ = Command::new(&umount).arg("-l").arg(&merged).output();
            }
        }
        let _ = std::fs::remove_dir(&merged);
    }

    fn support(&self) -> Result<&SupportFiles, DriverError> {
        self.support
            .get_or_init(|| {
                SupportFiles::write(
                    &self.settings.workspace_root,
                    self.identity.clone().ok().flatten(),
                )
            })
            .as_ref()
            .map_err(|why| DriverError::SandboxToolMissing {
                tool: "the sandbox's support files".into(),
                hint: why.clone(),
            })
    }

    /// `echo $$ > …/cgroup.procs; ` for each of the environment's cgroups.
    fn cgroup_joins(&self, spec: &EnvironmentSpec) -> String {
        let env = spec.environment_id.to_string();
        self.cgroups
            .dirs(&env)
            .iter()
            .fold(String::new(), |mut joins, (_, d)| {
                let procs = shell_quote(&d.join("cgroup.procs").to_string_lossy());
                let _ = write!(joins, "echo $$ > {procs} || exit 97; ");
                joins
            })
    }

    /// The environment's network namespace, made if it is not there yet (networked profiles).
    fn ensure_network(&self, spec: &EnvironmentSpec) -> Result<PathBuf, DriverError> {
        let unavailable = |why: String| DriverError::NetworkUnavailable(why);
        let tools = self
            .network_tools
            .clone()
            .map_err(|missing| unavailable(format!("{missing} is not installed on the server")))?;
        let Some((uid, gid)) = self.ids()? else {
            return Err(unavailable(
                "networked labs need the server to run as root (it joins the lab's network namespace before it drops to the lab user)".into(),
            ));
        };
        network::tun_usable().map_err(unavailable)?;
        let mut networks = lock(&self.networks);
        if let Some(existing) = networks.get_mut(&spec.environment_id) {
            if let Some(path) = existing.namespace() {
                return Ok(path);
            }
            if let Some(dead) = networks.remove(&spec.environment_id) {
                dead.stop();
            }
        }
        let host = Command::new("ip")
            .args(["-o", "-4", "addr", "show"])
            .env_clear()
            .env("PATH", "/usr/sbin:/usr/bin:/sbin:/bin")
            .output()
            .map_err(|e| unavailable(format!("listing the host's addresses: {e}")))?;
        let rules = self.support()?.path("lab-egress.nft");
        let refused = network::refused_ranges(
            &String::from_utf8_lossy(&host.stdout),
            &self.settings.network_allowed_cidrs,
        );
        let allowed = self.settings.network_allowed_cidrs.clone();
        let joins = self.cgroup_joins(spec);
        let deadline = self.deadline;
        // Not held while the namespace is made: stopping another environment must not wait.
        drop(networks);
        let mut started = self.on_spawner(move || {
            LabNetwork::start(&NetworkPlan {
                tools: &tools,
                uid,
                gid,
                cgroup_joins: joins,
                rules_file: &rules,
                refused,
                allowed: &allowed,
                deadline,
            })
        })??;
        let path = started
            .namespace()
            .ok_or_else(|| DriverError::io("starting the lab's network", "its holder died"))?;
        if let Some(raced) = lock(&self.networks).insert(spec.environment_id, started) {
            raced.stop();
        }
        Ok(path)
    }

    fn register_helper(&self, env: Uuid, handle: StopHandle) -> u64 {
        let key = self.next_helper.fetch_add(1, Ordering::Relaxed);
        lock(&self.helpers)
            .entry(env)
            .or_default()
            .insert(key, handle);
        key
    }

    fn unregister_helper(&self, env: Uuid, key: u64) {
        let mut helpers = lock(&self.helpers);
        if let Some(running) = helpers.get_mut(&env) {
            running.remove(&key);
            if running.is_empty() {
                helpers.remove(&env);
            }
        }
    }

    /// Kills the environment's running files-API commands and its network.
    fn stop_processes(&self, env: Uuid) {
        for (_, helper) in lock(&self.helpers).remove(&env).unwrap_or_default() {
            helper.stop();
        }
        if let Some(network) = lock(&self.networks).remove(&env) {
            network.stop();
        }
    }

    /// Runs `f` on the spawner thread, starting it first if need be.
    fn on_spawner<T: Send + 'static>(
        &self,
        f: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, DriverError> {
        let mut spawner = self
            .spawner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if spawner.is_none() {
            *spawner = Some(Spawner::new()?);
        }
        spawner.as_ref().and_then(|s| s.run(f)).ok_or_else(|| {
            DriverError::io("starting the sandboxed shell", "the spawner thread is gone")
        })
    }

    /// Which resource controls are in force: `cgroup-v2`, `cgroup-v1` or `rlimits`.
    pub fn enforcement(&self) -> &'static str {
        match self.cgroups {
            Cgroups::V2 { .. } => "cgroup-v2",
            Cgroups::V1 { .. } => "cgroup-v1",
            Cgroups::None => "rlimits",
        }
    }

    /// How the storage quota is kept: `volume` (each workspace its own filesystem) or
    /// `rlimit` (the largest file, and the files API's check), with why when not `volume`.
    pub fn storage_enforcement(&self) -> (&'static str, Option<&str>) {
        match self.volumes.availability() {
            Ok(()) => ("volume", None),
            Err(why) => ("rlimit", Some(why)),
        }
    }

    /// Mounts the workspace's volume if it is not (before anything reads or writes it).
    fn mount(&self, spec: &EnvironmentSpec) -> Result<(), DriverError> {
        self.mounted.store(true, Ordering::Relaxed);
        self.volumes
            .ensure(&self.workspace(spec), spec.limits.disk_bytes, self.ids()?)
    }

    fn tools(&self) -> Result<&Tools, DriverError> {
        self.tools
            .as_ref()
            .map_err(|missing| DriverError::SandboxToolMissing {
                tool: missing.clone(),
                hint: "install it; labs never run without a sandbox".into(),
            })
    }

    fn ids(&self) -> Result<Option<(u32, u32)>, DriverError> {
        self.identity
            .clone()
            .map_err(DriverError::SandboxUserMissing)
    }

    /// `<root>/<user>/<lab>`: a learner's workspace of a lab, kept across sessions.
    pub fn workspace(&self, spec: &EnvironmentSpec) -> PathBuf {
        self.settings
            .workspace_root
            .join(spec.user_id.to_string())
            .join(spec.lab_id.to_string())
    }

    /// The full command line of a sandbox running `inner` (see the module docs): the shell's
    /// (`shell`: in the environment's cgroups, with its network if the profile has one), or a
    /// files-API command's (never networked; not in the cgroups, so a shell at its process
    /// limit cannot starve the files API).
    #[allow(
        clippy::too_many_lines,
        reason = "one command line, read top to bottom"
    )]
    fn command_line(
        &self,
        spec: &EnvironmentSpec,
        inner: &[&str],
        shell: bool,
    ) -> Result<Vec<String>, DriverError> {
        let tools = self.tools()?;
        let ids = self.ids()?;
        let support = self.support()?;
        let network = if shell && spec.profile.network {
            Some(self.ensure_network(spec)?)
        } else {
            None
        };
        let joins = if shell {
            self.cgroup_joins(spec)
        } else {
            String::new()
        };
        // The shell and what runs in the learner's environment see the lab's image; the files
        // API's commands run on the host's tools over the same workspace.
        let image = match (&spec.image, shell) {
            (Some(name), true) => Some(self.ensure_root(spec, name)?),
            _ => None,
        };
        // The filter reaches bubblewrap as an open fd: this `sh` opens it, then `exec`s the rest.
        let seccomp_file = shell_quote(&support.path("seccomp.bpf").to_string_lossy());
        let mut argv: Vec<String> = vec![
            "/bin/sh".into(),
            "-c".into(),
            format!("{joins}exec \"$@\" {SECCOMP_FD}<{seccomp_file}"),
            "sh".into(),
        ];
        if let (Some(namespace), Ok(net)) = (&network, &self.network_tools) {
            argv.extend([
                net.nsenter().to_string_lossy().into_owned(),
                format!("--net={}", namespace.display()),
                "--".into(),
            ]);
        }
        if let Some((uid, gid)) = ids {
            argv.extend([
                tools.setpriv.to_string_lossy().into_owned(),
                format!("--reuid={uid}"),
                format!("--regid={gid}"),
                "--clear-groups".into(),
                "--".into(),
            ]);
        }
        let limits = spec.limits;
        argv.push(tools.prlimit.to_string_lossy().into_owned());
        argv.push("--core=0".into());
        argv.push("--nofile=1024".into());
        argv.push(format!("--fsize={}", limits.disk_bytes));
        // RLIMIT_NPROC counts every process of the (shared) lab user on the host: with a pids
        // cgroup it is only a backstop; without one it is the limit. The files API's own short
        // commands (not joined to the cgroup) must not fail because a shell is at its limit.
        let nproc = if !shell || self.cgroups.has("pids") {
            4096
        } else {
            limits.max_processes
        };
        argv.push(format!("--nproc={nproc}"));
        if !(shell && self.cgroups.has("memory")) {
            argv.push(format!("--as={}", limits.memory_bytes));
        }
        argv.push("--".into());
        argv.push(tools.bwrap.to_string_lossy().into_owned());
        let mut bwrap: Vec<String> = [
            "--unshare-user",
            "--unshare-pid",
            "--unshare-ipc",
            "--unshare-uts",
            "--unshare-cgroup-try",
            "--die-with-parent",
            "--new-session",
            "--disable-userns",
            "--hostname",
            "lab",
            "--seccomp",
            SECCOMP_FD,
        ]
        .map(String::from)
        .to_vec();
        if network.is_none() {
            bwrap.push("--unshare-net".into());
        }
        match &image {
            Some(root) => image_root(root, &mut bwrap),
            None => host_root(support, &mut bwrap),
        }
        if network.is_some() {
            bwrap.extend([
                "--ro-bind".into(),
                support.path("resolv.conf").to_string_lossy().into_owned(),
                "/etc/resolv.conf".into(),
            ]);
        }
        let workspace = self.workspace(spec);
        bwrap.extend(
            [
                "--proc",
                "/proc",
                "--dev",
                "/dev",
                "--size",
                &self.settings.tmp_bytes.to_string(),
                "--tmpfs",
                "/tmp",
                "--bind",
                &workspace.to_string_lossy(),
                SANDBOX_HOME,
                "--clearenv",
            ]
            .map(String::from),
        );
        if spec.image.is_some() {
            // The image's own layer lives in the workspace; nothing in the sandbox sees it there.
            bwrap.extend([
                "--tmpfs".into(),
                format!("{SANDBOX_HOME}/{ROOT_LAYER}"),
                "--remount-ro".into(),
                format!("{SANDBOX_HOME}/{ROOT_LAYER}"),
            ]);
        }
        match &image {
            Some(root) => bwrap.extend([
                "--setenv".into(),
                "SHELL".into(),
                root.shell.clone(),
                "--setenv".into(),
                "USER".into(),
                "root".into(),
                "--setenv".into(),
                "PATH".into(),
                "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin".into(),
                "--setenv".into(),
                "PS1".into(),
                "lab:\\w# ".into(),
            ]),
            None => bwrap.extend(
                [
                    // Whatever bubblewrap made on its own root (`/etc`, `/home`) is read-only
                    // too.
                    "--remount-ro",
                    "/",
                    "--setenv",
                    "SHELL",
                    "/bin/bash",
                    "--setenv",
                    "USER",
                    "lab",
                    "--setenv",
                    "PATH",
                    "/usr/local/bin:/usr/bin:/bin",
                    "--setenv",
                    "PS1",
                    "lab:\\w\\$ ",
                ]
                .map(String::from),
            ),
        }
        bwrap.extend(
            [
                "--chdir",
                SANDBOX_HOME,
                "--setenv",
                "HOME",
                SANDBOX_HOME,
                "--setenv",
                "TERM",
                "xterm-256color",
                "--setenv",
                "LANG",
                "C.UTF-8",
                "--",
            ]
            .map(String::from),
        );
        argv.extend(bwrap);
        argv.extend(inner.iter().map(|s| (*s).to_owned()));
        Ok(argv)
    }

    /// Runs the sandbox command `line` with `run`, registered so that stopping the environment
    /// stops it.
    fn run_stoppable<T>(
        &self,
        spec: &EnvironmentSpec,
        line: &[String],
        run: impl FnOnce(&mut Command, Watch) -> T,
    ) -> T {
        let mut command = Command::new(&line[0]);
        command
            .args(&line[1..])
            .env_clear()
            .env("PATH", "/usr/bin:/bin:/usr/sbin:/sbin")
            .current_dir("/");
        let watch = Watch::default();
        let key = self.register_helper(spec.environment_id, watch.stop_handle());
        let outcome = run(&mut command, watch);
        self.unregister_helper(spec.environment_id, key);
        outcome
    }

    /// Runs `script` (a `sh -c` script with `$1`… as `args`) inside the environment's sandbox,
    /// as the lab user, and returns its standard output. It is killed, with its sandbox, at
    /// the deadline or when the environment stops.
    fn run_inside(
        &self,
        spec: &EnvironmentSpec,
        script: &str,
        args: &[&str],
        stdin: Option<&[u8]>,
    ) -> Result<Vec<u8>, DriverError> {
        self.mount(spec)?;
        // The hang runs as a child of the shell, so the shell (and its arguments, the paths)
        // stay visible in the process table until the sandbox is killed.
        let script = match self.settings.fault {
            Some(SandboxFault::HangFileOperations) => "sleep 86400; exit 1",
            None | Some(SandboxFault::FailShellStart) => script,
        };
        let mut program = vec!["/bin/sh", "-c", script, "sh"];
        program.extend_from_slice(args);
        let line = self.command_line(spec, &program, false)?;
        let outcome = self.run_stoppable(spec, &line, |command, watch| {
            deadline::run(command, stdin, self.deadline, watch)
        });
        let (status, stdout, stderr) =
            match outcome.map_err(|e| DriverError::io("running in the sandbox", e))? {
                Outcome::Finished {
                    status,
                    stdout,
                    stderr,
                } => (status, stdout, stderr),
                Outcome::TimedOut => {
                    return Err(DriverError::TimedOut {
                        seconds: self.deadline.as_secs(),
                    });
                }
                Outcome::Stopped => return Err(DriverError::Stopped),
            };
        if status.success() {
            return Ok(stdout);
        }
        let stderr = String::from_utf8_lossy(&stderr);
        Err(if stderr.contains(NOT_REGULAR) {
            DriverError::NotRegularFile
        } else if stderr.contains("No such file") || stderr.contains("Not a directory") {
            DriverError::NotFound
        } else if stderr.contains("Is a directory") || stderr.contains("File exists") {
            DriverError::Conflict("A directory or file is in the way.".into())
        } else if stderr.contains("Permission denied") || stderr.contains("Read-only file system") {
            DriverError::Denied
        } else if stderr.contains("File too large") || stderr.contains("No space") {
            DriverError::QuotaExceeded {
                quota_bytes: spec.limits.disk_bytes,
            }
        } else {
            DriverError::Io {
                context: "the sandboxed file operation failed".into(),
                message: stderr.chars().take(300).collect(),
            }
        })
    }
}

/// What the files API's scripts say of anything but a regular file or a directory.
const NOT_REGULAR: &str = "not a regular file";

/// Puts the host's `path` at the same place in the sandbox: a link as the same link (its
/// target must be there by other means), a file or directory read-only; nothing if absent.
fn mirror(path: &Path, bwrap: &mut Vec<String>) {
    let host = path.to_string_lossy().into_owned();
    match path.symlink_metadata() {
        Ok(m) if m.file_type().is_symlink() => {
            if let Ok(target) = std::fs::read_link(path) {
                bwrap.extend([
                    "--symlink".into(),
                    target.to_string_lossy().into_owned(),
                    host,
                ]);
            }
        }
        Ok(_) => bwrap.extend(["--ro-bind".into(), host.clone(), host]),
        Err(_) => {}
    }
}

/// Every process below `root` (by parent pid), `root` excluded.
fn descendants(root: u32) -> Vec<(u32, String)> {
    let mut parents: HashMap<u32, Vec<(u32, String)>> = HashMap::new();
    if let Ok(entries) = std::fs::read_dir("/proc") {
        for entry in entries.flatten() {
            let Some(pid) = entry
                .file_name()
                .to_str()
                .and_then(|s| s.parse::<u32>().ok())
            else {
                continue;
            };
            let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else {
                continue;
            };
            // `pid (comm) state ppid …`; comm may itself hold spaces and parentheses.
            let (Some(open), Some(close)) = (stat.find('('), stat.rfind(')')) else {
                continue;
            };
            let comm = stat[open + 1..close].to_owned();
            let Some(parent) = stat[close + 1..]
                .split_whitespace()
                .nth(1)
                .and_then(|p| p.parse().ok())
            else {
                continue;
            };
            parents.entry(parent).or_default().push((pid, comm));
        }
    }
    let mut out = Vec::new();
    let mut queue = vec![root];
    while let Some(p) = queue.pop() {
        for (child, comm) in parents.remove(&p).unwrap_or_default() {
            queue.push(child);
            out.push((child, comm));
        }
    }
    out
}

impl EnvironmentDriver for LocalSandbox {
    fn name(&self) -> &'static str {
        "local-sandbox"
    }

    fn check(&self) -> Result<(), DriverError> {
        self.tools()?;
        self.ids()?;
        self.support()?;
        Ok(())
    }

    fn interrupt(&self, spec: &EnvironmentSpec) {
        self.stop_processes(spec.environment_id);
    }

    fn stop_everything(&self) {
        let helpers: Vec<StopHandle> = lock(&self.helpers)
            .drain()
            .flat_map(|(_, running)| running.into_values())
            .collect();
        for helper in helpers {
            helper.stop();
        }
        let networks: Vec<LabNetwork> = lock(&self.networks).drain().map(|(_, n)| n).collect();
        for network in networks {
            network.stop();
        }
    }

    fn release_mounts(&self) {
        if self.mounted.load(Ordering::Relaxed) {
            self.release_every_mount();
        }
    }

    fn reclaim(&self) -> Reclaimed {
        let Ok(root) = self.settings.workspace_root.canonicalize() else {
            return Reclaimed::default();
        };
        let environments = leftovers::noted_environments(&root);
        let loops_before = leftovers::loop_devices(&root);
        // Processes first: a mount a process still holds can only be detached lazily, and a
        // lazily detached volume keeps its loop device (and an image's overlay its work
        // directory, which a new overlay then refuses) for as long as that process lives.
        let mut pids: Vec<i32> = environments
            .iter()
            .flat_map(|env| self.cgroups.pids(&env.to_string()))
            .chain(leftovers::sandbox_processes(&root))
            .collect();
        pids.sort_unstable();
        pids.dedup();
        let processes = leftovers::kill_all(&pids);
        let mounts = self.release_every_mount();
        let losetup = find_program("losetup");
        let detached = leftovers::detach_unmounted_loops(&root, losetup.as_deref());
        let loops_after = leftovers::loop_devices(&root);
        let loop_devices = loops_before
            .iter()
            .filter(|l| !loops_after.contains(l))
            .count()
            .max(detached);
        let mut cgroups = 0;
        for env in &environments {
            let name = env.to_string();
            cgroups += self
                .cgroups
                .dirs(&name)
                .iter()
                .filter(|(_, dir)| dir.exists())
                .count();
            self.cgroups.remove(&name);
            let _ = std::fs::remove_dir(root.join(".roots").join(&name));
            leftovers::forget(&root, *env);
        }
        // Image roots' mount points of environments that were never noted (an older server).
        if let Ok(entries) = std::fs::read_dir(root.join(".roots")) {
            for entry in entries.flatten() {
                if !is_mount_point(&entry.path()) {
                    let _ = std::fs::remove_dir(entry.path());
                }
            }
        }
        Reclaimed {
            environments,
            processes,
            mounts,
            loop_devices,
            cgroups,
        }
    }

    fn create(&self, spec: &EnvironmentSpec) -> Result<(), DriverError> {
        self.check()?;
        let root = &self.settings.workspace_root;
        let user_dir = root.join(spec.user_id.to_string());
        let workspace = self.workspace(spec);
        std::fs::create_dir_all(&workspace)
            .map_err(|e| DriverError::io("making the workspace", e))?;
        // Before anything that outlives a killed server (a mount, a cgroup) exists.
        leftovers::note(
            root,
            spec.environment_id,
            &format!("{}/{}", spec.user_id, spec.lab_id),
        )
        .map_err(|e| DriverError::io("noting the environment", e))?;
        self.mount(spec)?;
        // The lab user must pass through (never list) the directories above its workspace.
        for dir in [root.as_path(), user_dir.as_path()] {
            std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o711))
                .map_err(|e| DriverError::io("setting workspace permissions", e))?;
        }
        std::fs::set_permissions(&workspace, std::fs::Permissions::from_mode(0o700))
            .map_err(|e| DriverError::io("setting workspace permissions", e))?;
        if let Some((uid, gid)) = self.ids()? {
            nix::unistd::chown(
                &workspace,
                Some(nix::unistd::Uid::from_raw(uid)),
                Some(nix::unistd::Gid::from_raw(gid)),
            )
            .map_err(|e| DriverError::io("giving the workspace to the lab user", e))?;
        }
        self.cgroups.create(&spec.environment_id.to_string(), spec)
    }

    fn start_shell(
        &self,
        spec: &EnvironmentSpec,
        size: PtySize,
    ) -> Result<ShellProcess, DriverError> {
        if self.settings.fault == Some(SandboxFault::FailShellStart) {
            return Err(DriverError::io(
                "starting the lab shell",
                "the sandbox exited at once (an injected fault)",
            ));
        }
        let program: Vec<String> = match &spec.image {
            // The host's `script`, run by the host's loader over the host's C library.
            Some(name) => {
                let shell = self.ensure_root(spec, name)?.shell;
                vec![
                    format!("{HELPER_DIR}/lib/ld.so"),
                    "--library-path".into(),
                    format!("{HELPER_DIR}/lib"),
                    format!("{HELPER_DIR}/bin/script"),
                    "-qfec".into(),
                    format!("{shell} -l"),
                    "/dev/null".into(),
                ]
            }
            None => vec![
                self.tools()?.script.to_string_lossy().into_owned(),
                "-qfec".into(),
                "/bin/bash --login".into(),
                "/dev/null".into(),
            ],
        };
        let program: Vec<&str> = program.iter().map(String::as_str).collect();
        let argv = self.command_line(spec, &program, true)?;
        self.on_spawner(move || -> Result<ShellProcess, DriverError> {
            let pair = native_pty_system()
                .openpty(size)
                .map_err(|e| DriverError::io("opening a PTY", e))?;
            let mut command = CommandBuilder::new(&argv[0]);
            command.args(&argv[1..]);
            command.env_clear();
            command.env("PATH", "/usr/bin:/bin:/usr/sbin:/sbin");
            command.cwd("/");
            let child = pair
                .slave
                .spawn_command(command)
                .map_err(|e| DriverError::io("starting the sandboxed shell", e))?;
            // The slave must close here, or reading the master never ends when the shell does.
            drop(pair.slave);
            let killer = child.clone_killer();
            Ok(ShellProcess {
                master: pair.master,
                child,
                killer,
            })
        })?
    }

    fn notify_resized(&self, shell_pid: Option<u32>) {
        let Some(pid) = shell_pid else { return };
        // `script` inside the sandbox copies the outer PTY's size to its own on SIGWINCH, which
        // the kernel sends only to the outer PTY's foreground group (bubblewrap): pass it on.
        for (child, comm) in descendants(pid) {
            // In an image, `script` runs under the host's loader, which names the process.
            if comm == "script" || comm.starts_with("ld.so") || comm.starts_with("ld-linux") {
                let _ = nix::sys::signal::kill(
                    nix::unistd::Pid::from_raw(i32::try_from(child).unwrap_or(i32::MAX)),
                    nix::sys::signal::Signal::SIGWINCH,
                );
            }
        }
    }

    fn stop(&self, spec: &EnvironmentSpec) -> Result<(), DriverError> {
        self.stop_processes(spec.environment_id);
        // The image's layer lives on the workspace: its overlay goes first.
        self.release_root(spec.environment_id);
        self.cgroups.remove(&spec.environment_id.to_string());
        self.volumes.release(&self.workspace(spec));
        leftovers::forget(&self.settings.workspace_root, spec.environment_id);
        Ok(())
    }

    fn destroy(&self, spec: &EnvironmentSpec) -> Result<(), DriverError> {
        self.stop(spec)?;
        let workspace = self.workspace(spec);
        self.volumes.destroy(&workspace)?;
        if workspace.exists() {
            std::fs::remove_dir_all(&workspace)
                .map_err(|e| DriverError::io("deleting the workspace", e))?;
        }
        // The user's directory goes with their last workspace (fails, harmlessly, otherwise).
        if let Some(user_dir) = workspace.parent() {
            let _ = std::fs::remove_dir(user_dir);
        }
        Ok(())
    }

    fn list(
        &self,
        spec: &EnvironmentSpec,
        dir: &WorkspacePath,
    ) -> Result<Vec<WorkspaceEntry>, DriverError> {
        let target = dir.in_sandbox().to_string_lossy().into_owned();
        let out = self.run_inside(
            spec,
            r#"[ -d "$1" ] || { echo "$1: Not a directory" >&2; exit 1; }; find "$1" -mindepth 1 -maxdepth 1 -printf '%y\t%s\t%T@\t%P\0'"#,
            &[&target],
            None,
        )?;
        let prefix = if dir.is_root() {
            String::new()
        } else {
            format!("{}/", dir.as_str())
        };
        let mut entries: Vec<WorkspaceEntry> = out
            .split(|b| *b == 0)
            .filter(|r| !r.is_empty())
            .filter_map(|record| {
                let record = String::from_utf8_lossy(record);
                let mut fields = record.splitn(4, '\t');
                let kind = fields.next()?;
                let size: u64 = fields.next()?.parse().ok()?;
                let modified: f64 = fields.next()?.parse().ok()?;
                let name = fields.next()?;
                // An image's own layer lives here, out of the learner's sight.
                if prefix.is_empty() && name == ROOT_LAYER {
                    return None;
                }
                #[allow(
                    clippy::cast_possible_truncation,
                    reason = "seconds since the epoch fit"
                )]
                let modified_unix = modified as i64;
                Some(WorkspaceEntry {
                    path: format!("{prefix}{name}"),
                    is_directory: kind == "d",
                    is_symlink: kind == "l",
                    size: if kind == "d" { 0 } else { size },
                    modified_unix,
                })
            })
            .collect();
        entries.sort_by(|a, b| {
            b.is_directory
                .cmp(&a.is_directory)
                .then(a.path.cmp(&b.path))
        });
        Ok(entries)
    }

    fn read(
        &self,
        spec: &EnvironmentSpec,
        path: &WorkspacePath,
        max_bytes: u64,
    ) -> Result<Vec<u8>, DriverError> {
        let target = path.in_sandbox().to_string_lossy().into_owned();
        let limit = (max_bytes + 1).to_string();
        let bytes = self.run_inside(
            spec,
            // `-e` and `-f` follow links (inside the sandbox): a link to a FIFO is refused too.
            r#"[ -d "$1" ] && { echo "$1: Is a directory" >&2; exit 1; }; [ -e "$1" ] || { echo "$1: No such file" >&2; exit 1; }; [ -f "$1" ] || { echo "$1: not a regular file" >&2; exit 1; }; exec head -c "$2" -- "$1""#,
            &[&target, &limit],
            None,
        )?;
        if bytes.len() as u64 > max_bytes {
            return Err(DriverError::Conflict(format!(
                "The file is larger than {max_bytes} bytes; download it from the terminal instead."
            )));
        }
        Ok(bytes)
    }

    fn write(
        &self,
        spec: &EnvironmentSpec,
        path: &WorkspacePath,
        bytes: &[u8],
    ) -> Result<(), DriverError> {
        if path.is_root() {
            return Err(DriverError::BadPath("Name a file to write.".into()));
        }
        let target = path.in_sandbox().to_string_lossy().into_owned();
        self.run_inside(
            spec,
            r#"mkdir -p -- "$(dirname -- "$1")" || exit 1; if [ -d "$1" ]; then echo "$1: Is a directory" >&2; exit 1; fi; if [ -e "$1" ] && [ ! -f "$1" ]; then echo "$1: not a regular file" >&2; exit 1; fi; exec cat > "$1""#,
            &[&target],
            Some(bytes),
        )?;
        Ok(())
    }

    fn make_dir(&self, spec: &EnvironmentSpec, path: &WorkspacePath) -> Result<(), DriverError> {
        let target = path.in_sandbox().to_string_lossy().into_owned();
        self.run_inside(spec, r#"mkdir -p -- "$1""#, &[&target], None)?;
        Ok(())
    }

    fn remove(&self, spec: &EnvironmentSpec, path: &WorkspacePath) -> Result<(), DriverError> {
        if path.is_root() {
            return Err(DriverError::BadPath(
                "The workspace itself cannot be deleted.".into(),
            ));
        }
        let target = path.in_sandbox().to_string_lossy().into_owned();
        self.run_inside(
            spec,
            r#"[ -e "$1" ] || [ -L "$1" ] || { echo "$1: No such file" >&2; exit 1; }; rm -rf -- "$1""#,
            &[&target],
            None,
        )?;
        Ok(())
    }

    fn run_script(
        &self,
        spec: &EnvironmentSpec,
        script: &str,
        deadline: Duration,
        output_cap: usize,
    ) -> Result<ScriptRun, DriverError> {
        self.mount(spec)?;
        // One stream, in the order the script wrote it, as the learner would have seen it.
        let script = format!("exec 2>&1\n{script}");
        let line = self.command_line(spec, &["/bin/sh", "-c", &script], true)?;
        let started = Instant::now();
        let outcome = self.run_stoppable(spec, &line, |command, watch| {
            deadline::run_capped(command, None, deadline, watch, output_cap)
        });
        let elapsed = started.elapsed();
        match outcome.map_err(|e| DriverError::io("running a lab script", e))? {
            Outcome::Finished { status, stdout, .. } => Ok(ScriptRun {
                exit_code: status.code(),
                output: stdout,
                timed_out: false,
                elapsed,
            }),
            Outcome::TimedOut => Ok(ScriptRun {
                exit_code: None,
                output: Vec::new(),
                timed_out: true,
                elapsed,
            }),
            Outcome::Stopped => Err(DriverError::Stopped),
        }
    }

    fn usage(&self, spec: &EnvironmentSpec) -> Usage {
        // Measured on the volume, not on the empty directory under it.
        let _ = self.mount(spec);
        let env = spec.environment_id.to_string();
        Usage {
            memory_bytes: self.cgroups.read_u64(
                &env,
                ("memory", "memory.usage_in_bytes"),
                "memory.current",
            ),
            processes: self
                .cgroups
                .read_u64(&env, ("pids", "pids.current"), "pids.current"),
            disk_bytes: tree_size(&self.workspace(spec)),
        }
    }
}
