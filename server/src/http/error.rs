//! Every error an HTTP client sees: `application/problem+json` with a stable `code`.
//!
//! Handlers return [`ApiError`]; [`problem_for_errors`] turns every other error response (axum's
//! own rejections, 404s, 405s, the body limit's 413, the timeout's 408) into the same shape, so
//! no client ever has to parse a plain-text error.

use axum::body::{Body, to_bytes};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use skilltrack_protocol::problem::{FieldError, PROBLEM_CONTENT_TYPE, Problem};

/// The stable code of a 503 while PostgreSQL cannot be reached (stopped, restarting, or every
/// connection broken): clients keep their work and retry.
pub const DATABASE_UNAVAILABLE: &str = "database_unavailable";
/// `Retry-After` on [`DATABASE_UNAVAILABLE`]: a PostgreSQL restart takes a few seconds, and a
/// client that waits this long does not keep a recovering server busy.
pub const DATABASE_RETRY_AFTER_SECS: u16 = 5;

/// An error a handler answers with.
#[allow(missing_docs, reason = "each variant's #[error] message documents it")]
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// The request could not be read (malformed JSON, a bad query string).
    #[error("{0}")]
    BadRequest(String),
    /// No valid credentials: `code` says which (`unauthenticated`, `token_expired`,
    /// `invalid_token`, `invalid_credentials`, `invalid_refresh_token`, `session_revoked`,
    /// `refresh_token_reused`).
    #[error("{detail}")]
    Unauthorized { code: &'static str, detail: String },
    /// Signed in, but not allowed.
    #[error("{0}")]
    Forbidden(String),
    /// The resource does not exist, or the caller may not see it (RLS cannot tell them apart,
    /// and neither do we).
    #[error("{0}")]
    NotFound(String),
    /// The request clashes with what exists (`code`: e.g. `email_taken`).
    #[error("{detail}")]
    Conflict { code: &'static str, detail: String },
    /// The request is well-formed but breaks a rule.
    #[error("{detail}")]
    Validation {
        detail: String,
        errors: Vec<FieldError>,
    },
    /// A rule refused the request (often the database raised it): `code` is stable, `status`
    /// 402, 403, 409 or 422, `errors` the particulars.
    #[error("{detail}")]
    Rule {
        status: StatusCode,
        code: String,
        detail: String,
        errors: Vec<FieldError>,
    },
    /// Too many attempts; retry after this long.
    #[error("too many attempts")]
    RateLimited { retry_after: std::time::Duration },
    /// The database is unreachable.
    #[error("the database is not available")]
    Unavailable,
    /// The server's disk (or its database's) is full: nothing was changed (decision 366).
    #[error("the server's storage is full")]
    StorageFull,
    /// A bug or an outage; logged, never described to the client.
    #[error("internal error: {0}")]
    Internal(String),
}

impl ApiError {
    /// A validation error about one field.
    pub fn field(pointer: &str, code: &str, detail: impl Into<String>) -> Self {
        let detail = detail.into();
        Self::Validation {
            detail: detail.clone(),
            errors: vec![FieldError {
                pointer: pointer.to_owned(),
                code: code.to_owned(),
                detail,
            }],
        }
    }
}

impl From<sqlx::Error> for ApiError {
    fn from(e: sqlx::Error) -> Self {
        if let Some(rule) = rule_violation(&e) {
            return rule;
        }
        // SQLSTATEs a client's input can cause become 4xx; their text stays inside.
        if let Some(code) = e
            .as_database_error()
            .and_then(sqlx::error::DatabaseError::code)
        {
            match code.as_ref() {
                "42501" => return Self::Forbidden("You are not allowed to do that.".to_owned()),
                "23505" => {
                    return Self::Conflict {
                        code: "conflict",
                        detail: "That already exists.".to_owned(),
                    };
                }
                "23503" => {
                    return Self::NotFound("Something it refers to does not exist.".to_owned());
                }
                // PostgreSQL is shutting down, restarting or not yet accepting connections,
                // or the connection broke: a moment's trouble, not the server's bug.
                "57P01" | "57P02" | "57P03" => return Self::Unavailable,
                // disk_full: the statement (and its transaction) failed whole.
                "53100" => {
                    tracing::error!(error = %e, "the database's disk is full");
                    return Self::StorageFull;
                }
                c if c.starts_with("08") => return Self::Unavailable,
                "23502" | "23514" | "22001" | "22003" | "22007" | "22008" | "22023" | "22P02" => {
                    return Self::Validation {
                        detail: "A value is missing, too long or out of range.".to_owned(),
                        errors: Vec::new(),
                    };
                }
                _ => {}
            }
        }
        match e {
            sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Io(_) => {
                tracing::error!(error = %e, "database unavailable");
                Self::Unavailable
            }
            other => Self::Internal(other.to_string()),
        }
    }
}

/// The SQLSTATE of a database error, for handlers that answer some codes their own way.
pub fn sqlstate(e: &sqlx::Error) -> Option<String> {
    e.as_database_error()
        .and_then(sqlx::error::DatabaseError::code)
        .map(std::borrow::Cow::into_owned)
}

/// The stable code of a business rule the database raised (P0001), if `e` is one.
pub fn rule_code(e: &sqlx::Error) -> Option<&str> {
    let pg = e
        .as_database_error()?
        .try_downcast_ref::<sqlx::postgres::PgDatabaseError>()?;
    let code = pg.message();
    (pg.code() == "P0001"
        && !code.is_empty()
        && code.chars().all(|c| c.is_ascii_lowercase() || c == '_'))
    .then_some(code)
}

/// Business rules raise P0001 with the stable code as the message, a sentence as the detail,
/// and particulars as JSON in the hint (`migrations/0010_learning.sql`).
fn rule_violation(e: &sqlx::Error) -> Option<ApiError> {
    let code = rule_code(e)?;
    let pg = e
        .as_database_error()?
        .try_downcast_ref::<sqlx::postgres::PgDatabaseError>()?;
    let status = match code {
        "payment_required" => StatusCode::PAYMENT_REQUIRED,
        "lab_network_admin_only" => StatusCode::FORBIDDEN,
        "question_not_in_assessment" => StatusCode::UNPROCESSABLE_ENTITY,
        _ => StatusCode::CONFLICT,
    };
    let errors = match (
        code,
        pg.hint()
            .and_then(|h| serde_json::from_str::<serde_json::Value>(h).ok()),
    ) {
        (
            "prerequisites_missing" | "lab_prerequisites_unmet",
            Some(serde_json::Value::Array(items)),
        ) => items
            .iter()
            .map(|item| FieldError {
                pointer: format!(
                    "/prerequisites/{}",
                    item["slug"].as_str().unwrap_or_default()
                ),
                code: "not_completed".to_owned(),
                detail: item["title"].as_str().unwrap_or_default().to_owned(),
            })
            .collect(),
        _ => Vec::new(),
    };
    Some(ApiError::Rule {
        status,
        code: code.to_owned(),
        detail: pg
            .detail()
            .unwrap_or("A rule of the platform refused this.")
            .to_owned(),
        errors,
    })
}

/// The stable code and title for an HTTP status.
pub fn code_for(status: StatusCode) -> (&'static str, &'static str) {
    match status.as_u16() {
        400 => ("bad_request", "The request is malformed"),
        401 => ("unauthenticated", "Sign-in required"),
        402 => ("payment_required", "Payment required"),
        403 => ("forbidden", "Not allowed"),
        404 => ("not_found", "Not found"),
        405 => ("method_not_allowed", "Method not allowed"),
        408 => ("request_timeout", "The request took too long"),
        409 => ("conflict", "Conflict"),
        413 => ("payload_too_large", "The request body is too large"),
        415 => ("unsupported_media_type", "Unsupported media type"),
        422 => ("validation_failed", "The request breaks a rule"),
        429 => ("rate_limited", "Too many requests"),
        507 => (crate::storage::STORAGE_FULL, "Insufficient storage"),
        503 => ("unavailable", "Temporarily unavailable"),
        504 => ("timeout", "It took too long"),
        s if s >= 500 => ("internal", "Internal server error"),
        _ => ("http_error", "Request failed"),
    }
}

/// Builds the problem response for `status` with a human `detail` and the status's code.
pub fn problem_response(status: StatusCode, detail: String, errors: Vec<FieldError>) -> Response {
    problem_with_code(status, code_for(status).0, detail, errors)
}

/// Builds a problem response with an explicit stable `code`.
pub fn problem_with_code(
    status: StatusCode,
    code: &str,
    detail: String,
    errors: Vec<FieldError>,
) -> Response {
    let problem = Problem {
        type_uri: format!("https://skilltrack.dev/problems/{code}"),
        title: code_for(status).1.to_owned(),
        status: status.as_u16(),
        detail,
        code: code.to_owned(),
        errors,
    };
    let body = serde_json::to_vec(&problem).unwrap_or_default();
    let mut response = (status, body).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(PROBLEM_CONTENT_TYPE),
    );
    response
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        match self {
            Self::BadRequest(detail) => {
                problem_response(StatusCode::BAD_REQUEST, detail, Vec::new())
            }
            Self::Unauthorized { code, detail } => {
                let mut r = problem_with_code(StatusCode::UNAUTHORIZED, code, detail, Vec::new());
                r.headers_mut().insert(
                    header::WWW_AUTHENTICATE,
                    HeaderValue::from_static("Bearer realm=\"skilltrack\""),
                );
                r
            }
            Self::Forbidden(detail) => problem_response(StatusCode::FORBIDDEN, detail, Vec::new()),
            Self::NotFound(detail) => problem_response(StatusCode::NOT_FOUND, detail, Vec::new()),
            Self::Conflict { code, detail } => {
                problem_with_code(StatusCode::CONFLICT, code, detail, Vec::new())
            }
            Self::Validation { detail, errors } => {
                problem_response(StatusCode::UNPROCESSABLE_ENTITY, detail, errors)
            }
            Self::Rule {
                status,
                code,
                detail,
                errors,
            } => problem_with_code(status, &code, detail, errors),
            Self::RateLimited { retry_after } => {
                let secs = retry_after.as_secs() + u64::from(retry_after.subsec_nanos() > 0);
                let secs = secs.max(1);
                let mut r = problem_response(
                    StatusCode::TOO_MANY_REQUESTS,
                    format!("Too many attempts; try again in {secs} s."),
                    Vec::new(),
                );
                if let Ok(v) = HeaderValue::from_str(&secs.to_string()) {
                    r.headers_mut().insert(header::RETRY_AFTER, v);
                }
                r
            }
            Self::Unavailable => {
                let mut r = problem_with_code(
                    StatusCode::SERVICE_UNAVAILABLE,
                    DATABASE_UNAVAILABLE,
                    format!(
                        "The database is not available; try again in {DATABASE_RETRY_AFTER_SECS} s."
                    ),
                    Vec::new(),
                );
                r.headers_mut().insert(
                    header::RETRY_AFTER,
                    HeaderValue::from(DATABASE_RETRY_AFTER_SECS),
                );
                r
            }
            Self::StorageFull => {
                let secs = crate::storage::STORAGE_RETRY_AFTER_SECS;
                let mut r = problem_with_code(
                    StatusCode::INSUFFICIENT_STORAGE,
                    crate::storage::STORAGE_FULL,
                    format!(
                        "The server's storage is full, so it cannot take this now; nothing was \
                         changed. Try again in {secs} s or later, once its operator has made room."
                    ),
                    Vec::new(),
                );
                r.headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from(secs));
                r
            }
            Self::Internal(message) => {
                tracing::error!(error = %message, "internal error");
                problem_response(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "Something went wrong on the server; it has been logged.".to_owned(),
                    Vec::new(),
                )
            }
        }
    }
}

