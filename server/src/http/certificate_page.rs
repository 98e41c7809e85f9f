//! The certificate check as a web page: what a browser with no account sees at a credential's
//! address (its `id`, the PDF's link and QR code). The same route answers JSON to everything
//! else; this module decides which one a request wants and writes the page, with no script and
//! nothing loaded from elsewhere.

use std::fmt::Write as _;

use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use skilltrack_protocol::credentials::CredentialVerdict;
use skilltrack_protocol::learning::CertificateVerification;

use super::error::ApiError;

/// No script, no frames, nothing fetched: the page is its own inline style and text.
const PAGE_POLICY: &str = "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

/// Whether the request's `Accept` ranks an HTML page above JSON: browsers do
/// (`text/html,…,*/*;q=0.8`); API clients, `curl` and fuzzers (no `Accept`, `*/*`, or
/// `application/json`) get JSON, as the API documents.
pub fn wants_html(headers: &HeaderMap) -> bool {
    let Some(accept) = headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()) else {
        return false;
    };
    let (mut html, mut json) = (0.0_f32, 0.0_f32);
    for range in accept.split(',') {
        let mut parts = range.split(';');
        let media = parts.next().unwrap_or_default().trim().to_ascii_lowercase();
        let q = parts
            .filter_map(|p| p.trim().strip_prefix("q=").map(str::trim))
            .find_map(|q| q.parse::<f32>().ok())
            .unwrap_or(1.0);
        match media.as_str() {
            "text/html" | "application/xhtml+xml" => html = html.max(q),
            "application/json" | "application/problem+json" | "application/*" => {
                json = json.max(q);
            }
            _ => {}
        }
    }
    html > 0.0 && html > json
}

/// `Vary: Accept` on every answer of the route, so a cache never serves one kind to the other.
pub fn vary_on_accept(response: &mut Response) {
    response
        .headers_mut()
        .insert(header::VARY, HeaderValue::from_static("accept"));
}

/// The page for a certificate that was found.
pub fn found(check: &CertificateVerification, issuer_name: &str, issuer_url: &str) -> Response {
    let (class, headline) = match check.verdict {
        CredentialVerdict::Valid if check.is_valid => ("valid", "This certificate is valid"),
        CredentialVerdict::Revoked => ("invalid", "This certificate has been revoked"),
        CredentialVerdict::Expired => ("invalid", "This certificate has expired"),
        CredentialVerdict::Valid
        | CredentialVerdict::StatusStale
        | CredentialVerdict::StatusUnknown => ("unsure", "This certificate could not be confirmed"),
        CredentialVerdict::Tampered
        | CredentialVerdict::UnknownKey
        | CredentialVerdict::Malformed => ("invalid", "This certificate is not valid"),
    };
    let learner = check
        .learner_name
        .as_deref()
        .filter(|n| !n.trim().is_empty())
        .unwrap_or("A learner");
    let mut facts = format!(
        "<p class=\"award\"><strong>{learner}</strong> completed <strong>{course}</strong> on {date}.</p>\n",
        learner = escape(learner),
        course = escape(&check.course_title),
        date = check.issued_at.format("%-d %B %Y"),
    );
    if let Some(revoked) = check.revoked_at {
        let _ = writeln!(
            facts,
            "<p>Revoked by the issuer on {}.</p>",
            revoked.format("%-d %B %Y")
        );
    }
    let body = format!(
        "<main>\n<p class=\"issuer\">{issuer}</p>\n<h1 class=\"{class}\" data-verdict=\"{code}\">{headline}</h1>\n\
         <p class=\"why\">Verdict: <code>{code}</code>, {explain}.</p>\n{facts}\
         <dl>\n<dt>Certificate number</dt><dd><code>{number}</code></dd>\n\
         <dt>Issued by</dt><dd>{issuer} (<a href=\"{url}\">{url}</a>)</dd>\n\
         <dt>Checked</dt><dd>{now} against the issuer's signing keys and revocation list</dd>\n</dl>\n\
         <p class=\"note\">The certificate's signed credential (the file its holder saves from \
         Skilltrack, or the PDF or badge image) can also be verified offline: \
         <code>skilltrack certificate verify FILE</code>, or any Open Badges 3.0 verifier.</p>\n</main>",
        issuer = escape(issuer_name),
        url = escape(issuer_url),
        code = check.verdict.code(),
        explain = escape(check.verdict.explain()),
        number = escape(&check.certificate_number),
        now = chrono::Utc::now().format("%-d %B %Y, %H:%M UTC"),
    );
    page(
        StatusCode::OK,
        &format!("Certificate {}", check.certificate_number),
        &body,
    )
}

