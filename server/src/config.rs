//! Command line, environment and configuration file: every setting is a flag with an
//! environment variable beside it and a key of the optional TOML file ([`file`]), and `--help`
//! explains each one. A flag wins over the environment, which wins over the file, which wins
//! over the defaults.

pub mod file;

use std::fmt;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::str::FromStr;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// The Skilltrack server: the API, the PostgreSQL schema it owns, and (by default) an embedded
/// PostgreSQL cluster in its data directory.
#[derive(Debug, Parser)]
#[command(
    name = "skilltrack-server",
    version,
    about = "The Skilltrack server: API, PostgreSQL schema under Row Level Security, embedded database.",
    long_about = "The Skilltrack server: API, PostgreSQL schema under Row Level Security, embedded \
database.\n\nWith no DATABASE_URL it creates and runs a private PostgreSQL cluster in its data \
directory (from the installed PostgreSQL binaries; as root, as the `postgres` OS user) and stops \
it on exit. With DATABASE_URL it uses that server; the URL's user must own the database and be \
allowed to create roles.\n\nEvery setting can also be written in a TOML file named by --config \
(or SKILLTRACK_CONFIG): its keys are the long flags in snake_case (`instance_name = \"My \
Academy\"` for --instance-name), all at the top level; deploy/skilltrack.toml lists them. A flag \
wins over its environment variable, which wins over the file, which wins over the default. An \
unknown key or a bad value stops the server at start, naming the file, line and column.\n\n\
Examples:\n  skilltrack-server seed-demo && skilltrack-server serve\n  \
DATABASE_URL=postgres://skilltrack@db/skilltrack skilltrack-server migrate"
)]
pub struct Cli {
    /// Settings every command shares.
    #[command(flatten)]
    pub global: GlobalOptions,
    /// What to do (default: serve).
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// What to do.
#[derive(Debug, Subcommand)]
#[allow(
    clippy::large_enum_variant,
    reason = "parsed once at start; boxing would only complicate the callers"
)]
pub enum Command {
    /// Apply migrations, then serve the API until SIGINT or SIGTERM (the default).
    Serve(ServeOptions),
    /// Apply pending migrations and exit.
    Migrate,
    /// Apply migrations and load the demo catalog and demo accounts (safe to run again).
    SeedDemo,
    /// Manage this host's lab images: the root filesystems labs run on (`docker_image`).
    #[command(subcommand)]
    LabImages(LabImageCommand),
    /// The Ed25519 keys that sign certificates, kept in `<data-dir>/certificate-keys.json`.
    #[command(subcommand)]
    CertificateKeys(CertificateKeyCommand),
    /// Publish signed desktop app packages for the app's updater, kept in
    /// `<data-dir>/desktop-releases` (docs/desktop-updates.md).
    #[command(subcommand)]
    DesktopRelease(DesktopReleaseCommand),
    /// Back up the database (`pg_dump`, while the server serves), the token secret, the
    /// certificate keys and the uploaded media into DIR (docs/deployment.md). Into the same
    /// DIR again, only new uploads are copied.
    Backup {
        /// Where the backup goes (created if missing).
        dir: PathBuf,
    },
    /// Restore a backup taken with `backup`: the database is REPLACED by the backup's (then
    /// migrated), its keys and uploads copied back. Stop every server on the database first.
    /// Devices then sync from a fresh snapshot, sending their queued offline writes first.
    Restore {
        /// The backup's directory.
        dir: PathBuf,
    },
    /// Print the OpenAPI document (what `/api/openapi.json` serves) and exit. Needs no
    /// database: the UI's API contract check generates its types from it.
    Openapi,
}

/// `skilltrack-server certificate-keys …`.
#[derive(Debug, Subcommand)]
pub enum CertificateKeyCommand {
    /// List the keys (ids only; the current one marked) and publish their public halves.
    List,
    /// Generate a new key and sign new certificates with it from the next start on. The old
    /// keys stay published, so what they signed keeps verifying.
    Rotate,
}

