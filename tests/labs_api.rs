//! Labs over real HTTP with real sandboxes: start (one live session per learner per lab,
//! `max_concurrent_users`), pause, resume, stop, list mine, progress, the idle reaper, the
//! files API, and that nobody else reaches a learner's session.

use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use skilltrack_protocol::auth::Session;
use skilltrack_tests::api::{Answer, Api};
use skilltrack_tests::{TestServer, spawn_lab_server};
use uuid::Uuid;

use crate::terminal::Term;

const PASSWORD: &str = "correct horse battery";

/// A server with labs, an instructor and their published labs.
pub(crate) struct LabWorld {
    pub server: TestServer,
    pub api: Api,
    pub instructor: Session,
    /// A published offline lab (`shell-basic`).
    pub lab: Uuid,
    /// A published lab with room for one learner.
    pub small_lab: Uuid,
}

impl LabWorld {
    pub async fn new(configure: impl FnOnce(&mut skilltrack_server::labs::LabSettings)) -> Self {
        let server = spawn_lab_server(configure).await;
        let api = Api::new(&server.url);
        let instructor = api
            .sign_up("lab-teacher@example.com", PASSWORD, "Tess Teacher")
            .await;
        sqlx::query("UPDATE profiles SET role = 'instructor' WHERE id = $1")
            .bind(instructor.user.id)
            .execute(server.db.owner())
            .await
            .unwrap();
        let lab = |slug: &'static str, max: i32| {
            let owner = server.db.owner().clone();
            let teacher = instructor.user.id;
            async move {
                sqlx::query_scalar::<_, Uuid>(
                    "INSERT INTO labs (instructor_id, slug, title, description, difficulty, duration,
                       provider, environment_template, resource_requirements, max_concurrent_users,
                       estimated_cost, is_published, is_free)
                     VALUES ($1, $2, $2, 'A lab.', 'Beginner', '30 min', 'local', 'shell-basic',
                       '{\"cpu\": 1, \"memory\": 1, \"storage\": 1}', $3, 0.0100, true, true)
                     RETURNING id",
                )
                .bind(teacher)
                .bind(slug)
                .bind(max)
                .fetch_one(&owner)
                .await
                .unwrap()
            }
        };
        let lab_id = lab("shell-lab", 100).await;
        let small_lab = lab("small-lab", 1).await;
        // Sign in again: the role is in the profile, the token only names the user.
        Self {
            server,
            api,
            instructor,
            lab: lab_id,
            small_lab,
        }
    }

    /// Another published lab of the instructor's, written as the database's owner (so any
    /// template, networked ones included).
    pub async fn add_lab(&self, slug: &str, template: &str, is_free: bool) -> Uuid {
        sqlx::query_scalar(
            "INSERT INTO labs (instructor_id, slug, title, description, difficulty, duration,
               provider, environment_template, resource_requirements, max_concurrent_users,
               estimated_cost, is_published, is_free)
             VALUES ($1, $2, $2, 'A lab.', 'Beginner', '30 min', 'local', $3,
               '{\"cpu\": 1, \"memory\": 1, \"storage\": 1}', 100, 0.0100, true, $4)
             RETURNING id",
        )
        .bind(self.instructor.user.id)
        .bind(slug)
        .bind(template)
        .bind(is_free)
        .fetch_one(self.server.db.owner())
        .await
        .unwrap()
    }

    /// The server's labs (their counters).
    pub fn labs(&self) -> &skilltrack_server::labs::Labs {
        self.server.labs.as_deref().unwrap()
    }

    pub async fn learner(&self, name: &str) -> Session {
        self.api
            .sign_up(&format!("{name}@example.com"), PASSWORD, name)
            .await
    }

    pub async fn call(
        &self,
        method: Method,
        path: &str,
        who: &Session,
        body: Option<Value>,
    ) -> Answer {
        self.api
            .call(method, path, Some(&who.access_token), body)
            .await
    }

    /// Starts `lab` for `who`; panics unless it starts.
    pub async fn start(&self, who: &Session, lab: Uuid) -> Value {
        let a = self
            .call(
                Method::POST,
                &format!("/api/v1/labs/{lab}/sessions"),
                who,
                Some(json!({})),
            )
            .await;
        assert_eq!(a.status, StatusCode::CREATED, "{a:?}");
        a.body
    }

    pub async fn stop(&self, who: &Session, session: &str) {
        let a = self
            .call(
                Method::POST,
                &format!("/api/v1/lab-sessions/{session}/stop"),
                who,
                None,
            )
            .await;
        assert_eq!(a.status, StatusCode::OK, "{a:?}");
    }

    /// The host path of a learner's workspace of a lab.
    pub fn workspace(&self, who: &Session, lab: Uuid) -> std::path::PathBuf {
        self.server
            .data_dir
            .path()
            .join("labs")
            .join(who.user.id.to_string())
            .join(lab.to_string())
    }

    pub async fn term(&self, who: &Session, session: &str) -> Term {
        Term::connect(&self.server.url, session, &who.access_token).await
    }
}

