//! `/api/v1/admin/services` and `/api/v1/admin/lab-categories`: admins create, edit and delete
//! the catalog's taxonomy (before this, only `seed-demo` wrote it).
//!
//! Each handler asks the database first whether the caller is an admin
//! (`public.require_admin()`), so a learner or instructor gets 403, not a 404; RLS enforces
//! the same underneath. A service or category something still belongs to is never deleted
//! (409): its courses would be deleted with it, its labs would lose their category.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use skilltrack_protocol::catalog::LabCategory;
use skilltrack_protocol::taxonomy::{
    LabCategoryDraft, LabCategoryPatch, ServiceDraft, ServicePatch, ServiceRecord,
    ServiceRecordList,
};
use skilltrack_protocol::{FieldError, Problem};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::AppState;
use super::authoring::{is_link, is_slug};
use super::error::{ApiError, sqlstate};
use super::extract::{ApiJson, ApiPath, SignedIn};
use super::validate::Checks;
use crate::db::profiles;
use crate::db::session::{Access, begin};
use crate::db::taxonomy::{self as db, Removal};

/// The taxonomy's routes.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_service_records, create_service))
        .routes(routes!(patch_service, delete_service))
        .routes(routes!(create_lab_category))
        .routes(routes!(patch_lab_category, delete_lab_category))
}

// Rules ----------------------------------------------------------------------------------------

fn check_slug(c: &mut Checks, slug: &str) {
    c.check(
        is_slug(slug),
        "/slug",
        "invalid_slug",
        "Lowercase letters and digits in words joined by `-` (`cloud-solutions`), at most 100 \
         characters.",
    );
}

fn check_icon(c: &mut Checks, icon: &str) {
    c.check(
        is_slug(icon) && icon.len() <= 64,
        "/icon",
        "invalid_icon",
        "A lucide icon name: lowercase words joined by `-` (`shield-check`), at most 64 \
         characters.",
    );
}

/// Text that must say something: trimmed first, then 1 to `max` characters.
fn check_text(c: &mut Checks, text: &str, pointer: &str, max: usize) {
    c.length(text, pointer, 1, max);
}

fn check_image(c: &mut Checks, url: Option<&str>) {
    if let Some(url) = url {
        // A course's lab lesson may link `/labs/<slug>`; a service's picture may not.
        c.check(
            is_link(url) && !url.starts_with("/labs/"),
            "/image_url",
            "invalid_url",
            "An http(s) URL or a `/media/…` path, at most 2048 characters.",
        );
    }
}

fn check_color(c: &mut Checks, color: Option<&str>) {
    if let Some(color) = color {
        c.check(
            color.len() == 7
                && color.starts_with('#')
                && color[1..].chars().all(|ch| ch.is_ascii_hexdigit()),
            "/color",
            "invalid_color",
            "`#` and six hex digits, e.g. `#7c3aed`.",
        );
    }
}

fn check_sort_order(c: &mut Checks, order: Option<i32>) {
    if let Some(order) = order {
        c.check(
            (-1_000_000..=1_000_000).contains(&order),
            "/sort_order",
            "out_of_range",
            "From -1000000 to 1000000.",
        );
    }
}

fn trimmed(text: &mut String) {
    let t = text.trim();
    if t.len() != text.len() {
        *text = t.to_owned();
    }
}

/// An optional text: blank is none.
fn blank_to_none(value: Option<String>) -> Option<String> {
    value.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty())
}

fn prepare_service_draft(d: &mut ServiceDraft) -> Result<(), ApiError> {
    trimmed(&mut d.title);
    trimmed(&mut d.description);
    d.image_url = blank_to_none(d.image_url.take());
    let mut c = Checks::default();
    check_slug(&mut c, &d.slug);
    check_text(&mut c, &d.title, "/title", 200);
    check_text(&mut c, &d.description, "/description", 2000);
    check_icon(&mut c, &d.icon);
    check_image(&mut c, d.image_url.as_deref());
    check_color(&mut c, d.color.as_deref());
    check_sort_order(&mut c, Some(d.sort_order));
    c.finish()
}

