//! Issue 14: the learner's credentials go only to the signed-in server, and only safely.
//!
//! * Finding 2: the client engine (and so the CLI and the desktop's download button) sends the
//!   bearer token only to the signed-in server's origin — scheme, host and port — and fetches
//!   media anywhere else with no credentials, redirects included.
//! * Finding 12: a plain `http://` server is refused unless it is on this computer (loopback),
//!   before any request: a password sent over it would cross the network in clear.
//!
//! Real server, real HTTP; the "other hosts" are listeners of the test's own on loopback
//! addresses (`127.0.0.2` is another host to the client and still never leaves this machine).

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use reqwest::StatusCode;
use serde_json::Value;
use skilltrack_client::api::ApiError;
use skilltrack_client::sync::{SyncEngine, SyncError};
use skilltrack_client::tokens::StoreKind;
use skilltrack_protocol::auth::Session;
use skilltrack_tests::api::{Api, session};
use skilltrack_tests::recorder::Recorder;
use skilltrack_tests::{spawn_demo_server, spawn_server};

/// Media bytes; the recorders serve them as a lesson's video.
const CLIP: &[u8] = b"\x1a\x45\xdf\xa3 not really a video, but bytes to compare";
const VIDEO: &[u8] = include_bytes!("../server/seed/media/intro-to-the-terminal.webm");
const PASSWORD: &str = "correct horse battery";

async fn device(url: &str, dir: &std::path::Path, session: &Session) -> Arc<SyncEngine> {
    let engine =
        skilltrack_client::device::open(url, dir, &StoreKind::File).expect("opening the device");
    engine.adopt(session.clone()).await.unwrap();
    Arc::new(engine)
}