/// Rewrites any error response that is not already a problem document into one, keeping a
/// short plain-text explanation (axum's rejections write useful ones) as the detail.
pub async fn problem_for_errors(response: Response) -> Response {
    let status = response.status();
    let is_problem = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(PROBLEM_CONTENT_TYPE.as_bytes()));
    let content_type = response
        .headers()
        .get(header::CONTENT_TYPE)
        .map(HeaderValue::as_bytes);
    let is_text = content_type.is_some_and(|v| v.starts_with(b"text/plain"));
    // A handler that answers an error with its own JSON (the readiness report) means it.
    let is_deliberate_json = content_type.is_some_and(|v| v.starts_with(b"application/json"));
    // And a page for browsers (the certificate check) is written for people.
    let is_page = content_type.is_some_and(|v| v.starts_with(b"text/html"));
    if !(status.is_client_error() || status.is_server_error())
        || is_problem
        || is_deliberate_json
        || is_page
    {
        return response;
    }
    let (parts, body) = response.into_parts();
    let text = if is_text && !status.is_server_error() {
        to_bytes(body, 1024)
            .await
            .ok()
            .and_then(|b| String::from_utf8(b.to_vec()).ok())
    } else {
        drop::<Body>(body);
        None
    };
    let (_, title) = code_for(status);
    let detail = text
        .filter(|t| !t.trim().is_empty())
        .unwrap_or_else(|| format!("{title}."));
    let mut rewritten = problem_response(status, detail, Vec::new());
    for (name, value) in &parts.headers {
        if name != header::CONTENT_TYPE && name != header::CONTENT_LENGTH {
            rewritten.headers_mut().append(name, value.clone());
        }
    }
    rewritten
}
