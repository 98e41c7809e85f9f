//! `/api/v1/settings`: platform settings (public ones for anyone, all for admins).

use axum::Json;
use axum::extract::State;
use skilltrack_protocol::Problem;
use skilltrack_protocol::settings::SettingList;

use super::AppState;
use super::error::ApiError;
use super::extract::AnyCaller;
use crate::db::session::{Access, begin};

/// `/api/v1/settings`.
pub fn routes() -> utoipa_axum::router::OpenApiRouter<AppState> {
    utoipa_axum::router::OpenApiRouter::new().routes(utoipa_axum::routes!(list_settings))
}

/// Every setting the caller may read: the public ones, or all of them for an admin.
#[utoipa::path(
    get, path = "/api/v1/settings", tag = "settings",
    security((), ("bearer" = [])),
    responses(
        (status = 200, description = "The settings", body = SettingList),
        (status = 401, description = "A bad or expired token", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn list_settings(
    State(state): State<AppState>,
    AnyCaller(caller): AnyCaller,
) -> Result<Json<SettingList>, ApiError> {
    let mut tx = begin(state.db.api(), caller, Access::ReadOnly).await?;
    let items = crate::db::settings::list(&mut tx).await?;
    tx.commit().await?;
    Ok(Json(SettingList { items }))
}
