//! The few pages the server writes for browsers (the certificate check, the API reference):
//! each is HTML with a policy of its own, and none is ever framed or cached by mistake.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse as _, Response};

/// `html` as a page: `text/html`, the Content-Security-Policy `policy`, and `cache` as its
/// Cache-Control.
pub fn page(
    status: StatusCode,
    html: String,
    policy: &'static str,
    cache: &'static str,
) -> Response {
    let mut response = (status, html).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(policy),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    response
}
