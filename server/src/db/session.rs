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

/// Opens the transaction a request runs in. Commit it to keep its writes; dropping it rolls back.
pub async fn begin(
    api: &PgPool,
    caller: Caller,
    access: Access,
) -> Result<Transaction<'static, Postgres>, sqlx::Error> {
    // A read-only request opens a read-only transaction in the same round trip as BEGIN.
    let mut tx = match access {
        Access::ReadOnly => api.begin_with("BEGIN READ ONLY").await?,
        Access::ReadWrite => api.begin().await?,
    };
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
    let mut tx = api.begin().await?;
    sqlx::query("SELECT set_config('role', 'service_role', true), set_config('request.jwt.claims', $1, true)")
        .bind(json!({ "role": "service_role" }).to_string())
        .execute(&mut *tx)
        .await?;
    Ok(tx)
}
