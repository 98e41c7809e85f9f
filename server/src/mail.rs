//! Mail to account holders (password reset and address confirmation links) over SMTP, with
//! `lettre` on tokio and rustls.
//!
//! The SMTP URL may hold a password, so neither it nor a [`Mailer`]'s `Debug` ever shows it:
//! only the host and port are logged. Messages are sent from a task of their own, so a slow or
//! unreachable mail server never delays an answer (nor, by its timing, tells whether an address
//! has an account).

use std::time::Duration;

use lettre::message::{Mailbox, header::ContentType};
use lettre::{AsyncSmtpTransport, AsyncTransport as _, Message, Tokio1Executor};

/// How long one SMTP conversation may take before it is given up.
const SMTP_TIMEOUT: Duration = Duration::from_secs(30);

/// Why mail cannot be set up or sent.
#[derive(Debug, thiserror::Error)]
pub enum MailError {
    /// The SMTP URL is not one lettre understands (the URL itself is never repeated: it may
    /// hold a password).
    #[error(
        "the SMTP URL is not valid: write smtp://HOST:PORT (plain, for a relay on this machine), \
         smtp://USER:PASSWORD@HOST:587?tls=required (STARTTLS) or smtps://USER:PASSWORD@HOST:465"
    )]
    Url,
    /// `--mail-from` is missing or not an address.
    #[error(
        "--mail-from (SKILLTRACK_MAIL_FROM) must be the sender's address, e.g. \
         `Skilltrack <no-reply@learn.example.org>`: {0}"
    )]
    From(String),
    /// The message could not be built (an address the sign-up accepted but SMTP cannot carry).
    #[error("the message could not be built: {0}")]
    Message(String),
    /// The SMTP server refused or could not be reached.
    #[error("the SMTP server did not take the message: {0}")]
    Smtp(String),
}

/// Sends mail through one SMTP server, or knows that none is configured.
#[derive(Clone)]
pub struct Mailer {
    inner: Option<Smtp>,
}

#[derive(Clone)]
struct Smtp {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    /// `host:port`, what the log may say about the server.
    server: String,
}

impl std::fmt::Debug for Mailer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.inner {
            Some(smtp) => f
                .debug_struct("Mailer")
                .field("server", &smtp.server)
                .field("from", &smtp.from.to_string())
                .finish_non_exhaustive(),
            None => f.write_str("Mailer(not configured)"),
        }
    }
}

impl Mailer {
    /// No SMTP server: nothing is sent.
    pub fn disabled() -> Self {
        Self { inner: None }
    }

    /// Mail through the server at `url` (`smtp://`, `smtp://…?tls=required`, `smtps://`),
    /// sent as `from`. Call it inside a tokio runtime: the connection pool starts a task.
    pub fn smtp(url: &str, from: &str) -> Result<Self, MailError> {
        let from: Mailbox = from
            .trim()
            .parse()
            .map_err(|e: lettre::address::AddressError| MailError::From(e.to_string()))?;
        let parsed = url::Url::parse(url).map_err(|_| MailError::Url)?;
        let server = format!(
            "{}:{}",
            parsed.host_str().unwrap_or_default(),
            parsed
                .port()
                .map_or_else(|| "default port".to_owned(), |p| p.to_string())
        );
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
            .map_err(|_| MailError::Url)?
            .timeout(Some(SMTP_TIMEOUT))
            .build();
        Ok(Self {
            inner: Some(Smtp {
                transport,
                from,
                server,
            }),
        })
    }

    /// Whether mail can be sent at all.
    pub fn is_configured(&self) -> bool {
        self.inner.is_some()
    }

    /// `host:port` of the SMTP server, for the log.
    pub fn server(&self) -> Option<&str> {
        self.inner.as_ref().map(|s| s.server.as_str())
    }

    /// Whether the SMTP server answers (said at start, so an operator learns of a typo at once
    /// rather than from the first learner who cannot reset a password).
    pub async fn check(&self) -> Result<(), MailError> {
        let Some(smtp) = &self.inner else {
            return Ok(());
        };
        match smtp.transport.test_connection().await {
            Ok(true) => Ok(()),
            Ok(false) => Err(MailError::Smtp("it did not answer".to_owned())),
            Err(e) => Err(MailError::Smtp(e.to_string())),
        }
    }

    /// Sends a plain-text message to `to`. Without an SMTP server it sends nothing and says so.
    pub async fn send(&self, to: &str, subject: &str, text: String) -> Result<(), MailError> {
        let Some(smtp) = &self.inner else {
            return Err(MailError::Smtp("no SMTP server is configured".to_owned()));
        };
        let to: Mailbox = to
            .parse()
            .map_err(|e: lettre::address::AddressError| MailError::Message(e.to_string()))?;
        let message = Message::builder()
            .from(smtp.from.clone())
            .to(to)
            .subject(subject)
            .header(ContentType::TEXT_PLAIN)
            .body(text)
            .map_err(|e| MailError::Message(e.to_string()))?;
        smtp.transport
            .send(message)
            .await
            .map(drop)
            .map_err(|e| MailError::Smtp(e.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // A runtime: the transport's connection pool starts a task of its own.
    #[tokio::test]
    async fn the_smtp_password_never_shows() {
        let mailer = Mailer::smtp(
            "smtp://mailer:hunter2@mail.example.org:587?tls=required",
            "Skilltrack <no-reply@example.org>",
        )
        .unwrap();
        let shown = format!("{mailer:?}");
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(shown.contains("mail.example.org:587"), "{shown}");
        let refused = Mailer::smtp("smtq://u:hunter2@x", "a@b.c").unwrap_err();
        assert!(!refused.to_string().contains("hunter2"));
        assert!(matches!(
            Mailer::smtp("smtp://localhost:25", "not an address"),
            Err(MailError::From(_))
        ));
    }
}
