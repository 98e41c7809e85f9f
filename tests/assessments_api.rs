//! Assessments over real HTTP on the demo catalog: instructors author every question type,
//! learners take them online and offline, the server grades fairly and keeps time, keys stay
//! secret until submission, instructors grade essays and read statistics.

#![allow(
    clippy::many_single_char_names,
    reason = "tokens and ids read best as o(wner), t(aker), q(uestions) in these scenarios"
)]

use futures_util::future::join_all;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use skilltrack_protocol::auth::Session;
use skilltrack_server::seed::demo_id;
use skilltrack_tests::api::{Answer, Api};
use skilltrack_tests::spawn_demo_server;
use uuid::Uuid;

const PASSWORD: &str = "correct horse battery";
/// The demo course these tests build on: free, taught by instructor@skilltrack.dev.
const COURSE: &str = "intro-to-the-command-line";

pub(crate) fn course_id() -> Uuid {
    demo_id(&format!("course/{COURSE}"))
}

pub(crate) async fn sign_in(api: &Api, who: &str) -> Session {
    skilltrack_tests::api::session(
        &api.sign_in(
            &format!("{who}@skilltrack.dev"),
            &format!("{who}-demo-pass"),
        )
        .await,
    )
}

/// A new learner enrolled in [`COURSE`].
pub(crate) async fn enrolled_learner(api: &Api, name: &str) -> Session {
    let me = api
        .sign_up(&format!("{name}@example.com"), PASSWORD, name)
        .await;
    let a = api
        .post(
            &format!("/api/v1/courses/{}/enrollment", course_id()),
            Some(&me.access_token),
            json!({}),
        )
        .await;
    assert_eq!(a.status, StatusCode::CREATED, "{a:?}");
    me
}

