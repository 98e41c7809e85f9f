//! Uploads over real HTTP: instructors store media by content; downloads follow the lesson's
//! access rules and resume with `Range`.

use reqwest::{Method, StatusCode};
use serde_json::Value;
use skilltrack_server::http::HttpLimits;
use skilltrack_server::http::auth::AuthLimits;
use skilltrack_server::seed::demo_id;
use skilltrack_tests::api::{Api, session};
use skilltrack_tests::{TestServer, spawn_server, spawn_server_with_limits};

const VIDEO: &[u8] = include_bytes!("../server/seed/media/intro-to-the-terminal.webm");

async fn demo(server: &TestServer) {
    skilltrack_server::seed::load_demo(&server.db.db, server.data_dir.path())
        .await
        .unwrap();
}

async fn upload(
    server: &TestServer,
    token: Option<&str>,
    content_type: &str,
    body: Vec<u8>,
) -> reqwest::Response {
    let mut req = reqwest::Client::new()
        .post(format!(
            "{}/api/v1/uploads?filename=intro.webm&entity_type=course",
            server.url
        ))
        .header("content-type", content_type)
        .body(body);
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    req.send().await.unwrap()
}

async fn get(
    server: &TestServer,
    url: &str,
    token: Option<&str>,
    headers: &[(&str, &str)],
) -> reqwest::Response {
    let mut req = reqwest::Client::new().get(format!("{}{url}", server.url));
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    req.send().await.unwrap()
}

async fn code(r: reqwest::Response) -> (StatusCode, String) {
    let status = r.status();
    let body: Value = r.json().await.unwrap_or(Value::Null);
    (status, body["code"].as_str().unwrap_or_default().to_owned())
}

