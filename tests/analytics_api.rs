//! Analytics over real HTTP: event batches (idempotent by event id, bounded, validated, the
//! sender decided by the server) and the admins' summaries (exact on known data, refused to
//! everyone else, by the API and by RLS).

use chrono::{DateTime, Duration, Utc};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use skilltrack_protocol::auth::Session;
use skilltrack_server::db::session::{Access, Caller, begin};
use skilltrack_server::seed::demo_id;
use skilltrack_tests::api::{Answer, Api};
use skilltrack_tests::{TestServer, spawn_server};
use uuid::Uuid;

const PASSWORD: &str = "correct horse battery";
const EVENTS: &str = "/api/v1/analytics/events";
const ACTIVE: &str = "/api/v1/admin/analytics/active-learners";
const COURSES: &str = "/api/v1/admin/analytics/courses";

async fn make_admin(server: &TestServer, api: &Api, email: &str) -> Session {
    let s = api.sign_up(email, PASSWORD, "Admin").await;
    sqlx::query("UPDATE profiles SET role = 'admin' WHERE id = $1")
        .bind(s.user.id)
        .execute(server.db.owner())
        .await
        .unwrap();
    s
}

async fn send(api: &Api, token: &str, events: Value) -> Answer {
    api.post(EVENTS, Some(token), json!({ "events": events }))
        .await
}

/// The receipt of a successful batch: (accepted, duplicates).
fn receipt(a: &Answer) -> (u64, u64) {
    assert_eq!(a.status, StatusCode::OK, "{a:?}");
    assert_eq!(
        a.body.as_object().unwrap().len(),
        2,
        "a receipt says nothing else: {a:?}"
    );
    (
        a.body["accepted"].as_u64().unwrap(),
        a.body["duplicates"].as_u64().unwrap(),
    )
}

async fn stored(server: &TestServer, user: Uuid) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM analytics_events WHERE user_id = $1")
        .bind(user)
        .fetch_one(server.db.owner())
        .await
        .unwrap()
}

async fn all_events(server: &TestServer) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM analytics_events")
        .fetch_one(server.db.owner())
        .await
        .unwrap()
}

/// (`user_id`, `event_name`, `event_data`, `ip_address`, `user_agent`, `created_at`) of one event.
type StoredEvent = (
    Option<Uuid>,
    String,
    Value,
    Option<String>,
    Option<String>,
    DateTime<Utc>,
);

async fn event(server: &TestServer, id: Uuid) -> StoredEvent {
    sqlx::query_as(
        "SELECT user_id, event_name, event_data, host(ip_address), user_agent, created_at
         FROM analytics_events WHERE id = $1",
    )
    .bind(id)
    .fetch_one(server.db.owner())
    .await
    .unwrap()
}

