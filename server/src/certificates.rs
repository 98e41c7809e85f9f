//! The instance's certificate issuer: its Ed25519 signing keys (kept like the JWT secret, in a
//! file of the data directory only the server reads), its identity (the public address), and
//! the signing of credentials and status lists. SQL stays in `db::certificates`.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use skilltrack_credentials::{IssuerProfile, SigningKey};

/// The file of signing keys under the data directory.
pub const KEY_FILE: &str = "certificate-keys.json";

/// The issuer's name when none is set.
pub const DEFAULT_NAME: &str = "Skilltrack";

/// How long verifiers may cache a status list before fetching it again (its `ttl`).
pub const STATUS_LIST_TTL_SECS: u64 = 3600;

/// Why the signing keys could not be loaded or saved.
#[allow(missing_docs, reason = "each variant's #[error] message documents it")]
#[derive(Debug, thiserror::Error)]
pub enum IssuerKeyError {
    #[error("{context} {path}: {source}")]
    Io {
        context: &'static str,
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path} is not a certificate key file: {detail}")]
    Corrupt { path: PathBuf, detail: String },
    #[error(transparent)]
    Key(#[from] skilltrack_credentials::KeyError),
}

#[derive(Debug, Serialize, Deserialize)]
struct StoredKey {
    kid: String,
    created_at: DateTime<Utc>,
    /// PKCS#8, base64url.
    pkcs8: String,
}

#[derive(Debug, Serialize, Deserialize)]
struct KeyFile {
    /// The key that signs new credentials.
    current: String,
    /// Every key, newest last; retired ones are kept so their public halves stay published.
    keys: Vec<StoredKey>,
}

/// The instance's keys: the current one signs, every one is published.
#[derive(Debug, Clone)]
pub struct KeyRing {
    current: SigningKey,
    all: Vec<SigningKey>,
}

impl KeyRing {
    /// One new key (tests, and a server without a data directory).
    pub fn ephemeral() -> Result<Self, IssuerKeyError> {
        let key = SigningKey::generate()?;
        Ok(Self {
            current: key.clone(),
            all: vec![key],
        })
    }

    /// The keys in `<data_dir>/certificate-keys.json`, a first one generated (readable only by
    /// the server) when there is none.
    pub fn from_data_dir(data_dir: &Path) -> Result<Self, IssuerKeyError> {
        let path = data_dir.join(KEY_FILE);
        if !path.exists() {
            let key = SigningKey::generate()?;
            write_key_file(data_dir, &[(key.clone(), Utc::now())], key.kid())?;
            tracing::info!(kid = key.kid(), path = %path.display(), "generated the certificate signing key");
        }
        Self::read(&path)
    }

    fn read(path: &Path) -> Result<Self, IssuerKeyError> {
        let text = std::fs::read_to_string(path).map_err(|source| IssuerKeyError::Io {
            context: "reading",
            path: path.to_owned(),
            source,
        })?;
        let corrupt = |detail: String| IssuerKeyError::Corrupt {
            path: path.to_owned(),
            detail,
        };
        let file: KeyFile = serde_json::from_str(&text).map_err(|e| corrupt(e.to_string()))?;
        let mut all = Vec::new();
        for stored in &file.keys {
            let bytes = URL_SAFE_NO_PAD
                .decode(&stored.pkcs8)
                .map_err(|_| corrupt(format!("key {} is not base64url", stored.kid)))?;
            let key = SigningKey::from_pkcs8(&bytes)?;
            if key.kid() != stored.kid {
                return Err(corrupt(format!(
                    "key {} has the thumbprint {}",
                    stored.kid,
                    key.kid()
                )));
            }
            all.push(key);
        }
        let current = all
            .iter()
            .find(|k| k.kid() == file.current)
            .cloned()
            .ok_or_else(|| corrupt(format!("the current key {} is not in it", file.current)))?;
        Ok(Self { current, all })
    }

    /// Generates a new key in `<data_dir>`'s key file and makes it current; the old ones stay
    /// (published, so what they signed keeps verifying). The new key's id.
    pub fn rotate(data_dir: &Path) -> Result<String, IssuerKeyError> {
        let path = data_dir.join(KEY_FILE);
        let ring = Self::from_data_dir(data_dir)?;
        let text = std::fs::read_to_string(&path).map_err(|source| IssuerKeyError::Io {
            context: "reading",
            path: path.clone(),
            source,
        })?;
        let file: KeyFile = serde_json::from_str(&text).map_err(|e| IssuerKeyError::Corrupt {
            path: path.clone(),
            detail: e.to_string(),
        })?;
        let mut keys: Vec<(SigningKey, DateTime<Utc>)> = ring
            .all
            .into_iter()
            .zip(file.keys.iter().map(|k| k.created_at))
            .collect();
        let new = SigningKey::generate()?;
        keys.push((new.clone(), Utc::now()));
        write_key_file(data_dir, &keys, new.kid())?;
        tracing::info!(kid = new.kid(), "rotated the certificate signing key");
        Ok(new.kid().to_owned())
    }

