//! Creating the application database inside a fresh embedded cluster.

use sqlx::Connection as _;
use sqlx::postgres::{PgConnectOptions, PgConnection};

use super::DbError;

/// Creates database `name` unless it exists, connecting to the maintenance database.
pub async fn ensure_database(maintenance: PgConnectOptions, name: &str) -> Result<(), DbError> {
    let user = maintenance.get_username().to_owned();
    let mut conn = PgConnection::connect_with(&maintenance)
        .await
        .map_err(|source| DbError::Connect { user, source })?;
    let exists: bool =
        sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)")
            .bind(name)
            .fetch_one(&mut conn)
            .await?;
    if !exists {
        let statement: String = sqlx::query_scalar("SELECT format('CREATE DATABASE %I', $1::text)")
            .bind(name)
            .fetch_one(&mut conn)
            .await?;
        sqlx::raw_sql(&statement).execute(&mut conn).await?;
        tracing::info!(database = name, "created the application database");
    }
    conn.close().await?;
    Ok(())
}

/// Drops database `name` (ending its sessions) and creates it again, empty: where a backup is
/// restored. Connects to the maintenance database.
pub async fn recreate_database(maintenance: PgConnectOptions, name: &str) -> Result<(), DbError> {
    let user = maintenance.get_username().to_owned();
    let mut conn = PgConnection::connect_with(&maintenance)
        .await
        .map_err(|source| DbError::Connect { user, source })?;
    let (drop, create): (String, String) = sqlx::query_as(
        "SELECT format('DROP DATABASE IF EXISTS %I WITH (FORCE)', $1::text), \
                format('CREATE DATABASE %I', $1::text)",
    )
    .bind(name)
    .fetch_one(&mut conn)
    .await?;
    sqlx::raw_sql(&drop).execute(&mut conn).await?;
    sqlx::raw_sql(&create).execute(&mut conn).await?;
    tracing::info!(
        database = name,
        "dropped and created the application database, empty"
    );
    conn.close().await?;
    Ok(())
}