/// `skilltrack-server desktop-release …`: the packages apps signed in to this server update
/// to. Each is offered to apps of its format (deb, rpm) and architecture older than it.
#[derive(Debug, Subcommand)]
pub enum DesktopReleaseCommand {
    /// Publish a package (`.deb` or `.rpm`, from `scripts/package`) with its signature (the
    /// `.sig` file `tauri signer sign --app-version X.Y.Z FILE` wrote). The same version,
    /// format and architecture published again replaces the earlier package.
    Publish {
        /// The package file; its format is read from its first bytes.
        file: PathBuf,
        /// The package's `.sig` file.
        #[arg(long, value_name = "SIGFILE")]
        signature: PathBuf,
        /// The version (X.Y.Z). Default: the one the signature was made for; if both are
        /// given they must agree.
        #[arg(long)]
        version: Option<String>,
        /// The architecture. Default: what the file's name says (`_amd64.deb`,
        /// `.x86_64.rpm`, `_arm64.deb`, `.aarch64.rpm`).
        #[arg(long, value_parser = parse_desktop_arch)]
        arch: Option<skilltrack_protocol::desktop_updates::DesktopArch>,
        /// What changed, shown to the user who is offered the update.
        #[arg(long, default_value = "")]
        notes: String,
        /// The updater's public key (the `.pub` file of `tauri signer generate`, or its
        /// content): the package is published only if its signature verifies with it. Without
        /// it the signature is not checked here (the app still checks it, and refuses a bad one).
        #[arg(long, env = "SKILLTRACK_DESKTOP_UPDATE_PUBKEY", value_name = "PUBKEY")]
        pubkey: Option<String>,
    },
    /// List the published packages, newest version first.
    List,
    /// Withdraw a release: apps are no longer offered it, and its file is deleted. Apps that
    /// installed it keep it.
    Withdraw {
        /// Its version (X.Y.Z).
        version: String,
        /// Its format.
        #[arg(long, value_parser = parse_desktop_bundle)]
        bundle: skilltrack_protocol::desktop_updates::DesktopBundle,
        /// Its architecture.
        #[arg(long, value_parser = parse_desktop_arch, default_value = "x86_64")]
        arch: skilltrack_protocol::desktop_updates::DesktopArch,
    },
}

fn parse_desktop_arch(
    text: &str,
) -> Result<skilltrack_protocol::desktop_updates::DesktopArch, String> {
    skilltrack_protocol::desktop_updates::DesktopArch::parse(text)
        .ok_or_else(|| format!("{text:?} is not an architecture: x86_64 or aarch64"))
}

fn parse_desktop_bundle(
    text: &str,
) -> Result<skilltrack_protocol::desktop_updates::DesktopBundle, String> {
    skilltrack_protocol::desktop_updates::DesktopBundle::parse(text)
        .ok_or_else(|| format!("{text:?} is not a package format: deb or rpm"))
}

/// `skilltrack-server lab-images …`. Images are kept in `<data-dir>/lab-images` (or
/// `--lab-images-dir`) and listed in the database, so authors can choose them and a lab naming
/// a missing one cannot be published. Import them on every host that runs labs.
#[derive(Debug, Subcommand)]
pub enum LabImageCommand {
    /// Import a root filesystem archive (tar or tar.gz: `docker export`, `mmdebstrap … x.tar`)
    /// or an OCI image layout directory (`skopeo copy docker://debian:12 oci:DIR`).
    Import {
        /// The name labs use, e.g. `python-tools` or `python-tools:1`.
        name: String,
        /// The archive file or the OCI layout directory.
        source: PathBuf,
        /// The OS user sandboxes run as (the image's files become theirs).
        #[arg(
            long,
            env = "SKILLTRACK_LAB_SANDBOX_USER",
            default_value = "skilltrack-lab"
        )]
        sandbox_user: String,
    },
    /// Build an image from Debian packages with mmdebstrap (its `essential` set and these
    /// packages), then import it. Needs the `mmdebstrap` package and a Debian mirror.
    Build {
        /// The name labs use.
        name: String,
        /// Packages to add, comma-separated (e.g. `git,python3`).
        #[arg(long, value_delimiter = ',')]
        packages: Vec<String>,
        /// The Debian release.
        #[arg(long, default_value = "bookworm")]
        suite: String,
        /// The OS user sandboxes run as (the image's files become theirs).
        #[arg(
            long,
            env = "SKILLTRACK_LAB_SANDBOX_USER",
            default_value = "skilltrack-lab"
        )]
        sandbox_user: String,
    },
    /// List the images of this host.
    List,
    /// Remove an image: labs naming it can no longer start or be published.
    Remove {
        /// Its name.
        name: String,
    },
}

