//! Reviews, helpful votes, bookmarks and notifications over real HTTP, under RLS: every route's
//! success and error cases, the derived columns kept by the database, and an IDOR suite (no
//! learner reaches another's review, vote, bookmark or notification by id).

use reqwest::{Method, StatusCode};
use rust_decimal::Decimal;
use serde_json::{Value, json};
use skilltrack_protocol::auth::Session;
use skilltrack_server::db::session::{Access, Caller, begin};
use skilltrack_tests::api::{Answer, Api};
use skilltrack_tests::{TestServer, spawn_server};
use sqlx::PgPool;
use uuid::Uuid;

const PASSWORD: &str = "correct horse battery";

/// A small catalog written as the owner: an instructor's free, paid and draft courses, a
/// published and a draft lab, an active and a retired service.
struct World {
    server: TestServer,
    api: Api,
    instructor: Uuid,
    service: Uuid,
    retired_service: Uuid,
    free: Uuid,
    paid: Uuid,
    draft: Uuid,
    lab: Uuid,
    draft_lab: Uuid,
}

impl World {
    fn owner(&self) -> &PgPool {
        self.server.db.owner()
    }

    async fn learner(&self, name: &str) -> Session {
        self.api
            .sign_up(&format!("{name}@example.com"), PASSWORD, name)
            .await
    }

    async fn enroll(&self, who: &Session, course: Uuid, status: &str) {
        sqlx::query(
            "INSERT INTO enrollments (user_id, course_id, status) VALUES ($1, $2, $3::enrollment_status)
             ON CONFLICT (user_id, course_id) DO UPDATE SET status = EXCLUDED.status",
        )
        .bind(who.user.id)
        .bind(course)
        .bind(status)
        .execute(self.owner())
        .await
        .unwrap();
    }

    async fn pay(&self, who: &Session, course: Uuid, status: &str) {
        sqlx::query(
            "INSERT INTO payments (user_id, course_id, amount, payment_method, payment_status)
             VALUES ($1, $2, 49.00, 'stripe', $3::payment_status)",
        )
        .bind(who.user.id)
        .bind(course)
        .bind(status)
        .execute(self.owner())
        .await
        .unwrap();
    }

    async fn start_lab(&self, who: &Session, lab: Uuid) {
        sqlx::query("INSERT INTO lab_sessions (user_id, lab_id, session_id) VALUES ($1, $2, $3)")
            .bind(who.user.id)
            .bind(lab)
            .bind(format!("session-{}", Uuid::now_v7()))
            .execute(self.owner())
            .await
            .unwrap();
    }

    async fn rating(&self, table: &str, id: Uuid) -> Decimal {
        sqlx::query_scalar(&format!("SELECT rating FROM {table} WHERE id = $1"))
            .bind(id)
            .fetch_one(self.owner())
            .await
            .unwrap()
    }

    async fn call(&self, method: Method, path: &str, who: &Session, body: Option<Value>) -> Answer {
        self.api
            .call(method, path, Some(&who.access_token), body)
            .await
    }
}

async fn world() -> World {
    let server = spawn_server().await;
    let api = Api::new(&server.url);
    let owner = server.db.owner().clone();
    let instructor = api
        .sign_up("teacher@example.com", PASSWORD, "Tess Teacher")
        .await
        .user
        .id;
    sqlx::query("UPDATE profiles SET role = 'instructor' WHERE id = $1")
        .bind(instructor)
        .execute(&owner)
        .await
        .unwrap();
    let service = |slug: &'static str, title: &'static str, active: bool| {
        let owner = owner.clone();
        async move {
            sqlx::query_scalar::<_, Uuid>(
                "INSERT INTO services (slug, title, description, icon, is_active)
                 VALUES ($1, $2, 'About it.', 'gear', $3) RETURNING id",
            )
            .bind(slug)
            .bind(title)
            .bind(active)
            .fetch_one(&owner)
            .await
            .unwrap()
        }
    };
    let service_id = service("devops", "DevOps", true).await;
    let retired_service = service("mainframes", "Mainframes", false).await;
    let course = |slug: &'static str, price: &'static str, published: bool| {
        let owner = owner.clone();
        async move {
            sqlx::query_scalar::<_, Uuid>(
                "INSERT INTO courses (service_id, slug, title, description, duration, level, price,
                   instructor_id, is_published)
                 VALUES ($1, $2, initcap(replace($2, '-', ' ')), 'About it.', '2 weeks', 'Beginner',
                   $3::numeric, $4, $5)
                 RETURNING id",
            )
            .bind(service_id)
            .bind(slug)
            .bind(price)
            .bind(instructor)
            .bind(published)
            .fetch_one(&owner)
            .await
            .unwrap()
        }
    };
    let free = course("free-course", "0", true).await;
    let paid = course("paid-course", "49.00", true).await;
    let draft = course("draft-course", "0", false).await;
    let lab = |slug: &'static str, published: bool| {
        let owner = owner.clone();
        async move {
            sqlx::query_scalar::<_, Uuid>(
                "INSERT INTO labs (instructor_id, slug, title, description, difficulty, duration,
                   provider, is_published)
                 VALUES ($1, $2, initcap(replace($2, '-', ' ')), 'Hands on.', 'Beginner', '1 hour',
                   'docker', $3)
                 RETURNING id",
            )
            .bind(instructor)
            .bind(slug)
            .bind(published)
            .fetch_one(&owner)
            .await
            .unwrap()
        }
    };
    let published_lab = lab("run-a-container", true).await;
    let draft_lab = lab("secret-lab", false).await;
    World {
        server,
        api,
        instructor,
        service: service_id,
        retired_service,
        free,
        paid,
        draft,
        lab: published_lab,
        draft_lab,
    }
}

