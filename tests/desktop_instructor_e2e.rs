//! The instructor in the desktop app (issue #7, part 3): their courses with drafts, preview as a
//! learner over a draft, publishing (refused in words when not ready or offline), and the
//! grading queue. One test drives the client engine headless against the real server; the other
//! drives the built app in its real webview (Xvfb + tauri-driver), saving the screenshots
//! `instructor`, `preview` and `grading-queue`.

use fantoccini::Locator;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use skilltrack_client::api::ApiError;
use skilltrack_client::authoring::is_offline;
use skilltrack_client::sync::{SyncError, lock};
use skilltrack_client::tokens::StoreKind;
use skilltrack_protocol::sync::SyncTable;
use skilltrack_server::seed::demo_id;
use skilltrack_tests::api::{Api, session};
use skilltrack_tests::desktop::{
    DesktopApp, click, find, screenshot, text_of, type_into, wait_attr,
};
use skilltrack_tests::proxy::Proxy;
use skilltrack_tests::spawn_demo_server;
use uuid::Uuid;

const INSTRUCTOR: &str = "instructor@skilltrack.dev";
const INSTRUCTOR_PASSWORD: &str = "instructor-demo-pass";
const LEARNER: &str = "learner@skilltrack.dev";
const LEARNER_PASSWORD: &str = "learner-demo-pass";
/// The demo instructor's unpublished course (two modules of text lessons).
const DRAFT: &str = "linux-incident-response";
/// A course of the demo instructor the demo learner is enrolled in, whose second assessment (a
/// timed final exam) ends with an essay (question 6) and a code question (question 7).
const EXAM_COURSE: &str = "intro-to-the-command-line";

fn draft_id() -> Uuid {
    demo_id(&format!("course/{DRAFT}"))
}

/// Sets `is_published` on every module of the draft, as its instructor.
async fn publish_modules(api: &Api, token: &str, published: bool) {
    for m in 0..2 {
        let module = demo_id(&format!("course/{DRAFT}/module/{m}"));
        let a = api
            .call(
                Method::PATCH,
                &format!("/api/v1/authoring/modules/{module}"),
                Some(token),
                Some(json!({"is_published": published})),
            )
            .await;
        assert_eq!(a.status, StatusCode::OK, "{a:?}");
    }
}

