//! Courses as code from the command line: `skilltrack course new` writes a package that
//! `skilltrack course validate` passes, and a broken package fails validation with every
//! problem at its `file:line:column`. Neither needs a server: the CLI is pointed at an address
//! where nothing listens.

use std::path::Path;
use std::process::Output;

/// Runs the `skilltrack` CLI with `args`, a data directory of its own and a server URL that
/// nothing answers.
fn cli(data: &Path, args: &[&str]) -> Output {
    std::process::Command::new(skilltrack_tests::process::client_binary())
        .args(["--server", "http://127.0.0.1:9", "--token-store", "file"])
        .arg("--data-dir")
        .arg(data)
        .args(args)
        .env_remove("RUST_BACKTRACE")
        .output()
        .unwrap()
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

#[test]
fn course_new_writes_a_package_that_validates_and_a_broken_one_exits_1_with_positions() {
    let data = tempfile::tempdir().unwrap();
    let work = tempfile::tempdir().unwrap();
    let dir = work.path().join("intro-to-shell");
    let dir_arg = dir.to_str().unwrap();

    let created = cli(data.path(), &["course", "new", dir_arg]);
    assert!(created.status.success(), "{}", text(&created));
    assert!(dir.join("course.json").is_file());
    assert!(dir.join("labs/first-lab/step1/verify.sh").is_file());

    let valid = cli(data.path(), &["course", "validate", dir_arg]);
    assert!(valid.status.success(), "{}", text(&valid));
    assert_eq!(
        String::from_utf8_lossy(&valid.stdout),
        format!(
            "{dir_arg} is valid: course intro-to-shell, 1 module(s), 3 lesson(s), \
             1 assessment(s), 1 lab(s).\n"
        )
    );

    let again = cli(data.path(), &["course", "new", dir_arg]);
    assert!(!again.status.success(), "{}", text(&again));
    assert!(text(&again).contains("is not empty"), "{}", text(&again));

    // Two mistakes in two files: both are reported, at their line and column.
    let module = dir.join("01-getting-started/module.json");
    let json = std::fs::read_to_string(&module).unwrap();
    std::fs::write(&module, json.replace("\"description\"", "\"summary\"")).unwrap();
    std::fs::remove_file(dir.join("labs/first-lab/step1/verify.sh")).unwrap();
    let broken = cli(data.path(), &["course", "validate", dir_arg]);
    assert_eq!(broken.status.code(), Some(1), "{}", text(&broken));
    let stdout = String::from_utf8_lossy(&broken.stdout);
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(
        lines,
        [
            format!(
                "{dir_arg}/labs/first-lab/index.json:10:9: `verify` names `step1/verify.sh`, \
                 which is missing (create labs/first-lab/step1/verify.sh, or remove `verify`)"
            ),
            format!(
                "{dir_arg}/01-getting-started/module.json:3:3: unknown field `summary` (remove \
                 it, or use one of: title, description, duration_minutes)"
            ),
        ]
    );
    assert!(text(&broken).contains("2 problem(s)"), "{}", text(&broken));

    let as_json = cli(data.path(), &["course", "validate", "--json", dir_arg]);
    assert_eq!(as_json.status.code(), Some(1), "{}", text(&as_json));
    let report: serde_json::Value = serde_json::from_slice(&as_json.stdout).unwrap();
    assert_eq!(report["valid"], false);
    assert_eq!(
        report["problems"][1]["file"],
        "01-getting-started/module.json"
    );
    assert_eq!(report["problems"][1]["line"], 3);
    assert_eq!(report["problems"][1]["column"], 3);
}

// Push and pull, over real HTTP ----------------------------------------------------------------

/// Every file of a package folder but its `.skilltrack/` state, with its bytes.
fn snapshot(dir: &Path) -> std::collections::BTreeMap<String, Vec<u8>> {
    fn walk(root: &Path, dir: &Path, out: &mut std::collections::BTreeMap<String, Vec<u8>>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let entry = entry.unwrap();
            let path = entry.path();
            if entry.file_name().to_string_lossy().starts_with('.') {
                continue;
            }
            if path.is_dir() {
                walk(root, &path, out);
            } else {
                let rel = path.strip_prefix(root).unwrap().display().to_string();
                out.insert(rel, std::fs::read(&path).unwrap());
            }
        }
    }
    let mut out = std::collections::BTreeMap::new();
    walk(dir, dir, &mut out);
    out
}

