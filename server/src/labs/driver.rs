//! The [`EnvironmentDriver`] trait: what the lab lifecycle needs from whatever runs an
//! environment (the local sandbox today; a Kubernetes pod per environment later).
//!
//! The methods block (they spawn processes and touch the file system): callers run them on
//! the labs' own bounded pool of threads ([`super::Labs::blocking`]), never on tokio's
//! blocking pool, which signing in shares.

use std::fmt;
use std::path::PathBuf;

use portable_pty::{Child, ChildKiller, MasterPty, PtySize};
use uuid::Uuid;

/// Why a driver could not do what it was asked.
#[allow(missing_docs, reason = "each variant's #[error] message documents it")]
#[derive(Debug, thiserror::Error)]
pub enum DriverError {
    /// The sandbox tool is not installed: never fall back to an unsandboxed shell.
    #[error("the sandbox tool `{tool}` is not installed on the server ({hint})")]
    SandboxToolMissing { tool: String, hint: String },
    /// The unprivileged OS user that sandboxes run as does not exist.
    #[error(
        "the OS user `{0}` that lab sandboxes run as does not exist (scripts/lib.sh creates it)"
    )]
    SandboxUserMissing(String),
    /// A workspace path is absolute, climbs out with `..`, or is otherwise unusable.
    #[error("{0}")]
    BadPath(String),
    /// The path does not exist in the workspace.
    #[error("no such file or directory in the workspace")]
    NotFound,
    /// The path exists and may not be replaced (a directory where a file goes, or the reverse).
    #[error("{0}")]
    Conflict(String),
    /// The sandbox refused (a read-only place, or a link out of the workspace).
    #[error("that place is outside the workspace or not writable")]
    Denied,
    /// The workspace would exceed its storage quota.
    #[error("the workspace would exceed its storage quota of {quota_bytes} bytes")]
    QuotaExceeded { quota_bytes: u64 },
    /// The path is a FIFO, a socket or a device (or a link to one): only regular files are
    /// read or written.
    #[error("only regular files and directories can be read or written")]
    NotRegularFile,
    /// The operation ran past its deadline and its sandbox was killed.
    #[error("the sandbox did not finish within {seconds} seconds and was stopped")]
    TimedOut { seconds: u64 },
    /// The environment was stopped while the operation ran.
    #[error("the lab session was stopped while this ran")]
    Stopped,
    /// Every driver thread is busy.
    #[error("the server is busy with other labs")]
    Busy,
    /// The host runs as many sandboxes as it may.
    #[error("this server runs {max} lab environments, its maximum")]
    HostFull { max: u32 },
    /// A networked lab cannot get its network here.
    #[error("networked labs cannot run on this server: {0}")]
    NetworkUnavailable(String),
    /// The environment's image cannot be used on this host (never imported here, or the server
    /// cannot mount it).
    #[error("{0}")]
    ImageUnavailable(String),
    /// Spawning or talking to the sandbox failed.
    #[error("{context}: {message}")]
    Io { context: String, message: String },
}

impl DriverError {
    /// An I/O failure while doing `context`.
    pub fn io(context: impl Into<String>, e: impl fmt::Display) -> Self {
        Self::Io {
            context: context.into(),
            message: e.to_string(),
        }
    }
}

/// What a lab's template asks of its sandbox. Each `environment_template` maps to one of these
/// (see [`SandboxProfile::for_template`]); `docker_image` is for the container drivers to come.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SandboxProfile {
    /// The documented profile name.
    pub name: &'static str,
    /// Whether the sandbox shares the host's network. Off unless the template asks for it.
    pub network: bool,
}

