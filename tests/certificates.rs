//! Issue 21: certificates as signed Open Badges 3.0 credentials (VC-JWT, `EdDSA`), verified
//! offline from the issuer's cached keys and revocation list, by our library, our CLI, and an
//! independent one (`PyJWT`); revocation by admins; key rotation.

use std::path::{Path, PathBuf};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{Duration, Utc};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use skilltrack_client::api::ApiClient;
use skilltrack_client::certificates::{load_trust, refresh_trust};
use skilltrack_credentials::{CredentialVerdict, TrustedIssuer, verify};
use skilltrack_server::seed::demo_id;
use skilltrack_tests::api::Api;
use skilltrack_tests::{TestServer, spawn_demo_server, spawn_sibling_server};
use uuid::Uuid;

const PASSWORD: &str = "correct horse battery";
const COURSE: &str = "docker-fundamentals";

/// A learner who signed up as `name` and completed the demo Docker course: their token and
/// the certificate's id.
async fn finish_course(api: &Api, email: &str, name: &str) -> (String, Uuid) {
    let me = api.sign_up(email, PASSWORD, name).await;
    let t = me.access_token.clone();
    let course = demo_id(&format!("course/{COURSE}"));
    let enrolled = api
        .call(
            Method::POST,
            &format!("/api/v1/courses/{course}/enrollment"),
            Some(&t),
            None,
        )
        .await;
    assert_eq!(enrolled.status, StatusCode::CREATED, "{enrolled:?}");
    let page = api
        .get(&format!("/api/v1/courses/{COURSE}"), Some(&t))
        .await;
    let lessons: Vec<String> = page.body["modules"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|m| m["lessons"].as_array().unwrap().clone())
        .map(|l| l["id"].as_str().unwrap().to_owned())
        .collect();
    let mut last = None;
    for lesson in &lessons {
        let a = api
            .call(
                Method::PUT,
                &format!("/api/v1/lessons/{lesson}/progress"),
                Some(&t),
                Some(json!({"completed": true})),
            )
            .await;
        assert_eq!(a.status, StatusCode::OK, "{a:?}");
        last = Some(a);
    }
    let id = last.unwrap().body["certificate"]["id"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    (t, id)
}

async fn credential(api: &Api, token: &str, id: Uuid) -> Value {
    let a = api
        .get(
            &format!("/api/v1/me/certificates/{id}/credential"),
            Some(token),
        )
        .await;
    assert_eq!(a.status, StatusCode::OK, "{a:?}");
    a.body
}

/// The issuer's keys and lists as a verifier caches them (the client library's own fetch).
async fn fetch_trust(server_url: &str, dir: &Path) -> TrustedIssuer {
    let api = ApiClient::new(server_url).unwrap();
    refresh_trust(&api, dir).await.unwrap()
}

fn parts(jwt: &str) -> (Value, Value, String) {
    let mut it = jwt.split('.');
    let header =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(it.next().unwrap()).unwrap()).unwrap();
    let payload =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(it.next().unwrap()).unwrap()).unwrap();
    (header, payload, it.next().unwrap().to_owned())
}

/// `jwt` with its payload changed by `edit`, the original signature kept.
fn tampered(jwt: &str, edit: impl FnOnce(&mut Value)) -> String {
    let (header, mut payload, signature) = parts(jwt);
    edit(&mut payload);
    format!(
        "{}.{}.{signature}",
        URL_SAFE_NO_PAD.encode(serde_json::to_vec(&header).unwrap()),
        URL_SAFE_NO_PAD.encode(serde_json::to_vec(&payload).unwrap())
    )
}

fn check(jwt: &str, trust: &TrustedIssuer) -> CredentialVerdict {
    verify(jwt, trust, Utc::now(), Duration::days(7)).verdict
}

async fn admin_token(api: &Api) -> String {
    skilltrack_tests::api::session(&api.sign_in("admin@skilltrack.dev", "admin-demo-pass").await)
        .access_token
}