fn id_of(session: &Value) -> String {
    session["id"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn a_learner_starts_pauses_resumes_and_stops_a_lab() {
    let w = LabWorld::new(|_| {}).await;
    let ana = w.learner("ana").await;
    let s = w.start(&ana, w.lab).await;
    let id = id_of(&s);
    assert_eq!(s["status"], "active");
    assert_eq!(s["environment"]["status"], "running");
    assert_eq!(s["environment"]["profile"], "shell-basic");
    assert_eq!(s["environment"]["network"], false);
    assert_eq!(
        s["terminal_path"],
        format!("/api/v1/lab-sessions/{id}/terminal")
    );
    assert!(s["auto_stop_at"].is_string());
    assert!(w.workspace(&ana, w.lab).is_dir());

    // The start is recorded as an activity.
    let starts: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM user_activities WHERE user_id = $1 AND activity_type = 'lab_start'",
    )
    .bind(ana.user.id)
    .fetch_one(w.server.db.owner())
    .await
    .unwrap();
    assert_eq!(starts, 1);

    // One live session per learner per lab.
    let again = w
        .call(
            Method::POST,
            &format!("/api/v1/labs/{}/sessions", w.lab),
            &ana,
            Some(json!({})),
        )
        .await;
    assert_eq!(again.status, StatusCode::CONFLICT);
    assert_eq!(again.code(), "lab_session_active");

    // A file written in the shell survives pause and resume.
    let mut t = w.term(&ana, &id).await;
    t.run("echo kept > notes.txt").await;
    drop(t);
    let paused = w
        .call(
            Method::POST,
            &format!("/api/v1/lab-sessions/{id}/pause"),
            &ana,
            None,
        )
        .await;
    assert_eq!(paused.status, StatusCode::OK, "{paused:?}");
    assert_eq!(paused.body["status"], "paused");
    assert_eq!(paused.body["environment"]["status"], "paused");
    let twice = w
        .call(
            Method::POST,
            &format!("/api/v1/lab-sessions/{id}/pause"),
            &ana,
            None,
        )
        .await;
    assert_eq!(twice.code(), "invalid_session_state");
    let resumed = w
        .call(
            Method::POST,
            &format!("/api/v1/lab-sessions/{id}/resume"),
            &ana,
            None,
        )
        .await;
    assert_eq!(resumed.status, StatusCode::OK, "{resumed:?}");
    assert_eq!(resumed.body["status"], "active");
    let mut t = w.term(&ana, &id).await;
    assert!(t.run("cat notes.txt").await.contains("kept"));
    drop(t);

    // Progress is saved.
    let saved = w
        .call(
            Method::PUT,
            &format!("/api/v1/lab-sessions/{id}/progress"),
            &ana,
            Some(json!({"progress_data": {"step": 2}})),
        )
        .await;
    assert_eq!(saved.status, StatusCode::OK, "{saved:?}");
    assert_eq!(saved.body["progress_data"]["step"], 2);
    let bad = w
        .call(
            Method::PUT,
            &format!("/api/v1/lab-sessions/{id}/progress"),
            &ana,
            Some(json!({"progress_data": [1]})),
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);

    // Listed among mine.
    let mine = w
        .call(Method::GET, "/api/v1/me/lab-sessions?live=true", &ana, None)
        .await;
    assert_eq!(mine.body["items"].as_array().unwrap().len(), 1);

    // Stop: completed, the workspace kept (auto-save), lab_complete written.
    w.stop(&ana, &id).await;
    let done = w
        .call(
            Method::GET,
            &format!("/api/v1/lab-sessions/{id}"),
            &ana,
            None,
        )
        .await;
    assert_eq!(done.body["status"], "completed");
    assert_eq!(done.body["environment"]["status"], "stopped");
    assert!(done.body["ended_at"].is_string());
    // Kept on the host (a directory, or where workspaces are volumes, one holding an image);
    // the next session below reads the file back.
    assert!(w.workspace(&ana, w.lab).is_dir());
    let completes: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM user_activities WHERE user_id = $1 AND activity_type = 'lab_complete'",
    )
    .bind(ana.user.id)
    .fetch_one(w.server.db.owner())
    .await
    .unwrap();
    assert_eq!(completes, 1);
    let stopped_again = w
        .call(
            Method::POST,
            &format!("/api/v1/lab-sessions/{id}/stop"),
            &ana,
            None,
        )
        .await;
    assert_eq!(stopped_again.code(), "invalid_session_state");

    // The next session finds the saved workspace.
    let s2 = w.start(&ana, w.lab).await;
    let mut t = w.term(&ana, &id_of(&s2)).await;
    assert!(t.run("cat notes.txt").await.contains("kept"));
    drop(t);
    w.stop(&ana, &id_of(&s2)).await;
}

