//! The desktop app's releases, as the operator publishes them (`skilltrack-server
//! desktop-release …`) and the update routes serve them (`http/desktop_releases.rs`).
//!
//! A release is a package the Tauri bundler made (`.deb` or `.rpm`) and the `.sig` file the
//! Tauri CLI wrote beside it (`tauri signer sign --app-version X.Y.Z FILE`): base64 of a minisign
//! signature whose trusted comment names the version it was made for. The app installs a
//! package only if that signature verifies with the public key compiled into it, and only for
//! the version the signature names; the server checks the same before it publishes, when given
//! the public key, so a package that would be refused is never offered.
//!
//! Packages are kept in `<data-dir>/desktop-releases/<sha256>.<deb|rpm>`: named by their bytes,
//! so the same package published on several hosts lands under the same name on each, and a
//! replaced package's file can go once no release names it.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use base64::Engine as _;
use sha2::{Digest as _, Sha256};
use skilltrack_protocol::desktop_updates::{DesktopArch, DesktopBundle, ReleaseVersion};

use crate::db::Database;
use crate::db::desktop_releases::{self as sql, NewRelease, ReleaseRow};

/// The longest release notes the table takes, in characters.
pub const MAX_NOTES_CHARS: usize = 10_000;

/// Why a release could not be published, listed or withdrawn: each a sentence for the operator.
#[allow(missing_docs, reason = "each variant's #[error] message documents it")]
#[derive(Debug, thiserror::Error)]
pub enum ReleaseError {
    #[error("{}: {source}", path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "{} is neither a Debian package (.deb) nor an RPM package (.rpm): not published",
        path.display()
    )]
    NotAPackage { path: PathBuf },
    #[error(
        "{} is not a signature the Tauri CLI writes (base64 of a minisign signature, the .sig \
         file of `tauri signer sign`): {why}",
        path.display()
    )]
    BadSignature { path: PathBuf, why: String },
    #[error("the signature names no version (it was made without `--app-version`): give --version")]
    NoVersion,
    #[error(
        "{0:?} is not a version: write X.Y.Z, three numbers without leading zeros (e.g. 0.1.1)"
    )]
    BadVersion(String),
    #[error(
        "--version says {given} but the signature was made for {signed}: the app would refuse \
         it, not published"
    )]
    VersionMismatch { given: String, signed: String },
    #[error(
        "the package's name {0:?} may hold only letters, digits, `.`, `_`, `+`, `~` and `-` \
         (at most 200, starting with a letter or digit): rename the file"
    )]
    BadFileName(String),
    #[error(
        "the package's name {0:?} does not say its architecture (amd64, x86_64, arm64 or \
         aarch64): give --arch"
    )]
    NoArch(String),
    #[error("the release notes are {0} characters long; at most {MAX_NOTES_CHARS} are kept")]
    NotesTooLong(usize),
    #[error("the release notes hold a NUL character, which no text column takes")]
    NotesNul,
    #[error(
        "the public key is unusable (give the .pub file `tauri signer generate` wrote, or its \
         content): {0}"
    )]
    BadPublicKey(String),
    #[error("{} is not signed by that key: not published ({why})", path.display())]
    NotSignedByKey { path: PathBuf, why: String },
    #[error("no {bundle} release {version} for {arch} is published")]
    NoSuchRelease {
        version: String,
        bundle: &'static str,
        arch: &'static str,
    },
    #[error("{context}: {source}")]
    Store {
        context: String,
        source: std::io::Error,
    },
    #[error("the database refused: {0}")]
    Db(#[from] sqlx::Error),
}

/// Where the packages are kept.
#[derive(Debug, Clone)]
pub struct ReleaseStore {
    dir: PathBuf,
}

impl ReleaseStore {
    /// The store of the server whose data directory is `data_dir`.
    pub fn in_data_dir(data_dir: &Path) -> Self {
        Self {
            dir: data_dir.join("desktop-releases"),
        }
    }

