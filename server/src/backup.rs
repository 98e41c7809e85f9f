//! `skilltrack-server backup DIR` and `skilltrack-server restore DIR`: everything a server
//! needs to come back after its disk is lost, in one directory (docs/deployment.md, section 5).
//!
//! * The database is dumped with PostgreSQL's own `pg_dump` (custom format), from the binaries
//!   the embedded cluster runs on. It is a consistent snapshot taken while the server serves:
//!   with the embedded cluster, through the socket of the cluster the running server started
//!   (or of one this command starts when no server runs).
//! * Beside it: the token secret and the certificate keys (without them every learner is signed
//!   out and issued certificates stop verifying), and the uploaded media. Uploads are named by
//!   their content and never change, so a backup into the same directory again copies only the
//!   new ones.
//! * A restore replaces the database with the dump: dropped, created empty, `pg_restore`d in
//!   one transaction, then migrated to this build's schema. Every server on the database must
//!   be stopped first. The restored database is a new one, so every device's sync cursor from
//!   before names another database's log and starts a fresh snapshot (its queued offline
//!   writes are pushed first and applied once): see [`crate::db::sync::SentCursor`].

use std::fs;
use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::str::FromStr as _;

use serde::Serialize;
use sqlx::postgres::PgConnectOptions;

use crate::cluster::{self, ClusterError, ClusterOptions, EmbeddedCluster};
use crate::config::GlobalOptions;
use crate::db::{Database, DbError, PoolSizes, bootstrap, instances};

/// The dump's file name in a backup directory.
pub const DUMP_FILE: &str = "skilltrack.dump";
/// The files of the data directory a backup keeps beside the dump.
const KEY_FILES: [&str; 2] = ["jwt-secret", crate::certificates::KEY_FILE];
/// The backup's description, written last: a directory without it is not a whole backup.
const MANIFEST_FILE: &str = "backup.json";

/// Why a backup or a restore failed.
#[allow(missing_docs, reason = "each variant's #[error] message documents it")]
#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    #[error(transparent)]
    Cluster(#[from] ClusterError),
    #[error(transparent)]
    Db(#[from] DbError),
    #[error("talking to PostgreSQL: {0}")]
    Sql(#[from] sqlx::Error),
    #[error("DATABASE_URL is not a valid PostgreSQL URL: {0}")]
    DatabaseUrl(String),
    #[error("`{program}` failed ({status}): {stderr}")]
    Tool {
        program: String,
        status: String,
        stderr: String,
    },
    #[error(
        "{0} is not a Skilltrack backup (it has no {DUMP_FILE} and {MANIFEST_FILE}; make one \
         with `skilltrack-server backup DIR`)"
    )]
    NotABackup(PathBuf),
    #[error(
        "a server is running on this data directory; stop it before restoring (a restore \
         replaces the database under it)"
    )]
    ServerRunning,
    #[error(
        "{0} server process(es) said they were alive in the last minute on this database; \
         stop every one before restoring (a restore replaces the database under them)"
    )]
    ServersAlive(i64),
    #[error("{context}: {source}")]
    Io {
        context: String,
        source: std::io::Error,
    },
}

fn io(context: impl Into<String>) -> impl FnOnce(std::io::Error) -> BackupError {
    let context = context.into();
    move |source| BackupError::Io { context, source }
}

/// What a backup holds (its `backup.json`), and what `backup` and `restore` print.
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
pub struct Manifest {
    /// When the dump was taken.
    pub created_at: chrono::DateTime<chrono::Utc>,
    /// The server that took it.
    pub server_version: String,
    /// `embedded` (the data directory's own cluster) or `external` (`DATABASE_URL`).
    pub database: String,
    /// The dump's size.
    pub dump_bytes: u64,
    /// The key files kept beside it.
    pub key_files: Vec<String>,
    /// Uploaded media files in the backup.
    pub uploads: usize,
    /// How many of them this run copied (the others were there already).
    pub uploads_copied: usize,
}

/// Where the database is, and how to run PostgreSQL's client programs against it.
enum Target {
    Embedded(ClusterOptions),
    External {
        options: Box<PgConnectOptions>,
        url: url::Url,
        password: Option<String>,
        bin_dir: PathBuf,
    },
}