#[tokio::test]
async fn a_batch_is_stored_once_however_often_it_is_sent() {
    let server = spawn_server().await;
    let api = Api::new(&server.url);
    let me = api.sign_up("events@example.com", PASSWORD, "E").await;
    let t = me.access_token.as_str();
    let (full, minimal, ahead) = (Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7());
    let earlier = Utc::now() - Duration::days(2);
    let batch = json!([
        {
            "id": full, "event_name": "lesson.video.play",
            "event_data": {"lesson": "intro", "position_s": 42, "nested": {"ok": [1, 2]}},
            "session_id": "s-1", "page_url": "/courses/docker-fundamentals",
            "referrer": "https://example.com/", "occurred_at": earlier.to_rfc3339()
        },
        {"id": minimal, "event_name": "page_view"},
        {"id": ahead, "event_name": "clock.fast", "event_data": null,
         "occurred_at": (Utc::now() + Duration::minutes(2)).to_rfc3339()}
    ]);
    let before = Utc::now();
    assert_eq!(receipt(&send(&api, t, batch.clone()).await), (3, 0));
    assert_eq!(stored(&server, me.user.id).await, 3);

    let (user, name, data, _, _, at) = event(&server, full).await;
    assert_eq!(
        (user, name.as_str()),
        (Some(me.user.id), "lesson.video.play")
    );
    assert_eq!(data["nested"]["ok"], json!([1, 2]));
    assert!(
        (at - earlier).num_milliseconds().abs() < 1,
        "{at} vs {earlier}"
    );
    let (_, _, data, _, _, at) = event(&server, minimal).await;
    assert_eq!(data, json!({}));
    assert!(at >= before - Duration::seconds(1) && at <= Utc::now());
    // A clock a little fast: stored as "now", never in the future.
    let (_, _, data, _, _, at) = event(&server, ahead).await;
    assert_eq!(data, json!({}));
    assert!(at <= Utc::now(), "{at}");

    // The very same batch again (a retry after a lost answer): nothing new.
    assert_eq!(receipt(&send(&api, t, batch.clone()).await), (0, 3));
    assert_eq!(stored(&server, me.user.id).await, 3);
    // Old and new mixed, and an id repeated within the batch: only the new one is stored, once.
    let new = Uuid::now_v7();
    let mixed = json!([
        {"id": full, "event_name": "lesson.video.play"},
        {"id": new, "event_name": "quiz.open"},
        {"id": minimal, "event_name": "changed.name", "event_data": {"changed": true}},
        {"id": new, "event_name": "quiz.open.again"}
    ]);
    assert_eq!(receipt(&send(&api, t, mixed).await), (1, 3));
    assert_eq!(stored(&server, me.user.id).await, 4);
    // A duplicate changes nothing of what is stored.
    let (_, name, data, _, _, _) = event(&server, minimal).await;
    assert_eq!((name.as_str(), data), ("page_view", json!({})));
    assert_eq!(event(&server, new).await.1, "quiz.open");

    // Concurrent retries of one batch still store it once.
    let racing: Vec<Value> = (0..20)
        .map(|i| json!({"id": Uuid::now_v7(), "event_name": format!("race.{i}")}))
        .collect();
    let tries = (0..4).map(|_| {
        let (api, token, batch) = (api.clone(), t.to_owned(), Value::Array(racing.clone()));
        async move { send(&api, &token, batch).await }
    });
    let answers = futures_join(tries).await;
    let accepted: u64 = answers.iter().map(|a| receipt(a).0).sum();
    assert_eq!(accepted, 20);
    assert_eq!(stored(&server, me.user.id).await, 24);
}

/// Runs the futures concurrently and collects their answers in order.
async fn futures_join<F: std::future::Future<Output = Answer> + Send + 'static>(
    futures: impl Iterator<Item = F>,
) -> Vec<Answer> {
    let handles: Vec<_> = futures.map(tokio::spawn).collect();
    let mut answers = Vec::new();
    for h in handles {
        answers.push(h.await.unwrap());
    }
    answers
}

