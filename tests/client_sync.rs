//! The client engine against the real server: offline work reaches the server exactly once,
//! devices converge through the live channel, revoked access leaves the cache, refused writes
//! are reported without blocking, and a client killed mid-sync loses nothing.

use std::sync::Arc;
use std::time::{Duration, Instant};

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use skilltrack_client::sync::{SyncEngine, SyncError, lock};
use skilltrack_client::tokens::StoreKind;
use skilltrack_client::writes::ProgressInput;
use skilltrack_protocol::auth::Session;
use skilltrack_protocol::engagement::BookmarkEntity;
use skilltrack_protocol::sync::SyncTable;
use skilltrack_server::seed::demo_id;
use skilltrack_tests::api::Api;
use skilltrack_tests::proxy::Proxy;
use skilltrack_tests::spawn_demo_server;
use uuid::Uuid;

const PASSWORD: &str = "correct horse battery";
const COURSE: &str = "intro-to-the-command-line";

fn course_id() -> Uuid {
    demo_id(&format!("course/{COURSE}"))
}

/// A new learner enrolled in [`COURSE`].
async fn learner(api: &Api, name: &str) -> Session {
    let me = api
        .sign_up(&format!("{name}@example.com"), PASSWORD, name)
        .await;
    let a = api
        .post(
            &format!("/api/v1/courses/{}/enrollment", course_id()),
            Some(&me.access_token),
            json!({}),
        )
        .await;
    assert_eq!(a.status, StatusCode::CREATED, "{a:?}");
    me
}

/// A device of `session`'s learner talking to `url`, with its data in `dir`.
async fn device(url: &str, dir: &std::path::Path, session: &Session) -> Arc<SyncEngine> {
    let engine =
        skilltrack_client::device::open(url, dir, &StoreKind::File).expect("opening the device");
    engine.adopt(session.clone()).await.unwrap();
    Arc::new(engine)
}

fn lessons(engine: &SyncEngine) -> Vec<Uuid> {
    lock(engine.cache())
        .syllabus(&course_id().to_string())
        .unwrap()
        .iter()
        .flat_map(|m| m.lessons.iter())
        .map(|l| l.lesson["id"].as_str().unwrap().parse().unwrap())
        .collect()
}

/// The id of [`COURSE`]'s untimed quiz, from the device's cache (it can be taken offline).
fn untimed_quiz(engine: &SyncEngine) -> Uuid {
    lock(engine.cache())
        .rows_where(
            SyncTable::Assessments,
            "course_id",
            &course_id().to_string(),
        )
        .unwrap()
        .into_iter()
        .find(|a| a["time_limit_minutes"].is_null())
        .and_then(|a| a["id"].as_str().and_then(|s| s.parse().ok()))
        .expect("the course's untimed quiz is cached")
}

async fn server_progress(api: &Api, token: &str) -> Vec<Value> {
    let a = api
        .get(
            &format!("/api/v1/me/progress?course={}", course_id()),
            Some(token),
        )
        .await;
    assert_eq!(a.status, StatusCode::OK, "{a:?}");
    a.body["items"].as_array().cloned().unwrap_or_default()
}

