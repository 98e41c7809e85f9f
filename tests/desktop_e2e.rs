//! The desktop app end to end, in its real webview: the built `skilltrack-desktop` under Xvfb,
//! driven over `WebDriver` (`tauri-driver` + `WebKitWebDriver`), against the real server with the demo
//! catalog behind a proxy that can lose the network. Saves screenshots of the main screens
//! (under the target directory; into `docs/screenshots/` for the README with
//! `SKILLTRACK_README_SCREENSHOTS=1`).

use std::time::{Duration, Instant};

use fantoccini::{Client, Locator};
use serde_json::{Value, json};
use skilltrack_server::seed::demo_id;
use skilltrack_tests::api::Api;
use skilltrack_tests::desktop::{
    DesktopApp, PATIENCE, click, find, screenshot, text_of, type_into, wait_attr, wait_text,
};
use skilltrack_tests::proxy::Proxy;
use skilltrack_tests::spawn_demo_server;

const LEARNER: &str = "learner@skilltrack.dev";
const LEARNER_PASSWORD: &str = "learner-demo-pass";
const COURSE: &str = "python-for-data-analysis";
/// The demo learner's other course, which opens with a video lesson.
const VIDEO_COURSE: &str = "intro-to-the-command-line";

/// The untimed quiz of [`VIDEO_COURSE`] (multiple choice, true/false, short answer), which can
/// be taken offline.
const OFFLINE_QUIZ: &str = "Quick Check: Navigation and Files";
/// A free course the demo learner is not enrolled in.
const FREE_COURSE: &str = "docker-fundamentals";
/// A course whose prerequisite ([`FREE_COURSE`]) the demo learner has not completed.
const GATED_COURSE: &str = "kubernetes-in-production";

