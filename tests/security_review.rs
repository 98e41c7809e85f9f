//! Issue 14, the outside security review: one test (or a few) per finding the server owns,
//! each written before its fix and seen failing. The sandbox findings are in
//! `lab_sandbox.rs` and `labs_api.rs`, the client's in `client_security.rs`.

use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use skilltrack_server::db::session::{Access, Caller, begin};
use skilltrack_server::seed::demo_id;
use skilltrack_tests::api::{Answer, Api};
use skilltrack_tests::{TestServer, spawn_demo_server};
use uuid::Uuid;

use crate::assessments_api::{
    assessment_of_kind, course_id, enrolled_learner, put, sign_in as demo,
};

const PASSWORD: &str = "correct horse battery";
const COURSE: &str = "intro-to-the-command-line";

/// Every change a fresh device of `token` pulls, page after page.
async fn pull_all(api: &Api, token: &str, cursor: Option<&str>) -> (Vec<Value>, String) {
    let mut cursor = cursor.map(str::to_owned);
    let mut changes = Vec::new();
    loop {
        let mut path = "/api/v1/sync/pull?limit=5000".to_owned();
        if let Some(c) = &cursor {
            path = format!("{path}&cursor={c}");
        }
        let a = api.get(&path, Some(token)).await;
        assert_eq!(a.status, StatusCode::OK, "{a:?}");
        changes.extend(a.body["changes"].as_array().unwrap().iter().cloned());
        cursor = Some(a.body["cursor"].as_str().unwrap().to_owned());
        if a.body["has_more"] != true {
            return (changes, cursor.unwrap());
        }
    }
}

fn rows_of<'a>(changes: &'a [Value], table: &str) -> Vec<&'a Value> {
    changes
        .iter()
        .filter(|c| c["table"] == table && c["op"] == "upsert")
        .map(|c| &c["row"])
        .collect()
}

// 1. Answer keys follow the assessment's review policy ---------------------------------------

/// The demo final exam's explanations: what a learner must not read while attempts remain.
fn final_exam_explanations() -> Vec<String> {
    let catalog = skilltrack_server::seed::catalog().unwrap();
    catalog
        .courses
        .iter()
        .find(|c| c.slug() == COURSE)
        .unwrap()
        .tree
        .assessments
        .iter()
        .find(|a| a.assessment.kind == skilltrack_protocol::AssessmentType::FinalExam)
        .unwrap()
        .questions
        .iter()
        .filter_map(|q| q.explanation.as_deref())
        .map(|e| e.chars().take(40).collect())
        .collect()
}

fn assert_review_closed(what: &str, attempt: &Value) {
    assert_eq!(attempt["review_open"], false, "{what}: {attempt}");
    let text = attempt.to_string();
    for secret in final_exam_explanations() {
        assert!(!text.contains(&secret), "{what} leaks {secret:?}: {text}");
    }
    for q in attempt["questions"].as_array().unwrap() {
        assert!(q["correct_answer"].is_null(), "{what}: {q}");
        assert!(q["explanation"].is_null(), "{what}: {q}");
        // Right or wrong per question is a key too (true/false gives it away at once).
        assert!(q["is_correct"].is_null(), "{what}: {q}");
    }
}

/// Submits attempt `n` of the final exam with every answer wrong-ish, and returns it.
async fn take_final_exam(api: &Api, token: &str, exam: &str) -> (Uuid, Value) {
    let attempt = Uuid::now_v7();
    let start = api
        .post(
            &format!("/api/v1/assessments/{exam}/attempts"),
            Some(token),
            json!({"id": attempt}),
        )
        .await;
    assert_eq!(start.status, StatusCode::CREATED, "{start:?}");
    let answers: Vec<Value> = start.body["questions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|q| {
            let answer = match q["question"]["question_type"].as_str().unwrap() {
                "multiple_choice" => json!(["a"]),
                "true_false" => json!(false),
                _ => json!("no idea"),
            };
            json!({"question_id": q["question"]["id"], "answer": answer})
        })
        .collect();
    let done = put(
        api,
        &format!("/api/v1/attempts/{attempt}/submission"),
        token,
        json!({"assessment_id": exam, "answers": answers}),
    )
    .await;
    assert_eq!(done.status, StatusCode::OK, "{done:?}");
    (attempt, done.body)
}