    /// The directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Where the package with this SHA-256 is (or would be); `None` for a string that is not
    /// a SHA-256, so nothing but a hex digest ever reaches a path.
    pub fn path_of(&self, sha256: &str, bundle: DesktopBundle) -> Option<PathBuf> {
        let hex = sha256.len() == 64
            && sha256
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
        hex.then(|| self.dir.join(format!("{sha256}.{}", bundle.as_str())))
    }

    /// Writes `bytes` (whose SHA-256 is `sha256`) into the store, whole or not at all: a
    /// temporary file, flushed to disk, renamed into place, and the directory flushed too.
    /// Whether the file was new.
    fn add(&self, bytes: &[u8], sha256: &str, bundle: DesktopBundle) -> Result<bool, ReleaseError> {
        let store_error = |context: &str| {
            let context = format!("{context} in {}", self.dir.display());
            move |source| ReleaseError::Store { context, source }
        };
        let path = self.path_of(sha256, bundle).ok_or_else(|| {
            store_error("naming the package")(std::io::Error::other("its digest is not a SHA-256"))
        })?;
        // Written again even when it is there: the same name is the same bytes, and a copy
        // damaged on disk is mended.
        let existed = path.exists();
        std::fs::create_dir_all(&self.dir).map_err(store_error("creating the directory"))?;
        let mut temporary = tempfile::Builder::new()
            .prefix(".publishing-")
            .tempfile_in(&self.dir)
            .map_err(store_error("creating a file"))?;
        temporary
            .write_all(bytes)
            .map_err(store_error("writing the package"))?;
        temporary
            .as_file()
            .sync_all()
            .map_err(store_error("flushing the package"))?;
        // Readable by whoever runs the server, even when the command ran as another user.
        {
            use std::os::unix::fs::PermissionsExt as _;
            std::fs::set_permissions(temporary.path(), std::fs::Permissions::from_mode(0o644))
                .map_err(store_error("opening the package to readers"))?;
        }
        temporary
            .persist(&path)
            .map_err(|e| store_error("putting the package in place")(e.error))?;
        std::fs::File::open(&self.dir)
            .and_then(|d| d.sync_all())
            .map_err(store_error("flushing the directory"))?;
        Ok(!existed)
    }

    /// Deletes a package's file (gone already is fine).
    fn remove(&self, sha256: &str, bundle: DesktopBundle) -> Result<(), ReleaseError> {
        let Some(path) = self.path_of(sha256, bundle) else {
            return Ok(());
        };
        match std::fs::remove_file(&path) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(source) => Err(ReleaseError::Store {
                context: format!("removing {}", path.display()),
                source,
            }),
        }
    }
}

/// The package format of a file, from its first bytes: an `ar` archive whose first member is
/// `debian-binary` is a Debian package; an RPM package starts with RPM's lead magic.
pub fn detect_bundle(head: &[u8]) -> Option<DesktopBundle> {
    if head.starts_with(b"!<arch>\ndebian-binary") {
        Some(DesktopBundle::Deb)
    } else if head.starts_with(&[0xED, 0xAB, 0xEE, 0xDB]) {
        Some(DesktopBundle::Rpm)
    } else {
        None
    }
}

/// The architecture a package's name says, as Debian (`_amd64.deb`) or RPM
/// (`.x86_64.rpm`) names it.
pub fn arch_from_file_name(name: &str) -> Option<DesktopArch> {
    let words: Vec<&str> = name.split(['_', '.', '-']).collect();
    if words.contains(&"amd64") || name.contains("x86_64") {
        Some(DesktopArch::X86_64)
    } else if words.iter().any(|w| *w == "arm64" || *w == "aarch64") {
        Some(DesktopArch::Aarch64)
    } else {
        None
    }
}

/// Whether a package's name is one the table takes (`file_name`'s CHECK): the last segment of
/// its URL, needing no escaping.
fn is_safe_file_name(name: &str) -> bool {
    let bytes = name.as_bytes();
    !bytes.is_empty()
        && bytes.len() <= 200
        && bytes[0].is_ascii_alphanumeric()
        && bytes
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || b"._+~-".contains(b))
}

/// A `.sig` file's content, read: the text as it will be served, and the minisign signature.
pub struct ReleaseSignature {
    /// Base64 of the minisign text, as the updater reads it.
    pub base64: String,
    signature: minisign_verify::Signature,
}

