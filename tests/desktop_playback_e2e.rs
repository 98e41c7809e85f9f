//! Course playback as learners expect it (issue 17), in the real app under `WebDriver`: a video
//! streams at once before any download and seeks (HTTP Range through the app's loopback
//! proxy), its captions show in the chosen language and its transcript follows and seeks, the
//! speed and caption language are remembered across launches, the keyboard drives the player,
//! an MP4 lesson plays as well as a WebM one, an offline lesson that was never downloaded says
//! so, and the dark theme applies.

use std::time::{Duration, Instant};

use fantoccini::Client;
use fantoccini::actions::{InputSource as _, KeyAction, KeyActions};
use serde_json::{Value, json};
use skilltrack_server::seed::demo_id;
use skilltrack_tests::desktop::{
    DesktopApp, PATIENCE, click, desktop_binary, find, screenshot, wait_attr, wait_text,
};
use skilltrack_tests::proxy::Proxy;
use skilltrack_tests::spawn_demo_server;

const LEARNER: &str = "learner@skilltrack.dev";
const LEARNER_PASSWORD: &str = "learner-demo-pass";
/// Enrolled by the seed; opens with a WebM video lesson with English and French captions.
const WEBM_COURSE: &str = "intro-to-the-command-line";
/// Free, not enrolled; opens with an MP4 (H.264) video lesson.
const MP4_COURSE: &str = "git-and-github-essentials";

/// Polls `script` (a function body returning a value) until `done` accepts what it returns.
async fn until(client: &Client, script: &str, step: &str, done: impl Fn(&Value) -> bool) -> Value {
    let deadline = Instant::now() + PATIENCE;
    loop {
        let value = client
            .execute(script, Vec::new())
            .await
            .unwrap_or_else(|e| panic!("{step}: {e}"));
        if done(&value) {
            return value;
        }
        assert!(
            Instant::now() < deadline,
            "{step}: still {value} after {PATIENCE:?}"
        );
        tokio::time::sleep(Duration::from_millis(150)).await;
    }
}

/// Chooses `value` in the `<select>` at `css`, as a learner's pick does (a `change` event).
async fn choose(client: &Client, css: &str, value: &str, step: &str) {
    find(client, css, step).await;
    client
        .execute(
            "const s = document.querySelector(arguments[0]); s.value = arguments[1];\
             s.dispatchEvent(new Event('change', { bubbles: true }));",
            vec![json!(css), json!(value)],
        )
        .await
        .unwrap_or_else(|e| panic!("{step}: {e}"));
}

/// Plays the lesson's video muted and waits until it has played past `seconds`.
async fn plays_past(client: &Client, seconds: f64, step: &str) {
    client
        .execute(
            "const v = document.querySelector('video'); v.muted = true; v.play(); return true;",
            Vec::new(),
        )
        .await
        .unwrap_or_else(|e| panic!("{step}: {e}"));
    let state = until(
        client,
        "const v = document.querySelector('video');\
         return [v.currentTime, v.readyState, v.error ? v.error.code : null];",
        step,
        |s| s[0].as_f64().is_some_and(|t| t > seconds) || !s[2].is_null(),
    )
    .await;
    assert!(state[2].is_null(), "{step}: the player failed: {state}");
}

/// Presses `keys` on whatever has focus (the page, not a field).
async fn press(client: &Client, keys: &str, step: &str) {
    client
        .execute(
            "document.activeElement && document.activeElement.blur();",
            Vec::new(),
        )
        .await
        .unwrap_or_else(|e| panic!("{step}: {e}"));
    let mut actions = KeyActions::new("keyboard".to_owned());
    for key in keys.chars() {
        actions = actions
            .then(KeyAction::Down { value: key })
            .then(KeyAction::Up { value: key });
    }
    client
        .perform_actions(actions)
        .await
        .unwrap_or_else(|e| panic!("{step}: {e}"));
}

