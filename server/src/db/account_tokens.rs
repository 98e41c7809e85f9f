//! Mailed links that recover an account: password resets and e-mail address confirmations
//! (`migrations/0090_account_recovery.sql`). Runs as `service_role`, like the rest of `auth.*`.
//! Only a hash of each link's token is stored.

use chrono::{DateTime, Utc};
use sqlx::{PgConnection, Row as _};
use uuid::Uuid;

/// What a link is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// Choose a new password.
    PasswordReset,
    /// Confirm the account's e-mail address.
    EmailConfirmation,
}

impl Purpose {
    /// The spelling in `auth.account_tokens.purpose`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::PasswordReset => "password_reset",
            Self::EmailConfirmation => "email_confirmation",
        }
    }
}

/// The account an address belongs to, as recovery needs it.
#[derive(Debug, Clone)]
pub struct Account {
    /// The account.
    pub user_id: Uuid,
    /// Its address, as written at sign-up.
    pub email: String,
    /// Whether the address is confirmed.
    pub email_confirmed: bool,
    /// Banned now.
    pub banned: bool,
    /// The language of the account's profile (a BCP 47 tag), which mails to it are in.
    pub language: String,
}

fn account(row: &sqlx::postgres::PgRow) -> Result<Account, sqlx::Error> {
    Ok(Account {
        user_id: row.try_get("id")?,
        email: row.try_get("email")?,
        email_confirmed: row.try_get("confirmed")?,
        banned: row.try_get("banned")?,
        language: row.try_get("language")?,
    })
}

const ACCOUNT: &str = "SELECT id, email, email_confirmed_at IS NOT NULL AS confirmed,
        coalesce(banned_until > now(), false) AS banned,
        coalesce((SELECT p.language FROM public.profiles p WHERE p.id = auth.users.id), 'en')
          AS language
 FROM auth.users";

/// The account with this address, whatever its case.
pub async fn find_by_email(
    conn: &mut PgConnection,
    email: &str,
) -> Result<Option<Account>, sqlx::Error> {
    sqlx::query(&format!("{ACCOUNT} WHERE lower(email) = lower($1)"))
        .bind(email)
        .fetch_optional(conn)
        .await?
        .as_ref()
        .map(account)
        .transpose()
}

/// The account with this id.
pub async fn find_by_id(
    conn: &mut PgConnection,
    user: Uuid,
) -> Result<Option<Account>, sqlx::Error> {
    sqlx::query(&format!("{ACCOUNT} WHERE id = $1"))
        .bind(user)
        .fetch_optional(conn)
        .await?
        .as_ref()
        .map(account)
        .transpose()
}

/// Records a link for `purpose` mailed to `email`, valid for `ttl`; returns when it expires.
pub async fn issue(
    conn: &mut PgConnection,
    user: Uuid,
    purpose: Purpose,
    email: &str,
    token_hash: &[u8; 32],
    ttl: std::time::Duration,
) -> Result<DateTime<Utc>, sqlx::Error> {
    // Links that expired a day ago mean nothing any more: each issue sweeps the account's own.
    sqlx::query(
        "DELETE FROM auth.account_tokens WHERE user_id = $1 AND expires_at < now() - interval '1 day'",
    )
    .bind(user)
    .execute(&mut *conn)
    .await?;
    sqlx::query_scalar(
        "INSERT INTO auth.account_tokens (user_id, purpose, token_hash, email, expires_at)
         VALUES ($1, $2, $3, $4, now() + make_interval(secs => $5)) RETURNING expires_at",
    )
    .bind(user)
    .bind(purpose.as_str())
    .bind(token_hash.as_slice())
    .bind(email)
    .bind(ttl.as_secs_f64())
    .fetch_one(conn)
    .await
}

/// Why a link cannot be used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkRefusal {
    /// No such link (mistyped, cut short, or for another purpose).
    Unknown,
    /// Used already (or another link of the same account and purpose was).
    Used,
    /// Too old.
    Expired,
    /// The account's address is no longer the one the link was mailed to, or the account is
    /// banned.
    Stale,
}

/// A link that can be used.
#[derive(Debug, Clone)]
pub struct ValidLink {
    /// The account.
    pub user_id: Uuid,
    /// The address it was mailed to (the account's address).
    pub email: String,
}