fn items(a: &Answer) -> &Vec<Value> {
    a.body["items"]
        .as_array()
        .unwrap_or_else(|| panic!("no items: {a:?}"))
}

fn ids(a: &Answer) -> Vec<String> {
    items(a)
        .iter()
        .map(|i| i["id"].as_str().unwrap().to_owned())
        .collect()
}

fn status_and_code(a: &Answer) -> (StatusCode, String) {
    (a.status, a.code())
}

#[tokio::test]
async fn course_reviews_follow_the_enrollment_rules_and_the_rating_follows_them() {
    let w = world().await;
    let ada = w.learner("ada").await;
    let bob = w.learner("bob").await;
    let reviews = format!("/api/v1/courses/{}/reviews", w.free);

    // Anyone reads the (empty) reviews of a published course.
    let a = w.api.get(&reviews, None).await;
    assert_eq!(a.status, StatusCode::OK, "{a:?}");
    assert!(items(&a).is_empty());
    assert!(a.body["next_cursor"].is_null());

    // Not enrolled: a clear 403.
    let body = json!({"rating": 4, "review_text": "Solid start."});
    let a = w
        .call(Method::POST, &reviews, &ada, Some(body.clone()))
        .await;
    assert_eq!(
        status_and_code(&a),
        (StatusCode::FORBIDDEN, "not_enrolled".to_owned())
    );

    w.enroll(&ada, w.free, "active").await;
    let a = w
        .call(Method::POST, &reviews, &ada, Some(body.clone()))
        .await;
    assert_eq!(a.status, StatusCode::CREATED, "{a:?}");
    let ada_review = a.body["id"].as_str().unwrap().to_owned();
    assert_eq!(a.body["course_id"], w.free.to_string());
    assert_eq!(a.body["rating"], 4);
    assert_eq!(a.body["review_text"], "Solid start.");
    assert_eq!(a.body["reviewer"]["id"], ada.user.id.to_string());
    assert_eq!(a.body["reviewer"]["full_name"], "ada");
    assert_eq!(
        a.body["is_verified_purchase"], true,
        "a free course, enrolled"
    );
    assert_eq!(a.body["helpful_votes"], 0);
    assert_eq!(a.body["voted_by_me"], false);
    assert_eq!(w.rating("courses", w.free).await, Decimal::new(400, 2));

    // One review per learner per course.
    let a = w.call(Method::POST, &reviews, &ada, Some(body)).await;
    assert_eq!(
        status_and_code(&a),
        (StatusCode::CONFLICT, "already_reviewed".to_owned())
    );

    // Bad values, field by field; fields the server decides are refused.
    let bad = [
        (json!({"rating": 0}), vec!["/rating"]),
        (
            json!({"rating": 6, "review_text": "x".repeat(10_001)}),
            vec!["/rating", "/review_text"],
        ),
    ];
    w.enroll(&bob, w.free, "completed").await;
    for (body, pointers) in bad {
        let a = w.call(Method::POST, &reviews, &bob, Some(body)).await;
        assert_eq!(a.status, StatusCode::UNPROCESSABLE_ENTITY, "{a:?}");
        assert_eq!(a.pointers(), pointers);
    }
    for body in [
        json!({"rating": 5, "is_verified_purchase": true}),
        json!({"rating": 5, "helpful_votes": 99}),
        json!({"rating": 5, "user_id": ada.user.id}),
        json!({"rating": "five"}),
        json!({}),
    ] {
        let a = w
            .call(Method::POST, &reviews, &bob, Some(body.clone()))
            .await;
        assert_eq!(a.status, StatusCode::UNPROCESSABLE_ENTITY, "{body}: {a:?}");
    }
    let a = w
        .api
        .call(Method::POST, &reviews, Some(&bob.access_token), None)
        .await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST, "no body: {a:?}");

    // A completed enrollment counts too; the rating is the average.
    let a = w
        .call(Method::POST, &reviews, &bob, Some(json!({"rating": 2})))
        .await;
    assert_eq!(a.status, StatusCode::CREATED, "{a:?}");
    assert!(a.body["review_text"].is_null());
    let bob_review = a.body["id"].as_str().unwrap().to_owned();
    assert_eq!(w.rating("courses", w.free).await, Decimal::new(300, 2));

    // Newest first, with the reviewers' public cards, for anyone; paged by cursor.
    let a = w.api.get(&reviews, None).await;
    assert_eq!(ids(&a), [bob_review.clone(), ada_review.clone()]);
    assert_eq!(items(&a)[0]["reviewer"]["full_name"], "bob");
    assert!(items(&a)[0]["reviewer"]["bio"].is_null());
    let first = w.api.get(&format!("{reviews}?limit=1"), None).await;
    assert_eq!(ids(&first), std::slice::from_ref(&bob_review));
    let cursor = first.body["next_cursor"].as_str().unwrap();
    let second = w
        .api
        .get(&format!("{reviews}?limit=1&cursor={cursor}"), None)
        .await;
    assert_eq!(ids(&second), std::slice::from_ref(&ada_review));
    assert!(second.body["next_cursor"].is_null());
    assert_eq!(
        w.api.get(&format!("{reviews}?limit=0"), None).await.status,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    assert_eq!(
        w.api
            .get(&format!("{reviews}?limit=101"), None)
            .await
            .status,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    assert_eq!(
        w.api
            .get(&format!("{reviews}?cursor=bogus"), None)
            .await
            .status,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        w.api
            .get("/api/v1/courses/not-a-uuid/reviews", None)
            .await
            .status,
        StatusCode::BAD_REQUEST
    );

    // Edit: stars and words; an empty text clears it; the rating follows.
    let own = format!("/api/v1/reviews/courses/{ada_review}");
    let a = w
        .call(Method::PATCH, &own, &ada, Some(json!({"rating": 5})))
        .await;
    assert_eq!(a.status, StatusCode::OK, "{a:?}");
    assert_eq!(
        (a.body["rating"].as_i64(), a.body["review_text"].as_str()),
        (Some(5), Some("Solid start."))
    );
    assert_eq!(w.rating("courses", w.free).await, Decimal::new(350, 2));
    let a = w
        .call(Method::PATCH, &own, &ada, Some(json!({"review_text": ""})))
        .await;
    assert!(a.body["review_text"].is_null(), "{a:?}");
    for body in [
        json!({"rating": 9}),
        json!({"is_verified_purchase": true}),
        json!({"course_id": w.paid}),
    ] {
        let a = w.call(Method::PATCH, &own, &ada, Some(body.clone())).await;
        assert_eq!(a.status, StatusCode::UNPROCESSABLE_ENTITY, "{body}: {a:?}");
    }
    let missing = format!("/api/v1/reviews/courses/{}", Uuid::now_v7());
    assert_eq!(
        w.call(Method::PATCH, &missing, &ada, Some(json!({"rating": 1})))
            .await
            .status,
        StatusCode::NOT_FOUND
    );

    // Delete; the rating follows; a second delete finds nothing.
    assert_eq!(
        w.call(Method::DELETE, &own, &ada, None).await.status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(w.rating("courses", w.free).await, Decimal::new(200, 2));
    assert_eq!(
        w.call(Method::DELETE, &own, &ada, None).await.status,
        StatusCode::NOT_FOUND
    );

    // A cancelled enrollment no longer entitles to review.
    w.enroll(&ada, w.free, "cancelled").await;
    let a = w
        .call(Method::POST, &reviews, &ada, Some(json!({"rating": 3})))
        .await;
    assert_eq!(a.code(), "not_enrolled");

    // No such course, or a draft: 404 for visitors and learners alike.
    for path in [
        format!("/api/v1/courses/{}/reviews", Uuid::now_v7()),
        format!("/api/v1/courses/{}/reviews", w.draft),
    ] {
        assert_eq!(w.api.get(&path, None).await.status, StatusCode::NOT_FOUND);
        let a = w
            .call(Method::POST, &path, &bob, Some(json!({"rating": 3})))
            .await;
        assert_eq!(a.status, StatusCode::NOT_FOUND, "{path}: {a:?}");
    }
    // Anonymous writes are refused before anything else.
    assert_eq!(
        w.api
            .post(&reviews, None, json!({"rating": 5}))
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn verified_purchase_is_decided_by_the_server_never_the_client() {
    let w = world().await;
    let (payer, pending, freeloader) = (
        w.learner("payer").await,
        w.learner("pending").await,
        w.learner("freeloader").await,
    );
    let reviews = format!("/api/v1/courses/{}/reviews", w.paid);
    // Paid and enrolled: verified. A pending payment is not a purchase; an enrollment without
    // any payment (an admin's, say) is not either.
    w.pay(&payer, w.paid, "completed").await;
    w.pay(&pending, w.paid, "pending").await;
    for who in [&payer, &pending, &freeloader] {
        w.enroll(who, w.paid, "active").await;
    }
    let mut verified = Vec::new();
    for who in [&payer, &pending, &freeloader] {
        let a = w
            .call(Method::POST, &reviews, who, Some(json!({"rating": 5})))
            .await;
        assert_eq!(a.status, StatusCode::CREATED, "{a:?}");
        verified.push(a.body["is_verified_purchase"].as_bool().unwrap());
    }
    assert_eq!(verified, [true, false, false]);

    // The client cannot set it: not in the body (422), not through SQL as the learner (the
    // column is not theirs to write), and whatever anyone writes the trigger decides.
    let a = w
        .call(
            Method::PATCH,
            &format!(
                "/api/v1/reviews/courses/{}",
                items(&w.api.get(&reviews, None).await)[0]["id"]
                    .as_str()
                    .unwrap()
            ),
            &freeloader,
            Some(json!({"is_verified_purchase": true})),
        )
        .await;
    assert_eq!(a.status, StatusCode::UNPROCESSABLE_ENTITY);
    let mut tx = begin(
        w.server.db.api(),
        Caller::User(freeloader.user.id),
        Access::ReadWrite,
    )
    .await
    .unwrap();
    let err =
        sqlx::query("UPDATE course_reviews SET is_verified_purchase = true WHERE user_id = $1")
            .bind(freeloader.user.id)
            .execute(&mut *tx)
            .await
            .unwrap_err();
    assert_eq!(
        err.as_database_error().unwrap().code().as_deref(),
        Some("42501")
    );
    drop(tx);
    sqlx::query("UPDATE course_reviews SET is_verified_purchase = true WHERE user_id = $1")
        .bind(freeloader.user.id)
        .execute(w.owner())
        .await
        .unwrap();
    let still: bool =
        sqlx::query_scalar("SELECT is_verified_purchase FROM course_reviews WHERE user_id = $1")
            .bind(freeloader.user.id)
            .fetch_one(w.owner())
            .await
            .unwrap();
    assert!(!still, "even the owner's write is recomputed");

    // Once the payment completes, the next edit of the review shows it.
    sqlx::query("UPDATE payments SET payment_status = 'completed' WHERE user_id = $1")
        .bind(pending.user.id)
        .execute(w.owner())
        .await
        .unwrap();
    let pending_review: String = items(&w.api.get(&reviews, None).await)
        .iter()
        .find(|r| r["reviewer"]["id"] == pending.user.id.to_string())
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let a = w
        .call(
            Method::PATCH,
            &format!("/api/v1/reviews/courses/{pending_review}"),
            &pending,
            Some(json!({"review_text": "Worth it."})),
        )
        .await;
    assert_eq!(a.body["is_verified_purchase"], true, "{a:?}");
}

#[tokio::test]
async fn lab_reviews_need_a_started_lab_and_keep_the_labs_rating() {
    let w = world().await;
    let (ada, bob) = (w.learner("ada").await, w.learner("bob").await);
    let reviews = format!("/api/v1/labs/{}/reviews", w.lab);
    let body = json!({"rating": 5, "review_text": "Great.", "difficulty_rating": 2,
                      "time_accuracy_rating": 4});

    let a = w
        .call(Method::POST, &reviews, &ada, Some(body.clone()))
        .await;
    assert_eq!(
        status_and_code(&a),
        (StatusCode::FORBIDDEN, "lab_not_tried".to_owned())
    );
    w.start_lab(&ada, w.lab).await;
    let a = w
        .call(Method::POST, &reviews, &ada, Some(body.clone()))
        .await;
    assert_eq!(a.status, StatusCode::CREATED, "{a:?}");
    assert_eq!(a.body["lab_id"], w.lab.to_string());
    assert_eq!(a.body["difficulty_rating"], 2);
    assert_eq!(a.body["time_accuracy_rating"], 4);
    assert_eq!(a.body["reviewer"]["full_name"], "ada");
    assert!(a.body.get("is_verified_purchase").is_none());
    let ada_review = a.body["id"].as_str().unwrap().to_owned();
    assert_eq!(
        w.call(Method::POST, &reviews, &ada, Some(body))
            .await
            .code(),
        "already_reviewed"
    );

    w.start_lab(&bob, w.lab).await;
    let a = w
        .call(
            Method::POST,
            &reviews,
            &bob,
            Some(json!({"rating": 3, "difficulty_rating": 6, "time_accuracy_rating": 0})),
        )
        .await;
    assert_eq!(
        a.pointers(),
        ["/difficulty_rating", "/time_accuracy_rating"]
    );
    let a = w
        .call(Method::POST, &reviews, &bob, Some(json!({"rating": 2})))
        .await;
    assert_eq!(a.status, StatusCode::CREATED);
    let bob_review = a.body["id"].as_str().unwrap().to_owned();
    assert_eq!(w.rating("labs", w.lab).await, Decimal::new(350, 2));

    let listed = w.api.get(&reviews, None).await;
    assert_eq!(ids(&listed), [bob_review.clone(), ada_review.clone()]);

    let own = format!("/api/v1/reviews/labs/{ada_review}");
    let a = w
        .call(
            Method::PATCH,
            &own,
            &ada,
            Some(json!({"rating": 4, "difficulty_rating": 5})),
        )
        .await;
    assert_eq!(a.status, StatusCode::OK, "{a:?}");
    assert_eq!(
        (
            &a.body["rating"],
            &a.body["difficulty_rating"],
            &a.body["time_accuracy_rating"]
        ),
        (&json!(4), &json!(5), &json!(4))
    );
    assert_eq!(w.rating("labs", w.lab).await, Decimal::new(300, 2));
    assert_eq!(
        w.call(
            Method::PATCH,
            &own,
            &ada,
            Some(json!({"time_accuracy_rating": 7}))
        )
        .await
        .status,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    assert_eq!(
        w.call(Method::DELETE, &own, &ada, None).await.status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(w.rating("labs", w.lab).await, Decimal::new(200, 2));

    // A draft lab is not there for learners, even one who was let into it.
    w.start_lab(&ada, w.draft_lab).await;
    let draft = format!("/api/v1/labs/{}/reviews", w.draft_lab);
    assert_eq!(w.api.get(&draft, None).await.status, StatusCode::NOT_FOUND);
    assert_eq!(
        w.call(Method::POST, &draft, &ada, Some(json!({"rating": 5})))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        w.api
            .get(&format!("/api/v1/labs/{}/reviews", Uuid::now_v7()), None)
            .await
            .status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn helpful_votes_count_once_per_user_and_never_for_ones_own_review() {
    let w = world().await;
    let author = w.learner("author").await;
    w.enroll(&author, w.free, "active").await;
    let a = w
        .call(
            Method::POST,
            &format!("/api/v1/courses/{}/reviews", w.free),
            &author,
            Some(json!({"rating": 4, "review_text": "Useful."})),
        )
        .await;
    let review = a.body["id"].as_str().unwrap().to_owned();
    let written_at = a.body["updated_at"].clone();
    let vote = format!("/api/v1/reviews/courses/{review}/vote");

    // Your own review: refused, whoever you are.
    let a = w.call(Method::PUT, &vote, &author, None).await;
    assert_eq!(
        status_and_code(&a),
        (StatusCode::UNPROCESSABLE_ENTITY, "own_review".to_owned())
    );

    // Many voters at once, each voting twice: each counts once (the counter moves under the
    // review row's lock, never by a recount).
    let mut voters = Vec::new();
    for n in 0..6 {
        voters.push(w.learner(&format!("voter{n}")).await);
    }
    let mut tasks = tokio::task::JoinSet::new();
    for voter in voters.iter().chain(voters.iter()) {
        let (api, token, path) = (w.api.clone(), voter.access_token.clone(), vote.clone());
        tasks.spawn(async move { api.call(Method::PUT, &path, Some(&token), None).await });
    }
    while let Some(a) = tasks.join_next().await {
        let a = a.unwrap();
        assert_eq!(a.status, StatusCode::OK, "{a:?}");
        assert_eq!(a.body["voted_by_me"], true);
    }
    let listed = w
        .call(
            Method::GET,
            &format!("/api/v1/courses/{}/reviews", w.free),
            &voters[0],
            None,
        )
        .await;
    assert_eq!(items(&listed)[0]["helpful_votes"], 6);
    assert_eq!(items(&listed)[0]["voted_by_me"], true);
    assert_eq!(
        items(&listed)[0]["updated_at"],
        written_at,
        "votes do not count as edits"
    );
    let anon = w
        .api
        .get(&format!("/api/v1/courses/{}/reviews", w.free), None)
        .await;
    assert_eq!(items(&anon)[0]["voted_by_me"], false);
    assert_eq!(items(&anon)[0]["helpful_votes"], 6);

    // Taking a vote back, twice: it counts once.
    for _ in 0..2 {
        let a = w.call(Method::DELETE, &vote, &voters[0], None).await;
        assert_eq!(a.status, StatusCode::OK, "{a:?}");
        assert_eq!(
            (&a.body["helpful_votes"], &a.body["voted_by_me"]),
            (&json!(5), &json!(false))
        );
    }
    // Unvoting one's own review is a no-op, not an error.
    let a = w.call(Method::DELETE, &vote, &author, None).await;
    assert_eq!(a.body["helpful_votes"], 5);

    // No such review; a review the voter cannot see; not an id.
    let draft_review: Uuid = sqlx::query_scalar(
        "INSERT INTO course_reviews (user_id, course_id, rating) VALUES ($1, $2, 5) RETURNING id",
    )
    .bind(author.user.id)
    .bind(w.draft)
    .fetch_one(w.owner())
    .await
    .unwrap();
    for path in [
        format!("/api/v1/reviews/courses/{}/vote", Uuid::now_v7()),
        format!("/api/v1/reviews/courses/{draft_review}/vote"),
        format!("/api/v1/reviews/labs/{review}/vote"),
    ] {
        let a = w.call(Method::PUT, &path, &voters[1], None).await;
        assert_eq!(a.status, StatusCode::NOT_FOUND, "{path}: {a:?}");
    }
    assert_eq!(
        w.call(
            Method::PUT,
            "/api/v1/reviews/courses/nope/vote",
            &voters[1],
            None
        )
        .await
        .status,
        StatusCode::BAD_REQUEST
    );

    // The database holds the rule on every write path, not only in the handler.
    let mut tx = begin(
        w.server.db.api(),
        Caller::User(author.user.id),
        Access::ReadWrite,
    )
    .await
    .unwrap();
    let err = sqlx::query("INSERT INTO review_votes (user_id, course_review_id) VALUES ($1, $2)")
        .bind(author.user.id)
        .bind(Uuid::parse_str(&review).unwrap())
        .execute(&mut *tx)
        .await
        .unwrap_err();
    assert_eq!(
        err.as_database_error().unwrap().code().as_deref(),
        Some("23514")
    );
    drop(tx);

    // Lab reviews work the same way.
    w.start_lab(&author, w.lab).await;
    let a = w
        .call(
            Method::POST,
            &format!("/api/v1/labs/{}/reviews", w.lab),
            &author,
            Some(json!({"rating": 5})),
        )
        .await;
    let lab_vote = format!(
        "/api/v1/reviews/labs/{}/vote",
        a.body["id"].as_str().unwrap()
    );
    assert_eq!(
        w.call(Method::PUT, &lab_vote, &author, None).await.code(),
        "own_review"
    );
    let a = w.call(Method::PUT, &lab_vote, &voters[2], None).await;
    assert_eq!(a.body["helpful_votes"], 1, "{a:?}");
    let a = w.call(Method::DELETE, &lab_vote, &voters[2], None).await;
    assert_eq!(a.body["helpful_votes"], 0, "{a:?}");

    // A deleted review takes its votes with it.
    assert_eq!(
        w.call(
            Method::DELETE,
            &format!("/api/v1/reviews/courses/{review}"),
            &author,
            None
        )
        .await
        .status,
        StatusCode::NO_CONTENT
    );
    let left: i64 = sqlx::query_scalar("SELECT count(*) FROM review_votes")
        .fetch_one(w.owner())
        .await
        .unwrap();
    assert_eq!(left, 0);
}

#[tokio::test]
async fn bookmarks_are_idempotent_and_only_of_things_the_caller_can_see() {
    let w = world().await;
    let ada = w.learner("ada").await;
    let put = |kind: &str, id: Uuid| format!("/api/v1/me/bookmarks/{kind}/{id}");

    let a = w
        .call(Method::PUT, &put("course", w.free), &ada, None)
        .await;
    assert_eq!(a.status, StatusCode::CREATED, "{a:?}");
    assert_eq!(
        (&a.body["entity_type"], &a.body["title"], &a.body["slug"]),
        (
            &json!("course"),
            &json!("Free Course"),
            &json!("free-course")
        )
    );
    let first = a.body["id"].clone();
    let again = w
        .call(Method::PUT, &put("course", w.free), &ada, None)
        .await;
    assert_eq!((again.status, &again.body["id"]), (StatusCode::OK, &first));
    for (kind, id) in [("lab", w.lab), ("service", w.service), ("course", w.paid)] {
        let a = w.call(Method::PUT, &put(kind, id), &ada, None).await;
        assert_eq!(a.status, StatusCode::CREATED, "{kind}: {a:?}");
    }

    // Newest first; by kind; paged.
    let all = w
        .call(Method::GET, "/api/v1/me/bookmarks", &ada, None)
        .await;
    let kinds: Vec<&str> = items(&all)
        .iter()
        .map(|b| b["entity_type"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["course", "service", "lab", "course"]);
    let courses = w
        .call(
            Method::GET,
            "/api/v1/me/bookmarks?entity_type=course",
            &ada,
            None,
        )
        .await;
    assert_eq!(items(&courses).len(), 2);
    let mut seen = Vec::new();
    let mut path = "/api/v1/me/bookmarks?limit=3".to_owned();
    loop {
        let page = w.call(Method::GET, &path, &ada, None).await;
        assert_eq!(page.status, StatusCode::OK, "{page:?}");
        seen.extend(ids(&page));
        match page.body["next_cursor"].as_str() {
            Some(c) => path = format!("/api/v1/me/bookmarks?limit=3&cursor={c}"),
            None => break,
        }
    }
    assert_eq!(seen, ids(&all));
    for (path, status) in [
        (
            "/api/v1/me/bookmarks?entity_type=widget",
            StatusCode::BAD_REQUEST,
        ),
        (
            "/api/v1/me/bookmarks?limit=0",
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        ("/api/v1/me/bookmarks?cursor=bogus", StatusCode::BAD_REQUEST),
    ] {
        assert_eq!(
            w.call(Method::GET, path, &ada, None).await.status,
            status,
            "{path}"
        );
    }

    // Only what exists and what the caller may see: not a draft, not a retired service, not a
    // made-up id; not a kind of bookmark at all.
    for path in [
        put("course", w.draft),
        put("lab", w.draft_lab),
        put("service", w.retired_service),
        put("course", Uuid::now_v7()),
        put("lab", w.free),
    ] {
        let a = w.call(Method::PUT, &path, &ada, None).await;
        assert_eq!(a.status, StatusCode::NOT_FOUND, "{path}: {a:?}");
    }
    assert_eq!(
        w.call(Method::PUT, &put("widget", w.free), &ada, None)
            .await
            .status,
        StatusCode::BAD_REQUEST
    );
    // The course's instructor may bookmark their own draft.
    let teacher =
        skilltrack_tests::api::session(&w.api.sign_in("teacher@example.com", PASSWORD).await);
    assert_eq!(teacher.user.id, w.instructor);
    assert_eq!(
        w.call(Method::PUT, &put("course", w.draft), &teacher, None)
            .await
            .status,
        StatusCode::CREATED
    );

    // The rule is the database's: a direct insert under the caller's role is refused too.
    let mut tx = begin(
        w.server.db.api(),
        Caller::User(ada.user.id),
        Access::ReadWrite,
    )
    .await
    .unwrap();
    let err = sqlx::query(
        "INSERT INTO user_bookmarks (user_id, entity_type, entity_id) VALUES ($1, 'course', $2)",
    )
    .bind(ada.user.id)
    .bind(w.draft)
    .execute(&mut *tx)
    .await
    .unwrap_err();
    assert_eq!(
        err.as_database_error().unwrap().code().as_deref(),
        Some("23503")
    );
    drop(tx);

    // Removing is idempotent.
    for _ in 0..2 {
        assert_eq!(
            w.call(Method::DELETE, &put("lab", w.lab), &ada, None)
                .await
                .status,
            StatusCode::NO_CONTENT
        );
    }
    // A course that is unpublished stays bookmarked but loses its title; a deleted one takes
    // its bookmarks with it.
    sqlx::query("UPDATE courses SET is_published = false WHERE id = $1")
        .bind(w.paid)
        .execute(w.owner())
        .await
        .unwrap();
    sqlx::query("DELETE FROM courses WHERE id = $1")
        .bind(w.free)
        .execute(w.owner())
        .await
        .unwrap();
    let all = w
        .call(Method::GET, "/api/v1/me/bookmarks", &ada, None)
        .await;
    let left: Vec<(String, Value)> = items(&all)
        .iter()
        .map(|b| {
            (
                b["entity_type"].as_str().unwrap().to_owned(),
                b["title"].clone(),
            )
        })
        .collect();
    assert_eq!(
        left,
        [
            ("course".to_owned(), Value::Null),
            ("service".to_owned(), json!("DevOps"))
        ]
    );
    assert_eq!(
        w.api.get("/api/v1/me/bookmarks", None).await.status,
        StatusCode::UNAUTHORIZED
    );
}

async fn notify(owner: &PgPool, user: Uuid, title: &str) -> Uuid {
    sqlx::query_scalar(
        "INSERT INTO notifications (user_id, title, message, entity_type, entity_id)
         VALUES ($1, $2, 'Something happened.', 'course', gen_random_uuid()) RETURNING id",
    )
    .bind(user)
    .bind(title)
    .fetch_one(owner)
    .await
    .unwrap()
}

#[tokio::test]
async fn notifications_are_listed_counted_and_marked_read() {
    let w = world().await;
    let ada = w.learner("ada").await;
    let mut mine = Vec::new();
    for title in ["First", "Second", "Third"] {
        mine.push(notify(w.owner(), ada.user.id, title).await);
    }
    let count = || {
        w.call(
            Method::GET,
            "/api/v1/me/notifications/unread-count",
            &ada,
            None,
        )
    };
    assert_eq!(count().await.body["unread"], 3);

    let all = w
        .call(Method::GET, "/api/v1/me/notifications", &ada, None)
        .await;
    assert_eq!(all.status, StatusCode::OK, "{all:?}");
    let titles: Vec<&str> = items(&all)
        .iter()
        .map(|n| n["title"].as_str().unwrap())
        .collect();
    assert_eq!(titles, ["Third", "Second", "First"]);
    let n = &items(&all)[0];
    assert_eq!(
        (
            &n["notification_type"],
            &n["notification_status"],
            &n["read_at"],
            &n["entity_type"]
        ),
        (
            &json!("in_app"),
            &json!("sent"),
            &Value::Null,
            &json!("course")
        )
    );

    let read = format!("/api/v1/me/notifications/{}/read", mine[0]);
    let a = w.call(Method::POST, &read, &ada, None).await;
    assert_eq!(a.status, StatusCode::OK, "{a:?}");
    assert_eq!(a.body["notification_status"], "read");
    let read_at = a.body["read_at"].clone();
    assert!(read_at.is_string());
    let again = w.call(Method::POST, &read, &ada, None).await;
    assert_eq!(
        again.body["read_at"], read_at,
        "the first reading's time stays"
    );
    assert_eq!(count().await.body["unread"], 2);
    let unread = w
        .call(
            Method::GET,
            "/api/v1/me/notifications?unread=true",
            &ada,
            None,
        )
        .await;
    assert_eq!(items(&unread).len(), 2);
    assert!(!ids(&unread).contains(&mine[0].to_string()));

    let page = w
        .call(Method::GET, "/api/v1/me/notifications?limit=2", &ada, None)
        .await;
    assert_eq!(items(&page).len(), 2);
    let cursor = page.body["next_cursor"].as_str().unwrap();
    let rest = w
        .call(
            Method::GET,
            &format!("/api/v1/me/notifications?limit=2&cursor={cursor}"),
            &ada,
            None,
        )
        .await;
    assert_eq!(ids(&rest), [mine[0].to_string()]);
    assert!(rest.body["next_cursor"].is_null());

    let a = w
        .call(
            Method::POST,
            "/api/v1/me/notifications/read-all",
            &ada,
            None,
        )
        .await;
    assert_eq!((a.status, &a.body["marked"]), (StatusCode::OK, &json!(2)));
    let a = w
        .call(
            Method::POST,
            "/api/v1/me/notifications/read-all",
            &ada,
            None,
        )
        .await;
    assert_eq!(a.body["marked"], 0);
    assert_eq!(count().await.body["unread"], 0);
    assert!(
        items(
            &w.call(
                Method::GET,
                "/api/v1/me/notifications?unread=true",
                &ada,
                None
            )
            .await
        )
        .is_empty()
    );

    for (path, status) in [
        (
            format!("/api/v1/me/notifications/{}/read", Uuid::now_v7()),
            StatusCode::NOT_FOUND,
        ),
        (
            "/api/v1/me/notifications/x/read".to_owned(),
            StatusCode::BAD_REQUEST,
        ),
    ] {
        assert_eq!(w.call(Method::POST, &path, &ada, None).await.status, status);
    }
    for (path, status) in [
        (
            "/api/v1/me/notifications?unread=maybe",
            StatusCode::BAD_REQUEST,
        ),
        (
            "/api/v1/me/notifications?limit=500",
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
    ] {
        assert_eq!(w.call(Method::GET, path, &ada, None).await.status, status);
    }
    assert_eq!(
        w.api
            .get("/api/v1/me/notifications/unread-count", None)
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
}

/// For each thing a learner owns — a review, a vote, a bookmark, a notification — another
/// learner tries to read, change and delete it by id, and fails; the owner's row is unchanged.
#[tokio::test]
async fn no_learner_reaches_another_learners_reviews_votes_bookmarks_or_notifications() {
    let w = world().await;
    let (ada, eve, cid) = (
        w.learner("ada").await,
        w.learner("eve").await,
        w.learner("cid").await,
    );
    for who in [&ada, &eve, &cid] {
        w.enroll(who, w.free, "active").await;
        w.start_lab(who, w.lab).await;
    }
    // Ada's things: reviews of the course and the lab, a vote on Cid's lab review, a bookmark,
    // a notification.
    let ada_course_review = w
        .call(
            Method::POST,
            &format!("/api/v1/courses/{}/reviews", w.free),
            &ada,
            Some(json!({"rating": 5, "review_text": "Mine."})),
        )
        .await
        .body["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let ada_lab_review = w
        .call(
            Method::POST,
            &format!("/api/v1/labs/{}/reviews", w.lab),
            &ada,
            Some(json!({"rating": 4})),
        )
        .await
        .body["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let cid_review = w
        .call(
            Method::POST,
            &format!("/api/v1/labs/{}/reviews", w.lab),
            &cid,
            Some(json!({"rating": 3})),
        )
        .await
        .body["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let cid_vote = format!("/api/v1/reviews/labs/{cid_review}/vote");
    assert_eq!(
        w.call(Method::PUT, &cid_vote, &ada, None).await.body["helpful_votes"],
        1
    );
    let bookmark = format!("/api/v1/me/bookmarks/course/{}", w.free);
    assert_eq!(
        w.call(Method::PUT, &bookmark, &ada, None).await.status,
        StatusCode::CREATED
    );
    let notification = notify(w.owner(), ada.user.id, "For Ada only").await;

    // Reviews: public to read, but Eve can neither change nor delete Ada's.
    for (path, patch) in [
        (
            format!("/api/v1/reviews/courses/{ada_course_review}"),
            json!({"rating": 1, "review_text": "Hijacked"}),
        ),
        (
            format!("/api/v1/reviews/labs/{ada_lab_review}"),
            json!({"rating": 1, "review_text": "Hijacked"}),
        ),
    ] {
        let a = w.call(Method::PATCH, &path, &eve, Some(patch)).await;
        assert_eq!(a.status, StatusCode::NOT_FOUND, "{path}: {a:?}");
        let a = w.call(Method::DELETE, &path, &eve, None).await;
        assert_eq!(a.status, StatusCode::NOT_FOUND, "{path}: {a:?}");
    }
    let course_reviews = w
        .api
        .get(&format!("/api/v1/courses/{}/reviews", w.free), None)
        .await;
    assert_eq!(
        (
            &items(&course_reviews)[0]["rating"],
            &items(&course_reviews)[0]["review_text"]
        ),
        (&json!(5), &json!("Mine."))
    );
    let lab_reviews = w
        .api
        .get(&format!("/api/v1/labs/{}/reviews", w.lab), None)
        .await;
    assert!(ids(&lab_reviews).contains(&ada_lab_review));

    // Votes: Eve cannot see whose they are, nor remove Ada's; her unvote touches only her own.
    let a = w.call(Method::DELETE, &cid_vote, &eve, None).await;
    assert_eq!(
        (&a.body["helpful_votes"], &a.body["voted_by_me"]),
        (&json!(1), &json!(false))
    );
    let seen_by_eve = w
        .call(
            Method::GET,
            &format!("/api/v1/labs/{}/reviews", w.lab),
            &eve,
            None,
        )
        .await;
    assert!(
        items(&seen_by_eve)
            .iter()
            .all(|r| r["voted_by_me"] == false)
    );
    let mut tx = begin(
        w.server.db.api(),
        Caller::User(eve.user.id),
        Access::ReadWrite,
    )
    .await
    .unwrap();
    let visible: i64 = sqlx::query_scalar("SELECT count(*) FROM review_votes")
        .fetch_one(&mut *tx)
        .await
        .unwrap();
    let deleted = sqlx::query("DELETE FROM review_votes WHERE user_id = $1")
        .bind(ada.user.id)
        .execute(&mut *tx)
        .await
        .unwrap()
        .rows_affected();
    drop(tx);
    assert_eq!((visible, deleted), (0, 0), "Eve reached Ada's vote");
    let seen_by_ada = w
        .call(
            Method::GET,
            &format!("/api/v1/labs/{}/reviews", w.lab),
            &ada,
            None,
        )
        .await;
    let cid_row = items(&seen_by_ada)
        .iter()
        .find(|r| r["id"] == cid_review.as_str())
        .unwrap();
    assert_eq!(
        (&cid_row["helpful_votes"], &cid_row["voted_by_me"]),
        (&json!(1), &json!(true))
    );

    // Bookmarks: Eve's list is hers; her delete of the same path removes nothing of Ada's.
    let eve_list = w
        .call(Method::GET, "/api/v1/me/bookmarks", &eve, None)
        .await;
    assert!(items(&eve_list).is_empty());
    assert_eq!(
        w.call(Method::DELETE, &bookmark, &eve, None).await.status,
        StatusCode::NO_CONTENT
    );
    let ada_list = w
        .call(Method::GET, "/api/v1/me/bookmarks", &ada, None)
        .await;
    assert_eq!(items(&ada_list).len(), 1);
    let ada_bookmark: Uuid = ids(&ada_list)[0].parse().unwrap();
    let mut tx = begin(
        w.server.db.api(),
        Caller::User(eve.user.id),
        Access::ReadWrite,
    )
    .await
    .unwrap();
    let touched = sqlx::query("UPDATE user_bookmarks SET entity_id = $2 WHERE id = $1")
        .bind(ada_bookmark)
        .bind(w.paid)
        .execute(&mut *tx)
        .await
        .unwrap()
        .rows_affected()
        + sqlx::query("DELETE FROM user_bookmarks WHERE id = $1")
            .bind(ada_bookmark)
            .execute(&mut *tx)
            .await
            .unwrap()
            .rows_affected();
    drop(tx);
    assert_eq!(touched, 0, "Eve reached Ada's bookmark");

    // Notifications: not in Eve's list or count; marking it read is a 404 and leaves it unread.
    assert!(
        items(
            &w.call(Method::GET, "/api/v1/me/notifications", &eve, None)
                .await
        )
        .iter()
        .all(|n| n["id"] != notification.to_string())
    );
    let a = w
        .call(
            Method::POST,
            &format!("/api/v1/me/notifications/{notification}/read"),
            &eve,
            None,
        )
        .await;
    assert_eq!(a.status, StatusCode::NOT_FOUND);
    assert_eq!(
        w.call(
            Method::POST,
            "/api/v1/me/notifications/read-all",
            &eve,
            None
        )
        .await
        .status,
        StatusCode::OK
    );
    let mut tx = begin(
        w.server.db.api(),
        Caller::User(eve.user.id),
        Access::ReadWrite,
    )
    .await
    .unwrap();
    let touched = sqlx::query("DELETE FROM notifications WHERE id = $1")
        .bind(notification)
        .execute(&mut *tx)
        .await
        .unwrap()
        .rows_affected();
    drop(tx);
    assert_eq!(touched, 0, "Eve deleted Ada's notification");
    let ada_unread = w
        .call(
            Method::GET,
            "/api/v1/me/notifications?unread=true",
            &ada,
            None,
        )
        .await;
    assert!(ids(&ada_unread).contains(&notification.to_string()));

    // Even an admin's `/me` routes are about the admin: RLS lets them see everyone's rows, the
    // routes show only their own.
    let admin = w.learner("root").await;
    sqlx::query("UPDATE profiles SET role = 'admin' WHERE id = $1")
        .bind(admin.user.id)
        .execute(w.owner())
        .await
        .unwrap();
    for path in ["/api/v1/me/notifications", "/api/v1/me/bookmarks"] {
        let a = w.call(Method::GET, path, &admin, None).await;
        assert!(items(&a).is_empty(), "{path}: {a:?}");
    }
    assert_eq!(
        w.call(
            Method::POST,
            &format!("/api/v1/me/notifications/{notification}/read"),
            &admin,
            None
        )
        .await
        .status,
        StatusCode::NOT_FOUND
    );
}
