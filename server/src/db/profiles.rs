//! Profiles: one's own, and the admin's view of everyone's. Runs in the caller's request
//! transaction, so RLS decides whose rows are reachable.

use chrono::{DateTime, Utc};
use skilltrack_protocol::profile::{Profile, ProfilePatch};
use skilltrack_protocol::{DifficultyLevel, PgEnum as _, UserRole};
use sqlx::PgConnection;
use uuid::Uuid;

const COLUMNS: &str = "id, email, full_name, avatar_url, role::text AS role, company,
    experience_level::text AS experience_level, bio, phone, timezone, language,
    notification_preferences, preferences, last_login, login_count, is_verified,
    subscription_tier, created_at, updated_at";

#[derive(sqlx::FromRow)]
struct Row {
    id: Uuid,
    email: String,
    full_name: Option<String>,
    avatar_url: Option<String>,
    role: String,
    company: Option<String>,
    experience_level: Option<String>,
    bio: Option<String>,
    phone: Option<String>,
    timezone: String,
    language: String,
    notification_preferences: serde_json::Value,
    preferences: serde_json::Value,
    last_login: Option<DateTime<Utc>>,
    login_count: i32,
    is_verified: bool,
    subscription_tier: String,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

use super::decode;

impl TryFrom<Row> for Profile {
    type Error = sqlx::Error;
    fn try_from(r: Row) -> Result<Self, Self::Error> {
        Ok(Self {
            id: r.id,
            email: r.email,
            full_name: r.full_name,
            avatar_url: r.avatar_url,
            role: decode::<UserRole>("role", &r.role)?,
            company: r.company,
            experience_level: r
                .experience_level
                .as_deref()
                .map(|l| decode::<DifficultyLevel>("experience_level", l))
                .transpose()?,
            bio: r.bio,
            phone: r.phone,
            timezone: r.timezone,
            language: r.language,
            notification_preferences: r.notification_preferences,
            preferences: r.preferences,
            last_login: r.last_login,
            login_count: r.login_count,
            is_verified: r.is_verified,
            subscription_tier: r.subscription_tier,
            created_at: r.created_at,
            updated_at: r.updated_at,
        })
    }
}

/// The profile with this id, if the caller may see it.
pub async fn get(conn: &mut PgConnection, id: Uuid) -> Result<Option<Profile>, sqlx::Error> {
    sqlx::query_as::<_, Row>(&format!(
        "SELECT {COLUMNS} FROM public.profiles WHERE id = $1"
    ))
    .bind(id)
    .fetch_optional(conn)
    .await?
    .map(Profile::try_from)
    .transpose()
}

/// Applies a (validated) patch to the caller's own profile. An empty string clears an optional
/// text field; absent fields are left alone.
pub async fn update(
    conn: &mut PgConnection,
    id: Uuid,
    patch: &ProfilePatch,
) -> Result<Option<Profile>, sqlx::Error> {
    sqlx::query_as::<_, Row>(&format!(
        "UPDATE public.profiles SET
           full_name = CASE WHEN $2::text IS NULL THEN full_name ELSE nullif($2, '') END,
           avatar_url = CASE WHEN $3::text IS NULL THEN avatar_url ELSE nullif($3, '') END,
           company = CASE WHEN $4::text IS NULL THEN company ELSE nullif($4, '') END,
           experience_level = coalesce($5::difficulty_level, experience_level),
           bio = CASE WHEN $6::text IS NULL THEN bio ELSE nullif($6, '') END,
           phone = CASE WHEN $7::text IS NULL THEN phone ELSE nullif($7, '') END,
           timezone = coalesce($8, timezone),
           language = coalesce($9, language),
           notification_preferences = coalesce($10, notification_preferences),
           preferences = coalesce($11, preferences)
         WHERE id = $1
         RETURNING {COLUMNS}"
    ))
    .bind(id)
    .bind(patch.full_name.as_deref())
    .bind(patch.avatar_url.as_deref())
    .bind(patch.company.as_deref())
    .bind(patch.experience_level.map(DifficultyLevel::as_str))
    .bind(patch.bio.as_deref())
    .bind(patch.phone.as_deref())
    .bind(patch.timezone.as_deref())
    .bind(patch.language.as_deref())
    .bind(patch.notification_preferences.as_ref())
    .bind(patch.preferences.as_ref())
    .fetch_optional(conn)
    .await?
    .map(Profile::try_from)
    .transpose()
}

/// Fails with 42501 unless the caller is an admin.
pub async fn require_admin(conn: &mut PgConnection) -> Result<(), sqlx::Error> {
    sqlx::query("SELECT public.require_admin()")
        .execute(conn)
        .await
        .map(drop)
}

/// Where a page of users starts: after this `(created_at, id)`, newest first.
pub type UserCursor = (DateTime<Utc>, Uuid);

/// Users matching `search` (in e-mail or name) and `role`, newest first, after `cursor`.
pub async fn list(
    conn: &mut PgConnection,
    search: Option<&str>,
    role: Option<UserRole>,
    cursor: Option<UserCursor>,
    limit: u32,
) -> Result<Vec<Profile>, sqlx::Error> {
    let pattern = search.map(|s| {
        format!(
            "%{}%",
            s.replace('\\', "\\\\")
                .replace('%', "\\%")
                .replace('_', "\\_")
        )
    });
    sqlx::query_as::<_, Row>(&format!(
        "SELECT {COLUMNS} FROM public.profiles
         WHERE ($1::text IS NULL OR email ILIKE $1 OR full_name ILIKE $1)
           AND ($2::user_role IS NULL OR role = $2::user_role)
           AND ($3::timestamptz IS NULL OR (created_at, id) < ($3, $4))
         ORDER BY created_at DESC, id DESC
         LIMIT $5"
    ))
    .bind(pattern)
    .bind(role.map(UserRole::as_str))
    .bind(cursor.map(|c| c.0))
    .bind(cursor.map(|c| c.1))
    .bind(i64::from(limit))
    .fetch_all(conn)
    .await?
    .into_iter()
    .map(Profile::try_from)
    .collect()
}

/// Changes a user's role (admins only: RLS and the profile guard enforce it).
pub async fn set_role(
    conn: &mut PgConnection,
    id: Uuid,
    role: UserRole,
) -> Result<Option<Profile>, sqlx::Error> {
    sqlx::query_as::<_, Row>(&format!(
        "UPDATE public.profiles SET role = $2::user_role WHERE id = $1 RETURNING {COLUMNS}"
    ))
    .bind(id)
    .bind(role.as_str())
    .fetch_optional(conn)
    .await?
    .map(Profile::try_from)
    .transpose()
}
