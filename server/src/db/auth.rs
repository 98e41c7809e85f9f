//! Accounts, sessions and refresh tokens. Runs as `service_role` (see `session::begin_service`):
//! the API roles cannot reach `auth.*` at all.

use std::net::IpAddr;
use std::time::Duration;

use sqlx::{PgConnection, Row as _};
use uuid::Uuid;

/// Where a request came from, for sessions and the activity log.
#[derive(Debug, Clone, Default)]
pub struct ClientInfo {
    /// The peer address.
    pub ip: Option<IpAddr>,
    /// The `User-Agent` header.
    pub user_agent: Option<String>,
}

/// Why an account could not be created.
#[derive(Debug, thiserror::Error)]
pub enum CreateAccountError {
    /// The e-mail address (in any case) already has an account.
    #[error("an account with this e-mail address exists")]
    EmailTaken,
    /// Anything else.
    #[error(transparent)]
    Db(#[from] sqlx::Error),
}

/// Creates an account; the sign-up trigger creates its profile.
pub async fn create_account(
    conn: &mut PgConnection,
    email: &str,
    password_hash: &str,
    full_name: &str,
) -> Result<Uuid, CreateAccountError> {
    sqlx::query_scalar(
        "INSERT INTO auth.users (email, encrypted_password, raw_user_meta_data)
         VALUES ($1, $2, jsonb_build_object('full_name', $3::text)) RETURNING id",
    )
    .bind(email)
    .bind(password_hash)
    .bind(full_name)
    .fetch_one(conn)
    .await
    .map_err(
        |e| match e.as_database_error().and_then(|d| d.constraint()) {
            Some("users_email_lower_key") => CreateAccountError::EmailTaken,
            _ => CreateAccountError::Db(e),
        },
    )
}

/// What sign-in checks.
#[derive(Debug, Clone)]
pub struct Credentials {
    /// The account.
    pub user_id: Uuid,
    /// Its Argon2id hash, if it has a password.
    pub password_hash: Option<String>,
    /// Banned until then, if at all.
    pub banned: bool,
}

/// The credentials of the account with this e-mail address, whatever its case.
pub async fn find_credentials(
    conn: &mut PgConnection,
    email: &str,
) -> Result<Option<Credentials>, sqlx::Error> {
    let row = sqlx::query(
        "SELECT id, encrypted_password, coalesce(banned_until > now(), false) AS banned
         FROM auth.users WHERE lower(email) = lower($1)",
    )
    .bind(email)
    .fetch_optional(conn)
    .await?;
    row.map(|r| {
        Ok(Credentials {
            user_id: r.try_get("id")?,
            password_hash: r.try_get("encrypted_password")?,
            banned: r.try_get("banned")?,
        })
    })
    .transpose()
}

/// Records a sign-in: the profile's `last_login` and `login_count`, the account's
/// `last_sign_in_at`, and a `login` activity.
pub async fn record_sign_in(
    conn: &mut PgConnection,
    user: Uuid,
    client: &ClientInfo,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "WITH account AS (UPDATE auth.users SET last_sign_in_at = now() WHERE id = $1),
              profile AS (UPDATE public.profiles
                          SET last_login = now(), login_count = login_count + 1 WHERE id = $1)
         INSERT INTO public.user_activities (user_id, activity_type, ip_address, user_agent)
         VALUES ($1, 'login', $2::inet, $3)",
    )
    .bind(user)
    .bind(client.ip.map(|ip| ip.to_string()))
    .bind(client.user_agent.as_deref())
    .execute(conn)
    .await?;
    Ok(())
}

/// Starts a session for `user` with its first refresh token; returns the session id.
pub async fn create_session(
    conn: &mut PgConnection,
    user: Uuid,
    client: &ClientInfo,
    token_hash: &[u8; 32],
) -> Result<Uuid, sqlx::Error> {
    sqlx::query_scalar(
        "WITH s AS (INSERT INTO auth.sessions (user_id, ip, user_agent)
                    VALUES ($1, $2::inet, $3) RETURNING id)
         INSERT INTO auth.refresh_tokens (session_id, token_hash)
         SELECT id, $4 FROM s RETURNING session_id",
    )
    .bind(user)
    .bind(client.ip.map(|ip| ip.to_string()))
    .bind(client.user_agent.as_deref())
    .bind(token_hash.as_slice())
    .fetch_one(conn)
    .await
}

