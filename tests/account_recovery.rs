//! Accounts people can recover (issue 20, part 4): a password reset and an address confirmation
//! by mail, end to end, with a real SMTP server (Python's aiosmtpd, started by the test) that
//! receives the real message; the links' pages followed as a browser would (GET the page, POST
//! its form); an admin's reset for servers without mail.

use reqwest::StatusCode;
use serde_json::json;
use sha2::Digest as _;
use skilltrack_server::http::recovery::RecoveryLimits;
use skilltrack_tests::api::{Answer, Api, session};
use skilltrack_tests::smtp::{Received, SMTP_PASSWORD, SMTP_USER, SmtpSink};
use skilltrack_tests::{ServerProcess, TestServer, spawn_server, spawn_server_with_mail};
use uuid::Uuid;

const OLD_PASSWORD: &str = "correct horse battery";
const NEW_PASSWORD: &str = "a brand new passphrase";

/// Room for every mail a scenario sends; the limits have tests of their own.
fn roomy() -> RecoveryLimits {
    RecoveryLimits {
        per_address: 50,
        per_account: 50,
        ..RecoveryLimits::default()
    }
}

/// A page answer: status, headers, HTML.
struct Page {
    status: StatusCode,
    headers: reqwest::header::HeaderMap,
    html: String,
}

impl Page {
    fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
    }

    /// The `data-code` the page states (`link_used`, `password_changed`, …).
    fn code(&self) -> Option<&str> {
        self.html
            .split("data-code=\"")
            .nth(1)
            .and_then(|rest| rest.split('"').next())
    }
}

/// What a browser does: no redirects followed by surprise, no cookies needed.
fn browser() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

async fn open(url: &str) -> Page {
    let res = browser()
        .get(url)
        .header("accept", "text/html,application/xhtml+xml,*/*;q=0.8")
        .send()
        .await
        .unwrap();
    Page {
        status: res.status(),
        headers: res.headers().clone(),
        html: res.text().await.unwrap(),
    }
}

/// Posts a form as a browser does (`application/x-www-form-urlencoded`) to the page's `action`,
/// resolved against the page's own address.
async fn submit(page_url: &str, page: &Page, fields: &[(&str, &str)]) -> Page {
    let action = page
        .html
        .split("<form method=\"post\" action=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap_or_else(|| panic!("no form in {}", page.html));
    let target = reqwest::Url::parse(page_url).unwrap().join(action).unwrap();
    // The hidden fields as the page wrote them, then what the person typed.
    let mut form: Vec<(String, String)> = page
        .html
        .split("<input type=\"hidden\" name=\"")
        .skip(1)
        .map(|rest| {
            let name = rest.split('"').next().unwrap().to_owned();
            let value = rest
                .split("value=\"")
                .nth(1)
                .and_then(|v| v.split('"').next())
                .unwrap()
                .to_owned();
            (name, value)
        })
        .collect();
    form.extend(
        fields
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned())),
    );
    post_form(target.as_str(), &form).await
}

async fn post_form(url: &str, form: &[(String, String)]) -> Page {
    let res = browser().post(url).form(form).send().await.unwrap();
    Page {
        status: res.status(),
        headers: res.headers().clone(),
        html: res.text().await.unwrap(),
    }
}

fn token_of(link: &str) -> String {
    reqwest::Url::parse(link)
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == "token")
        .map_or_else(|| panic!("no token in {link}"), |(_, v)| v.into_owned())
}

async fn ask_reset(api: &Api, email: &str) -> Answer {
    api.post(
        "/api/v1/auth/password-reset",
        None,
        json!({ "email": email }),
    )
    .await
}

/// The newest message to `to` whose subject starts with `subject`.
fn newest(messages: &[Received], to: &str, subject: &str) -> Received {
    messages
        .iter()
        .rev()
        .find(|m| m.rcpt_tos == [to] && m.header("subject").starts_with(subject))
        .unwrap_or_else(|| panic!("no {subject:?} mail to {to} in {messages:?}"))
        .clone()
}

