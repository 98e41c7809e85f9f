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

use std::fmt::Write as _;
use std::net::{Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse as _, Response};
use rand::RngCore as _;
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
        let mut bytes = [0_u8; 24];
        rand::thread_rng().fill_bytes(&mut bytes);
        let secret = bytes.iter().fold(String::new(), |mut hex, b| {
            let _ = write!(hex, "{b:02x}");
            hex
        });
        let media = Self {
            shared: Arc::new(Shared {
                addr,
                secret,
                dir: RwLock::new(dir),
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
    if !same_secret(secret, &shared.secret) || !servable(name) {
        return StatusCode::NOT_FOUND.into_response();
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

/// The largest poster the window is given (a data: URL holds it whole).
const MAX_POSTER_BYTES: u64 = 4 * 1024 * 1024;

/// A picture on disk (a video's poster) as a `data:` URL, if it is a PNG, JPEG, GIF or WebP
/// of at most 4 MiB: the window's CSP lets images load from the app itself and `data:` only,
/// never from a port on this machine that a lesson's text could name too.
pub fn picture_data_url(file: &Path) -> Option<String> {
    use base64::Engine as _;
    let ext = file.extension()?.to_str()?.to_ascii_lowercase();
    let mime = match ext.as_str() {
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "gif" => "image/gif",
        "webp" => "image/webp",
        _ => return None,
    };
    if std::fs::metadata(file).ok()?.len() > MAX_POSTER_BYTES {
        return None;
    }
    let bytes = std::fs::read(file).ok()?;
    Some(format!(
        "data:{mime};base64,{}",
        base64::engine::general_purpose::STANDARD.encode(bytes)
    ))
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
