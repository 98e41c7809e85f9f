//! The learner's path over real HTTP, on the demo catalog: browse, enroll (every rule), pay in
//! test mode, study to completion, get and verify a certificate.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use skilltrack_protocol::auth::Session;
use skilltrack_server::seed::demo_id;
use skilltrack_tests::api::{Answer, Api};
use skilltrack_tests::spawn_demo_server;
use uuid::Uuid;

const PASSWORD: &str = "correct horse battery";

fn course(slug: &str) -> Uuid {
    demo_id(&format!("course/{slug}"))
}

fn items(a: &Answer) -> &Vec<Value> {
    a.body["items"]
        .as_array()
        .unwrap_or_else(|| panic!("no items: {a:?}"))
}

async fn sign_in(api: &Api, email: &str, password: &str) -> Session {
    skilltrack_tests::api::session(&api.sign_in(email, password).await)
}

async fn enroll(api: &Api, token: &str, slug: &str) -> Answer {
    api.call(
        Method::POST,
        &format!("/api/v1/courses/{}/enrollment", course(slug)),
        Some(token),
        None,
    )
    .await
}

#[tokio::test]
async fn anyone_browses_the_published_catalog() {
    let server = spawn_demo_server().await;
    let api = Api::new(&server.url);
    assert_eq!(items(&api.get("/api/v1/services", None).await).len(), 4);
    assert_eq!(
        items(&api.get("/api/v1/lab-categories", None).await).len(),
        5
    );
    assert!(!items(&api.get("/api/v1/course-tags", None).await).is_empty());

    // Paging through every published course, 5 at a time: 12, no draft, no repeats.
    let mut seen = Vec::new();
    let mut path = "/api/v1/courses?limit=5".to_owned();
    loop {
        let page = api.get(&path, None).await;
        assert_eq!(page.status, StatusCode::OK, "{page:?}");
        seen.extend(
            items(&page)
                .iter()
                .map(|c| c["slug"].as_str().unwrap().to_owned()),
        );
        match page.body["next_cursor"].as_str() {
            Some(c) => path = format!("/api/v1/courses?limit=5&cursor={c}"),
            None => break,
        }
    }
    let mut unique = seen.clone();
    unique.sort();
    unique.dedup();
    assert_eq!((seen.len(), unique.len()), (12, 12));
    assert!(
        !seen.contains(&"linux-incident-response".to_owned()),
        "a draft leaked"
    );

    let free = api.get("/api/v1/courses?free=true", None).await;
    let prices: Vec<&Value> = items(&free).iter().map(|c| &c["price"]).collect();
    assert!(prices.iter().all(|p| *p == "0.00"), "{prices:?}");
    let advanced = api.get("/api/v1/courses?level=Advanced", None).await;
    assert!(items(&advanced).iter().all(|c| c["level"] == "Advanced"));
    let search = api.get("/api/v1/courses?q=kubernetes", None).await;
    assert_eq!(items(&search)[0]["slug"], "kubernetes-in-production");
    let by_service = api.get("/api/v1/courses?service=cybersecurity", None).await;
    assert!(!items(&by_service).is_empty());
    let rated = api.get("/api/v1/courses?sort=rating&limit=1", None).await;
    assert_ne!(
        items(&rated)[0]["rating"],
        "0.00",
        "the reviewed course comes first"
    );

    for (path, status) in [
        ("/api/v1/courses?limit=0", StatusCode::UNPROCESSABLE_ENTITY),
        ("/api/v1/courses?sort=random", StatusCode::BAD_REQUEST),
        ("/api/v1/courses?cursor=nope", StatusCode::BAD_REQUEST),
        ("/api/v1/courses?level=Expert", StatusCode::BAD_REQUEST),
    ] {
        assert_eq!(api.get(path, None).await.status, status, "{path}");
    }

    let labs = api.get("/api/v1/labs", None).await;
    assert_eq!(items(&labs).len(), 6);
    let devops = api.get("/api/v1/labs?category=devops", None).await;
    assert_eq!(items(&devops).len(), 2, "the draft lab stays hidden");
    let lab = api.get("/api/v1/labs/terminal-first-steps", None).await;
    assert_eq!(lab.status, StatusCode::OK);
    assert!(lab.body["instructions"].as_str().unwrap().len() > 100);
    assert_eq!(
        api.get("/api/v1/labs/robust-bash-backup-script", None)
            .await
            .status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn lessons_are_for_enrolled_learners_and_drafts_for_their_instructor() {
    let server = spawn_demo_server().await;
    let api = Api::new(&server.url);
    // Anonymous: the course and its modules, no lessons.
    let page = api
        .get("/api/v1/courses/python-for-data-analysis", None)
        .await;
    assert_eq!(page.status, StatusCode::OK);
    let modules = page.body["modules"].as_array().unwrap();
    assert!(!modules.is_empty());
    assert!(
        modules
            .iter()
            .all(|m| m["lessons"].as_array().unwrap().is_empty())
    );
    assert_eq!(page.body["instructor"]["full_name"], "Ines Instructor");
    assert_eq!(page.body["my_enrollment"], Value::Null);

    // The demo learner is enrolled: lessons, their content, and the enrollment.
    let learner = sign_in(&api, "learner@skilltrack.dev", "learner-demo-pass").await;
    let page = api
        .get(
            "/api/v1/courses/python-for-data-analysis",
            Some(&learner.access_token),
        )
        .await;
    let lesson = page.body["modules"][0]["lessons"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(page.body["my_enrollment"]["status"], "active");
    let content = api
        .get(
            &format!("/api/v1/lessons/{lesson}"),
            Some(&learner.access_token),
        )
        .await;
    assert_eq!(content.status, StatusCode::OK);
    assert!(content.body["content_body"].as_str().unwrap().contains('#'));
    // Someone not enrolled gets nothing.
    assert_eq!(
        api.get(&format!("/api/v1/lessons/{lesson}"), None)
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    let stranger = api.sign_up("stranger@example.com", PASSWORD, "S").await;
    let denied = api
        .get(
            &format!("/api/v1/lessons/{lesson}"),
            Some(&stranger.access_token),
        )
        .await;
    assert_eq!(denied.status, StatusCode::NOT_FOUND);

    // The draft: hidden from everyone but its instructor (and admins).
    assert_eq!(
        api.get("/api/v1/courses/linux-incident-response", None)
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    let owner = sign_in(&api, "instructor@skilltrack.dev", "instructor-demo-pass").await;
    let draft = api
        .get(
            "/api/v1/courses/linux-incident-response",
            Some(&owner.access_token),
        )
        .await;
    assert_eq!(draft.status, StatusCode::OK);
    assert!(
        !draft.body["modules"][0]["lessons"]
            .as_array()
            .unwrap()
            .is_empty(),
        "the instructor previews lessons"
    );
    let drafts = api
        .get(
            "/api/v1/courses?include_drafts=true&limit=100",
            Some(&owner.access_token),
        )
        .await;
    assert_eq!(items(&drafts).len(), 13);
    let other = sign_in(&api, "instructor2@skilltrack.dev", "instructor2-demo-pass").await;
    assert_eq!(
        api.get(
            "/api/v1/courses/linux-incident-response",
            Some(&other.access_token)
        )
        .await
        .status,
        StatusCode::NOT_FOUND
    );
    let theirs = api
        .get(
            "/api/v1/courses?include_drafts=true&limit=100",
            Some(&other.access_token),
        )
        .await;
    assert_eq!(items(&theirs).len(), 12);
}

#[tokio::test]
async fn every_enrollment_rule_has_its_own_answer() {
    let server = spawn_demo_server().await;
    let api = Api::new(&server.url);
    let me = api.sign_up("joiner@example.com", PASSWORD, "Joiner").await;
    let t = me.access_token.as_str();

    let first = enroll(&api, t, "docker-fundamentals").await;
    assert_eq!(
        (first.status, first.body["status"].as_str()),
        (StatusCode::CREATED, Some("active"))
    );
    assert_eq!(
        enroll(&api, t, "docker-fundamentals").await.code(),
        "already_enrolled"
    );
    let left = api
        .call(
            Method::DELETE,
            &format!(
                "/api/v1/courses/{}/enrollment",
                course("docker-fundamentals")
            ),
            Some(t),
            None,
        )
        .await;
    assert_eq!(left.body["status"], "cancelled");
    assert_eq!(
        enroll(&api, t, "docker-fundamentals").await.status,
        StatusCode::CREATED,
        "coming back works"
    );

    let paid = enroll(&api, t, "modern-javascript").await;
    assert_eq!(
        (paid.status, paid.code().as_str()),
        (StatusCode::PAYMENT_REQUIRED, "payment_required")
    );
    let pay = api
        .call(
            Method::POST,
            &format!("/api/v1/courses/{}/checkout", course("modern-javascript")),
            Some(t),
            None,
        )
        .await;
    assert_eq!(
        (pay.status, pay.body["test_mode"].as_bool()),
        (StatusCode::CREATED, Some(true)),
        "{pay:?}"
    );
    assert_eq!(pay.body["amount"], "39.00");
    let again = api
        .call(
            Method::POST,
            &format!("/api/v1/courses/{}/checkout", course("modern-javascript")),
            Some(t),
            None,
        )
        .await;
    assert_eq!(again.code(), "already_paid");
    let free = api
        .call(
            Method::POST,
            &format!("/api/v1/courses/{}/checkout", course("docker-fundamentals")),
            Some(t),
            None,
        )
        .await;
    assert_eq!(free.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        enroll(&api, t, "modern-javascript").await.status,
        StatusCode::CREATED
    );

    let blocked = enroll(&api, t, "kubernetes-in-production").await;
    assert_eq!(
        (blocked.status, blocked.code().as_str()),
        (StatusCode::CONFLICT, "prerequisites_missing")
    );
    assert_eq!(blocked.pointers(), ["/prerequisites/docker-fundamentals"]);
    assert!(blocked.problem().detail.contains("Docker"), "{blocked:?}");

    let owner = server.db.owner();
    let set = |sql: &'static str, slug: &'static str| async move {
        sqlx::query(sql)
            .bind(course(slug))
            .execute(owner)
            .await
            .unwrap();
    };
    // The demo learner holds the only seat.
    set(
        "UPDATE courses SET max_students = student_count WHERE id = $1",
        "python-for-data-analysis",
    )
    .await;
    assert_eq!(
        enroll(&api, t, "python-for-data-analysis").await.code(),
        "course_full"
    );
    set(
        "UPDATE courses SET enrollment_deadline = now() - interval '1 day' WHERE id = $1",
        "cybersecurity-fundamentals",
    )
    .await;
    assert_eq!(
        enroll(&api, t, "cybersecurity-fundamentals").await.code(),
        "enrollment_closed"
    );
    set(
        "UPDATE courses SET end_date = now() - interval '1 day' WHERE id = $1",
        "web-application-security",
    )
    .await;
    assert_eq!(
        enroll(&api, t, "web-application-security").await.code(),
        "course_ended"
    );

    let draft = enroll(&api, t, "linux-incident-response").await;
    assert_eq!(
        draft.status,
        StatusCode::NOT_FOUND,
        "a draft is invisible, not just closed"
    );
    let nothing = api
        .call(
            Method::POST,
            &format!("/api/v1/courses/{}/enrollment", Uuid::now_v7()),
            Some(t),
            None,
        )
        .await;
    assert_eq!(nothing.status, StatusCode::NOT_FOUND);
    assert_eq!(
        api.call(
            Method::POST,
            "/api/v1/courses/not-a-uuid/enrollment",
            Some(t),
            None
        )
        .await
        .status,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        api.call(
            Method::POST,
            &format!(
                "/api/v1/courses/{}/enrollment",
                course("docker-fundamentals")
            ),
            None,
            None
        )
        .await
        .status,
        StatusCode::UNAUTHORIZED
    );

    let mine = api.get("/api/v1/me/enrollments", Some(t)).await;
    let slugs: Vec<&str> = items(&mine)
        .iter()
        .map(|e| e["course"]["slug"].as_str().unwrap())
        .collect();
    assert_eq!(slugs.len(), 2);
    assert!(slugs.contains(&"docker-fundamentals") && slugs.contains(&"modern-javascript"));
    let joined: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM notifications WHERE user_id = $1 AND title = 'Enrolled'",
    )
    .bind(me.user.id)
    .fetch_one(owner)
    .await
    .unwrap();
    assert_eq!(joined, 3, "one per (re)enrollment");
}

#[tokio::test]
async fn last_seat_races_leave_exactly_max_students_enrolled() {
    let server = spawn_demo_server().await;
    let api = Api::new(&server.url);
    sqlx::query("UPDATE courses SET max_students = 3 WHERE id = $1")
        .bind(course("docker-fundamentals"))
        .execute(server.db.owner())
        .await
        .unwrap();
    let mut learners = Vec::new();
    for n in 0..8 {
        learners.push(
            api.sign_up(&format!("racer{n}@example.com"), PASSWORD, "R")
                .await,
        );
    }
    let mut tasks = tokio::task::JoinSet::new();
    for l in learners {
        let api = api.clone();
        tasks.spawn(async move {
            enroll(&api, &l.access_token, "docker-fundamentals")
                .await
                .status
        });
    }
    let mut created = 0;
    while let Some(status) = tasks.join_next().await {
        let status = status.unwrap();
        assert!(
            status == StatusCode::CREATED || status == StatusCode::CONFLICT,
            "{status}"
        );
        created += usize::from(status == StatusCode::CREATED);
    }
    assert_eq!(created, 3);
}

#[tokio::test]
async fn studying_to_the_end_earns_a_certificate_anyone_can_verify() {
    let server = spawn_demo_server().await;
    let api = Api::new(&server.url);
    let me = api
        .sign_up("finisher@example.com", PASSWORD, "Fin Isher")
        .await;
    let t = me.access_token.as_str();
    assert_eq!(
        enroll(&api, t, "docker-fundamentals").await.status,
        StatusCode::CREATED
    );
    let page = api
        .get("/api/v1/courses/docker-fundamentals", Some(t))
        .await;
    let lessons: Vec<String> = page.body["modules"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|m| {
            m["lessons"]
                .as_array()
                .unwrap()
                .iter()
                .map(|l| l["id"].as_str().unwrap().to_owned())
        })
        .collect();
    assert_eq!(lessons.len(), 6);
    let put = |lesson: &str, body: Value| {
        let (api, path) = (api.clone(), format!("/api/v1/lessons/{lesson}/progress"));
        async move { api.call(Method::PUT, &path, Some(t), Some(body)).await }
    };

    // Monotonic percentage, additive minutes, idempotent by mutation id.
    let m1 = Uuid::now_v7();
    let a = put(
        &lessons[0],
        json!({"progress_percentage": 50, "add_minutes": 5, "mutation_id": m1}),
    )
    .await;
    assert_eq!(
        (
            a.body["lesson"]["progress_percentage"].as_i64(),
            a.body["applied"].as_bool()
        ),
        (Some(50), Some(true))
    );
    let retry = put(
        &lessons[0],
        json!({"progress_percentage": 50, "add_minutes": 5, "mutation_id": m1}),
    )
    .await;
    assert_eq!(
        (
            retry.body["lesson"]["time_spent_minutes"].as_i64(),
            retry.body["applied"].as_bool()
        ),
        (Some(5), Some(false))
    );
    let lower = put(
        &lessons[0],
        json!({"progress_percentage": 20, "add_minutes": 3}),
    )
    .await;
    assert_eq!(
        lower.body["lesson"]["progress_percentage"], 50,
        "progress never goes back"
    );
    assert_eq!(lower.body["lesson"]["time_spent_minutes"], 8);
    let bad = put(
        &lessons[0],
        json!({"progress_percentage": 101, "add_minutes": -1}),
    )
    .await;
    assert_eq!(bad.pointers(), ["/progress_percentage", "/add_minutes"]);

    let mut answers = Vec::new();
    for lesson in &lessons {
        let a = put(lesson, json!({"completed": true, "add_minutes": 10})).await;
        assert_eq!(a.status, StatusCode::OK, "{a:?}");
        answers.push(a);
    }
    let last = answers.pop().unwrap();
    assert_eq!(last.body["enrollment"]["status"], "completed");
    assert_eq!(last.body["enrollment"]["progress_percentage"], 100);
    let number = last.body["certificate"]["certificate_number"]
        .as_str()
        .unwrap()
        .to_owned();
    // SKT-YYYY-XXXXX-XXXXX-XXXXX-XXXXX: 100 random bits.
    assert!(number.starts_with("SKT-") && number.len() == 32, "{number}");
    // Completion sticks: "un-completing" changes nothing.
    let after = put(&lessons[0], json!({"progress_percentage": 0})).await;
    assert_eq!(after.body["lesson"]["progress_percentage"], 100);

    let certs = api.get("/api/v1/me/certificates", Some(t)).await;
    assert_eq!(items(&certs).len(), 1);
    let verified = api
        .get(
            &format!("/api/v1/certificates/{}", number.to_lowercase()),
            None,
        )
        .await;
    assert_eq!(verified.status, StatusCode::OK);
    assert_eq!(
        (
            verified.body["is_valid"].as_bool(),
            verified.body["learner_name"].as_str()
        ),
        (Some(true), Some("Fin Isher"))
    );
    assert_eq!(
        api.get("/api/v1/certificates/SKT-0000-XXXX-XXXX", None)
            .await
            .status,
        StatusCode::NOT_FOUND
    );

    let owner = server.db.owner();
    let count = |sql: &'static str| async move {
        sqlx::query_scalar::<_, i64>(sql)
            .bind(me.user.id)
            .fetch_one(owner)
            .await
            .unwrap()
    };
    assert_eq!(count("SELECT count(*) FROM user_activities WHERE user_id = $1 AND activity_type = 'course_complete'").await, 1);
    assert_eq!(count("SELECT count(*) FROM user_activities WHERE user_id = $1 AND activity_type = 'course_start'").await, 1);
    assert_eq!(count("SELECT count(*) FROM notifications WHERE user_id = $1 AND title IN ('Course completed', 'Certificate issued')").await, 2);
    let progress = api
        .get(
            &format!(
                "/api/v1/me/progress?course={}",
                course("docker-fundamentals")
            ),
            Some(t),
        )
        .await;
    assert_eq!(items(&progress).len(), 6);
}

#[tokio::test]
async fn a_final_exam_must_be_passed_before_the_course_completes() {
    let server = spawn_demo_server().await;
    let api = Api::new(&server.url);
    let me = api.sign_up("examinee@example.com", PASSWORD, "E").await;
    let t = me.access_token.as_str();
    assert_eq!(
        enroll(&api, t, "intro-to-the-command-line").await.status,
        StatusCode::CREATED
    );
    let page = api
        .get("/api/v1/courses/intro-to-the-command-line", Some(t))
        .await;
    let mut last = Value::Null;
    for m in page.body["modules"].as_array().unwrap() {
        for l in m["lessons"].as_array().unwrap() {
            let path = format!("/api/v1/lessons/{}/progress", l["id"].as_str().unwrap());
            last = api
                .call(
                    Method::PUT,
                    &path,
                    Some(t),
                    Some(json!({"completed": true})),
                )
                .await
                .body;
        }
    }
    assert_eq!(last["enrollment"]["progress_percentage"], 100);
    assert_eq!(
        last["enrollment"]["status"], "active",
        "the final exam is not passed yet"
    );
    assert_eq!(last["certificate"], Value::Null);

    // Passing it (the grader's write, here the owner's) completes the course.
    sqlx::query(
        "INSERT INTO user_assessment_attempts (user_id, assessment_id, attempt_number, completed_at, score, passed)
         SELECT $1, id, 1, now(), 90, true FROM assessments
         WHERE course_id = $2 AND type = 'final_exam'",
    )
    .bind(me.user.id)
    .bind(course("intro-to-the-command-line"))
    .execute(server.db.owner())
    .await
    .unwrap();
    let mine = api.get("/api/v1/me/enrollments", Some(t)).await;
    assert_eq!(items(&mine)[0]["status"], "completed");
    assert_eq!(
        items(&api.get("/api/v1/me/certificates", Some(t)).await).len(),
        1
    );
}

#[tokio::test]
async fn nobody_reads_or_changes_another_learners_learning() {
    let server = spawn_demo_server().await;
    let api = Api::new(&server.url);
    let a = api.sign_up("owner@example.com", PASSWORD, "A").await;
    let b = api.sign_up("snoop@example.com", PASSWORD, "B").await;
    assert_eq!(
        enroll(&api, &a.access_token, "docker-fundamentals")
            .await
            .status,
        StatusCode::CREATED
    );
    // B sees none of A's enrollments, progress or certificates, and cannot cancel A's.
    assert!(
        items(
            &api.get("/api/v1/me/enrollments", Some(&b.access_token))
                .await
        )
        .is_empty()
    );
    let path = format!(
        "/api/v1/courses/{}/enrollment",
        course("docker-fundamentals")
    );
    assert_eq!(
        api.call(Method::DELETE, &path, Some(&b.access_token), None)
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        items(
            &api.get("/api/v1/me/enrollments", Some(&a.access_token))
                .await
        )[0]["status"],
        "active"
    );
    // B cannot record progress in a course they are not enrolled in.
    let page = api
        .get("/api/v1/courses/docker-fundamentals", Some(&a.access_token))
        .await;
    let lesson = page.body["modules"][0]["lessons"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let sneaky = api
        .call(
            Method::PUT,
            &format!("/api/v1/lessons/{lesson}/progress"),
            Some(&b.access_token),
            Some(json!({"completed": true})),
        )
        .await;
    assert_eq!(sneaky.status, StatusCode::NOT_FOUND);
    let theirs = api
        .get(
            &format!(
                "/api/v1/me/progress?course={}",
                course("docker-fundamentals")
            ),
            Some(&b.access_token),
        )
        .await;
    assert!(items(&theirs).is_empty());
}