#[tokio::test]
async fn without_auto_save_the_workspace_goes_with_the_session() {
    let w = LabWorld::new(|_| {}).await;
    let bo = w.learner("bo").await;
    let a = w
        .call(
            Method::POST,
            &format!("/api/v1/labs/{}/sessions", w.lab),
            &bo,
            Some(json!({"auto_save_enabled": false})),
        )
        .await;
    assert_eq!(a.status, StatusCode::CREATED, "{a:?}");
    assert!(w.workspace(&bo, w.lab).is_dir());
    w.stop(&bo, &id_of(&a.body)).await;
    let done = w
        .call(
            Method::GET,
            &format!("/api/v1/lab-sessions/{}", id_of(&a.body)),
            &bo,
            None,
        )
        .await;
    assert_eq!(done.body["environment"]["status"], "deleted");
    assert!(!w.workspace(&bo, w.lab).exists());
    assert!(!w.workspace(&bo, w.lab).with_extension("img").exists());
}

#[tokio::test]
async fn max_concurrent_users_is_enforced_with_a_clear_error() {
    let w = LabWorld::new(|_| {}).await;
    let ana = w.learner("ana").await;
    let bo = w.learner("bo").await;
    let s = w.start(&ana, w.small_lab).await;
    let full = w
        .call(
            Method::POST,
            &format!("/api/v1/labs/{}/sessions", w.small_lab),
            &bo,
            Some(json!({})),
        )
        .await;
    assert_eq!(full.status, StatusCode::CONFLICT);
    assert_eq!(full.code(), "lab_full");
    assert!(full.problem().detail.contains("maximum"), "{full:?}");
    w.stop(&ana, &id_of(&s)).await;
    let s2 = w.start(&bo, w.small_lab).await;
    w.stop(&bo, &id_of(&s2)).await;
}

#[tokio::test]
async fn nobody_else_reaches_a_learners_session() {
    let w = LabWorld::new(|_| {}).await;
    let ana = w.learner("ana").await;
    let eve = w.learner("eve").await;
    let s = w.start(&ana, w.lab).await;
    let id = id_of(&s);
    for (method, path, body) in [
        (Method::GET, format!("/api/v1/lab-sessions/{id}"), None),
        (
            Method::POST,
            format!("/api/v1/lab-sessions/{id}/pause"),
            None,
        ),
        (
            Method::POST,
            format!("/api/v1/lab-sessions/{id}/resume"),
            None,
        ),
        (
            Method::POST,
            format!("/api/v1/lab-sessions/{id}/stop"),
            None,
        ),
        (
            Method::PUT,
            format!("/api/v1/lab-sessions/{id}/progress"),
            Some(json!({"progress_data": {}})),
        ),
        (
            Method::GET,
            format!("/api/v1/lab-sessions/{id}/files"),
            None,
        ),
        (
            Method::GET,
            format!("/api/v1/lab-sessions/{id}/files/content?path=a"),
            None,
        ),
        (
            Method::DELETE,
            format!("/api/v1/lab-sessions/{id}/files?path=a"),
            None,
        ),
        (
            Method::POST,
            format!("/api/v1/lab-sessions/{id}/files/directories"),
            Some(json!({"path": "x"})),
        ),
    ] {
        let a = w.call(method.clone(), &path, &eve, body.clone()).await;
        assert_eq!(a.status, StatusCode::NOT_FOUND, "{method} {path}: {a:?}");
        let anon = w.api.call(method.clone(), &path, None, body).await;
        assert_eq!(anon.status, StatusCode::UNAUTHORIZED, "{method} {path}");
    }
    let upload = reqwest::Client::new()
        .put(format!(
            "{}/api/v1/lab-sessions/{id}/files/content?path=a",
            w.server.url
        ))
        .bearer_auth(&eve.access_token)
        .body("x")
        .send()
        .await
        .unwrap();
    assert_eq!(upload.status(), StatusCode::NOT_FOUND);
    let mine = w
        .call(Method::GET, "/api/v1/me/lab-sessions", &eve, None)
        .await;
    assert_eq!(mine.body["items"], json!([]));
    // The lab's instructor sees the session but may not drive it.
    let seen = w
        .call(
            Method::GET,
            &format!("/api/v1/lab-sessions/{id}"),
            &w.instructor,
            None,
        )
        .await;
    assert_eq!(seen.status, StatusCode::OK);
    let stop = w
        .call(
            Method::POST,
            &format!("/api/v1/lab-sessions/{id}/stop"),
            &w.instructor,
            None,
        )
        .await;
    assert_eq!(stop.status, StatusCode::FORBIDDEN);
    assert_eq!(stop.code(), "not_session_owner");
    // An unknown lab.
    let none = w
        .call(
            Method::POST,
            &format!("/api/v1/labs/{}/sessions", Uuid::now_v7()),
            &ana,
            Some(json!({})),
        )
        .await;
    assert_eq!(none.status, StatusCode::NOT_FOUND);
    w.stop(&ana, &id).await;
}

