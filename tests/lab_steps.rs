//! Labs in steps over real HTTP and real sandboxes: authors write steps with their scripts,
//! learners read the steps (never the scripts) and check them in their own sandbox, the last
//! step completes the lab, a looping verify script is stopped at its deadline, and the
//! self-test passes a good lab (every demo lab) and fails a broken one.

use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use skilltrack_tests::api::Api;
use uuid::Uuid;

use crate::labs_api::LabWorld;

/// Two checked steps and one to read.
fn three_steps() -> Value {
    json!({
        "steps": [
            {
                "title": "Make hello.txt",
                "body": "```bash exec\necho hi > ~/hello.txt\n```",
                "hints": ["Use echo and >."],
                "verify": "test -f ~/hello.txt || { echo 'No hello.txt in your home yet'; exit 1; }",
                "solve": "touch ~/hello.txt"
            },
            {
                "title": "Say hi in it",
                "body": "It must say hi.",
                "verify": "grep -q hi ~/hello.txt || { echo 'hello.txt does not say hi'; exit 1; }",
                "solve": "echo hi > ~/hello.txt"
            },
            {"title": "Read on", "body": "Nothing to check here."}
        ],
        "finish": "All done."
    })
}

async fn put_steps(w: &LabWorld, lab: Uuid, steps: Value) -> Value {
    let a = w
        .call(
            Method::PUT,
            &format!("/api/v1/authoring/labs/{lab}/steps"),
            &w.instructor,
            Some(steps),
        )
        .await;
    assert_eq!(a.status, StatusCode::OK, "{a:?}");
    a.body
}

/// Writes a file into a session's workspace through the files API (as the terminal would).
async fn write_file(
    w: &LabWorld,
    who: &skilltrack_protocol::auth::Session,
    session: &str,
    path: &str,
    text: &'static str,
) {
    let upload = reqwest::Client::new()
        .put(format!(
            "{}/api/v1/lab-sessions/{session}/files/content?path={path}",
            w.server.url
        ))
        .bearer_auth(&who.access_token)
        .body(text)
        .send()
        .await
        .unwrap();
    assert!(upload.status().is_success(), "{upload:?}");
}

/// Checks the step the learner is on; panics unless the check ran.
pub(crate) async fn check(
    w: &LabWorld,
    who: &skilltrack_protocol::auth::Session,
    session: &str,
) -> Value {
    let a = w
        .call(
            Method::POST,
            &format!("/api/v1/lab-sessions/{session}/check"),
            who,
            Some(json!({})),
        )
        .await;
    assert_eq!(a.status, StatusCode::OK, "{a:?}");
    a.body
}

