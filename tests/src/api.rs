//! A small HTTP client for the API, for tests: real requests over a real socket.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use skilltrack_protocol::Problem;
use skilltrack_protocol::auth::Session;

/// A client of one test server.
#[derive(Debug, Clone)]
pub struct Api {
    base: String,
    http: reqwest::Client,
}

/// An answer: status, headers and JSON body (or `Null`).
#[derive(Debug)]
pub struct Answer {
    /// The status.
    pub status: StatusCode,
    /// The headers.
    pub headers: reqwest::header::HeaderMap,
    /// The body as JSON, `Null` if empty or not JSON.
    pub body: Value,
}

impl Answer {
    /// The body as a problem document; panics (with the answer) if it is not one.
    pub fn problem(&self) -> Problem {
        assert_eq!(
            self.headers
                .get("content-type")
                .and_then(|v| v.to_str().ok()),
            Some("application/problem+json"),
            "not a problem document: {self:?}"
        );
        serde_json::from_value(self.body.clone()).expect("a problem document")
    }

    /// The problem's `code`.
    pub fn code(&self) -> String {
        self.problem().code
    }

    /// The JSON pointers of a validation problem's field errors.
    pub fn pointers(&self) -> Vec<String> {
        self.problem()
            .errors
            .into_iter()
            .map(|e| e.pointer)
            .collect()
    }
}

impl Api {
    /// A client for `base` (`http://127.0.0.1:port`).
    pub fn new(base: &str) -> Self {
        Self {
            base: base.to_owned(),
            http: reqwest::Client::new(),
        }
    }

    /// Sends a request with an optional bearer token and JSON body.
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> Answer {
        let mut req = self.http.request(method, format!("{}{path}", self.base));
        if let Some(token) = token {
            req = req.bearer_auth(token);
        }
        if let Some(body) = body {
            req = req.json(&body);
        }
        let res = req.send().await.expect("the server answers");
        let status = res.status();
        let headers = res.headers().clone();
        let bytes = res.bytes().await.expect("a body");
        let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        Answer {
            status,
            headers,
            body,
        }
    }

    /// `GET`.
    pub async fn get(&self, path: &str, token: Option<&str>) -> Answer {
        self.call(Method::GET, path, token, None).await
    }

    /// `POST` with a JSON body.
    pub async fn post(&self, path: &str, token: Option<&str>, body: Value) -> Answer {
        self.call(Method::POST, path, token, Some(body)).await
    }

    /// Signs up and returns the session; panics unless it worked.
    pub async fn sign_up(&self, email: &str, password: &str, name: &str) -> Session {
        let a = self
            .post(
                "/api/v1/auth/sign-up",
                None,
                json!({"email": email, "password": password, "full_name": name}),
            )
            .await;
        assert_eq!(a.status, StatusCode::CREATED, "{a:?}");
        serde_json::from_value(a.body).expect("a session")
    }

    /// Signs in and returns the answer.
    pub async fn sign_in(&self, email: &str, password: &str) -> Answer {
        self.post(
            "/api/v1/auth/sign-in",
            None,
            json!({"email": email, "password": password}),
        )
        .await
    }

    /// Signs in, which must succeed, and returns the access token.
    ///
    /// # Panics
    /// When the sign-in is refused.
    pub async fn access_token(&self, email: &str, password: &str) -> String {
        let a = self.sign_in(email, password).await;
        assert_eq!(a.status, StatusCode::OK, "signing in {email}: {}", a.body);
        a.body["access_token"]
            .as_str()
            .expect("an access token")
            .to_owned()
    }

    /// Refreshes and returns the answer.
    pub async fn refresh(&self, refresh_token: &str) -> Answer {
        self.post(
            "/api/v1/auth/refresh",
            None,
            json!({"refresh_token": refresh_token}),
        )
        .await
    }
}

/// The session in a successful answer.
pub fn session(a: &Answer) -> Session {
    assert!(a.status.is_success(), "{a:?}");
    serde_json::from_value(a.body.clone()).expect("a session")
}
