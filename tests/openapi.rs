//! The OpenAPI document is complete: every documented operation answers, only with statuses it
//! documents, and every error it documents is a problem document.

use reqwest::{Method, StatusCode};
use serde_json::Value;
use skilltrack_tests::api::Api;
use skilltrack_tests::{server_binary, spawn_server};

/// Every route the server has; a new route must be added here and to the document.
const EXPECTED: &[(&str, &str)] = &[
    ("get", "/healthz"),
    ("get", "/readyz"),
    ("put", "/api/v1/authoring/labs/{id}/prerequisites"),
    ("get", "/api/v1/courses/{id}/assessments"),
    ("get", "/api/v1/assessments/{id}"),
    ("get", "/api/v1/assessments/{id}/attempts"),
    ("post", "/api/v1/assessments/{id}/attempts"),
    ("get", "/api/v1/attempts/{id}"),
    ("put", "/api/v1/attempts/{id}/answers/{question}"),
    ("put", "/api/v1/attempts/{id}/submission"),
    ("get", "/api/v1/authoring/courses/{id}/assessments"),
    ("post", "/api/v1/authoring/courses/{id}/assessments"),
    ("get", "/api/v1/authoring/assessments/{id}"),
    ("patch", "/api/v1/authoring/assessments/{id}"),
    ("delete", "/api/v1/authoring/assessments/{id}"),
    ("post", "/api/v1/authoring/assessments/{id}/questions"),
    ("patch", "/api/v1/authoring/questions/{id}"),
    ("delete", "/api/v1/authoring/questions/{id}"),
    ("get", "/api/v1/authoring/grading-queue"),
    ("put", "/api/v1/authoring/answers/{id}/grade"),
    ("get", "/api/v1/authoring/assessments/{id}/attempts"),
    ("get", "/api/v1/authoring/assessments/{id}/statistics"),
    ("get", "/api/openapi.json"),
    ("get", "/api/docs"),
    ("get", "/api/docs/redoc.standalone.js"),
    ("get", "/metrics"),
    ("get", "/media/demo/{path}"),
    ("post", "/api/v1/uploads"),
    ("get", "/media/uploads/{file}"),
    ("post", "/api/v1/auth/sign-up"),
    ("post", "/api/v1/auth/sign-in"),
    ("post", "/api/v1/auth/refresh"),
    ("post", "/api/v1/auth/sign-out"),
    ("post", "/api/v1/auth/password-reset"),
    ("post", "/api/v1/auth/password-reset/complete"),
    ("post", "/api/v1/auth/email-confirmation"),
    ("get", "/account/reset-password"),
    ("post", "/account/reset-password"),
    ("get", "/account/confirm-email"),
    ("post", "/account/confirm-email"),
    ("get", "/api/v1/me"),
    ("patch", "/api/v1/me"),
    ("get", "/api/v1/settings"),
    ("get", "/api/v1/admin/users"),
    ("put", "/api/v1/admin/users/{id}/role"),
    ("put", "/api/v1/admin/users/{id}/password"),
    ("put", "/api/v1/admin/settings/{key}"),
    ("delete", "/api/v1/admin/settings/{key}"),
    ("get", "/api/v1/admin/services"),
    ("post", "/api/v1/admin/services"),
    ("patch", "/api/v1/admin/services/{id}"),
    ("delete", "/api/v1/admin/services/{id}"),
    ("post", "/api/v1/admin/lab-categories"),
    ("patch", "/api/v1/admin/lab-categories/{id}"),
    ("delete", "/api/v1/admin/lab-categories/{id}"),
    ("get", "/api/v1/services"),
    ("get", "/api/v1/courses"),
    ("get", "/api/v1/courses/{id}"),
    ("get", "/api/v1/lessons/{id}"),
    ("get", "/api/v1/lab-categories"),
    ("get", "/api/v1/labs"),
    ("get", "/api/v1/labs/{id}"),
    ("post", "/api/v1/labs/{id}/sessions"),
    ("post", "/api/v1/labs/{id}/checkout"),
    ("get", "/api/v1/lab-images"),
    ("get", "/api/v1/labs/{id}/steps"),
    ("get", "/api/v1/authoring/labs/{id}/steps"),
    ("put", "/api/v1/authoring/labs/{id}/steps"),
    ("post", "/api/v1/lab-sessions/{id}/check"),
    ("post", "/api/v1/authoring/lab-self-tests"),
    ("get", "/api/v1/me/lab-sessions"),
    ("get", "/api/v1/lab-sessions/{id}"),
    ("post", "/api/v1/lab-sessions/{id}/pause"),
    ("post", "/api/v1/lab-sessions/{id}/resume"),
    ("post", "/api/v1/lab-sessions/{id}/stop"),
    ("put", "/api/v1/lab-sessions/{id}/progress"),
    ("get", "/api/v1/lab-sessions/{id}/files"),
    ("delete", "/api/v1/lab-sessions/{id}/files"),
    ("get", "/api/v1/lab-sessions/{id}/files/content"),
    ("put", "/api/v1/lab-sessions/{id}/files/content"),
    ("post", "/api/v1/lab-sessions/{id}/files/directories"),
    ("get", "/api/v1/lab-sessions/{id}/terminal"),
    ("get", "/api/v1/course-tags"),
    ("post", "/api/v1/courses/{id}/enrollment"),
    ("delete", "/api/v1/courses/{id}/enrollment"),
    ("get", "/api/v1/me/enrollments"),
    ("put", "/api/v1/lessons/{id}/progress"),
    ("get", "/api/v1/me/progress"),
    ("get", "/api/v1/me/certificates"),
    ("get", "/api/v1/certificates/{number}"),
    ("get", "/api/v1/me/certificates/{id}/credential"),
    ("get", "/.well-known/jwks.json"),
    ("get", "/api/v1/certificates/issuer"),
    ("get", "/api/v1/certificates/status/{list}"),
    ("post", "/api/v1/admin/certificates/{id}/revocation"),
    ("post", "/api/v1/courses/{id}/checkout"),
    ("get", "/api/v1/courses/{id}/reviews"),
    ("post", "/api/v1/courses/{id}/reviews"),
    ("get", "/api/v1/labs/{id}/reviews"),
    ("post", "/api/v1/labs/{id}/reviews"),
    ("patch", "/api/v1/reviews/courses/{review_id}"),
    ("delete", "/api/v1/reviews/courses/{review_id}"),
    ("patch", "/api/v1/reviews/labs/{review_id}"),
    ("delete", "/api/v1/reviews/labs/{review_id}"),
    ("put", "/api/v1/reviews/courses/{review_id}/vote"),
    ("delete", "/api/v1/reviews/courses/{review_id}/vote"),
    ("put", "/api/v1/reviews/labs/{review_id}/vote"),
    ("delete", "/api/v1/reviews/labs/{review_id}/vote"),
    ("get", "/api/v1/me/bookmarks"),
    ("put", "/api/v1/me/bookmarks/{entity_type}/{entity_id}"),
    ("delete", "/api/v1/me/bookmarks/{entity_type}/{entity_id}"),
    ("get", "/api/v1/me/notifications"),
    ("get", "/api/v1/me/notifications/unread-count"),
    ("post", "/api/v1/me/notifications/{id}/read"),
    ("post", "/api/v1/me/notifications/read-all"),
    ("get", "/api/v1/authoring/course-packages/{course}"),
    ("get", "/api/v1/authoring/courses"),
    ("post", "/api/v1/authoring/courses"),
    ("patch", "/api/v1/authoring/courses/{id}"),
    ("delete", "/api/v1/authoring/courses/{id}"),
    ("post", "/api/v1/authoring/courses/{id}/publish"),
    ("post", "/api/v1/authoring/courses/{id}/unpublish"),
    ("put", "/api/v1/authoring/course-packages"),
    ("put", "/api/v1/authoring/courses/{id}/prerequisites"),
    ("put", "/api/v1/authoring/courses/{id}/tags"),
    ("post", "/api/v1/authoring/courses/{id}/modules"),
    ("patch", "/api/v1/authoring/modules/{id}"),
    ("delete", "/api/v1/authoring/modules/{id}"),
    ("post", "/api/v1/authoring/modules/{id}/lessons"),
    ("patch", "/api/v1/authoring/lessons/{id}"),
    ("delete", "/api/v1/authoring/lessons/{id}"),
    ("get", "/api/v1/authoring/labs"),
    ("post", "/api/v1/authoring/labs"),
    ("patch", "/api/v1/authoring/labs/{id}"),
    ("delete", "/api/v1/authoring/labs/{id}"),
    ("post", "/api/v1/authoring/labs/{id}/publish"),
    ("post", "/api/v1/authoring/labs/{id}/unpublish"),
    ("post", "/api/v1/analytics/events"),
    ("get", "/api/v1/admin/analytics/active-learners"),
    ("get", "/api/v1/admin/analytics/courses"),
    ("get", "/api/v1/sync/pull"),
    ("post", "/api/v1/sync/push"),
    ("get", "/api/v1/sync/live"),
    (
        "get",
        "/api/v1/desktop/updates/{target}/{arch}/{bundle}/{current_version}",
    ),
    ("get", "/api/v1/desktop/releases/{id}/{file_name}"),
];