/// Settings every command shares.
#[derive(Debug, Args)]
pub struct GlobalOptions {
    /// A TOML file of settings: keys are the long flags in `snake_case` (`instance_name`), at the
    /// top level. Flags and environment variables override it.
    #[arg(long, env = "SKILLTRACK_CONFIG", global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// Where the server keeps its state: the embedded PostgreSQL cluster and media.
    /// Default: `/var/lib/skilltrack` as root, else `$XDG_DATA_HOME/skilltrack`
    /// (`~/.local/share/skilltrack`).
    #[arg(long, env = "SKILLTRACK_DATA_DIR", global = true)]
    pub data_dir: Option<PathBuf>,

    /// Use this PostgreSQL server instead of the embedded cluster.
    #[arg(long, env = "DATABASE_URL", global = true, hide_env_values = true)]
    pub database_url: Option<Secret>,

    /// Password for the `authenticator` role the API logs in as (`DATABASE_URL` only). Without
    /// it a random one is set at every start: set it when several servers share a database.
    #[arg(
        long,
        env = "SKILLTRACK_AUTHENTICATOR_PASSWORD",
        global = true,
        hide_env_values = true
    )]
    pub authenticator_password: Option<Secret>,

    /// Where lab images are kept (`skilltrack-server lab-images`). Default:
    /// `<data-dir>/lab-images`.
    #[arg(long, env = "SKILLTRACK_LAB_IMAGES_DIR", global = true)]
    pub lab_images_dir: Option<PathBuf>,

    /// Directory holding PostgreSQL's `initdb` and `postgres` (embedded cluster only).
    /// Default: the newest `/usr/lib/postgresql/*/bin`, else `$PATH`.
    #[arg(long, env = "SKILLTRACK_PG_BIN_DIR", global = true)]
    pub pg_bin_dir: Option<PathBuf>,

    /// OS user that runs the embedded cluster when the server runs as root.
    #[arg(
        long,
        env = "SKILLTRACK_PG_OS_USER",
        global = true,
        default_value = "postgres"
    )]
    pub pg_os_user: String,

    /// Log format.
    #[arg(long, env = "SKILLTRACK_LOG_FORMAT", global = true, value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,
}

/// Settings of `serve`.
#[derive(Debug, Args)]
pub struct ServeOptions {
    /// Address to listen on (port 0 picks a free port; the log says which).
    #[arg(long, env = "SKILLTRACK_LISTEN", default_value = "127.0.0.1:8787")]
    pub listen: Option<SocketAddr>,

    /// Largest request body accepted, in bytes.
    #[arg(long, env = "SKILLTRACK_MAX_BODY_BYTES", default_value_t = 1024 * 1024)]
    pub max_body_bytes: usize,

    /// Longest a request may take, in seconds.
    #[arg(long, env = "SKILLTRACK_REQUEST_TIMEOUT_SECS", default_value_t = 30)]
    pub request_timeout_secs: u64,

    /// Largest file an instructor may upload, in bytes.
    #[arg(long, env = "SKILLTRACK_MAX_UPLOAD_BYTES", default_value_t = 512 * 1024 * 1024)]
    pub max_upload_bytes: u64,

    /// Free space, in MiB, below which the server takes no more writes (507 `storage_full`,
    /// reads go on) on its data directory's filesystem (the embedded PostgreSQL's): the rest
    /// is kept for PostgreSQL's write-ahead log and checkpoints, so a full disk never stops
    /// the database.
    /// 0 turns the check off (a full disk is then still answered 507, when it is hit).
    #[arg(long, env = "SKILLTRACK_MIN_FREE_DISK_MB", default_value_t = 256)]
    pub min_free_disk_mb: u64,

