//! Extractors that turn every bad input into a problem document: JSON bodies, query strings,
//! path parameters, and the caller's identity from `Authorization: Bearer …`.

use std::net::{IpAddr, SocketAddr};

use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::extract::{ConnectInfo, FromRequest, FromRequestParts, Request};
use axum::http::header;
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

use super::AppState;
use super::error::ApiError;
use crate::auth::tokens::{Claims, TokenError};
use crate::db::auth::ClientInfo;
use crate::db::session::Caller;

/// A JSON body; a malformed one is a 400 or 422 problem saying what is wrong.
#[derive(Debug, Clone, Copy, Default)]
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        if !is_json(req.headers()) {
            return Err(ApiError::BadRequest(
                "Send the body as JSON, with `Content-Type: application/json`.".to_owned(),
            ));
        }
        let bytes = axum::body::Bytes::from_request(req, state)
            .await
            .map_err(|e| {
                if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
                    ApiError::Rule {
                        status: e.status(),
                        code: "payload_too_large".to_owned(),
                        detail: "The request body is too large.".to_owned(),
                        errors: Vec::new(),
                    }
                } else {
                    ApiError::BadRequest(e.body_text())
                }
            })?;
        let nul = nul_in_json(&bytes);
        if !nul.is_empty() {
            return Err(nul_refused(&nul));
        }
        // Every body is an object: serde would also read a struct from an array of its fields
        // in order (`[null, null]` as a patch that changes nothing), which no client means.
        if bytes.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'[') {
            return Err(ApiError::Validation {
                detail: "The request body must be a JSON object, not an array.".to_owned(),
                errors: Vec::new(),
            });
        }
        // A whole number written with a fraction of zero (`711.0`) is the integer JSON Schema
        // says it is; serde would refuse it for an integer field. Only a body that may hold
        // one (it has `.0` somewhere) is read twice.
        if bytes.windows(2).any(|w| w == b".0")
            && let Ok(mut value) = serde_json::from_slice::<serde_json::Value>(&bytes)
            && whole_floats_as_integers(&mut value)
        {
            return serde_json::from_value::<T>(value).map(Self).map_err(|e| {
                ApiError::Validation {
                    detail: format!("The request body does not fit: {e}"),
                    errors: Vec::new(),
                }
            });
        }
        match axum::Json::<T>::from_bytes(&bytes) {
            Ok(axum::Json(value)) => Ok(Self(value)),
            Err(JsonRejection::JsonDataError(e)) => Err(ApiError::Validation {
                detail: format!("The request body does not fit: {}", e.body_text()),
                errors: Vec::new(),
            }),
            Err(JsonRejection::MissingJsonContentType(_)) => Err(ApiError::BadRequest(
                "Send the body as JSON, with `Content-Type: application/json`.".to_owned(),
            )),
            Err(e) if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE => {
                Err(ApiError::Rule {
                    status: e.status(),
                    code: "payload_too_large".to_owned(),
                    detail: "The request body is too large.".to_owned(),
                    errors: Vec::new(),
                })
            }
            Err(e) => Err(ApiError::BadRequest(e.body_text())),
        }
    }
}

/// Rewrites every float in `value` that is a whole number within `i64` (`711.0`) as that
/// integer; whether it changed anything.
fn whole_floats_as_integers(value: &mut serde_json::Value) -> bool {
    use serde_json::Value;
    match value {
        Value::Number(n) if n.is_f64() => {
            let Some(f) = n.as_f64() else { return false };
            #[allow(
                clippy::cast_possible_truncation,
                clippy::cast_precision_loss,
                reason = "only a whole number inside i64's range is converted, exactly"
            )]
            if f.fract() == 0.0 && f >= i64::MIN as f64 && f < i64::MAX as f64 {
                *value = Value::from(f as i64);
                return true;
            }
            false
        }
        Value::Array(items) => {
            // Every element is visited: no stopping at the first change.
            let mut changed = false;
            for item in items {
                changed |= whole_floats_as_integers(item);
            }
            changed
        }
        Value::Object(fields) => {
            let mut changed = false;
            for field in fields.values_mut() {
                changed |= whole_floats_as_integers(field);
            }
            changed
        }
        _ => false,
    }
}