#[tokio::test]
async fn issue21_completing_a_course_issues_an_open_badge_that_verifies_offline() {
    let server = spawn_demo_server().await;
    let api = Api::new(&server.url);
    let (t, id) = finish_course(&api, "badge@example.com", "Ada Badge").await;

    // Signed when the course was completed, before anyone asked for it.
    let stored: Option<String> =
        sqlx::query_scalar("SELECT credential FROM certificates WHERE id = $1")
            .bind(id)
            .fetch_one(server.db.owner())
            .await
            .unwrap();
    assert!(
        stored.is_some(),
        "the completing write signed the credential"
    );

    let body = credential(&api, &t, id).await;
    let jwt = body["credential"].as_str().unwrap();
    let (header, payload, _) = parts(jwt);
    let kid = server.certificates.keys().current().kid().to_owned();
    assert_eq!(
        header,
        json!({"alg": "EdDSA", "typ": "JWT", "kid": kid}),
        "{header}"
    );
    let vc = &payload["vc"];
    assert_eq!(
        vc["type"],
        json!(["VerifiableCredential", "OpenBadgeCredential"])
    );
    assert_eq!(
        vc["@context"][1],
        "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"
    );
    assert_eq!(payload["iss"], vc["issuer"]["id"]);
    assert_eq!(payload["jti"], vc["id"]);
    assert_eq!(vc["issuer"]["type"], json!(["Profile"]));
    assert_eq!(vc["credentialSubject"]["name"], "Ada Badge");
    let achievement = &vc["credentialSubject"]["achievement"];
    assert_eq!(achievement["type"], json!(["Achievement"]));
    assert_eq!(achievement["name"], "Docker Fundamentals");
    assert!(
        achievement["criteria"]["narrative"]
            .as_str()
            .unwrap()
            .contains("Docker Fundamentals"),
        "{achievement}"
    );
    assert_eq!(
        vc["credentialStatus"]["type"], "BitstringStatusListEntry",
        "{vc}"
    );
    assert_eq!(vc["credentialStatus"]["statusPurpose"], "revocation");
    let number = body["certificate_number"].as_str().unwrap();
    assert!(vc["id"].as_str().unwrap().ends_with(number));

    // A second request answers the same credential: signed once.
    assert_eq!(credential(&api, &t, id).await["credential"], jwt);

    // Nobody else gets it: another learner, or no one.
    let other = api.sign_up("nosy@example.com", PASSWORD, "Nosy").await;
    let path = format!("/api/v1/me/certificates/{id}/credential");
    assert_eq!(
        api.get(&path, Some(&other.access_token)).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(api.get(&path, None).await.status, StatusCode::UNAUTHORIZED);

    // Offline: the keys and the list fetched once, the credential verifies with no server.
    let cache = tempfile::tempdir().unwrap();
    let trust = fetch_trust(&server.url, cache.path()).await;
    assert_eq!(trust.keys.keys.len(), 1);
    assert_eq!(trust.status_lists.len(), 1);
    drop(server);
    let trust = load_trust(cache.path()).unwrap();
    let v = verify(jwt, &trust, Utc::now(), Duration::days(7));
    assert_eq!(v.verdict, CredentialVerdict::Valid, "{v:?}");
    let summary = v.credential.unwrap();
    assert_eq!(
        (
            summary.learner_name.as_deref(),
            summary.achievement.as_deref()
        ),
        (Some("Ada Badge"), Some("Docker Fundamentals"))
    );
    assert!(v.status_age_secs.unwrap() < 60);
}

#[tokio::test]
async fn issue21_every_tampering_gives_its_own_verdict() {
    let server = spawn_demo_server().await;
    let api = Api::new(&server.url);
    let (t, id) = finish_course(&api, "tamper@example.com", "Tam Per").await;
    let jwt = credential(&api, &t, id).await["credential"]
        .as_str()
        .unwrap()
        .to_owned();
    let cache = tempfile::tempdir().unwrap();
    let trust = fetch_trust(&server.url, cache.path()).await;
    assert_eq!(check(&jwt, &trust), CredentialVerdict::Valid);

    // A changed name.
    let renamed = tampered(&jwt, |p| {
        p["vc"]["credentialSubject"]["name"] = json!("Mallory");
    });
    assert_eq!(check(&renamed, &trust), CredentialVerdict::Tampered);
    // A changed date (the credential's and the JWT's both).
    let redated = tampered(&jwt, |p| {
        p["vc"]["validFrom"] = json!("2020-01-01T00:00:00Z");
        p["nbf"] = json!(1_577_836_800);
    });
    assert_eq!(check(&redated, &trust), CredentialVerdict::Tampered);
    // A changed course.
    let recoursed = tampered(&jwt, |p| {
        p["vc"]["credentialSubject"]["achievement"]["name"] = json!("Kubernetes in Production");
    });
    assert_eq!(check(&recoursed, &trust), CredentialVerdict::Tampered);

    // A swapped key: the same claims signed by another key under the issuer's key id…
    let (_, payload, _) = parts(&jwt);
    let stranger = skilltrack_credentials::SigningKey::generate().unwrap();
    let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::EdDSA);
    header.kid = Some(server.certificates.keys().current().kid().to_owned());
    let forged = jsonwebtoken::encode(
        &header,
        &payload,
        &jsonwebtoken::EncodingKey::from_ed_der(stranger.pkcs8()),
    )
    .unwrap();
    assert_eq!(check(&forged, &trust), CredentialVerdict::Tampered);
    // …or under its own key id, which the issuer never published.
    let foreign = stranger.sign(&payload).unwrap();
    assert_eq!(check(&foreign, &trust), CredentialVerdict::UnknownKey);
    // Another algorithm is never tried.
    let mut hs = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256);
    hs.kid = header.kid.clone();
    let hmac = jsonwebtoken::encode(
        &hs,
        &payload,
        &jsonwebtoken::EncodingKey::from_secret(trust.keys.keys[0].x.as_bytes()),
    )
    .unwrap();
    assert_eq!(check(&hmac, &trust), CredentialVerdict::Malformed);
    assert_eq!(
        check("not a credential", &trust),
        CredentialVerdict::Malformed
    );

    // Expired: a credential the issuer's key signed with a validUntil in the past.
    let source = {
        let mut tx = skilltrack_server::db::session::begin_service(server.db.api())
            .await
            .unwrap();
        skilltrack_server::db::certificates::source_by_id(&mut tx, id)
            .await
            .unwrap()
            .unwrap()
    };
    let mut facts = skilltrack_server::certificates::facts(&server.certificates, &source);
    facts.valid_until = Some(Utc::now() - Duration::days(1));
    let expired = facts.sign(server.certificates.keys().current()).unwrap();
    assert_eq!(check(&expired, &trust), CredentialVerdict::Expired);

    // A stale list: the same valid credential, verified 8 days later, says how old it is.
    let later = verify(
        &jwt,
        &trust,
        Utc::now() + Duration::days(8),
        Duration::days(7),
    );
    assert_eq!(later.verdict, CredentialVerdict::StatusStale, "{later:?}");
    assert!(later.detail.contains("8 days"), "{}", later.detail);
    // No list cached at all.
    let listless = TrustedIssuer {
        status_lists: Vec::new(),
        ..trust.clone()
    };
    assert_eq!(check(&jwt, &listless), CredentialVerdict::StatusUnknown);
    // Keys of another issuer.
    let elsewhere = TrustedIssuer {
        issuer: "https://other.example/api/v1/certificates/issuer".to_owned(),
        ..trust.clone()
    };
    assert_eq!(check(&jwt, &elsewhere), CredentialVerdict::UnknownKey);

    // The CLI says the same offline, each verdict with its own exit code.
    let cli = |file: &Path, extra: &[&str]| {
        let out = std::process::Command::new(skilltrack_tests::process::client_binary())
            .args(["--server", "http://127.0.0.1:9", "--data-dir"])
            .arg(cache.path())
            .args(["certificate", "verify"])
            .arg(file)
            .args(extra)
            .output()
            .unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
        )
    };
    let write = |name: &str, text: &str| -> PathBuf {
        let path = cache.path().join(name);
        std::fs::write(&path, text).unwrap();
        path
    };
    let saved = write(
        "saved.json",
        &serde_json::to_string(&credential(&api, &t, id).await).unwrap(),
    );
    let (code, out) = cli(&saved, &[]);
    assert_eq!(code, Some(0), "{out}");
    assert!(out.starts_with("VALID") && out.contains("Tam Per"), "{out}");
    assert!(out.contains("revocation list of"), "{out}");
    let (code, out) = cli(&write("renamed.jwt", &renamed), &[]);
    assert_eq!(code, Some(2), "{out}");
    assert!(out.starts_with("TAMPERED"), "{out}");
    assert_eq!(cli(&write("foreign.jwt", &foreign), &[]).0, Some(3));
    assert_eq!(cli(&write("expired.jwt", &expired), &[]).0, Some(5));
    let (code, out) = cli(&saved, &["--max-status-age-days", "0"]);
    assert_eq!(code, Some(6), "{out}");
    assert!(out.starts_with("STATUS LIST STALE"), "{out}");
}

