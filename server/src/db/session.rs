//! The request transaction: every API request runs in one transaction under the caller's
//! PostgreSQL role, with the caller's claims in `request.jwt.claims`, set transaction-locally
//! so they end with the transaction and can never leak to the next user of a pooled
//! connection.

use serde_json::json;
use sqlx::postgres::PgPool;
use sqlx::{Postgres, Transaction};
use uuid::Uuid;

/// Who is making a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Caller {
    /// Not signed in.
    Anonymous,
    /// A signed-in user (learner, instructor or admin: RLS reads the role from their profile).
    User(Uuid),
}

impl Caller {
    /// The PostgreSQL role the request runs as.
    pub fn db_role(self) -> &'static str {
        match self {
            Self::Anonymous => "anon",
            Self::User(_) => "authenticated",
        }
    }

    /// The claims `auth.uid()`, `auth.role()` and `auth.jwt()` read.
    pub fn claims(self) -> serde_json::Value {
        match self {
            Self::Anonymous => json!({ "role": "anon" }),
            Self::User(id) => json!({ "role": "authenticated", "sub": id }),
        }
    }
}

/// Whether the request may write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// `READ ONLY`: a handler that only reads cannot write by mistake.
    ReadOnly,
    /// May write.
    ReadWrite,
}

/// Takes a connection and sends `statement` (a `BEGIN`) in a task of its own, which runs to the
/// end even when the request is abandoned (its client hung up and the handler's future was
/// dropped). sqlx 0.8.6 queues a rollback for a dropped `BEGIN` only once it has seen the answer,
/// so a request dropped while its `BEGIN` was on the wire put the connection back in the pool
/// inside that transaction: the next request on it ran in the abandoned one (a `READ ONLY` one
/// failed every write with a 500; a writable one would have kept autocommit statements
/// uncommitted). Finished here, the transaction is either handed over or dropped whole, and a
/// dropped whole transaction rolls back.
async fn begin_whole(
    api: &PgPool,
    statement: &'static str,
) -> Result<Transaction<'static, Postgres>, sqlx::Error> {
    let api = api.clone();
    tokio::spawn(async move { api.begin_with(statement).await })
        .await
        .map_err(|_| sqlx::Error::WorkerCrashed)?
}

/// Opens the transaction a request runs in. Commit it to keep its writes; dropping it rolls back.
pub async fn begin(
    api: &PgPool,
    caller: Caller,
    access: Access,
) -> Result<Transaction<'static, Postgres>, sqlx::Error> {
    // A read-only request opens a read-only transaction in the same round trip as BEGIN.
    let mut tx = begin_whole(
        api,
        match access {
            Access::ReadOnly => "BEGIN READ ONLY",
            Access::ReadWrite => "BEGIN",
        },
    )
    .await?;
    // set_config(..., true) is SET LOCAL that takes bind parameters: no SQL is ever built from
    // the claims.
    sqlx::query("SELECT set_config('role', $1, true), set_config('request.jwt.claims', $2, true)")
        .bind(caller.db_role())
        .bind(caller.claims().to_string())
        .execute(&mut *tx)
        .await?;
    Ok(tx)
}

/// Opens a transaction as `service_role`: the server acting for itself (checking a password,
/// keeping sessions), never on a request's behalf. Every use is in `db::auth`.
pub async fn begin_service(api: &PgPool) -> Result<Transaction<'static, Postgres>, sqlx::Error> {
    let mut tx = begin_whole(api, "BEGIN").await?;
    sqlx::query("SELECT set_config('role', 'service_role', true), set_config('request.jwt.claims', $1, true)")
        .bind(json!({ "role": "service_role" }).to_string())
        .execute(&mut *tx)
        .await?;
    Ok(tx)
}
