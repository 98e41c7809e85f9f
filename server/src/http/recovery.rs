//! Accounts people can recover: a password reset and an address confirmation by mailed,
//! single-use, expiring links, and the small pages those links open.
//!
//! * `POST /api/v1/auth/password-reset` mails a link to choose a new password. It answers the
//!   same 202 whether or not an account has the address (and sends the mail from a task of its
//!   own, so the time taken does not tell either).
//! * `GET /account/reset-password?token=…` is the page the link opens: a form that posts the new
//!   password to `POST /account/reset-password`. `POST /api/v1/auth/password-reset/complete` does
//!   the same for a client (the app, later).
//! * `POST /api/v1/auth/email-confirmation` mails the signed-in user a link that confirms their
//!   address (sign-up mails one too); `GET /account/confirm-email?token=…` shows a button that
//!   posts to `POST /account/confirm-email`. Opening a link never uses it: mail scanners fetch
//!   links before people click them.
//!
//! A used, expired or unknown link is refused with a stable code (`link_used`, `link_expired`,
//! `link_invalid`). A reset ends every session of the account. Tokens are 256 random bits of
//! which only the SHA-256 is stored, and no token is ever logged (the request log has paths, not
//! queries).

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Json;
use axum::extract::{Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;
use chrono::Utc;
use serde::Deserialize;
use skilltrack_protocol::Problem;
use skilltrack_protocol::auth::{
    MailRequestAccepted, PasswordResetCompletion, PasswordResetRequest,
};
use uuid::Uuid;

use super::AppState;
use super::certificate_page::escape;
use super::error::ApiError;
use super::extract::{ApiJson, SignedIn};
use super::validate::{Checks, is_email};
use crate::auth::password;
use crate::auth::rate_limit::{Limit, RateLimiter};
use crate::auth::tokens::{hash_refresh_token, new_refresh_token};
use crate::db::account_tokens::{self as tokens, LinkRefusal, Purpose, ValidLink};
use crate::db::auth::ClientInfo;
use crate::db::session;
use crate::mail::Mailer;
use crate::messages::{self, Key, Language};

/// How long a password reset link works.
pub const RESET_LINK_TTL: Duration = Duration::from_secs(3600);
/// How long an address confirmation link works.
pub const CONFIRMATION_LINK_TTL: Duration = Duration::from_secs(24 * 3600);

/// The page that a reset link opens, under the server's public address.
pub const RESET_PAGE: &str = "/account/reset-password";
/// The page that a confirmation link opens.
pub const CONFIRM_PAGE: &str = "/account/confirm-email";

/// What the request for a reset link answers, whoever has the address.
pub const RESET_REQUESTED: &str = "If an account has this e-mail address, a link to choose a new \
password is on its way to it. The link works once, for an hour.";

/// How many mails of each kind, per what.
#[derive(Debug, Clone)]
pub struct RecoveryLimits {
    /// Reset requests per e-mail address (known or not: the count tells nothing) per window;
    /// past it, 429.
    pub per_address: u32,
    /// Mails per account per window (resets and confirmations together); past it, nothing is
    /// sent, and the request's answer does not change (it must not tell the account exists).
    pub per_account: u32,
    /// Reset requests per client address per window; past it, 429.
    pub per_ip: u32,
    /// The window.
    pub window: Duration,
}

impl Default for RecoveryLimits {
    fn default() -> Self {
        Self {
            per_address: 5,
            per_account: 5,
            per_ip: 30,
            window: Duration::from_secs(3600),
        }
    }
}

/// Who sends account mail, with which links, how often.
#[derive(Debug)]
pub struct AccountMail {
    mailer: Mailer,
    /// The server's public address, without a trailing `/`: links start with it.
    public_url: String,
    /// Named in the mails.
    instance_name: String,
    per_address: RateLimiter,
    per_account: RateLimiter,
    per_ip: RateLimiter,
}

impl AccountMail {
    /// Mail through `mailer`, with links under `public_url`.
    pub fn new(
        mailer: Mailer,
        public_url: &str,
        instance_name: &str,
        limits: &RecoveryLimits,
    ) -> Arc<Self> {
        let per = |limit| {
            RateLimiter::new(Limit {
                limit,
                window: limits.window,
            })
        };
        Arc::new(Self {
            mailer,
            public_url: public_url.trim_end_matches('/').to_owned(),
            instance_name: instance_name.to_owned(),
            per_address: per(limits.per_address),
            per_account: per(limits.per_account),
            per_ip: per(limits.per_ip),
        })
    }

    /// Whether mail can be sent.
    pub fn is_configured(&self) -> bool {
        self.mailer.is_configured()
    }

    /// The mailer (to check the SMTP server at start).
    pub fn mailer(&self) -> &Mailer {
        &self.mailer
    }

    fn link(&self, page: &str, token: &str) -> String {
        format!("{}{page}?token={token}", self.public_url)
    }

    /// Sends from a task of its own; a failure is logged (never the token), not answered.
    fn send_later(
        &self,
        user: Uuid,
        to: String,
        subject: String,
        text: String,
        what: &'static str,
    ) {
        let mailer = self.mailer.clone();
        tokio::spawn(async move {
            match mailer.send(&to, &subject, text).await {
                Ok(()) => tracing::info!(%user, what, "account mail sent"),
                Err(e) => tracing::warn!(%user, what, error = %e, "account mail was not sent"),
            }
        });
    }
}

fn limited(limiter: &RateLimiter, key: &str) -> Result<(), ApiError> {
    limiter
        .check(key, Instant::now())
        .map_err(|retry_after| ApiError::RateLimited { retry_after })
}

/// The routes of the API document: the JSON ones and the pages.
pub fn routes() -> utoipa_axum::router::OpenApiRouter<AppState> {
    utoipa_axum::router::OpenApiRouter::new()
        .routes(utoipa_axum::routes!(request_password_reset))
        .routes(utoipa_axum::routes!(complete_password_reset))
        .routes(utoipa_axum::routes!(request_email_confirmation))
        .routes(utoipa_axum::routes!(reset_page, reset_form))
        .routes(utoipa_axum::routes!(confirm_page, confirm_form))
}

/// A new link token: 256 random bits, URL-safe, and the SHA-256 that is stored (the same shape
/// as a refresh token).
fn new_link_token() -> (String, [u8; 32]) {
    new_refresh_token()
}

/// The stable code and words of a refused link, and its status.
fn refusal(refused: LinkRefusal, purpose: Purpose) -> (StatusCode, &'static str, String) {
    let again = match purpose {
        Purpose::PasswordReset => {
            "Ask for a new one with \u{201c}Forgot password?\u{201d} on the sign-in screen."
        }
        Purpose::EmailConfirmation => "Ask for a new one from the app's account settings.",
    };
    match refused {
        LinkRefusal::Used => (
            StatusCode::GONE,
            "link_used",
            format!("Each link works only once. {again}"),
        ),
        LinkRefusal::Expired => (
            StatusCode::GONE,
            "link_expired",
            format!("This link has expired. {again}"),
        ),
        LinkRefusal::Unknown | LinkRefusal::Stale => (
            StatusCode::NOT_FOUND,
            "link_invalid",
            format!("This link is not valid (it may have been cut short in the mail). {again}"),
        ),
    }
}

fn refusal_error(refused: LinkRefusal, purpose: Purpose) -> ApiError {
    let (status, code, detail) = refusal(refused, purpose);
    ApiError::Rule {
        status,
        code: code.to_owned(),
        detail,
        errors: Vec::new(),
    }
}

/// Ask for a password reset link by e-mail.
#[utoipa::path(
    post, path = "/api/v1/auth/password-reset", tag = "auth",
    request_body = PasswordResetRequest,
    responses(
        (status = 202, description = "If an account has this address, a link is mailed to it (the answer is the same either way)", body = MailRequestAccepted),
        (status = 400, description = "Malformed request", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`invalid_email`", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many requests for this address, or from this client", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn request_password_reset(
    State(state): State<AppState>,
    client: ClientInfo,
    ApiJson(req): ApiJson<PasswordResetRequest>,
) -> Result<(StatusCode, Json<MailRequestAccepted>), ApiError> {
    let mail = &state.account_mail;
    let email = req.email.trim().to_owned();
    Checks::default()
        .check(
            is_email(&email),
            "/email",
            "invalid_email",
            "Not an e-mail address.",
        )
        .finish()?;
    let ip = client
        .ip
        .map_or_else(|| "unknown".to_owned(), |ip| ip.to_string());
    limited(&mail.per_ip, &ip)?;
    // Unknown addresses count too, so a 429 tells nothing about who has an account.
    limited(&mail.per_address, &email.to_lowercase())?;
    let mut tx = session::begin_service(state.db.api()).await?;
    let account = tokens::find_by_email(&mut tx, &email).await?;
    // No account, or a banned one: nothing is sent, and the answer is the same.
    if let Some(account) = account.filter(|a| !a.banned) {
        if !mail.is_configured() {
            tracing::warn!(
                user = %account.user_id,
                "a password reset was asked for, but no SMTP server is configured (--smtp-url): \
                 nothing was sent; an admin can set the password (PUT /api/v1/admin/users/{{id}}/password)"
            );
        } else if mail
            .per_account
            .check(&account.user_id.to_string(), Instant::now())
            .is_err()
        {
            tracing::info!(user = %account.user_id, "password reset not mailed: too many mails to this account lately");
        } else {
            let (token, hash) = new_link_token();
            tokens::issue(
                &mut tx,
                account.user_id,
                Purpose::PasswordReset,
                &account.email,
                &hash,
                RESET_LINK_TTL,
            )
            .await?;
            tx.commit().await?;
            let link = mail.link(RESET_PAGE, &token);
            let (subject, text) = messages::write(
                Language::of_tag(&account.language),
                Key::PasswordResetMail,
                &[
                    ("instance", mail.instance_name.as_str()),
                    ("email", account.email.as_str()),
                    ("link", link.as_str()),
                ],
            );
            mail.send_later(
                account.user_id,
                account.email,
                subject,
                text,
                "password_reset",
            );
        }
    }
    Ok((
        StatusCode::ACCEPTED,
        Json(MailRequestAccepted {
            message: RESET_REQUESTED.to_owned(),
        }),
    ))
}

/// Whether a confirmation mail went out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mailed {
    /// It is on its way.
    Sent,
    /// This server sends no mail.
    NotConfigured,
    /// The account had too many mails lately; the next may go after this long.
    TooMany(Duration),
}

/// Mails `user` a link that confirms `email`, when mail can be sent and the account has not had
/// too many mails lately.
pub async fn mail_confirmation(
    state: &AppState,
    user: Uuid,
    email: &str,
) -> Result<Mailed, ApiError> {
    let mail = &state.account_mail;
    if !mail.is_configured() {
        return Ok(Mailed::NotConfigured);
    }
    if let Err(wait) = mail.per_account.check(&user.to_string(), Instant::now()) {
        return Ok(Mailed::TooMany(wait));
    }
    let (token, hash) = new_link_token();
    let mut tx = session::begin_service(state.db.api()).await?;
    tokens::issue(
        &mut tx,
        user,
        Purpose::EmailConfirmation,
        email,
        &hash,
        CONFIRMATION_LINK_TTL,
    )
    .await?;
    let language = tokens::find_by_id(&mut tx, user)
        .await?
        .map(|a| a.language)
        .unwrap_or_default();
    tx.commit().await?;
    let link = mail.link(CONFIRM_PAGE, &token);
    let (subject, text) = messages::write(
        Language::of_tag(&language),
        Key::EmailConfirmationMail,
        &[
            ("instance", mail.instance_name.as_str()),
            ("email", email),
            ("link", link.as_str()),
        ],
    );
    mail.send_later(user, email.to_owned(), subject, text, "email_confirmation");
    Ok(Mailed::Sent)
}

/// Mail a link that confirms the signed-in user's e-mail address.
#[utoipa::path(
    post, path = "/api/v1/auth/email-confirmation", tag = "auth",
    security(("bearer" = [])),
    responses(
        (status = 202, description = "A confirmation link is on its way to the account's address", body = MailRequestAccepted),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`email_already_confirmed`", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many mails to this account lately", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "`mail_not_configured`: this server sends no mail", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn request_email_confirmation(
    State(state): State<AppState>,
    me: SignedIn,
) -> Result<(StatusCode, Json<MailRequestAccepted>), ApiError> {
    let user = me.0.sub;
    let mut tx = session::begin_service(state.db.api()).await?;
    let account = tokens::find_by_id(&mut tx, user)
        .await?
        .ok_or_else(|| ApiError::Internal(format!("signed-in account {user} is gone")))?;
    tx.commit().await?;
    if account.email_confirmed {
        return Err(ApiError::Conflict {
            code: "email_already_confirmed",
            detail: "This account's e-mail address is already confirmed.".to_owned(),
        });
    }
    match mail_confirmation(&state, user, &account.email).await? {
        Mailed::Sent => {}
        Mailed::NotConfigured => {
            return Err(ApiError::Rule {
                status: StatusCode::SERVICE_UNAVAILABLE,
                code: "mail_not_configured".to_owned(),
                detail: "This server sends no mail; ask an admin to confirm your address."
                    .to_owned(),
                errors: Vec::new(),
            });
        }
        Mailed::TooMany(retry_after) => return Err(ApiError::RateLimited { retry_after }),
    }
    Ok((
        StatusCode::ACCEPTED,
        Json(MailRequestAccepted {
            message: format!(
                "A link to confirm {} is on its way; it works once, for 24 hours.",
                account.email
            ),
        }),
    ))
}

/// Why a new password was refused, before any link is used.
fn password_problems(password: &str) -> Option<String> {
    let n = password.chars().count();
    if n < password::MIN_LEN {
        Some(format!(
            "The password needs at least {} characters.",
            password::MIN_LEN
        ))
    } else if n > password::MAX_LEN {
        Some(format!(
            "The password may have at most {} characters.",
            password::MAX_LEN
        ))
    } else {
        None
    }
}

/// Uses the reset link and sets the password (already hashed); ends every session of the
/// account. A reset by mail also proves the address receives mail, so it confirms it.
async fn reset_with_link(
    state: &AppState,
    token: &str,
    password_hash: &str,
) -> Result<Result<ValidLink, LinkRefusal>, ApiError> {
    let mut tx = session::begin_service(state.db.api()).await?;
    let link =
        match tokens::consume(&mut tx, Purpose::PasswordReset, &hash_refresh_token(token)).await? {
            Ok(link) => link,
            Err(refused) => return Ok(Err(refused)),
        };
    let ended = tokens::set_password(&mut tx, link.user_id, password_hash).await?;
    tokens::confirm_email(&mut tx, link.user_id).await?;
    tx.commit().await?;
    // This process refuses the old sessions' tokens at once; the others hear it from the
    // database (migrations/0036's trigger).
    let now = Utc::now();
    for session in &ended {
        state.revoked.insert(*session, now);
    }
    tracing::info!(user = %link.user_id, sessions_ended = ended.len(), "password reset by a mailed link");
    Ok(Ok(link))
}

/// Choose a new password with a mailed reset link's token.
#[utoipa::path(
    post, path = "/api/v1/auth/password-reset/complete", tag = "auth",
    request_body = PasswordResetCompletion,
    responses(
        (status = 204, description = "The password is changed and every session of the account has ended"),
        (status = 400, description = "Malformed request", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`link_invalid`", body = Problem, content_type = "application/problem+json"),
        (status = 410, description = "`link_used` or `link_expired`", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "The password breaks a rule", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn complete_password_reset(
    State(state): State<AppState>,
    ApiJson(req): ApiJson<PasswordResetCompletion>,
) -> Result<StatusCode, ApiError> {
    Checks::default()
        .length(
            &req.password,
            "/password",
            password::MIN_LEN,
            password::MAX_LEN,
        )
        .finish()?;
    let hash = password::hash(req.password)
        .await
        .map_err(ApiError::Internal)?;
    reset_with_link(&state, req.token.trim(), &hash)
        .await?
        .map_err(|refused| refusal_error(refused, Purpose::PasswordReset))?;
    Ok(StatusCode::NO_CONTENT)
}

// --- The pages ---------------------------------------------------------------------------

/// No script, nothing fetched, forms posted only to this server, never framed.
const PAGE_POLICY: &str = "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// The query of a link.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct LinkQuery {
    /// The link's token.
    token: Option<String>,
}

/// What the reset page's form posts (`application/x-www-form-urlencoded`).
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct ResetPasswordForm {
    /// The link's token (a hidden field).
    pub token: String,
    /// The new password.
    pub password: String,
    /// The new password again.
    pub password_again: String,
}

/// What the confirmation page's form posts (`application/x-www-form-urlencoded`).
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct ConfirmEmailForm {
    /// The link's token (a hidden field).
    pub token: String,
}

/// The fields of a posted form. Read by hand rather than by axum's `Form`, so that whatever
/// arrives, the answer is a page for the person at the browser, not a JSON problem.
fn form_fields(body: &[u8]) -> std::collections::HashMap<String, String> {
    url::form_urlencoded::parse(body).into_owned().collect()
}

/// A field of a posted form; a missing one is empty.
fn field<'a>(fields: &'a std::collections::HashMap<String, String>, name: &str) -> &'a str {
    fields.get(name).map_or("", String::as_str)
}

fn page(status: StatusCode, title: &str, body: &str) -> Response {
    let html = format!(
        "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <meta name=\"robots\" content=\"noindex\">\n<title>{title} · Skilltrack</title>\n\
         <style>{STYLE}</style>\n</head>\n<body>\n<main>\n{body}\n</main>\n</body>\n</html>\n",
        title = escape(title),
    );
    let mut response = super::html::page(status, html, PAGE_POLICY, "no-store");
    // The address holds the token: never sent on to another site.
    response.headers_mut().insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    response
}

fn refused_page(refused: LinkRefusal, purpose: Purpose) -> Response {
    let (status, code, detail) = refusal(refused, purpose);
    let headline = match code {
        "link_used" => "This link has already been used",
        "link_expired" => "This link has expired",
        _ => "This link is not valid",
    };
    page(
        status,
        headline,
        &format!(
            "<h1 class=\"bad\" data-code=\"{code}\">{headline}</h1>\n<p>{}</p>\n\
             <p class=\"code\">Code: <code>{code}</code></p>",
            escape(&detail)
        ),
    )
}

fn reset_form_page(
    status: StatusCode,
    token: &str,
    email: &str,
    problem: Option<&str>,
) -> Response {
    let problem = problem.map_or_else(String::new, |p| {
        format!(
            "<p class=\"bad\" role=\"alert\" data-code=\"invalid_password\">{}</p>\n",
            escape(p)
        )
    });
    page(
        status,
        "Choose a new password",
        &format!(
            "<h1>Choose a new password</h1>\n<p>For the account <strong>{email}</strong>. Every \
             device signed in to it will be signed out.</p>\n{problem}\
             <form method=\"post\" action=\"reset-password\">\n\
             <input type=\"hidden\" name=\"token\" value=\"{token}\">\n\
             <input type=\"text\" name=\"username\" value=\"{email}\" autocomplete=\"username\" hidden>\n\
             <label for=\"password\">New password</label>\n\
             <input id=\"password\" type=\"password\" name=\"password\" autocomplete=\"new-password\" \
             minlength=\"{min}\" maxlength=\"{max}\" required autofocus>\n\
             <label for=\"password_again\">New password again</label>\n\
             <input id=\"password_again\" type=\"password\" name=\"password_again\" \
             autocomplete=\"new-password\" minlength=\"{min}\" maxlength=\"{max}\" required>\n\
             <p class=\"hint\">{min} to {max} characters.</p>\n\
             <button type=\"submit\">Set the new password</button>\n</form>",
            email = escape(email),
            token = escape(token),
            min = password::MIN_LEN,
            max = password::MAX_LEN,
        ),
    )
}

async fn peek(
    state: &AppState,
    purpose: Purpose,
    token: &str,
) -> Result<Result<ValidLink, LinkRefusal>, ApiError> {
    if token.is_empty() || token.len() > 200 {
        return Ok(Err(LinkRefusal::Unknown));
    }
    let mut tx = session::begin_service(state.db.api()).await?;
    let found = tokens::peek(&mut tx, purpose, &hash_refresh_token(token)).await?;
    tx.commit().await?;
    Ok(found)
}

/// The page a password reset link opens: a form for the new password. Opening it does not use
/// the link.
#[utoipa::path(
    get, path = "/account/reset-password", tag = "account",
    params(LinkQuery),
    responses(
        (status = 200, description = "The form for a new password", body = String, content_type = "text/html"),
        (status = 404, description = "`link_invalid`, said on a page", body = String, content_type = "text/html"),
        (status = 410, description = "`link_used` or `link_expired`, said on a page", body = String, content_type = "text/html"),
    )
)]
pub async fn reset_page(
    State(state): State<AppState>,
    Query(query): Query<LinkQuery>,
) -> Result<Response, ApiError> {
    let token = query.token.unwrap_or_default();
    let token = token.trim();
    Ok(match peek(&state, Purpose::PasswordReset, token).await? {
        Ok(link) => reset_form_page(StatusCode::OK, token, &link.email, None),
        Err(refused) => refused_page(refused, Purpose::PasswordReset),
    })
}

/// What the reset page's form posts to: sets the new password and uses the link up.
#[utoipa::path(
    post, path = "/account/reset-password", tag = "account",
    request_body(content = ResetPasswordForm, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 200, description = "The password is changed; every session of the account has ended", body = String, content_type = "text/html"),
        (status = 404, description = "`link_invalid`, said on a page", body = String, content_type = "text/html"),
        (status = 410, description = "`link_used` or `link_expired`, said on a page", body = String, content_type = "text/html"),
        (status = 422, description = "The passwords differ or break a rule: the form again, saying why", body = String, content_type = "text/html"),
    )
)]
pub async fn reset_form(
    State(state): State<AppState>,
    body: axum::body::Bytes,
) -> Result<Response, ApiError> {
    let fields = form_fields(&body);
    let token = field(&fields, "token").trim();
    let (password, again) = (field(&fields, "password"), field(&fields, "password_again"));
    // A bad password shows the form again, and only for a link that could still be used.
    let link = match peek(&state, Purpose::PasswordReset, token).await? {
        Ok(link) => link,
        Err(refused) => return Ok(refused_page(refused, Purpose::PasswordReset)),
    };
    let problem = password_problems(password)
        .or_else(|| (password != again).then(|| "The two passwords differ.".to_owned()));
    if let Some(problem) = problem {
        return Ok(reset_form_page(
            StatusCode::UNPROCESSABLE_ENTITY,
            token,
            &link.email,
            Some(&problem),
        ));
    }
    let hash = password::hash(password.to_owned())
        .await
        .map_err(ApiError::Internal)?;
    Ok(match reset_with_link(&state, token, &hash).await? {
        Ok(_) => page(
            StatusCode::OK,
            "Your password is changed",
            "<h1 class=\"good\" data-code=\"password_changed\">Your password is changed</h1>\n\
             <p>Every device that was signed in to your account has been signed out. Sign in \
             again in the Skilltrack app with your new password.</p>",
        ),
        Err(refused) => refused_page(refused, Purpose::PasswordReset),
    })
}

