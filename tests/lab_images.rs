//! Lab images (issue 16, item 5): a lab on an image sees that image's files and not the host's,
//! is root inside its own user namespace over a copy-on-write layer (never real root, never a
//! write to the image), and a lab naming an image nobody imported is refused, never run on the
//! host's tools. The image is made here from Debian's `busybox-static`.

use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};

use reqwest::{Method, StatusCode};
use serde_json::json;
use skilltrack_server::labs::images::{ImageInfo, ImageStore};
use uuid::Uuid;

use crate::labs_api::LabWorld;

/// What the image's marker file says.
const MARKER: &str = "made for the lab image test";

/// A root filesystem archive of a tiny busybox system (statically linked: it needs nothing of
/// the host's), written into `dir`.
pub(crate) fn busybox_rootfs(dir: &Path) -> PathBuf {
    let busybox = ["/bin/busybox", "/usr/bin/busybox"]
        .into_iter()
        .map(PathBuf::from)
        .find(|p| p.exists())
        .expect("busybox (Debian's busybox-static) is installed by scripts/lib.sh");
    let root = dir.join("rootfs");
    for sub in ["bin", "etc", "root"] {
        std::fs::create_dir_all(root.join(sub)).unwrap();
    }
    std::fs::copy(&busybox, root.join("bin/busybox")).unwrap();
    for applet in [
        "sh", "ls", "cat", "id", "echo", "touch", "mkdir", "test", "sleep", "rm", "grep", "head",
    ] {
        symlink("busybox", root.join("bin").join(applet)).unwrap();
    }
    std::fs::write(root.join("etc/passwd"), "root:x:0:0:root:/root:/bin/sh\n").unwrap();
    std::fs::write(root.join("etc/group"), "root:x:0:\n").unwrap();
    std::fs::write(root.join("etc/image-marker"), format!("{MARKER}\n")).unwrap();
    let archive = dir.join("busybox-rootfs.tar");
    let mut builder = tar::Builder::new(std::fs::File::create(&archive).unwrap());
    builder.follow_symlinks(false);
    builder.append_dir_all(".", &root).unwrap();
    builder.finish().unwrap();
    archive
}

/// The lab user's ids (the image's files become theirs).
fn lab_user() -> Option<(u32, u32)> {
    nix::unistd::User::from_name("skilltrack-lab")
        .unwrap()
        .map(|u| (u.uid.as_raw(), u.gid.as_raw()))
}

/// Imports the busybox image as `name` on the test server's host and lists it, as
/// `skilltrack-server lab-images import` does.
async fn import(w: &LabWorld, name: &str) -> (ImageStore, ImageInfo) {
    let dir = tempfile::tempdir().unwrap();
    let archive = busybox_rootfs(dir.path());
    let store = w.labs().images();
    let info = store.import_archive(name, &archive, lab_user()).unwrap();
    let mut tx = skilltrack_server::db::session::begin_service(w.server.db.api())
        .await
        .unwrap();
    skilltrack_server::db::lab_images::register(&mut tx, &info)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    (store, info)
}

async fn lab_on(w: &LabWorld, slug: &str, image: &str) -> Result<Uuid, sqlx::Error> {
    let lab = w.add_lab(slug, "shell-basic", true).await;
    sqlx::query("UPDATE labs SET docker_image = $2 WHERE id = $1")
        .bind(lab)
        .bind(image)
        .execute(w.server.db.owner())
        .await
        .map(|_| lab)
}

