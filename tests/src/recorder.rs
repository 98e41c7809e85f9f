//! A small HTTP origin of the test's own that records what reaches it: every request's path and
//! the credentials it carried (`Authorization`, `Cookie`). It answers every path with the same
//! bytes, or with a redirect where one is set; it stands for "another host" that a lesson names,
//! or for the signed-in server's origin where the real server would never redirect.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::extract::{Request, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse as _, Response};
use tokio::task::AbortHandle;

/// One request as it arrived.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Seen {
    /// Its path (and query).
    pub path: String,
    /// Its `Authorization` header, if any.
    pub authorization: Option<String>,
    /// Its `Cookie` header, if any.
    pub cookie: Option<String>,
}

#[derive(Default)]
struct Shared {
    seen: Mutex<Vec<Seen>>,
    redirects: Mutex<HashMap<String, String>>,
    content_type: String,
    body: Vec<u8>,
}

/// The origin; dropping it stops it.
pub struct Recorder {
    /// `http://<ip>:<port>`.
    pub url: String,
    shared: Arc<Shared>,
    serving: AbortHandle,
}

impl Recorder {
    /// Listens on `ip` (a loopback address: `127.0.0.1`, or `127.0.0.2` for another host) at a
    /// free port, answering every path with `body` as a video.
    pub async fn start(ip: &str, body: &[u8]) -> Self {
        Self::serving(ip, "video/webm", body).await
    }

    /// As [`Recorder::start`], answering with `body` of `content_type` (a page: `text/html`).
    pub async fn serving(ip: &str, content_type: &str, body: &[u8]) -> Self {
        let listener = tokio::net::TcpListener::bind((ip, 0))
            .await
            .expect("binding the recorder");
        let addr: SocketAddr = listener.local_addr().expect("address");
        let shared = Arc::new(Shared {
            body: body.to_vec(),
            content_type: content_type.to_owned(),
            ..Shared::default()
        });
        let app = axum::Router::new()
            .fallback(answer)
            .with_state(Arc::clone(&shared));
        let serving = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        })
        .abort_handle();
        Self {
            url: format!("http://{addr}"),
            shared,
            serving,
        }
    }

    /// Answers `path` with `302 Found` to `location` from now on.
    pub fn redirect(&self, path: &str, location: &str) {
        self.shared
            .redirects
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .insert(path.to_owned(), location.to_owned());
    }

    /// Every request so far, in order.
    pub fn seen(&self) -> Vec<Seen> {
        self.shared
            .seen
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }
}

impl Drop for Recorder {
    fn drop(&mut self) {
        self.serving.abort();
    }
}

async fn answer(State(shared): State<Arc<Shared>>, request: Request) -> Response {
    let text = |name| {
        request
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let path = request
        .uri()
        .path_and_query()
        .map_or_else(|| request.uri().path().to_owned(), ToString::to_string);
    shared
        .seen
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .push(Seen {
            path: path.clone(),
            authorization: text(header::AUTHORIZATION),
            cookie: text(header::COOKIE),
        });
    let location = shared
        .redirects
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .get(&path)
        .cloned();
    match location {
        Some(to) => (StatusCode::FOUND, [(header::LOCATION, to)]).into_response(),
        None => (
            [(header::CONTENT_TYPE, shared.content_type.clone())],
            shared.body.clone(),
        )
            .into_response(),
    }
}