impl SandboxProfile {
    /// The profile of a lab template. `shell-basic`, `git` and `python` are the same offline
    /// shell (the tools come from the host's read-only `/usr`); a template ending in `-net`
    /// (`python-net`, …) is the same with network access. Anything else, or none, is
    /// `shell-basic`: an unknown name must never widen the sandbox.
    pub fn for_template(template: Option<&str>) -> Self {
        let template = template.unwrap_or("shell-basic");
        let network = template.ends_with("-net");
        let base = template.strip_suffix("-net").unwrap_or(template);
        let name = match (base, network) {
            ("git", false) => "git",
            ("git", true) => "git-net",
            ("python", false) => "python",
            ("python", true) => "python-net",
            (_, false) => "shell-basic",
            (_, true) => "shell-basic-net",
        };
        Self { name, network }
    }
}

/// CPU, memory, process and disk limits for one environment, already capped by the server's
/// settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ResourceLimits {
    /// CPU cores (a CFS quota of this many cores).
    pub cpu_cores: u32,
    /// Memory, in bytes.
    pub memory_bytes: u64,
    /// Processes and threads.
    pub max_processes: u32,
    /// Workspace storage, in bytes (also the largest single file).
    pub disk_bytes: u64,
}

/// What [`EnvironmentDriver::reclaim`] found and undid.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Reclaimed {
    /// The environments that were prepared and never stopped (their sessions were lost).
    pub environments: Vec<Uuid>,
    /// Sandbox processes killed.
    pub processes: usize,
    /// Mounts released (workspace volumes, image roots).
    pub mounts: usize,
    /// Loop devices freed.
    pub loop_devices: usize,
    /// Cgroup directories removed (one per controller on cgroup v1).
    pub cgroups: usize,
}

impl Reclaimed {
    /// Whether there was nothing to reclaim.
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }
}

/// One environment as a driver sees it.
#[derive(Debug, Clone)]
pub struct EnvironmentSpec {
    /// The `cloud_environments` row's id.
    pub environment_id: Uuid,
    /// The learner.
    pub user_id: Uuid,
    /// The lab.
    pub lab_id: Uuid,
    /// The sandbox profile.
    pub profile: SandboxProfile,
    /// The limits.
    pub limits: ResourceLimits,
    /// The lab image its root filesystem comes from (`labs.docker_image`, [`super::images`]);
    /// `None`: the host's own `/usr`, read-only.
    pub image: Option<String>,
}

/// A shell running in an environment, on a PTY.
pub struct ShellProcess {
    /// The PTY's master side: read output, write input, resize.
    pub master: Box<dyn MasterPty + Send>,
    /// The process on the PTY's slave side.
    pub child: Box<dyn Child + Send + Sync>,
    /// Kills the process from another thread.
    pub killer: Box<dyn ChildKiller + Send + Sync>,
}

impl fmt::Debug for ShellProcess {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ShellProcess")
            .field("pid", &self.child.process_id())
            .finish_non_exhaustive()
    }
}

/// One entry of a workspace directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkspaceEntry {
    /// Its path relative to the workspace (`src/main.py`).
    pub path: String,
    /// A directory.
    pub is_directory: bool,
    /// A symbolic link (never followed by the files API).
    pub is_symlink: bool,
    /// Size in bytes (0 for directories).
    pub size: u64,
    /// Last modified, seconds since the epoch.
    pub modified_unix: i64,
}

/// How an author's script (a lab step's setup, verify or solve) ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScriptRun {
    /// Its exit code; `None` when it was killed (at its deadline, or by a signal).
    pub exit_code: Option<i32>,
    /// Its standard output and error, interleaved, cut at the output cap.
    pub output: Vec<u8>,
    /// It ran past its deadline and was killed with its sandbox.
    pub timed_out: bool,
    /// How long it ran.
    pub elapsed: std::time::Duration,
}

impl ScriptRun {
    /// Exit code 0.
    pub fn succeeded(&self) -> bool {
        self.exit_code == Some(0)
    }

    /// The output as text: invalid UTF-8 replaced, NUL bytes (which no text column takes)
    /// dropped.
    pub fn output_text(&self) -> String {
        String::from_utf8_lossy(&self.output).replace('\0', "")
    }
}

