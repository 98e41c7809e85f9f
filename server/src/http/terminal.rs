//! The terminal WebSocket: `GET /api/v1/lab-sessions/{id}/terminal`.
//!
//! * **Authentication** without the token in the URL (where access logs would keep it): the
//!   upgrade request's `Authorization: Bearer …`, or else the first text frame,
//!   `{"type":"auth","token":"…"}`, within [`AUTH_TIMEOUT`].
//! * **Origin**: a browser's `Origin` must be the server's own or one of the configured ones;
//!   a native client sends none.
//! * **Frames**: binary both ways for the terminal's bytes; small JSON text frames for control
//!   (`TerminalClientFrame`, `TerminalServerFrame` in the protocol crate).
//! * **Reconnect**: the shell does not belong to the connection; each (re)connection first
//!   gets `ready` with the number of bytes replayed, the recent output, then live output.
//! * **Read-only attach**: the lab's instructor (or an admin), who can see the session but is
//!   not its learner, gets `read_only` and their input is ignored.
//!
//! * **Several server processes**: the shell runs in the process that started it. A
//!   connection reaching another process is passed on to that one (its `internal_url`, in
//!   `private.server_instances`) as a WebSocket of its own, authenticated with the learner's
//!   own token, so the owner checks access exactly as for a direct connection; frames are
//!   relayed unchanged both ways (decision 273). The hop says so in [`FORWARDED`], and a
//!   forwarded connection is never passed on again.
//!
//! Close codes: 4401 unauthenticated (or the session was revoked), 4001 the access token
//! expired (reconnect with a fresh one), 4403 forbidden, 4404 no such session, 4409 the
//! session is not active, 4008 the client fell behind the output, 4500 the shell could not
//! start, 4502 the server process running the shell could not be reached.

use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;
use skilltrack_protocol::LabSessionStatus;
use skilltrack_protocol::Problem;
use skilltrack_protocol::labs::{TerminalClientFrame, TerminalMode, TerminalServerFrame};
use tokio::sync::broadcast;
use tokio::sync::broadcast::error::{RecvError, TryRecvError};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::AppState;
use super::error::ApiError;
use super::extract::{ApiPath, verify};
use super::relay::FORWARDED;
use crate::auth::tokens::Claims;
use crate::db::labs as db;
use crate::db::session::{Access, Caller, begin};

/// How long a connection may take to send its `auth` frame.
pub const AUTH_TIMEOUT: Duration = Duration::from_secs(10);

/// The terminal route.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(terminal))
}

fn origin_allowed(state: &AppState, headers: &HeaderMap) -> bool {
    let Some(origin) = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) else {
        return true;
    };
    if state
        .labs
        .settings
        .allowed_origins
        .iter()
        .any(|o| o == origin)
    {
        return true;
    }
    let host = headers.get(header::HOST).and_then(|v| v.to_str().ok());
    let origin_host = origin
        .split_once("://")
        .map(|(_, rest)| rest.trim_end_matches('/'));
    host.is_some() && origin_host == host
}

