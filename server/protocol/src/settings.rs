//! Platform settings.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// A platform setting. Public ones are readable by anyone; admins see and manage all.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[ts(export)]
pub struct SystemSetting {
    /// Its key, e.g. `platform_name`.
    pub key: String,
    /// Any JSON value (a string, a number, an object...).
    #[ts(type = "unknown")]
    pub value: serde_json::Value,
    /// What it does.
    pub description: Option<String>,
    /// Readable by anyone, signed in or not.
    pub is_public: bool,
    /// Last changed.
    pub updated_at: DateTime<Utc>,
}

/// `PUT /api/v1/admin/settings/{key}`: creates or replaces a setting.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
#[ts(export)]
pub struct SettingWrite {
    /// Any JSON value (a string, a number, an object...).
    #[ts(type = "unknown")]
    pub value: serde_json::Value,
    /// What it does.
    #[serde(default)]
    pub description: Option<String>,
    /// Readable by anyone (default false).
    #[serde(default)]
    pub is_public: bool,
}

/// All settings the caller may read.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[ts(export)]
pub struct SettingList {
    /// By key.
    pub items: Vec<SystemSetting>,
}
