//! Skilltrack's certificates as credentials that stand on their own.
//!
//! A certificate is issued as an Open Badges 3.0 `OpenBadgeCredential`, a W3C Verifiable
//! Credential secured as a **VC-JWT**: a compact JWS signed with the instance's Ed25519 key
//! (`alg: EdDSA`, the key's id in `kid`), the credential in the `vc` claim, and the registered
//! claims `iss`, `sub`, `jti`, `nbf` mirroring it. Revocation is a **Bitstring Status List**
//! credential, signed the same way, that verifiers fetch once and cache.
//!
//! * [`keys`]: Ed25519 signing keys, their JWKs and thumbprint key ids.
//! * [`credential`]: what a certificate says, and signing it.
//! * [`status_list`]: the revocation bitstring and its signed credential.
//! * [`baked`]: the PNG badge with the credential baked in (Open Badges baking).
//! * [`pdf`]: the printable certificate, which carries the credential too.
//! * [`verify`]: offline verification against a cached key set and status lists, with a
//!   [`CredentialVerdict`] for every outcome.
//!
//! The crate does no I/O: the server keeps the keys, the client keeps the cache, and both
//! call in here, so the desktop app verifies exactly as the CLI does.

#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod baked;
pub mod credential;
pub mod keys;
pub mod pdf;
pub mod status_list;
pub mod verify;

pub use baked::{BakeError, bake_png, credential_in_png};
pub use credential::{
    Achievement, CertificateFacts, IssuerProfile, StatusEntry, unverified_claims,
};
pub use keys::{KeyError, SigningKey};
pub use pdf::{CertificatePdf, certificate_pdf, credential_in_pdf};
pub use skilltrack_protocol::credentials::{CredentialVerdict, Jwk, JwkSet};
pub use status_list::{STATUS_LIST_BITS, StatusList, StatusListError};
pub use verify::{CredentialSummary, TrustedIssuer, Verification, verify};

/// The JSON-LD contexts of an Open Badges 3.0 credential (VC Data Model 2.0).
pub const OB3_CONTEXT: [&str; 2] = [
    "https://www.w3.org/ns/credentials/v2",
    "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json",
];

/// The JWS `typ` of our credentials (VC-JWT, as Open Badges 3.0 writes it).
pub const JWT_TYP: &str = "JWT";

