//! Content uploads' records, and who may fetch a stored file — under the caller's RLS role.

use chrono::{DateTime, Utc};
use skilltrack_protocol::uploads::ContentUpload;
use sqlx::PgConnection;
use uuid::Uuid;

/// Whether the caller may upload (instructors and admins).
pub async fn can_upload(conn: &mut PgConnection) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar("SELECT private.is_author()")
        .fetch_one(conn)
        .await
}

/// What to record of a stored upload.
#[derive(Debug, Clone)]
pub struct NewUpload<'a> {
    /// The uploader.
    pub uploader: Uuid,
    /// Content digest (hex).
    pub sha256: &'a str,
    /// Stored name.
    pub filename: &'a str,
    /// The name it came with.
    pub original_filename: &'a str,
    /// Bytes.
    pub size: i64,
    /// Checked media type.
    pub mime_type: &'a str,
    /// Where it is served.
    pub file_url: &'a str,
    /// What it belongs to.
    pub entity_type: Option<&'a str>,
    /// Which one.
    pub entity_id: Option<Uuid>,
}

/// Records an upload (RLS: the uploader is the caller, an instructor or admin).
pub async fn record(
    conn: &mut PgConnection,
    u: &NewUpload<'_>,
) -> Result<ContentUpload, sqlx::Error> {
    let (id, created_at): (Uuid, DateTime<Utc>) = sqlx::query_as(
        "INSERT INTO content_uploads (uploader_id, filename, original_filename, file_size,
           mime_type, file_url, entity_type, entity_id, sha256)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id, created_at",
    )
    .bind(u.uploader)
    .bind(u.filename)
    .bind(u.original_filename)
    .bind(u.size)
    .bind(u.mime_type)
    .bind(u.file_url)
    .bind(u.entity_type)
    .bind(u.entity_id)
    .bind(u.sha256)
    .fetch_one(conn)
    .await?;
    Ok(ContentUpload {
        id,
        filename: u.filename.to_owned(),
        original_filename: u.original_filename.to_owned(),
        file_size: u.size,
        mime_type: u.mime_type.to_owned(),
        file_url: u.file_url.to_owned(),
        sha256: u.sha256.to_owned(),
        entity_type: u.entity_type.map(str::to_owned),
        entity_id: u.entity_id,
        created_at,
    })
}

/// Whether the caller may fetch the stored file at `url`: they uploaded it (or are an admin),
/// or something they can see refers to it — a lesson they may study, a course's or lab's
/// picture or trailer.
pub async fn is_visible(conn: &mut PgConnection, url: &str) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM content_uploads WHERE file_url = $1)
             OR EXISTS (SELECT 1 FROM course_lessons WHERE content_url = $1 OR poster_url = $1
                          OR captions @> jsonb_build_array(jsonb_build_object('url', $1::text)))
             OR EXISTS (SELECT 1 FROM courses
                        WHERE image_url = $1 OR preview_video_url = $1 OR video_url = $1)
             OR EXISTS (SELECT 1 FROM labs WHERE image_url = $1)",
    )
    .bind(url)
    .fetch_one(conn)
    .await
}
