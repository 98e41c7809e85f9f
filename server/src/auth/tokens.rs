//! Access tokens (short-lived JWTs, HS256 only, audience and issuer checked) and refresh tokens
//! (random, stored hashed).

use std::path::Path;
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation, errors::ErrorKind};
use rand::RngCore as _;
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};
use uuid::Uuid;

/// The `aud` and `iss` of every access token.
pub const AUDIENCE: &str = "skilltrack";
/// The issuer.
pub const ISSUER: &str = "skilltrack-server";
/// The shortest signing key accepted, in bytes.
pub const MIN_KEY_LEN: usize = 32;

/// An access token's claims.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    /// The user.
    pub sub: Uuid,
    /// The session (device) the token belongs to.
    pub sid: Uuid,
    /// Always `authenticated`.
    pub role: String,
    /// [`AUDIENCE`].
    pub aud: String,
    /// [`ISSUER`].
    pub iss: String,
    /// Issued at (seconds since the epoch).
    pub iat: i64,
    /// Expires at (seconds since the epoch).
    pub exp: i64,
}

/// Why a bearer token was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    /// It was valid once.
    #[error("the access token has expired; refresh the session")]
    Expired,
    /// Forged, malformed, another algorithm, audience or issuer.
    #[error("the access token is not valid")]
    Invalid,
}

/// Why the signing key could not be loaded.
#[allow(missing_docs, reason = "each variant's #[error] message documents it")]
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("the JWT signing key must be at least {MIN_KEY_LEN} bytes")]
    TooShort,
    #[error("{context}: {source}")]
    Io {
        context: String,
        source: std::io::Error,
    },
}

/// Signs and checks access tokens, and derives each refresh token's successor.
#[derive(Clone)]
pub struct TokenKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    ttl: Duration,
    /// Keys the refresh chain ([`Self::next_refresh_token`]); derived from the secret so that
    /// it is never the JWT key itself.
    chain: [u8; 32],
}

impl std::fmt::Debug for TokenKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenKeys")
            .field("ttl", &self.ttl)
            .finish_non_exhaustive()
    }
}

impl TokenKeys {
    /// Keys from a secret of at least [`MIN_KEY_LEN`] bytes; tokens live for `ttl`.
    pub fn new(secret: &[u8], ttl: Duration) -> Result<Self, KeyError> {
        if secret.len() < MIN_KEY_LEN {
            return Err(KeyError::TooShort);
        }
        // The algorithm is pinned: a token claiming `none` or RS256 is rejected, whatever it says.
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_audience(&[AUDIENCE]);
        validation.set_issuer(&[ISSUER]);
        validation.set_required_spec_claims(&["exp", "aud", "iss", "sub"]);
        validation.leeway = 5;
        let mut chain = Sha256::new();
        chain.update(b"skilltrack refresh-token chain\0");
        chain.update(secret);
        Ok(Self {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            validation,
            ttl,
            chain: chain.finalize().into(),
        })
    }

    /// The key in `<data_dir>/jwt-secret`, created (readable only by the server) on first use.
    pub fn from_data_dir(data_dir: &Path, ttl: Duration) -> Result<Self, KeyError> {
        let path = data_dir.join("jwt-secret");
        let io = |context: &str| {
            let context = format!("{context} {}", path.display());
            move |source| KeyError::Io { context, source }
        };
        if !path.exists() {
            use std::io::Write as _;
            use std::os::unix::fs::OpenOptionsExt as _;
            std::fs::create_dir_all(data_dir).map_err(io("creating the directory of"))?;
            let mut secret = [0u8; 64];
            rand::thread_rng().fill_bytes(&mut secret);
            let mut file = std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(&path)
                .map_err(io("creating"))?;
            file.write_all(URL_SAFE_NO_PAD.encode(secret).as_bytes())
                .map_err(io("writing"))?;
            tracing::info!(path = %path.display(), "generated a new JWT signing key");
        }
        let text = std::fs::read_to_string(&path).map_err(io("reading"))?;
        Self::new(text.trim().as_bytes(), ttl)
    }

    /// How long access tokens live.
    pub fn ttl(&self) -> Duration {
        self.ttl
    }