#[tokio::test]
async fn offline_work_reaches_the_server_exactly_once() {
    let server = spawn_demo_server().await;
    let api = Api::new(&server.url);
    let proxy = Proxy::start(&server.url).await;
    let me = learner(&api, "offline-learner").await;
    let dir = tempfile::tempdir().unwrap();
    let phone = device(&proxy.url, dir.path(), &me).await;
    let first = phone.sync_once().await.unwrap();
    assert!(first.pulled > 50, "{first:?}");
    let l = lessons(&phone);
    assert!(l.len() >= 2, "the enrolled course's lessons are cached");

    // The network goes; the learner keeps studying.
    proxy.set_online(false);
    let p = |pct: Option<i32>, min: Option<i32>, done: bool| ProgressInput {
        percentage: pct,
        add_minutes: min,
        completed: done,
    };
    phone
        .record_progress(l[0], p(Some(30), Some(5), false))
        .await
        .unwrap();
    let lower = phone
        .record_progress(l[0], p(Some(20), Some(3), false))
        .await
        .unwrap();
    assert_eq!(
        (
            lower["progress_percentage"].as_i64(),
            lower["time_spent_minutes"].as_i64()
        ),
        (Some(30), Some(8))
    );
    phone
        .record_progress(l[0], p(None, None, true))
        .await
        .unwrap();
    phone
        .record_progress(l[1], p(Some(50), Some(2), false))
        .await
        .unwrap();
    phone
        .set_bookmark(BookmarkEntity::Course, course_id(), true)
        .await
        .unwrap();
    let queued: Vec<_> = lock(phone.cache())
        .outbox(100)
        .unwrap()
        .into_iter()
        .map(|e| e.mutation)
        .collect();
    assert_eq!(queued.len(), 5);
    let offline = phone.sync_once().await.unwrap_err();
    assert!(
        matches!(offline, SyncError::Api(ref e) if e.is_transient()),
        "{offline:?}"
    );
    let status = phone.status().borrow().clone();
    assert_eq!((status.online, status.pending), (false, 5));
    assert!(status.problem.unwrap().contains("offline"));

    // Back online: everything arrives, once.
    proxy.set_online(true);
    let back = phone.sync_once().await.unwrap();
    assert_eq!((back.pushed, back.rejected), (5, 0), "{back:?}");
    assert_eq!(lock(phone.cache()).outbox_len().unwrap(), 0);
    let progress = server_progress(&api, &me.access_token).await;
    let of = |lesson: Uuid| {
        progress
            .iter()
            .find(|r| r["lesson_id"] == json!(lesson))
            .cloned()
            .unwrap()
    };
    assert_eq!(of(l[0])["progress_percentage"], 100);
    assert_eq!(of(l[0])["time_spent_minutes"], 8);
    assert!(!of(l[0])["completed_at"].is_null());
    assert_eq!(of(l[1])["time_spent_minutes"], 2);
    // The same mutations again (an answer lost on the way back): nothing changes.
    let token = phone.session().await.unwrap().access_token;
    let again = phone.api().push(&token, &queued).await.unwrap();
    assert!(
        again
            .results
            .iter()
            .all(|r| r.outcome == skilltrack_protocol::sync::MutationOutcome::Duplicate),
        "{again:?}"
    );
    assert_eq!(
        of(l[0])["time_spent_minutes"],
        server_progress(&api, &me.access_token)
            .await
            .iter()
            .find(|r| r["lesson_id"] == json!(l[0]))
            .unwrap()["time_spent_minutes"]
    );
    // The cache holds the server's rows now, one per lesson (the offline shadows are gone).
    let cached = lock(phone.cache())
        .rows_where(SyncTable::UserProgress, "lesson_id", &l[0].to_string())
        .unwrap();
    assert_eq!(cached.len(), 1, "{cached:?}");
    assert_eq!(cached[0]["time_spent_minutes"], 8);
    assert_eq!(lock(phone.cache()).integrity_check().unwrap(), "ok");
}

