//! Issue 20, operators: admins manage the catalog's taxonomy (services and lab categories)
//! over the API; learners and instructors are refused; bad input is a 422 naming each field;
//! a service or category something belongs to is never deleted (409). Real server, real
//! PostgreSQL under RLS (the policies are the rows of `rls_matrix.rs`).

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use skilltrack_tests::api::{Answer, Api};
use skilltrack_tests::{TestServer, spawn_server};
use uuid::Uuid;

const PASSWORD: &str = "correct horse battery";

struct People {
    admin: String,
    instructor: String,
    learner: String,
    instructor_id: Uuid,
}

async fn people(server: &TestServer, api: &Api) -> People {
    let mut tokens = Vec::new();
    let mut ids = Vec::new();
    for (email, role) in [
        ("root@example.com", "admin"),
        ("teacher@example.com", "instructor"),
        ("student@example.com", "student"),
    ] {
        let session = api.sign_up(email, PASSWORD, "Someone").await;
        // The role is read from the profile at each request: the token stays good.
        sqlx::query("UPDATE profiles SET role = $2::user_role WHERE id = $1")
            .bind(session.user.id)
            .bind(role)
            .execute(server.db.owner())
            .await
            .unwrap();
        tokens.push(session.access_token);
        ids.push(session.user.id);
    }
    People {
        learner: tokens.pop().unwrap(),
        instructor: tokens.pop().unwrap(),
        admin: tokens.pop().unwrap(),
        instructor_id: ids[1],
    }
}

async fn call(api: &Api, method: Method, path: &str, token: &str, body: Option<Value>) -> Answer {
    api.call(method, path, Some(token), body).await
}

