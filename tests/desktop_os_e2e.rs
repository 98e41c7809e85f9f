//! The desktop app among the operating system's things, in its real webview under Xvfb with a
//! session bus of its own: one instance per data directory (a second launch hands its
//! `skilltrack://` link to the first and exits), links at launch, the sync lock the `skilltrack`
//! CLI meets, the window's size kept across runs, the log file Settings names, and a graded
//! essay raised as a desktop notification (read back from the session bus).

use std::path::Path;
use std::process::{Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use skilltrack_protocol::sync::SyncTable;
use skilltrack_tests::desktop::{
    DesktopApp, PATIENCE, SessionBus, click, desktop_binary, find, text_of, wait_text,
};
use skilltrack_tests::process::client_binary;
use skilltrack_tests::spawn_demo_server;

const LEARNER: &str = "learner@skilltrack.dev";
const LEARNER_PASSWORD: &str = "learner-demo-pass";

/// The environment every launch of one test shares: English words, this test's session bus.
fn app_env(bus: &SessionBus) -> [(&'static str, &str); 2] {
    [
        ("LC_ALL", "C.UTF-8"),
        ("DBUS_SESSION_BUS_ADDRESS", bus.address.as_str()),
    ]
}

/// A lesson the app has cached for the signed-in learner: its id and title.
fn cached_lesson(server: &str, data_root: &Path) -> (String, String) {
    let device = skilltrack_client::device::server_data_dir(data_root, server);
    let cache = skilltrack_client::cache::Cache::open(&device.join("cache.sqlite3"))
        .expect("opening the app's cache");
    let lessons = cache
        .all_rows(SyncTable::CourseLessons)
        .expect("reading the cached lessons");
    let lesson = lessons.first().expect("a cached lesson");
    (
        lesson["id"].as_str().expect("an id").to_owned(),
        lesson["title"].as_str().expect("a title").to_owned(),
    )
}

/// Launches the app again as a desktop entry would, with `link` as its argument, on the same
/// display, session bus and data directory as `app`, and waits for it to end.
fn launch_again(
    app: &DesktopApp,
    bus: &SessionBus,
    server: &str,
    data_root: &Path,
    link: &str,
) -> ExitStatus {
    let mut second = Command::new(desktop_binary())
        .arg(link)
        .env("DISPLAY", &app.display)
        .env("SKILLTRACK_SERVER", server)
        .env("SKILLTRACK_DATA_DIR", data_root)
        .env("SKILLTRACK_TOKEN_STORE", "file")
        .envs(app_env(bus))
        .stdout(Stdio::null())
        .spawn()
        .expect("launching the app a second time");
    let deadline = Instant::now() + PATIENCE;
    loop {
        if let Some(status) = second.try_wait().expect("waiting for the second launch") {
            return status;
        }
        if Instant::now() > deadline {
            let _ = second.kill();
            let _ = second.wait();
            panic!("the second launch kept running instead of handing {link} to the first");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn desktop_os_a_second_launch_hands_its_link_to_the_first_and_the_cli_keeps_off_its_cache() {
    let server = spawn_demo_server().await;
    let data = tempfile::tempdir().expect("the app's data directory");
    let bus = SessionBus::start();
    let app =
        DesktopApp::launch_with_env(&desktop_binary(), &server.url, data.path(), &app_env(&bus))
            .await;
    let client = &app.client;
    app.sign_in(LEARNER, LEARNER_PASSWORD).await;
    let (lesson, title) = cached_lesson(&server.url, data.path());

    // A second launch with a lesson's link exits at once, successfully, and the first window
    // shows the lesson.
    let status = launch_again(
        &app,
        &bus,
        &server.url,
        data.path(),
        &format!("skilltrack://lesson/{lesson}"),
    );
    assert!(status.success(), "the second launch ended with {status}");
    let step = "the link handed over opens its lesson in the first window";
    wait_text(client, r#"[data-testid="lesson-title"]"#, step, |t| {
        t == title
    })
    .await;

    // A malformed link is refused in words, and the app carries on.
    let status = launch_again(
        &app,
        &bus,
        &server.url,
        data.path(),
        "skilltrack://lesson/not-a-lesson",
    );
    assert!(status.success(), "the second launch ended with {status}");
    let step = "a malformed link is refused in words";
    let said = wait_text(client, r#"[data-testid="link-refused"]"#, step, |t| {
        t.contains("cannot be opened")
    })
    .await;
    assert!(said.contains("skilltrack://lesson/not-a-lesson"), "{said}");
    click(
        client,
        r#"[data-testid="nav-catalog"]"#,
        "the app still answers",
    )
    .await;
    find(
        client,
        r#"[data-testid="course-card"]"#,
        "the app still answers",
    )
    .await;

    // The app's sync loop holds this server's cache: the CLI on the same cache is refused
    // with the code and the reason, and syncs nothing.
    let device = skilltrack_client::device::server_data_dir(data.path(), &server.url);
    let cli_sync = || {
        Command::new(client_binary())
            .args([
                "--server",
                &server.url,
                "--token-store",
                "file",
                "--data-dir",
            ])
            .arg(&device)
            .arg("sync")
            .output()
            .expect("running skilltrack sync")
    };
    let cli = cli_sync();
    let stderr = String::from_utf8_lossy(&cli.stderr);
    assert!(
        !cli.status.success(),
        "the CLI synced beside the app: {stderr}"
    );
    assert!(stderr.contains("cache_in_use"), "{stderr}");
    assert!(
        stderr.contains("The Skilltrack app is syncing this account; close it or wait"),
        "{stderr}"
    );

    // Once the app is gone, the CLI syncs the same cache (the lock died with the app).
    app.close().await;
    let deadline = Instant::now() + PATIENCE;
    loop {
        let cli = cli_sync();
        if cli.status.success() {
            break;
        }
        let stderr = String::from_utf8_lossy(&cli.stderr);
        // The app's process may take a moment to end after its window closed.
        assert!(
            stderr.contains("cache_in_use") && Instant::now() < deadline,
            "the CLI could not sync after the app closed: {stderr}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn desktop_os_a_link_at_launch_opens_its_lesson_in_the_window_as_it_was_left() {
    let server = spawn_demo_server().await;
    let data = tempfile::tempdir().expect("the app's data directory");
    let bus = SessionBus::start();
    let app =
        DesktopApp::launch_with_env(&desktop_binary(), &server.url, data.path(), &app_env(&bus))
            .await;
    let client = &app.client;
    app.sign_in(LEARNER, LEARNER_PASSWORD).await;
    let (lesson, title) = cached_lesson(&server.url, data.path());

    // The log file Settings names exists and has the app's lines.
    click(client, r#"[data-testid="nav-settings"]"#, "settings").await;
    let log_file = text_of(
        client,
        r#"[data-testid="log-file"]"#,
        "the log file in settings",
    )
    .await;
    let log = std::fs::read_to_string(&log_file)
        .unwrap_or_else(|e| panic!("reading the log file {log_file} Settings names: {e}"));
    assert!(
        log.lines()
            .any(|l| l.contains("skilltrack-desktop starting")),
        "{log_file}: {log}"
    );
    assert!(
        Path::new(&log_file).starts_with(data.path().join("logs")),
        "{log_file}"
    );
    find(
        client,
        r#"[data-testid="open-log-folder"]"#,
        "the log folder button",
    )
    .await;

    // A size of the learner's own, kept when the app closes.
    let (width, height) = (1013, 707);
    client
        .set_window_size(width, height)
        .await
        .expect("resizing the window");
    let deadline = Instant::now() + PATIENCE;
    while client.get_window_size().await.expect("the window's size")
        != (u64::from(width), u64::from(height))
    {
        assert!(
            Instant::now() < deadline,
            "the window never took its new size"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // Kept as it changes (the app may be ended without exiting, as `WebDriver` ends it).
    let kept = data.path().join("window-state.json");
    let deadline = Instant::now() + PATIENCE;
    loop {
        let state = std::fs::read_to_string(&kept).unwrap_or_default();
        if state.contains(&format!("\"width\": {width}")) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the window's size never reached {}: {state:?}",
            kept.display()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    app.close().await;

    // Launched again with a lesson's link (signed in from the kept session): the lesson, in a
    // window of the size it was left at.
    let app = DesktopApp::launch_with_args(
        &desktop_binary(),
        &server.url,
        data.path(),
        &app_env(&bus),
        &[&format!("skilltrack://lesson/{lesson}")],
    )
    .await;
    let client = &app.client;
    let step = "the link the app was launched with opens its lesson";
    wait_text(client, r#"[data-testid="lesson-title"]"#, step, |t| {
        t == title
    })
    .await;
    assert_eq!(
        client.get_window_size().await.expect("the window's size"),
        (u64::from(width), u64::from(height)),
        "the window's size was not kept"
    );
    app.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn desktop_os_an_essay_graded_while_the_app_runs_is_raised_on_the_desktop() {
    use reqwest::Method;
    use serde_json::json;
    use skilltrack_tests::api::Api;
    use skilltrack_tests::desktop::NotificationService;

    let server = spawn_demo_server().await;
    let data = tempfile::tempdir().expect("the app's data directory");
    let bus = SessionBus::start();
    let service = NotificationService::start(&bus).await;
    let app =
        DesktopApp::launch_with_env(&desktop_binary(), &server.url, data.path(), &app_env(&bus))
            .await;
    // The other demo learner, whose essay in the Git quiz waits for the instructor.
    app.sign_in("learner2@skilltrack.dev", "learner2-demo-pass")
        .await;

    // The app has taken stock of the notifications already there (none of them is raised).
    let seen = skilltrack_client::device::server_data_dir(data.path(), &server.url)
        .join("os-notifications.json");
    let deadline = Instant::now() + PATIENCE;
    while !seen.exists() {
        assert!(
            Instant::now() < deadline,
            "the app never looked at its notifications"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    // The instructor grades the essay: the learner's desktop says so.
    let api = Api::new(&server.url);
    let instructor = api
        .sign_in("instructor@skilltrack.dev", "instructor-demo-pass")
        .await;
    let token = instructor.body["access_token"]
        .as_str()
        .expect("an access token")
        .to_owned();
    let queue = api
        .get("/api/v1/authoring/grading-queue", Some(&token))
        .await;
    let waiting = queue.body["items"].as_array().expect("the grading queue");
    assert!(!waiting.is_empty(), "{queue:?}");
    for item in waiting {
        let answer = item["answer_id"].as_str().expect("an answer id");
        let graded = api
            .call(
                Method::PUT,
                &format!("/api/v1/authoring/answers/{answer}/grade"),
                Some(&token),
                Some(json!({"points": 1, "feedback": "Well argued."})),
            )
            .await;
        assert!(graded.status.is_success(), "{graded:?}");
    }
    let deadline = Instant::now() + PATIENCE;
    let raised = loop {
        let raised = service.received();
        if !raised.is_empty() {
            break raised;
        }
        assert!(
            Instant::now() < deadline,
            "no notification reached the desktop's notification service"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(raised.len(), 1, "{raised:?}");
    assert!(raised[0].body.contains("is graded"), "{raised:?}");
    assert!(raised[0].summary.ends_with('%'), "{raised:?}");
    assert_eq!(
        raised[0].actions.first().map(String::as_str),
        Some("default"),
        "{raised:?}"
    );

    // A click on it brings the app to the graded quiz's course, from wherever it was.
    click(
        &app.client,
        r#"[data-testid="nav-settings"]"#,
        "going elsewhere",
    )
    .await;
    service.click(raised[0].id).await;
    find(
        &app.client,
        r#"[data-testid="course"]"#,
        "the graded quiz's course, after the click",
    )
    .await;
    app.close().await;
}
