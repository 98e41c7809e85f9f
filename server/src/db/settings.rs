//! Platform settings, under the caller's RLS role: public ones for anyone, all for admins.

use chrono::{DateTime, Utc};
use skilltrack_protocol::settings::{SettingWrite, SystemSetting};
use sqlx::PgConnection;
use sqlx::types::Json;

#[derive(sqlx::FromRow)]
struct Row {
    setting_key: String,
    setting_value: serde_json::Value,
    description: Option<String>,
    is_public: bool,
    updated_at: DateTime<Utc>,
}

impl From<Row> for SystemSetting {
    fn from(r: Row) -> Self {
        Self {
            key: r.setting_key,
            value: r.setting_value,
            description: r.description,
            is_public: r.is_public,
            updated_at: r.updated_at,
        }
    }
}

const COLUMNS: &str = "setting_key, setting_value, description, is_public, updated_at";

/// Every setting the caller may read, by key.
pub async fn list(conn: &mut PgConnection) -> Result<Vec<SystemSetting>, sqlx::Error> {
    let rows = sqlx::query_as::<_, Row>(&format!(
        "SELECT {COLUMNS} FROM public.system_settings ORDER BY setting_key"
    ))
    .fetch_all(conn)
    .await?;
    Ok(rows.into_iter().map(SystemSetting::from).collect())
}

/// Creates or replaces a setting.
pub async fn upsert(
    conn: &mut PgConnection,
    key: &str,
    write: &SettingWrite,
) -> Result<SystemSetting, sqlx::Error> {
    sqlx::query_as::<_, Row>(&format!(
        "INSERT INTO public.system_settings (setting_key, setting_value, description, is_public)
         VALUES ($1, $2, $3, $4)
         ON CONFLICT (setting_key) DO UPDATE SET setting_value = EXCLUDED.setting_value,
           description = EXCLUDED.description, is_public = EXCLUDED.is_public
         RETURNING {COLUMNS}"
    ))
    .bind(key)
    .bind(Json(&write.value))
    .bind(write.description.as_deref())
    .bind(write.is_public)
    .fetch_one(conn)
    .await
    .map(SystemSetting::from)
}

/// Deletes a setting; false if there was none (or the caller may not see it).
pub async fn delete(conn: &mut PgConnection, key: &str) -> Result<bool, sqlx::Error> {
    let done = sqlx::query("DELETE FROM public.system_settings WHERE setting_key = $1")
        .bind(key)
        .execute(conn)
        .await?;
    Ok(done.rows_affected() == 1)
}
