//! The HTTP client of the server's API: sign-in and refresh, sync pull and push, the live
//! channel, media downloads. Every failure says whether the server was unreachable (the app is
//! offline) or answered with a problem (its stable `code` and human `detail`).

use std::time::Duration;

use futures_util::{Stream, StreamExt as _};
use reqwest::{Method, StatusCode};
use serde::Serialize;
use serde::de::DeserializeOwned;
use skilltrack_protocol::Problem;
use skilltrack_protocol::auth::{RefreshRequest, Session, SignInRequest};
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
}

impl ApiError {
    /// Whether the call can succeed later unchanged (offline, the server overloaded or down).
    pub fn is_transient(&self) -> bool {
        match self {
            Self::Offline(_) => true,
            Self::Problem { status, .. } => *status >= 500 || *status == 408 || *status == 429,
            Self::Protocol(_) | Self::Untrusted(_) => false,
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

/// A client of one server.
#[derive(Debug, Clone)]
pub struct ApiClient {
    base: String,
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
    pub fn with_trust(base: &str, trust: &Trust) -> Result<Self, ApiError> {
        let build = |timeout: Option<Duration>| {
            let mut b = reqwest::Client::builder()
                .use_preconfigured_tls((*trust.config()).clone())
                .connect_timeout(Duration::from_secs(5))
                .user_agent(concat!("skilltrack-client/", env!("CARGO_PKG_VERSION")));
            if let Some(t) = timeout {
                b = b.timeout(t);
            }
            b.build().map_err(|e| ApiError::Protocol(e.to_string()))
        };
        Ok(Self {
            base: base.trim_end_matches('/').to_owned(),
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

    async fn call<B: Serialize, T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<&B>,
    ) -> Result<T, ApiError> {
        let mut req = self.http.request(method, self.url(path));
        if let Some(token) = token {
            req = req.bearer_auth(token);
        }
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
        self.call(Method::POST, "/api/v1/sync/push", Some(token), Some(&body))
            .await
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

    /// The live channel: a stream of "pull now" signals, ending when the server closes it.
    pub async fn live(
        &self,
        token: &str,
    ) -> Result<impl Stream<Item = Result<LiveSignal, ApiError>> + use<>, ApiError> {
        let res = self
            .streaming
            .get(self.url("/api/v1/sync/live"))
            .bearer_auth(token)
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

    /// Starts downloading `url` from byte `from` (0: the whole file), sending `If-Range` with
    /// `etag` so a changed file restarts from the beginning instead of mixing versions.
    pub async fn download(
        &self,
        token: &str,
        url: &str,
        from: u64,
        etag: Option<&str>,
    ) -> Result<reqwest::Response, ApiError> {
        let mut req = self.streaming.get(self.url(url)).bearer_auth(token);
        if from > 0 {
            req = req.header("range", format!("bytes={from}-"));
            if let Some(etag) = etag {
                req = req.header("if-range", etag);
            }
        }
        let res = req.send().await.map_err(|e| offline(&e))?;
        if res.status().is_success() {
            Ok(res)
        } else {
            Err(problem(res).await)
        }
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

fn urlencode(s: &str) -> String {
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
    fn server_sent_events_are_read() {
        assert_eq!(
            parse_event("event: pull\ndata: {\"scope\":\"mine\"}\n\n"),
            Some(LiveSignal {
                scope: LiveScope::Mine
            })
        );
        assert_eq!(parse_event(": keep-alive\n\n"), None);
        assert_eq!(parse_event("event: other\ndata: {}\n\n"), None);
        assert_eq!(urlencode("a b+c/="), "a%20b%2Bc%2F%3D");
    }
}
