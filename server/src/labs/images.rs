//! Lab images: the root filesystems labs run on (`labs.docker_image`), so a lab brings the
//! tools it needs instead of borrowing the host's `/usr`.
//!
//! An admin imports an image on each lab host (`skilltrack-server lab-images …`): from a root
//! filesystem archive (tar, optionally gzip), from an OCI image layout (what `skopeo copy
//! docker://… oci:DIR` or `docker save` + `umoci` produce), or built from Debian packages with
//! `mmdebstrap`. The store keeps each image unpacked under `<data-dir>/lab-images/<key>/rootfs`
//! with its description in `image.json`, and the database lists it (`lab_images`), so a lab
//! naming an image that was never imported cannot be published.
//!
//! Ownership: a sandbox maps exactly one user, the lab user, who is root *inside* its user
//! namespace. So every file of an image belongs to the lab user on disk (its root inside), and
//! no file keeps a set-user-id bit. The sandbox never sees the store itself: it runs on an
//! overlay of the image with a layer of its own on top (see `sandbox.rs`), so an image is never
//! written by a lab.

use std::collections::BTreeSet;
use std::fs;
use std::io::{self, Read};
use std::os::unix::fs::PermissionsExt as _;
use std::path::{Component, Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};

/// Why an image could not be imported, found or used.
#[allow(missing_docs, reason = "each variant's #[error] message documents it")]
#[derive(Debug, thiserror::Error)]
pub enum ImageError {
    #[error(
        "{0:?} is not an image name: use 1–128 lowercase letters, digits, `.`, `_`, `-`, and an \
         optional `:tag` (e.g. `python-tools:1`)"
    )]
    BadName(String),
    #[error("no lab image is called {0:?} on this host (see `skilltrack-server lab-images list`)")]
    Missing(String),
    #[error("the image archive is unusable: {0}")]
    BadArchive(String),
    #[error("the OCI image layout is unusable: {0}")]
    BadLayout(String),
    #[error(
        "the image has no shell: a lab image needs /bin/sh (a busybox or Debian root filesystem \
         has one)"
    )]
    NoShell,
    #[error("building the image failed: {0}")]
    Build(String),
    #[error("{context}: {source}")]
    Io { context: String, source: io::Error },
}

impl ImageError {
    fn io(context: impl Into<String>) -> impl FnOnce(io::Error) -> Self {
        let context = context.into();
        move |source| Self::Io { context, source }
    }
}

/// What the store knows of an image (`image.json`, and the `lab_images` row).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImageInfo {
    /// The name labs use (`labs.docker_image`).
    pub name: String,
    /// `sha256:…` of what was imported (the archive, or the OCI manifest).
    pub digest: String,
    /// Where it came from, in words (`archive tiny.tar`, `oci ./layout`, `debian bookworm: git`).
    pub source: String,
    /// Bytes of its files.
    pub size_bytes: u64,
    /// The login shell a lab's terminal starts (`/bin/bash` when the image has it).
    pub shell: String,
}

/// A checked image name: `name` or `name:tag`.
pub fn check_name(name: &str) -> Result<(), ImageError> {
    let ok_part = |p: &str| {
        !p.is_empty()
            && p.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b".-_".contains(&b))
            && p.as_bytes()[0].is_ascii_alphanumeric()
    };
    let valid = name.len() <= 128
        && match name.split_once(':') {
            Some((base, tag)) => ok_part(base) && ok_part(tag),
            None => ok_part(name),
        };
    if valid {
        Ok(())
    } else {
        Err(ImageError::BadName(name.to_owned()))
    }
}

/// The images of this host.
#[derive(Debug, Clone)]
pub struct ImageStore {
    root: PathBuf,
}

impl ImageStore {
    /// The store in `root` (`<data-dir>/lab-images`).
    pub fn new(root: PathBuf) -> Self {
        Self { root }
    }

    /// Where an image's files and description live: named by a hash of its name, so a tag's
    /// `:` and any other byte never reach a path.
    fn dir(&self, name: &str) -> PathBuf {
        let key = hex(&Sha256::digest(name.as_bytes()))[..24].to_owned();
        self.root.join(key)
    }