/// The id of [`COURSE`]'s published assessment of this kind (`quiz`, `final_exam`), as its
/// learner lists them.
pub(crate) async fn assessment_of_kind(api: &Api, token: &str, kind: &str) -> String {
    let listed = api
        .get(
            &format!("/api/v1/courses/{}/assessments", course_id()),
            Some(token),
        )
        .await;
    listed.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["kind"] == kind)
        .unwrap_or_else(|| panic!("no {kind} in {listed:?}"))["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

pub(crate) async fn put(api: &Api, path: &str, token: &str, body: Value) -> Answer {
    api.call(Method::PUT, path, Some(token), Some(body)).await
}

async fn patch(api: &Api, path: &str, token: &str, body: Value) -> Answer {
    api.call(Method::PATCH, path, Some(token), Some(body)).await
}

/// The secrets of the quiz below: nothing of these may reach a learner before submission.
const SECRETS: [&str; 4] = [
    "EXPLANATION-mc",
    "EXPLANATION-short",
    "accepted-secret-answer",
    "EXPLANATION-essay",
];

/// An untimed quiz in [`COURSE`] with one question of every type; returns its id and the
/// question ids in order (mc single, mc multiple, true/false, short, essay, code).
async fn quiz_with_every_type(api: &Api, instructor: &str, settings: Value) -> (Uuid, Vec<Uuid>) {
    let mut body = json!({"title": "Every type", "kind": "quiz", "passing_score": 50});
    body.as_object_mut()
        .unwrap()
        .extend(settings.as_object().unwrap().clone());
    let a = api
        .post(
            &format!("/api/v1/authoring/courses/{}/assessments", course_id()),
            Some(instructor),
            body,
        )
        .await;
    assert_eq!(a.status, StatusCode::CREATED, "{a:?}");
    let id: Uuid = a.body["assessment"]["id"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let choices = json!([{"id": "a", "text": "ls"}, {"id": "b", "text": "cd"},
                         {"id": "c", "text": "pwd"}, {"id": "d", "text": "rm"}]);
    let questions = [
        json!({"question_text": "Which lists files?", "question_type": "multiple_choice",
               "options": {"choices": choices, "multiple": false},
               "answer_key": {"kind": "choices", "ids": ["a"]}, "points": 2,
               "explanation": "EXPLANATION-mc"}),
        json!({"question_text": "Which change nothing on disk?", "question_type": "multiple_choice",
               "options": {"choices": choices, "multiple": true},
               "answer_key": {"kind": "choices", "ids": ["a", "c"]}, "points": 2}),
        json!({"question_text": "`rm -r` asks before deleting.", "question_type": "true_false",
               "answer_key": {"kind": "true_false", "value": false}, "points": 1}),
        json!({"question_text": "Name the secret.", "question_type": "short_answer",
               "answer_key": {"kind": "accepted", "answers": ["accepted-secret-answer", "Ünïcode answer"]},
               "points": 1, "explanation": "EXPLANATION-short"}),
        json!({"question_text": "Explain pipes.", "question_type": "essay",
               "options": {"min_words": 20}, "points": 4, "explanation": "EXPLANATION-essay"}),
        json!({"question_text": "Count lines.", "question_type": "code",
               "options": {"language": "bash", "starter_code": "wc "}, "points": 2}),
    ];
    let mut ids = Vec::new();
    for q in questions {
        let a = api
            .post(
                &format!("/api/v1/authoring/assessments/{id}/questions"),
                Some(instructor),
                q,
            )
            .await;
        assert_eq!(a.status, StatusCode::CREATED, "{a:?}");
        ids.push(a.body["id"].as_str().unwrap().parse().unwrap());
    }
    let a = patch(
        api,
        &format!("/api/v1/authoring/assessments/{id}"),
        instructor,
        json!({"is_published": true}),
    )
    .await;
    assert_eq!(a.status, StatusCode::OK, "{a:?}");
    (id, ids)
}

fn assert_no_secrets(what: &str, a: &Answer) {
    let text = a.body.to_string();
    for secret in SECRETS {
        assert!(!text.contains(secret), "{what} leaked {secret:?}: {text}");
    }
    assert!(
        !text.contains("answer_key") && !text.contains("correct_answer\":{"),
        "{what} leaked a key: {text}"
    );
}

#[tokio::test]
async fn instructors_author_every_question_type_with_clear_errors() {
    let server = spawn_demo_server().await;
    let api = Api::new(&server.url);
    let owner = sign_in(&api, "instructor").await;
    let o = owner.access_token.as_str();
    let (quiz, questions) = quiz_with_every_type(&api, o, json!({})).await;

    let view = api
        .get(&format!("/api/v1/authoring/assessments/{quiz}"), Some(o))
        .await;
    assert_eq!(view.status, StatusCode::OK);
    assert_eq!(view.body["assessment"]["question_count"], 6);
    assert_eq!(view.body["assessment"]["points_possible"], 12);
    assert_eq!(
        view.body["questions"][1]["answer_key"],
        json!({"kind": "choices", "ids": ["a", "c"]})
    );
    assert_eq!(view.body["questions"][4]["answer_key"], Value::Null);

    // Keys that do not fit, keys smuggled into options, and a bare publish are refused.
    let path = format!("/api/v1/authoring/assessments/{quiz}/questions");
    let bad = [
        (
            json!({"question_text": "?", "question_type": "multiple_choice",
                   "options": {"choices": [{"id": "a", "text": "x"}, {"id": "b", "text": "y"}]},
                   "answer_key": {"kind": "choices", "ids": ["z"]}}),
            "/answer_key",
        ),
        (
            json!({"question_text": "?", "question_type": "multiple_choice",
                   "options": {"choices": [{"id": "a", "text": "x"}, {"id": "b", "text": "y"}]},
                   "answer_key": {"kind": "choices", "ids": ["a", "b"]}}),
            "/answer_key",
        ),
        (
            json!({"question_text": "?", "question_type": "essay",
                   "answer_key": {"kind": "accepted", "answers": ["x"]}}),
            "/answer_key",
        ),
        (
            json!({"question_text": "?", "question_type": "true_false",
                   "answer_key": {"kind": "accepted", "answers": ["x"]}}),
            "/answer_key",
        ),
        (
            json!({"question_text": "?", "question_type": "multiple_choice",
                   "options": {"choices": [{"id": "a", "text": "x"}]}}),
            "/options",
        ),
        (
            json!({"question_text": "", "question_type": "essay", "points": -1}),
            "/question_text",
        ),
    ];
    for (body, pointer) in bad {
        let a = api.post(&path, Some(o), body.clone()).await;
        assert_eq!(a.status, StatusCode::UNPROCESSABLE_ENTITY, "{body}: {a:?}");
        assert!(a.pointers().contains(&pointer.to_owned()), "{body}: {a:?}");
    }
    let smuggled = api
        .post(
            &path,
            Some(o),
            json!({"question_text": "?", "question_type": "true_false",
                   "options": {"correct": true}}),
        )
        .await;
    assert_eq!(
        smuggled.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{smuggled:?}"
    );

    let empty = api
        .post(
            &format!("/api/v1/authoring/courses/{}/assessments", course_id()),
            Some(o),
            json!({"title": "Empty", "kind": "quiz", "max_attempts": 0, "passing_score": 101}),
        )
        .await;
    assert_eq!(empty.pointers(), ["/max_attempts", "/passing_score"]);
    let empty = api
        .post(
            &format!("/api/v1/authoring/courses/{}/assessments", course_id()),
            Some(o),
            json!({"title": "Empty", "kind": "quiz"}),
        )
        .await;
    assert_eq!(empty.body["assessment"]["max_attempts"], 1);
    let empty_id = empty.body["assessment"]["id"].as_str().unwrap();
    let publish = patch(
        &api,
        &format!("/api/v1/authoring/assessments/{empty_id}"),
        o,
        json!({"is_published": true}),
    )
    .await;
    assert_eq!(
        (publish.status, publish.code().as_str()),
        (StatusCode::CONFLICT, "not_ready_to_publish")
    );

    // Editing keeps type, options and key consistent.
    let edit = patch(
        &api,
        &format!("/api/v1/authoring/questions/{}", questions[0]),
        o,
        json!({"answer_key": {"kind": "choices", "ids": ["b"]}, "points": 3}),
    )
    .await;
    assert_eq!(edit.status, StatusCode::OK, "{edit:?}");
    assert_eq!(edit.body["points"], 3);
    let clash = patch(
        &api,
        &format!("/api/v1/authoring/questions/{}", questions[0]),
        o,
        json!({"question_type": "essay"}),
    )
    .await;
    assert_eq!(clash.status, StatusCode::UNPROCESSABLE_ENTITY, "{clash:?}");

    // Another instructor, a learner and anonymous callers reach none of it.
    let other = sign_in(&api, "instructor2").await;
    let learner = enrolled_learner(&api, "author-peeker").await;
    for token in [
        Some(other.access_token.as_str()),
        Some(learner.access_token.as_str()),
    ] {
        let a = api
            .get(&format!("/api/v1/authoring/assessments/{quiz}"), token)
            .await;
        assert_eq!(a.status, StatusCode::NOT_FOUND, "{a:?}");
        let a = patch(
            &api,
            &format!("/api/v1/authoring/questions/{}", questions[0]),
            token.unwrap(),
            json!({"points": 100}),
        )
        .await;
        assert_eq!(a.status, StatusCode::NOT_FOUND, "{a:?}");
        let a = api
            .call(
                Method::DELETE,
                &format!("/api/v1/authoring/assessments/{quiz}"),
                token,
                None,
            )
            .await;
        assert_eq!(a.status, StatusCode::NOT_FOUND, "{a:?}");
        let a = api
            .get(
                &format!("/api/v1/authoring/assessments/{quiz}/statistics"),
                token,
            )
            .await;
        assert_eq!(a.status, StatusCode::NOT_FOUND, "{a:?}");
    }
    let a = api
        .get(&format!("/api/v1/authoring/assessments/{quiz}"), None)
        .await;
    assert_eq!(a.status, StatusCode::UNAUTHORIZED);

    // An unused draft can be deleted.
    let a = api
        .call(
            Method::DELETE,
            &format!("/api/v1/authoring/assessments/{empty_id}"),
            Some(o),
            None,
        )
        .await;
    assert_eq!(a.status, StatusCode::NO_CONTENT, "{a:?}");
}

#[tokio::test]
async fn a_learner_takes_every_question_type_and_gets_fair_feedback_after_grading() {
    let server = spawn_demo_server().await;
    let api = Api::new(&server.url);
    let owner = sign_in(&api, "instructor").await;
    let o = owner.access_token.as_str();
    // Feedback after every attempt (the review policy itself is tested in security_review).
    let (quiz, q) = quiz_with_every_type(
        &api,
        o,
        json!({"max_attempts": 2, "review_policy": "after_each_attempt"}),
    )
    .await;
    let me = enrolled_learner(&api, "taker").await;
    let t = me.access_token.as_str();

    // The questions, never their keys or explanations.
    let view = api
        .get(&format!("/api/v1/assessments/{quiz}"), Some(t))
        .await;
    assert_eq!(view.status, StatusCode::OK, "{view:?}");
    assert_eq!(view.body["questions"].as_array().unwrap().len(), 6);
    assert_eq!(view.body["attempts_left"], 2);
    assert_no_secrets("the assessment", &view);
    let listed = api
        .get(
            &format!("/api/v1/courses/{}/assessments", course_id()),
            Some(t),
        )
        .await;
    assert!(
        listed.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a["id"] == json!(quiz))
    );

    // Start (a retry with the same id is the same attempt), answer as we go.
    let attempt = Uuid::now_v7();
    let start = api
        .post(
            &format!("/api/v1/assessments/{quiz}/attempts"),
            Some(t),
            json!({"id": attempt}),
        )
        .await;
    assert_eq!(start.status, StatusCode::CREATED, "{start:?}");
    assert_eq!(start.body["attempt_number"], 1);
    assert_eq!(start.body["state"], "in_progress");
    assert_no_secrets("a started attempt", &start);
    let again = api
        .post(
            &format!("/api/v1/assessments/{quiz}/attempts"),
            Some(t),
            json!({"id": attempt}),
        )
        .await;
    assert_eq!(
        (again.status, &again.body["id"]),
        (StatusCode::OK, &json!(attempt))
    );
    let second = api
        .post(
            &format!("/api/v1/assessments/{quiz}/attempts"),
            Some(t),
            json!({"id": Uuid::now_v7()}),
        )
        .await;
    assert_eq!(second.code(), "attempt_in_progress");

    let answer = |question: Uuid, value: Value| {
        let path = format!("/api/v1/attempts/{attempt}/answers/{question}");
        let api = api.clone();
        async move { put(&api, &path, t, json!({"answer": value})).await }
    };
    // Wrong forms and foreign choices are refused, with the reason.
    let a = answer(q[0], json!(true)).await;
    assert_eq!(
        (a.status, a.problem().errors[0].code.as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, "wrong_answer_form")
    );
    let a = answer(q[0], json!(["a", "b"])).await;
    assert_eq!(a.problem().errors[0].code, "one_choice_only");
    let a = answer(q[1], json!(["a", "zzz"])).await;
    assert_eq!(a.problem().errors[0].code, "unknown_choice");
    let a = answer(Uuid::now_v7(), json!("x")).await;
    assert_eq!(a.status, StatusCode::NOT_FOUND);
    // Right answers, a wrong one, and one changed before submission.
    for (question, value) in [
        (q[0], json!(["b"])),
        (q[0], json!(["a"])),           // changed: the last save counts
        (q[1], json!(["a", "c", "d"])), // a wrong extra pick earns nothing
        (q[2], json!(false)),
        (q[3], json!("  ünïcode   ANSWER. ")), // case, spacing, punctuation, unicode
        (
            q[4],
            json!("Pipes connect stdout of one process to stdin of the next."),
        ),
    ] {
        let a = answer(question, value).await;
        assert_eq!(a.status, StatusCode::OK, "{a:?}");
        assert_no_secrets("a saved answer", &a);
    }
    let mid = api
        .get(&format!("/api/v1/attempts/{attempt}"), Some(t))
        .await;
    assert_no_secrets("an attempt in progress", &mid);
    assert_eq!(mid.body["questions"][0]["is_correct"], Value::Null);

    // Submit with the code answer: graded at once where it can be.
    let done = put(
        &api,
        &format!("/api/v1/attempts/{attempt}/submission"),
        t,
        json!({"assessment_id": quiz, "answers": [{"question_id": q[5], "answer": "wc -l file"}]}),
    )
    .await;
    assert_eq!(done.status, StatusCode::OK, "{done:?}");
    let qs = done.body["questions"].as_array().unwrap();
    let graded: Vec<(Value, Value)> = qs
        .iter()
        .map(|x| (x["is_correct"].clone(), x["points_earned"].clone()))
        .collect();
    assert_eq!(
        graded,
        [
            (json!(true), json!(2)),
            (json!(false), json!(0)),
            (json!(true), json!(1)),
            (json!(true), json!(1)),
            (Value::Null, json!(0)),
            (Value::Null, json!(0)),
        ]
    );
    assert_eq!(done.body["state"], "awaiting_grading");
    assert_eq!(done.body["score"], Value::Null);
    // Now the keys and explanations are the learner's.
    assert_eq!(qs[0]["explanation"], "EXPLANATION-mc");
    assert_eq!(
        qs[1]["correct_answer"],
        json!({"kind": "choices", "ids": ["a", "c"]})
    );
    assert_eq!(qs[4]["correct_answer"], Value::Null);
    // Submitting again changes nothing, whatever it sends.
    let replay = put(
        &api,
        &format!("/api/v1/attempts/{attempt}/submission"),
        t,
        json!({"assessment_id": quiz, "answers": [{"question_id": q[1], "answer": ["a", "c"]}]}),
    )
    .await;
    assert_eq!(replay.body, done.body);
    let late = answer(q[1], json!(["a", "c"])).await;
    assert_eq!(late.code(), "attempt_submitted");

    // The instructor's queue holds the essay and the code; another instructor's does not.
    let queue = api.get("/api/v1/authoring/grading-queue", Some(o)).await;
    let pending: Vec<&Value> = queue.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["attempt_id"] == json!(attempt))
        .collect();
    assert_eq!(pending.len(), 2, "{queue:?}");
    assert_eq!(pending[0]["learner_name"], "taker");
    let other = sign_in(&api, "instructor2").await;
    let theirs = api
        .get("/api/v1/authoring/grading-queue", Some(&other.access_token))
        .await;
    assert!(
        theirs.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|i| i["attempt_id"] != json!(attempt))
    );
    let essay_answer = pending[0]["answer_id"].as_str().unwrap().to_owned();
    let code_answer = pending[1]["answer_id"].as_str().unwrap().to_owned();
    let grade = |answer: &str, body: Value, token: &str| {
        let path = format!("/api/v1/authoring/answers/{answer}/grade");
        let (api, token) = (api.clone(), token.to_owned());
        async move { put(&api, &path, &token, body).await }
    };
    // Nobody else grades; points stay within the question's.
    assert_eq!(
        grade(&essay_answer, json!({"points": 4}), &other.access_token)
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        grade(&essay_answer, json!({"points": 4}), t).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        grade(&essay_answer, json!({"points": 5}), o)
            .await
            .pointers(),
        ["/points"]
    );
    let half = grade(
        &essay_answer,
        json!({"points": 3, "feedback": "Mention stderr."}),
        o,
    )
    .await;
    assert_eq!(half.status, StatusCode::OK, "{half:?}");
    assert_eq!(half.body["state"], "awaiting_grading");
    let full = grade(&code_answer, json!({"points": 2}), o).await;
    // 2 + 0 + 1 + 1 + 3 + 2 = 9 of 12 = 75 %, passing 50.
    assert_eq!(
        (
            &full.body["state"],
            &full.body["score"],
            &full.body["passed"]
        ),
        (&json!("graded"), &json!(75), &json!(true)),
        "{full:?}"
    );
    let mine = api
        .get(&format!("/api/v1/attempts/{attempt}"), Some(t))
        .await;
    assert_eq!(mine.body["questions"][4]["feedback"], "Mention stderr.");
    assert_eq!(mine.body["score"], 75);
    let notes = api.get("/api/v1/me/notifications", Some(t)).await;
    assert!(
        notes.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|n| n["entity_id"] == json!(attempt)
                && n["message"].as_str().unwrap().contains("75%")),
        "{notes:?}"
    );

    // Another learner sees and changes nothing of it.
    let peer = enrolled_learner(&api, "peer").await;
    let p = peer.access_token.as_str();
    assert_eq!(
        api.get(&format!("/api/v1/attempts/{attempt}"), Some(p))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        answer_as(&api, p, attempt, q[0]).await.status,
        StatusCode::NOT_FOUND
    );
    let steal = put(
        &api,
        &format!("/api/v1/attempts/{attempt}/submission"),
        p,
        json!({"assessment_id": quiz}),
    )
    .await;
    assert_eq!(steal.code(), "attempt_id_taken", "{steal:?}");
    assert_no_secrets("another learner's view", &steal);

    // The instructor's view of attempts and statistics.
    let attempts = api
        .get(
            &format!("/api/v1/authoring/assessments/{quiz}/attempts"),
            Some(o),
        )
        .await;
    assert_eq!(attempts.body["items"][0]["score"], 75);
    let stats = api
        .get(
            &format!("/api/v1/authoring/assessments/{quiz}/statistics"),
            Some(o),
        )
        .await;
    assert_eq!(stats.status, StatusCode::OK, "{stats:?}");
    assert_eq!(
        (
            stats.body["submitted_attempts"].as_i64(),
            stats.body["passed_attempts"].as_i64()
        ),
        (Some(1), Some(1))
    );
    let second_q = &stats.body["questions"][1];
    assert_eq!(
        (
            second_q["graded"].as_i64(),
            second_q["percent_correct"].as_i64()
        ),
        (Some(1), Some(0))
    );
    assert_eq!(
        second_q["common_wrong_answers"],
        json!([{"answer": ["a", "c", "d"], "count": 1}])
    );
}