impl Target {
    fn of(global: &GlobalOptions) -> Result<Self, BackupError> {
        let Some(secret) = &global.database_url else {
            return Ok(Self::Embedded(crate::embedded_cluster_options(global)));
        };
        let options = PgConnectOptions::from_str(secret.expose())
            .map_err(|e| BackupError::DatabaseUrl(e.to_string()))?;
        let mut url = url::Url::parse(secret.expose())
            .map_err(|e| BackupError::DatabaseUrl(e.to_string()))?;
        // The password travels in the environment, never on a command line `ps` shows.
        let password = url.password().map(|p| {
            percent_encoding::percent_decode_str(p)
                .decode_utf8_lossy()
                .into_owned()
        });
        let _ = url.set_password(None);
        let bin_dir = cluster::find_binaries(global.pg_bin_dir.as_deref())?;
        Ok(Self::External {
            options: Box::new(options),
            url,
            password,
            bin_dir,
        })
    }

    fn name(&self) -> &'static str {
        match self {
            Self::Embedded(_) => "embedded",
            Self::External { .. } => "external",
        }
    }

    /// `program` connected to the application database.
    fn client(&self, program: &str) -> Result<Command, BackupError> {
        match self {
            Self::Embedded(options) => Ok(cluster::client_command(
                options,
                program,
                cluster::DATABASE,
            )?),
            Self::External {
                url,
                password,
                bin_dir,
                ..
            } => {
                let mut command = Command::new(bin_dir.join(program));
                command.arg("--dbname").arg(url.as_str());
                if let Some(password) = password {
                    command.env("PGPASSWORD", password);
                }
                Ok(command)
            }
        }
    }
}

/// Runs `command` to its end, its standard input and output as given; its error output is
/// the error when it fails.
fn run_tool(mut command: Command, program: &str) -> Result<(), BackupError> {
    command.stderr(Stdio::piped());
    let mut child = command.spawn().map_err(io(format!("starting {program}")))?;
    let mut stderr = String::new();
    if let Some(mut err) = child.stderr.take() {
        let _ = err.read_to_string(&mut stderr);
    }
    let status = child.wait().map_err(io(format!("waiting for {program}")))?;
    if status.success() {
        Ok(())
    } else {
        Err(BackupError::Tool {
            program: program.to_owned(),
            status: status.to_string(),
            stderr: stderr.trim().chars().take(2000).collect(),
        })
    }
}

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, BackupError> + Send + 'static,
) -> Result<T, BackupError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| BackupError::Io {
            context: "a background task".into(),
            source: std::io::Error::other(e),
        })?
}

