//! The client engine against the real server: offline work reaches the server exactly once,
//! devices converge through the live channel, revoked access leaves the cache, refused writes
//! are reported without blocking, and a client crashed at any step of a sync loses nothing.

use std::sync::Arc;
use std::time::{Duration, Instant};

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use skilltrack_client::fault::{self, FaultPoint};
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
        (self.0 >> 33) % n.max(1)
    }

    /// 1 to `n`, both included.
    fn one_to(&mut self, n: u64) -> u64 {
        1 + self.below(n)
    }

    fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            let j = usize::try_from(self.below(i as u64 + 1)).unwrap();
            items.swap(i, j);
        }
    }
}

/// The `skilltrack` CLI (the real binary) on one data directory, against one server.
struct CliDevice {
    server: String,
    data: tempfile::TempDir,
    /// The processes' working directory: where an aborted process's core file, if the host
    /// keeps them, lands and is deleted with it.
    scratch: tempfile::TempDir,
}

impl CliDevice {
    fn new(server: &str) -> Self {
        Self {
            server: server.to_owned(),
            data: tempfile::tempdir().unwrap(),
            scratch: tempfile::tempdir().unwrap(),
        }
    }

    fn command(&self, args: &[&str]) -> std::process::Command {
        let mut c = std::process::Command::new(skilltrack_tests::process::client_binary());
        c.args(["--server", &self.server, "--token-store", "file", "--json"])
            .arg("--data-dir")
            .arg(self.data.path())
            .args(args)
            .current_dir(self.scratch.path())
            .env("SKILLTRACK_PASSWORD", PASSWORD)
            .env_remove(fault::POINT_ENV)
            .env_remove(fault::HIT_ENV);
        c
    }

    /// Runs a command that must succeed; its JSON answer.
    fn ok(&self, args: &[&str]) -> Value {
        let out = self.command(args).output().unwrap();
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).unwrap_or(Value::Null)
    }

    /// Runs a command armed to crash at the `hit`-th arrival at `point`: whether it did.
    fn crashes_at(&self, args: &[&str], point: FaultPoint, hit: u64) -> Result<(), String> {
        use std::os::unix::process::ExitStatusExt as _;
        let out = self
            .command(args)
            .env(fault::POINT_ENV, point.name())
            .env(fault::HIT_ENV, hit.to_string())
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        if out.status.signal() == Some(nix::sys::signal::Signal::SIGABRT as i32)
            && stderr.contains(point.name())
        {
            Ok(())
        } else {
            Err(format!("{:?}: {stderr}", out.status))
        }
    }
}

/// Rows per pulled page in the crash test: a snapshot takes many pages.
const CRASH_PAGE: &str = "20";
/// Mutations per push in the crash test: a round's writes take several pushes.
const CRASH_PUSH_BATCH: u64 = 2;
/// Crashes at each fault point, each at an arrival drawn from the seed.
const CRASHES_PER_POINT: usize = 6;

/// What a sync reaches how often, measured before the crashes: arrivals up to these counts
/// are certain in every round, so every armed fault fires.
struct Reach {
    /// Pages of a whole snapshot at [`CRASH_PAGE`] rows.
    snapshot_pages: u64,
    /// Tables a snapshot holds rows of: one page of them all has one fewer boundaries.
    snapshot_tables: u64,
    /// Rows per table after a clean sync, before any progress was recorded.
    rows: serde_json::Map<String, Value>,
}

/// The crash test's writes so far: minutes recorded per lesson, and how many writes.
#[derive(Default)]
struct Written {
    minutes: std::collections::BTreeMap<Uuid, i64>,
    writes: i64,
}

// Several threads: the test blocks on the CLI processes while the server answers them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_crashed_at_any_step_of_a_sync_loses_nothing_and_applies_nothing_twice() {
    let server = spawn_demo_server().await;
    let api = Api::new(&server.url);
    let me = learner(&api, "crash-test").await;
    let device = CliDevice::new(&server.url);
    device.ok(&["sign-in", "--email", "crash-test@example.com"]);
    device.ok(&["resync"]);
    let first = device.ok(&["sync", "--page-size", CRASH_PAGE]);
    let status = device.ok(&["status"]);
    let rows = status["rows"].as_object().unwrap().clone();
    let reach = Reach {
        snapshot_pages: first["pages"].as_u64().unwrap(),
        snapshot_tables: rows.len() as u64,
        rows,
    };
    assert!(
        reach.snapshot_pages >= 5 && reach.snapshot_tables >= 5,
        "{first} {status}"
    );
    let lessons: Vec<Uuid> = {
        let engine =
            skilltrack_client::device::open(&server.url, device.data.path(), &StoreKind::File)
                .unwrap();
        lessons(&engine).into_iter().take(3).collect()
    };
    let seed = std::env::var("SKILLTRACK_CRASH_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(19);
    let mut rng = Lcg(seed);
    let mut plan: Vec<FaultPoint> = FaultPoint::ALL
        .iter()
        .flat_map(|p| std::iter::repeat_n(*p, CRASHES_PER_POINT))
        .collect();
    rng.shuffle(&mut plan);
    let mut written = Written::default();
    let mut arrivals = std::collections::BTreeMap::<&str, Vec<u64>>::new();
    for (round, point) in plan.iter().enumerate() {
        let context = format!("round {round}, {} (seed {seed})", point.name());
        let hit = crash_round(
            &device,
            &reach,
            &lessons,
            &mut written,
            &mut rng,
            *point,
            &context,
        );
        arrivals.entry(point.name()).or_default().push(hit);
        // Restarted after the crash, the client finds its cache whole.
        let status = device.ok(&["status"]);
        assert_eq!(status["integrity"], "ok", "{context}: {status}");
        // Every third round the restarted client also syncs to the end (the others crash
        // again on top of what the last crash left).
        if round % 3 == 2 {
            device.ok(&["sync"]);
            assert_converged(&device, &reach, &written, &context);
        }
    }
    // Restarted once more with no fault armed: everything queued lands, once.
    device.ok(&["sync"]);
    assert_exactly_once(&server, &api, &me, &device, &written).await;
    eprintln!(
        "crash test: {} crashes over {} fault points, {} writes (seed {seed}); arrivals: \
         {arrivals:?}",
        plan.len(),
        FaultPoint::ALL.len(),
        written.writes
    );
}

