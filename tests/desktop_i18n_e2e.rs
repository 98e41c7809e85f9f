//! The app speaks the learner's language (issue 17, "links and reach"): with the operating
//! system in French, every screen a learner and an instructor meet shows no English word of
//! ours, and Settings switches the language at once and keeps the choice.
//!
//! "English of ours" is read from the message catalogs themselves (`ui/src/lib/i18n/`): every
//! word that appears in an English message and in no French one. The check reads each screen's
//! text and its `aria-label`, `title`, `placeholder` and `alt` attributes, skipping what is not
//! ours to translate: course content (`data-content`, also where a label names it), text
//! marked with its own `lang` (the
//! server's or the engine's own words, as in a certificate check's detail), code and the
//! terminal.

use std::collections::BTreeSet;

use fantoccini::Client;
use serde_json::{Value, json};
use skilltrack_tests::desktop::{
    DesktopApp, click, desktop_binary, find, open, tour_instructor_screens, wait_text,
};
use skilltrack_tests::spawn_demo_server;

const LEARNER: &str = "learner@skilltrack.dev";
const LEARNER_PASSWORD: &str = "learner-demo-pass";

/// The words of a catalog's messages (`"key": "message",` lines), placeholders left out.
fn catalog_words(language: &str) -> BTreeSet<String> {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../ui/src/lib/i18n/").to_owned() + language;
    let mut words = BTreeSet::new();
    let mut files = 0;
    for entry in std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{dir}: {e}")) {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "ts") {
            continue;
        }
        files += 1;
        for line in std::fs::read_to_string(&path).unwrap().lines() {
            let Some((key, message)) = line.trim().split_once("\": \"") else {
                continue;
            };
            if !key.starts_with('"') {
                continue;
            }
            let message = message.trim_end_matches(',').trim_end_matches('"');
            words.extend(words_of(&strip_placeholders(message)));
        }
    }
    assert!(files >= 4, "{dir} holds the catalog's sections");
    words
}

fn strip_placeholders(message: &str) -> String {
    let mut out = String::new();
    let mut inside = false;
    for c in message.chars() {
        match c {
            '{' => inside = true,
            '}' => inside = false,
            _ if !inside => out.push(c),
            _ => {}
        }
    }
    out
}

/// Lower-case words of two letters or more.
fn words_of(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphabetic())
        .filter(|w| w.chars().count() >= 2)
        .map(str::to_lowercase)
        .collect()
}

/// Words only English messages use: what must not show when the app speaks French.
fn english_only() -> BTreeSet<String> {
    let french = catalog_words("fr");
    let english: BTreeSet<String> = catalog_words("en").difference(&french).cloned().collect();
    assert!(
        english.len() > 100 && english.contains("the") && english.contains("offline"),
        "the English catalog was read: {english:?}"
    );
    english
}

/// The window's own text and labels, without course content, code or the terminal.
async fn our_text(client: &Client) -> Vec<String> {
    let found = client
        .execute(
            r"
            const skipped = (el) => el.closest('[data-content], [lang]:not(html), code, pre, .xterm, script, style');
            const out = [];
            const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
            while (walker.nextNode()) {
              const node = walker.currentNode;
              const parent = node.parentElement;
              const text = node.textContent.trim();
              if (text && parent && !skipped(parent)) out.push(text);
            }
            // A label may name content (Download module Getting started): the content's
            // words are not ours.
            const content = [...document.querySelectorAll('[data-content]')]
              .map((e) => e.textContent.trim()).filter((t) => t.length > 0)
              .sort((a, b) => b.length - a.length);
            for (const el of document.body.querySelectorAll('[aria-label], [title], [placeholder], [alt]')) {
              if (skipped(el)) continue;
              for (const name of ['aria-label', 'title', 'placeholder', 'alt']) {
                let value = el.getAttribute(name);
                for (const c of content) value = value ? value.split(c).join(' ') : value;
                if (value) out.push(value);
              }
            }
            return out;",
            Vec::new(),
        )
        .await
        .expect("reading the window's text");
    match found {
        Value::Array(items) => items
            .into_iter()
            .filter_map(|v| v.as_str().map(str::to_owned))
            .collect(),
        other => panic!("reading the window's text gave {other}"),
    }
}

/// The English words of ours on the screen, each with the text it was found in.
async fn english_left(client: &Client, english: &BTreeSet<String>, screen: &str) -> Vec<String> {
    let mut left = Vec::new();
    for text in our_text(client).await {
        let words: Vec<String> = words_of(&text)
            .into_iter()
            .filter(|w| english.contains(w))
            .collect();
        if !words.is_empty() {
            left.push(format!("{screen}: {words:?} in {text:?}"));
        }
    }
    left
}