#[tokio::test]
async fn a_step_passes_only_once_the_work_is_done_and_the_last_one_completes_the_lab() {
    let w = LabWorld::new(|_| {}).await;
    let saved = put_steps(&w, w.lab, three_steps()).await;
    assert_eq!(saved["steps"].as_array().unwrap().len(), 3);
    assert!(saved["steps"][0]["verify"].as_str().unwrap().len() > 10);
    assert_eq!(saved["steps"][0]["step"]["checked"], true);
    assert_eq!(saved["steps"][2]["step"]["checked"], false);
    // A course lesson embeds the lab; the learner is enrolled in it.
    let owner = w.server.db.owner();
    let course: Uuid = sqlx::query_scalar(
        "WITH s AS (INSERT INTO services (slug, title, description, icon)
                    VALUES ('steps', 'Steps', 'Steps.', 'x') RETURNING id)
         INSERT INTO courses (service_id, instructor_id, slug, title, description, duration, level,
           is_published)
         SELECT s.id, $1, 'steps-course', 'Steps', 'A course.', '1 hour', 'Beginner', true FROM s
         RETURNING id",
    )
    .bind(w.instructor.user.id)
    .fetch_one(owner)
    .await
    .unwrap();
    let module: Uuid = sqlx::query_scalar(
        "INSERT INTO course_modules (course_id, title, sort_order, is_published)
         VALUES ($1, 'One', 0, true) RETURNING id",
    )
    .bind(course)
    .fetch_one(owner)
    .await
    .unwrap();
    let lesson: Uuid = sqlx::query_scalar(
        "INSERT INTO course_lessons (module_id, title, content_type, content_url, sort_order, is_published)
         VALUES ($1, 'The lab', 'lab', '/labs/shell-lab', 0, true) RETURNING id",
    )
    .bind(module)
    .fetch_one(owner)
    .await
    .unwrap();

    let ann = w.learner("ann").await;
    let enrolled = w
        .call(
            Method::POST,
            &format!("/api/v1/courses/{course}/enrollment"),
            &ann,
            None,
        )
        .await;
    assert!(enrolled.status.is_success(), "{enrolled:?}");

    // The learner reads the steps, never the scripts.
    let steps = w
        .call(
            Method::GET,
            &format!("/api/v1/labs/{}/steps", w.lab),
            &ann,
            None,
        )
        .await;
    assert_eq!(steps.status, StatusCode::OK, "{steps:?}");
    assert_eq!(steps.body["steps"].as_array().unwrap().len(), 3);
    assert_eq!(steps.body["steps"][0]["hints"][0], "Use echo and >.");
    assert_eq!(steps.body["finish"], "All done.");
    let text = steps.body.to_string();
    assert!(!text.contains("No hello.txt"), "{text}");
    assert!(!text.contains("grep -q"), "{text}");
    // Nor does their offline sync feed.
    let pull = w
        .call(Method::GET, "/api/v1/sync/pull?limit=5000", &ann, None)
        .await;
    assert_eq!(pull.status, StatusCode::OK);
    let pulled = pull.body.to_string();
    assert!(pulled.contains("shell-lab"), "the pull carries the lab");
    assert!(!pulled.contains("No hello.txt"), "{pulled}");
    assert!(!pulled.contains("grep -q"), "{pulled}");
    let authored = w
        .call(
            Method::GET,
            &format!("/api/v1/authoring/labs/{}/steps", w.lab),
            &ann,
            None,
        )
        .await;
    assert_eq!(authored.status, StatusCode::NOT_FOUND, "{authored:?}");
    // Nor can the learner write them.
    let written = w
        .call(
            Method::PUT,
            &format!("/api/v1/authoring/labs/{}/steps", w.lab),
            &ann,
            Some(three_steps()),
        )
        .await;
    assert_eq!(written.status, StatusCode::NOT_FOUND, "{written:?}");
    let scripts: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM lab_step_scripts c JOIN lab_steps s ON s.id = c.step_id
          WHERE s.lab_id = $1",
    )
    .bind(w.lab)
    .fetch_one(owner)
    .await
    .unwrap();
    assert_eq!(scripts, 2);

    let session = w.start(&ann, w.lab).await;
    let id = session["id"].as_str().unwrap().to_owned();
    assert!(session["steps"].is_null(), "{session}");

    // Not done yet: the check fails with its output as the hint.
    let first = check(&w, &ann, &id).await;
    assert_eq!(first["outcome"], "failed", "{first}");
    assert_eq!(first["position"], 1);
    assert!(
        first["message"]
            .as_str()
            .unwrap()
            .contains("No hello.txt in your home yet"),
        "{first}"
    );
    assert_eq!(first["progress"]["current"], 1);

    // The work, done through the files API (the same workspace the terminal sees).
    write_file(&w, &ann, &id, "hello.txt", "hi\n").await;
    let passed = check(&w, &ann, &id).await;
    assert_eq!(passed["outcome"], "passed", "{passed}");
    assert_eq!(passed["progress"]["current"], 2);
    let record = &passed["progress"]["records"][0];
    assert_eq!(record["attempts"], 2);
    assert!(record["passed_at"].is_string(), "{passed}");

    // The client's own saves never overwrite the server's record of checks.
    let saved = w
        .call(
            Method::PUT,
            &format!("/api/v1/lab-sessions/{id}/progress"),
            &ann,
            Some(json!({"progress_data": {"scroll": 3, "steps": {"current": 3}}})),
        )
        .await;
    assert_eq!(saved.status, StatusCode::OK, "{saved:?}");
    assert_eq!(saved.body["steps"]["current"], 2, "{saved:?}");
    assert_eq!(saved.body["progress_data"]["scroll"], 3);

    let second = check(&w, &ann, &id).await;
    assert_eq!(second["outcome"], "passed", "{second}");
    assert_eq!(second["position"], 2);
    assert!(second["progress"]["completed_at"].is_null());
    // The last step has no verify script: moving on passes it, and completes the lab.
    let last = check(&w, &ann, &id).await;
    assert_eq!(last["outcome"], "passed", "{last}");
    assert_eq!(last["position"], 3);
    assert_eq!(last["progress"]["current"], 4);
    assert!(last["progress"]["completed_at"].is_string(), "{last}");
    assert!(last["message"].as_str().unwrap().contains("complete"));
    let done = w
        .call(
            Method::POST,
            &format!("/api/v1/lab-sessions/{id}/check"),
            &ann,
            Some(json!({})),
        )
        .await;
    assert_eq!(done.status, StatusCode::CONFLICT);
    assert_eq!(done.code(), "lab_steps_done");

    let completions: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM user_activities
          WHERE user_id = $1 AND activity_type = 'lab_complete' AND entity_id = $2",
    )
    .bind(ann.user.id)
    .bind(w.lab)
    .fetch_one(owner)
    .await
    .unwrap();
    assert_eq!(completions, 1);
    let notified: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM notifications WHERE user_id = $1 AND entity_type = 'lab' AND entity_id = $2",
    )
    .bind(ann.user.id)
    .bind(w.lab)
    .fetch_one(owner)
    .await
    .unwrap();
    assert_eq!(notified, 1);
    let lesson_done: Option<i32> = sqlx::query_scalar(
        "SELECT progress_percentage FROM user_progress WHERE user_id = $1 AND lesson_id = $2",
    )
    .bind(ann.user.id)
    .bind(lesson)
    .fetch_optional(owner)
    .await
    .unwrap();
    assert_eq!(lesson_done, Some(100));

    // The session shows the progress to its learner and, read-only, to the lab's instructor.
    for who in [&ann, &w.instructor] {
        let seen = w
            .call(
                Method::GET,
                &format!("/api/v1/lab-sessions/{id}"),
                who,
                None,
            )
            .await;
        assert_eq!(seen.status, StatusCode::OK);
        assert_eq!(seen.body["steps"]["records"].as_array().unwrap().len(), 3);
    }
    // Nobody else checks it.
    let eve = w.learner("eve").await;
    let stranger = w
        .call(
            Method::POST,
            &format!("/api/v1/lab-sessions/{id}/check"),
            &eve,
            Some(json!({})),
        )
        .await;
    assert_eq!(stranger.status, StatusCode::NOT_FOUND, "{stranger:?}");
    let teacher = w
        .call(
            Method::POST,
            &format!("/api/v1/lab-sessions/{id}/check"),
            &w.instructor,
            Some(json!({})),
        )
        .await;
    assert_eq!(teacher.status, StatusCode::FORBIDDEN, "{teacher:?}");
    assert_eq!(teacher.code(), "not_session_owner");
    // A stop does not complete the lab a second time.
    w.stop(&ann, &id).await;
    let completions: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM user_activities
          WHERE user_id = $1 AND activity_type = 'lab_complete' AND entity_id = $2",
    )
    .bind(ann.user.id)
    .bind(w.lab)
    .fetch_one(owner)
    .await
    .unwrap();
    assert_eq!(completions, 1);
}

