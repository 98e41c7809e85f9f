//! The catalog's taxonomy: services and lab categories, written by admins.
//!
//! Everything runs in the caller's request transaction under RLS: only admins insert, update or
//! delete these rows (`migrations/0006_row_level_security.sql`, policies `services_*` and
//! `lab_categories_*`), and the derived counters are not even granted to them. A deletion
//! first locks the row (`FOR UPDATE`), then counts what refers to it: a course or lab being
//! added to it at the same moment holds a key-share lock on the row, so it either committed
//! before (and is counted) or waits until the deletion is decided.

use chrono::{DateTime, Utc};
use skilltrack_protocol::catalog::LabCategory;
use skilltrack_protocol::taxonomy::{
    LabCategoryDraft, LabCategoryPatch, ServiceDraft, ServicePatch, ServiceRecord,
};
use sqlx::PgConnection;
use uuid::Uuid;

use super::authoring::Assignments;

/// What a deletion did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Removal {
    /// The row is gone.
    Deleted,
    /// No such row (or the caller may not change it).
    Missing,
    /// This many rows refer to it (courses of a service, labs of a category), so it stays.
    InUse(i64),
}

type ServiceRow = (
    Uuid,
    String,
    String,
    String,
    String,
    Option<String>,
    Option<String>,
    bool,
    i32,
    bool,
    i32,
    i32,
    DateTime<Utc>,
    DateTime<Utc>,
);

const SERVICE_COLUMNS: &str = "id, slug, title, description, icon, image_url, color, is_active, \
     sort_order, featured, course_count, student_count, created_at, updated_at";

fn service_record(r: ServiceRow) -> ServiceRecord {
    ServiceRecord {
        id: r.0,
        slug: r.1,
        title: r.2,
        description: r.3,
        icon: r.4,
        image_url: r.5,
        color: r.6,
        is_active: r.7,
        sort_order: r.8,
        featured: r.9,
        course_count: r.10,
        student_count: r.11,
        created_at: r.12,
        updated_at: r.13,
    }
}

/// Every service the caller sees (admins: all, inactive ones included), in display order.
pub async fn services(conn: &mut PgConnection) -> Result<Vec<ServiceRecord>, sqlx::Error> {
    sqlx::query_as::<_, ServiceRow>(&format!(
        "SELECT {SERVICE_COLUMNS} FROM services ORDER BY sort_order, title, id"
    ))
    .fetch_all(conn)
    .await
    .map(|rows| rows.into_iter().map(service_record).collect())
}

/// One service, if the caller sees it.
pub async fn service(
    conn: &mut PgConnection,
    id: Uuid,
) -> Result<Option<ServiceRecord>, sqlx::Error> {
    sqlx::query_as::<_, ServiceRow>(&format!(
        "SELECT {SERVICE_COLUMNS} FROM services WHERE id = $1"
    ))
    .bind(id)
    .fetch_optional(conn)
    .await
    .map(|row| row.map(service_record))
}

/// Creates a service (already validated). RLS refuses a non-admin (42501); a slug in use is
/// 23505.
pub async fn create_service(
    conn: &mut PgConnection,
    draft: &ServiceDraft,
) -> Result<Uuid, sqlx::Error> {
    let id = Uuid::now_v7();
    sqlx::query(
        "INSERT INTO services (id, slug, title, description, icon, image_url, color, is_active,
             sort_order, featured)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(id)
    .bind(&draft.slug)
    .bind(&draft.title)
    .bind(&draft.description)
    .bind(&draft.icon)
    .bind(draft.image_url.as_deref())
    .bind(draft.color.as_deref())
    .bind(draft.is_active)
    .bind(draft.sort_order)
    .bind(draft.featured)
    .execute(conn)
    .await?;
    Ok(id)
}

/// Locks a service the caller may change; false if there is none.
pub async fn lock_service(conn: &mut PgConnection, id: Uuid) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar::<_, i32>("SELECT 1 FROM services WHERE id = $1 FOR UPDATE")
        .bind(id)
        .fetch_optional(conn)
        .await
        .map(|row| row.is_some())
}