async fn answer_as(api: &Api, token: &str, attempt: Uuid, question: Uuid) -> Answer {
    put(
        api,
        &format!("/api/v1/attempts/{attempt}/answers/{question}"),
        token,
        json!({"answer": ["a"]}),
    )
    .await
}

#[tokio::test]
async fn offline_attempts_arrive_once_and_max_attempts_holds_under_concurrency() {
    let server = spawn_demo_server().await;
    let api = Api::new(&server.url);
    let owner = sign_in(&api, "instructor").await;
    let (quiz, q) = quiz_with_every_type(
        &api,
        &owner.access_token,
        json!({"max_attempts": 2, "review_policy": "after_each_attempt"}),
    )
    .await;
    let me = enrolled_learner(&api, "offline").await;
    let t = me.access_token.as_str();

    // Six different attempts taken offline arrive at once: exactly two are accepted.
    let (q0, q2) = (q[0], q[2]);
    let submissions = (0..6).map(|_| {
        let api = api.clone();
        let id = Uuid::now_v7();
        async move {
            let a = put(
                &api,
                &format!("/api/v1/attempts/{id}/submission"),
                t,
                json!({"assessment_id": quiz, "answers": [
                    {"question_id": q0, "answer": ["a"]},
                    {"question_id": q2, "answer": false}]}),
            )
            .await;
            (id, a)
        }
    });
    let results = join_all(submissions).await;
    let accepted: Vec<&(Uuid, Answer)> = results
        .iter()
        .filter(|(_, a)| a.status == StatusCode::OK)
        .collect();
    assert_eq!(accepted.len(), 2, "{results:?}");
    for (_, a) in results.iter().filter(|(_, a)| a.status != StatusCode::OK) {
        assert_eq!(
            (a.status, a.code().as_str()),
            (StatusCode::CONFLICT, "no_attempts_left")
        );
    }
    let mut numbers: Vec<i64> = accepted
        .iter()
        .map(|(_, a)| a.body["attempt_number"].as_i64().unwrap())
        .collect();
    numbers.sort_unstable();
    assert_eq!(numbers, [1, 2]);
    // A retried offline submission is the same attempt, graded once.
    let (id, first) = accepted[0];
    let retry = put(
        &api,
        &format!("/api/v1/attempts/{id}/submission"),
        t,
        json!({"assessment_id": quiz, "answers": []}),
    )
    .await;
    assert_eq!(retry.body, first.body);
    let mine = api
        .get(&format!("/api/v1/assessments/{quiz}/attempts"), Some(t))
        .await;
    assert_eq!(mine.body["items"].as_array().unwrap().len(), 2);
    let view = api
        .get(&format!("/api/v1/assessments/{quiz}"), Some(t))
        .await;
    assert_eq!(
        (
            view.body["attempts_used"].as_i64(),
            view.body["attempts_left"].as_i64()
        ),
        (Some(2), Some(0))
    );
    // Online starts are refused too once attempts are used up.
    let start = api
        .post(
            &format!("/api/v1/assessments/{quiz}/attempts"),
            Some(t),
            json!({"id": Uuid::now_v7()}),
        )
        .await;
    assert_eq!(start.code(), "no_attempts_left");
    // The answers were graded on arrival: 2 + 1 of 12 points.
    assert_eq!(first.body["questions"][0]["points_earned"], 2);
    assert_eq!(first.body["questions"][2]["points_earned"], 1);

    // Concurrent online starts: one attempt, the rest told one is in progress.
    let racer = enrolled_learner(&api, "racer").await;
    let r = racer.access_token.as_str();
    let starts = (0..6).map(|_| {
        let api = api.clone();
        async move {
            api.post(
                &format!("/api/v1/assessments/{quiz}/attempts"),
                Some(r),
                json!({"id": Uuid::now_v7()}),
            )
            .await
        }
    });
    let starts = join_all(starts).await;
    let created = starts
        .iter()
        .filter(|a| a.status == StatusCode::CREATED)
        .count();
    assert_eq!(created, 1, "{starts:?}");
    assert!(
        starts
            .iter()
            .filter(|a| a.status != StatusCode::CREATED)
            .all(|a| a.code() == "attempt_in_progress")
    );
}

