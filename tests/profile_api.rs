//! `/api/v1/me`, `/api/v1/settings` and `/api/v1/admin` over real HTTP.

use reqwest::{Method, StatusCode};
use serde_json::json;
use skilltrack_protocol::auth::Session;
use skilltrack_tests::api::Api;
use skilltrack_tests::{TestServer, spawn_server};

const PASSWORD: &str = "correct horse battery";

async fn make_admin(server: &TestServer, api: &Api, email: &str) -> Session {
    let s = api.sign_up(email, PASSWORD, "Admin").await;
    sqlx::query("UPDATE profiles SET role = 'admin' WHERE id = $1")
        .bind(s.user.id)
        .execute(server.db.owner())
        .await
        .unwrap();
    s
}

#[tokio::test]
async fn a_user_edits_every_editable_field_of_their_profile() {
    let server = spawn_server().await;
    let api = Api::new(&server.url);
    let s = api.sign_up("me@example.com", PASSWORD, "Me").await;
    let patch = json!({
        "full_name": "Grace Hopper", "avatar_url": "https://example.com/g.png", "company": "Navy",
        "experience_level": "Advanced", "bio": "Compilers.", "phone": "+1 (555) 010-0000",
        "timezone": "America/New_York", "language": "en-US",
        "notification_preferences": {"email": false, "push": true}, "preferences": {"theme": "dark"}
    });
    let a = api
        .call(
            Method::PATCH,
            "/api/v1/me",
            Some(&s.access_token),
            Some(patch.clone()),
        )
        .await;
    assert_eq!(a.status, StatusCode::OK, "{a:?}");
    for (key, value) in patch.as_object().unwrap() {
        assert_eq!(&a.body[key], value, "{key}");
    }
    // An empty string clears an optional field; absent fields stay.
    let a = api
        .call(
            Method::PATCH,
            "/api/v1/me",
            Some(&s.access_token),
            Some(json!({"company": ""})),
        )
        .await;
    assert_eq!(a.body["company"], serde_json::Value::Null);
    assert_eq!(a.body["bio"], "Compilers.");
    assert_eq!(
        api.get("/api/v1/me", Some(&s.access_token)).await.body["timezone"],
        "America/New_York"
    );
}