/// Writes the fields present in `patch` (validated and normalised: `Some(None)` clears).
pub async fn update_service(
    conn: &mut PgConnection,
    id: Uuid,
    patch: &ServicePatch,
) -> Result<(), sqlx::Error> {
    let p = patch.clone();
    let mut set = Assignments::new("services");
    set.set("slug", p.slug)
        .set("title", p.title)
        .set("description", p.description)
        .set("icon", p.icon)
        .set("image_url", p.image_url)
        .set("color", p.color)
        .set("is_active", p.is_active)
        .set("sort_order", p.sort_order)
        .set("featured", p.featured);
    set.run(conn, id).await
}

/// Deletes a service no course belongs to. Courses (drafts included) would otherwise go with
/// it (`ON DELETE CASCADE`), so a service in use stays.
pub async fn delete_service(conn: &mut PgConnection, id: Uuid) -> Result<Removal, sqlx::Error> {
    if !lock_service(conn, id).await? {
        return Ok(Removal::Missing);
    }
    // Admins see every course, drafts included (`courses_select`).
    let courses: i64 = sqlx::query_scalar("SELECT count(*) FROM courses WHERE service_id = $1")
        .bind(id)
        .fetch_one(&mut *conn)
        .await?;
    if courses > 0 {
        return Ok(Removal::InUse(courses));
    }
    sqlx::query("DELETE FROM services WHERE id = $1")
        .bind(id)
        .execute(conn)
        .await?;
    Ok(Removal::Deleted)
}

type CategoryRow = (Uuid, String, String, String, String, i32);

fn category(r: CategoryRow) -> LabCategory {
    LabCategory {
        id: r.0,
        slug: r.1,
        name: r.2,
        description: r.3,
        icon: r.4,
        lab_count: r.5,
    }
}

/// One lab category.
pub async fn lab_category(
    conn: &mut PgConnection,
    id: Uuid,
) -> Result<Option<LabCategory>, sqlx::Error> {
    sqlx::query_as::<_, CategoryRow>(
        "SELECT id, slug, name, description, icon, lab_count FROM lab_categories WHERE id = $1",
    )
    .bind(id)
    .fetch_optional(conn)
    .await
    .map(|row| row.map(category))
}

/// Creates a lab category (already validated). RLS refuses a non-admin (42501); a slug in use
/// is 23505.
pub async fn create_lab_category(
    conn: &mut PgConnection,
    draft: &LabCategoryDraft,
) -> Result<Uuid, sqlx::Error> {
    let id = Uuid::now_v7();
    sqlx::query(
        "INSERT INTO lab_categories (id, slug, name, description, icon)
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(id)
    .bind(&draft.slug)
    .bind(&draft.name)
    .bind(&draft.description)
    .bind(&draft.icon)
    .execute(conn)
    .await?;
    Ok(id)
}

/// Locks a lab category the caller may change; false if there is none.
pub async fn lock_lab_category(conn: &mut PgConnection, id: Uuid) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar::<_, i32>("SELECT 1 FROM lab_categories WHERE id = $1 FOR UPDATE")
        .bind(id)
        .fetch_optional(conn)
        .await
        .map(|row| row.is_some())
}

/// Writes the fields present in `patch` (validated and normalised).
pub async fn update_lab_category(
    conn: &mut PgConnection,
    id: Uuid,
    patch: &LabCategoryPatch,
) -> Result<(), sqlx::Error> {
    let p = patch.clone();
    let mut set = Assignments::new("lab_categories");
    set.set("slug", p.slug)
        .set("name", p.name)
        .set("description", p.description)
        .set("icon", p.icon);
    set.run(conn, id).await
}

/// Deletes a lab category no lab is in. Its labs would otherwise silently lose their category
/// (`ON DELETE SET NULL`), so a category in use stays.
pub async fn delete_lab_category(
    conn: &mut PgConnection,
    id: Uuid,
) -> Result<Removal, sqlx::Error> {
    if !lock_lab_category(conn, id).await? {
        return Ok(Removal::Missing);
    }
    // Admins see every lab, drafts included (`labs_select`).
    let labs: i64 = sqlx::query_scalar("SELECT count(*) FROM labs WHERE category_id = $1")
        .bind(id)
        .fetch_one(&mut *conn)
        .await?;
    if labs > 0 {
        return Ok(Removal::InUse(labs));
    }
    sqlx::query("DELETE FROM lab_categories WHERE id = $1")
        .bind(id)
        .execute(conn)
        .await?;
    Ok(Removal::Deleted)
}