    /// Key that signs access tokens (HS256), at least 32 bytes. Default: generated on first
    /// start and kept in `<data-dir>/jwt-secret`, readable only by the server.
    #[arg(long, env = "SKILLTRACK_JWT_SECRET", hide_env_values = true)]
    pub jwt_secret: Option<Secret>,

    /// The server's public address, as learners and employers reach it (e.g.
    /// `https://learn.example.org`): certificates name their issuer, keys and revocation list
    /// by it, so set it before the first certificate is issued. Default: `http://` and
    /// `--listen`.
    #[arg(long, env = "SKILLTRACK_PUBLIC_URL")]
    pub public_url: Option<String>,

    /// Where the other server processes of a cluster reach this one, over plain HTTP on the
    /// private network between them (e.g. `http://10.0.0.2:8787`): a lab terminal or lab
    /// request reaching another process is passed on to the process that runs its sandbox, at
    /// this address. Unset: no process passes terminals
    /// here (run one process, or route terminals to their process; docs/deployment.md).
    #[arg(long, env = "SKILLTRACK_INTERNAL_URL", value_parser = parse_internal_url)]
    pub internal_url: Option<String>,

    /// The issuer's name on certificates (and the name account mail signs with).
    #[arg(long, env = "SKILLTRACK_INSTANCE_NAME", default_value = "Skilltrack")]
    pub instance_name: String,

    /// The SMTP server that mails password reset and address confirmation links (which point
    /// at --public-url): `smtp://HOST:PORT` (no TLS: a relay on this machine),
    /// `smtp://USER:PASSWORD@HOST:587?tls=required` (STARTTLS) or
    /// `smtps://USER:PASSWORD@HOST:465` (TLS); percent-encode a password's special characters.
    /// Without it no mail is sent: the server says so at start, a reset request still answers
    /// as usual, and admins set forgotten passwords (`PUT /api/v1/admin/users/{id}/password`).
    #[arg(long, env = "SKILLTRACK_SMTP_URL", hide_env_values = true)]
    pub smtp_url: Option<Secret>,

    /// The sender of account mail, e.g. `Skilltrack <no-reply@learn.example.org>` (needed with
    /// --smtp-url).
    #[arg(long, env = "SKILLTRACK_MAIL_FROM")]
    pub mail_from: Option<String>,

    /// How long an access token lives, in seconds.
    #[arg(long, env = "SKILLTRACK_ACCESS_TOKEN_TTL_SECS", default_value_t = 900)]
    pub access_token_ttl_secs: u64,

    /// Sign-in (and, separately, sign-up) attempts allowed per client address per window.
    #[arg(long, env = "SKILLTRACK_AUTH_LIMIT_PER_IP", default_value_t = 30)]
    pub auth_limit_per_ip: u32,

