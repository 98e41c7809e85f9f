//! `/api/v1/auth`: sign-up, sign-in, refresh, sign-out.

use std::sync::Arc;
use std::time::Duration;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::Utc;
use skilltrack_protocol::Problem;
use skilltrack_protocol::auth::{
    RefreshRequest, Session, SignInRequest, SignOutRequest, SignOutScope, SignUpRequest,
};
use uuid::Uuid;

use super::AppState;
use super::error::ApiError;
use super::extract::{ApiJson, SignedIn};
use super::validate::{Checks, is_email};
use crate::auth::password;
use crate::auth::rate_limit::{Limit, SharedBackoff, SharedLimiter};
use crate::auth::tokens::{hash_refresh_token, new_refresh_token};
use crate::db::auth::{self as db_auth, ClientInfo, CreateAccountError, Refresh};
use crate::db::{profiles, session};

/// `/api/v1/auth`.
pub fn routes() -> utoipa_axum::router::OpenApiRouter<AppState> {
    utoipa_axum::router::OpenApiRouter::new()
        .routes(utoipa_axum::routes!(sign_up))
        .routes(utoipa_axum::routes!(sign_in))
        .routes(utoipa_axum::routes!(refresh))
        .routes(utoipa_axum::routes!(sign_out))
}

/// How sign-in and refresh behave.
#[derive(Debug)]
pub struct AuthPolicy {
    sign_in_per_ip: SharedLimiter,
    sign_in_failures: SharedBackoff,
    sign_up_per_ip: SharedLimiter,
    refresh_grace: Duration,
    trusted_proxies: Vec<ipnet::IpNet>,
}

/// The numbers behind [`AuthPolicy`].
#[derive(Debug, Clone)]
pub struct AuthLimits {
    /// Sign-in attempts per client address per window (sign-ups count separately, same number).
    pub per_ip: u32,
    /// Failed sign-ins per account from one address before each further try must wait (30 s,
    /// then twice as long each time, up to 15 minutes). Successes are never limited this way.
    pub failures_before_backoff: u32,
    /// The rate-limit window.
    pub window: Duration,
    /// How long a used refresh token may be used again (a client's concurrent refreshes).
    pub refresh_grace: Duration,
    /// Reverse proxies whose `X-Forwarded-For` is believed (none by default: the peer address
    /// is the client's).
    pub trusted_proxies: Vec<ipnet::IpNet>,
}

impl Default for AuthLimits {
    fn default() -> Self {
        Self {
            per_ip: 30,
            failures_before_backoff: 5,
            window: Duration::from_secs(300),
            refresh_grace: Duration::from_secs(10),
            trusted_proxies: Vec::new(),
        }
    }
}

/// The first wait after too many failed sign-ins; each further failure doubles it.
const FIRST_BACKOFF: Duration = Duration::from_secs(30);
/// The longest wait after failed sign-ins.
const LONGEST_BACKOFF: Duration = Duration::from_secs(15 * 60);

impl AuthPolicy {
    /// A policy with these limits.
    pub fn new(limits: AuthLimits) -> Arc<Self> {
        // Counted in PostgreSQL: every process of a cluster counts the same attempts.
        let per = |name, limit| {
            SharedLimiter::new(
                name,
                Limit {
                    limit,
                    window: limits.window,
                },
            )
        };
        Arc::new(Self {
            sign_in_per_ip: per("sign_in_per_ip", limits.per_ip),
            sign_in_failures: SharedBackoff::new(
                "sign_in_failures",
                limits.failures_before_backoff,
                FIRST_BACKOFF,
                LONGEST_BACKOFF,
            ),
            sign_up_per_ip: per("sign_up_per_ip", limits.per_ip),
            refresh_grace: limits.refresh_grace,
            trusted_proxies: limits.trusted_proxies,
        })
    }

    /// Whether `X-Forwarded-For` from this peer is believed.
    pub fn trusts_proxy(&self, peer: std::net::IpAddr) -> bool {
        self.trusted_proxies.iter().any(|net| net.contains(&peer))
    }
}

async fn limit(state: &AppState, limiter: &SharedLimiter, key: &str) -> Result<(), ApiError> {
    limiter
        .check(state.db.api(), key)
        .await?
        .map_err(|retry_after| ApiError::RateLimited { retry_after })
}

fn ip_key(client: &ClientInfo) -> String {
    client
        .ip
        .map_or_else(|| "unknown".to_owned(), |ip| ip.to_string())
}

