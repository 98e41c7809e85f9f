//! The OpenAPI 3.1 document, served at `/api/openapi.json`. Routes are registered together with
//! their documentation (`utoipa_axum::routes!`), so a route cannot exist undocumented; the
//! test suite checks the other direction (every documented operation answers).

use axum::extract::State;
use utoipa::openapi::OpenApi as OpenApiDoc;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use super::AppState;

/// The document's fixed parts; paths and schemas are added by the router.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "Skilltrack API",
        description = "The Skilltrack server's HTTP API. Every error is `application/problem+json` \
            with a stable `code`. Authenticate with `Authorization: Bearer <access token>` from \
            `/api/v1/auth/sign-in`.",
    ),
    paths(media),
    modifiers(&BearerAuth),
    tags(
        (name = "auth", description = "Sign-up, sign-in, refresh, sign-out"),
        (name = "profile", description = "The caller's own profile"),
        (name = "settings", description = "Platform settings"),
        (name = "admin", description = "Admins only"),
        (name = "catalog", description = "Services, courses, lessons, labs: what anyone may browse"),
        (name = "learning", description = "Enrollments, progress, certificates, payments"),
        (name = "certificates", description = "Certificates as signed Open Badges 3.0 credentials: keys, revocation lists, revocation"),
        (name = "engagement", description = "Reviews, helpful votes, bookmarks, notifications"),
        (name = "assessments", description = "Quizzes and exams: attempts, answers, submission, results"),
        (name = "authoring", description = "Instructors create, edit and publish their courses and labs"),
        (name = "analytics", description = "Event batches from the app; summaries for admins"),
        (name = "sync", description = "Offline sync: pull changes, push offline writes, the live channel"),
        (name = "health", description = "Probes"),
        (name = "media", description = "Lesson media"),
    )
)]
pub struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut OpenApiDoc) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .build(),
            ),
        );
    }
}

/// A demo media file (public sample content from `seed-demo`, with `Range` support).
#[utoipa::path(
    get, path = "/media/demo/{path}", tag = "media",
    params(("path" = String, Path, description = "e.g. `intro-to-the-terminal.webm`")),
    responses(
        (status = 200, description = "The file", content_type = "application/octet-stream"),
        (status = 206, description = "Part of the file, for a `Range` request"),
        (status = 404, description = "No such file", body = skilltrack_protocol::Problem, content_type = "application/problem+json"),
    )
)]
#[allow(
    dead_code,
    reason = "documents the ServeDir mounted at /media, which has no handler of its own"
)]
fn media() {}

/// `GET /api/openapi.json`.
#[utoipa::path(
    get, path = "/api/openapi.json", tag = "health",
    responses((status = 200, description = "This document", content_type = "application/json"))
)]
pub async fn document(State(state): State<AppState>) -> impl axum::response::IntoResponse {
    (
        [(axum::http::header::CONTENT_TYPE, "application/json")],
        state.openapi.as_str().to_owned(),
    )
}

/// The wire's tagged enums declared `#[serde(deny_unknown_fields)]`.
const CLOSED_ENUMS: &[&str] = &["MutationKind"];

/// The served document: utoipa's, with what holds for every route written in once rather than
/// repeated on each (and so never forgotten on one):
///
/// - a route that takes a JSON body answers `400` when it is not JSON and `422`
///   (`validation_failed`) when a field is unknown or breaks a rule, each error naming its field;
/// - a route that accepts a bearer token answers `401` when the token is bad, expired or
///   signed out, even where signing in is optional;
/// - signing out needs no body (it is optional: `{"scope": "global"}` ends every session).
pub fn complete(document: &OpenApiDoc) -> serde_json::Value {
    use serde_json::{Value, json};
    let mut doc = serde_json::to_value(document).unwrap_or(Value::Null);
    let problem = |description: &str| {
        json!({
            "description": description,
            "content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}
        })
    };
    // Tagged enums that refuse unknown fields: each variant is a closed object (utoipa says so
    // for structs only).
    for name in CLOSED_ENUMS {
        if let Some(variants) = doc
            .pointer_mut(&format!("/components/schemas/{name}/oneOf"))
            .and_then(Value::as_array_mut)
        {
            for variant in variants
                .iter_mut()
                .filter(|v| v.get("properties").is_some())
            {
                variant["additionalProperties"] = Value::Bool(false);
            }
        }
    }
    let Some(paths) = doc.get_mut("paths").and_then(Value::as_object_mut) else {
        return doc;
    };
    for (path, item) in paths.iter_mut() {
        let Some(item) = item.as_object_mut() else {
            continue;
        };
        for (method, operation) in item.iter_mut() {
            if !["get", "put", "post", "patch", "delete"].contains(&method.as_str()) {
                continue;
            }
            let has_body = operation.get("requestBody").is_some();
            let takes_token = operation
                .get("security")
                .and_then(Value::as_array)
                .is_some_and(|s| s.iter().any(|r| r.get("bearer").is_some()));
            // An upload is the file itself, sent as one of the media types the server takes.
            if method == "post" && path == "/api/v1/uploads" {
                let binary = json!({"schema": {"type": "string", "format": "binary"}});
                let content: serde_json::Map<String, Value> = crate::media::sniff::ACCEPTED
                    .iter()
                    .map(|(mime, _)| ((*mime).to_owned(), binary.clone()))
                    .collect();
                operation["requestBody"]["content"] = Value::Object(content);
            }
            if method == "post" && path == "/api/v1/auth/sign-out" {
                if let Some(body) = operation.get_mut("requestBody") {
                    body["required"] = Value::Bool(false);
                }
            }
            let Some(responses) = operation
                .get_mut("responses")
                .and_then(Value::as_object_mut)
            else {
                continue;
            };
            // A stream of server-sent events is described event by event: `event` is the
            // event's name and `data` its JSON text, of the schema the route names.
            for content in responses.values_mut().filter_map(|r| r.get_mut("content")) {
                if let Some(stream) = content.get_mut("text/event-stream")
                    && let Some(data) = stream.get("schema").cloned()
                {
                    stream["schema"] = json!({
                        "type": "object",
                        "required": ["event", "data"],
                        "properties": {
                            "event": {"type": "string", "enum": ["pull"]},
                            "data": {
                                "type": "string",
                                "contentMediaType": "application/json",
                                "contentSchema": data,
                            },
                            "id": {"type": "string"},
                            "retry": {"type": "integer"},
                        },
                    });
                }
            }
            if has_body {
                responses.entry("400").or_insert_with(|| {
                    problem("`bad_request`: the body is not JSON, or not of this route's shape")
                });
                responses.entry("422").or_insert_with(|| {
                    problem("`validation_failed`: a field is unknown or breaks a rule; `errors` names each by its JSON pointer")
                });
                responses.entry("413").or_insert_with(|| {
                    problem("`payload_too_large`: the body is larger than the server takes")
                });
            }
            if takes_token {
                responses.entry("401").or_insert_with(|| {
                    problem("`invalid_token`, `token_expired` or `session_revoked`: the bearer token cannot be used")
                });
            }
        }
    }
    doc
}
