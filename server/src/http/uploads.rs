//! `POST /api/v1/uploads` (instructors' media, streamed to the content store) and
//! `GET /media/uploads/{file}` (served with Range, a strong ETag and caching headers, to those
//! allowed to see what refers to it).

use axum::Json;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use skilltrack_protocol::Problem;
use skilltrack_protocol::uploads::ContentUpload;
use tower::ServiceExt as _;
use tower_http::services::ServeFile;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::AppState;
use super::error::ApiError;
use super::extract::{AnyCaller, ApiPath, ApiQuery, SignedIn};
use super::validate::Checks;
use crate::db::session::{Access, begin};
use crate::db::uploads::{self, NewUpload};
use crate::media::sniff;
use crate::media::store::StoreError;

/// The upload routes.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(upload))
        .routes(routes!(download))
}

/// The path uploads are served under.
pub const UPLOADS_PATH: &str = "/media/uploads";

/// Query of `POST /api/v1/uploads`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UploadQuery {
    /// The file's name, e.g. `intro.webm` (1–255 characters, no `/`).
    #[param(
        min_length = 1,
        max_length = 255,
        pattern = r"^[^/\\\x00]*[^/\\\x00\s][^/\\\x00]*$"
    )]
    filename: String,
    /// What it belongs to: `course`, `lesson`, `lab` or `assessment`.
    #[param(pattern = "^(course|lesson|lab|assessment)$")]
    entity_type: Option<String>,
    /// Which one.
    entity_id: Option<Uuid>,
}