#[tokio::test]
async fn the_server_keeps_time_on_timed_attempts() {
    let server = spawn_demo_server().await;
    let api = Api::new(&server.url);
    let owner = sign_in(&api, "instructor").await;
    let (exam, q) = quiz_with_every_type(
        &api,
        &owner.access_token,
        json!({"time_limit_minutes": 10, "max_attempts": 3,
               "review_policy": "after_each_attempt"}),
    )
    .await;
    let me = enrolled_learner(&api, "timed").await;
    let t = me.access_token.as_str();

    // Nobody reads a timed exam before its clock runs, and it cannot start offline.
    let view = api
        .get(&format!("/api/v1/assessments/{exam}"), Some(t))
        .await;
    assert_eq!(view.body["questions"], json!([]));
    assert_eq!(view.body["assessment"]["question_count"], 6);
    let offline = put(
        &api,
        &format!("/api/v1/attempts/{}/submission", Uuid::now_v7()),
        t,
        json!({"assessment_id": exam}),
    )
    .await;
    assert_eq!(offline.code(), "timed_attempt_must_start_online");

    let attempt = Uuid::now_v7();
    let start = api
        .post(
            &format!("/api/v1/assessments/{exam}/attempts"),
            Some(t),
            json!({"id": attempt}),
        )
        .await;
    assert_eq!(start.status, StatusCode::CREATED);
    let deadline: chrono::DateTime<chrono::Utc> =
        serde_json::from_value(start.body["deadline"].clone()).unwrap();
    let started: chrono::DateTime<chrono::Utc> =
        serde_json::from_value(start.body["started_at"].clone()).unwrap();
    assert_eq!((deadline - started).num_seconds(), 10 * 60 + 30);
    let a = put(
        &api,
        &format!("/api/v1/attempts/{attempt}/answers/{}", q[2]),
        t,
        json!({"answer": false}),
    )
    .await;
    assert_eq!(a.status, StatusCode::OK);

    // Eleven minutes pass (the test moves the start back, as only the database's owner can).
    sqlx::query(
        "UPDATE user_assessment_attempts SET started_at = started_at - interval '11 minutes'
         WHERE id = $1",
    )
    .bind(attempt)
    .execute(server.db.owner())
    .await
    .unwrap();
    // A late answer is refused, and the attempt closes with what was saved in time.
    let late = put(
        &api,
        &format!("/api/v1/attempts/{attempt}/answers/{}", q[0]),
        t,
        json!({"answer": ["a"]}),
    )
    .await;
    assert_eq!(
        (late.status, late.code().as_str()),
        (StatusCode::CONFLICT, "time_limit_passed")
    );
    let closed = api
        .get(&format!("/api/v1/attempts/{attempt}"), Some(t))
        .await;
    // Unanswered essays and code earn nothing at once: the score is final, 1 of 12 points.
    assert_eq!(
        (&closed.body["state"], &closed.body["score"]),
        (&json!("graded"), &json!(8)),
        "{closed:?}"
    );
    assert_eq!(closed.body["time_taken_minutes"], 10);
    let points: Vec<i64> = closed.body["questions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["points_earned"].as_i64().unwrap())
        .collect();
    assert_eq!(points, [0, 0, 1, 0, 0, 0]);
    // Even the database refuses an answer after the deadline, whichever route sends it.
    let mut tx = skilltrack_server::db::session::begin(
        server.db.api(),
        skilltrack_server::db::session::Caller::User(me.user.id),
        skilltrack_server::db::session::Access::ReadWrite,
    )
    .await
    .unwrap();
    let err = sqlx::query(
        "UPDATE user_assessment_answers SET answer_text = 'true' WHERE attempt_id = $1",
    )
    .bind(attempt)
    .execute(&mut *tx)
    .await;
    assert!(err.is_err() || err.unwrap().rows_affected() == 0);
    drop(tx);

    // A second attempt submitted after its deadline counts only what was saved in time.
    let second = Uuid::now_v7();
    let start = api
        .post(
            &format!("/api/v1/assessments/{exam}/attempts"),
            Some(t),
            json!({"id": second}),
        )
        .await;
    assert_eq!(start.body["attempt_number"], 2, "{start:?}");
    sqlx::query(
        "UPDATE user_assessment_attempts SET started_at = started_at - interval '2 hours'
         WHERE id = $1",
    )
    .bind(second)
    .execute(server.db.owner())
    .await
    .unwrap();
    let done = put(
        &api,
        &format!("/api/v1/attempts/{second}/submission"),
        t,
        json!({"assessment_id": exam, "answers": [{"question_id": q[2], "answer": false}]}),
    )
    .await;
    assert_eq!(done.status, StatusCode::OK, "{done:?}");
    assert_eq!(
        done.body["questions"][2]["points_earned"], 0,
        "a late answer counted"
    );
    assert_eq!(done.body["questions"][2]["answer"], Value::Null);

    // An attempt nobody comes back to is closed by the server's sweep.
    let third = Uuid::now_v7();
    let start = api
        .post(
            &format!("/api/v1/assessments/{exam}/attempts"),
            Some(t),
            json!({"id": third}),
        )
        .await;
    assert_eq!(start.status, StatusCode::CREATED, "{start:?}");
    sqlx::query(
        "UPDATE user_assessment_attempts SET started_at = started_at - interval '1 hour'
         WHERE id = $1",
    )
    .bind(third)
    .execute(server.db.owner())
    .await
    .unwrap();
    let closed = skilltrack_server::db::assessments::sweep_expired_attempts(server.db.api())
        .await
        .unwrap();
    assert_eq!(closed, 1);
    let attempts = api
        .get(
            &format!("/api/v1/authoring/assessments/{exam}/attempts"),
            Some(&owner.access_token),
        )
        .await;
    let swept = attempts.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["attempt_id"] == json!(third))
        .unwrap();
    assert_eq!(
        (&swept["state"], &swept["score"]),
        (&json!("graded"), &json!(0)),
        "{attempts:?}"
    );
}