#[tokio::test]
async fn an_instructors_device_holds_their_drafts_and_publishing_is_online_only() {
    let server = spawn_demo_server().await;
    let api = Api::new(&server.url);
    let proxy = Proxy::start(&server.url).await;
    let me = session(&api.sign_in(INSTRUCTOR, INSTRUCTOR_PASSWORD).await);
    let dir = tempfile::tempdir().unwrap();
    let engine = skilltrack_client::device::open(&proxy.url, dir.path(), &StoreKind::File)
        .expect("opening the instructor's device");
    engine.adopt(me.clone()).await.unwrap();
    engine.sync_once().await.unwrap();

    // The pull brought the draft with its modules and lessons: the list and the learner
    // screens (which read the same cache) have all they need offline.
    let taught = engine.taught_courses(me.user.id).unwrap();
    assert!(
        taught
            .iter()
            .all(|t| t.course["instructor_id"] == json!(me.user.id.to_string())),
        "only the instructor's own courses"
    );
    let draft = taught
        .iter()
        .find(|t| t.course["slug"] == json!(DRAFT))
        .expect("the draft is among the instructor's courses");
    assert_eq!(draft.course["is_published"], json!(false));
    assert_eq!((draft.modules, draft.draft_modules), (2, 0));
    assert!(draft.lessons >= 2, "its lessons arrived: {}", draft.lessons);
    let first_lesson = lock(engine.cache())
        .syllabus(&draft_id().to_string())
        .unwrap()
        .first()
        .and_then(|m| m.lessons.first())
        .map(|l| l.lesson.clone())
        .expect("a lesson of the draft in the cache");
    assert!(
        first_lesson["content_body"]
            .as_str()
            .is_some_and(|b| b.contains("playbook")),
        "the lesson's text is on the device: {first_lesson}"
    );

    // A learner's device never receives it.
    let learner = session(&api.sign_in(LEARNER, LEARNER_PASSWORD).await);
    let learner_dir = tempfile::tempdir().unwrap();
    let learner_engine =
        skilltrack_client::device::open(&server.url, learner_dir.path(), &StoreKind::File).unwrap();
    learner_engine.adopt(learner).await.unwrap();
    learner_engine.sync_once().await.unwrap();
    assert!(
        lock(learner_engine.cache())
            .row(SyncTable::Courses, draft_id())
            .unwrap()
            .is_none(),
        "a learner's cache holds no draft"
    );

    // Not ready: refused, with the server's checks in words.
    publish_modules(&api, &me.access_token, false).await;
    match engine.publish_course(draft_id()).await {
        Err(SyncError::Api(ApiError::Problem { code, detail, .. })) => {
            assert_eq!(code, "course_incomplete");
            assert!(
                detail.contains("Publish at least one module"),
                "the refusal says what is missing: {detail}"
            );
        }
        other => panic!("publishing an incomplete course was not refused: {other:?}"),
    }
    publish_modules(&api, &me.access_token, true).await;

    // Offline: publishing is not queued; it fails as offline and nothing changes.
    proxy.set_online(false);
    let offline = engine.publish_course(draft_id()).await.unwrap_err();
    assert!(is_offline(&offline), "{offline:?}");
    assert_eq!(lock(engine.cache()).outbox_len().unwrap(), 0);
    let still = api
        .get(&format!("/api/v1/courses/{}", draft_id()), None)
        .await;
    assert_eq!(still.status, StatusCode::NOT_FOUND, "{still:?}");
    proxy.set_online(true);

    // Online: published, and the next pull brings the new state to the device.
    let detail = engine.publish_course(draft_id()).await.unwrap();
    assert!(detail.course.is_published);
    engine.sync_once().await.unwrap();
    let row = lock(engine.cache())
        .row(SyncTable::Courses, draft_id())
        .unwrap()
        .expect("still on the device");
    assert_eq!(row["is_published"], json!(true));
    let unpublished = engine.unpublish_course(draft_id()).await.unwrap();
    assert!(!unpublished.course.is_published);
}

