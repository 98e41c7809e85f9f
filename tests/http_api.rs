//! The HTTP surface over a real socket: probes, and problem+json for every error.

use skilltrack_protocol::Problem;
use skilltrack_protocol::health::Readiness;
use skilltrack_tests::spawn_server;

async fn problem(response: reqwest::Response) -> Problem {
    assert_eq!(
        response.headers()["content-type"],
        "application/problem+json",
        "{}",
        response.status()
    );
    response.json().await.unwrap()
}

#[tokio::test]
async fn probes_answer() {
    let server = spawn_server().await;
    let http = reqwest::Client::new();
    let live = http
        .get(format!("{}/healthz", server.url))
        .send()
        .await
        .unwrap();
    assert_eq!(live.status(), 200);
    assert!(live.headers().contains_key("x-request-id"));
    assert_eq!(live.text().await.unwrap(), "ok");

    let ready = http
        .get(format!("{}/readyz", server.url))
        .send()
        .await
        .unwrap();
    assert_eq!(ready.status(), 200);
    let ready: Readiness = ready.json().await.unwrap();
    let newest = skilltrack_server::db::MIGRATOR
        .iter()
        .map(|m| m.version)
        .max();
    assert_eq!(
        ready,
        Readiness {
            ready: true,
            database: true,
            schema_version: newest
        }
    );
}

#[tokio::test]
async fn readiness_fails_cleanly_when_the_database_is_gone() {
    let server = spawn_server().await;
    server.db.db.close().await;
    let ready = reqwest::get(format!("{}/readyz", server.url))
        .await
        .unwrap();
    assert_eq!(ready.status(), 503);
    let ready: Readiness = ready.json().await.unwrap();
    assert!(!ready.ready && !ready.database);
}

#[tokio::test]
async fn every_error_is_a_problem_document_with_a_stable_code() {
    let server = spawn_server().await;
    let http = reqwest::Client::new();

    let missing = http
        .get(format!("{}/api/v1/nothing-here", server.url))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 404);
    let p = problem(missing).await;
    assert_eq!((p.code.as_str(), p.status), ("not_found", 404));

    let wrong_method = http
        .delete(format!("{}/healthz", server.url))
        .send()
        .await
        .unwrap();
    assert_eq!(wrong_method.status(), 405);
    assert_eq!(problem(wrong_method).await.code, "method_not_allowed");

    let too_big = http
        .post(format!("{}/healthz", server.url))
        .body(vec![b'x'; 2 * 1024 * 1024])
        .send()
        .await
        .unwrap();
    assert_eq!(too_big.status(), 413);
    assert_eq!(problem(too_big).await.code, "payload_too_large");

    let no_media = http
        // Percent-encoded, so the client does not normalise the traversal away.
        .get(format!(
            "{}/media/demo/..%2F..%2F..%2Fetc%2Fpasswd",
            server.url
        ))
        .send()
        .await
        .unwrap();
    assert!(no_media.status().is_client_error(), "{}", no_media.status());
    assert_eq!(problem(no_media).await.status / 100, 4);
}

/// Issue 18: a NUL character (which no PostgreSQL text takes) anywhere in what a client sends
/// is refused with a 422 naming the field, never a 500 — in a JSON body, nested or not, in a
/// query string, and in a path.
#[tokio::test]
async fn a_nul_character_is_refused_with_the_field_never_a_500() {
    let server = skilltrack_tests::spawn_demo_server().await;
    let api = skilltrack_tests::api::Api::new(&server.url);
    let instructor = skilltrack_tests::api::session(
        &api.sign_in("instructor@skilltrack.dev", "instructor-demo-pass")
            .await,
    );
    let token = Some(instructor.access_token.as_str());
    let services = api.get("/api/v1/services", None).await;
    let service = services.body["items"][0]["id"].clone();
    let course = api
        .post(
            "/api/v1/authoring/courses",
            token,
            serde_json::json!({"title": "Bad\u{0}title", "slug": "nul-course", "service_id": service,
                               "description": "A course.", "duration": "1 week",
                               "level": "Beginner", "price": "0"}),
        )
        .await;
    assert_eq!(course.status, 422, "{course:?}");
    assert_eq!(course.pointers(), ["/title"], "{course:?}");
    assert_eq!(course.problem().errors[0].code, "nul_character");
    let nested = api
        .post(
            "/api/v1/sync/push",
            token,
            serde_json::json!({"mutations": [{"id": uuid::Uuid::now_v7(), "at": "2026-12-06T00:00:00Z",
                "change": {"kind": "course_review_put", "course_id": uuid::Uuid::nil(),
                           "rating": 5, "review_text": "a\u{0}b"}}]}),
        )
        .await;
    assert_eq!(nested.status, 422, "{nested:?}");
    assert_eq!(
        nested.pointers(),
        ["/mutations/0/change/review_text"],
        "{nested:?}"
    );
    let query = api
        .call(reqwest::Method::GET, "/api/v1/courses?q=a%00b", None, None)
        .await;
    assert_eq!(query.status, 422, "{query:?}");
    assert_eq!(query.pointers(), ["q"], "{query:?}");
    let path = api
        .call(reqwest::Method::GET, "/api/v1/labs/a%00b", None, None)
        .await;
    assert!(path.status.is_client_error(), "{path:?}");
}

/// Issue 20, operators: `/metrics` in the Prometheus text format counts each request on its
/// declared route (never the id in it), and only clients on the server's own machine read it.
#[tokio::test]
async fn operators_read_metrics_by_route_from_the_servers_machine_only() {
    use skilltrack_server::http::auth::AuthLimits;
    // The server trusts a proxy on the loopback address, so a request it forwards for another
    // machine is that machine's.
    let server = skilltrack_tests::spawn_server_with(AuthLimits {
        trusted_proxies: vec!["127.0.0.1/32".parse().unwrap()],
        ..AuthLimits::default()
    })
    .await;
    let client = reqwest::Client::new();
    for _ in 0..3 {
        let res = client
            .get(format!(
                "{}/api/v1/courses/{}",
                server.url,
                uuid::Uuid::now_v7()
            ))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), reqwest::StatusCode::NOT_FOUND);
    }
    client
        .get(format!("{}/healthz", server.url))
        .send()
        .await
        .unwrap();

    let res = client
        .get(format!("{}/metrics", server.url))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), reqwest::StatusCode::OK);
    assert!(
        res.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain; version=0.0.4")
    );
    let text = res.text().await.unwrap();
    assert!(
        text.contains(
            r#"skilltrack_http_requests_total{method="GET",route="/api/v1/courses/{id}",status="404"} 3"#
        ),
        "{text}"
    );
    assert!(
        text.contains(
            r#"skilltrack_http_request_duration_seconds_count{method="GET",route="/healthz"} 1"#
        ),
        "{text}"
    );
    for gauge in [
        "skilltrack_db_pool_connections",
        "skilltrack_sync_live_channels",
        "skilltrack_lab_shells",
    ] {
        assert!(text.contains(&format!("\n{gauge} ")), "{gauge} in {text}");
    }

    // Forwarded for another machine: refused, as a problem with its code.
    let res = client
        .get(format!("{}/metrics", server.url))
        .header("x-forwarded-for", "203.0.113.9")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), reqwest::StatusCode::FORBIDDEN);
    let problem: Problem = res.json().await.unwrap();
    assert_eq!(problem.code, "forbidden");
}
