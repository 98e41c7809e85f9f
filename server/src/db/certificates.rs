//! Signed certificates: the facts a credential states, the signed credential, revocation, the
//! revocation lists and the published keys. Signing itself happens in `crate::certificates`
//! (the private key never reaches the database).

use chrono::{DateTime, Utc};
use skilltrack_protocol::credentials::{Jwk, Revocation};
use sqlx::{PgConnection, Row as _};
use uuid::Uuid;

/// Everything needed to sign a certificate's credential, and what is signed already.
#[derive(Debug, Clone)]
pub struct CertificateSource {
    /// The certificate.
    pub id: Uuid,
    /// Its number.
    pub number: String,
    /// The learner.
    pub user_id: Uuid,
    /// Their name now.
    pub learner_name: Option<String>,
    /// The course.
    pub course_id: Uuid,
    /// Its slug.
    pub course_slug: String,
    /// Its title.
    pub course_title: String,
    /// Its description.
    pub course_description: String,
    /// Its objectives.
    pub course_objectives: Vec<String>,
    /// Issued.
    pub issued_at: DateTime<Utc>,
    /// Its bit in the revocation lists.
    pub status_index: i64,
    /// The signed credential, once signed.
    pub credential: Option<String>,
    /// The key that signed it.
    pub credential_kid: Option<String>,
    /// Revoked when.
    pub revoked_at: Option<DateTime<Utc>>,
    /// Why.
    pub revocation_reason: Option<String>,
}

const SOURCE: &str = "SELECT ce.id, ce.certificate_number, ce.user_id, p.full_name, ce.course_id,
        co.slug, co.title, co.description, co.objectives, ce.issued_at, ce.status_index,
        ce.credential, ce.credential_kid, ce.revoked_at, ce.revocation_reason
    FROM public.certificates ce
    JOIN public.courses co ON co.id = ce.course_id
    JOIN public.profiles p ON p.id = ce.user_id";

fn source(row: &sqlx::postgres::PgRow) -> Result<CertificateSource, sqlx::Error> {
    Ok(CertificateSource {
        id: row.try_get(0)?,
        number: row.try_get(1)?,
        user_id: row.try_get(2)?,
        learner_name: row.try_get(3)?,
        course_id: row.try_get(4)?,
        course_slug: row.try_get(5)?,
        course_title: row.try_get(6)?,
        course_description: row.try_get(7)?,
        course_objectives: row.try_get(8)?,
        issued_at: row.try_get(9)?,
        status_index: row.try_get(10)?,
        credential: row.try_get(11)?,
        credential_kid: row.try_get(12)?,
        revoked_at: row.try_get(13)?,
        revocation_reason: row.try_get(14)?,
    })
}

/// A certificate's source by id, as the caller may see it.
pub async fn source_by_id(
    conn: &mut PgConnection,
    id: Uuid,
) -> Result<Option<CertificateSource>, sqlx::Error> {
    sqlx::query(&format!("{SOURCE} WHERE ce.id = $1"))
        .bind(id)
        .fetch_optional(conn)
        .await?
        .as_ref()
        .map(source)
        .transpose()
}

/// A certificate's source by number (`service_role`: the public check).
pub async fn source_by_number(
    conn: &mut PgConnection,
    number: &str,
) -> Result<Option<CertificateSource>, sqlx::Error> {
    sqlx::query(&format!("{SOURCE} WHERE ce.certificate_number = $1"))
        .bind(number)
        .fetch_optional(conn)
        .await?
        .as_ref()
        .map(source)
        .transpose()
}

/// A learner's certificates still waiting for their signed credential (`service_role`).
pub async fn unsigned_sources_of(
    conn: &mut PgConnection,
    user: Uuid,
) -> Result<Vec<CertificateSource>, sqlx::Error> {
    sqlx::query(&format!(
        "{SOURCE} WHERE ce.user_id = $1 AND ce.credential IS NULL"
    ))
    .bind(user)
    .fetch_all(conn)
    .await?
    .iter()
    .map(source)
    .collect()
}

