//! Runs of progress mutations in a push (applied together, `server/src/http/sync.rs`) answer and
//! change exactly what applying them one at a time would: duplicates inside and across pushes,
//! stored refusals, merged percentages and minutes, one course-start activity per course, one
//! completion and certificate, and a refusal in the middle of a run that blocks nothing.

use chrono::Utc;
use reqwest::StatusCode;
use serde_json::{Value, json};
use skilltrack_protocol::sync::PushResponse;
use skilltrack_server::seed::demo_id;
use skilltrack_tests::api::Api;
use skilltrack_tests::{TestServer, spawn_demo_server};
use uuid::Uuid;

async fn push(api: &Api, token: &str, mutations: &[Value]) -> Vec<String> {
    let a = api
        .post(
            "/api/v1/sync/push",
            Some(token),
            json!({ "mutations": mutations }),
        )
        .await;
    assert_eq!(a.status, StatusCode::OK, "{a:?}");
    let answer: PushResponse = serde_json::from_value(a.body).unwrap();
    answer
        .results
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

fn progress(lesson: Uuid, change: &Value) -> Value {
    let mut c = json!({"kind": "lesson_progress", "lesson_id": lesson});
    for (k, v) in change.as_object().unwrap() {
        c[k] = v.clone();
    }
    json!({ "id": Uuid::now_v7(), "at": Utc::now(), "change": c })
}

async fn lessons_of(server: &TestServer, course: Uuid) -> Vec<Uuid> {
    sqlx::query_scalar(
        "SELECT l.id FROM course_lessons l JOIN course_modules m ON m.id = l.module_id
         WHERE m.course_id = $1 AND m.is_published AND l.is_published
         ORDER BY m.sort_order, l.sort_order, l.id",
    )
    .bind(course)
    .fetch_all(server.db.owner())
    .await
    .unwrap()
}

async fn row(server: &TestServer, user: Uuid, lesson: Uuid) -> (i32, i32, bool) {
    sqlx::query_as(
        "SELECT progress_percentage, time_spent_minutes, completed_at IS NOT NULL
         FROM user_progress WHERE user_id = $1 AND lesson_id = $2",
    )
    .bind(user)
    .bind(lesson)
    .fetch_one(server.db.owner())
    .await
    .unwrap()
}

async fn count(server: &TestServer, sql: &str, user: Uuid, course: Uuid) -> i64 {
    sqlx::query_scalar(sql)
        .bind(user)
        .bind(course)
        .fetch_one(server.db.owner())
        .await
        .unwrap()
}

#[tokio::test]
async fn a_run_of_progress_mutations_applies_as_one_at_a_time_would() {
    let server = spawn_demo_server().await;
    let api = Api::new(&server.url);
    let me = skilltrack_tests::api::session(
        &api.sign_in("learner@skilltrack.dev", "learner-demo-pass")
            .await,
    );
    let token = me.access_token.as_str();
    let user = me.user.id;
    let course = demo_id("course/docker-fundamentals");
    let lessons = lessons_of(&server, course).await;
    assert!(lessons.len() >= 3, "{lessons:?}");
    let not_mine = lessons_of(&server, demo_id("course/kubernetes-in-production")).await[0];

    // Enroll, then a run: two new lessons of the course, one of them twice, and one mutation
    // sent twice in the same push.
    let first = progress(
        lessons[0],
        &json!({"progress_percentage": 30, "add_minutes": 2}),
    );
    let batch = vec![
        json!({"id": Uuid::now_v7(), "at": Utc::now(),
               "change": {"kind": "enroll", "course_id": course}}),
        first.clone(),
        progress(
            lessons[1],
            &json!({"progress_percentage": 50, "add_minutes": 1}),
        ),
        progress(
            lessons[0],
            &json!({"progress_percentage": 20, "add_minutes": 4}),
        ),
        first.clone(),
    ];
    assert_eq!(
        push(&api, token, &batch).await,
        ["applied", "applied", "applied", "applied", "duplicate"]
    );
    assert_eq!(row(&server, user, lessons[0]).await, (30, 6, false));
    assert_eq!(row(&server, user, lessons[1]).await, (50, 1, false));
    let started = "SELECT count(*) FROM user_activities
                   WHERE user_id = $1 AND entity_id = $2 AND activity_type = 'course_start'";
    assert_eq!(count(&server, started, user, course).await, 1);

    // The same push again: all duplicates, nothing added twice.
    assert_eq!(push(&api, token, &batch).await, ["duplicate"; 5]);
    assert_eq!(row(&server, user, lessons[0]).await, (30, 6, false));

    // A mutation refused alone keeps its answer inside a run; a refusal in the middle of a run
    // blocks neither side of it.
    let refused = progress(not_mine, &json!({"add_minutes": 1}));
    assert_eq!(
        push(&api, token, std::slice::from_ref(&refused)).await,
        ["rejected:not_found"]
    );
    let batch = vec![
        progress(lessons[1], &json!({"add_minutes": 1})),
        refused,
        progress(lessons[2], &json!({"add_minutes": 1})),
        progress(not_mine, &json!({"add_minutes": 1})),
        progress(lessons[2], &json!({"add_minutes": 2})),
    ];
    assert_eq!(
        push(&api, token, &batch).await,
        [
            "applied",
            "rejected:not_found",
            "applied",
            "rejected:not_found",
            "applied"
        ]
    );
    assert_eq!(row(&server, user, lessons[1]).await, (50, 2, false));
    assert_eq!(row(&server, user, lessons[2]).await, (0, 3, false));

    // Every lesson completed in one run: the course completes once, with one certificate.
    let batch: Vec<Value> = lessons
        .iter()
        .map(|l| progress(*l, &json!({"completed": true})))
        .collect();
    assert_eq!(
        push(&api, token, &batch).await,
        vec!["applied"; lessons.len()]
    );
    for lesson in &lessons {
        assert_eq!(row(&server, user, *lesson).await.0, 100);
    }
    let (status, percentage): (String, i32) = sqlx::query_as(
        "SELECT status::text, progress_percentage FROM enrollments
         WHERE user_id = $1 AND course_id = $2",
    )
    .bind(user)
    .bind(course)
    .fetch_one(server.db.owner())
    .await
    .unwrap();
    assert_eq!((status.as_str(), percentage), ("completed", 100));
    let certificates = "SELECT count(*) FROM certificates WHERE user_id = $1 AND course_id = $2";
    assert_eq!(count(&server, certificates, user, course).await, 1);
    let completed = "SELECT count(*) FROM user_activities
                     WHERE user_id = $1 AND entity_id = $2 AND activity_type = 'course_complete'";
    assert_eq!(count(&server, completed, user, course).await, 1);
}
