//! Signed certificates: the learner's credential, the issuer's keys and revocation lists
//! (public, cacheable), and revocation by admins. The public check of a number lives in
//! `learning.rs` and gives the same verdict as an offline verifier.

use axum::Json;
use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use skilltrack_protocol::Problem;
use skilltrack_protocol::credentials::{
    CertificateCredential, IssuerDocument, JwkSet, Revocation, RevocationRequest,
};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::AppState;
use super::error::ApiError;
use super::extract::{AnyCaller, ApiJson, ApiPath, SignedIn};
use super::validate::Checks;
use crate::certificates::{self as issue, IssueError};
use crate::db::certificates::{self as sql, RevokeOutcome};
use crate::db::profiles;
use crate::db::session::{Access, begin};

/// The certificate routes.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(jwks))
        .routes(routes!(issuer))
        .routes(routes!(status_list))
        .routes(routes!(my_credential))
        .routes(routes!(revoke))
}

impl From<IssueError> for ApiError {
    fn from(e: IssueError) -> Self {
        match e {
            IssueError::Db(e) => e.into(),
            IssueError::Key(e) => ApiError::Internal(format!("signing a credential: {e}")),
        }
    }
}

/// How long browsers and verifiers may cache the keys and lists, in seconds.
const PUBLIC_MAX_AGE: &str = "public, max-age=300";

/// The issuer's public keys: every Ed25519 key that ever signed a certificate (JWK Set).
#[utoipa::path(
    get, path = "/.well-known/jwks.json", tag = "certificates",
    security((), ("bearer" = [])),
    responses(
        (status = 200, description = "The JWK Set", body = JwkSet),
    )
)]
pub async fn jwks(
    State(state): State<AppState>,
    AnyCaller(caller): AnyCaller,
) -> Result<impl IntoResponse, ApiError> {
    issue::publish_keys(&state.db, &state.certificates).await?;
    let mut tx = begin(state.db.api(), caller, Access::ReadOnly).await?;
    let keys = sql::published_keys(&mut tx).await?;
    tx.commit().await?;
    Ok((
        [(header::CACHE_CONTROL, PUBLIC_MAX_AGE)],
        Json(JwkSet { keys }),
    ))
}

/// The issuer (this instance) as an Open Badges profile, with where its keys and revocation
/// lists are.
#[utoipa::path(
    get, path = "/api/v1/certificates/issuer", tag = "certificates",
    security((), ("bearer" = [])),
    responses(
        (status = 200, description = "The issuer", body = IssuerDocument),
    )
)]
pub async fn issuer(State(state): State<AppState>) -> Result<impl IntoResponse, ApiError> {
    let issuer = &state.certificates;
    let lists = issue::status_list_count(&state.db).await?;
    Ok((
        [(header::CACHE_CONTROL, PUBLIC_MAX_AGE)],
        Json(IssuerDocument {
            id: issuer.id(),
            type_: vec!["Profile".to_owned()],
            name: issuer.profile().name,
            url: issuer.public_url().to_owned(),
            jwks_uri: issuer.jwks_uri(),
            status_lists: (1..=lists).map(|l| issuer.status_list_url(l)).collect(),
        }),
    ))
}

/// A revocation list: a Bitstring Status List credential as a VC-JWT, signed at most 30 s ago
/// (a revocation on this server is in the next answer).
#[utoipa::path(
    get, path = "/api/v1/certificates/status/{list}", tag = "certificates",
    params(("list" = i64, Path, description = "The list, from 1")),
    security((), ("bearer" = [])),
    responses(
        (status = 200, description = "The signed list (compact VC-JWT)", body = String, content_type = "application/vc+jwt"),
        (status = 400, description = "Not a list number", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such list", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn status_list(
    State(state): State<AppState>,
    ApiPath(list): ApiPath<i64>,
) -> Result<impl IntoResponse, ApiError> {
    let jwt = issue::cached_status_list(&state.db, &state.certificates, list)
        .await?
        .ok_or_else(|| ApiError::NotFound("No such status list.".to_owned()))?;
    Ok((
        [
            (header::CONTENT_TYPE, "application/vc+jwt"),
            (header::CACHE_CONTROL, PUBLIC_MAX_AGE),
        ],
        jwt,
    ))
}

/// One of my certificates as a signed Open Badges 3.0 credential (VC-JWT), to keep and share.
#[utoipa::path(
    get, path = "/api/v1/me/certificates/{id}/credential", tag = "certificates",
    params(("id" = Uuid, Path, description = "The certificate")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The credential", body = CertificateCredential),
        (status = 400, description = "Not a certificate id", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such certificate of mine", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn my_credential(
    State(state): State<AppState>,
    me: SignedIn,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Json<CertificateCredential>, ApiError> {
    let not_found = || ApiError::NotFound("You have no certificate with this id.".to_owned());
    let mut tx = begin(state.db.api(), me.caller(), Access::ReadOnly).await?;
    let mine = sql::source_by_id(&mut tx, id)
        .await?
        .is_some_and(|c| c.user_id == me.0.sub);
    tx.commit().await?;
    if !mine {
        return Err(not_found());
    }
    let source = issue::ensure_credential(&state.db, &state.certificates, id)
        .await?
        .ok_or_else(not_found)?;
    Ok(Json(CertificateCredential {
        certificate_id: source.id,
        certificate_number: source.number,
        credential: source.credential.unwrap_or_default(),
        kid: source.credential_kid.unwrap_or_default(),
        issued_at: source.issued_at,
        revoked_at: source.revoked_at,
        revocation_reason: source.revocation_reason,
    }))
}

/// Revoke a certificate, with a reason (admins). Its bit in the revocation list is set at once;
/// verifiers learn it when they next fetch the list.
#[utoipa::path(
    post, path = "/api/v1/admin/certificates/{id}/revocation", tag = "certificates",
    params(("id" = Uuid, Path, description = "The certificate")),
    request_body = RevocationRequest,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Revoked", body = Revocation),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an admin", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such certificate", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`already_revoked`", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`length`: a reason of 1–500 characters", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn revoke(
    State(state): State<AppState>,
    me: SignedIn,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(request): ApiJson<RevocationRequest>,
) -> Result<Json<Revocation>, ApiError> {
    let reason = request.reason.trim();
    Checks::default()
        .length(reason, "/reason", 1, 500)
        .finish()?;
    let mut tx = begin(state.db.api(), me.caller(), Access::ReadWrite).await?;
    profiles::require_admin(&mut tx).await?;
    let outcome = sql::revoke(&mut tx, id, reason).await?;
    tx.commit().await?;
    match outcome {
        RevokeOutcome::Revoked(r) => {
            state.certificates.forget_status_lists();
            tracing::info!(certificate = %id, by = %me.0.sub, "revoked a certificate");
            Ok(Json(r))
        }
        RevokeOutcome::Already(r) => Err(ApiError::Conflict {
            code: "already_revoked",
            detail: format!(
                "This certificate was revoked on {} ({}).",
                r.revoked_at.format("%Y-%m-%d"),
                r.reason
            ),
        }),
        RevokeOutcome::NotFound => {
            Err(ApiError::NotFound("No certificate has this id.".to_owned()))
        }
    }
}
