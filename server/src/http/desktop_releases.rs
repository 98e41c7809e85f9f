//! Updates of the desktop app: the check Tauri's updater plugin makes
//! (`GET /api/v1/desktop/updates/{target}/{arch}/{bundle}/{current_version}`) and the package it
//! then downloads (`GET /api/v1/desktop/releases/{id}/{file_name}`). Both are public and answer
//! everyone alike: an app checks before anyone signs in, and releases are no secret. Releases are
//! published by the operator's command (`skilltrack-server desktop-release`); there is no write
//! route.

use axum::Json;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use skilltrack_protocol::Problem;
use skilltrack_protocol::desktop_updates::{
    DesktopArch, DesktopBundle, DesktopTarget, DesktopUpdate, ReleaseVersion,
};
use skilltrack_protocol::problem::FieldError;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::AppState;
use super::error::ApiError;
use super::extract::ApiPath;
use crate::db::desktop_releases as sql;
use crate::db::session::{Access, Caller, begin};
use crate::desktop_releases::ReleaseStore;

/// The desktop update routes.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(update_check))
        .routes(routes!(package))
}

/// Where packages are and how their download links begin.
#[derive(Debug)]
pub struct DesktopReleases {
    store: ReleaseStore,
    public_url: String,
}

impl DesktopReleases {
    /// Packages from `store`, linked under `public_url` (e.g. `https://learn.example.org`).
    pub fn new(store: ReleaseStore, public_url: &str) -> Self {
        Self {
            store,
            public_url: public_url.trim_end_matches('/').to_owned(),
        }
    }

    /// The absolute URL a release is downloaded from.
    pub fn package_url(&self, id: Uuid, file_name: &str) -> String {
        format!("{}{PACKAGES_PATH}/{id}/{file_name}", self.public_url)
    }
}

/// The path packages are served under.
pub const PACKAGES_PATH: &str = "/api/v1/desktop/releases";

/// The stable code of a check for an OS, architecture or package format the server publishes
/// nothing for.
pub const UNSUPPORTED_UPDATE_TARGET: &str = "unsupported_update_target";
/// The stable code of a check from a version that is not `X.Y.Z`.
pub const INVALID_VERSION: &str = "invalid_version";
/// The stable code of a package that is not (or no longer) published.
pub const RELEASE_NOT_FOUND: &str = "release_not_found";

/// The path of an update check, as the updater fills its endpoint's placeholders.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Path)]
pub struct UpdateCheckPath {
    /// The app's operating system (`{{target}}`): packages are published for `linux` only.
    #[param(value_type = DesktopTarget, inline)]
    pub target: String,
    /// The app's processor architecture (`{{arch}}`).
    #[param(value_type = DesktopArch, inline)]
    pub arch: String,
    /// The app's package format (`{{bundle_type}}`): it is offered a package of the same
    /// format.
    #[param(value_type = DesktopBundle, inline)]
    pub bundle: String,
    /// The app's version (`{{current_version}}`), `X.Y.Z`.
    #[param(
        pattern = r"^(0|[1-9][0-9]{0,8})\.(0|[1-9][0-9]{0,8})\.(0|[1-9][0-9]{0,8})$",
        example = "0.1.0"
    )]
    pub current_version: String,
}

fn bad_path(code: &str, parameter: &str, detail: String) -> ApiError {
    ApiError::Rule {
        status: StatusCode::BAD_REQUEST,
        code: code.to_owned(),
        detail: detail.clone(),
        errors: vec![FieldError {
            pointer: format!("/{parameter}"),
            code: code.to_owned(),
            detail,
        }],
    }
}

