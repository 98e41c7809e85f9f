//! What the server writes to people is in their language (issue 17, decision 340): a learner
//! who chose French in the app (the client's outbox carries the choice to their profile) gets
//! the notifications the database writes in French — joining a course, a graded attempt, a
//! lab stopped — while another learner, left in English, reads them in English.

use reqwest::Method;
use reqwest::StatusCode;
use serde_json::json;
use skilltrack_client::sync::{SyncEngine, lock};
use skilltrack_client::tokens::StoreKind;
use skilltrack_protocol::auth::Session;
use skilltrack_protocol::sync::SyncTable;
use skilltrack_server::seed::demo_id;
use skilltrack_tests::api::Api;
use skilltrack_tests::spawn_demo_server;
use uuid::Uuid;

const COURSE: &str = "intro-to-the-command-line";

async fn device(url: &str, dir: &std::path::Path, session: &Session) -> SyncEngine {
    let engine =
        skilltrack_client::device::open(url, dir, &StoreKind::File).expect("opening the device");
    engine.adopt(session.clone()).await.unwrap();
    engine
}

/// The learner's notifications, newest first: (title, message).
async fn notifications(api: &Api, token: &str) -> Vec<(String, String)> {
    let a = api.get("/api/v1/me/notifications", Some(token)).await;
    assert_eq!(a.status, StatusCode::OK, "{a:?}");
    a.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| {
            (
                n["title"].as_str().unwrap().to_owned(),
                n["message"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

/// Enrolls in the demo course and hands in an empty attempt at its untimed quiz (graded at
/// once: 0 %, not passed).
async fn enroll_and_fail_the_quiz(server: &skilltrack_tests::TestServer, api: &Api, token: &str) {
    let course = demo_id(&format!("course/{COURSE}"));
    let enrolled = api
        .post(
            &format!("/api/v1/courses/{course}/enrollment"),
            Some(token),
            json!({}),
        )
        .await;
    assert_eq!(enrolled.status, StatusCode::CREATED, "{enrolled:?}");
    let quiz: Uuid = sqlx::query_scalar(
        "SELECT id FROM assessments WHERE course_id = $1 AND time_limit_minutes IS NULL
         ORDER BY title LIMIT 1",
    )
    .bind(course)
    .fetch_one(server.db.owner())
    .await
    .unwrap();
    let submitted = api
        .call(
            Method::PUT,
            &format!("/api/v1/attempts/{}/submission", Uuid::now_v7()),
            Some(token),
            Some(json!({"assessment_id": quiz})),
        )
        .await;
    assert!(submitted.status.is_success(), "{submitted:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn issue17_a_learner_who_chose_french_is_notified_in_french() {
    let server = spawn_demo_server().await;
    let api = Api::new(&server.url);
    let amelie = api
        .sign_up("amelie@example.com", "correct horse battery", "Amélie")
        .await;
    let ada = api
        .sign_up("ada@example.com", "correct horse battery", "Ada")
        .await;

    // Amélie chooses French (Canadian) in the app: the choice goes through the outbox, and
    // the cached profile shows it at once.
    let data = tempfile::tempdir().unwrap();
    let engine = device(&server.url, data.path(), &amelie).await;
    engine.sync_once().await.unwrap();
    engine.set_profile_language("fr-CA").await.unwrap();
    let cached = lock(engine.cache())
        .row(SyncTable::Profiles, amelie.user.id)
        .unwrap()
        .unwrap();
    assert_eq!(cached["language"], "fr-CA");
    engine.sync_once().await.unwrap();
    assert!(lock(engine.cache()).rejections().unwrap().is_empty());
    let me = api.get("/api/v1/me", Some(&amelie.access_token)).await;
    assert_eq!(me.body["language"], "fr-CA", "{me:?}");

    enroll_and_fail_the_quiz(&server, &api, &amelie.access_token).await;
    enroll_and_fail_the_quiz(&server, &api, &ada.access_token).await;

    let french = notifications(&api, &amelie.access_token).await;
    assert!(
        french.iter().any(|(t, m)| t == "Inscription confirmée"
            && m.starts_with("Votre inscription à « ")
            && m.ends_with("» est confirmée. Bon cours !")),
        "{french:?}"
    );
    assert!(
        french.iter().any(|(t, m)| t.ends_with(" : 0 %")
            && m.starts_with("Votre tentative n° 1 à « ")
            && m.ends_with("est notée : 0 %, non réussie.")),
        "{french:?}"
    );
    let english = notifications(&api, &ada.access_token).await;
    assert!(
        english
            .iter()
            .any(|(t, m)| t == "Enrolled" && m.ends_with("Enjoy the course!")),
        "{english:?}"
    );
    assert!(
        english
            .iter()
            .any(|(t, m)| t.ends_with(": 0%") && m.ends_with("is graded: 0%, not passed.")),
        "{english:?}"
    );

    // What the server's own jobs write (a lab stopped for idleness, decision 340) goes through
    // the same catalog: French for `fr`, `fr-CA`, `fr_FR`; English for anything else.
    for (tag, expected) in [
        ("fr", "Votre lab s\u{2019}est arrêté"),
        ("fr_FR", "Votre lab s\u{2019}est arrêté"),
        ("de-DE", "Your lab stopped"),
        ("en", "Your lab stopped"),
    ] {
        sqlx::query("UPDATE profiles SET language = $1 WHERE id = $2")
            .bind(tag)
            .bind(ada.user.id)
            .execute(server.db.owner())
            .await
            .unwrap();
        sqlx::query(
            "SELECT private.notify_message($1, 'lab_stopped',
                      jsonb_build_object('lab', 'Linux', 'minutes', '30'),
                      'lab_session', gen_random_uuid())",
        )
        .bind(ada.user.id)
        .execute(server.db.owner())
        .await
        .unwrap();
        let (title, message): (String, String) = sqlx::query_as(
            "SELECT title, message FROM notifications
              WHERE user_id = $1 AND entity_type = 'lab_session'
              ORDER BY created_at DESC, id DESC LIMIT 1",
        )
        .bind(ada.user.id)
        .fetch_one(server.db.owner())
        .await
        .unwrap();
        assert_eq!(title, expected, "{tag}: {message}");
        assert!(
            message.contains("Linux") && message.contains("30"),
            "{message}"
        );
    }
}