#[tokio::test]
async fn the_reaper_warns_then_stops_an_idle_lab() {
    // Warn as soon as a lab is within its whole auto-stop time of stopping: at once.
    let w = LabWorld::new(|s| s.idle_warning = Duration::from_secs(3 * 3600)).await;
    let ana = w.learner("ana").await;
    let s = w.start(&ana, w.lab).await;
    let id = id_of(&s);
    let env: Uuid = s["environment"]["id"].as_str().unwrap().parse().unwrap();
    let notes = |title: &'static str| {
        let owner = w.server.db.owner().clone();
        let user = ana.user.id;
        async move {
            sqlx::query_scalar::<_, i64>(
                "SELECT count(*) FROM notifications WHERE user_id = $1 AND title = $2",
            )
            .bind(user)
            .bind(title)
            .fetch_one(&owner)
            .await
            .unwrap()
        }
    };
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while notes("Your lab stops soon").await == 0 {
        assert!(tokio::time::Instant::now() < deadline, "no idle warning");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    // The reaper keeps usage and cost up to date.
    let usage: Value =
        sqlx::query_scalar("SELECT resource_usage FROM lab_sessions WHERE id = $1::uuid")
            .bind(&id)
            .fetch_one(w.server.db.owner())
            .await
            .unwrap();
    assert!(usage["disk_bytes"].is_u64(), "{usage}");
    // Idle for longer than auto_stop_minutes.
    sqlx::query(
        "UPDATE lab_sessions SET last_activity = now() - interval '3 hours' WHERE id = $1::uuid",
    )
    .bind(&id)
    .execute(w.server.db.owner())
    .await
    .unwrap();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let a = w
            .call(
                Method::GET,
                &format!("/api/v1/lab-sessions/{id}"),
                &ana,
                None,
            )
            .await;
        if a.body["status"] == "expired" {
            assert_eq!(a.body["environment"]["status"], "stopped");
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "not reaped: {a:?}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(notes("Your lab stopped").await, 1);
    // Its processes and cgroups are gone.
    for controller in ["pids", "memory"] {
        let dir = std::path::Path::new("/sys/fs/cgroup")
            .join(controller)
            .join("skilltrack-labs")
            .join(env.to_string());
        assert!(!dir.exists(), "{} still exists", dir.display());
    }
}

#[tokio::test]
async fn a_shell_left_without_a_connection_is_paused_after_the_grace_period() {
    let w = LabWorld::new(|s| s.reconnect_grace = Duration::from_secs(2)).await;
    let ana = w.learner("ana").await;
    let id = id_of(&w.start(&ana, w.lab).await);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    loop {
        let a = w
            .call(
                Method::GET,
                &format!("/api/v1/lab-sessions/{id}"),
                &ana,
                None,
            )
            .await;
        if a.body["status"] == "paused" {
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "not paused: {a:?}");
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    w.stop(&ana, &id).await;
}

#[tokio::test]
async fn the_files_api_manages_the_workspace_and_keeps_user_files_in_step() {
    let w = LabWorld::new(|_| {}).await;
    let ana = w.learner("ana").await;
    let s = w.start(&ana, w.lab).await;
    let id = id_of(&s);
    let http = reqwest::Client::new();
    let put = |path: &str, body: &'static [u8]| {
        http.put(format!(
            "{}/api/v1/lab-sessions/{id}/files/content?path={path}",
            w.server.url
        ))
        .bearer_auth(&ana.access_token)
        .body(body)
        .send()
    };
    assert_eq!(
        put("src/main.py", b"print('hi')\n").await.unwrap().status(),
        StatusCode::NO_CONTENT
    );
    let mk = w
        .call(
            Method::POST,
            &format!("/api/v1/lab-sessions/{id}/files/directories"),
            &ana,
            Some(json!({"path": "data/raw"})),
        )
        .await;
    assert_eq!(mk.status, StatusCode::NO_CONTENT, "{mk:?}");
    let top = w
        .call(
            Method::GET,
            &format!("/api/v1/lab-sessions/{id}/files"),
            &ana,
            None,
        )
        .await;
    assert_eq!(top.status, StatusCode::OK, "{top:?}");
    let names: Vec<&str> = top.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["path"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["data", "src"]);
    assert_eq!(top.body["quota_bytes"], 64 << 20);
    let src = w
        .call(
            Method::GET,
            &format!("/api/v1/lab-sessions/{id}/files?path=src"),
            &ana,
            None,
        )
        .await;
    assert_eq!(src.body["items"][0]["path"], "src/main.py");
    assert_eq!(src.body["items"][0]["size"], 12);
    let got = http
        .get(format!(
            "{}/api/v1/lab-sessions/{id}/files/content?path=src/main.py",
            w.server.url
        ))
        .bearer_auth(&ana.access_token)
        .send()
        .await
        .unwrap();
    assert_eq!(got.status(), StatusCode::OK);
    assert_eq!(got.bytes().await.unwrap().as_ref(), b"print('hi')\n");
    // The shell sees the file, owned by the lab user.
    let mut t = w.term(&ana, &id).await;
    assert!(t.run("cat src/main.py").await.contains("print('hi')"));
    drop(t);
    let rows: Vec<(String, bool)> = sqlx::query_as(
        "SELECT file_path, is_directory FROM user_files WHERE user_id = $1 ORDER BY file_path",
    )
    .bind(ana.user.id)
    .fetch_all(w.server.db.owner())
    .await
    .unwrap();
    assert_eq!(
        rows,
        [
            ("data/raw".to_owned(), true),
            ("src/main.py".to_owned(), false)
        ]
    );
    let del = w
        .call(
            Method::DELETE,
            &format!("/api/v1/lab-sessions/{id}/files?path=src"),
            &ana,
            None,
        )
        .await;
    assert_eq!(del.status, StatusCode::NO_CONTENT);
    let missing = w
        .call(
            Method::GET,
            &format!("/api/v1/lab-sessions/{id}/files/content?path=src/main.py"),
            &ana,
            None,
        )
        .await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    let left: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM user_files WHERE user_id = $1 AND file_path LIKE 'src%'",
    )
    .bind(ana.user.id)
    .fetch_one(w.server.db.owner())
    .await
    .unwrap();
    assert_eq!(left, 0);
    let top_delete = w
        .call(
            Method::DELETE,
            &format!("/api/v1/lab-sessions/{id}/files?path=/"),
            &ana,
            None,
        )
        .await;
    assert_eq!(top_delete.status, StatusCode::UNPROCESSABLE_ENTITY);
    w.stop(&ana, &id).await;
}

