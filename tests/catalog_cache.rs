//! The course page cache (`server/src/course_page_cache.rs`) over real HTTP and PostgreSQL:
//! whoever asks, in whatever order, the page served is exactly what the uncached statement
//! shows that caller under RLS; and a change committed by anyone (here: straight into the
//! database, as another server process would) is on the very next page.

use reqwest::StatusCode;
use serde_json::Value;
use skilltrack_server::auth::tokens::TokenKeys;
use skilltrack_server::db::catalog;
use skilltrack_server::db::session::{self, Access, Caller};
use skilltrack_tests::api::Api;
use skilltrack_tests::fixtures::{C1, C1_LESSON, C1_MODULE, C3, load_world, persona};
use skilltrack_tests::{TEST_JWT_SECRET, TestServer, spawn_server};
use uuid::Uuid;

/// A caller of the course page: who they are, and their bearer token.
struct Visitor {
    name: &'static str,
    caller: Caller,
    token: Option<String>,
}

fn visitors() -> Vec<Visitor> {
    let keys = TokenKeys::new(TEST_JWT_SECRET, std::time::Duration::from_secs(900)).unwrap();
    let user = |name, id| Visitor {
        name,
        caller: Caller::User(id),
        token: Some(keys.issue(id, Uuid::now_v7(), chrono::Utc::now()).0),
    };
    // Enrolled first, so that the pages of everyone after come from what the cache kept.
    vec![
        user("learner (enrolled)", persona::LEARNER),
        user("newcomer (not enrolled)", persona::NEWCOMER),
        Visitor {
            name: "anonymous",
            caller: Caller::Anonymous,
            token: None,
        },
        user("other learner (enrolled)", persona::OTHER_LEARNER),
        user("instructor (owner)", persona::INSTRUCTOR),
        user("other instructor", persona::OTHER_INSTRUCTOR),
        user("admin", persona::ADMIN),
    ]
}

/// The page as the uncached statement shows it to `caller` under RLS, or `None` (hidden).
async fn page_under_rls(server: &TestServer, caller: Caller, course: Uuid) -> Option<Value> {
    let me = match caller {
        Caller::User(id) => Some(id),
        Caller::Anonymous => None,
    };
    let mut tx = session::begin(server.db.api(), caller, Access::ReadOnly)
        .await
        .unwrap();
    let page = catalog::course_detail(&mut tx, &course.to_string(), me)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    page.map(|p| serde_json::to_value(p).unwrap())
}

/// Every visitor's page over HTTP equals their page under RLS (twice: cold, then cached).
async fn every_page_is_what_rls_shows(server: &TestServer, course: Uuid, when: &str) {
    let api = Api::new(&server.url);
    for round in ["first", "second"] {
        for v in visitors() {
            let answer = api
                .get(&format!("/api/v1/courses/{course}"), v.token.as_deref())
                .await;
            let expected = page_under_rls(server, v.caller, course).await;
            match expected {
                Some(page) => {
                    assert_eq!(
                        answer.status,
                        StatusCode::OK,
                        "{when}, {}: {answer:?}",
                        v.name
                    );
                    assert_eq!(
                        answer.body, page,
                        "{when}, {round} round: {} was served another page than RLS shows",
                        v.name
                    );
                }
                None => assert_eq!(
                    answer.status,
                    StatusCode::NOT_FOUND,
                    "{when}, {}: {answer:?}",
                    v.name
                ),
            }
        }
    }
}

fn lesson_titles(page: &Value) -> Vec<String> {
    page["modules"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|m| m["lessons"].as_array().unwrap().clone())
        .map(|l| l["title"].as_str().unwrap().to_owned())
        .collect()
}

async fn learner_page(server: &TestServer, who: Uuid) -> Value {
    let token = TokenKeys::new(TEST_JWT_SECRET, std::time::Duration::from_secs(900))
        .unwrap()
        .issue(who, Uuid::now_v7(), chrono::Utc::now())
        .0;
    let answer = Api::new(&server.url)
        .get(&format!("/api/v1/courses/{C1}"), Some(&token))
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{answer:?}");
    answer.body
}