/// Attaches to a lab session's terminal over a WebSocket (see the module docs for the
/// protocol).
#[utoipa::path(
    get, path = "/api/v1/lab-sessions/{id}/terminal", tag = "labs",
    params(("id" = Uuid, Path, description = "The session")),
    security((), ("bearer" = [])),
    responses(
        (status = 101, description = "Switched to the WebSocket protocol"),
        (status = 400, description = "A bad id, or not a WebSocket upgrade request", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "A bad or expired token in `Authorization`", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "`origin_not_allowed`", body = Problem, content_type = "application/problem+json"),
        (status = 405, description = "Not a GET", body = Problem, content_type = "application/problem+json"),
        (status = 426, description = "The connection cannot be upgraded", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn terminal(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<Uuid>,
    headers: HeaderMap,
    ws: WebSocketUpgrade,
) -> Result<Response, ApiError> {
    if !origin_allowed(&state, &headers) {
        return Err(ApiError::Rule {
            status: StatusCode::FORBIDDEN,
            code: "origin_not_allowed".into(),
            detail: "This origin may not open lab terminals.".into(),
            errors: Vec::new(),
        });
    }
    let pre_auth = match headers.get(header::AUTHORIZATION) {
        None => None,
        Some(value) => {
            let token = value
                .to_str()
                .ok()
                .and_then(|v| v.split_once(' '))
                .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
                .map(|(_, t)| t.trim().to_owned())
                .unwrap_or_default();
            Some((verify(&state, &token)?, token))
        }
    };
    let forwarded = headers.contains_key(FORWARDED);
    Ok(ws
        .max_message_size(1 << 20)
        .on_upgrade(move |socket| serve(socket, state, id, pre_auth, forwarded)))
}

/// The most output sent in one frame.
const FRAME_BYTES: usize = 64 * 1024;

/// `chunk` and whatever else is already queued, up to [`FRAME_BYTES`], as one frame: one
/// WebSocket write per burst of output instead of one per PTY read. `None`: the client fell
/// behind.
fn coalesce(chunk: Bytes, live: &mut broadcast::Receiver<Bytes>) -> Option<Bytes> {
    let mut frame: Option<Vec<u8>> = None;
    while frame.as_ref().map_or(chunk.len(), Vec::len) < FRAME_BYTES {
        match live.try_recv() {
            Ok(more) => frame
                .get_or_insert_with(|| chunk.to_vec())
                .extend_from_slice(&more),
            Err(TryRecvError::Lagged(_)) => return None,
            Err(_) => break,
        }
    }
    Some(frame.map_or(chunk, Bytes::from))
}

/// Acts on one frame from the client; `false` when the connection should end.
async fn on_client_message(
    state: &AppState,
    socket: &mut WebSocket,
    terminal: &crate::labs::terminal::Terminal,
    mode: TerminalMode,
    message: Message,
) -> bool {
    let interactive = mode == TerminalMode::Interactive;
    match message {
        // A read-only watcher's keystrokes go nowhere.
        Message::Binary(bytes) => !interactive || terminal.write(bytes.to_vec()).await,
        Message::Text(text) => match serde_json::from_str::<TerminalClientFrame>(text.as_str()) {
            Ok(TerminalClientFrame::Resize { cols, rows })
                if interactive
                    && terminal
                        .resize(cols.clamp(2, 1000), rows.clamp(2, 1000))
                        .is_ok() =>
            {
                let pid = terminal.pid();
                let _ = state
                    .labs
                    .blocking(move |driver| {
                        driver.notify_resized(pid);
                        Ok(())
                    })
                    .await;
                true
            }
            Ok(TerminalClientFrame::Ping) => send_frame(socket, &TerminalServerFrame::Pong).await,
            _ => true,
        },
        Message::Close(_) => false,
        _ => true,
    }
}

async fn send_frame(socket: &mut WebSocket, frame: &TerminalServerFrame) -> bool {
    let text = serde_json::to_string(frame).unwrap_or_default();
    socket.send(Message::Text(text.into())).await.is_ok()
}

async fn close(mut socket: WebSocket, code: u16, error: &str, detail: &str) {
    let _ = send_frame(
        &mut socket,
        &TerminalServerFrame::Error {
            code: error.to_owned(),
            detail: detail.to_owned(),
        },
    )
    .await;
    let _ = socket
        .send(Message::Close(Some(CloseFrame {
            code,
            reason: error.to_owned().into(),
        })))
        .await;
}

/// Waits for the `auth` frame and checks its token; the claims and the token.
async fn authenticate(state: &AppState, socket: &mut WebSocket) -> Option<(Claims, String)> {
    let message = tokio::time::timeout(AUTH_TIMEOUT, socket.recv())
        .await
        .ok()??
        .ok()?;
    let Message::Text(text) = message else {
        return None;
    };
    match serde_json::from_str::<TerminalClientFrame>(text.as_str()).ok()? {
        TerminalClientFrame::Auth { token } => verify(state, &token).ok().map(|c| (c, token)),
        _ => None,
    }
}

/// Where the session's shell runs when another live process of the cluster runs it: that
/// process's address (`Some(None)` when it gave none). `None`: not elsewhere; start or attach
/// here.
pub(super) async fn elsewhere(state: &AppState, id: Uuid) -> Option<Option<String>> {
    if state
        .labs
        .terminal(id)
        .await
        .is_some_and(|t| !t.has_exited())
    {
        return None;
    }
    match crate::instance::session_host(&state.db, id).await {
        Ok(Some(host)) if host.instance != state.instance.id => Some(host.internal_url),
        Ok(_) => None,
        Err(e) => {
            // Unknown: serving here is what a single process would do.
            tracing::warn!(session = %id, error = %e, "looking up which server process runs a lab failed");
            None
        }
    }
}

/// Relays the connection to the process running the shell, at `base`, as the same learner
/// (their token), until either side closes.
async fn relay(mut socket: WebSocket, base: &str, id: Uuid, token: &str) {
    use futures_util::{SinkExt as _, StreamExt as _};
    use tokio_tungstenite::tungstenite::{self, client::IntoClientRequest as _};
    let target = format!(
        "{}/api/v1/lab-sessions/{id}/terminal",
        base.replacen("http", "ws", 1)
    );
    let upstream = match target.into_client_request() {
        Ok(mut request) => {
            // The token came from the learner's own header or first frame and was verified;
            // a token that is no header value cannot have passed, but is refused, not sent.
            match format!("Bearer {token}").parse() {
                Ok(bearer) => {
                    request.headers_mut().insert(header::AUTHORIZATION, bearer);
                    request
                        .headers_mut()
                        .insert(FORWARDED, axum::http::HeaderValue::from_static("1"));
                    tokio_tungstenite::connect_async(request).await
                }
                Err(e) => Err(tungstenite::Error::HttpFormat(axum::http::Error::from(e))),
            }
        }
        Err(e) => Err(e),
    };
    let mut upstream = match upstream {
        Ok((upstream, _)) => upstream,
        Err(e) => {
            tracing::warn!(session = %id, target = %base, error = %e, "the server process running a lab's shell could not be reached");
            return close(
                socket,
                4502,
                "lab_host_unreachable",
                "The server process running this lab cannot be reached; try again.",
            )
            .await;
        }
    };
    tracing::debug!(session = %id, target = %base, "passing a terminal on to the process running its shell");
    loop {
        tokio::select! {
            incoming = socket.recv() => {
                let Some(Ok(message)) = incoming else {
                    let _ = upstream.close(None).await;
                    break;
                };
                let relayed = match message {
                    Message::Text(t) => tungstenite::Message::Text(t.as_str().to_owned().into()),
                    Message::Binary(b) => tungstenite::Message::Binary(b),
                    Message::Ping(b) => tungstenite::Message::Ping(b),
                    Message::Pong(b) => tungstenite::Message::Pong(b),
                    Message::Close(frame) => tungstenite::Message::Close(frame.map(|f| {
                        tungstenite::protocol::CloseFrame {
                            code: f.code.into(),
                            reason: f.reason.as_str().to_owned().into(),
                        }
                    })),
                };
                if upstream.send(relayed).await.is_err() {
                    break;
                }
            }
            outgoing = upstream.next() => {
                let Some(Ok(message)) = outgoing else {
                    let _ = socket.send(Message::Close(None)).await;
                    break;
                };
                let relayed = match message {
                    tungstenite::Message::Text(t) => Message::Text(t.as_str().to_owned().into()),
                    tungstenite::Message::Binary(b) => Message::Binary(b),
                    tungstenite::Message::Ping(b) => Message::Ping(b),
                    tungstenite::Message::Pong(b) => Message::Pong(b),
                    tungstenite::Message::Close(frame) => Message::Close(frame.map(|f| {
                        CloseFrame {
                            code: f.code.into(),
                            reason: f.reason.as_str().to_owned().into(),
                        }
                    })),
                    tungstenite::Message::Frame(_) => continue,
                };
                if socket.send(relayed).await.is_err() {
                    break;
                }
            }
        }
    }
}

#[allow(
    clippy::too_many_lines,
    reason = "a connection's life, from authentication to detach, reads best in one place"
)]
async fn serve(
    mut socket: WebSocket,
    state: AppState,
    id: Uuid,
    pre_auth: Option<(Claims, String)>,
    forwarded: bool,
) {
    let (claims, token) = match pre_auth {
        Some(auth) => auth,
        None => match authenticate(&state, &mut socket).await {
            Some(auth) => auth,
            None => {
                return close(
                    socket,
                    4401,
                    "unauthenticated",
                    "Send {\"type\":\"auth\",\"token\":…} first.",
                )
                .await;
            }
        },
    };
    let user = claims.sub;
    // The connection lives as long as its token: revoked, it ends at once; expired, the client
    // reconnects with a fresh one (the shell lives on, its output replayed).
    let expires = tokio::time::Instant::now()
        + std::time::Duration::from_secs(
            u64::try_from(claims.exp - chrono::Utc::now().timestamp()).unwrap_or(0),
        );
    let row = async {
        let mut tx = begin(state.db.api(), Caller::User(user), Access::ReadOnly).await?;
        let row = db::session(&mut tx, id).await?;
        tx.commit().await?;
        Ok::<_, sqlx::Error>(row)
    }
    .await;
    let row = match row {
        Ok(Some(row)) => row,
        Ok(None) => return close(socket, 4404, "not_found", "No such lab session.").await,
        Err(e) => {
            tracing::error!(error = %e, "reading a lab session for its terminal");
            return close(socket, 4500, "internal", "The database is not available.").await;
        }
    };
    if !matches!(row.status(), Ok(LabSessionStatus::Active)) {
        return close(
            socket,
            4409,
            "session_not_active",
            "Start or resume the session first.",
        )
        .await;
    }
    if !forwarded {
        match elsewhere(&state, id).await {
            Some(Some(base)) => return relay(socket, &base, id, &token).await,
            Some(None) => {
                // A second shell here would share the workspace with the first: refuse.
                return close(
                    socket,
                    4502,
                    "lab_host_unreachable",
                    "This lab runs on another server process, which gave no internal address.",
                )
                .await;
            }
            None => {}
        }
    }
    let mode = if row.user_id == user {
        TerminalMode::Interactive
    } else {
        TerminalMode::ReadOnly
    };
    let terminal = match mode {
        TerminalMode::Interactive => {
            match super::labs::ensure_shell(&state, id, &state.labs.spec_for(&row)).await {
                Ok(t) => t,
                Err(e) => {
                    tracing::error!(session = %id, error = %e, "starting a lab shell for its terminal");
                    return close(
                        socket,
                        4500,
                        "sandbox_failed",
                        "The lab's shell could not start.",
                    )
                    .await;
                }
            }
        }
        TerminalMode::ReadOnly => match state.labs.terminal(id).await {
            Some(t) => t,
            None => {
                return close(
                    socket,
                    4409,
                    "terminal_not_running",
                    "The learner's shell is not running.",
                )
                .await;
            }
        },
    };
    let mut attachment = terminal.attach();
    let ready = TerminalServerFrame::Ready {
        mode,
        replayed_bytes: attachment.replay.len() as u64,
    };
    let mut open = send_frame(&mut socket, &ready).await;
    if open && !attachment.replay.is_empty() {
        let replay = std::mem::take(&mut attachment.replay);
        open = socket.send(Message::Binary(replay.into())).await.is_ok();
    }
    while open {
        tokio::select! {
            () = state.revoked.revoked(claims.sid) => {
                let _ = send_frame(&mut socket, &TerminalServerFrame::Error {
                    code: "session_revoked".to_owned(),
                    detail: "This session was signed out; sign in again.".to_owned(),
                }).await;
                let _ = socket.send(Message::Close(Some(CloseFrame { code: 4401, reason: "session_revoked".into() }))).await;
                break;
            }
            () = tokio::time::sleep_until(expires) => {
                let _ = socket.send(Message::Close(Some(CloseFrame { code: 4001, reason: "token_expired".into() }))).await;
                break;
            }
            incoming = socket.recv() => {
                let Some(Ok(message)) = incoming else { break };
                open = on_client_message(&state, &mut socket, &terminal, mode, message).await;
            }
            output = attachment.live.recv() => match output {
                Ok(chunk) => {
                    if let Some(frame) = coalesce(chunk, &mut attachment.live) {
                        open = socket.send(Message::Binary(frame)).await.is_ok();
                    } else {
                        let _ = send_frame(&mut socket, &TerminalServerFrame::Lagged).await;
                        let _ = socket.send(Message::Close(Some(CloseFrame { code: 4008, reason: "lagged".into() }))).await;
                        break;
                    }
                }
                Err(RecvError::Lagged(_)) => {
                    let _ = send_frame(&mut socket, &TerminalServerFrame::Lagged).await;
                    let _ = socket.send(Message::Close(Some(CloseFrame { code: 4008, reason: "lagged".into() }))).await;
                    break;
                }
                Err(RecvError::Closed) => {
                    let _ = send_frame(&mut socket, &TerminalServerFrame::Exited).await;
                    break;
                }
            },
            changed = attachment.exited.changed() => {
                if changed.is_err() || *attachment.exited.borrow() {
                    // Output read before the end is already queued: send it first.
                    while let Ok(chunk) = attachment.live.try_recv() {
                        if socket.send(Message::Binary(chunk)).await.is_err() { break; }
                    }
                    let _ = send_frame(&mut socket, &TerminalServerFrame::Exited).await;
                    let _ = socket.send(Message::Close(Some(CloseFrame { code: 1000, reason: "exited".into() }))).await;
                    break;
                }
            }
        }
    }
    terminal.detach();
}