#[tokio::test]
async fn a_lab_on_a_busybox_image_sees_the_image_and_writes_only_its_own_layer() {
    let w = LabWorld::new(|_| {}).await;
    let (store, info) = import(&w, "tiny-busybox:1").await;
    assert_eq!(info.shell, "/bin/sh");
    let lab = lab_on(&w, "busybox-lab", "tiny-busybox:1").await.unwrap();
    let ana = w.learner("ana-image").await;
    let session = w.start(&ana, lab).await;
    assert_eq!(session["environment"]["template_name"], "shell-basic");
    let id = session["id"].as_str().unwrap().to_owned();
    let mut t = w.term(&ana, &id).await;

    // The image's files, not the host's.
    let out = t
        .run("cat /etc/image-marker; ls /usr/bin/python3 /usr/bin/bash 2>&1; id -u")
        .await;
    assert!(out.contains(MARKER), "{out:?}");
    assert!(out.matches("No such file").count() >= 2, "{out:?}");
    // Root inside its own user namespace: a Killercoda scenario may write under /etc.
    assert!(out.contains("\r\n0\r\n"), "{out:?}");
    let out = t
        .run("echo changed > /etc/image-marker; touch /etc/learner-was-here; cat /etc/image-marker")
        .await;
    assert!(out.contains("changed"), "{out:?}");
    // …over a layer of its own: the image and the host are untouched.
    let rootfs = store.rootfs("tiny-busybox:1").unwrap();
    assert_eq!(
        std::fs::read_to_string(rootfs.join("etc/image-marker")).unwrap(),
        format!("{MARKER}\n")
    );
    assert!(!rootfs.join("etc/learner-was-here").exists());
    assert!(!Path::new("/etc/learner-was-here").exists());
    // Never real root: on the host, the shell's processes belong to the lab user.
    if let Some((uid, _)) = lab_user() {
        t.run("(sleep 31337 &)").await;
        let owners: Vec<String> = std::fs::read_dir("/proc")
            .unwrap()
            .flatten()
            .filter(|p| {
                std::fs::read(p.path().join("cmdline")).is_ok_and(|c| c == b"sleep\x0031337\x00")
            })
            .filter_map(|p| std::fs::read_to_string(p.path().join("status")).ok())
            .filter_map(|s| s.lines().find(|l| l.starts_with("Uid:")).map(str::to_owned))
            .collect();
        assert!(!owners.is_empty(), "the sandbox's sleep is not on the host");
        for line in owners {
            assert!(
                line.split_whitespace()
                    .skip(1)
                    .all(|id| id == uid.to_string()),
                "{line}"
            );
        }
    }
    // The layer is not the learner's to see in their workspace.
    let listing = w
        .call(
            Method::GET,
            &format!("/api/v1/lab-sessions/{id}/files?path="),
            &ana,
            None,
        )
        .await;
    assert_eq!(listing.status, StatusCode::OK, "{listing:?}");
    assert!(
        !listing.body.to_string().contains("skilltrack-root"),
        "{listing:?}"
    );
    t.close().await;

    // Stopping unmounts the environment's root; nothing is left mounted.
    w.stop(&ana, &id).await;
    let data = w.server.data_dir.path().canonicalize().unwrap();
    let leftover: Vec<PathBuf> = skilltrack_server::labs::volume::mount_points()
        .into_iter()
        .filter(|m| m.starts_with(&data) && m.to_string_lossy().contains(".roots"))
        .collect();
    assert!(leftover.is_empty(), "{leftover:?}");
}

#[tokio::test]
async fn a_lab_naming_a_missing_image_is_refused_and_never_runs_on_the_host() {
    let w = LabWorld::new(|_| {}).await;
    // Publishing a lab on an image nobody imported.
    let refused = lab_on(&w, "ghost-lab", "never-imported").await;
    let e = refused.expect_err("a published lab on a missing image");
    assert!(e.to_string().contains("lab_image_missing"), "{e}");

    // An image the platform lists, but this host does not have.
    let (store, _) = import(&w, "here-then-gone").await;
    let lab = lab_on(&w, "gone-lab", "here-then-gone").await.unwrap();
    store.remove("here-then-gone").unwrap();
    let bo = w.learner("bo-image").await;
    let a = w
        .call(
            Method::POST,
            &format!("/api/v1/labs/{lab}/sessions"),
            &bo,
            Some(json!({})),
        )
        .await;
    assert_eq!(a.status, StatusCode::SERVICE_UNAVAILABLE, "{a:?}");
    assert_eq!(a.code(), "lab_image_unavailable");

    // An image the platform no longer lists.
    sqlx::query("DELETE FROM lab_images WHERE name = 'here-then-gone'")
        .execute(w.server.db.owner())
        .await
        .unwrap();
    let a = w
        .call(
            Method::POST,
            &format!("/api/v1/labs/{lab}/sessions"),
            &bo,
            Some(json!({})),
        )
        .await;
    assert_eq!(a.status, StatusCode::CONFLICT, "{a:?}");
    assert_eq!(a.code(), "lab_image_missing");

    // Authors see the list of images; learners see none.
    import(&w, "listed").await;
    let mine = w
        .call(Method::GET, "/api/v1/lab-images", &w.instructor, None)
        .await;
    assert!(mine.body.to_string().contains("\"listed\""), "{mine:?}");
    let theirs = w.call(Method::GET, "/api/v1/lab-images", &bo, None).await;
    assert_eq!(theirs.body["items"], json!([]), "{theirs:?}");
}