#[tokio::test]
async fn a_final_exam_must_be_passed_for_the_course_to_complete() {
    let server = spawn_demo_server().await;
    let api = Api::new(&server.url);
    let me = enrolled_learner(&api, "graduate").await;
    let t = me.access_token.as_str();
    let page = api.get(&format!("/api/v1/courses/{COURSE}"), Some(t)).await;
    let lessons: Vec<String> = page.body["modules"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|m| m["lessons"].as_array().unwrap().iter())
        .map(|l| l["id"].as_str().unwrap().to_owned())
        .collect();
    for lesson in &lessons {
        let a = put(
            &api,
            &format!("/api/v1/lessons/{lesson}/progress"),
            t,
            json!({"completed": true, "progress_percentage": 100}),
        )
        .await;
        assert_eq!(a.status, StatusCode::OK, "{a:?}");
    }
    let enrollment = |api: Api| async move {
        api.get(&format!("/api/v1/courses/{COURSE}"), Some(t))
            .await
            .body["my_enrollment"]
            .clone()
    };
    assert_eq!(
        enrollment(api.clone()).await["status"],
        "active",
        "completed without the exam"
    );

    // Take the final exam, answering with the instructor's keys.
    let exam = assessment_of_kind(&api, t, "final_exam").await;
    let owner = sign_in(&api, "instructor").await;
    let keys = api
        .get(
            &format!("/api/v1/authoring/assessments/{exam}"),
            Some(&owner.access_token),
        )
        .await;
    let attempt = Uuid::now_v7();
    let start = api
        .post(
            &format!("/api/v1/assessments/{exam}/attempts"),
            Some(t),
            json!({"id": attempt}),
        )
        .await;
    assert_eq!(start.status, StatusCode::CREATED, "{start:?}");
    let answers: Vec<Value> = keys.body["questions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|q| {
            let answer = match &q["answer_key"] {
                k if k["kind"] == "choices" => k["ids"].clone(),
                k if k["kind"] == "true_false" => k["value"].clone(),
                k if k["kind"] == "accepted" => k["answers"][0].clone(),
                _ => json!("A careful answer for the instructor to grade."),
            };
            json!({"question_id": q["id"], "answer": answer})
        })
        .collect();
    let done = put(
        &api,
        &format!("/api/v1/attempts/{attempt}/submission"),
        t,
        json!({"assessment_id": exam, "answers": answers}),
    )
    .await;
    assert_eq!(done.status, StatusCode::OK, "{done:?}");
    let needs_hand_grading = done.body["state"] == "awaiting_grading";
    if needs_hand_grading {
        let queue = api
            .get("/api/v1/authoring/grading-queue", Some(&owner.access_token))
            .await;
        for item in queue.body["items"].as_array().unwrap() {
            if item["attempt_id"] == json!(attempt) {
                let a = put(
                    &api,
                    &format!(
                        "/api/v1/authoring/answers/{}/grade",
                        item["answer_id"].as_str().unwrap()
                    ),
                    &owner.access_token,
                    json!({"points": item["points_possible"]}),
                )
                .await;
                assert_eq!(a.status, StatusCode::OK, "{a:?}");
            }
        }
    }
    let final_state = api
        .get(&format!("/api/v1/attempts/{attempt}"), Some(t))
        .await;
    assert_eq!(final_state.body["passed"], true, "{final_state:?}");
    assert_eq!(enrollment(api.clone()).await["status"], "completed");
    let certificates = api.get("/api/v1/me/certificates", Some(t)).await;
    assert_eq!(
        certificates.body["items"].as_array().unwrap().len(),
        1,
        "{certificates:?}"
    );
}