/// A query string; a malformed one is a 400 problem.
#[derive(Debug, Clone, Copy, Default)]
pub struct ApiQuery<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        if let Some(name) = parts.uri.query().and_then(nul_in_query) {
            return Err(nul_refused(&[name]));
        }
        axum::extract::Query::<T>::from_request_parts(parts, state)
            .await
            .map(|q| Self(q.0))
            .map_err(|e: QueryRejection| ApiError::BadRequest(e.body_text()))
    }
}

/// A path parameter; a malformed one (say, not a UUID) is a 400 problem.
#[derive(Debug, Clone, Copy, Default)]
pub struct ApiPath<T>(pub T);

impl<T: DeserializeOwned + Send, S: Send + Sync> FromRequestParts<S> for ApiPath<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        if has_encoded_nul(parts.uri.path()) {
            return Err(ApiError::BadRequest(
                "A path may not contain the NUL character (%00).".to_owned(),
            ));
        }
        axum::extract::Path::<T>::from_request_parts(parts, state)
            .await
            .map(|p| Self(p.0))
            .map_err(|e: PathRejection| ApiError::BadRequest(e.body_text()))
    }
}

/// `Content-Type: application/json` (or `…+json`), as axum's own JSON extractor asks.
fn is_json(headers: &axum::http::HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(|mime| mime.trim().to_ascii_lowercase())
        .is_some_and(|mime| {
            mime == "application/json"
                || (mime.starts_with("application/") && mime.ends_with("+json"))
        })
}

/// No text column takes NUL (PostgreSQL refuses it): a request carrying one is refused up
/// front, naming every place, rather than failing in the database.
fn nul_refused(pointers: &[String]) -> ApiError {
    let detail = "Text may not contain the NUL character (U+0000).";
    ApiError::Validation {
        detail: detail.to_owned(),
        errors: pointers
            .iter()
            .map(|pointer| skilltrack_protocol::FieldError {
                pointer: pointer.clone(),
                code: "nul_character".to_owned(),
                detail: detail.to_owned(),
            })
            .collect(),
    }
}

/// The JSON pointers of every string (or key) holding NUL. JSON can only carry NUL escaped,
/// so bodies without `\u0000` are not parsed twice.
fn nul_in_json(bytes: &[u8]) -> Vec<String> {
    fn find(value: &serde_json::Value, at: &str, found: &mut Vec<String>) {
        let escape = |key: &str| key.replace('~', "~0").replace('/', "~1");
        match value {
            serde_json::Value::String(s) if s.contains('\0') => found.push(at.to_owned()),
            serde_json::Value::Array(items) => {
                for (i, v) in items.iter().enumerate() {
                    find(v, &format!("{at}/{i}"), found);
                }
            }
            serde_json::Value::Object(map) => {
                for (k, v) in map {
                    let here = format!("{at}/{}", escape(k));
                    if k.contains('\0') {
                        found.push(here);
                    } else {
                        find(v, &here, found);
                    }
                }
            }
            _ => {}
        }
    }
    let mut found = Vec::new();
    if bytes.windows(6).any(|w| w.eq_ignore_ascii_case(b"\\u0000")) {
        if let Ok(value) = serde_json::from_slice(bytes) {
            find(&value, "", &mut found);
        }
    }
    found
}

/// Whether a percent-encoded string holds an encoded NUL.
fn has_encoded_nul(text: &str) -> bool {
    text.as_bytes()
        .windows(3)
        .any(|w| w.eq_ignore_ascii_case(b"%00"))
}

/// The name of the first query parameter whose name or value holds NUL.
fn nul_in_query(query: &str) -> Option<String> {
    query
        .split('&')
        .find(|pair| has_encoded_nul(pair))
        .map(|pair| pair.split('=').next().unwrap_or_default().to_owned())
}

