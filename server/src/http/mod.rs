//! The HTTP API: one router, shared state, and the middleware every request passes through
//! (request id, tracing, timeout, body limit, problem+json errors).

pub mod admin;
pub mod analytics;
pub mod assessment_authoring;
pub mod assessments;
pub mod auth;
pub mod authoring;
pub mod catalog;
pub mod certificate_page;
pub mod certificates;
pub mod course_packages;
pub mod desktop_releases;
pub mod engagement;
pub mod error;
pub mod extract;
pub mod health;
pub mod html;
pub mod lab_steps;
pub mod labs;
pub mod learning;
pub mod me;
pub mod metrics;
pub mod openapi;
pub mod pagination;
pub mod recovery;
pub mod relay;
pub mod settings;
pub mod sync;
pub mod taxonomy;
pub mod terminal;
pub mod uploads;
pub mod validate;

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::http::{Request, StatusCode};
use axum::middleware::map_response;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::services::ServeDir;
use tower_http::set_header::SetResponseHeaderLayer;
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
    /// Sessions revoked recently: their access tokens are refused at once.
    pub revoked: crate::auth::revocation::RevokedSessions,
    /// Rate limits and refresh rules.
    pub auth: Arc<auth::AuthPolicy>,
    /// Analytics batches per user per minute.
    pub analytics_limit: Arc<crate::auth::rate_limit::RateLimiter>,
    /// Helpful votes per user per minute.
    pub vote_limit: Arc<crate::auth::rate_limit::RateLimiter>,
    /// Public certificate checks per client address per minute.
    pub certificate_check_limit: Arc<crate::auth::rate_limit::RateLimiter>,
    /// Where payments come from.
    pub payments: crate::payments::PaymentProvider,
    /// Uploaded files, by content.
    pub store: crate::media::store::ContentStore,
    /// The largest upload accepted, in bytes.
    pub max_upload_bytes: u64,
    /// The OpenAPI document as JSON, built once.
    pub openapi: Arc<String>,
    /// The live sync channel's fan-out of database change notifications.
    pub live: crate::sync::LiveFeed,
    /// The shared part of course pages, per course and version.
    pub course_pages: crate::course_page_cache::CoursePageCache,
    /// Lab environments and their terminals.
    pub labs: Arc<crate::labs::Labs>,
    /// Who signs certificates, with which keys.
    pub certificates: Arc<crate::certificates::Issuer>,
    /// Requests counted, for `/metrics`.
    pub metrics: Arc<metrics::Metrics>,
    /// This server process among the others of its cluster.
    pub instance: Arc<crate::instance::Instance>,
    /// Password reset and address confirmation mail: the SMTP server, links, limits.
    pub account_mail: Arc<recovery::AccountMail>,
    /// The desktop app's published packages, and the address their download links start with.
    pub desktop_releases: Arc<desktop_releases::DesktopReleases>,
    /// The free space writes need on the server's disk ([`crate::storage`]).
    pub storage: Arc<crate::storage::StorageGuard>,
}

impl AppState {
    /// State over `db` with these keys and limits; uploads are stored under `media_dir`.
    /// Starts the listener that hears revocations from every server process, so it must be
    /// called inside a tokio runtime.
    pub fn new(
        db: Database,
        keys: TokenKeys,
        limits: auth::AuthLimits,
        media_dir: &std::path::Path,
        max_upload_bytes: u64,
    ) -> Self {
        let live = crate::sync::LiveFeed::new(db.api());
        let metrics = Arc::new(metrics::Metrics::default());
        let revoked = crate::auth::revocation::RevokedSessions::new(keys.ttl());
        crate::auth::revocation::spawn_listener(db.clone(), revoked.clone());
        Self {
            db,
            keys,
            revoked,
            auth: auth::AuthPolicy::new(limits),
            analytics_limit: Arc::new(analytics::batch_limiter()),
            vote_limit: Arc::new(engagement::vote_limiter()),
            certificate_check_limit: Arc::new(learning::certificate_check_limiter()),
            payments: crate::payments::PaymentProvider::default(),
            store: crate::media::store::ContentStore::new(media_dir.join("uploads")),
            max_upload_bytes,
            live,
            course_pages: crate::course_page_cache::CoursePageCache::new(),
            labs: Arc::new(
                crate::labs::Labs::new(crate::labs::LabSettings::defaults(
                    media_dir.parent().unwrap_or(media_dir),
                ))
                .counting_failures_in(metrics.sandbox_failures()),
            ),
            certificates: crate::certificates::Issuer::new(
                crate::certificates::KeyRing::ephemeral()
                    .expect("the system's random source gives an Ed25519 key"),
                "http://127.0.0.1:8787",
                crate::certificates::DEFAULT_NAME,
            ),
            openapi: Arc::new(openapi_json()),
            metrics,
            instance: crate::instance::Instance::new(None),
            // No mail until the server's flags say where to send it.
            account_mail: recovery::AccountMail::new(
                crate::mail::Mailer::disabled(),
                "http://127.0.0.1:8787",
                crate::certificates::DEFAULT_NAME,
                &recovery::RecoveryLimits::default(),
            ),
            desktop_releases: Arc::new(desktop_releases::DesktopReleases::new(
                crate::desktop_releases::ReleaseStore::in_data_dir(
                    media_dir.parent().unwrap_or(media_dir),
                ),
                "http://127.0.0.1:8787",
            )),
            storage: Arc::new(crate::storage::StorageGuard::disabled()),
        }
    }

