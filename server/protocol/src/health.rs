//! The readiness report of `GET /readyz`.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// Whether the server can serve requests, and why not.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[ts(export)]
pub struct Readiness {
    /// True when every check passed.
    pub ready: bool,
    /// The database answered a query.
    pub database: bool,
    /// The applied schema version (the latest migration's number).
    #[ts(type = "number | null")]
    pub schema_version: Option<i64>,
}
