//! Lab routes that act on a session's live sandbox (its files, step checks, pause, resume,
//! stop, saved progress) relayed to the server process running it (decision 275).
//!
//! A sandbox, its workspace mount and its shell belong to the process that started them. A
//! request under `/api/v1/lab-sessions/{id}/…` reaching another process is passed on, as it
//! came (method, path, query, headers with the learner's own token, body streamed both ways),
//! to the host's `internal_url`, where it is checked and answered exactly as a direct request
//! would be. The terminal's WebSocket has its own relay ([`super::terminal`]).
//!
//! The hop carries [`FORWARDED`] so it is never passed on again: with a stale host record
//! the owner answers itself. An unreachable host answers 502 `lab_host_unreachable`.

use std::sync::OnceLock;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, Uri, Version, header};
use axum::middleware::Next;
use axum::response::{IntoResponse as _, Response};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use uuid::Uuid;

use super::AppState;
use super::error::ApiError;

/// The header on a request one server process passes on to another. Not a credential (the
/// learner's token is): it only stops a second hop.
pub const FORWARDED: &str = "x-skilltrack-forwarded";

/// The session segment of a relayable lab route, `/api/v1/lab-sessions/{id}/<something>`, but
/// for the terminal (relayed as a WebSocket of its own). Works on a request's path and on the
/// route's template alike (the OpenAPI document says which routes may answer 502).
pub fn relayable_session_segment(path: &str) -> Option<&str> {
    let rest = path.strip_prefix("/api/v1/lab-sessions/")?;
    let (id, tail) = rest.split_once('/')?;
    (!tail.is_empty() && tail != "terminal").then_some(id)
}

/// The session a relayable lab request names.
fn relayable_session(path: &str) -> Option<Uuid> {
    relayable_session_segment(path)?.parse().ok()
}

fn client() -> &'static Client<HttpConnector, Body> {
    static CLIENT: OnceLock<Client<HttpConnector, Body>> = OnceLock::new();
    CLIENT.get_or_init(|| Client::builder(TokioExecutor::new()).build_http())
}

/// The middleware: relays the request when another live process runs the session's sandbox.
pub async fn to_host(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let Some(id) = relayable_session(request.uri().path()) else {
        return next.run(request).await;
    };
    if request.headers().contains_key(FORWARDED) {
        return next.run(request).await;
    }
    match super::terminal::elsewhere(&state, id).await {
        Some(Some(base)) if base.starts_with("http://") => relay(request, &base, id).await,
        // A host with no (plain HTTP) internal address: answering here would act on another
        // copy of the workspace, or none.
        Some(_) => unreachable_host(),
        None => next.run(request).await,
    }
}

fn unreachable_host() -> Response {
    ApiError::Rule {
        status: StatusCode::BAD_GATEWAY,
        code: "lab_host_unreachable".into(),
        detail: "The server process running this lab cannot be reached; try again.".into(),
        errors: Vec::new(),
    }
    .into_response()
}

async fn relay(request: Request, base: &str, id: Uuid) -> Response {
    let (mut parts, body) = request.into_parts();
    let path = parts.uri.path_and_query().map_or("/", |p| p.as_str());
    let Ok(uri) = format!("{base}{path}").parse::<Uri>() else {
        return unreachable_host();
    };
    parts.uri = uri;
    parts.version = Version::HTTP_11;
    // Hop-by-hop headers are this connection's, not the next one's; Host is the target's.
    for name in [
        header::CONNECTION,
        header::UPGRADE,
        header::HOST,
        header::TE,
    ] {
        parts.headers.remove(name);
    }
    parts
        .headers
        .insert(FORWARDED, HeaderValue::from_static("1"));
    tracing::debug!(session = %id, target = %base, path = %parts.uri.path(), "passing a lab request on to the process running its sandbox");
    match client().request(Request::from_parts(parts, body)).await {
        Ok(answer) => answer.map(Body::new),
        Err(e) => {
            tracing::warn!(session = %id, target = %base, error = %e, "the server process running a lab could not be reached");
            unreachable_host()
        }
    }
}