    /// The same state refusing writes while its disk has less free space than `guard` keeps.
    #[must_use]
    pub fn with_storage(mut self, guard: crate::storage::StorageGuard) -> Self {
        self.storage = Arc::new(guard);
        self
    }

    /// The same state serving desktop releases from this store, with download links under
    /// `public_url` (the server's `--public-url`, or the address it listens on).
    #[must_use]
    pub fn with_desktop_releases(
        mut self,
        store: crate::desktop_releases::ReleaseStore,
        public_url: &str,
    ) -> Self {
        self.desktop_releases = Arc::new(desktop_releases::DesktopReleases::new(store, public_url));
        self
    }

    /// The same state as this server process (its id and the address its peers reach it at).
    #[must_use]
    pub fn with_instance(mut self, instance: Arc<crate::instance::Instance>) -> Self {
        self.instance = instance;
        self
    }

    /// The same state sending account mail this way (the server's SMTP flags; tests' own SMTP
    /// server).
    #[must_use]
    pub fn with_account_mail(mut self, mail: Arc<recovery::AccountMail>) -> Self {
        self.account_mail = mail;
        self
    }

    /// The same state with this certificate issuer (the server's keys and public address).
    #[must_use]
    pub fn with_certificates(mut self, issuer: Arc<crate::certificates::Issuer>) -> Self {
        self.certificates = issuer;
        self
    }

    /// The same state with these labs settings (the server's flags; tests' short timers).
    #[must_use]
    pub fn with_labs(mut self, settings: crate::labs::LabSettings) -> Self {
        self.labs = Arc::new(
            crate::labs::Labs::new(settings).counting_failures_in(self.metrics.sandbox_failures()),
        );
        self
    }
}

/// Limits applied to every request.
#[derive(Debug, Clone)]
pub struct HttpLimits {
    /// Largest request body accepted, in bytes (uploads have their own limit).
    pub body_bytes: usize,
    /// Longest a request may take (uploads may take [`UPLOAD_TIMEOUT`]).
    pub timeout: Duration,
    /// Largest upload accepted, in bytes.
    pub upload_bytes: u64,
}

/// How long an upload may take: a large video over a slow line.
pub const UPLOAD_TIMEOUT: Duration = Duration::from_secs(3600);

impl Default for HttpLimits {
    fn default() -> Self {
        Self {
            body_bytes: 1024 * 1024,
            timeout: Duration::from_secs(30),
            upload_bytes: 512 * 1024 * 1024,
        }
    }
}

/// The body limit and timeout of every request, larger for uploads: a `Content-Length` over
/// the limit is refused at once, a body that grows past it fails when read (413 either way).
async fn request_limits(
    State(limits): State<Arc<HttpLimits>>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::response::IntoResponse as _;
    let upload = request.uri().path() == "/api/v1/uploads";
    let (max, timeout) = if upload {
        (limits.upload_bytes, UPLOAD_TIMEOUT)
    } else {
        (limits.body_bytes as u64, limits.timeout)
    };
    let declared = request
        .headers()
        .get(axum::http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > max) {
        return error::problem_response(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("The request body may be at most {max} bytes."),
            Vec::new(),
        );
    }
    let limit = usize::try_from(max).unwrap_or(usize::MAX);
    let request =
        request.map(|body| axum::body::Body::new(http_body_util::Limited::new(body, limit)));
    match tokio::time::timeout(timeout, next.run(request)).await {
        Ok(response) => response,
        Err(_) => StatusCode::REQUEST_TIMEOUT.into_response(),
    }
}