/// What an environment uses now.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Usage {
    /// Bytes of memory charged to it now.
    pub memory_bytes: Option<u64>,
    /// Processes running in it now.
    pub processes: Option<u64>,
    /// Bytes its workspace holds.
    pub disk_bytes: u64,
}

/// A path inside a workspace: relative, no `..`, no empty or `.` parts, no NUL. Checked
/// lexically here; the local driver also resolves it inside the sandbox, so a symbolic link
/// can never lead out of the workspace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkspacePath(String);

impl WorkspacePath {
    /// Parses `path` (`""` or `"/"` is the workspace itself).
    pub fn parse(path: &str) -> Result<Self, DriverError> {
        if path.len() > 1024 || path.contains('\0') {
            return Err(DriverError::BadPath(
                "A path may not contain NUL and has at most 1024 bytes.".into(),
            ));
        }
        let mut parts = Vec::new();
        for part in path.split('/') {
            match part {
                "" | "." => {}
                ".." => {
                    return Err(DriverError::BadPath(
                        "A path may not contain `..`: it must stay inside the workspace.".into(),
                    ));
                }
                p if p.len() > 255 => {
                    return Err(DriverError::BadPath(
                        "A path part has at most 255 bytes.".into(),
                    ));
                }
                p => parts.push(p),
            }
        }
        Ok(Self(parts.join("/")))
    }

    /// The path relative to the workspace (`""`: the workspace itself).
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether this is the workspace itself.
    pub fn is_root(&self) -> bool {
        self.0.is_empty()
    }

    /// The last part (the file's name), or `""` for the workspace.
    pub fn file_name(&self) -> &str {
        self.0.rsplit('/').next().unwrap_or("")
    }

    /// The parent directory, `None` for the workspace itself.
    pub fn parent(&self) -> Option<Self> {
        if self.is_root() {
            return None;
        }
        Some(Self(
            self.0
                .rsplit_once('/')
                .map(|(p, _)| p.to_owned())
                .unwrap_or_default(),
        ))
    }

    /// Where it is inside the sandbox (`/home/lab/…`).
    pub fn in_sandbox(&self) -> PathBuf {
        let mut p = PathBuf::from(super::sandbox::SANDBOX_HOME);
        if !self.is_root() {
            p.push(&self.0);
        }
        p
    }
}

/// Runs lab environments. Implementations: [`super::sandbox::LocalSandbox`].
pub trait EnvironmentDriver: Send + Sync + fmt::Debug {
    /// The driver's name, for logs and `environment_data`.
    fn name(&self) -> &'static str;

    /// Checks the host can run environments at all (the sandbox tool and user exist).
    fn check(&self) -> Result<(), DriverError>;

    /// Prepares the environment (its workspace and resource controls). Idempotent: the
    /// workspace of a learner's earlier session of the same lab is kept when it exists.
    fn create(&self, spec: &EnvironmentSpec) -> Result<(), DriverError>;

    /// Starts a shell in the environment on a new PTY of `size`.
    fn start_shell(
        &self,
        spec: &EnvironmentSpec,
        size: PtySize,
    ) -> Result<ShellProcess, DriverError>;

    /// Tells the shell's terminal program that the PTY was resized.
    fn notify_resized(&self, shell_pid: Option<u32>);

    /// Stops every process of the environment (its shell, its running file operations, its
    /// network); the workspace stays.
    fn stop(&self, spec: &EnvironmentSpec) -> Result<(), DriverError>;

    /// Kills the environment's running file operations (and its network) now, without
    /// waiting: before a stop waits for a driver thread, which those operations may hold.
    fn interrupt(&self, spec: &EnvironmentSpec);

    /// [`EnvironmentDriver::interrupt`] for every environment at once (at shutdown;
    /// [`EnvironmentDriver::stop`] cleans up after).
    fn stop_everything(&self);

