//! Plays downloaded lesson media over HTTP on the loopback interface.
//!
//! `WebKitGTK`'s media player (`GStreamer`) cannot read from custom URI schemes such as Tauri's
//! `asset:` protocol: `video.play()` fails with `NotSupportedError` (`WebKit` bug 146351; Tauri
//! issue 3725; reproduced on this project's Debian 12 machine with `WebKitGTK` 2.50, where the same
//! file plays over `http://127.0.0.1`). So the app serves the current server's media directory
//! on `127.0.0.1` at a port the OS picks, with HTTP Range (the player seeks and streams large
//! videos without loading them whole), and nothing else:
//!
//! * only files directly inside the media directory, by plain file name (no paths, no dot files);
//! * only under a random secret path prefix made at launch, so a web page in the user's browser
//!   cannot guess or probe the URLs;
//! * only with `Host: 127.0.0.1:<port>`, so a DNS-rebinding page cannot read them either.
//!
//! It also streams lessons' media that are not downloaded (`/<secret>/stream/<key>`), so a
//! video plays at once online: the player's `Range` requests go to the lesson's media URL
//! through the sync engine (its token only to the server's own origin) and the answer comes
//! back as it arrives. Only URLs the app registered for a lesson it showed can be streamed
//! (the key names one; this is no open proxy), and nothing is written to disk.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::net::{Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse as _, Response};
use rand::RngCore as _;
use skilltrack_client::sync::SyncEngine;
use tower::ServiceExt as _;
use tower_http::services::ServeFile;

/// The loopback media server: where it listens and which directory it serves.
#[derive(Clone)]
pub struct LocalMedia {
    shared: Arc<Shared>,
}

struct Shared {
    addr: SocketAddr,
    secret: String,
    dir: RwLock<PathBuf>,
    /// The engine that streams media not downloaded (none in a package preview).
    engine: RwLock<Option<Arc<SyncEngine>>>,
    /// Stream keys and the media URLs they name.
    streams: RwLock<HashMap<String, String>>,
}

/// The media server could not start.
#[derive(Debug, thiserror::Error)]
#[error("the local media server could not listen on 127.0.0.1: {0}")]
pub struct StartError(#[from] std::io::Error);

impl LocalMedia {
    /// Listens on a free loopback port and serves `dir` until the app exits.
    ///
    /// # Errors
    /// When no loopback port can be bound.
    pub fn start(dir: PathBuf) -> Result<Self, StartError> {
        let listener = std::net::TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?;
        listener.set_nonblocking(true)?;
        let addr = listener.local_addr()?;
        let secret = random_hex(24);
        let media = Self {
            shared: Arc::new(Shared {
                addr,
                secret,
                dir: RwLock::new(dir),
                engine: RwLock::new(None),
                streams: RwLock::new(HashMap::new()),
            }),
        };
        let app = axum::Router::new()
            .fallback(serve)
            .with_state(media.clone());
        tauri::async_runtime::spawn(async move {
            match tokio::net::TcpListener::from_std(listener) {
                Ok(listener) => {
                    if let Err(e) = axum::serve(listener, app).await {
                        tracing::error!(error = %e, "the local media server stopped");
                    }
                }
                Err(e) => tracing::error!(error = %e, "the local media server could not start"),
            }
        });
        tracing::info!(%addr, "serving downloaded media on the loopback interface");
        Ok(media)
    }

    /// Serves another directory from now on (the app switched servers).
    pub fn serve_from(&self, dir: PathBuf) {
        *self
            .shared
            .dir
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = dir;
    }

    /// Streams through `engine` from now on (the app switched servers): the previous server's
    /// stream keys are forgotten.
    pub fn stream_through(&self, engine: Arc<SyncEngine>) {
        *write(&self.shared.engine) = Some(engine);
        write(&self.shared.streams).clear();
    }

    /// The URL the window streams `media` (a lesson's media URL, as the server gave it) from:
    /// under a random key of its own, the same each time this media is asked for.
    #[must_use]
    pub fn stream_url_of(&self, media: &str) -> String {
        let mut streams = write(&self.shared.streams);
        let known = streams
            .iter()
            .find(|(_, url)| url.as_str() == media)
            .map(|(key, _)| key.clone());
        let key = known.unwrap_or_else(|| {
            let key = random_hex(16);
            streams.insert(key.clone(), media.to_owned());
            key
        });
        format!(
            "http://{}/{}/stream/{key}",
            self.shared.addr, self.shared.secret
        )
    }

    /// The URL the window plays `file` from, if `file` is a file the server would serve.
    #[must_use]
    pub fn url_of(&self, file: &Path) -> Option<String> {
        let dir = self
            .shared
            .dir
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone();
        let name = file.file_name()?.to_str()?;
        (file.parent() == Some(dir.as_path()) && servable(name))
            .then(|| format!("http://{}/{}/{name}", self.shared.addr, self.shared.secret))
    }
}

/// `bytes` random bytes, in hex.
fn random_hex(bytes: usize) -> String {
    let mut random = vec![0_u8; bytes];
    rand::thread_rng().fill_bytes(&mut random);
    random.iter().fold(String::new(), |mut hex, b| {
        let _ = write!(hex, "{b:02x}");
        hex
    })
}

/// A plain file name: no separators, no parent references, no hidden files.
fn servable(name: &str) -> bool {
    !name.is_empty()
        && !name.starts_with('.')
        && !name.contains(['/', '\\'])
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'))
}

/// Compares without an early exit, so response times say nothing about the secret.
fn same_secret(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0, |acc, (x, y)| acc | (x ^ y))
            == 0
}