async fn reset_mail(sink: &SmtpSink, count: usize, to: &str) -> Received {
    newest(&sink.wait_for(count).await, to, "Reset your")
}

async fn sign_in_status(api: &Api, email: &str, password: &str) -> (StatusCode, String) {
    let a = api.sign_in(email, password).await;
    let code = if a.status.is_success() {
        String::new()
    } else {
        a.code()
    };
    (a.status, code)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_forgotten_password_is_reset_from_the_mailed_link_on_the_servers_page() {
    let sink = SmtpSink::start();
    let server: TestServer = spawn_server_with_mail(&sink.url, roomy()).await;
    let api = Api::new(&server.url);
    let before = api.sign_up("ada@example.com", OLD_PASSWORD, "Ada").await;
    // Sign-up mails a confirmation link: message 1.
    sink.wait_for(1).await;

    let asked = ask_reset(&api, "  ADA@example.com ").await;
    assert_eq!(asked.status, StatusCode::ACCEPTED, "{asked:?}");
    let mail = reset_mail(&sink, 2, "ada@example.com").await;
    assert_eq!(mail.mail_from, "no-reply@skilltrack.test");
    assert_eq!(mail.header("to"), "ada@example.com");
    assert!(mail.header("from").contains("no-reply@skilltrack.test"));
    assert_eq!(
        mail.header("subject"),
        "Reset your Skilltrack (tests) password"
    );
    let link = mail.link("/account/reset-password?token=");
    assert!(link.starts_with(&format!("{}/account/reset-password?token=", server.url)));
    let token = token_of(&link);
    // Only the token's hash is stored.
    let stored: Vec<Vec<u8>> = sqlx::query_scalar(
        "SELECT token_hash FROM auth.account_tokens WHERE purpose = 'password_reset'",
    )
    .fetch_all(server.db.owner())
    .await
    .unwrap();
    assert_eq!(stored, [sha2::Sha256::digest(token.as_bytes()).to_vec()]);

    // The page: a form, no script, nothing fetched, nothing sent on to other sites.
    let page = open(&link).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.html);
    assert_eq!(page.header("content-type"), "text/html; charset=utf-8");
    let csp = page.header("content-security-policy");
    assert!(
        csp.contains("default-src 'none'") && csp.contains("form-action 'self'"),
        "{csp}"
    );
    assert_eq!(page.header("referrer-policy"), "no-referrer");
    assert_eq!(page.header("cache-control"), "no-store");
    assert!(!page.html.contains("<script"), "{}", page.html);
    assert!(page.html.contains("ada@example.com"));
    // Opening the page again does not use the link (mail scanners open links too).
    assert_eq!(open(&link).await.status, StatusCode::OK);

    // Two passwords that differ, or one too short: the form again, the link still good.
    let differ = submit(
        &link,
        &page,
        &[
            ("password", NEW_PASSWORD),
            ("password_again", "another one entirely"),
        ],
    )
    .await;
    assert_eq!(differ.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(differ.code(), Some("invalid_password"));
    assert!(
        differ.html.contains("The two passwords differ"),
        "{}",
        differ.html
    );
    let short = submit(
        &link,
        &page,
        &[("password", "short"), ("password_again", "short")],
    )
    .await;
    assert_eq!(short.status, StatusCode::UNPROCESSABLE_ENTITY);

    let done = submit(
        &link,
        &page,
        &[("password", NEW_PASSWORD), ("password_again", NEW_PASSWORD)],
    )
    .await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.html);
    assert_eq!(done.code(), Some("password_changed"));

    // Every session the account had is over: its refresh token and its access token.
    let refreshed = api.refresh(&before.refresh_token).await;
    assert_eq!(refreshed.status, StatusCode::UNAUTHORIZED);
    assert_eq!(refreshed.code(), "session_revoked");
    let me = api.get("/api/v1/me", Some(&before.access_token)).await;
    assert_eq!(me.status, StatusCode::UNAUTHORIZED, "{me:?}");
    // The old password no longer works; the new one does.
    assert_eq!(
        sign_in_status(&api, "ada@example.com", OLD_PASSWORD).await,
        (StatusCode::UNAUTHORIZED, "invalid_credentials".to_owned())
    );
    let after = session(&api.sign_in("ada@example.com", NEW_PASSWORD).await);
    // A reset by mail proves the address receives mail: it is confirmed too.
    assert!(after.user.is_verified);

    // The link works once: its page, its form and the API all say so, with a stable code.
    let used = open(&link).await;
    assert_eq!(
        (used.status, used.code()),
        (StatusCode::GONE, Some("link_used"))
    );
    assert!(used.html.contains("Forgot password?"), "{}", used.html);
    let again = post_form(
        &format!("{}/account/reset-password", server.url),
        &[
            ("token".to_owned(), token.clone()),
            ("password".to_owned(), "yet another password".to_owned()),
            (
                "password_again".to_owned(),
                "yet another password".to_owned(),
            ),
        ],
    )
    .await;
    assert_eq!(
        (again.status, again.code()),
        (StatusCode::GONE, Some("link_used"))
    );
    let by_api = api
        .post(
            "/api/v1/auth/password-reset/complete",
            None,
            json!({"token": token, "password": "yet another password"}),
        )
        .await;
    assert_eq!(by_api.status, StatusCode::GONE);
    assert_eq!(by_api.code(), "link_used");
    assert_eq!(
        sign_in_status(&api, "ada@example.com", NEW_PASSWORD)
            .await
            .0,
        StatusCode::OK
    );

    // Two links asked for: using the newer uses up the older.
    ask_reset(&api, "ada@example.com").await;
    let older = reset_mail(&sink, 3, "ada@example.com").await.link("token=");
    ask_reset(&api, "ada@example.com").await;
    let newer = reset_mail(&sink, 4, "ada@example.com").await.link("token=");
    assert_ne!(older, newer);
    let answer = api
        .post(
            "/api/v1/auth/password-reset/complete",
            None,
            json!({"token": token_of(&newer), "password": "the third password"}),
        )
        .await;
    assert_eq!(answer.status, StatusCode::NO_CONTENT, "{answer:?}");
    assert_eq!(
        sign_in_status(&api, "ada@example.com", "the third password")
            .await
            .0,
        StatusCode::OK
    );
    let older_page = open(&older).await;
    assert_eq!(
        (older_page.status, older_page.code()),
        (StatusCode::GONE, Some("link_used"))
    );

    // An expired link: an hour is up.
    ask_reset(&api, "ada@example.com").await;
    let expiring = reset_mail(&sink, 5, "ada@example.com").await.link("token=");
    sqlx::query(
        "UPDATE auth.account_tokens SET created_at = now() - interval '2 hours',
                expires_at = now() - interval '1 hour'
         WHERE token_hash = $1",
    )
    .bind(sha2::Sha256::digest(token_of(&expiring).as_bytes()).to_vec())
    .execute(server.db.owner())
    .await
    .unwrap();
    let expired = open(&expiring).await;
    assert_eq!(
        (expired.status, expired.code()),
        (StatusCode::GONE, Some("link_expired"))
    );
    let by_api = api
        .post(
            "/api/v1/auth/password-reset/complete",
            None,
            json!({"token": token_of(&expiring), "password": "a fourth password"}),
        )
        .await;
    assert_eq!(
        (by_api.status, by_api.code()),
        (StatusCode::GONE, "link_expired".to_owned())
    );

    // A link cut short, or made up.
    let made_up = open(&format!(
        "{}/account/reset-password?token=not-a-token",
        server.url
    ))
    .await;
    assert_eq!(
        (made_up.status, made_up.code()),
        (StatusCode::NOT_FOUND, Some("link_invalid"))
    );
    let none = open(&format!("{}/account/reset-password", server.url)).await;
    assert_eq!(
        (none.status, none.code()),
        (StatusCode::NOT_FOUND, Some("link_invalid"))
    );
    // Nothing a link carries is a password that signs in.
    assert_eq!(
        sign_in_status(&api, "ada@example.com", "a fourth password")
            .await
            .0,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_mailed_confirmation_link_confirms_the_address() {
    let sink = SmtpSink::start();
    let server = spawn_server_with_mail(&sink.url, roomy()).await;
    let api = Api::new(&server.url);
    let grace = api
        .sign_up("grace@example.com", OLD_PASSWORD, "Grace")
        .await;
    assert!(!grace.user.is_verified);
    let mail = newest(
        &sink.wait_for(1).await,
        "grace@example.com",
        "Confirm your e-mail address",
    );
    let link = mail.link("/account/confirm-email?token=");

    let page = open(&link).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.html);
    assert!(page.html.contains("grace@example.com"));
    assert!(!page.html.contains("<script"));
    // Opening it confirms nothing yet.
    let me = api.get("/api/v1/me", Some(&grace.access_token)).await;
    assert_eq!(me.body["is_verified"], false);

    let done = submit(&link, &page, &[]).await;
    assert_eq!(
        (done.status, done.code()),
        (StatusCode::OK, Some("email_confirmed")),
        "{}",
        done.html
    );
    let me = api.get("/api/v1/me", Some(&grace.access_token)).await;
    assert_eq!(me.body["is_verified"], true, "{me:?}");
    let confirmed: bool =
        sqlx::query_scalar("SELECT email_confirmed_at IS NOT NULL FROM auth.users WHERE id = $1")
            .bind(grace.user.id)
            .fetch_one(server.db.owner())
            .await
            .unwrap();
    assert!(confirmed);

    // Once only; and a confirmed address needs no new link.
    let again = submit(&link, &page, &[]).await;
    assert_eq!(
        (again.status, again.code()),
        (StatusCode::GONE, Some("link_used"))
    );
    let more = api
        .post(
            "/api/v1/auth/email-confirmation",
            Some(&grace.access_token),
            json!({}),
        )
        .await;
    assert_eq!(more.status, StatusCode::CONFLICT);
    assert_eq!(more.code(), "email_already_confirmed");

    // Someone who lost the first mail asks for another, signed in.
    let alan = api.sign_up("alan@example.com", OLD_PASSWORD, "Alan").await;
    sink.wait_for(2).await;
    let asked = api
        .post(
            "/api/v1/auth/email-confirmation",
            Some(&alan.access_token),
            json!({}),
        )
        .await;
    assert_eq!(asked.status, StatusCode::ACCEPTED, "{asked:?}");
    let second = newest(
        &sink.wait_for(3).await,
        "alan@example.com",
        "Confirm your e-mail address",
    );
    let page = open(&second.link("token=")).await;
    assert_eq!(
        submit(&second.link("token="), &page, &[]).await.code(),
        Some("email_confirmed")
    );
    // Without signing in, no link is mailed.
    let anonymous = api
        .post("/api/v1/auth/email-confirmation", None, json!({}))
        .await;
    assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED);
}