fn operations(doc: &Value) -> Vec<(String, String, Value)> {
    let mut ops = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            ops.push((method.clone(), path.clone(), op.clone()));
        }
    }
    ops
}

#[tokio::test]
async fn the_document_lists_every_route_and_every_error() {
    let server = spawn_server().await;
    let api = Api::new(&server.url);
    let doc = api.get("/api/openapi.json", None).await;
    assert_eq!(doc.status, StatusCode::OK);
    let doc = doc.body;
    assert!(
        doc["openapi"].as_str().unwrap().starts_with("3.1"),
        "{}",
        doc["openapi"]
    );
    let ops = operations(&doc);
    let listed: Vec<(String, String)> =
        ops.iter().map(|(m, p, _)| (m.clone(), p.clone())).collect();
    let mut expected: Vec<(String, String)> = EXPECTED
        .iter()
        .map(|(m, p)| ((*m).to_owned(), (*p).to_owned()))
        .collect();
    let mut documented = listed.clone();
    expected.sort();
    documented.sort();
    assert_eq!(documented, expected, "the document and EXPECTED differ");

    for (method, path, op) in &ops {
        let responses = op["responses"].as_object().unwrap();
        assert!(
            // 101: the terminal's WebSocket upgrade is its success.
            responses.keys().any(|s| s.starts_with('2') || s == "101"),
            "{method} {path}: no success response"
        );
        for (status, response) in responses {
            // The readiness probe answers 503 with its own report, which is documented.
            let is_readiness = path == "/readyz" && status == "503";
            // The pages a mailed link opens are for people: they say what went wrong in HTML.
            let is_page = response["content"]["text/html"].is_object();
            if (status.starts_with('4') || status.starts_with('5')) && !is_readiness && !is_page {
                let schema = &response["content"]["application/problem+json"]["schema"]["$ref"];
                assert_eq!(
                    schema, "#/components/schemas/Problem",
                    "{method} {path} {status}"
                );
            }
        }
    }
    // Operation ids are unique (OpenAPI requires it; generated clients name functions by them).
    let mut ids: Vec<&str> = ops
        .iter()
        .filter_map(|(_, _, op)| op["operationId"].as_str())
        .collect();
    assert_eq!(ids.len(), ops.len(), "an operation without an id");
    ids.sort_unstable();
    let before = ids.len();
    ids.dedup();
    assert_eq!(ids.len(), before, "operation ids repeat");
    // Every schema a reference names exists.
    let text = doc.to_string();
    for name in text
        .split("#/components/schemas/")
        .skip(1)
        .map(|s| s.split('"').next().unwrap())
    {
        assert!(
            doc["components"]["schemas"][name].is_object(),
            "missing schema {name}"
        );
    }
}

