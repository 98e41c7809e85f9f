//! Accounts and sessions: sign-up, sign-in, refresh, sign-out.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::profile::Profile;

/// `POST /api/v1/auth/sign-up`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(
    feature = "openapi",
    schema(example = json!({"email": "ada@example.com", "password": "correct horse battery", "full_name": "Ada Lovelace"}))
)]
#[serde(deny_unknown_fields)]
#[ts(export)]
pub struct SignUpRequest {
    /// The e-mail address to sign in with; unique whatever its case.
    #[cfg_attr(
        feature = "openapi",
        schema(
            max_length = 320,
            pattern = r"^[^@\s\x00-\x1f\x7f-\x9f]+@[^@.\s\x00-\x1f\x7f-\x9f][^@\s\x00-\x1f\x7f-\x9f]*\.[^@\s\x00-\x1f\x7f-\x9f]*[^@.\s\x00-\x1f\x7f-\x9f]$"
        )
    )]
    pub email: String,
    /// 8 to 128 characters.
    #[cfg_attr(feature = "openapi", schema(min_length = 8, max_length = 128))]
    pub password: String,
    /// The name shown to instructors and on certificates.
    #[cfg_attr(
        feature = "openapi",
        schema(min_length = 1, max_length = 200, pattern = r"\S")
    )]
    pub full_name: String,
}

/// `POST /api/v1/auth/sign-in`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(
    feature = "openapi",
    schema(example = json!({"email": "learner@skilltrack.dev", "password": "learner-demo-pass"}))
)]
#[serde(deny_unknown_fields)]
#[ts(export)]
pub struct SignInRequest {
    /// The account's e-mail address (any case).
    #[cfg_attr(feature = "openapi", schema(min_length = 1, pattern = r"\S"))]
    pub email: String,
    /// The account's password.
    #[cfg_attr(feature = "openapi", schema(min_length = 1))]
    pub password: String,
}

/// `POST /api/v1/auth/refresh`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
#[ts(export)]
pub struct RefreshRequest {
    /// The refresh token from the last [`Session`]; it is used up by this call.
    pub refresh_token: String,
}

/// Which sessions `POST /api/v1/auth/sign-out` ends.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum SignOutScope {
    /// This device's session only.
    #[default]
    Local,
    /// Every session of the account, on every device.
    Global,
}

/// `POST /api/v1/auth/sign-out`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
#[ts(export)]
pub struct SignOutRequest {
    /// Default: `local`.
    #[serde(default)]
    pub scope: SignOutScope,
}

/// A signed-in session: what sign-up, sign-in and refresh answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[ts(export)]
pub struct Session {
    /// A short-lived bearer token for `Authorization: Bearer …`.
    pub access_token: String,
    /// Always `bearer`.
    pub token_type: String,
    /// Seconds until the access token expires.
    pub expires_in: u32,
    /// When the access token expires.
    pub expires_at: DateTime<Utc>,
    /// Exchanges for a new session once, at `POST /api/v1/auth/refresh`; keep it secret.
    pub refresh_token: String,
    /// The signed-in user.
    pub user: Profile,
}

/// `POST /api/v1/auth/password-reset`: mail a link to choose a new password.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(
    feature = "openapi",
    schema(example = json!({"email": "learner@skilltrack.dev"}))
)]
#[serde(deny_unknown_fields)]
#[ts(export)]
pub struct PasswordResetRequest {
    /// The account's e-mail address (any case).
    #[cfg_attr(
        feature = "openapi",
        schema(
            max_length = 320,
            pattern = r"^[^@\s\x00-\x1f\x7f-\x9f]+@[^@.\s\x00-\x1f\x7f-\x9f][^@\s\x00-\x1f\x7f-\x9f]*\.[^@\s\x00-\x1f\x7f-\x9f]*[^@.\s\x00-\x1f\x7f-\x9f]$"
        )
    )]
    pub email: String,
}

/// What asking for a mailed link answers (202), the same whether or not an account has the
/// address, so the answer never tells who has an account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[ts(export)]
pub struct MailRequestAccepted {
    /// What to tell the user ("If an account has this address, a link is on its way…").
    pub message: String,
}

/// `POST /api/v1/auth/password-reset/complete`: choose a new password with a mailed link's
/// token (what the server's own page does for a browser).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
#[ts(export)]
pub struct PasswordResetCompletion {
    /// The `token` of the link's query.
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 200))]
    pub token: String,
    /// The new password, 8 to 128 characters.
    #[cfg_attr(feature = "openapi", schema(min_length = 8, max_length = 128))]
    pub password: String,
}

/// `PUT /api/v1/admin/users/{id}/password`: an admin sets a user's password (when no mail can
/// be sent, or the user cannot receive it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
#[ts(export)]
pub struct PasswordSet {
    /// The new password, 8 to 128 characters.
    #[cfg_attr(feature = "openapi", schema(min_length = 8, max_length = 128))]
    pub password: String,
}