#[tokio::test]
async fn a_change_on_one_device_reaches_the_other_through_the_live_channel() {
    let server = spawn_demo_server().await;
    let api = Api::new(&server.url);
    let me = learner(&api, "two-devices").await;
    let (a_dir, b_dir) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let laptop = device(&server.url, a_dir.path(), &me).await;
    let phone = device(&server.url, b_dir.path(), &me).await;
    laptop.sync_once().await.unwrap();
    phone.sync_once().await.unwrap();
    // The phone runs its sync loop, with a timer too slow to matter: only the live channel
    // can bring the change in time.
    let (stop_tx, stop) = tokio::sync::watch::channel(false);
    let runner = tokio::spawn(Arc::clone(&phone).run(Duration::from_secs(3600), stop));
    tokio::time::sleep(Duration::from_millis(300)).await;
    let lesson = lessons(&laptop)[0];
    laptop
        .record_progress(
            lesson,
            ProgressInput {
                percentage: Some(40),
                add_minutes: Some(7),
                completed: false,
            },
        )
        .await
        .unwrap();
    laptop.sync_once().await.unwrap();
    let started = Instant::now();
    let arrived = loop {
        let rows = lock(phone.cache())
            .rows_where(SyncTable::UserProgress, "lesson_id", &lesson.to_string())
            .unwrap();
        if rows.iter().any(|r| r["time_spent_minutes"] == 7) {
            break true;
        }
        if started.elapsed() > Duration::from_secs(15) {
            break false;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let _ = stop_tx.send(true);
    let _ = runner.await;
    assert!(arrived, "the phone never received the laptop's progress");
    // Both caches hold the same rows of the learner's own tables.
    for table in [SyncTable::UserProgress, SyncTable::Enrollments] {
        let mut a = lock(laptop.cache()).all_rows(table).unwrap();
        let mut b = lock(phone.cache()).all_rows(table).unwrap();
        a.sort_by_key(|r| r["id"].to_string());
        b.sort_by_key(|r| r["id"].to_string());
        assert_eq!(a, b, "{table:?} differs between devices");
    }
}

#[tokio::test]
async fn revoked_access_takes_rows_out_of_the_cache() {
    let server = spawn_demo_server().await;
    let api = Api::new(&server.url);
    let me = learner(&api, "leaver").await;
    let dir = tempfile::tempdir().unwrap();
    let laptop = device(&server.url, dir.path(), &me).await;
    laptop.sync_once().await.unwrap();
    assert!(!lessons(&laptop).is_empty());
    let cancel = api
        .call(
            Method::DELETE,
            &format!("/api/v1/courses/{}/enrollment", course_id()),
            Some(&me.access_token),
            None,
        )
        .await;
    assert!(cancel.status.is_success(), "{cancel:?}");
    laptop.sync_once().await.unwrap();
    assert!(
        lessons(&laptop).is_empty(),
        "lessons of a course left stay cached"
    );
    assert!(
        lock(laptop.cache())
            .row(SyncTable::Courses, course_id())
            .unwrap()
            .is_some()
    );

    // The instructor unpublishes the course: it leaves the catalog and its search.
    let search = |engine: &SyncEngine| {
        lock(engine.cache())
            .courses(&skilltrack_client::cache::CourseFilter {
                text: Some("command line".into()),
                ..Default::default()
            })
            .unwrap()
            .len()
    };
    assert!(search(&laptop) >= 1);
    let owner = skilltrack_tests::api::session(
        &api.sign_in("instructor@skilltrack.dev", "instructor-demo-pass")
            .await,
    );
    let unpublish = api
        .post(
            &format!("/api/v1/authoring/courses/{}/unpublish", course_id()),
            Some(&owner.access_token),
            json!({}),
        )
        .await;
    assert!(unpublish.status.is_success(), "{unpublish:?}");
    laptop.sync_once().await.unwrap();
    assert!(
        lock(laptop.cache())
            .row(SyncTable::Courses, course_id())
            .unwrap()
            .is_none()
    );
    assert_eq!(search(&laptop), 0);
}

#[tokio::test]
async fn a_refused_write_is_reported_and_never_blocks_the_queue() {
    let server = spawn_demo_server().await;
    let api = Api::new(&server.url);
    let me = learner(&api, "refused").await;
    let dir = tempfile::tempdir().unwrap();
    let laptop = device(&server.url, dir.path(), &me).await;
    laptop.sync_once().await.unwrap();
    let lesson = lessons(&laptop)[0];
    laptop
        .set_bookmark(BookmarkEntity::Course, Uuid::now_v7(), true)
        .await
        .unwrap();
    laptop
        .record_progress(
            lesson,
            ProgressInput {
                percentage: Some(10),
                add_minutes: Some(1),
                completed: false,
            },
        )
        .await
        .unwrap();
    let report = laptop.sync_once().await.unwrap();
    assert_eq!((report.pushed, report.rejected), (2, 1), "{report:?}");
    let rejected = lock(laptop.cache()).rejections().unwrap();
    assert_eq!(rejected.len(), 1);
    assert_eq!(rejected[0].code, "not_found", "{rejected:?}");
    assert!(!rejected[0].reason.is_empty());
    assert_eq!(lock(laptop.cache()).outbox_len().unwrap(), 0);
    let progress = server_progress(&api, &me.access_token).await;
    assert!(progress.iter().any(|r| r["lesson_id"] == json!(lesson)));
    // The refused bookmark is not shown as if it existed.
    let bookmarks = lock(laptop.cache())
        .all_rows(SyncTable::UserBookmarks)
        .unwrap();
    assert!(bookmarks.is_empty(), "{bookmarks:?}");
}

/// A small deterministic generator, so a failing round can be replayed from its seed.
struct Lcg(u64);

impl Lcg {
    fn below(&mut self, n: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 33) % n
    }
}

// Several threads: the test blocks on the CLI processes while the server answers them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_killed_mid_sync_loses_nothing_and_applies_nothing_twice() {
    use nix::sys::signal::{Signal, kill};
    use nix::unistd::Pid;
    use skilltrack_tests::process::client_binary;

    let server = spawn_demo_server().await;
    let api = Api::new(&server.url);
    let me = learner(&api, "crash-test").await;
    let dir = tempfile::tempdir().unwrap();
    let cli = |args: &[&str]| {
        let mut c = std::process::Command::new(client_binary());
        c.args(["--server", &server.url, "--token-store", "file", "--json"])
            .arg("--data-dir")
            .arg(dir.path())
            .args(args)
            .env("SKILLTRACK_PASSWORD", PASSWORD)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped());
        c
    };
    let run = |args: &[&str]| {
        let out = cli(args).output().unwrap();
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice::<Value>(&out.stdout).unwrap_or(Value::Null)
    };
    run(&["sign-in", "--email", "crash-test@example.com"]);
    run(&["sync"]);
    let lesson = {
        let engine =
            skilltrack_client::device::open(&server.url, dir.path(), &StoreKind::File).unwrap();
        lessons(&engine)[0].to_string()
    };
    let seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        .wrapping_mul(1_000_003)
        ^ u64::from(std::process::id());
    let mut rng = Lcg(seed);
    // How long an uninterrupted sync of each kind takes here, so kills land inside them.
    let timed = |args: &[&str]| {
        let started = Instant::now();
        run(args);
        started.elapsed()
    };
    run(&["resync"]);
    let pull_time = timed(&["sync", "--page-size", "20"]);
    run(&["progress", &lesson, "--minutes", "1"]);
    let push_time = timed(&["sync", "--page-size", "20"]);
    let mut minutes_written = 1;
    let (mut killed_push, mut killed_pull) = (0, 0);
    for round in 0..200 {
        let pull_round = round % 2 == 1;
        if pull_round {
            // Forget everything, so this sync is a whole snapshot in many small pages.
            run(&["resync"]);
        } else {
            run(&["progress", &lesson, "--minutes", "1"]);
            minutes_written += 1;
        }
        let mut child = cli(&["sync", "--page-size", "20"]).spawn().unwrap();
        let window = if pull_round { pull_time } else { push_time };
        let window_ms = u64::try_from(window.as_millis()).unwrap_or(100).max(10);
        std::thread::sleep(Duration::from_millis(rng.below(window_ms)));
        let pid = Pid::from_raw(i32::try_from(child.id()).unwrap());
        if matches!(child.try_wait(), Ok(None)) {
            let _ = kill(pid, Signal::SIGKILL);
            if pull_round {
                killed_pull += 1;
            } else {
                killed_push += 1;
            }
        }
        let _ = child.wait();
        let status = run(&["status"]);
        assert_eq!(
            status["integrity"], "ok",
            "round {round} (seed {seed}): {status}"
        );
    }
    eprintln!(
        "crash rounds: {killed_push} syncs killed in push rounds, {killed_pull} in pull rounds \
         (windows {push_time:?} and {pull_time:?}, seed {seed})"
    );
    // Let the last sync finish: every write is on the server exactly once.
    run(&["sync"]);
    let status = run(&["status"]);
    assert_eq!(status["pending"], 0, "seed {seed}: {status}");
    assert_eq!(status["rejected"], json!([]), "seed {seed}: {status}");
    let progress = server_progress(&api, &me.access_token).await;
    let row = progress
        .iter()
        .find(|r| r["lesson_id"].as_str() == Some(lesson.as_str()))
        .unwrap();
    assert_eq!(
        row["time_spent_minutes"], minutes_written,
        "seed {seed}: minutes lost or applied twice"
    );
    // The cache converged too: the whole course is back after the last snapshot.
    assert!(
        status["rows"]["course_lessons"].as_i64().unwrap() > 0,
        "{status}"
    );
    assert!(
        killed_push >= 30 && killed_pull >= 30,
        "too few kills to prove anything: {killed_push} during push, {killed_pull} during pull"
    );
}