    /// Failed sign-ins allowed per account from one address before each further try waits
    /// (30 s, doubling up to 15 minutes). Only failures count, and a success forgets them, so
    /// nobody can lock an account's owner out by failing on purpose.
    #[arg(
        long,
        env = "SKILLTRACK_AUTH_FAILURES_BEFORE_BACKOFF",
        alias = "auth-limit-per-account",
        default_value_t = 5
    )]
    pub auth_failures_before_backoff: u32,

    /// Reverse proxies (addresses or CIDR ranges, comma-separated) whose `X-Forwarded-For` is
    /// believed: the client is the rightmost address a trusted proxy did not add. Empty: the
    /// connection's peer is the client (a header from it is ignored).
    #[arg(
        long,
        env = "SKILLTRACK_TRUSTED_PROXIES",
        value_delimiter = ',',
        value_parser = parse_proxy
    )]
    pub trusted_proxies: Vec<ipnet::IpNet>,

    /// The sign-in rate-limit window, in seconds.
    #[arg(long, env = "SKILLTRACK_AUTH_LIMIT_WINDOW_SECS", default_value_t = 300)]
    pub auth_limit_window_secs: u64,

    /// Seconds during which a just-used refresh token may be used again (concurrent refreshes
    /// from one client) before its reuse revokes the session.
    #[arg(
        long,
        env = "SKILLTRACK_REFRESH_REUSE_GRACE_SECS",
        default_value_t = 10
    )]
    pub refresh_reuse_grace_secs: u64,

    /// Days the sync change log keeps an entry; a device whose last sync is older starts again
    /// from a snapshot (0: never compact).
    #[arg(long, env = "SKILLTRACK_SYNC_LOG_RETENTION_DAYS", default_value_t = 30)]
    pub sync_log_retention_days: u32,

    /// Where lab workspaces live (one directory per learner and lab). Default:
    /// `<data-dir>/labs`.
    #[arg(long, env = "SKILLTRACK_LAB_WORKSPACE_DIR")]
    pub lab_workspace_dir: Option<PathBuf>,

    /// The unprivileged OS user lab sandboxes run as when the server runs as root.
    #[arg(
        long,
        env = "SKILLTRACK_LAB_SANDBOX_USER",
        default_value = "skilltrack-lab"
    )]
    pub lab_sandbox_user: String,

    /// The most memory one lab environment may use, in MiB, whatever its lab asks.
    #[arg(long, env = "SKILLTRACK_LAB_MEMORY_CAP_MB", default_value_t = 2048)]
    pub lab_memory_cap_mb: u64,

    /// The most processes one lab environment may run.
    #[arg(long, env = "SKILLTRACK_LAB_PROCESS_CAP", default_value_t = 256)]
    pub lab_process_cap: u32,

    /// The most storage one lab workspace may hold (and the largest file), in MiB.
    #[arg(long, env = "SKILLTRACK_LAB_DISK_CAP_MB", default_value_t = 2048)]
    pub lab_disk_cap_mb: u64,

    /// Each lab workspace its own filesystem (a loop-mounted ext4 image) where the server is
    /// root and the host has loop devices, so the disk cap holds however many files a learner
    /// writes; `false` keeps plain directories (the cap is then the largest file).
    #[arg(long, env = "SKILLTRACK_LAB_WORKSPACE_VOLUMES", default_value_t = true, action = clap::ArgAction::Set)]
    pub lab_workspace_volumes: bool,

    /// Seconds a lab shell outlives its last dropped terminal connection before the session
    /// is paused.
    #[arg(
        long,
        env = "SKILLTRACK_LAB_RECONNECT_GRACE_SECS",
        default_value_t = 300
    )]
    pub lab_reconnect_grace_secs: u64,

    /// Seconds between rounds of the idle reaper.
    #[arg(
        long,
        env = "SKILLTRACK_LAB_REAPER_INTERVAL_SECS",
        default_value_t = 30
    )]
    pub lab_reaper_interval_secs: u64,

    /// Extra origins (comma-separated) a browser may open lab terminals from, besides the
    /// desktop app's and the server's own.
    #[arg(long, env = "SKILLTRACK_LAB_ALLOWED_ORIGINS", value_delimiter = ',')]
    pub lab_allowed_origins: Vec<String>,

    /// Seconds one lab driver call (a workspace file operation, starting a shell) may take
    /// before its sandbox is killed.
    #[arg(long, env = "SKILLTRACK_LAB_DRIVER_TIMEOUT_SECS", default_value_t = 30)]
    pub lab_driver_timeout_secs: u64,

    /// Seconds a lab step's script (a learner's check, a setup, a self-test's phase) may run
    /// before it is stopped; the learner's session lives on.
    #[arg(long, env = "SKILLTRACK_LAB_CHECK_TIMEOUT_SECS", default_value_t = 20)]
    pub lab_check_timeout_secs: u64,

    /// How many lab driver calls run at once, each on a thread of its own (apart from the
    /// threads signing in uses).
    #[arg(long, env = "SKILLTRACK_LAB_DRIVER_THREADS", default_value_t = 8)]
    pub lab_driver_threads: usize,

    /// The most labs one learner may have running at once (paused ones do not count).
    #[arg(
        long,
        env = "SKILLTRACK_LAB_MAX_RUNNING_PER_LEARNER",
        default_value_t = 2
    )]
    pub lab_max_running_per_learner: u32,

    /// The most lab sandboxes this server runs at once.
    #[arg(
        long,
        env = "SKILLTRACK_LAB_MAX_RUNNING_PER_HOST",
        default_value_t = 32
    )]
    pub lab_max_running_per_host: u32,

    /// A fault to inject into the lab sandboxes, for tests of the failure paths only.
    #[arg(long, env = "SKILLTRACK_LAB_FAULT", value_enum, hide = true)]
    pub lab_fault: Option<crate::labs::sandbox::SandboxFault>,
}

