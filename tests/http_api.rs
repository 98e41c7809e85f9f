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
