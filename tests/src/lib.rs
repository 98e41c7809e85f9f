//! Fixtures for Skilltrack's end-to-end tests: a real PostgreSQL for the whole test binary, a
//! fresh database per test (copied from a migrated template in milliseconds), and the real
//! server on a free port.
//!
//! PostgreSQL is the server's own embedded cluster (in a temporary directory, not durable, gone
//! when the test binary exits), or the server at `DATABASE_URL` when that is set; the
//! databases made there are dropped when their [`TestDb`] is.

#![forbid(unsafe_code)]

use std::path::PathBuf;
use std::str::FromStr as _;
use std::sync::Mutex;

use std::net::SocketAddr;

use skilltrack_server::auth::tokens::TokenKeys;
use skilltrack_server::certificates::{Issuer, KeyRing};
use skilltrack_server::cluster::{self, ClusterOptions, EmbeddedCluster};
use skilltrack_server::db::{self, Database, PoolSizes};
use skilltrack_server::http::auth::AuthLimits;
use skilltrack_server::http::{AppState, HttpLimits};
use sqlx::postgres::{PgConnectOptions, PgPool};
use sqlx::{Connection as _, PgConnection};
use tokio::sync::OnceCell;
use uuid::Uuid;

pub mod api;
pub mod debian_root;
pub mod desktop;
pub mod fixtures;
pub mod nginx;
pub mod process;
pub mod proxy;
pub mod recorder;
pub mod smtp;
pub mod tls;

pub use process::{ServerProcess, server_binary};

/// The PostgreSQL every test of this binary uses.
struct Harness {
    /// Connection options for the maintenance database, as a superuser/owner.
    maintenance: PgConnectOptions,
    /// The migrated database every test database is copied from.
    template: String,
    /// Password for `authenticator` where the server needs one (external servers only).
    authenticator_password: Option<String>,
    /// Kept alive for the whole binary; its postmaster dies with the process.
    _cluster: Option<Mutex<EmbeddedCluster>>,
    external: bool,
}

static HARNESS: OnceCell<Harness> = OnceCell::const_new();

async fn harness() -> &'static Harness {
    HARNESS
        .get_or_init(|| async {
            start_harness()
                .await
                .expect("starting PostgreSQL for the tests")
        })
        .await
}

/// Where embedded test clusters live: under /tmp, which the cluster's OS user can reach even
/// when the tests run as root.
fn cluster_root() -> PathBuf {
    std::env::temp_dir().join(format!("skilltrack-tests-{}", std::process::id()))
}

/// Removes clusters left by earlier test runs whose process is gone.
fn remove_stale_clusters() {
    let Ok(entries) = std::fs::read_dir(std::env::temp_dir()) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some(pid) = name
            .strip_prefix("skilltrack-tests-")
            .and_then(|p| p.parse::<u32>().ok())
        else {
            continue;
        };
        if !PathBuf::from(format!("/proc/{pid}")).exists() {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}

async fn start_harness() -> anyhow::Result<Harness> {
    let (maintenance, cluster, external, authenticator_password) =
        match std::env::var("DATABASE_URL") {
            Ok(url) if !url.is_empty() => {
                let options = PgConnectOptions::from_str(&url)?;
                let password = std::env::var("SKILLTRACK_AUTHENTICATOR_PASSWORD")
                    .unwrap_or_else(|_| "skilltrack-tests".to_owned());
                (options, None, true, Some(password))
            }
            _ => {
                remove_stale_clusters();
                let options = ClusterOptions {
                    dir: cluster_root(),
                    bin_dir: std::env::var_os("SKILLTRACK_PG_BIN_DIR").map(PathBuf::from),
                    os_user: std::env::var("SKILLTRACK_PG_OS_USER")
                        .unwrap_or_else(|_| "postgres".to_owned()),
                    durable: false,
                };
                let cluster =
                    tokio::task::spawn_blocking(move || EmbeddedCluster::start(&options)).await??;
                let maintenance = cluster.connect_options(cluster::SUPERUSER, "postgres");
                (maintenance, Some(Mutex::new(cluster)), false, None)
            }
        };

    // One template per set of migrations; concurrent test binaries on a shared server take
    // turns through an advisory lock.
    // The server's message catalog is written at migration too (decision 340): a new wording
    // is a new template.
    let catalog = skilltrack_server::messages::rows()
        .flat_map(|(k, l, t, b)| [k, l, t, b])
        .flat_map(str::bytes);
    let version = db::MIGRATOR
        .iter()
        .flat_map(|m| m.checksum.iter().copied())
        .chain(catalog)
        .fold(0u64, |a, b| a.rotate_left(5) ^ u64::from(b));
    let template = format!("skilltrack_template_{version:016x}");
    let mut conn = PgConnection::connect_with(&maintenance).await?;
    sqlx::query("SELECT pg_advisory_lock(7351)")
        .execute(&mut conn)
        .await?;
    let exists: bool =
        sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)")
            .bind(&template)
            .fetch_one(&mut conn)
            .await?;
    if !exists {
        let building = format!("{template}_building");
        sqlx::raw_sql(&format!("DROP DATABASE IF EXISTS {building}"))
            .execute(&mut conn)
            .await?;
        sqlx::raw_sql(&format!("CREATE DATABASE {building}"))
            .execute(&mut conn)
            .await?;
        let pool = db::connect_pool(maintenance.clone().database(&building), 1).await?;
        db::migrate(&pool).await?;
        pool.close().await;
        // A backend of the migration pool can outlive `close` for a while, and RENAME refuses
        // while anyone is connected: end them (this process holds the build lock, so nobody
        // else should be there), then retry briefly.
        let mut tries = 0;
        loop {
            sqlx::query(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity
                 WHERE datname = $1 AND pid <> pg_backend_pid()",
            )
            .bind(&building)
            .execute(&mut conn)
            .await?;
            match sqlx::raw_sql(&format!("ALTER DATABASE {building} RENAME TO {template}"))
                .execute(&mut conn)
                .await
            {
                Err(sqlx::Error::Database(e))
                    if e.code().as_deref() == Some("55006") && tries < 100 =>
                {
                    tries += 1;
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                }
                other => {
                    other?;
                    break;
                }
            }
        }
    }
    sqlx::query("SELECT pg_advisory_unlock(7351)")
        .execute(&mut conn)
        .await?;
    conn.close().await?;
    Ok(Harness {
        maintenance,
        template,
        authenticator_password,
        _cluster: cluster,
        external,
    })
}