/// Opens a course from "my learning".
async fn open_enrolled_course(client: &Client, slug: &str, step: &str) {
    click(client, r#"[data-testid="nav-learning"]"#, step).await;
    let course = demo_id(&format!("course/{slug}"));
    let item = format!(r#"[data-testid="learning-item"][data-course-id="{course}"]"#);
    click(client, &item, step).await;
    find(client, r#"[data-testid="course-title"]"#, step).await;
}

/// Opens a course from the catalog.
async fn open_catalog_course(client: &Client, slug: &str, step: &str) {
    click(client, r#"[data-testid="nav-catalog"]"#, step).await;
    let card = format!(r#"[data-testid="course-card"][data-slug="{slug}"]"#);
    click(client, &card, step).await;
    find(client, r#"[data-testid="course-title"]"#, step).await;
}

/// Opens an assessment of the open course page by title.
async fn open_assessment(client: &Client, title: &str, step: &str) {
    let links = {
        find(client, r#"[data-testid="assessment-link"]"#, step).await;
        client
            .find_all(Locator::Css(r#"[data-testid="assessment-link"]"#))
            .await
            .expect(step)
    };
    for link in links {
        if link.text().await.unwrap_or_default().contains(title) {
            link.click().await.expect(step);
            find(client, r#"[data-testid="quiz-title"]"#, step).await;
            return;
        }
    }
    panic!("{step}: the course page lists no assessment called {title:?}");
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
    let server = spawn_demo_server().await;
    let proxy = Proxy::start(&server.url).await;
    let data = tempfile::tempdir().expect("the app's data directory");
    let app = DesktopApp::launch(&proxy.url, data.path()).await;
    let client = &app.client;

    // Sign in.
    let step = "the sign-in screen shows";
    find(client, r#"[data-testid="sign-in"]"#, step).await;
    screenshot(client, "sign-in").await;
    app.sign_in(LEARNER, LEARNER_PASSWORD).await;

    // The catalog arrives with the first sync.
    let step = "the catalog fills from the first sync";
    find(client, r#"[data-testid="course-card"]"#, step).await;
    wait_attr(
        client,
        r#"[data-testid="sync-indicator"]"#,
        "data-online",
        step,
        |v| v == "true",
    )
    .await;
    screenshot(client, "catalog").await;

    // Offline search (the cache's full-text index).
    let step = "searching the catalog for `pandas`";
    type_into(client, r#"[data-testid="catalog-search"]"#, "pandas", step).await;
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
    click(client, &course_css, step).await;
    let title = text_of(client, r#"[data-testid="course-title"]"#, step).await;
    assert_eq!(title, "Python for Data Analysis", "{step}");
    find(
        client,
        r#"[data-testid="lesson-link"]"#,
        "the enrolled learner sees the syllabus's lessons",
    )
    .await;
    screenshot(client, "course").await;

    // A lesson, marked complete online: it reaches the server.
    let step = "opening a text lesson";
    let first = open_next_text_lesson(client, step).await;
    screenshot(client, "lesson").await;
    let step = "marking the lesson complete online";
    click(client, r#"[data-testid="mark-complete"]"#, step).await;
    find(client, r#"[data-testid="lesson-completed"]"#, step).await;
    wait_attr(
        client,
        r#"[data-testid="sync-indicator"]"#,
        "data-pending",
        "the completion syncs",
        |v| v == "0",
    )
    .await;

    // The network goes: another lesson, completed offline, waits.
    proxy.set_online(false);
    let step = "back to the course page";
    click(client, r#"[data-testid="lesson"] button.link"#, step).await;
    let step = "opening another text lesson offline";
    let second = open_next_text_lesson(client, step).await;
    assert_ne!(first, second, "{step}: a different lesson");
    let step = "marking a lesson complete offline";
    click(client, r#"[data-testid="mark-complete"]"#, step).await;
    find(client, r#"[data-testid="lesson-completed"]"#, step).await;
    let step = "the indicator says offline with 1 change waiting";
    wait_attr(
        client,
        r#"[data-testid="sync-indicator"]"#,
        "data-online",
        step,
        |v| v == "false",
    )
    .await;
    wait_attr(
        client,
        r#"[data-testid="sync-indicator"]"#,
        "data-pending",
        step,
        |v| v == "1",
    )
    .await;
    let label = text_of(client, r#"[data-testid="sync-label"]"#, step).await;
    assert!(
        label.contains("Offline") && label.contains("1 change waiting"),
        "{step}: says {label:?}"
    );
    screenshot(client, "offline").await;

    // A timed exam says it needs the network; the untimed quiz is taken offline.
    let step = "the timed final exam says it needs the network offline";
    open_enrolled_course(client, VIDEO_COURSE, step).await;
    open_assessment(client, "Final Exam", step).await;
    let words = text_of(client, r#"[data-testid="needs-network"]"#, step).await;
    assert!(
        words.contains("needs the network") && words.contains("offline"),
        "{step}: says {words:?}"
    );
    let start = find(client, r#"[data-testid="start-attempt"]"#, step).await;
    assert_eq!(
        start.attr("disabled").await.ok().flatten().as_deref(),
        Some("true"),
        "{step}: its start button is disabled"
    );
    let step = "taking the untimed quiz offline";
    click(client, r#"[data-testid="quiz"] button.link"#, step).await;
    open_assessment(client, OFFLINE_QUIZ, step).await;
    click(client, r#"[data-testid="start-attempt"]"#, step).await;
    // cd .. goes up; `ls -a` shows hidden files (true); `pwd` prints the directory.
    click(
        client,
        r#"[data-testid="question"][data-type="multiple_choice"] [data-choice="b"]"#,
        step,
    )
    .await;
    click(
        client,
        r#"[data-testid="question"][data-type="true_false"] [data-choice="true"]"#,
        step,
    )
    .await;
    type_into(
        client,
        r#"[data-testid="question"][data-type="short_answer"] [data-testid="answer-text"]"#,
        "pwd",
        step,
    )
    .await;
    screenshot(client, "quiz").await;
    click(client, r#"[data-testid="submit-attempt"]"#, step).await;
    let step = "the quiz taken offline waits to be graded";
    wait_attr(
        client,
        r#"[data-testid="quiz-result"]"#,
        "data-status",
        step,
        |v| v == "waiting_to_sync",
    )
    .await;
    let words = text_of(client, r#"[data-testid="quiz-status"]"#, step).await;
    assert!(
        words.contains("Waiting to be graded"),
        "{step}: says {words:?}"
    );
    wait_attr(
        client,
        r#"[data-testid="sync-indicator"]"#,
        "data-pending",
        "the quiz waits in the outbox with the lesson",
        |v| v == "2",
    )
    .await;
    screenshot(client, "quiz-waiting").await;

    // My learning and settings read the cache: they work offline too.
    let step = "my learning shows progress offline";
    click(client, r#"[data-testid="nav-learning"]"#, step).await;
    find(client, r#"[data-testid="learning-item"]"#, step).await;
    screenshot(client, "my-learning").await;
    let step = "settings show the account offline";
    click(client, r#"[data-testid="nav-settings"]"#, step).await;
    let account = text_of(client, r#"[data-testid="settings-account"]"#, step).await;
    assert!(account.contains(LEARNER), "{step}: shows {account:?}");
    screenshot(client, "settings").await;

    // The network returns: the waiting change is sent.
    proxy.set_online(true);
    let step = "back online, nothing waits";
    click(client, r#"[data-testid="sync-now"]"#, step).await;
    wait_attr(
        client,
        r#"[data-testid="sync-indicator"]"#,
        "data-pending",
        step,
        |v| v == "0",
    )
    .await;
    wait_attr(
        client,
        r#"[data-testid="sync-indicator"]"#,
        "data-online",
        step,
        |v| v == "true",
    )
    .await;

    // The quiz reached the server and was graded; the pull brought the grade back.
    let step = "back online, the offline quiz is graded with a score";
    open_enrolled_course(client, VIDEO_COURSE, step).await;
    open_assessment(client, OFFLINE_QUIZ, step).await;
    click(
        client,
        r#"[data-testid="attempt"][data-status="graded"]"#,
        step,
    )
    .await;
    wait_attr(
        client,
        r#"[data-testid="quiz-result"]"#,
        "data-status",
        step,
        |v| v == "graded",
    )
    .await;
    let score = text_of(client, r#"[data-testid="quiz-score"]"#, step).await;
    assert!(
        score.starts_with("100%") && score.contains("Passed"),
        "{step}: every answer was right; shows {score:?}"
    );
    find(
        client,
        r#"[data-testid="explanation"]"#,
        "online, the result explains each answer",
    )
    .await;
    screenshot(client, "quiz-result").await;

    // The grade came with a notification: counted in the navigation, read on its screen.
    let step = "the grade's notification is counted in the navigation";
    wait_attr(
        client,
        r#"[data-testid="nav-notifications"]"#,
        "data-unread",
        step,
        |v| v.parse::<u32>().is_ok_and(|n| n >= 1),
    )
    .await;
    click(client, r#"[data-testid="nav-notifications"]"#, step).await;
    let mut titles = Vec::new();
    find(client, r#"[data-testid="notification"]"#, step).await;
    for n in client
        .find_all(Locator::Css(r#"[data-testid="notification"]"#))
        .await
        .expect(step)
    {
        titles.push(n.text().await.unwrap_or_default());
    }
    assert!(
        titles.iter().any(|t| t.contains(OFFLINE_QUIZ)),
        "{step}: a notification names the quiz; shows {titles:?}"
    );
    screenshot(client, "notifications").await;
    let step = "marking every notification read";
    click(client, r#"[data-testid="mark-all-read"]"#, step).await;
    wait_attr(
        client,
        r#"[data-testid="nav-notifications"]"#,
        "data-unread",
        step,
        |v| v == "0",
    )
    .await;
    wait_attr(
        client,
        r#"[data-testid="sync-indicator"]"#,
        "data-pending",
        "the reads sync",
        |v| v == "0",
    )
    .await;

    // Online, the timed exam runs on the server: its clock shows, essays and code wait for the
    // instructor, and the rest is graded at once, its keys kept until the review opens.
    let step = "taking the timed exam online";
    open_enrolled_course(client, VIDEO_COURSE, step).await;
    open_assessment(client, "Final Exam", step).await;
    click(client, r#"[data-testid="start-attempt"]"#, step).await;
    find(client, r#"[data-testid="time-left"]"#, step).await;
    click(
        client,
        r#"[data-testid="question"][data-type="multiple_choice"] [data-choice="b"]"#,
        step,
    )
    .await;
    type_into(
        client,
        r#"[data-testid="question"][data-type="essay"] [data-testid="answer-text"]"#,
        "Permissions decide who may read, write and run a file.",
        step,
    )
    .await;
    find(
        client,
        r#"[data-testid="question"][data-type="code"] textarea"#,
        "the code question shows its starter code",
    )
    .await;
    screenshot(client, "exam").await;
    click(client, r#"[data-testid="submit-attempt"]"#, step).await;
    let step = "the exam's essay and code wait for the instructor";
    wait_attr(
        client,
        r#"[data-testid="quiz-result"]"#,
        "data-status",
        step,
        |v| v == "awaiting_grading",
    )
    .await;
    // The first of its two attempts: right answers and explanations wait until the last
    // attempt or a pass (the exam's review policy), and the result says so.
    find(client, r#"[data-testid="review-closed"]"#, step).await;
    let note = text_of(client, r#"[data-testid="result-note"]"#, step).await;
    assert!(note.contains("once you pass"), "{note}");
    let explained = client
        .find_all(Locator::Css(r#"[data-testid="explanation"]"#))
        .await
        .unwrap();
    assert!(
        explained.is_empty(),
        "an explanation shows while attempts remain"
    );
    screenshot(client, "exam-result").await;

    // Enrolling: the server's refusal in words, then a free course whose lessons arrive.
    let step = "enrolling without the prerequisite is refused, naming it";
    open_catalog_course(client, GATED_COURSE, step).await;
    find(
        client,
        r#"[data-testid="prerequisite"][data-completed="false"]"#,
        step,
    )
    .await;
    click(client, r#"[data-testid="enroll"]"#, step).await;
    let refusal = text_of(client, r#"[data-testid="enroll-error"]"#, step).await;
    assert!(
        refusal.contains("Docker Fundamentals"),
        "{step}: says {refusal:?}"
    );
    let step = "enrolling in a free course brings its lessons";
    open_catalog_course(client, FREE_COURSE, step).await;
    click(client, r#"[data-testid="enroll"]"#, step).await;
    find(client, r#"[data-testid="lesson-link"]"#, step).await;
    find(client, r#"[data-testid="assessment-link"]"#, step).await;
    screenshot(client, "enrolled").await;

    // A review, written on the course page; it reaches the server.
    let step = "writing a review";
    click(client, r#"[data-testid="write-review"]"#, step).await;
    click(client, r#"[data-testid="star"][data-stars="4"]"#, step).await;
    type_into(
        client,
        r#"[data-testid="review-form"] textarea"#,
        "Clear on images versus containers.",
        step,
    )
    .await;
    click(client, r#"[data-testid="save-review"]"#, step).await;
    wait_text(
        client,
        r#"[data-testid="review"][data-mine="true"]"#,
        step,
        |t| t.contains("Clear on images versus containers.") && t.contains("★★★★☆"),
    )
    .await;
    wait_attr(
        client,
        r#"[data-testid="sync-indicator"]"#,
        "data-pending",
        "the review syncs",
        |v| v == "0",
    )
    .await;
    screenshot(client, "reviews").await;

    // A bookmark, listed in "my learning" under the courses.
    let step = "bookmarking the course shows it in my learning";
    // The button sits at the top of the page, under the sticky bar once scrolled past.
    client
        .execute(
            "document.querySelector('[data-testid=\"bookmark\"]').scrollIntoView({ block: 'center' });",
            vec![],
        )
        .await
        .expect(step);
    click(client, r#"[data-testid="bookmark"]"#, step).await;
    click(client, r#"[data-testid="nav-learning"]"#, step).await;
    let free_course = demo_id(&format!("course/{FREE_COURSE}"));
    let bookmark = format!(r#"[data-testid="bookmark-item"][data-course-id="{free_course}"]"#);
    find(client, &bookmark, step).await;
    find(client, r#"[data-testid="no-certificates"]"#, step).await;
    screenshot(client, "my-learning-bookmarks").await;

    // A video lesson: downloaded with a progress bar, then played from the local file.
    let step = "opening the video lesson of the other enrolled course";
    click(client, r#"[data-testid="nav-learning"]"#, step).await;
    let video_course = demo_id(&format!("course/{VIDEO_COURSE}"));
    let item = format!(r#"[data-testid="learning-item"][data-course-id="{video_course}"]"#);
    click(client, &item, step).await;
    click(
        client,
        r#"[data-testid="lesson-link"][data-type="video"]"#,
        step,
    )
    .await;
    let step = "downloading the video for offline";
    click(client, r#"[data-testid="download"]"#, step).await;
    // The stream plays on while the file arrives; the file plays from the next opening.
    find(client, r#"[data-testid="video-downloaded"]"#, step).await;
    click(client, r#"[data-testid="next-lesson"]"#, step).await;
    click(client, r#"[data-testid="previous-lesson"]"#, step).await;
    find(client, r#"[data-testid="video-local"]"#, step).await;
    // Its poster and its captions (English and French, issue 15) came with it.
    let step = "the downloaded video has its poster and captions";
    wait_attr(
        client,
        r#"[data-testid="video-player"]"#,
        "poster",
        step,
        |p| p.starts_with("data:image/png;base64,"),
    )
    .await;
    let tracks = client
        .execute(
            "return [...document.querySelectorAll('[data-testid=\"caption-track\"]')]\
               .map((t) => t.getAttribute('srclang'));",
            vec![],
        )
        .await
        .expect(step);
    assert_eq!(tracks, serde_json::json!(["en", "fr"]), "{step}");
    // The player streams the downloaded file from the app's loopback media server (WebKitGTK
    // cannot play video from a custom scheme): it must really play, not just load.
    let step = "the downloaded video plays from the local file";
    wait_attr(
        client,
        r#"[data-testid="video-player"]"#,
        "src",
        step,
        |s| s.starts_with("http://127.0.0.1:") && !s.contains("/stream/"),
    )
    .await;
    client
        .execute(
            "const v = document.querySelector('video'); v.muted = true; v.play(); return true;",
            vec![],
        )
        .await
        .expect(step);
    let deadline = Instant::now() + PATIENCE;
    loop {
        let state = client
            .execute(
                "const v = document.querySelector('video'); \
                 return [v.currentTime, v.readyState, v.error ? v.error.code : null];",
                vec![],
            )
            .await
            .expect(step);
        if state[0].as_f64().is_some_and(|t| t > 1.0) {
            break;
        }
        assert!(
            state[2].is_null(),
            "{step}: the player failed (MediaError code, readyState): {state:?}"
        );
        assert!(
            Instant::now() < deadline,
            "{step}: the video never played past 1 s: [currentTime, readyState, error] = {state:?}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    screenshot(client, "video").await;

    // Video resume: the player records its position as the lesson's progress share (every
    // 10 s and on pause). Whether GStreamer decodes under Xvfb is not asserted, so the test
    // makes the call the player makes, then sees the lesson reopen at that share.
    let step = "the video's position is kept as its progress share";
    let video_lesson = find(client, "[data-lesson-id]", step)
        .await
        .attr("data-lesson-id")
        .await
        .ok()
        .flatten()
        .expect("the lesson screen names its lesson");
    let recorded = client
        .execute_async(
            "const done = arguments[arguments.length - 1];
             window.__TAURI_INTERNALS__
               .invoke('record_video_position', { lessonId: arguments[0], positionSeconds: 30, durationSeconds: 60 })
               .then(done, (e) => done({ error: e }));",
            vec![json!(video_lesson)],
        )
        .await
        .expect(step);
    assert_eq!(recorded, json!(50), "{step}: half of the video");
    click(client, r#"[data-testid="next-lesson"]"#, step).await;
    click(client, r#"[data-testid="previous-lesson"]"#, step).await;
    wait_attr(
        client,
        r#"[data-testid="video-player"]"#,
        "data-resume-percent",
        "the video lesson reopens at the recorded share",
        |v| v == "50",
    )
    .await;
    wait_attr(
        client,
        r#"[data-testid="sync-indicator"]"#,
        "data-pending",
        "the position syncs",
        |v| v == "0",
    )
    .await;

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

    let video_course = demo_id(&format!("course/{VIDEO_COURSE}"));
    let answer = api
        .get(
            &format!("/api/v1/me/progress?course={video_course}"),
            Some(&session.access_token),
        )
        .await;
    let items = answer.body["items"].as_array().cloned().unwrap_or_default();
    let row = items.iter().find(|r| r["lesson_id"] == json!(video_lesson));
    assert!(
        row.is_some_and(|r| r["progress_percentage"] == json!(50)),
        "the server has the video's resume share, for the learner's other devices: {answer:?}"
    );

    // The server has the review.
    let reviews = api
        .get(&format!("/api/v1/courses/{free_course}/reviews"), None)
        .await;
    assert!(
        reviews
            .body
            .to_string()
            .contains("Clear on images versus containers."),
        "the server has the review: {reviews:?}"
    );

    // Sign out, and sign up as someone new from the sign-in screen.
    let step = "signing out";
    click(client, r#"[data-testid="nav-settings"]"#, step).await;
    click(client, r#"[data-testid="sign-out"]"#, step).await;
    let step = "signing up";
    click(client, r#"[data-testid="toggle-sign-up"]"#, step).await;
    let newcomer = format!("newcomer-{}@example.com", uuid::Uuid::now_v7().simple());
    for (field, value) in [
        ("full_name", "Nora Newcomer"),
        ("email", newcomer.as_str()),
        ("password", "a-long-enough-password"),
    ] {
        let input = find(client, &format!("input[name={field}]"), step).await;
        input.clear().await.expect(step);
        input.send_keys(value).await.expect(step);
    }
    screenshot(client, "sign-up").await;
    click(client, "button[type=submit]", step).await;
    find(
        client,
        r#"[data-testid="course-card"]"#,
        "the new account sees the catalog",
    )
    .await;
    click(client, r#"[data-testid="nav-settings"]"#, step).await;
    let account = text_of(client, r#"[data-testid="settings-account"]"#, step).await;
    assert!(
        account.contains(&newcomer) && account.contains("Nora Newcomer"),
        "{step}: settings show the new account; shows {account:?}"
    );

    app.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_quiz_the_server_refuses_comes_back_with_why_and_can_be_discarded() {
    use reqwest::{Method, StatusCode};
    let server = spawn_demo_server().await;
    let api = Api::new(&server.url);
    let email = format!("refused-{}@example.com", uuid::Uuid::now_v7().simple());
    let me = api
        .sign_up(&email, "a-long-enough-password", "Rae Refused")
        .await;
    let course = demo_id(&format!("course/{VIDEO_COURSE}"));
    let enrolled = api
        .post(
            &format!("/api/v1/courses/{course}/enrollment"),
            Some(&me.access_token),
            json!({}),
        )
        .await;
    assert_eq!(enrolled.status, StatusCode::CREATED, "{enrolled:?}");
    let listed = api
        .get(
            &format!("/api/v1/courses/{course}/assessments"),
            Some(&me.access_token),
        )
        .await;
    let quiz = listed.body["items"]
        .as_array()
        .and_then(|items| items.iter().find(|a| a["title"] == OFFLINE_QUIZ))
        .and_then(|a| a["id"].as_str())
        .unwrap_or_else(|| panic!("{OFFLINE_QUIZ} is listed: {listed:?}"))
        .to_owned();
    // One attempt only, from now on.
    let instructor = skilltrack_tests::api::session(
        &api.sign_in("instructor@skilltrack.dev", "instructor-demo-pass")
            .await,
    );
    let patched = api
        .call(
            Method::PATCH,
            &format!("/api/v1/authoring/assessments/{quiz}"),
            Some(&instructor.access_token),
            Some(json!({"max_attempts": 1})),
        )
        .await;
    assert!(patched.status.is_success(), "{patched:?}");

    let data = tempfile::tempdir().expect("the app's data directory");
    let app = DesktopApp::launch(&server.url, data.path()).await;
    let client = &app.client;
    app.sign_in(&email, "a-long-enough-password").await;
    let step = "starting the quiz on this device";
    open_enrolled_course(client, VIDEO_COURSE, step).await;
    open_assessment(client, OFFLINE_QUIZ, step).await;
    click(client, r#"[data-testid="start-attempt"]"#, step).await;
    click(
        client,
        r#"[data-testid="question"][data-type="true_false"] [data-choice="true"]"#,
        step,
    )
    .await;

    // Meanwhile the learner uses the one attempt on another device.
    let elsewhere = uuid::Uuid::now_v7();
    let taken = api
        .call(
            Method::PUT,
            &format!("/api/v1/attempts/{elsewhere}/submission"),
            Some(&me.access_token),
            Some(json!({"assessment_id": quiz, "answers": []})),
        )
        .await;
    assert!(taken.status.is_success(), "{taken:?}");

    let step = "the server refuses this device's attempt";
    click(client, r#"[data-testid="submit-attempt"]"#, step).await;
    find(
        client,
        r#"[data-testid="attempt-refused"][data-code="no_attempts_left"]"#,
        step,
    )
    .await;
    let words = text_of(client, r#"[data-testid="attempt-refused"]"#, step).await;
    assert!(
        words.contains("did not accept") && words.contains("discard it"),
        "{step}: the notice says what happened and what to do; says {words:?}"
    );
    let picked = find(
        client,
        r#"[data-testid="question"][data-type="true_false"] [data-choice="true"]"#,
        step,
    )
    .await;
    assert_eq!(
        picked.prop("checked").await.expect(step).as_deref(),
        Some("true"),
        "{step}: the answers given are still there"
    );
    screenshot(client, "quiz-refused").await;

    let step = "discarding the refused attempt";
    click(client, r#"[data-testid="discard-attempt"]"#, step).await;
    wait_attr(
        client,
        r#"[data-testid="start-attempt"]"#,
        "disabled",
        "no attempt is left to start",
        |v| v == "true" || v.is_empty(),
    )
    .await;
    assert!(
        client
            .find(Locator::Css(r#"[data-testid="attempt-refused"]"#))
            .await
            .is_err(),
        "{step}: the notice is gone with the attempt"
    );
    app.close().await;
}

/// Issue 14, finding 6: lesson markdown can no longer take the app's window to another page.
/// A lesson carries what an attacker would write — an SVG `<a>`, an image map's `<area>`, both
/// pointing at a fake sign-in page — and a plain link; a script's `window.location` is tried
/// too. The window stays on the app, the fake page is never even asked for, and the plain link
/// opens only after a dialog shows its full address.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn issue14_lesson_links_never_take_the_window_away() {
    use skilltrack_tests::recorder::Recorder;

    let server = spawn_demo_server().await;
    let phish = Recorder::serving(
        "127.0.0.2",
        "text/html",
        b"<!doctype html><h1 id=\"phish\">Your session expired. Sign in again</h1>",
    )
    .await;
    let docs = "https://pandas.pydata.org/docs/user_guide/index.html?from=skilltrack#top";
    let markdown = format!(
        "# Read this first\n\n\
         See [the pandas user guide]({docs}).\n\n\
         <svg width=\"320\" height=\"40\"><a href=\"{p}/svg\"><text x=\"4\" y=\"24\">Your session expired: sign in again</text></a></svg>\n\n\
         <svg width=\"320\" height=\"40\"><a xlink:href=\"{p}/xlink\"><text x=\"4\" y=\"24\">Sign in with xlink</text></a></svg>\n\n\
         <map name=\"signin\"><area shape=\"rect\" coords=\"0,0,320,40\" href=\"{p}/area\"></map>\
         <img usemap=\"#signin\" width=\"320\" height=\"40\" alt=\"Sign in\" \
         src=\"data:image/gif;base64,R0lGODlhAQABAIAAAP///wAAACH5BAEAAAAALAAAAAABAAEAAAICRAEAOw==\">\n",
        p = phish.url
    );
    // Every text lesson of the course says so (fixtures write straight to the database).
    let course = demo_id(&format!("course/{VIDEO_COURSE}"));
    sqlx::query(
        "UPDATE course_lessons SET content_body = $2
         WHERE content_type = 'text'
           AND module_id IN (SELECT id FROM course_modules WHERE course_id = $1)",
    )
    .bind(course)
    .bind(&markdown)
    .execute(server.db.owner())
    .await
    .expect("writing the lesson");
    let api = Api::new(&server.url);
    let email = format!("links-{}@example.com", uuid::Uuid::now_v7().simple());
    let me = api
        .sign_up(&email, "a-long-enough-password", "Lin Links")
        .await;
    let enrolled = api
        .post(
            &format!("/api/v1/courses/{course}/enrollment"),
            Some(&me.access_token),
            json!({}),
        )
        .await;
    assert!(enrolled.status.is_success(), "{enrolled:?}");

    let data = tempfile::tempdir().expect("the app's data directory");
    let app = DesktopApp::launch(&server.url, data.path()).await;
    let client = &app.client;
    app.sign_in(&email, "a-long-enough-password").await;
    open_enrolled_course(client, VIDEO_COURSE, "opening the course").await;
    open_next_text_lesson(client, "opening the lesson with the links").await;
    let app_page = client
        .execute("return window.location.href;", vec![])
        .await
        .expect("the app's address");
    let app_page = app_page.as_str().unwrap_or_default().to_owned();
    let still_here = |step: &'static str| {
        let app_page = app_page.clone();
        async move {
            find(client, r#"[data-testid="lesson-body"]"#, step).await;
            let now = client
                .execute("return window.location.href;", vec![])
                .await
                .expect(step);
            assert_eq!(
                now.as_str(),
                Some(app_page.as_str()),
                "{step}: the window left the app"
            );
        }
    };

    // The links an attacker writes: clicked, they go nowhere.
    let step = "clicking the SVG link";
    click(client, r#"[data-testid="lesson-body"] svg text"#, step).await;
    still_here(step).await;
    let step = "clicking the image map's area";
    click(client, r#"[data-testid="lesson-body"] img[usemap]"#, step).await;
    still_here(step).await;
    let anchors = client
        .execute(
            "return [...document.querySelectorAll('[data-testid=\"lesson-body\"] [href], \
             [data-testid=\"lesson-body\"] [*|href]')].map((e) => e.getAttribute('href') \
             || e.getAttributeNS('http://www.w3.org/1999/xlink', 'href'));",
            vec![],
        )
        .await
        .expect("the lesson's links");
    assert_eq!(
        anchors,
        json!([docs]),
        "only the plain link keeps an address"
    );

    // A script's navigation is refused by the shell, which says so.
    let step = "a script sets window.location";
    let target = format!("{}/script", phish.url);
    client
        .execute(
            "window.location.href = arguments[0]; return true;",
            vec![json!(target)],
        )
        .await
        .expect(step);
    let notice = text_of(client, r#"[data-testid="navigation-refused"]"#, step).await;
    assert!(
        notice.contains(&target),
        "{step}: the notice says {notice:?}"
    );
    still_here(step).await;

    // The plain link asks first, showing where it goes in full; staying keeps the lesson.
    let step = "clicking the plain link asks first";
    click(
        client,
        r#"[data-testid="lesson-body"] a[href^="https://pandas.pydata.org"]"#,
        step,
    )
    .await;
    let shown = text_of(client, r#"[data-testid="link-confirm-url"]"#, step).await;
    assert_eq!(shown, docs, "{step}: the dialog shows the whole address");
    screenshot(client, "link-confirm").await;
    click(client, r#"[data-testid="link-confirm-cancel"]"#, step).await;
    let deadline = Instant::now() + PATIENCE;
    while client
        .find(Locator::Css(r#"[data-testid="link-confirm"]"#))
        .await
        .is_ok()
    {
        assert!(Instant::now() < deadline, "{step}: the dialog never closed");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    still_here(step).await;

    // The opener plugin opens web and mail addresses only (the capability's scope).
    let opened = client
        .execute_async(
            "const done = arguments[arguments.length - 1];
             window.__TAURI_INTERNALS__
               .invoke('plugin:opener|open_url', { url: 'file:///etc/passwd' })
               .then(() => done('opened'), (e) => done({ refused: String(e) }));",
            vec![],
        )
        .await
        .expect("asking the opener for a file");
    assert!(
        opened.get("refused").is_some(),
        "the opener opened a file: {opened}"
    );

    assert_eq!(
        phish.seen(),
        [],
        "the fake sign-in page was asked for: the window tried to leave the app"
    );
    app.close().await;
}

/// Issue 14, finding 12 on the desktop: a remote plain `http://` server is refused with words
/// that say what to use instead — when named at start (the app starts on the local default
/// and says why) and when typed on the sign-in screen; the real (loopback) server still works.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn issue14_the_sign_in_screen_refuses_a_remote_plain_http_server() {
    let server = spawn_demo_server().await;
    let data = tempfile::tempdir().expect("the app's data directory");
    let app = DesktopApp::launch("http://example.test:8787", data.path()).await;
    let client = &app.client;

    let step = "the server named at start is refused, and the app says why";
    let words = text_of(client, r#"[data-testid="server-refused"]"#, step).await;
    assert!(
        words.contains("http://example.test:8787") && words.contains("https://"),
        "{step}: says {words:?}"
    );
    let shown = text_of(client, r#"[data-testid="server-url"]"#, step).await;
    assert_eq!(shown, "http://127.0.0.1:8787", "{step}: the app fell back");

    let step = "typing a remote http:// server on the sign-in screen";
    click(client, r#"[data-testid="change-server"]"#, step).await;
    let input = find(client, "input[name=server]", step).await;
    input.clear().await.expect(step);
    input
        .send_keys("http://skilltrack.example.com")
        .await
        .expect(step);
    click(client, r#"[data-testid="use-server"]"#, step).await;
    let error = text_of(client, r#"[data-testid="sign-in-error"]"#, step).await;
    assert!(
        error.contains("https://") && error.contains("unencrypted"),
        "{step}: says {error:?}"
    );
    screenshot(client, "server-refused").await;
    let still = text_of(client, r#"[data-testid="server-url"]"#, step).await;
    assert_eq!(still, "http://127.0.0.1:8787", "{step}: nothing changed");

    let step = "the loopback server is accepted and signing in works";
    let input = find(client, "input[name=server]", step).await;
    input.clear().await.expect(step);
    input.send_keys(&server.url).await.expect(step);
    click(client, r#"[data-testid="use-server"]"#, step).await;
    wait_text(client, r#"[data-testid="server-url"]"#, step, |t| {
        t == server.url
    })
    .await;
    assert!(
        client
            .find(Locator::Css(r#"[data-testid="server-refused"]"#))
            .await
            .is_err(),
        "{step}: the old refusal is gone"
    );
    app.sign_in(LEARNER, LEARNER_PASSWORD).await;
    app.close().await;
}
