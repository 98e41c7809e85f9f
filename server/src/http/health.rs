//! Liveness and readiness probes.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use skilltrack_protocol::health::Readiness;

use super::AppState;
use crate::db;

/// The probes.
pub fn routes() -> utoipa_axum::router::OpenApiRouter<AppState> {
    utoipa_axum::router::OpenApiRouter::new()
        .routes(utoipa_axum::routes!(live))
        .routes(utoipa_axum::routes!(ready))
}

/// `GET /healthz`: the process is up and serving HTTP.
#[utoipa::path(get, path = "/healthz", tag = "health", operation_id = "liveness",
    responses((status = 200, description = "Up", body = String, content_type = "text/plain")))]
pub async fn live() -> &'static str {
    "ok"
}

/// `GET /readyz`: the database answers; 503 otherwise.
#[utoipa::path(get, path = "/readyz", tag = "health",
    responses(
        (status = 200, description = "Ready", body = Readiness),
        (status = 503, description = "Not ready (the database does not answer)", body = Readiness),
    ))]
pub async fn ready(State(state): State<AppState>) -> (StatusCode, Json<Readiness>) {
    let database = db::health::ping(state.db.api()).await.is_ok();
    let schema_version = if database {
        db::health::schema_version(state.db.owner())
            .await
            .ok()
            .flatten()
    } else {
        None
    };
    let ready = database && schema_version.is_some();
    let status = if ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (
        status,
        Json(Readiness {
            ready,
            database,
            schema_version,
        }),
    )
}