/// A fresh, migrated database of its own, with the server's two pools.
pub struct TestDb {
    /// The database's name.
    pub name: String,
    /// The server's pools over it.
    pub db: Database,
    drop_on_exit: Option<PgConnectOptions>,
}

impl TestDb {
    /// The owner pool (fixtures are written through it).
    pub fn owner(&self) -> &PgPool {
        self.db.owner()
    }

    /// The API pool (log in as `authenticator`).
    pub fn api(&self) -> &PgPool {
        self.db.api()
    }
}

/// Copies the migrated template into a new database and opens the server's pools on it.
pub async fn test_db() -> TestDb {
    let h = harness().await;
    let name = format!("t_{}", Uuid::now_v7().simple());
    let mut conn = PgConnection::connect_with(&h.maintenance)
        .await
        .expect("connecting");
    sqlx::raw_sql(&format!("CREATE DATABASE {name} TEMPLATE {}", h.template))
        .execute(&mut conn)
        .await
        .expect("creating the test database");
    conn.close().await.expect("closing");
    let owner = h.maintenance.clone().database(&name);
    let db = Database::open(
        owner,
        h.authenticator_password.as_deref(),
        PoolSizes { owner: 2, api: 4 },
    )
    .await
    .expect("opening the test database");
    TestDb {
        name,
        db,
        drop_on_exit: h.external.then(|| h.maintenance.clone()),
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        // Only a shared server needs cleaning; an embedded cluster vanishes with the binary.
        let Some(maintenance) = self.drop_on_exit.take() else {
            return;
        };
        let name = self.name.clone();
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build();
            if let Ok(rt) = rt {
                rt.block_on(async {
                    if let Ok(mut conn) = PgConnection::connect_with(&maintenance).await {
                        let _ =
                            sqlx::raw_sql(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                                .execute(&mut conn)
                                .await;
                    }
                });
            }
        })
        .join();
    }
}

/// The real HTTP server on a free port, over its own database.
pub struct TestServer {
    /// `http://127.0.0.1:<port>`.
    pub url: String,
    /// Its database.
    pub db: TestDb,
    /// Its data directory (media).
    pub data_dir: tempfile::TempDir,
    /// Its labs, when started by [`spawn_lab_server`] (tests read their counters).
    pub labs: Option<std::sync::Arc<skilltrack_server::labs::Labs>>,
    /// Who signs its certificates (a key of its own, made at start).
    pub certificates: std::sync::Arc<Issuer>,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
}

