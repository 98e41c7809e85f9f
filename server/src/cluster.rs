//! The embedded PostgreSQL cluster: with no `DATABASE_URL`, the server runs a private cluster
//! from the locally installed PostgreSQL binaries, in its data directory, listening only on a
//! unix socket there.
//!
//! * PostgreSQL refuses to run as root, so when the server is root the cluster runs as an
//!   unprivileged OS user (`postgres` by default); `setpriv` drops the uid before `exec`.
//! * The postmaster gets `SIGINT` (fast shutdown) if the server dies, whatever kills it: it is
//!   started with a parent-death signal from a thread that lives as long as it does.
//! * A lock file in the data directory keeps two servers off one cluster; with the lock held, a
//!   postmaster still running for our data directory was orphaned by a dead server and is
//!   stopped before a new one starts.
//! * Authentication is `trust` on a socket in a `0700` directory owned by the cluster's user:
//!   only that user (and root) can reach it. No TCP port is opened.

use std::fs::{self, File, OpenOptions};
use std::io::{Read as _, Seek as _, SeekFrom};
use std::os::unix::fs::{OpenOptionsExt as _, PermissionsExt as _};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use nix::fcntl::{Flock, FlockArg};
use nix::sys::signal::{Signal, kill};
use nix::unistd::{Pid, User, chown};
use sqlx::postgres::PgConnectOptions;

/// The socket's port number (it only names the socket file; no TCP port is opened).
const SOCKET_PORT: u16 = 5432;
/// The cluster's superuser, which owns the database and runs migrations.
pub const SUPERUSER: &str = "postgres";
/// The database the server uses inside the cluster.
pub const DATABASE: &str = "skilltrack";
/// The oldest PostgreSQL we support (trusted extensions, `gen_random_uuid()` built in).
const MIN_MAJOR_VERSION: u32 = 13;
/// Unix socket paths are limited to 107 bytes on Linux.
const MAX_SOCKET_PATH: usize = 107;

/// Why the embedded cluster could not start or stop.
#[allow(missing_docs, reason = "each variant's #[error] message documents it")]
#[derive(Debug, thiserror::Error)]
pub enum ClusterError {
    #[error(
        "PostgreSQL server binaries (initdb, postgres) were not found{searched}; install them \
         (Debian/Ubuntu: `apt-get install postgresql`), pass --pg-bin-dir, or set DATABASE_URL \
         to use an existing server"
    )]
    BinariesNotFound { searched: String },
    #[error("PostgreSQL {found} is too old: Skilltrack needs {MIN_MAJOR_VERSION} or newer")]
    TooOld { found: String },
    #[error(
        "the server runs as root, and PostgreSQL refuses to; it would run the cluster as the OS \
         user `{0}`, which does not exist: create it (`useradd --system {0}`) or pass --pg-os-user"
    )]
    NoSuchOsUser(String),
    #[error(
        "the OS user `{user}` that runs the cluster cannot write to {dir}: choose a --data-dir \
         it can reach (for example under /var/lib or /tmp)"
    )]
    DataDirUnreachable { user: String, dir: PathBuf },
    #[error(
        "the socket path {0} is longer than the 107 bytes Linux allows: choose a shorter --data-dir"
    )]
    SocketPathTooLong(PathBuf),
    #[error("another skilltrack-server is using {0}")]
    DataDirInUse(PathBuf),
    #[error("`{command}` failed ({status}); its output:\n{output}")]
    CommandFailed {
        command: String,
        status: String,
        output: String,
    },
    #[error("PostgreSQL exited while starting ({status}); the end of its log ({log}):\n{tail}")]
    ExitedEarly {
        status: String,
        log: PathBuf,
        tail: String,
    },
    #[error("PostgreSQL did not accept connections within {0:?}; see its log in {1}")]
    StartTimeout(Duration, PathBuf),
    #[error("{context}: {source}")]
    Io {
        context: String,
        source: std::io::Error,
    },
    #[error("{context}: {source}")]
    Os { context: String, source: nix::Error },
}

fn io(context: impl Into<String>) -> impl FnOnce(std::io::Error) -> ClusterError {
    let context = context.into();
    move |source| ClusterError::Io { context, source }
}