/// The page for a check that could not answer (no such number, too many checks, …), with the
/// status code and `Retry-After` the JSON answer would have had.
pub fn failed(error: ApiError) -> Response {
    let problem = error.into_response();
    let status = problem.status();
    let retry_after = problem.headers().get(header::RETRY_AFTER).cloned();
    let (headline, detail) = match status {
        StatusCode::NOT_FOUND => (
            "No certificate has this number",
            "Check the number against the certificate: it looks like SKT-2026-7F3K9-QXMA2-0HBV4-TR8CW.",
        ),
        StatusCode::TOO_MANY_REQUESTS => (
            "Too many checks from this address",
            "Wait a minute, then reload this page.",
        ),
        _ => (
            "The certificate could not be checked now",
            "Try again in a few minutes.",
        ),
    };
    let body = format!(
        "<main>\n<h1 class=\"unsure\" data-verdict=\"none\">{headline}</h1>\n<p>{detail}</p>\n</main>"
    );
    let mut response = page(status, headline, &body);
    if let Some(retry_after) = retry_after {
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, retry_after);
    }
    response
}

fn page(status: StatusCode, title: &str, body: &str) -> Response {
    let html = format!(
        "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <meta name=\"robots\" content=\"noindex\">\n<title>{title} · Skilltrack</title>\n\
         <style>{STYLE}</style>\n</head>\n<body>\n{body}\n</body>\n</html>\n",
        title = escape(title),
    );
    // The verdict can change (a revocation): never served from a cache.
    let mut response = super::html::page(status, html, PAGE_POLICY, "no-store");
    vary_on_accept(&mut response);
    response
}

const STYLE: &str = "body{font-family:system-ui,sans-serif;margin:0;background:#f6f7f9;color:#1d2430}\
main{max-width:40rem;margin:3rem auto;padding:2rem;background:#fff;border-radius:.75rem;box-shadow:0 1px 4px #0002}\
h1{font-size:1.6rem;margin:.25rem 0 1rem}h1.valid{color:#136f3a}h1.invalid{color:#b42318}h1.unsure{color:#8a5300}\
.issuer{color:#5b6575;margin:0}.award{font-size:1.15rem}dt{font-weight:600;margin-top:.6rem}dd{margin:0}\
.note{color:#5b6575;font-size:.9rem;margin-top:1.5rem}code{font-size:.95em}\
@media (prefers-color-scheme:dark){body{background:#12151b;color:#e6e9ef}main{background:#1c2129}.issuer,.note{color:#a3adbd}\
h1.valid{color:#5fd38d}h1.invalid{color:#ff8a7a}h1.unsure{color:#f0b54a}a{color:#8ab4ff}}";

/// Text made safe for HTML content and attribute values.
pub(crate) fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn accept(value: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(header::ACCEPT, HeaderValue::from_str(value).unwrap());
        h
    }

    #[test]
    fn browsers_get_the_page_and_api_clients_get_json() {
        // Firefox's and WebKit's navigation Accept headers.
        assert!(wants_html(&accept(
            "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
        )));
        assert!(wants_html(&accept(
            "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8"
        )));
        assert!(!wants_html(&HeaderMap::new()));
        assert!(!wants_html(&accept("*/*")));
        assert!(!wants_html(&accept("application/json")));
        assert!(!wants_html(&accept("application/json, text/html")));
        assert!(!wants_html(&accept("text/html;q=0")));
        assert!(wants_html(&accept("application/json;q=0.5, text/html")));
    }

    #[test]
    fn names_cannot_write_markup() {
        assert_eq!(
            escape("<script>alert('x')</script> & \"co\""),
            "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;co&quot;"
        );
    }
}