/// Points the course package `skilltrack course new` writes in `dir` at the demo data: its
/// course on the demo's `software-development` service, its lab in the `devops` category.
pub fn point_package_at_the_demo(dir: &std::path::Path) {
    let course = dir.join("course.json");
    let json = std::fs::read_to_string(&course).expect("the package's course.json");
    std::fs::write(
        &course,
        json.replace("\"development\"", "\"software-development\""),
    )
    .expect("writing course.json");
    let lab = dir.join("labs/first-lab/lab.json");
    let mut value: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&lab).expect("the package's lab.json"))
            .expect("lab.json is JSON");
    value["category"] = "devops".into();
    std::fs::write(
        &lab,
        serde_json::to_string_pretty(&value).expect("JSON writes"),
    )
    .expect("writing lab.json");
}

/// Copies demo media files (`server/seed/media/FROM`) into `dir` as `TO`: a package's videos,
/// posters and captions.
pub fn copy_demo_media(dir: &std::path::Path, files: &[(&str, &str)]) {
    let media = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../server/seed/media");
    std::fs::create_dir_all(dir).expect("the media folder");
    for (from, to) in files {
        std::fs::copy(media.join(from), dir.join(to)).expect("copying demo media");
    }
}

/// [`spawn_server`] with the demo catalog loaded (`seed-demo`'s accounts, courses, labs).
pub async fn spawn_demo_server() -> TestServer {
    let server = spawn_server().await;
    skilltrack_server::seed::load_demo(&server.db.db, server.data_dir.path())
        .await
        .expect("loading the demo catalog");
    server
}

/// Starts the server's real router on 127.0.0.1:0, with default limits.
pub async fn spawn_server() -> TestServer {
    spawn_server_with(AuthLimits::default()).await
}

/// The signing key of every test server (tests forge tokens with other keys).
pub const TEST_JWT_SECRET: &[u8] = b"skilltrack-tests-signing-key-0123456789";

/// Starts the server's real router on 127.0.0.1:0 with these auth limits.
pub async fn spawn_server_with(limits: AuthLimits) -> TestServer {
    spawn_server_with_limits(limits, HttpLimits::default()).await
}

/// Starts the server's real router on 127.0.0.1:0 with these auth and HTTP limits.
pub async fn spawn_server_with_limits(limits: AuthLimits, http: HttpLimits) -> TestServer {
    spawn_server_customized(limits, http, |state, _| state).await
}

/// Starts the server's real router on 127.0.0.1:0 sending account mail through the SMTP server
/// at `smtp_url`, with links to its own address.
pub async fn spawn_server_with_mail(
    smtp_url: &str,
    limits: skilltrack_server::http::recovery::RecoveryLimits,
) -> TestServer {
    let smtp_url = smtp_url.to_owned();
    spawn_server_customized(
        AuthLimits::default(),
        HttpLimits::default(),
        move |state, url| {
            let mailer = skilltrack_server::mail::Mailer::smtp(
                &smtp_url,
                "Skilltrack tests <no-reply@skilltrack.test>",
            )
            .expect("the test SMTP server's URL");
            state.with_account_mail(skilltrack_server::http::recovery::AccountMail::new(
                mailer,
                url,
                "Skilltrack (tests)",
                &limits,
            ))
        },
    )
    .await
}

