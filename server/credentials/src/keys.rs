//! Ed25519 signing keys: generated with ring, kept as PKCS#8, published as JWKs (RFC 8037)
//! whose key id is the RFC 7638 thumbprint, so a key's id can never name another key.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use ring::signature::{Ed25519KeyPair, KeyPair as _};
use serde::Serialize;
use sha2::{Digest as _, Sha256};

use crate::Jwk;

/// Why a key could not be made or used.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// The bytes are not an Ed25519 PKCS#8 private key.
    #[error("not an Ed25519 private key (PKCS#8)")]
    NotEd25519,
    /// The system's random source failed.
    #[error("the system's random source failed")]
    Random,
    /// Signing failed (a bug: the key was checked when loaded).
    #[error("signing failed: {0}")]
    Signing(String),
}

/// A private Ed25519 key with its id. `Debug` shows the id only: the private half is never
/// printed or logged.
#[derive(Clone)]
pub struct SigningKey {
    kid: String,
    pkcs8: Vec<u8>,
    public: Vec<u8>,
    encoding: EncodingKey,
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKey")
            .field("kid", &self.kid)
            .finish_non_exhaustive()
    }
}

impl SigningKey {
    /// A new random key.
    pub fn generate() -> Result<Self, KeyError> {
        let rng = ring::rand::SystemRandom::new();
        let doc = Ed25519KeyPair::generate_pkcs8(&rng).map_err(|_| KeyError::Random)?;
        Self::from_pkcs8(doc.as_ref())
    }

    /// The key in these PKCS#8 bytes.
    pub fn from_pkcs8(pkcs8: &[u8]) -> Result<Self, KeyError> {
        let pair =
            Ed25519KeyPair::from_pkcs8_maybe_unchecked(pkcs8).map_err(|_| KeyError::NotEd25519)?;
        let public = pair.public_key().as_ref().to_vec();
        Ok(Self {
            kid: thumbprint(&URL_SAFE_NO_PAD.encode(&public)),
            pkcs8: pkcs8.to_vec(),
            public,
            encoding: EncodingKey::from_ed_der(pkcs8),
        })
    }

    /// The key id: the public key's RFC 7638 thumbprint.
    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// The private key as PKCS#8, to store (never to log).
    pub fn pkcs8(&self) -> &[u8] {
        &self.pkcs8
    }

    /// The public half, to publish.
    pub fn public_jwk(&self) -> Jwk {
        Jwk {
            kty: "OKP".to_owned(),
            crv: "Ed25519".to_owned(),
            x: URL_SAFE_NO_PAD.encode(&self.public),
            kid: self.kid.clone(),
            alg: Some("EdDSA".to_owned()),
            use_: Some("sig".to_owned()),
        }
    }

    /// `claims` as a compact JWS: `alg: EdDSA`, `typ: JWT`, `kid` this key's id.
    pub fn sign<T: Serialize>(&self, claims: &T) -> Result<String, KeyError> {
        let mut header = Header::new(Algorithm::EdDSA);
        header.typ = Some(crate::JWT_TYP.to_owned());
        header.kid = Some(self.kid.clone());
        jsonwebtoken::encode(&header, claims, &self.encoding)
            .map_err(|e| KeyError::Signing(e.to_string()))
    }
}

/// The RFC 7638 thumbprint of an Ed25519 JWK with public key `x`: SHA-256 over the required
/// members in lexicographic order, base64url.
pub fn thumbprint(x: &str) -> String {
    let canonical = format!(r#"{{"crv":"Ed25519","kty":"OKP","x":"{x}"}}"#);
    URL_SAFE_NO_PAD.encode(Sha256::digest(canonical.as_bytes()))
}