#[tokio::test]
async fn issue21_an_admin_revokes_and_verifiers_see_it_once_they_fetch_the_list() {
    let server = spawn_demo_server().await;
    let api = Api::new(&server.url);
    let (t, id) = finish_course(&api, "revoked@example.com", "Rev Oked").await;
    let jwt = credential(&api, &t, id).await["credential"]
        .as_str()
        .unwrap()
        .to_owned();
    let before = tempfile::tempdir().unwrap();
    let cached_before = fetch_trust(&server.url, before.path()).await;

    let path = format!("/api/v1/admin/certificates/{id}/revocation");
    let reason = json!({"reason": "Exam answers were shared."});
    // Not the learner, not an instructor, not anonymous.
    assert_eq!(
        api.post(&path, Some(&t), reason.clone()).await.status,
        StatusCode::FORBIDDEN
    );
    let instructor = skilltrack_tests::api::session(
        &api.sign_in("instructor@skilltrack.dev", "instructor-demo-pass")
            .await,
    );
    assert_eq!(
        api.post(&path, Some(&instructor.access_token), reason.clone())
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        api.post(&path, None, reason.clone()).await.status,
        StatusCode::UNAUTHORIZED
    );
    let admin = admin_token(&api).await;
    let empty = api.post(&path, Some(&admin), json!({"reason": "  "})).await;
    assert_eq!(empty.status, StatusCode::UNPROCESSABLE_ENTITY, "{empty:?}");
    assert_eq!(empty.pointers(), ["/reason"]);
    let revoked = api.post(&path, Some(&admin), reason.clone()).await;
    assert_eq!(revoked.status, StatusCode::OK, "{revoked:?}");
    assert_eq!(revoked.body["reason"], "Exam answers were shared.");
    let again = api.post(&path, Some(&admin), reason).await;
    assert_eq!(
        (again.status, again.code()),
        (StatusCode::CONFLICT, "already_revoked".to_owned())
    );
    assert_eq!(
        api.post(
            &format!("/api/v1/admin/certificates/{}/revocation", Uuid::now_v7()),
            Some(&admin),
            json!({"reason": "x"})
        )
        .await
        .status,
        StatusCode::NOT_FOUND
    );

    // The learner sees why.
    let mine = credential(&api, &t, id).await;
    assert_eq!(mine["revocation_reason"], "Exam answers were shared.");

    // A verifier with the list cached before the revocation still says valid (it is offline)…
    assert_eq!(check(&jwt, &cached_before), CredentialVerdict::Valid);
    // …and revoked once it fetched the list again.
    let after = tempfile::tempdir().unwrap();
    let cached_after = fetch_trust(&server.url, after.path()).await;
    let v = verify(&jwt, &cached_after, Utc::now(), Duration::days(7));
    assert_eq!(v.verdict, CredentialVerdict::Revoked, "{v:?}");
    // Revoked stays revoked whatever the list's age.
    assert_eq!(
        verify(
            &jwt,
            &cached_after,
            Utc::now() + Duration::days(30),
            Duration::days(7)
        )
        .verdict,
        CredentialVerdict::Revoked
    );

    // The public page of the number gives the same verdict, to anyone.
    let number = mine["certificate_number"].as_str().unwrap();
    let page = api
        .get(&format!("/api/v1/certificates/{number}"), None)
        .await;
    assert_eq!(page.status, StatusCode::OK, "{page:?}");
    assert_eq!(
        (&page.body["verdict"], &page.body["is_valid"]),
        (&json!("revoked"), &json!(false))
    );
    assert!(page.body["revoked_at"].is_string());
    // Still rate-limited: the 61st check in a minute from one address is refused.
    let mut limited = false;
    for _ in 0..61 {
        let a = api
            .get(&format!("/api/v1/certificates/{number}"), None)
            .await;
        if a.status == StatusCode::TOO_MANY_REQUESTS {
            limited = true;
            break;
        }
    }
    assert!(limited, "public checks stay rate-limited");

    // The list a browser fetches is a signed VC-JWT, served as one.
    let res = reqwest::get(format!("{}/api/v1/certificates/status/1", server.url))
        .await
        .unwrap();
    assert_eq!(
        res.headers()["content-type"].to_str().unwrap(),
        "application/vc+jwt"
    );
    let (_, list, _) = parts(res.text().await.unwrap().trim());
    assert_eq!(
        list["vc"]["type"],
        json!(["VerifiableCredential", "BitstringStatusListCredential"])
    );
    assert_eq!(
        api.get("/api/v1/certificates/status/2", None).await.status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn issue21_the_public_check_of_a_valid_number_says_valid() {
    let server = spawn_demo_server().await;
    let api = Api::new(&server.url);
    let (t, id) = finish_course(&api, "public@example.com", "Pub Lic").await;
    let number = credential(&api, &t, id).await["certificate_number"]
        .as_str()
        .unwrap()
        .to_owned();
    let page = api
        .get(&format!("/api/v1/certificates/{number}"), None)
        .await;
    assert_eq!(
        (&page.body["verdict"], &page.body["is_valid"]),
        (&json!("valid"), &json!(true)),
        "{page:?}"
    );
}

#[tokio::test]
async fn issue21_after_a_key_rotation_old_certificates_keep_verifying() {
    let server = spawn_demo_server().await;
    let api = Api::new(&server.url);
    let (t1, first) = finish_course(&api, "before@example.com", "Bef Ore").await;
    let old = credential(&api, &t1, first).await;

    // The server restarts with a rotated key ring: a new current key, the old one kept.
    let rotated = server.certificates.keys().with_new_key().unwrap();
    let new_kid = rotated.current().kid().to_owned();
    let old_kid = server.certificates.keys().current().kid().to_owned();
    assert_ne!(new_kid, old_kid);
    let restarted = spawn_sibling_server(&server, rotated).await;
    let api2 = Api::new(&restarted.url);
    let (t2, second) = finish_course(&api2, "after@example.com", "Aft Er").await;
    let new = credential(&api2, &t2, second).await;
    assert_eq!(new["kid"], new_kid.as_str());
    assert_eq!(old["kid"], old_kid.as_str());
    // The old credential is not re-signed.
    assert_eq!(credential(&api2, &t1, first).await, old);

    // The key set has both keys; each credential verifies with it.
    let cache = tempfile::tempdir().unwrap();
    let trust = fetch_trust(&restarted.url, cache.path()).await;
    let kids: Vec<&str> = trust.keys.keys.iter().map(|k| k.kid.as_str()).collect();
    assert!(
        kids.contains(&old_kid.as_str()) && kids.contains(&new_kid.as_str()),
        "{kids:?}"
    );
    for c in [&old, &new] {
        assert_eq!(
            check(c["credential"].as_str().unwrap(), &trust),
            CredentialVerdict::Valid
        );
    }
    // An admin withdrawing the old key (compromised) makes what it signed unverifiable.
    sqlx::query("DELETE FROM certificate_signing_keys WHERE kid = $1")
        .bind(&old_kid)
        .execute(server.db.owner())
        .await
        .unwrap();
    let trust = fetch_trust(&restarted.url, cache.path()).await;
    assert_eq!(
        check(old["credential"].as_str().unwrap(), &trust),
        CredentialVerdict::UnknownKey
    );
}

#[test]
fn issue21_rotating_keeps_every_key_in_a_private_file() {
    use skilltrack_server::certificates::{KEY_FILE, KeyRing};
    use std::os::unix::fs::PermissionsExt as _;
    let dir = tempfile::tempdir().unwrap();
    let first = KeyRing::from_data_dir(dir.path()).unwrap();
    let again = KeyRing::from_data_dir(dir.path()).unwrap();
    assert_eq!(
        first.current().kid(),
        again.current().kid(),
        "kept, not regenerated"
    );
    let mode = std::fs::metadata(dir.path().join(KEY_FILE))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
    let new = KeyRing::rotate(dir.path()).unwrap();
    let after = KeyRing::from_data_dir(dir.path()).unwrap();
    assert_eq!(after.current().kid(), new);
    let kids: Vec<&str> = after
        .all()
        .iter()
        .map(skilltrack_credentials::SigningKey::kid)
        .collect();
    assert_eq!(kids, [first.current().kid(), new.as_str()]);
    // The key's Debug never shows the private half.
    let shown = format!("{:?}", after.current());
    assert!(!shown.contains(&URL_SAFE_NO_PAD.encode(after.current().pkcs8())));
}

/// The Python with `PyJWT` and `cryptography` (scripts/lib.sh's `ensure_python_verifier`).
fn verifier_python() -> PathBuf {
    let python = std::env::var_os("SKILLTRACK_VERIFIER_PYTHON").map_or_else(
        || {
            PathBuf::from(std::env::var_os("HOME").unwrap())
                .join(".cache/skilltrack/pyjwt-venv/bin/python")
        },
        PathBuf::from,
    );
    assert!(
        python.exists(),
        "{} is missing: install the independent verifier with \
         `bash -c 'source scripts/lib.sh && ensure_python_verifier'` (scripts/test-all does)",
        python.display()
    );
    python
}

// Two threads: the server answers the verifier's fetch while the test waits for it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn issue21_an_independent_verifier_pyjwt_accepts_the_credential() {
    let server: TestServer = spawn_demo_server().await;
    let api = Api::new(&server.url);
    let (t, id) = finish_course(&api, "python@example.com", "Py Thon").await;
    let body = credential(&api, &t, id).await;
    let jwt = body["credential"].as_str().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("verifier/verify_vc_jwt.py");
    let python = verifier_python();
    let jwks = format!("{}/.well-known/jwks.json", server.url);
    let run = |name: &str, text: &str| {
        let file = dir.path().join(name);
        std::fs::write(&file, text).unwrap();
        let out = std::process::Command::new(&python)
            .arg(&script)
            .arg(&jwks)
            .arg(&file)
            .output()
            .unwrap();
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    // Our saved JSON and the bare JWT both verify, and PyJWT reads the same credential.
    let (ok, out, err) = run("saved.json", &serde_json::to_string(&body).unwrap());
    assert!(ok, "{out}{err}");
    let (ok, out, err) = run("bare.jwt", jwt);
    assert!(ok, "{out}{err}");
    let verified: Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(verified["vc"]["credentialSubject"]["name"], "Py Thon");
    assert_eq!(verified["kid"], server.certificates.keys().current().kid());
    // And it refuses what we call tampered.
    let renamed = tampered(jwt, |p| {
        p["vc"]["credentialSubject"]["name"] = json!("Mallory");
    });
    let (ok, out, _) = run("renamed.jwt", &renamed);
    assert!(!ok && out.contains("bad signature"), "{out}");
}

/// The CLI on `data_dir`, run in `cwd` (where `certificate get` saves by default).
fn skilltrack(
    server_url: &str,
    data_dir: &Path,
    cwd: &Path,
    args: &[&str],
) -> (Option<i32>, String) {
    let out = std::process::Command::new(skilltrack_tests::process::client_binary())
        .args([
            "--server",
            server_url,
            "--token-store",
            "file",
            "--data-dir",
        ])
        .arg(data_dir)
        .args(args)
        .current_dir(cwd)
        .env("SKILLTRACK_PASSWORD", PASSWORD)
        .output()
        .unwrap();
    (
        out.status.code(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

/// A learner's certificate saved by the CLI as JSON, PDF and PNG (after `certificate keys`
/// cached the issuer), the files in `dir`: their paths by format.
fn save_every_format(
    server_url: &str,
    email: &str,
    id: Uuid,
    data: &Path,
    dir: &Path,
) -> [PathBuf; 3] {
    let run = |args: &[&str]| {
        let (code, out) = skilltrack(server_url, data, dir, args);
        assert_eq!(code, Some(0), "{args:?}: {out}");
        out
    };
    run(&["sign-in", "--email", email]);
    run(&["certificate", "keys"]);
    let id = id.to_string();
    let pdf = dir.join("certificate.pdf");
    run(&[
        "certificate",
        "get",
        &id,
        "--format",
        "pdf",
        "--out",
        pdf.to_str().unwrap(),
    ]);
    // PNG and JSON under their default names, in the working directory.
    let said = run(&["--json", "certificate", "get", &id, "--format", "png"]);
    let saved: Value =
        serde_json::from_str(said.lines().find(|l| l.starts_with('{')).unwrap()).unwrap();
    let png = dir.join(saved["saved"].as_str().unwrap());
    assert_eq!(
        png.file_name().unwrap().to_str().unwrap(),
        format!("{}.png", saved["certificate_number"].as_str().unwrap())
    );
    run(&["certificate", "get", &id]);
    let json = dir.join(format!(
        "{}.credential.json",
        saved["certificate_number"].as_str().unwrap()
    ));
    assert!(std::fs::read(&pdf).unwrap().starts_with(b"%PDF-1.7"));
    assert!(
        std::fs::read(&png)
            .unwrap()
            .starts_with(b"\x89PNG\r\n\x1a\n")
    );
    [json, pdf, png]
}

/// A learner who finished the course, with their certificate saved by the CLI in every format.
struct Saved {
    /// The credential the server signed.
    jwt: String,
    /// The CLI's data directory (its session and cached trust).
    data: tempfile::TempDir,
    /// Where the files are.
    dir: tempfile::TempDir,
    /// JSON, PDF and PNG.
    files: [PathBuf; 3],
}

async fn saved_in_every_format(server_url: &str, email: &str, name: &str) -> Saved {
    let api = Api::new(server_url);
    let (t, id) = finish_course(&api, email, name).await;
    let jwt = credential(&api, &t, id).await["credential"]
        .as_str()
        .unwrap()
        .to_owned();
    let data = tempfile::tempdir().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let files = save_every_format(server_url, email, id, data.path(), dir.path());
    Saved {
        jwt,
        data,
        dir,
        files,
    }
}

// Two threads: the server answers the CLI while the test waits for it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn issue21_a_certificate_saved_as_pdf_or_png_verifies_offline_with_the_cli() {
    let server = spawn_demo_server().await;
    let Saved {
        jwt,
        data,
        dir,
        files,
    } = saved_in_every_format(&server.url, "formats@example.com", "For Mats").await;

    // Each carries the very credential the server signed.
    for file in &files {
        let bytes = std::fs::read(file).unwrap();
        assert_eq!(
            skilltrack_credentials::credential_in_bytes(&bytes).as_deref(),
            Some(jwt.as_str()),
            "{}",
            file.display()
        );
    }
    // The PDF shows what the credential says.
    let shown = skilltrack_credentials::CertificatePdf::from_credential(&jwt).unwrap();
    assert_eq!(
        (shown.learner_name.as_str(), shown.course_title.as_str()),
        ("For Mats", "Docker Fundamentals")
    );

    // With the server gone, each verifies valid from the cache alone.
    drop(server);
    for file in &files {
        let (code, out) = skilltrack(
            "http://127.0.0.1:9",
            data.path(),
            dir.path(),
            &["certificate", "verify", file.to_str().unwrap()],
        );
        assert_eq!(code, Some(0), "{}: {out}", file.display());
        assert!(
            out.starts_with("VALID") && out.contains("For Mats"),
            "{out}"
        );
    }
    // A damaged badge (cut short) holds no credential: it is refused, not half read.
    let damaged = dir.path().join("damaged.png");
    let png = std::fs::read(&files[2]).unwrap();
    std::fs::write(&damaged, &png[..png.len() / 2]).unwrap();
    let (code, out) = skilltrack(
        "http://127.0.0.1:9",
        data.path(),
        dir.path(),
        &["certificate", "verify", damaged.to_str().unwrap()],
    );
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains("holds no credential"), "{out}");

    // The help says what each format is.
    let (code, help) = skilltrack(
        "http://127.0.0.1:9",
        data.path(),
        dir.path(),
        &["certificate", "get", "--help"],
    );
    assert_eq!(code, Some(0), "{help}");
    for said in ["json", "pdf", "png", "QR", "baked"] {
        assert!(help.contains(said), "{said} in {help}");
    }
}

// Two threads: the server answers the CLI and the verifier's fetch while the test waits.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn issue21_pypdf_and_pillow_find_the_credential_in_the_pdf_and_the_badge() {
    let server = spawn_demo_server().await;
    let saved = saved_in_every_format(&server.url, "carriers@example.com", "Car Riers").await;
    let (jwt, [_, pdf, png]) = (saved.jwt, saved.files);
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("verifier/verify_vc_jwt.py");
    let python = verifier_python();
    let jwks = format!("{}/.well-known/jwks.json", server.url);
    for file in [&pdf, &png] {
        let out = std::process::Command::new(&python)
            .arg(&script)
            .arg(&jwks)
            .arg(file)
            .output()
            .unwrap();
        let said = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "{}: {said}{}",
            file.display(),
            String::from_utf8_lossy(&out.stderr)
        );
        // pypdf's `credential.jwt` attachment and Pillow's `openbadgecredential` text are the
        // credential, and PyJWT verifies it with the published key.
        let verified: Value = serde_json::from_str(said.trim()).unwrap();
        assert_eq!(verified["credential"], jwt.as_str(), "{}", file.display());
        assert_eq!(verified["vc"]["credentialSubject"]["name"], "Car Riers");
    }
}

/// What a browser sends when it opens a link (the navigation `Accept` of `WebKit`).
const BROWSER_ACCEPT: &str = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8";

async fn open_in_browser(url: &str) -> (StatusCode, reqwest::header::HeaderMap, String) {
    let res = reqwest::Client::new()
        .get(url)
        .header(reqwest::header::ACCEPT, BROWSER_ACCEPT)
        .send()
        .await
        .unwrap();
    let (status, headers) = (res.status(), res.headers().clone());
    (status, headers, res.text().await.unwrap())
}

#[tokio::test]
async fn issue21_a_browser_opening_the_credential_address_sees_the_verdict_as_a_page() {
    let server = spawn_demo_server().await;
    let api = Api::new(&server.url);
    let (t, id) = finish_course(&api, "page@example.com", "Zoë <b>Ćirić</b>").await;
    let jwt = credential(&api, &t, id).await["credential"]
        .as_str()
        .unwrap()
        .to_owned();
    // The credential's own id is the address its PDF links to and its QR code holds.
    let (_, payload, _) = parts(&jwt);
    let address = payload["vc"]["id"].as_str().unwrap().to_owned();
    assert!(address.starts_with(&server.url), "{address}");

    let (status, headers, page) = open_in_browser(&address).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert_eq!(headers["content-type"], "text/html; charset=utf-8");
    assert_eq!(headers["vary"], "accept");
    assert_eq!(headers["cache-control"], "no-store");
    assert!(
        headers["content-security-policy"]
            .to_str()
            .unwrap()
            .starts_with("default-src 'none'")
    );
    assert!(page.contains("data-verdict=\"valid\""), "{page}");
    assert!(page.contains("This certificate is valid"), "{page}");
    assert!(page.contains("Docker"), "the course is named: {page}");
    // The learner's name is shown as text, never as markup.
    assert!(page.contains("Zoë &lt;b&gt;Ćirić&lt;/b&gt;"), "{page}");
    assert!(!page.contains("<b>Ć"), "{page}");
    assert!(!page.contains("<script"), "{page}");

    // API clients keep the JSON they are documented to get, and caches keep the two apart.
    let res = reqwest::get(&address).await.unwrap();
    assert_eq!(res.headers()["vary"], "accept");
    let json: Value = res.json().await.unwrap();
    assert_eq!(json["verdict"], "valid");

    // Revoked: the page says so.
    let admin = admin_token(&api).await;
    let revoked = api
        .post(
            &format!("/api/v1/admin/certificates/{id}/revocation"),
            Some(&admin),
            json!({"reason": "Issued by mistake."}),
        )
        .await;
    assert_eq!(revoked.status, StatusCode::OK, "{revoked:?}");
    let (status, _, page) = open_in_browser(&address).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("data-verdict=\"revoked\""), "{page}");
    assert!(page.contains("has been revoked"), "{page}");
    assert!(!page.contains("This certificate is valid"), "{page}");

    // A number nobody holds: a page that says so, with the status code the API gives.
    let (status, headers, page) = open_in_browser(&format!(
        "{}/api/v1/certificates/SKT-2026-AAAAA-BBBBB-CCCCC-DDDDD",
        server.url
    ))
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{page}");
    assert_eq!(headers["content-type"], "text/html; charset=utf-8");
    assert!(page.contains("No certificate has this number"), "{page}");
}