/// One round: records 1–6 writes (1–3 minutes each: one to three pushes), then syncs with
/// `point` armed at an arrival the sync is certain to reach, and checks that it crashed there.
/// The arrival it crashed at.
fn crash_round(
    device: &CliDevice,
    reach: &Reach,
    lessons: &[Uuid],
    written: &mut Written,
    rng: &mut Lcg,
    point: FaultPoint,
    context: &str,
) -> u64 {
    let queued = rng.one_to(3 * CRASH_PUSH_BATCH);
    for _ in 0..queued {
        let lesson = lessons[usize::try_from(rng.below(lessons.len() as u64)).unwrap()];
        let added = rng.one_to(3);
        device.ok(&[
            "progress",
            &lesson.to_string(),
            "--minutes",
            &added.to_string(),
        ]);
        *written.minutes.entry(lesson).or_default() += i64::try_from(added).unwrap();
        written.writes += 1;
    }
    let pulling = point.name().starts_with("pull.");
    if pulling {
        // Forget the cursor: this pull is a whole snapshot.
        device.ok(&["resync"]);
    }
    // This round's own writes take at least this many pushes (leftovers of a crash add more).
    let (page, most) = match point {
        FaultPoint::PullBetweenTables => ("5000", reach.snapshot_tables - 1),
        _ if pulling => (CRASH_PAGE, reach.snapshot_pages),
        _ => (CRASH_PAGE, queued.div_ceil(CRASH_PUSH_BATCH)),
    };
    let hit = rng.one_to(most);
    let batch = CRASH_PUSH_BATCH.to_string();
    let sync = ["sync", "--page-size", page, "--push-batch", &batch];
    if let Err(why) = device.crashes_at(&sync, point, hit) {
        panic!("{context}: arrival {hit} never came: {why}");
    }
    hit
}

/// After a clean sync, the cache holds nothing queued, every table as many rows as after the
/// first sync, and the minutes written so far.
fn assert_converged(device: &CliDevice, reach: &Reach, written: &Written, context: &str) {
    let status = device.ok(&["status"]);
    assert_eq!(status["pending"], 0, "{context}: {status}");
    for (table, count) in &reach.rows {
        if table != "user_progress" {
            assert_eq!(&status["rows"][table], count, "{context}: {table}");
        }
    }
    let engine =
        skilltrack_client::device::open(&device.server, device.data.path(), &StoreKind::File)
            .unwrap();
    let cached = lock(engine.cache())
        .all_rows(SyncTable::UserProgress)
        .unwrap();
    assert_eq!(cached.len(), written.minutes.len(), "{context}: {cached:?}");
    for (lesson, minutes) in &written.minutes {
        let row = cached.iter().find(|r| r["lesson_id"] == json!(lesson));
        assert_eq!(
            row.map(|r| r["time_spent_minutes"].clone()),
            Some(json!(minutes)),
            "{context}: minutes in {lesson}"
        );
    }
}

/// Every write the crash test made is on the server exactly once, and the crashed device's
/// cache holds what a fresh device's does.
async fn assert_exactly_once(
    server: &skilltrack_tests::TestServer,
    api: &Api,
    me: &Session,
    device: &CliDevice,
    written: &Written,
) {
    let status = device.ok(&["status"]);
    assert_eq!(status["pending"], 0, "{status}");
    assert_eq!(status["rejected"], json!([]), "{status}");
    let applied: i64 =
        sqlx::query_scalar("SELECT count(*) FROM applied_mutations WHERE user_id = $1")
            .bind(me.user.id)
            .fetch_one(server.db.owner())
            .await
            .unwrap();
    assert_eq!(
        applied, written.writes,
        "mutations lost on the way (or made up)"
    );
    let progress = server_progress(api, &me.access_token).await;
    for (lesson, minutes) in &written.minutes {
        let row = progress
            .iter()
            .find(|r| r["lesson_id"] == json!(lesson))
            .unwrap_or_else(|| panic!("no progress in {lesson} on the server"));
        assert_eq!(
            row["time_spent_minutes"], *minutes,
            "minutes in {lesson} lost or applied twice"
        );
    }
    // A device that never crashed, synced after it: the same rows, table by table.
    let fresh = CliDevice::new(&server.url);
    fresh.ok(&["sign-in", "--email", "crash-test@example.com"]);
    device.ok(&["sync"]);
    fresh.ok(&["sync"]);
    let open = |d: &CliDevice| {
        skilltrack_client::device::open(&server.url, d.data.path(), &StoreKind::File).unwrap()
    };
    let (crashed, clean) = (open(device), open(&fresh));
    for table in SyncTable::ALL {
        let rows = |engine: &SyncEngine| {
            let mut rows = lock(engine.cache()).all_rows(table).unwrap();
            rows.sort_by_key(|r| r["id"].to_string());
            rows
        };
        assert_eq!(
            rows(&crashed),
            rows(&clean),
            "{table:?} differs after the crashes"
        );
    }
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