#[tokio::test]
async fn bad_profile_values_are_refused_field_by_field_and_role_is_not_editable() {
    let server = spawn_server().await;
    let api = Api::new(&server.url);
    let s = api.sign_up("strict@example.com", PASSWORD, "S").await;
    let patch = |body| {
        api.call(
            Method::PATCH,
            "/api/v1/me",
            Some(&s.access_token),
            Some(body),
        )
    };
    let a = patch(json!({"timezone": "Mars/Olympus", "language": "not a tag", "preferences": [1]}))
        .await;
    assert_eq!(a.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(a.pointers(), ["/timezone", "/language", "/preferences"]);
    for forbidden in [
        json!({"role": "admin"}),
        json!({"email": "x@example.com"}),
        json!({"login_count": 99}),
    ] {
        let a = patch(forbidden.clone()).await;
        assert_eq!(a.status, StatusCode::UNPROCESSABLE_ENTITY, "{forbidden}");
    }
    let a = patch(json!({"full_name": "x".repeat(201)})).await;
    assert_eq!(a.pointers(), ["/full_name"]);
    let me = api.get("/api/v1/me", Some(&s.access_token)).await;
    assert_eq!(me.body["role"], "student");
    assert_eq!(me.body["email"], "strict@example.com");
}

#[tokio::test]
async fn learners_cannot_reach_admin_routes() {
    let server = spawn_server().await;
    let api = Api::new(&server.url);
    let learner = api.sign_up("learner@example.com", PASSWORD, "L").await;
    let other = api.sign_up("other@example.com", PASSWORD, "O").await;
    let t = Some(learner.access_token.as_str());
    let role_path = format!("/api/v1/admin/users/{}/role", other.user.id);
    let own_role_path = format!("/api/v1/admin/users/{}/role", learner.user.id);
    let cases = [
        api.get("/api/v1/admin/users", t).await,
        api.get("/api/v1/admin/users?q=other", t).await,
        api.call(Method::PUT, &role_path, t, Some(json!({"role": "student"})))
            .await,
        api.call(
            Method::PUT,
            &own_role_path,
            t,
            Some(json!({"role": "admin"})),
        )
        .await,
        api.call(
            Method::PUT,
            "/api/v1/admin/settings/x",
            t,
            Some(json!({"value": 1})),
        )
        .await,
        api.call(
            Method::DELETE,
            "/api/v1/admin/settings/platform_name",
            t,
            None,
        )
        .await,
    ];
    for a in cases {
        assert_eq!(
            (a.status, a.code().as_str()),
            (StatusCode::FORBIDDEN, "forbidden"),
            "{a:?}"
        );
    }
    let me = api.get("/api/v1/me", t).await;
    assert_eq!(me.body["role"], "student", "still a learner");
    // Anonymous callers are told to sign in.
    assert_eq!(
        api.get("/api/v1/admin/users", None).await.status,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn admins_search_page_through_users_and_change_roles() {
    let server = spawn_server().await;
    let api = Api::new(&server.url);
    let admin = make_admin(&server, &api, "root@example.com").await;
    let t = Some(admin.access_token.as_str());
    let mut learners = Vec::new();
    for n in 0..5 {
        learners.push(
            api.sign_up(
                &format!("pupil{n}@example.com"),
                PASSWORD,
                &format!("Pupil {n}"),
            )
            .await,
        );
    }
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(c) => format!("/api/v1/admin/users?q=PUPIL&limit=2&cursor={c}"),
            None => "/api/v1/admin/users?q=PUPIL&limit=2".to_owned(),
        };
        let page = api.get(&path, t).await;
        assert_eq!(page.status, StatusCode::OK, "{page:?}");
        for item in page.body["items"].as_array().unwrap() {
            seen.push(item["email"].as_str().unwrap().to_owned());
        }
        match page.body["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => break,
        }
    }
    seen.sort();
    assert_eq!(
        seen,
        (0..5)
            .map(|n| format!("pupil{n}@example.com"))
            .collect::<Vec<_>>()
    );

    let promoted = api
        .call(
            Method::PUT,
            &format!("/api/v1/admin/users/{}/role", learners[0].user.id),
            t,
            Some(json!({"role": "instructor"})),
        )
        .await;
    assert_eq!(
        (promoted.status, promoted.body["role"].as_str()),
        (StatusCode::OK, Some("instructor"))
    );
    let instructors = api.get("/api/v1/admin/users?role=instructor", t).await;
    assert_eq!(instructors.body["items"].as_array().unwrap().len(), 1);

    let bad = [
        api.get("/api/v1/admin/users?limit=0", t).await.status,
        api.get("/api/v1/admin/users?cursor=bogus", t).await.status,
        api.get("/api/v1/admin/users?role=wizard", t).await.status,
        api.call(
            Method::PUT,
            "/api/v1/admin/users/not-a-uuid/role",
            t,
            Some(json!({"role": "admin"})),
        )
        .await
        .status,
        api.call(
            Method::PUT,
            &format!("/api/v1/admin/users/{}/role", uuid::Uuid::now_v7()),
            t,
            Some(json!({"role": "admin"})),
        )
        .await
        .status,
    ];
    assert_eq!(
        bad,
        [
            StatusCode::UNPROCESSABLE_ENTITY,
            StatusCode::BAD_REQUEST,
            StatusCode::BAD_REQUEST,
            StatusCode::BAD_REQUEST,
            StatusCode::NOT_FOUND
        ]
    );
}

#[tokio::test]
async fn public_settings_for_anyone_all_settings_for_admins() {
    let server = spawn_server().await;
    let api = Api::new(&server.url);
    let admin = make_admin(&server, &api, "settings-admin@example.com").await;
    let t = Some(admin.access_token.as_str());
    let put = |key: &'static str, body| {
        let api = api.clone();
        async move {
            let path = format!("/api/v1/admin/settings/{key}");
            api.call(Method::PUT, &path, t, Some(body)).await
        }
    };
    assert_eq!(
        put(
            "platform_name",
            json!({"value": "Skilltrack", "is_public": true})
        )
        .await
        .status,
        StatusCode::OK
    );
    assert_eq!(
        put("payments.secret_mode", json!({"value": {"on": true}}))
            .await
            .status,
        StatusCode::OK
    );
    assert_eq!(
        put("Bad Key!", json!({"value": 1})).await.status,
        StatusCode::UNPROCESSABLE_ENTITY
    );

    let keys = |a: skilltrack_tests::api::Answer| -> Vec<String> {
        a.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["key"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(
        keys(api.get("/api/v1/settings", None).await),
        ["lab_price", "platform_name"]
    );
    let learner = api.sign_up("reader@example.com", PASSWORD, "R").await;
    assert_eq!(
        keys(
            api.get("/api/v1/settings", Some(&learner.access_token))
                .await
        ),
        ["lab_price", "platform_name"]
    );
    assert_eq!(
        keys(api.get("/api/v1/settings", t).await),
        ["lab_price", "payments.secret_mode", "platform_name"]
    );

    let gone = api
        .call(
            Method::DELETE,
            "/api/v1/admin/settings/payments.secret_mode",
            t,
            None,
        )
        .await;
    assert_eq!(gone.status, StatusCode::NO_CONTENT);
    let again = api
        .call(
            Method::DELETE,
            "/api/v1/admin/settings/payments.secret_mode",
            t,
            None,
        )
        .await;
    assert_eq!(again.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn many_users_interleaved_over_a_small_pool_each_see_only_themselves() {
    // The test server's API pool has 4 connections; 24 users make 96 requests at once.
    let server = spawn_server().await;
    let api = Api::new(&server.url);
    let mut users = Vec::new();
    for n in 0..24 {
        users.push(
            api.sign_up(
                &format!("crowd{n}@example.com"),
                PASSWORD,
                &format!("Crowd {n}"),
            )
            .await,
        );
    }
    let mut tasks = tokio::task::JoinSet::new();
    for round in 0..4 {
        for user in &users {
            let api = api.clone();
            let (token, email) = (user.access_token.clone(), user.user.email.clone());
            tasks.spawn(async move {
                // Every other request is anonymous, so identities and no-identity interleave.
                if round % 2 == 1 {
                    let anon = api.get("/api/v1/settings", None).await;
                    assert_eq!(anon.status, StatusCode::OK);
                }
                let me = api.get("/api/v1/me", Some(&token)).await;
                assert_eq!(me.body["email"], email.as_str(), "{me:?}");
            });
        }
    }
    while let Some(r) = tasks.join_next().await {
        r.unwrap();
    }
}
