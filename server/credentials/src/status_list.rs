//! The revocation list: a W3C Bitstring Status List (one bit per credential, index 0 the
//! leftmost bit of the first byte, GZIP-compressed, multibase base64url `u…`), published as a
//! signed `BitstringStatusListCredential`.

use std::io::{Read as _, Write as _};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{Value, json};

use crate::{KeyError, SigningKey};

/// Entries per list: the specification's minimum of 16 KiB, so one revoked bit says little
/// about which credential it is.
pub const STATUS_LIST_BITS: usize = 131_072;

/// The largest list accepted when decoding (a gzip bomb is refused).
const MAX_LIST_BYTES: u64 = 16 * 1024 * 1024;

/// Why an encoded list could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StatusListError {
    /// Not multibase base64url (`u…`).
    #[error("the encoded list is not multibase base64url")]
    Encoding,
    /// Not GZIP, or too large.
    #[error("the encoded list is not a GZIP bitstring of a sane size")]
    Compression,
}

/// A bitstring of revocation flags.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusList {
    bytes: Vec<u8>,
}

impl Default for StatusList {
    fn default() -> Self {
        Self::new()
    }
}

impl StatusList {
    /// [`STATUS_LIST_BITS`] zero bits: nothing revoked.
    pub fn new() -> Self {
        Self {
            bytes: vec![0; STATUS_LIST_BITS / 8],
        }
    }

    /// How many entries the list has.
    pub fn len(&self) -> usize {
        self.bytes.len() * 8
    }

    /// Whether the list has no entries.
    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }

    /// Sets the bit at `index` (an index past the end is ignored).
    pub fn set(&mut self, index: usize) {
        if let Some(byte) = self.bytes.get_mut(index / 8) {
            *byte |= 0x80 >> (index % 8);
        }
    }

    /// The bit at `index`; `None` past the end.
    pub fn get(&self, index: usize) -> Option<bool> {
        self.bytes
            .get(index / 8)
            .map(|byte| byte & (0x80 >> (index % 8)) != 0)
    }

    /// The `encodedList`: GZIP, then multibase base64url (`u` + base64url without padding).
    pub fn encode(&self) -> String {
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        // Writing to a Vec cannot fail.
        let _ = gz.write_all(&self.bytes);
        let compressed = gz.finish().unwrap_or_default();
        format!("u{}", URL_SAFE_NO_PAD.encode(compressed))
    }

    /// A list from its `encodedList`.
    pub fn decode(encoded: &str) -> Result<Self, StatusListError> {
        let b64 = encoded.strip_prefix('u').ok_or(StatusListError::Encoding)?;
        let compressed = URL_SAFE_NO_PAD
            .decode(b64.trim_end_matches('='))
            .map_err(|_| StatusListError::Encoding)?;
        let mut bytes = Vec::new();
        flate2::read::GzDecoder::new(compressed.as_slice())
            .take(MAX_LIST_BYTES + 1)
            .read_to_end(&mut bytes)
            .map_err(|_| StatusListError::Compression)?;
        if bytes.len() as u64 > MAX_LIST_BYTES {
            return Err(StatusListError::Compression);
        }
        Ok(Self { bytes })
    }

    /// The list as a signed `BitstringStatusListCredential` (VC-JWT) at `list_url`, issued by
    /// `issuer` at `now`; `ttl_secs` tells verifiers how long to cache it.
    pub fn sign(
        &self,
        list_url: &str,
        issuer: &str,
        now: DateTime<Utc>,
        ttl_secs: u64,
        key: &SigningKey,
    ) -> Result<String, KeyError> {
        key.sign(&self.claims(list_url, issuer, now, ttl_secs))
    }

    /// The claims of [`Self::sign`].
    pub fn claims(&self, list_url: &str, issuer: &str, now: DateTime<Utc>, ttl_secs: u64) -> Value {
        json!({
            "iss": issuer,
            "jti": list_url,
            "sub": format!("{list_url}#list"),
            "nbf": now.timestamp(),
            "iat": now.timestamp(),
            "vc": {
                "@context": ["https://www.w3.org/ns/credentials/v2"],
                "id": list_url,
                "type": ["VerifiableCredential", "BitstringStatusListCredential"],
                "issuer": issuer,
                "validFrom": now.to_rfc3339_opts(SecondsFormat::Secs, true),
                "credentialSubject": {
                    "id": format!("{list_url}#list"),
                    "type": "BitstringStatusList",
                    "statusPurpose": "revocation",
                    "encodedList": self.encode(),
                    "ttl": ttl_secs.saturating_mul(1000),
                },
            },
        })
    }
}