impl std::fmt::Debug for ReleaseSignature {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReleaseSignature")
            .field("base64", &self.base64)
            .finish_non_exhaustive()
    }
}

impl ReleaseSignature {
    /// Reads the Tauri CLI's `.sig` content (`from` names it in errors).
    pub fn parse(text: &str, from: &Path) -> Result<Self, ReleaseError> {
        let bad = |why: String| ReleaseError::BadSignature {
            path: from.to_path_buf(),
            why,
        };
        let base64 = text.trim().to_owned();
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(&base64)
            .map_err(|e| bad(format!("not base64 ({e})")))?;
        let minisign = String::from_utf8(decoded).map_err(|_| bad("not text".to_owned()))?;
        let signature = minisign_verify::Signature::decode(&minisign)
            .map_err(|e| bad(format!("not a minisign signature ({e})")))?;
        Ok(Self { base64, signature })
    }

    /// The version the signature was made for (`version:` in its trusted comment, as the
    /// updater reads it), if it names one. Unverified until [`Self::verify`] says so: the app
    /// checks it again, over its own key.
    pub fn version(&self) -> Option<&str> {
        self.signature
            .trusted_comment()
            .split('\t')
            .find_map(|field| field.strip_prefix("version:"))
            .map(str::trim)
    }

    /// Whether `package` is what this signature signs, with `public_key`.
    fn verify(
        &self,
        public_key: &minisign_verify::PublicKey,
        package: &[u8],
        from: &Path,
    ) -> Result<(), ReleaseError> {
        // Legacy (not prehashed) signatures allowed, as the updater allows them.
        public_key
            .verify(package, &self.signature, true)
            .map_err(|e| ReleaseError::NotSignedByKey {
                path: from.to_path_buf(),
                why: e.to_string(),
            })
    }
}

/// The updater's public key from what the operator gave: the path of the `.pub` file `tauri
/// signer generate` wrote, or its content (base64 of minisign's public key file, as the app's
/// configuration takes it), or minisign's own public key file or key line.
pub fn parse_public_key(given: &str) -> Result<minisign_verify::PublicKey, ReleaseError> {
    let given = given.trim();
    let path = Path::new(given);
    let text = if !given.is_empty() && given.len() < 4096 && path.is_file() {
        std::fs::read_to_string(path).map_err(|source| ReleaseError::Read {
            path: path.to_path_buf(),
            source,
        })?
    } else {
        given.to_owned()
    };
    let text = text.trim();
    let bad = |e: minisign_verify::Error| ReleaseError::BadPublicKey(e.to_string());
    if text.contains("untrusted comment:") {
        return minisign_verify::PublicKey::decode(text).map_err(bad);
    }
    if let Some(decoded) = base64::engine::general_purpose::STANDARD
        .decode(text)
        .ok()
        .and_then(|d| String::from_utf8(d).ok())
        .filter(|d| d.contains("untrusted comment:"))
    {
        return minisign_verify::PublicKey::decode(decoded.trim()).map_err(bad);
    }
    minisign_verify::PublicKey::from_base64(text).map_err(bad)
}

/// What the operator asked to publish.
#[derive(Debug, Clone)]
pub struct PublishRequest {
    /// The package.
    pub package: PathBuf,
    /// Its `.sig` file.
    pub signature: PathBuf,
    /// The version, if the operator gave it (else the signature's).
    pub version: Option<String>,
    /// The architecture, if the operator gave it (else the package name's).
    pub arch: Option<DesktopArch>,
    /// Release notes.
    pub notes: String,
    /// The updater's public key, to check the signature with before publishing.
    pub public_key: Option<String>,
}

/// What publishing did.
#[derive(Debug, Clone)]
pub struct PublishOutcome {
    /// The release as recorded.
    pub release: ReleaseRow,
    /// Whether an earlier package of the same version, format and architecture was replaced.
    pub replaced: bool,
    /// Whether the signature was checked against a public key.
    pub verified: bool,
}

/// The package and signature, checked: everything but the database.
struct CheckedPackage {
    release: NewRelease,
    bytes: Vec<u8>,
    verified: bool,
}

