//! Instructor authoring over real HTTP, on the demo catalog: an instructor builds a course and
//! a lab, previews them as drafts, publishes and unpublishes them; every rule is answered with
//! its code; students cannot author; another instructor can neither read the drafts nor change
//! or delete anything of them (404, as for anything the caller does not manage); admins can.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use skilltrack_server::seed::demo_id;
use skilltrack_tests::api::{Answer, Api};
use skilltrack_tests::spawn_demo_server;

const PASSWORD: &str = "correct horse battery";
const VIDEO: &str = "/media/demo/intro-to-the-terminal.webm";

/// The demo accounts' tokens, and a fresh student's.
struct People {
    instructor: String,
    other: String,
    admin: String,
    student: String,
}

async fn token(api: &Api, email: &str, password: &str) -> String {
    skilltrack_tests::api::session(&api.sign_in(email, password).await).access_token
}

async fn people(api: &Api) -> People {
    People {
        instructor: token(api, "instructor@skilltrack.dev", "instructor-demo-pass").await,
        other: token(api, "instructor2@skilltrack.dev", "instructor2-demo-pass").await,
        admin: token(api, "admin@skilltrack.dev", "admin-demo-pass").await,
        student: api
            .sign_up("student@example.com", PASSWORD, "Sam Student")
            .await
            .access_token,
    }
}

async fn send(api: &Api, method: Method, path: &str, token: &str, body: Option<Value>) -> Answer {
    api.call(method, path, Some(token), body).await
}

async fn post(api: &Api, path: &str, token: &str, body: Value) -> Answer {
    send(api, Method::POST, path, token, Some(body)).await
}

async fn patch(api: &Api, path: &str, token: &str, body: Value) -> Answer {
    send(api, Method::PATCH, path, token, Some(body)).await
}

async fn put(api: &Api, path: &str, token: &str, body: Value) -> Answer {
    send(api, Method::PUT, path, token, Some(body)).await
}

async fn delete(api: &Api, path: &str, token: &str) -> Answer {
    send(api, Method::DELETE, path, token, None).await
}

async fn action(api: &Api, path: &str, token: &str) -> Answer {
    send(api, Method::POST, path, token, None).await
}

fn service() -> String {
    demo_id("service/software-development").to_string()
}

fn course_draft(slug: &str) -> Value {
    json!({
        "slug": slug,
        "service_id": service(),
        "title": format!("Course {slug}"),
        "description": "Everything about the topic, hands on.",
        "duration": "3 weeks",
        "level": "Beginner",
    })
}

fn lab_draft(slug: &str) -> Value {
    json!({
        "slug": slug,
        "title": format!("Lab {slug}"),
        "description": "Practise it in a sandbox.",
        "difficulty": "Intermediate",
        "duration": "45 minutes",
        "provider": "local-sandbox",
        "technology": ["bash"],
    })
}

fn id(a: &Answer) -> String {
    let v = if a.body["course"].is_object() {
        &a.body["course"]["id"]
    } else if a.body["lab"].is_object() {
        &a.body["lab"]["id"]
    } else if a.body["lesson"].is_object() {
        &a.body["lesson"]["id"]
    } else {
        &a.body["id"]
    };
    v.as_str()
        .unwrap_or_else(|| panic!("no id in {a:?}"))
        .to_owned()
}

async fn new_course(api: &Api, token: &str, slug: &str) -> String {
    let a = post(api, "/api/v1/authoring/courses", token, course_draft(slug)).await;
    assert_eq!(a.status, StatusCode::CREATED, "{a:?}");
    id(&a)
}

async fn new_module(api: &Api, token: &str, course: &str, body: Value) -> String {
    let a = post(
        api,
        &format!("/api/v1/authoring/courses/{course}/modules"),
        token,
        body,
    )
    .await;
    assert_eq!(a.status, StatusCode::CREATED, "{a:?}");
    id(&a)
}

async fn new_lesson(api: &Api, token: &str, module: &str, body: Value) -> String {
    let a = post(
        api,
        &format!("/api/v1/authoring/modules/{module}/lessons"),
        token,
        body,
    )
    .await;
    assert_eq!(a.status, StatusCode::CREATED, "{a:?}");
    id(&a)
}

/// A course ready to publish: a published module with a published text lesson and a
/// published video lesson, and a draft module with a draft lesson.
struct Built {
    course: String,
    module: String,
    draft_module: String,
    text: String,
    video: String,
    draft_lesson: String,
}

async fn build_course(api: &Api, token: &str, slug: &str) -> Built {
    let course = new_course(api, token, slug).await;
    let module = new_module(
        api,
        token,
        &course,
        json!({"title": "Getting started", "is_published": true}),
    )
    .await;
    let draft_module = new_module(api, token, &course, json!({"title": "Coming soon"})).await;
    let text = new_lesson(
        api,
        token,
        &module,
        json!({"title": "Read me", "content_type": "text", "is_published": true,
               "content_body": "# Welcome\n\nType `ls`.", "duration_minutes": 5}),
    )
    .await;
    let video = new_lesson(
        api,
        token,
        &module,
        json!({"title": "Watch me", "content_type": "video", "is_published": true,
               "content_url": VIDEO}),
    )
    .await;
    let draft_lesson = new_lesson(
        api,
        token,
        &draft_module,
        json!({"title": "Not yet", "content_type": "text"}),
    )
    .await;
    Built {
        course,
        module,
        draft_module,
        text,
        video,
        draft_lesson,
    }
}

fn slugs(a: &Answer) -> Vec<String> {
    a.body["items"]
        .as_array()
        .unwrap_or_else(|| panic!("no items: {a:?}"))
        .iter()
        .map(|c| c["slug"].as_str().unwrap().to_owned())
        .collect()
}

fn codes(a: &Answer) -> Vec<(String, String)> {
    a.problem()
        .errors
        .into_iter()
        .map(|e| (e.pointer, e.code))
        .collect()
}

