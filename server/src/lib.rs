//! The Skilltrack server as a library: `main.rs` only parses the command line and calls
//! [`run`]; tests build the same [`http::router`] over a test database.
//!
//! * [`auth`]: passwords, tokens, rate limits.
//! * [`certificates`]: the certificate issuer: signing keys, credentials, revocation lists.
//! * [`cluster`]: the embedded PostgreSQL cluster.
//! * [`grading`]: how quiz answers are checked and scored (pure functions).
//! * [`desktop_releases`]: the desktop app's signed packages, published for its updater.
//! * [`db`]: every SQL statement the server runs, the pools, the per-request RLS transaction.
//! * [`http`]: the router, probes, and problem+json errors.
//! * [`instance`]: this process among the others of a cluster: its heartbeat, the lab sessions
//!   it hosts, and the periodic jobs that run once for the cluster.
//! * [`labs`]: lab environments (the sandbox driver), their terminals, the idle reaper.
//! * [`mail`]: account mail (password reset, address confirmation) over SMTP.
//! * [`media`]: the content store for uploads, and recognising files by their bytes.
//! * [`payments`]: payment providers (test mode only, so far).
//! * [`seed`]: the demo catalog.
//! * [`sync`]: the live channel's fan-out of the database's change notifications.
//! * [`config`]: flags and environment.

#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod auth;
pub mod backup;
pub mod certificates;
pub mod cluster;
pub mod config;
pub mod course_page_cache;
pub mod db;
pub mod desktop_releases;
pub mod grading;
pub mod http;
pub mod instance;
pub mod labs;
pub mod mail;
pub mod media;
pub mod messages;
pub mod payments;
pub mod seed;
pub mod storage;
pub mod sync;

use std::path::{Path, PathBuf};
use std::str::FromStr as _;
use std::time::Duration;

use sqlx::postgres::PgConnectOptions;

use crate::auth::tokens::TokenKeys;
use crate::cluster::{ClusterError, ClusterOptions, EmbeddedCluster};
use crate::config::{Cli, Command, GlobalOptions, ServeOptions};
use crate::db::{Database, DbError, PoolSizes};