/// Up to `limit` certificates of anyone still waiting for their credential (`service_role`).
pub async fn unsigned(conn: &mut PgConnection, limit: i64) -> Result<Vec<Uuid>, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT id FROM public.certificates WHERE credential IS NULL ORDER BY issued_at LIMIT $1",
    )
    .bind(limit)
    .fetch_all(conn)
    .await
}

/// Stores a certificate's signed credential unless one is stored already (`service_role`);
/// whether this one was.
pub async fn attach_credential(
    conn: &mut PgConnection,
    id: Uuid,
    credential: &str,
    kid: &str,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE public.certificates SET credential = $2, credential_kid = $3
         WHERE id = $1 AND credential IS NULL",
    )
    .bind(id)
    .bind(credential)
    .bind(kid)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Publishes public keys (`service_role`); those already there stay as they are.
pub async fn publish_keys(conn: &mut PgConnection, keys: &[Jwk]) -> Result<(), sqlx::Error> {
    for key in keys {
        sqlx::query(
            "INSERT INTO public.certificate_signing_keys (kid, public_jwk) VALUES ($1, $2)
             ON CONFLICT (kid) DO NOTHING",
        )
        .bind(&key.kid)
        .bind(sqlx::types::Json(key))
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

/// Every published key, oldest first.
pub async fn published_keys(conn: &mut PgConnection) -> Result<Vec<Jwk>, sqlx::Error> {
    let keys: Vec<sqlx::types::Json<Jwk>> = sqlx::query_scalar(
        "SELECT public_jwk FROM public.certificate_signing_keys ORDER BY created_at, kid",
    )
    .fetch_all(conn)
    .await?;
    Ok(keys.into_iter().map(|k| k.0).collect())
}

/// The revoked indexes in `[from, to)` (`service_role`).
pub async fn revoked_between(
    conn: &mut PgConnection,
    from: i64,
    to: i64,
) -> Result<Vec<i64>, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT status_index FROM public.certificates
         WHERE revoked_at IS NOT NULL AND status_index >= $1 AND status_index < $2",
    )
    .bind(from)
    .bind(to)
    .fetch_all(conn)
    .await
}

/// The highest status index given out, if any (`service_role`).
pub async fn highest_status_index(conn: &mut PgConnection) -> Result<Option<i64>, sqlx::Error> {
    sqlx::query_scalar("SELECT max(status_index) FROM public.certificates")
        .fetch_one(conn)
        .await
}

/// What [`revoke`] found.
#[derive(Debug)]
pub enum RevokeOutcome {
    /// Revoked now.
    Revoked(Revocation),
    /// It was revoked before: when and why.
    Already(Revocation),
    /// No such certificate (or not visible to the caller).
    NotFound,
}

/// Revokes a certificate with a reason, as the caller (an admin: the policy allows only them).
pub async fn revoke(
    conn: &mut PgConnection,
    id: Uuid,
    reason: &str,
) -> Result<RevokeOutcome, sqlx::Error> {
    let row = |r: sqlx::postgres::PgRow| -> Result<Revocation, sqlx::Error> {
        Ok(Revocation {
            certificate_id: r.try_get(0)?,
            certificate_number: r.try_get(1)?,
            revoked_at: r.try_get(2)?,
            reason: r.try_get(3)?,
        })
    };
    let done = sqlx::query(
        "UPDATE public.certificates
         SET is_valid = false, revoked_at = now(), revoked_by = (SELECT auth.uid()),
             revocation_reason = $2
         WHERE id = $1 AND revoked_at IS NULL
         RETURNING id, certificate_number, revoked_at, revocation_reason",
    )
    .bind(id)
    .bind(reason)
    .fetch_optional(&mut *conn)
    .await?;
    if let Some(r) = done {
        return Ok(RevokeOutcome::Revoked(row(r)?));
    }
    let before = sqlx::query(
        "SELECT id, certificate_number, revoked_at, revocation_reason FROM public.certificates
         WHERE id = $1 AND revoked_at IS NOT NULL",
    )
    .bind(id)
    .fetch_optional(&mut *conn)
    .await?;
    match before {
        Some(r) => Ok(RevokeOutcome::Already(row(r)?)),
        None => Ok(RevokeOutcome::NotFound),
    }
}