/// Starts the server's real router on 127.0.0.1:0 with these limits, its state changed by
/// `customize` (given the server's own URL) before it serves.
pub async fn spawn_server_customized(
    limits: AuthLimits,
    http: HttpLimits,
    customize: impl FnOnce(AppState, &str) -> AppState,
) -> TestServer {
    // A test server's internal errors say why on the test's output (the answer only says
    // "it has been logged"): a 500 seen once under load is then explained, not guessed at.
    let _ = tracing_subscriber::fmt()
        .with_max_level(tracing_subscriber::filter::LevelFilter::ERROR)
        .with_test_writer()
        .try_init();
    let db = test_db().await;
    let data_dir = tempfile::tempdir().expect("tempdir");
    let keys = TokenKeys::new(TEST_JWT_SECRET, std::time::Duration::from_secs(900)).expect("keys");
    let media = skilltrack_server::media_dir(data_dir.path());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("binding");
    let url = format!("http://{}", listener.local_addr().expect("address"));
    let certificates = test_issuer(&url, KeyRing::ephemeral().expect("a key"));
    let state = AppState::new(db.db.clone(), keys, limits, &media, http.upload_bytes)
        .with_certificates(std::sync::Arc::clone(&certificates));
    let app = skilltrack_server::http::router(customize(state, &url), &http, &media);
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(async move {
        let _ = axum::serve(
            listener,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(async {
            let _ = rx.await;
        })
        .await;
    });
    TestServer {
        url,
        db,
        data_dir,
        labs: None,
        certificates,
        shutdown: Some(tx),
    }
}

/// The certificate issuer of a test server at `url` with these keys.
pub fn test_issuer(url: &str, keys: KeyRing) -> std::sync::Arc<Issuer> {
    Issuer::new(keys, url, "Skilltrack (tests)")
}

/// Another server process over the same database as `first` (same issuer address), signing
/// certificates with `keys`: a server restarted after its key was rotated. Stops when dropped.
pub async fn spawn_sibling_server(first: &TestServer, keys: KeyRing) -> SiblingServer {
    let keys_jwt =
        TokenKeys::new(TEST_JWT_SECRET, std::time::Duration::from_secs(900)).expect("keys");
    let media = skilltrack_server::media_dir(first.data_dir.path());
    let http = HttpLimits::default();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("binding");
    let url = format!("http://{}", listener.local_addr().expect("address"));
    let app = skilltrack_server::http::router(
        AppState::new(
            first.db.db.clone(),
            keys_jwt,
            AuthLimits::default(),
            &media,
            http.upload_bytes,
        )
        .with_certificates(test_issuer(&first.url, keys)),
        &http,
        &media,
    );
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(async move {
        let _ = axum::serve(
            listener,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(async {
            let _ = rx.await;
        })
        .await;
    });
    SiblingServer { url, _shutdown: tx }
}

/// A second server over a test server's database; see [`spawn_sibling_server`].
pub struct SiblingServer {
    /// `http://127.0.0.1:<port>`.
    pub url: String,
    _shutdown: tokio::sync::oneshot::Sender<()>,
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        // Lab workspaces may be mounted volumes (the server keeps them mounted while a lab
        // runs): unmount them before the data directory is deleted, or the mounts (and their
        // loop devices) outlive the test.
        if let Ok(data_dir) = self.data_dir.path().canonicalize() {
            for mount in skilltrack_server::labs::volume::mount_points() {
                if mount.starts_with(&data_dir) {
                    let _ = std::process::Command::new("umount")
                        .arg("-l")
                        .arg(&mount)
                        .output();
                }
            }
        }
    }
}

/// Starts the server's real router with labs enabled for tests: workspaces in the server's
/// data directory (made reachable by the sandbox user), the idle reaper running every second,
/// small resource caps; `configure` may change any setting.
pub async fn spawn_lab_server(
    configure: impl FnOnce(&mut skilltrack_server::labs::LabSettings),
) -> TestServer {
    use std::os::unix::fs::PermissionsExt as _;
    let db = test_db().await;
    let data_dir = tempfile::tempdir().expect("tempdir");
    // The sandbox user must pass through the data directory to reach its workspace.
    std::fs::set_permissions(data_dir.path(), std::fs::Permissions::from_mode(0o711))
        .expect("chmod");
    let mut labs = skilltrack_server::labs::LabSettings::defaults(data_dir.path());
    labs.reaper_interval = std::time::Duration::from_secs(1);
    labs.sandbox.memory_cap_bytes = 256 << 20;
    labs.sandbox.process_cap = 64;
    labs.sandbox.disk_cap_bytes = 64 << 20;
    labs.sandbox.tmp_bytes = 16 << 20;
    configure(&mut labs);
    let keys = TokenKeys::new(TEST_JWT_SECRET, std::time::Duration::from_secs(900)).expect("keys");
    let media = skilltrack_server::media_dir(data_dir.path());
    let http = HttpLimits::default();
    let state = AppState::new(
        db.db.clone(),
        keys,
        AuthLimits::default(),
        &media,
        http.upload_bytes,
    )
    .with_labs(labs);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("binding");
    let url = format!("http://{}", listener.local_addr().expect("address"));
    let certificates = test_issuer(&url, KeyRing::ephemeral().expect("a key"));
    let state = state.with_certificates(std::sync::Arc::clone(&certificates));
    skilltrack_server::labs::reaper::spawn(
        db.db.clone(),
        std::sync::Arc::clone(&state.labs),
        std::sync::Arc::clone(&state.instance),
    );
    let labs = std::sync::Arc::clone(&state.labs);
    let app = skilltrack_server::http::router(state, &http, &media);
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(async move {
        let _ = axum::serve(
            listener,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(async {
            let _ = rx.await;
        })
        .await;
    });
    TestServer {
        url,
        db,
        data_dir,
        labs: Some(labs),
        certificates,
        shutdown: Some(tx),
    }
}
