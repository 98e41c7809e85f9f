//! The OpenAPI 3.1 document, served at `/api/openapi.json`, and a browsable reference of it at
//! `/api/docs` (Redoc, vendored in `server/assets/redoc` and compiled in: no CDN, no network).
//! Routes are registered together with their documentation (`utoipa_axum::routes!`), so a
//! route cannot exist undocumented; the test suite checks the other direction (every
//! documented operation answers).

use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use tower_http::compression::CompressionLayer;
use utoipa::openapi::OpenApi as OpenApiDoc;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::AppState;

/// The document and its reference. Compressed: the reference's script is 1.1 MB, ~0.3 MB
/// gzipped.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(document))
        .routes(routes!(reference))
        .routes(routes!(redoc_script))
        .layer(CompressionLayer::new())
}

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
        (name = "auth", description = "Sign-up, sign-in, refresh, sign-out; password reset and address confirmation by mailed links"),
        (name = "account", description = "The pages a mailed link opens in a browser: HTML forms, no script"),
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
        (name = "reference", description = "This document, and a browsable reference of it"),
        (name = "media", description = "Lesson media"),
        (name = "desktop", description = "Updates of the desktop app: the check Tauri's updater makes, and the signed packages it downloads"),
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
    get, path = "/api/openapi.json", tag = "reference",
    responses((status = 200, description = "This document", content_type = "application/json"))
)]
pub async fn document(State(state): State<AppState>) -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "application/json")],
        state.openapi.as_str().to_owned(),
    )
}

/// An OpenAPI link: where an id in a created thing's answer goes next, so a client (and
/// Schemathesis's stateful phase) can follow it from a response into the next request.
struct Link {
    /// The operation that makes the thing.
    from: &'static str,
    /// Its answer's status.
    status: &'static str,
    /// Where the id is in that answer's body (a JSON pointer).
    id_at: &'static str,
    /// The operations the id leads to, each with the path parameter it fills.
    to: &'static [(&'static str, &'static str)],
}

/// What an author creates, and where each leads.
const LINKS: &[Link] = &[
    Link {
        from: "create_course",
        status: "201",
        id_at: "/course/id",
        to: &[
            ("patch_course", "id"),
            ("create_module", "id"),
            ("create_assessment", "id"),
            ("list_course_assessments", "id"),
            ("put_tags", "id"),
            ("put_prerequisites", "id"),
            ("publish_course", "id"),
            ("unpublish_course", "id"),
            ("delete_course", "id"),
        ],
    },
    Link {
        from: "create_module",
        status: "201",
        id_at: "/id",
        to: &[
            ("patch_module", "id"),
            ("create_lesson", "id"),
            ("delete_module", "id"),
        ],
    },
    Link {
        from: "create_lesson",
        status: "201",
        id_at: "/lesson/id",
        to: &[
            ("patch_lesson", "id"),
            ("get_lesson", "id"),
            ("delete_lesson", "id"),
        ],
    },
    Link {
        from: "create_assessment",
        status: "201",
        id_at: "/assessment/id",
        to: &[
            ("get_authored_assessment", "id"),
            ("patch_assessment", "id"),
            ("create_question", "id"),
            ("statistics", "id"),
            ("list_attempts", "id"),
            ("delete_assessment", "id"),
        ],
    },
    Link {
        from: "create_question",
        status: "201",
        id_at: "/id",
        to: &[("patch_question", "id"), ("delete_question", "id")],
    },
    Link {
        from: "create_lab",
        status: "201",
        id_at: "/lab/id",
        to: &[
            ("patch_lab", "id"),
            ("put_steps", "id"),
            ("authored_steps", "id"),
            ("put_lab_prerequisites", "id"),
            ("publish_lab", "id"),
            ("unpublish_lab", "id"),
            ("delete_lab", "id"),
        ],
    },
    Link {
        from: "start_attempt",
        status: "201",
        id_at: "/id",
        to: &[("get_attempt", "id"), ("submit", "id")],
    },
    Link {
        from: "create_course_review",
        status: "201",
        id_at: "/id",
        to: &[
            ("patch_course_review", "review_id"),
            ("delete_course_review", "review_id"),
        ],
    },
    Link {
        from: "create_lab_review",
        status: "201",
        id_at: "/id",
        to: &[
            ("patch_lab_review", "review_id"),
            ("delete_lab_review", "review_id"),
        ],
    },
];

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
    let mut doc = serde_json::to_value(document).unwrap_or(Value::Null);
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
            if ["get", "put", "post", "patch", "delete"].contains(&method.as_str()) {
                complete_operation(method, path, operation);
            }
        }
    }
    doc
}

/// A problem answer described in words.
fn problem(description: &str) -> Value {
    json!({
        "description": description,
        "content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}
    })
}