    /// The root filesystem of image `name`, if it is here.
    pub fn rootfs(&self, name: &str) -> Result<PathBuf, ImageError> {
        check_name(name)?;
        let rootfs = self.dir(name).join("rootfs");
        if self.dir(name).join("image.json").is_file() && rootfs.is_dir() {
            Ok(rootfs)
        } else {
            Err(ImageError::Missing(name.to_owned()))
        }
    }

    /// The description of image `name`.
    pub fn info(&self, name: &str) -> Result<ImageInfo, ImageError> {
        self.rootfs(name)?;
        let path = self.dir(name).join("image.json");
        let text = fs::read_to_string(&path)
            .map_err(ImageError::io(format!("reading {}", path.display())))?;
        serde_json::from_str(&text)
            .map_err(|e| ImageError::BadArchive(format!("{}: {e}", path.display())))
    }

    /// Every image here, by name.
    pub fn list(&self) -> Vec<ImageInfo> {
        let mut images: Vec<ImageInfo> = fs::read_dir(&self.root)
            .into_iter()
            .flatten()
            .flatten()
            .filter_map(|e| fs::read_to_string(e.path().join("image.json")).ok())
            .filter_map(|text| serde_json::from_str(&text).ok())
            .collect();
        images.sort_by(|a, b| a.name.cmp(&b.name));
        images
    }

    /// Deletes image `name` (labs already running on it keep their mounted copy until they
    /// stop).
    pub fn remove(&self, name: &str) -> Result<(), ImageError> {
        self.rootfs(name)?;
        fs::remove_dir_all(self.dir(name)).map_err(ImageError::io(format!("deleting image {name}")))
    }

    /// Imports a root filesystem archive (tar, or tar.gz) as image `name`, replacing an image of
    /// that name. Its files become `owner`'s (the lab user; `None`: left as they are, for a
    /// server that is not root).
    pub fn import_archive(
        &self,
        name: &str,
        archive: &Path,
        owner: Option<(u32, u32)>,
    ) -> Result<ImageInfo, ImageError> {
        check_name(name)?;
        let digest = file_digest(archive)?;
        let source = format!(
            "archive {}",
            archive
                .file_name()
                .map_or_else(String::new, |f| f.to_string_lossy().into_owned())
        );
        self.install(name, digest, source, owner, |rootfs| {
            apply_layer(rootfs, open_maybe_gzip(archive)?, false)
        })
    }

    /// Imports an OCI image layout (a directory with `oci-layout`, `index.json` and `blobs/`) as
    /// image `name`: the linux/amd64 manifest (or the only one), its layers applied in order,
    /// whiteouts honoured.
    pub fn import_oci(
        &self,
        name: &str,
        layout: &Path,
        owner: Option<(u32, u32)>,
    ) -> Result<ImageInfo, ImageError> {
        check_name(name)?;
        let manifest_digest = oci_manifest(layout)?;
        let manifest: serde_json::Value = read_json(&blob_path(layout, &manifest_digest)?)?;
        let layers: Vec<(String, String)> = manifest["layers"]
            .as_array()
            .ok_or_else(|| ImageError::BadLayout("the manifest lists no layers".into()))?
            .iter()
            .map(|l| {
                (
                    l["digest"].as_str().unwrap_or_default().to_owned(),
                    l["mediaType"].as_str().unwrap_or_default().to_owned(),
                )
            })
            .collect();
        let source = format!("oci {}", layout.display());
        self.install(name, manifest_digest, source, owner, |rootfs| {
            for (digest, media_type) in &layers {
                let path = blob_path(layout, digest)?;
                if media_type.ends_with("+zstd") {
                    return Err(ImageError::BadLayout(format!(
                        "layer {digest} is zstd-compressed; re-export the image with gzip layers"
                    )));
                }
                apply_layer(rootfs, open_maybe_gzip(&path)?, true)?;
            }
            Ok(())
        })
    }