fn check(request: &PublishRequest) -> Result<CheckedPackage, ReleaseError> {
    let read = |path: &Path| {
        std::fs::read(path).map_err(|source| ReleaseError::Read {
            path: path.to_path_buf(),
            source,
        })
    };
    let signature_text = String::from_utf8_lossy(&read(&request.signature)?).into_owned();
    let signature = ReleaseSignature::parse(&signature_text, &request.signature)?;
    let version = match (request.version.as_deref(), signature.version()) {
        (Some(given), Some(signed)) => {
            let given_version = ReleaseVersion::parse(given)
                .ok_or_else(|| ReleaseError::BadVersion(given.into()))?;
            if ReleaseVersion::parse(signed) != Some(given_version) {
                return Err(ReleaseError::VersionMismatch {
                    given: given.to_owned(),
                    signed: signed.to_owned(),
                });
            }
            given_version
        }
        (Some(text), None) | (None, Some(text)) => {
            ReleaseVersion::parse(text).ok_or_else(|| ReleaseError::BadVersion(text.into()))?
        }
        (None, None) => return Err(ReleaseError::NoVersion),
    };
    let notes_chars = request.notes.chars().count();
    if notes_chars > MAX_NOTES_CHARS {
        return Err(ReleaseError::NotesTooLong(notes_chars));
    }
    if request.notes.contains('\0') {
        return Err(ReleaseError::NotesNul);
    }
    let file_name = request
        .package
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    if !is_safe_file_name(&file_name) {
        return Err(ReleaseError::BadFileName(file_name));
    }
    let bytes = read(&request.package)?;
    let bundle = detect_bundle(&bytes).ok_or_else(|| ReleaseError::NotAPackage {
        path: request.package.clone(),
    })?;
    let arch = match request.arch {
        Some(arch) => arch,
        None => arch_from_file_name(&file_name).ok_or(ReleaseError::NoArch(file_name.clone()))?,
    };
    let verified = match &request.public_key {
        Some(key) => {
            signature.verify(&parse_public_key(key)?, &bytes, &request.package)?;
            true
        }
        None => false,
    };
    let sha256 = hex(&Sha256::digest(&bytes));
    Ok(CheckedPackage {
        release: NewRelease {
            version,
            bundle,
            arch,
            file_name,
            size_bytes: i64::try_from(bytes.len()).unwrap_or(i64::MAX),
            sha256,
            signature: signature.base64,
            notes: request.notes.clone(),
        },
        bytes,
        verified,
    })
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    bytes.iter().fold(String::new(), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

/// Publishes a release: checks the package and its signature, puts the file in the store,
/// records the row (as the owner), and removes the file of the package it replaced.
pub async fn publish(
    db: &Database,
    store: &ReleaseStore,
    request: PublishRequest,
) -> Result<PublishOutcome, ReleaseError> {
    let writer = store.clone();
    let (checked, added) = tokio::task::spawn_blocking(move || {
        let checked = check(&request)?;
        let added = writer.add(
            &checked.bytes,
            &checked.release.sha256,
            checked.release.bundle,
        )?;
        Ok::<_, ReleaseError>((checked, added))
    })
    .await
    .map_err(|e| ReleaseError::Store {
        context: "publishing".into(),
        source: std::io::Error::other(e),
    })??;
    let bundle = checked.release.bundle;
    let recorded = async {
        let mut tx = db.owner().begin().await?;
        let published = sql::publish(&mut tx, &checked.release).await?;
        tx.commit().await?;
        Ok::<_, sqlx::Error>(published)
    }
    .await;
    let published = match recorded {
        Ok(published) => published,
        Err(e) => {
            // A file nobody names would only take room.
            if added {
                let _ = store.remove(&checked.release.sha256, bundle);
            }
            return Err(e.into());
        }
    };
    if let Some(old) = &published.replaced
        && old.sha256 != published.release.sha256
    {
        forget_file(db, store, old).await?;
    }
    Ok(PublishOutcome {
        release: published.release,
        replaced: published.replaced.is_some(),
        verified: checked.verified,
    })
}

/// Removes the file of a release that is gone, unless another release is the same package.
async fn forget_file(
    db: &Database,
    store: &ReleaseStore,
    gone: &ReleaseRow,
) -> Result<(), ReleaseError> {
    let mut conn = db.owner().acquire().await?;
    if !sql::file_in_use(&mut conn, &gone.sha256).await?
        && let Some(bundle) = DesktopBundle::parse(&gone.bundle)
    {
        store.remove(&gone.sha256, bundle)?;
    }
    Ok(())
}

/// Every published release, newest version first.
pub async fn list(db: &Database) -> Result<Vec<ReleaseRow>, ReleaseError> {
    let mut conn = db.owner().acquire().await?;
    Ok(sql::list(&mut conn).await?)
}

/// Withdraws a release: apps no longer see it, and its file goes.
pub async fn withdraw(
    db: &Database,
    store: &ReleaseStore,
    version: &str,
    bundle: DesktopBundle,
    arch: DesktopArch,
) -> Result<ReleaseRow, ReleaseError> {
    let parsed =
        ReleaseVersion::parse(version).ok_or_else(|| ReleaseError::BadVersion(version.into()))?;
    let mut conn = db.owner().acquire().await?;
    let gone = sql::withdraw(&mut conn, parsed, bundle, arch)
        .await?
        .ok_or_else(|| ReleaseError::NoSuchRelease {
            version: version.to_owned(),
            bundle: bundle.as_str(),
            arch: arch.as_str(),
        })?;
    drop(conn);
    forget_file(db, store, &gone).await?;
    Ok(gone)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packages_are_told_apart_by_their_first_bytes() {
        assert_eq!(
            detect_bundle(
                b"!<arch>\ndebian-binary   1700000000  0     0     100644  4         `\n"
            ),
            Some(DesktopBundle::Deb)
        );
        assert_eq!(
            detect_bundle(&[0xED, 0xAB, 0xEE, 0xDB, 3, 0]),
            Some(DesktopBundle::Rpm)
        );
        // Any other ar archive (a static library) is not a package.
        assert_eq!(detect_bundle(b"!<arch>\nlibfoo.o/       "), None);
        assert_eq!(detect_bundle(b"#!/bin/sh\n"), None);
        assert_eq!(detect_bundle(b""), None);
    }

    #[test]
    fn a_package_name_says_its_architecture() {
        let arch = arch_from_file_name;
        assert_eq!(
            arch("skilltrack_0.1.1_amd64.deb"),
            Some(DesktopArch::X86_64)
        );
        assert_eq!(
            arch("skilltrack-0.1.1-1.x86_64.rpm"),
            Some(DesktopArch::X86_64)
        );
        assert_eq!(
            arch("skilltrack_0.1.1_arm64.deb"),
            Some(DesktopArch::Aarch64)
        );
        assert_eq!(
            arch("skilltrack-0.1.1-1.aarch64.rpm"),
            Some(DesktopArch::Aarch64)
        );
        assert_eq!(arch("skilltrack.deb"), None);
    }

    #[test]
    fn only_names_that_need_no_escaping_are_taken() {
        assert!(is_safe_file_name("skilltrack_0.1.1_amd64.deb"));
        assert!(is_safe_file_name("skilltrack-0.1.1+git~1.x86_64.rpm"));
        for bad in [
            "",
            ".hidden.deb",
            "a b.deb",
            "a/b.deb",
            "ä.deb",
            "a%20.deb",
            "a?.deb",
        ] {
            assert!(!is_safe_file_name(bad), "{bad:?}");
        }
    }

    #[test]
    fn the_store_names_files_by_their_digest_only() {
        let store = ReleaseStore::in_data_dir(Path::new("/data"));
        let digest = "ab".repeat(32);
        assert_eq!(
            store.path_of(&digest, DesktopBundle::Rpm),
            Some(PathBuf::from(format!(
                "/data/desktop-releases/{digest}.rpm"
            )))
        );
        assert_eq!(store.path_of("../../etc/passwd", DesktopBundle::Deb), None);
        assert_eq!(store.path_of(&"AB".repeat(32), DesktopBundle::Deb), None);
    }
}