fn prepare_service_patch(p: &mut ServicePatch) -> Result<(), ApiError> {
    for text in [&mut p.title, &mut p.description].into_iter().flatten() {
        trimmed(text);
    }
    for optional in [&mut p.image_url, &mut p.color] {
        if let Some(value) = optional.take() {
            *optional = Some(blank_to_none(value));
        }
    }
    let mut c = Checks::default();
    if let Some(slug) = &p.slug {
        check_slug(&mut c, slug);
    }
    if let Some(title) = &p.title {
        check_text(&mut c, title, "/title", 200);
    }
    if let Some(description) = &p.description {
        check_text(&mut c, description, "/description", 2000);
    }
    if let Some(icon) = &p.icon {
        check_icon(&mut c, icon);
    }
    check_image(&mut c, p.image_url.clone().flatten().as_deref());
    check_color(&mut c, p.color.clone().flatten().as_deref());
    check_sort_order(&mut c, p.sort_order);
    c.finish()
}

fn prepare_category_draft(d: &mut LabCategoryDraft) -> Result<(), ApiError> {
    trimmed(&mut d.name);
    trimmed(&mut d.description);
    let mut c = Checks::default();
    check_slug(&mut c, &d.slug);
    check_text(&mut c, &d.name, "/name", 200);
    check_text(&mut c, &d.description, "/description", 2000);
    check_icon(&mut c, &d.icon);
    c.finish()
}

fn prepare_category_patch(p: &mut LabCategoryPatch) -> Result<(), ApiError> {
    for text in [&mut p.name, &mut p.description].into_iter().flatten() {
        trimmed(text);
    }
    let mut c = Checks::default();
    if let Some(slug) = &p.slug {
        check_slug(&mut c, slug);
    }
    if let Some(name) = &p.name {
        check_text(&mut c, name, "/name", 200);
    }
    if let Some(description) = &p.description {
        check_text(&mut c, description, "/description", 2000);
    }
    if let Some(icon) = &p.icon {
        check_icon(&mut c, icon);
    }
    c.finish()
}

/// A write refused by the database: a slug in use (23505) is `slug_taken`.
fn write_error(e: sqlx::Error, what: &str) -> ApiError {
    if sqlstate(&e).as_deref() == Some("23505") {
        return ApiError::Rule {
            status: StatusCode::CONFLICT,
            code: "slug_taken".to_owned(),
            detail: format!("Another {what} already has this slug."),
            errors: vec![FieldError {
                pointer: "/slug".to_owned(),
                code: "taken".to_owned(),
                detail: "Choose another slug.".to_owned(),
            }],
        };
    }
    e.into()
}

fn in_use(code: &str, detail: String) -> ApiError {
    ApiError::Rule {
        status: StatusCode::CONFLICT,
        code: code.to_owned(),
        detail,
        errors: Vec::new(),
    }
}

// Services -------------------------------------------------------------------------------------

/// Every service, inactive ones included, in display order (admins only).
#[utoipa::path(
    get, path = "/api/v1/admin/services", tag = "admin",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The services", body = ServiceRecordList),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an admin", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn list_service_records(
    State(state): State<AppState>,
    me: SignedIn,
) -> Result<Json<ServiceRecordList>, ApiError> {
    let mut tx = begin(state.db.api(), me.caller(), Access::ReadOnly).await?;
    profiles::require_admin(&mut tx).await?;
    let items = db::services(&mut tx).await?;
    tx.commit().await?;
    Ok(Json(ServiceRecordList { items }))
}