/// How log lines look.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// For people.
    Text,
    /// One JSON object a line, for log collectors.
    Json,
}

/// A setting that must never appear in logs or `Debug` output.
#[derive(Clone)]
pub struct Secret(String);

impl Secret {
    /// The secret itself; use it, do not log it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

impl FromStr for Secret {
    type Err = std::convert::Infallible;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(Self(s.to_owned()))
    }
}

impl Cli {
    /// The command line over the environment, over the configuration file (if one is named),
    /// over the defaults; with no command, `serve`. `--help` and a malformed command line exit
    /// with clap's message; a bad configuration file is an error naming its line.
    pub fn load() -> Result<(Self, Option<file::ConfigFile>), file::ConfigFileError> {
        Self::load_from(std::env::args_os().collect())
    }

    /// [`Cli::load`] over these arguments (the program's name first).
    pub fn load_from(
        mut args: Vec<std::ffi::OsString>,
    ) -> Result<(Self, Option<file::ConfigFile>), file::ConfigFileError> {
        use clap::{CommandFactory as _, FromArgMatches as _};
        let named = file::named_in(&args);
        let (command, loaded) = match &named {
            Some(path) => {
                let (command, loaded) = file::apply(Self::command(), path)?;
                (command, Some(loaded))
            }
            None => (Self::command(), None),
        };
        let mut matches = command
            .clone()
            .try_get_matches_from(&args)
            .unwrap_or_else(|e| e.exit());
        if matches.subcommand().is_none() {
            // No command means `serve`, with the file's serve settings too.
            args.push("serve".into());
            matches = command
                .try_get_matches_from(&args)
                .unwrap_or_else(|e| e.exit());
        }
        let cli = Self::from_arg_matches(&matches).unwrap_or_else(|e| e.exit());
        // The file was found before clap parsed the command line: both must have read the same.
        let parsed = cli
            .global
            .config
            .as_ref()
            .filter(|p| !p.as_os_str().is_empty());
        if parsed != named.as_ref() {
            return Err(file::ConfigFileError::Read {
                path: cli.global.config.clone().unwrap_or_default(),
                source: std::io::Error::other(
                    "the command line names the configuration file in a way this server cannot \
                     read before parsing it: write `--config FILE` before any other flag",
                ),
            });
        }
        Ok((cli, loaded))
    }
}

impl ServeOptions {
    /// `serve`'s settings from the environment and defaults alone: what running with no
    /// command means. An invalid environment value exits with clap's message.
    pub fn from_env() -> Self {
        use clap::FromArgMatches as _;
        let command = <Self as Args>::augment_args(clap::Command::new("serve"));
        command
            .try_get_matches_from(["serve"])
            .and_then(|m| Self::from_arg_matches(&m))
            .unwrap_or_else(|e| e.exit())
    }
}