#[tokio::test]
async fn every_documented_operation_answers_with_a_documented_status() {
    let server = spawn_server().await;
    let api = Api::new(&server.url);
    let doc = api.get("/api/openapi.json", None).await.body;
    for (method, path, op) in operations(&doc) {
        let concrete = path
            .replace("{id}", &uuid::Uuid::now_v7().to_string())
            .replace("{key}", "some_key")
            .replace("{path}", "missing.webm")
            .replace("{file}", "missing.webm");
        let method = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
        // Anonymous, no body: every route must still answer with something it documents.
        let a = api.call(method.clone(), &concrete, None, None).await;
        let documented = op["responses"].as_object().unwrap();
        assert!(
            documented.contains_key(a.status.as_str()),
            "{method} {path} answered {} which it does not document: {:?}",
            a.status,
            a.body
        );
    }
}

/// Issue 18: every enum of the schema is published as the wire spells it (the database's
/// spelling, `student`, `in_app`, `Beginner`), never as Rust names its variants.
#[tokio::test]
async fn every_enum_is_published_as_the_wire_spells_it() {
    use skilltrack_protocol::*;
    fn wire<E: PgEnum + serde::Serialize>() -> (String, Vec<String>) {
        let name = std::any::type_name::<E>()
            .rsplit("::")
            .next()
            .unwrap()
            .to_owned();
        let values = E::ALL
            .iter()
            .map(|v| {
                serde_json::to_value(v)
                    .unwrap()
                    .as_str()
                    .unwrap()
                    .to_owned()
            })
            .collect();
        (name, values)
    }
    let server = spawn_server().await;
    let doc = Api::new(&server.url)
        .get("/api/openapi.json", None)
        .await
        .body;
    let schemas = &doc["components"]["schemas"];
    let mut wrong = Vec::new();
    let mut checked = 0;
    for (name, values) in [
        wire::<UserRole>(),
        wire::<EnrollmentStatus>(),
        wire::<LabSessionStatus>(),
        wire::<AssessmentType>(),
        wire::<ReviewPolicy>(),
        wire::<QuestionType>(),
        wire::<DifficultyLevel>(),
        wire::<PaymentStatus>(),
        wire::<PaymentMethod>(),
        wire::<NotificationType>(),
        wire::<NotificationStatus>(),
        wire::<ActivityType>(),
        wire::<EnvironmentStatus>(),
        wire::<FileType>(),
    ] {
        // An enum no documented type uses is not in the document at all.
        if schemas.get(&name).is_none() {
            continue;
        }
        checked += 1;
        let published: Vec<String> = schemas[&name]["enum"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|v| v.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default();
        if published != values {
            wrong.push(format!("{name}: published {published:?}, wire {values:?}"));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    assert!(checked >= 10, "only {checked} enums are in the document");
}

/// Issue 18: `/api/docs` is a browsable reference of the document, served by the server itself
/// (Redoc, compiled in): a page that loads only this server's script and document, under a
/// Content-Security-Policy that allows nothing from elsewhere.
#[tokio::test]
async fn the_reference_is_served_by_the_server_itself() {
    let server = spawn_server().await;
    let http = reqwest::Client::new();
    let page = http
        .get(format!("{}/api/docs", server.url))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    let header = |r: &reqwest::Response, name: &str| {
        r.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    };
    assert_eq!(header(&page, "content-type"), "text/html; charset=utf-8");
    let policy = header(&page, "content-security-policy");
    assert!(policy.starts_with("default-src 'none';"), "{policy}");
    assert!(policy.contains("script-src 'self';"), "{policy}");
    assert!(!policy.contains("unsafe-eval"), "{policy}");
    assert!(policy.contains("connect-src 'self'"), "{policy}");
    assert!(policy.contains("frame-ancestors 'none'"), "{policy}");
    assert!(
        !policy.contains("http"),
        "another origin is allowed: {policy}"
    );
    let html = page.text().await.unwrap();
    assert!(
        html.contains("<redoc spec-url=\"/api/openapi.json\""),
        "{html}"
    );
    let script = html
        .split("<script src=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap_or_else(|| panic!("no script in {html}"));
    assert!(
        script.starts_with("/api/docs/redoc.standalone.js?v="),
        "{script}"
    );
    // No inline script: the policy would refuse it.
    assert_eq!(html.matches("<script").count(), 1, "{html}");
    assert!(!html.contains("https://"), "{html}");

    let js = http
        .get(format!("{}{script}", server.url))
        .send()
        .await
        .unwrap();
    assert_eq!(js.status(), StatusCode::OK);
    assert_eq!(
        header(&js, "content-type"),
        "text/javascript; charset=utf-8"
    );
    assert_eq!(header(&js, "x-content-type-options"), "nosniff");
    assert!(
        header(&js, "cache-control").contains("max-age=31536000"),
        "{:?}",
        js.headers()
    );
    let body = js.text().await.unwrap();
    assert!(body.len() > 500_000, "{} bytes", body.len());
    assert!(body.contains("spec-url"), "not Redoc's standalone bundle");

    // 1.1 MB of script travels compressed to a client that accepts it (read without
    // decompression, even if another crate turns reqwest's gzip feature on).
    let gzipped = reqwest::Client::builder()
        .no_gzip()
        .build()
        .unwrap()
        .get(format!("{}{script}", server.url))
        .header("accept-encoding", "gzip")
        .send()
        .await
        .unwrap();
    assert_eq!(header(&gzipped, "content-encoding"), "gzip");
    assert!(gzipped.bytes().await.unwrap().len() < body.len() / 2);

    // Errors are still problem documents.
    let api = Api::new(&server.url);
    let missing = api.get("/api/docs/redoc.standalone.js.map", None).await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert_eq!(missing.code(), "not_found");
    let wrong_method = api
        .call(Method::POST, "/api/docs", None, Some(serde_json::json!({})))
        .await;
    assert_eq!(wrong_method.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(wrong_method.code(), "method_not_allowed");
}

/// `skilltrack-server openapi` prints, without a database, the document the server serves
/// (the UI's contract check generates its types from it).
#[tokio::test]
async fn the_binary_prints_the_document_the_server_serves() {
    let server = spawn_server().await;
    let document = Api::new(&server.url)
        .get("/api/openapi.json", None)
        .await
        .body;
    let out = std::process::Command::new(server_binary())
        .arg("openapi")
        // No database anywhere: the command must not need one.
        .env("DATABASE_URL", "postgres://nobody@127.0.0.1:1/nothing")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let printed: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(printed, document);
}

/// Issue 18: the links a client (and Schemathesis's stateful phase) follows from a created
/// thing into the next request name operations that exist, by a path parameter they have.
#[tokio::test]
async fn every_link_leads_to_an_operation_by_one_of_its_path_parameters() {
    let server = spawn_server().await;
    let api = Api::new(&server.url);
    let doc = api.get("/api/openapi.json", None).await.body;
    let by_id: std::collections::HashMap<String, Value> = operations(&doc)
        .into_iter()
        .filter_map(|(_, _, op)| Some((op["operationId"].as_str()?.to_owned(), op)))
        .collect();
    let mut links = 0;
    for (method, path, op) in operations(&doc) {
        for (status, response) in op["responses"].as_object().unwrap() {
            let Some(found) = response.get("links").and_then(Value::as_object) else {
                continue;
            };
            for (name, link) in found {
                let target = link["operationId"].as_str().unwrap();
                let to = by_id
                    .get(target)
                    .unwrap_or_else(|| panic!("{method} {path} {status} links to no {target}"));
                for (parameter, expression) in link["parameters"].as_object().unwrap() {
                    let declared = to["parameters"].as_array().is_some_and(|ps| {
                        ps.iter()
                            .any(|p| p["name"] == *parameter && p["in"] == "path")
                    });
                    assert!(
                        declared,
                        "{name}: {target} has no path parameter {parameter}"
                    );
                    assert!(
                        expression
                            .as_str()
                            .is_some_and(|e| e.starts_with("$response.body#/")),
                        "{name}: {expression}"
                    );
                }
                links += 1;
            }
        }
    }
    assert!(links >= 30, "only {links} links");
}
