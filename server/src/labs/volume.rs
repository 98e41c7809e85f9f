//! Workspace volumes: each workspace its own small filesystem, so its storage quota is a hard
//! limit the kernel keeps (`ENOSPC`), not a number checked now and then.
//!
//! `RLIMIT_FSIZE` caps the largest *file* a sandbox writes; a learner could still fill the
//! host's disk with many files under that size. So, where the host allows it (the server runs
//! as root, loop devices exist, `mkfs.ext4`, `mount` and `umount` are installed), a workspace
//! `<root>/<user>/<lab>` is an ext4 image `<root>/<user>/<lab>.img`, sparse (it takes only what
//! is written), loop-mounted on the workspace directory (`nosuid`, `nodev`) while something
//! uses it and unmounted when its environment stops. The image sits beside the workspace, not
//! in it: the sandbox sees only the mounted filesystem, and `<user>` is not listable by the lab
//! user. Elsewhere (a non-root server, a container without loop devices) workspaces are plain
//! directories and the quota is `RLIMIT_FSIZE` plus the files API's check, as the server's log
//! says at start.

use std::path::{Path, PathBuf};
use std::process::Command;

use super::driver::DriverError;

/// Room for the filesystem's own needs (journal, inode tables) on top of the quota; what is
/// left over beyond the quota is then reserved for root (see [`reserve_beyond_quota`]).
fn image_bytes(quota_bytes: u64) -> u64 {
    quota_bytes + quota_bytes / 32 + (16 << 20)
}

/// Whether workspaces are volumes on this host, and the programs that make them.
#[derive(Debug, Clone)]
pub struct WorkspaceVolumes {
    tools: Result<Tools, String>,
}

#[derive(Debug, Clone)]
struct Tools {
    mkfs: PathBuf,
    tune2fs: PathBuf,
    mount: PathBuf,
    umount: PathBuf,
}

fn find(name: &str) -> Option<PathBuf> {
    ["/usr/sbin", "/sbin", "/usr/bin", "/bin"]
        .iter()
        .map(|dir| Path::new(dir).join(name))
        .find(|p| p.exists())
}

impl WorkspaceVolumes {
    /// Looks at what the host allows (see the module docs).
    pub fn detect() -> Self {
        let tools = if !nix::unistd::geteuid().is_root() {
            Err("the server is not root (mounting needs it)".to_owned())
        } else if !Path::new("/dev/loop-control").exists() {
            Err("the host has no loop devices".to_owned())
        } else {
            match (
                find("mkfs.ext4"),
                find("tune2fs"),
                find("mount"),
                find("umount"),
            ) {
                (Some(mkfs), Some(tune2fs), Some(mount), Some(umount)) => Ok(Tools {
                    mkfs,
                    tune2fs,
                    mount,
                    umount,
                }),
                _ => Err(
                    "mkfs.ext4, tune2fs, mount or umount is missing (e2fsprogs, mount)".to_owned(),
                ),
            }
        };
        Self { tools }
    }

    /// Never volumes (plain directories).
    pub fn disabled(why: &str) -> Self {
        Self {
            tools: Err(why.to_owned()),
        }
    }

    /// `Ok(())` when workspaces are volumes, else why not.
    pub fn availability(&self) -> Result<(), &str> {
        self.tools.as_ref().map(|_| ()).map_err(String::as_str)
    }

    /// Makes `workspace` its volume, mounted, owned by `owner`: creates the image the first
    /// time (moving in what a plain-directory workspace already held), mounts it when it is not.
    ///
    /// # Errors
    /// When the image cannot be made or mounted.
    pub fn ensure(
        &self,
        workspace: &Path,
        quota_bytes: u64,
        owner: Option<(u32, u32)>,
    ) -> Result<(), DriverError> {
        let Ok(tools) = &self.tools else {
            return Ok(());
        };
        if is_mount_point(workspace) {
            return Ok(());
        }
        std::fs::create_dir_all(workspace)
            .map_err(|e| DriverError::io("making the workspace", e))?;
        let image = image_path(workspace);
        let new = !image.exists();
        if new {
            make_image(tools, &image, quota_bytes, owner)?;
            if has_entries(workspace) {
                move_into(tools, &image, workspace)?;
            }
        }
        run(
            Command::new(&tools.mount)
                .args(["-o", "loop,nosuid,nodev,noatime"])
                .arg(&image)
                .arg(workspace),
            "mounting the workspace volume",
        )?;
        if new {
            // Nothing of the filesystem's own in the learner's home.
            let _ = std::fs::remove_dir(workspace.join("lost+found"));
        }
        Ok(())
    }