fn os(context: impl Into<String>) -> impl FnOnce(nix::Error) -> ClusterError {
    let context = context.into();
    move |source| ClusterError::Os { context, source }
}

/// How to run the cluster.
#[derive(Debug, Clone)]
pub struct ClusterOptions {
    /// The cluster's own directory (data, socket, log, lock), created if missing.
    pub dir: PathBuf,
    /// Where `initdb` and `postgres` are; searched for when `None`.
    pub bin_dir: Option<PathBuf>,
    /// The OS user that runs the cluster when the server is root.
    pub os_user: String,
    /// `false` trades crash safety for speed (no fsync): for tests only.
    pub durable: bool,
}

/// A running cluster. Stop it with [`EmbeddedCluster::stop`]; dropping it stops it too.
#[derive(Debug)]
pub struct EmbeddedCluster {
    socket_dir: PathBuf,
    pgdata: PathBuf,
    log_path: PathBuf,
    postmaster: Pid,
    exited: mpsc::Receiver<ExitStatus>,
    stopped: bool,
    _lock: Flock<File>,
}

/// The OS identity the cluster runs as: ourselves, or an unprivileged user when we are root.
#[derive(Debug, Clone)]
enum RunAs {
    Myself,
    User(User),
}

impl RunAs {
    fn resolve(os_user: &str) -> Result<Self, ClusterError> {
        if !nix::unistd::geteuid().is_root() {
            return Ok(Self::Myself);
        }
        match User::from_name(os_user).map_err(os("looking up the cluster's OS user"))? {
            Some(user) => Ok(Self::User(user)),
            None => Err(ClusterError::NoSuchOsUser(os_user.to_owned())),
        }
    }

    fn name(&self) -> String {
        match self {
            Self::Myself => nix::unistd::User::from_uid(nix::unistd::geteuid())
                .ok()
                .flatten()
                .map_or_else(|| "the current user".to_owned(), |u| u.name),
            Self::User(user) => user.name.clone(),
        }
    }

    /// A command that runs `program` as this identity. `death_signal`: the signal the program
    /// gets when the thread that spawned it ends.
    fn command(&self, program: &Path, death_signal: Option<&str>) -> Command {
        let mut setpriv_args: Vec<String> = Vec::new();
        if let Self::User(user) = self {
            setpriv_args.extend([
                format!("--reuid={}", user.uid),
                format!("--regid={}", user.gid),
                "--init-groups".to_owned(),
            ]);
        }
        if let Some(signal) = death_signal {
            setpriv_args.push(format!("--pdeathsig={signal}"));
        }
        if setpriv_args.is_empty() {
            return Command::new(program);
        }
        let mut cmd = Command::new(setpriv_path());
        cmd.args(setpriv_args).arg("--").arg(program);
        // initdb and postgres resolve paths relative to the working directory, and root's home
        // is not readable by the cluster's user.
        cmd.current_dir("/");
        cmd
    }

    fn give(&self, path: &Path) -> Result<(), ClusterError> {
        if let Self::User(user) = self {
            chown(path, Some(user.uid), Some(user.gid)).map_err(os(format!(
                "giving {} to {}",
                path.display(),
                user.name
            )))?;
        }
        Ok(())
    }
}

fn setpriv_path() -> PathBuf {
    ["/usr/bin/setpriv", "/bin/setpriv"]
        .iter()
        .map(PathBuf::from)
        .find(|p| p.exists())
        .unwrap_or_else(|| PathBuf::from("setpriv"))
}

/// Finds `initdb` and `postgres`: the given directory, else the newest
/// `/usr/lib/postgresql/<major>/bin` (Debian, Ubuntu), else `$PATH`.
pub fn find_binaries(bin_dir: Option<&Path>) -> Result<PathBuf, ClusterError> {
    let has_both = |dir: &Path| dir.join("initdb").is_file() && dir.join("postgres").is_file();
    if let Some(dir) = bin_dir {
        return if has_both(dir) {
            Ok(dir.to_owned())
        } else {
            Err(ClusterError::BinariesNotFound {
                searched: format!(" in {}", dir.display()),
            })
        };
    }
    let mut candidates: Vec<(u32, PathBuf)> = fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let major = e.file_name().to_str()?.parse::<u32>().ok()?;
            Some((major, e.path().join("bin")))
        })
        .collect();
    candidates.sort_by_key(|c| std::cmp::Reverse(c.0));
    if let Some((_, dir)) = candidates.into_iter().find(|(_, d)| has_both(d)) {
        return Ok(dir);
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .find(|d| has_both(d))
        .ok_or_else(|| ClusterError::BinariesNotFound {
            searched: " in /usr/lib/postgresql/*/bin or $PATH".to_owned(),
        })
}