/// Why the server stopped with an error.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// The embedded cluster failed.
    #[error(transparent)]
    Cluster(#[from] ClusterError),
    /// The database could not be prepared.
    #[error(transparent)]
    Db(#[from] DbError),
    /// `DATABASE_URL` is not a PostgreSQL URL.
    #[error("DATABASE_URL is not a valid PostgreSQL URL: {0}")]
    DatabaseUrl(sqlx::Error),
    /// A lab image could not be imported, built or removed.
    #[error(transparent)]
    Image(#[from] labs::images::ImageError),
    /// Loading the demo data failed.
    #[error(transparent)]
    Seed(#[from] seed::SeedError),
    /// The JWT signing key could not be loaded.
    #[error(transparent)]
    Key(#[from] auth::tokens::KeyError),
    /// The certificate signing keys could not be loaded or rotated.
    #[error(transparent)]
    CertificateKey(#[from] certificates::IssuerKeyError),
    /// A desktop release could not be published, listed or withdrawn.
    #[error(transparent)]
    Release(#[from] desktop_releases::ReleaseError),
    /// The SMTP settings are not usable.
    #[error(transparent)]
    Mail(#[from] mail::MailError),
    /// A backup could not be taken or restored.
    #[error(transparent)]
    Backup(#[from] backup::BackupError),
    /// Listening or serving failed.
    #[error("{context}: {source}")]
    Io {
        /// What was being done.
        context: String,
        /// The cause.
        source: std::io::Error,
    },
}

/// The database the server talks to, and the embedded cluster behind it when there is one.
#[derive(Debug)]
pub struct OpenDatabase {
    /// The pools.
    pub db: Database,
    cluster: Option<EmbeddedCluster>,
}

impl OpenDatabase {
    /// Closes the pools, then stops the embedded cluster if there is one.
    pub async fn shut_down(mut self) {
        self.db.close().await;
        if let Some(mut cluster) = self.cluster.take() {
            let _ = tokio::task::spawn_blocking(move || cluster.stop()).await;
        }
    }
}

/// The embedded cluster in the data directory, as the settings say to run it.
pub fn embedded_cluster_options(global: &GlobalOptions) -> ClusterOptions {
    ClusterOptions {
        dir: global.data_dir().join("postgres"),
        bin_dir: global.pg_bin_dir.clone(),
        os_user: global.pg_os_user.clone(),
        durable: true,
    }
}

/// Starts the embedded cluster (without `DATABASE_URL`), connects, and applies migrations.
pub async fn open_database(global: &GlobalOptions) -> Result<OpenDatabase, RunError> {
    if let Some(url) = &global.database_url {
        let options = PgConnectOptions::from_str(url.expose()).map_err(RunError::DatabaseUrl)?;
        tracing::info!(host = options.get_host(), database = ?options.get_database(), "using the PostgreSQL server from DATABASE_URL");
        let password = if let Some(p) = &global.authenticator_password {
            p.expose().to_owned()
        } else {
            // Fine for one process; several on one database would each set their own and lock
            // the others' new connections out.
            tracing::warn!(
                "no authenticator_password: a random one is set for this process; every \
                 server process on this database needs the same authenticator_password"
            );
            random_password()
        };
        let db = Database::open(options, Some(&password), PoolSizes::default()).await?;
        return Ok(OpenDatabase { db, cluster: None });
    }
    let options = embedded_cluster_options(global);
    let cluster = tokio::task::spawn_blocking(move || EmbeddedCluster::start(&options))
        .await
        .map_err(|e| RunError::Io {
            context: "starting the cluster".into(),
            source: e.into(),
        })??;
    let maintenance = cluster.connect_options(cluster::SUPERUSER, "postgres");
    db::bootstrap::ensure_database(maintenance, cluster::DATABASE).await?;
    let owner = cluster.connect_options(cluster::SUPERUSER, cluster::DATABASE);
    // The socket is private to the cluster's OS user, so `authenticator` needs no password.
    let db = Database::open(owner, None, PoolSizes::default()).await?;
    Ok(OpenDatabase {
        db,
        cluster: Some(cluster),
    })
}

fn random_password() -> String {
    use rand::Rng as _;
    rand::thread_rng()
        .sample_iter(rand::distributions::Alphanumeric)
        .take(40)
        .map(char::from)
        .collect()
}

/// Runs the command the user asked for.
pub async fn run(cli: Cli) -> Result<(), RunError> {
    // The document needs no database: answered before one is opened.
    if matches!(cli.command, Some(Command::Openapi)) {
        print_openapi();
        return Ok(());
    }
    let global = cli.global;
    let data_dir = global.data_dir();
    // A backup reads the database beside a running server; a restore replaces it: neither
    // opens it as the server does.
    match &cli.command {
        Some(Command::Backup { dir }) => {
            let manifest = backup::backup(&global, &data_dir, dir).await?;
            print_json(&manifest);
            return Ok(());
        }
        Some(Command::Restore { dir }) => {
            let manifest = backup::restore(&global, &data_dir, dir).await?;
            print_json(&manifest);
            return Ok(());
        }
        _ => {}
    }
    let open = open_database(&global).await?;
    let result = match cli
        .command
        .unwrap_or_else(|| Command::Serve(ServeOptions::from_env()))
    {
        Command::Migrate => {
            tracing::info!("migrations are applied");
            Ok(())
        }
        Command::SeedDemo => seed::load_demo(&open.db, &data_dir)
            .await
            .map_err(RunError::from),
        Command::Serve(options) => serve(&open.db, &options, &global, &data_dir).await,
        Command::LabImages(command) => {
            lab_images(&open.db, &global.lab_images_dir(&data_dir), command).await
        }
        Command::CertificateKeys(command) => certificate_keys(&open.db, &data_dir, &command).await,
        Command::DesktopRelease(command) => desktop_release(&open.db, &data_dir, command).await,
        // Answered above, before the database opened.
        Command::Openapi | Command::Backup { .. } | Command::Restore { .. } => Ok(()),
    };
    open.shut_down().await;
    result
}

/// Prints a command's answer as JSON.
#[allow(clippy::print_stdout, reason = "the command's answer is its output")]
fn print_json(value: &impl serde::Serialize) {
    println!(
        "{}",
        serde_json::to_string_pretty(value).unwrap_or_default()
    );
}

/// Runs `skilltrack-server openapi`.
#[allow(clippy::print_stdout, reason = "the command's answer is its output")]
fn print_openapi() {
    println!("{}", http::openapi_json());
}

/// Runs `skilltrack-server lab-images …`.
#[allow(clippy::print_stdout, reason = "the command's answer is its output")]
async fn lab_images(
    db: &Database,
    dir: &Path,
    command: config::LabImageCommand,
) -> Result<(), RunError> {
    use config::LabImageCommand;
    let store = labs::images::ImageStore::new(dir.to_path_buf());
    let owner = |user: &str| -> Result<Option<(u32, u32)>, RunError> {
        if !nix::unistd::geteuid().is_root() {
            return Ok(None);
        }
        match nix::unistd::User::from_name(user) {
            Ok(Some(u)) => Ok(Some((u.uid.as_raw(), u.gid.as_raw()))),
            _ => Err(RunError::Image(labs::images::ImageError::Build(format!(
                "the OS user `{user}` that lab sandboxes run as does not exist (scripts/lib.sh \
                 creates it)"
            )))),
        }
    };
    let blocking = |f: Box<
        dyn FnOnce() -> Result<labs::images::ImageInfo, labs::images::ImageError> + Send,
    >| async move {
        tokio::task::spawn_blocking(f)
            .await
            .map_err(|e| RunError::Io {
                context: "importing the image".into(),
                source: std::io::Error::other(e),
            })?
            .map_err(RunError::Image)
    };
    match command {
        LabImageCommand::Import {
            name,
            source,
            sandbox_user,
        } => {
            let owner = owner(&sandbox_user)?;
            let store = store.clone();
            let info = blocking(Box::new(move || {
                if source.is_dir() {
                    store.import_oci(&name, &source, owner)
                } else {
                    store.import_archive(&name, &source, owner)
                }
            }))
            .await?;
            register_image(db, &info).await?;
            println!(
                "imported {} ({}, {} bytes, shell {})",
                info.name, info.digest, info.size_bytes, info.shell
            );
        }
        LabImageCommand::Build {
            name,
            packages,
            suite,
            sandbox_user,
        } => {
            let owner = owner(&sandbox_user)?;
            let store = store.clone();
            let info = blocking(Box::new(move || {
                store.build_debian(&name, &suite, &packages, owner)
            }))
            .await?;
            register_image(db, &info).await?;
            println!(
                "built {} ({}, {} bytes, shell {})",
                info.name, info.digest, info.size_bytes, info.shell
            );
        }
        LabImageCommand::List => {
            for image in store.list() {
                println!(
                    "{}\t{}\t{} bytes\t{}\t{}",
                    image.name, image.digest, image.size_bytes, image.shell, image.source
                );
            }
        }
        LabImageCommand::Remove { name } => {
            store.remove(&name).map_err(RunError::Image)?;
            let mut tx = db::session::begin_service(db.api())
                .await
                .map_err(DbError::from)?;
            db::lab_images::unregister(&mut tx, &name)
                .await
                .map_err(DbError::from)?;
            tx.commit().await.map_err(DbError::from)?;
            println!("removed {name}");
        }
    }
    Ok(())
}

/// The certificate issuer of `serve`: the keys in the data directory, the public address; and
/// a task signing the credentials of certificates issued before (or while signing failed).
fn certificate_issuer(
    db: &Database,
    options: &ServeOptions,
    data_dir: &Path,
    listen: std::net::SocketAddr,
) -> Result<std::sync::Arc<certificates::Issuer>, RunError> {
    let issuer = certificates::Issuer::new(
        certificates::KeyRing::from_data_dir(data_dir)?,
        options
            .public_url
            .as_deref()
            .unwrap_or(&format!("http://{listen}")),
        &options.instance_name,
    );
    tracing::info!(kid = issuer.keys().current().kid(), issuer = %issuer.id(), "certificates are signed");
    let (db, backlog) = (db.clone(), std::sync::Arc::clone(&issuer));
    tokio::spawn(async move {
        match certificates::sign_backlog(&db, &backlog).await {
            Ok(0) => {}
            Ok(n) => {
                tracing::info!(signed = n, "signed the credentials of earlier certificates");
            }
            Err(e) => {
                tracing::warn!(error = %e, "signing earlier certificates failed; each is signed when asked for");
            }
        }
    });
    Ok(issuer)
}

#[allow(clippy::print_stdout, reason = "the command's answer is its output")]
async fn certificate_keys(
    db: &Database,
    data_dir: &Path,
    command: &config::CertificateKeyCommand,
) -> Result<(), RunError> {
    if matches!(command, config::CertificateKeyCommand::Rotate) {
        let kid = certificates::KeyRing::rotate(data_dir)?;
        println!("new current key {kid}; restart the server to sign with it");
    }
    let keys = certificates::KeyRing::from_data_dir(data_dir)?;
    // Published at once, so verifiers fetching the key set know the new key before it signs.
    let issuer = certificates::Issuer::new(keys.clone(), "", "");
    certificates::publish_keys(db, &issuer)
        .await
        .map_err(|e| RunError::Db(DbError::from(e)))?;
    for key in keys.all() {
        let current = if key.kid() == keys.current().kid() {
            "  (current)"
        } else {
            ""
        };
        println!("{}{current}", key.kid());
    }
    Ok(())
}

/// Runs `skilltrack-server desktop-release …`.
#[allow(clippy::print_stdout, reason = "the command's answer is its output")]
async fn desktop_release(
    db: &Database,
    data_dir: &Path,
    command: config::DesktopReleaseCommand,
) -> Result<(), RunError> {
    use config::DesktopReleaseCommand;
    let store = desktop_releases::ReleaseStore::in_data_dir(data_dir);
    match command {
        DesktopReleaseCommand::Publish {
            file,
            signature,
            version,
            arch,
            notes,
            pubkey,
        } => {
            let request = desktop_releases::PublishRequest {
                package: file,
                signature,
                version,
                arch,
                notes,
                public_key: pubkey.filter(|k| !k.trim().is_empty()),
            };
            let outcome = desktop_releases::publish(db, &store, request).await?;
            let r = &outcome.release;
            println!(
                "{} {} {} {} ({} bytes, sha256 {}): {}",
                if outcome.replaced {
                    "replaced"
                } else {
                    "published"
                },
                r.version,
                r.bundle,
                r.arch,
                r.size_bytes,
                r.sha256,
                if outcome.verified {
                    "its signature verifies with the given key"
                } else {
                    "its signature was not checked here (no --pubkey); the app checks it"
                }
            );
            println!(
                "download: /api/v1/desktop/releases/{}/{}",
                r.id, r.file_name
            );
        }
        DesktopReleaseCommand::List => {
            for r in desktop_releases::list(db).await? {
                println!(
                    "{}\t{}\t{}\t{}\t{} bytes\t{}\t{}",
                    r.version,
                    r.bundle,
                    r.arch,
                    r.file_name,
                    r.size_bytes,
                    r.published_at
                        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                    r.id
                );
            }
        }
        DesktopReleaseCommand::Withdraw {
            version,
            bundle,
            arch,
        } => {
            let gone = desktop_releases::withdraw(db, &store, &version, bundle, arch).await?;
            println!(
                "withdrew {} {} {} ({})",
                gone.version, gone.bundle, gone.arch, gone.file_name
            );
        }
    }
    Ok(())
}

async fn register_image(db: &Database, info: &labs::images::ImageInfo) -> Result<(), RunError> {
    let mut tx = db::session::begin_service(db.api())
        .await
        .map_err(DbError::from)?;
    db::lab_images::register(&mut tx, info)
        .await
        .map_err(DbError::from)?;
    tx.commit().await.map_err(DbError::from)?;
    Ok(())
}

#[allow(
    clippy::too_many_lines,
    reason = "the server's life, from its background tasks to shutdown, reads best in one place"
)]
async fn serve(
    db: &Database,
    options: &ServeOptions,
    global: &GlobalOptions,
    data_dir: &Path,
) -> Result<(), RunError> {
    let listen = options
        .listen
        .unwrap_or_else(|| ([127, 0, 0, 1], 8787).into());
    let limits = http::HttpLimits {
        body_bytes: if options.max_body_bytes == 0 {
            1024 * 1024
        } else {
            options.max_body_bytes
        },
        timeout: Duration::from_secs(options.request_timeout_secs.max(1)),
        upload_bytes: options.max_upload_bytes,
    };
    let ttl = Duration::from_secs(options.access_token_ttl_secs.max(1));
    let keys = match &options.jwt_secret {
        Some(secret) => TokenKeys::new(secret.expose().as_bytes(), ttl),
        None => TokenKeys::from_data_dir(data_dir, ttl),
    }?;
    let auth_limits = http::auth::AuthLimits {
        per_ip: options.auth_limit_per_ip,
        failures_before_backoff: options.auth_failures_before_backoff,
        window: Duration::from_secs(options.auth_limit_window_secs.max(1)),
        refresh_grace: Duration::from_secs(options.refresh_reuse_grace_secs),
        trusted_proxies: options.trusted_proxies.clone(),
    };
    let media = media_dir(data_dir);
    let instance = instance::Instance::new(options.internal_url.clone());
    tracing::info!(instance = %instance.id, internal_url = ?instance.internal_url, "this server process");
    let heartbeat = instance::spawn_heartbeat(db.clone(), std::sync::Arc::clone(&instance));
    let sweeper = tokio::spawn(sweep_expired_attempts(
        db.clone(),
        std::sync::Arc::clone(&instance),
    ));
    // Bound before the state is made: account mail links, certificates' issuer and update
    // downloads name the port when --public-url is not set and --listen asked for any free one.
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .map_err(|source| RunError::Io {
            context: format!("listening on {listen}"),
            source,
        })?;
    let local = listener.local_addr().map_err(|source| RunError::Io {
        context: "reading the listen address".into(),
        source,
    })?;
    let issuer = certificate_issuer(db, options, data_dir, local)?;
    let account_mail = account_mail(options, local)?;
    let public_url = options
        .public_url
        .clone()
        .unwrap_or_else(|| format!("http://{local}"));
    let state = http::AppState::new(db.clone(), keys, auth_limits, &media, limits.upload_bytes)
        .with_desktop_releases(
            desktop_releases::ReleaseStore::in_data_dir(data_dir),
            &public_url,
        )
        .with_certificates(issuer)
        .with_instance(std::sync::Arc::clone(&instance))
        .with_account_mail(account_mail)
        // The reserve is the embedded cluster's (and the data directory's own files'): a
        // full disk elsewhere (uploads or lab workspaces on a filesystem of their own) fails
        // only what writes there, with the same 507 (decision 367).
        .with_storage(storage::StorageGuard::new(
            vec![data_dir.to_owned(), data_dir.join("postgres")],
            options.min_free_disk_mb.saturating_mul(1 << 20),
        ))
        .with_labs({
            let mut labs = options.lab_settings(data_dir);
            labs.sandbox.images_dir = global.lab_images_dir(data_dir);
            labs
        });
    if let Err(e) = state.labs.driver().check() {
        // The API serves without labs; starting one answers `sandbox_unavailable`.
        tracing::warn!(error = %e, "lab environments cannot run on this host");
    }
    // Before anything runs a lab: what a server killed while labs ran left behind, and the
    // sessions it lost (decision 363). The claim on the workspaces lasts as long as this.
    let (_lab_workspaces, _) = labs::recovery::recover(db, &state.labs, &instance).await;
    let reaper = labs::reaper::spawn(
        db.clone(),
        std::sync::Arc::clone(&state.labs),
        std::sync::Arc::clone(&instance),
    );
    let state_labs = std::sync::Arc::clone(&state.labs);
    let live = state.live.clone();
    if options.sync_log_retention_days > 0 {
        sync::spawn_compaction(
            db.clone(),
            std::sync::Arc::clone(&instance),
            chrono::Duration::days(i64::from(options.sync_log_retention_days)),
            Duration::from_secs(3600),
        );
    }
    let app = http::router(state, &limits, &media);
    tracing::info!(address = %local, "listening on http://{local}");
    let stopping = std::sync::Arc::new(tokio::sync::Notify::new());
    let told = std::sync::Arc::clone(&stopping);
    let signal_labs = std::sync::Arc::clone(&state_labs);
    let serving = axum::serve(
        listener,
        app.into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    .with_graceful_shutdown(async move {
        shutdown_signal().await;
        told.notify_one();
        // Live sync streams never end by themselves; graceful shutdown waits for every stream.
        live.close();
        // Nor would a request whose sandbox hangs: kill every sandbox now, so they answer.
        signal_labs.kill_everything();
    });
    // Requests in flight get SHUTDOWN_GRACE to finish once the signal came, never longer.
    let served = tokio::select! {
        served = serving => served,
        () = async {
            stopping.notified().await;
            tokio::time::sleep(SHUTDOWN_GRACE).await;
        } => {
            tracing::warn!("requests still running {SHUTDOWN_GRACE:?} after the signal were dropped");
            Ok(())
        }
    };
    served.map_err(|source| RunError::Io {
        context: "serving HTTP".into(),
        source,
    })?;
    sweeper.abort();
    reaper.abort();
    heartbeat.abort();
    state_labs.shut_down().await;
    instance::leave(db, &instance).await;
    tracing::info!("HTTP server stopped");
    Ok(())
}

/// Account mail as the flags say: through `--smtp-url` as `--mail-from`, with links under
/// `--public-url` (or the address listened on). Says at start whether mail can be sent, and
/// checks the SMTP server answers (without waiting for it).
fn account_mail(
    options: &ServeOptions,
    local: std::net::SocketAddr,
) -> Result<std::sync::Arc<http::recovery::AccountMail>, RunError> {
    let mailer = match &options.smtp_url {
        Some(url) => {
            let from = options
                .mail_from
                .as_deref()
                .filter(|f| !f.trim().is_empty())
                .ok_or_else(|| mail::MailError::From("it is not set".to_owned()))?;
            mail::Mailer::smtp(url.expose(), from)?
        }
        None => mail::Mailer::disabled(),
    };
    if let Some(server) = mailer.server() {
        tracing::info!(
            smtp = server,
            "account mail (password resets, address confirmations) is sent through SMTP at {server}"
        );
        if options.public_url.is_none() {
            tracing::warn!(
                "--public-url is not set: mailed links point at http://{local}, which only this machine may reach"
            );
        }
        let check = mailer.clone();
        tokio::spawn(async move {
            if let Err(e) = check.check().await {
                tracing::warn!(error = %e, "the SMTP server did not answer; account mail may not be delivered");
            }
        });
    } else {
        tracing::warn!(
            "no SMTP server is configured (--smtp-url, SKILLTRACK_SMTP_URL): password reset and \
             address confirmation mails are not sent; an admin can set a forgotten password \
             (PUT /api/v1/admin/users/{{id}}/password)"
        );
    }
    let public_url = options
        .public_url
        .clone()
        .unwrap_or_else(|| format!("http://{local}"));
    Ok(http::recovery::AccountMail::new(
        mailer,
        &public_url,
        &options.instance_name,
        &http::recovery::RecoveryLimits::default(),
    ))
}

/// How long requests in flight may take to finish once the server is told to stop.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

/// Every minute, closes and grades timed attempts whose time ran out unattended (a learner
/// who comes back finds theirs closed anyway; this keeps instructors' views current). Once a
/// minute for the cluster, not once per process.
async fn sweep_expired_attempts(db: Database, instance: std::sync::Arc<instance::Instance>) {
    const EVERY: Duration = Duration::from_secs(60);
    let mut every_minute = tokio::time::interval(EVERY);
    loop {
        every_minute.tick().await;
        let swept = instance::run_once(&db, &instance, "expired_attempts", EVERY, async {
            db::assessments::sweep_expired_attempts(db.api()).await
        })
        .await;
        match swept {
            Ok(None | Some(Ok(0))) => {}
            Ok(Some(Ok(n))) => {
                tracing::info!(closed = n, "closed timed attempts whose time ran out");
            }
            Ok(Some(Err(e))) | Err(e) => {
                tracing::warn!(error = %e, "closing expired attempts failed; retrying in a minute");
            }
        }
    }
}

/// Where served media files live inside the data directory.
pub fn media_dir(data_dir: &Path) -> PathBuf {
    data_dir.join("media")
}

async fn shutdown_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    let mut term = signal(SignalKind::terminate()).ok();
    let term = async {
        match term.as_mut() {
            Some(s) => {
                s.recv().await;
            }
            None => std::future::pending().await,
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => tracing::info!("SIGINT received; shutting down"),
        () = term => tracing::info!("SIGTERM received; shutting down"),
    }
}