fn no_credentials(origin: &Recorder, what: &str) {
    let seen = origin.seen();
    assert!(!seen.is_empty(), "{what}: the request never arrived");
    for s in &seen {
        assert_eq!(
            (s.authorization.as_deref(), s.cookie.as_deref()),
            (None, None),
            "{what}: credentials reached {} at {}",
            origin.url,
            s.path
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn issue14_media_on_another_origin_is_fetched_without_credentials() {
    let server = spawn_server().await;
    let api = Api::new(&server.url);
    let me = api.sign_up("far-media@example.com", PASSWORD, "Far").await;
    // Another port of the same host is another origin; so is another host.
    let same_host = Recorder::start("127.0.0.1", CLIP).await;
    let other_host = Recorder::start("127.0.0.2", CLIP).await;
    let dir = tempfile::tempdir().unwrap();
    let engine = device(&server.url, dir.path(), &me).await;
    let media = dir.path().join("media");
    for origin in [&same_host, &other_host] {
        let url = format!("{}/media/x.webm", origin.url);
        let record = engine.download(&url, None, &media, |_| {}).await.unwrap();
        assert_eq!(std::fs::read(&record.path).unwrap(), CLIP, "{url}");
        no_credentials(origin, &format!("the engine downloading {url}"));
    }

    // The CLI, as the issue reproduced it: `skilltrack download http://other-host/x.webm`.
    let cli_dir = tempfile::tempdir().unwrap();
    let cli = |args: &[&str]| {
        let out = std::process::Command::new(skilltrack_tests::process::client_binary())
            .args(["--server", &server.url, "--token-store", "file", "--json"])
            .arg("--data-dir")
            .arg(cli_dir.path())
            .args(args)
            .env("SKILLTRACK_PASSWORD", PASSWORD)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    cli(&["sign-in", "--email", "far-media@example.com"]);
    let elsewhere = Recorder::start("127.0.0.2", CLIP).await;
    cli(&["download", &format!("{}/x.webm", elsewhere.url)]);
    no_credentials(&elsewhere, "`skilltrack download` from another host");
}

#[tokio::test]
async fn issue14_a_redirect_to_another_origin_drops_the_credentials() {
    // The real server never redirects: a listener of the test stands for the signed-in
    // server's origin (the token is the real server's, so it looks like one).
    let server = spawn_server().await;
    let me = Api::new(&server.url)
        .sign_up("redirected@example.com", PASSWORD, "Red")
        .await;
    let ours = Recorder::start("127.0.0.1", CLIP).await;
    let theirs = Recorder::start("127.0.0.2", CLIP).await;
    // One hop inside our origin (credentials stay), then out of it (they must not follow).
    ours.redirect("/media/renamed.webm", "/media/moved.webm");
    ours.redirect(
        "/media/moved.webm",
        &format!("{}/cdn/clip.webm", theirs.url),
    );
    let dir = tempfile::tempdir().unwrap();
    let engine = device(&ours.url, dir.path(), &me).await;
    let record = engine
        .download(
            "/media/renamed.webm",
            None,
            &dir.path().join("media"),
            |_| {},
        )
        .await
        .unwrap();
    assert_eq!(std::fs::read(&record.path).unwrap(), CLIP);
    let bearer = format!("Bearer {}", me.access_token);
    let at_ours: Vec<_> = ours
        .seen()
        .into_iter()
        .map(|s| (s.path, s.authorization))
        .collect();
    assert_eq!(
        at_ours,
        [
            ("/media/renamed.webm".to_owned(), Some(bearer.clone())),
            ("/media/moved.webm".to_owned(), Some(bearer)),
        ],
        "the signed-in server's own origin gets the token on every hop"
    );
    no_credentials(&theirs, "the redirect from our server to another origin");
}

#[tokio::test]
async fn issue14_a_redirect_from_https_to_http_on_the_same_port_drops_the_credentials() {
    // reqwest's own redirect policy keeps `Authorization` when only the scheme changes: the
    // token would cross the network in clear. The front answers TLS and plain HTTP on one port.
    let server = spawn_server().await;
    let me = Api::new(&server.url)
        .sign_up("downgraded@example.com", PASSWORD, "Down")
        .await;
    let ours = Recorder::start("127.0.0.1", CLIP).await;
    let front = skilltrack_tests::tls::TlsFront::start_answering_plain_http_too(&ours.url).await;
    let plain = front.url.replace("https://", "http://");
    ours.redirect(
        "/media/secure.webm",
        &format!("{plain}/media/in-clear.webm"),
    );
    let dir = tempfile::tempdir().unwrap();
    let trust =
        skilltrack_client::tls::Trust::with_extra(std::slice::from_ref(&front.ca_der)).unwrap();
    let engine = skilltrack_client::device::open_with_trust(
        &front.url,
        dir.path(),
        &StoreKind::File,
        &trust,
    )
    .unwrap();
    engine.adopt(me.clone()).await.unwrap();
    let record = engine
        .download(
            "/media/secure.webm",
            None,
            &dir.path().join("media"),
            |_| {},
        )
        .await
        .unwrap();
    assert_eq!(std::fs::read(&record.path).unwrap(), CLIP);
    let seen: Vec<_> = ours
        .seen()
        .into_iter()
        .map(|s| (s.path, s.authorization.is_some()))
        .collect();
    assert_eq!(
        seen,
        [
            ("/media/secure.webm".to_owned(), true),
            ("/media/in-clear.webm".to_owned(), false),
        ],
        "the token goes over https:// only: [(path, carried the token)]"
    );
}

#[tokio::test]
async fn issue14_the_servers_own_media_still_gets_the_token() {
    // An upload is readable by its uploader only until a published lesson uses it: the
    // download works only if the token goes with it.
    let server = spawn_demo_server().await;
    let api = Api::new(&server.url);
    let instructor = session(
        &api.sign_in("instructor@skilltrack.dev", "instructor-demo-pass")
            .await,
    );
    let stored: Value = reqwest::Client::new()
        .post(format!(
            "{}/api/v1/uploads?filename=draft.webm&entity_type=course",
            server.url
        ))
        .bearer_auth(&instructor.access_token)
        .header("content-type", "video/webm")
        .body(VIDEO.to_vec())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let path = stored["file_url"].as_str().unwrap().to_owned();
    let anonymous = reqwest::get(format!("{}{path}", server.url)).await.unwrap();
    assert_eq!(
        anonymous.status(),
        StatusCode::NOT_FOUND,
        "it needs the token"
    );

    let dir = tempfile::tempdir().unwrap();
    let engine = device(&server.url, dir.path(), &instructor).await;
    // By path, and by its absolute address on the same origin.
    for url in [path.clone(), format!("{}{path}", server.url)] {
        let record = engine
            .download(&url, None, &dir.path().join("media"), |_| {})
            .await
            .unwrap_or_else(|e| panic!("{url}: {e}"));
        assert_eq!(std::fs::read(&record.path).unwrap(), VIDEO, "{url}");
    }
}

/// A listener on 127.0.0.1 that counts the connections made to it.
async fn counting_listener() -> (u16, Arc<AtomicUsize>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let count = Arc::new(AtomicUsize::new(0));
    let counted = Arc::clone(&count);
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            counted.fetch_add(1, Ordering::SeqCst);
            drop(stream);
        }
    });
    (port, count)
}

#[tokio::test]
async fn issue14_a_remote_plain_http_server_is_refused_before_any_request() {
    // `0.0.0.0` is not a loopback address, yet Linux delivers a connection to it on this
    // machine: so the listener sees whatever a client would have sent to a remote http://
    // server, without a byte leaving the machine.
    let (port, connections) = counting_listener().await;
    for url in [
        format!("http://0.0.0.0:{port}"),
        "http://example.test:8787".to_owned(),
        "http://10.0.0.8:8787".to_owned(),
        "http://skilltrack.example.com".to_owned(),
        "http://[fe80::1]:8787".to_owned(),
    ] {
        let dir = tempfile::tempdir().unwrap();
        match skilltrack_client::device::open(&url, dir.path(), &StoreKind::File) {
            // Only the address that stays on this machine is tried for real.
            Ok(engine) if url.starts_with("http://0.0.0.0") => {
                let signed_in = engine.sign_in("learner@skilltrack.dev", PASSWORD).await;
                panic!(
                    "{url} was accepted: signing in sent the password in clear \
                     ({} connection(s) reached the listener; {signed_in:?})",
                    connections.load(Ordering::SeqCst)
                );
            }
            Ok(_) => panic!("{url} was accepted"),
            Err(refused) => {
                assert!(
                    matches!(refused, SyncError::Api(ApiError::InsecureServer(_))),
                    "{url}: {refused:?}"
                );
                let words = refused.explain();
                assert!(
                    words.contains("https://") && words.contains("127.0.0.1"),
                    "{url}: the refusal says what to do instead: {words}"
                );
            }
        }
    }
    // The CLI says so too, and sends nothing.
    let dir = tempfile::tempdir().unwrap();
    let out = std::process::Command::new(skilltrack_tests::process::client_binary())
        .args(["--server", &format!("http://0.0.0.0:{port}")])
        .args(["--token-store", "file", "--data-dir"])
        .arg(dir.path())
        .args(["sign-in", "--email", "learner@skilltrack.dev"])
        .env("SKILLTRACK_PASSWORD", PASSWORD)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success() && stderr.contains("https://"),
        "the CLI refuses a remote http:// server, saying why: {stderr}"
    );
    assert_eq!(
        connections.load(Ordering::SeqCst),
        0,
        "nothing was sent to the refused server"
    );
}