#[tokio::test]
async fn an_untimed_quiz_taken_offline_is_graded_when_it_arrives() {
    use skilltrack_protocol::assessments::AnswerValue;
    let server = spawn_demo_server().await;
    let api = Api::new(&server.url);
    let proxy = Proxy::start(&server.url).await;
    let me = learner(&api, "offline-quiz").await;
    let dir = tempfile::tempdir().unwrap();
    let laptop = device(&proxy.url, dir.path(), &me).await;
    laptop.sync_once().await.unwrap();
    let quiz_id = untimed_quiz(&laptop);
    let questions = lock(laptop.cache())
        .rows_where(
            SyncTable::AssessmentQuestions,
            "assessment_id",
            &quiz_id.to_string(),
        )
        .unwrap();
    assert!(
        !questions.is_empty(),
        "its questions are cached for offline study"
    );
    for q in &questions {
        assert!(
            q.get("correct_answer").is_none() && q.get("explanation").is_none(),
            "{q}"
        );
    }

    proxy.set_online(false);
    let attempt = laptop.start_offline_attempt(quiz_id).await.unwrap();
    for q in &questions {
        let answer = match q["question_type"].as_str().unwrap() {
            "multiple_choice" => AnswerValue::Choices(vec![
                q["options"]["choices"][0]["id"]
                    .as_str()
                    .unwrap()
                    .to_owned(),
            ]),
            "true_false" => AnswerValue::Boolean(true),
            _ => AnswerValue::Text("an answer".to_owned()),
        };
        let question: Uuid = q["id"].as_str().unwrap().parse().unwrap();
        laptop.answer_offline(attempt, question, &answer).unwrap();
    }
    laptop.submit_offline_attempt(attempt).unwrap();
    let waiting = lock(laptop.cache())
        .row(SyncTable::UserAssessmentAttempts, attempt)
        .unwrap()
        .unwrap();
    assert_eq!(waiting["awaiting_grading"], true);
    assert!(laptop.sync_once().await.is_err(), "offline");

    proxy.set_online(true);
    let report = laptop.sync_once().await.unwrap();
    assert_eq!((report.pushed, report.rejected), (1, 0), "{report:?}");
    let graded = lock(laptop.cache())
        .row(SyncTable::UserAssessmentAttempts, attempt)
        .unwrap()
        .unwrap();
    assert!(
        graded["score"].is_number(),
        "the server's graded attempt replaced the local one: {graded}"
    );
    assert_eq!(graded["attempt_number"], 1);
    let online = api
        .get(
            &format!("/api/v1/attempts/{attempt}"),
            Some(&me.access_token),
        )
        .await;
    assert_eq!(online.body["score"], graded["score"], "{online:?}");
    assert_eq!(
        online.body["questions"].as_array().unwrap().len(),
        questions.len()
    );
}

