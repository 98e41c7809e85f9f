//! The app's Debian package (issue 20, part 1), as a learner meets it: `apt install
//! ./skilltrack_*.deb` on a clean Debian (a root of the test's own, `tests/src/debian_root.rs`)
//! pulls in everything the app needs, installs its desktop entry (which takes `skilltrack://`
//! links) and icon, and the installed app starts under Xvfb and signs in, driven over
//! `WebDriver` by a `WebKitWebDriver` inside that Debian.
//!
//! The packages are built before the tests by `scripts/test-all` (`scripts/package --debug`,
//! into `target/debug/test-packages/`), signed with a test key whose public half the app was
//! built with.

use std::path::{Path, PathBuf};

use skilltrack_tests::debian_root::DebianRoot;
use skilltrack_tests::desktop::{DesktopApp, click, find, screenshot, wait_attr};
use skilltrack_tests::spawn_demo_server;

const LEARNER: &str = "learner@skilltrack.dev";
const LEARNER_PASSWORD: &str = "learner-demo-pass";

/// Where `scripts/test-all` puts the packages: `target/<profile>/test-packages/<which>`.
fn test_packages(which: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("current_exe");
    exe.parent()
        .and_then(Path::parent)
        .expect("the target directory")
        .join("test-packages")
        .join(which)
}

/// The one `.deb` in `dir`.
fn deb_in(dir: &Path) -> PathBuf {
    let debs: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| {
            panic!(
                "{} cannot be read ({e}): scripts/test-all builds the test packages first \
                 (scripts/package --debug)",
                dir.display()
            )
        })
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "deb"))
        .collect();
    assert_eq!(debs.len(), 1, "one .deb in {}: {debs:?}", dir.display());
    debs.into_iter().next().expect("a .deb")
}

/// The version `scripts/package` gave a package (`skilltrack_<version>_amd64.deb`).
fn version_of(deb: &Path) -> String {
    deb.file_name()
        .and_then(|n| n.to_str())
        .and_then(|n| n.split('_').nth(1))
        .expect("a package named skilltrack_<version>_<arch>.deb")
        .to_owned()
}

/// Installs the current package into a clean Debian, checks what it put there, and answers
/// the root (with the test's own `WebKitWebDriver` added to drive the app).
fn installed_app() -> (DebianRoot, String) {
    let deb = deb_in(&test_packages("current"));
    let version = version_of(&deb);
    let root = DebianRoot::create();
    let inside = root.copy_in(&deb);
    // The package alone: what it declares must be enough for the app to run.
    root.apt_install(&[&inside]);
    let installed = root.run_ok("dpkg-query", &["-W", "-f", "${Version}", "skilltrack"]);
    assert_eq!(installed, version, "the installed package's version");

    let missing = root.run_ok("ldd", &["/usr/bin/skilltrack-desktop"]);
    assert!(
        !missing.contains("not found"),
        "every library the app links to is installed by its dependencies:\n{missing}"
    );
    // Video lessons play (WebM and MP4/H.264): the GStreamer plugins came with the package.
    for plugins in [
        "gstreamer1.0-plugins-good",
        "gstreamer1.0-plugins-bad",
        "gstreamer1.0-libav",
    ] {
        root.run_ok("dpkg-query", &["-W", plugins]);
    }
    let entry =
        std::fs::read_to_string(root.host_path("usr/share/applications/Skilltrack.desktop"))
            .expect("the package installs a desktop entry");
    assert!(
        entry.contains("Exec=skilltrack-desktop %u"),
        "the desktop entry hands links to the app:\n{entry}"
    );
    assert!(
        entry.contains("MimeType=x-scheme-handler/skilltrack;"),
        "the desktop entry claims skilltrack:// links:\n{entry}"
    );
    assert!(
        root.host_path("usr/share/icons/hicolor/128x128/apps/skilltrack-desktop.png")
            .exists(),
        "the package installs the app's icon"
    );

    // The test's own tool, not the app's: WebKitWebDriver starts the installed app.
    root.apt_install(&["webkit2gtk-driver"]);
    (root, version)
}

/// Starts the app installed in `root` over `WebDriver` (the root's own `WebKitWebDriver`),
/// against `server`, with its data in the root's `/tmp/skilltrack-data`.
async fn launch_installed(root: &DebianRoot, server: &str) -> DesktopApp {
    DesktopApp::launch_installed(
        &root.launcher("/usr/bin/WebKitWebDriver"),
        Path::new("/usr/bin/skilltrack-desktop"),
        server,
        Path::new("/tmp/skilltrack-data"),
        &[("LC_ALL", "C.UTF-8"), ("HOME", "/root")],
    )
    .await
}