#[tokio::test]
async fn an_instructor_builds_previews_publishes_and_unpublishes_a_course() {
    let server = spawn_demo_server().await;
    let api = Api::new(&server.url);
    let p = people(&api).await;

    let created = post(
        &api,
        "/api/v1/authoring/courses",
        &p.instructor,
        json!({
            "slug": "shell-scripting-basics",
            "service_id": service(),
            "title": "  Shell scripting basics  ",
            "description": "Automate the boring parts.",
            "duration": "2 weeks",
            "level": "Beginner",
            "price": "0.00",
            "features": ["10 lessons"],
            "objectives": ["Write a script"],
            "prerequisite_notes": ["A terminal"],
            "max_students": 30,
            "start_date": "2026-01-01T00:00:00Z",
            "end_date": "2099-12-31T00:00:00Z",
            "enrollment_deadline": "2099-06-30T00:00:00Z",
        }),
    )
    .await;
    assert_eq!(created.status, StatusCode::CREATED, "{created:?}");
    let c = &created.body;
    assert_eq!(c["course"]["is_published"], false);
    assert_eq!(c["course"]["title"], "Shell scripting basics", "trimmed");
    assert_eq!(c["course"]["price"], "0.00");
    assert_eq!(c["course"]["rating"], "0.00");
    assert_eq!(c["course"]["student_count"], 0);
    assert_eq!(
        c["course"]["instructor_id"],
        demo_id("account/instructor@skilltrack.dev").to_string()
    );
    assert_eq!(c["instructor"]["full_name"], "Ines Instructor");
    assert_eq!(c["max_students"], 30);
    assert_eq!(c["features"], json!(["10 lessons"]));
    assert_eq!(c["prerequisite_notes"], json!(["A terminal"]));
    let course = id(&created);

    // Modules and lessons: one published module with a text and a video lesson, one draft.
    let module = new_module(
        &api,
        &p.instructor,
        &course,
        json!({"title": "Basics", "description": "Start here", "is_published": true}),
    )
    .await;
    let later = post(
        &api,
        &format!("/api/v1/authoring/courses/{course}/modules"),
        &p.instructor,
        json!({"title": "Later"}),
    )
    .await;
    assert_eq!(later.status, StatusCode::CREATED);
    assert_eq!(
        (
            later.body["sort_order"].as_i64(),
            &later.body["is_published"]
        ),
        (Some(1), &json!(false)),
        "appended after the first, as a draft"
    );
    let text = post(
        &api,
        &format!("/api/v1/authoring/modules/{module}/lessons"),
        &p.instructor,
        json!({"title": "Your first script", "content_type": "text", "is_published": true,
               "content_body": "# Hello\n\n```sh\necho hi\n```", "duration_minutes": 10}),
    )
    .await;
    assert_eq!(text.status, StatusCode::CREATED, "{text:?}");
    assert_eq!(text.body["lesson"]["content_type"], "text");
    assert_eq!(text.body["course_id"], course.as_str());
    assert_eq!(text.body["module_id"], module.as_str());
    let text = id(&text);
    let video = new_lesson(
        &api,
        &p.instructor,
        &module,
        json!({"title": "Watch it run", "content_type": "video", "content_url": VIDEO,
               "is_published": true}),
    )
    .await;
    let outline = patch(
        &api,
        &format!("/api/v1/authoring/modules/{module}"),
        &p.instructor,
        json!({"duration_minutes": 25}),
    )
    .await;
    assert_eq!(outline.status, StatusCode::OK, "{outline:?}");
    assert_eq!(outline.body["duration_minutes"], 25);
    assert_eq!(outline.body["lessons"].as_array().unwrap().len(), 2);

    // Preview: the instructor sees the draft exactly as a learner will, and its lessons.
    let preview = api
        .get(&format!("/api/v1/courses/{course}"), Some(&p.instructor))
        .await;
    assert_eq!(preview.status, StatusCode::OK);
    assert_eq!(preview.body["modules"].as_array().unwrap().len(), 2);
    assert_eq!(
        preview.body["modules"][0]["lessons"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    let lesson = api
        .get(&format!("/api/v1/lessons/{text}"), Some(&p.instructor))
        .await;
    assert_eq!(lesson.status, StatusCode::OK);
    assert!(
        lesson.body["content_body"]
            .as_str()
            .unwrap()
            .contains("echo hi")
    );
    let drafts = api
        .get("/api/v1/courses?include_drafts=true", Some(&p.instructor))
        .await;
    assert!(slugs(&drafts).contains(&"shell-scripting-basics".to_owned()));
    let mine = api
        .get("/api/v1/authoring/courses", Some(&p.instructor))
        .await;
    assert_eq!(slugs(&mine)[0], "shell-scripting-basics", "newest first");

    // Nobody else sees it yet.
    for token in [None, Some(p.student.as_str()), Some(p.other.as_str())] {
        let page = api.get(&format!("/api/v1/courses/{course}"), token).await;
        assert_eq!(page.status, StatusCode::NOT_FOUND, "{token:?}");
        let page = api
            .get("/api/v1/courses/shell-scripting-basics", token)
            .await;
        assert_eq!(page.status, StatusCode::NOT_FOUND, "{token:?}");
        let listed = api.get("/api/v1/courses?include_drafts=true", token).await;
        assert!(!slugs(&listed).contains(&"shell-scripting-basics".to_owned()));
    }
    let early = post(
        &api,
        &format!("/api/v1/courses/{course}/enrollment"),
        &p.student,
        json!({}),
    )
    .await;
    assert_eq!(early.status, StatusCode::NOT_FOUND, "{early:?}");

    // Published: everyone sees it, with its published modules only; a learner enrolls and
    // studies.
    let published = action(
        &api,
        &format!("/api/v1/authoring/courses/{course}/publish"),
        &p.instructor,
    )
    .await;
    assert_eq!(published.status, StatusCode::OK, "{published:?}");
    assert_eq!(published.body["course"]["is_published"], true);
    let again = action(
        &api,
        &format!("/api/v1/authoring/courses/{course}/publish"),
        &p.instructor,
    )
    .await;
    assert_eq!(
        again.status,
        StatusCode::OK,
        "publishing twice changes nothing"
    );
    let public = api
        .get("/api/v1/courses/shell-scripting-basics", None)
        .await;
    assert_eq!(public.status, StatusCode::OK);
    let modules = public.body["modules"].as_array().unwrap();
    assert_eq!(modules.len(), 1, "the draft module stays hidden");
    assert_eq!(modules[0]["title"], "Basics");
    assert!(
        slugs(&api.get("/api/v1/courses?limit=100", None).await)
            .contains(&"shell-scripting-basics".to_owned())
    );
    let enrolled = action(
        &api,
        &format!("/api/v1/courses/{course}/enrollment"),
        &p.student,
    )
    .await;
    assert_eq!(enrolled.status, StatusCode::CREATED, "{enrolled:?}");
    let read = api
        .get(&format!("/api/v1/lessons/{text}"), Some(&p.student))
        .await;
    assert_eq!(read.status, StatusCode::OK, "{read:?}");
    assert!(
        read.body["content_body"]
            .as_str()
            .unwrap()
            .starts_with("# Hello")
    );
    let watch = api
        .get(&format!("/api/v1/lessons/{video}"), Some(&p.student))
        .await;
    assert_eq!(watch.body["content_url"], VIDEO);
    let media = api.get(VIDEO, None).await;
    assert_eq!(media.status, StatusCode::OK, "the video is served");
    let progress = put(
        &api,
        &format!("/api/v1/lessons/{text}/progress"),
        &p.student,
        json!({"progress_percentage": 100}),
    )
    .await;
    assert_eq!(progress.status, StatusCode::OK, "{progress:?}");

    // What learners depend on cannot be deleted; unpublishing is the way.
    let refused = delete(
        &api,
        &format!("/api/v1/authoring/lessons/{text}"),
        &p.instructor,
    )
    .await;
    assert_eq!(refused.status, StatusCode::CONFLICT);
    assert_eq!(refused.code(), "lesson_has_progress");
    let refused = delete(
        &api,
        &format!("/api/v1/authoring/modules/{module}"),
        &p.instructor,
    )
    .await;
    assert_eq!(refused.code(), "module_has_progress");
    let refused = delete(
        &api,
        &format!("/api/v1/authoring/courses/{course}"),
        &p.instructor,
    )
    .await;
    assert_eq!(refused.status, StatusCode::CONFLICT);
    assert_eq!(refused.code(), "course_has_learners");

    // Unpublished: gone for everyone but its instructor (and admins); the learner keeps the
    // enrollment but not the lessons.
    let hidden = action(
        &api,
        &format!("/api/v1/authoring/courses/{course}/unpublish"),
        &p.instructor,
    )
    .await;
    assert_eq!(hidden.status, StatusCode::OK);
    assert_eq!(hidden.body["course"]["is_published"], false);
    assert_eq!(
        api.get(&format!("/api/v1/courses/{course}"), None)
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        api.get(&format!("/api/v1/lessons/{text}"), Some(&p.student))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    assert!(
        !slugs(&api.get("/api/v1/courses?limit=100", None).await)
            .contains(&"shell-scripting-basics".to_owned())
    );
    for token in [&p.instructor, &p.admin] {
        assert_eq!(
            api.get(&format!("/api/v1/courses/{course}"), Some(token))
                .await
                .status,
            StatusCode::OK
        );
    }

    // A course nobody joined can be deleted, with everything under it.
    let scratch = build_course(&api, &p.instructor, "scratch-course").await;
    let gone = delete(
        &api,
        &format!("/api/v1/authoring/courses/{}", scratch.course),
        &p.instructor,
    )
    .await;
    assert_eq!(gone.status, StatusCode::NO_CONTENT, "{gone:?}");
    assert_eq!(
        api.get(
            &format!("/api/v1/lessons/{}", scratch.text),
            Some(&p.instructor)
        )
        .await
        .status,
        StatusCode::NOT_FOUND
    );
    let again = delete(
        &api,
        &format!("/api/v1/authoring/courses/{}", scratch.course),
        &p.instructor,
    )
    .await;
    assert_eq!(again.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn edits_change_only_what_they_name() {
    let server = spawn_demo_server().await;
    let api = Api::new(&server.url);
    let p = people(&api).await;
    let b = build_course(&api, &p.instructor, "edit-me").await;
    let path = format!("/api/v1/authoring/courses/{}", b.course);

    let edited = patch(
        &api,
        &path,
        &p.instructor,
        json!({"title": "Edited", "price": "19.90", "level": "Advanced", "max_students": 5,
               "image_url": "https://example.com/cover.png", "subtitles": ["en", "pt-BR"]}),
    )
    .await;
    assert_eq!(edited.status, StatusCode::OK, "{edited:?}");
    let c = &edited.body;
    assert_eq!(c["course"]["title"], "Edited");
    assert_eq!(c["course"]["price"], "19.90");
    assert_eq!(c["course"]["level"], "Advanced");
    assert_eq!(c["course"]["slug"], "edit-me", "unchanged");
    assert_eq!(
        c["course"]["description"],
        "Everything about the topic, hands on."
    );
    assert_eq!(c["max_students"], 5);
    assert_eq!(c["subtitles"], json!(["en", "pt-BR"]));

    // null (and "" for text) clears an optional field; an empty patch changes nothing.
    let cleared = patch(
        &api,
        &path,
        &p.instructor,
        json!({"max_students": null, "image_url": ""}),
    )
    .await;
    assert_eq!(cleared.status, StatusCode::OK);
    assert_eq!(cleared.body["max_students"], Value::Null);
    assert_eq!(cleared.body["course"]["image_url"], Value::Null);
    assert_eq!(cleared.body["course"]["title"], "Edited");
    let same = patch(&api, &path, &p.instructor, json!({})).await;
    assert_eq!(same.status, StatusCode::OK);
    assert_eq!(same.body["course"]["price"], "19.90");

    // Dates are checked against the ones stored.
    let dated = patch(
        &api,
        &path,
        &p.instructor,
        json!({"start_date": "2030-01-10T00:00:00Z", "end_date": "2030-03-01T00:00:00Z"}),
    )
    .await;
    assert_eq!(dated.status, StatusCode::OK);
    let bad = patch(
        &api,
        &path,
        &p.instructor,
        json!({"end_date": "2030-01-01T00:00:00Z"}),
    )
    .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(codes(&bad), [("/end_date".into(), "before_start".into())]);
    let bad = patch(
        &api,
        &path,
        &p.instructor,
        json!({"enrollment_deadline": "2030-04-01T00:00:00Z"}),
    )
    .await;
    assert_eq!(
        codes(&bad),
        [("/enrollment_deadline".into(), "after_end".into())]
    );
    let cleared = patch(&api, &path, &p.instructor, json!({"end_date": null})).await;
    assert_eq!(cleared.status, StatusCode::OK);
    let fine = patch(
        &api,
        &path,
        &p.instructor,
        json!({"enrollment_deadline": "2030-04-01T00:00:00Z"}),
    )
    .await;
    assert_eq!(
        fine.status,
        StatusCode::OK,
        "no end date any more: {fine:?}"
    );

    // Modules and lessons.
    let module = patch(
        &api,
        &format!("/api/v1/authoring/modules/{}", b.draft_module),
        &p.instructor,
        json!({"title": "Now ready", "description": null, "is_published": true, "sort_order": 7}),
    )
    .await;
    assert_eq!(module.status, StatusCode::OK, "{module:?}");
    assert_eq!(module.body["title"], "Now ready");
    assert_eq!(module.body["sort_order"], 7);
    assert_eq!(module.body["is_published"], true);
    let lesson = patch(
        &api,
        &format!("/api/v1/authoring/lessons/{}", b.draft_lesson),
        &p.instructor,
        json!({"content_body": "Now with words.", "is_published": true}),
    )
    .await;
    assert_eq!(lesson.status, StatusCode::OK, "{lesson:?}");
    assert_eq!(lesson.body["content_body"], "Now with words.");
    assert_eq!(lesson.body["lesson"]["is_published"], true);
    assert_eq!(lesson.body["lesson"]["title"], "Not yet");
    let video = patch(
        &api,
        &format!("/api/v1/authoring/lessons/{}", b.video),
        &p.instructor,
        json!({"content_url": "https://videos.example.com/a.webm", "sort_order": 0}),
    )
    .await;
    assert_eq!(
        video.body["content_url"],
        "https://videos.example.com/a.webm"
    );
    let gone = delete(
        &api,
        &format!("/api/v1/authoring/lessons/{}", b.draft_lesson),
        &p.instructor,
    )
    .await;
    assert_eq!(gone.status, StatusCode::NO_CONTENT);
    let gone = delete(
        &api,
        &format!("/api/v1/authoring/modules/{}", b.draft_module),
        &p.instructor,
    )
    .await;
    assert_eq!(gone.status, StatusCode::NO_CONTENT);
    let page = api
        .get(
            &format!("/api/v1/courses/{}", b.course),
            Some(&p.instructor),
        )
        .await;
    assert_eq!(page.body["modules"].as_array().unwrap().len(), 1);
    assert_eq!(page.body["modules"][0]["id"], b.module.as_str());

    // Prerequisites: a set, replaced as a whole.
    let python = demo_id("course/python-for-data-analysis").to_string();
    let git = demo_id("course/git-and-github-essentials").to_string();
    let prereq = format!("{path}/prerequisites");
    let set = put(
        &api,
        &prereq,
        &p.instructor,
        json!({"course_ids": [python, git, python]}),
    )
    .await;
    assert_eq!(set.status, StatusCode::OK, "{set:?}");
    let required: Vec<&str> = set.body["required_courses"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["slug"].as_str().unwrap())
        .collect();
    assert_eq!(
        required,
        ["git-and-github-essentials", "python-for-data-analysis"]
    );
    let set = put(&api, &prereq, &p.instructor, json!({"course_ids": [git]})).await;
    assert_eq!(set.body["required_courses"].as_array().unwrap().len(), 1);
    let set = put(&api, &prereq, &p.instructor, json!({"course_ids": []})).await;
    assert_eq!(set.body["required_courses"], json!([]));

    // Tags: existing ones by name, new ones created; the catalog filters by them.
    let tagged = put(
        &api,
        &format!("{path}/tags"),
        &p.instructor,
        json!({"names": ["Rust", "webassembly", "rust"]}),
    )
    .await;
    assert_eq!(tagged.status, StatusCode::OK, "{tagged:?}");
    assert_eq!(
        tagged.body["course"]["tags"],
        json!(["rust", "webassembly"])
    );
    let tags = api.get("/api/v1/course-tags", None).await;
    assert!(
        tags.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t["name"] == "webassembly")
    );
    let found = api
        .get(
            "/api/v1/courses?tag=webassembly&include_drafts=true",
            Some(&p.instructor),
        )
        .await;
    assert_eq!(slugs(&found), ["edit-me"]);
    let retagged = put(
        &api,
        &format!("{path}/tags"),
        &p.instructor,
        json!({"names": ["linux"]}),
    )
    .await;
    assert_eq!(retagged.body["course"]["tags"], json!(["linux"]));
    let found = api
        .get(
            "/api/v1/courses?tag=webassembly&include_drafts=true",
            Some(&p.instructor),
        )
        .await;
    assert!(slugs(&found).is_empty());
}

#[tokio::test]
async fn publishing_needs_a_complete_course() {
    let server = spawn_demo_server().await;
    let api = Api::new(&server.url);
    let p = people(&api).await;
    let course = new_course(&api, &p.instructor, "half-done").await;
    let publish = format!("/api/v1/authoring/courses/{course}/publish");

    let a = action(&api, &publish, &p.instructor).await;
    assert_eq!(a.status, StatusCode::CONFLICT);
    assert_eq!(a.code(), "course_incomplete");
    assert_eq!(
        codes(&a),
        [("/modules".into(), "no_published_module".into())]
    );

    let module = new_module(
        &api,
        &p.instructor,
        &course,
        json!({"title": "One", "is_published": true}),
    )
    .await;
    let a = action(&api, &publish, &p.instructor).await;
    assert_eq!(
        codes(&a),
        [("/modules".into(), "no_published_lesson".into())]
    );
    let lesson = new_lesson(
        &api,
        &p.instructor,
        &module,
        json!({"title": "Draft", "content_type": "text"}),
    )
    .await;
    let a = action(&api, &publish, &p.instructor).await;
    assert_eq!(
        codes(&a),
        [("/modules".into(), "no_published_lesson".into())],
        "a draft lesson does not count"
    );

    // A published lesson carries its content.
    let bare = patch(
        &api,
        &format!("/api/v1/authoring/lessons/{lesson}"),
        &p.instructor,
        json!({"is_published": true}),
    )
    .await;
    assert_eq!(bare.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(codes(&bare), [("/content_body".into(), "required".into())]);
    let bare = post(
        &api,
        &format!("/api/v1/authoring/modules/{module}/lessons"),
        &p.instructor,
        json!({"title": "Video", "content_type": "video", "is_published": true}),
    )
    .await;
    assert_eq!(codes(&bare), [("/content_url".into(), "required".into())]);
    let ready = patch(
        &api,
        &format!("/api/v1/authoring/lessons/{lesson}"),
        &p.instructor,
        json!({"is_published": true, "content_body": "Words."}),
    )
    .await;
    assert_eq!(ready.status, StatusCode::OK, "{ready:?}");
    let cleared = patch(
        &api,
        &format!("/api/v1/authoring/lessons/{lesson}"),
        &p.instructor,
        json!({"content_body": null}),
    )
    .await;
    assert_eq!(
        codes(&cleared),
        [("/content_body".into(), "required".into())],
        "a published lesson keeps its content"
    );

    // A required course must be published, and the description written.
    let draft = demo_id("course/linux-incident-response").to_string();
    let set = put(
        &api,
        &format!("/api/v1/authoring/courses/{course}/prerequisites"),
        &p.instructor,
        json!({"course_ids": [draft]}),
    )
    .await;
    assert_eq!(set.status, StatusCode::OK, "its own draft: {set:?}");
    let blank = patch(
        &api,
        &format!("/api/v1/authoring/courses/{course}"),
        &p.instructor,
        json!({"description": "  "}),
    )
    .await;
    assert_eq!(blank.status, StatusCode::OK);
    let a = action(&api, &publish, &p.instructor).await;
    assert_eq!(
        codes(&a),
        [
            ("/description".into(), "required".into()),
            (
                format!("/prerequisites/{draft}"),
                "prerequisite_unpublished".into()
            )
        ]
    );
    assert!(
        a.problem().detail.contains("linux-incident-response"),
        "{a:?}"
    );
    put(
        &api,
        &format!("/api/v1/authoring/courses/{course}/prerequisites"),
        &p.instructor,
        json!({"course_ids": []}),
    )
    .await;
    patch(
        &api,
        &format!("/api/v1/authoring/courses/{course}"),
        &p.instructor,
        json!({"description": "Now described."}),
    )
    .await;
    let a = action(&api, &publish, &p.instructor).await;
    assert_eq!(a.status, StatusCode::OK, "{a:?}");
    assert_eq!(a.body["course"]["is_published"], true);
}

#[tokio::test]
async fn every_rule_is_answered_with_its_code() {
    let server = spawn_demo_server().await;
    let api = Api::new(&server.url);
    let p = people(&api).await;
    let courses = "/api/v1/authoring/courses";

    let a = post(
        &api,
        courses,
        &p.instructor,
        json!({
            "slug": "Not A Slug",
            "service_id": service(),
            "title": " ",
            "description": "x".repeat(10_001),
            "duration": "",
            "level": "Beginner",
            "price": "1.999",
            "language": "not a language",
            "image_url": "ftp://example.com/x.png",
            "preview_video_url": "/etc/passwd",
            "features": [""],
            "objectives": vec!["x"; 51],
            "subtitles": ["??"],
            "max_students": 0,
            "start_date": "2030-02-01T00:00:00Z",
            "end_date": "2030-01-01T00:00:00Z",
            "enrollment_deadline": "2030-03-01T00:00:00Z",
        }),
    )
    .await;
    assert_eq!(a.status, StatusCode::UNPROCESSABLE_ENTITY, "{a:?}");
    assert_eq!(a.code(), "validation_failed");
    assert_eq!(
        a.pointers(),
        [
            "/slug",
            "/title",
            "/description",
            "/duration",
            "/price",
            "/language",
            "/image_url",
            "/preview_video_url",
            "/features/0",
            "/objectives",
            "/subtitles/0",
            "/max_students",
            "/end_date",
            "/enrollment_deadline",
        ]
    );
    let mut draft = course_draft("negative");
    draft["price"] = json!("-5");
    let a = post(&api, courses, &p.instructor, draft).await;
    assert_eq!(codes(&a), [("/price".into(), "negative".into())]);

    // Derived columns and publication are not the author's to send.
    for (key, value) in [
        ("rating", json!("5.00")),
        ("student_count", json!(1000)),
        ("is_published", json!(true)),
        ("instructor_id", json!(service())),
    ] {
        let mut draft = course_draft("sneaky");
        draft[key] = value.clone();
        let a = post(&api, courses, &p.instructor, draft).await;
        assert_eq!(a.status, StatusCode::UNPROCESSABLE_ENTITY, "{key}");
        assert!(a.problem().detail.contains(key), "{a:?}");
    }
    let mut missing = course_draft("missing");
    missing.as_object_mut().unwrap().remove("title");
    let a = post(&api, courses, &p.instructor, missing).await;
    assert_eq!(a.status, StatusCode::UNPROCESSABLE_ENTITY);

    let mut draft = course_draft("nowhere");
    draft["service_id"] = json!(uuid::Uuid::now_v7());
    let a = post(&api, courses, &p.instructor, draft).await;
    assert_eq!(
        codes(&a),
        [("/service_id".into(), "unknown_service".into())]
    );

    let a = post(
        &api,
        courses,
        &p.instructor,
        course_draft("python-for-data-analysis"),
    )
    .await;
    assert_eq!(a.status, StatusCode::CONFLICT);
    assert_eq!(a.code(), "slug_taken");
    assert_eq!(a.pointers(), ["/slug"]);
    let course = new_course(&api, &p.instructor, "rules-course").await;
    let a = patch(
        &api,
        &format!("{courses}/{course}"),
        &p.instructor,
        json!({"slug": "git-and-github-essentials"}),
    )
    .await;
    assert_eq!(a.code(), "slug_taken");
    let a = patch(
        &api,
        &format!("{courses}/{course}"),
        &p.instructor,
        json!({"rating": "4.00"}),
    )
    .await;
    assert_eq!(a.status, StatusCode::UNPROCESSABLE_ENTITY);
    let a = patch(
        &api,
        &format!("{courses}/not-a-uuid"),
        &p.instructor,
        json!({}),
    )
    .await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST);

    // Modules and lessons.
    let a = post(
        &api,
        &format!("{courses}/{course}/modules"),
        &p.instructor,
        json!({"title": "", "duration_minutes": -1, "sort_order": -2}),
    )
    .await;
    assert_eq!(a.pointers(), ["/title", "/duration_minutes", "/sort_order"]);
    let module = new_module(&api, &p.instructor, &course, json!({"title": "M"})).await;
    let lessons = format!("/api/v1/authoring/modules/{module}/lessons");
    let a = post(
        &api,
        &lessons,
        &p.instructor,
        json!({"title": "Pod", "content_type": "podcast"}),
    )
    .await;
    assert_eq!(a.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(a.problem().detail.contains("podcast"), "{a:?}");
    let a = post(
        &api,
        &lessons,
        &p.instructor,
        json!({"title": "x".repeat(201), "content_type": "video",
               "content_url": "javascript:alert(1)", "description": "d".repeat(1001),
               "duration_minutes": -5}),
    )
    .await;
    assert_eq!(
        a.pointers(),
        [
            "/title",
            "/description",
            "/content_url",
            "/duration_minutes"
        ]
    );

    // Prerequisites.
    let prereq = format!("{courses}/{course}/prerequisites");
    let a = put(
        &api,
        &prereq,
        &p.instructor,
        json!({"course_ids": [course]}),
    )
    .await;
    assert_eq!(
        codes(&a),
        [("/course_ids/0".into(), "self_prerequisite".into())]
    );
    let unknown = uuid::Uuid::now_v7().to_string();
    let python = demo_id("course/python-for-data-analysis").to_string();
    let a = put(
        &api,
        &prereq,
        &p.instructor,
        json!({"course_ids": [python, unknown]}),
    )
    .await;
    assert_eq!(a.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        codes(&a),
        [("/course_ids/1".into(), "unknown_course".into())]
    );
    // Another instructor's draft is not visible, so it is unknown.
    let theirs = new_course(&api, &p.other, "their-draft").await;
    let a = put(
        &api,
        &prereq,
        &p.instructor,
        json!({"course_ids": [theirs]}),
    )
    .await;
    assert_eq!(
        codes(&a),
        [("/course_ids/0".into(), "unknown_course".into())]
    );
    let too_many: Vec<String> = (0..21).map(|_| uuid::Uuid::now_v7().to_string()).collect();
    let a = put(
        &api,
        &prereq,
        &p.instructor,
        json!({"course_ids": too_many}),
    )
    .await;
    assert_eq!(codes(&a), [("/course_ids".into(), "too_many".into())]);
    // A cycle, directly or through another course.
    let second = new_course(&api, &p.instructor, "rules-second").await;
    let third = new_course(&api, &p.instructor, "rules-third").await;
    let a = put(
        &api,
        &prereq,
        &p.instructor,
        json!({"course_ids": [second]}),
    )
    .await;
    assert_eq!(a.status, StatusCode::OK);
    let a = put(
        &api,
        &format!("{courses}/{second}/prerequisites"),
        &p.instructor,
        json!({"course_ids": [third]}),
    )
    .await;
    assert_eq!(a.status, StatusCode::OK);
    for (from, to) in [(&second, &course), (&third, &course)] {
        let a = put(
            &api,
            &format!("{courses}/{from}/prerequisites"),
            &p.instructor,
            json!({"course_ids": [to]}),
        )
        .await;
        assert_eq!(a.status, StatusCode::UNPROCESSABLE_ENTITY, "{a:?}");
        assert_eq!(a.code(), "prerequisite_cycle");
    }

    // Tags.
    let a = put(
        &api,
        &format!("{courses}/{course}/tags"),
        &p.instructor,
        json!({"names": ["ok", "not ok", "x".repeat(61), ""]}),
    )
    .await;
    assert_eq!(a.pointers(), ["/names/1", "/names/2", "/names/3"]);

    // Labs.
    let labs = "/api/v1/authoring/labs";
    let mut draft = lab_draft("Bad Slug");
    draft["estimated_cost"] = json!("0.00001");
    draft["max_concurrent_users"] = json!(0);
    draft["resource_requirements"] = json!({"gpu": 8});
    draft["technology"] = json!([""]);
    draft["provider"] = json!("");
    draft["related_courses"] = json!([uuid::Uuid::now_v7()]);
    let a = post(&api, labs, &p.instructor, draft).await;
    assert_eq!(
        a.pointers(),
        [
            "/slug",
            "/provider",
            "/technology/0",
            "/resource_requirements",
            "/max_concurrent_users",
            "/estimated_cost"
        ]
    );
    let mut draft = lab_draft("lab-unknowns");
    draft["related_courses"] = json!([python, unknown]);
    let a = post(&api, labs, &p.instructor, draft).await;
    assert_eq!(
        codes(&a),
        [("/related_courses/1".into(), "unknown_course".into())]
    );
    let mut draft = lab_draft("lab-unknowns");
    draft["category_id"] = json!(unknown);
    let a = post(&api, labs, &p.instructor, draft).await;
    assert_eq!(
        codes(&a),
        [("/category_id".into(), "unknown_category".into())]
    );
    let mut draft = lab_draft("lab-rated");
    draft["rating"] = json!("5.00");
    let a = post(&api, labs, &p.instructor, draft).await;
    assert_eq!(a.status, StatusCode::UNPROCESSABLE_ENTITY);
    let a = post(&api, labs, &p.instructor, lab_draft("terminal-first-steps")).await;
    assert_eq!(a.status, StatusCode::CONFLICT);
    assert_eq!(a.code(), "slug_taken");

    // Lab prerequisites: the same rules as courses'.
    let first = post(&api, labs, &p.instructor, lab_draft("prereq-first")).await;
    let second = post(&api, labs, &p.instructor, lab_draft("prereq-second")).await;
    let (first, second) = (json!(id(&first)), json!(id(&second)));
    let lab_prereq = |lab: &Value| format!("{labs}/{}/prerequisites", lab.as_str().unwrap());
    let a = put(
        &api,
        &lab_prereq(&first),
        &p.instructor,
        json!({"lab_ids": [first]}),
    )
    .await;
    assert_eq!(
        codes(&a),
        [("/lab_ids/0".into(), "self_prerequisite".into())]
    );
    let unknown = uuid::Uuid::now_v7().to_string();
    let a = put(
        &api,
        &lab_prereq(&first),
        &p.instructor,
        json!({"lab_ids": [second, unknown]}),
    )
    .await;
    assert_eq!(codes(&a), [("/lab_ids/1".into(), "unknown_lab".into())]);
    let a = put(
        &api,
        &lab_prereq(&first),
        &p.instructor,
        json!({"lab_ids": [second]}),
    )
    .await;
    assert_eq!(a.status, StatusCode::OK, "{a:?}");
    assert_eq!(a.body["required_labs"][0]["id"], second);
    let a = put(
        &api,
        &lab_prereq(&second),
        &p.instructor,
        json!({"lab_ids": [first]}),
    )
    .await;
    assert_eq!(a.code(), "prerequisite_cycle");
    let a = put(&api, &lab_prereq(&first), &p.other, json!({"lab_ids": []})).await;
    assert_eq!(a.status, StatusCode::NOT_FOUND, "another instructor's lab");
    let a = put(
        &api,
        &lab_prereq(&first),
        &p.instructor,
        json!({"lab_ids": []}),
    )
    .await;
    assert_eq!(a.body["required_labs"], json!([]));

    // Paging parameters.
    for (path, status) in [
        (
            "/api/v1/authoring/courses?limit=0",
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            "/api/v1/authoring/courses?cursor=nope",
            StatusCode::BAD_REQUEST,
        ),
        (
            "/api/v1/authoring/labs?limit=101",
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
    ] {
        assert_eq!(
            api.get(path, Some(&p.instructor)).await.status,
            status,
            "{path}"
        );
    }
}

#[tokio::test]
async fn students_cannot_author() {
    let server = spawn_demo_server().await;
    let api = Api::new(&server.url);
    let p = people(&api).await;
    let a = post(
        &api,
        "/api/v1/authoring/courses",
        &p.student,
        course_draft("by-a-student"),
    )
    .await;
    assert_eq!(a.status, StatusCode::FORBIDDEN, "{a:?}");
    assert_eq!(a.code(), "not_an_instructor");
    let a = post(
        &api,
        "/api/v1/authoring/labs",
        &p.student,
        lab_draft("student-lab"),
    )
    .await;
    assert_eq!(a.status, StatusCode::FORBIDDEN);
    assert_eq!(a.code(), "not_an_instructor");

    // Enrolled in a course is not managing it.
    let course = demo_id("course/intro-to-the-command-line").to_string();
    let enrolled = action(
        &api,
        &format!("/api/v1/courses/{course}/enrollment"),
        &p.student,
    )
    .await;
    assert_eq!(enrolled.status, StatusCode::CREATED, "{enrolled:?}");
    let a = post(
        &api,
        &format!("/api/v1/authoring/courses/{course}/modules"),
        &p.student,
        json!({"title": "Mine now"}),
    )
    .await;
    assert_eq!(a.status, StatusCode::NOT_FOUND);
    let a = patch(
        &api,
        &format!("/api/v1/authoring/courses/{course}"),
        &p.student,
        json!({"title": "Mine now"}),
    )
    .await;
    assert_eq!(a.status, StatusCode::NOT_FOUND);
    let mine = api.get("/api/v1/authoring/courses", Some(&p.student)).await;
    assert_eq!(mine.status, StatusCode::OK);
    assert!(slugs(&mine).is_empty());

    // Signed-out callers are asked to sign in first.
    let a = api
        .call(
            Method::POST,
            "/api/v1/authoring/courses",
            None,
            Some(course_draft("anon")),
        )
        .await;
    assert_eq!(a.status, StatusCode::UNAUTHORIZED);
}

/// Every way another instructor could reach a draft course, module, lesson or lab of the
/// instructor's: reading it, changing it, deleting it, adding to it, publishing it. Each fails
/// with 404, and the instructor's content is untouched.
#[tokio::test]
async fn another_instructor_cannot_read_change_or_delete_anything_of_theirs() {
    let server = spawn_demo_server().await;
    let api = Api::new(&server.url);
    let p = people(&api).await;
    let b = build_course(&api, &p.instructor, "private-course").await;
    let lab = post(
        &api,
        "/api/v1/authoring/labs",
        &p.instructor,
        lab_draft("private-lab"),
    )
    .await;
    assert_eq!(lab.status, StatusCode::CREATED);
    let lab = id(&lab);

    // Reading the drafts.
    for path in [
        format!("/api/v1/courses/{}", b.course),
        "/api/v1/courses/private-course".to_owned(),
        format!("/api/v1/lessons/{}", b.text),
        format!("/api/v1/lessons/{}", b.draft_lesson),
        format!("/api/v1/labs/{lab}"),
        "/api/v1/labs/private-lab".to_owned(),
    ] {
        let a = api.get(&path, Some(&p.other)).await;
        assert_eq!(a.status, StatusCode::NOT_FOUND, "{path}");
    }
    for path in [
        "/api/v1/courses?include_drafts=true&limit=100",
        "/api/v1/authoring/courses",
    ] {
        let listed = api.get(path, Some(&p.other)).await;
        assert!(
            !slugs(&listed).contains(&"private-course".to_owned()),
            "{path}"
        );
    }
    for path in [
        "/api/v1/labs?include_drafts=true&limit=100",
        "/api/v1/authoring/labs",
    ] {
        let listed = api.get(path, Some(&p.other)).await;
        assert!(
            !slugs(&listed).contains(&"private-lab".to_owned()),
            "{path}"
        );
    }

    // Changing, publishing, adding to and deleting them.
    let (course, module, lesson) = (&b.course, &b.module, &b.text);
    let attempts: Vec<(Method, String, Option<Value>)> = vec![
        (
            Method::PATCH,
            format!("/api/v1/authoring/courses/{course}"),
            Some(json!({"title": "Mine"})),
        ),
        (
            Method::POST,
            format!("/api/v1/authoring/courses/{course}/publish"),
            None,
        ),
        (
            Method::POST,
            format!("/api/v1/authoring/courses/{course}/unpublish"),
            None,
        ),
        (
            Method::PUT,
            format!("/api/v1/authoring/courses/{course}/prerequisites"),
            Some(json!({"course_ids": []})),
        ),
        (
            Method::PUT,
            format!("/api/v1/authoring/courses/{course}/tags"),
            Some(json!({"names": ["hijacked"]})),
        ),
        (
            Method::POST,
            format!("/api/v1/authoring/courses/{course}/modules"),
            Some(json!({"title": "Mine"})),
        ),
        (
            Method::PATCH,
            format!("/api/v1/authoring/modules/{module}"),
            Some(json!({"title": "Mine"})),
        ),
        (
            Method::POST,
            format!("/api/v1/authoring/modules/{module}/lessons"),
            Some(json!({"title": "Mine", "content_type": "text"})),
        ),
        (
            Method::PATCH,
            format!("/api/v1/authoring/lessons/{lesson}"),
            Some(json!({"title": "Mine"})),
        ),
        (
            Method::PATCH,
            format!("/api/v1/authoring/labs/{lab}"),
            Some(json!({"title": "Mine"})),
        ),
        (
            Method::POST,
            format!("/api/v1/authoring/labs/{lab}/publish"),
            None,
        ),
        (
            Method::POST,
            format!("/api/v1/authoring/labs/{lab}/unpublish"),
            None,
        ),
        (
            Method::DELETE,
            format!("/api/v1/authoring/lessons/{lesson}"),
            None,
        ),
        (
            Method::DELETE,
            format!("/api/v1/authoring/modules/{module}"),
            None,
        ),
        (
            Method::DELETE,
            format!("/api/v1/authoring/courses/{course}"),
            None,
        ),
        (
            Method::DELETE,
            format!("/api/v1/authoring/labs/{lab}"),
            None,
        ),
    ];
    for (method, path, body) in &attempts {
        let a = send(&api, method.clone(), path, &p.other, body.clone()).await;
        assert_eq!(a.status, StatusCode::NOT_FOUND, "{method} {path}: {a:?}");
        assert_eq!(a.code(), "not_found");
    }

    // Published content is readable by everyone, but still not theirs to change.
    let published = action(
        &api,
        &format!("/api/v1/authoring/courses/{course}/publish"),
        &p.instructor,
    )
    .await;
    assert_eq!(published.status, StatusCode::OK);
    assert_eq!(
        api.get(&format!("/api/v1/courses/{course}"), Some(&p.other))
            .await
            .status,
        StatusCode::OK
    );
    for (method, path, body) in &attempts {
        let a = send(&api, method.clone(), path, &p.other, body.clone()).await;
        assert_eq!(a.status, StatusCode::NOT_FOUND, "{method} {path}: {a:?}");
    }
    let demo = demo_id("course/python-for-data-analysis");
    let a = patch(
        &api,
        &format!("/api/v1/authoring/courses/{demo}"),
        &p.other,
        json!({"title": "Mine"}),
    )
    .await;
    assert_eq!(a.status, StatusCode::NOT_FOUND);

    // Nothing changed.
    let page = api
        .get(&format!("/api/v1/courses/{course}"), Some(&p.instructor))
        .await;
    assert_eq!(page.body["course"]["title"], "Course private-course");
    assert_eq!(page.body["course"]["is_published"], true);
    assert_eq!(page.body["course"]["tags"], json!([]));
    assert_eq!(page.body["modules"].as_array().unwrap().len(), 2);
    assert_eq!(page.body["modules"][0]["title"], "Getting started");
    assert_eq!(
        page.body["modules"][0]["lessons"].as_array().unwrap().len(),
        2
    );
    let lab_page = api
        .get(&format!("/api/v1/labs/{lab}"), Some(&p.instructor))
        .await;
    assert_eq!(lab_page.body["lab"]["title"], "Lab private-lab");
    assert_eq!(lab_page.body["lab"]["is_published"], false);
}

#[tokio::test]
async fn admins_manage_everyones_content() {
    let server = spawn_demo_server().await;
    let api = Api::new(&server.url);
    let p = people(&api).await;
    let b = build_course(&api, &p.instructor, "moderated").await;
    let a = patch(
        &api,
        &format!("/api/v1/authoring/courses/{}", b.course),
        &p.admin,
        json!({"title": "Moderated"}),
    )
    .await;
    assert_eq!(a.status, StatusCode::OK, "{a:?}");
    assert_eq!(
        a.body["course"]["instructor_id"],
        demo_id("account/instructor@skilltrack.dev").to_string(),
        "still the instructor's course"
    );
    let m = new_module(
        &api,
        &p.admin,
        &b.course,
        json!({"title": "Added by admin"}),
    )
    .await;
    new_lesson(
        &api,
        &p.admin,
        &m,
        json!({"title": "Admin lesson", "content_type": "quiz"}),
    )
    .await;
    let a = action(
        &api,
        &format!("/api/v1/authoring/courses/{}/publish", b.course),
        &p.admin,
    )
    .await;
    assert_eq!(a.status, StatusCode::OK);
    let a = delete(
        &api,
        &format!("/api/v1/authoring/lessons/{}", b.video),
        &p.admin,
    )
    .await;
    assert_eq!(a.status, StatusCode::NO_CONTENT);
    // A demo course of the other instructor.
    let demo = demo_id("course/modern-javascript");
    let a = action(
        &api,
        &format!("/api/v1/authoring/courses/{demo}/unpublish"),
        &p.admin,
    )
    .await;
    assert_eq!(a.status, StatusCode::OK);
    assert_eq!(
        api.get(&format!("/api/v1/courses/{demo}"), None)
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    let a = delete(
        &api,
        &format!("/api/v1/authoring/courses/{}", b.course),
        &p.admin,
    )
    .await;
    assert_eq!(a.status, StatusCode::NO_CONTENT);

    // An admin's own course and lab are theirs; the lists show the caller's own only.
    new_course(&api, &p.admin, "admin-course").await;
    let mine = api.get("/api/v1/authoring/courses", Some(&p.admin)).await;
    assert_eq!(slugs(&mine), ["admin-course"]);
    let lab = demo_id("lab/analyze-load-balancer-logs");
    let a = patch(
        &api,
        &format!("/api/v1/authoring/labs/{lab}"),
        &p.admin,
        json!({"is_free": true}),
    )
    .await;
    assert_eq!(a.status, StatusCode::OK, "{a:?}");
    assert_eq!(a.body["lab"]["is_free"], true);
}

#[tokio::test]
async fn labs_are_authored_drafted_and_published_the_same_way() {
    let server = spawn_demo_server().await;
    let api = Api::new(&server.url);
    let p = people(&api).await;
    let python = demo_id("course/python-for-data-analysis").to_string();
    let mut draft = lab_draft("grep-like-a-pro");
    draft["related_courses"] = json!([python, python]);
    draft["resource_requirements"] = json!({"cpu": 0.5, "memory": 1});
    draft["estimated_cost"] = json!("0.0150");
    let created = post(&api, "/api/v1/authoring/labs", &p.instructor, draft).await;
    assert_eq!(created.status, StatusCode::CREATED, "{created:?}");
    let l = &created.body;
    assert_eq!(l["lab"]["is_published"], false);
    assert_eq!(l["lab"]["estimated_cost"], "0.0150");
    assert_eq!(l["lab"]["rating"], "0.00");
    assert_eq!(l["instructor"]["full_name"], "Ines Instructor");
    assert_eq!(l["resource_requirements"], json!({"cpu": 0.5, "memory": 1}));
    assert_eq!(l["max_concurrent_users"], 100);
    assert_eq!(l["related_courses"][0]["slug"], "python-for-data-analysis");
    assert_eq!(l["related_courses"].as_array().unwrap().len(), 1);
    let lab = id(&created);

    // Preview.
    assert_eq!(
        api.get("/api/v1/labs/grep-like-a-pro", Some(&p.instructor))
            .await
            .status,
        StatusCode::OK
    );
    for token in [None, Some(p.student.as_str()), Some(p.other.as_str())] {
        assert_eq!(
            api.get("/api/v1/labs/grep-like-a-pro", token).await.status,
            StatusCode::NOT_FOUND
        );
    }
    let mine = api.get("/api/v1/authoring/labs", Some(&p.instructor)).await;
    assert_eq!(slugs(&mine)[0], "grep-like-a-pro");
    assert!(
        slugs(&mine).contains(&"robust-bash-backup-script".to_owned()),
        "the demo draft is listed too"
    );

    // Publishing needs instructions and a category.
    let publish = format!("/api/v1/authoring/labs/{lab}/publish");
    let a = action(&api, &publish, &p.instructor).await;
    assert_eq!(a.status, StatusCode::CONFLICT);
    assert_eq!(a.code(), "lab_incomplete");
    assert_eq!(
        codes(&a),
        [
            ("/instructions".into(), "required".into()),
            ("/category_id".into(), "required".into())
        ]
    );
    let devops = demo_id("lab-category/devops");
    let edited = patch(
        &api,
        &format!("/api/v1/authoring/labs/{lab}"),
        &p.instructor,
        json!({"instructions": "1. Run `grep -r TODO .`", "category_id": devops,
               "difficulty": "Advanced", "technology": ["grep", "bash"],
               "related_courses": []}),
    )
    .await;
    assert_eq!(edited.status, StatusCode::OK, "{edited:?}");
    assert_eq!(edited.body["lab"]["difficulty"], "Advanced");
    assert_eq!(edited.body["lab"]["technology"], json!(["grep", "bash"]));
    assert_eq!(edited.body["related_courses"], json!([]));
    assert_eq!(
        edited.body["lab"]["title"], "Lab grep-like-a-pro",
        "unchanged"
    );
    let a = action(&api, &publish, &p.instructor).await;
    assert_eq!(a.status, StatusCode::OK, "{a:?}");
    assert_eq!(a.body["lab"]["is_published"], true);
    let public = api.get("/api/v1/labs/grep-like-a-pro", None).await;
    assert_eq!(public.status, StatusCode::OK);
    let category = api.get("/api/v1/labs?category=devops", None).await;
    assert!(slugs(&category).contains(&"grep-like-a-pro".to_owned()));

    // Clearing what a published lab needs is fine (it is checked when publishing); unpublish.
    let a = action(
        &api,
        &format!("/api/v1/authoring/labs/{lab}/unpublish"),
        &p.instructor,
    )
    .await;
    assert_eq!(a.status, StatusCode::OK);
    assert_eq!(a.body["lab"]["is_published"], false);
    assert_eq!(
        api.get("/api/v1/labs/grep-like-a-pro", None).await.status,
        StatusCode::NOT_FOUND
    );
    let a = patch(
        &api,
        &format!("/api/v1/authoring/labs/{lab}"),
        &p.instructor,
        json!({"category_id": null, "instructions": ""}),
    )
    .await;
    assert_eq!(a.body["lab"]["category_id"], Value::Null);
    assert_eq!(a.body["instructions"], Value::Null);

    let gone = delete(
        &api,
        &format!("/api/v1/authoring/labs/{lab}"),
        &p.instructor,
    )
    .await;
    assert_eq!(gone.status, StatusCode::NO_CONTENT);
    assert_eq!(
        api.get(&format!("/api/v1/labs/{lab}"), Some(&p.instructor))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn the_callers_lists_page_newest_first() {
    let server = spawn_demo_server().await;
    let api = Api::new(&server.url);
    let p = people(&api).await;
    for slug in ["page-one", "page-two", "page-three"] {
        new_course(&api, &p.instructor, slug).await;
    }
    let mut seen = Vec::new();
    let mut path = "/api/v1/authoring/courses?limit=2".to_owned();
    loop {
        let page = api.get(&path, Some(&p.instructor)).await;
        assert_eq!(page.status, StatusCode::OK, "{page:?}");
        seen.extend(slugs(&page));
        match page.body["next_cursor"].as_str() {
            Some(c) => path = format!("/api/v1/authoring/courses?limit=2&cursor={c}"),
            None => break,
        }
    }
    assert_eq!(&seen[..3], ["page-three", "page-two", "page-one"]);
    // The demo instructor teaches 7 demo courses, the draft included; the other's are absent.
    assert_eq!(seen.len(), 3 + 7, "{seen:?}");
    assert!(seen.contains(&"linux-incident-response".to_owned()));
    assert!(!seen.contains(&"modern-javascript".to_owned()));
    let mut unique = seen.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), seen.len(), "no repeats");
}

#[tokio::test]
async fn what_learners_paid_for_or_started_is_never_deleted() {
    let server = spawn_demo_server().await;
    let api = Api::new(&server.url);
    let p = people(&api).await;

    // A payment without an enrollment still keeps the course.
    let b = build_course(&api, &p.instructor, "paid-course").await;
    let course = format!("/api/v1/authoring/courses/{}", b.course);
    let priced = patch(&api, &course, &p.instructor, json!({"price": "25.00"})).await;
    assert_eq!(priced.status, StatusCode::OK);
    assert_eq!(
        action(&api, &format!("{course}/publish"), &p.instructor)
            .await
            .status,
        StatusCode::OK
    );
    let paid = action(
        &api,
        &format!("/api/v1/courses/{}/checkout", b.course),
        &p.student,
    )
    .await;
    assert_eq!(paid.status, StatusCode::CREATED, "{paid:?}");
    let refused = delete(&api, &course, &p.instructor).await;
    assert_eq!(refused.status, StatusCode::CONFLICT, "{refused:?}");
    assert_eq!(refused.code(), "course_has_learners");
    assert_eq!(
        api.get(&format!("/api/v1/courses/{}", b.course), None)
            .await
            .status,
        StatusCode::OK,
        "still there"
    );

    // A lab someone started (sessions are the server's to write: here, the owner's SQL).
    let lab = post(
        &api,
        "/api/v1/authoring/labs",
        &p.instructor,
        lab_draft("started-lab"),
    )
    .await;
    let lab = id(&lab);
    let student = api.get("/api/v1/me", Some(&p.student)).await.body["id"]
        .as_str()
        .unwrap()
        .to_owned();
    sqlx::query(
        "INSERT INTO lab_sessions (user_id, lab_id, session_id)
         VALUES ($1::uuid, $2::uuid, 'test-session')",
    )
    .bind(&student)
    .bind(&lab)
    .execute(server.db.owner())
    .await
    .unwrap();
    let refused = delete(
        &api,
        &format!("/api/v1/authoring/labs/{lab}"),
        &p.instructor,
    )
    .await;
    assert_eq!(refused.status, StatusCode::CONFLICT);
    assert_eq!(refused.code(), "lab_has_learners");
    let hidden = action(
        &api,
        &format!("/api/v1/authoring/labs/{lab}/unpublish"),
        &p.instructor,
    )
    .await;
    assert_eq!(hidden.status, StatusCode::OK, "unpublishing is the way");
}

#[tokio::test]
async fn issue15_a_video_lesson_carries_a_poster_and_captions_in_any_language() {
    let server = spawn_demo_server().await;
    let api = Api::new(&server.url);
    let p = people(&api).await;
    let built = build_course(&api, &p.instructor, "captioned").await;
    let lesson = format!("/api/v1/authoring/lessons/{}", built.video);

    // Sent in any order, kept in the order of their languages.
    let a = patch(
        &api,
        &lesson,
        &p.instructor,
        json!({"poster_url": "/media/uploads/poster.png", "captions": [
            {"language": "fr", "url": "/media/uploads/fr.vtt"},
            {"language": "en", "url": "https://cdn.example/en.vtt"},
        ]}),
    )
    .await;
    assert_eq!(a.status, StatusCode::OK, "{a:?}");
    assert_eq!(a.body["poster_url"], "/media/uploads/poster.png");
    assert_eq!(
        a.body["captions"],
        json!([
            {"language": "en", "url": "https://cdn.example/en.vtt"},
            {"language": "fr", "url": "/media/uploads/fr.vtt"},
        ])
    );
    let read = api
        .get(
            &format!("/api/v1/lessons/{}", built.video),
            Some(&p.instructor),
        )
        .await;
    assert_eq!(read.body["captions"], a.body["captions"], "{read:?}");

    // Each broken track is named by its pointer.
    let bad = patch(
        &api,
        &lesson,
        &p.instructor,
        json!({"poster_url": "/labs/shell", "captions": [
            {"language": "english", "url": "/media/uploads/a.vtt"},
            {"language": "de", "url": "file:///etc/passwd"},
            {"language": "DE", "url": "/media/uploads/b.vtt"},
        ]}),
    )
    .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY, "{bad:?}");
    let mut got = codes(&bad);
    got.sort();
    assert_eq!(
        got,
        [
            (
                "/captions/0/language".to_owned(),
                "invalid_language".to_owned()
            ),
            ("/captions/1/url".to_owned(), "invalid_url".to_owned()),
            ("/captions/2/language".to_owned(), "duplicate".to_owned()),
            ("/poster_url".to_owned(), "invalid_url".to_owned()),
        ]
    );
    let many: Vec<Value> = (0..21)
        .map(|i| json!({"language": format!("x-{i:02}"), "url": format!("/media/uploads/{i}.vtt")}))
        .collect();
    let too_many = patch(&api, &lesson, &p.instructor, json!({"captions": many})).await;
    assert!(
        codes(&too_many).contains(&("/captions".to_owned(), "too_many".to_owned())),
        "{too_many:?}"
    );
    let unknown = patch(
        &api,
        &lesson,
        &p.instructor,
        json!({"captions": [{"language": "en", "url": "/media/uploads/a.vtt", "kind": "subtitles"}]}),
    )
    .await;
    assert_eq!(
        unknown.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{unknown:?}"
    );

    // Another instructor cannot change them; `[]` and `null` clear them.
    let theirs = patch(&api, &lesson, &p.other, json!({"captions": []})).await;
    assert_eq!(theirs.status, StatusCode::NOT_FOUND, "{theirs:?}");
    let cleared = patch(
        &api,
        &lesson,
        &p.instructor,
        json!({"poster_url": null, "captions": []}),
    )
    .await;
    assert_eq!(
        (&cleared.body["poster_url"], &cleared.body["captions"]),
        (&Value::Null, &json!([])),
        "{cleared:?}"
    );
}

/// Issue 18, found by Schemathesis: an array was read as a patch of its fields in order
/// (`[null, null]` changed nothing and answered 200), and a whole number written `2.0` was
/// refused for an integer field although JSON Schema calls it an integer.
#[tokio::test]
async fn bodies_are_objects_and_whole_numbers_are_integers_however_written() {
    let server = spawn_demo_server().await;
    let api = Api::new(&server.url);
    let p = people(&api).await;
    let built = build_course(&api, &p.instructor, "shapes").await;
    let module = format!("/api/v1/authoring/modules/{}", built.module);
    let array = patch(&api, &module, &p.instructor, json!([null, null])).await;
    assert_eq!(array.status, StatusCode::UNPROCESSABLE_ENTITY, "{array:?}");
    assert!(array.problem().detail.contains("JSON object"), "{array:?}");
    let whole = patch(&api, &module, &p.instructor, json!({"sort_order": 2.0})).await;
    assert_eq!(whole.status, StatusCode::OK, "{whole:?}");
    assert_eq!(whole.body["sort_order"], 2, "{whole:?}");
    let fraction = patch(&api, &module, &p.instructor, json!({"sort_order": 2.5})).await;
    assert_eq!(
        fraction.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{fraction:?}"
    );
}