/// Asking for a reset never tells whether an account has the address: the same status, body
/// and headers for a known and an unknown address, with or without mail, and rate limits that
/// count unknown addresses too.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn asking_for_a_reset_answers_alike_for_unknown_addresses() {
    let same = |a: &Answer, b: &Answer| {
        assert_eq!(a.status, b.status);
        assert_eq!(a.body, b.body);
        let names = |x: &Answer| {
            let mut n: Vec<String> = x
                .headers
                .keys()
                .map(ToString::to_string)
                .filter(|h| h != "date" && h != "x-request-id")
                .collect();
            n.sort();
            n
        };
        assert_eq!(names(a), names(b));
        for h in ["content-type", "content-length", "retry-after"] {
            assert_eq!(a.headers.get(h), b.headers.get(h), "{h}");
        }
    };

    // With mail.
    let sink = SmtpSink::start();
    let server = spawn_server_with_mail(
        &sink.url,
        RecoveryLimits {
            per_address: 2,
            per_account: 2,
            ..RecoveryLimits::default()
        },
    )
    .await;
    let api = Api::new(&server.url);
    api.sign_up("known@example.com", OLD_PASSWORD, "Known")
        .await;
    sink.wait_for(1).await;
    let unknown = ask_reset(&api, "nobody@example.com").await;
    let known = ask_reset(&api, "known@example.com").await;
    assert_eq!(known.status, StatusCode::ACCEPTED);
    same(&known, &unknown);
    // Only the account's owner got mail.
    let all = sink.wait_for(2).await;
    assert!(all.iter().all(|m| m.rcpt_tos != ["nobody@example.com"]));
    // The account's mails are limited without a word: past two (the sign-up's confirmation and
    // one reset), the answer stays the same and nothing more is issued.
    let known = ask_reset(&api, "known@example.com").await;
    let unknown = ask_reset(&api, "nobody@example.com").await;
    same(&known, &unknown);
    let issued: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM auth.account_tokens WHERE purpose = 'password_reset'",
    )
    .fetch_one(server.db.owner())
    .await
    .unwrap();
    assert_eq!(issued, 1);
    // Per address: the third request is refused alike, known or not, whatever its case.
    let known = ask_reset(&api, "Known@Example.com").await;
    let unknown = ask_reset(&api, "NOBODY@example.com").await;
    assert_eq!(known.status, StatusCode::TOO_MANY_REQUESTS);
    same(&known, &unknown);
    // Not an address at all is a field error, whatever the accounts.
    let bad = ask_reset(&api, "not an address").await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(bad.pointers(), ["/email"]);

    // Without mail: the same answer again, and nothing breaks.
    let plain = spawn_server().await;
    let api = Api::new(&plain.url);
    api.sign_up("known@example.com", OLD_PASSWORD, "Known")
        .await;
    let known = ask_reset(&api, "known@example.com").await;
    let unknown = ask_reset(&api, "nobody@example.com").await;
    assert_eq!(known.status, StatusCode::ACCEPTED);
    same(&known, &unknown);
    let issued: i64 = sqlx::query_scalar("SELECT count(*) FROM auth.account_tokens")
        .fetch_one(plain.db.owner())
        .await
        .unwrap();
    assert_eq!(issued, 0, "no link is made that no mail can carry");
    // A signed-in user asking for a confirmation link is told this server sends no mail.
    let session = session(&api.sign_in("known@example.com", OLD_PASSWORD).await);
    let asked = api
        .post(
            "/api/v1/auth/email-confirmation",
            Some(&session.access_token),
            json!({}),
        )
        .await;
    assert_eq!(asked.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(asked.code(), "mail_not_configured");
}