/// Takes a backup of the server on `data_dir` into `out` (created if missing; an earlier
/// backup there is replaced, its uploads reused).
///
/// # Errors
/// When the dump or a copy fails; `out` then holds no `backup.json`.
pub async fn backup(
    global: &GlobalOptions,
    data_dir: &Path,
    out: &Path,
) -> Result<Manifest, BackupError> {
    let target = Target::of(global)?;
    fs::create_dir_all(out).map_err(io(format!("creating {}", out.display())))?;
    // A directory without its manifest is not a whole backup: taken away first, written last.
    let manifest_path = out.join(MANIFEST_FILE);
    if manifest_path.exists() {
        fs::remove_file(&manifest_path).map_err(io(format!(
            "removing the earlier {}",
            manifest_path.display()
        )))?;
    }
    // With the embedded cluster and no server running, this command starts the cluster.
    let started = match &target {
        Target::Embedded(options) => {
            let options = options.clone();
            match blocking(move || Ok(EmbeddedCluster::start(&options))).await? {
                Ok(cluster) => Some(cluster),
                Err(ClusterError::DataDirInUse(_)) => {
                    tracing::info!(
                        "a server runs the embedded cluster: dumping through its socket"
                    );
                    None
                }
                Err(e) => return Err(e.into()),
            }
        }
        Target::External { .. } => None,
    };
    let partial = out.join(format!("{DUMP_FILE}.partial"));
    let dump = target.client("pg_dump")?;
    let partial_file = partial.clone();
    let dumped = blocking(move || {
        let file = fs::File::create(&partial_file)
            .map_err(io(format!("creating {}", partial_file.display())))?;
        let mut dump = dump;
        dump.args(["--format", "custom"])
            .stdin(Stdio::null())
            .stdout(file);
        run_tool(dump, "pg_dump")
    })
    .await;
    if let Some(mut cluster) = started {
        let _ = blocking(move || Ok(cluster.stop())).await;
    }
    dumped?;
    let dump_path = out.join(DUMP_FILE);
    fs::rename(&partial, &dump_path).map_err(io(format!("writing {}", dump_path.display())))?;
    let dump_bytes = fs::metadata(&dump_path).map_or(0, |m| m.len());

    let mut key_files = Vec::new();
    for name in KEY_FILES {
        let from = data_dir.join(name);
        if from.exists() {
            copy_private(&from, &out.join(name))?;
            key_files.push(name.to_owned());
        }
    }
    let uploads = crate::media_dir(data_dir).join("uploads");
    let (count, copied) = mirror(&uploads, &out.join("uploads"))?;
    let manifest = Manifest {
        created_at: chrono::Utc::now(),
        server_version: env!("CARGO_PKG_VERSION").to_owned(),
        database: target.name().to_owned(),
        dump_bytes,
        key_files,
        uploads: count,
        uploads_copied: copied,
    };
    let text = serde_json::to_vec_pretty(&manifest).map_err(|e| BackupError::Io {
        context: "writing the manifest".into(),
        source: e.into(),
    })?;
    fs::write(&manifest_path, text).map_err(io(format!("writing {}", manifest_path.display())))?;
    tracing::info!(dir = %out.display(), dump_bytes, uploads = count, uploads_copied = copied, "backup written");
    Ok(manifest)
}

/// Restores the backup in `from` onto the server on `data_dir`: the database replaced by the
/// dump (then migrated), the key files and uploads copied back.
///
/// # Errors
/// When a server still runs on the database, `from` is not a backup, or a step fails.
pub async fn restore(
    global: &GlobalOptions,
    data_dir: &Path,
    from: &Path,
) -> Result<Manifest, BackupError> {
    let manifest: Manifest = fs::read(from.join(MANIFEST_FILE))
        .ok()
        .and_then(|bytes| serde_json::from_slice(&bytes).ok())
        .filter(|_| from.join(DUMP_FILE).is_file())
        .ok_or_else(|| BackupError::NotABackup(from.to_path_buf()))?;
    let target = Target::of(global)?;
    let (cluster, owner, maintenance, database) = match &target {
        Target::Embedded(options) => {
            let options = options.clone();
            let cluster = match blocking(move || Ok(EmbeddedCluster::start(&options))).await? {
                Ok(cluster) => cluster,
                Err(ClusterError::DataDirInUse(_)) => return Err(BackupError::ServerRunning),
                Err(e) => return Err(e.into()),
            };
            let maintenance = cluster.connect_options(cluster::SUPERUSER, "postgres");
            bootstrap::ensure_database(maintenance.clone(), cluster::DATABASE).await?;
            let owner = cluster.connect_options(cluster::SUPERUSER, cluster::DATABASE);
            (
                Some(cluster),
                owner,
                maintenance,
                cluster::DATABASE.to_owned(),
            )
        }
        Target::External { options, .. } => {
            let database = options
                .get_database()
                .unwrap_or(options.get_username())
                .to_owned();
            (
                None,
                (**options).clone(),
                (**options).clone().database("postgres"),
                database,
            )
        }
    };
    let result = restore_database(global, &target, owner, maintenance, &database, from).await;
    if let Some(mut cluster) = cluster {
        let _ = blocking(move || Ok(cluster.stop())).await;
    }
    result?;
    for name in &manifest.key_files {
        copy_private(&from.join(name), &data_dir.join(name))?;
    }
    let uploads = crate::media_dir(data_dir).join("uploads");
    let (count, copied) = mirror(&from.join("uploads"), &uploads)?;
    tracing::info!(from = %from.display(), uploads = count, uploads_copied = copied, "backup restored");
    Ok(Manifest {
        uploads: count,
        uploads_copied: copied,
        ..manifest
    })
}

