//! Profiles, and what admins do with them.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use ts_rs::TS;
use uuid::Uuid;

use crate::enums::{DifficultyLevel, UserRole};

/// A user's profile, as its owner (or an admin) sees it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[ts(export)]
pub struct Profile {
    /// The account's id.
    pub id: Uuid,
    /// The account's e-mail address.
    pub email: String,
    /// Display name.
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub full_name: Option<String>,
    /// Picture URL.
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub avatar_url: Option<String>,
    /// Learner, instructor or admin.
    pub role: UserRole,
    /// Employer.
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub company: Option<String>,
    /// Self-assessed experience.
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub experience_level: Option<DifficultyLevel>,
    /// About the user.
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub bio: Option<String>,
    /// Phone number.
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub phone: Option<String>,
    /// An IANA time zone, e.g. `Europe/Berlin`.
    pub timezone: String,
    /// A BCP 47 language tag, e.g. `en` or `pt-BR`.
    pub language: String,
    /// Channels the user wants notifications on, e.g. `{"email": true, "push": true}`.
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    #[ts(type = "Record<string, unknown>")]
    pub notification_preferences: serde_json::Value,
    /// Free-form app preferences (a JSON object).
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    #[ts(type = "Record<string, unknown>")]
    pub preferences: serde_json::Value,
    /// Last sign-in.
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub last_login: Option<DateTime<Utc>>,
    /// Number of sign-ins.
    pub login_count: i32,
    /// Verified by an admin.
    pub is_verified: bool,
    /// Subscription tier, e.g. `free`.
    pub subscription_tier: String,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Last changed.
    pub updated_at: DateTime<Utc>,
}

/// `PATCH /api/v1/me`: the fields to change; absent fields stay as they are, and an empty string
/// clears an optional text field. Role, e-mail and counters are not editable here.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
#[ts(export)]
pub struct ProfilePatch {
    /// Display name, up to 200 characters.
    #[serde(default)]
    pub full_name: Option<String>,
    /// Picture URL (http or https).
    #[serde(default)]
    pub avatar_url: Option<String>,
    /// Employer, up to 200 characters.
    #[serde(default)]
    pub company: Option<String>,
    /// Self-assessed experience.
    #[serde(default)]
    pub experience_level: Option<DifficultyLevel>,
    /// About the user, up to 5000 characters.
    #[serde(default)]
    pub bio: Option<String>,
    /// Phone number: digits, spaces and `+-()`, up to 32 characters.
    #[serde(default)]
    pub phone: Option<String>,
    /// An IANA time zone, e.g. `America/Sao_Paulo`.
    #[serde(default)]
    pub timezone: Option<String>,
    /// A BCP 47 language tag, e.g. `en`, `pt-BR`.
    #[serde(default)]
    pub language: Option<String>,
    /// A JSON object of booleans, e.g. `{"email": false}`.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Object>))]
    #[ts(type = "Record<string, boolean> | null")]
    pub notification_preferences: Option<serde_json::Value>,
    /// A JSON object.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Object>))]
    #[ts(type = "Record<string, unknown> | null")]
    pub preferences: Option<serde_json::Value>,
}

/// A page of users, for admins.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[ts(export)]
pub struct UserPage {
    /// The users, newest first.
    pub items: Vec<Profile>,
    /// Pass as `cursor` for the next page; absent on the last page.
    pub next_cursor: Option<String>,
}

/// `PUT /api/v1/admin/users/{id}/role`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
#[ts(export)]
pub struct RoleChange {
    /// The new role.
    pub role: UserRole,
}