/// Issues the tokens of a session and answers with them and the user's profile.
async fn session_response(
    state: &AppState,
    mut tx: sqlx::Transaction<'static, sqlx::Postgres>,
    user: Uuid,
    session_id: Uuid,
    refresh_token: String,
) -> Result<Session, ApiError> {
    let profile = profiles::get(&mut tx, user)
        .await?
        .ok_or_else(|| ApiError::Internal(format!("account {user} has no profile")))?;
    tx.commit().await?;
    let (access_token, expires_at) = state.keys.issue(user, session_id, Utc::now());
    Ok(Session {
        access_token,
        token_type: "bearer".to_owned(),
        expires_in: u32::try_from(state.keys.ttl().as_secs()).unwrap_or(u32::MAX),
        expires_at,
        refresh_token,
        user: profile,
    })
}

fn suspended() -> ApiError {
    ApiError::Rule {
        status: StatusCode::FORBIDDEN,
        code: "account_suspended".to_owned(),
        detail: "This account is suspended.".to_owned(),
        errors: Vec::new(),
    }
}

/// Create an account and sign in.
#[utoipa::path(
    post, path = "/api/v1/auth/sign-up", tag = "auth",
    request_body = SignUpRequest,
    responses(
        (status = 201, description = "Signed up and signed in", body = Session),
        (status = 400, description = "Malformed request", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`email_taken`", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A field breaks a rule", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many sign-ups from this address", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn sign_up(
    State(state): State<AppState>,
    client: ClientInfo,
    ApiJson(req): ApiJson<SignUpRequest>,
) -> Result<(StatusCode, Json<Session>), ApiError> {
    limit(&state, &state.auth.sign_up_per_ip, &ip_key(&client)).await?;
    let email = req.email.trim().to_owned();
    let full_name = req.full_name.trim().to_owned();
    Checks::default()
        .check(
            is_email(&email),
            "/email",
            "invalid_email",
            "Not an e-mail address.",
        )
        .length(
            &req.password,
            "/password",
            password::MIN_LEN,
            password::MAX_LEN,
        )
        .length(&full_name, "/full_name", 1, 200)
        .finish()?;
    let hash = password::hash(req.password)
        .await
        .map_err(ApiError::Internal)?;
    let mut tx = session::begin_service(state.db.api()).await?;
    let user = db_auth::create_account(&mut tx, &email, &hash, &full_name)
        .await
        .map_err(|e| match e {
            CreateAccountError::EmailTaken => ApiError::Conflict {
                code: "email_taken",
                detail: "An account with this e-mail address exists; sign in instead.".to_owned(),
            },
            CreateAccountError::Db(e) => e.into(),
        })?;
    db_auth::record_sign_in(&mut tx, user, &client).await?;
    let (refresh_token, refresh_hash) = new_refresh_token();
    let session_id = db_auth::create_session(&mut tx, user, &client, &refresh_hash).await?;
    let session = session_response(&state, tx, user, session_id, refresh_token).await?;
    tracing::info!(%user, "signed up");
    // The new address gets a confirmation link (when this server sends mail); a failure here
    // must not undo an account that exists now: it can be asked for again.
    if let Err(e) = super::recovery::mail_confirmation(&state, user, &email).await {
        tracing::warn!(%user, error = %e, "the confirmation mail of a new account was not sent");
    }
    Ok((StatusCode::CREATED, Json(session)))
}

/// Sign in with e-mail and password.
#[utoipa::path(
    post, path = "/api/v1/auth/sign-in", tag = "auth",
    request_body = SignInRequest,
    responses(
        (status = 200, description = "Signed in", body = Session),
        (status = 400, description = "Malformed request", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "`invalid_credentials`", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "`account_suspended`", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A field breaks a rule", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many attempts for this address or account", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn sign_in(
    State(state): State<AppState>,
    client: ClientInfo,
    ApiJson(req): ApiJson<SignInRequest>,
) -> Result<Json<Session>, ApiError> {
    let email = req.email.trim().to_lowercase();
    Checks::default()
        .check(
            !email.is_empty(),
            "/email",
            "required",
            "Enter your e-mail address.",
        )
        .check(
            !req.password.is_empty(),
            "/password",
            "required",
            "Enter your password.",
        )
        .check(
            req.password.len() <= 4 * password::MAX_LEN,
            "/password",
            "too_long",
            "Too long.",
        )
        .finish()?;
    limit(&state, &state.auth.sign_in_per_ip, &ip_key(&client)).await?;
    let failures = &state.auth.sign_in_failures;
    let failure_key = format!("{email} {}", ip_key(&client));
    failures
        .check(state.db.api(), &failure_key)
        .await?
        .map_err(|retry_after| ApiError::RateLimited { retry_after })?;
    let mut tx = session::begin_service(state.db.api()).await?;
    let credentials = db_auth::find_credentials(&mut tx, &email).await?;
    let stored = credentials.as_ref().and_then(|c| c.password_hash.clone());
    if !password::verify(req.password, stored).await {
        failures.failed(state.db.api(), &failure_key).await?;
        tracing::info!(known_account = credentials.is_some(), "sign-in refused");
        return Err(ApiError::Unauthorized {
            code: "invalid_credentials",
            detail: "The e-mail address or the password is wrong.".to_owned(),
        });
    }
    failures.succeeded(state.db.api(), &failure_key).await?;
    let Some(credentials) = credentials else {
        return Err(ApiError::Internal(
            "a password verified without an account".to_owned(),
        ));
    };
    if credentials.banned {
        return Err(suspended());
    }
    let user = credentials.user_id;
    db_auth::record_sign_in(&mut tx, user, &client).await?;
    let (refresh_token, refresh_hash) = new_refresh_token();
    let session_id = db_auth::create_session(&mut tx, user, &client, &refresh_hash).await?;
    tracing::info!(%user, session = %session_id, "signed in");
    session_response(&state, tx, user, session_id, refresh_token)
        .await
        .map(Json)
}

/// Exchange a refresh token for a new session (the old refresh token is used up).
#[utoipa::path(
    post, path = "/api/v1/auth/refresh", tag = "auth",
    request_body = RefreshRequest,
    responses(
        (status = 200, description = "A new access token and refresh token", body = Session),
        (status = 400, description = "Malformed request", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "`invalid_refresh_token`, `session_revoked`, or `refresh_token_reused` (the session is now revoked)", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "`account_suspended`", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn refresh(
    State(state): State<AppState>,
    ApiJson(req): ApiJson<RefreshRequest>,
) -> Result<Json<Session>, ApiError> {
    let presented = req.refresh_token.trim();
    let old = hash_refresh_token(presented);
    let (refresh_token, next) = state.keys.next_refresh_token(presented);
    let mut tx = session::begin_service(state.db.api()).await?;
    let outcome =
        db_auth::rotate_refresh_token(&mut tx, &old, &next, state.auth.refresh_grace).await?;
    let refused = |code: &'static str, detail: &str| {
        Err(ApiError::Unauthorized {
            code,
            detail: detail.to_owned(),
        })
    };
    match outcome {
        Refresh::Rotated { user, session } => {
            session_response(&state, tx, user, session, refresh_token)
                .await
                .map(Json)
        }
        Refresh::Unknown => refused(
            "invalid_refresh_token",
            "This refresh token is not valid; sign in again.",
        ),
        Refresh::SessionRevoked => refused(
            "session_revoked",
            "This session was signed out; sign in again.",
        ),
        Refresh::Suspended => Err(suspended()),
        Refresh::Reused { session } => {
            // The revocation must stick even though the request fails, and this process refuses
            // the session's access tokens at once (the others hear it from the database).
            tx.commit().await?;
            state.revoked.insert(session, Utc::now());
            tracing::warn!("a used refresh token was presented again; its session is revoked");
            refused(
                "refresh_token_reused",
                "This refresh token was already used, so the session has been ended for safety; sign in again.",
            )
        }
    }
}

/// Sign out this device, or every device.
#[utoipa::path(
    post, path = "/api/v1/auth/sign-out", tag = "auth",
    request_body(content = SignOutRequest, description = "Optional; default `{\"scope\": \"local\"}`"),
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Signed out"),
        (status = 400, description = "Malformed request", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn sign_out(
    State(state): State<AppState>,
    signed_in: SignedIn,
    body: axum::body::Bytes,
) -> Result<StatusCode, ApiError> {
    // The body is optional: none means this device.
    let scope = if body.iter().all(u8::is_ascii_whitespace) {
        SignOutScope::default()
    } else {
        serde_json::from_slice::<SignOutRequest>(&body)
            .map_err(|e| ApiError::Validation {
                detail: format!("The request body does not fit: {e}"),
                errors: Vec::new(),
            })?
            .scope
    };
    let mut tx = session::begin_service(state.db.api()).await?;
    let ended = match scope {
        SignOutScope::Local => {
            db_auth::revoke_session(&mut tx, signed_in.0.sid, "sign_out").await?;
            vec![signed_in.0.sid]
        }
        SignOutScope::Global => db_auth::revoke_all_sessions(&mut tx, signed_in.0.sub).await?,
    };
    tx.commit().await?;
    // This process refuses the tokens at once; the others hear it from the database.
    let now = Utc::now();
    for session in ended {
        state.revoked.insert(session, now);
    }
    tracing::info!(user = %signed_in.0.sub, ?scope, "signed out");
    Ok(StatusCode::NO_CONTENT)
}