    /// Unmounts `workspace` if it is a mounted volume (lazily if something still holds it).
    pub fn release(&self, workspace: &Path) {
        let Ok(tools) = &self.tools else { return };
        if !is_mount_point(workspace) {
            return;
        }
        let plain = Command::new(&tools.umount).arg(workspace).output();
        if !plain.is_ok_and(|o| o.status.success()) {
            let _ = Command::new(&tools.umount)
                .arg("-l")
                .arg(workspace)
                .output();
        }
    }

    /// Unmounts and deletes `workspace`'s image.
    ///
    /// # Errors
    /// When the image cannot be deleted.
    pub fn destroy(&self, workspace: &Path) -> Result<(), DriverError> {
        self.release(workspace);
        let image = image_path(workspace);
        if image.exists() {
            std::fs::remove_file(&image)
                .map_err(|e| DriverError::io("deleting the workspace volume", e))?;
        }
        Ok(())
    }
}

fn image_path(workspace: &Path) -> PathBuf {
    workspace.with_extension("img")
}

fn has_entries(dir: &Path) -> bool {
    std::fs::read_dir(dir).is_ok_and(|mut d| d.next().is_some())
}

fn run(command: &mut Command, what: &str) -> Result<(), DriverError> {
    let output = command.output().map_err(|e| DriverError::io(what, e))?;
    if output.status.success() {
        Ok(())
    } else {
        Err(DriverError::Io {
            context: what.to_owned(),
            message: String::from_utf8_lossy(&output.stderr)
                .chars()
                .take(300)
                .collect(),
        })
    }
}

/// A sparse file formatted as ext4, its root directory the lab user's and private.
fn make_image(
    tools: &Tools,
    image: &Path,
    quota_bytes: u64,
    owner: Option<(u32, u32)>,
) -> Result<(), DriverError> {
    use std::os::unix::fs::OpenOptionsExt as _;
    let partial = image.with_extension("img.partial");
    let file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&partial)
        .map_err(|e| DriverError::io("making the workspace volume", e))?;
    file.set_len(image_bytes(quota_bytes))
        .map_err(|e| DriverError::io("sizing the workspace volume", e))?;
    drop(file);
    let (uid, gid) = owner.unwrap_or((0, 0));
    // No reserved blocks (the learner gets all of it), a 4 MiB journal, fewer inodes than the
    // default (a workspace holds source files, not millions of tiny ones).
    run(
        Command::new(&tools.mkfs)
            .args(["-q", "-F", "-m", "0", "-J", "size=4", "-i", "16384", "-E"])
            .arg(format!(
                "root_owner={uid}:{gid},lazy_itable_init=1,lazy_journal_init=1"
            ))
            .arg(&partial),
        "formatting the workspace volume",
    )?;
    reserve_beyond_quota(tools, &partial, quota_bytes)?;
    // Only a fully made image gets the real name: a crash leaves a `.partial` to redo.
    std::fs::rename(&partial, image).map_err(|e| DriverError::io("keeping the workspace volume", e))
}

