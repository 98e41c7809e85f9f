//! Offline sync over real HTTP on the demo catalog: snapshots and pages, pushes that apply once,
//! rejections that block nothing, two devices that converge, access revoked as tombstones, the
//! live channel, the compaction horizon, and a server killed in the middle of a push.

use std::collections::BTreeMap;
use std::time::Duration;

use chrono::{TimeZone as _, Utc};
use futures_util::StreamExt as _;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use skilltrack_protocol::auth::Session;
use skilltrack_protocol::sync::{ChangeOp, PullPage, PushResponse};
use skilltrack_server::seed::demo_id;
use skilltrack_tests::api::{Answer, Api};
use skilltrack_tests::{ServerProcess, TestServer, spawn_server};
use uuid::Uuid;

const LEARNER: (&str, &str) = ("learner@skilltrack.dev", "learner-demo-pass");
const INSTRUCTOR: (&str, &str) = ("instructor@skilltrack.dev", "instructor-demo-pass");

/// A server with the demo catalog loaded.
async fn demo_server() -> TestServer {
    let server = spawn_server().await;
    skilltrack_server::seed::load_demo(&server.db.db, server.data_dir.path())
        .await
        .unwrap();
    server
}

fn course(slug: &str) -> Uuid {
    demo_id(&format!("course/{slug}"))
}

async fn sign_in(api: &Api, (email, password): (&str, &str)) -> Session {
    skilltrack_tests::api::session(&api.sign_in(email, password).await)
}

/// One device's cache of synced rows: what a client would hold after applying every page.
#[derive(Debug, Default, Clone, PartialEq)]
struct Device {
    rows: BTreeMap<(String, Uuid), Value>,
    cursor: Option<String>,
    resets: usize,
    pages: usize,
}

impl Device {
    fn apply(&mut self, page: &PullPage) {
        if page.reset {
            self.rows.clear();
            self.resets += 1;
        }
        for c in &page.changes {
            let key = (
                serde_json::to_value(c.table)
                    .unwrap()
                    .as_str()
                    .unwrap()
                    .to_owned(),
                c.id,
            );
            match c.op {
                ChangeOp::Upsert => {
                    let row = c.row.as_ref().expect("an upsert carries its row");
                    self.rows
                        .insert(key, row.to_value().expect("a row is JSON"));
                }
                ChangeOp::Delete => {
                    self.rows.remove(&key);
                }
            }
        }
        self.cursor = Some(page.cursor.clone());
        self.pages += 1;
    }

    /// Pulls until the server has nothing more.
    async fn sync(&mut self, api: &Api, token: &str, limit: u32) {
        for _ in 0..10_000 {
            let page = pull(api, token, self.cursor.as_deref(), limit).await;
            self.apply(&page);
            if !page.has_more {
                return;
            }
        }
        panic!("the pull never ended");
    }

    fn table(&self, table: &str) -> Vec<&Value> {
        self.rows
            .iter()
            .filter(|((t, _), _)| t == table)
            .map(|(_, v)| v)
            .collect()
    }

    fn has(&self, table: &str, id: Uuid) -> bool {
        self.rows.contains_key(&(table.to_owned(), id))
    }
}

async fn pull_answer(api: &Api, token: &str, cursor: Option<&str>, limit: u32) -> Answer {
    let mut path = format!("/api/v1/sync/pull?limit={limit}");
    if let Some(c) = cursor {
        path = format!("{path}&cursor={c}");
    }
    api.get(&path, Some(token)).await
}

async fn pull(api: &Api, token: &str, cursor: Option<&str>, limit: u32) -> PullPage {
    let a = pull_answer(api, token, cursor, limit).await;
    assert_eq!(a.status, StatusCode::OK, "{a:?}");
    serde_json::from_value(a.body).expect("a pull page")
}

async fn push_answer(api: &Api, token: &str, mutations: &[Value]) -> Answer {
    api.post(
        "/api/v1/sync/push",
        Some(token),
        json!({ "mutations": mutations }),
    )
    .await
}

async fn push(api: &Api, token: &str, mutations: &[Value]) -> PushResponse {
    let a = push_answer(api, token, mutations).await;
    assert_eq!(a.status, StatusCode::OK, "{a:?}");
    serde_json::from_value(a.body).expect("a push response")
}

fn statuses(r: &PushResponse) -> Vec<String> {
    r.results
        .iter()
        .map(|m| {
            let v = serde_json::to_value(&m.outcome).unwrap();
            match v["code"].as_str() {
                Some(code) => format!("rejected:{code}"),
                None => v["status"].as_str().unwrap().to_owned(),
            }
        })
        .collect()
}