/// The update check of Tauri's updater plugin: the newest published release of the app's
/// package format and architecture that is newer than the app (versions compared number by
/// number), in the plugin's "dynamic server" shape; `204` when there is none. Needs no sign-in
/// (a bearer token is ignored: every app is offered the same).
#[utoipa::path(
    get, path = "/api/v1/desktop/updates/{target}/{arch}/{bundle}/{current_version}",
    operation_id = "desktop_update_check",
    tag = "desktop",
    params(UpdateCheckPath),
    responses(
        (status = 200, description = "A newer release: download `url`, check it against `signature`", body = DesktopUpdate),
        (status = 204, description = "No newer release for this format and architecture"),
        (status = 400, description = "`unsupported_update_target`: not an OS, architecture or package format packages are published for; `invalid_version`: the app's version is not `X.Y.Z`", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn update_check(
    State(state): State<AppState>,
    ApiPath(path): ApiPath<UpdateCheckPath>,
) -> Result<Response, ApiError> {
    if path.target != "linux" {
        return Err(bad_path(
            UNSUPPORTED_UPDATE_TARGET,
            "target",
            format!(
                "Desktop packages are published for linux only, not {:?}.",
                path.target
            ),
        ));
    }
    let arch = DesktopArch::parse(&path.arch).ok_or_else(|| {
        bad_path(
            UNSUPPORTED_UPDATE_TARGET,
            "arch",
            format!(
                "Desktop packages are published for x86_64 and aarch64, not {:?}.",
                path.arch
            ),
        )
    })?;
    let bundle = DesktopBundle::parse(&path.bundle).ok_or_else(|| {
        bad_path(
            UNSUPPORTED_UPDATE_TARGET,
            "bundle",
            format!(
                "Desktop packages are published as deb and rpm, not {:?}.",
                path.bundle
            ),
        )
    })?;
    let current = ReleaseVersion::parse(&path.current_version).ok_or_else(|| {
        bad_path(
            INVALID_VERSION,
            "current_version",
            format!(
                "{:?} is not a version: X.Y.Z, three numbers without leading zeros.",
                path.current_version
            ),
        )
    })?;
    let mut tx = begin(state.db.api(), Caller::Anonymous, Access::ReadOnly).await?;
    let newest = sql::newest_after(&mut tx, bundle, arch, current).await?;
    tx.commit().await?;
    let Some(release) = newest else {
        return Ok(StatusCode::NO_CONTENT.into_response());
    };
    let update = DesktopUpdate {
        url: state
            .desktop_releases
            .package_url(release.id, &release.file_name),
        version: release.version,
        notes: release.notes,
        // Whole seconds: `2026-12-07T01:02:03Z`, the shape every RFC 3339 reader takes.
        pub_date: chrono::DateTime::from_timestamp(release.published_at.timestamp(), 0)
            .unwrap_or(release.published_at),
        signature: release.signature,
    };
    // A new release must reach the next check: nobody keeps this answer.
    Ok(([(header::CACHE_CONTROL, "no-store")], Json(update)).into_response())
}

fn release_not_found() -> ApiError {
    ApiError::Rule {
        status: StatusCode::NOT_FOUND,
        code: RELEASE_NOT_FOUND.to_owned(),
        detail: "No such desktop release is published (it may have been withdrawn or replaced)."
            .to_owned(),
        errors: Vec::new(),
    }
}

/// A published package, as its update answer links it: supports `Range` (a resumed download)
/// and `If-None-Match` (the strong `ETag` is the package's SHA-256). Needs no sign-in.
#[utoipa::path(
    get, path = "/api/v1/desktop/releases/{id}/{file_name}", tag = "desktop",
    operation_id = "desktop_package",
    params(
        ("id" = Uuid, Path, description = "The release, from an update answer's `url`"),
        ("file_name" = String, Path, description = "The package's name, e.g. `skilltrack_0.1.1_amd64.deb`"),
    ),
    responses(
        (status = 200, description = "The package", content(
            ("application/vnd.debian.binary-package"),
            ("application/x-rpm"),
        )),
        (status = 206, description = "Part of the package, for a `Range` request"),
        (status = 304, description = "Not modified (`If-None-Match`)"),
        (status = 400, description = "`bad_request`: a path holding NUL", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`release_not_found`: no such release, or not under that name", body = Problem, content_type = "application/problem+json"),
        (status = 416, description = "A range outside the package", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn package(
    State(state): State<AppState>,
    ApiPath((id, file_name)): ApiPath<(String, String)>,
    request: Request,
) -> Result<Response, ApiError> {
    // Any id that is not a release's, well-formed or not, is the same unknown release.
    let id = Uuid::parse_str(&id).map_err(|_| release_not_found())?;
    let mut tx = begin(state.db.api(), Caller::Anonymous, Access::ReadOnly).await?;
    let release = sql::by_id(&mut tx, id).await?;
    tx.commit().await?;
    let release = release
        .filter(|r| r.file_name == file_name)
        .ok_or_else(release_not_found)?;
    let bundle = DesktopBundle::parse(&release.bundle).ok_or_else(release_not_found)?;
    let path = state
        .desktop_releases
        .store
        .path_of(&release.sha256, bundle)
        .ok_or_else(release_not_found)?;
    if !tokio::fs::try_exists(&path).await.unwrap_or(false) {
        tracing::warn!(
            file = %path.display(),
            version = %release.version,
            "a published desktop release has no file on this host: publish it here too, or share the directory"
        );
        return Err(release_not_found());
    }
    // A release's id changes whenever its bytes do, so what this URL names never changes.
    let mut response = super::uploads::serve_by_content(
        request,
        &path,
        bundle.media_type(),
        &release.sha256,
        "public, max-age=31536000, immutable",
    )
    .await?;
    let headers = response.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{file_name}\"")) {
        headers.insert(header::CONTENT_DISPOSITION, v);
    }
    Ok(response)
}