/// Upload a file (instructors and admins): the raw bytes as the body, with its media type as
/// `Content-Type`; it must be one of the accepted types and agree with the bytes.
#[utoipa::path(
    post, path = "/api/v1/uploads", tag = "media",
    params(UploadQuery),
    request_body(content = Vec<u8>, description = "The file's bytes", content_type = "application/octet-stream"),
    security(("bearer" = [])),
    responses(
        (status = 201, description = "Stored", body = ContentUpload),
        (status = 400, description = "A bad query (no `filename`)", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Only instructors and admins upload", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Larger than the server's upload limit", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "`unsupported_media_type` or `media_type_mismatch` (the bytes are not what `Content-Type` says)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A bad file name or entity", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn upload(
    State(state): State<AppState>,
    me: SignedIn,
    ApiQuery(query): ApiQuery<UploadQuery>,
    request: Request,
) -> Result<(StatusCode, Json<ContentUpload>), ApiError> {
    let filename = query.filename.trim().to_owned();
    Checks::default()
        .length(&filename, "/filename", 1, 255)
        .check(
            !filename.contains(['/', '\\', '\0']),
            "/filename",
            "invalid_filename",
            "A file name, not a path.",
        )
        .check(
            query
                .entity_type
                .as_deref()
                .is_none_or(|t| ["course", "lesson", "lab", "assessment"].contains(&t)),
            "/entity_type",
            "invalid_entity_type",
            "One of course, lesson, lab, assessment.",
        )
        .finish()?;
    let declared = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| {
            v.split(';')
                .next()
                .unwrap_or_default()
                .trim()
                .to_ascii_lowercase()
        })
        .unwrap_or_default();
    let Some(extension) = sniff::extension(&declared) else {
        return Err(unsupported(&declared));
    };
    // Refuse before reading a byte when the caller may not upload at all.
    let mut tx = begin(state.db.api(), me.caller(), Access::ReadOnly).await?;
    let allowed = uploads::can_upload(&mut tx).await?;
    tx.commit().await?;
    if !allowed {
        return Err(ApiError::Forbidden(
            "Only instructors and admins upload files.".to_owned(),
        ));
    }
    let stored = state
        .store
        .put(request.into_body(), state.max_upload_bytes, |sniffed| {
            sniffed.is_some_and(|s| sniff::agrees(&declared, s))
        })
        .await
        .map_err(|e| match e {
            StoreError::TooLarge(max) => ApiError::Rule {
                status: StatusCode::PAYLOAD_TOO_LARGE,
                code: "payload_too_large".to_owned(),
                detail: format!("Files may be at most {max} bytes."),
                errors: Vec::new(),
            },
            StoreError::Interrupted(why) => {
                ApiError::BadRequest(format!("The upload did not arrive whole: {why}."))
            }
            // Refused before it was kept: bytes that are not what they claim are never stored.
            StoreError::NotAccepted { sniffed } => ApiError::Rule {
                status: StatusCode::UNSUPPORTED_MEDIA_TYPE,
                code: "media_type_mismatch".to_owned(),
                detail: format!(
                    "The file is not {declared}: its content looks like {}.",
                    sniffed.unwrap_or("nothing we accept")
                ),
                errors: Vec::new(),
            },
            StoreError::Io { ref source, .. } if crate::storage::is_disk_full(source) => {
                tracing::error!(error = %e, "an upload met a full disk");
                ApiError::StorageFull
            }
            StoreError::Io { .. } => ApiError::Internal(e.to_string()),
        })?;
    let file_url = format!("{UPLOADS_PATH}/{}.{extension}", stored.sha256);
    let mut tx = begin(state.db.api(), me.caller(), Access::ReadWrite).await?;
    let record = uploads::record(
        &mut tx,
        &NewUpload {
            uploader: me.0.sub,
            sha256: &stored.sha256,
            filename: &format!("{}.{extension}", stored.sha256),
            original_filename: &filename,
            size: i64::try_from(stored.size).unwrap_or(i64::MAX),
            mime_type: &declared,
            file_url: &file_url,
            entity_type: query.entity_type.as_deref(),
            entity_id: query.entity_id,
        },
    )
    .await?;
    tx.commit().await?;
    tracing::info!(uploader = %me.0.sub, sha256 = %stored.sha256, size = stored.size, mime = %declared, "file uploaded");
    Ok((StatusCode::CREATED, Json(record)))
}

fn unsupported(declared: &str) -> ApiError {
    let accepted: Vec<&str> = sniff::ACCEPTED.iter().map(|(m, _)| *m).collect();
    ApiError::Rule {
        status: StatusCode::UNSUPPORTED_MEDIA_TYPE,
        code: "unsupported_media_type".to_owned(),
        detail: format!(
            "{} is not accepted; send one of: {}.",
            if declared.is_empty() {
                "A body without Content-Type"
            } else {
                declared
            },
            accepted.join(", ")
        ),
        errors: Vec::new(),
    }
}

/// Download an uploaded file: supports `Range` (resumable downloads, video seeking) and
/// `If-None-Match` (the ETag is the content's SHA-256). Only for those who may see something
/// that refers to it; anyone else gets 404.
#[utoipa::path(
    get, path = "/media/uploads/{file}", tag = "media",
    params(("file" = String, Path, description = "`<sha256>.<extension>`, as in an upload's `file_url`")),
    security((), ("bearer" = [])),
    responses(
        (status = 200, description = "The file", content_type = "application/octet-stream"),
        (status = 206, description = "Part of the file, for a `Range` request"),
        (status = 304, description = "Not modified (`If-None-Match`)"),
        (status = 401, description = "A bad or expired token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such file, or not yours to see", body = Problem, content_type = "application/problem+json"),
        (status = 416, description = "A range outside the file", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn download(
    State(state): State<AppState>,
    AnyCaller(caller): AnyCaller,
    ApiPath(file): ApiPath<String>,
    request: Request,
) -> Result<Response, ApiError> {
    let missing = || ApiError::NotFound("No such file.".to_owned());
    let (sha256, extension) = file.split_once('.').ok_or_else(missing)?;
    let mime = sniff::ACCEPTED
        .iter()
        .find(|(_, e)| *e == extension)
        .map(|(m, _)| *m)
        .ok_or_else(missing)?;
    let path = state.store.path_of(sha256).ok_or_else(missing)?;
    let url = format!("{UPLOADS_PATH}/{file}");
    let mut tx = begin(state.db.api(), caller, Access::ReadOnly).await?;
    let visible = uploads::is_visible(&mut tx, &url).await?;
    tx.commit().await?;
    if !visible || !tokio::fs::try_exists(&path).await.unwrap_or(false) {
        return Err(missing());
    }
    serve_by_content(
        request,
        &path,
        mime,
        sha256,
        // Content-addressed, so it never changes; access-controlled, so only the user's cache.
        "private, max-age=31536000, immutable",
    )
    .await
}

/// Answers a file named by its content's SHA-256 (`ETag`, `If-None-Match`, `Range`), with
/// `cache_control`: uploads and desktop packages alike.
pub(super) async fn serve_by_content(
    request: Request,
    path: &std::path::Path,
    mime: &str,
    sha256: &str,
    cache_control: &'static str,
) -> Result<Response, ApiError> {
    let etag = format!("\"{sha256}\"");
    let cached = request
        .headers()
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag || t.trim() == "*"));
    let mut response = if cached {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        let mime = mime
            .parse()
            .map_err(|_| ApiError::Internal(format!("the media type {mime}")))?;
        ServeFile::new_with_mime(path, &mime)
            .oneshot(request)
            .await
            .map_err(|e| ApiError::Internal(e.to_string()))?
            .map(Body::new)
    };
    let headers = response.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&etag) {
        headers.insert(header::ETAG, v);
    }
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static(cache_control),
    );
    Ok(response)
}