/// One operation of [`complete`].
fn complete_operation(method: &str, path: &str, operation: &mut Value) {
    let has_body = operation.get("requestBody").is_some();
    let operation_id = operation
        .get("operationId")
        .and_then(Value::as_str)
        .map(str::to_owned);
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
        return;
    };
    for content in responses.values_mut().filter_map(|r| r.get_mut("content")) {
        describe_event_stream(content);
    }
    for link in LINKS
        .iter()
        .filter(|l| Some(l.from) == operation_id.as_deref())
    {
        if let Some(response) = responses.get_mut(link.status) {
            response["links"] = links_of(link);
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
    if super::relay::relayable_session_segment(path).is_some() {
        responses.entry("502").or_insert_with(|| {
            problem("`lab_host_unreachable`: another server process of the cluster runs this lab's sandbox and cannot be reached; try again")
        });
    }
    if matches!(method, "post" | "put" | "patch" | "delete") {
        responses.entry("507").or_insert_with(|| {
            let mut answer = problem(if super::WRITES_TAKEN_WHEN_FULL.contains(&path) {
                "`storage_full`: the server's disk (or its database's) is full; nothing was changed; try again after `Retry-After` seconds"
            } else {
                "`storage_full`: the server's disk (or its database's) is full, or so nearly that it keeps what is left for its database; nothing was changed; try again after `Retry-After` seconds"
            });
            answer["headers"] = json!({"Retry-After": {
                "description": "Seconds to wait before trying again",
                "schema": {"type": "integer", "minimum": 1},
            }});
            answer
        });
    }
    if !WITHOUT_DATABASE.contains(&path) {
        responses.entry("503").or_insert_with(|| {
            let mut answer = problem(
                "`database_unavailable`: PostgreSQL cannot be reached (restarting, say); try again after `Retry-After` seconds",
            );
            answer["headers"] = json!({"Retry-After": {
                "description": "Seconds to wait before trying again",
                "schema": {"type": "integer", "minimum": 1},
            }});
            answer
        });
    }
}

/// The routes that answer without the database, which a PostgreSQL outage leaves alone.
const WITHOUT_DATABASE: &[&str] = &[
    "/healthz",
    "/api/openapi.json",
    "/api/docs",
    "/api/docs/redoc.standalone.js",
    "/metrics",
];

/// A stream of server-sent events is described event by event: `event` is the event's name
/// and `data` its JSON text, of the schema the route names.
fn describe_event_stream(content: &mut Value) {
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

/// The `links` of a response, from a [`Link`].
fn links_of(link: &Link) -> Value {
    let links: serde_json::Map<String, Value> = link
        .to
        .iter()
        .map(|(to, parameter)| {
            (
                (*to).to_owned(),
                json!({
                    "operationId": to,
                    "parameters": {*parameter: format!("$response.body#{}", link.id_at)},
                    "description": format!("The `{parameter}` of what `{}` made", link.from),
                }),
            )
        })
        .collect();
    Value::Object(links)
}

/// The vendored Redoc release (`server/assets/redoc/README.md` says how to update it).
pub const REDOC_VERSION: &str = "2.5.4";

/// Redoc's standalone bundle, compiled in.
const REDOC_SCRIPT: &[u8] = include_bytes!("../../assets/redoc/redoc.standalone.js");

/// The reference page: Redoc reads its options from the `<redoc>` element's attributes and
/// starts itself when its script loads, so the page has no inline script. The script's URL
/// names the Redoc version, so a new release is a new URL and the script can be cached for a
/// year.
fn reference_page() -> String {
    format!(
        "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>Skilltrack API reference</title>\n\
         <style>body{{margin:0;padding:0}}</style>\n</head>\n<body>\n\
         <noscript>The reference needs JavaScript. The OpenAPI document itself is at \
         <a href=\"/api/openapi.json\">/api/openapi.json</a>.</noscript>\n\
         <redoc spec-url=\"/api/openapi.json\" native-scrollbars \
         theme='{{\"typography\":{{\"fontFamily\":\"system-ui, sans-serif\",\
         \"headings\":{{\"fontFamily\":\"system-ui, sans-serif\"}}}}}}'></redoc>\n\
         <script src=\"/api/docs/redoc.standalone.js?v={REDOC_VERSION}\"></script>\n\
         </body>\n</html>\n"
    )
}

/// What the reference may do, and no more (each part checked in a browser: without it the
/// page fails): run its one script from this server, style itself inline (styled-components
/// writes `<style>` elements), start its search index in a worker made from a `blob:` URL, show
/// its `data:` icons, and fetch the document. No `'unsafe-eval'`: it renders and searches
/// without. Nothing from any other origin: the Redocly logo it would load from a CDN is refused
/// (and it hides it).
pub const REFERENCE_POLICY: &str = "default-src 'none'; script-src 'self'; \
    style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; \
    worker-src blob:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/// `GET /api/docs`: a browsable reference of this document (Redoc).
#[utoipa::path(
    get, path = "/api/docs", tag = "reference",
    responses((status = 200, description = "An HTML page that renders `/api/openapi.json`", body = String, content_type = "text/html"))
)]
pub async fn reference() -> Response {
    // Small, and it names the script's version: revalidated on every visit.
    let mut response = super::html::page(
        axum::http::StatusCode::OK,
        reference_page(),
        REFERENCE_POLICY,
        "no-cache",
    );
    response.headers_mut().insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    response
}

/// `GET /api/docs/redoc.standalone.js`: the reference's script.
#[utoipa::path(
    get, path = "/api/docs/redoc.standalone.js", tag = "reference",
    params(("v" = Option<String>, Query, description = "The Redoc version, so that a new one is a new URL; ignored")),
    responses((status = 200, description = "Redoc's standalone bundle (MIT, with its third-party notices in `redoc.standalone.js.LICENSE.txt` beside it in the repository)", body = String, content_type = "text/javascript"))
)]
pub async fn redoc_script() -> Response {
    let mut response = REDOC_SCRIPT.into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/javascript; charset=utf-8"),
    );
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=31536000, immutable"),
    );
    response
}