    /// Builds image `name` from Debian packages with `mmdebstrap` (the `essential` set plus
    /// `packages`, from `suite`), then imports it.
    pub fn build_debian(
        &self,
        name: &str,
        suite: &str,
        packages: &[String],
        owner: Option<(u32, u32)>,
    ) -> Result<ImageInfo, ImageError> {
        check_name(name)?;
        let work = tempfile::Builder::new()
            .prefix("skilltrack-image-")
            .tempdir()
            .map_err(ImageError::io("making a build directory"))?;
        let tarball = work.path().join("rootfs.tar");
        let mut command = std::process::Command::new("mmdebstrap");
        command.args(["--variant=essential", "--quiet"]);
        if !packages.is_empty() {
            command.arg(format!("--include={}", packages.join(",")));
        }
        let output = command.arg(suite).arg(&tarball).output().map_err(|e| {
            ImageError::Build(format!(
                "running mmdebstrap (Debian package `mmdebstrap`): {e}"
            ))
        })?;
        if !output.status.success() {
            return Err(ImageError::Build(
                String::from_utf8_lossy(&output.stderr)
                    .chars()
                    .take(2000)
                    .collect(),
            ));
        }
        let mut info = self.import_archive(name, &tarball, owner)?;
        info.source = format!("debian {suite}: {}", packages.join(", "));
        write_info(&self.dir(name), &info)?;
        Ok(info)
    }

    /// Unpacks into a fresh directory beside the store, then swaps it in: a failed import
    /// leaves the previous image (or none) as it was.
    fn install(
        &self,
        name: &str,
        digest: String,
        source: String,
        owner: Option<(u32, u32)>,
        unpack: impl FnOnce(&Path) -> Result<(), ImageError>,
    ) -> Result<ImageInfo, ImageError> {
        fs::create_dir_all(&self.root).map_err(ImageError::io("making the image store"))?;
        fs::set_permissions(&self.root, fs::Permissions::from_mode(0o711))
            .map_err(ImageError::io("setting the image store's permissions"))?;
        let staging = tempfile::Builder::new()
            .prefix(".import-")
            .tempdir_in(&self.root)
            .map_err(ImageError::io("making a staging directory"))?;
        let rootfs = staging.path().join("rootfs");
        fs::create_dir(&rootfs).map_err(ImageError::io("making the root filesystem"))?;
        unpack(&rootfs)?;
        let shell = ["/bin/bash", "/bin/sh"]
            .into_iter()
            .find(|s| rootfs.join(&s[1..]).symlink_metadata().is_ok())
            .ok_or(ImageError::NoShell)?
            .to_owned();
        // The sandbox mounts its own /proc, /dev, /tmp and workspace on these.
        for dir in ["proc", "dev", "tmp", "home/lab", "etc"] {
            fs::create_dir_all(rootfs.join(dir))
                .map_err(ImageError::io(format!("making /{dir}")))?;
        }
        let size_bytes = settle_ownership(&rootfs, owner)?;
        // Passes through to the image, never lists the store.
        fs::set_permissions(staging.path(), fs::Permissions::from_mode(0o711))
            .map_err(ImageError::io("setting the image's permissions"))?;
        let info = ImageInfo {
            name: name.to_owned(),
            digest,
            source,
            size_bytes,
            shell,
        };
        write_info(staging.path(), &info)?;
        let dir = self.dir(name);
        let old = self
            .root
            .join(format!(".old-{}", uuid::Uuid::now_v7().simple()));
        if dir.exists() {
            fs::rename(&dir, &old).map_err(ImageError::io("setting the previous image aside"))?;
        }
        let staged = staging.keep();
        fs::rename(&staged, &dir).map_err(ImageError::io("moving the image into place"))?;
        if old.exists() {
            let _ = fs::remove_dir_all(&old);
        }
        Ok(info)
    }
}