/// Reserves for root every free block beyond the quota, so the lab user (never root) can
/// write exactly the quota, whatever the filesystem's own overhead turned out to be. Done on the
/// unmounted image: the kernel reads the reserve when it mounts.
fn reserve_beyond_quota(tools: &Tools, image: &Path, quota_bytes: u64) -> Result<(), DriverError> {
    let listing = Command::new(&tools.tune2fs)
        .arg("-l")
        .arg(image)
        .output()
        .map_err(|e| DriverError::io("measuring the workspace volume", e))?;
    let listing = String::from_utf8_lossy(&listing.stdout);
    let field = |name: &str| -> Option<u64> {
        listing
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|rest| rest.trim_start_matches(':').trim().parse().ok())
    };
    let (Some(free_blocks), Some(block)) = (field("Free blocks"), field("Block size")) else {
        return Err(DriverError::Io {
            context: "measuring the workspace volume".into(),
            message: "tune2fs -l did not say its free blocks and block size".into(),
        });
    };
    let reserved = free_blocks.saturating_sub(quota_bytes.div_ceil(block.max(1)));
    run(
        Command::new(&tools.tune2fs)
            .arg("-r")
            .arg(reserved.to_string())
            .arg(image),
        "fitting the workspace volume to its quota",
    )
}

/// Moves a plain-directory workspace's files into its new volume (a workspace made before
/// volumes, or on a host without them, keeps its files).
fn move_into(tools: &Tools, image: &Path, workspace: &Path) -> Result<(), DriverError> {
    let staging = image.with_extension("img.mnt");
    std::fs::create_dir_all(&staging)
        .map_err(|e| DriverError::io("preparing to move the workspace", e))?;
    run(
        Command::new(&tools.mount)
            .args(["-o", "loop,nosuid,nodev"])
            .arg(image)
            .arg(&staging),
        "mounting the new workspace volume",
    )?;
    let copied = run(
        Command::new("cp")
            .arg("-a")
            .arg(workspace.join("."))
            .arg(&staging),
        "moving the workspace into its volume",
    );
    let _ = Command::new(&tools.umount).arg(&staging).output();
    let _ = std::fs::remove_dir(&staging);
    if let Err(e) = copied {
        let _ = std::fs::remove_file(image);
        return Err(e);
    }
    for entry in std::fs::read_dir(workspace)
        .map_err(|e| DriverError::io("moving the workspace", e))?
        .flatten()
    {
        let path = entry.path();
        let removed = if path.symlink_metadata().is_ok_and(|m| m.is_dir()) {
            std::fs::remove_dir_all(&path)
        } else {
            std::fs::remove_file(&path)
        };
        removed.map_err(|e| DriverError::io("moving the workspace", e))?;
    }
    Ok(())
}

/// Whether `path` is a mount point (`/proc/self/mountinfo`'s fifth field, octal escapes
/// undone).
pub fn is_mount_point(path: &Path) -> bool {
    let Ok(path) = path.canonicalize() else {
        return false;
    };
    mount_points().contains(&path)
}

/// Every mount point of this process's mount namespace.
pub fn mount_points() -> Vec<PathBuf> {
    std::fs::read_to_string("/proc/self/mountinfo")
        .unwrap_or_default()
        .lines()
        .filter_map(|line| line.split(' ').nth(4))
        .map(|field| PathBuf::from(unescape(field)))
        .collect()
}

/// `\040` (space), `\011`, `\012`, `\134` as the kernel writes them in mountinfo.
fn unescape(field: &str) -> String {
    let bytes = field.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let octal = bytes
            .get(i + 1..i + 4)
            .filter(|d| d.iter().all(|b| (b'0'..=b'7').contains(b)));
        if let (b'\\', Some(digits)) = (bytes[i], octal) {
            let code = digits.iter().fold(0u32, |n, d| n * 8 + u32::from(d - b'0'));
            if let Ok(code) = u8::try_from(code) {
                out.push(code);
                i += 4;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mountinfo_escapes_are_undone() {
        assert_eq!(unescape(r"/data/my\040labs"), "/data/my labs");
        assert_eq!(unescape(r"/a\134b"), r"/a\b");
        assert_eq!(unescape("/plain"), "/plain");
        assert_eq!(unescape(r"/trailing\04"), r"/trailing\04");
    }

    #[test]
    fn the_root_is_a_mount_point_and_a_plain_directory_is_not() {
        assert!(is_mount_point(Path::new("/")));
        let dir = tempfile::tempdir().expect("tempdir");
        assert!(!is_mount_point(dir.path()));
    }

    #[test]
    fn the_image_leaves_the_whole_quota_for_files() {
        let quota = 64 << 20;
        assert!(image_bytes(quota) > quota + (4 << 20));
    }
}