#[tokio::test]
async fn issue14_plain_http_on_this_computer_still_works() {
    let server = spawn_server().await;
    Api::new(&server.url)
        .sign_up("local@example.com", PASSWORD, "Local")
        .await;
    let port = server.url.rsplit(':').next().unwrap().to_owned();
    // The server listens on 127.0.0.1; `localhost` names it too.
    for url in [server.url.clone(), format!("http://localhost:{port}")] {
        let dir = tempfile::tempdir().unwrap();
        let engine = skilltrack_client::device::open(&url, dir.path(), &StoreKind::File)
            .unwrap_or_else(|e| panic!("{url}: {e}"));
        engine
            .sign_in("local@example.com", PASSWORD)
            .await
            .unwrap_or_else(|e| panic!("{url}: {e}"));
        engine
            .sync_once()
            .await
            .unwrap_or_else(|e| panic!("{url}: {e}"));
    }
    // Every loopback address, and any https:// server, is accepted (no request is made here).
    for url in [
        "http://127.0.0.2:8787",
        "http://[::1]:8787",
        "http://LOCALHOST:8787",
        "https://skilltrack.example.com",
        "https://10.0.0.8:8443",
    ] {
        let dir = tempfile::tempdir().unwrap();
        assert!(
            skilltrack_client::device::open(url, dir.path(), &StoreKind::File).is_ok(),
            "{url}"
        );
    }
}