/// The CLI against `server`, signed in with `data`'s session, off the test's runtime.
async fn cli_at(server: &str, data: &Path, args: &[&str]) -> Output {
    let server = server.to_owned();
    let data = data.to_owned();
    let args: Vec<String> = args.iter().map(|a| (*a).to_owned()).collect();
    tokio::task::spawn_blocking(move || {
        std::process::Command::new(skilltrack_tests::process::client_binary())
            .args(["--server", &server, "--token-store", "file"])
            .arg("--data-dir")
            .arg(&data)
            .args(&args)
            .env("SKILLTRACK_PASSWORD", "instructor-demo-pass")
            .env_remove("RUST_BACKTRACE")
            .output()
            .unwrap()
    })
    .await
    .unwrap()
}

/// A package with every kind of lesson the skeleton has, a video file, on the demo's service
/// and lab category.
fn write_package(data: &Path, dir: &Path) {
    let made = cli(data, &["course", "new", dir.to_str().unwrap()]);
    assert!(made.status.success(), "{}", text(&made));
    skilltrack_tests::point_package_at_the_demo(dir);
    skilltrack_tests::copy_demo_media(
        &dir.join("media"),
        &[
            ("intro-to-the-terminal.webm", "intro.webm"),
            ("intro-to-the-terminal.png", "intro.png"),
            ("intro-to-the-terminal.en.vtt", "intro.en.vtt"),
        ],
    );
    std::fs::write(
        dir.join("01-getting-started/09-a-video.md"),
        "---\ntitle: A video\ntype: video\nvideo: media/intro.webm\nposter: media/intro.png\n\
         captions.en: media/intro.en.vtt\n---\n\nNotes under the video.\n",
    )
    .unwrap();
}