/// Creates a service (admins only).
#[utoipa::path(
    post, path = "/api/v1/admin/services", tag = "admin",
    request_body = ServiceDraft,
    security(("bearer" = [])),
    responses(
        (status = 201, description = "The service as stored", body = ServiceRecord),
        (status = 400, description = "Malformed request", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an admin", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`slug_taken`: another service has this slug", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A field breaks a rule (each listed in `errors`: `invalid_slug`, `invalid_icon`, `invalid_url`, `invalid_color`, `too_short`, `too_long`, `out_of_range`), or is not the admin's to set (`course_count`)", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn create_service(
    State(state): State<AppState>,
    me: SignedIn,
    ApiJson(mut draft): ApiJson<ServiceDraft>,
) -> Result<(StatusCode, Json<ServiceRecord>), ApiError> {
    prepare_service_draft(&mut draft)?;
    let mut tx = begin(state.db.api(), me.caller(), Access::ReadWrite).await?;
    profiles::require_admin(&mut tx).await?;
    let id = db::create_service(&mut tx, &draft)
        .await
        .map_err(|e| write_error(e, "service"))?;
    let service = db::service(&mut tx, id)
        .await?
        .ok_or_else(|| ApiError::Internal("the new service vanished".into()))?;
    tx.commit().await?;
    tracing::info!(admin = %me.0.sub, service = %id, slug = %draft.slug, "service created");
    Ok((StatusCode::CREATED, Json(service)))
}

/// Edits a service (admins only): only the fields present change.
#[utoipa::path(
    patch, path = "/api/v1/admin/services/{id}", tag = "admin",
    params(("id" = Uuid, Path, description = "The service")),
    request_body = ServicePatch,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The service as edited", body = ServiceRecord),
        (status = 400, description = "Malformed request", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an admin", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such service", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`slug_taken`", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A field breaks a rule, or is not editable", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn patch_service(
    State(state): State<AppState>,
    me: SignedIn,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(mut patch): ApiJson<ServicePatch>,
) -> Result<Json<ServiceRecord>, ApiError> {
    prepare_service_patch(&mut patch)?;
    let mut tx = begin(state.db.api(), me.caller(), Access::ReadWrite).await?;
    profiles::require_admin(&mut tx).await?;
    if !db::lock_service(&mut tx, id).await? {
        return Err(ApiError::NotFound("No such service.".into()));
    }
    db::update_service(&mut tx, id, &patch)
        .await
        .map_err(|e| write_error(e, "service"))?;
    let service = db::service(&mut tx, id)
        .await?
        .ok_or_else(|| ApiError::NotFound("No such service.".into()))?;
    tx.commit().await?;
    Ok(Json(service))
}

/// Deletes a service no course belongs to (admins only). A service with courses, drafts
/// included, stays: deactivate it (`is_active: false`) to hide it.
#[utoipa::path(
    delete, path = "/api/v1/admin/services/{id}", tag = "admin",
    params(("id" = Uuid, Path, description = "The service")),
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Deleted"),
        (status = 400, description = "Not a service id", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an admin", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such service", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`service_in_use`: courses belong to it", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn delete_service(
    State(state): State<AppState>,
    me: SignedIn,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<StatusCode, ApiError> {
    let mut tx = begin(state.db.api(), me.caller(), Access::ReadWrite).await?;
    profiles::require_admin(&mut tx).await?;
    let removal = db::delete_service(&mut tx, id).await?;
    tx.commit().await?;
    match removal {
        Removal::Deleted => {
            tracing::info!(admin = %me.0.sub, service = %id, "service deleted");
            Ok(StatusCode::NO_CONTENT)
        }
        Removal::Missing => Err(ApiError::NotFound("No such service.".into())),
        Removal::InUse(n) => Err(in_use(
            "service_in_use",
            format!(
                "{n} course(s) belong to this service, so it cannot be deleted: move them to \
                 another service first, or deactivate it (`is_active: false`) to hide it."
            ),
        )),
    }
}

// Lab categories -------------------------------------------------------------------------------

/// Creates a lab category (admins only).
#[utoipa::path(
    post, path = "/api/v1/admin/lab-categories", tag = "admin",
    request_body = LabCategoryDraft,
    security(("bearer" = [])),
    responses(
        (status = 201, description = "The category as stored", body = LabCategory),
        (status = 400, description = "Malformed request", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an admin", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`slug_taken`: another category has this slug", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A field breaks a rule (each listed in `errors`), or is not the admin's to set (`lab_count`)", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn create_lab_category(
    State(state): State<AppState>,
    me: SignedIn,
    ApiJson(mut draft): ApiJson<LabCategoryDraft>,
) -> Result<(StatusCode, Json<LabCategory>), ApiError> {
    prepare_category_draft(&mut draft)?;
    let mut tx = begin(state.db.api(), me.caller(), Access::ReadWrite).await?;
    profiles::require_admin(&mut tx).await?;
    let id = db::create_lab_category(&mut tx, &draft)
        .await
        .map_err(|e| write_error(e, "lab category"))?;
    let category = db::lab_category(&mut tx, id)
        .await?
        .ok_or_else(|| ApiError::Internal("the new lab category vanished".into()))?;
    tx.commit().await?;
    tracing::info!(admin = %me.0.sub, category = %id, slug = %draft.slug, "lab category created");
    Ok((StatusCode::CREATED, Json(category)))
}

/// Edits a lab category (admins only): only the fields present change.
#[utoipa::path(
    patch, path = "/api/v1/admin/lab-categories/{id}", tag = "admin",
    params(("id" = Uuid, Path, description = "The category")),
    request_body = LabCategoryPatch,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The category as edited", body = LabCategory),
        (status = 400, description = "Malformed request", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an admin", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such category", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`slug_taken`", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A field breaks a rule, or is not editable", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn patch_lab_category(
    State(state): State<AppState>,
    me: SignedIn,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(mut patch): ApiJson<LabCategoryPatch>,
) -> Result<Json<LabCategory>, ApiError> {
    prepare_category_patch(&mut patch)?;
    let mut tx = begin(state.db.api(), me.caller(), Access::ReadWrite).await?;
    profiles::require_admin(&mut tx).await?;
    if !db::lock_lab_category(&mut tx, id).await? {
        return Err(ApiError::NotFound("No such lab category.".into()));
    }
    db::update_lab_category(&mut tx, id, &patch)
        .await
        .map_err(|e| write_error(e, "lab category"))?;
    let category = db::lab_category(&mut tx, id)
        .await?
        .ok_or_else(|| ApiError::NotFound("No such lab category.".into()))?;
    tx.commit().await?;
    Ok(Json(category))
}

/// Deletes a lab category no lab is in (admins only).
#[utoipa::path(
    delete, path = "/api/v1/admin/lab-categories/{id}", tag = "admin",
    params(("id" = Uuid, Path, description = "The category")),
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Deleted"),
        (status = 400, description = "Not a category id", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an admin", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such category", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`lab_category_in_use`: labs are in it", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn delete_lab_category(
    State(state): State<AppState>,
    me: SignedIn,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<StatusCode, ApiError> {
    let mut tx = begin(state.db.api(), me.caller(), Access::ReadWrite).await?;
    profiles::require_admin(&mut tx).await?;
    let removal = db::delete_lab_category(&mut tx, id).await?;
    tx.commit().await?;
    match removal {
        Removal::Deleted => {
            tracing::info!(admin = %me.0.sub, category = %id, "lab category deleted");
            Ok(StatusCode::NO_CONTENT)
        }
        Removal::Missing => Err(ApiError::NotFound("No such lab category.".into())),
        Removal::InUse(n) => Err(in_use(
            "lab_category_in_use",
            format!(
                "{n} lab(s) are in this category, so it cannot be deleted: move them to another \
                 category first."
            ),
        )),
    }
}