    /// These keys and a new one, which becomes current (what [`Self::rotate`] stores).
    pub fn with_new_key(&self) -> Result<Self, IssuerKeyError> {
        let new = SigningKey::generate()?;
        let mut all = self.all.clone();
        all.push(new.clone());
        Ok(Self { current: new, all })
    }

    /// The key that signs.
    pub fn current(&self) -> &SigningKey {
        &self.current
    }

    /// Every key, the current one included.
    pub fn all(&self) -> &[SigningKey] {
        &self.all
    }
}

/// Writes the key file atomically (a private temporary file renamed over it).
fn write_key_file(
    data_dir: &Path,
    keys: &[(SigningKey, DateTime<Utc>)],
    current: &str,
) -> Result<(), IssuerKeyError> {
    use std::io::Write as _;
    use std::os::unix::fs::OpenOptionsExt as _;
    let path = data_dir.join(KEY_FILE);
    let tmp = data_dir.join(format!("{KEY_FILE}.new"));
    let io = |context: &'static str, p: &Path| {
        let path = p.to_owned();
        move |source| IssuerKeyError::Io {
            context,
            path,
            source,
        }
    };
    std::fs::create_dir_all(data_dir).map_err(io("creating", data_dir))?;
    let file = KeyFile {
        current: current.to_owned(),
        keys: keys
            .iter()
            .map(|(k, created_at)| StoredKey {
                kid: k.kid().to_owned(),
                created_at: *created_at,
                pkcs8: URL_SAFE_NO_PAD.encode(k.pkcs8()),
            })
            .collect(),
    };
    let text = serde_json::to_string_pretty(&file).unwrap_or_default();
    let _ = std::fs::remove_file(&tmp);
    let mut out = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&tmp)
        .map_err(io("creating", &tmp))?;
    out.write_all(text.as_bytes())
        .and_then(|()| out.sync_all())
        .map_err(io("writing", &tmp))?;
    std::fs::rename(&tmp, &path).map_err(io("replacing", &path))
}

/// Who issues certificates, with what keys, at what public address.
#[derive(Debug)]
pub struct Issuer {
    keys: KeyRing,
    public_url: String,
    name: String,
    published: AtomicBool,
    /// Signed status lists served recently, by list: the public route answers from here for
    /// [`STATUS_LIST_CACHE`], so an anonymous flood costs no signing and no query each.
    lists: std::sync::Mutex<std::collections::HashMap<i64, (std::time::Instant, String)>>,
}

/// How long a signed status list is served again before it is built anew (a revocation made
/// on this process empties the cache at once).
pub const STATUS_LIST_CACHE: std::time::Duration = std::time::Duration::from_secs(30);

impl Issuer {
    /// An issuer named `name` reachable at `public_url` (e.g. `https://learn.example.org`).
    pub fn new(keys: KeyRing, public_url: &str, name: &str) -> Arc<Self> {
        Arc::new(Self {
            keys,
            public_url: public_url.trim_end_matches('/').to_owned(),
            name: name.to_owned(),
            published: AtomicBool::new(false),
            lists: std::sync::Mutex::default(),
        })
    }

    /// The keys.
    pub fn keys(&self) -> &KeyRing {
        &self.keys
    }

    /// The instance's name, as credentials name their issuer.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The public address, without a trailing slash.
    pub fn public_url(&self) -> &str {
        &self.public_url
    }

    /// The issuer's id: the address of its issuer document.
    pub fn id(&self) -> String {
        format!("{}/api/v1/certificates/issuer", self.public_url)
    }

    /// The Open Badges issuer profile.
    pub fn profile(&self) -> IssuerProfile {
        IssuerProfile {
            id: self.id(),
            name: self.name.clone(),
            url: self.public_url.clone(),
        }
    }

    /// The JWK Set's address.
    pub fn jwks_uri(&self) -> String {
        format!("{}/.well-known/jwks.json", self.public_url)
    }

