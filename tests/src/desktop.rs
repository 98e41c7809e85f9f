//! Driving the desktop app in its real webview: the built `skilltrack-desktop` under Xvfb, over
//! `WebDriver` (`tauri-driver` + `WebKitWebDriver`). Each desktop test starts its own display,
//! driver and app with [`DesktopApp::launch`], so they run side by side.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use serde_json::json;

/// How long the app gets for anything a learner would wait for (the first sync included).
pub const PATIENCE: Duration = Duration::from_secs(60);

/// The target directory's `tmp/` (what `CARGO_TARGET_TMPDIR` names for integration tests).
fn target_tmpdir() -> PathBuf {
    let exe = std::env::current_exe().expect("current_exe");
    exe.ancestors()
        .nth(3)
        .map_or_else(std::env::temp_dir, |target| target.join("tmp"))
}

/// The app, its `WebDriver` session, and what runs it (stopped in order when dropped: the
/// session first, then tauri-driver, then Xvfb).
pub struct DesktopApp {
    /// The `WebDriver` session driving the app's window.
    pub client: Client,
    /// The X display the app draws on (`:N`), for another launch on the same "desktop".
    pub display: String,
    _driver: Stopped,
    _xvfb: Stopped,
}

impl DesktopApp {
    /// Starts Xvfb, tauri-driver and the app, against `server` with its data in `data_dir`
    /// (tokens in a file there: no keyring on a test machine).
    pub async fn launch(server: &str, data_dir: &Path) -> Self {
        Self::launch_app(&desktop_binary(), server, data_dir).await
    }

    /// [`DesktopApp::launch`] with the app binary named (a benchmark runs the one beside it).
    pub async fn launch_app(app: &Path, server: &str, data_dir: &Path) -> Self {
        // English whatever this machine's locale: the tests read the app's English words.
        Self::launch_with_env(app, server, data_dir, &[("LC_ALL", "C.UTF-8")]).await
    }

    /// [`DesktopApp::launch`] with more environment for the app (e.g. the OS locale).
    pub async fn launch_with_env(
        app: &Path,
        server: &str,
        data_dir: &Path,
        env: &[(&str, &str)],
    ) -> Self {
        Self::launch_with_args(app, server, data_dir, env, &[]).await
    }

    /// [`DesktopApp::launch_with_env`] with command-line arguments for the app (a
    /// `skilltrack://` link, as the desktop entry passes one).
    pub async fn launch_with_args(
        app: &Path,
        server: &str,
        data_dir: &Path,
        env: &[(&str, &str)],
        args: &[&str],
    ) -> Self {
        Self::launch_through(None, app, server, data_dir, env, args).await
    }

    /// [`DesktopApp::launch_with_env`] through another `WebKitWebDriver` than the machine's:
    /// `native_driver` (the installer test's, inside a Debian root, which starts the app
    /// installed there: `app` and `data_dir` are then paths in that root).
    pub async fn launch_installed(
        native_driver: &Path,
        app: &Path,
        server: &str,
        data_dir: &Path,
        env: &[(&str, &str)],
    ) -> Self {
        Self::launch_through(Some(native_driver), app, server, data_dir, env, &[]).await
    }

    async fn launch_through(
        native_driver: Option<&Path>,
        app: &Path,
        server: &str,
        data_dir: &Path,
        env: &[(&str, &str)],
        args: &[&str],
    ) -> Self {
        let (xvfb, display) = start_xvfb();
        let (port, native_port) = (free_port(), free_port());
        let mut driver = Command::new(tauri_driver());
        if let Some(native_driver) = native_driver {
            driver.arg("--native-driver").arg(native_driver);
        }
        let driver = driver
            .args([
                "--port",
                &port.to_string(),
                "--native-port",
                &native_port.to_string(),
            ])
            .env("DISPLAY", &display)
            .env("SKILLTRACK_SERVER", server)
            .env("SKILLTRACK_DATA_DIR", data_dir)
            .env("SKILLTRACK_TOKEN_STORE", "file")
            // Saved files (certificates, lab files) go under the data directory, not ~/Downloads.
            .env("SKILLTRACK_DOWNLOAD_DIR", data_dir.join("downloads"))
            .envs(env.iter().copied())
            // The app paints as it chooses on this machine (on the CPU without a GPU); see
            // `window_png` for what that asks of screenshots.
            .stdout(Stdio::null())
            .spawn()
            .expect(
                "starting tauri-driver (scripts/lib.sh installs it into ~/.cache/skilltrack/tools)",
            );
        let driver = Stopped(driver, "tauri-driver");

        let mut caps = serde_json::Map::new();
        caps.insert("browserName".into(), json!("wry"));
        caps.insert(
            "tauri:options".into(),
            json!({"application": app, "args": args}),
        );
        let webdriver = format!("http://127.0.0.1:{port}");
        let deadline = Instant::now() + Duration::from_secs(30);
        let client = loop {
            match ClientBuilder::new(HttpConnector::new())
                .capabilities(caps.clone())
                .connect(&webdriver)
                .await
            {
                Ok(c) => break c,
                Err(e) if Instant::now() > deadline => {
                    panic!("starting the app over WebDriver at {webdriver} failed: {e}")
                }
                Err(_) => tokio::time::sleep(Duration::from_millis(300)).await,
            }
        };
        Self {
            client,
            display,
            _driver: driver,
            _xvfb: xvfb,
        }
    }

