//! The HTTP client of the server's API: sign-in and refresh, sync pull and push, the live
//! channel, media downloads. Every failure says whether the server was unreachable (the app is
//! offline) or answered with a problem (its stable `code` and human `detail`).
//!
//! Credentials go to the signed-in server and nowhere else:
//!
//! * the server's address is `https://`, or plain `http://` only on this computer (loopback),
//!   checked before any request ([`server_url`]): a password sent to a remote `http://` server
//!   crosses the network in clear;
//! * the bearer token is attached in one place ([`ApiClient::request`]), and only to a URL of
//!   the server's own origin — scheme, host and port exactly. Media elsewhere (a lesson may
//!   name any host) are fetched with no credentials; the client keeps no cookies;
//! * redirects are never followed by reqwest (whose policy drops `Authorization` when the host
//!   or port changes, but not when `https://` turns into `http://`): downloads follow them
//!   here, hop by hop, with credentials only while still on the server's origin.

use std::net::IpAddr;
use std::time::Duration;

use futures_util::{Stream, StreamExt as _};
use reqwest::{Method, RequestBuilder, StatusCode, Url};
use serde::Serialize;
use serde::de::DeserializeOwned;
use skilltrack_protocol::Problem;
use skilltrack_protocol::auth::{
    MailRequestAccepted, PasswordResetRequest, RefreshRequest, Session, SignInRequest,
};
use skilltrack_protocol::sync::{LiveSignal, Mutation, PullPage, PushRequest, PushResponse};

use crate::tls::Trust;

/// Why a call failed.
#[derive(Debug, Clone, thiserror::Error)]
pub enum ApiError {
    /// The server could not be reached (no network, server down, timed out).
    #[error("the server is unreachable: {0}")]
    Offline(String),
    /// The server answered with a problem.
    #[error("{detail} ({code})")]
    Problem {
        /// HTTP status.
        status: u16,
        /// Stable code, e.g. `token_expired`.
        code: String,
        /// What went wrong, in words.
        detail: String,
    },
    /// The server answered something this client cannot read.
    #[error("the server's answer could not be read: {0}")]
    Protocol(String),
    /// The server's TLS certificate was refused (unknown authority, expired, another name).
    #[error("the server's certificate is not trusted: {0}")]
    Untrusted(String),
    /// The server's address is plain `http://` to another computer (refused before any request).
    #[error(
        "the server {0} is plain http:// on another computer, so your password and session would cross the network unencrypted: use its https://… address (plain http:// is only for a server on this computer: localhost, 127.0.0.1, ::1)"
    )]
    InsecureServer(String),
    /// The server's address is not an `http(s)://` address.
    #[error(
        "the server's address {0:?} is not one: it starts with https:// (or http:// for a server on this computer)"
    )]
    InvalidServer(String),
}

impl ApiError {
    /// Whether the call can succeed later unchanged (offline, the server overloaded or down).
    pub fn is_transient(&self) -> bool {
        match self {
            Self::Offline(_) => true,
            Self::Problem { status, .. } => *status >= 500 || *status == 408 || *status == 429,
            Self::Protocol(_)
            | Self::Untrusted(_)
            | Self::InsecureServer(_)
            | Self::InvalidServer(_) => false,
        }
    }

    /// Whether the session is no longer good (sign in again).
    pub fn is_unauthorized(&self) -> bool {
        matches!(self, Self::Problem { status: 401, .. })
    }
}

fn offline(e: &reqwest::Error) -> ApiError {
    untrusted(e).unwrap_or_else(|| ApiError::Offline(e.to_string()))
}