async fn serve(State(media): State<LocalMedia>, request: Request) -> Response {
    let shared = &media.shared;
    let host_ok = request
        .headers()
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .is_some_and(|h| h == shared.addr.to_string());
    if !host_ok {
        return StatusCode::FORBIDDEN.into_response();
    }
    let path = request.uri().path().trim_start_matches('/');
    let Some((secret, name)) = path.split_once('/') else {
        return StatusCode::NOT_FOUND.into_response();
    };
    if !same_secret(secret, &shared.secret)
        || !(servable(name) || name.strip_prefix("stream/").is_some_and(servable))
    {
        return StatusCode::NOT_FOUND.into_response();
    }
    if let Some(key) = name.strip_prefix("stream/") {
        let range = request
            .headers()
            .get(header::RANGE)
            .and_then(|r| r.to_str().ok())
            .map(str::to_owned);
        return stream(&media, key, range.as_deref()).await;
    }
    let file = shared
        .dir
        .read()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .join(name);
    match ServeFile::new(file).oneshot(request).await {
        Ok(response) => response.map(Body::new),
        Err(infallible) => match infallible {},
    }
}

fn write<T>(lock: &RwLock<T>) -> std::sync::RwLockWriteGuard<'_, T> {
    lock.write()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn read<T>(lock: &RwLock<T>) -> std::sync::RwLockReadGuard<'_, T> {
    lock.read()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// The headers of the media's answer the player needs, passed back as they came.
const STREAMED_HEADERS: [header::HeaderName; 6] = [
    header::CONTENT_TYPE,
    header::CONTENT_LENGTH,
    header::CONTENT_RANGE,
    header::ACCEPT_RANGES,
    header::ETAG,
    header::LAST_MODIFIED,
];

/// One streamed request: the player's range of the media `key` names, fetched as it goes.
async fn stream(media: &LocalMedia, key: &str, range: Option<&str>) -> Response {
    let url = read(&media.shared.streams).get(key).cloned();
    let engine = read(&media.shared.engine).clone();
    let (Some(url), Some(engine)) = (url, engine) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let answer = match engine.stream_media(&url, range).await {
        Ok(answer) => answer,
        Err(e) => {
            // The player shows its own error; the log says why (offline, signed out, 404…).
            tracing::warn!(%url, error = %e, "streaming lesson media failed");
            return StatusCode::BAD_GATEWAY.into_response();
        }
    };
    let mut response = Response::builder().status(answer.status().as_u16());
    for name in STREAMED_HEADERS {
        if let Some(value) = answer.headers().get(name.as_str()) {
            response = response.header(name, value.as_bytes());
        }
    }
    response
        .header(header::CACHE_CONTROL, "no-store")
        .body(Body::from_stream(answer.bytes_stream()))
        .unwrap_or_else(|_| StatusCode::BAD_GATEWAY.into_response())
}