async fn owner_sql(server: &TestServer, sql: &str) {
    sqlx::raw_sql(sql).execute(server.db.owner()).await.unwrap();
}

#[tokio::test]
async fn a_cached_course_page_is_what_rls_shows_each_caller() {
    let server = spawn_server().await;
    load_world(server.db.owner()).await;
    every_page_is_what_rls_shows(&server, C1, "the world as loaded").await;
    // The enrolled learner sees the lessons; the newcomer, served after them from the cache,
    // does not.
    assert_eq!(
        lesson_titles(&learner_page(&server, persona::LEARNER).await).len(),
        2
    );
    assert!(lesson_titles(&learner_page(&server, persona::NEWCOMER).await).is_empty());
}

#[tokio::test]
async fn a_change_to_a_course_is_on_the_next_page() {
    let server = spawn_server().await;
    load_world(server.db.owner()).await;
    let changes = [
        (
            "a draft lesson added",
            format!(
                "INSERT INTO course_lessons (id, module_id, title, content_type, sort_order,
                                             is_published)
                 VALUES ('{}', '{C1_MODULE}', 'Secret draft', 'text', 3, false)",
                Uuid::now_v7()
            ),
        ),
        (
            "the draft published",
            "UPDATE course_lessons SET is_published = true WHERE title = 'Secret draft'".to_owned(),
        ),
        (
            "a lesson unpublished",
            format!("UPDATE course_lessons SET is_published = false WHERE id = '{C1_LESSON}'"),
        ),
        (
            "the course renamed",
            format!("UPDATE courses SET title = 'Docker, Renamed' WHERE id = '{C1}'"),
        ),
        (
            "the instructor renamed",
            format!(
                "UPDATE profiles SET full_name = 'Renamed Instructor' WHERE id = '{}'",
                persona::INSTRUCTOR
            ),
        ),
        (
            "a prerequisite added",
            format!(
                "INSERT INTO course_prerequisites (id, course_id, prerequisite_course_id)
                 VALUES ('{}', '{C1}', '{C3}')",
                Uuid::now_v7()
            ),
        ),
        (
            "the prerequisite renamed",
            format!("UPDATE courses SET title = 'Kubernetes, Renamed' WHERE id = '{C3}'"),
        ),
        (
            "the prerequisite unpublished",
            format!("UPDATE courses SET is_published = false WHERE id = '{C3}'"),
        ),
        (
            "the learner's enrollment cancelled",
            format!(
                "UPDATE enrollments SET status = 'cancelled'
                 WHERE user_id = '{}' AND course_id = '{C1}'",
                persona::LEARNER
            ),
        ),
        (
            "the module unpublished",
            format!("UPDATE course_modules SET is_published = false WHERE id = '{C1_MODULE}'"),
        ),
        (
            "the course unpublished",
            format!("UPDATE courses SET is_published = false WHERE id = '{C1}'"),
        ),
    ];
    every_page_is_what_rls_shows(&server, C1, "the world as loaded").await;
    for (what, sql) in changes {
        let before = learner_page(&server, persona::OTHER_LEARNER).await;
        owner_sql(&server, &sql).await;
        every_page_is_what_rls_shows(&server, C1, what).await;
        // What the other (enrolled) learner's page shows changes with everything but these.
        let unseen = [
            "a draft lesson added",
            "the learner's enrollment cancelled",
            "the course unpublished",
        ];
        if !unseen.contains(&what) {
            assert_ne!(
                learner_page(&server, persona::OTHER_LEARNER).await,
                before,
                "{what}: the page did not change"
            );
        }
        match what {
            "a draft lesson added" => assert!(
                !lesson_titles(&learner_page(&server, persona::OTHER_LEARNER).await)
                    .contains(&"Secret draft".to_owned())
            ),
            "the draft published" => assert!(
                lesson_titles(&learner_page(&server, persona::OTHER_LEARNER).await)
                    .contains(&"Secret draft".to_owned())
            ),
            "the learner's enrollment cancelled" => {
                assert!(lesson_titles(&learner_page(&server, persona::LEARNER).await).is_empty());
                assert!(
                    !lesson_titles(&learner_page(&server, persona::OTHER_LEARNER).await).is_empty()
                );
            }
            _ => {}
        }
    }
}