async fn put_password(api: &Api, token: Option<&str>, user: Uuid, password: &str) -> Answer {
    api.call(
        reqwest::Method::PUT,
        &format!("/api/v1/admin/users/{user}/password"),
        token,
        Some(json!({ "password": password })),
    )
    .await
}

/// Without mail, an admin sets a forgotten password; nobody else can.
#[tokio::test]
async fn an_admin_sets_a_password_and_nobody_else_can() {
    let server = spawn_server().await;
    let api = Api::new(&server.url);
    let admin = api
        .sign_up("admin@example.com", OLD_PASSWORD, "Admin")
        .await;
    let instructor = api
        .sign_up("teacher@example.com", OLD_PASSWORD, "Teacher")
        .await;
    let learner = api
        .sign_up("learner@example.com", OLD_PASSWORD, "Learner")
        .await;
    let victim = api
        .sign_up("forgetful@example.com", OLD_PASSWORD, "Forgetful")
        .await;
    for (id, role) in [(admin.user.id, "admin"), (instructor.user.id, "instructor")] {
        sqlx::query("UPDATE profiles SET role = $2::user_role WHERE id = $1")
            .bind(id)
            .bind(role)
            .execute(server.db.owner())
            .await
            .unwrap();
    }

    // Learners and instructors get 403, for another user or themselves; nobody signed in, 401.
    for (who, target) in [
        (&learner, victim.user.id),
        (&instructor, victim.user.id),
        (&learner, learner.user.id),
        (&instructor, admin.user.id),
    ] {
        let a = put_password(&api, Some(&who.access_token), target, "taken over!").await;
        assert_eq!(a.status, StatusCode::FORBIDDEN, "{a:?}");
        // Even a password that breaks the rules: who asks is checked first.
        let a = put_password(&api, Some(&who.access_token), target, "x").await;
        assert_eq!(a.status, StatusCode::FORBIDDEN, "{a:?}");
    }
    let a = put_password(&api, None, victim.user.id, "taken over!").await;
    assert_eq!(a.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        sign_in_status(&api, "forgetful@example.com", OLD_PASSWORD)
            .await
            .0,
        StatusCode::OK
    );

    // The admin: rules, unknown users, then the reset itself.
    let short = put_password(&api, Some(&admin.access_token), victim.user.id, "short").await;
    assert_eq!(short.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(short.pointers(), ["/password"]);
    // Not their own: it would end the admin's own sessions mid-task.
    let own = put_password(&api, Some(&admin.access_token), admin.user.id, NEW_PASSWORD).await;
    assert_eq!(own.status, StatusCode::FORBIDDEN);
    assert_eq!(own.code(), "own_password");
    let nobody = put_password(
        &api,
        Some(&admin.access_token),
        Uuid::now_v7(),
        NEW_PASSWORD,
    )
    .await;
    assert_eq!(nobody.status, StatusCode::NOT_FOUND);
    let done = put_password(
        &api,
        Some(&admin.access_token),
        victim.user.id,
        NEW_PASSWORD,
    )
    .await;
    assert_eq!(done.status, StatusCode::NO_CONTENT, "{done:?}");

    assert_eq!(
        sign_in_status(&api, "forgetful@example.com", OLD_PASSWORD).await,
        (StatusCode::UNAUTHORIZED, "invalid_credentials".to_owned())
    );
    assert_eq!(
        sign_in_status(&api, "forgetful@example.com", NEW_PASSWORD)
            .await
            .0,
        StatusCode::OK
    );
    // The sessions signed in with the old password are over.
    let refreshed = api.refresh(&victim.refresh_token).await;
    assert_eq!(refreshed.code(), "session_revoked");
    let me = api.get("/api/v1/me", Some(&victim.access_token)).await;
    assert_eq!(me.status, StatusCode::UNAUTHORIZED);
    // Nobody else was touched.
    assert_eq!(
        sign_in_status(&api, "learner@example.com", OLD_PASSWORD)
            .await
            .0,
        StatusCode::OK
    );
    let me = api.get("/api/v1/me", Some(&learner.access_token)).await;
    assert_eq!(me.status, StatusCode::OK);
}

/// The real binary: without SMTP it says so at start; with `SKILLTRACK_SMTP_URL` (a password
/// in it) and `--mail-from` it mails a working link, authenticates to the SMTP server with the
/// URL's credentials, and never writes the SMTP password, a link's token or a new password to
/// its log.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_server_binary_sends_reset_mail_as_its_settings_say_and_logs_no_secret() {
    let data = skilltrack_tests::process::data_dir();
    let mut plain = ServerProcess::start(data.path());
    let said = plain.startup_log.join("\n");
    assert!(said.contains("no SMTP server is configured"), "{said}");
    plain.terminate();

    let sink = SmtpSink::start();
    let port = sink.url.rsplit(':').next().unwrap().to_owned();
    let smtp_url = format!("smtp://{SMTP_USER}:{SMTP_PASSWORD}@127.0.0.1:{port}");
    let mut server = ServerProcess::start_with(
        data.path(),
        &[],
        &[
            ("SKILLTRACK_SMTP_URL", smtp_url.as_str()),
            (
                "SKILLTRACK_MAIL_FROM",
                "Skilltrack <no-reply@skilltrack.test>",
            ),
            ("RUST_LOG", "debug"),
        ],
    );
    let said = server.startup_log.join("\n");
    assert!(
        said.contains(&format!("sent through SMTP at 127.0.0.1:{port}")),
        "{said}"
    );
    let api = Api::new(&server.url);
    api.sign_up("lin@example.com", OLD_PASSWORD, "Lin").await;
    assert_eq!(
        ask_reset(&api, "lin@example.com").await.status,
        StatusCode::ACCEPTED
    );
    let mail = reset_mail(&sink, 2, "lin@example.com").await;
    assert_eq!(mail.auth_user.as_deref(), Some(SMTP_USER));
    let link = mail.link("/account/reset-password?token=");
    // No --public-url: the links name the address the server listens on.
    assert!(
        link.starts_with(&format!("{}/account/reset-password?token=", server.url)),
        "{link}"
    );
    let page = open(&link).await;
    let done = submit(
        &link,
        &page,
        &[("password", NEW_PASSWORD), ("password_again", NEW_PASSWORD)],
    )
    .await;
    assert_eq!(done.code(), Some("password_changed"), "{}", done.html);
    assert_eq!(
        sign_in_status(&api, "lin@example.com", NEW_PASSWORD)
            .await
            .0,
        StatusCode::OK
    );

    server.terminate();
    let mut log = server.startup_log.clone();
    log.extend(server.log.try_iter());
    let log = log.join("\n");
    assert!(log.contains("account mail sent"), "{log}");
    for secret in [SMTP_PASSWORD, token_of(&link).as_str(), NEW_PASSWORD] {
        assert!(!log.contains(secret), "the log holds {secret:?}:\n{log}");
    }
}