fn slugs(list: &Answer) -> Vec<String> {
    list.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["slug"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn admins_create_edit_and_delete_services() {
    let server = spawn_server().await;
    let api = Api::new(&server.url);
    let p = people(&server, &api).await;

    let made = call(
        &api,
        Method::POST,
        "/api/v1/admin/services",
        &p.admin,
        Some(json!({
            "slug": "quantum-computing",
            "title": "  Quantum Computing ",
            "description": "Qubits, gates and algorithms.",
            "icon": "atom",
            "color": "#7c3aed",
            "sort_order": 5,
        })),
    )
    .await;
    assert_eq!(made.status, StatusCode::CREATED, "{made:?}");
    let id = made.body["id"].as_str().unwrap().to_owned();
    assert_eq!(made.body["title"], "Quantum Computing");
    assert_eq!(made.body["is_active"], true);
    assert_eq!(made.body["featured"], false);
    assert_eq!(made.body["sort_order"], 5);
    assert_eq!(made.body["course_count"], 0);
    // Anyone browsing the catalog sees it now.
    let public = api.get("/api/v1/services", None).await;
    assert!(slugs(&public).contains(&"quantum-computing".to_owned()));

    // Edited: hidden from the catalog, still the admins' to see; the colour cleared.
    let edited = call(
        &api,
        Method::PATCH,
        &format!("/api/v1/admin/services/{id}"),
        &p.admin,
        Some(json!({"title": "Quantum", "is_active": false, "color": null, "featured": true})),
    )
    .await;
    assert_eq!(edited.status, StatusCode::OK, "{edited:?}");
    assert_eq!(edited.body["title"], "Quantum");
    assert_eq!(edited.body["is_active"], false);
    assert_eq!(edited.body["color"], Value::Null);
    assert_eq!(edited.body["description"], "Qubits, gates and algorithms.");
    let public = api.get("/api/v1/services", None).await;
    assert!(!slugs(&public).contains(&"quantum-computing".to_owned()));
    let all = call(&api, Method::GET, "/api/v1/admin/services", &p.admin, None).await;
    assert_eq!(all.status, StatusCode::OK);
    assert!(slugs(&all).contains(&"quantum-computing".to_owned()));

    // A second service may not take its slug.
    let twin = call(
        &api,
        Method::POST,
        "/api/v1/admin/services",
        &p.admin,
        Some(json!({"slug": "quantum-computing", "title": "Twin", "description": "Again.", "icon": "atom"})),
    )
    .await;
    assert_eq!(twin.status, StatusCode::CONFLICT, "{twin:?}");
    assert_eq!(twin.code(), "slug_taken");

    // A service with a course (a draft) is not deleted: the course would go with it.
    call(
        &api,
        Method::PATCH,
        &format!("/api/v1/admin/services/{id}"),
        &p.admin,
        Some(json!({"is_active": true})),
    )
    .await;
    let course = call(
        &api,
        Method::POST,
        "/api/v1/authoring/courses",
        &p.instructor,
        Some(json!({
            "slug": "qubits-101", "service_id": id, "title": "Qubits 101",
            "description": "Start here.", "duration": "2 weeks", "level": "Beginner",
        })),
    )
    .await;
    assert_eq!(course.status, StatusCode::CREATED, "{course:?}");
    let course_id = course.body["course"]["id"].as_str().unwrap().to_owned();
    let refused = call(
        &api,
        Method::DELETE,
        &format!("/api/v1/admin/services/{id}"),
        &p.admin,
        None,
    )
    .await;
    assert_eq!(refused.status, StatusCode::CONFLICT, "{refused:?}");
    assert_eq!(refused.code(), "service_in_use");
    let still: i64 = sqlx::query_scalar("SELECT count(*) FROM courses WHERE slug = 'qubits-101'")
        .fetch_one(server.db.owner())
        .await
        .unwrap();
    assert_eq!(still, 1);

    let gone = call(
        &api,
        Method::DELETE,
        &format!("/api/v1/authoring/courses/{course_id}"),
        &p.instructor,
        None,
    )
    .await;
    assert_eq!(gone.status, StatusCode::NO_CONTENT, "{gone:?}");
    let path = format!("/api/v1/admin/services/{id}");
    let deleted = call(&api, Method::DELETE, &path, &p.admin, None).await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT, "{deleted:?}");
    let again = call(&api, Method::DELETE, &path, &p.admin, None).await;
    assert_eq!(again.status, StatusCode::NOT_FOUND);
    let missing = call(
        &api,
        Method::PATCH,
        &path,
        &p.admin,
        Some(json!({"title": "X"})),
    )
    .await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert_eq!(missing.code(), "not_found");
}

#[tokio::test]
async fn admins_create_edit_and_delete_lab_categories() {
    let server = spawn_server().await;
    let api = Api::new(&server.url);
    let p = people(&server, &api).await;

    let made = call(
        &api,
        Method::POST,
        "/api/v1/admin/lab-categories",
        &p.admin,
        Some(json!({"slug": "networking", "name": "Networking", "description": "Routes and packets.", "icon": "network"})),
    )
    .await;
    assert_eq!(made.status, StatusCode::CREATED, "{made:?}");
    let id = made.body["id"].as_str().unwrap().to_owned();
    assert_eq!(made.body["lab_count"], 0);
    let listed = api.get("/api/v1/lab-categories", None).await;
    assert!(slugs(&listed).contains(&"networking".to_owned()));

    let path = format!("/api/v1/admin/lab-categories/{id}");
    let edited = call(
        &api,
        Method::PATCH,
        &path,
        &p.admin,
        Some(json!({"name": "Computer Networking", "icon": "wifi"})),
    )
    .await;
    assert_eq!(edited.status, StatusCode::OK, "{edited:?}");
    assert_eq!(edited.body["name"], "Computer Networking");
    assert_eq!(edited.body["icon"], "wifi");
    assert_eq!(edited.body["slug"], "networking");

    // A category with a lab (a draft) is not deleted: the lab would lose its category.
    let lab: Uuid = sqlx::query_scalar(
        "INSERT INTO labs (instructor_id, category_id, slug, title, description, difficulty,
           duration, provider)
         VALUES ($1, $2, 'packet-capture', 'Packets', 'A lab.', 'Beginner', '30 min', 'local')
         RETURNING id",
    )
    .bind(p.instructor_id)
    .bind(Uuid::parse_str(&id).unwrap())
    .fetch_one(server.db.owner())
    .await
    .unwrap();
    let refused = call(&api, Method::DELETE, &path, &p.admin, None).await;
    assert_eq!(refused.status, StatusCode::CONFLICT, "{refused:?}");
    assert_eq!(refused.code(), "lab_category_in_use");
    sqlx::query("DELETE FROM labs WHERE id = $1")
        .bind(lab)
        .execute(server.db.owner())
        .await
        .unwrap();
    let deleted = call(&api, Method::DELETE, &path, &p.admin, None).await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT, "{deleted:?}");
    let listed = api.get("/api/v1/lab-categories", None).await;
    assert!(!slugs(&listed).contains(&"networking".to_owned()));
}