fn mutation(change: Value) -> Value {
    let mut m = json!({ "id": Uuid::now_v7(), "at": Utc::now() });
    m["change"] = change;
    m
}

fn mutation_at(seconds: i64, change: Value) -> Value {
    let mut m = json!({
        "id": Uuid::now_v7(),
        "at": Utc.timestamp_opt(1_800_000_000 + seconds, 0).unwrap(),
    });
    m["change"] = change;
    m
}

/// The published lessons of a demo course, through the learner-facing course page.
async fn lessons_of(api: &Api, token: &str, slug: &str) -> Vec<Uuid> {
    let page = api
        .get(&format!("/api/v1/courses/{slug}"), Some(token))
        .await;
    assert_eq!(page.status, StatusCode::OK, "{page:?}");
    let mut ids = Vec::new();
    for m in page.body["modules"].as_array().unwrap() {
        for l in m["lessons"].as_array().unwrap() {
            ids.push(l["id"].as_str().unwrap().parse().unwrap());
        }
    }
    ids
}

fn uuid_of(v: &Value, key: &str) -> Uuid {
    v[key].as_str().unwrap().parse().unwrap()
}

#[tokio::test]
async fn a_first_sync_is_a_compressed_snapshot_of_what_the_learner_may_see() {
    let server = demo_server().await;
    let api = Api::new(&server.url);
    let me = sign_in(&api, LEARNER).await;
    let token = me.access_token.as_str();

    let mut device = Device::default();
    device.sync(&api, token, 1000).await;

    let slugs: Vec<&str> = device
        .table("courses")
        .iter()
        .map(|c| c["slug"].as_str().unwrap())
        .collect();
    assert_eq!(slugs.len(), 12, "{slugs:?}");
    assert!(
        !slugs.contains(&"linux-incident-response"),
        "a draft leaked"
    );
    // Money is exact on the wire.
    assert!(
        device
            .table("courses")
            .iter()
            .all(|c| c["price"].is_string())
    );
    // Lessons: only those of the two courses the learner is enrolled in.
    let enrolled: Vec<Uuid> = device
        .table("enrollments")
        .iter()
        .map(|e| uuid_of(e, "course_id"))
        .collect();
    assert_eq!(enrolled.len(), 2);
    let modules: BTreeMap<Uuid, Uuid> = device
        .table("course_modules")
        .iter()
        .map(|m| (uuid_of(m, "id"), uuid_of(m, "course_id")))
        .collect();
    let lessons = device.table("course_lessons");
    assert!(!lessons.is_empty());
    assert!(
        lessons
            .iter()
            .all(|l| enrolled.contains(&modules[&uuid_of(l, "module_id")]))
    );
    // Own rows only.
    let profiles = device.table("profiles");
    assert_eq!(profiles.len(), 1);
    assert_eq!(uuid_of(profiles[0], "id"), me.user.id);
    for table in [
        "enrollments",
        "user_progress",
        "notifications",
        "user_bookmarks",
    ] {
        assert!(
            device
                .table(table)
                .iter()
                .all(|r| uuid_of(r, "user_id") == me.user.id),
            "{table}"
        );
    }

    // Small pages give the same result, and resume where they stopped.
    let mut paged = Device::default();
    paged.sync(&api, token, 7).await;
    assert_eq!(paged.rows, device.rows);
    assert!(paged.pages > 10, "{} pages", paged.pages);

    // Nothing changed: the next pull is empty and says so.
    let page = pull(&api, token, device.cursor.as_deref(), 1000).await;
    assert!(
        page.changes.is_empty() && !page.has_more && !page.reset,
        "{page:?}"
    );

    // Compressed when the client accepts it.
    // Without decompression, even if another crate turns reqwest's gzip feature on.
    let raw = reqwest::Client::builder()
        .no_gzip()
        .build()
        .unwrap()
        .get(format!("{}/api/v1/sync/pull?limit=1000", server.url))
        .bearer_auth(token)
        .header("accept-encoding", "gzip")
        .send()
        .await
        .unwrap();
    assert_eq!(raw.status(), StatusCode::OK);
    assert_eq!(
        raw.headers()
            .get("content-encoding")
            .map(|v| v.to_str().unwrap()),
        Some("gzip")
    );

    // Bounds and bad input are problems, not pages.
    let a = pull_answer(&api, token, None, 0).await;
    assert_eq!(
        (a.status, a.code()),
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed".to_owned()
        )
    );
    let a = api.get("/api/v1/sync/pull", None).await;
    assert_eq!(a.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn a_learners_pull_never_carries_answer_keys() {
    let server = demo_server().await;
    let api = Api::new(&server.url);
    let learner = sign_in(&api, LEARNER).await;
    let mut device = Device::default();
    device.sync(&api, &learner.access_token, 1000).await;
    let questions = device.table("assessment_questions");
    // The untimed quiz of the command-line course the learner is enrolled in.
    assert!(!questions.is_empty(), "no questions synced");
    for q in &questions {
        let keys: Vec<&String> = q.as_object().unwrap().keys().collect();
        assert!(
            !keys
                .iter()
                .any(|k| *k == "correct_answer" || *k == "explanation"),
            "{keys:?}"
        );
    }
    // Nowhere in the raw pages either: the answer keys' own texts never travel.
    let keys: Vec<(String, Option<String>)> = sqlx::query_as(
        "SELECT correct_answer, explanation FROM assessment_questions WHERE id = ANY($1)",
    )
    .bind(
        questions
            .iter()
            .map(|q| uuid_of(q, "id"))
            .collect::<Vec<_>>(),
    )
    .fetch_all(server.db.owner())
    .await
    .unwrap();
    let raw = pull_answer(&api, &learner.access_token, None, 5000).await;
    let text = raw.body.to_string();
    for (_, explanation) in &keys {
        let explanation = explanation.as_deref().unwrap();
        assert!(!text.contains(explanation), "an explanation leaked");
    }
    // The course's own instructor syncs the same learner-safe projection.
    let instructor = sign_in(&api, INSTRUCTOR).await;
    let mut teacher = Device::default();
    teacher.sync(&api, &instructor.access_token, 1000).await;
    let theirs = teacher.table("assessment_questions");
    assert!(theirs.len() >= questions.len());
    assert!(
        theirs
            .iter()
            .all(|q| q.get("correct_answer").is_none() && q.get("explanation").is_none())
    );
}

#[tokio::test]
async fn offline_writes_pushed_once_reach_the_other_device() {
    let server = demo_server().await;
    let api = Api::new(&server.url);
    let me = sign_in(&api, LEARNER).await;
    let token = me.access_token.as_str();
    let mut laptop = Device::default();
    let mut phone = Device::default();
    laptop.sync(&api, token, 1000).await;
    phone.sync(&api, token, 1000).await;
    assert_eq!(laptop.rows, phone.rows);

    // The laptop studies offline: its outbox fills up, then goes in one push.
    let lesson = lessons_of(&api, token, "intro-to-the-command-line").await[2];
    let docker = course("docker-fundamentals");
    let outbox = vec![
        mutation(
            json!({"kind": "lesson_progress", "lesson_id": lesson, "progress_percentage": 40, "add_minutes": 10}),
        ),
        mutation(
            json!({"kind": "lesson_progress", "lesson_id": lesson, "progress_percentage": 20, "add_minutes": 5}),
        ),
        mutation(json!({"kind": "bookmark_add", "entity_type": "course", "entity_id": docker})),
        mutation(
            json!({"kind": "course_review_put", "course_id": course("intro-to-the-command-line"), "rating": 4, "review_text": "Written on a train."}),
        ),
    ];
    let first = push(&api, token, &outbox).await;
    assert_eq!(statuses(&first), ["applied"; 4]);
    let ids: Vec<Uuid> = first.results.iter().map(|r| r.id).collect();
    assert_eq!(
        ids,
        outbox.iter().map(|m| uuid_of(m, "id")).collect::<Vec<_>>()
    );

    // The answer was lost: the same batch again changes nothing.
    let again = push(&api, token, &outbox).await;
    assert_eq!(statuses(&again), ["duplicate"; 4]);

    // Monotonic percentage, additive minutes, counted once.
    phone.sync(&api, token, 1000).await;
    let progress = phone
        .table("user_progress")
        .into_iter()
        .find(|p| uuid_of(p, "lesson_id") == lesson)
        .cloned()
        .expect("the progress reached the phone");
    assert_eq!(progress["progress_percentage"], 40);
    assert_eq!(progress["time_spent_minutes"], 15);
    assert!(
        phone
            .table("user_bookmarks")
            .iter()
            .any(|b| uuid_of(b, "entity_id") == docker)
    );
    assert!(phone.table("course_reviews").iter().any(|r| {
        uuid_of(r, "user_id") == me.user.id && r["review_text"] == "Written on a train."
    }));

    // The phone removes the bookmark; both devices converge.
    let removed = push(
        &api,
        token,
        &[mutation(
            json!({"kind": "bookmark_remove", "entity_type": "course", "entity_id": docker}),
        )],
    )
    .await;
    assert_eq!(statuses(&removed), ["applied"]);
    phone.sync(&api, token, 1000).await;
    laptop.sync(&api, token, 1000).await;
    assert!(
        !laptop
            .table("user_bookmarks")
            .iter()
            .any(|b| uuid_of(b, "entity_id") == docker)
    );
    assert_eq!(laptop.rows, phone.rows);
    // And both equal a fresh device.
    let mut fresh = Device::default();
    fresh.sync(&api, token, 1000).await;
    assert_eq!(fresh.rows, laptop.rows);
}

#[tokio::test]
async fn a_rejected_mutation_is_reported_and_blocks_nothing() {
    let server = demo_server().await;
    let api = Api::new(&server.url);
    let me = sign_in(&api, LEARNER).await;
    let token = me.access_token.as_str();
    let lesson = lessons_of(&api, token, "intro-to-the-command-line").await[0];
    let not_mine: Uuid = sqlx::query_scalar(
        "SELECT l.id FROM course_lessons l JOIN course_modules m ON m.id = l.module_id
         WHERE m.course_id = $1 LIMIT 1",
    )
    .bind(course("kubernetes-in-production"))
    .fetch_one(server.db.owner())
    .await
    .unwrap();
    let batch = vec![
        mutation(
            json!({"kind": "lesson_progress", "lesson_id": not_mine, "progress_percentage": 50}),
        ),
        mutation(
            json!({"kind": "course_review_put", "course_id": course("intro-to-the-command-line"), "rating": 9}),
        ),
        mutation(json!({"kind": "lesson_progress", "lesson_id": lesson, "add_minutes": 3})),
        mutation(json!({"kind": "enroll", "course_id": course("kubernetes-in-production")})),
        mutation(json!({"kind": "notification_read", "notification_id": Uuid::now_v7()})),
        mutation(
            json!({"kind": "bookmark_add", "entity_type": "lab", "entity_id": Uuid::now_v7()}),
        ),
        mutation(json!({"kind": "enroll", "course_id": course("docker-fundamentals")})),
    ];
    let answer = push(&api, token, &batch).await;
    assert_eq!(
        statuses(&answer),
        [
            "rejected:not_found",
            "rejected:validation_failed",
            "applied",
            "rejected:prerequisites_missing",
            "rejected:not_found",
            "rejected:not_found",
            "applied",
        ]
    );
    let serde_json::Value::Object(rejected) =
        serde_json::to_value(&answer.results[1].outcome).unwrap()
    else {
        panic!()
    };
    assert!(
        rejected["reason"].as_str().unwrap().contains("rating"),
        "{rejected:?}"
    );

    // A retry gets the same answers; nothing is applied twice.
    let again = push(&api, token, &batch).await;
    let expected: Vec<String> = statuses(&answer)
        .into_iter()
        .map(|s| {
            if s == "applied" {
                "duplicate".to_owned()
            } else {
                s
            }
        })
        .collect();
    assert_eq!(statuses(&again), expected);
    let minutes: i32 = sqlx::query_scalar(
        "SELECT time_spent_minutes FROM user_progress WHERE user_id = $1 AND lesson_id = $2",
    )
    .bind(me.user.id)
    .bind(lesson)
    .fetch_one(server.db.owner())
    .await
    .unwrap();
    let seeded_or_zero = minutes - 3;
    assert!(seeded_or_zero >= 0);
    let again: i32 = sqlx::query_scalar(
        "SELECT count(*)::int FROM enrollments WHERE user_id = $1 AND course_id = $2",
    )
    .bind(me.user.id)
    .bind(course("docker-fundamentals"))
    .fetch_one(server.db.owner())
    .await
    .unwrap();
    assert_eq!(again, 1);

    // A batch out of bounds or malformed is refused as a whole.
    let a = push_answer(&api, token, &[]).await;
    assert_eq!(a.status, StatusCode::UNPROCESSABLE_ENTITY, "{a:?}");
    let too_many: Vec<Value> = (0..501)
        .map(|_| mutation(json!({"kind": "enroll", "course_id": Uuid::now_v7()})))
        .collect();
    let a = push_answer(&api, token, &too_many).await;
    assert_eq!(a.status, StatusCode::UNPROCESSABLE_ENTITY, "{a:?}");
    let a = push_answer(
        &api,
        token,
        &[json!({"id": Uuid::now_v7(), "at": Utc::now(), "change": {"kind": "teleport"}})],
    )
    .await;
    assert_eq!(a.status, StatusCode::UNPROCESSABLE_ENTITY, "{a:?}");
}

#[tokio::test]
async fn reviews_and_bookmarks_follow_the_latest_client_time() {
    let server = demo_server().await;
    let api = Api::new(&server.url);
    let me = sign_in(&api, LEARNER).await;
    let token = me.access_token.as_str();
    let intro = course("intro-to-the-command-line");
    let text = |t: &str| json!({"kind": "course_review_put", "course_id": intro, "rating": 3, "review_text": t});

    // Two devices edited offline; the later edit (by client clock) arrives first.
    let r = push(
        &api,
        token,
        &[
            mutation_at(20, text("later")),
            mutation_at(10, text("earlier")),
        ],
    )
    .await;
    assert_eq!(statuses(&r), ["applied", "applied"]);
    let review: Option<String> = sqlx::query_scalar(
        "SELECT review_text FROM course_reviews WHERE user_id = $1 AND course_id = $2",
    )
    .bind(me.user.id)
    .bind(intro)
    .fetch_one(server.db.owner())
    .await
    .unwrap();
    assert_eq!(review.as_deref(), Some("later"));
    // A delete older than the last write loses; a newer one wins.
    push(
        &api,
        token,
        &[mutation_at(
            15,
            json!({"kind": "course_review_delete", "course_id": intro}),
        )],
    )
    .await;
    let count = |server: &TestServer| {
        let pool = server.db.owner().clone();
        let user = me.user.id;
        async move {
            sqlx::query_scalar::<_, i64>(
                "SELECT count(*) FROM course_reviews WHERE user_id = $1 AND course_id = $2",
            )
            .bind(user)
            .bind(intro)
            .fetch_one(&pool)
            .await
            .unwrap()
        }
    };
    assert_eq!(count(&server).await, 1);
    push(
        &api,
        token,
        &[mutation_at(
            30,
            json!({"kind": "course_review_delete", "course_id": intro}),
        )],
    )
    .await;
    assert_eq!(count(&server).await, 0);
    // And the delete is remembered: a stale write cannot bring the review back.
    push(&api, token, &[mutation_at(25, text("stale"))]).await;
    assert_eq!(count(&server).await, 0);

    // Bookmarks: a removal remembered as a tombstone beats a stale add.
    let lab = demo_id("lab/terminal-first-steps");
    let mark = |kind: &str| json!({"kind": kind, "entity_type": "lab", "entity_id": lab});
    push(
        &api,
        token,
        &[
            mutation_at(1, mark("bookmark_add")),
            mutation_at(3, mark("bookmark_remove")),
            mutation_at(2, mark("bookmark_add")),
        ],
    )
    .await;
    let mut device = Device::default();
    device.sync(&api, token, 1000).await;
    assert!(
        !device
            .table("user_bookmarks")
            .iter()
            .any(|b| uuid_of(b, "entity_id") == lab)
    );
    push(&api, token, &[mutation_at(4, mark("bookmark_add"))]).await;
    device.sync(&api, token, 1000).await;
    assert!(
        device
            .table("user_bookmarks")
            .iter()
            .any(|b| uuid_of(b, "entity_id") == lab)
    );
}

#[tokio::test]
async fn revoked_access_turns_rows_into_tombstones() {
    let server = demo_server().await;
    let api = Api::new(&server.url);
    let learner = sign_in(&api, LEARNER).await;
    let token = learner.access_token.as_str();
    let instructor = sign_in(&api, INSTRUCTOR).await;
    let intro = course("intro-to-the-command-line");
    let python = course("python-for-data-analysis");
    let intro_lessons = lessons_of(&api, token, "intro-to-the-command-line").await;
    let python_lessons = lessons_of(&api, token, "python-for-data-analysis").await;
    let mut device = Device::default();
    device.sync(&api, token, 1000).await;
    assert!(
        intro_lessons
            .iter()
            .all(|l| device.has("course_lessons", *l))
    );
    let intro_questions = device.table("assessment_questions").len();
    assert!(intro_questions > 0);

    // Unenrolled: the course's lessons and assessments leave the device; the course stays.
    let a = api
        .call(
            Method::DELETE,
            &format!("/api/v1/courses/{intro}/enrollment"),
            Some(token),
            None,
        )
        .await;
    assert_eq!(a.status, StatusCode::OK, "{a:?}");
    device.sync(&api, token, 1000).await;
    assert!(
        intro_lessons
            .iter()
            .all(|l| !device.has("course_lessons", *l))
    );
    assert!(device.table("assessment_questions").is_empty());
    assert!(device.has("courses", intro));
    assert!(
        python_lessons
            .iter()
            .all(|l| device.has("course_lessons", *l))
    );

    // Back again: they return.
    let a = api
        .call(
            Method::POST,
            &format!("/api/v1/courses/{intro}/enrollment"),
            Some(token),
            None,
        )
        .await;
    assert_eq!(a.status, StatusCode::CREATED, "{a:?}");
    device.sync(&api, token, 1000).await;
    assert!(
        intro_lessons
            .iter()
            .all(|l| device.has("course_lessons", *l))
    );
    assert_eq!(device.table("assessment_questions").len(), intro_questions);

    // Unpublished: the course, its modules and lessons leave every learner's device.
    let a = api
        .call(
            Method::POST,
            &format!("/api/v1/authoring/courses/{python}/unpublish"),
            Some(&instructor.access_token),
            None,
        )
        .await;
    assert!(a.status.is_success(), "{a:?}");
    device.sync(&api, token, 1000).await;
    assert!(!device.has("courses", python));
    assert!(
        python_lessons
            .iter()
            .all(|l| !device.has("course_lessons", *l))
    );
    assert!(
        !device
            .table("course_modules")
            .iter()
            .any(|m| uuid_of(m, "course_id") == python)
    );
    // The device now holds exactly what a fresh one would.
    let mut fresh = Device::default();
    fresh.sync(&api, token, 1000).await;
    assert_eq!(fresh.rows, device.rows);
}

#[tokio::test]
async fn another_users_rows_never_appear() {
    let server = demo_server().await;
    let api = Api::new(&server.url);
    let lee = sign_in(&api, LEARNER).await;
    let kim = api
        .sign_up("kim@example.com", "correct horse battery", "Kim")
        .await;
    let mut kims = Device::default();
    kims.sync(&api, &kim.access_token, 1000).await;

    // Lee studies, bookmarks, reads, enrolls; Kim's device hears nothing of it.
    let lesson = lessons_of(&api, &lee.access_token, "intro-to-the-command-line").await[0];
    push(
        &api,
        &lee.access_token,
        &[
            mutation(json!({"kind": "lesson_progress", "lesson_id": lesson, "add_minutes": 5})),
            mutation(json!({"kind": "bookmark_add", "entity_type": "course", "entity_id": course("docker-fundamentals")})),
            mutation(json!({"kind": "enroll", "course_id": course("docker-fundamentals")})),
        ],
    )
    .await;
    let page = pull(&api, &kim.access_token, kims.cursor.as_deref(), 1000).await;
    let lees: Vec<Uuid> = sqlx::query_scalar(
        "SELECT id FROM user_progress WHERE user_id = $1 UNION ALL
         SELECT id FROM user_bookmarks WHERE user_id = $1 UNION ALL
         SELECT id FROM enrollments WHERE user_id = $1 UNION ALL
         SELECT id FROM notifications WHERE user_id = $1",
    )
    .bind(lee.user.id)
    .fetch_all(server.db.owner())
    .await
    .unwrap();
    assert!(!lees.is_empty());
    for c in &page.changes {
        assert!(!lees.contains(&c.id), "{c:?}");
        assert_ne!(c.id, lee.user.id);
    }
    kims.apply(&page);
    let text = serde_json::to_string(&kims.rows.values().collect::<Vec<_>>()).unwrap();
    assert!(
        !text.contains(&lee.user.id.to_string())
            || kims
                .table("course_reviews")
                .iter()
                .any(|r| uuid_of(r, "user_id") == lee.user.id),
        "Lee's id appears outside public reviews"
    );
    for table in [
        "enrollments",
        "user_progress",
        "user_bookmarks",
        "notifications",
        "profiles",
    ] {
        assert!(
            kims.table(table).iter().all(|r| r
                .get("user_id")
                .or_else(|| r.get("id"))
                .and_then(Value::as_str)
                == Some(&kim.user.id.to_string())),
            "{table}"
        );
    }
}

/// Reads SSE events from a streaming response until `want` matches one or the time is up.
async fn next_event(
    stream: &mut (impl futures_util::Stream<Item = reqwest::Result<axum::body::Bytes>> + Unpin),
    buffer: &mut String,
    within: Duration,
) -> Option<Value> {
    let deadline = tokio::time::Instant::now() + within;
    loop {
        if let Some(end) = buffer.find("\n\n") {
            let block: String = buffer.drain(..end + 2).collect();
            if let Some(data) = block.lines().find_map(|l| l.strip_prefix("data: ")) {
                assert!(block.contains("event: pull"), "{block}");
                return Some(serde_json::from_str(data).unwrap());
            }
            continue;
        }
        match tokio::time::timeout_at(deadline, stream.next()).await {
            Ok(Some(Ok(bytes))) => buffer.push_str(&String::from_utf8_lossy(&bytes)),
            _ => return None,
        }
    }
}

#[tokio::test]
async fn the_live_channel_says_pull_when_something_of_mine_or_the_catalog_changes() {
    let server = demo_server().await;
    let api = Api::new(&server.url);
    let lee = sign_in(&api, LEARNER).await;
    let kim = api
        .sign_up("kim@example.com", "correct horse battery", "Kim")
        .await;
    let instructor = sign_in(&api, INSTRUCTOR).await;
    let response = reqwest::Client::new()
        .get(format!("{}/api/v1/sync/live", server.url))
        .bearer_auth(&lee.access_token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        response.headers().get("content-type").unwrap(),
        "text/event-stream"
    );
    let mut events = response.bytes_stream();
    let mut buffer = String::new();
    let wait = Duration::from_secs(5);
    // On connecting: pull whatever happened while away.
    let first = next_event(&mut events, &mut buffer, wait)
        .await
        .expect("a greeting");
    assert_eq!(first, json!({"scope": "everything"}));

    // Another of Lee's devices pushes: this one is told, quickly.
    let started = std::time::Instant::now();
    let lesson = lessons_of(&api, &lee.access_token, "intro-to-the-command-line").await[0];
    push(
        &api,
        &lee.access_token,
        &[mutation(
            json!({"kind": "lesson_progress", "lesson_id": lesson, "add_minutes": 1}),
        )],
    )
    .await;
    let signal = next_event(&mut events, &mut buffer, wait)
        .await
        .expect("a signal for my change");
    assert_eq!(signal, json!({"scope": "mine"}));
    assert!(started.elapsed() < wait);

    // Kim's writes are not Lee's business.
    push(&api, &kim.access_token, &[mutation(json!({"kind": "bookmark_add", "entity_type": "course", "entity_id": course("docker-fundamentals")}))]).await;
    assert_eq!(
        next_event(&mut events, &mut buffer, Duration::from_millis(700)).await,
        None
    );

    // A catalog change reaches everyone.
    let a = api
        .call(
            Method::PATCH,
            &format!(
                "/api/v1/authoring/courses/{}",
                course("git-and-github-essentials")
            ),
            Some(&instructor.access_token),
            Some(json!({"title": "Git and GitHub, Essentially"})),
        )
        .await;
    assert!(a.status.is_success(), "{a:?}");
    let signal = next_event(&mut events, &mut buffer, wait)
        .await
        .expect("a catalog signal");
    assert_eq!(signal, json!({"scope": "catalog"}));

    let a = api.get("/api/v1/sync/live", None).await;
    assert_eq!(a.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn a_cursor_older_than_the_compaction_horizon_starts_over_cleanly() {
    let server = demo_server().await;
    let api = Api::new(&server.url);
    let me = sign_in(&api, LEARNER).await;
    let token = me.access_token.as_str();
    let mut device = Device::default();
    device.sync(&api, token, 1000).await;
    let old_cursor = device.cursor.clone();
    let lesson = lessons_of(&api, token, "intro-to-the-command-line").await[1];
    push(
        &api,
        token,
        &[mutation(
            json!({"kind": "lesson_progress", "lesson_id": lesson, "progress_percentage": 70}),
        )],
    )
    .await;

    // The server compacts everything logged so far.
    // Numbered first, as any pull would have.
    skilltrack_server::db::sync::sequence(server.db.api())
        .await
        .unwrap();
    let mut tx = skilltrack_server::db::session::begin_service(server.db.api())
        .await
        .unwrap();
    let horizon =
        skilltrack_server::db::sync::compact(&mut tx, Utc::now() + chrono::Duration::hours(1))
            .await
            .unwrap();
    tx.commit().await.unwrap();
    assert!(horizon > 0);

    // The stale cursor gets a fresh snapshot that says so — not an error, and not again.
    let page = pull(&api, token, old_cursor.as_deref(), 1000).await;
    assert!(page.reset, "{:?}", page.cursor);
    device.apply(&page);
    device.sync(&api, token, 1000).await;
    assert_eq!(device.resets, 1);
    let mut fresh = Device::default();
    fresh.sync(&api, token, 1000).await;
    assert_eq!(fresh.rows, device.rows);
    assert!(
        device
            .table("user_progress")
            .iter()
            .any(|p| uuid_of(p, "lesson_id") == lesson && p["progress_percentage"] == 70)
    );
    // After the reset the device follows the log again.
    let page = pull(&api, token, device.cursor.as_deref(), 1000).await;
    assert!(!page.reset && page.changes.is_empty());

    // A cursor that is not ours at all (another server's, corrupted) starts over the same way.
    for junk in ["s1.99.zzz", "banana", "999999999"] {
        let page = pull(&api, token, Some(junk), 10).await;
        assert!(page.reset, "{junk}");
    }
    // Nor is a position in another database's log, however plausible the position (a backup
    // restored numbers its log again from where the backup stood).
    let current = device.cursor.clone().unwrap();
    let (_, position) = current.split_once(':').expect("a cursor names its lineage");
    let page = pull(
        &api,
        token,
        Some(&format!("0000000000000000:{position}")),
        10,
    )
    .await;
    assert!(page.reset, "{current}");
}

#[tokio::test]
async fn a_server_killed_during_a_push_applies_each_mutation_exactly_once() {
    let dir = skilltrack_tests::process::data_dir();
    let status = skilltrack_tests::process::server_command(dir.path(), &["seed-demo"])
        .status()
        .unwrap();
    assert!(status.success());
    let mut server = ServerProcess::start(dir.path());
    let api = Api::new(&server.url);
    let me = sign_in(&api, LEARNER).await;
    let lessons = lessons_of(&api, &me.access_token, "intro-to-the-command-line").await;
    let before: i64 = minutes_of(&api, &me.access_token).await;
    let batch: Vec<Value> = (0..500)
        .map(|i| {
            mutation(json!({
                "kind": "lesson_progress",
                "lesson_id": lessons[i % lessons.len()],
                "add_minutes": 1,
            }))
        })
        .collect();

    // The first push is cut off by SIGKILL somewhere in the middle.
    let pushing = {
        let url = server.url.clone();
        let token = me.access_token.clone();
        let batch = batch.clone();
        tokio::spawn(async move {
            reqwest::Client::new()
                .post(format!("{url}/api/v1/sync/push"))
                .bearer_auth(token)
                .json(&json!({ "mutations": batch }))
                .send()
                .await
        })
    };
    tokio::time::sleep(Duration::from_millis(40)).await;
    nix::sys::signal::kill(server.pid(), nix::sys::signal::Signal::SIGKILL).unwrap();
    let _ = server.child.wait();
    let first = pushing.await.unwrap();

    // The client never saw an answer (or saw all of them); it retries after the restart.
    let server = ServerProcess::start(dir.path());
    let api = Api::new(&server.url);
    let me = sign_in(&api, LEARNER).await;
    let retry = push(&api, &me.access_token, &batch).await;
    let s = statuses(&retry);
    assert!(
        s.iter().all(|x| x == "applied") || s.iter().all(|x| x == "duplicate"),
        "a batch commits whole: {s:?}"
    );
    if first.is_ok_and(|r| r.status().is_success()) {
        assert!(s.iter().all(|x| x == "duplicate"));
    }
    assert_eq!(minutes_of(&api, &me.access_token).await, before + 500);
}

/// The learner's total minutes over their synced progress.
async fn minutes_of(api: &Api, token: &str) -> i64 {
    let mut device = Device::default();
    device.sync(api, token, 5000).await;
    device
        .table("user_progress")
        .iter()
        .map(|p| p["time_spent_minutes"].as_i64().unwrap())
        .sum()
}

#[tokio::test]
async fn hiding_a_module_a_lab_or_an_assessment_hides_what_depends_on_it() {
    let server = demo_server().await;
    let api = Api::new(&server.url);
    let me = sign_in(&api, LEARNER).await;
    let token = me.access_token.as_str();
    let mut device = Device::default();
    device.sync(&api, token, 1000).await;
    let intro = course("intro-to-the-command-line");
    let lessons_before = device.table("course_lessons").len();
    let questions_before = device.table("assessment_questions").len();
    let lab_reviews_before = device.table("lab_reviews").len();
    assert!(questions_before > 0);

    // Written as the owner, as an admin's SQL would be: the feed follows every write path.
    let module: Uuid = sqlx::query_scalar(
        "UPDATE course_modules SET is_published = false
         WHERE id = (SELECT id FROM course_modules WHERE course_id = $1 ORDER BY sort_order LIMIT 1)
         RETURNING id",
    )
    .bind(intro)
    .fetch_one(server.db.owner())
    .await
    .unwrap();
    sqlx::query("UPDATE assessments SET is_published = false WHERE course_id = $1")
        .bind(intro)
        .execute(server.db.owner())
        .await
        .unwrap();
    sqlx::query("UPDATE labs SET is_published = false")
        .execute(server.db.owner())
        .await
        .unwrap();
    device.sync(&api, token, 1000).await;
    assert!(device.table("course_lessons").len() < lessons_before);
    assert!(
        device
            .table("course_lessons")
            .iter()
            .all(|l| uuid_of(l, "module_id") != module)
    );
    assert!(device.table("assessment_questions").is_empty());
    assert!(device.table("labs").is_empty());
    assert!(device.table("lab_reviews").len() <= lab_reviews_before);
    let mut fresh = Device::default();
    fresh.sync(&api, token, 1000).await;
    assert_eq!(fresh.rows, device.rows);
}
