//! The list of lab images (`lab_images`, `migrations/0060_lab_images.sql`): written by the
//! server's admin command as the owner, read by authors under RLS.

use skilltrack_protocol::labs::LabImage;
use sqlx::PgConnection;

use crate::labs::images::ImageInfo;

/// Records (or replaces) an image imported on this host.
pub async fn register(conn: &mut PgConnection, image: &ImageInfo) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO public.lab_images (name, digest, source, size_bytes, shell)
         VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (name) DO UPDATE SET digest = EXCLUDED.digest, source = EXCLUDED.source,
           size_bytes = EXCLUDED.size_bytes, shell = EXCLUDED.shell",
    )
    .bind(&image.name)
    .bind(&image.digest)
    .bind(&image.source)
    .bind(i64::try_from(image.size_bytes).unwrap_or(i64::MAX))
    .bind(&image.shell)
    .execute(conn)
    .await
    .map(drop)
}

/// Forgets an image; false if there was none of that name.
pub async fn unregister(conn: &mut PgConnection, name: &str) -> Result<bool, sqlx::Error> {
    Ok(sqlx::query("DELETE FROM public.lab_images WHERE name = $1")
        .bind(name)
        .execute(conn)
        .await?
        .rows_affected()
        == 1)
}

/// Whether the platform has an image of this name.
pub async fn exists(conn: &mut PgConnection, name: &str) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM public.lab_images WHERE name = $1)")
        .bind(name)
        .fetch_one(conn)
        .await
}

/// The images the caller may see (authors and admins), by name.
pub async fn list(conn: &mut PgConnection) -> Result<Vec<LabImage>, sqlx::Error> {
    let rows: Vec<(
        String,
        String,
        String,
        i64,
        String,
        chrono::DateTime<chrono::Utc>,
    )> = sqlx::query_as(
        "SELECT name, digest, source, size_bytes, shell, updated_at
             FROM public.lab_images ORDER BY name",
    )
    .fetch_all(conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(
            |(name, digest, source, size_bytes, shell, imported_at)| LabImage {
                name,
                digest,
                source,
                size_bytes,
                shell,
                imported_at,
            },
        )
        .collect())
}
