//! The server under benchmark: an embedded PostgreSQL cluster (durable, in a temporary
//! directory), the schema and the demo data, and the real HTTP server on a free port, on its own
//! runtime so the load generator never queues behind it.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context as _;
use skilltrack_server::cluster::{self, ClusterOptions, EmbeddedCluster};
use skilltrack_server::db::{Database, PoolSizes};
use skilltrack_server::http::{self, AppState, HttpLimits};

/// How the stack is sized.
pub struct StackOptions {
    /// Directory for PostgreSQL's binaries (default: searched).
    pub pg_bin_dir: Option<PathBuf>,
    /// Connections in the server's API pool.
    pub pool: u32,
    /// Worker threads of the server's runtime.
    pub server_threads: usize,
    /// Labs on the local sandbox driver, workspaces in the stack's directory (checked at start:
    /// a host without bubblewrap fails here, not in the middle of a measurement).
    pub labs: bool,
}

/// A running server with its database; stopped (database closed, cluster stopped, files
/// removed) when dropped.
pub struct Stack {
    /// The server's base URL.
    pub url: String,
    /// The database, for generating data as its owner.
    pub db: Database,
    /// The server's runtime (also the one to run database work on).
    pub runtime: tokio::runtime::Runtime,
    cluster: EmbeddedCluster,
    dir: tempfile::TempDir,
}

impl Stack {
    /// Starts PostgreSQL, migrates, loads the demo data, and serves HTTP.
    ///
    /// # Errors
    /// When PostgreSQL, the schema, the demo data or the listener fail.
    pub fn start(options: &StackOptions) -> anyhow::Result<Self> {
        let dir = tempfile::Builder::new()
            .prefix("skilltrack-bench-")
            .tempdir_in("/tmp")?;
        if options.labs {
            use std::os::unix::fs::PermissionsExt as _;
            // The sandbox user passes through the directory to its workspace.
            std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o711))?;
        }
        let cluster = EmbeddedCluster::start(&ClusterOptions {
            dir: dir.path().join("postgres"),
            bin_dir: options.pg_bin_dir.clone(),
            os_user: "postgres".to_owned(),
            durable: true,
        })
        .context("starting PostgreSQL")?;
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(options.server_threads)
            .enable_all()
            .build()?;
        let media = dir.path().join("media");
        let (db, url) = runtime.block_on(async {
            skilltrack_server::db::bootstrap::ensure_database(
                cluster.connect_options(cluster::SUPERUSER, "postgres"),
                cluster::DATABASE,
            )
            .await?;
            let db = Database::open(
                cluster.connect_options(cluster::SUPERUSER, cluster::DATABASE),
                None,
                PoolSizes {
                    owner: 2,
                    api: options.pool,
                },
            )
            .await?;
            skilltrack_server::seed::load_demo(&db, dir.path()).await?;
            let labs = options
                .labs
                .then(|| skilltrack_server::labs::LabSettings::defaults(dir.path()));
            let url = serve(db.clone(), &media, labs).await?;
            anyhow::Ok((db, url))
        })?;
        Ok(Self {
            url,
            db,
            runtime,
            cluster,
            dir,
        })
    }
}

impl Stack {
    /// The stack's own directory (PostgreSQL, media, lab workspaces and images).
    #[allow(dead_code, reason = "only terminal-bench puts an image there")]
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// The directory of PostgreSQL's unix socket (for pgbench).
    #[allow(dead_code, reason = "only api-load runs pgbench")]
    pub fn socket_dir(&self) -> &Path {
        self.cluster.socket_dir()
    }
}

impl Drop for Stack {
    fn drop(&mut self) {
        self.runtime.block_on(self.db.close());
    }
}