/// The page an address confirmation link opens: a button that confirms. Opening it does not
/// use the link (mail scanners open links too).
#[utoipa::path(
    get, path = "/account/confirm-email", tag = "account",
    params(LinkQuery),
    responses(
        (status = 200, description = "A button that confirms the address", body = String, content_type = "text/html"),
        (status = 404, description = "`link_invalid`, said on a page", body = String, content_type = "text/html"),
        (status = 410, description = "`link_used` or `link_expired`, said on a page", body = String, content_type = "text/html"),
    )
)]
pub async fn confirm_page(
    State(state): State<AppState>,
    Query(query): Query<LinkQuery>,
) -> Result<Response, ApiError> {
    let token = query.token.unwrap_or_default();
    let token = token.trim();
    Ok(
        match peek(&state, Purpose::EmailConfirmation, token).await? {
            Ok(link) => page(
                StatusCode::OK,
                "Confirm your e-mail address",
                &format!(
                    "<h1>Confirm your e-mail address</h1>\n<p>Is <strong>{email}</strong> the address \
                 of your Skilltrack account?</p>\n\
                 <form method=\"post\" action=\"confirm-email\">\n\
                 <input type=\"hidden\" name=\"token\" value=\"{token}\">\n\
                 <button type=\"submit\">Yes, confirm it</button>\n</form>",
                    email = escape(&link.email),
                    token = escape(token),
                ),
            ),
            Err(refused) => refused_page(refused, Purpose::EmailConfirmation),
        },
    )
}

