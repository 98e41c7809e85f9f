//! The local preview of a course package in the desktop app (issue 15, part 4), in its real
//! webview under Xvfb and `WebDriver`, with no server at all: the app is pointed at a port
//! nobody listens on and is never signed in. A package written into a temporary folder is
//! opened by its path; a lesson's file rewritten on disk repaints the open lesson with no click;
//! a broken `course.json` shows its problem with `file:line:column` in place, and the lesson
//! comes back when it is fixed; the quiz is taken and graded from the package's keys; a lab
//! shows its steps. Nothing of the package reaches the app's cache. Saves the screenshots
//! `package-preview` and `package-preview-problems`.

use std::path::Path;

use skilltrack_tests::desktop::{
    DesktopApp, click, fail, find, free_port, open_package_folder, screenshot, text_of, wait_text,
};

const LESSON: &str = "01-getting-started/01-welcome.md";

/// Every file under `dir` holds none of `needles` (the app's cache and settings).
fn assert_nowhere_in(dir: &Path, needles: &[&str]) {
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            assert_nowhere_in(&path, needles);
        } else if let Ok(bytes) = std::fs::read(&path) {
            let text = String::from_utf8_lossy(&bytes);
            for needle in needles {
                assert!(
                    !text.contains(needle),
                    "{} holds {needle:?}: the preview wrote to the app's data",
                    path.display()
                );
            }
        }
    }
}

