//! `/api/v1/admin`: users, roles and settings. Each handler first asks the database whether the
//! caller is an admin (`public.require_admin()`), so a non-admin gets 403, not an empty answer.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use skilltrack_protocol::auth::PasswordSet;
use skilltrack_protocol::profile::{Profile, RoleChange, UserPage};
use skilltrack_protocol::settings::{SettingWrite, SystemSetting};
use skilltrack_protocol::{Problem, UserRole};
use uuid::Uuid;

use super::AppState;
use super::error::ApiError;
use super::extract::{ApiJson, ApiPath, ApiQuery, SignedIn};
use super::pagination;
use super::validate::Checks;
use crate::db::session::{Access, begin};
use crate::db::{account_tokens, profiles, settings};

/// `/api/v1/admin`.
pub fn routes() -> utoipa_axum::router::OpenApiRouter<AppState> {
    utoipa_axum::router::OpenApiRouter::new()
        .routes(utoipa_axum::routes!(list_users))
        .routes(utoipa_axum::routes!(set_user_role))
        .routes(utoipa_axum::routes!(set_user_password))
        .routes(utoipa_axum::routes!(put_setting, delete_setting))
}

/// Query of `GET /api/v1/admin/users`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UserQuery {
    /// Matches anywhere in the e-mail address or name, ignoring case.
    q: Option<String>,
    /// Only users with this role.
    role: Option<UserRole>,
    /// From a previous page's `next_cursor`.
    cursor: Option<String>,
    /// Page size, 1 to 100 (default 25).
    #[param(minimum = 1, maximum = 100)]
    limit: Option<u32>,
}