fn check_version(bin_dir: &Path) -> Result<String, ClusterError> {
    let out = Command::new(bin_dir.join("postgres"))
        .arg("--version")
        .output()
        .map_err(io("running postgres --version"))?;
    let text = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    // "postgres (PostgreSQL) 15.19 (Debian 15.19-0+deb12u1)"
    let major = text
        .split_whitespace()
        .nth(2)
        .and_then(|v| v.split('.').next())
        .and_then(|m| m.parse::<u32>().ok());
    match major {
        Some(m) if m >= MIN_MAJOR_VERSION => Ok(text),
        _ => Err(ClusterError::TooOld { found: text }),
    }
}

fn run_checked(mut cmd: Command, what: &str) -> Result<(), ClusterError> {
    let out = cmd.output().map_err(io(format!("running {what}")))?;
    if out.status.success() {
        return Ok(());
    }
    Err(ClusterError::CommandFailed {
        command: what.to_owned(),
        status: out.status.to_string(),
        output: format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    })
}

fn make_private_dir(path: &Path, run_as: &RunAs) -> Result<(), ClusterError> {
    fs::create_dir_all(path).map_err(io(format!("creating {}", path.display())))?;
    fs::set_permissions(path, fs::Permissions::from_mode(0o700))
        .map_err(io(format!("restricting {}", path.display())))?;
    run_as.give(path)
}

fn log_tail(path: &Path) -> String {
    const TAIL: u64 = 4000;
    let Ok(mut file) = File::open(path) else {
        return String::new();
    };
    let len = file.metadata().map_or(0, |m| m.len());
    let _ = file.seek(SeekFrom::Start(len.saturating_sub(TAIL)));
    let mut text = String::new();
    let _ = file.read_to_string(&mut text);
    text
}

fn process_alive(pid: Pid) -> bool {
    kill(pid, None).is_ok()
}

/// Stops a postmaster that an earlier, dead server left running on our data directory.
fn stop_orphan(pgdata: &Path) {
    let Ok(pid_file) = fs::read_to_string(pgdata.join("postmaster.pid")) else {
        return;
    };
    let Some(pid) = pid_file
        .lines()
        .next()
        .and_then(|l| l.trim().parse::<i32>().ok())
    else {
        return;
    };
    let pid = Pid::from_raw(pid);
    let is_postgres = fs::read(format!("/proc/{pid}/cmdline"))
        .is_ok_and(|c| String::from_utf8_lossy(&c).contains("postgres"));
    if !process_alive(pid) || !is_postgres {
        return;
    }
    tracing::warn!(%pid, "a PostgreSQL left running by an earlier server holds our data directory; stopping it");
    let _ = kill(pid, Signal::SIGINT);
    let deadline = Instant::now() + Duration::from_secs(30);
    while process_alive(pid) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    if process_alive(pid) {
        let _ = kill(pid, Signal::SIGKILL);
    }
}

/// Creates the cluster's directory, takes the data directory's lock, and checks the cluster's
/// OS user can write there.
fn prepare_dir(dir: &Path, run_as: &RunAs) -> Result<(PathBuf, Flock<File>), ClusterError> {
    fs::create_dir_all(dir).map_err(io(format!("creating {}", dir.display())))?;
    let dir = dir
        .canonicalize()
        .map_err(io(format!("resolving {}", dir.display())))?;
    let lock_path = dir.join("server.lock");
    let lock_file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .mode(0o600)
        .open(&lock_path)
        .map_err(io(format!("opening {}", lock_path.display())))?;
    let lock = Flock::lock(lock_file, FlockArg::LockExclusiveNonblock)
        .map_err(|_| ClusterError::DataDirInUse(dir.clone()))?;
    make_private_dir(&dir, run_as)?;
    if let RunAs::User(_) = run_as {
        let mut probe = run_as.command(Path::new("/usr/bin/test"), None);
        probe.args(["-w".as_ref(), dir.as_os_str()]);
        if !probe.status().is_ok_and(|s| s.success()) {
            return Err(ClusterError::DataDirUnreachable {
                user: run_as.name(),
                dir,
            });
        }
    }
    Ok((dir, lock))
}