/// What happened to a refresh token presented for exchange.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refresh {
    /// Exchanged: the next token (whose hash was given) now belongs to this session.
    Rotated {
        /// The account.
        user: Uuid,
        /// The session.
        session: Uuid,
    },
    /// No such token.
    Unknown,
    /// The session was signed out or revoked.
    SessionRevoked,
    /// The account is banned (its sessions were revoked when it was).
    Suspended,
    /// The token had been used before, outside the grace window: the session is now revoked.
    Reused {
        /// The session just revoked.
        session: Uuid,
    },
}

/// Exchanges the token with hash `old` for its successor, whose hash is `next`. The successor
/// of a token is always the same token ([`crate::auth::tokens::TokenKeys::next_refresh_token`]),
/// so a token presented again within `grace` (a client retrying a refresh whose answer it lost)
/// gets the same successor: a session never forks into two chains. Presented later, a used
/// token revokes the session: someone has a copy. The token row is locked, so concurrent
/// exchanges are serialised.
pub async fn rotate_refresh_token(
    conn: &mut PgConnection,
    old: &[u8; 32],
    next: &[u8; 32],
    grace: Duration,
) -> Result<Refresh, sqlx::Error> {
    let row = sqlx::query(
        "SELECT t.id, t.session_id, s.user_id, s.revoked_at IS NOT NULL AS revoked,
                coalesce(u.banned_until > now(), false) AS banned,
                t.used_at IS NOT NULL AS used,
                coalesce(t.used_at > now() - make_interval(secs => $2), false) AS within_grace
         FROM auth.refresh_tokens t JOIN auth.sessions s ON s.id = t.session_id
         JOIN auth.users u ON u.id = s.user_id
         WHERE t.token_hash = $1
         FOR UPDATE OF t",
    )
    .bind(old.as_slice())
    .bind(grace.as_secs_f64())
    .fetch_optional(&mut *conn)
    .await?;
    let Some(row) = row else {
        return Ok(Refresh::Unknown);
    };
    let token_id: i64 = row.try_get("id")?;
    let session: Uuid = row.try_get("session_id")?;
    let user: Uuid = row.try_get("user_id")?;
    if row.try_get::<bool, _>("banned")? {
        return Ok(Refresh::Suspended);
    }
    if row.try_get::<bool, _>("revoked")? {
        return Ok(Refresh::SessionRevoked);
    }
    if row.try_get::<bool, _>("used")? {
        if !row.try_get::<bool, _>("within_grace")? {
            revoke_session(conn, session, "refresh_token_reused").await?;
            return Ok(Refresh::Reused { session });
        }
        // Within the window: the successor exists already and is answered again.
        sqlx::query("UPDATE auth.sessions SET refreshed_at = now() WHERE id = $1")
            .bind(session)
            .execute(conn)
            .await?;
        return Ok(Refresh::Rotated { user, session });
    }
    sqlx::query(
        "WITH used AS (UPDATE auth.refresh_tokens SET used_at = now() WHERE id = $1),
              touched AS (UPDATE auth.sessions SET refreshed_at = now() WHERE id = $2)
         INSERT INTO auth.refresh_tokens (session_id, token_hash, parent_id) VALUES ($2, $3, $1)",
    )
    .bind(token_id)
    .bind(session)
    .bind(next.as_slice())
    .execute(conn)
    .await?;
    Ok(Refresh::Rotated { user, session })
}

/// Sessions revoked since `since`, and when: what every server process must refuse.
pub async fn revoked_sessions_since(
    conn: &mut PgConnection,
    since: chrono::DateTime<chrono::Utc>,
) -> Result<Vec<(Uuid, chrono::DateTime<chrono::Utc>)>, sqlx::Error> {
    sqlx::query_as("SELECT id, revoked_at FROM auth.sessions WHERE revoked_at > $1")
        .bind(since)
        .fetch_all(conn)
        .await
}

/// Ends one session.
pub async fn revoke_session(
    conn: &mut PgConnection,
    session: Uuid,
    reason: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE auth.sessions SET revoked_at = now(), revoked_reason = $2
         WHERE id = $1 AND revoked_at IS NULL",
    )
    .bind(session)
    .bind(reason)
    .execute(conn)
    .await?;
    Ok(())
}

/// Ends every session of a user; returns the sessions it ended.
pub async fn revoke_all_sessions(
    conn: &mut PgConnection,
    user: Uuid,
) -> Result<Vec<Uuid>, sqlx::Error> {
    sqlx::query_scalar(
        "UPDATE auth.sessions SET revoked_at = now(), revoked_reason = 'sign_out_everywhere'
         WHERE user_id = $1 AND revoked_at IS NULL RETURNING id",
    )
    .bind(user)
    .fetch_all(conn)
    .await
}
