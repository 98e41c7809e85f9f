//! The catalog's taxonomy as admins manage it under `/api/v1/admin`: services (the top-level
//! areas courses belong to) and lab categories. Drafts create, patches change only the fields
//! present (`null` clears an optional one), as in [`crate::authoring`]. Counters
//! (`course_count`, `lab_count`, …) are the database's to keep: unknown fields are refused.
//! A lab category is answered as the catalog's [`crate::catalog::LabCategory`] (admins see
//! nothing more of one); a service as a [`ServiceRecord`], which adds what only admins see.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use ts_rs::TS;
use uuid::Uuid;

use crate::authoring::nullable;

/// A service with everything admins manage: the catalog's [`crate::catalog::Service`] plus
/// whether it is shown and where.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[ts(export)]
pub struct ServiceRecord {
    /// Id.
    pub id: Uuid,
    /// URL name.
    pub slug: String,
    /// Name.
    pub title: String,
    /// What it covers.
    pub description: String,
    /// An icon name (lucide).
    pub icon: String,
    /// Picture URL.
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub image_url: Option<String>,
    /// Accent colour, e.g. `#7c3aed`.
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub color: Option<String>,
    /// Shown in the catalog; an inactive service is seen by admins only.
    pub is_active: bool,
    /// Display order: smaller first.
    pub sort_order: i32,
    /// Shown first when true.
    pub featured: bool,
    /// Published courses in it.
    pub course_count: i32,
    /// Learners across its courses.
    pub student_count: i32,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Last changed.
    pub updated_at: DateTime<Utc>,
}

/// Every service, inactive ones included, in display order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[ts(export)]
pub struct ServiceRecordList {
    /// The services.
    pub items: Vec<ServiceRecord>,
}

/// `POST /api/v1/admin/services`: a new service.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
#[ts(export)]
pub struct ServiceDraft {
    /// URL name: kebab-case (`cloud-solutions`), at most 100 characters, unique.
    #[cfg_attr(
        feature = "openapi",
        schema(max_length = 100, pattern = r"^[a-z0-9]+(-[a-z0-9]+)*$")
    )]
    pub slug: String,
    /// 1 to 200 characters.
    #[cfg_attr(
        feature = "openapi",
        schema(min_length = 1, max_length = 200, pattern = r"\S")
    )]
    pub title: String,
    /// What it covers: 1 to 2000 characters.
    #[cfg_attr(
        feature = "openapi",
        schema(min_length = 1, max_length = 2000, pattern = r"\S")
    )]
    pub description: String,
    /// A lucide icon name: kebab-case, at most 64 characters (`shield-check`).
    #[cfg_attr(
        feature = "openapi",
        schema(max_length = 64, pattern = r"^[a-z0-9]+(-[a-z0-9]+)*$")
    )]
    pub icon: String,
    /// Picture: an http(s) URL or a `/media/…` path.
    #[serde(default)]
    #[ts(optional)]
    #[cfg_attr(
        feature = "openapi",
        schema(
            max_length = 2048,
            pattern = r"^(|https?://[^/?#\s\x00-\x1f\x7f-\x9f]+[^\s\x00-\x1f\x7f-\x9f]*|/media/[^/.\s\x00-\x1f\x7f-\x9f][^/\s\x00-\x1f\x7f-\x9f]*(/[^/.\s\x00-\x1f\x7f-\x9f][^/\s\x00-\x1f\x7f-\x9f]*)*)$"
        )
    )]
    pub image_url: Option<String>,
    /// Accent colour: `#` and six hex digits.
    #[serde(default)]
    #[ts(optional)]
    #[cfg_attr(feature = "openapi", schema(pattern = r"^#[0-9a-fA-F]{6}$"))]
    pub color: Option<String>,
    /// Shown in the catalog (default `true`).
    #[serde(default = "yes")]
    #[ts(optional, as = "Option<bool>")]
    pub is_active: bool,
    /// Display order, -1000000 to 1000000 (default 0): smaller first.
    #[serde(default)]
    #[ts(optional, as = "Option<i32>")]
    #[cfg_attr(feature = "openapi", schema(minimum = -1_000_000, maximum = 1_000_000))]
    pub sort_order: i32,
    /// Shown first (default `false`).
    #[serde(default)]
    #[ts(optional, as = "Option<bool>")]
    pub featured: bool,
}

fn yes() -> bool {
    true
}