#[tokio::test]
async fn final_exam_keys_stay_hidden_while_attempts_remain() {
    let server = spawn_demo_server().await;
    let api = Api::new(&server.url);
    let me = enrolled_learner(&api, "exam-taker").await;
    let t = me.access_token.as_str();
    let listed = api
        .get(
            &format!("/api/v1/courses/{}/assessments", course_id()),
            Some(t),
        )
        .await;
    let exam = listed.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["kind"] == "final_exam")
        .unwrap();
    assert_eq!(exam["max_attempts"], 2);
    assert_eq!(exam["review_policy"], "after_last_attempt_or_pass");
    let quiz = listed.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["kind"] == "quiz")
        .unwrap();
    assert_eq!(quiz["max_attempts"], Value::Null);
    assert_eq!(quiz["review_policy"], "after_each_attempt");
    let exam = exam["id"].as_str().unwrap().to_owned();

    // Attempt 1, failed: nothing of the keys, by any path.
    let (first, submitted) = take_final_exam(&api, t, &exam).await;
    assert_eq!(submitted["passed"], false);
    // Its essay and code wait for the instructor; the rest is graded and hidden.
    assert_eq!(submitted["state"], "awaiting_grading", "{submitted}");
    assert_review_closed("the submission", &submitted);
    let read = api.get(&format!("/api/v1/attempts/{first}"), Some(t)).await;
    assert_review_closed("GET /attempts/{id}", &read.body);
    let (changes, cursor) = pull_all(&api, t, None).await;
    let answers = rows_of(&changes, "user_assessment_answers");
    assert!(!answers.is_empty());
    for a in &answers {
        assert!(
            a["is_correct"].is_null(),
            "a pulled answer gives it away: {a}"
        );
    }
    let attempts = rows_of(&changes, "user_assessment_attempts");
    assert!(
        attempts.iter().all(|a| a["review_open"] == false),
        "{attempts:?}"
    );

    // The last attempt used: the review opens, for both attempts and on the device too.
    let (second, submitted) = take_final_exam(&api, t, &exam).await;
    assert_eq!(submitted["review_open"], true, "{submitted}");
    assert!(
        submitted["questions"]
            .as_array()
            .unwrap()
            .iter()
            .any(|q| !q["correct_answer"].is_null())
    );
    let read = api.get(&format!("/api/v1/attempts/{first}"), Some(t)).await;
    assert_eq!(read.body["review_open"], true, "{read:?}");
    assert!(
        read.body
            .to_string()
            .contains(&final_exam_explanations()[0])
    );
    let (changes, _) = pull_all(&api, t, Some(&cursor)).await;
    let answers = rows_of(&changes, "user_assessment_answers");
    assert!(
        answers
            .iter()
            .any(|a| a["attempt_id"] == first.to_string() && !a["is_correct"].is_null()),
        "the earlier attempt's grades reach the device once the review opens: {answers:?}"
    );
    assert!(
        answers
            .iter()
            .any(|a| a["attempt_id"] == second.to_string())
    );
}