#[tokio::test]
async fn the_server_decides_who_sent_an_event_and_from_where() {
    let server = spawn_server().await;
    let api = Api::new(&server.url);
    let me = api.sign_up("sender@example.com", PASSWORD, "S").await;
    let victim = api.sign_up("victim@example.com", PASSWORD, "V").await;
    let t = me.access_token.as_str();

    // Fields the server decides are refused outright, and nothing of the batch is stored.
    for (field, value) in [
        ("user_id", json!(victim.user.id)),
        ("ip_address", json!("203.0.113.9")),
        ("user_agent", json!("forged")),
        ("created_at", json!(Utc::now().to_rfc3339())),
    ] {
        let mut e = json!({"id": Uuid::now_v7(), "event_name": "sneaky"});
        e[field] = value;
        let a = send(&api, t, json!([e])).await;
        assert_eq!(a.status, StatusCode::UNPROCESSABLE_ENTITY, "{field}: {a:?}");
        assert_eq!(a.code(), "validation_failed");
    }
    let a = api
        .post(
            EVENTS,
            Some(t),
            json!({"events": [], "user_id": victim.user.id}),
        )
        .await;
    assert_eq!(a.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(all_events(&server).await, 0);

    // The address is the connection's, not a header's; the user agent is the request's.
    let id = Uuid::now_v7();
    let a = reqwest::Client::new()
        .post(format!("{}{EVENTS}", server.url))
        .bearer_auth(t)
        .header("user-agent", "skilltrack-desktop/1.0 (test)")
        .header("x-forwarded-for", "203.0.113.9")
        .header("x-real-ip", "203.0.113.9")
        .json(&json!({"events": [{"id": id, "event_name": "app.start"}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(a.status(), StatusCode::OK);
    let (user, _, _, ip, agent, _) = event(&server, id).await;
    assert_eq!(user, Some(me.user.id));
    // The address as analytics keep it: its network, not the machine (issue 14).
    assert_eq!(ip.as_deref(), Some("127.0.0.0"));
    assert_eq!(agent.as_deref(), Some("skilltrack-desktop/1.0 (test)"));
    assert_eq!(stored(&server, victim.user.id).await, 0);

    // An admin's events are the admin's too (RLS would let an admin write anyone's).
    let admin = make_admin(&server, &api, "admin@example.com").await;
    let id = Uuid::now_v7();
    receipt(
        &send(
            &api,
            &admin.access_token,
            json!([{"id": id, "event_name": "admin.look"}]),
        )
        .await,
    );
    assert_eq!(event(&server, id).await.0, Some(admin.user.id));

    // Anonymous visitors may not send events.
    let a = api
        .post(
            EVENTS,
            None,
            json!({"events": [{"id": Uuid::now_v7(), "event_name": "anon"}]}),
        )
        .await;
    assert_eq!(a.status, StatusCode::UNAUTHORIZED);
    assert_eq!(a.code(), "unauthenticated");
    let a = api
        .post(
            EVENTS,
            Some("not-a-token"),
            json!({"events": [{"id": Uuid::now_v7(), "event_name": "anon"}]}),
        )
        .await;
    assert_eq!(a.status, StatusCode::UNAUTHORIZED);
    assert_eq!(all_events(&server).await, 2);
}

#[tokio::test]
async fn another_users_event_id_is_a_duplicate_and_nothing_more() {
    let server = spawn_server().await;
    let api = Api::new(&server.url);
    let a = api.sign_up("first@example.com", PASSWORD, "A").await;
    let b = api.sign_up("second@example.com", PASSWORD, "B").await;
    let taken = Uuid::now_v7();
    receipt(
        &send(
            &api,
            &a.access_token,
            json!([{"id": taken, "event_name": "private.thing", "event_data": {"secret": "a's"}}]),
        )
        .await,
    );
    // B reuses A's id (learned somehow) next to an event of their own: the batch succeeds, A's
    // id counts as a duplicate exactly as B's own repeated ids do, and nothing of A's comes back.
    let mine = Uuid::now_v7();
    let answer = send(
        &api,
        &b.access_token,
        json!([
            {"id": taken, "event_name": "overwrite.attempt", "event_data": {"secret": "b's"}},
            {"id": mine, "event_name": "own.event"}
        ]),
    )
    .await;
    assert_eq!(receipt(&answer), (1, 1));
    assert!(!answer.body.to_string().contains("a's"));
    assert!(!answer.body.to_string().contains(&a.user.id.to_string()));
    let own_retry = send(
        &api,
        &b.access_token,
        json!([{"id": mine, "event_name": "own.event"}]),
    )
    .await;
    assert_eq!(receipt(&own_retry), (0, 1));
    // A's event is untouched; B's is B's.
    let (user, name, data, ..) = event(&server, taken).await;
    assert_eq!(
        (user, name.as_str(), data),
        (Some(a.user.id), "private.thing", json!({"secret": "a's"}))
    );
    assert_eq!(event(&server, mine).await.0, Some(b.user.id));
    assert_eq!(
        (
            stored(&server, a.user.id).await,
            stored(&server, b.user.id).await
        ),
        (1, 1)
    );
}

#[tokio::test]
async fn batches_are_bounded_and_every_bad_field_is_named() {
    let server = spawn_server().await;
    let api = Api::new(&server.url);
    let me = api.sign_up("strict@example.com", PASSWORD, "S").await;
    let t = me.access_token.as_str();
    let ok = || json!({"id": Uuid::now_v7(), "event_name": "fine"});

    // 1 to 100 events.
    let a = send(&api, t, json!([])).await;
    assert_eq!(a.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        (a.code(), a.pointers()),
        ("validation_failed".to_owned(), vec!["/events".to_owned()])
    );
    let a = send(&api, t, Value::Array((0..101).map(|_| ok()).collect())).await;
    assert_eq!(a.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(a.code(), "batch_too_large");
    assert_eq!(a.pointers(), ["/events"]);
    assert_eq!(all_events(&server).await, 0);
    assert_eq!(
        receipt(&send(&api, t, Value::Array((0..100).map(|_| ok()).collect())).await),
        (100, 0)
    );
    // A body over the server's limit (1 MiB) is refused before it is read to the end.
    let huge = json!([{"id": Uuid::now_v7(), "event_name": "huge", "event_data": {"x": "y".repeat(1_100_000)}}]);
    let a = send(&api, t, huge).await;
    assert_eq!(a.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(a.code(), "payload_too_large");

    // Every rule of an event, all reported at once with their pointers; nothing is stored.
    let now = Utc::now();
    let bad = json!([
        ok(),
        {"id": Uuid::nil(), "event_name": ""},
        {"id": Uuid::now_v7(), "event_name": "1st bad name"},
        {"id": Uuid::now_v7(), "event_name": "x".repeat(201)},
        {"id": Uuid::now_v7(), "event_name": "data", "event_data": [1, 2]},
        {"id": Uuid::now_v7(), "event_name": "data", "event_data": {"x": "y".repeat(8 * 1024)}},
        {"id": Uuid::now_v7(), "event_name": "session", "session_id": ""},
        {"id": Uuid::now_v7(), "event_name": "session", "session_id": "a\nb"},
        {"id": Uuid::now_v7(), "event_name": "url", "page_url": "/".repeat(2049)},
        {"id": Uuid::now_v7(), "event_name": "time", "occurred_at": (now + Duration::hours(1)).to_rfc3339()},
        {"id": Uuid::now_v7(), "event_name": "time", "occurred_at": (now - Duration::days(91)).to_rfc3339()}
    ]);
    let a = send(&api, t, bad).await;
    assert_eq!(a.status, StatusCode::UNPROCESSABLE_ENTITY, "{a:?}");
    let found: Vec<(String, String)> = a
        .problem()
        .errors
        .into_iter()
        .map(|e| (e.pointer, e.code))
        .collect();
    let expected: Vec<(String, String)> = [
        ("/events/1/id", "invalid_id"),
        ("/events/1/event_name", "too_short"),
        ("/events/2/event_name", "invalid_event_name"),
        ("/events/3/event_name", "too_long"),
        ("/events/4/event_data", "not_an_object"),
        ("/events/5/event_data", "too_large"),
        ("/events/6/session_id", "too_short"),
        ("/events/7/session_id", "invalid_text"),
        ("/events/8/page_url", "too_long"),
        ("/events/9/occurred_at", "in_future"),
        ("/events/10/occurred_at", "too_old"),
    ]
    .iter()
    .map(|(p, c)| ((*p).to_owned(), (*c).to_owned()))
    .collect();
    assert_eq!(found, expected);
    // NUL, which no text column takes, is refused before anything else, each place named
    // (decision 207).
    let nul = json!([
        ok(),
        {"id": Uuid::now_v7(), "event_name": "data", "event_data": {"k\u{0}": "v"}},
        {"id": Uuid::now_v7(), "event_name": "data", "event_data": {"k": ["v\u{0}"]}},
        {"id": Uuid::now_v7(), "event_name": "url", "referrer": "https://x\u{0}"},
    ]);
    let a = send(&api, t, nul).await;
    assert_eq!(a.status, StatusCode::UNPROCESSABLE_ENTITY, "{a:?}");
    let found: Vec<(String, String)> = a
        .problem()
        .errors
        .into_iter()
        .map(|e| (e.pointer, e.code))
        .collect();
    assert_eq!(
        found,
        [
            (
                "/events/1/event_data/k\u{0}".to_owned(),
                "nul_character".to_owned()
            ),
            (
                "/events/2/event_data/k/0".to_owned(),
                "nul_character".to_owned()
            ),
            ("/events/3/referrer".to_owned(), "nul_character".to_owned()),
        ]
    );
    assert_eq!(stored(&server, me.user.id).await, 100);
    // Exactly 8 KiB of data is fine.
    let padding = "y".repeat(8 * 1024 - r#"{"x":""}"#.len());
    let fits = json!([{"id": Uuid::now_v7(), "event_name": "fits", "event_data": {"x": padding}}]);
    assert_eq!(receipt(&send(&api, t, fits).await), (1, 0));

    // Shapes that do not fit the type at all.
    for body in [
        json!({}),
        json!({"events": {}}),
        json!({"events": [{"event_name": "no.id"}]}),
        json!({"events": [{"id": "not-a-uuid", "event_name": "x"}]}),
        json!({"events": [{"id": Uuid::now_v7()}]}),
        json!({"events": [{"id": Uuid::now_v7(), "event_name": "x", "occurred_at": "yesterday"}]}),
        json!({"events": [{"id": Uuid::now_v7(), "event_name": 7}]}),
    ] {
        let a = api.post(EVENTS, Some(t), body.clone()).await;
        assert_eq!(a.status, StatusCode::UNPROCESSABLE_ENTITY, "{body}: {a:?}");
    }
    let raw = reqwest::Client::new()
        .post(format!("{}{EVENTS}", server.url))
        .bearer_auth(t)
        .header("content-type", "application/json")
        .body("{\"events\": [")
        .send()
        .await
        .unwrap();
    assert_eq!(raw.status(), StatusCode::BAD_REQUEST);
    let a = api.call(Method::POST, EVENTS, Some(t), None).await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST);
    assert_eq!(stored(&server, me.user.id).await, 101);
}

#[tokio::test]
async fn only_admins_read_analytics() {
    let server = spawn_server().await;
    let api = Api::new(&server.url);
    let learner = api.sign_up("learner@example.com", PASSWORD, "L").await;
    let instructor = api.sign_up("teacher@example.com", PASSWORD, "T").await;
    sqlx::query("UPDATE profiles SET role = 'instructor' WHERE id = $1")
        .bind(instructor.user.id)
        .execute(server.db.owner())
        .await
        .unwrap();
    let admin = make_admin(&server, &api, "admin@example.com").await;
    receipt(
        &send(
            &api,
            &learner.access_token,
            json!([{"id": Uuid::now_v7(), "event_name": "mine"}]),
        )
        .await,
    );
    for path in [
        ACTIVE,
        COURSES,
        "/api/v1/admin/analytics/active-learners?from=2026-01-01&to=2026-01-31",
        "/api/v1/admin/analytics/courses?limit=5",
    ] {
        for who in [&learner, &instructor] {
            let a = api.get(path, Some(&who.access_token)).await;
            assert_eq!(a.status, StatusCode::FORBIDDEN, "{path}: {a:?}");
            assert_eq!(a.code(), "forbidden");
        }
        let a = api.get(path, None).await;
        assert_eq!(a.status, StatusCode::UNAUTHORIZED, "{path}");
        assert_eq!(a.code(), "unauthenticated");
        assert_eq!(
            api.get(path, Some(&admin.access_token)).await.status,
            StatusCode::OK,
            "{path}"
        );
    }

    // Under their own RLS role, exactly as a request runs, a learner sees no analytics at all,
    // not even their own, and only their own activities; an admin sees everything.
    let count = |caller: Caller, sql: &'static str| {
        let api_pool = server.db.api().clone();
        async move {
            let mut tx = begin(&api_pool, caller, Access::ReadOnly).await.unwrap();
            let n: i64 = sqlx::query_scalar(sql).fetch_one(&mut *tx).await.unwrap();
            n
        }
    };
    let events = "SELECT count(*) FROM analytics_events";
    let activities = "SELECT count(*) FROM user_activities";
    assert_eq!(all_events(&server).await, 1);
    assert_eq!(count(Caller::User(learner.user.id), events).await, 0);
    assert_eq!(count(Caller::User(instructor.user.id), events).await, 0);
    assert_eq!(count(Caller::Anonymous, events).await, 0);
    assert_eq!(count(Caller::User(admin.user.id), events).await, 1);
    // Everyone signed up (one `login` activity each); a learner sees only their own.
    assert_eq!(count(Caller::User(learner.user.id), activities).await, 1);
    assert_eq!(count(Caller::User(admin.user.id), activities).await, 3);
}

#[tokio::test]
async fn active_learners_are_counted_per_utc_day() {
    let server = spawn_server().await;
    let api = Api::new(&server.url);
    let admin = make_admin(&server, &api, "admin@example.com").await;
    let t = admin.access_token.as_str();
    let mut users = Vec::new();
    for who in ["a", "b", "c", "d"] {
        users.push(
            api.sign_up(&format!("{who}@example.com"), PASSWORD, who)
                .await
                .user
                .id,
        );
    }
    let (a, b, c) = (users[0], users[1], users[2]);
    let owner = server.db.owner();
    for (user, at) in [
        (a, "2025-03-01T23:59:59Z"),
        (b, "2025-03-04T00:30:00Z"),
        (c, "2025-02-28T23:00:00Z"),
        (c, "2025-03-06T00:00:00Z"),
    ] {
        sqlx::query(
            "INSERT INTO user_activities (user_id, activity_type, created_at)
             VALUES ($1, 'login', $2::timestamptz)",
        )
        .bind(user)
        .bind(at)
        .execute(owner)
        .await
        .unwrap();
    }
    for (user, at) in [
        (Some(a), "2025-03-02T00:00:00Z"),
        (Some(a), "2025-03-02T10:00:00Z"),
        (Some(b), "2025-03-02T23:59:59.999Z"),
        (None, "2025-03-03T12:00:00Z"),
    ] {
        sqlx::query(
            "INSERT INTO analytics_events (user_id, event_name, created_at)
             VALUES ($1, 'seeded', $2::timestamptz)",
        )
        .bind(user)
        .bind(at)
        .execute(owner)
        .await
        .unwrap();
    }
    let answer = api
        .get(&format!("{ACTIVE}?from=2025-03-01&to=2025-03-05"), Some(t))
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{answer:?}");
    assert_eq!(
        answer.body,
        json!({
            "from": "2025-03-01", "to": "2025-03-05", "distinct_users": 2,
            "days": [
                {"day": "2025-03-01", "active_users": 1},
                {"day": "2025-03-02", "active_users": 2},
                {"day": "2025-03-03", "active_users": 0},
                {"day": "2025-03-04", "active_users": 1},
                {"day": "2025-03-05", "active_users": 0}
            ]
        })
    );
    let one = api
        .get(&format!("{ACTIVE}?from=2025-03-06&to=2025-03-06"), Some(t))
        .await;
    assert_eq!(
        one.body["days"],
        json!([{"day": "2025-03-06", "active_users": 1}])
    );

    // Events sent through the API count on the day they happened; by default the last 30 days.
    let three_days_ago = Utc::now() - Duration::days(3);
    let offline = skilltrack_tests::api::session(&api.sign_in("d@example.com", PASSWORD).await);
    receipt(
        &send(
            &api,
            &offline.access_token,
            json!([{"id": Uuid::now_v7(), "event_name": "offline.study",
                    "occurred_at": three_days_ago.to_rfc3339()}]),
        )
        .await,
    );
    let recent = api.get(ACTIVE, Some(t)).await;
    assert_eq!(recent.status, StatusCode::OK);
    let days = recent.body["days"].as_array().unwrap();
    assert_eq!(days.len(), 30);
    let to = recent.body["to"].as_str().unwrap();
    assert_eq!(to, Utc::now().date_naive().to_string());
    let day = three_days_ago.date_naive().to_string();
    let entry = days.iter().find(|e| e["day"] == day.as_str()).unwrap();
    assert_eq!(entry["active_users"], 1, "only d: {recent:?}");
    // Today: the five users who signed up (and d, who also signed in).
    assert_eq!(days.last().unwrap()["active_users"], 5);
    assert_eq!(recent.body["distinct_users"], 5);

    // A year (366 days) is the most; the range must run forwards; days are YYYY-MM-DD.
    let year = api
        .get(&format!("{ACTIVE}?from=2024-01-01&to=2024-12-31"), Some(t))
        .await;
    assert_eq!(year.body["days"].as_array().unwrap().len(), 366);
    for (query, pointer, code) in [
        ("from=2024-01-01&to=2025-01-01", "/to", "range_too_long"),
        ("from=2025-03-02&to=2025-03-01", "/from", "after_to"),
        ("from=1969-12-31&to=1970-01-01", "/from", "out_of_range"),
    ] {
        let a = api.get(&format!("{ACTIVE}?{query}"), Some(t)).await;
        assert_eq!(a.status, StatusCode::UNPROCESSABLE_ENTITY, "{query}");
        assert_eq!(a.pointers(), [pointer], "{query}");
        assert_eq!(a.problem().errors[0].code, code, "{query}");
    }
    for query in [
        "from=2025/03/01",
        "to=yesterday",
        "from=2025-02-30",
        "to=2025-03-01T00:00:00Z",
    ] {
        let a = api.get(&format!("{ACTIVE}?{query}"), Some(t)).await;
        assert_eq!(a.status, StatusCode::BAD_REQUEST, "{query}: {a:?}");
    }
}

fn course_entry<'a>(items: &'a [Value], slug: &str) -> &'a Value {
    items
        .iter()
        .find(|c| c["course"]["slug"] == slug)
        .unwrap_or_else(|| panic!("{slug} not listed"))
}

#[tokio::test]
async fn course_figures_are_exact_and_paged() {
    let server = spawn_server().await;
    skilltrack_server::seed::load_demo(&server.db.db, server.data_dir.path())
        .await
        .unwrap();
    let api = Api::new(&server.url);
    let admin = skilltrack_tests::api::session(
        &api.sign_in("admin@skilltrack.dev", "admin-demo-pass").await,
    );
    let t = admin.access_token.as_str();
    let course = demo_id("course/docker-fundamentals");
    let enrollment = format!("/api/v1/courses/{course}/enrollment");

    // Four learners in Docker Fundamentals (6 lessons): one finishes, one is half way, one
    // leaves, one has not started.
    let mut learners = Vec::new();
    for who in ["finisher", "halfway", "leaver", "idle"] {
        let s = api
            .sign_up(&format!("{who}@example.com"), PASSWORD, who)
            .await;
        let a = api
            .call(Method::POST, &enrollment, Some(&s.access_token), None)
            .await;
        assert_eq!(a.status, StatusCode::CREATED, "{a:?}");
        learners.push(s);
    }
    let page = api
        .get(
            "/api/v1/courses/docker-fundamentals",
            Some(&learners[0].access_token),
        )
        .await;
    let lessons: Vec<String> = page.body["modules"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|m| m["lessons"].as_array().unwrap().clone())
        .map(|l| l["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(lessons.len(), 6);
    for (learner, done) in [(&learners[0], 6), (&learners[1], 3)] {
        for lesson in &lessons[..done] {
            let a = api
                .call(
                    Method::PUT,
                    &format!("/api/v1/lessons/{lesson}/progress"),
                    Some(&learner.access_token),
                    Some(json!({"completed": true})),
                )
                .await;
            assert_eq!(a.status, StatusCode::OK, "{a:?}");
        }
    }
    let a = api
        .call(
            Method::DELETE,
            &enrollment,
            Some(&learners[2].access_token),
            None,
        )
        .await;
    assert_eq!(a.status, StatusCode::OK, "{a:?}");

    let all = api.get(&format!("{COURSES}?limit=100"), Some(t)).await;
    assert_eq!(all.status, StatusCode::OK, "{all:?}");
    assert_eq!(all.body["next_cursor"], Value::Null);
    let items = all.body["items"].as_array().unwrap();
    assert_eq!(items.len(), 13, "every course, the draft included");
    let docker = course_entry(items, "docker-fundamentals");
    assert_eq!(docker["course"]["id"], course.to_string());
    for (key, value) in [
        ("is_published", json!(true)),
        ("enrollments", json!(4)),
        ("active", json!(2)),
        ("completed", json!(1)),
        ("cancelled", json!(1)),
        // 1 of 4; (100 + 50 + 0 + 0) / 4.
        ("completion_rate", json!("25.00")),
        ("average_progress", json!("37.50")),
    ] {
        assert_eq!(docker[key], value, "{key}: {docker}");
    }
    // The demo learner: one lesson of eight done in Python for Data Analysis.
    let python = course_entry(items, "python-for-data-analysis");
    assert_eq!(
        (
            &python["enrollments"],
            &python["completion_rate"],
            &python["average_progress"]
        ),
        (&json!(1), &json!("0.00"), &json!("12.00"))
    );
    let draft = course_entry(items, "linux-incident-response");
    assert_eq!(
        (
            &draft["is_published"],
            &draft["enrollments"],
            &draft["completion_rate"],
            &draft["average_progress"]
        ),
        (&json!(false), &json!(0), &Value::Null, &Value::Null)
    );
    // Newest first.
    let times: Vec<&str> = items
        .iter()
        .map(|c| c["created_at"].as_str().unwrap())
        .collect();
    let mut sorted = times.clone();
    sorted.sort_by(|x, y| y.cmp(x));
    assert_eq!(
        times
            .iter()
            .map(|t| t.parse::<DateTime<Utc>>().unwrap())
            .collect::<Vec<_>>(),
        sorted
            .iter()
            .map(|t| t.parse::<DateTime<Utc>>().unwrap())
            .collect::<Vec<_>>()
    );

    // Pages of 5 walk the same list.
    let mut walked = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(c) => format!("{COURSES}?limit=5&cursor={c}"),
            None => format!("{COURSES}?limit=5"),
        };
        let p = api.get(&path, Some(t)).await;
        assert_eq!(p.status, StatusCode::OK, "{p:?}");
        walked.extend(p.body["items"].as_array().unwrap().iter().cloned());
        match p.body["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => break,
        }
    }
    assert_eq!(&walked, items);

    let a = api.get(&format!("{COURSES}?cursor=bogus"), Some(t)).await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST);
    for limit in ["0", "101"] {
        let a = api.get(&format!("{COURSES}?limit={limit}"), Some(t)).await;
        assert_eq!(a.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(a.pointers(), ["/limit"]);
    }
    let a = api.get(&format!("{COURSES}?limit=-1"), Some(t)).await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn one_user_may_send_sixty_batches_a_minute() {
    let server = spawn_server().await;
    let api = Api::new(&server.url);
    let chatty = api
        .sign_up("chatty@example.com", "correct horse battery", "C")
        .await;
    let quiet = api
        .sign_up("quiet@example.com", "correct horse battery", "Q")
        .await;
    let batch = || json!([{"id": Uuid::now_v7(), "event_name": "page_view"}]);
    for n in 0..60 {
        let a = send(&api, &chatty.access_token, batch()).await;
        assert_eq!(a.status, StatusCode::OK, "batch {n}: {a:?}");
    }
    let over = send(&api, &chatty.access_token, batch()).await;
    assert_eq!(
        (over.status, over.code().as_str()),
        (StatusCode::TOO_MANY_REQUESTS, "rate_limited")
    );
    let retry: u64 = over.headers["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&retry), "{retry}");
    // Another user is not slowed down by the first.
    let a = send(&api, &quiet.access_token, batch()).await;
    assert_eq!(a.status, StatusCode::OK, "{a:?}");
}