/// The demo learner takes the final exam of [`EXAM_COURSE`] and answers only its essay, so the
/// essay is the attempt's one answer waiting for the instructor. Returns the attempt.
async fn essay_waiting_for_grade(api: &Api, essay: &str) -> (Uuid, String) {
    let learner = session(&api.sign_in(LEARNER, LEARNER_PASSWORD).await);
    let exam = demo_id(&format!("course/{EXAM_COURSE}/assessment/1"));
    let essay_question = demo_id(&format!("course/{EXAM_COURSE}/assessment/1/question/6"));
    let attempt = Uuid::now_v7();
    let started = api
        .post(
            &format!("/api/v1/assessments/{exam}/attempts"),
            Some(&learner.access_token),
            json!({"id": attempt}),
        )
        .await;
    assert!(started.status.is_success(), "{started:?}");
    let submitted = api
        .call(
            Method::PUT,
            &format!("/api/v1/attempts/{attempt}/submission"),
            Some(&learner.access_token),
            Some(json!({"assessment_id": exam, "answers": [
                {"question_id": essay_question, "answer": essay}
            ]})),
        )
        .await;
    assert_eq!(submitted.status, StatusCode::OK, "{submitted:?}");
    assert_eq!(submitted.body["state"], "awaiting_grading", "{submitted:?}");
    (attempt, learner.access_token)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_instructor_previews_publishes_and_grades_in_the_desktop_app() {
    let server = spawn_demo_server().await;
    let api = Api::new(&server.url);
    let essay = "`>` truncates the file and writes; `>>` appends. Use `>>` for a log you keep.";
    let (attempt, learner_token) = essay_waiting_for_grade(&api, essay).await;
    let proxy = Proxy::start(&server.url).await;
    let data = tempfile::tempdir().expect("the app's data directory");
    let app = DesktopApp::launch(&proxy.url, data.path()).await;
    let client = &app.client;
    app.sign_in(INSTRUCTOR, INSTRUCTOR_PASSWORD).await;

    // My courses: the draft is there, marked as one.
    let step = "opening the instructor's courses";
    click(client, r#"[data-testid="nav-instructor"]"#, step).await;
    let draft_css = format!(r#"[data-testid="instructor-course"][data-slug="{DRAFT}"]"#);
    wait_attr(client, &draft_css, "data-published", step, |v| v == "false").await;
    let status = text_of(
        client,
        &format!(r#"{draft_css} [data-testid="course-status"]"#),
        step,
    )
    .await;
    assert_eq!(status.to_lowercase(), "draft", "{step}");
    screenshot(client, "instructor").await;

    // Preview: the learner's course and lesson screens over the draft, under a banner.
    let step = "previewing the draft as a learner";
    click(
        client,
        &format!(r#"{draft_css} [data-testid="preview"]"#),
        step,
    )
    .await;
    find(client, r#"[data-testid="preview-banner"]"#, step).await;
    wait_attr(
        client,
        r#"[data-testid="preview-banner"]"#,
        "data-published",
        "the banner says the course is a draft",
        |v| v == "false",
    )
    .await;
    let title = text_of(client, r#"[data-testid="course-title"]"#, step).await;
    assert_eq!(title, "Linux Incident Response", "{step}");
    // The lesson still being written is marked as the instructor's alone; the others are not.
    let marked = text_of(
        client,
        r#"[data-testid="lesson-link"]:has([data-testid="draft-lesson"])"#,
        step,
    )
    .await;
    assert!(
        marked.contains("Writing the incident report"),
        "{step}: the unpublished lesson is marked Draft; marked {marked:?}"
    );
    let drafts = client
        .find_all(Locator::Css(r#"[data-testid="draft-lesson"]"#))
        .await
        .expect(step);
    assert_eq!(
        drafts.len(),
        1,
        "{step}: only the unpublished lesson is marked"
    );
    let step = "opening a lesson of the draft in preview";
    click(
        client,
        r#"[data-testid="lesson-link"][data-type="text"]"#,
        step,
    )
    .await;
    let body = text_of(client, r#"[data-testid="lesson-body"]"#, step).await;
    assert!(
        body.contains("incident response playbook"),
        "{step}: the lesson's text shows; it reads {body:?}"
    );
    find(
        client,
        r#"[data-testid="preview-banner"]"#,
        "the lesson keeps the preview banner",
    )
    .await;
    screenshot(client, "preview").await;

    // Publish: the server says it is published.
    let step = "publishing the draft";
    click(client, r#"[data-testid="exit-preview"]"#, step).await;
    click(
        client,
        &format!(r#"{draft_css} [data-testid="publish"]"#),
        step,
    )
    .await;
    find(client, r#"[data-testid="publish-outcome"]"#, step).await;
    wait_attr(client, &draft_css, "data-published", step, |v| v == "true").await;
    let page = api
        .get(&format!("/api/v1/courses/{}", draft_id()), None)
        .await;
    assert_eq!(
        page.status,
        StatusCode::OK,
        "anyone can read the published course: {page:?}"
    );
    assert_eq!(page.body["course"]["is_published"], json!(true), "{page:?}");

    // The grading queue: the learner's essay, graded with points and feedback.
    let step = "opening the grading queue";
    click(client, r#"[data-testid="open-grading-queue"]"#, step).await;
    let pending_css = &format!(
        r#"[data-testid="pending-answer"][data-type="essay"][data-attempt-id="{attempt}"]"#
    );
    let shown = text_of(
        client,
        &format!(r#"{pending_css} [data-testid="answer-text"]"#),
        step,
    )
    .await;
    assert_eq!(shown, essay, "{step}: the learner's answer shows");
    // The demo's own waiting essay (Sam's, on the Git quiz) is in the queue too.
    let queue = text_of(client, r#"[data-testid="grading-queue"]"#, step).await;
    assert!(
        queue.contains("Sam Student") && queue.contains("Git Fundamentals Quiz"),
        "{step}: the demo's waiting essay is in the queue; it shows {queue:?}"
    );
    let step = "giving the essay its points and feedback";
    let answer_id = find(client, pending_css, step)
        .await
        .attr("data-answer-id")
        .await
        .ok()
        .flatten()
        .expect("the pending answer names its id");
    type_into(
        client,
        &format!(r#"{pending_css} input[name="points"]"#),
        "4",
        step,
    )
    .await;
    let feedback = "Clear; mention that both create the file when it is missing.";
    type_into(
        client,
        &format!(r#"{pending_css} textarea[name="feedback"]"#),
        feedback,
        step,
    )
    .await;
    screenshot(client, "grading-queue").await;
    click(
        client,
        &format!(r#"{pending_css} [data-testid="submit-grade"]"#),
        step,
    )
    .await;
    let note = text_of(
        client,
        &format!(r#"[data-testid="graded-note"][data-answer-id="{answer_id}"]"#),
        step,
    )
    .await;
    assert!(
        note.contains("score is final"),
        "{step}: the only hand-graded answer makes the score final: {note:?}"
    );

    // The server has the grade: the learner's attempt is graded with the points and words.
    let graded = api
        .get(&format!("/api/v1/attempts/{attempt}"), Some(&learner_token))
        .await;
    assert_eq!(graded.status, StatusCode::OK, "{graded:?}");
    assert_eq!(graded.body["state"], "graded", "{graded:?}");
    let essay_row: &Value = graded.body["questions"]
        .as_array()
        .and_then(|qs| {
            qs.iter()
                .find(|q| q["question"]["question_type"] == json!("essay"))
        })
        .expect("the essay question in the attempt");
    assert_eq!(essay_row["points_earned"], json!(4), "{graded:?}");
    assert_eq!(essay_row["feedback"], json!(feedback), "{graded:?}");

    // Offline: the list and the preview still work from the cache; publishing says it needs
    // the network and changes nothing.
    proxy.set_online(false);
    let step = "going offline";
    click(client, r#"[data-testid="sync-now"]"#, step).await;
    wait_attr(
        client,
        r#"[data-testid="sync-indicator"]"#,
        "data-online",
        step,
        |v| v == "false",
    )
    .await;
    let step = "unpublishing offline";
    click(client, r#"[data-testid="nav-instructor"]"#, step).await;
    find(client, r#"[data-testid="instructor-offline"]"#, step).await;
    click(
        client,
        &format!(r#"{draft_css} [data-testid="unpublish"]"#),
        step,
    )
    .await;
    let refusal = text_of(client, r#"[data-testid="publish-error"]"#, step).await;
    assert!(
        refusal.contains("needs the server"),
        "{step}: says why in words: {refusal:?}"
    );
    let still = api
        .get(&format!("/api/v1/courses/{}", draft_id()), None)
        .await;
    assert_eq!(still.body["course"]["is_published"], json!(true), "{step}");
    let step = "previewing offline";
    click(
        client,
        &format!(r#"{draft_css} [data-testid="preview"]"#),
        step,
    )
    .await;
    find(client, r#"[data-testid="preview-banner"]"#, step).await;
    find(client, r#"[data-testid="lesson-link"]"#, step).await;
    let lessons = client
        .find_all(Locator::Css(r#"[data-testid="lesson-link"]"#))
        .await
        .expect(step);
    assert!(lessons.len() >= 2, "{step}: the syllabus shows offline");

    app.close().await;
}
