//! Content uploads: instructors' lesson videos, images and documents.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use ts_rs::TS;
use uuid::Uuid;

/// An uploaded file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[ts(export)]
pub struct ContentUpload {
    /// This upload's id.
    pub id: Uuid,
    /// The stored name: the content's SHA-256 and an extension.
    pub filename: String,
    /// The name it was uploaded with.
    pub original_filename: String,
    /// Bytes.
    #[ts(type = "number")]
    pub file_size: i64,
    /// The media type, checked against the content.
    pub mime_type: String,
    /// Where it is served, e.g. `/media/uploads/<sha256>`: put this in a lesson's `content_url`
    /// or a course's `image_url`.
    pub file_url: String,
    /// Hex `SHA-256` of the content (also the download's strong `ETag`).
    pub sha256: String,
    /// What it belongs to, e.g. `course` (optional).
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub entity_type: Option<String>,
    /// Which one (optional).
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub entity_id: Option<Uuid>,
    /// When.
    pub created_at: DateTime<Utc>,
}
