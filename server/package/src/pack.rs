//! A course package as one file: a `.tar.gz` of the files the package is made of, built the
//! same way every time, so that packing the same folder twice gives the same bytes (and a
//! digest of the archive names the package's content).
//!
//! [`pack`] validates the folder first and refuses a package with problems. The archive holds
//! `course.json`, the module folders, `assessments/`, `labs/` and `media/`, and nothing whose
//! name starts with `.`; its entries are sorted by path, with mtime 0, uid and gid 0, no owner
//! names, mode 0644 for files and 0755 for folders and `*.sh` scripts. [`unpack`] takes only
//! files and folders with relative paths that stay inside the target folder.

use std::io::{self, Read, Write};
use std::path::{Component, Path, PathBuf};

use crate::course::{COURSE_FILE, Problems, holds_nothing, read_dir as read_package};

/// What [`pack`] wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PackSummary {
    /// The course's slug.
    pub course: String,
    /// Files in the archive (folders not counted).
    pub files: usize,
    /// The archive's size in bytes.
    pub bytes: u64,
}

/// Why a package was not packed or unpacked.
#[derive(Debug, thiserror::Error)]
pub enum PackError {
    /// The package has problems (see `skilltrack course validate`).
    #[error("{0}")]
    Invalid(Problems),
    /// A symbolic link in the package: an archive holds files, not links to them.
    #[error("{0} is a symbolic link: put the file itself in the package")]
    Symlink(String),
    /// An entry of an archive that unpacking refuses (an absolute path, `..`, a link, a device).
    #[error("{entry}: {reason}")]
    Refused {
        /// The entry's path, as the archive has it.
        entry: String,
        /// Why.
        reason: String,
    },
    /// The folder to unpack into has files in it.
    #[error("{0} is not empty: unpack a package into a new or empty folder")]
    NotEmpty(String),
    /// Reading or writing failed.
    #[error("{path}: {source}")]
    Io {
        /// The file or folder.
        path: String,
        /// Why.
        source: io::Error,
    },
}

fn io_at(path: &Path) -> impl FnOnce(io::Error) -> PackError {
    let path = path.display().to_string();
    move |source| PackError::Io { path, source }
}

/// One entry of the archive: its path (`/`-separated) and whether it is a folder.
struct Entry {
    parts: Vec<String>,
    is_dir: bool,
}

impl Entry {
    fn path(&self) -> String {
        self.parts.join("/")
    }
}

/// Adds `rel` (a folder of the package) and everything in it but dot-names to `out`.
fn walk(root: &Path, parts: &[String], out: &mut Vec<Entry>) -> Result<(), PackError> {
    let dir: PathBuf = parts.iter().fold(root.to_path_buf(), |p, s| p.join(s));
    out.push(Entry {
        parts: parts.to_vec(),
        is_dir: true,
    });
    for entry in std::fs::read_dir(&dir).map_err(io_at(&dir))? {
        let entry = entry.map_err(io_at(&dir))?;
        let Ok(name) = entry.file_name().into_string() else {
            return Err(PackError::Refused {
                entry: entry.path().display().to_string(),
                reason: "the name is not UTF-8: rename it".to_owned(),
            });
        };
        let kind = entry.file_type().map_err(io_at(&entry.path()))?;
        if name.starts_with('.') || (kind.is_dir() && holds_nothing(&entry.path())) {
            continue;
        }
        let mut child = parts.to_vec();
        child.push(name);
        if kind.is_symlink() {
            return Err(PackError::Symlink(child.join("/")));
        } else if kind.is_dir() {
            walk(root, &child, out)?;
        } else if kind.is_file() {
            out.push(Entry {
                parts: child,
                is_dir: false,
            });
        }
    }
    Ok(())
}