#[tokio::test]
async fn without_a_sandbox_tool_a_lab_refuses_to_start_and_never_runs_unsandboxed() {
    for broken in ["tool", "user"] {
        let w = LabWorld::new(|s| match broken {
            "tool" => s.sandbox.bwrap = "bwrap-is-not-installed".into(),
            _ => s.sandbox.os_user = "no-such-lab-user".into(),
        })
        .await;
        let ana = w.learner("ana").await;
        let a = w
            .call(
                Method::POST,
                &format!("/api/v1/labs/{}/sessions", w.lab),
                &ana,
                Some(json!({})),
            )
            .await;
        if broken == "user" && !nix::unistd::geteuid().is_root() {
            // Not root: sandboxes run as the server's own user; the setting is unused.
            assert_eq!(a.status, StatusCode::CREATED, "{a:?}");
            w.stop(&ana, &id_of(&a.body)).await;
            continue;
        }
        assert_eq!(a.status, StatusCode::SERVICE_UNAVAILABLE, "{a:?}");
        assert_eq!(a.code(), "sandbox_unavailable");
        let detail = a.problem().detail;
        assert!(
            detail.contains(if broken == "tool" {
                "bwrap-is-not-installed"
            } else {
                "no-such-lab-user"
            }),
            "{detail}"
        );
        // Nothing was recorded or started.
        let sessions: i64 =
            sqlx::query_scalar("SELECT count(*) FROM lab_sessions WHERE user_id = $1")
                .bind(ana.user.id)
                .fetch_one(w.server.db.owner())
                .await
                .unwrap();
        assert_eq!(sessions, 0);
        assert!(!w.workspace(&ana, w.lab).exists());
    }
}

#[tokio::test]
async fn concurrent_starts_give_one_session() {
    let w = LabWorld::new(|_| {}).await;
    let ana = w.learner("ana").await;
    let path = format!("/api/v1/labs/{}/sessions", w.lab);
    let (a, b, c) = tokio::join!(
        w.call(Method::POST, &path, &ana, Some(json!({}))),
        w.call(Method::POST, &path, &ana, Some(json!({}))),
        w.call(Method::POST, &path, &ana, Some(json!({}))),
    );
    let answers = [a, b, c];
    let created: Vec<&Answer> = answers
        .iter()
        .filter(|a| a.status == StatusCode::CREATED)
        .collect();
    assert_eq!(created.len(), 1, "{answers:?}");
    for other in answers.iter().filter(|a| a.status != StatusCode::CREATED) {
        assert_eq!(other.code(), "lab_session_active");
    }
    w.stop(&ana, &id_of(&created[0].body)).await;
}