async fn restore_database(
    global: &GlobalOptions,
    target: &Target,
    owner: PgConnectOptions,
    maintenance: PgConnectOptions,
    database: &str,
    from: &Path,
) -> Result<(), BackupError> {
    // The roles the dump grants to are the cluster's, not the database's: opening the database
    // as the server does (migrations included) makes sure they exist before it is replaced.
    // As the server opens it: the embedded cluster's socket needs no password.
    let password = match target {
        Target::Embedded(_) => None,
        Target::External { .. } => global
            .authenticator_password
            .as_ref()
            .map(|p| p.expose().to_owned()),
    };
    let sizes = PoolSizes { owner: 1, api: 1 };
    let db = Database::open(owner.clone(), password.as_deref(), sizes).await?;
    if matches!(target, Target::External { .. }) {
        let mut conn = db.owner().acquire().await?;
        let alive = instances::alive(&mut conn, std::time::Duration::from_secs(60)).await?;
        drop(conn);
        if alive > 0 {
            db.close().await;
            return Err(BackupError::ServersAlive(alive));
        }
    }
    db.close().await;
    bootstrap::recreate_database(maintenance, database).await?;
    let mut restore = target.client("pg_restore")?;
    let dump = fs::File::open(from.join(DUMP_FILE)).map_err(io("opening the dump"))?;
    restore
        .args(["--no-owner", "--exit-on-error", "--single-transaction"])
        .stdin(dump)
        .stdout(Stdio::null());
    blocking(move || run_tool(restore, "pg_restore")).await?;
    // A dump from an older server gets this build's later migrations.
    Database::open(owner, password.as_deref(), sizes)
        .await?
        .close()
        .await;
    Ok(())
}

/// Copies a secret file, readable only by its owner.
fn copy_private(from: &Path, to: &Path) -> Result<(), BackupError> {
    use std::os::unix::fs::PermissionsExt as _;
    let partial = to.with_extension("partial");
    fs::copy(from, &partial).map_err(io(format!("copying {}", from.display())))?;
    fs::set_permissions(&partial, fs::Permissions::from_mode(0o600))
        .map_err(io(format!("protecting {}", partial.display())))?;
    fs::rename(&partial, to).map_err(io(format!("writing {}", to.display())))
}

/// Copies every file under `from` missing (or of another size) under `to`, keeping the
/// layout; returns how many files `from` holds and how many were copied. Content-addressed
/// files never change, so a file already there is the same file.
fn mirror(from: &Path, to: &Path) -> Result<(usize, usize), BackupError> {
    let mut count = 0;
    let mut copied = 0;
    if !from.is_dir() {
        return Ok((0, 0));
    }
    let mut pending = vec![PathBuf::new()];
    while let Some(relative) = pending.pop() {
        let dir = from.join(&relative);
        for entry in fs::read_dir(&dir).map_err(io(format!("reading {}", dir.display())))? {
            let entry = entry.map_err(io(format!("reading {}", dir.display())))?;
            let kind = entry
                .file_type()
                .map_err(io(format!("reading {}", dir.display())))?;
            let name = relative.join(entry.file_name());
            if kind.is_dir() {
                // The store's `tmp` holds uploads still arriving.
                if !(relative.as_os_str().is_empty() && entry.file_name() == "tmp") {
                    pending.push(name);
                }
                continue;
            }
            // Unfinished copies are not part of the store.
            if !kind.is_file() || name.extension().is_some_and(|e| e == "partial") {
                continue;
            }
            count += 1;
            let source = from.join(&name);
            let target = to.join(&name);
            let same = fs::metadata(&target)
                .ok()
                .zip(entry.metadata().ok())
                .is_some_and(|(a, b)| a.len() == b.len());
            if same {
                continue;
            }
            if let Some(parent) = target.parent() {
                fs::create_dir_all(parent).map_err(io(format!("creating {}", parent.display())))?;
            }
            let partial = target.with_extension("partial");
            fs::copy(&source, &partial).map_err(io(format!("copying {}", source.display())))?;
            fs::rename(&partial, &target).map_err(io(format!("writing {}", target.display())))?;
            copied += 1;
        }
    }
    Ok((count, copied))
}