/// The largest poster the window is given (a data: URL holds it whole).
const MAX_POSTER_BYTES: u64 = 4 * 1024 * 1024;

/// A picture on disk (a video's poster) as a `data:` URL, if it is a PNG, JPEG, GIF or WebP
/// of at most 4 MiB: the window's CSP lets images load from the app itself and `data:` only,
/// never from a port on this machine that a lesson's text could name too.
pub fn picture_data_url(file: &Path) -> Option<String> {
    let extension = file.extension()?.to_str()?;
    picture_mime(extension)?;
    if std::fs::metadata(file).ok()?.len() > MAX_POSTER_BYTES {
        return None;
    }
    picture_bytes_data_url(&std::fs::read(file).ok()?, extension)
}

/// A picture's bytes (named with `extension`) as a `data:` URL, with the rules of
/// [`picture_data_url`].
pub fn picture_bytes_data_url(bytes: &[u8], extension: &str) -> Option<String> {
    use base64::Engine as _;
    let mime = picture_mime(extension)?;
    (bytes.len() as u64 <= MAX_POSTER_BYTES).then(|| {
        format!(
            "data:{mime};base64,{}",
            base64::engine::general_purpose::STANDARD.encode(bytes)
        )
    })
}

fn picture_mime(extension: &str) -> Option<&'static str> {
    Some(match extension.to_ascii_lowercase().as_str() {
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "gif" => "image/gif",
        "webp" => "image/webp",
        _ => return None,
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used, reason = "tests fail loudly on purpose")]
mod tests {
    use super::*;

    #[test]
    fn only_plain_file_names_are_served() {
        assert!(servable("0190c0de-aaaa-7bbb-8ccc-123456789abc.webm"));
        for bad in [
            "", ".", "..", "../x", "a/b", ".hidden", "a\\b", "x%2f..", "é.webm",
        ] {
            assert!(!servable(bad), "{bad:?}");
        }
    }

    /// The real server over real HTTP: ranges for the player, nothing without the secret or
    /// from another host name, nothing outside the directory.
    #[tokio::test]
    async fn serves_ranges_of_files_in_its_directory_only() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("clip.webm"), b"0123456789").unwrap();
        std::fs::write(dir.path().join(".secret"), b"hidden").unwrap();
        let media = LocalMedia::start(dir.path().to_owned()).unwrap();
        let url = media.url_of(&dir.path().join("clip.webm")).unwrap();
        let http = reqwest::Client::new();

        let part = http
            .get(&url)
            .header("Range", "bytes=2-5")
            .send()
            .await
            .unwrap();
        assert_eq!(part.status(), 206);
        assert_eq!(part.bytes().await.unwrap().as_ref(), b"2345");

        let other_host = url.replace("127.0.0.1", "localhost");
        assert_eq!(http.get(&other_host).send().await.unwrap().status(), 403);
        let wrong_secret = url.replace(&media.shared.secret, &"0".repeat(48));
        assert_eq!(http.get(&wrong_secret).send().await.unwrap().status(), 404);
        let hidden = url.replace("clip.webm", ".secret");
        assert_eq!(http.get(&hidden).send().await.unwrap().status(), 404);
        let traversal = url.replace("clip.webm", "..%2F..%2Fetc%2Fpasswd");
        assert_eq!(http.get(&traversal).send().await.unwrap().status(), 404);
        assert!(media.url_of(Path::new("/etc/passwd")).is_none());
    }

    #[test]
    fn secrets_compare_whole() {
        assert!(same_secret("abc", "abc"));
        assert!(!same_secret("abc", "abd"));
        assert!(!same_secret("abc", "ab"));
    }
}