/// A limited quiz that the instructor writes: one true/false question worth everything.
async fn limited_quiz(api: &Api, instructor: &str, extra: Value) -> (Uuid, Uuid) {
    let mut body = json!({"title": "Limited", "kind": "quiz", "passing_score": 100,
                          "max_attempts": 3});
    body.as_object_mut()
        .unwrap()
        .extend(extra.as_object().unwrap().clone());
    let a = api
        .post(
            &format!("/api/v1/authoring/courses/{}/assessments", course_id()),
            Some(instructor),
            body,
        )
        .await;
    assert_eq!(a.status, StatusCode::CREATED, "{a:?}");
    let quiz: Uuid = a.body["assessment"]["id"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let q = api
        .post(
            &format!("/api/v1/authoring/assessments/{quiz}/questions"),
            Some(instructor),
            json!({"question_text": "The sky is green.", "question_type": "true_false",
                   "answer_key": {"kind": "true_false", "value": false}, "points": 1,
                   "explanation": "SECRET-EXPLANATION"}),
        )
        .await;
    assert_eq!(q.status, StatusCode::CREATED, "{q:?}");
    let question: Uuid = q.body["id"].as_str().unwrap().parse().unwrap();
    let p = api
        .call(
            Method::PATCH,
            &format!("/api/v1/authoring/assessments/{quiz}"),
            Some(instructor),
            Some(json!({"is_published": true})),
        )
        .await;
    assert_eq!(p.status, StatusCode::OK, "{p:?}");
    (quiz, question)
}

async fn submit_answer(api: &Api, token: &str, quiz: Uuid, question: Uuid, value: bool) -> Value {
    let attempt = Uuid::now_v7();
    let a = put(
        api,
        &format!("/api/v1/attempts/{attempt}/submission"),
        token,
        json!({"assessment_id": quiz,
               "answers": [{"question_id": question, "answer": value}]}),
    )
    .await;
    assert_eq!(a.status, StatusCode::OK, "{a:?}");
    a.body
}

#[tokio::test]
async fn passing_opens_the_review_and_never_keeps_it_shut() {
    let server = spawn_demo_server().await;
    let api = Api::new(&server.url);
    let teacher = demo(&api, "instructor").await;
    let me = enrolled_learner(&api, "passer").await;
    let t = me.access_token.as_str();

    let (quiz, question) = limited_quiz(&api, &teacher.access_token, json!({})).await;
    let failed = submit_answer(&api, t, quiz, question, true).await;
    assert_eq!(failed["review_open"], false, "{failed}");
    assert!(!failed.to_string().contains("SECRET-EXPLANATION"));
    assert!(failed["questions"][0]["is_correct"].is_null(), "{failed}");
    let passed = submit_answer(&api, t, quiz, question, false).await;
    assert_eq!(passed["review_open"], true, "{passed}");
    assert!(passed.to_string().contains("SECRET-EXPLANATION"));

    // `never`: not after passing, not after the last attempt; the instructor still sees all.
    let (quiz, question) = limited_quiz(
        &api,
        &teacher.access_token,
        json!({"review_policy": "never"}),
    )
    .await;
    for value in [true, false, true] {
        let attempt = submit_answer(&api, t, quiz, question, value).await;
        assert_eq!(attempt["review_open"], false, "{attempt}");
        assert!(
            !attempt.to_string().contains("SECRET-EXPLANATION"),
            "{attempt}"
        );
    }
    let mine = api
        .get(&format!("/api/v1/assessments/{quiz}/attempts"), Some(t))
        .await;
    let id = mine.body["items"][0]["id"].as_str().unwrap();
    let as_teacher = api
        .get(
            &format!("/api/v1/attempts/{id}"),
            Some(&teacher.access_token),
        )
        .await;
    assert!(
        as_teacher.body.to_string().contains("SECRET-EXPLANATION"),
        "{as_teacher:?}"
    );

    // `after_each_attempt` can be chosen for a limited quiz; an unknown policy is a clear 422.
    let (quiz, question) = limited_quiz(
        &api,
        &teacher.access_token,
        json!({"review_policy": "after_each_attempt"}),
    )
    .await;
    let attempt = submit_answer(&api, t, quiz, question, true).await;
    assert_eq!(attempt["review_open"], true, "{attempt}");
    let bad = api
        .call(
            Method::PATCH,
            &format!("/api/v1/authoring/assessments/{quiz}"),
            Some(&teacher.access_token),
            Some(json!({"review_policy": "sometimes"})),
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY, "{bad:?}");
}

#[tokio::test]
async fn an_offline_attempt_pushed_later_obeys_the_review_policy() {
    let server = spawn_demo_server().await;
    let api = Api::new(&server.url);
    let teacher = demo(&api, "instructor").await;
    let me = enrolled_learner(&api, "offline-taker").await;
    let t = me.access_token.as_str();
    let (quiz, question) = limited_quiz(&api, &teacher.access_token, json!({})).await;
    let (_, cursor) = pull_all(&api, t, None).await;
    let attempt = Uuid::now_v7();
    let pushed = api
        .post(
            "/api/v1/sync/push",
            Some(t),
            json!({"mutations": [{"id": Uuid::now_v7(), "at": chrono::Utc::now(),
                "change": {"kind": "assessment_submit", "attempt_id": attempt,
                           "assessment_id": quiz,
                           "answers": [{"question_id": question, "answer": true}]}}]}),
        )
        .await;
    assert_eq!(pushed.status, StatusCode::OK, "{pushed:?}");
    assert_eq!(
        pushed.body["results"][0]["outcome"]["status"], "applied",
        "{pushed:?}"
    );
    let (changes, _) = pull_all(&api, t, Some(&cursor)).await;
    let answers = rows_of(&changes, "user_assessment_answers");
    assert_eq!(answers.len(), 1, "{changes:?}");
    assert!(answers[0]["is_correct"].is_null(), "{answers:?}");
    assert_eq!(answers[0]["points_earned"], 0, "{answers:?}");
    let attempts = rows_of(&changes, "user_assessment_attempts");
    assert_eq!(attempts[0]["review_open"], false, "{attempts:?}");
    assert_eq!(attempts[0]["score"], 0, "the score itself is the learner's");
}

// 11. The answer deadline is kept by the database itself --------------------------------------

#[tokio::test]
async fn the_database_refuses_an_answer_after_the_deadline() {
    let server = spawn_demo_server().await;
    let api = Api::new(&server.url);
    let me = enrolled_learner(&api, "late").await;
    let t = me.access_token.as_str();
    let exam = assessment_of_kind(&api, t, "final_exam").await;
    let attempt = Uuid::now_v7();
    let start = api
        .post(
            &format!("/api/v1/assessments/{exam}/attempts"),
            Some(t),
            json!({"id": attempt}),
        )
        .await;
    assert_eq!(start.status, StatusCode::CREATED, "{start:?}");
    let question: Uuid = start.body["questions"][0]["question"]["id"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    // The clock ran out an hour ago.
    sqlx::query(
        "UPDATE user_assessment_attempts SET started_at = now() - interval '2 hours' WHERE id = $1",
    )
    .bind(attempt)
    .execute(server.db.owner())
    .await
    .unwrap();
    // Straight to the database as the learner, past every check the handlers make.
    let mut tx = begin(
        server.db.db.api(),
        Caller::User(me.user.id),
        Access::ReadWrite,
    )
    .await
    .unwrap();
    let written = skilltrack_server::db::assessments::save_answers(
        &mut tx,
        attempt,
        &[(question, "[\"b\"]".to_owned())],
    )
    .await;
    let error = written.expect_err("an answer after the deadline is refused by the database");
    assert!(error.to_string().contains("time_limit_passed"), "{error}");
}

// 7. Revocation reaches everything at once ---------------------------------------------------

async fn me_status(api: &Api, token: &str) -> (StatusCode, String) {
    let a = api.get("/api/v1/me", Some(token)).await;
    let code = if a.status.is_success() {
        String::new()
    } else {
        a.code()
    };
    (a.status, code)
}

#[tokio::test]
async fn signing_out_ends_access_tokens_at_once() {
    let server = skilltrack_tests::spawn_server().await;
    let api = Api::new(&server.url);
    let phone = api.sign_up("rev@example.com", PASSWORD, "Rev").await;
    let laptop = skilltrack_tests::api::session(&api.sign_in("rev@example.com", PASSWORD).await);
    let tablet = skilltrack_tests::api::session(&api.sign_in("rev@example.com", PASSWORD).await);
    assert_eq!(me_status(&api, &phone.access_token).await.0, StatusCode::OK);

    // This device.
    let out = api
        .post(
            "/api/v1/auth/sign-out",
            Some(&phone.access_token),
            json!({}),
        )
        .await;
    assert_eq!(out.status, StatusCode::NO_CONTENT, "{out:?}");
    assert_eq!(
        me_status(&api, &phone.access_token).await,
        (StatusCode::UNAUTHORIZED, "session_revoked".to_owned())
    );
    assert_eq!(
        me_status(&api, &laptop.access_token).await.0,
        StatusCode::OK
    );

    // Every device.
    let out = api
        .post(
            "/api/v1/auth/sign-out",
            Some(&laptop.access_token),
            json!({"scope": "global"}),
        )
        .await;
    assert_eq!(out.status, StatusCode::NO_CONTENT, "{out:?}");
    for token in [&laptop.access_token, &tablet.access_token] {
        assert_eq!(
            me_status(&api, token).await,
            (StatusCode::UNAUTHORIZED, "session_revoked".to_owned())
        );
    }
    // The live channel refuses a revoked token too.
    let live = api
        .get("/api/v1/sync/live", Some(&tablet.access_token))
        .await;
    assert_eq!(live.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn a_revocation_made_anywhere_reaches_this_process() {
    // Another server process (or an operator with SQL) revokes: the NOTIFY carries it here.
    let server = skilltrack_tests::spawn_server().await;
    let api = Api::new(&server.url);
    let s = api.sign_up("far@example.com", PASSWORD, "Far").await;
    assert_eq!(me_status(&api, &s.access_token).await.0, StatusCode::OK);
    sqlx::query(
        "UPDATE auth.sessions SET revoked_at = now(), revoked_reason = 'sign_out' WHERE user_id = $1",
    )
    .bind(s.user.id)
    .execute(server.db.owner())
    .await
    .unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let (status, code) = me_status(&api, &s.access_token).await;
        if status == StatusCode::UNAUTHORIZED {
            assert_eq!(code, "session_revoked");
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "a revocation written elsewhere never reached the server"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn reuse_and_bans_end_the_session_and_its_access_tokens() {
    let server = skilltrack_tests::spawn_server().await;
    let api = Api::new(&server.url);
    let s = api.sign_up("reuse@example.com", PASSWORD, "Reuse").await;

    // A refresh token replayed inside the grace window (a client retrying a refresh whose answer
    // it lost, or a thief racing it) must not fork a second chain: it gets the same next token,
    // so whichever holder refreshes later than the window is caught reusing it.
    let rightful = skilltrack_tests::api::session(&api.refresh(&s.refresh_token).await);
    let replayed = skilltrack_tests::api::session(&api.refresh(&s.refresh_token).await);
    assert_eq!(
        replayed.refresh_token, rightful.refresh_token,
        "a second chain was started"
    );
    let next = skilltrack_tests::api::session(&api.refresh(&rightful.refresh_token).await);
    // The window passes.
    sqlx::query("UPDATE auth.refresh_tokens SET used_at = used_at - interval '1 hour'")
        .execute(server.db.owner())
        .await
        .unwrap();
    let again = api.refresh(&replayed.refresh_token).await;
    assert_eq!(again.status, StatusCode::UNAUTHORIZED, "{again:?}");
    assert_eq!(again.code(), "refresh_token_reused");
    assert_eq!(
        api.refresh(&next.refresh_token).await.code(),
        "session_revoked"
    );
    for token in [&s.access_token, &rightful.access_token, &next.access_token] {
        assert_eq!(
            me_status(&api, token).await,
            (StatusCode::UNAUTHORIZED, "session_revoked".to_owned())
        );
    }

    // A ban: refresh refuses with its own code, and the access token stops at once.
    let s = skilltrack_tests::api::session(&api.sign_in("reuse@example.com", PASSWORD).await);
    assert_eq!(me_status(&api, &s.access_token).await.0, StatusCode::OK);
    sqlx::query("UPDATE auth.users SET banned_until = now() + interval '1 day' WHERE id = $1")
        .bind(s.user.id)
        .execute(server.db.owner())
        .await
        .unwrap();
    let refreshed = api.refresh(&s.refresh_token).await;
    assert_eq!(refreshed.status, StatusCode::FORBIDDEN, "{refreshed:?}");
    assert_eq!(refreshed.code(), "account_suspended");
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while me_status(&api, &s.access_token).await.0 == StatusCode::OK {
        assert!(
            std::time::Instant::now() < deadline,
            "a banned user's token still works"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let signin = api.sign_in("reuse@example.com", PASSWORD).await;
    assert_eq!(signin.status, StatusCode::FORBIDDEN, "{signin:?}");
    assert_eq!(signin.code(), "account_suspended");
}

#[tokio::test]
async fn a_terminal_ends_when_its_session_is_signed_out() {
    let w = crate::labs_api::LabWorld::new(|_| {}).await;
    let ana = w.learner("ana-revoked").await;
    let session = w.start(&ana, w.lab).await;
    let id = session["id"].as_str().unwrap().to_owned();
    let mut term = w.term(&ana, &id).await;
    assert!(term.run("echo still-here").await.contains("still-here"));
    let out = w
        .api
        .post("/api/v1/auth/sign-out", Some(&ana.access_token), json!({}))
        .await;
    assert_eq!(out.status, StatusCode::NO_CONTENT, "{out:?}");
    // The server closes the terminal; its last word says why.
    let last = term.next_control().await;
    assert_eq!(
        last.as_ref().map(|f| f["code"].clone()),
        Some(json!("session_revoked")),
        "{last:?}"
    );
    assert_eq!(term.next_control().await, None, "the connection is closed");
}

// 8. Sign-in limits behind a proxy, and no lock-out of a correct password ---------------------

async fn sign_in_from(server: &TestServer, forwarded: &str, email: &str, password: &str) -> Answer {
    let res = reqwest::Client::new()
        .post(format!("{}/api/v1/auth/sign-in", server.url))
        .header("x-forwarded-for", forwarded)
        .json(&json!({"email": email, "password": password}))
        .send()
        .await
        .unwrap();
    let status = res.status();
    let headers = res.headers().clone();
    let body = res.json().await.unwrap_or(Value::Null);
    Answer {
        status,
        headers,
        body,
    }
}

#[tokio::test]
async fn limits_key_on_the_client_behind_a_trusted_proxy_and_never_lock_out_a_right_password() {
    use skilltrack_server::http::auth::AuthLimits;
    let limits = AuthLimits {
        per_ip: 5,
        trusted_proxies: vec!["127.0.0.1/32".parse().unwrap()],
        ..AuthLimits::default()
    };
    let server = skilltrack_tests::spawn_server_with(limits).await;
    let api = Api::new(&server.url);
    api.sign_up("victim@example.com", PASSWORD, "Victim").await;

    // Behind the proxy, each client has its own budget: one noisy address is not everyone.
    for _ in 0..5 {
        let a = sign_in_from(
            &server,
            "198.51.100.7",
            "nobody@example.com",
            "wrong-password",
        )
        .await;
        assert_eq!(a.status, StatusCode::UNAUTHORIZED, "{a:?}");
    }
    let a = sign_in_from(
        &server,
        "198.51.100.7",
        "nobody@example.com",
        "wrong-password",
    )
    .await;
    assert_eq!(a.status, StatusCode::TOO_MANY_REQUESTS, "{a:?}");
    let a = sign_in_from(&server, "198.51.100.8", "victim@example.com", PASSWORD).await;
    assert_eq!(
        a.status,
        StatusCode::OK,
        "another client behind the proxy: {a:?}"
    );
    // The proxy appends what it saw; what the client wrote before it is not believed.
    let a = sign_in_from(
        &server,
        "203.0.113.1, 198.51.100.7",
        "nobody@example.com",
        "wrong-password",
    )
    .await;
    assert_eq!(a.status, StatusCode::TOO_MANY_REQUESTS, "{a:?}");
}

#[tokio::test]
async fn failed_sign_ins_slow_the_attacker_and_never_lock_out_the_owner() {
    use skilltrack_server::http::auth::AuthLimits;
    let server = skilltrack_tests::spawn_server_with(AuthLimits {
        trusted_proxies: vec!["127.0.0.1/32".parse().unwrap()],
        ..AuthLimits::default()
    })
    .await;
    let api = Api::new(&server.url);
    api.sign_up("owner@example.com", PASSWORD, "Owner").await;
    // Twenty failures on one account from four addresses: more than any per-account limit.
    for i in 0..20 {
        let a = sign_in_from(
            &server,
            &format!("192.0.2.{}", i % 4),
            "owner@example.com",
            "not-the-password",
        )
        .await;
        assert_eq!(a.status, StatusCode::UNAUTHORIZED, "{a:?}");
    }
    // The attacker's addresses back off, whatever they send now…
    for password in ["not-the-password", PASSWORD] {
        let a = sign_in_from(&server, "192.0.2.0", "owner@example.com", password).await;
        assert_eq!(a.status, StatusCode::TOO_MANY_REQUESTS, "{a:?}");
        assert_eq!(a.code(), "rate_limited");
        assert!(a.headers.contains_key("retry-after"));
    }
    // …and the owner, from their own address, with the right password, gets in.
    let a = sign_in_from(&server, "198.51.100.9", "owner@example.com", PASSWORD).await;
    assert_eq!(a.status, StatusCode::OK, "the owner is locked out: {a:?}");
}

#[tokio::test]
async fn forwarded_headers_from_an_untrusted_peer_are_ignored() {
    use skilltrack_server::http::auth::AuthLimits;
    let server = skilltrack_tests::spawn_server_with(AuthLimits {
        per_ip: 3,
        ..AuthLimits::default()
    })
    .await;
    // No proxy is trusted: a client cannot buy a fresh budget by writing a new address.
    for i in 0..3 {
        let a = sign_in_from(
            &server,
            &format!("198.51.100.{i}"),
            "x@example.com",
            "wrong-pass",
        )
        .await;
        assert_eq!(a.status, StatusCode::UNAUTHORIZED, "{a:?}");
    }
    let a = sign_in_from(&server, "198.51.100.99", "x@example.com", "wrong-pass").await;
    assert_eq!(a.status, StatusCode::TOO_MANY_REQUESTS, "{a:?}");
}

// 9. One learner cannot make every device pull ------------------------------------------------

#[tokio::test]
async fn helpful_votes_are_rate_limited_and_counters_do_not_wake_the_catalog() {
    use futures_util::StreamExt as _;
    let server = spawn_demo_server().await;
    let api = Api::new(&server.url);
    let watcher = demo(&api, "learner2").await;
    let voter = api.sign_up("voter@example.com", PASSWORD, "Voter").await;
    // A published review by someone else.
    let review: Uuid = sqlx::query_scalar(
        "SELECT r.id FROM course_reviews r JOIN courses c ON c.id = r.course_id
         WHERE c.is_published ORDER BY r.id LIMIT 1",
    )
    .fetch_one(server.db.owner())
    .await
    .unwrap();
    let (_, cursor) = pull_all(&api, &watcher.access_token, None).await;

    let response = reqwest::Client::new()
        .get(format!("{}/api/v1/sync/live", server.url))
        .bearer_auth(&watcher.access_token)
        .send()
        .await
        .unwrap();
    let mut events = response.bytes_stream();
    let mut seen = String::new();
    // The greeting.
    while !seen.contains("\n\n") {
        seen.push_str(&String::from_utf8_lossy(
            &events.next().await.unwrap().unwrap(),
        ));
    }
    seen.clear();

    let vote = format!("/api/v1/reviews/courses/{review}/vote");
    let mut limited = None;
    for i in 0..200 {
        let method = if i % 2 == 0 {
            Method::PUT
        } else {
            Method::DELETE
        };
        let a = api
            .call(method, &vote, Some(&voter.access_token), None)
            .await;
        if a.status == StatusCode::TOO_MANY_REQUESTS {
            limited = Some(a);
            break;
        }
        assert!(a.status.is_success(), "{a:?}");
    }
    let limited = limited.expect("a vote loop is stopped");
    assert_eq!(limited.code(), "rate_limited");
    assert!(limited.headers.contains_key("retry-after"));

    // The counters moved many times; the watcher's device was never told to pull for it.
    let quiet = tokio::time::timeout(Duration::from_millis(800), async {
        while let Some(Ok(bytes)) = events.next().await {
            seen.push_str(&String::from_utf8_lossy(&bytes));
            if seen.contains("event: pull") {
                return;
            }
        }
    })
    .await;
    assert!(
        quiet.is_err(),
        "a helpful vote woke another device: {seen:?}"
    );
    // …but its next pull still has the review as it is now.
    let (changes, _) = pull_all(&api, &watcher.access_token, Some(&cursor)).await;
    let count: i32 = sqlx::query_scalar("SELECT helpful_votes FROM course_reviews WHERE id = $1")
        .bind(review)
        .fetch_one(server.db.owner())
        .await
        .unwrap();
    let pulled = rows_of(&changes, "course_reviews");
    assert!(
        pulled
            .iter()
            .any(|r| r["id"] == review.to_string() && r["helpful_votes"] == count),
        "{pulled:?}"
    );
}

#[tokio::test]
async fn a_pull_never_waits_on_the_sequencer() {
    let server = spawn_demo_server().await;
    let api = Api::new(&server.url);
    let me = demo(&api, "learner").await;
    let (_, cursor) = pull_all(&api, &me.access_token, None).await;
    // Something to number, and the sequencer busy elsewhere (a slow pull, a compaction).
    let a = api
        .call(
            Method::PUT,
            &format!("/api/v1/me/bookmarks/course/{}", course_id()),
            Some(&me.access_token),
            None,
        )
        .await;
    assert!(a.status.is_success(), "{a:?}");
    let mut holder = server.db.owner().acquire().await.unwrap();
    sqlx::query("SELECT pg_advisory_lock(7352)")
        .execute(&mut *holder)
        .await
        .unwrap();
    let pulled = tokio::time::timeout(
        Duration::from_secs(20),
        api.get(
            &format!("/api/v1/sync/pull?cursor={cursor}"),
            Some(&me.access_token),
        ),
    )
    .await
    .expect("a pull waited for the sequencer's lock");
    assert_eq!(pulled.status, StatusCode::OK, "{pulled:?}");
    sqlx::query("SELECT pg_advisory_unlock(7352)")
        .execute(&mut *holder)
        .await
        .unwrap();
    // Once the sequencer is free, the change arrives.
    let (changes, _) = pull_all(&api, &me.access_token, Some(&cursor)).await;
    assert!(
        !rows_of(&changes, "user_bookmarks").is_empty(),
        "{changes:?}"
    );
}

// 10. A pull page is bounded in bytes ---------------------------------------------------------

#[tokio::test]
async fn a_pull_page_is_bounded_in_bytes() {
    use skilltrack_protocol::sync::MAX_PULL_PAGE_BYTES;
    let server = spawn_demo_server().await;
    let api = Api::new(&server.url);
    let me = enrolled_learner(&api, "essayist").await;
    // Large essays in many attempts: 24 × 512 KiB, three times the byte budget of a page.
    let essay = "word ".repeat(512 * 1024 / 5);
    let quiz: Uuid = sqlx::query_scalar(
        "SELECT a.id FROM assessments a WHERE a.course_id = $1 AND a.type = 'quiz' LIMIT 1",
    )
    .bind(course_id())
    .fetch_one(server.db.owner())
    .await
    .unwrap();
    let question: Uuid =
        sqlx::query_scalar("SELECT id FROM assessment_questions WHERE assessment_id = $1 LIMIT 1")
            .bind(quiz)
            .fetch_one(server.db.owner())
            .await
            .unwrap();
    for n in 1..=24 {
        let attempt: Uuid = sqlx::query_scalar(
            "INSERT INTO user_assessment_attempts (user_id, assessment_id, attempt_number,
               completed_at, score)
             VALUES ($1, $2, $3, now(), 0) RETURNING id",
        )
        .bind(me.user.id)
        .bind(quiz)
        .bind(n)
        .fetch_one(server.db.owner())
        .await
        .unwrap();
        sqlx::query(
            "INSERT INTO user_assessment_answers (attempt_id, question_id, answer_text)
             VALUES ($1, $2, $3)",
        )
        .bind(attempt)
        .bind(question)
        .bind(&essay)
        .execute(server.db.owner())
        .await
        .unwrap();
    }
    let mut cursor: Option<String> = None;
    let mut essays = 0;
    let mut pages = 0;
    loop {
        let mut path = "/api/v1/sync/pull?limit=5000".to_owned();
        if let Some(c) = &cursor {
            path = format!("{path}&cursor={c}");
        }
        let res = reqwest::Client::new()
            .get(format!("{}{path}", server.url))
            .bearer_auth(&me.access_token)
            .header("accept-encoding", "identity")
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        let bytes = res.bytes().await.unwrap();
        // One row over the budget at most: a row larger than the budget still travels alone.
        assert!(
            bytes.len() <= MAX_PULL_PAGE_BYTES + essay.len() + 4096,
            "a page of {} bytes",
            bytes.len()
        );
        let page: Value = serde_json::from_slice(&bytes).unwrap();
        essays += rows_of(
            page["changes"].as_array().unwrap(),
            "user_assessment_answers",
        )
        .iter()
        .filter(|a| a["answer_text"] == essay.as_str())
        .count();
        pages += 1;
        cursor = Some(page["cursor"].as_str().unwrap().to_owned());
        if page["has_more"] != true {
            break;
        }
    }
    assert_eq!(essays, 24, "every essay arrives, over {pages} pages");
    assert!(pages >= 3);
}

// 12. The smaller ones --------------------------------------------------------------------------

#[tokio::test]
async fn nobody_learns_the_ids_of_another_instructors_drafts() {
    let server = spawn_demo_server().await;
    let api = Api::new(&server.url);
    let learner = demo(&api, "learner").await;
    let other = demo(&api, "instructor2").await;
    let author = demo(&api, "instructor").await;
    let admin = demo(&api, "admin").await;
    let mut cursors = Vec::new();
    for s in [&learner, &other, &author, &admin] {
        cursors.push(pull_all(&api, &s.access_token, None).await.1);
    }
    let draft = api
        .post(
            "/api/v1/authoring/courses",
            Some(&author.access_token),
            json!({"slug": "secret-draft", "service_id": demo_id("service/software-development"),
                   "title": "Secret Draft", "description": "Not yet.", "duration": "1 week",
                   "level": "Beginner"}),
        )
        .await;
    assert_eq!(draft.status, StatusCode::CREATED, "{draft:?}");
    let draft_id = draft.body["course"]["id"].as_str().unwrap().to_owned();
    // A draft lesson inside a published course, too.
    let module: Uuid = sqlx::query_scalar(
        "SELECT id FROM course_modules WHERE course_id = $1 AND is_published ORDER BY sort_order LIMIT 1",
    )
    .bind(course_id())
    .fetch_one(server.db.owner())
    .await
    .unwrap();
    let lesson = api
        .post(
            &format!("/api/v1/authoring/modules/{module}/lessons"),
            Some(&author.access_token),
            json!({"title": "Draft lesson", "content_type": "text", "content_body": "Soon.",
                   "is_published": false}),
        )
        .await;
    assert_eq!(lesson.status, StatusCode::CREATED, "{lesson:?}");
    let lesson_id = lesson.body["lesson"]["id"].as_str().unwrap().to_owned();
    let edit = api
        .call(
            Method::PATCH,
            &format!("/api/v1/authoring/courses/{draft_id}"),
            Some(&author.access_token),
            Some(json!({"title": "Secret Draft, edited"})),
        )
        .await;
    assert!(edit.status.is_success(), "{edit:?}");

    for (who, cursor, sees) in [
        (&learner, &cursors[0], false),
        (&other, &cursors[1], false),
        (&author, &cursors[2], true),
        (&admin, &cursors[3], true),
    ] {
        let (changes, _) = pull_all(&api, &who.access_token, Some(cursor)).await;
        let text = serde_json::to_string(&changes).unwrap();
        if sees {
            assert!(
                rows_of(&changes, "courses")
                    .iter()
                    .any(|r| r["id"] == draft_id.as_str()),
                "{} misses the draft: {text}",
                who.user.email
            );
        } else {
            assert!(
                !text.contains(&draft_id),
                "{} learns the draft's id: {text}",
                who.user.email
            );
            assert!(
                !text.contains(&lesson_id),
                "{} learns the draft lesson's id",
                who.user.email
            );
        }
    }
}

#[tokio::test]
async fn certificate_numbers_are_unguessable_and_verification_is_rate_limited() {
    let server = spawn_demo_server().await;
    let number: String = sqlx::query_scalar("SELECT private.new_certificate_number()")
        .fetch_one(server.db.owner())
        .await
        .unwrap();
    // SKT-YYYY-XXXXX-XXXXX-XXXXX-XXXXX: 20 Crockford base32 characters, 100 random bits.
    let groups: Vec<&str> = number.split('-').collect();
    assert_eq!(groups.len(), 6, "{number}");
    assert_eq!(groups[0], "SKT");
    let random: String = groups[2..].concat();
    assert_eq!(random.len(), 20, "{number}");
    assert!(
        random
            .chars()
            .all(|c| "0123456789ABCDEFGHJKMNPQRSTVWXYZ".contains(c))
    );

    let api = Api::new(&server.url);
    let mut limited = None;
    for i in 0..200 {
        let a = api
            .get(&format!("/api/v1/certificates/SKT-2026-GUESS-{i:05}"), None)
            .await;
        if a.status == StatusCode::TOO_MANY_REQUESTS {
            limited = Some(a);
            break;
        }
        assert_eq!(a.status, StatusCode::NOT_FOUND, "{a:?}");
    }
    let limited = limited.expect("guessing certificate numbers is slowed down");
    assert_eq!(limited.code(), "rate_limited");
}

#[tokio::test]
async fn media_is_served_nosniff_and_refused_bytes_are_never_stored() {
    let server = spawn_demo_server().await;
    let api = Api::new(&server.url);
    let teacher = demo(&api, "instructor").await;
    let http = reqwest::Client::new();
    let demo_video = http
        .get(format!(
            "{}/media/demo/intro-to-the-terminal.webm",
            server.url
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(
        demo_video
            .headers()
            .get("x-content-type-options")
            .map(|v| v.to_str().unwrap()),
        Some("nosniff")
    );
    let uploads = server.data_dir.path().join("media/uploads");
    let files_in = |dir: &std::path::Path| -> usize { walk(dir) };
    let before = files_in(&uploads);
    let html = b"<html><script>alert(document.cookie)</script></html>".repeat(100);
    let refused = http
        .post(format!(
            "{}/api/v1/uploads?filename=lesson.webm",
            server.url
        ))
        .bearer_auth(&teacher.access_token)
        .header("content-type", "video/webm")
        .body(html)
        .send()
        .await
        .unwrap();
    assert!(refused.status().is_client_error(), "{refused:?}");
    assert_eq!(
        files_in(&uploads),
        before,
        "bytes that failed the type check were kept"
    );

    let png = tiny_png();
    let stored = http
        .post(format!("{}/api/v1/uploads?filename=pixel.png", server.url))
        .bearer_auth(&teacher.access_token)
        .header("content-type", "image/png")
        .body(png)
        .send()
        .await
        .unwrap();
    assert_eq!(stored.status(), StatusCode::CREATED);
    let url = stored.json::<Value>().await.unwrap()["file_url"]
        .as_str()
        .unwrap()
        .to_owned();
    let download = http
        .get(format!("{}{url}", server.url))
        .bearer_auth(&teacher.access_token)
        .send()
        .await
        .unwrap();
    assert_eq!(download.status(), StatusCode::OK);
    assert_eq!(
        download
            .headers()
            .get("x-content-type-options")
            .map(|v| v.to_str().unwrap()),
        Some("nosniff")
    );
}

fn walk(dir: &std::path::Path) -> usize {
    std::fs::read_dir(dir).map_or(0, |entries| {
        entries
            .flatten()
            .map(|e| {
                if e.path().is_dir() {
                    walk(&e.path())
                } else {
                    1
                }
            })
            .sum()
    })
}

/// A valid 1×1 PNG.
fn tiny_png() -> Vec<u8> {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD
        .decode("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==")
        .unwrap()
}

#[tokio::test]
async fn instructors_see_their_learners_names_not_their_contact_details() {
    let server = spawn_demo_server().await;
    let api = Api::new(&server.url);
    let teacher = demo(&api, "instructor").await;
    let learner = enrolled_learner(&api, "private-person").await;
    sqlx::query("UPDATE profiles SET phone = '+44 20 7946 0000' WHERE id = $1")
        .bind(learner.user.id)
        .execute(server.db.owner())
        .await
        .unwrap();
    // A submission with an essay puts the learner in the instructor's grading queue.
    let quiz = assessment_of_kind(&api, &learner.access_token, "quiz").await;
    let submitted = put(
        &api,
        &format!("/api/v1/attempts/{}/submission", Uuid::now_v7()),
        &learner.access_token,
        json!({"assessment_id": quiz, "answers": []}),
    )
    .await;
    assert_eq!(submitted.status, StatusCode::OK, "{submitted:?}");
    for path in [
        format!("/api/v1/authoring/assessments/{quiz}/attempts"),
        "/api/v1/authoring/grading-queue".to_owned(),
    ] {
        let a = api.get(&path, Some(&teacher.access_token)).await;
        assert_eq!(a.status, StatusCode::OK, "{a:?}");
        let text = a.body.to_string();
        assert!(
            !text.contains("private-person@example.com"),
            "{path}: {text}"
        );
        assert!(!text.contains("7946"), "{path}: {text}");
    }
    let attempts = api
        .get(
            &format!("/api/v1/authoring/assessments/{quiz}/attempts"),
            Some(&teacher.access_token),
        )
        .await;
    assert!(
        attempts.body.to_string().contains("private-person"),
        "the name is shown"
    );
    // Under RLS, the instructor's role reads no contact detail of theirs at all.
    let mut tx = begin(
        server.db.db.api(),
        Caller::User(teacher.user.id),
        Access::ReadOnly,
    )
    .await
    .unwrap();
    let email: Option<String> = sqlx::query_scalar("SELECT email FROM profiles WHERE id = $1")
        .bind(learner.user.id)
        .fetch_optional(&mut *tx)
        .await
        .unwrap();
    assert_eq!(email, None);
}

#[tokio::test]
async fn analytics_keep_no_full_ip_address() {
    use skilltrack_server::http::auth::AuthLimits;
    let server = skilltrack_tests::spawn_server_with(AuthLimits {
        trusted_proxies: vec!["127.0.0.1/32".parse().unwrap()],
        ..AuthLimits::default()
    })
    .await;
    let api = Api::new(&server.url);
    let s = api
        .sign_up("tracked@example.com", PASSWORD, "Tracked")
        .await;
    let http = reqwest::Client::new();
    let a = http
        .post(format!("{}/api/v1/analytics/events", server.url))
        .bearer_auth(&s.access_token)
        .header("x-forwarded-for", "203.0.113.77")
        .json(&json!({"events": [{"id": Uuid::now_v7(), "event_name": "page_view"}]}))
        .send()
        .await
        .unwrap();
    assert!(a.status().is_success(), "{a:?}");
    let signin = sign_in_from(
        &server,
        "2001:db8:1234:5678::9",
        "tracked@example.com",
        PASSWORD,
    )
    .await;
    assert_eq!(signin.status, StatusCode::OK, "{signin:?}");
    let stored: Vec<String> = sqlx::query_scalar(
        "SELECT host(ip_address) FROM analytics_events WHERE ip_address IS NOT NULL
         UNION ALL SELECT host(ip_address) FROM user_activities WHERE ip_address IS NOT NULL",
    )
    .fetch_all(server.db.owner())
    .await
    .unwrap();
    assert!(stored.contains(&"203.0.113.0".to_owned()), "{stored:?}");
    assert!(stored.contains(&"2001:db8:1234::".to_owned()), "{stored:?}");
    for ip in &stored {
        assert!(
            ip.ends_with(".0") || ip.ends_with("::"),
            "a full address is kept: {ip}"
        );
    }
}