    /// Signs in on the sign-in screen and waits for the catalog's first card.
    pub async fn sign_in(&self, email: &str, password: &str) {
        let client = &self.client;
        let step = "signing in";
        find(client, r#"[data-testid="sign-in"]"#, step).await;
        type_into(client, "input[name=email]", email, step).await;
        type_into(client, "input[name=password]", password, step).await;
        find(client, "button[type=submit]", step)
            .await
            .click()
            .await
            .expect(step);
        find(
            client,
            r#"[data-testid="course-card"]"#,
            "the catalog fills from the first sync",
        )
        .await;
    }

    /// Closes the window (ending the `WebDriver` session).
    pub async fn close(self) {
        self.client.clone().close().await.expect("closing the app");
    }
}

/// The `skilltrack-desktop` binary, built by the test command (`cargo build -p skilltrack-desktop`).
pub fn desktop_binary() -> PathBuf {
    let exe = std::env::current_exe().expect("current_exe");
    let bin = exe
        .parent()
        .and_then(Path::parent)
        .map(|profile| profile.join("skilltrack-desktop"))
        .expect("target directory");
    assert!(
        bin.exists(),
        "{} is missing: build the UI and the app first (`cd ui && npm run build`, then \
         `cargo build -p skilltrack-desktop`), as scripts/test-all does",
        bin.display()
    );
    bin
}

/// tauri-driver: `SKILLTRACK_TAURI_DRIVER`, else where scripts/lib.sh installs it, else `$PATH`.
pub fn tauri_driver() -> PathBuf {
    if let Some(p) = std::env::var_os("SKILLTRACK_TAURI_DRIVER") {
        return PathBuf::from(p);
    }
    let home = std::env::var_os("HOME")
        .map(PathBuf::from)
        .unwrap_or_default();
    let installed = home.join(".cache/skilltrack/tools/bin/tauri-driver");
    if installed.exists() {
        return installed;
    }
    PathBuf::from("tauri-driver")
}

/// A child process stopped with SIGTERM (never SIGKILL: tauri-driver must stop its
/// `WebKitWebDriver`, or it is orphaned) and reaped on drop.
pub struct Stopped(pub Child, pub &'static str);

impl Drop for Stopped {
    fn drop(&mut self) {
        if let Ok(pid) = i32::try_from(self.0.id()) {
            let _ = kill(Pid::from_raw(pid), Signal::SIGTERM);
        }
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if matches!(self.0.try_wait(), Ok(Some(_))) {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        eprintln!("{} did not stop after SIGTERM; killing it", self.1);
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A private D-Bus session bus of a test's own (what a desktop session gives its apps): the
/// single-instance handover and notifications go through it, and never reach another test's
/// bus or the machine's. Nothing is started on demand on it (no service directories), so only
/// what the test starts answers. Stopped when dropped.
pub struct SessionBus {
    /// Its address, for `DBUS_SESSION_BUS_ADDRESS`.
    pub address: String,
    _daemon: Stopped,
    _dir: tempfile::TempDir,
}

impl SessionBus {
    /// Starts `dbus-daemon` on a socket in a temporary directory.
    pub fn start() -> Self {
        let dir = tempfile::tempdir().expect("a directory for the session bus");
        let socket = dir.path().join("bus");
        let config = dir.path().join("session.conf");
        std::fs::write(
            &config,
            format!(
                r#"<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:path={}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
"#,
                socket.display()
            ),
        )
        .expect("writing the session bus's configuration");
        let child = Command::new("dbus-daemon")
            .arg(format!("--config-file={}", config.display()))
            .arg("--nofork")
            .stdout(Stdio::null())
            .spawn()
            .expect(
                "starting dbus-daemon (Debian package dbus-daemon; scripts/lib.sh installs it)",
            );
        let daemon = Stopped(child, "dbus-daemon");
        let deadline = Instant::now() + Duration::from_secs(20);
        while !socket.exists() {
            assert!(
                Instant::now() < deadline,
                "dbus-daemon never opened {}",
                socket.display()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        Self {
            address: format!("unix:path={}", socket.display()),
            _daemon: daemon,
            _dir: dir,
        }
    }
}

/// A notification received by [`NotificationService`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RaisedNotification {
    /// The id the service gave it.
    pub id: u32,
    /// Its summary (the title).
    pub summary: String,
    /// Its body.
    pub body: String,
    /// Its actions: identifiers and labels, alternately.
    pub actions: Vec<String>,
}

/// The desktop's notification service as the freedesktop specification defines it
/// (`org.freedesktop.Notifications`), on a test's own session bus: it keeps what it is sent,
/// so a test reads back the notifications an app raised through the real D-Bus interface.
pub struct NotificationService {
    received: std::sync::Arc<std::sync::Mutex<Vec<RaisedNotification>>>,
    connection: zbus::Connection,
}

// The specification's methods as they are, whatever this service keeps of them (the interface
// macro's own code uses the arguments this one ignores).
#[allow(
    clippy::unused_self,
    clippy::used_underscore_binding,
    reason = "the specification's methods, argument for argument"
)]
mod notification_server {
    use super::RaisedNotification;

    pub(super) struct NotificationServer(
        pub(super) std::sync::Arc<std::sync::Mutex<Vec<RaisedNotification>>>,
    );

    #[zbus::interface(name = "org.freedesktop.Notifications")]
    impl NotificationServer {
        #[allow(
            clippy::too_many_arguments,
            reason = "the specification's method, argument for argument"
        )]
        fn notify(
            &self,
            _app_name: String,
            _replaces_id: u32,
            _app_icon: String,
            summary: String,
            body: String,
            actions: Vec<String>,
            _hints: std::collections::HashMap<String, zbus::zvariant::OwnedValue>,
            _expire_timeout: i32,
        ) -> u32 {
            let mut received = self
                .0
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            let id = u32::try_from(received.len() + 1).unwrap_or(u32::MAX);
            received.push(RaisedNotification {
                id,
                summary,
                body,
                actions,
            });
            id
        }

        fn get_capabilities(&self) -> Vec<String> {
            vec!["body".to_owned(), "actions".to_owned()]
        }

        fn get_server_information(&self) -> (String, String, String, String) {
            (
                "skilltrack-tests".to_owned(),
                "skilltrack".to_owned(),
                "0".to_owned(),
                "1.2".to_owned(),
            )
        }

        fn close_notification(&self, _id: u32) {}
    }
}
use notification_server::NotificationServer;

impl NotificationService {
    /// Serves `org.freedesktop.Notifications` on `bus`.
    pub async fn start(bus: &SessionBus) -> Self {
        let received = std::sync::Arc::default();
        let connection = zbus::connection::Builder::address(bus.address.as_str())
            .expect("the session bus's address")
            .name("org.freedesktop.Notifications")
            .expect("the notification service's name")
            .serve_at(
                "/org/freedesktop/Notifications",
                NotificationServer(std::sync::Arc::clone(&received)),
            )
            .expect("serving the notification service")
            .build()
            .await
            .expect("connecting the notification service to the session bus");
        Self {
            received,
            connection,
        }
    }

    /// Clicks notification `id`, as a desktop does: its default action is invoked.
    pub async fn click(&self, id: u32) {
        self.connection
            .emit_signal(
                None::<&str>,
                "/org/freedesktop/Notifications",
                "org.freedesktop.Notifications",
                "ActionInvoked",
                &(id, "default"),
            )
            .await
            .expect("emitting ActionInvoked");
    }

    /// The notifications received so far, oldest first.
    pub fn received(&self) -> Vec<RaisedNotification> {
        self.received
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }
}

/// Starts Xvfb on a display nobody uses.
pub fn start_xvfb() -> (Stopped, String) {
    let n = (90..200)
        .find(|n| {
            !Path::new(&format!("/tmp/.X11-unix/X{n}")).exists()
                && !Path::new(&format!("/tmp/.X{n}-lock")).exists()
        })
        .expect("a free X display number");
    let child = Command::new("Xvfb")
        .arg(format!(":{n}"))
        .args(["-screen", "0", "1280x900x24", "-nolisten", "tcp"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("starting Xvfb (Debian package xvfb; scripts/lib.sh installs it)");
    let xvfb = Stopped(child, "Xvfb");
    let socket = format!("/tmp/.X11-unix/X{n}");
    let deadline = Instant::now() + Duration::from_secs(20);
    while !Path::new(&socket).exists() {
        assert!(Instant::now() < deadline, "Xvfb never opened display :{n}");
        std::thread::sleep(Duration::from_millis(50));
    }
    (xvfb, format!(":{n}"))
}

/// A TCP port free on 127.0.0.1 right now.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

/// Fails the test at `step`, saving what the window showed (a screenshot and its HTML) next to
/// the test binary's temporary files.
pub async fn fail(client: &Client, step: &str, why: &str) -> ! {
    let dir = target_tmpdir();
    let _ = std::fs::create_dir_all(&dir);
    // Named by the step, so desktop tests failing side by side keep their own windows.
    let name: String = step
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .take(60)
        .collect();
    let base = dir.join(format!("desktop-failure-{name}"));
    if let Ok(png) = window_png(client).await {
        let _ = std::fs::write(base.with_extension("png"), png);
    }
    let html = client.source().await.unwrap_or_default();
    let _ = std::fs::write(base.with_extension("html"), &html);
    panic!(
        "{step}: {why}\n(the window is saved in {}.{{png,html}}; its text: {:?})",
        base.display(),
        html.chars().take(2000).collect::<String>()
    );
}

/// Waits for a CSS selector to match, failing with what the step was for.
pub async fn find(client: &Client, css: &str, step: &str) -> fantoccini::elements::Element {
    match client
        .wait()
        .at_most(PATIENCE)
        .for_element(Locator::Css(css))
        .await
    {
        Ok(e) => e,
        Err(e) => fail(client, step, &format!("`{css}` never appeared: {e}")).await,
    }
}

/// Types a course folder's path into the open-folder form (on the sign-in or Instructor
/// screen, already shown) and opens its package preview.
pub async fn open_package_folder(client: &Client, folder: &Path, step: &str) {
    type_into(
        client,
        r#"[data-testid="package-folder"]"#,
        &folder.display().to_string(),
        step,
    )
    .await;
    click(client, r#"[data-testid="open-package"]"#, step).await;
}

/// Clicks what `css` matches and waits for what the click shows (`shown`).
pub async fn open(client: &Client, css: &str, shown: &str, step: &str) {
    click(client, css, step).await;
    find(client, shown, step).await;
}

/// The instructor's screens the whole-app checks visit: signs the learner out and the demo
/// instructor in, then calls `check` with each screen's name once it shows (courses and labs
/// taught, the grading queue, a course previewed as learners see it).
pub async fn tour_instructor_screens(app: &DesktopApp, mut check: impl AsyncFnMut(&'static str)) {
    let client = &app.client;
    click(client, r#"[data-testid="nav-settings"]"#, "signing out").await;
    click(client, r#"[data-testid="sign-out"]"#, "signing out").await;
    app.sign_in("instructor@skilltrack.dev", "instructor-demo-pass")
        .await;
    let instructor = r#"[data-testid="nav-instructor"]"#;
    let step = "the instructor's screen";
    open(
        client,
        instructor,
        r#"[data-testid="instructor-course"]"#,
        step,
    )
    .await;
    check("instructor").await;
    let step = "the grading queue";
    open(
        client,
        r#"[data-testid="open-grading-queue"]"#,
        r#"[data-testid="grading-queue"]"#,
        step,
    )
    .await;
    check("grading queue").await;
    let step = "a course preview";
    click(client, instructor, step).await;
    open(
        client,
        r#"[data-testid="preview"]"#,
        r#"[data-testid="course-title"]"#,
        step,
    )
    .await;
    check("course preview").await;
}

/// Waits for a CSS selector to match, then clicks it. A screen that re-renders between the
/// find and the click (the element replaced, or covered for a moment) makes `WebDriver` refuse
/// the click; the element is then found again, until [`PATIENCE`] runs out.
pub async fn click(client: &Client, css: &str, step: &str) {
    let deadline = Instant::now() + PATIENCE;
    loop {
        let element = find(client, css, step).await;
        match element.clone().click().await {
            Ok(()) => return,
            Err(e) if Instant::now() >= deadline => {
                fail(client, step, &format!("clicking `{css}`: {e}")).await;
            }
            Err(e) => {
                // WebKitWebDriver does not always scroll an element clipped by a scrolling
                // panel (not the page) into view: scroll it to the middle, as a learner would.
                eprintln!("{step}: clicking `{css}` was refused ({e:?}); scrolling to it");
                let _ = client
                    .execute(
                        "arguments[0].scrollIntoView({ block: 'center' });",
                        vec![serde_json::to_value(&element).unwrap_or_default()],
                    )
                    .await;
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    }
}

/// Waits for a CSS selector to match, then types `text` into it.
pub async fn type_into(client: &Client, css: &str, text: &str, step: &str) {
    find(client, css, step)
        .await
        .send_keys(text)
        .await
        .unwrap_or_else(|e| panic!("{step}: typing into `{css}`: {e}"));
}

/// Waits until an element's attribute satisfies `ok`, failing with the last value seen.
pub async fn wait_attr(
    client: &Client,
    css: &str,
    attr: &str,
    step: &str,
    ok: impl Fn(&str) -> bool,
) {
    let deadline = Instant::now() + PATIENCE;
    let mut last = None;
    while Instant::now() < deadline {
        if let Ok(e) = client.find(Locator::Css(css)).await {
            last = e.attr(attr).await.ok().flatten();
            if last.as_deref().is_some_and(&ok) {
                return;
            }
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    fail(
        client,
        step,
        &format!("`{css}` [{attr}] never became right; last seen {last:?}"),
    )
    .await;
}

/// Waits until the text of what `css` matches satisfies `ok` (screens re-render as syncs land
/// or files change, so an element found once may be replaced), returning it; fails with the
/// last text seen.
pub async fn wait_text(
    client: &Client,
    css: &str,
    step: &str,
    ok: impl Fn(&str) -> bool,
) -> String {
    let deadline = Instant::now() + PATIENCE;
    let mut last = String::new();
    while Instant::now() < deadline {
        if let Ok(e) = client.find(Locator::Css(css)).await
            && let Ok(t) = e.text().await
        {
            if ok(&t) {
                return t;
            }
            last = t;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    fail(
        client,
        step,
        &format!("`{css}` never showed the right text; last {last:?}"),
    )
    .await
}

/// The text of the first element matching `css`, once it appears.
pub async fn text_of(client: &Client, css: &str, step: &str) -> String {
    find(client, css, step)
        .await
        .text()
        .await
        .unwrap_or_else(|e| panic!("{step}: reading `{css}`: {e}"))
}

/// Saves a screenshot of the window under the target directory (`screenshots/`), and into
/// `docs/screenshots/` for the README when `SKILLTRACK_README_SCREENSHOTS=1` (so an ordinary
/// test run leaves the checkout clean). `WebKit` snapshots its last painted frame, which can lag
/// behind the DOM (a screen just opened, keys just typed), so two animation frames are waited
/// for first.
pub async fn screenshot(client: &Client, name: &str) {
    client
        .execute_async(
            "const done = arguments[arguments.length - 1];
             requestAnimationFrame(() => requestAnimationFrame(() => done(true)));",
            vec![],
        )
        .await
        .unwrap_or_else(|e| panic!("waiting for a painted frame before `{name}`: {e}"));
    let png = window_png(client).await.expect("a screenshot");
    let mut dirs = vec![target_tmpdir().join("screenshots")];
    if std::env::var("SKILLTRACK_README_SCREENSHOTS").is_ok_and(|v| v == "1") {
        dirs.push(Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/screenshots"));
    }
    for dir in dirs {
        std::fs::create_dir_all(&dir).expect("a screenshots directory");
        std::fs::write(dir.join(format!("{name}.png")), &png).expect("saving a screenshot");
    }
}

/// The window as a PNG. Painting on the CPU (no GPU here: `src-tauri/src/rendering.rs`),
/// `WebKitWebDriver` answers a screenshot with the page's next paint, and an idle page never
/// paints; so one pixel in the bottom-right corner flickers between 1 % and 2 % grey while the
/// screenshot is taken, and is gone after.
async fn window_png(client: &Client) -> Result<Vec<u8>, fantoccini::error::CmdError> {
    client
        .execute(
            "const d = document.createElement('div');
             d.id = '__repaint';
             d.style.cssText = 'position:fixed;right:0;bottom:0;width:1px;height:1px;pointer-events:none;z-index:2147483647';
             document.body.appendChild(d);
             let n = 0;
             window.__repaint = setInterval(() => {
               d.style.background = (n++ % 2) ? 'rgba(0,0,0,0.01)' : 'rgba(0,0,0,0.02)';
             }, 50);",
            vec![],
        )
        .await?;
    let png = client.screenshot().await;
    let _ = client
        .execute(
            "clearInterval(window.__repaint); document.getElementById('__repaint')?.remove();",
            vec![],
        )
        .await;
    png
}