async fn check_link(
    conn: &mut PgConnection,
    purpose: Purpose,
    token_hash: &[u8; 32],
    lock: bool,
) -> Result<Result<(i64, ValidLink), LinkRefusal>, sqlx::Error> {
    let sql = format!(
        "SELECT t.id, t.user_id, t.email, t.used_at IS NOT NULL AS used,
                t.expires_at <= now() AS expired,
                lower(u.email) <> lower(t.email) OR coalesce(u.banned_until > now(), false) AS stale
         FROM auth.account_tokens t JOIN auth.users u ON u.id = t.user_id
         WHERE t.token_hash = $1 AND t.purpose = $2{}",
        if lock { " FOR UPDATE OF t" } else { "" }
    );
    let Some(row) = sqlx::query(&sql)
        .bind(token_hash.as_slice())
        .bind(purpose.as_str())
        .fetch_optional(conn)
        .await?
    else {
        return Ok(Err(LinkRefusal::Unknown));
    };
    if row.try_get::<bool, _>("used")? {
        return Ok(Err(LinkRefusal::Used));
    }
    if row.try_get::<bool, _>("expired")? {
        return Ok(Err(LinkRefusal::Expired));
    }
    if row.try_get::<bool, _>("stale")? {
        return Ok(Err(LinkRefusal::Stale));
    }
    Ok(Ok((
        row.try_get("id")?,
        ValidLink {
            user_id: row.try_get("user_id")?,
            email: row.try_get("email")?,
        },
    )))
}

/// Whether the link could be used now, without using it (the page that shows the form).
pub async fn peek(
    conn: &mut PgConnection,
    purpose: Purpose,
    token_hash: &[u8; 32],
) -> Result<Result<ValidLink, LinkRefusal>, sqlx::Error> {
    Ok(check_link(conn, purpose, token_hash, false)
        .await?
        .map(|(_, link)| link))
}

/// Uses the link up, with every other unused link of the same account and purpose. The link's
/// row is locked, so of two uses at once exactly one succeeds.
pub async fn consume(
    conn: &mut PgConnection,
    purpose: Purpose,
    token_hash: &[u8; 32],
) -> Result<Result<ValidLink, LinkRefusal>, sqlx::Error> {
    let (_, link) = match check_link(&mut *conn, purpose, token_hash, true).await? {
        Ok(found) => found,
        Err(refusal) => return Ok(Err(refusal)),
    };
    use_up_all(conn, link.user_id, purpose).await?;
    Ok(Ok(link))
}

/// Uses up every unused link of the account for `purpose` (a password set by an admin ends the
/// mailed reset links too).
pub async fn use_up_all(
    conn: &mut PgConnection,
    user: Uuid,
    purpose: Purpose,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE auth.account_tokens SET used_at = now()
         WHERE user_id = $1 AND purpose = $2 AND used_at IS NULL",
    )
    .bind(user)
    .bind(purpose.as_str())
    .execute(conn)
    .await?;
    Ok(())
}

/// Sets the account's password (an Argon2id PHC string) and ends every session it has; returns
/// the sessions ended.
pub async fn set_password(
    conn: &mut PgConnection,
    user: Uuid,
    password_hash: &str,
) -> Result<Vec<Uuid>, sqlx::Error> {
    sqlx::query("UPDATE auth.users SET encrypted_password = $2, updated_at = now() WHERE id = $1")
        .bind(user)
        .bind(password_hash)
        .execute(&mut *conn)
        .await?;
    sqlx::query_scalar(
        "UPDATE auth.sessions SET revoked_at = now(), revoked_reason = 'password_reset'
         WHERE user_id = $1 AND revoked_at IS NULL RETURNING id",
    )
    .bind(user)
    .fetch_all(conn)
    .await
}

/// Marks the account's address confirmed (and its profile verified, the flag the app shows);
/// confirming again changes nothing.
pub async fn confirm_email(conn: &mut PgConnection, user: Uuid) -> Result<(), sqlx::Error> {
    sqlx::query(
        "WITH account AS (UPDATE auth.users
                          SET email_confirmed_at = coalesce(email_confirmed_at, now()),
                              updated_at = now()
                          WHERE id = $1)
         UPDATE public.profiles SET is_verified = true WHERE id = $1 AND NOT is_verified",
    )
    .bind(user)
    .execute(conn)
    .await?;
    Ok(())
}