/// A PostgreSQL client program (`pg_dump`, `pg_restore`) from the cluster's binaries, run as
/// the cluster's OS user (its socket is private to that user) and connected through the
/// socket as [`SUPERUSER`] to `database`. It works whether this process or a running server
/// started the cluster.
///
/// # Errors
/// When the binaries or the OS user are not found.
pub fn client_command(
    options: &ClusterOptions,
    program: &str,
    database: &str,
) -> Result<Command, ClusterError> {
    let bin_dir = find_binaries(options.bin_dir.as_deref())?;
    let run_as = RunAs::resolve(&options.os_user)?;
    let dir = options
        .dir
        .canonicalize()
        .map_err(io(format!("resolving {}", options.dir.display())))?;
    let mut command = run_as.command(&bin_dir.join(program), None);
    command
        .arg("--host")
        .arg(dir.join("run"))
        .args(["--port", &SOCKET_PORT.to_string()])
        .args(["--username", SUPERUSER, "--dbname", database]);
    Ok(command)
}

impl EmbeddedCluster {
    /// Creates the cluster on first use, starts it, and waits until it accepts connections.
    /// Blocking: call it from `spawn_blocking` in async code.
    pub fn start(options: &ClusterOptions) -> Result<Self, ClusterError> {
        let bin_dir = find_binaries(options.bin_dir.as_deref())?;
        let version = check_version(&bin_dir)?;
        let run_as = RunAs::resolve(&options.os_user)?;

        let (dir, lock) = prepare_dir(&options.dir, &run_as)?;
        let pgdata = dir.join("data");
        let socket_dir = dir.join("run");
        let socket = socket_dir.join(format!(".s.PGSQL.{SOCKET_PORT}"));
        if socket.as_os_str().len() > MAX_SOCKET_PATH {
            return Err(ClusterError::SocketPathTooLong(socket));
        }
        make_private_dir(&socket_dir, &run_as)?;

        if !pgdata.join("PG_VERSION").exists() {
            tracing::info!(dir = %pgdata.display(), %version, user = %run_as.name(), "creating the embedded PostgreSQL cluster");
            let mut initdb = run_as.command(&bin_dir.join("initdb"), None);
            initdb
                .arg("--pgdata")
                .arg(&pgdata)
                .args([
                    "--username",
                    SUPERUSER,
                    "--auth-local=trust",
                    "--auth-host=reject",
                ])
                .args(["--encoding=UTF8", "--locale=C.UTF-8"]);
            if !options.durable {
                initdb.arg("--no-sync");
            }
            run_checked(initdb, "initdb")?;
        }
        stop_orphan(&pgdata);

        let log_path = dir.join("postgres.log");
        let log = OpenOptions::new()
            .create(true)
            .append(true)
            .mode(0o600)
            .open(&log_path)
            .map_err(io(format!("opening {}", log_path.display())))?;
        let log_start = log.metadata().map_or(0, |m| m.len());

        let mut postgres = run_as.command(&bin_dir.join("postgres"), Some("INT"));
        postgres
            .arg("-D")
            .arg(&pgdata)
            .arg("-k")
            .arg(&socket_dir)
            .args(["-p", &SOCKET_PORT.to_string()])
            .args(["-c", "listen_addresses="])
            .args(["-c", "unix_socket_permissions=0700"])
            .stdin(Stdio::null())
            .stdout(log.try_clone().map_err(io("sharing the log file"))?)
            .stderr(log);
        if !options.durable {
            postgres.args(["-c", "fsync=off", "-c", "synchronous_commit=off"]);
            postgres.args(["-c", "full_page_writes=off"]);
        }

        // The parent-death signal fires when the *thread* that spawned the child ends, so the
        // child is spawned by a thread that then waits for it, and lives exactly as long.
        let (spawned_tx, spawned_rx) = mpsc::channel();
        let (exited_tx, exited_rx) = mpsc::channel();
        std::thread::Builder::new()
            .name("postgres-waiter".into())
            .spawn(move || match postgres.spawn() {
                Ok(mut child) => {
                    let _ = spawned_tx.send(Ok(child.id()));
                    if let Ok(status) = child.wait() {
                        let _ = exited_tx.send(status);
                    }
                }
                Err(e) => {
                    let _ = spawned_tx.send(Err(e));
                }
            })
            .map_err(io("starting the postgres waiter thread"))?;
        let pid = spawned_rx
            .recv()
            .map_err(|_| io("starting postgres")(std::io::ErrorKind::BrokenPipe.into()))?
            .map_err(io("starting postgres"))?;

        let mut cluster = Self {
            socket_dir,
            pgdata,
            log_path,
            postmaster: Pid::from_raw(i32::try_from(pid).unwrap_or(i32::MAX)),
            exited: exited_rx,
            stopped: false,
            _lock: lock,
        };
        cluster.wait_until_ready(&socket, log_start)?;
        tracing::info!(socket = %cluster.socket_dir.display(), pid, "embedded PostgreSQL is ready");
        Ok(cluster)
    }