#[tokio::test]
async fn a_paid_lab_starts_only_for_a_learner_who_paid_for_it() {
    let w = LabWorld::new(|_| {}).await;
    let paid = w.add_lab("paid-lab", "shell-basic", false).await;
    let ana = w.learner("ana").await;
    let eve = w.learner("eve").await;
    let sessions_path = format!("/api/v1/labs/{paid}/sessions");
    let refused = w
        .call(Method::POST, &sessions_path, &ana, Some(json!({})))
        .await;
    assert_eq!(refused.status, StatusCode::PAYMENT_REQUIRED, "{refused:?}");
    assert_eq!(refused.code(), "payment_required");
    assert!(refused.problem().detail.contains("checkout"), "{refused:?}");
    // Nothing was started or recorded.
    let sessions: i64 = sqlx::query_scalar("SELECT count(*) FROM lab_sessions WHERE user_id = $1")
        .bind(ana.user.id)
        .fetch_one(w.server.db.owner())
        .await
        .unwrap();
    assert_eq!(sessions, 0);

    // Eve pays, for herself only: naming someone else is refused, and Ana still cannot start.
    let checkout = format!("/api/v1/labs/{paid}/checkout");
    let for_ana = w
        .call(
            Method::POST,
            &checkout,
            &eve,
            Some(json!({"user_id": ana.user.id})),
        )
        .await;
    assert_eq!(
        for_ana.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{for_ana:?}"
    );
    let by_eve = w.call(Method::POST, &checkout, &eve, None).await;
    assert_eq!(by_eve.status, StatusCode::CREATED, "{by_eve:?}");
    assert_eq!(by_eve.body["lab_id"], paid.to_string());
    assert_eq!(by_eve.body["course_id"], Value::Null);
    assert_eq!(by_eve.body["payment_status"], "completed");
    assert_eq!(by_eve.body["test_mode"], true);
    let payer: Uuid = sqlx::query_scalar("SELECT user_id FROM payments WHERE lab_id = $1")
        .bind(paid)
        .fetch_one(w.server.db.owner())
        .await
        .unwrap();
    assert_eq!(payer, eve.user.id);
    let still = w
        .call(Method::POST, &sessions_path, &ana, Some(json!({})))
        .await;
    assert_eq!(still.code(), "payment_required");
    let on_behalf = w
        .call(
            Method::POST,
            &sessions_path,
            &eve,
            Some(json!({"user_id": ana.user.id})),
        )
        .await;
    assert_eq!(
        on_behalf.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{on_behalf:?}"
    );
    let again = w.call(Method::POST, &checkout, &eve, None).await;
    assert_eq!(again.code(), "already_paid");

    // Ana pays, then starts.
    let paid_by_ana = w.call(Method::POST, &checkout, &ana, None).await;
    assert_eq!(paid_by_ana.status, StatusCode::CREATED, "{paid_by_ana:?}");
    let s = w.start(&ana, paid).await;
    w.stop(&ana, &id_of(&s)).await;

    // A free lab has nothing to pay; an unknown one is not found.
    let free = w
        .call(
            Method::POST,
            &format!("/api/v1/labs/{}/checkout", w.lab),
            &ana,
            None,
        )
        .await;
    assert_eq!(free.status, StatusCode::UNPROCESSABLE_ENTITY, "{free:?}");
    assert_eq!(free.problem().errors[0].code, "lab_is_free");
    let unknown = w
        .call(
            Method::POST,
            &format!("/api/v1/labs/{}/checkout", Uuid::now_v7()),
            &ana,
            None,
        )
        .await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    // The lab's instructor tries their own paid lab without paying.
    let own = w.start(&w.instructor, paid).await;
    w.stop(&w.instructor, &id_of(&own)).await;
}

#[tokio::test]
async fn a_lab_starts_only_once_its_prerequisite_labs_are_completed() {
    let w = LabWorld::new(|_| {}).await;
    let advanced = w.add_lab("advanced-lab", "shell-basic", true).await;
    sqlx::query("INSERT INTO lab_prerequisites (lab_id, prerequisite_lab_id) VALUES ($1, $2)")
        .bind(advanced)
        .bind(w.lab)
        .execute(w.server.db.owner())
        .await
        .unwrap();
    let ana = w.learner("ana").await;
    let path = format!("/api/v1/labs/{advanced}/sessions");
    let refused = w.call(Method::POST, &path, &ana, Some(json!({}))).await;
    assert_eq!(refused.status, StatusCode::CONFLICT, "{refused:?}");
    assert_eq!(refused.code(), "lab_prerequisites_unmet");
    let problem = refused.problem();
    assert_eq!(problem.errors.len(), 1, "{problem:?}");
    assert_eq!(problem.errors[0].pointer, "/prerequisites/shell-lab");
    assert_eq!(problem.errors[0].code, "not_completed");
    // A session of the required lab that is still going does not count; a completed one does.
    let first = w.start(&ana, w.lab).await;
    let still = w.call(Method::POST, &path, &ana, Some(json!({}))).await;
    assert_eq!(still.code(), "lab_prerequisites_unmet");
    w.stop(&ana, &id_of(&first)).await;
    let s = w.start(&ana, advanced).await;
    w.stop(&ana, &id_of(&s)).await;
}

