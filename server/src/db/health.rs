//! The readiness probe's queries.

use sqlx::postgres::PgPool;

/// Proves the API pool can reach the database (as `authenticator`).
pub async fn ping(api: &PgPool) -> Result<(), sqlx::Error> {
    sqlx::query_scalar::<_, i32>("SELECT 1")
        .fetch_one(api)
        .await
        .map(drop)
}

/// The newest successfully applied migration.
pub async fn schema_version(owner: &PgPool) -> Result<Option<i64>, sqlx::Error> {
    sqlx::query_scalar("SELECT max(version) FROM _sqlx_migrations WHERE success")
        .fetch_one(owner)
        .await
}
