//! `/metrics` for operators, in the Prometheus text format: every request by route, method
//! and status with its latency, what the server holds now (database connections, live
//! channels, lab shells), and lab environments whose sandbox failed to start. Counted by a layer around every route; read by a scrape.
//!
//! Only clients on this machine may read it (the loopback address, after trusted proxies are
//! unwound): a scraper runs beside the server or reaches it through its own tunnel, and the
//! numbers say nothing to anyone else.

use std::sync::Arc;
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse as _, Response};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::AppState;
use super::error::ApiError;
use crate::db::auth::ClientInfo;

/// A request's labels: the route as declared (`/api/v1/courses/{id}`, never the id itself),
/// the method and the status.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    method: String,
    route: String,
    status: String,
}

/// A route's latency labels (no status: a histogram per route and method is enough).
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    method: String,
    route: String,
}

fn latency_histogram() -> Histogram {
    // 1 ms to ~16 s.
    Histogram::new(exponential_buckets(0.001, 2.0, 15))
}

/// The server's metrics.
pub struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    latency: Family<RouteLabels, Histogram, fn() -> Histogram>,
    db_connections: Gauge,
    db_idle: Gauge,
    live_channels: Gauge,
    lab_shells: Gauge,
    sandbox_failures: crate::labs::SandboxFailures,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics").finish_non_exhaustive()
    }
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::with_prefix("skilltrack");
        let requests = Family::<RequestLabels, Counter>::default();
        registry.register(
            "http_requests",
            "Requests answered, by route, method and status",
            requests.clone(),
        );
        let latency = Family::<RouteLabels, Histogram, fn() -> Histogram>::new_with_constructor(
            latency_histogram,
        );
        registry.register(
            "http_request_duration_seconds",
            "Time to answer, by route and method",
            latency.clone(),
        );
        let gauge = |registry: &mut Registry, name: &str, help: &str| {
            let g = Gauge::default();
            registry.register(name, help, g.clone());
            g
        };
        let db_connections = gauge(
            &mut registry,
            "db_pool_connections",
            "Connections the API's database pool holds",
        );
        let db_idle = gauge(&mut registry, "db_pool_idle_connections", "Of which idle");
        let live_channels = gauge(
            &mut registry,
            "sync_live_channels",
            "Devices on the live channel now",
        );
        let lab_shells = gauge(&mut registry, "lab_shells", "Lab shells running now");
        // Counted by the labs themselves where an environment fails to start (they share it).
        let sandbox_failures = crate::labs::SandboxFailures::default();
        registry.register(
            "lab_sandbox_failures",
            "Lab environments whose sandbox failed to start, by reason",
            sandbox_failures.family(),
        );
        Self {
            registry,
            requests,
            latency,
            db_connections,
            db_idle,
            live_channels,
            lab_shells,
            sandbox_failures,
        }
    }
}

impl Metrics {
    /// The counter of lab environments that failed to start, for the labs to count in.
    pub fn sandbox_failures(&self) -> crate::labs::SandboxFailures {
        self.sandbox_failures.clone()
    }

    fn record(&self, method: &str, route: &str, status: StatusCode, seconds: f64) {
        self.requests
            .get_or_create(&RequestLabels {
                method: method.to_owned(),
                route: route.to_owned(),
                status: status.as_u16().to_string(),
            })
            .inc();
        self.latency
            .get_or_create(&RouteLabels {
                method: method.to_owned(),
                route: route.to_owned(),
            })
            .observe(seconds);
    }
}

/// The layer that counts every request (sync pulls and pushes, uploads, sign-ins… are each
/// their route's counter).
pub async fn count(State(metrics): State<Arc<Metrics>>, request: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = request.method().as_str().to_owned();
    // The declared route, so a million ids stay one series; anything unrouted is one series.
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |p| p.as_str().to_owned());
    let response = next.run(request).await;
    metrics.record(
        &method,
        &route,
        response.status(),
        started.elapsed().as_secs_f64(),
    );
    response
}

/// The metrics route.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(scrape))
}

/// The server's metrics, in the Prometheus text format (from this machine only).
#[utoipa::path(
    get, path = "/metrics", tag = "health",
    responses(
        (status = 200, description = "Prometheus text format: `skilltrack_http_requests_total`, `skilltrack_http_request_duration_seconds`, `skilltrack_db_pool_connections`, `skilltrack_sync_live_channels`, `skilltrack_lab_shells`, `skilltrack_lab_sandbox_failures_total`, ...", body = String, content_type = "text/plain"),
        (status = 403, description = "`forbidden`: only clients on the server's own machine read its metrics", body = skilltrack_protocol::Problem, content_type = "application/problem+json"),
    )
)]
pub async fn scrape(
    State(state): State<AppState>,
    client: ClientInfo,
) -> Result<Response, ApiError> {
    if !client.ip.is_some_and(|ip| ip.is_loopback()) {
        return Err(ApiError::Forbidden(
            "Metrics are read from the server's own machine.".to_owned(),
        ));
    }
    let metrics = &state.metrics;
    let pool = state.db.api();
    metrics.db_connections.set(i64::from(pool.size()));
    metrics
        .db_idle
        .set(i64::try_from(pool.num_idle()).unwrap_or(i64::MAX));
    metrics
        .live_channels
        .set(i64::try_from(state.live.listeners()).unwrap_or(i64::MAX));
    metrics
        .lab_shells
        .set(i64::try_from(state.labs.running_shells()).unwrap_or(i64::MAX));
    let mut text = String::new();
    prometheus_client::encoding::text::encode(&mut text, &metrics.registry)
        .map_err(|e| ApiError::Internal(format!("encoding the metrics: {e}")))?;
    let mut response = text.into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
    );
    Ok(response)
}