#[tokio::test]
async fn a_quiz_taken_offline_and_refused_comes_back_with_why_and_can_be_discarded() {
    use skilltrack_protocol::assessments::AnswerValue;
    let server = spawn_demo_server().await;
    let api = Api::new(&server.url);
    let me = learner(&api, "refused-quiz").await;
    let dir = tempfile::tempdir().unwrap();
    let laptop = device(&server.url, dir.path(), &me).await;
    laptop.sync_once().await.unwrap();
    let quiz = untimed_quiz(&laptop);
    let question: Uuid = lock(laptop.cache())
        .rows_where(
            SyncTable::AssessmentQuestions,
            "assessment_id",
            &quiz.to_string(),
        )
        .unwrap()
        .iter()
        .find(|q| q["question_type"] == "true_false")
        .and_then(|q| q["id"].as_str().and_then(|s| s.parse().ok()))
        .expect("a true/false question");
    let attempt = laptop.start_offline_attempt(quiz).await.unwrap();
    laptop
        .answer_offline(attempt, question, &AnswerValue::Boolean(true))
        .unwrap();
    laptop.submit_offline_attempt(attempt).unwrap();
    // Meanwhile, on another device, the learner leaves the course: only enrolled learners
    // take its quizzes.
    let left = api
        .call(
            Method::DELETE,
            &format!("/api/v1/courses/{}/enrollment", course_id()),
            Some(&me.access_token),
            None,
        )
        .await;
    assert!(left.status.is_success(), "{left:?}");

    let report = laptop.sync_once().await.unwrap();
    assert_eq!((report.pushed, report.rejected), (1, 1), "{report:?}");
    let refused = lock(laptop.cache())
        .attempt_refusal(attempt)
        .unwrap()
        .expect("the refusal is kept for the quiz screen");
    assert_eq!(refused.code, "not_found", "{refused:?}");
    assert!(!refused.reason.is_empty());
    let back = lock(laptop.cache())
        .row(SyncTable::UserAssessmentAttempts, attempt)
        .unwrap()
        .expect("the attempt is still here");
    assert_eq!(back["local_only"], true, "in progress again: {back}");
    assert!(back["completed_at"].is_null(), "{back}");
    assert_eq!(
        back["answers"][question.to_string()],
        true,
        "its answers are kept: {back}"
    );

    laptop.discard_offline_attempt(attempt).unwrap();
    assert!(
        lock(laptop.cache())
            .row(SyncTable::UserAssessmentAttempts, attempt)
            .unwrap()
            .is_none()
    );
    assert!(
        lock(laptop.cache())
            .attempt_refusal(attempt)
            .unwrap()
            .is_none()
    );
    assert!(lock(laptop.cache()).rejections().unwrap().is_empty());
    assert!(
        matches!(
            laptop.discard_offline_attempt(attempt),
            Err(SyncError::NoOpenAttempt)
        ),
        "nothing left to discard"
    );
    let on_server = api
        .get(
            &format!("/api/v1/attempts/{attempt}"),
            Some(&me.access_token),
        )
        .await;
    assert_eq!(on_server.status, StatusCode::NOT_FOUND, "{on_server:?}");
}