/// The entries of the package in `dir`, sorted: `course.json` and the folders at its root
/// (module folders, `assessments/`, `labs/`, `media/`), without dot-names.
fn package_entries(dir: &Path) -> Result<Vec<Entry>, PackError> {
    let mut out = vec![Entry {
        parts: vec![COURSE_FILE.to_owned()],
        is_dir: false,
    }];
    for entry in std::fs::read_dir(dir).map_err(io_at(dir))? {
        let entry = entry.map_err(io_at(dir))?;
        let Ok(name) = entry.file_name().into_string() else {
            continue;
        };
        let kind = entry.file_type().map_err(io_at(&entry.path()))?;
        if name.starts_with('.')
            || !(kind.is_dir() || kind.is_symlink())
            || (kind.is_dir() && holds_nothing(&entry.path()))
        {
            continue;
        }
        if kind.is_symlink() {
            return Err(PackError::Symlink(name));
        }
        // A package that validates has no other folders at its root than its modules,
        // `assessments/`, `labs/` and `media/`.
        walk(dir, &[name], &mut out)?;
    }
    out.sort_by(|a, b| a.parts.cmp(&b.parts));
    Ok(out)
}

/// Whether a file of the package is a script (executable in the archive).
pub(crate) fn is_script(path: &str) -> bool {
    Path::new(path).extension().is_some_and(|e| e == "sh")
}

/// Packs the package in `dir` into the archive `out` (a `.tar.gz`), after validating it.
pub fn pack(dir: &Path, out: &Path) -> Result<PackSummary, PackError> {
    let package = read_package(dir).map_err(PackError::Invalid)?;
    let entries = package_entries(dir)?;
    let gz = flate2::GzBuilder::new()
        .mtime(0)
        .write(Vec::new(), flate2::Compression::default());
    let mut tar = tar::Builder::new(gz);
    let mut files = 0;
    for entry in &entries {
        let path = entry.path();
        let mut header = tar::Header::new_gnu();
        header.set_uid(0);
        header.set_gid(0);
        header.set_mtime(0);
        let file: PathBuf = entry.parts.iter().fold(dir.to_path_buf(), |p, s| p.join(s));
        let data = if entry.is_dir {
            header.set_entry_type(tar::EntryType::Directory);
            header.set_mode(0o755);
            Vec::new()
        } else {
            files += 1;
            header.set_entry_type(tar::EntryType::Regular);
            header.set_mode(if is_script(&path) { 0o755 } else { 0o644 });
            std::fs::read(&file).map_err(io_at(&file))?
        };
        header.set_size(data.len() as u64);
        tar.append_data(&mut header, &path, data.as_slice())
            .map_err(io_at(&file))?;
    }
    let bytes = tar
        .into_inner()
        .and_then(flate2::write::GzEncoder::finish)
        .map_err(io_at(out))?;
    let mut file = std::fs::File::create(out).map_err(io_at(out))?;
    file.write_all(&bytes).map_err(io_at(out))?;
    file.flush().map_err(io_at(out))?;
    Ok(PackSummary {
        course: package.course.slug,
        files,
        bytes: bytes.len() as u64,
    })
}

/// An entry's path as the parts of a relative path inside the target (`None` for what is
/// skipped: a pax global header, as `git archive` writes, and the root folder `./`), or why it
/// is refused.
fn safe_parts(entry: &tar::Entry<'_, impl Read>) -> Result<Option<Vec<String>>, PackError> {
    if entry.header().entry_type().is_pax_global_extensions() {
        return Ok(None);
    }
    let raw = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
    let refuse = |reason: &str| PackError::Refused {
        entry: raw.clone(),
        reason: reason.to_owned(),
    };
    let kind = entry.header().entry_type();
    if !(kind.is_file() || kind.is_dir()) {
        return Err(refuse(
            "only files and folders are unpacked (no links or devices)",
        ));
    }
    let path = entry.path().map_err(|_| refuse("the path is not UTF-8"))?;
    let mut parts = Vec::new();
    for component in path.components() {
        match component {
            Component::Normal(part) => {
                parts.push(
                    part.to_str()
                        .ok_or_else(|| refuse("the path is not UTF-8"))?
                        .to_owned(),
                );
            }
            Component::CurDir => {}
            Component::ParentDir => return Err(refuse("the path climbs out with `..`")),
            Component::RootDir | Component::Prefix(_) => {
                return Err(refuse("the path is absolute"));
            }
        }
    }
    if parts.is_empty() {
        return if kind.is_dir() {
            Ok(None)
        } else {
            Err(refuse("the path is empty"))
        };
    }
    Ok(Some(parts))
}