fn write_info(dir: &Path, info: &ImageInfo) -> Result<(), ImageError> {
    let text = serde_json::to_string_pretty(info).unwrap_or_default();
    fs::write(dir.join("image.json"), text).map_err(ImageError::io("writing image.json"))
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    bytes.iter().fold(String::new(), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

fn file_digest(path: &Path) -> Result<String, ImageError> {
    let mut file =
        fs::File::open(path).map_err(ImageError::io(format!("opening {}", path.display())))?;
    let mut hasher = Sha256::new();
    io::copy(&mut file, &mut hasher)
        .map_err(ImageError::io(format!("reading {}", path.display())))?;
    Ok(format!("sha256:{}", hex(&hasher.finalize())))
}

/// A reader of `path`, gunzipped when it starts like gzip.
fn open_maybe_gzip(path: &Path) -> Result<Box<dyn Read>, ImageError> {
    let mut file =
        fs::File::open(path).map_err(ImageError::io(format!("opening {}", path.display())))?;
    let mut magic = [0u8; 2];
    let gzip = file.read_exact(&mut magic).is_ok() && magic == [0x1f, 0x8b];
    let file =
        fs::File::open(path).map_err(ImageError::io(format!("opening {}", path.display())))?;
    Ok(if gzip {
        Box::new(flate2::read::GzDecoder::new(file))
    } else {
        Box::new(file)
    })
}

/// The path inside the image an archive entry names, or `None` when it would leave the image
/// (`..`, an absolute path is taken as relative to the image's root).
fn inside(path: &Path) -> Option<PathBuf> {
    let mut out = PathBuf::new();
    for part in path.components() {
        match part {
            Component::Normal(p) => out.push(p),
            Component::CurDir | Component::RootDir => {}
            Component::ParentDir | Component::Prefix(_) => return None,
        }
    }
    Some(out)
}

/// Applies one tar layer to `rootfs`. With `whiteouts` (OCI layers), `.wh.NAME` deletes `NAME`
/// of the layers below and `.wh..wh..opq` empties its directory first. Device nodes and FIFOs
/// are skipped (the sandbox brings its own `/dev`); links may point anywhere inside the image,
/// which is only ever seen from inside a sandbox.
fn apply_layer(rootfs: &Path, reader: Box<dyn Read>, whiteouts: bool) -> Result<(), ImageError> {
    let mut archive = tar::Archive::new(reader);
    archive.set_preserve_permissions(true);
    archive.set_unpack_xattrs(false);
    archive.set_overwrite(true);
    let entries = archive
        .entries()
        .map_err(|e| ImageError::BadArchive(e.to_string()))?;
    // Opaque directories are emptied before any of the layer's own entries land in them.
    let mut opaque: BTreeSet<PathBuf> = BTreeSet::new();
    for entry in entries {
        let mut entry = entry.map_err(|e| ImageError::BadArchive(e.to_string()))?;
        let raw = entry
            .path()
            .map_err(|e| ImageError::BadArchive(e.to_string()))?
            .into_owned();
        let Some(path) = inside(&raw) else {
            return Err(ImageError::BadArchive(format!(
                "{} points outside the image",
                raw.display()
            )));
        };
        if path.as_os_str().is_empty() {
            continue;
        }
        let file_name = path
            .file_name()
            .map(|f| f.to_string_lossy().into_owned())
            .unwrap_or_default();
        if whiteouts {
            let parent = path.parent().map(Path::to_path_buf).unwrap_or_default();
            if file_name == ".wh..wh..opq" {
                if opaque.insert(parent.clone()) {
                    let dir = rootfs.join(&parent);
                    for child in fs::read_dir(&dir).into_iter().flatten().flatten() {
                        remove_any(&child.path())?;
                    }
                }
                continue;
            }
            if let Some(hidden) = file_name.strip_prefix(".wh.") {
                remove_any(&rootfs.join(&parent).join(hidden))?;
                continue;
            }
        }
        let kind = entry.header().entry_type();
        if kind.is_block_special() || kind.is_character_special() || kind.is_fifo() {
            continue;
        }
        let target = rootfs.join(&path);
        // A file replacing a directory of a lower layer (or the reverse) replaces it whole.
        if let Ok(meta) = target.symlink_metadata() {
            if meta.is_dir() != kind.is_dir() {
                remove_any(&target)?;
            }
        }
        entry
            .unpack_in(rootfs)
            .map_err(|e| ImageError::BadArchive(format!("{}: {e}", path.display())))?;
    }
    Ok(())
}

fn remove_any(path: &Path) -> Result<(), ImageError> {
    match path.symlink_metadata() {
        Err(_) => Ok(()),
        Ok(meta) if meta.is_dir() => {
            fs::remove_dir_all(path).map_err(ImageError::io(format!("removing {}", path.display())))
        }
        Ok(_) => {
            fs::remove_file(path).map_err(ImageError::io(format!("removing {}", path.display())))
        }
    }
}

/// Gives every file to `owner` (never following links), drops set-user-id and set-group-id
/// bits, and returns the bytes of the files.
fn settle_ownership(rootfs: &Path, owner: Option<(u32, u32)>) -> Result<u64, ImageError> {
    let mut size = 0;
    let mut stack = vec![rootfs.to_path_buf()];
    while let Some(path) = stack.pop() {
        let meta = path
            .symlink_metadata()
            .map_err(ImageError::io(format!("reading {}", path.display())))?;
        if let Some((uid, gid)) = owner {
            std::os::unix::fs::lchown(&path, Some(uid), Some(gid)).map_err(ImageError::io(
                format!("giving {} to the lab user", path.display()),
            ))?;
        }
        if meta.is_symlink() {
            continue;
        }
        let mode = meta.permissions().mode();
        if mode & 0o6000 != 0 {
            fs::set_permissions(&path, fs::Permissions::from_mode(mode & !0o6000)).map_err(
                ImageError::io(format!("clearing set-id bits of {}", path.display())),
            )?;
        }
        if meta.is_dir() {
            for child in fs::read_dir(&path)
                .map_err(ImageError::io(format!("listing {}", path.display())))?
            {
                stack.push(child.map_err(ImageError::io("listing"))?.path());
            }
        } else {
            size += meta.len();
        }
    }
    Ok(size)
}

fn read_json(path: &Path) -> Result<serde_json::Value, ImageError> {
    let text = fs::read_to_string(path)
        .map_err(|e| ImageError::BadLayout(format!("{}: {e}", path.display())))?;
    serde_json::from_str(&text)
        .map_err(|e| ImageError::BadLayout(format!("{}: {e}", path.display())))
}

/// `blobs/sha256/<hex>` of a digest, checked to be a digest (no path tricks).
fn blob_path(layout: &Path, digest: &str) -> Result<PathBuf, ImageError> {
    let hex = digest
        .strip_prefix("sha256:")
        .filter(|h| h.len() == 64 && h.bytes().all(|b| b.is_ascii_hexdigit()))
        .ok_or_else(|| ImageError::BadLayout(format!("{digest:?} is not a sha256 digest")))?;
    Ok(layout.join("blobs").join("sha256").join(hex))
}

/// The digest of the image manifest to import: linux/amd64 if the index says which, else the
/// only one (following one level of nested index, as `docker buildx` writes).
fn oci_manifest(layout: &Path) -> Result<String, ImageError> {
    if !layout.join("oci-layout").is_file() {
        return Err(ImageError::BadLayout(format!(
            "{} has no oci-layout file: not an OCI image layout",
            layout.display()
        )));
    }
    let mut index = read_json(&layout.join("index.json"))?;
    for _ in 0..2 {
        let manifests = index["manifests"]
            .as_array()
            .cloned()
            .ok_or_else(|| ImageError::BadLayout("index.json lists no manifests".into()))?;
        let chosen = manifests
            .iter()
            .find(|m| m["platform"]["os"] == "linux" && m["platform"]["architecture"] == "amd64")
            .or_else(|| (manifests.len() == 1).then(|| &manifests[0]))
            .ok_or_else(|| {
                ImageError::BadLayout(
                    "several manifests and none for linux/amd64: export one image".into(),
                )
            })?;
        let digest = chosen["digest"].as_str().unwrap_or_default().to_owned();
        if chosen["mediaType"].as_str().is_some_and(|t| {
            t.ends_with("image.index.v1+json") || t.ends_with("manifest.list.v2+json")
        }) {
            index = read_json(&blob_path(layout, &digest)?)?;
            continue;
        }
        return Ok(digest);
    }
    Err(ImageError::BadLayout(
        "image indexes nested too deep".into(),
    ))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, reason = "tests fail loudly on purpose")]
mod tests {
    use super::*;

    fn tar_of(files: &[(&str, &[u8])]) -> Vec<u8> {
        let mut builder = tar::Builder::new(Vec::new());
        for (path, bytes) in files {
            let mut header = tar::Header::new_gnu();
            header.set_size(bytes.len() as u64);
            header.set_mode(0o755);
            header.set_cksum();
            builder.append_data(&mut header, path, *bytes).unwrap();
        }
        builder.into_inner().unwrap()
    }

    fn sha(bytes: &[u8]) -> String {
        format!("sha256:{}", hex(&Sha256::digest(bytes)))
    }

    fn blob(layout: &Path, bytes: &[u8]) -> String {
        let digest = sha(bytes);
        let path = blob_path(layout, &digest).unwrap();
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, bytes).unwrap();
        digest
    }

    #[test]
    fn names_are_checked() {
        for good in ["tiny", "python-tools:1", "debian.12_slim:bookworm"] {
            check_name(good).unwrap();
        }
        for bad in [
            "",
            "UPPER",
            "../x",
            "a/b",
            ":tag",
            "a:",
            "-x",
            &"a".repeat(129),
        ] {
            assert!(check_name(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn an_oci_layout_imports_its_layers_in_order_with_whiteouts() {
        let dir = tempfile::tempdir().unwrap();
        let layout = dir.path().join("layout");
        fs::create_dir_all(&layout).unwrap();
        fs::write(
            layout.join("oci-layout"),
            r#"{"imageLayoutVersion":"1.0.0"}"#,
        )
        .unwrap();
        let base = tar_of(&[
            ("bin/sh", b"#!shell"),
            ("etc/old.conf", b"old"),
            ("var/cache/a", b"a"),
            ("var/cache/b", b"b"),
        ]);
        let top = tar_of(&[
            ("etc/.wh.old.conf", b""),
            ("etc/new.conf", b"new"),
            ("var/cache/.wh..wh..opq", b""),
            ("var/cache/c", b"c"),
        ]);
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        io::Write::write_all(&mut gz, &top).unwrap();
        let top = gz.finish().unwrap();
        let layers = [blob(&layout, &base), blob(&layout, &top)];
        let manifest = serde_json::json!({
            "schemaVersion": 2,
            "layers": [
                {"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": layers[0]},
                {"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": layers[1]},
            ]
        })
        .to_string();
        let manifest = blob(&layout, manifest.as_bytes());
        fs::write(
            layout.join("index.json"),
            serde_json::json!({"schemaVersion": 2, "manifests": [
                {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": manifest,
                 "platform": {"os": "linux", "architecture": "amd64"}}
            ]})
            .to_string(),
        )
        .unwrap();
        let store = ImageStore::new(dir.path().join("store"));
        let info = store.import_oci("layered:1", &layout, None).unwrap();
        assert_eq!(info.digest, manifest);
        assert_eq!(info.shell, "/bin/sh");
        let rootfs = store.rootfs("layered:1").unwrap();
        assert!(!rootfs.join("etc/old.conf").exists(), "whited out");
        assert_eq!(fs::read(rootfs.join("etc/new.conf")).unwrap(), b"new");
        let cache: Vec<String> = fs::read_dir(rootfs.join("var/cache"))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(
            cache,
            ["c"],
            "the opaque directory keeps only the top layer's files"
        );
        assert_eq!(store.list().len(), 1);
        store.remove("layered:1").unwrap();
        assert!(matches!(
            store.rootfs("layered:1"),
            Err(ImageError::Missing(_))
        ));
    }

    #[test]
    fn an_archive_that_climbs_out_or_has_no_shell_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let store = ImageStore::new(dir.path().join("store"));
        // `tar::Builder` refuses such a name, so the header is written by hand.
        let mut builder = tar::Builder::new(Vec::new());
        let mut header = tar::Header::new_old();
        let name = b"../escaped";
        header.as_old_mut().name[..name.len()].copy_from_slice(name);
        header.set_size(1);
        header.set_mode(0o644);
        header.set_cksum();
        builder.append(&header, &b"x"[..]).unwrap();
        let climbing = dir.path().join("climbing.tar");
        fs::write(&climbing, builder.into_inner().unwrap()).unwrap();
        let refused = store.import_archive("x", &climbing, None);
        assert!(
            matches!(refused, Err(ImageError::BadArchive(_))),
            "{refused:?}"
        );
        assert!(!dir.path().join("escaped").exists() && !dir.path().join("store/escaped").exists());
        let no_shell = dir.path().join("no-shell.tar");
        fs::write(&no_shell, tar_of(&[("etc/hostname", b"x")])).unwrap();
        assert!(matches!(
            store.import_archive("x", &no_shell, None),
            Err(ImageError::NoShell)
        ));
        assert!(
            store.list().is_empty(),
            "a failed import leaves nothing behind"
        );
    }
}