/// List and search users (admins only).
#[utoipa::path(
    get, path = "/api/v1/admin/users", tag = "admin",
    params(UserQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "A page of users, newest first", body = UserPage),
        (status = 400, description = "A bad query or cursor", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an admin", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A parameter breaks a rule", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn list_users(
    State(state): State<AppState>,
    me: SignedIn,
    ApiQuery(query): ApiQuery<UserQuery>,
) -> Result<Json<UserPage>, ApiError> {
    let (limit, cursor) = pagination::by_time(query.limit, query.cursor.as_deref())?;
    Checks::default()
        .length(query.q.as_deref().unwrap_or(""), "/q", 0, 200)
        .finish()?;
    let mut tx = begin(state.db.api(), me.caller(), Access::ReadOnly).await?;
    profiles::require_admin(&mut tx).await?;
    let search = query.q.as_deref().map(str::trim).filter(|q| !q.is_empty());
    let items = profiles::list(&mut tx, search, query.role, cursor, limit + 1).await?;
    tx.commit().await?;
    let (items, next_cursor) = pagination::cut(items, limit, |p| {
        pagination::Position::at(p.created_at, p.id)
    });
    Ok(Json(UserPage { items, next_cursor }))
}

/// Change a user's role (admins only).
#[utoipa::path(
    put, path = "/api/v1/admin/users/{id}/role", tag = "admin",
    params(("id" = Uuid, Path, description = "The user")),
    request_body = RoleChange,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The user's profile with the new role", body = Profile),
        (status = 400, description = "Malformed request", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an admin", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such user", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Not a role", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn set_user_role(
    State(state): State<AppState>,
    me: SignedIn,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(change): ApiJson<RoleChange>,
) -> Result<Json<Profile>, ApiError> {
    let mut tx = begin(state.db.api(), me.caller(), Access::ReadWrite).await?;
    profiles::require_admin(&mut tx).await?;
    let profile = profiles::set_role(&mut tx, id, change.role).await?;
    tx.commit().await?;
    let profile = profile.ok_or_else(|| ApiError::NotFound("No such user.".to_owned()))?;
    tracing::info!(admin = %me.0.sub, user = %id, role = %change.role, "role changed");
    Ok(Json(profile))
}

/// Set a user's password (admins only): for a learner who cannot receive a reset mail, or a
/// server that sends none. Every session of the user ends and their unused reset links stop
/// working; the admin tells them the password by other means.
#[utoipa::path(
    put, path = "/api/v1/admin/users/{id}/password", tag = "admin",
    params(("id" = Uuid, Path, description = "The user")),
    request_body = PasswordSet,
    security(("bearer" = [])),
    responses(
        (status = 204, description = "The password is set; every session of the user has ended"),
        (status = 400, description = "Malformed request", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an admin, or `own_password` (an admin's own password is reset like anyone's)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such user", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "The password breaks a rule", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn set_user_password(
    State(state): State<AppState>,
    me: SignedIn,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(change): ApiJson<PasswordSet>,
) -> Result<StatusCode, ApiError> {
    // Who asks is checked first, so a non-admin learns nothing about the password rules or
    // which users exist.
    let mut tx = begin(state.db.api(), me.caller(), Access::ReadOnly).await?;
    profiles::require_admin(&mut tx).await?;
    tx.commit().await?;
    // This route ends every session of the user: on one's own account it would sign the admin
    // out mid-task (and a stolen admin token could lock the admin out). Admins reset their own
    // password the way everyone does.
    if id == me.0.sub {
        return Err(ApiError::Rule {
            status: StatusCode::FORBIDDEN,
            code: "own_password".to_owned(),
            detail: "Admins set other people's passwords here; reset your own with \u{201c}Forgot password?\u{201d} on the sign-in screen.".to_owned(),
            errors: Vec::new(),
        });
    }
    Checks::default()
        .length(
            &change.password,
            "/password",
            crate::auth::password::MIN_LEN,
            crate::auth::password::MAX_LEN,
        )
        .finish()?;
    let hash = crate::auth::password::hash(change.password)
        .await
        .map_err(ApiError::Internal)?;
    let mut tx = crate::db::session::begin_service(state.db.api()).await?;
    if account_tokens::find_by_id(&mut tx, id).await?.is_none() {
        return Err(ApiError::NotFound("No such user.".to_owned()));
    }
    let ended = account_tokens::set_password(&mut tx, id, &hash).await?;
    account_tokens::use_up_all(&mut tx, id, account_tokens::Purpose::PasswordReset).await?;
    tx.commit().await?;
    let now = chrono::Utc::now();
    for session in &ended {
        state.revoked.insert(*session, now);
    }
    tracing::info!(admin = %me.0.sub, user = %id, sessions_ended = ended.len(), "password set by an admin");
    Ok(StatusCode::NO_CONTENT)
}

fn check_key(key: &str) -> Result<(), ApiError> {
    Checks::default()
        .length(key, "/key", 1, 100)
        .check(
            key.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '.'),
            "/key",
            "invalid_key",
            "Lowercase letters, digits, `_` and `.` only.",
        )
        .finish()
}

/// Create or replace a setting (admins only).
#[utoipa::path(
    put, path = "/api/v1/admin/settings/{key}", tag = "admin",
    params(("key" = String, Path, description = "The setting's key, e.g. `platform_name`")),
    request_body = SettingWrite,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The setting as stored", body = SystemSetting),
        (status = 400, description = "Malformed request", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an admin", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A bad key or value", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn put_setting(
    State(state): State<AppState>,
    me: SignedIn,
    ApiPath(key): ApiPath<String>,
    ApiJson(write): ApiJson<SettingWrite>,
) -> Result<Json<SystemSetting>, ApiError> {
    check_key(&key)?;
    Checks::default()
        .length(
            write.description.as_deref().unwrap_or(""),
            "/description",
            0,
            1000,
        )
        .check(
            write.value.to_string().len() <= 64 * 1024,
            "/value",
            "too_long",
            "At most 64 KiB.",
        )
        .finish()?;
    let mut tx = begin(state.db.api(), me.caller(), Access::ReadWrite).await?;
    profiles::require_admin(&mut tx).await?;
    let setting = settings::upsert(&mut tx, &key, &write).await?;
    tx.commit().await?;
    Ok(Json(setting))
}

/// Delete a setting (admins only).
#[utoipa::path(
    delete, path = "/api/v1/admin/settings/{key}", tag = "admin",
    params(("key" = String, Path, description = "The setting's key")),
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Deleted"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an admin", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such setting", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn delete_setting(
    State(state): State<AppState>,
    me: SignedIn,
    ApiPath(key): ApiPath<String>,
) -> Result<StatusCode, ApiError> {
    let mut tx = begin(state.db.api(), me.caller(), Access::ReadWrite).await?;
    profiles::require_admin(&mut tx).await?;
    let deleted = settings::delete(&mut tx, &key).await?;
    tx.commit().await?;
    if deleted {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::NotFound("No such setting.".to_owned()))
    }
}