#[tokio::test]
async fn a_verify_script_that_loops_forever_is_stopped_and_the_session_lives_on() {
    let w = LabWorld::new(|labs| {
        labs.check_deadline = Duration::from_secs(2);
        labs.check_output_cap = 1000;
    })
    .await;
    put_steps(
        &w,
        w.lab,
        json!({"steps": [
            {"title": "Forever", "verify": "yes lab-output-flood | head -c 100000; while :; do :; done"},
            {"title": "Loud", "verify": r"printf 'nul:\0:'; yes x | head -c 5000000; exit 1"}
        ]}),
    )
    .await;
    let bob = w.learner("bob").await;
    let session = w.start(&bob, w.lab).await;
    let id = session["id"].as_str().unwrap().to_owned();
    let slow = {
        let (api, token, id) = (
            Api::new(&w.server.url),
            bob.access_token.clone(),
            id.clone(),
        );
        tokio::spawn(async move {
            api.call(
                Method::POST,
                &format!("/api/v1/lab-sessions/{id}/check"),
                Some(&token),
                Some(json!({})),
            )
            .await
        })
    };
    // While it runs, a second check of the same session is refused at once.
    let labs = w.labs();
    let session_id: Uuid = id.parse().unwrap();
    while !labs.check_running(session_id) {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let second = w
        .call(
            Method::POST,
            &format!("/api/v1/lab-sessions/{id}/check"),
            &bob,
            Some(json!({})),
        )
        .await;
    assert_eq!(second.status, StatusCode::CONFLICT, "{second:?}");
    assert_eq!(second.code(), "check_running");
    let slow = slow.await.unwrap();
    assert_eq!(slow.status, StatusCode::OK, "{slow:?}");
    assert_eq!(slow.body["outcome"], "timed_out", "{slow:?}");
    assert!(slow.body["message"].as_str().unwrap().contains("2 seconds"));
    assert!(!labs.check_running(session_id));

    // The session lives on: still active, and the next check runs.
    let seen = w
        .call(
            Method::GET,
            &format!("/api/v1/lab-sessions/{id}"),
            &bob,
            None,
        )
        .await;
    assert_eq!(seen.body["status"], "active");
    let step_two = seen.body["steps"]["records"][0]["step_id"].clone();
    assert!(step_two.is_string());
    let steps = w
        .call(
            Method::GET,
            &format!("/api/v1/labs/{}/steps", w.lab),
            &bob,
            None,
        )
        .await;
    let loud = w
        .call(
            Method::POST,
            &format!("/api/v1/lab-sessions/{id}/check"),
            &bob,
            Some(json!({"step_id": steps.body["steps"][1]["id"]})),
        )
        .await;
    assert_eq!(loud.status, StatusCode::OK, "{loud:?}");
    assert_eq!(loud.body["outcome"], "failed");
    // Five megabytes of output, kept to the cap; a NUL byte (which no text column takes) is
    // dropped, never a 500.
    let output = loud.body["output"].as_str().unwrap();
    assert!(output.starts_with("nul::x\nx\n"), "{output:?}");
    assert_eq!(output.len(), 999);
    // A step of another lab is not a step of this one.
    let other = w
        .call(
            Method::POST,
            &format!("/api/v1/lab-sessions/{id}/check"),
            &bob,
            Some(json!({"step_id": Uuid::new_v4()})),
        )
        .await;
    assert_eq!(other.status, StatusCode::NOT_FOUND, "{other:?}");
    assert_eq!(other.code(), "lab_step_not_found");
}

#[tokio::test]
async fn a_check_runs_as_the_learner_and_cannot_read_another_learners_workspace() {
    let w = LabWorld::new(|_| {}).await;
    put_steps(
        &w,
        w.lab,
        json!({"steps": [{
            "title": "Look around",
            "verify": "id -un; ls /home; find / -name 'secret-of-*' 2>/dev/null; cat $(find / -name 'secret-of-*' 2>/dev/null) 2>&1; exit 1"
        }]}),
    )
    .await;
    let cat = w.learner("cat").await;
    let dan = w.learner("dan").await;
    let dans = w.start(&dan, w.lab).await;
    let dans_id = dans["id"].as_str().unwrap();
    write_file(&w, &dan, dans_id, "secret-of-dan.txt", "dan's diary").await;
    let cats = w.start(&cat, w.lab).await;
    let result = check(&w, &cat, cats["id"].as_str().unwrap()).await;
    let output = result["output"].as_str().unwrap();
    assert!(!output.contains("dan's diary"), "{output}");
    assert!(!output.contains("secret-of-dan"), "{output}");
    assert!(
        output.starts_with("lab\n"),
        "the lab user, not root: {output}"
    );
    // Dan's own check finds his file.
    let his = check(&w, &dan, dans_id).await;
    assert!(
        his["output"].as_str().unwrap().contains("dan's diary"),
        "{his}"
    );
}

#[tokio::test]
async fn the_self_test_passes_a_good_lab_and_fails_a_broken_one() {
    let w = LabWorld::new(|labs| labs.check_deadline = Duration::from_secs(5)).await;
    put_steps(&w, w.lab, three_steps()).await;
    let test = |body: Value| {
        let w = &w;
        async move {
            w.call(
                Method::POST,
                "/api/v1/authoring/lab-self-tests",
                &w.instructor,
                Some(body),
            )
            .await
        }
    };
    let good = test(json!({"lab_id": w.lab})).await;
    assert_eq!(good.status, StatusCode::OK, "{good:?}");
    assert_eq!(good.body["ok"], true, "{good:?}");
    let steps = good.body["steps"].as_array().unwrap();
    assert_eq!(steps.len(), 3);
    let kinds: Vec<&str> = steps[0]["phases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["verify_before", "solve", "verify_after"]);
    // The self-test's sandbox is gone, and no learner's workspace was touched.
    let left: Vec<_> = std::fs::read_dir(w.server.data_dir.path().join("labs"))
        .map(|d| d.flatten().map(|e| e.file_name()).collect())
        .unwrap_or_default();
    assert!(
        left.iter()
            .all(|n| n.to_string_lossy().parse::<Uuid>().is_err()),
        "{left:?}"
    );

    // A verify that passes a learner who did nothing.
    let lenient = test(json!({"lab_id": w.lab, "steps": {"steps": [
        {"title": "Too easy", "verify": "true", "solve": "true"}
    ]}}))
    .await;
    assert_eq!(lenient.body["ok"], false, "{lenient:?}");
    let phase = &lenient.body["steps"][0]["phases"][0];
    assert_eq!(phase["kind"], "verify_before");
    assert_eq!(phase["ok"], false);
    assert!(phase["message"].as_str().unwrap().contains("did nothing"));
    // A solve that does not solve; the steps after it are not run.
    let broken = test(json!({"steps": {"steps": [
        {"title": "Broken", "verify": "test -f ~/x", "solve": "echo oops > ~/y"},
        {"title": "Never run", "verify": "false", "solve": "true"}
    ]}}))
    .await;
    assert_eq!(broken.body["ok"], false, "{broken:?}");
    assert_eq!(broken.body["steps"].as_array().unwrap().len(), 1);
    let after = &broken.body["steps"][0]["phases"][2];
    assert_eq!(after["kind"], "verify_after");
    assert_eq!(after["ok"], false);
    // A checked step without a solve script cannot be self-tested.
    let unsolvable = test(json!({"steps": {"steps": [{"title": "x", "verify": "false"}]}})).await;
    assert_eq!(unsolvable.body["ok"], false);
    // Nothing to test, and strangers, are refused.
    let nothing = test(json!({})).await;
    assert_eq!(nothing.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(nothing.code(), "nothing_to_test");
    let learner = w.learner("lee").await;
    let refused = w
        .call(
            Method::POST,
            "/api/v1/authoring/lab-self-tests",
            &learner,
            Some(json!({"lab_id": w.lab})),
        )
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{refused:?}");
    assert_eq!(refused.code(), "not_an_author");
    // Bad steps are refused with every problem at once.
    let bad = test(json!({"steps": {"steps": [{"title": " ", "verify": ""}]}})).await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY, "{bad:?}");
    assert_eq!(
        bad.pointers(),
        ["/steps/0/title", "/steps/0/verify"],
        "{bad:?}"
    );
}

#[tokio::test]
async fn every_demo_lab_passes_its_own_self_test() {
    let w = LabWorld::new(|labs| labs.check_deadline = Duration::from_secs(20)).await;
    let media = tempfile::tempdir().unwrap();
    skilltrack_server::seed::load_demo(&w.server.db.db, media.path())
        .await
        .unwrap();
    let admin = w
        .api
        .sign_in("admin@skilltrack.dev", "admin-demo-pass")
        .await;
    let admin = skilltrack_tests::api::session(&admin);
    let labs: Vec<(Uuid, String)> = sqlx::query_as(
        "SELECT l.id, l.slug FROM labs l
          WHERE EXISTS (SELECT 1 FROM lab_steps s WHERE s.lab_id = l.id) ORDER BY l.slug",
    )
    .fetch_all(w.server.db.owner())
    .await
    .unwrap();
    assert!(labs.len() >= 7, "{labs:?}");
    // Every lab of the demo catalog is a lab in steps.
    let demo: Vec<String> = skilltrack_server::seed::catalog()
        .unwrap()
        .labs
        .into_iter()
        .map(|l| l.slug)
        .collect();
    let in_steps: Vec<&String> = labs.iter().map(|(_, slug)| slug).collect();
    for slug in &demo {
        assert!(in_steps.contains(&slug), "{slug} has no steps");
    }
    for (lab, slug) in labs {
        let report = w
            .call(
                Method::POST,
                "/api/v1/authoring/lab-self-tests",
                &admin,
                Some(json!({"lab_id": lab})),
            )
            .await;
        assert_eq!(report.status, StatusCode::OK, "{slug}: {report:?}");
        assert_eq!(
            report.body["ok"],
            true,
            "{slug}: {}",
            serde_json::to_string_pretty(&report.body).unwrap()
        );
    }
}

/// Writes a lab in Killercoda's layout into `dir`: one step whose verify checks `~/done`.
fn write_lab_dir(dir: &std::path::Path, verify: &str) {
    let write = |path: &str, text: &str| {
        let path = dir.join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    };
    write(
        "index.json",
        r#"{"title": "Touch a file",
            "details": {"intro": {"text": "intro.md"},
                        "steps": [{"title": "Touch it", "text": "step1/text.md",
                                   "verify": "step1/verify.sh", "solve": "step1/solve.sh"}],
                        "finish": {"text": "finish.md"}},
            "backend": {"imageid": "ubuntu"}}"#,
    );
    write("intro.md", "# Touch");
    write("step1/text.md", "```bash exec\ntouch ~/done\n```");
    write("step1/verify.sh", verify);
    write("step1/solve.sh", "touch ~/done");
    write("finish.md", "Done.");
}

// Several threads: the test blocks on the CLI while the server answers it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cli_self_tests_a_lab_directory_or_a_saved_lab_and_exits_1_when_it_fails() {
    let w = LabWorld::new(|labs| labs.check_deadline = Duration::from_secs(10)).await;
    put_steps(&w, w.lab, three_steps()).await;
    let data = tempfile::tempdir().unwrap();
    let good = tempfile::tempdir().unwrap();
    write_lab_dir(
        good.path(),
        "test -f ~/done || { echo 'no ~/done yet'; exit 1; }",
    );
    let broken = tempfile::tempdir().unwrap();
    write_lab_dir(broken.path(), "true");
    let url = w.server.url.clone();
    let cli = move |args: Vec<String>| {
        let url = url.clone();
        let data = data.path().to_owned();
        async move {
            tokio::task::spawn_blocking(move || {
                std::process::Command::new(skilltrack_tests::process::client_binary())
                    .args(["--server", &url, "--token-store", "file"])
                    .arg("--data-dir")
                    .arg(&data)
                    .args(&args)
                    .env("SKILLTRACK_PASSWORD", "correct horse battery")
                    .output()
                    .unwrap()
            })
            .await
            .unwrap()
        }
    };
    let text = |out: &std::process::Output| {
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    };
    let signed_in = cli(vec![
        "sign-in".into(),
        "--email".into(),
        "lab-teacher@example.com".into(),
    ])
    .await;
    assert!(signed_in.status.success(), "{}", text(&signed_in));

    let passed = cli(vec![
        "lab".into(),
        "test".into(),
        good.path().display().to_string(),
    ])
    .await;
    assert!(passed.status.success(), "{}", text(&passed));
    assert!(
        text(&passed).contains("Self-test passed"),
        "{}",
        text(&passed)
    );

    let failed = cli(vec![
        "lab".into(),
        "test".into(),
        broken.path().display().to_string(),
    ])
    .await;
    assert_eq!(failed.status.code(), Some(1), "{}", text(&failed));
    assert!(text(&failed).contains("did nothing"), "{}", text(&failed));

    // A saved lab, by its slug; and one that is not there.
    let saved = cli(vec!["lab".into(), "test".into(), "shell-lab".into()]).await;
    assert!(saved.status.success(), "{}", text(&saved));
    assert!(text(&saved).contains("step 3: Read on"), "{}", text(&saved));
    let missing = cli(vec!["lab".into(), "test".into(), "no-such-lab".into()]).await;
    assert_eq!(missing.status.code(), Some(1));
    assert!(text(&missing).contains("no-such-lab"), "{}", text(&missing));
}