async fn serve(
    db: Database,
    media: &Path,
    labs: Option<skilltrack_server::labs::LabSettings>,
) -> anyhow::Result<String> {
    let keys =
        skilltrack_server::auth::tokens::TokenKeys::new(&[42u8; 32], Duration::from_secs(3600))?;
    let limits = HttpLimits::default();
    // Benchmarks sign in many times from one address.
    let auth = http::auth::AuthLimits {
        per_ip: 10_000,
        ..http::auth::AuthLimits::default()
    };
    let mut state = AppState::new(db, keys, auth, media, limits.upload_bytes);
    if let Some(labs) = labs {
        state = state.with_labs(labs);
        state.labs.driver().check()?;
    }
    let app = http::router(state, &limits, media);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}", listener.local_addr()?);
    tokio::spawn(async move {
        let _ = axum::serve(
            listener,
            app.into_make_service_with_connect_info::<std::net::SocketAddr>(),
        )
        .await;
    });
    Ok(url)
}

/// A generated catalog in `tx`: `courses` published free courses (`bench-course-<n>`, levels in
/// turn), each with `modules` modules of `lessons` text lessons, by the demo instructor. Run
/// with `session_replication_role = replica` (triggers off: a first sync reads the tables, not
/// the change log).
#[allow(
    dead_code,
    reason = "api-load and terminal-bench use the demo catalog only"
)]
pub async fn generate_catalog(
    tx: &mut sqlx::PgConnection,
    courses: u32,
    modules: u32,
    lessons: u32,
) -> anyhow::Result<()> {
    sqlx::query(
        "INSERT INTO courses (service_id, slug, title, description, duration, level, price,
                              instructor_id, tags, is_published)
         SELECT (SELECT id FROM services ORDER BY sort_order LIMIT 1), 'bench-course-' || g,
                'Bench course ' || g, repeat('What this course teaches, in a few words. ', 6),
                '10 hours',
                (ARRAY['Beginner', 'Intermediate', 'Advanced'])[1 + g % 3]::difficulty_level, 0,
                (SELECT id FROM profiles WHERE email = 'instructor@skilltrack.dev'),
                ARRAY['bench', 'generated'], true
         FROM generate_series(1, $1) g",
    )
    .bind(i64::from(courses))
    .execute(&mut *tx)
    .await?;
    sqlx::query(
        "INSERT INTO course_modules (course_id, title, description, sort_order, is_published)
         SELECT c.id, 'Module ' || m, 'What module ' || m || ' covers.', m, true
         FROM courses c CROSS JOIN generate_series(1, $1) m WHERE c.slug LIKE 'bench-course-%'",
    )
    .bind(i64::from(modules))
    .execute(&mut *tx)
    .await?;
    sqlx::query(
        "INSERT INTO course_lessons (module_id, title, description, content_type, content_body,
                                     duration_minutes, sort_order, is_published)
         SELECT m.id, 'Lesson ' || l, 'A generated lesson.', 'text',
                repeat('Markdown of a generated lesson, a line of it. ', 12), 10, l, true
         FROM course_modules m JOIN courses c ON c.id = m.course_id
         CROSS JOIN generate_series(1, $1) l WHERE c.slug LIKE 'bench-course-%'",
    )
    .bind(i64::from(lessons))
    .execute(&mut *tx)
    .await?;
    Ok(())
}

/// An authenticated JSON call to the stack's API; fails with the answer unless it succeeds.
///
/// # Errors
/// When the request fails or the server refuses it.
#[allow(
    dead_code,
    reason = "the lab benches call the API this way; the others do not"
)]
pub async fn call(
    http: &reqwest::Client,
    method: reqwest::Method,
    url: &str,
    token: &str,
    body: Option<serde_json::Value>,
) -> anyhow::Result<serde_json::Value> {
    let mut req = http.request(method, url).bearer_auth(token);
    if let Some(body) = body {
        req = req.json(&body);
    }
    let res = req.send().await?;
    let status = res.status();
    let body: serde_json::Value = res.json().await.unwrap_or(serde_json::Value::Null);
    if !status.is_success() {
        anyhow::bail!("{url}: {status} {body}");
    }
    Ok(body)
}