/// Waits until the demo learner's profile on the server says `language`.
async fn profile_language_becomes(server: &skilltrack_tests::TestServer, language: &str) {
    let user = skilltrack_server::db::seed::account_id(LEARNER);
    let deadline = std::time::Instant::now() + skilltrack_tests::desktop::PATIENCE;
    loop {
        let now: String = sqlx::query_scalar("SELECT language FROM profiles WHERE id = $1")
            .bind(user)
            .fetch_one(server.db.owner())
            .await
            .expect("the learner's profile");
        if now == language {
            return;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the profile's language is still {now:?}, not {language:?}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(150)).await;
    }
}

async fn choose_language(client: &Client, language: &str) {
    click(client, r#"[data-testid="nav-settings"]"#, "Settings").await;
    find(client, r#"[data-testid="language"]"#, "Settings").await;
    client
        .execute(
            "const s = document.querySelector('[data-testid=\"language\"]'); s.value = arguments[0];\
             s.dispatchEvent(new Event('change', { bubbles: true }));",
            vec![json!(language)],
        )
        .await
        .expect("choosing a language");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn issue17_with_the_system_in_french_no_screen_shows_english() {
    let server = spawn_demo_server().await;
    let data = tempfile::tempdir().expect("the app's data directory");
    let french = [("LC_ALL", "fr_FR.UTF-8")];
    let app =
        DesktopApp::launch_with_env(&desktop_binary(), &server.url, data.path(), &french).await;
    let client = &app.client;
    let english = english_only();
    let mut left = Vec::new();

    let step = "the sign-in screen follows the system's language";
    find(client, r#"[data-testid="sign-in"]"#, step).await;
    let lang = client
        .execute("return document.documentElement.lang;", Vec::new())
        .await
        .expect(step);
    assert_eq!(lang, json!("fr"), "{step}");
    left.extend(english_left(client, &english, "sign-in").await);
    let sign_in = r#"[data-testid="sign-in"]"#;
    let forms: &[(&str, &str, &str)] = &[
        (r#"[data-testid="toggle-sign-up"]"#, sign_in, "sign-up"),
        (
            r#"[data-testid="toggle-sign-up"]"#,
            sign_in,
            "sign-in again",
        ),
        (
            r#"[data-testid="forgot-password"]"#,
            r#"[data-testid="password-reset"]"#,
            "forgotten password",
        ),
        (
            r#"[data-testid="back-to-sign-in"]"#,
            r#"[data-testid="change-server"]"#,
            "sign-in, back",
        ),
        (
            r#"[data-testid="change-server"]"#,
            r#"[data-testid="use-server"]"#,
            "sign-in, changing the server",
        ),
    ];
    for (css, shown, screen) in forms {
        open(client, css, shown, screen).await;
        left.extend(english_left(client, &english, screen).await);
    }
    app.sign_in(LEARNER, LEARNER_PASSWORD).await;
    left.extend(english_left(client, &english, "catalog").await);

    // Every screen a learner meets, each with what it shows once open: (what to click, what
    // then shows, the screen's name).
    let course = skilltrack_server::seed::demo_id("course/intro-to-the-command-line");
    let item = format!(r#"[data-testid="learning-item"][data-course-id="{course}"]"#);
    let tour: &[(&str, &str, &str)] = &[
        (
            r#"[data-testid="nav-learning"]"#,
            item.as_str(),
            "my learning",
        ),
        (
            item.as_str(),
            r#"[data-testid="offline-download"]"#,
            "course",
        ),
        (
            r#"[data-testid="download-course"]"#,
            r#"[data-testid="download-plan"]"#,
            "course, download size",
        ),
        (
            r#"[data-testid="write-review"]"#,
            r#"[data-testid="review-form"]"#,
            "course, writing a review",
        ),
        (
            r#"[data-testid="lesson-link"][data-type="video"]"#,
            r#"[data-testid="transcript"]"#,
            "video lesson",
        ),
        (
            r#"[data-testid="next-lesson"]"#,
            r#"[data-testid="lesson-body"]"#,
            "text lesson",
        ),
        (
            r#"[data-testid="nav-learning"]"#,
            item.as_str(),
            "my learning, again",
        ),
        (
            item.as_str(),
            r#"[data-testid="assessment-link"]"#,
            "course, again",
        ),
        (
            r#"[data-testid="assessment-link"]:not([data-timed="true"])"#,
            r#"[data-testid="start-attempt"]"#,
            "quiz",
        ),
        (
            r#"[data-testid="start-attempt"]"#,
            r#"[data-testid="question"]"#,
            "quiz, answering",
        ),
        (
            r#"[data-testid="submit-attempt"]"#,
            r#"[data-testid="quiz-result"]"#,
            "quiz result",
        ),
        (
            r#"[data-testid="nav-labs"]"#,
            r#"[data-testid="lab-card"]"#,
            "labs",
        ),
        (
            r#"[data-testid="lab-card"]"#,
            r#"[data-testid="lab"]"#,
            "lab",
        ),
        (
            r#"[data-testid="nav-notifications"]"#,
            r#"[data-testid="notifications"]"#,
            "notifications",
        ),
        (
            r#"[data-testid="nav-settings"]"#,
            r#"[data-testid="settings-storage"]"#,
            "settings",
        ),
    ];
    for (css, shown, screen) in tour {
        open(client, css, shown, screen).await;
        left.extend(english_left(client, &english, screen).await);
    }

    // Settings switch the language at once, and back to the system's.
    choose_language(client, "en").await;
    wait_text(
        client,
        r#"[data-testid="nav-catalog"]"#,
        "choosing English in Settings",
        |t| t == "Catalog",
    )
    .await;
    // The choice reaches the learner's profile, so the server writes to them in it
    // (decision 341).
    profile_language_becomes(&server, "en").await;
    choose_language(client, "").await;
    wait_text(
        client,
        r#"[data-testid="nav-catalog"]"#,
        "choosing the system's language again",
        |t| t == "Catalogue",
    )
    .await;
    profile_language_becomes(&server, "fr-FR").await;

    // The instructor's screens.
    tour_instructor_screens(&app, async |screen| {
        left.extend(english_left(client, &english, screen).await);
    })
    .await;
    app.close().await;

    assert!(
        left.is_empty(),
        "{} texts still show English words of ours:\n{}",
        left.len(),
        left.join("\n")
    );
}
