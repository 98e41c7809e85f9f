//! Argon2id password hashing, off the async runtime (it is slow on purpose).

use argon2::password_hash::{PasswordHash, PasswordHasher as _, PasswordVerifier as _, SaltString};
use argon2::{Argon2, password_hash::rand_core::OsRng};

/// The shortest password accepted.
pub const MIN_LEN: usize = 8;
/// The longest password accepted (long enough for passphrases and password managers, short
/// enough that hashing it is not a denial of service).
pub const MAX_LEN: usize = 128;

/// Hashes a password into a PHC string. Blocking: call through [`hash`].
fn hash_blocking(password: &str) -> Result<String, argon2::password_hash::Error> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
}

/// Hashes a password on the blocking pool.
pub async fn hash(password: String) -> Result<String, String> {
    tokio::task::spawn_blocking(move || hash_blocking(&password))
        .await
        .map_err(|e| e.to_string())?
        .map_err(|e| e.to_string())
}

/// Checks a password against a stored PHC string on the blocking pool. With no stored hash
/// (unknown account) it still spends the same time on a dummy hash, so response times do not
/// tell which e-mail addresses have accounts.
pub async fn verify(password: String, stored: Option<String>) -> bool {
    tokio::task::spawn_blocking(move || {
        let phc = if let Some(phc) = stored.as_deref() {
            phc
        } else {
            DUMMY_HASH
                .get_or_init(|| hash_blocking("dummy password").unwrap_or_default())
                .as_str()
        };
        let ok = PasswordHash::new(phc).is_ok_and(|parsed| {
            Argon2::default()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok()
        });
        ok && stored.is_some()
    })
    .await
    .unwrap_or(false)
}

static DUMMY_HASH: std::sync::OnceLock<String> = std::sync::OnceLock::new();

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_hash_verifies_only_its_password() {
        let phc = hash("correct horse".to_owned()).await.unwrap();
        assert!(phc.starts_with("$argon2id$"));
        assert!(verify("correct horse".to_owned(), Some(phc.clone())).await);
        assert!(!verify("correct horsE".to_owned(), Some(phc)).await);
        assert!(!verify("correct horse".to_owned(), None).await);
        assert!(!verify("x".to_owned(), Some("not a hash".to_owned())).await);
    }
}