impl ServeOptions {
    /// The labs settings these flags describe, over `data_dir`.
    pub fn lab_settings(&self, data_dir: &std::path::Path) -> crate::labs::LabSettings {
        let mut labs = crate::labs::LabSettings::defaults(data_dir);
        if let Some(dir) = &self.lab_workspace_dir {
            labs.sandbox.workspace_root.clone_from(dir);
        }
        labs.sandbox.os_user.clone_from(&self.lab_sandbox_user);
        labs.sandbox.memory_cap_bytes = self.lab_memory_cap_mb.max(16) << 20;
        labs.sandbox.process_cap = self.lab_process_cap.max(8);
        labs.sandbox.disk_cap_bytes = self.lab_disk_cap_mb.max(1) << 20;
        labs.sandbox.workspace_volumes = self.lab_workspace_volumes;
        labs.sandbox.fault = self.lab_fault;
        labs.driver_deadline = std::time::Duration::from_secs(self.lab_driver_timeout_secs.max(1));
        labs.check_deadline = std::time::Duration::from_secs(self.lab_check_timeout_secs.max(1));
        labs.driver_threads = self.lab_driver_threads.max(1);
        labs.max_running_per_learner = self.lab_max_running_per_learner;
        labs.max_running_per_host = self.lab_max_running_per_host;
        labs.reconnect_grace = std::time::Duration::from_secs(self.lab_reconnect_grace_secs);
        labs.reaper_interval = std::time::Duration::from_secs(self.lab_reaper_interval_secs.max(1));
        labs.allowed_origins.extend(
            self.lab_allowed_origins
                .iter()
                .filter(|o| !o.is_empty())
                .cloned(),
        );
        labs
    }
}

impl GlobalOptions {
    /// Where lab images are kept: `--lab-images-dir`, or `<data-dir>/lab-images`.
    pub fn lab_images_dir(&self, data_dir: &std::path::Path) -> PathBuf {
        self.lab_images_dir
            .clone()
            .unwrap_or_else(|| data_dir.join("lab-images"))
    }

    /// The data directory, or the default for the current user.
    pub fn data_dir(&self) -> PathBuf {
        if let Some(dir) = &self.data_dir {
            return dir.clone();
        }
        if nix::unistd::geteuid().is_root() {
            return PathBuf::from("/var/lib/skilltrack");
        }
        let base = std::env::var_os("XDG_DATA_HOME")
            .map(PathBuf::from)
            .filter(|p| p.is_absolute())
            .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".local/share")))
            .unwrap_or_else(|| PathBuf::from("."));
        base.join("skilltrack")
    }
}

/// The address other processes reach this one at: plain `http://` (decision 376).
fn parse_internal_url(text: &str) -> Result<String, String> {
    let text = text.trim().trim_end_matches('/');
    if text.starts_with("https://") {
        return Err(
            "processes pass lab requests to each other over plain http:// on the private \
             network between them (https:// between processes is not supported: the \
             certificate would have to come from a public authority); give the address this \
             process listens on there, such as http://10.0.0.2:8787"
                .to_owned(),
        );
    }
    if text.starts_with("http://") && text.len() > "http://".len() {
        Ok(text.to_owned())
    } else {
        Err("expected an http:// address, such as http://10.0.0.2:8787".to_owned())
    }
}

fn parse_proxy(text: &str) -> Result<ipnet::IpNet, String> {
    let text = text.trim();
    text.parse::<ipnet::IpNet>()
        .or_else(|_| text.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
        .map_err(|_| format!("{text:?} is neither an IP address nor a CIDR range"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_internal_url_is_plain_http_and_says_why_not_https() {
        assert_eq!(
            parse_internal_url("http://10.0.0.2:8787/").as_deref(),
            Ok("http://10.0.0.2:8787")
        );
        let refused = parse_internal_url("https://10.0.0.2:8787").unwrap_err();
        assert!(refused.contains("plain http://"), "{refused}");
        assert!(parse_internal_url("10.0.0.2:8787").is_err());
    }

    #[test]
    fn secrets_never_show_in_debug_output() {
        let cli = Cli::parse_from([
            "skilltrack-server",
            "--database-url",
            "postgres://u:hunter2@db/x",
            "migrate",
        ]);
        let debug = format!("{cli:?}");
        assert!(!debug.contains("hunter2"), "{debug}");
        assert!(matches!(cli.command, Some(Command::Migrate)));
        let cli = Cli::parse_from([
            "skilltrack-server",
            "serve",
            "--smtp-url",
            "smtp://mailer:hunter2@mail.example.org:587?tls=required",
        ]);
        let debug = format!("{cli:?}");
        assert!(!debug.contains("hunter2"), "{debug}");
    }

    #[test]
    fn the_command_line_is_consistent() {
        use clap::CommandFactory as _;
        Cli::command().debug_assert();
    }
}