/// Routes that write, yet are taken while the disk is nearly full (from its reserve): without
/// them no one could sign in to read what is already there (decision 367).
pub const WRITES_TAKEN_WHEN_FULL: &[&str] = &[
    "/api/v1/auth/sign-in",
    "/api/v1/auth/refresh",
    "/api/v1/auth/sign-out",
];

/// Refuses a write (any method but `GET`, `HEAD`, `OPTIONS`) with 507 `storage_full` while the
/// server's disk has less free space than its reserve ([`crate::storage`]).
async fn storage_guard(
    State(storage): State<Arc<crate::storage::StorageGuard>>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::http::Method;
    use axum::response::IntoResponse as _;
    let reads = matches!(
        *request.method(),
        Method::GET | Method::HEAD | Method::OPTIONS
    );
    if reads || WRITES_TAKEN_WHEN_FULL.contains(&request.uri().path()) {
        return next.run(request).await;
    }
    match storage.check() {
        Ok(()) => next.run(request).await,
        Err(_) => error::ApiError::StorageFull.into_response(),
    }
}

/// The OpenAPI document of every route, as pretty-printed JSON: what `/api/openapi.json`
/// answers and `skilltrack-server openapi` prints.
#[must_use]
pub fn openapi_json() -> String {
    serde_json::to_string_pretty(&openapi::complete(&api_routes().split_for_parts().1))
        .unwrap_or_default()
}

/// Every documented route: each area's `routes()` registers its handlers together with their
/// documentation, so a route cannot exist undocumented.
fn api_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(openapi::ApiDoc::openapi())
        .merge(health::routes())
        .merge(openapi::routes())
        .merge(auth::routes())
        .merge(recovery::routes())
        .merge(me::routes())
        .merge(settings::routes())
        .merge(admin::routes())
        .merge(taxonomy::routes())
        .merge(catalog::routes())
        .merge(learning::routes())
        .merge(certificates::routes())
        .merge(engagement::routes())
        .merge(authoring::routes())
        .merge(course_packages::routes())
        .merge(analytics::routes())
        .merge(uploads::routes())
        .merge(labs::routes())
        .merge(lab_steps::routes())
        .merge(terminal::routes())
        .merge(sync::routes())
        .merge(assessments::routes())
        .merge(assessment_authoring::routes())
        .merge(metrics::routes())
        .merge(desktop_releases::routes())
}

/// The whole application. The demo media in `media_dir/demo` are served publicly under
/// `/media/demo`; uploads under `/media/uploads`, to those allowed.
pub fn router(state: AppState, limits: &HttpLimits, media_dir: &std::path::Path) -> Router {
    let trace = TraceLayer::new_for_http().make_span_with(|request: &Request<_>| {
        let request_id = request
            .headers()
            .get("x-request-id")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("-");
        tracing::info_span!("request", method = %request.method(), path = %request.uri().path(), request_id)
    });
    let (routes, _) = api_routes().split_for_parts();
    let metrics = Arc::clone(&state.metrics);
    let relay_state = state.clone();
    let storage = Arc::clone(&state.storage);
    routes
        .nest_service("/media/demo", ServeDir::new(media_dir.join("demo")))
        .fallback(not_found)
        .with_state(state)
        // Writes stop before the disk is full (a lab route another process runs is refused,
        // or not, by that process: the relay below wraps this).
        .route_layer(axum::middleware::from_fn_with_state(storage, storage_guard))
        // Lab routes whose sandbox another process of the cluster runs are answered there.
        .route_layer(axum::middleware::from_fn_with_state(
            relay_state,
            relay::to_host,
        ))
        // Around each route, where the route a request matched is known (the body and time
        // limits below answer before it for what they refuse).
        .route_layer(axum::middleware::from_fn_with_state(
            metrics,
            metrics::count,
        ))
        // Innermost first; each `layer` call wraps the ones before it, so the problem+json
        // rewrite also sees the body limit's 413 and the timeout's 408.
        .layer(axum::middleware::from_fn_with_state(
            Arc::new(limits.clone()),
            request_limits,
        ))
        .layer(map_response(error::problem_for_errors))
        // Every answer is what its Content-Type says: a browser must never sniff an upload (or
        // anything else) into HTML or script.
        .layer(SetResponseHeaderLayer::overriding(
            axum::http::header::X_CONTENT_TYPE_OPTIONS,
            axum::http::HeaderValue::from_static("nosniff"),
        ))
        .layer(PropagateRequestIdLayer::x_request_id())
        .layer(trace)
        .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
}

async fn not_found() -> StatusCode {
    StatusCode::NOT_FOUND
}