fn open(archive: &Path) -> Result<tar::Archive<flate2::read::GzDecoder<std::fs::File>>, PackError> {
    let file = std::fs::File::open(archive).map_err(io_at(archive))?;
    Ok(tar::Archive::new(flate2::read::GzDecoder::new(file)))
}

/// Unpacks the archive `archive` (as [`pack`] writes it) into `dir`, a new or empty folder,
/// and returns how many files it wrote. Every entry is checked before anything is written: an
/// absolute path, a path with `..`, or an entry that is not a file or a folder (a symbolic or
/// hard link, a device) refuses the whole archive. A file whose mode is executable stays so.
/// Unpacking does not validate the package: read it with [`crate::course::read_dir`].
pub fn unpack(archive: &Path, dir: &Path) -> Result<usize, PackError> {
    let mut checked = open(archive)?;
    for entry in checked.entries().map_err(io_at(archive))? {
        let entry = entry.map_err(io_at(archive))?;
        safe_parts(&entry)?;
    }
    if std::fs::read_dir(dir).is_ok_and(|mut e| e.next().is_some()) {
        return Err(PackError::NotEmpty(dir.display().to_string()));
    }
    std::fs::create_dir_all(dir).map_err(io_at(dir))?;
    let mut files = 0;
    let mut archive_reader = open(archive)?;
    for entry in archive_reader.entries().map_err(io_at(archive))? {
        let mut entry = entry.map_err(io_at(archive))?;
        let Some(parts) = safe_parts(&entry)? else {
            continue;
        };
        let path: PathBuf = parts.iter().fold(dir.to_path_buf(), |p, s| p.join(s));
        if entry.header().entry_type().is_dir() {
            std::fs::create_dir_all(&path).map_err(io_at(&path))?;
            continue;
        }
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(io_at(parent))?;
        }
        let mut file = std::fs::File::create(&path).map_err(io_at(&path))?;
        io::copy(&mut entry, &mut file).map_err(io_at(&path))?;
        #[cfg(unix)]
        if entry.header().mode().is_ok_and(|m| m & 0o111 != 0) {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755))
                .map_err(io_at(&path))?;
        }
        files += 1;
    }
    Ok(files)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, reason = "tests fail loudly on purpose")]
mod tests {
    use super::*;
    use crate::course::read_dir;
    use crate::tree::tests::{full_package, write};

    #[test]
    fn packing_is_reproducible_and_unpacks_to_the_same_package() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("intro-to-shell");
        full_package(&root);
        write(&root, "media/intro.webm", "not really a video");
        write(&root, ".skilltrack/state.json", "{}");
        write(&root, ".git/HEAD", "ref: refs/heads/main\n");
        write(&root, "README.md", "# Notes\n");
        write(&root, "01-getting-started/.draft.md", "not a lesson");
        let one = dir.path().join("one.tar.gz");
        let two = dir.path().join("two.tar.gz");
        let summary = pack(&root, &one).unwrap();
        assert_eq!(summary.course, "intro-to-shell");
        assert_eq!(summary.files, 27);
        assert_eq!(summary.bytes, std::fs::metadata(&one).unwrap().len());
        // Touching a file's time changes nothing in the archive.
        std::fs::write(
            root.join("course.json"),
            std::fs::read(root.join("course.json")).unwrap(),
        )
        .unwrap();
        pack(&root, &two).unwrap();
        assert_eq!(std::fs::read(&one).unwrap(), std::fs::read(&two).unwrap());

        let mut archive = open(&one).unwrap();
        let mut names = Vec::new();
        for entry in archive.entries().unwrap() {
            let entry = entry.unwrap();
            let header = entry.header();
            assert_eq!(header.mtime().unwrap(), 0);
            assert_eq!((header.uid().unwrap(), header.gid().unwrap()), (0, 0));
            let name = entry.path().unwrap().display().to_string();
            let expected = if header.entry_type().is_dir() || is_script(&name) {
                0o755
            } else {
                0o644
            };
            assert_eq!(header.mode().unwrap(), expected, "{name}");
            names.push(name);
        }
        let mut sorted = names.clone();
        sorted.sort_by(|a, b| a.split('/').cmp(b.split('/')));
        assert_eq!(names, sorted);
        assert!(
            names
                .iter()
                .all(|n| !n.contains("/.") && !n.starts_with('.'))
        );
        assert!(!names.contains(&"README.md".to_owned()));
        assert!(names.contains(&"media/intro.webm".to_owned()));