/// The demo quiz's explanations and accepted answers: what a learner must not learn early.
fn demo_secrets(slug: &str) -> Vec<String> {
    let catalog = skilltrack_server::seed::catalog().unwrap();
    let course = catalog.courses.iter().find(|c| c.slug() == slug).unwrap();
    course
        .tree
        .assessments
        .iter()
        .flat_map(|a| &a.questions)
        .filter_map(|q| q.explanation.as_deref())
        .map(|e| e.chars().take(60).collect())
        .collect()
}

#[tokio::test]
async fn no_log_line_gives_an_answer_away() {
    use skilltrack_tests::process::{ServerProcess, data_dir, server_command};
    let dir = data_dir();
    let seeded = server_command(dir.path(), &["seed-demo"]).output().unwrap();
    assert!(seeded.status.success(), "{seeded:?}");
    // The most talkative the server gets: every request, every statement.
    let mut server = ServerProcess::start_with_env(
        dir.path(),
        &[("RUST_LOG", "debug,sqlx=trace,tower_http=trace")],
    );
    let api = Api::new(&server.url);
    let me = enrolled_learner(&api, "logged").await;
    let t = me.access_token.as_str();
    let quiz = assessment_of_kind(&api, t, "quiz").await;
    let view = api
        .get(&format!("/api/v1/assessments/{quiz}"), Some(t))
        .await;
    let first = view.body["questions"][0]["id"].as_str().unwrap().to_owned();
    let attempt = Uuid::now_v7();
    let start = api
        .post(
            &format!("/api/v1/assessments/{quiz}/attempts"),
            Some(t),
            json!({"id": attempt}),
        )
        .await;
    assert_eq!(start.status, StatusCode::CREATED, "{start:?}");
    // A wrong form, then a wrong answer, then the submission that reveals the answers.
    put(
        &api,
        &format!("/api/v1/attempts/{attempt}/answers/{first}"),
        t,
        json!({"answer": 1}),
    )
    .await;
    put(
        &api,
        &format!("/api/v1/attempts/{attempt}/answers/{first}"),
        t,
        json!({"answer": ["z"]}),
    )
    .await;
    let done = put(
        &api,
        &format!("/api/v1/attempts/{attempt}/submission"),
        t,
        json!({"assessment_id": quiz}),
    )
    .await;
    assert_eq!(done.status, StatusCode::OK, "{done:?}");
    let secrets = demo_secrets(COURSE);
    assert!(!secrets.is_empty());
    // The learner has them now, through the API; the log never had them.
    assert!(done.body.to_string().contains(&secrets[0][..20]));
    server.terminate();
    let log: Vec<String> = server.log.try_iter().collect();
    assert!(
        log.len() > 20,
        "the log is too quiet to prove anything: {log:?}"
    );
    for secret in &secrets {
        let leaked: Vec<&String> = log.iter().filter(|l| l.contains(secret.as_str())).collect();
        assert!(leaked.is_empty(), "{secret:?} in the log: {leaked:?}");
    }
}
