//! `/api/v1/me`: the caller's own profile.

use axum::Json;
use axum::extract::State;
use skilltrack_protocol::Problem;
use skilltrack_protocol::profile::{Profile, ProfilePatch};

use super::AppState;
use super::error::ApiError;
use super::extract::{ApiJson, SignedIn};
use super::validate::Checks;
use crate::db::profiles;
use crate::db::session::{Access, begin};

/// `/api/v1/me`.
pub fn routes() -> utoipa_axum::router::OpenApiRouter<AppState> {
    utoipa_axum::router::OpenApiRouter::new().routes(utoipa_axum::routes!(get_me, patch_me))
}

/// The caller's profile.
#[utoipa::path(
    get, path = "/api/v1/me", tag = "profile",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The caller's profile", body = Profile),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "The account is gone", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn get_me(
    State(state): State<AppState>,
    me: SignedIn,
) -> Result<Json<Profile>, ApiError> {
    let mut tx = begin(state.db.api(), me.caller(), Access::ReadOnly).await?;
    let profile = profiles::get(&mut tx, me.0.sub).await?;
    tx.commit().await?;
    profile
        .map(Json)
        .ok_or_else(|| ApiError::NotFound("This account no longer exists.".to_owned()))
}

/// Change the caller's profile. Role, e-mail and counters cannot be changed here.
#[utoipa::path(
    patch, path = "/api/v1/me", tag = "profile",
    request_body = ProfilePatch,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The updated profile", body = Profile),
        (status = 400, description = "Malformed request", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A field breaks a rule, or is not editable (e.g. `role`)", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn patch_me(
    State(state): State<AppState>,
    me: SignedIn,
    ApiJson(patch): ApiJson<ProfilePatch>,
) -> Result<Json<Profile>, ApiError> {
    check_patch(&patch)?;
    let mut tx = begin(state.db.api(), me.caller(), Access::ReadWrite).await?;
    let profile = profiles::update(&mut tx, me.0.sub, &patch).await?;
    tx.commit().await?;
    profile
        .map(Json)
        .ok_or_else(|| ApiError::NotFound("This account no longer exists.".to_owned()))
}

pub(super) fn check_patch(p: &ProfilePatch) -> Result<(), ApiError> {
    let mut checks = Checks::default();
    let opt = |v: &Option<String>| v.as_deref().unwrap_or("").to_owned();
    checks.length(&opt(&p.full_name), "/full_name", 0, 200);
    checks.length(&opt(&p.company), "/company", 0, 200);
    checks.length(&opt(&p.bio), "/bio", 0, 5000);
    if let Some(url) = p.avatar_url.as_deref().filter(|u| !u.is_empty()) {
        checks.check(
            (url.starts_with("https://") || url.starts_with("http://")) && url.len() <= 2048,
            "/avatar_url",
            "invalid_url",
            "An http(s) URL of at most 2048 characters.",
        );
    }
    if let Some(phone) = p.phone.as_deref().filter(|p| !p.is_empty()) {
        checks.check(
            phone.len() <= 32
                && phone.chars().any(|c| c.is_ascii_digit())
                && phone
                    .chars()
                    .all(|c| c.is_ascii_digit() || " +-().".contains(c)),
            "/phone",
            "invalid_phone",
            "Digits, spaces and + - ( ) only, at most 32 characters.",
        );
    }
    if let Some(tz) = &p.timezone {
        checks.check(
            tz.parse::<chrono_tz::Tz>().is_ok(),
            "/timezone",
            "invalid_timezone",
            "Not an IANA time zone (e.g. `Europe/Berlin`).",
        );
    }
    if let Some(lang) = &p.language {
        checks.check(
            lang.len() <= 35
                && language_tags::LanguageTag::parse(lang)
                    .is_ok_and(|t| t.is_language_range() || t.is_valid()),
            "/language",
            "invalid_language",
            "Not a BCP 47 language tag (e.g. `en`, `pt-BR`).",
        );
    }
    if let Some(n) = &p.notification_preferences {
        checks.check(
            n.as_object()
                .is_some_and(|o| o.values().all(serde_json::Value::is_boolean)),
            "/notification_preferences",
            "invalid_preferences",
            "A JSON object of true/false values.",
        );
    }
    if let Some(prefs) = &p.preferences {
        checks.check(
            prefs.is_object() && prefs.to_string().len() <= 16 * 1024,
            "/preferences",
            "invalid_preferences",
            "A JSON object of at most 16 KiB.",
        );
    }
    checks.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err_codes(p: &ProfilePatch) -> Vec<String> {
        match check_patch(p) {
            Ok(()) => Vec::new(),
            Err(ApiError::Validation { errors, .. }) => {
                errors.into_iter().map(|e| e.code).collect()
            }
            Err(e) => panic!("{e:?}"),
        }
    }

    #[test]
    fn real_zones_and_tags_pass_and_made_up_ones_do_not() {
        let ok = ProfilePatch {
            timezone: Some("America/Sao_Paulo".into()),
            language: Some("pt-BR".into()),
            phone: Some("+49 (30) 123-456".into()),
            notification_preferences: Some(serde_json::json!({"email": false})),
            ..Default::default()
        };
        assert_eq!(err_codes(&ok), Vec::<String>::new());
        let bad = ProfilePatch {
            timezone: Some("Mars/Olympus".into()),
            language: Some("not a tag".into()),
            phone: Some("call me".into()),
            avatar_url: Some("javascript:alert(1)".into()),
            notification_preferences: Some(serde_json::json!({"email": "yes"})),
            preferences: Some(serde_json::json!([1])),
            ..Default::default()
        };
        assert_eq!(
            err_codes(&bad),
            [
                "invalid_url",
                "invalid_phone",
                "invalid_timezone",
                "invalid_language",
                "invalid_preferences",
                "invalid_preferences"
            ]
        );
    }
}