    /// Unmounts whatever this driver mounted that is still mounted (workspace volumes, image
    /// roots): at shutdown, after the environments with shells have stopped, and at start,
    /// after a server that was killed. Workspaces stay on disk.
    fn release_mounts(&self) {}

    /// Reclaims what a server of this host killed while labs ran left of its environments
    /// (their processes, mounts, loop devices and resource controls), at start, before any
    /// environment runs. Workspaces stay.
    fn reclaim(&self) -> Reclaimed {
        self.release_mounts();
        Reclaimed::default()
    }

    /// Stops the environment and deletes its workspace.
    fn destroy(&self, spec: &EnvironmentSpec) -> Result<(), DriverError>;

    /// Lists a directory of the workspace.
    fn list(
        &self,
        spec: &EnvironmentSpec,
        dir: &WorkspacePath,
    ) -> Result<Vec<WorkspaceEntry>, DriverError>;

    /// Reads a file of the workspace (at most `max_bytes`).
    fn read(
        &self,
        spec: &EnvironmentSpec,
        path: &WorkspacePath,
        max_bytes: u64,
    ) -> Result<Vec<u8>, DriverError>;

    /// Writes (creates or replaces) a file of the workspace.
    fn write(
        &self,
        spec: &EnvironmentSpec,
        path: &WorkspacePath,
        bytes: &[u8],
    ) -> Result<(), DriverError>;

    /// Makes a directory (and its parents) in the workspace.
    fn make_dir(&self, spec: &EnvironmentSpec, path: &WorkspacePath) -> Result<(), DriverError>;

    /// Runs an author's script (a lab step's setup, verify or solve) in the environment the way
    /// its shell runs: the same user, root filesystem, namespaces, network and limits, over the
    /// same workspace, as `sh -c`. Killed (with every process it started) at `deadline` or when
    /// the environment stops; of its output, the first `output_cap` bytes are kept. The
    /// environment must have been created.
    fn run_script(
        &self,
        spec: &EnvironmentSpec,
        script: &str,
        deadline: std::time::Duration,
        output_cap: usize,
    ) -> Result<ScriptRun, DriverError>;

    /// Deletes a file or a directory tree of the workspace.
    fn remove(&self, spec: &EnvironmentSpec, path: &WorkspacePath) -> Result<(), DriverError>;

    /// What the environment uses now.
    fn usage(&self, spec: &EnvironmentSpec) -> Usage;
}

#[cfg(test)]
#[allow(clippy::unwrap_used, reason = "tests fail loudly on purpose")]
mod tests {
    use super::*;

    #[test]
    fn workspace_paths_stay_inside_the_workspace() {
        for bad in ["..", "../x", "a/../../b", "a/..", "x\0y"] {
            assert!(WorkspacePath::parse(bad).is_err(), "{bad:?}");
        }
        let p = WorkspacePath::parse("/src//./main.py").unwrap();
        assert_eq!(p.as_str(), "src/main.py");
        assert_eq!(p.file_name(), "main.py");
        assert_eq!(p.parent().unwrap().as_str(), "src");
        assert_eq!(
            p.in_sandbox(),
            std::path::Path::new("/home/lab/src/main.py")
        );
        assert!(WorkspacePath::parse("").unwrap().is_root());
        assert!(WorkspacePath::parse(&"a".repeat(256)).is_err());
    }

    #[test]
    fn templates_map_to_profiles_and_unknown_ones_never_get_the_network() {
        let profile = |t: Option<&str>| SandboxProfile::for_template(t);
        assert_eq!(profile(None).name, "shell-basic");
        assert_eq!(
            profile(Some("python")),
            SandboxProfile {
                name: "python",
                network: false
            }
        );
        assert_eq!(
            profile(Some("git-net")),
            SandboxProfile {
                name: "git-net",
                network: true
            }
        );
        assert_eq!(profile(Some("docker-basic")).name, "shell-basic");
        assert!(!profile(Some("docker-basic")).network);
        assert!(profile(Some("anything-net")).network);
    }
}
