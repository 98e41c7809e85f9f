//! `/api/v1/auth` over real HTTP: sign-up, sign-in, tokens, refresh rotation, sign-out, limits.

use std::time::Duration;

use jsonwebtoken::{Algorithm, EncodingKey, Header};
use reqwest::StatusCode;
use serde_json::json;
use skilltrack_server::http::auth::AuthLimits;
use skilltrack_tests::api::{Api, session};
use skilltrack_tests::{TEST_JWT_SECRET, spawn_server, spawn_server_with};
use uuid::Uuid;

const PASSWORD: &str = "correct horse battery";

#[tokio::test]
async fn a_new_user_signs_up_signs_in_refreshes_and_signs_out() {
    let server = spawn_server().await;
    let api = Api::new(&server.url);
    let first = api
        .sign_up("Ada@Example.com", PASSWORD, "  Ada Lovelace ")
        .await;
    assert_eq!(first.token_type, "bearer");
    assert_eq!(first.expires_in, 900);
    assert_eq!(first.user.full_name.as_deref(), Some("Ada Lovelace"));
    assert_eq!(first.user.role, skilltrack_protocol::UserRole::Student);

    let me = api.get("/api/v1/me", Some(&first.access_token)).await;
    assert_eq!(me.status, StatusCode::OK);
    assert_eq!(me.body["email"], "Ada@Example.com");

    // The e-mail matches whatever its case.
    let second = session(&api.sign_in("ada@example.COM", PASSWORD).await);
    assert_eq!(second.user.id, first.user.id);
    assert_eq!(
        second.user.login_count, 2,
        "sign-up signs in, and so did this"
    );
    let logins: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM user_activities WHERE user_id = $1 AND activity_type = 'login'",
    )
    .bind(first.user.id)
    .fetch_one(server.db.owner())
    .await
    .unwrap();
    assert_eq!(logins, 2);

    let refreshed = session(&api.refresh(&second.refresh_token).await);
    assert_ne!(refreshed.refresh_token, second.refresh_token);
    assert_eq!(
        api.get("/api/v1/me", Some(&refreshed.access_token))
            .await
            .status,
        StatusCode::OK
    );

    let out = api
        .post(
            "/api/v1/auth/sign-out",
            Some(&refreshed.access_token),
            json!({}),
        )
        .await;
    assert_eq!(out.status, StatusCode::NO_CONTENT);
    let after = api.refresh(&refreshed.refresh_token).await;
    assert_eq!(
        (after.status, after.code().as_str()),
        (StatusCode::UNAUTHORIZED, "session_revoked")
    );
    // The other device (the sign-up session) is still signed in.
    assert_eq!(
        api.refresh(&first.refresh_token).await.status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn passwords_are_stored_as_argon2id_hashes_only() {
    let server = spawn_server().await;
    let api = Api::new(&server.url);
    let s = api.sign_up("hash@example.com", PASSWORD, "H").await;
    let stored: String =
        sqlx::query_scalar("SELECT encrypted_password FROM auth.users WHERE id = $1")
            .bind(s.user.id)
            .fetch_one(server.db.owner())
            .await
            .unwrap();
    assert!(stored.starts_with("$argon2id$"), "{stored}");
    assert!(!stored.contains(PASSWORD));
    let tokens: Vec<Vec<u8>> = sqlx::query_scalar("SELECT token_hash FROM auth.refresh_tokens")
        .fetch_all(server.db.owner())
        .await
        .unwrap();
    assert!(
        tokens
            .iter()
            .all(|t| t.len() == 32 && *t != s.refresh_token.as_bytes())
    );
}

#[tokio::test]
async fn every_sign_up_rule_broken_gets_its_own_clear_error() {
    let server = spawn_server().await;
    let api = Api::new(&server.url);
    let a = api
        .post(
            "/api/v1/auth/sign-up",
            None,
            json!({"email": "nope", "password": "short", "full_name": ""}),
        )
        .await;
    assert_eq!(a.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(a.code(), "validation_failed");
    assert_eq!(a.pointers(), ["/email", "/password", "/full_name"]);

    let p = |n: usize| "p".repeat(n);
    for (password, ok) in [(p(7), false), (p(8), true), (p(128), true), (p(129), false)] {
        let email = format!("len{}@example.com", password.len());
        let a = api
            .post(
                "/api/v1/auth/sign-up",
                None,
                json!({"email": email, "password": password, "full_name": "X"}),
            )
            .await;
        assert_eq!(
            a.status.is_success(),
            ok,
            "{} characters: {a:?}",
            password.len()
        );
    }

    api.sign_up("taken@example.com", PASSWORD, "T").await;
    let dup = api
        .post(
            "/api/v1/auth/sign-up",
            None,
            json!({"email": "TAKEN@example.com", "password": PASSWORD, "full_name": "T"}),
        )
        .await;
    assert_eq!(
        (dup.status, dup.code().as_str()),
        (StatusCode::CONFLICT, "email_taken")
    );

    let missing = api
        .post(
            "/api/v1/auth/sign-up",
            None,
            json!({"email": "m@example.com"}),
        )
        .await;
    assert_eq!(missing.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(missing.problem().detail.contains("password"), "{missing:?}");

    let extra = api.post("/api/v1/auth/sign-up", None, json!({"email": "r@example.com", "password": PASSWORD, "full_name": "R", "role": "admin"})).await;
    assert_eq!(extra.status, StatusCode::UNPROCESSABLE_ENTITY, "{extra:?}");

    let raw = reqwest::Client::new()
        .post(format!("{}/api/v1/auth/sign-up", server.url))
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(raw.status(), StatusCode::BAD_REQUEST);
    let untyped = reqwest::Client::new()
        .post(format!("{}/api/v1/auth/sign-up", server.url))
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(untyped.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn wrong_passwords_and_unknown_accounts_get_the_same_answer() {
    let server = spawn_server().await;
    let api = Api::new(&server.url);
    api.sign_up("known@example.com", PASSWORD, "K").await;
    let wrong = api.sign_in("known@example.com", "wrong password").await;
    let unknown = api.sign_in("unknown@example.com", "wrong password").await;
    for a in [&wrong, &unknown] {
        assert_eq!(
            (a.status, a.code().as_str()),
            (StatusCode::UNAUTHORIZED, "invalid_credentials")
        );
        assert!(a.headers.contains_key("www-authenticate"));
    }
    assert_eq!(wrong.problem().detail, unknown.problem().detail);
}

fn forge(secret: &[u8], alg: Algorithm, claims: &serde_json::Value) -> String {
    jsonwebtoken::encode(&Header::new(alg), claims, &EncodingKey::from_secret(secret)).unwrap()
}

#[tokio::test]
async fn expired_forged_unsigned_and_foreign_tokens_are_refused() {
    let server = spawn_server().await;
    let api = Api::new(&server.url);
    let s = api.sign_up("tok@example.com", PASSWORD, "T").await;
    let now = chrono::Utc::now().timestamp();
    let claims = |aud: &str, iss: &str, exp: i64| json!({"sub": s.user.id, "sid": Uuid::now_v7(), "role": "authenticated", "aud": aud, "iss": iss, "iat": now, "exp": exp});
    let good = forge(
        TEST_JWT_SECRET,
        Algorithm::HS256,
        &claims("skilltrack", "skilltrack-server", now + 60),
    );
    assert_eq!(
        api.get("/api/v1/me", Some(&good)).await.status,
        StatusCode::OK,
        "the forging helper is right"
    );

    let expired = forge(
        TEST_JWT_SECRET,
        Algorithm::HS256,
        &claims("skilltrack", "skilltrack-server", now - 60),
    );
    let a = api.get("/api/v1/me", Some(&expired)).await;
    assert_eq!(
        (a.status, a.code().as_str()),
        (StatusCode::UNAUTHORIZED, "token_expired")
    );

    let wrong_key = forge(
        b"another-key-another-key-another-key!!",
        Algorithm::HS256,
        &claims("skilltrack", "skilltrack-server", now + 60),
    );
    let wrong_aud = forge(
        TEST_JWT_SECRET,
        Algorithm::HS256,
        &claims("someone-else", "skilltrack-server", now + 60),
    );
    let wrong_iss = forge(
        TEST_JWT_SECRET,
        Algorithm::HS256,
        &claims("skilltrack", "evil", now + 60),
    );
    let other_alg = forge(
        TEST_JWT_SECRET,
        Algorithm::HS512,
        &claims("skilltrack", "skilltrack-server", now + 60),
    );
    // alg "none": a header and claims with an empty signature.
    let b64 = |v: serde_json::Value| {
        use base64::Engine as _;
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string())
    };
    let unsigned = format!(
        "{}.{}.",
        b64(json!({"alg": "none", "typ": "JWT"})),
        b64(claims("skilltrack", "skilltrack-server", now + 60))
    );
    for (name, token) in [
        ("wrong key", wrong_key),
        ("wrong audience", wrong_aud),
        ("wrong issuer", wrong_iss),
        ("HS512", other_alg),
        ("alg none", unsigned),
        ("garbage", "garbage".to_owned()),
    ] {
        let a = api.get("/api/v1/me", Some(&token)).await;
        assert_eq!(
            (a.status, a.code().as_str()),
            (StatusCode::UNAUTHORIZED, "invalid_token"),
            "{name}"
        );
    }
    let basic = reqwest::Client::new()
        .get(format!("{}/api/v1/me", server.url))
        .header("authorization", "Basic dXNlcjpwYXNz")
        .send()
        .await
        .unwrap();
    assert_eq!(basic.status(), StatusCode::UNAUTHORIZED);
    let none = api.get("/api/v1/me", None).await;
    assert_eq!(
        (none.status, none.code().as_str()),
        (StatusCode::UNAUTHORIZED, "unauthenticated")
    );
}

#[tokio::test]
async fn reusing_a_rotated_refresh_token_revokes_the_whole_session() {
    let server = spawn_server_with(AuthLimits {
        refresh_grace: Duration::ZERO,
        ..AuthLimits::default()
    })
    .await;
    let api = Api::new(&server.url);
    let s = api.sign_up("reuse@example.com", PASSWORD, "R").await;
    let next = session(&api.refresh(&s.refresh_token).await);
    let stolen = api.refresh(&s.refresh_token).await;
    assert_eq!(
        (stolen.status, stolen.code().as_str()),
        (StatusCode::UNAUTHORIZED, "refresh_token_reused")
    );
    // The legitimate holder's newer token is dead too: the session is over.
    let after = api.refresh(&next.refresh_token).await;
    assert_eq!(
        (after.status, after.code().as_str()),
        (StatusCode::UNAUTHORIZED, "session_revoked")
    );
    let unknown = api.refresh("never-issued").await;
    assert_eq!(
        (unknown.status, unknown.code().as_str()),
        (StatusCode::UNAUTHORIZED, "invalid_refresh_token")
    );
}

#[tokio::test]
async fn concurrent_refreshes_from_one_client_within_the_grace_window_both_succeed() {
    let server = spawn_server_with(AuthLimits {
        refresh_grace: Duration::from_secs(60),
        ..AuthLimits::default()
    })
    .await;
    let api = Api::new(&server.url);
    let s = api.sign_up("race@example.com", PASSWORD, "R").await;
    let (a, b) = tokio::join!(api.refresh(&s.refresh_token), api.refresh(&s.refresh_token));
    assert_eq!(
        (a.status, b.status),
        (StatusCode::OK, StatusCode::OK),
        "{a:?} {b:?}"
    );
    // The same next token for both: one client, one chain (a fork is what let a replayed token
    // go unnoticed; see security_review).
    assert_eq!(session(&a).refresh_token, session(&b).refresh_token);
}

#[tokio::test]
async fn sign_out_everywhere_ends_every_session() {
    let server = spawn_server().await;
    let api = Api::new(&server.url);
    let phone = api.sign_up("everywhere@example.com", PASSWORD, "E").await;
    let laptop = session(&api.sign_in("everywhere@example.com", PASSWORD).await);
    let bad = api
        .post(
            "/api/v1/auth/sign-out",
            Some(&laptop.access_token),
            json!({"scope": "galaxy"}),
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    let out = api
        .post(
            "/api/v1/auth/sign-out",
            Some(&laptop.access_token),
            json!({"scope": "global"}),
        )
        .await;
    assert_eq!(out.status, StatusCode::NO_CONTENT);
    for token in [&phone.refresh_token, &laptop.refresh_token] {
        assert_eq!(api.refresh(token).await.code(), "session_revoked");
    }
    let anonymous = api.post("/api/v1/auth/sign-out", None, json!({})).await;
    assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn failed_sign_ins_back_off_per_account_and_address_after_the_configured_number() {
    let limits = AuthLimits {
        failures_before_backoff: 3,
        per_ip: 1000,
        window: Duration::from_secs(600),
        ..AuthLimits::default()
    };
    let server = spawn_server_with(limits).await;
    let api = Api::new(&server.url);
    api.sign_up("limited@example.com", PASSWORD, "L").await;
    for n in 1..=3 {
        let a = api.sign_in("limited@example.com", "wrong password").await;
        assert_eq!(a.status, StatusCode::UNAUTHORIZED, "attempt {n}");
    }
    // From the same address, the fourth waits before the password is even looked at, right one
    // or not.
    let a = api.sign_in("LIMITED@example.com", PASSWORD).await;
    assert_eq!(
        (a.status, a.code().as_str()),
        (StatusCode::TOO_MANY_REQUESTS, "rate_limited")
    );
    let retry: u64 = a.headers["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=600).contains(&retry), "{retry}");
    // Another account is unaffected.
    api.sign_up("free@example.com", PASSWORD, "F").await;
    assert_eq!(
        api.sign_in("free@example.com", PASSWORD).await.status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn sign_in_and_sign_up_are_limited_per_address_exactly() {
    let limits = AuthLimits {
        failures_before_backoff: 1000,
        per_ip: 4,
        window: Duration::from_secs(600),
        ..AuthLimits::default()
    };
    let server = spawn_server_with(limits).await;
    let api = Api::new(&server.url);
    for n in 0..4 {
        let a = api
            .sign_in(&format!("nobody{n}@example.com"), "x-password")
            .await;
        assert_eq!(a.status, StatusCode::UNAUTHORIZED, "attempt {n}");
    }
    let a = api.sign_in("nobody9@example.com", "x-password").await;
    assert_eq!(a.status, StatusCode::TOO_MANY_REQUESTS);
    for n in 0..4 {
        api.sign_up(&format!("new{n}@example.com"), PASSWORD, "N")
            .await;
    }
    let a = api
        .post(
            "/api/v1/auth/sign-up",
            None,
            json!({"email": "new9@example.com", "password": PASSWORD, "full_name": "N"}),
        )
        .await;
    assert_eq!(a.status, StatusCode::TOO_MANY_REQUESTS);
}

/// The shared counters (decision 266) do not pile up: the cluster's cleanup deletes every
/// window that has ended and keeps the running ones; the keys are stored hashed.
#[tokio::test]
async fn ended_rate_limit_windows_are_deleted_and_no_address_is_stored_in_clear() {
    let server = spawn_server_with(AuthLimits {
        per_ip: 1000,
        ..AuthLimits::default()
    })
    .await;
    let api = Api::new(&server.url);
    let a = api.sign_in("nobody@example.com", "x-password").await;
    assert_eq!(a.status, StatusCode::UNAUTHORIZED);
    let owner = server.db.owner();
    let stored: Vec<(String, Vec<u8>)> =
        sqlx::query_as("SELECT limiter, key_hash FROM private.rate_limits ORDER BY limiter")
            .fetch_all(owner)
            .await
            .unwrap();
    let limiters: Vec<&str> = stored.iter().map(|(l, _)| l.as_str()).collect();
    assert_eq!(limiters, ["sign_in_failures", "sign_in_per_ip"]);
    for (_, key) in &stored {
        assert_eq!(key.len(), 32);
        assert!(!String::from_utf8_lossy(key).contains("127.0.0.1"));
    }
    // One window ended long ago, beside the running ones.
    sqlx::query(
        "INSERT INTO private.rate_limits (limiter, key_hash, started_at, hits, expires_at)
         VALUES ('sign_in_per_ip', decode(repeat('01', 32), 'hex'),
                 now() - interval '20 minutes', 3, now() - interval '15 minutes')",
    )
    .execute(owner)
    .await
    .unwrap();
    let deleted = skilltrack_server::auth::rate_limit::delete_expired(server.db.api())
        .await
        .unwrap();
    assert_eq!(deleted, 1);
    let left: i64 = sqlx::query_scalar("SELECT count(*) FROM private.rate_limits")
        .fetch_one(owner)
        .await
        .unwrap();
    assert_eq!(left, 2);
}