/// Issue 17 (decision 340): the mails go out in the account's language, as its profile says
/// (`fr-CA` is French): the reset mail and the confirmation mail of a French learner are in
/// French, and their links work as the English ones do.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn issue17_a_french_learner_is_mailed_in_french() {
    let sink = SmtpSink::start();
    let server = spawn_server_with_mail(&sink.url, roomy()).await;
    let api = Api::new(&server.url);
    let me = api
        .sign_up("amelie@example.com", OLD_PASSWORD, "Amélie")
        .await;
    // Signed up from an English default: the first confirmation mail is English.
    let first = sink.wait_for(1).await;
    assert_eq!(
        first[0].header("subject"),
        "Confirm your e-mail address for Skilltrack (tests)"
    );
    let chosen = api
        .call(
            reqwest::Method::PATCH,
            "/api/v1/me",
            Some(&me.access_token),
            Some(json!({"language": "fr-CA"})),
        )
        .await;
    assert_eq!(chosen.status, StatusCode::OK, "{chosen:?}");

    let asked = ask_reset(&api, "amelie@example.com").await;
    assert_eq!(asked.status, StatusCode::ACCEPTED, "{asked:?}");
    let mail = newest(
        &sink.wait_for(2).await,
        "amelie@example.com",
        "Réinitialisez",
    );
    assert_eq!(
        mail.header("subject"),
        "Réinitialisez votre mot de passe Skilltrack (tests)"
    );
    assert!(
        mail.text.contains("Pour choisir un nouveau mot de passe")
            && mail.text.contains("amelie@example.com")
            && !mail.text.contains("Someone"),
        "{}",
        mail.text
    );
    // The French link resets the password as the English one does.
    let link = mail.link("/account/reset-password?token=");
    let page = open(&link).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.html);

    let again = api
        .post(
            "/api/v1/auth/email-confirmation",
            Some(&me.access_token),
            json!({}),
        )
        .await;
    assert!(again.status.is_success(), "{again:?}");
    let confirmation = newest(&sink.wait_for(3).await, "amelie@example.com", "Confirmez");
    assert_eq!(
        confirmation.header("subject"),
        "Confirmez votre adresse e-mail pour Skilltrack (tests)"
    );
    assert!(
        confirmation
            .text
            .contains("ouvrez ce lien dans les 24 heures"),
        "{}",
        confirmation.text
    );
}