/// From a lesson, back to its course page and into its first lesson of `content_type`.
async fn open_lesson_from_the_course(client: &fantoccini::Client, content_type: &str, step: &str) {
    click(
        client,
        r#"section[data-testid="lesson"] > button.link"#,
        step,
    )
    .await;
    click(
        client,
        &format!(r#"[data-testid="lesson-link"][data-type="{content_type}"]"#),
        step,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn issue15_a_course_folder_previews_live_with_no_server() {
    let tmp = tempfile::tempdir().unwrap();
    let package = tmp.path().join("live-course");
    skilltrack_package::course::write_skeleton(&package).unwrap();
    // The lab's step links back to a lesson, as its author's editor follows it (issue 17).
    let step_text = package.join("labs/first-lab/step1/text.md");
    let mut text = std::fs::read_to_string(&step_text).unwrap();
    text.push_str(
        "\nStuck? Read [the welcome lesson](../../../01-getting-started/01-welcome.md) again.\n",
    );
    std::fs::write(&step_text, text).unwrap();
    // A video lesson with its poster and captions in English and French, all files of the
    // package.
    skilltrack_tests::copy_demo_media(
        &package.join("media"),
        &[
            ("intro-to-the-terminal.webm", "tour.webm"),
            ("intro-to-the-terminal.png", "tour.png"),
            ("intro-to-the-terminal.en.vtt", "tour.en.vtt"),
            ("intro-to-the-terminal.fr.vtt", "tour.fr.vtt"),
        ],
    );
    std::fs::write(
        package.join("01-getting-started/04-tour.md"),
        "---\ntitle: A tour\ntype: video\nvideo: media/tour.webm\nposter: media/tour.png\n\
         captions.en: media/tour.en.vtt\ncaptions.fr: media/tour.fr.vtt\n---\n",
    )
    .unwrap();
    let data = tempfile::tempdir().expect("the app's data directory");
    // No server: nothing listens on this port, and the app is never signed in.
    let nowhere = format!("http://127.0.0.1:{}", free_port());
    let app = DesktopApp::launch(&nowhere, data.path()).await;
    let client = &app.client;

    let step = "opening the folder from the sign-in screen, by its path";
    click(client, r#"[data-testid="preview-folder-signed-out"]"#, step).await;
    open_package_folder(client, &package, step).await;
    let banner = text_of(client, r#"[data-testid="package-preview-banner"]"#, step).await;
    assert!(
        banner.contains("Local preview") && banner.contains("live-course"),
        "{step}: the banner says {banner:?}"
    );

    let step = "the catalog card, the course page and the first lesson";
    let card = text_of(client, r#"[data-testid="course-card"]"#, step).await;
    assert!(card.contains("My new course"), "{step}: {card:?}");
    click(client, r#"[data-testid="course-card"]"#, step).await;
    let title = text_of(client, r#"[data-testid="course-title"]"#, step).await;
    assert_eq!(title, "My new course", "{step}");
    click(
        client,
        r#"[data-testid="lesson-link"][data-type="text"]"#,
        step,
    )
    .await;
    wait_text(client, r#"[data-testid="lesson-body"]"#, step, |t| {
        t.contains("edit it in any editor")
    })
    .await;

    let step = "the lesson's file rewritten on disk repaints the open lesson, with no click";
    std::fs::write(
        package.join(LESSON),
        "---\ntitle: Welcome\ntype: text\n---\n\nRewritten on disk while the preview was open.\n",
    )
    .unwrap();
    wait_text(client, r#"[data-testid="lesson-body"]"#, step, |t| {
        t.contains("Rewritten on disk while the preview was open.")
    })
    .await;
    screenshot(client, "package-preview").await;

    let step = "a broken course.json shows its problem in place, with file:line:column";
    let course_json = package.join("course.json");
    let good = std::fs::read_to_string(&course_json).unwrap();
    let line = good
        .lines()
        .position(|l| l.contains("\"level\""))
        .map(|i| i + 1)
        .unwrap();
    std::fs::write(&course_json, good.replace("\"level\"", "\"levle\"")).unwrap();
    let problem = wait_text(
        client,
        r#"[data-testid="package-problem"][data-file="course.json"]"#,
        step,
        |t| t.contains("levle"),
    )
    .await;
    assert!(
        problem.contains(&format!("course.json:{line}:")),
        "{step}: the problem says {problem:?}"
    );
    assert!(problem.contains("Fix:"), "{step}: {problem:?}");
    screenshot(client, "package-preview-problems").await;

    let step = "fixed, the lesson comes back where it was";
    std::fs::write(&course_json, &good).unwrap();
    wait_text(client, r#"[data-testid="lesson-body"]"#, step, |t| {
        t.contains("Rewritten on disk")
    })
    .await;

    let step = "the video lesson plays the package's file with its poster and both captions";
    open_lesson_from_the_course(client, "video", step).await;
    let player = find(client, r#"[data-testid="video-player"]"#, step).await;
    let poster = player
        .attr("poster")
        .await
        .ok()
        .flatten()
        .unwrap_or_default();
    assert!(
        poster.starts_with("data:image/png;base64,iVBORw0KGgo"),
        "{step}: the poster is {poster:.60}"
    );
    let mut languages = Vec::new();
    for track in client
        .find_all(fantoccini::Locator::Css(r#"[data-testid="caption-track"]"#))
        .await
        .unwrap()
    {
        languages.push(
            track
                .attr("srclang")
                .await
                .ok()
                .flatten()
                .unwrap_or_default(),
        );
        let label = track.attr("label").await.ok().flatten().unwrap_or_default();
        let src = track.attr("src").await.ok().flatten().unwrap_or_default();
        assert!(src.starts_with("blob:"), "{step}: a track from {src:?}");
        assert!(!label.is_empty(), "{step}: a track with no label");
    }
    assert_eq!(languages, ["en", "fr"], "{step}");
    // The webview parsed the WebVTT: the English track has the clip's three cues.
    let cues = client
        .execute_async(
            "const done = arguments[arguments.length - 1];\
             const v = document.querySelector('[data-testid=\"video-player\"]');\
             const t = [...v.textTracks].find((t) => t.language === 'en');\
             t.mode = 'hidden';\
             const start = Date.now();\
             (function poll() {\
               if (t.cues && t.cues.length) return done(t.cues.length);\
               if (Date.now() - start > 15000) return done(-1);\
               setTimeout(poll, 50);\
             })();",
            Vec::new(),
        )
        .await
        .unwrap();
    assert_eq!(cues, serde_json::json!(3), "{step}: the English cues");
    open_lesson_from_the_course(client, "text", step).await;

    let step = "the quiz lesson opens the quiz, graded here from the package's keys";
    click(client, r#"[data-testid="next-lesson"]"#, step).await;
    click(client, r#"[data-testid="open-quiz"]"#, step).await;
    click(client, r#"[data-testid="start-attempt"]"#, step).await;
    click(
        client,
        r#"[data-testid="question"]:nth-of-type(1) [data-testid="choice"][data-choice="a"]"#,
        step,
    )
    .await;
    click(
        client,
        r#"[data-testid="question"]:nth-of-type(2) [data-testid="choice"][data-choice="true"]"#,
        step,
    )
    .await;
    click(client, r#"[data-testid="submit-attempt"]"#, step).await;
    let score = text_of(client, r#"[data-testid="quiz-score"]"#, step).await;
    assert!(
        score.contains("100%") && score.contains("Passed"),
        "{step}: {score:?}"
    );
    let explanation = text_of(client, r#"[data-testid="explanation"]"#, step).await;
    assert!(explanation.contains("course.json sits at the package's root"));

    let step = "the lab lesson shows the lab's steps, with no terminal";
    click(client, "section[data-testid=\"quiz\"] > button.link", step).await;
    click(client, r#"[data-testid="next-lesson"]"#, step).await;
    click(client, r#"[data-testid="open-lab"]"#, step).await;
    let lab_step = text_of(client, r#"[data-testid="lab-step"]"#, step).await;
    assert!(lab_step.contains("Create a file"), "{step}: {lab_step:?}");
    if client
        .find(fantoccini::Locator::Css(r#"[data-testid="terminal"]"#))
        .await
        .is_ok()
    {
        fail(client, step, "a preview opened a terminal").await;
    }
    find(client, r#"[data-testid="package-preview-banner"]"#, step).await;
    let step = "a link in the lab's step opens the lesson it names";
    click(
        client,
        r#"[data-testid="preview-lab"] a[href="../../../01-getting-started/01-welcome.md"]"#,
        step,
    )
    .await;
    wait_text(client, r#"[data-testid="lesson-title"]"#, step, |t| {
        t == "Welcome"
    })
    .await;

    app.close().await;
    // Neither the lesson's text nor the quiz's key material reached the app's own data.
    assert_nowhere_in(
        data.path(),
        &[
            "Rewritten on disk",
            "course.json sits at the package's root",
            "live-course",
        ],
    );
}

/// Issue 15, part 4: "Push as draft" from the preview. The demo instructor, signed in, opens a
/// course folder from the Instructor screen and pushes it: a dry run lists what would change,
/// the push creates the course on the server as a draft (learners do not see it), and pushing
/// again says there is nothing to push.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn issue15_a_previewed_folder_is_pushed_as_a_draft() {
    use reqwest::StatusCode;
    use skilltrack_tests::api::{Api, session};

    let server = skilltrack_tests::spawn_demo_server().await;
    let tmp = tempfile::tempdir().unwrap();
    let package = tmp.path().join("pushed-from-preview");
    skilltrack_package::course::write_skeleton(&package).unwrap();
    skilltrack_tests::point_package_at_the_demo(&package);

    let data = tempfile::tempdir().expect("the app's data directory");
    let app = DesktopApp::launch(&server.url, data.path()).await;
    let client = &app.client;
    app.sign_in("instructor@skilltrack.dev", "instructor-demo-pass")
        .await;
    let step = "opening the folder from the Instructor screen";
    click(client, r#"[data-testid="nav-instructor"]"#, step).await;
    open_package_folder(client, &package, step).await;
    find(client, r#"[data-testid="package-preview"]"#, step).await;

    let step = "Push as draft lists what it will change first";
    click(client, r#"[data-testid="push-package"]"#, step).await;
    let plan = text_of(client, r#"[data-testid="push-plan"]"#, step).await;
    for line in [
        "+ create  course pushed-from-preview",
        "+ create  lesson getting-started/welcome",
        "+ create  lab first-lab",
    ] {
        assert!(
            plan.contains(line),
            "{step}: {line:?} missing from {plan:?}"
        );
    }
    let api = Api::new(&server.url);
    let me = session(
        &api.sign_in("instructor@skilltrack.dev", "instructor-demo-pass")
            .await,
    )
    .access_token;
    let path = "/api/v1/authoring/course-packages/pushed-from-preview";
    let before = api.get(path, Some(&me)).await;
    assert_eq!(before.status, StatusCode::NOT_FOUND, "{step}: {before:?}");

    let step = "the push creates the course as a draft";
    click(client, r#"[data-testid="confirm-push"]"#, step).await;
    let done = text_of(
        client,
        r#"[data-testid="push-done"][data-applied="true"]"#,
        step,
    )
    .await;
    assert!(done.contains("stays a draft"), "{step}: {done:?}");
    screenshot(client, "package-preview-pushed").await;
    let after = api.get(path, Some(&me)).await;
    assert_eq!(after.status, StatusCode::OK, "{step}: {after:?}");
    assert_eq!(after.body["is_published"], false, "{step}: {after:?}");
    let id = after.body["course_id"].as_str().unwrap().to_owned();
    let public = api.get(&format!("/api/v1/courses/{id}"), None).await;
    assert_eq!(public.status, StatusCode::NOT_FOUND, "{step}: {public:?}");

    let step = "pushing the same folder again changes nothing";
    click(client, r#"[data-testid="push-package"]"#, step).await;
    let again = text_of(client, r#"[data-testid="push-done"]"#, step).await;
    assert!(again.contains("Nothing to push"), "{step}: {again:?}");
    app.close().await;
}