    /// The address of status list `list` (numbered from 1).
    pub fn status_list_url(&self, list: i64) -> String {
        format!("{}/api/v1/certificates/status/{list}", self.public_url)
    }

    /// The public verification address of a certificate number (the credential's id).
    pub fn certificate_url(&self, number: &str) -> String {
        format!("{}/api/v1/certificates/{number}", self.public_url)
    }

    /// Whether this process has put its public keys in the database yet; marks them so.
    pub fn needs_publishing(&self) -> bool {
        !self.published.load(Ordering::Acquire)
    }

    /// Forgets the signed status lists served recently (after a revocation).
    pub fn forget_status_lists(&self) {
        self.lists
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clear();
    }

    /// Records that the keys are in the database.
    pub fn mark_published(&self) {
        self.published.store(true, Ordering::Release);
    }
}

/// Why a credential could not be issued or a list signed.
#[derive(Debug, thiserror::Error)]
pub enum IssueError {
    /// The database failed.
    #[error(transparent)]
    Db(#[from] sqlx::Error),
    /// Signing failed.
    #[error(transparent)]
    Key(#[from] skilltrack_credentials::KeyError),
}

/// Entries per status list, as an index.
fn list_bits() -> i64 {
    i64::try_from(skilltrack_credentials::STATUS_LIST_BITS).unwrap_or(i64::MAX)
}

/// Which list and bit a status index is.
pub fn list_and_bit(status_index: i64) -> (i64, u64) {
    let bits = list_bits();
    (
        status_index.div_euclid(bits) + 1,
        status_index.rem_euclid(bits).unsigned_abs(),
    )
}

/// What a certificate's credential states.
pub fn facts(
    issuer: &Issuer,
    source: &crate::db::certificates::CertificateSource,
) -> skilltrack_credentials::CertificateFacts {
    let (list, index) = list_and_bit(source.status_index);
    let mut criteria = format!(
        "Completed every published lesson of the course \"{}\" and passed its final exams.",
        source.course_title
    );
    let objectives: Vec<&str> = source
        .course_objectives
        .iter()
        .map(|o| o.trim())
        .filter(|o| !o.is_empty())
        .collect();
    if !objectives.is_empty() {
        criteria.push_str(" Objectives: ");
        criteria.push_str(&objectives.join("; "));
        criteria.push('.');
    }
    skilltrack_credentials::CertificateFacts {
        id: issuer.certificate_url(&source.number),
        issuer: issuer.profile(),
        subject_id: format!("urn:uuid:{}", source.user_id),
        learner_name: source
            .learner_name
            .clone()
            .filter(|n| !n.trim().is_empty())
            .unwrap_or_else(|| "(no name given)".to_owned()),
        achievement: skilltrack_credentials::Achievement {
            id: format!(
                "{}/api/v1/courses/{}",
                issuer.public_url, source.course_slug
            ),
            name: source.course_title.clone(),
            description: source.course_description.clone(),
            criteria,
        },
        valid_from: source.issued_at,
        valid_until: None,
        status: Some(skilltrack_credentials::StatusEntry {
            list_url: issuer.status_list_url(list),
            index,
        }),
    }
}

/// Puts this process's public keys in the database, once.
pub async fn publish_keys(db: &crate::db::Database, issuer: &Issuer) -> Result<(), sqlx::Error> {
    if !issuer.needs_publishing() {
        return Ok(());
    }
    let mut tx = crate::db::session::begin_service(db.api()).await?;
    let jwks: Vec<_> = issuer
        .keys
        .all()
        .iter()
        .map(SigningKey::public_jwk)
        .collect();
    crate::db::certificates::publish_keys(&mut tx, &jwks).await?;
    tx.commit().await?;
    issuer.mark_published();
    Ok(())
}

/// The certificate `id` with its signed credential, signing it now if it has none yet (as
/// `service_role`; the caller checked that it may see it). `None`: no such certificate.
pub async fn ensure_credential(
    db: &crate::db::Database,
    issuer: &Issuer,
    id: uuid::Uuid,
) -> Result<Option<crate::db::certificates::CertificateSource>, IssueError> {
    use crate::db::certificates as sql;
    publish_keys(db, issuer).await?;
    let mut tx = crate::db::session::begin_service(db.api()).await?;
    let Some(mut source) = sql::source_by_id(&mut tx, id).await? else {
        return Ok(None);
    };
    if source.credential.is_none() {
        let key = issuer.keys.current();
        let jwt = facts(issuer, &source).sign(key)?;
        if sql::attach_credential(&mut tx, id, &jwt, key.kid()).await? {
            source.credential = Some(jwt);
            source.credential_kid = Some(key.kid().to_owned());
            tracing::info!(certificate = %id, kid = key.kid(), "signed a certificate's credential");
        } else if let Some(signed) = sql::source_by_id(&mut tx, id).await? {
            // Another request signed it first: theirs stands.
            source = signed;
        }
    }
    tx.commit().await?;
    Ok(Some(source))
}

/// Signs every certificate of `user` still without a credential (after a write that may have
/// completed a course). How many were signed.
pub async fn sign_pending_of(
    db: &crate::db::Database,
    issuer: &Issuer,
    user: uuid::Uuid,
) -> Result<usize, IssueError> {
    use crate::db::certificates as sql;
    publish_keys(db, issuer).await?;
    // One transaction, one look-up: this runs after every progress write of a completed course.
    let mut tx = crate::db::session::begin_service(db.api()).await?;
    let pending = sql::unsigned_sources_of(&mut tx, user).await?;
    if pending.is_empty() {
        tx.commit().await?;
        return Ok(0);
    }
    let key = issuer.keys.current();
    let mut signed = 0;
    for source in &pending {
        let jwt = facts(issuer, source).sign(key)?;
        if sql::attach_credential(&mut tx, source.id, &jwt, key.kid()).await? {
            tracing::info!(certificate = %source.id, kid = key.kid(), "signed a certificate's credential");
            signed += 1;
        }
    }
    tx.commit().await?;
    Ok(signed)
}

/// Signs the credentials of certificates issued before signing existed (or while a signing
/// failed), a batch at a time; run once at start.
pub async fn sign_backlog(db: &crate::db::Database, issuer: &Issuer) -> Result<usize, IssueError> {
    let mut signed = 0;
    loop {
        let mut tx = crate::db::session::begin_service(db.api()).await?;
        let ids = crate::db::certificates::unsigned(&mut tx, 200).await?;
        tx.commit().await?;
        if ids.is_empty() {
            return Ok(signed);
        }
        for id in ids {
            ensure_credential(db, issuer, id).await?;
            signed += 1;
        }
    }
}

/// How many status lists there are (at least one, empty or not).
pub async fn status_list_count(db: &crate::db::Database) -> Result<i64, sqlx::Error> {
    let mut tx = crate::db::session::begin_service(db.api()).await?;
    let highest = crate::db::certificates::highest_status_index(&mut tx).await?;
    tx.commit().await?;
    Ok(highest.map_or(1, |h| list_and_bit(h).0))
}

/// [`status_list`], served from the issuer's cache when it was built less than
/// [`STATUS_LIST_CACHE`] ago.
pub async fn cached_status_list(
    db: &crate::db::Database,
    issuer: &Issuer,
    list: i64,
) -> Result<Option<String>, IssueError> {
    let now = std::time::Instant::now();
    let hit = issuer
        .lists
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .get(&list)
        .filter(|(at, _)| now.duration_since(*at) < STATUS_LIST_CACHE)
        .map(|(_, jwt)| jwt.clone());
    if hit.is_some() {
        return Ok(hit);
    }
    let fresh = status_list(db, issuer, list).await?;
    if let Some(jwt) = &fresh {
        issuer
            .lists
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .insert(list, (now, jwt.clone()));
    }
    Ok(fresh)
}

/// Status list `list` (from 1) as a signed Bitstring Status List credential, as of now.
/// `None` past the last list.
pub async fn status_list(
    db: &crate::db::Database,
    issuer: &Issuer,
    list: i64,
) -> Result<Option<String>, IssueError> {
    if list < 1 || list > status_list_count(db).await? {
        return Ok(None);
    }
    publish_keys(db, issuer).await?;
    let bits = list_bits();
    let from = (list - 1) * bits;
    let mut tx = crate::db::session::begin_service(db.api()).await?;
    let revoked = crate::db::certificates::revoked_between(&mut tx, from, from + bits).await?;
    tx.commit().await?;
    let mut bitstring = skilltrack_credentials::StatusList::new();
    for index in revoked {
        bitstring.set(usize::try_from(index - from).unwrap_or(usize::MAX));
    }
    Ok(Some(bitstring.sign(
        &issuer.status_list_url(list),
        &issuer.id(),
        Utc::now(),
        STATUS_LIST_TTL_SECS,
        issuer.keys.current(),
    )?))
}