fn bearer(parts: &Parts) -> Option<&str> {
    let value = parts.headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

/// A valid token of a session that is still signed in.
pub fn verify(state: &AppState, token: &str) -> Result<Claims, ApiError> {
    let claims = state
        .keys
        .verify(token)
        .map_err(|e| ApiError::Unauthorized {
            code: match e {
                TokenError::Expired => "token_expired",
                TokenError::Invalid => "invalid_token",
            },
            detail: e.to_string(),
        })?;
    if state.revoked.contains(claims.sid) {
        return Err(ApiError::Unauthorized {
            code: "session_revoked",
            detail: "This session was signed out or ended; sign in again.".to_owned(),
        });
    }
    Ok(claims)
}

/// Whoever is calling: anonymous without an `Authorization` header; a bad token is a 401, never
/// silently anonymous.
#[derive(Debug, Clone, Copy)]
pub struct AnyCaller(pub Caller);

impl FromRequestParts<AppState> for AnyCaller {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        match bearer(parts) {
            None if !parts.headers.contains_key(header::AUTHORIZATION) => {
                Ok(Self(Caller::Anonymous))
            }
            None => Err(ApiError::Unauthorized {
                code: "invalid_token",
                detail: "The Authorization header must be `Bearer <access token>`.".to_owned(),
            }),
            Some(token) => verify(state, token).map(|c| Self(Caller::User(c.sub))),
        }
    }
}

/// A signed-in caller, with the token's claims; 401 otherwise.
#[derive(Debug, Clone)]
pub struct SignedIn(pub Claims);

impl SignedIn {
    /// As a database caller.
    pub fn caller(&self) -> Caller {
        Caller::User(self.0.sub)
    }
}

impl FromRequestParts<AppState> for SignedIn {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let Some(token) = bearer(parts) else {
            return Err(ApiError::Unauthorized {
                code: "unauthenticated",
                detail: "Sign in first: send `Authorization: Bearer <access token>`.".to_owned(),
            });
        };
        verify(state, token).map(Self)
    }
}

/// The client's address and user agent. The address is the connection's peer, unless the peer
/// is a trusted reverse proxy ([`super::auth::AuthLimits::trusted_proxies`]): then it is the
/// rightmost address in `X-Forwarded-For` that a trusted proxy did not add (what a client
/// writes there itself comes before, and is never believed).
impl FromRequestParts<AppState> for ClientInfo {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0.ip());
        let ip =
            peer.map(|peer| client_address(peer, &parts.headers, |ip| state.auth.trusts_proxy(ip)));
        let user_agent = parts
            .headers
            .get(header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .map(|s| s.chars().take(512).collect());
        Ok(Self { ip, user_agent })
    }
}

/// The client behind `peer`: walks `X-Forwarded-For` from the right while the hop is trusted.
fn client_address(
    peer: IpAddr,
    headers: &axum::http::HeaderMap,
    trusted: impl Fn(IpAddr) -> bool,
) -> IpAddr {
    let mut client = peer;
    if !trusted(client) {
        return client;
    }
    let hops: Vec<&str> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .collect();
    for hop in hops.iter().rev() {
        let Ok(address) = hop.trim().parse::<IpAddr>() else {
            // Unreadable: nothing to its left can be believed either.
            return client;
        };
        client = address;
        if !trusted(client) {
            return client;
        }
    }
    client
}

#[cfg(test)]
#[allow(clippy::unwrap_used, reason = "tests fail loudly on purpose")]
mod tests {
    use super::*;

    #[test]
    fn only_trusted_proxies_are_believed() {
        let proxy: ipnet::IpNet = "10.0.0.0/8".parse().unwrap();
        let trusted = |ip: IpAddr| proxy.contains(&ip);
        let mut headers = axum::http::HeaderMap::new();
        headers.insert(
            "x-forwarded-for",
            "1.2.3.4, 5.6.7.8, 10.0.0.2".parse().unwrap(),
        );
        let at = |s: &str| s.parse::<IpAddr>().unwrap();
        // Behind two trusted hops, the client is the first untrusted from the right.
        assert_eq!(
            client_address(at("10.0.0.1"), &headers, trusted),
            at("5.6.7.8")
        );
        // From an untrusted peer, the header means nothing.
        assert_eq!(
            client_address(at("9.9.9.9"), &headers, trusted),
            at("9.9.9.9")
        );
        headers.insert("x-forwarded-for", "nonsense, 10.0.0.3".parse().unwrap());
        assert_eq!(
            client_address(at("10.0.0.1"), &headers, trusted),
            at("10.0.0.3")
        );
        headers.remove("x-forwarded-for");
        assert_eq!(
            client_address(at("10.0.0.1"), &headers, trusted),
            at("10.0.0.1")
        );
    }
}