#[tokio::test]
async fn running_sandboxes_are_capped_per_learner_and_per_host() {
    let w = LabWorld::new(|s| {
        s.max_running_per_learner = 1;
        s.max_running_per_host = 2;
    })
    .await;
    let third = w.add_lab("third-lab", "shell-basic", true).await;
    let ana = w.learner("ana").await;
    let bo = w.learner("bo").await;
    let cy = w.learner("cy").await;
    let a1 = w.start(&ana, w.lab).await;
    // Ana's second running sandbox, in another lab: refused.
    let more = w
        .call(
            Method::POST,
            &format!("/api/v1/labs/{third}/sessions"),
            &ana,
            Some(json!({})),
        )
        .await;
    assert_eq!(more.status, StatusCode::CONFLICT, "{more:?}");
    assert_eq!(more.code(), "lab_learner_limit");
    // A paused session runs nothing: Ana may start another, but not resume the first then.
    let paused = w
        .call(
            Method::POST,
            &format!("/api/v1/lab-sessions/{}/pause", id_of(&a1)),
            &ana,
            None,
        )
        .await;
    assert_eq!(paused.status, StatusCode::OK, "{paused:?}");
    let a2 = w.start(&ana, third).await;
    let resume = w
        .call(
            Method::POST,
            &format!("/api/v1/lab-sessions/{}/resume", id_of(&a1)),
            &ana,
            None,
        )
        .await;
    assert_eq!(resume.code(), "lab_learner_limit", "{resume:?}");
    // The host runs two sandboxes at most: Bo's is the second, Cy's would be a third.
    let b1 = w.start(&bo, w.lab).await;
    let full = w
        .call(
            Method::POST,
            &format!("/api/v1/labs/{}/sessions", w.lab),
            &cy,
            Some(json!({})),
        )
        .await;
    assert_eq!(full.status, StatusCode::SERVICE_UNAVAILABLE, "{full:?}");
    assert_eq!(full.code(), "lab_host_full");
    // Nothing of Cy's is left behind.
    let live: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM lab_sessions WHERE user_id = $1 AND status IN ('starting', 'active')",
    )
    .bind(cy.user.id)
    .fetch_one(w.server.db.owner())
    .await
    .unwrap();
    assert_eq!(live, 0);
    w.stop(&bo, &id_of(&b1)).await;
    let c1 = w.start(&cy, w.lab).await;
    w.stop(&cy, &id_of(&c1)).await;
    w.stop(&ana, &id_of(&a2)).await;
    w.stop(&ana, &id_of(&a1)).await;
}

#[tokio::test]
async fn only_admins_give_a_lab_the_network() {
    let w = LabWorld::new(|_| {}).await;
    let labs = "/api/v1/authoring/labs";
    let draft = json!({
        "slug": "net-draft",
        "title": "Networked",
        "description": "Fetch things.",
        "difficulty": "Intermediate",
        "duration": "45 minutes",
        "provider": "local-sandbox",
        "environment_template": "python-net",
    });
    let created = w
        .call(Method::POST, labs, &w.instructor, Some(draft.clone()))
        .await;
    assert_eq!(created.status, StatusCode::FORBIDDEN, "{created:?}");
    assert_eq!(created.code(), "lab_network_admin_only");
    let lab_path = format!("{labs}/{}", w.lab);
    let patched = w
        .call(
            Method::PATCH,
            &lab_path,
            &w.instructor,
            Some(json!({"environment_template": "shell-basic-net"})),
        )
        .await;
    assert_eq!(patched.status, StatusCode::FORBIDDEN, "{patched:?}");
    assert_eq!(patched.code(), "lab_network_admin_only");
    let offline = w
        .call(
            Method::PATCH,
            &lab_path,
            &w.instructor,
            Some(json!({"environment_template": "python"})),
        )
        .await;
    assert_eq!(offline.status, StatusCode::OK, "{offline:?}");
    // An admin grants it; the instructor may then edit the lab's other fields.
    let admin = w.learner("root").await;
    sqlx::query("UPDATE profiles SET role = 'admin' WHERE id = $1")
        .bind(admin.user.id)
        .execute(w.server.db.owner())
        .await
        .unwrap();
    let granted = w
        .call(
            Method::PATCH,
            &lab_path,
            &admin,
            Some(json!({"environment_template": "python-net"})),
        )
        .await;
    assert_eq!(granted.status, StatusCode::OK, "{granted:?}");
    let edited = w
        .call(
            Method::PATCH,
            &lab_path,
            &w.instructor,
            Some(json!({"title": "Renamed"})),
        )
        .await;
    assert_eq!(edited.status, StatusCode::OK, "{edited:?}");
    let template: String =
        sqlx::query_scalar("SELECT environment_template FROM labs WHERE id = $1")
            .bind(w.lab)
            .fetch_one(w.server.db.owner())
            .await
            .unwrap();
    assert_eq!(template, "python-net");
}