/// Issue 21 in the app: a learner who finished a course saves the credential, the PDF and the
/// badge from My learning, and verifies the certificate there from what the last sync cached.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn issue21_in_the_app_a_learner_saves_and_verifies_the_certificate() {
    use skilltrack_tests::desktop::{DesktopApp, click, find, screenshot, wait_attr, wait_text};

    let server = spawn_demo_server().await;
    let api = Api::new(&server.url);
    let email = "dana.desk@example.com";
    let (t, id) = finish_course(&api, email, "Дана Деск").await;
    let jwt = credential(&api, &t, id).await["credential"]
        .as_str()
        .unwrap()
        .to_owned();
    let data = tempfile::tempdir().unwrap();
    let app = DesktopApp::launch(&server.url, data.path()).await;
    app.sign_in(email, PASSWORD).await;
    let client = &app.client;

    let step = "My learning lists the certificate with its actions";
    click(client, r#"[data-testid="nav-learning"]"#, step).await;
    find(client, r#"[data-testid="save-certificate-json"]"#, step).await;

    let downloads = data.path().join("downloads");
    for (format, extension) in [("json", "json"), ("pdf", "pdf"), ("png", "png")] {
        let step = format!("saving the certificate as {format}");
        click(
            client,
            &format!(r#"[data-testid="save-certificate-{format}"]"#),
            &step,
        )
        .await;
        let saved = wait_text(client, r#"[data-testid="certificate-saved"]"#, &step, |t| {
            t.ends_with(&format!(".{extension}"))
        })
        .await;
        let path = PathBuf::from(saved.trim_start_matches("Saved to ").trim());
        assert!(path.starts_with(&downloads), "{step}: saved to {path:?}");
        let bytes = std::fs::read(&path).unwrap();
        // Each file carries the very credential the server signed.
        assert_eq!(
            skilltrack_credentials::credential_in_bytes(&bytes).as_deref(),
            Some(jwt.as_str()),
            "{step}"
        );
    }

    let step = "Verify gives the offline verdict, with the age of the cached revocation list";
    click(client, r#"[data-testid="verify-certificate"]"#, step).await;
    wait_attr(
        client,
        r#"[data-testid="certificate-verdict"]"#,
        "data-verdict",
        step,
        |v| v == "valid",
    )
    .await;
    let words = wait_text(
        client,
        r#"[data-testid="certificate-verdict"]"#,
        step,
        |t| t.contains("revocation list"),
    )
    .await;
    assert!(words.contains("valid"), "{step}: {words:?}");
    screenshot(client, "certificate-verified").await;
    app.close().await;
}