#[tokio::test]
async fn the_admin_command_imports_lists_and_removes_images() {
    use skilltrack_tests::process::{data_dir, server_command};
    let dir = data_dir();
    let work = tempfile::tempdir().unwrap();
    let archive = busybox_rootfs(work.path());
    let run = |args: &[&str]| {
        let out = server_command(dir.path(), args).output().unwrap();
        assert!(out.status.success(), "{args:?}: {out:?}");
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let imported = run(&[
        "lab-images",
        "import",
        "cli-busybox",
        &archive.to_string_lossy(),
    ]);
    assert!(imported.contains("imported cli-busybox"), "{imported}");
    assert!(run(&["lab-images", "list"]).contains("cli-busybox"));
    assert!(dir.path().join("lab-images").is_dir());
    run(&["lab-images", "remove", "cli-busybox"]);
    assert!(!run(&["lab-images", "list"]).contains("cli-busybox"));
    let bad = server_command(
        dir.path(),
        &["lab-images", "import", "Bad Name", "/nonexistent"],
    )
    .output()
    .unwrap();
    assert!(!bad.status.success());
    assert!(
        String::from_utf8_lossy(&bad.stderr).contains("not an image name"),
        "{bad:?}"
    );
}

/// Killercoda's simplest scenario asks the learner to make a file under `/etc`: on an image,
/// the step's check sees what the learner's shell did there, its self-test passes, and the
/// image itself is never written.
#[tokio::test]
async fn a_step_that_writes_under_etc_passes_on_an_image_and_leaves_the_image_untouched() {
    let w = LabWorld::new(|_| {}).await;
    let (store, _) = import(&w, "tiny-busybox:steps").await;
    let lab = lab_on(&w, "busybox-steps", "tiny-busybox:steps")
        .await
        .unwrap();
    let steps = json!({"steps": [{
        "title": "Make /etc/lab-done",
        "body": "```sh exec\necho ok > /etc/lab-done\n```",
        "verify": "grep -q ok /etc/lab-done 2>/dev/null || { echo 'There is no /etc/lab-done yet.'; exit 1; }",
        "solve": "echo ok > /etc/lab-done"
    }]});
    let saved = w
        .call(
            Method::PUT,
            &format!("/api/v1/authoring/labs/{lab}/steps"),
            &w.instructor,
            Some(steps),
        )
        .await;
    assert_eq!(saved.status, StatusCode::OK, "{saved:?}");
    // The self-test runs on the image (busybox's `grep`, its own `/etc`).
    let report = w
        .call(
            Method::POST,
            "/api/v1/authoring/lab-self-tests",
            &w.instructor,
            Some(json!({"lab_id": lab})),
        )
        .await;
    assert_eq!(report.body["ok"], true, "{report:?}");

    let ivo = w.learner("ivo-image").await;
    let session = w.start(&ivo, lab).await;
    let id = session["id"].as_str().unwrap().to_owned();
    let before = crate::lab_steps::check(&w, &ivo, &id).await;
    assert_eq!(before["outcome"], "failed", "{before}");
    assert!(
        before["message"]
            .as_str()
            .unwrap()
            .contains("/etc/lab-done")
    );
    let mut t = w.term(&ivo, &id).await;
    t.run("echo ok > /etc/lab-done").await;
    let after = crate::lab_steps::check(&w, &ivo, &id).await;
    assert_eq!(after["outcome"], "passed", "{after}");
    t.close().await;
    let rootfs = store.rootfs("tiny-busybox:steps").unwrap();
    assert!(!rootfs.join("etc/lab-done").exists());
    assert!(!Path::new("/etc/lab-done").exists());
    w.stop(&ivo, &id).await;
}