    fn wait_until_ready(&mut self, socket: &Path, log_start: u64) -> Result<(), ClusterError> {
        const TIMEOUT: Duration = Duration::from_secs(60);
        let deadline = Instant::now() + TIMEOUT;
        loop {
            if let Ok(status) = self.exited.try_recv() {
                self.stopped = true;
                let tail = log_tail(&self.log_path);
                let tail = tail.get(usize::try_from(log_start).unwrap_or(0).min(tail.len())..);
                return Err(ClusterError::ExitedEarly {
                    status: status.to_string(),
                    log: self.log_path.clone(),
                    tail: tail.unwrap_or_default().to_owned(),
                });
            }
            // The postmaster creates the socket once it accepts connections, and removes
            // postmaster.pid's "starting" status line when ready.
            let ready = socket.exists()
                && fs::read_to_string(self.pgdata.join("postmaster.pid"))
                    .is_ok_and(|s| s.lines().nth(7).is_some_and(|l| l.trim() == "ready"));
            if ready {
                return Ok(());
            }
            if Instant::now() > deadline {
                return Err(ClusterError::StartTimeout(TIMEOUT, self.log_path.clone()));
            }
            std::thread::sleep(Duration::from_millis(25));
        }
    }

    /// Connection options for `user` on `database`, over the cluster's socket.
    pub fn connect_options(&self, user: &str, database: &str) -> PgConnectOptions {
        PgConnectOptions::new()
            .socket(&self.socket_dir)
            .port(SOCKET_PORT)
            .username(user)
            .database(database)
    }

    /// The directory holding the socket.
    pub fn socket_dir(&self) -> &Path {
        &self.socket_dir
    }

    /// The postmaster's process id.
    pub fn pid(&self) -> i32 {
        self.postmaster.as_raw()
    }

    /// Fast shutdown: ends sessions, checkpoints, exits. Blocking.
    pub fn stop(&mut self) -> Result<(), ClusterError> {
        if self.stopped {
            return Ok(());
        }
        self.stopped = true;
        kill(self.postmaster, Signal::SIGINT).map_err(os("signalling postgres to stop"))?;
        if let Ok(status) = self.exited.recv_timeout(Duration::from_secs(60)) {
            tracing::info!(%status, "embedded PostgreSQL stopped");
        } else {
            tracing::error!("embedded PostgreSQL did not stop within 60 s; killing it");
            let _ = kill(self.postmaster, Signal::SIGKILL);
        }
        Ok(())
    }
}

impl Drop for EmbeddedCluster {
    fn drop(&mut self) {
        if let Err(e) = self.stop() {
            tracing::error!(error = %e, "stopping the embedded PostgreSQL failed");
        }
    }
}
