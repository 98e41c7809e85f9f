//! Signing up and in over the API, for the benchmarks that act as many learners.

use anyhow::Context as _;
use serde_json::{Value, json};

/// Signs up `email` with `password` (its name is the address); the access token.
#[allow(dead_code, reason = "sync-bench only signs in")]
pub async fn sign_up(
    http: &reqwest::Client,
    url: &str,
    email: &str,
    password: &str,
) -> anyhow::Result<String> {
    access_token(
        http.post(format!("{url}/api/v1/auth/sign-up"))
            .json(&json!({"email": email, "password": password, "full_name": email})),
    )
    .await
}

/// Signs `email` in; the access token.
#[allow(dead_code, reason = "vote-storm only signs up")]
pub async fn sign_in(
    http: &reqwest::Client,
    url: &str,
    email: &str,
    password: &str,
) -> anyhow::Result<String> {
    access_token(
        http.post(format!("{url}/api/v1/auth/sign-in"))
            .json(&json!({"email": email, "password": password})),
    )
    .await
}

async fn access_token(request: reqwest::RequestBuilder) -> anyhow::Result<String> {
    let session: Value = request.send().await?.error_for_status()?.json().await?;
    session["access_token"]
        .as_str()
        .map(str::to_owned)
        .context("no access token")
}