        let out = dir.path().join("unpacked");
        assert_eq!(unpack(&one, &out).unwrap(), 27);
        assert_eq!(read_dir(&out).unwrap(), read_dir(&root).unwrap());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(out.join("labs/first-lab/step1/verify.sh"))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o111, 0o111);
        }
        assert!(matches!(unpack(&one, &out), Err(PackError::NotEmpty(_))));
    }

    #[test]
    fn an_invalid_package_is_not_packed() {
        let dir = tempfile::tempdir().unwrap();
        full_package(dir.path());
        std::fs::remove_file(dir.path().join("assessments/check.json")).unwrap();
        let out = dir.path().join("out.tar.gz");
        let Err(PackError::Invalid(problems)) = pack(dir.path(), &out) else {
            panic!("packed an invalid package")
        };
        assert_eq!(problems.0.len(), 1, "{problems:?}");
        assert!(!out.exists());
    }

    /// An archive of `entries` (names written raw: the tar crate refuses to set some of these
    /// paths itself).
    fn archive_of(path: &Path, entries: &[(&[u8], tar::EntryType, &[u8])]) {
        let gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        let mut tar = tar::Builder::new(gz);
        for (name, kind, data) in entries {
            let mut header = tar::Header::new_gnu();
            header.as_gnu_mut().unwrap().name[..name.len()].copy_from_slice(name);
            header.set_entry_type(*kind);
            header.set_mode(0o644);
            header.set_size(data.len() as u64);
            if *kind == tar::EntryType::Symlink {
                header.set_link_name("/etc/passwd").unwrap();
            }
            header.set_cksum();
            tar.append(&header, *data).unwrap();
        }
        std::fs::write(path, tar.into_inner().unwrap().finish().unwrap()).unwrap();
    }

    fn archive_with(path: &Path, name: &[u8], kind: tar::EntryType) {
        let data: &[u8] = if kind == tar::EntryType::Regular {
            b"evil"
        } else {
            b""
        };
        archive_of(path, &[(name, kind, data)]);
    }

    #[test]
    fn an_archive_made_with_tar_or_git_archive_unpacks() {
        let dir = tempfile::tempdir().unwrap();
        let archive = dir.path().join("made.tar.gz");
        archive_of(
            &archive,
            &[
                (
                    b"pax_global_header",
                    tar::EntryType::XGlobalHeader,
                    b"52 comment=0123\n",
                ),
                (b"./", tar::EntryType::Directory, b""),
                (b"./assessments/", tar::EntryType::Directory, b""),
                (b"./assessments/a.json", tar::EntryType::Regular, b"{}"),
                (b"course.json", tar::EntryType::Regular, b"{}"),
            ],
        );
        let out = dir.path().join("out");
        assert_eq!(unpack(&archive, &out).unwrap(), 2);
        assert_eq!(
            std::fs::read_to_string(out.join("assessments/a.json")).unwrap(),
            "{}"
        );
        assert!(!out.join("pax_global_header").exists());
    }

    #[test]
    fn unpacking_refuses_paths_out_of_the_folder_and_links() {
        let dir = tempfile::tempdir().unwrap();
        let archive = dir.path().join("evil.tar.gz");
        let out = dir.path().join("out");
        for (name, kind, why) in [
            (&b"../x"[..], tar::EntryType::Regular, "`..`"),
            (b"a/../../x", tar::EntryType::Regular, "`..`"),
            (b"/etc/x", tar::EntryType::Regular, "absolute"),
            (b"link", tar::EntryType::Symlink, "links"),
            (b"hard", tar::EntryType::Link, "links"),
        ] {
            archive_with(&archive, name, kind);
            match unpack(&archive, &out) {
                Err(PackError::Refused { reason, .. }) => assert!(reason.contains(why), "{reason}"),
                other => panic!("{}: {other:?}", String::from_utf8_lossy(name)),
            }
            assert!(!out.exists(), "nothing is written");
            assert!(!dir.path().join("x").exists());
        }
    }
}
