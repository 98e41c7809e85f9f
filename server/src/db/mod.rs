//! All of the server's SQL lives under this module.
//!
//! Two pools reach the database:
//! * the **owner** pool logs in as the schema's owner; it runs migrations and `seed-demo`, and
//!   nothing that serves a request;
//! * the **API** pool logs in as `authenticator`, which owns nothing and can only become
//!   `anon`, `authenticated` or `service_role` (see `migrations/0001_roles_and_auth.sql`).
//!   Every request runs in one transaction opened by [`session::begin`], under the caller's
//!   role and claims.

pub mod account_tokens;
pub mod analytics;
pub mod assessments;
pub mod auth;
pub mod authoring;
pub mod bootstrap;
pub mod catalog;
pub mod certificates;
pub mod course_packages;
pub mod desktop_releases;
pub mod engagement;
pub mod health;
pub mod instances;
pub mod lab_images;
pub mod lab_steps;
pub mod labs;
pub mod learning;
pub mod periodic;
pub mod profiles;
pub mod rate_limits;
pub mod seed;
pub mod server_messages;
pub mod session;
pub mod settings;
pub mod sync;
pub mod taxonomy;
pub mod uploads;

use std::time::Duration;

use sqlx::ConnectOptions as _;
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};

/// Parses a column read as text (an enum, `role::text`) into its Rust type.
pub(crate) fn decode<E: std::str::FromStr>(column: &str, text: &str) -> Result<E, sqlx::Error>
where
    E::Err: std::error::Error + Send + Sync + 'static,
{
    text.parse().map_err(|e| sqlx::Error::ColumnDecode {
        index: column.to_owned(),
        source: Box::new(e),
    })
}

/// A `numeric(p, s)` value with its column's scale, so `0.00` stays `"0.00"` on the wire (the
/// driver reads a zero back without its scale).
pub(crate) fn with_scale(mut d: rust_decimal::Decimal, scale: u32) -> rust_decimal::Decimal {
    d.rescale(scale);
    d
}

/// The login role of the API pool.
pub const AUTHENTICATOR: &str = "authenticator";

/// The embedded migrations (`migrations/` at the top of the repository).
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../migrations");

/// Why the database could not be prepared.
#[allow(missing_docs, reason = "each variant's #[error] message documents it")]
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("could not connect to PostgreSQL as {user}: {source}")]
    Connect { user: String, source: sqlx::Error },
    #[error("applying migrations failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error(transparent)]
    Sqlx(#[from] sqlx::Error),
}

/// The server's two pools.
#[derive(Debug, Clone)]
pub struct Database {
    owner: PgPool,
    api: PgPool,
}

/// How many connections each pool may hold.
#[derive(Debug, Clone, Copy)]
pub struct PoolSizes {
    /// The owner pool (migrations, seeding).
    pub owner: u32,
    /// The API pool (every request).
    pub api: u32,
}

impl Default for PoolSizes {
    fn default() -> Self {
        Self { owner: 2, api: 16 }
    }
}

/// Opens a pool without logging statements (they may carry secrets such as a password).
pub async fn connect_pool(options: PgConnectOptions, size: u32) -> Result<PgPool, DbError> {
    let user = options.get_username().to_owned();
    PgPoolOptions::new()
        .max_connections(size)
        .acquire_timeout(Duration::from_secs(10))
        .connect_with(options.log_statements(log::LevelFilter::Trace))
        .await
        .map_err(|source| DbError::Connect { user, source })
}

impl Database {
    /// Connects as the owner, applies migrations, makes sure `authenticator` can log in with
    /// `authenticator_password` (when one is needed), and opens the API pool.
    pub async fn open(
        owner_options: PgConnectOptions,
        authenticator_password: Option<&str>,
        sizes: PoolSizes,
    ) -> Result<Self, DbError> {
        let owner = connect_pool(owner_options.clone(), sizes.owner).await?;
        migrate(&owner).await?;
        let mut api_options = owner_options.username(AUTHENTICATOR);
        if let Some(password) = authenticator_password {
            api_options = api_options.password(password);
            ensure_authenticator_password(&owner, api_options.clone(), password).await?;
        }
        let api = connect_pool(api_options, sizes.api).await?;
        Ok(Self { owner, api })
    }

    /// Builds a [`Database`] from pools the caller opened (tests).
    pub fn from_pools(owner: PgPool, api: PgPool) -> Self {
        Self { owner, api }
    }

    /// The owner pool: migrations and seeding only.
    pub fn owner(&self) -> &PgPool {
        &self.owner
    }

    /// The API pool: use it through [`session::begin`].
    pub fn api(&self) -> &PgPool {
        &self.api
    }

    /// Closes both pools, waiting for connections in use to come back.
    pub async fn close(&self) {
        self.api.close().await;
        self.owner.close().await;
    }
}

/// Applies every migration not yet applied. Concurrent callers are serialised by sqlx's
/// advisory lock.
pub async fn migrate(owner: &PgPool) -> Result<(), DbError> {
    MIGRATOR.run(owner).await?;
    // What the triggers write to people is worded by this build's catalog (decision 340).
    server_messages::store(owner).await?;
    let version = health::schema_version(owner).await?;
    tracing::info!(version, "the database schema is up to date");
    Ok(())
}

/// Sets the password only when logging in with it fails, so that replicas sharing a password do
/// not rewrite the role on every start.
async fn ensure_authenticator_password(
    owner: &PgPool,
    api_options: PgConnectOptions,
    password: &str,
) -> Result<(), DbError> {
    if api_options.connect().await.is_ok() {
        return Ok(());
    }
    // Several processes starting at once all find the password unset: one at a time (two
    // concurrent ALTER ROLEs of one role fail with "tuple concurrently updated"), each setting
    // the same password, so whichever comes last changes nothing the others rely on.
    let mut tx = owner.begin().await?;
    sqlx::query("SELECT pg_advisory_xact_lock(hashtextextended('skilltrack:authenticator', 0))")
        .execute(&mut *tx)
        .await?;
    let statement: String = sqlx::query_scalar(
        "SELECT format('ALTER ROLE authenticator WITH LOGIN PASSWORD %L', $1::text)",
    )
    .bind(password)
    .fetch_one(&mut *tx)
    .await?;
    sqlx::raw_sql(&statement).execute(&mut *tx).await?;
    tx.commit().await?;
    Ok(())
}