/// [`ApiError::Untrusted`] when `e` was caused by a refused certificate: a reachable server
/// that is not the one it claims to be is not "offline".
pub(crate) fn untrusted(e: &(dyn std::error::Error + 'static)) -> Option<ApiError> {
    let mut cause = Some(e);
    while let Some(c) = cause {
        if let Some(tls) = c.downcast_ref::<rustls::Error>() {
            return matches!(tls, rustls::Error::InvalidCertificate(_))
                .then(|| ApiError::Untrusted(tls.to_string()));
        }
        // rustls's error reaches reqwest and tungstenite inside `io::Error`s, which lead to
        // what they wrap through `get_ref`, not `source`.
        cause = match c.downcast_ref::<std::io::Error>() {
            Some(io) => io
                .get_ref()
                .map(|inner| inner as &(dyn std::error::Error + 'static)),
            None => c.source(),
        };
    }
    None
}

/// How many redirects a download follows.
const MAX_REDIRECTS: usize = 10;

/// A server's address, checked: `https://` anywhere, plain `http://` only on this computer
/// (`localhost`, 127.0.0.0/8, `::1`). Nothing is sent anywhere to check it.
///
/// # Errors
/// [`ApiError::InsecureServer`] for plain `http://` to another computer,
/// [`ApiError::InvalidServer`] for anything that is not an `http(s)://` address with a host.
pub fn server_url(address: &str) -> Result<Url, ApiError> {
    let invalid = || ApiError::InvalidServer(address.to_owned());
    let url = Url::parse(address.trim()).map_err(|_| invalid())?;
    if url.host_str().is_none_or(str::is_empty) {
        return Err(invalid());
    }
    match url.scheme() {
        "https" => Ok(url),
        "http" if is_loopback(&url) => Ok(url),
        "http" => Err(ApiError::InsecureServer(address.trim().to_owned())),
        _ => Err(invalid()),
    }
}

/// Whether `url`'s host is this computer by its address or its reserved name (never by what a
/// name resolves to, which the network can change).
fn is_loopback(url: &Url) -> bool {
    let host = url.host_str().unwrap_or_default();
    match host.trim_start_matches('[').trim_end_matches(']').parse() {
        Ok(IpAddr::V4(v4)) => v4.is_loopback(),
        Ok(IpAddr::V6(v6)) => {
            v6.is_loopback() || v6.to_ipv4_mapped().is_some_and(|v4| v4.is_loopback())
        }
        // The URL parser has lower-cased the name.
        Err(_) => host == "localhost",
    }
}

/// A client of one server.
#[derive(Debug, Clone)]
pub struct ApiClient {
    base: String,
    /// `base`, parsed: its origin is where credentials may go.
    server: Url,
    http: reqwest::Client,
    /// For long-lived streams (live channel, downloads): no overall timeout.
    streaming: reqwest::Client,
    /// The authorities `https://` (and the terminal's `wss://`) trust.
    trust: Trust,
}

impl ApiClient {
    /// A client of the server at `base` (`http://127.0.0.1:8787`), trusting the public
    /// certificate authorities.
    pub fn new(base: &str) -> Result<Self, ApiError> {
        let trust = Trust::public().map_err(|e| ApiError::Protocol(e.to_string()))?;
        Self::with_trust(base, &trust)
    }

    /// A client of the server at `base`, trusting `trust`'s authorities.
    ///
    /// # Errors
    /// `base` is refused by [`server_url`].
    pub fn with_trust(base: &str, trust: &Trust) -> Result<Self, ApiError> {
        let server = server_url(base)?;
        let build = |timeout: Option<Duration>| {
            let mut b = reqwest::Client::builder()
                .use_preconfigured_tls((*trust.config()).clone())
                // Downloads follow redirects themselves (see the top of this file); the API
                // never redirects.
                .redirect(reqwest::redirect::Policy::none())
                .connect_timeout(Duration::from_secs(5))
                .user_agent(concat!("skilltrack-client/", env!("CARGO_PKG_VERSION")));
            if let Some(t) = timeout {
                b = b.timeout(t);
            }
            b.build().map_err(|e| ApiError::Protocol(e.to_string()))
        };
        Ok(Self {
            base: base.trim().trim_end_matches('/').to_owned(),
            server,
            http: build(Some(Duration::from_secs(60)))?,
            streaming: build(None)?,
            trust: trust.clone(),
        })
    }

    /// The authorities this client trusts.
    pub fn trust(&self) -> &Trust {
        &self.trust
    }

    /// The server's address.
    pub fn base(&self) -> &str {
        &self.base
    }

    /// The absolute URL of a path on the server (or `url` itself if it is absolute).
    pub fn url(&self, path: &str) -> String {
        if path.starts_with("http://") || path.starts_with("https://") {
            path.to_owned()
        } else {
            format!("{}{path}", self.base)
        }
    }

    /// Whether `url` is on the server's own origin: the same scheme, host and port.
    pub fn is_server_origin(&self, url: &Url) -> bool {
        url.origin() == self.server.origin()
    }

    /// A request for `url`, carrying `token` if, and only if, `url` is on the server's own
    /// origin: the one place where credentials are attached to a request.
    fn request(
        &self,
        client: &reqwest::Client,
        method: Method,
        url: &Url,
        token: Option<&str>,
    ) -> RequestBuilder {
        let request = client.request(method, url.clone());
        match token {
            Some(token) if self.is_server_origin(url) => request.bearer_auth(token),
            _ => request,
        }
    }

    /// A path on the server (or an absolute URL), parsed.
    fn parse_url(&self, path: &str) -> Result<Url, ApiError> {
        let url = self.url(path);
        Url::parse(&url).map_err(|e| ApiError::Protocol(format!("{url}: {e}")))
    }

    async fn call<B: Serialize, T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<&B>,
    ) -> Result<T, ApiError> {
        let url = self.parse_url(path)?;
        let mut req = self.request(&self.http, method, &url, token);
        if let Some(body) = body {
            req = req.json(body);
        }
        let res = req.send().await.map_err(|e| offline(&e))?;
        read(res).await
    }

    /// Signs in.
    pub async fn sign_in(&self, email: &str, password: &str) -> Result<Session, ApiError> {
        let body = SignInRequest {
            email: email.to_owned(),
            password: password.to_owned(),
        };
        self.call(Method::POST, "/api/v1/auth/sign-in", None, Some(&body))
            .await
    }

    /// Asks the server to mail a link for choosing a new password. The answer is the same
    /// whether or not an account has the address; its `message` says so in words to show.
    pub async fn request_password_reset(
        &self,
        email: &str,
    ) -> Result<MailRequestAccepted, ApiError> {
        let body = PasswordResetRequest {
            email: email.to_owned(),
        };
        self.call(
            Method::POST,
            "/api/v1/auth/password-reset",
            None,
            Some(&body),
        )
        .await
    }

    /// Exchanges a refresh token for a new session (the old refresh token is used up).
    pub async fn refresh(&self, refresh_token: &str) -> Result<Session, ApiError> {
        let body = RefreshRequest {
            refresh_token: refresh_token.to_owned(),
        };
        self.call(Method::POST, "/api/v1/auth/refresh", None, Some(&body))
            .await
    }

    /// One page of changes after `cursor` (a snapshot without one).
    pub async fn pull(
        &self,
        token: &str,
        cursor: Option<&str>,
        limit: u32,
    ) -> Result<PullPage, ApiError> {
        let mut path = format!("/api/v1/sync/pull?limit={limit}");
        if let Some(c) = cursor {
            path.push_str("&cursor=");
            path.push_str(&urlencode(c));
        }
        self.call::<(), _>(Method::GET, &path, Some(token), None)
            .await
    }

    /// Pushes queued mutations; one answer each, in order.
    pub async fn push(
        &self,
        token: &str,
        mutations: &[Mutation],
    ) -> Result<PushResponse, ApiError> {
        let body = PushRequest {
            mutations: mutations.to_vec(),
        };
        let url = self.parse_url("/api/v1/sync/push")?;
        let res = self
            .request(&self.http, Method::POST, &url, Some(token))
            .json(&body)
            .send()
            .await
            .map_err(|e| offline(&e))?;
        // The server answers after committing the batch: a crash here leaves it applied there
        // and still queued here.
        crate::fault::reached(crate::fault::FaultPoint::PushAnswerUnread);
        read(res).await
    }

    /// A public JSON document: a path on the server, or an absolute URL (fetched without
    /// credentials either way).
    pub async fn public_json<T: DeserializeOwned>(&self, path: &str) -> Result<T, ApiError> {
        self.call::<(), _>(Method::GET, path, None, None).await
    }

    /// A public text document (a signed status list): a path or an absolute URL, without
    /// credentials.
    pub async fn public_text(&self, path: &str) -> Result<String, ApiError> {
        let url = self.parse_url(path)?;
        let res = self
            .request(&self.http, Method::GET, &url, None)
            .send()
            .await
            .map_err(|e| offline(&e))?;
        if !res.status().is_success() {
            return Err(problem(res).await);
        }
        res.text().await.map_err(|e| offline(&e))
    }

    /// Any authenticated JSON call (the screens' online actions).
    pub async fn json<B: Serialize, T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        token: &str,
        body: Option<&B>,
    ) -> Result<T, ApiError> {
        self.call(method, path, Some(token), body).await
    }

    /// An authenticated upload of raw bytes of `content_type`, answered with JSON; up to
    /// `timeout` (media files are large).
    pub async fn upload<T: DeserializeOwned>(
        &self,
        path: &str,
        token: &str,
        content_type: &str,
        bytes: Vec<u8>,
        timeout: Duration,
    ) -> Result<T, ApiError> {
        let url = self.parse_url(path)?;
        let res = self
            .request(&self.http, Method::POST, &url, Some(token))
            .timeout(timeout)
            .header("content-type", content_type)
            .body(bytes)
            .send()
            .await
            .map_err(|e| offline(&e))?;
        read(res).await
    }

    /// An authenticated call answered with no content (204), with an optional raw body of
    /// `content_type`; up to `timeout` for large bodies (lab files).
    pub async fn send_empty(
        &self,
        method: Method,
        path: &str,
        token: &str,
        body: Option<(&str, reqwest::Body)>,
        timeout: Duration,
    ) -> Result<(), ApiError> {
        let url = self.parse_url(path)?;
        let mut req = self
            .request(&self.http, method, &url, Some(token))
            .timeout(timeout);
        if let Some((content_type, body)) = body {
            req = req.header("content-type", content_type).body(body);
        }
        let res = req.send().await.map_err(|e| offline(&e))?;
        if res.status().is_success() {
            Ok(())
        } else {
            Err(problem(res).await)
        }
    }

    /// The live channel: a stream of "pull now" signals, ending when the server closes it.
    pub async fn live(
        &self,
        token: &str,
    ) -> Result<impl Stream<Item = Result<LiveSignal, ApiError>> + use<>, ApiError> {
        let url = self.parse_url("/api/v1/sync/live")?;
        let res = self
            .request(&self.streaming, Method::GET, &url, Some(token))
            .header("accept", "text/event-stream")
            .send()
            .await
            .map_err(|e| offline(&e))?;
        if !res.status().is_success() {
            return Err(problem(res).await);
        }
        let state = (Box::pin(res.bytes_stream()), String::new());
        Ok(futures_util::stream::unfold(
            state,
            |(mut bytes, mut buffer)| async move {
                loop {
                    if let Some(end) = buffer.find("\n\n") {
                        let event: String = buffer.drain(..end + 2).collect();
                        if let Some(signal) = parse_event(&event) {
                            return Some((Ok(signal), (bytes, buffer)));
                        }
                        continue;
                    }
                    match bytes.next().await {
                        Some(Ok(chunk)) => buffer.push_str(&String::from_utf8_lossy(&chunk)),
                        Some(Err(e)) => return Some((Err(offline(&e)), (bytes, buffer))),
                        None => return None,
                    }
                }
            },
        ))
    }

    /// Starts downloading `url` (a path on the server, or any absolute `http(s)://` address)
    /// from byte `from` (0: the whole file), sending `If-Range` with `etag` so a changed file
    /// restarts from the beginning instead of mixing versions. `token` goes only to the
    /// server's own origin; redirects are followed here, and once one has left the server's
    /// origin, no later hop gets credentials either.
    pub async fn download(
        &self,
        token: &str,
        url: &str,
        from: u64,
        etag: Option<&str>,
    ) -> Result<reqwest::Response, ApiError> {
        let range = (from > 0).then(|| format!("bytes={from}-"));
        let if_range = etag.filter(|_| from > 0);
        let res = self.media(token, url, range.as_deref(), if_range).await?;
        if res.status() == reqwest::StatusCode::RANGE_NOT_SATISFIABLE {
            return Err(problem(res).await);
        }
        Ok(res)
    }

    /// Fetches media for a player streaming it: `range` is the player's own `Range` header,
    /// passed on as it is (the player seeks by asking for another one). Credentials go only
    /// to the server's origin, as for [`Self::download`]. A `416` (a range past the end) is an
    /// answer the player handles, not an error.
    pub async fn stream(
        &self,
        token: &str,
        url: &str,
        range: Option<&str>,
    ) -> Result<reqwest::Response, ApiError> {
        self.media(token, url, range, None).await
    }

    /// The size of media `url` in bytes, if the server says: asks for its first byte, whose
    /// answer names the whole length (`Content-Range: bytes 0-0/<length>`), or the whole file's
    /// length from a server that ignores ranges (the body is not read).
    pub async fn media_size(&self, token: &str, url: &str) -> Result<Option<u64>, ApiError> {
        let res = self.media(token, url, Some("bytes=0-0"), None).await?;
        let whole = res
            .headers()
            .get(reqwest::header::CONTENT_RANGE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.rsplit_once('/'))
            .and_then(|(_, total)| total.parse().ok());
        Ok(match res.status() {
            reqwest::StatusCode::PARTIAL_CONTENT | reqwest::StatusCode::RANGE_NOT_SATISFIABLE => {
                whole
            }
            _ => res.content_length(),
        })
    }

    async fn media(
        &self,
        token: &str,
        url: &str,
        range: Option<&str>,
        if_range: Option<&str>,
    ) -> Result<reqwest::Response, ApiError> {
        let mut url = self.parse_url(url)?;
        let mut credentials = Some(token);
        for _ in 0..=MAX_REDIRECTS {
            if !self.is_server_origin(&url) {
                credentials = None;
            }
            let mut req = self.request(&self.streaming, Method::GET, &url, credentials);
            if let Some(range) = range {
                req = req.header("range", range);
                if let Some(etag) = if_range {
                    req = req.header("if-range", etag);
                }
            }
            let res = req.send().await.map_err(|e| offline(&e))?;
            if res.status().is_success()
                || (range.is_some() && res.status() == reqwest::StatusCode::RANGE_NOT_SATISFIABLE)
            {
                return Ok(res);
            }
            let next = res
                .status()
                .is_redirection()
                .then(|| res.headers().get(reqwest::header::LOCATION))
                .flatten()
                .and_then(|to| to.to_str().ok())
                .and_then(|to| url.join(to).ok());
            match next {
                Some(next) if matches!(next.scheme(), "http" | "https") => url = next,
                Some(next) => {
                    return Err(ApiError::Protocol(format!(
                        "{url} redirects to {next}, which is not a web address"
                    )));
                }
                None => return Err(problem(res).await),
            }
        }
        Err(ApiError::Protocol(format!(
            "{url}: more than {MAX_REDIRECTS} redirects"
        )))
    }
}

/// One server-sent event's `pull` signal, if it is one.
fn parse_event(event: &str) -> Option<LiveSignal> {
    let mut name = "message";
    let mut data = String::new();
    for line in event.lines() {
        if let Some(v) = line.strip_prefix("event:") {
            name = v.trim();
        } else if let Some(v) = line.strip_prefix("data:") {
            data.push_str(v.trim());
        }
    }
    (name == "pull")
        .then(|| serde_json::from_str(&data).ok())
        .flatten()
}

async fn read<T: DeserializeOwned>(res: reqwest::Response) -> Result<T, ApiError> {
    if !res.status().is_success() {
        return Err(problem(res).await);
    }
    let bytes = res.bytes().await.map_err(|e| offline(&e))?;
    serde_json::from_slice(&bytes).map_err(|e| ApiError::Protocol(e.to_string()))
}

async fn problem(res: reqwest::Response) -> ApiError {
    let status = res.status();
    let body = res.bytes().await.unwrap_or_default();
    match serde_json::from_slice::<Problem>(&body) {
        Ok(p) => ApiError::Problem {
            status: p.status,
            code: p.code,
            detail: p.detail,
        },
        Err(_) => ApiError::Problem {
            status: status.as_u16(),
            code: if status == StatusCode::BAD_GATEWAY || status == StatusCode::SERVICE_UNAVAILABLE
            {
                "unavailable".to_owned()
            } else {
                "http_error".to_owned()
            },
            detail: format!("The server answered {status}."),
        },
    }
}

/// `s` percent-encoded for a URL's path segment or query value.
pub fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[cfg(test)]
#[allow(clippy::unwrap_used, reason = "tests fail loudly on purpose")]
mod tests {
    use super::*;
    use skilltrack_protocol::sync::LiveScope;

    #[test]
    fn a_refused_certificate_is_untrusted_not_offline() {
        // As reqwest and tungstenite hand it over: rustls's error inside two `io::Error`s.
        let tls = rustls::Error::InvalidCertificate(rustls::CertificateError::UnknownIssuer);
        let wrapped =
            std::io::Error::other(std::io::Error::new(std::io::ErrorKind::InvalidData, tls));
        assert!(matches!(untrusted(&wrapped), Some(ApiError::Untrusted(_))));
        // Other TLS failures and plain network failures are not about trust.
        let other = std::io::Error::other(rustls::Error::HandshakeNotComplete);
        assert!(untrusted(&other).is_none());
        let refused = std::io::Error::from(std::io::ErrorKind::ConnectionRefused);
        assert!(untrusted(&refused).is_none());
    }

    #[test]
    fn plain_http_is_for_this_computer_only() {
        for ok in [
            "https://skilltrack.example.com",
            "https://10.0.0.8:8443/base",
            "http://127.0.0.1:8787",
            "http://127.9.9.9",
            "http://localhost:8787",
            "http://LOCALHOST",
            "http://[::1]:8787",
            "http://[::ffff:127.0.0.1]:8787",
            " http://127.0.0.1:8787/ ",
        ] {
            assert!(server_url(ok).is_ok(), "{ok}");
        }
        for insecure in [
            "http://example.test:8787",
            "http://0.0.0.0:8787",
            "http://10.0.0.8",
            "http://[fe80::1]",
            "http://localhost.evil.example",
            "http://127.0.0.1.nip.io",
        ] {
            assert!(
                matches!(server_url(insecure), Err(ApiError::InsecureServer(_))),
                "{insecure}"
            );
        }
        for invalid in [
            "",
            "skilltrack.example.com",
            "ftp://x",
            "file:///tmp",
            "http://",
        ] {
            assert!(
                matches!(server_url(invalid), Err(ApiError::InvalidServer(_))),
                "{invalid:?}"
            );
        }
    }

    #[test]
    fn credentials_go_to_the_servers_exact_origin() {
        let api = ApiClient::new("https://skilltrack.example.com").unwrap();
        let url = |s: &str| Url::parse(s).unwrap();
        assert!(api.is_server_origin(&url("https://skilltrack.example.com/media/x.webm")));
        assert!(api.is_server_origin(&url("https://SKILLTRACK.example.com:443/api")));
        for other in [
            "http://skilltrack.example.com/media/x.webm",
            "https://skilltrack.example.com:8443/",
            "https://cdn.skilltrack.example.com/",
            "https://skilltrack.example.com.evil.example/",
        ] {
            assert!(!api.is_server_origin(&url(other)), "{other}");
        }
    }

    #[test]
    fn server_sent_events_are_read() {
        assert_eq!(
            parse_event("event: pull\ndata: {\"scope\":\"mine\"}\n\n"),
            Some(LiveSignal {
                scope: LiveScope::Mine,
                pull_after_ms: None,
            })
        );
        assert_eq!(
            parse_event("event: pull\ndata: {\"scope\":\"catalog\",\"pull_after_ms\":120}\n\n"),
            Some(LiveSignal {
                scope: LiveScope::Catalog,
                pull_after_ms: Some(120),
            })
        );
        assert_eq!(parse_event(": keep-alive\n\n"), None);
        assert_eq!(parse_event("event: other\ndata: {}\n\n"), None);
        assert_eq!(urlencode("a b+c/="), "a%20b%2Bc%2F%3D");
    }
}
