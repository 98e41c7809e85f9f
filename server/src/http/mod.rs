//! The HTTP API: one router, shared state, and the middleware every request passes through
//! (request id, tracing, timeout, body limit, problem+json errors).

pub mod admin;
pub mod auth;
pub mod catalog;
pub mod engagement;
pub mod error;
pub mod extract;
pub mod health;
pub mod learning;
pub mod me;
pub mod openapi;
pub mod pagination;
pub mod settings;
pub mod validate;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::http::{Request, StatusCode};
use axum::middleware::map_response;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::services::ServeDir;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;
use utoipa::OpenApi as _;
use utoipa_axum::router::OpenApiRouter;

use crate::auth::tokens::TokenKeys;
use crate::db::Database;

/// What every handler can reach.
#[derive(Debug, Clone)]
pub struct AppState {
    /// The database pools.
    pub db: Database,
    /// Signs and checks access tokens.
    pub keys: TokenKeys,
    /// Rate limits and refresh rules.
    pub auth: Arc<auth::AuthPolicy>,
    /// Where payments come from.
    pub payments: crate::payments::PaymentProvider,
    /// The OpenAPI document as JSON, built once.
    pub openapi: Arc<String>,
}

impl AppState {
    /// State over `db` with these keys and limits.
    pub fn new(db: Database, keys: TokenKeys, limits: auth::AuthLimits) -> Self {
        Self {
            db,
            keys,
            auth: auth::AuthPolicy::new(limits),
            payments: crate::payments::PaymentProvider::default(),
            openapi: Arc::new(
                api_routes()
                    .split_for_parts()
                    .1
                    .to_pretty_json()
                    .unwrap_or_default(),
            ),
        }
    }
}

/// Limits applied to every request.
#[derive(Debug, Clone)]
pub struct HttpLimits {
    /// Largest request body accepted, in bytes.
    pub body_bytes: usize,
    /// Longest a request may take.
    pub timeout: Duration,
}

impl Default for HttpLimits {
    fn default() -> Self {
        Self {
            body_bytes: 1024 * 1024,
            timeout: Duration::from_secs(30),
        }
    }
}

/// Every documented route: each area's `routes()` registers its handlers together with their
/// documentation, so a route cannot exist undocumented.
fn api_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(openapi::ApiDoc::openapi())
        .merge(health::routes())
        .merge(auth::routes())
        .merge(me::routes())
        .merge(settings::routes())
        .merge(admin::routes())
        .merge(catalog::routes())
        .merge(learning::routes())
        .merge(engagement::routes())
}

/// The whole application. `media_dir` is served read-only under `/media`.
pub fn router(state: AppState, limits: &HttpLimits, media_dir: PathBuf) -> Router {
    let trace = TraceLayer::new_for_http().make_span_with(|request: &Request<_>| {
        let request_id = request
            .headers()
            .get("x-request-id")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("-");
        tracing::info_span!("request", method = %request.method(), path = %request.uri().path(), request_id)
    });
    let (routes, _) = api_routes().split_for_parts();
    routes
        .nest_service("/media", ServeDir::new(media_dir))
        .fallback(not_found)
        .with_state(state)
        // Innermost first; each `layer` call wraps the ones before it, so the problem+json
        // rewrite also sees the body limit's 413 and the timeout's 408.
        .layer(RequestBodyLimitLayer::new(limits.body_bytes))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            limits.timeout,
        ))
        .layer(map_response(error::problem_for_errors))
        .layer(PropagateRequestIdLayer::x_request_id())
        .layer(trace)
        .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
}

async fn not_found() -> StatusCode {
    StatusCode::NOT_FOUND
}