#[tokio::test]
async fn learners_and_instructors_are_refused_and_bad_input_is_a_422() {
    let server = spawn_server().await;
    let api = Api::new(&server.url);
    let p = people(&server, &api).await;
    let service =
        json!({"slug": "robotics", "title": "Robotics", "description": "Motors.", "icon": "bot"});
    let category =
        json!({"slug": "robots", "name": "Robots", "description": "Motors.", "icon": "bot"});
    let made = call(
        &api,
        Method::POST,
        "/api/v1/admin/services",
        &p.admin,
        Some(service.clone()),
    )
    .await;
    assert_eq!(made.status, StatusCode::CREATED, "{made:?}");
    let service_path = format!(
        "/api/v1/admin/services/{}",
        made.body["id"].as_str().unwrap()
    );
    let made = call(
        &api,
        Method::POST,
        "/api/v1/admin/lab-categories",
        &p.admin,
        Some(category.clone()),
    )
    .await;
    assert_eq!(made.status, StatusCode::CREATED, "{made:?}");
    let category_path = format!(
        "/api/v1/admin/lab-categories/{}",
        made.body["id"].as_str().unwrap()
    );
    let other = |mut v: Value| {
        v["slug"] = "other-slug".into();
        v
    };
    let requests = [
        (Method::GET, "/api/v1/admin/services".to_owned(), None),
        (
            Method::POST,
            "/api/v1/admin/services".to_owned(),
            Some(other(service.clone())),
        ),
        (
            Method::PATCH,
            service_path.clone(),
            Some(json!({"title": "Mine now"})),
        ),
        (Method::DELETE, service_path.clone(), None),
        (
            Method::POST,
            "/api/v1/admin/lab-categories".to_owned(),
            Some(other(category.clone())),
        ),
        (
            Method::PATCH,
            category_path.clone(),
            Some(json!({"name": "Mine now"})),
        ),
        (Method::DELETE, category_path.clone(), None),
    ];
    for (method, path, body) in &requests {
        for (who, token) in [("learner", &p.learner), ("instructor", &p.instructor)] {
            let a = call(&api, method.clone(), path, token, body.clone()).await;
            assert_eq!(
                a.status,
                StatusCode::FORBIDDEN,
                "{who} {method} {path}: {a:?}"
            );
            assert_eq!(a.code(), "forbidden");
        }
        let a = api.call(method.clone(), path, None, body.clone()).await;
        assert_eq!(
            a.status,
            StatusCode::UNAUTHORIZED,
            "anonymous {method} {path}: {a:?}"
        );
    }
    // Nothing they tried happened.
    let names: Vec<String> = sqlx::query_scalar(
        "SELECT title FROM services WHERE slug IN ('robotics', 'other-slug')
         UNION ALL SELECT name FROM lab_categories WHERE slug IN ('robots', 'other-slug')",
    )
    .fetch_all(server.db.owner())
    .await
    .unwrap();
    assert_eq!(names, ["Robotics", "Robots"]);

    // Bad input: every broken field named, each with its code.
    let bad = call(
        &api,
        Method::POST,
        "/api/v1/admin/services",
        &p.admin,
        Some(json!({
            "slug": "Not A Slug", "title": "   ", "description": "Fine.", "icon": "Bot!",
            "color": "red", "image_url": "ftp://example.org/x.png", "sort_order": 2_000_000,
        })),
    )
    .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY, "{bad:?}");
    assert_eq!(bad.code(), "validation_failed");
    let mut fields: Vec<(String, String)> = bad
        .problem()
        .errors
        .into_iter()
        .map(|e| (e.pointer, e.code))
        .collect();
    fields.sort();
    assert_eq!(
        fields,
        [
            ("/color", "invalid_color"),
            ("/icon", "invalid_icon"),
            ("/image_url", "invalid_url"),
            ("/slug", "invalid_slug"),
            ("/sort_order", "out_of_range"),
            ("/title", "too_short"),
        ]
        .map(|(p, c)| (p.to_owned(), c.to_owned()))
    );
    // The counters are the database's: an unknown field is refused, not ignored.
    let counted = call(
        &api,
        Method::PATCH,
        &service_path,
        &p.admin,
        Some(json!({"course_count": 99})),
    )
    .await;
    assert_eq!(
        counted.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{counted:?}"
    );
    let bad = call(
        &api,
        Method::PATCH,
        &category_path,
        &p.admin,
        Some(json!({"name": "", "slug": "-x-"})),
    )
    .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY, "{bad:?}");
    let mut pointers = bad.pointers();
    pointers.sort();
    assert_eq!(pointers, ["/name", "/slug"]);
    let not_json = api
        .call(
            Method::PATCH,
            &category_path,
            Some(&p.admin),
            Some(json!(["name"])),
        )
        .await;
    assert_eq!(
        not_json.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{not_json:?}"
    );
}