/// Opens Settings and checks that it names `version` and that the server has nothing newer.
async fn settings_say_up_to_date(app: &DesktopApp, version: &str) {
    let client = &app.client;
    click(
        client,
        r#"[data-testid="nav-settings"]"#,
        "opening Settings",
    )
    .await;
    let shown = find(
        client,
        r#"[data-testid="app-version"]"#,
        "the app's version in Settings",
    )
    .await
    .text()
    .await
    .expect("the version's text");
    assert!(
        shown.contains(version),
        "Settings names version {version}: {shown}"
    );
    wait_attr(
        client,
        r#"[data-testid="update-state"]"#,
        "data-state",
        "the installed app asks the server for updates and finds none newer",
        |state| state == "up_to_date",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn issue20_the_deb_installs_on_a_clean_debian_and_the_installed_app_signs_in() {
    let server = spawn_demo_server().await;
    let (root, version) = installed_app();

    let app = launch_installed(&root, &server.url).await;
    app.sign_in(LEARNER, LEARNER_PASSWORD).await;
    // The installed copy knows it came from a package and has the key to trust updates; the
    // server publishes none yet.
    settings_say_up_to_date(&app, &version).await;
    app.close().await;

    // The app's data went where it was told, inside the Debian it was installed into.
    assert!(root.host_path("tmp/skilltrack-data").exists());
}

/// The first file in `dir` whose name ends with `suffix`.
fn file_in(dir: &Path, suffix: &str) -> PathBuf {
    std::fs::read_dir(dir)
        .expect("the release directory")
        .filter_map(Result::ok)
        .map(|e| e.path())
        .find(|p| p.to_string_lossy().ends_with(suffix))
        .unwrap_or_else(|| panic!("no {suffix} in {}", dir.display()))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn issue20_an_installed_app_refuses_a_tampered_update_then_updates_itself() {
    use skilltrack_tests::process::{ServerProcess, data_dir, server_command};

    // The server publishes the next version, as its operator would.
    let next = deb_in(&test_packages("next"));
    let next_version = version_of(&next);
    let signature = PathBuf::from(format!("{}.sig", next.display()));
    assert!(
        signature.exists(),
        "scripts/package signed {}",
        next.display()
    );
    let dir = data_dir();
    let run = |args: &[&str]| {
        let out = server_command(dir.path(), args)
            .output()
            .expect("the server's command");
        assert!(out.status.success(), "{args:?}: {out:?}");
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    run(&["seed-demo"]);
    run(&[
        "desktop-release",
        "publish",
        &next.to_string_lossy(),
        "--signature",
        &signature.to_string_lossy(),
        "--notes",
        "Lessons open faster.",
    ]);
    // Someone changes the published package on the server's disk: one byte.
    let stored = file_in(&dir.path().join("desktop-releases"), ".deb");
    let genuine = std::fs::read(&stored).expect("the published package");
    let mut tampered = genuine.clone();
    let middle = tampered.len() / 2;
    tampered[middle] ^= 0x01;
    std::fs::write(&stored, &tampered).expect("tampering with the package");
    let server = ServerProcess::start(dir.path());

    let (root, version) = installed_app();
    // The updater installs with the system's package manager through pkexec or sudo; the
    // test is root, for whom sudo asks nothing (a learner's system asks for a password).
    root.apt_install(&["sudo"]);
    let app = launch_installed(&root, &server.url).await;
    app.sign_in(LEARNER, LEARNER_PASSWORD).await;
    let client = &app.client;

    // Told at once, then shown in Settings with the publisher's notes.
    let notice = find(
        client,
        r#"[data-testid="update-notice"]"#,
        "the new version is announced",
    )
    .await;
    assert_eq!(
        notice
            .attr("data-version")
            .await
            .expect("its version")
            .as_deref(),
        Some(next_version.as_str())
    );
    click(
        client,
        r#"[data-testid="update-notice-open"]"#,
        "opening the update",
    )
    .await;
    wait_attr(
        client,
        r#"[data-testid="update-state"]"#,
        "data-version",
        "Settings shows the new version",
        |v| v == next_version,
    )
    .await;
    assert!(
        find(client, ".update-notes", "the notes")
            .await
            .text()
            .await
            .unwrap()
            .contains("Lessons open faster.")
    );
    screenshot(client, "update-available").await;

    // The tampered package is refused, in words, and nothing is installed.
    click(
        client,
        r#"[data-testid="install-update"]"#,
        "installing the tampered update",
    )
    .await;
    let refusal = find(client, r#"[data-testid="update-error"]"#, "the refusal").await;
    let said = refusal.text().await.expect("the refusal's text");
    assert!(said.contains("not signed"), "the app says why: {said}");
    assert_eq!(
        root.run_ok("dpkg-query", &["-W", "-f", "${Version}", "skilltrack"]),
        version,
        "nothing was installed"
    );

    // The genuine package installs, and the app restarts into it.
    std::fs::write(&stored, &genuine).expect("restoring the package");
    click(client, r#"[data-testid="check-update"]"#, "checking again").await;
    click(
        client,
        r#"[data-testid="install-update"]"#,
        "installing the update",
    )
    .await;
    let deadline = std::time::Instant::now() + skilltrack_tests::desktop::PATIENCE;
    loop {
        let installed = root.run_ok("dpkg-query", &["-W", "-f", "${Version}", "skilltrack"]);
        if installed == next_version {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the update was never installed (still {installed})"
        );
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    }
    // The new version came up by itself; the test stops it and starts it under WebDriver.
    let restarted = {
        let deadline = std::time::Instant::now() + skilltrack_tests::desktop::PATIENCE;
        loop {
            let running: Vec<String> = root
                .processes()
                .into_iter()
                .filter_map(|pid| std::fs::read_to_string(format!("/proc/{pid}/cmdline")).ok())
                .filter(|cmd| cmd.starts_with("/usr/bin/skilltrack-desktop"))
                .collect();
            if !running.is_empty() || std::time::Instant::now() > deadline {
                break !running.is_empty();
            }
            tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        }
    };
    assert!(restarted, "the app restarted into the new version");
    let _ = app.client.clone().close().await;
    drop(app);
    root.stop_processes();

    let app = launch_installed(&root, &server.url).await;
    // Still signed in: the update kept the learner's data and session.
    find(
        &app.client,
        r#"[data-testid="course-card"]"#,
        "the catalog after the update",
    )
    .await;
    settings_say_up_to_date(&app, &next_version).await;
    app.close().await;
    drop(server);
}