#[tokio::test]
async fn an_instructor_uploads_a_video_that_enrolled_learners_stream_and_resume() {
    let server = spawn_server().await;
    demo(&server).await;
    let api = Api::new(&server.url);
    let instructor = session(
        &api.sign_in("instructor@skilltrack.dev", "instructor-demo-pass")
            .await,
    );
    let it = instructor.access_token.as_str();

    let r = upload(&server, Some(it), "video/webm", VIDEO.to_vec()).await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let stored: Value = r.json().await.unwrap();
    let url = stored["file_url"].as_str().unwrap().to_owned();
    let sha = stored["sha256"].as_str().unwrap().to_owned();
    assert_eq!(url, format!("/media/uploads/{sha}.webm"));
    assert_eq!(stored["file_size"], VIDEO.len());
    // The same bytes again: a second record, one stored file.
    let again: Value = upload(&server, Some(it), "video/webm", VIDEO.to_vec())
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(again["sha256"], sha.as_str());
    let stored_files =
        std::fs::read_dir(server.data_dir.path().join("media/uploads").join(&sha[..2]))
            .unwrap()
            .count();
    assert_eq!(stored_files, 1);

    // The uploader can fetch it; nobody else, until a lesson uses it.
    assert_eq!(
        get(&server, &url, Some(it), &[]).await.status(),
        StatusCode::OK
    );
    assert_eq!(
        get(&server, &url, None, &[]).await.status(),
        StatusCode::NOT_FOUND
    );
    let learner = session(
        &api.sign_in("learner@skilltrack.dev", "learner-demo-pass")
            .await,
    );
    let lt = learner.access_token.as_str();
    assert_eq!(
        get(&server, &url, Some(lt), &[]).await.status(),
        StatusCode::NOT_FOUND
    );

    // The instructor puts it in a lesson of a course the demo learner is enrolled in.
    let lesson = demo_id("course/python-for-data-analysis/module/0/lesson/1");
    sqlx::query("UPDATE course_lessons SET content_type = 'video', content_url = $2 WHERE id = $1")
        .bind(lesson)
        .bind(&url)
        .execute(server.db.owner())
        .await
        .unwrap();
    let full = get(&server, &url, Some(lt), &[]).await;
    assert_eq!(full.status(), StatusCode::OK);
    assert_eq!(full.headers()["content-type"], "video/webm");
    assert_eq!(full.headers()["etag"], format!("\"{sha}\"").as_str());
    assert!(
        full.headers()["cache-control"]
            .to_str()
            .unwrap()
            .contains("private")
    );
    assert_eq!(full.bytes().await.unwrap().as_ref(), VIDEO);

    // Resuming a download: the second half, byte for byte.
    let half = VIDEO.len() / 2;
    let part = get(
        &server,
        &url,
        Some(lt),
        &[("range", &format!("bytes={half}-"))],
    )
    .await;
    assert_eq!(part.status(), StatusCode::PARTIAL_CONTENT);
    assert_eq!(part.bytes().await.unwrap().as_ref(), &VIDEO[half..]);
    let cached = get(
        &server,
        &url,
        Some(lt),
        &[("if-none-match", &format!("\"{sha}\""))],
    )
    .await;
    assert_eq!(cached.status(), StatusCode::NOT_MODIFIED);
    let beyond = get(
        &server,
        &url,
        Some(lt),
        &[("range", &format!("bytes={}-", VIDEO.len() + 10))],
    )
    .await;
    assert_eq!(beyond.status(), StatusCode::RANGE_NOT_SATISFIABLE);

    // A learner not enrolled in that course still gets nothing.
    let stranger = api
        .sign_up("stranger@example.com", "correct horse battery", "S")
        .await;
    assert_eq!(
        get(&server, &url, Some(&stranger.access_token), &[])
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn uploads_are_refused_with_a_reason() {
    let http = HttpLimits {
        upload_bytes: 64 * 1024,
        ..HttpLimits::default()
    };
    let server = spawn_server_with_limits(AuthLimits::default(), http).await;
    demo(&server).await;
    let api = Api::new(&server.url);
    let instructor = session(
        &api.sign_in("instructor@skilltrack.dev", "instructor-demo-pass")
            .await,
    );
    let it = Some(instructor.access_token.as_str());
    let learner = session(
        &api.sign_in("learner@skilltrack.dev", "learner-demo-pass")
            .await,
    );

    assert_eq!(
        code(upload(&server, None, "video/webm", VIDEO[..100].to_vec()).await)
            .await
            .0,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        code(
            upload(
                &server,
                Some(&learner.access_token),
                "image/png",
                b"\x89PNG\r\n\x1a\n1234".to_vec()
            )
            .await
        )
        .await,
        (StatusCode::FORBIDDEN, "forbidden".to_owned())
    );
    assert_eq!(
        code(
            upload(
                &server,
                it,
                "application/x-msdownload",
                b"MZ\x90\0".to_vec()
            )
            .await
        )
        .await,
        (
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type".to_owned()
        )
    );
    // Captions must be WebVTT: the first word of the file says so.
    assert_eq!(
        code(
            upload(
                &server,
                it,
                "text/vtt",
                b"1\n00:00:00,000 --> 00:00:01,000\nHi\n".to_vec()
            )
            .await
        )
        .await,
        (
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "media_type_mismatch".to_owned()
        )
    );
    let vtt = upload(
        &server,
        it,
        "text/vtt",
        b"WEBVTT\n\n00:00.000 --> 00:01.000\nHi\n".to_vec(),
    )
    .await;
    assert_eq!(vtt.status(), StatusCode::CREATED);
    let vtt: Value = vtt.json().await.unwrap();
    assert_eq!(vtt["mime_type"], "text/vtt");
    assert!(
        std::path::Path::new(vtt["file_url"].as_str().unwrap())
            .extension()
            .is_some_and(|e| e == "vtt"),
        "{vtt}"
    );
    assert_eq!(
        code(upload(&server, it, "video/mp4", b"just some text".to_vec()).await).await,
        (
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "media_type_mismatch".to_owned()
        )
    );
    // Over the limit: by Content-Length at once, and as a stream without one.
    assert_eq!(
        code(upload(&server, it, "video/webm", VIDEO.to_vec()).await)
            .await
            .0,
        StatusCode::PAYLOAD_TOO_LARGE
    );
    let chunks: Vec<Result<Vec<u8>, std::io::Error>> =
        VIDEO.chunks(8192).map(|c| Ok(c.to_vec())).collect();
    let streamed = reqwest::Client::new()
        .post(format!("{}/api/v1/uploads?filename=big.webm", server.url))
        .bearer_auth(&instructor.access_token)
        .header("content-type", "video/webm")
        .body(reqwest::Body::wrap_stream(futures_util::stream::iter(
            chunks,
        )))
        .send()
        .await
        .unwrap();
    assert_eq!(streamed.status(), StatusCode::PAYLOAD_TOO_LARGE);
    let tmp = server.data_dir.path().join("media/uploads/tmp");
    assert_eq!(
        std::fs::read_dir(&tmp).map_or(0, Iterator::count),
        0,
        "no partial file is left behind"
    );

    let bad_name = reqwest::Client::new()
        .post(format!(
            "{}/api/v1/uploads?filename=../../etc/passwd",
            server.url
        ))
        .bearer_auth(&instructor.access_token)
        .header("content-type", "text/plain")
        .body("x")
        .send()
        .await
        .unwrap();
    assert_eq!(bad_name.status(), StatusCode::UNPROCESSABLE_ENTITY);

    for path in [
        "/media/uploads/..%2F..%2F..%2Fetc%2Fpasswd",
        "/media/uploads/abc.webm",
        "/media/uploads/nothing",
    ] {
        assert_eq!(
            get(&server, path, it, &[]).await.status(),
            StatusCode::NOT_FOUND,
            "{path}"
        );
    }
    // The demo media stay public sample content.
    assert_eq!(
        get(&server, "/media/demo/intro-to-the-terminal.webm", None, &[])
            .await
            .status(),
        StatusCode::OK
    );
    assert_eq!(
        api.call(Method::GET, "/media/demo/missing.webm", None, None)
            .await
            .status,
        StatusCode::NOT_FOUND
    );
}
