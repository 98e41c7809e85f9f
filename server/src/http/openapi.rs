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
