//! Signed updates served by our own server (issue 20, part 2, the server's side): the operator
//! publishes a real `.deb` signed with the Tauri CLI through the real `skilltrack-server
//! desktop-release` command, and the real server answers the updater's check and serves the
//! package. A package that does not verify with the key, or is no package, is never published.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use base64::Engine as _;
use reqwest::StatusCode;
use serde_json::Value;
use sha2::{Digest as _, Sha256};
use skilltrack_tests::ServerProcess;
use skilltrack_tests::process::{data_dir, server_command};

/// The Tauri CLI of the UI's dependencies (`npm ci` in `ui/`), which makes and uses the
/// updater's keys.
fn tauri() -> Command {
    let cli = Path::new(env!("CARGO_MANIFEST_DIR")).join("../ui/node_modules/.bin/tauri");
    assert!(
        cli.exists(),
        "{} is missing: run `npm ci` in ui/ (scripts/lib.sh does)",
        cli.display()
    );
    let mut cmd = Command::new(cli);
    cmd.env_remove("TAURI_SIGNING_PRIVATE_KEY")
        .env_remove("TAURI_SIGNING_PRIVATE_KEY_PATH")
        .env("TAURI_SIGNING_PRIVATE_KEY_PASSWORD", "");
    cmd
}

fn succeeded(what: &str, out: &Output) {
    assert!(
        out.status.success(),
        "{what}: {}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A key pair of the updater's, without a password: (private key file, public key file).
fn key_pair(dir: &Path, name: &str) -> (PathBuf, PathBuf) {
    let key = dir.join(format!("{name}.key"));
    let out = tauri()
        .args(["signer", "generate", "--ci", "-p", "", "-w"])
        .arg(&key)
        .output()
        .unwrap();
    succeeded("tauri signer generate", &out);
    let public = key.with_extension("key.pub");
    assert!(public.exists(), "{}", public.display());
    (key, public)
}

/// Signs `file` for `version` as `scripts/package` does; the `.sig` file's content.
fn sign(key: &Path, version: &str, file: &Path) -> String {
    let out = tauri()
        .args(["signer", "sign", "--private-key-path"])
        .arg(key)
        .args(["--app-version", version])
        .arg(file)
        .output()
        .unwrap();
    succeeded("tauri signer sign", &out);
    std::fs::read_to_string(sig_of(file)).unwrap()
}

fn sig_of(file: &Path) -> PathBuf {
    let mut name = file.as_os_str().to_owned();
    name.push(".sig");
    PathBuf::from(name)
}

/// A tiny real Debian package, built by `dpkg-deb`.
fn debian_package(dir: &Path, version: &str) -> PathBuf {
    let root = dir.join("package-root");
    std::fs::create_dir_all(root.join("DEBIAN")).unwrap();
    std::fs::create_dir_all(root.join("usr/share/skilltrack-update-test")).unwrap();
    std::fs::write(
        root.join("DEBIAN/control"),
        format!(
            "Package: skilltrack-update-test\nVersion: {version}\nArchitecture: amd64\n\
             Maintainer: Skilltrack tests <tests@skilltrack.invalid>\n\
             Description: a package the update tests publish\n"
        ),
    )
    .unwrap();
    std::fs::write(
        root.join("usr/share/skilltrack-update-test/marker"),
        format!("version {version}\n"),
    )
    .unwrap();
    let deb = dir.join(format!("skilltrack_{version}_amd64.deb"));
    let out = Command::new("dpkg-deb")
        .args(["--root-owner-group", "-Zgzip", "--build"])
        .arg(&root)
        .arg(&deb)
        .output()
        .unwrap();
    succeeded("dpkg-deb --build", &out);
    deb
}

/// `skilltrack-server desktop-release ARGS` on the test's data directory.
fn release_command(data: &Path, args: &[&str]) -> Output {
    let mut all = vec!["desktop-release"];
    all.extend_from_slice(args);
    server_command(data, &all)
        .env_remove("SKILLTRACK_DESKTOP_UPDATE_PUBKEY")
        .output()
        .unwrap()
}

fn path(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// Runs a command that must be refused; what it said.
fn refused(data: &Path, args: &[&str]) -> String {
    let out = release_command(data, args);
    assert!(!out.status.success(), "{args:?} was not refused: {out:?}");
    let said = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(!said.contains("panicked"), "{said}");
    said
}

async fn check(server: &ServerProcess, tail: &str) -> reqwest::Response {
    reqwest::get(format!("{}/api/v1/desktop/updates/{tail}", server.url))
        .await
        .unwrap()
}

async fn problem_code(response: reqwest::Response) -> (StatusCode, String) {
    let status = response.status();
    assert_eq!(
        response.headers()["content-type"],
        "application/problem+json",
        "{status}"
    );
    let body: Value = response.json().await.unwrap();
    (status, body["code"].as_str().unwrap_or_default().to_owned())
}

#[tokio::test]
async fn an_operator_publishes_a_signed_package_and_the_updater_finds_and_downloads_it() {
    let data = data_dir();
    let work = tempfile::tempdir().unwrap();
    let (key, public) = key_pair(work.path(), "updates");
    let (_, other_public) = key_pair(work.path(), "someone-else");
    let deb = debian_package(work.path(), "0.10.0");
    let bytes = std::fs::read(&deb).unwrap();
    let sha256 = Sha256::digest(&bytes)
        .iter()
        .fold(String::new(), |mut hex, b| {
            let _ = write!(hex, "{b:02x}");
            hex
        });

    // The same package, signed earlier as 0.9.0 (kept aside), and now as 0.10.0.
    let older_sig = work.path().join("older.sig");
    sign(&key, "0.9.0", &deb);
    std::fs::rename(sig_of(&deb), &older_sig).unwrap();
    let signature = sign(&key, "0.10.0", &deb);
    let deb_sig = sig_of(&deb);

    // Refused, each with a sentence: a file that is no package (however well signed)...
    let text = work.path().join("notes.txt");
    std::fs::write(&text, "not a package\n").unwrap();
    sign(&key, "0.10.0", &text);
    let said = refused(
        data.path(),
        &["publish", path(&text), "--signature", path(&sig_of(&text))],
    );
    assert!(
        said.contains("is neither a Debian package (.deb) nor an RPM package"),
        "{said}"
    );
    // ...a package signed by another key...
    let said = refused(
        data.path(),
        &[
            "publish",
            path(&deb),
            "--signature",
            path(&deb_sig),
            "--pubkey",
            path(&other_public),
        ],
    );
    assert!(
        said.contains("is not signed by that key: not published"),
        "{said}"
    );
    // ...a signature whose signed version was changed (an old package passed off as new)...
    let minisign = String::from_utf8(
        base64::engine::general_purpose::STANDARD
            .decode(signature.trim())
            .unwrap(),
    )
    .unwrap();
    assert!(minisign.contains("\tversion:0.10.0"), "{minisign}");
    let forged = work.path().join("forged.sig");
    std::fs::write(
        &forged,
        base64::engine::general_purpose::STANDARD
            .encode(minisign.replace("version:0.10.0", "version:0.11.0")),
    )
    .unwrap();
    let said = refused(
        data.path(),
        &[
            "publish",
            path(&deb),
            "--signature",
            path(&forged),
            "--pubkey",
            path(&public),
        ],
    );
    assert!(
        said.contains("is not signed by that key: not published"),
        "{said}"
    );
    // ...a package changed after it was signed...
    let tampered_dir = work.path().join("tampered");
    std::fs::create_dir(&tampered_dir).unwrap();
    let tampered = tampered_dir.join(deb.file_name().unwrap());
    let mut changed = bytes.clone();
    *changed.last_mut().unwrap() ^= 1;
    std::fs::write(&tampered, &changed).unwrap();
    let public_text = std::fs::read_to_string(&public).unwrap();
    let said = refused(
        data.path(),
        &[
            "publish",
            path(&tampered),
            "--signature",
            path(&deb_sig),
            "--pubkey",
            &public_text,
        ],
    );
    assert!(
        said.contains("is not signed by that key: not published"),
        "{said}"
    );
    // ...a version that is not the signature's, and a signature that is none.
    let said = refused(
        data.path(),
        &[
            "publish",
            path(&deb),
            "--signature",
            path(&deb_sig),
            "--version",
            "0.11.0",
        ],
    );
    assert!(said.contains("the signature was made for 0.10.0"), "{said}");
    let said = refused(
        data.path(),
        &["publish", path(&deb), "--signature", path(&text)],
    );
    assert!(
        said.contains("is not a signature the Tauri CLI writes"),
        "{said}"
    );
    let listed = release_command(data.path(), &["list"]);
    succeeded("list", &listed);
    assert!(listed.stdout.is_empty(), "{listed:?}");

    // Published: the older one with no key to check it with, the newer one checked.
    let out = release_command(
        data.path(),
        &[
            "publish",
            path(&deb),
            "--signature",
            path(&older_sig),
            "--notes",
            "Older.",
        ],
    );
    succeeded("publish 0.9.0", &out);
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(said.contains("published 0.9.0 deb x86_64"), "{said}");
    assert!(said.contains("not checked here"), "{said}");
    let out = release_command(
        data.path(),
        &[
            "publish",
            path(&deb),
            "--signature",
            path(&deb_sig),
            "--notes",
            "Faster sync.",
            "--pubkey",
            path(&public),
        ],
    );
    succeeded("publish 0.10.0", &out);
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(said.contains("published 0.10.0 deb x86_64"), "{said}");
    assert!(said.contains("verifies with the given key"), "{said}");
    // Published again (the key from the environment, as the .pub file's content): replaced.
    let out = server_command(
        data.path(),
        &[
            "desktop-release",
            "publish",
            path(&deb),
            "--signature",
            path(&deb_sig),
            "--notes",
            "Faster sync.",
        ],
    )
    .env("SKILLTRACK_DESKTOP_UPDATE_PUBKEY", public_text.trim())
    .output()
    .unwrap();
    succeeded("publish 0.10.0 again", &out);
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("replaced 0.10.0 deb x86_64"),
        "{out:?}"
    );
    let listed = release_command(data.path(), &["list"]);
    succeeded("list", &listed);
    let listed = String::from_utf8_lossy(&listed.stdout).into_owned();
    let lines: Vec<&str> = listed.lines().collect();
    assert_eq!(lines.len(), 2, "{listed}");
    assert!(
        lines[0].starts_with("0.10.0\tdeb\tx86_64\tskilltrack_0.10.0_amd64.deb\t"),
        "{listed}"
    );
    assert!(lines[1].starts_with("0.9.0\tdeb\tx86_64\t"), "{listed}");
    // One file for both: they are the same package.
    let store = data.path().join("desktop-releases");
    let stored: Vec<PathBuf> = std::fs::read_dir(&store)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(stored, vec![store.join(format!("{sha256}.deb"))]);

    let server = ServerProcess::start(data.path());
    let client = reqwest::Client::new();

    // From 0.1.0 and from 0.9.0 the newest is offered: 0.10.0 (numbers, not text, compared).
    for from in ["0.1.0", "0.9.0", "0.9.10"] {
        let answer = client
            .get(format!(
                "{}/api/v1/desktop/updates/linux/x86_64/deb/{from}",
                server.url
            ))
            // A token, even one that is no good, changes nothing: every app is offered the same.
            .bearer_auth("not-a-token")
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status(), StatusCode::OK, "from {from}");
        let update: Value = answer.json().await.unwrap();
        let mut fields: Vec<&String> = update.as_object().unwrap().keys().collect();
        fields.sort();
        assert_eq!(
            fields,
            ["notes", "pub_date", "signature", "url", "version"],
            "{update}"
        );
        assert_eq!(update["version"], "0.10.0");
        assert_eq!(update["notes"], "Faster sync.");
        assert_eq!(update["signature"], signature.trim());
        let published = update["pub_date"].as_str().unwrap();
        assert!(
            chrono::DateTime::parse_from_rfc3339(published).is_ok() && published.ends_with('Z'),
            "{published}"
        );
        assert!(!published.contains('.'), "whole seconds: {published}");
        let url = update["url"].as_str().unwrap();
        assert!(
            url.starts_with(&format!("{}/api/v1/desktop/releases/", server.url))
                && url.ends_with("/skilltrack_0.10.0_amd64.deb"),
            "{url}"
        );
    }
    // Nothing newer than the app, or for another format or architecture: 204, no body.
    for tail in [
        "linux/x86_64/deb/0.10.0",
        "linux/x86_64/deb/0.11.0",
        "linux/x86_64/deb/1.0.0",
        "linux/x86_64/rpm/0.1.0",
        "linux/aarch64/deb/0.1.0",
    ] {
        let answer = check(&server, tail).await;
        assert_eq!(answer.status(), StatusCode::NO_CONTENT, "{tail}");
        assert!(answer.bytes().await.unwrap().is_empty(), "{tail}");
    }
    // What the server publishes nothing for, or a version that is none: 400 with its code.
    for (tail, code) in [
        ("windows/x86_64/deb/0.1.0", "unsupported_update_target"),
        ("darwin/aarch64/deb/0.1.0", "unsupported_update_target"),
        ("linux/i686/deb/0.1.0", "unsupported_update_target"),
        ("linux/x86_64/appimage/0.1.0", "unsupported_update_target"),
        ("linux/x86_64/deb/0.1", "invalid_version"),
        ("linux/x86_64/deb/01.2.3", "invalid_version"),
        ("linux/x86_64/deb/0.1.0-beta.1", "invalid_version"),
        ("linux/x86_64/deb/latest", "invalid_version"),
    ] {
        let (status, got) = problem_code(check(&server, tail).await).await;
        assert_eq!(
            (status, got.as_str()),
            (StatusCode::BAD_REQUEST, code),
            "{tail}"
        );
    }

    // The package: its exact bytes, with length, type and a strong ETag; ranges and
    // revalidation work.
    let update: Value = check(&server, "linux/x86_64/deb/0.1.0")
        .await
        .json()
        .await
        .unwrap();
    let url = update["url"].as_str().unwrap().to_owned();
    let whole = client.get(&url).send().await.unwrap();
    assert_eq!(whole.status(), StatusCode::OK);
    let headers = whole.headers().clone();
    assert_eq!(
        headers["content-type"],
        "application/vnd.debian.binary-package"
    );
    assert_eq!(headers["content-length"], bytes.len().to_string().as_str());
    assert_eq!(headers["etag"], format!("\"{sha256}\"").as_str());
    assert_eq!(whole.bytes().await.unwrap().as_ref(), bytes.as_slice());
    let part = client
        .get(&url)
        .header("Range", "bytes=0-9")
        .send()
        .await
        .unwrap();
    assert_eq!(part.status(), StatusCode::PARTIAL_CONTENT);
    assert_eq!(
        part.headers()["content-range"],
        format!("bytes 0-9/{}", bytes.len()).as_str()
    );
    assert_eq!(part.bytes().await.unwrap().as_ref(), &bytes[..10]);
    let again = client
        .get(&url)
        .header("If-None-Match", format!("\"{sha256}\""))
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), StatusCode::NOT_MODIFIED);
    // Another name, another id, or no id at all: no such release.
    let package_path = url.strip_prefix(&server.url).unwrap().to_owned();
    let id = package_path
        .strip_prefix("/api/v1/desktop/releases/")
        .and_then(|rest| rest.split('/').next())
        .unwrap()
        .to_owned();
    for wrong in [
        format!("{id}/skilltrack_0.9.0_amd64.deb"),
        format!("{}/skilltrack_0.10.0_amd64.deb", uuid::Uuid::now_v7()),
        "not-an-id/skilltrack_0.10.0_amd64.deb".to_owned(),
    ] {
        let answer = client
            .get(format!("{}/api/v1/desktop/releases/{wrong}", server.url))
            .send()
            .await
            .unwrap();
        let (status, code) = problem_code(answer).await;
        assert_eq!(
            (status, code.as_str()),
            (StatusCode::NOT_FOUND, "release_not_found"),
            "{wrong}"
        );
    }
    drop(server);

    // Withdrawn, 0.10.0 is no longer offered: 0.9.0 is, and its file (the same bytes) stays.
    let out = release_command(data.path(), &["withdraw", "0.10.0", "--bundle", "deb"]);
    succeeded("withdraw 0.10.0", &out);
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("withdrew 0.10.0 deb x86_64"),
        "{out:?}"
    );
    assert!(store.join(format!("{sha256}.deb")).exists());
    let server = ServerProcess::start(data.path());
    let update: Value = check(&server, "linux/x86_64/deb/0.1.0")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(update["version"], "0.9.0", "{update}");
    assert_eq!(update["notes"], "Older.");
    assert_eq!(
        check(&server, "linux/x86_64/deb/0.9.0").await.status(),
        StatusCode::NO_CONTENT
    );
    let old_link = client
        .get(format!("{}{package_path}", server.url))
        .send()
        .await
        .unwrap();
    assert_eq!(old_link.status(), StatusCode::NOT_FOUND);
    drop(server);

    // The last one withdrawn: nothing is offered, the file is gone, and withdrawing it again
    // says there is no such release.
    let out = release_command(
        data.path(),
        &["withdraw", "0.9.0", "--bundle", "deb", "--arch", "x86_64"],
    );
    succeeded("withdraw 0.9.0", &out);
    assert!(!store.join(format!("{sha256}.deb")).exists());
    let said = refused(data.path(), &["withdraw", "0.9.0", "--bundle", "deb"]);
    assert!(said.contains("no deb release 0.9.0 for x86_64"), "{said}");
    let server = ServerProcess::start(data.path());
    assert_eq!(
        check(&server, "linux/x86_64/deb/0.1.0").await.status(),
        StatusCode::NO_CONTENT
    );
}
