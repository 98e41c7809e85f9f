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
    DesktopApp, click, fail, find, free_port, screenshot, text_of, type_into, wait_text,
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

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn issue15_a_course_folder_previews_live_with_no_server() {
    let tmp = tempfile::tempdir().unwrap();
    let package = tmp.path().join("live-course");
    skilltrack_package::course::write_skeleton(&package).unwrap();
    let data = tempfile::tempdir().expect("the app's data directory");
    // No server: nothing listens on this port, and the app is never signed in.
    let nowhere = format!("http://127.0.0.1:{}", free_port());
    let app = DesktopApp::launch(&nowhere, data.path()).await;
    let client = &app.client;

    let step = "opening the folder from the sign-in screen, by its path";
    click(client, r#"[data-testid="preview-folder-signed-out"]"#, step).await;
    type_into(
        client,
        r#"[data-testid="package-folder"]"#,
        &package.display().to_string(),
        step,
    )
    .await;
    click(client, r#"[data-testid="open-package"]"#, step).await;
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
