//! The desktop app's published releases (`desktop_releases`,
//! `migrations/0092_desktop_releases.sql`): written by the operator's command as the owner,
//! read by anyone under RLS.

use chrono::{DateTime, Utc};
use skilltrack_protocol::desktop_updates::{DesktopArch, DesktopBundle, ReleaseVersion};
use sqlx::PgConnection;
use uuid::Uuid;

/// One published package.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ReleaseRow {
    /// Id (part of the download URL; a new one whenever the package's bytes change).
    pub id: Uuid,
    /// `X.Y.Z`.
    pub version: String,
    /// `deb` or `rpm`.
    pub bundle: String,
    /// `x86_64` or `aarch64`.
    pub arch: String,
    /// The package's name (the download URL's last segment).
    pub file_name: String,
    /// Its size.
    pub size_bytes: i64,
    /// Its SHA-256, hex: the file's name in the store, and its `ETag`.
    pub sha256: String,
    /// The `.sig` file's content.
    pub signature: String,
    /// What changed, in words.
    pub notes: String,
    /// When it was published (last).
    pub published_at: DateTime<Utc>,
}

/// What the operator publishes.
#[derive(Debug, Clone)]
pub struct NewRelease {
    /// The version.
    pub version: ReleaseVersion,
    /// The package format.
    pub bundle: DesktopBundle,
    /// The architecture.
    pub arch: DesktopArch,
    /// The package's name.
    pub file_name: String,
    /// Its size.
    pub size_bytes: i64,
    /// Its SHA-256, hex.
    pub sha256: String,
    /// The `.sig` file's content.
    pub signature: String,
    /// What changed.
    pub notes: String,
}

const COLUMNS: &str = "id, version, bundle, arch, file_name, size_bytes, sha256, signature, notes, \
     published_at";

/// The newest release of this format and architecture that is newer than `current`, compared
/// number by number (`0.10.0` is newer than `0.9.0`).
pub async fn newest_after(
    conn: &mut PgConnection,
    bundle: DesktopBundle,
    arch: DesktopArch,
    current: ReleaseVersion,
) -> Result<Option<ReleaseRow>, sqlx::Error> {
    sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM public.desktop_releases
         WHERE bundle = $1 AND arch = $2
           AND string_to_array(version, '.')::int[] > ARRAY[$3, $4, $5]::int[]
         ORDER BY string_to_array(version, '.')::int[] DESC
         LIMIT 1"
    ))
    .bind(bundle.as_str())
    .bind(arch.as_str())
    .bind(version_part(current.major))
    .bind(version_part(current.minor))
    .bind(version_part(current.patch))
    .fetch_optional(conn)
    .await
}

/// A version's number as the `int` it is compared as (at most nine digits: always fits).
fn version_part(n: u32) -> i32 {
    i32::try_from(n).unwrap_or(i32::MAX)
}

/// The release with this id.
pub async fn by_id(conn: &mut PgConnection, id: Uuid) -> Result<Option<ReleaseRow>, sqlx::Error> {
    sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM public.desktop_releases WHERE id = $1"
    ))
    .bind(id)
    .fetch_optional(conn)
    .await
}

/// Every release, newest version first.
pub async fn list(conn: &mut PgConnection) -> Result<Vec<ReleaseRow>, sqlx::Error> {
    sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM public.desktop_releases
         ORDER BY string_to_array(version, '.')::int[] DESC, bundle, arch"
    ))
    .fetch_all(conn)
    .await
}

/// What publishing did.
#[derive(Debug, Clone)]
pub struct Published {
    /// The release as recorded.
    pub release: ReleaseRow,
    /// The release it replaced (the same version, format and architecture), if any.
    pub replaced: Option<ReleaseRow>,
}

/// Records a release, replacing the one of the same version, format and architecture. The
/// replacement keeps the old id when the bytes are the same (a download URL handed out stays
/// good), and gets a new one when they differ (so a URL always names the same bytes).
pub async fn publish(
    conn: &mut PgConnection,
    release: &NewRelease,
) -> Result<Published, sqlx::Error> {
    let replaced: Option<ReleaseRow> = sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM public.desktop_releases
         WHERE version = $1 AND bundle = $2 AND arch = $3 FOR UPDATE"
    ))
    .bind(release.version.to_string())
    .bind(release.bundle.as_str())
    .bind(release.arch.as_str())
    .fetch_optional(&mut *conn)
    .await?;
    let id = match &replaced {
        Some(old) if old.sha256 == release.sha256 => old.id,
        _ => Uuid::now_v7(),
    };
    let recorded: ReleaseRow = sqlx::query_as(&format!(
        "INSERT INTO public.desktop_releases
           (id, version, bundle, arch, file_name, size_bytes, sha256, signature, notes)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
         ON CONFLICT (version, bundle, arch) DO UPDATE SET
           id = EXCLUDED.id, file_name = EXCLUDED.file_name, size_bytes = EXCLUDED.size_bytes,
           sha256 = EXCLUDED.sha256, signature = EXCLUDED.signature, notes = EXCLUDED.notes,
           published_at = now()
         RETURNING {COLUMNS}"
    ))
    .bind(id)
    .bind(release.version.to_string())
    .bind(release.bundle.as_str())
    .bind(release.arch.as_str())
    .bind(&release.file_name)
    .bind(release.size_bytes)
    .bind(&release.sha256)
    .bind(&release.signature)
    .bind(&release.notes)
    .fetch_one(&mut *conn)
    .await?;
    Ok(Published {
        release: recorded,
        replaced,
    })
}

/// Removes a release; the row removed, if there was one.
pub async fn withdraw(
    conn: &mut PgConnection,
    version: ReleaseVersion,
    bundle: DesktopBundle,
    arch: DesktopArch,
) -> Result<Option<ReleaseRow>, sqlx::Error> {
    sqlx::query_as(&format!(
        "DELETE FROM public.desktop_releases
         WHERE version = $1 AND bundle = $2 AND arch = $3
         RETURNING {COLUMNS}"
    ))
    .bind(version.to_string())
    .bind(bundle.as_str())
    .bind(arch.as_str())
    .fetch_optional(conn)
    .await
}

/// Whether any release is a package with this SHA-256 (so its file must stay).
pub async fn file_in_use(conn: &mut PgConnection, sha256: &str) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM public.desktop_releases WHERE sha256 = $1)")
        .bind(sha256)
        .fetch_one(conn)
        .await
}