    /// A signed access token for `user` in `session`, and when it expires.
    pub fn issue(&self, user: Uuid, session: Uuid, now: DateTime<Utc>) -> (String, DateTime<Utc>) {
        let expires = now + chrono::Duration::from_std(self.ttl).unwrap_or(chrono::Duration::MAX);
        let claims = Claims {
            sub: user,
            sid: session,
            role: "authenticated".to_owned(),
            aud: AUDIENCE.to_owned(),
            iss: ISSUER.to_owned(),
            iat: now.timestamp(),
            exp: expires.timestamp(),
        };
        let token = jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .unwrap_or_default();
        (token, expires)
    }

    /// The claims of a valid token.
    pub fn verify(&self, token: &str) -> Result<Claims, TokenError> {
        jsonwebtoken::decode::<Claims>(token, &self.decoding, &self.validation)
            .map(|data| data.claims)
            .map_err(|e| match e.kind() {
                ErrorKind::ExpiredSignature => TokenError::Expired,
                _ => TokenError::Invalid,
            })
            .and_then(|c| {
                if c.role == "authenticated" {
                    Ok(c)
                } else {
                    Err(TokenError::Invalid)
                }
            })
    }
}

impl TokenKeys {
    /// The refresh token that follows `token` in its session, and the hash to store. Always the
    /// same for the same token, so a refresh retried within the grace window answers with the
    /// token it already issued instead of forking the session into a second chain; only the
    /// server can compute it (HMAC-SHA-256 under a key of its own).
    pub fn next_refresh_token(&self, token: &str) -> (String, [u8; 32]) {
        use hmac::Mac as _;
        let mut mac = <hmac::Hmac<Sha256> as hmac::Mac>::new_from_slice(&self.chain)
            .unwrap_or_else(|_| unreachable!("HMAC takes a key of any length"));
        mac.update(token.as_bytes());
        let next = URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes());
        let hash = hash_refresh_token(&next);
        (next, hash)
    }
}

/// A new refresh token (256 random bits, URL-safe) and the hash to store.
pub fn new_refresh_token() -> (String, [u8; 32]) {
    let mut bytes = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut bytes);
    let token = URL_SAFE_NO_PAD.encode(bytes);
    let hash = hash_refresh_token(&token);
    (token, hash)
}

/// What the database stores of a refresh token.
pub fn hash_refresh_token(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys() -> TokenKeys {
        TokenKeys::new(&[7u8; 32], Duration::from_secs(900)).unwrap()
    }

    #[test]
    fn a_token_round_trips() {
        let (user, session) = (Uuid::now_v7(), Uuid::now_v7());
        let (token, _) = keys().issue(user, session, Utc::now());
        let claims = keys().verify(&token).unwrap();
        assert_eq!((claims.sub, claims.sid), (user, session));
    }

    #[test]
    fn expired_forged_and_foreign_tokens_are_refused() {
        let (user, session) = (Uuid::now_v7(), Uuid::now_v7());
        let (old, _) = keys().issue(user, session, Utc::now() - chrono::Duration::hours(1));
        assert_eq!(keys().verify(&old), Err(TokenError::Expired));
        let other = TokenKeys::new(&[8u8; 32], Duration::from_secs(900)).unwrap();
        let (forged, _) = other.issue(user, session, Utc::now());
        assert_eq!(keys().verify(&forged), Err(TokenError::Invalid));
        assert_eq!(keys().verify("not.a.token"), Err(TokenError::Invalid));
        assert!(TokenKeys::new(b"short", Duration::from_secs(1)).is_err());
    }

    #[test]
    fn a_refresh_tokens_successor_is_fixed_and_only_the_server_knows_it() {
        let (first, _) = new_refresh_token();
        let (next, hash) = keys().next_refresh_token(&first);
        assert_eq!(keys().next_refresh_token(&first), (next.clone(), hash));
        assert_eq!(hash_refresh_token(&next), hash);
        assert_ne!(next, first);
        let other = TokenKeys::new(&[8u8; 32], Duration::from_secs(900)).unwrap();
        assert_ne!(other.next_refresh_token(&first).0, next);
        assert_ne!(keys().next_refresh_token(&next).0, next);
    }

    #[test]
    fn refresh_tokens_are_random_and_hashed() {
        let (a, ha) = new_refresh_token();
        let (b, _) = new_refresh_token();
        assert_ne!(a, b);
        assert_eq!(hash_refresh_token(&a), ha);
        assert!(a.len() >= 43);
    }
}
