//! The desktop app end to end, in its real webview: the built `skilltrack-desktop` under Xvfb,
//! driven over `WebDriver` (`tauri-driver` + `WebKitWebDriver`), against the real server with the demo
//! catalog behind a proxy that can lose the network. Saves screenshots of the main screens
//! (under the target directory; into `docs/screenshots/` for the README with
//! `SKILLTRACK_README_SCREENSHOTS=1`).

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use serde_json::{Value, json};
use skilltrack_server::seed::demo_id;
use skilltrack_tests::api::Api;
use skilltrack_tests::proxy::Proxy;
use skilltrack_tests::spawn_server;

const LEARNER: &str = "learner@skilltrack.dev";
const LEARNER_PASSWORD: &str = "learner-demo-pass";
const COURSE: &str = "python-for-data-analysis";
/// The demo learner's other course, which opens with a video lesson.
const VIDEO_COURSE: &str = "intro-to-the-command-line";
/// How long the app gets for anything a learner would wait for (the first sync included).
const PATIENCE: Duration = Duration::from_secs(60);

/// The `skilltrack-desktop` binary, built by the test command (`cargo build -p skilltrack-desktop`).
fn desktop_binary() -> PathBuf {
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
fn tauri_driver() -> PathBuf {
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
struct Stopped(Child, &'static str);

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

/// Starts Xvfb on a display nobody uses.
fn start_xvfb() -> (Stopped, String) {
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

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

/// Fails the test at `step`, saving what the window showed (a screenshot and its HTML) next to
/// the test binary's temporary files.
async fn fail(client: &Client, step: &str, why: &str) -> ! {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"));
    if let Ok(png) = client.screenshot().await {
        let _ = std::fs::write(dir.join("desktop-e2e-failure.png"), png);
    }
    let html = client.source().await.unwrap_or_default();
    let _ = std::fs::write(dir.join("desktop-e2e-failure.html"), &html);
    panic!(
        "{step}: {why}\n(the window is saved in {}/desktop-e2e-failure.{{png,html}}; its text: {:?})",
        dir.display(),
        html.chars().take(2000).collect::<String>()
    );
}

/// Waits for a CSS selector to match, failing with what the step was for.
async fn find(client: &Client, css: &str, step: &str) -> fantoccini::elements::Element {
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

/// Waits until an element's attribute satisfies `ok`, failing with the last value seen.
async fn wait_attr(client: &Client, css: &str, attr: &str, step: &str, ok: impl Fn(&str) -> bool) {
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

async fn text_of(client: &Client, css: &str, step: &str) -> String {
    find(client, css, step)
        .await
        .text()
        .await
        .unwrap_or_else(|e| panic!("{step}: reading `{css}`: {e}"))
}

/// Saves a screenshot of the window under the target directory (`screenshots/`), and into
/// `docs/screenshots/` for the README when `SKILLTRACK_README_SCREENSHOTS=1` (so an ordinary
/// test run leaves the checkout clean).
async fn screenshot(client: &Client, name: &str) {
    let png = client.screenshot().await.expect("a screenshot");
    let mut dirs = vec![Path::new(env!("CARGO_TARGET_TMPDIR")).join("screenshots")];
    if std::env::var("SKILLTRACK_README_SCREENSHOTS").is_ok_and(|v| v == "1") {
        dirs.push(Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/screenshots"));
    }
    for dir in dirs {
        std::fs::create_dir_all(&dir).expect("a screenshots directory");
        std::fs::write(dir.join(format!("{name}.png")), &png).expect("saving a screenshot");
    }
}

/// Opens the first lesson of the course page that is a text lesson not completed yet.
async fn open_next_text_lesson(client: &Client, step: &str) -> String {
    let css = r#"[data-testid="lesson-link"][data-type="text"][data-completed="false"]"#;
    find(client, css, step)
        .await
        .click()
        .await
        .unwrap_or_else(|e| panic!("{step}: {e}"));
    find(client, r#"[data-testid="lesson-body"]"#, step).await;
    find(client, "[data-lesson-id]", step)
        .await
        .attr("data-lesson-id")
        .await
        .ok()
        .flatten()
        .unwrap_or_else(|| panic!("{step}: the lesson screen names its lesson"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_learner_studies_in_the_desktop_app_online_and_offline() {
    let app = desktop_binary();
    let server = spawn_server().await;
    skilltrack_server::seed::load_demo(&server.db.db, server.data_dir.path())
        .await
        .expect("loading the demo catalog");
    let proxy = Proxy::start(&server.url).await;
    let (_xvfb, display) = start_xvfb();
    let data = tempfile::tempdir().expect("the app's data directory");
    let (port, native_port) = (free_port(), free_port());
    let driver = Command::new(tauri_driver())
        .args([
            "--port",
            &port.to_string(),
            "--native-port",
            &native_port.to_string(),
        ])
        .env("DISPLAY", &display)
        .env("SKILLTRACK_SERVER", &proxy.url)
        .env("SKILLTRACK_DATA_DIR", data.path())
        .env("SKILLTRACK_TOKEN_STORE", "file")
        // WebKit's defaults, on purpose: WEBKIT_DISABLE_DMABUF_RENDERER (a common Xvfb tip)
        // makes WebKitWebDriver's screenshots hang.
        .stdout(Stdio::null())
        .spawn()
        .expect(
            "starting tauri-driver (scripts/lib.sh installs it into ~/.cache/skilltrack/tools)",
        );
    let _driver = Stopped(driver, "tauri-driver");

    let mut caps = serde_json::Map::new();
    caps.insert("browserName".into(), json!("wry"));
    caps.insert("tauri:options".into(), json!({"application": app}));
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

    // Sign in.
    let step = "the sign-in screen shows";
    find(&client, r#"[data-testid="sign-in"]"#, step).await;
    screenshot(&client, "sign-in").await;
    let step = "signing in as the demo learner";
    find(&client, "input[name=email]", step)
        .await
        .send_keys(LEARNER)
        .await
        .expect(step);
    find(&client, "input[name=password]", step)
        .await
        .send_keys(LEARNER_PASSWORD)
        .await
        .expect(step);
    find(&client, "button[type=submit]", step)
        .await
        .click()
        .await
        .expect(step);

    // The catalog arrives with the first sync.
    let step = "the catalog fills from the first sync";
    find(&client, r#"[data-testid="course-card"]"#, step).await;
    wait_attr(
        &client,
        r#"[data-testid="sync-indicator"]"#,
        "data-online",
        step,
        |v| v == "true",
    )
    .await;
    screenshot(&client, "catalog").await;

    // Offline search (the cache's full-text index).
    let step = "searching the catalog for `pandas`";
    find(&client, r#"[data-testid="catalog-search"]"#, step)
        .await
        .send_keys("pandas")
        .await
        .expect(step);
    let course_css = format!(r#"[data-testid="course-card"][data-slug="{COURSE}"]"#);
    let deadline = Instant::now() + PATIENCE;
    loop {
        let cards = client
            .find_all(Locator::Css(r#"[data-testid="course-card"]"#))
            .await
            .expect(step);
        let mut slugs = Vec::new();
        for c in &cards {
            slugs.push(c.attr("data-slug").await.ok().flatten().unwrap_or_default());
        }
        if slugs.iter().any(|s| s == COURSE) && slugs.len() < 12 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "{step}: the search should narrow to {COURSE}; shows {slugs:?}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }

    // The course page: the enrolled learner sees its lessons.
    let step = "opening the course page";
    find(&client, &course_css, step)
        .await
        .click()
        .await
        .expect(step);
    let title = text_of(&client, r#"[data-testid="course-title"]"#, step).await;
    assert_eq!(title, "Python for Data Analysis", "{step}");
    find(
        &client,
        r#"[data-testid="lesson-link"]"#,
        "the enrolled learner sees the syllabus's lessons",
    )
    .await;
    screenshot(&client, "course").await;

    // A lesson, marked complete online: it reaches the server.
    let step = "opening a text lesson";
    let first = open_next_text_lesson(&client, step).await;
    screenshot(&client, "lesson").await;
    let step = "marking the lesson complete online";
    find(&client, r#"[data-testid="mark-complete"]"#, step)
        .await
        .click()
        .await
        .expect(step);
    find(&client, r#"[data-testid="lesson-completed"]"#, step).await;
    wait_attr(
        &client,
        r#"[data-testid="sync-indicator"]"#,
        "data-pending",
        "the completion syncs",
        |v| v == "0",
    )
    .await;

    // The network goes: another lesson, completed offline, waits.
    proxy.set_online(false);
    let step = "back to the course page";
    find(&client, r#"[data-testid="lesson"] button.link"#, step)
        .await
        .click()
        .await
        .expect(step);
    let step = "opening another text lesson offline";
    let second = open_next_text_lesson(&client, step).await;
    assert_ne!(first, second, "{step}: a different lesson");
    let step = "marking a lesson complete offline";
    find(&client, r#"[data-testid="mark-complete"]"#, step)
        .await
        .click()
        .await
        .expect(step);
    find(&client, r#"[data-testid="lesson-completed"]"#, step).await;
    let step = "the indicator says offline with 1 change waiting";
    wait_attr(
        &client,
        r#"[data-testid="sync-indicator"]"#,
        "data-online",
        step,
        |v| v == "false",
    )
    .await;
    wait_attr(
        &client,
        r#"[data-testid="sync-indicator"]"#,
        "data-pending",
        step,
        |v| v == "1",
    )
    .await;
    let label = text_of(&client, r#"[data-testid="sync-label"]"#, step).await;
    assert!(
        label.contains("Offline") && label.contains("1 change waiting"),
        "{step}: says {label:?}"
    );
    screenshot(&client, "offline").await;

    // My learning and settings read the cache: they work offline too.
    let step = "my learning shows progress offline";
    find(&client, r#"[data-testid="nav-learning"]"#, step)
        .await
        .click()
        .await
        .expect(step);
    find(&client, r#"[data-testid="learning-item"]"#, step).await;
    screenshot(&client, "my-learning").await;
    let step = "settings show the account offline";
    find(&client, r#"[data-testid="nav-settings"]"#, step)
        .await
        .click()
        .await
        .expect(step);
    let account = text_of(&client, r#"[data-testid="settings-account"]"#, step).await;
    assert!(account.contains(LEARNER), "{step}: shows {account:?}");
    screenshot(&client, "settings").await;

    // The network returns: the waiting change is sent.
    proxy.set_online(true);
    let step = "back online, nothing waits";
    find(&client, r#"[data-testid="sync-now"]"#, step)
        .await
        .click()
        .await
        .expect(step);
    wait_attr(
        &client,
        r#"[data-testid="sync-indicator"]"#,
        "data-pending",
        step,
        |v| v == "0",
    )
    .await;
    wait_attr(
        &client,
        r#"[data-testid="sync-indicator"]"#,
        "data-online",
        step,
        |v| v == "true",
    )
    .await;

    // A video lesson: downloaded with a progress bar, then played from the local file.
    let step = "opening the video lesson of the other enrolled course";
    find(&client, r#"[data-testid="nav-learning"]"#, step)
        .await
        .click()
        .await
        .expect(step);
    let video_course = demo_id(&format!("course/{VIDEO_COURSE}"));
    let item = format!(r#"[data-testid="learning-item"][data-course-id="{video_course}"]"#);
    find(&client, &item, step).await.click().await.expect(step);
    find(
        &client,
        r#"[data-testid="lesson-link"][data-type="video"]"#,
        step,
    )
    .await
    .click()
    .await
    .expect(step);
    let step = "downloading the video for offline";
    find(&client, r#"[data-testid="download"]"#, step)
        .await
        .click()
        .await
        .expect(step);
    find(&client, r#"[data-testid="video-player"]"#, step).await;
    // The player loads the downloaded file through the asset protocol. Whether WebKitGTK's
    // GStreamer then decodes it under Xvfb is not asserted yet (see the desktop issue).
    let step = "the player points at the downloaded file (asset protocol)";
    let src = client
        .execute("return document.querySelector('video').currentSrc;", vec![])
        .await
        .expect(step);
    assert!(
        src.as_str()
            .is_some_and(|s| s.starts_with("asset://localhost/")),
        "{step}: the video's source is {src:?}"
    );
    screenshot(&client, "video").await;

    // The server has both completions.
    let api = Api::new(&server.url);
    let session = skilltrack_tests::api::session(&api.sign_in(LEARNER, LEARNER_PASSWORD).await);
    let course_id = demo_id(&format!("course/{COURSE}"));
    let answer = api
        .get(
            &format!("/api/v1/me/progress?course={course_id}"),
            Some(&session.access_token),
        )
        .await;
    let items = answer.body["items"].as_array().cloned().unwrap_or_default();
    for lesson in [&first, &second] {
        let row: Option<&Value> = items.iter().find(|r| r["lesson_id"] == json!(lesson));
        assert!(
            row.is_some_and(|r| !r["completed_at"].is_null()),
            "the server has the completion of lesson {lesson}: {answer:?}"
        );
    }

    client.close().await.expect("closing the app");
}
