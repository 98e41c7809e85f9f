//! Every error an HTTP client sees: `application/problem+json` with a stable `code`.
//!
//! Handlers return [`ApiError`]; [`problem_for_errors`] turns every other error response (axum's
//! own rejections, 404s, 405s, the body limit's 413, the timeout's 408) into the same shape, so
//! no client ever has to parse a plain-text error.

use axum::body::{Body, to_bytes};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use skilltrack_protocol::problem::{FieldError, PROBLEM_CONTENT_TYPE, Problem};

/// An error a handler answers with.
#[allow(missing_docs, reason = "each variant's #[error] message documents it")]
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// The resource does not exist, or the caller may not see it (RLS cannot tell them apart,
    /// and neither do we).
    #[error("{0}")]
    NotFound(String),
    /// The request is well-formed but breaks a rule.
    #[error("{detail}")]
    Validation {
        detail: String,
        errors: Vec<FieldError>,
    },
    /// The database is unreachable.
    #[error("the database is not available")]
    Unavailable,
    /// A bug or an outage; logged, never described to the client.
    #[error("internal error: {0}")]
    Internal(String),
}

impl From<sqlx::Error> for ApiError {
    fn from(e: sqlx::Error) -> Self {
        match e {
            sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Io(_) => {
                tracing::error!(error = %e, "database unavailable");
                Self::Unavailable
            }
            other => Self::Internal(other.to_string()),
        }
    }
}

/// The stable code and title for an HTTP status.
pub fn code_for(status: StatusCode) -> (&'static str, &'static str) {
    match status.as_u16() {
        400 => ("bad_request", "The request is malformed"),
        401 => ("unauthenticated", "Sign-in required"),
        403 => ("forbidden", "Not allowed"),
        404 => ("not_found", "Not found"),
        405 => ("method_not_allowed", "Method not allowed"),
        408 => ("request_timeout", "The request took too long"),
        409 => ("conflict", "Conflict"),
        413 => ("payload_too_large", "The request body is too large"),
        415 => ("unsupported_media_type", "Unsupported media type"),
        422 => ("validation_failed", "The request breaks a rule"),
        429 => ("rate_limited", "Too many requests"),
        503 => ("unavailable", "Temporarily unavailable"),
        s if s >= 500 => ("internal", "Internal server error"),
        _ => ("http_error", "Request failed"),
    }
}

/// Builds the problem response for `status` with a human `detail`.
pub fn problem_response(status: StatusCode, detail: String, errors: Vec<FieldError>) -> Response {
    let (code, title) = code_for(status);
    let problem = Problem {
        type_uri: format!("https://skilltrack.dev/problems/{code}"),
        title: title.to_owned(),
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
            Self::NotFound(detail) => problem_response(StatusCode::NOT_FOUND, detail, Vec::new()),
            Self::Validation { detail, errors } => {
                problem_response(StatusCode::UNPROCESSABLE_ENTITY, detail, errors)
            }
            Self::Unavailable => problem_response(
                StatusCode::SERVICE_UNAVAILABLE,
                "The database is not available; try again shortly.".to_owned(),
                Vec::new(),
            ),
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
    if !(status.is_client_error() || status.is_server_error()) || is_problem || is_deliberate_json {
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