#[tokio::test]
async fn push_is_idempotent_refuses_server_changes_and_pull_push_pull_is_byte_identical() {
    let server = skilltrack_tests::spawn_demo_server().await;
    let url = server.url.clone();
    let data = tempfile::tempdir().unwrap();
    let work = tempfile::tempdir().unwrap();
    let dir = work.path().join("packaged-shell");
    let dir_arg = dir.to_str().unwrap();
    write_package(data.path(), &dir);
    let signed_in = cli_at(
        &url,
        data.path(),
        &["sign-in", "--email", "instructor@skilltrack.dev"],
    )
    .await;
    assert!(signed_in.status.success(), "{}", text(&signed_in));

    // The first push creates everything, says so first, and uploads the video, its poster
    // and its captions.
    let first = cli_at(&url, data.path(), &["course", "push", dir_arg]).await;
    assert!(first.status.success(), "{}", text(&first));
    let out = text(&first);
    for line in [
        "+ create  course packaged-shell",
        "+ create  module getting-started",
        "+ create  lesson getting-started/welcome",
        "+ create  lesson getting-started/a-video",
        "+ create  assessment getting-started-quiz",
        "+ create  lab first-lab",
        "(3 media file(s) uploaded); it stays a draft",
    ] {
        assert!(out.contains(line), "{line:?} missing from:\n{out}");
    }

    // The same folder again: nothing changes.
    let again = cli_at(&url, data.path(), &["course", "push", dir_arg]).await;
    assert!(again.status.success(), "{}", text(&again));
    assert_eq!(
        String::from_utf8_lossy(&again.stdout),
        "Nothing to push: the server has this folder already.\n"
    );

    // Another instructor sees no such course, and cannot take its slug.
    let api = skilltrack_tests::api::Api::new(&url);
    let other = skilltrack_tests::api::session(
        &api.sign_in("instructor2@skilltrack.dev", "instructor2-demo-pass")
            .await,
    )
    .access_token;
    let theirs = api
        .get(
            "/api/v1/authoring/course-packages/packaged-shell",
            Some(&other),
        )
        .await;
    assert_eq!(theirs.status, reqwest::StatusCode::NOT_FOUND, "{theirs:?}");

    // pull → push → pull: the same bytes.
    let pulled = work.path().join("pulled");
    let pulled_arg = pulled.to_str().unwrap();
    let pull = cli_at(
        &url,
        data.path(),
        &["course", "pull", "packaged-shell", pulled_arg],
    )
    .await;
    assert!(pull.status.success(), "{}", text(&pull));
    let before = snapshot(&pulled);
    assert!(before.contains_key("course.json"), "{:?}", before.keys());
    // The video's poster and captions come back as the URLs they were uploaded at.
    let video = before
        .iter()
        .find(|(name, _)| name.ends_with("-a-video.md"))
        .map(|(_, bytes)| String::from_utf8_lossy(bytes).into_owned())
        .unwrap();
    assert!(
        video.contains("poster: /media/uploads/")
            && video.contains(".png\ncaptions.en: /media/uploads/"),
        "{video}"
    );
    assert!(
        before.contains_key("01-getting-started/01-welcome.md"),
        "{:?}",
        before.keys()
    );
    let valid = cli(data.path(), &["course", "validate", pulled_arg]);
    assert!(valid.status.success(), "{}", text(&valid));
    let push = cli_at(&url, data.path(), &["course", "push", pulled_arg]).await;
    assert!(push.status.success(), "{}", text(&push));
    assert!(text(&push).contains("Nothing to push"), "{}", text(&push));
    let pull = cli_at(
        &url,
        data.path(),
        &["course", "pull", "packaged-shell", pulled_arg],
    )
    .await;
    assert!(pull.status.success(), "{}", text(&pull));
    assert_eq!(snapshot(&pulled), before);

    // A change on the server: the folder that has not seen it is refused, with the reason.
    let me = skilltrack_tests::api::session(
        &api.sign_in("instructor@skilltrack.dev", "instructor-demo-pass")
            .await,
    )
    .access_token;
    let course = api
        .get(
            "/api/v1/authoring/course-packages/packaged-shell",
            Some(&me),
        )
        .await;
    let id = course.body["course_id"].as_str().unwrap().to_owned();
    let renamed = api
        .call(
            reqwest::Method::PATCH,
            &format!("/api/v1/authoring/courses/{id}"),
            Some(&me),
            Some(serde_json::json!({"title": "Renamed on the server"})),
        )
        .await;
    assert_eq!(renamed.status, reqwest::StatusCode::OK, "{renamed:?}");
    let lesson = dir.join("01-getting-started/01-welcome.md");
    let edited = std::fs::read_to_string(&lesson).unwrap() + "\nOne more line.\n";
    std::fs::write(&lesson, edited).unwrap();
    let refused = cli_at(&url, data.path(), &["course", "push", dir_arg]).await;
    assert_eq!(refused.status.code(), Some(1), "{}", text(&refused));
    assert!(
        text(&refused).contains("was changed on the server since this folder was last pulled"),
        "{}",
        text(&refused)
    );
    let forced = cli_at(&url, data.path(), &["course", "push", "--force", dir_arg]).await;
    assert!(forced.status.success(), "{}", text(&forced));
    let out = text(&forced);
    assert!(out.contains("~ update  course packaged-shell"), "{out}");
    assert!(
        out.contains("~ update  lesson getting-started/welcome"),
        "{out}"
    );
    assert!(out.contains("(0 media file(s) uploaded)"), "{out}");

    // Still a draft; --publish publishes, and the catalog shows it to anyone.
    let hidden = api.get(&format!("/api/v1/courses/{id}"), None).await;
    assert_eq!(hidden.status, reqwest::StatusCode::NOT_FOUND, "{hidden:?}");
    let published = cli_at(&url, data.path(), &["course", "push", "--publish", dir_arg]).await;
    assert!(published.status.success(), "{}", text(&published));
    assert!(
        text(&published).contains("* publish course packaged-shell"),
        "{}",
        text(&published)
    );
    let shown = api.get(&format!("/api/v1/courses/{id}"), None).await;
    assert_eq!(shown.status, reqwest::StatusCode::OK, "{shown:?}");
}

#[tokio::test]
async fn a_push_names_every_broken_rule_and_another_instructors_slug_is_refused() {
    let server = skilltrack_tests::spawn_demo_server().await;
    let api = skilltrack_tests::api::Api::new(&server.url);
    let me = skilltrack_tests::api::session(
        &api.sign_in("instructor@skilltrack.dev", "instructor-demo-pass")
            .await,
    )
    .access_token;
    let lesson = |slug: &str, title: &str| serde_json::json!({"slug": slug, "lesson": {"title": title, "content_type": "text", "content_body": "Hi"}});
    let tree = |slug: &str, service: &str| {
        serde_json::json!({
            "course": {"slug": slug, "service_id": "00000000-0000-0000-0000-000000000000",
                       "title": "T", "description": "D", "duration": "1 hour", "level": "Beginner"},
            "service": service, "tags": [], "prerequisites": [],
            "modules": [{"slug": "m", "module": {"title": "M"},
                         "lessons": [lesson("a", ""), lesson("a", "Second"), lesson("Bad Slug", "x")]}],
            "assessments": [], "labs": []
        })
    };
    let put = |body: serde_json::Value| {
        let api = &api;
        let me = &me;
        async move {
            api.call(
                reqwest::Method::PUT,
                "/api/v1/authoring/course-packages",
                Some(me),
                Some(serde_json::json!({"tree": body})),
            )
            .await
        }
    };
    let broken = put(tree("new-course", "software-development")).await;
    assert_eq!(
        broken.status,
        reqwest::StatusCode::UNPROCESSABLE_ENTITY,
        "{broken:?}"
    );
    assert_eq!(
        broken.pointers(),
        [
            "/tree/modules/0/lessons/1/slug",
            "/tree/modules/0/lessons/2/slug",
            "/tree/modules/0/lessons/0/lesson/title",
        ]
    );
    let mut fixed = tree("new-course", "no-such-service");
    fixed["modules"][0]["lessons"] = serde_json::json!([lesson("a", "First")]);
    let unknown = put(fixed.clone()).await;
    assert_eq!(unknown.code(), "validation_failed", "{unknown:?}");
    assert_eq!(unknown.pointers(), ["/tree/service"]);
    // The demo's other instructor owns this slug.
    fixed["service"] = "software-development".into();
    fixed["course"]["slug"] = "web-application-security".into();
    let taken = put(fixed).await;
    assert_eq!(taken.status, reqwest::StatusCode::CONFLICT, "{taken:?}");
    assert_eq!(taken.code(), "slug_taken");
}