/// Issue 19: a session started and never connected to kept its workspace volume mounted after
/// the server stopped cleanly (found by Schemathesis, which starts labs and never opens their
/// terminals). Stopping the labs releases every mount under the server's data directory, and
/// so does the next start's reclaim after a server that was killed.
#[tokio::test]
async fn no_workspace_stays_mounted_after_the_server_stops_or_restarts() {
    let w = LabWorld::new(|_| {}).await;
    let data = w.server.data_dir.path().canonicalize().unwrap();
    let mounted = || -> Vec<std::path::PathBuf> {
        skilltrack_server::labs::volume::mount_points()
            .into_iter()
            .filter(|m| m.starts_with(&data))
            .collect()
    };
    let ana = w.learner("ana-mounts").await;
    let session = w.start(&ana, w.lab).await;
    assert_eq!(session["status"], "active", "{session}");
    if mounted().is_empty() {
        // Workspaces are plain directories on this host (no root, or no loop devices): there
        // is nothing to leak.
        return;
    }

    // A clean stop: nothing of the server's stays mounted.
    w.labs().shut_down().await;
    assert_eq!(mounted(), Vec::<std::path::PathBuf>::new());

    // A killed server: its mounts are still there when the next one starts on the same data.
    let bo = w.learner("bo-mounts").await;
    let again = w.start(&bo, w.lab).await;
    assert_eq!(again["status"], "active", "{again}");
    assert!(!mounted().is_empty(), "the workspace is mounted again");
    // Making labs over the same data no longer unmounts anything (decision 365): the start
    // reclaims, once it holds the workspaces (`lab_recovery` runs the real server through it).
    let settings = skilltrack_server::labs::LabSettings::defaults(w.server.data_dir.path());
    let restarted = skilltrack_server::labs::Labs::new(settings);
    assert!(!mounted().is_empty());
    let reclaimed = restarted.driver().reclaim();
    assert!(reclaimed.mounts >= 1, "{reclaimed:?}");
    assert_eq!(mounted(), Vec::<std::path::PathBuf>::new());
}

/// Issue 20, operators: a lab whose sandbox fails to start is counted in `/metrics`
/// (`skilltrack_lab_sandbox_failures_total`, by reason), and so is a start refused because
/// this host cannot run sandboxes at all (`unavailable`); the learner gets 503 either way.
#[tokio::test]
async fn sandbox_failures_are_counted_in_the_metrics() {
    use skilltrack_server::labs::sandbox::SandboxFault;
    async fn scrape(w: &LabWorld) -> String {
        let res = reqwest::get(format!("{}/metrics", w.server.url))
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        res.text().await.unwrap()
    }
    async fn start(w: &LabWorld, who: &Session) -> Answer {
        w.call(
            Method::POST,
            &format!("/api/v1/labs/{}/sessions", w.lab),
            who,
            Some(json!({})),
        )
        .await
    }

    let w = LabWorld::new(|s| s.sandbox.fault = Some(SandboxFault::FailShellStart)).await;
    let ana = w.learner("ana").await;
    let text = scrape(&w).await;
    assert!(
        text.contains("# TYPE skilltrack_lab_sandbox_failures counter"),
        "{text}"
    );
    assert!(
        !text.contains("skilltrack_lab_sandbox_failures_total{"),
        "{text}"
    );
    for expected in 1..=2 {
        let a = start(&w, &ana).await;
        assert_eq!(a.status, StatusCode::SERVICE_UNAVAILABLE, "{a:?}");
        assert_eq!(a.code(), "sandbox_failed");
        let text = scrape(&w).await;
        assert!(
            text.contains(&format!(
                "skilltrack_lab_sandbox_failures_total{{reason=\"error\"}} {expected}"
            )),
            "{text}"
        );
    }
    assert_eq!(w.labs().failures().count("error"), 2);

    let w = LabWorld::new(|s| s.sandbox.bwrap = "bwrap-is-not-installed".into()).await;
    let ana = w.learner("ana").await;
    let a = start(&w, &ana).await;
    assert_eq!(a.code(), "sandbox_unavailable");
    let text = scrape(&w).await;
    assert!(
        text.contains("skilltrack_lab_sandbox_failures_total{reason=\"unavailable\"} 1"),
        "{text}"
    );
}