/// Where the player plays from, once it has chosen (`currentSrc` stays empty until the
/// player's resource selection has run, a moment after the element appears).
async fn playing_from(client: &Client, step: &str) -> Value {
    until(
        client,
        "return document.querySelector('video')?.currentSrc ?? '';",
        step,
        |s| s.as_str().is_some_and(|s| !s.is_empty()),
    )
    .await
}

/// Waits until the lesson text's picture is drawn, from a `data:` URL (the window's CSP loads
/// pictures from nowhere else).
async fn picture_shows(client: &Client, step: &str) {
    until(
        client,
        "const i = document.querySelector('[data-testid=\"lesson-body\"] img');\
         return i ? [i.getAttribute('src').slice(0, 15), i.complete && i.naturalWidth > 0] : null;",
        step,
        |v| v == &json!(["data:image/png;", true]),
    )
    .await;
}

/// Opens an enrolled course from "my learning".
async fn open_enrolled_course(client: &Client, slug: &str, step: &str) {
    click(client, r#"[data-testid="nav-learning"]"#, step).await;
    let course = demo_id(&format!("course/{slug}"));
    click(
        client,
        &format!(r#"[data-testid="learning-item"][data-course-id="{course}"]"#),
        step,
    )
    .await;
}

async fn open_first_video_lesson(client: &Client, slug: &str, step: &str) {
    open_enrolled_course(client, slug, step).await;
    click(
        client,
        r#"[data-testid="lesson-link"][data-type="video"]"#,
        step,
    )
    .await;
    find(client, r#"[data-testid="video-player"]"#, step).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn issue17_a_video_streams_at_once_with_captions_transcript_speed_and_keys() {
    let server = spawn_demo_server().await;
    let proxy = Proxy::start(&server.url).await;
    let data = tempfile::tempdir().expect("the app's data directory");
    let app = DesktopApp::launch(&proxy.url, data.path()).await;
    let client = &app.client;
    app.sign_in(LEARNER, LEARNER_PASSWORD).await;

    // Online, the video plays before any download, from the app's loopback stream.
    let step = "the WebM lesson streams at once";
    open_first_video_lesson(client, WEBM_COURSE, step).await;
    find(client, r#"[data-testid="video-streaming"]"#, step).await;
    let src = playing_from(client, step).await;
    assert!(
        src.as_str()
            .is_some_and(|s| s.starts_with("http://127.0.0.1:") && s.contains("/stream/")),
        "{step}: plays from {src}"
    );
    plays_past(client, 1.0, step).await;
    // Seeking asks the server for another range of the file.
    let step = "the streamed video seeks";
    client
        .execute(
            "const v = document.querySelector('video'); v.currentTime = 9; return true;",
            Vec::new(),
        )
        .await
        .expect(step);
    until(
        client,
        "const v = document.querySelector('video'); return !v.seeking && v.currentTime >= 9;",
        step,
        |v| v == &json!(true),
    )
    .await;
    let download = find(client, r#"[data-testid="download"]"#, step).await;
    assert_eq!(
        download.text().await.expect(step),
        "Download for offline",
        "{step}: streaming downloads nothing"
    );

    // The streamed video has its poster and its captions, fetched from the server.
    let step = "the streamed video has its poster and captions";
    wait_attr(
        client,
        r#"[data-testid="video-player"]"#,
        "poster",
        step,
        |p| p.starts_with("data:image/png;base64,"),
    )
    .await;
    until(
        client,
        "return [...document.querySelectorAll('[data-testid=\"caption-track\"]')]\
           .map((t) => t.getAttribute('srclang'));",
        step,
        |v| v == &json!(["en", "fr"]),
    )
    .await;

    // The picture in the lesson's text shows too, fetched for this view.
    picture_shows(
        client,
        "online, the lesson's picture shows without a download",
    )
    .await;

    // French captions: shown by the player, and the transcript beside it is the French one.
    let step = "choosing French captions";
    choose(client, r#"[data-testid="captions"]"#, "fr", step).await;
    until(
        client,
        "return [...document.querySelector('video').textTracks]\
           .map((t) => t.language + ':' + t.mode).join(' ');",
        step,
        |v| v == &json!("en:disabled fr:showing"),
    )
    .await;
    wait_attr(
        client,
        r#"[data-testid="transcript"]"#,
        "data-language",
        step,
        |l| l == "fr",
    )
    .await;
    let lines = client
        .execute(
            "return [...document.querySelectorAll('[data-testid=\"transcript-line\"]')].length;",
            Vec::new(),
        )
        .await
        .expect(step);
    assert_eq!(lines, json!(3), "{step}: the clip's three cues");

    // Clicking a transcript line seeks there, and the line is marked as playing.
    let step = "the transcript seeks";
    client
        .execute("document.querySelector('video').pause();", Vec::new())
        .await
        .expect(step);
    click(
        client,
        r#"[data-testid="transcript-line"][data-start="4"]"#,
        step,
    )
    .await;
    until(
        client,
        "return document.querySelector('video').currentTime;",
        step,
        |t| t.as_f64().is_some_and(|t| (4.0..5.0).contains(&t)),
    )
    .await;
    wait_attr(
        client,
        r#"[data-testid="transcript-line"][data-start="4"]"#,
        "aria-current",
        step,
        |v| v == "true",
    )
    .await;
    // Searching keeps only the lines with the words (accents and case aside).
    let step = "searching the transcript";
    let search = find(client, r#"[data-testid="transcript-search"]"#, step).await;
    search.send_keys("ECHO").await.expect(step);
    until(
        client,
        "return [...document.querySelectorAll('[data-testid=\"transcript-line\"]')]\
           .map((l) => l.dataset.start);",
        step,
        |v| v == &json!(["8"]),
    )
    .await;
    client
        .execute(
            "const s = document.querySelector('[data-testid=\"transcript-search\"]'); s.value = '';\
             s.dispatchEvent(new Event('input', { bubbles: true }));",
            Vec::new(),
        )
        .await
        .expect(step);

    // Speed 1.5×, then the keyboard: one step faster, captions off, back 5 seconds.
    let step = "choosing 1.5× speed";
    choose(client, r#"[data-testid="speed"]"#, "1.5", step).await;
    until(
        client,
        "return document.querySelector('video').playbackRate;",
        step,
        |r| r == &json!(1.5),
    )
    .await;
    screenshot(client, "video-player").await;
    let step = "the keyboard drives the player";
    press(client, ">", step).await;
    until(
        client,
        "return document.querySelector('video').playbackRate;",
        step,
        |r| r == &json!(1.75),
    )
    .await;
    press(client, "<", step).await;
    press(client, "c", step).await;
    until(
        client,
        "return [...document.querySelector('video').textTracks].every((t) => t.mode === 'disabled');",
        step,
        |v| v == &json!(true),
    )
    .await;
    press(client, "c", step).await;
    until(
        client,
        "return [...document.querySelector('video').textTracks].find((t) => t.mode === 'showing')?.language ?? null;",
        step,
        |v| v == &json!("fr"),
    )
    .await;

    // An MP4 (H.264) lesson plays too: the learner enrols in the free Git course and opens it.
    let step = "the MP4 lesson plays";
    click(client, r#"[data-testid="nav-catalog"]"#, step).await;
    click(
        client,
        &format!(r#"[data-testid="course-card"][data-slug="{MP4_COURSE}"]"#),
        step,
    )
    .await;
    click(client, r#"[data-testid="enroll"]"#, step).await;
    click(
        client,
        r#"[data-testid="lesson-link"][data-type="video"]"#,
        step,
    )
    .await;
    find(client, r#"[data-testid="video-player"]"#, step).await;
    let src = playing_from(client, step).await;
    assert!(
        src.as_str().is_some_and(|s| s.contains("/stream/")),
        "{step}: {src}"
    );
    // The remembered speed applies to a new video.
    until(
        client,
        "return document.querySelector('video').playbackRate;",
        step,
        |r| r == &json!(1.5),
    )
    .await;
    plays_past(client, 1.0, step).await;

    // Offline, a video that was never downloaded says why it cannot play.
    let step = "offline, a streamed video says it needs the network";
    proxy.set_online(false);
    click(client, r#"[data-testid="next-lesson"]"#, step).await;
    click(client, r#"[data-testid="previous-lesson"]"#, step).await;
    find(client, r#"[data-testid="video-unavailable"]"#, step).await;
    proxy.set_online(true);

    // The dark theme, chosen in Settings, themes every screen.
    let step = "choosing the dark theme";
    click(client, r#"[data-testid="nav-settings"]"#, step).await;
    choose(client, r#"[data-testid="theme"]"#, "dark", step).await;
    until(
        client,
        "return [document.documentElement.dataset.theme, getComputedStyle(document.documentElement).backgroundColor];",
        step,
        |v| v[0] == json!("dark") && v[1] == json!("rgb(18, 24, 31)"),
    )
    .await;
    screenshot(client, "settings-dark").await;
    app.close().await;

    // Launched again: the speed, the captions' language and the theme are as chosen.
    let step = "a new launch remembers the speed, captions and theme";
    let app = DesktopApp::launch(&proxy.url, data.path()).await;
    let client = &app.client;
    find(client, r#"[data-testid="course-card"]"#, step).await;
    until(
        client,
        "return document.documentElement.dataset.theme;",
        step,
        |v| v == &json!("dark"),
    )
    .await;
    open_first_video_lesson(client, WEBM_COURSE, step).await;
    until(
        client,
        "const v = document.querySelector('video');\
         return [v.playbackRate, document.querySelector('[data-testid=\"captions\"]')?.value ?? null];",
        step,
        |v| v == &json!([1.5, "fr"]),
    )
    .await;
    app.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn issue17_a_module_taken_offline_plays_with_its_pictures_without_the_network() {
    let server = spawn_demo_server().await;
    let proxy = Proxy::start(&server.url).await;
    let data = tempfile::tempdir().expect("the app's data directory");
    // What the desktop opens a PDF with: a test machine has no PDF viewer (xdg-open then
    // fails), so the learner's "application" is a script that writes down what it was given.
    // xdg-open falls back to `$BROWSER` for a type nothing else opens.
    let viewer = data.path().join("pdf-viewer");
    let viewer_log = data.path().join("viewed.txt");
    std::fs::write(
        &viewer,
        format!(
            "#!/bin/sh\nprintf '%s\\n' \"$1\" >> '{}'\n",
            viewer_log.display()
        ),
    )
    .expect("writing the viewer");
    std::fs::set_permissions(&viewer, std::os::unix::fs::PermissionsExt::from_mode(0o755))
        .expect("making the viewer runnable");
    let viewer_path = viewer.display().to_string();
    let app = DesktopApp::launch_with_env(
        &desktop_binary(),
        &proxy.url,
        data.path(),
        &[("LC_ALL", "C.UTF-8"), ("BROWSER", viewer_path.as_str())],
    )
    .await;
    let client = &app.client;
    app.sign_in(LEARNER, LEARNER_PASSWORD).await;

    // The first module of the course, its size shown before anything is fetched.
    let step = "downloading the first module for offline";
    open_enrolled_course(client, WEBM_COURSE, step).await;
    let course = demo_id(&format!("course/{WEBM_COURSE}"));
    click(client, r#"[data-testid="download-module"]"#, step).await;
    let size = find(client, r#"[data-testid="download-plan-size"]"#, step)
        .await
        .text()
        .await
        .expect(step);
    assert!(
        size.ends_with("KiB") || size.ends_with("MiB"),
        "{step}: the size shown is {size:?}"
    );
    screenshot(client, "course-download-plan").await;
    click(client, r#"[data-testid="confirm-download"]"#, step).await;
    wait_attr(
        client,
        r#"[data-testid="offline-download"]"#,
        "data-state",
        step,
        |s| s == "done",
    )
    .await;
    screenshot(client, "course-offline").await;

    // The network goes: the module's video plays from disk, with its picture in the text.
    proxy.set_online(false);
    let step = "offline, the module's video lesson plays from disk";
    click(
        client,
        r#"[data-testid="lesson-link"][data-type="video"]"#,
        step,
    )
    .await;
    find(client, r#"[data-testid="video-local"]"#, step).await;
    let src = playing_from(client, step).await;
    assert!(
        src.as_str()
            .is_some_and(|s| s.starts_with("http://127.0.0.1:") && !s.contains("/stream/")),
        "{step}: plays {src}"
    );
    plays_past(client, 1.0, step).await;
    picture_shows(client, "offline, the lesson's picture shows").await;
    let step = "offline, the module's next lesson opens";
    click(client, r#"[data-testid="next-lesson"]"#, step).await;
    find(client, r#"[data-testid="lesson-body"]"#, step).await;

    // Links in its text to other lessons of the course (relative links to their files in the
    // course package) open them in the app, in this module and in another.
    let step = "a link to the module's next lesson opens it in the app";
    let here = find(client, r#"[data-testid="lesson"]"#, step)
        .await
        .attr("data-lesson-id")
        .await
        .expect(step);
    click(
        client,
        r#"[data-testid="lesson-body"] a[href="03-creating-copying-moving-and-deleting.md"]"#,
        step,
    )
    .await;
    wait_text(client, r#"[data-testid="lesson-title"]"#, step, |t| {
        t.contains("Creating, copying")
    })
    .await;
    let dialogs = client
        .find_all(fantoccini::Locator::Css(r#"[data-testid="link-confirm"]"#))
        .await
        .expect(step);
    assert!(dialogs.is_empty(), "{step}: no 'open in browser' dialog");
    click(client, r#"[data-testid="previous-lesson"]"#, step).await;
    wait_attr(
        client,
        r#"[data-testid="lesson"]"#,
        "data-lesson-id",
        step,
        |id| here.as_deref() == Some(id),
    )
    .await;
    // The lesson's PDF came with the module: it opens from disk, offline.
    let step = "offline, the lesson's PDF opens from disk";
    click(
        client,
        r#"[data-testid="lesson-body"] a[href="/media/demo/command-line-cheat-sheet.pdf"]"#,
        step,
    )
    .await;
    let opened = find(client, r#"[data-testid="attachment-opened"]"#, step)
        .await
        .attr("data-path")
        .await
        .expect(step)
        .expect("the opened file's path");
    assert_eq!(
        std::fs::read(&opened).expect(step),
        include_bytes!("../server/seed/media/command-line-cheat-sheet.pdf"),
        "{step}: {opened}"
    );
    // The desktop was asked to open that very file (xdg-open starts the viewer on its own
    // time: the app says it opened the file once xdg-open is launched, not once it ran).
    let deadline = Instant::now() + PATIENCE;
    let asked = loop {
        let asked = std::fs::read_to_string(&viewer_log).unwrap_or_default();
        if !asked.trim().is_empty() || Instant::now() > deadline {
            break asked;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(
        asked.trim(),
        opened,
        "{step}: the viewer was given another file, or none"
    );
    let step = "a link to a lesson of another module opens it in the app";
    click(
        client,
        r#"[data-testid="lesson-body"] a[href^="../02-working-with-text/02-pipes-and-redirection.md"]"#,
        step,
    )
    .await;
    wait_text(client, r#"[data-testid="lesson-title"]"#, step, |t| {
        t == "Pipes and redirection"
    })
    .await;

    // Settings list the course with its files.
    let step = "settings show the course's storage";
    click(client, r#"[data-testid="nav-settings"]"#, step).await;
    let row = find(
        client,
        &format!(r#"[data-testid="offline-course"][data-course-id="{course}"]"#),
        step,
    )
    .await;
    let text = row.text().await.expect(step);
    assert!(text.contains('5'), "{step}: five files: {text:?}");
    screenshot(client, "settings-downloads").await;
    app.close().await;
}

/// The rest of issue 17 in the real app: a link in a quiz's question opens the lesson it names
/// (a relative link in the course package, from `assessments/`), a lesson's link to another
/// course's folder opens that course, neither asks to leave the app; and "keep the next
/// lessons downloaded" in Settings fetches the next lessons of the learner's courses and says
/// so.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn issue17_quiz_and_course_links_open_in_the_app_and_next_lessons_stay_downloaded() {
    let server = spawn_demo_server().await;
    let data = tempfile::tempdir().expect("the app's data directory");
    let app = DesktopApp::launch_with_env(
        &desktop_binary(),
        &server.url,
        data.path(),
        &[("LC_ALL", "C.UTF-8")],
    )
    .await;
    let client = &app.client;
    app.sign_in(LEARNER, LEARNER_PASSWORD).await;

    let step = "a link in a quiz question opens the lesson it names";
    open_enrolled_course(client, WEBM_COURSE, step).await;
    find(client, r#"[data-testid="assessment-link"]"#, step).await;
    let mut opened = false;
    for link in client
        .find_all(fantoccini::Locator::Css(
            r#"[data-testid="assessment-link"]"#,
        ))
        .await
        .expect(step)
    {
        if link
            .text()
            .await
            .unwrap_or_default()
            .contains("Quick Check")
        {
            link.click().await.expect(step);
            opened = true;
            break;
        }
    }
    assert!(opened, "{step}: the course lists its quick check");
    click(client, r#"[data-testid="start-attempt"]"#, step).await;
    click(
        client,
        r#"[data-testid="question"] a[href="../01-getting-started/02-navigating-the-filesystem.md"]"#,
        step,
    )
    .await;
    wait_text(client, r#"[data-testid="lesson-title"]"#, step, |t| {
        t == "Navigating the filesystem"
    })
    .await;

    let step = "a lesson's link to another course's folder opens that course";
    click(
        client,
        r#"[data-testid="lesson-body"] a[href="../../git-and-github-essentials/"]"#,
        step,
    )
    .await;
    wait_text(client, r#"[data-testid="course-title"]"#, step, |t| {
        t == "Git and GitHub Essentials"
    })
    .await;
    let dialogs = client
        .find_all(fantoccini::Locator::Css(r#"[data-testid="link-confirm"]"#))
        .await
        .expect(step);
    assert!(dialogs.is_empty(), "{step}: no 'open in browser' dialog");

    let step = "settings keep the next lessons downloaded";
    click(client, r#"[data-testid="nav-settings"]"#, step).await;
    click(client, r#"[data-testid="keep-next-lessons"]"#, step).await;
    let state = until(
        client,
        "const s = document.querySelector('[data-testid=\"next-lessons-state\"]');\
         return s ? [Number(s.dataset.files), Number(s.dataset.filesDone)] : null;",
        step,
        |v| v[0].as_u64().is_some_and(|n| n > 0) && v[0] == v[1],
    )
    .await;
    screenshot(client, "settings-next-lessons").await;
    // Every file of the next lessons is on disk, in the app's media folder.
    let media: Vec<_> = walk(data.path());
    let kept = media
        .iter()
        .filter(|p| {
            p.extension()
                .and_then(|e| e.to_str())
                .is_some_and(|e| ["webm", "mp4", "png", "jpg", "vtt", "pdf"].contains(&e))
        })
        .count();
    assert!(kept >= 1, "{step}: {state} files kept, on disk: {media:?}");
    app.close().await;
}

/// Every file under `dir`.
fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else {
            out.push(path);
        }
    }
    out
}
