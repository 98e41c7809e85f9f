//! Every screen a learner meets (sign-in, catalog, my learning, a course, a video and a text
//! lesson, a quiz, the labs and a lab, notifications, settings), checked by axe-core (the
//! accessibility engine of Deque, run in the real webview under `WebDriver`): no violation of
//! serious or critical impact, in the light theme and in the dark one (issue 17, "links and
//! reach"); then the instructor's screens (courses and labs taught, the grading queue, a
//! course previewed as learners see it).

use fantoccini::Client;
use serde_json::{Value, json};
use skilltrack_server::seed::demo_id;
use skilltrack_tests::desktop::{DesktopApp, click, find, tour_instructor_screens};
use skilltrack_tests::spawn_demo_server;

const LEARNER: &str = "learner@skilltrack.dev";
const LEARNER_PASSWORD: &str = "learner-demo-pass";

/// axe-core as npm installed it for the UI (`ui/package.json` pins it).
fn axe_source() -> String {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../ui/node_modules/axe-core/axe.min.js"
    );
    std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("{path}: {e} (scripts/lib.sh runs `npm ci` in ui/)"))
}

/// Runs axe on the window as it is and answers the serious and critical violations, each as
/// `rule (impact): selector: why` lines.
async fn serious_violations(client: &Client, axe: &str, screen: &str) -> Vec<String> {
    let loaded = client
        .execute(&format!("{axe}\n;return typeof axe;"), Vec::new())
        .await
        .unwrap_or_else(|e| panic!("{screen}: loading axe-core: {e}"));
    assert_eq!(loaded, json!("object"), "{screen}: axe-core loaded");
    // A screen still drawing what arrives after it opens (a lesson's streamed captions and
    // poster) can make one run's script fail in the webview: it is run again, a few times.
    let mut attempts = 0;
    let result = loop {
        attempts += 1;
        match client
            .execute_async(
                "const done = arguments[arguments.length - 1];\
                 axe.run(document, { resultTypes: ['violations'] })\
                   .then((r) => done(r.violations.map((v) => ({ id: v.id, impact: v.impact,\
                     help: v.help, nodes: v.nodes.map((n) => n.target.join(' ') + ': ' + n.failureSummary) }))))\
                   .catch((e) => done({ error: String(e) }));",
                Vec::new(),
            )
            .await
        {
            Ok(result) => break result,
            Err(e) if attempts >= 3 => panic!("{screen}: running axe-core: {e}"),
            Err(_) => tokio::time::sleep(std::time::Duration::from_millis(500)).await,
        }
    };
    let Value::Array(violations) = result else {
        panic!("{screen}: axe-core failed: {result}");
    };
    violations
        .iter()
        .filter(|v| matches!(v["impact"].as_str(), Some("serious" | "critical")))
        .flat_map(|v| {
            let rule = format!("{} ({}): {}", v["id"], v["impact"], v["help"]);
            v["nodes"]
                .as_array()
                .cloned()
                .unwrap_or_default()
                .into_iter()
                .map(move |n| format!("{screen}: {rule}: {}", n.as_str().unwrap_or_default()))
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn issue17_no_screen_has_a_serious_accessibility_violation() {
    let server = spawn_demo_server().await;
    let data = tempfile::tempdir().expect("the app's data directory");
    let app = DesktopApp::launch(&server.url, data.path()).await;
    let client = &app.client;
    let axe = axe_source();
    let mut found = Vec::new();

    find(client, r#"[data-testid="sign-in"]"#, "the sign-in screen").await;
    found.extend(serious_violations(client, &axe, "sign-in").await);
    app.sign_in(LEARNER, LEARNER_PASSWORD).await;

    for theme in ["light", "dark"] {
        let step = format!("choosing the {theme} theme");
        click(client, r#"[data-testid="nav-settings"]"#, &step).await;
        find(client, r#"[data-testid="theme"]"#, &step).await;
        client
            .execute(
                "const s = document.querySelector('[data-testid=\"theme\"]'); s.value = arguments[0];\
                 s.dispatchEvent(new Event('change', { bubbles: true }));",
                vec![json!(theme)],
            )
            .await
            .expect("choosing a theme");
        found.extend(serious_violations(client, &axe, &format!("settings ({theme})")).await);

        click(client, r#"[data-testid="nav-catalog"]"#, "the catalog").await;
        find(client, r#"[data-testid="course-card"]"#, "the catalog").await;
        found.extend(serious_violations(client, &axe, &format!("catalog ({theme})")).await);

        click(client, r#"[data-testid="nav-learning"]"#, "my learning").await;
        let course = demo_id("course/intro-to-the-command-line");
        let item = format!(r#"[data-testid="learning-item"][data-course-id="{course}"]"#);
        find(client, &item, "my learning").await;
        found.extend(serious_violations(client, &axe, &format!("my learning ({theme})")).await);

        click(client, &item, "the course page").await;
        find(client, r#"[data-testid="course-title"]"#, "the course page").await;
        found.extend(serious_violations(client, &axe, &format!("course ({theme})")).await);

        click(
            client,
            r#"[data-testid="lesson-link"][data-type="video"]"#,
            "a video lesson",
        )
        .await;
        find(client, r#"[data-testid="video-player"]"#, "a video lesson").await;
        find(client, r#"[data-testid="transcript"]"#, "a video lesson").await;
        found.extend(serious_violations(client, &axe, &format!("video lesson ({theme})")).await);

        click(client, r#"[data-testid="next-lesson"]"#, "a text lesson").await;
        find(client, r#"[data-testid="lesson-body"]"#, "a text lesson").await;
        found.extend(serious_violations(client, &axe, &format!("text lesson ({theme})")).await);

        // A quiz of the course, before it is started.
        click(client, r#"[data-testid="nav-learning"]"#, "a quiz").await;
        click(client, &item, "a quiz").await;
        click(
            client,
            r#"[data-testid="assessment-link"]:not([data-timed="true"])"#,
            "a quiz",
        )
        .await;
        find(client, r#"[data-testid="quiz-title"]"#, "a quiz").await;
        found.extend(serious_violations(client, &axe, &format!("quiz ({theme})")).await);

        click(client, r#"[data-testid="nav-labs"]"#, "the labs").await;
        find(client, r#"[data-testid="labs"]"#, "the labs").await;
        found.extend(serious_violations(client, &axe, &format!("labs ({theme})")).await);

        // A lab's page, not started.
        click(client, r#"[data-testid="lab-card"]"#, "a lab").await;
        find(client, r#"[data-testid="lab"]"#, "a lab").await;
        found.extend(serious_violations(client, &axe, &format!("lab ({theme})")).await);

        click(
            client,
            r#"[data-testid="nav-notifications"]"#,
            "the notifications",
        )
        .await;
        find(
            client,
            r#"[data-testid="notifications"]"#,
            "the notifications",
        )
        .await;
        found.extend(serious_violations(client, &axe, &format!("notifications ({theme})")).await);
    }

    // The instructor's screens (in the dark theme, the last chosen).
    tour_instructor_screens(&app, async |screen| {
        found.extend(serious_violations(client, &axe, screen).await);
    })
    .await;
    app.close().await;
    assert!(
        found.is_empty(),
        "axe-core found {} serious or critical violations:\n{}",
        found.len(),
        found.join("\n")
    );
}
