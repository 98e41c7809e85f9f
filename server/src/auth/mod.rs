//! Who the caller is: passwords, access tokens, refresh tokens, revoked sessions, and the
//! sign-in rate limits.
//! The SQL behind them lives in `db::auth`; the routes in `http::auth`.

pub mod password;
pub mod rate_limit;
pub mod revocation;
pub mod tokens;