/// What the confirmation page's button posts to: confirms the address and uses the link up.
#[utoipa::path(
    post, path = "/account/confirm-email", tag = "account",
    request_body(content = ConfirmEmailForm, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 200, description = "The address is confirmed", body = String, content_type = "text/html"),
        (status = 404, description = "`link_invalid`, said on a page", body = String, content_type = "text/html"),
        (status = 410, description = "`link_used` or `link_expired`, said on a page", body = String, content_type = "text/html"),
    )
)]
pub async fn confirm_form(
    State(state): State<AppState>,
    body: axum::body::Bytes,
) -> Result<Response, ApiError> {
    let fields = form_fields(&body);
    let token = field(&fields, "token").trim();
    if token.is_empty() || token.len() > 200 {
        return Ok(refused_page(
            LinkRefusal::Unknown,
            Purpose::EmailConfirmation,
        ));
    }
    let mut tx = session::begin_service(state.db.api()).await?;
    let link = match tokens::consume(
        &mut tx,
        Purpose::EmailConfirmation,
        &hash_refresh_token(token),
    )
    .await?
    {
        Ok(link) => link,
        Err(refused) => return Ok(refused_page(refused, Purpose::EmailConfirmation)),
    };
    tokens::confirm_email(&mut tx, link.user_id).await?;
    tx.commit().await?;
    tracing::info!(user = %link.user_id, "e-mail address confirmed by a mailed link");
    Ok(page(
        StatusCode::OK,
        "Your e-mail address is confirmed",
        &format!(
            "<h1 class=\"good\" data-code=\"email_confirmed\">Your e-mail address is confirmed</h1>\n\
             <p><strong>{}</strong> is confirmed as your account's address. You can close this page.</p>",
            escape(&link.email)
        ),
    ))
}

const STYLE: &str = "body{font-family:system-ui,sans-serif;margin:0;background:#f6f7f9;color:#1d2430}\
main{max-width:28rem;margin:3rem auto;padding:2rem;background:#fff;border-radius:.75rem;box-shadow:0 1px 4px #0002}\
h1{font-size:1.5rem;margin:0 0 1rem}.bad{color:#b42318}.good{color:#136f3a}\
label{display:block;font-weight:600;margin-top:1rem}\
input{box-sizing:border-box;width:100%;padding:.55rem;margin-top:.3rem;font-size:1rem;border:1px solid #9aa3b2;border-radius:.4rem}\
button{margin-top:1.2rem;padding:.6rem 1.2rem;font-size:1rem;border:0;border-radius:.4rem;background:#2456c8;color:#fff;cursor:pointer}\
button:focus-visible,input:focus-visible{outline:3px solid #f0b54a;outline-offset:2px}\
.hint,.code{color:#5b6575;font-size:.9rem}\
@media (prefers-color-scheme:dark){body{background:#12151b;color:#e6e9ef}main{background:#1c2129}.hint,.code{color:#a3adbd}\
.bad{color:#ff8a7a}.good{color:#5fd38d}input{background:#12151b;color:#e6e9ef}}";