/// `PATCH /api/v1/admin/services/{id}`: absent fields stay; `null` clears an optional one.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
#[ts(export)]
pub struct ServicePatch {
    /// URL name: kebab-case, at most 100 characters, unique.
    #[serde(default)]
    #[ts(optional)]
    #[cfg_attr(
        feature = "openapi",
        schema(max_length = 100, pattern = r"^[a-z0-9]+(-[a-z0-9]+)*$")
    )]
    pub slug: Option<String>,
    /// 1 to 200 characters.
    #[serde(default)]
    #[ts(optional)]
    #[cfg_attr(
        feature = "openapi",
        schema(min_length = 1, max_length = 200, pattern = r"\S")
    )]
    pub title: Option<String>,
    /// 1 to 2000 characters.
    #[serde(default)]
    #[ts(optional)]
    #[cfg_attr(
        feature = "openapi",
        schema(min_length = 1, max_length = 2000, pattern = r"\S")
    )]
    pub description: Option<String>,
    /// A lucide icon name.
    #[serde(default)]
    #[ts(optional)]
    #[cfg_attr(
        feature = "openapi",
        schema(max_length = 64, pattern = r"^[a-z0-9]+(-[a-z0-9]+)*$")
    )]
    pub icon: Option<String>,
    /// Picture; `null` or `""` removes it.
    #[serde(default, with = "nullable")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    #[ts(as = "Option<String>", optional = nullable)]
    #[cfg_attr(
        feature = "openapi",
        schema(
            max_length = 2048,
            pattern = r"^(|https?://[^/?#\s\x00-\x1f\x7f-\x9f]+[^\s\x00-\x1f\x7f-\x9f]*|/media/[^/.\s\x00-\x1f\x7f-\x9f][^/\s\x00-\x1f\x7f-\x9f]*(/[^/.\s\x00-\x1f\x7f-\x9f][^/\s\x00-\x1f\x7f-\x9f]*)*)$"
        )
    )]
    pub image_url: Option<Option<String>>,
    /// Accent colour; `null` or `""` removes it.
    #[serde(default, with = "nullable")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    #[ts(as = "Option<String>", optional = nullable)]
    #[cfg_attr(feature = "openapi", schema(pattern = r"^(|#[0-9a-fA-F]{6})$"))]
    pub color: Option<Option<String>>,
    /// Shown in the catalog.
    #[serde(default)]
    #[ts(optional)]
    pub is_active: Option<bool>,
    /// Display order, -1000000 to 1000000.
    #[serde(default)]
    #[ts(optional)]
    #[cfg_attr(feature = "openapi", schema(minimum = -1_000_000, maximum = 1_000_000))]
    pub sort_order: Option<i32>,
    /// Shown first.
    #[serde(default)]
    #[ts(optional)]
    pub featured: Option<bool>,
}

/// `POST /api/v1/admin/lab-categories`: a new lab category.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
#[ts(export)]
pub struct LabCategoryDraft {
    /// URL name: kebab-case (`devops`), at most 100 characters, unique.
    #[cfg_attr(
        feature = "openapi",
        schema(max_length = 100, pattern = r"^[a-z0-9]+(-[a-z0-9]+)*$")
    )]
    pub slug: String,
    /// 1 to 200 characters.
    #[cfg_attr(
        feature = "openapi",
        schema(min_length = 1, max_length = 200, pattern = r"\S")
    )]
    pub name: String,
    /// What its labs practise: 1 to 2000 characters.
    #[cfg_attr(
        feature = "openapi",
        schema(min_length = 1, max_length = 2000, pattern = r"\S")
    )]
    pub description: String,
    /// A lucide icon name: kebab-case, at most 64 characters.
    #[cfg_attr(
        feature = "openapi",
        schema(max_length = 64, pattern = r"^[a-z0-9]+(-[a-z0-9]+)*$")
    )]
    pub icon: String,
}

/// `PATCH /api/v1/admin/lab-categories/{id}`: absent fields stay.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
#[ts(export)]
pub struct LabCategoryPatch {
    /// URL name: kebab-case, at most 100 characters, unique.
    #[serde(default)]
    #[ts(optional)]
    #[cfg_attr(
        feature = "openapi",
        schema(max_length = 100, pattern = r"^[a-z0-9]+(-[a-z0-9]+)*$")
    )]
    pub slug: Option<String>,
    /// 1 to 200 characters.
    #[serde(default)]
    #[ts(optional)]
    #[cfg_attr(
        feature = "openapi",
        schema(min_length = 1, max_length = 200, pattern = r"\S")
    )]
    pub name: Option<String>,
    /// 1 to 2000 characters.
    #[serde(default)]
    #[ts(optional)]
    #[cfg_attr(
        feature = "openapi",
        schema(min_length = 1, max_length = 2000, pattern = r"\S")
    )]
    pub description: Option<String>,
    /// A lucide icon name.
    #[serde(default)]
    #[ts(optional)]
    #[cfg_attr(
        feature = "openapi",
        schema(max_length = 64, pattern = r"^[a-z0-9]+(-[a-z0-9]+)*$")
    )]
    pub icon: Option<String>,
}
