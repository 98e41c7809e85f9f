//! The error body of every failed HTTP request: `application/problem+json` (RFC 9457) with a
//! stable machine-readable `code` that clients match on, never on the human `detail`.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// The media type of a [`Problem`].
pub const PROBLEM_CONTENT_TYPE: &str = "application/problem+json";

/// An RFC 9457 problem document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[ts(export)]
pub struct Problem {
    /// A URI naming the kind of problem: `about:blank` or `https://skilltrack.dev/problems/<code>`.
    #[serde(rename = "type")]
    pub type_uri: String,
    /// A short, human summary of the kind of problem (the same for every instance of a code).
    pub title: String,
    /// The HTTP status code.
    pub status: u16,
    /// What went wrong this time, for a person to read.
    pub detail: String,
    /// The stable, machine-readable code, e.g. `validation_failed`, `not_found`.
    pub code: String,
    /// Per-field problems, for validation errors (empty otherwise).
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub errors: Vec<FieldError>,
}

/// One field's problem in a validation error.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[ts(export)]
pub struct FieldError {
    /// The field, as a JSON pointer into the request body (e.g. `/password`).
    pub pointer: String,
    /// A stable code for the rule broken, e.g. `too_short`.
    pub code: String,
    /// The rule broken, for a person to read.
    pub detail: String,
}