/// Issue 15: the demo catalog is packages. Every demo course, pulled by its instructor, is its
/// folder under `server/seed/courses/` byte for byte, and pushing that folder back changes
/// nothing: `seed-demo` and `push` read the same packages to the same rows.
#[tokio::test]
async fn every_demo_course_pulls_back_as_its_package_and_pushing_it_changes_nothing() {
    use skilltrack_protocol::course_packages::{CoursePushReport, PulledCourse};

    let server = skilltrack_tests::spawn_demo_server().await;
    let api = skilltrack_tests::api::Api::new(&server.url);
    let seed = Path::new(env!("CARGO_MANIFEST_DIR")).join("../server/seed");
    let catalog: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(seed.join("demo-catalog.json")).unwrap())
            .unwrap();
    let mut tokens = std::collections::HashMap::new();
    let mut checked = 0;
    for entry in catalog["courses"].as_array().unwrap() {
        let slug = entry["package"].as_str().unwrap();
        let instructor = entry["instructor"].as_str().unwrap();
        if !tokens.contains_key(instructor) {
            let password = format!("{}-demo-pass", instructor.split('@').next().unwrap());
            let token = skilltrack_tests::api::session(&api.sign_in(instructor, &password).await)
                .access_token;
            tokens.insert(instructor.to_owned(), token);
        }
        let token = &tokens[instructor];
        let got = api
            .get(
                &format!("/api/v1/authoring/course-packages/{slug}"),
                Some(token),
            )
            .await;
        assert_eq!(got.status, reqwest::StatusCode::OK, "{slug}: {got:?}");
        let pulled: PulledCourse = serde_json::from_value(got.body.clone()).unwrap();
        assert_eq!(
            pulled.is_published,
            entry["is_published"].as_bool().unwrap(),
            "{slug}"
        );
        let files: std::collections::BTreeMap<String, Vec<u8>> =
            skilltrack_package::tree::write_tree(&pulled.tree)
                .into_iter()
                .collect();
        let package = snapshot(&seed.join("courses").join(slug));
        assert_eq!(
            files.keys().collect::<Vec<_>>(),
            package.keys().collect::<Vec<_>>(),
            "{slug}: the pull writes the package's files"
        );
        let differ: Vec<&String> = package
            .iter()
            .filter(|(path, bytes)| files[*path] != **bytes)
            .map(|(path, _)| path)
            .collect();
        if let Some(path) = differ.first() {
            assert_eq!(
                String::from_utf8_lossy(&files[*path]),
                String::from_utf8_lossy(&package[*path]),
                "{slug}/{path}: the pull writes the file as it is in the repository \
                 (and {} other file(s) differ: {differ:?})",
                differ.len() - 1
            );
        }
        let pushed = api
            .call(
                reqwest::Method::PUT,
                "/api/v1/authoring/course-packages",
                Some(token),
                Some(serde_json::json!({
                    "tree": got.body["tree"],
                    "base_revision": pulled.revision,
                    "dry_run": true,
                })),
            )
            .await;
        assert_eq!(pushed.status, reqwest::StatusCode::OK, "{slug}: {pushed:?}");
        let report: CoursePushReport = serde_json::from_value(pushed.body).unwrap();
        assert!(
            report.changes.is_empty(),
            "{slug}: pushing the package changes nothing; it would change {:?}",
            report.changes
        );
        checked += 1;
    }
    assert_eq!(checked, 13, "every demo course is checked");
}
