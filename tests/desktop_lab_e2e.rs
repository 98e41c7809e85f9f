//! Labs from the desktop side, over the real server with real sandboxes:
//!
//! * the client engine alone (headless): its terminal connection types and reads the echo,
//!   loses the network (a proxy cuts every connection), reconnects by itself and gets the
//!   recent output replayed; the workspace's files through the engine's calls; sync and the
//!   terminal behind a TLS front (`https://`, `wss://`), trusted only when told to;
//! * the real app in its webview (Xvfb + `WebDriver`): the demo learner opens a lab, starts it,
//!   types into the xterm.js terminal and reads the output on its screen, loses and regains the
//!   network (the reconnect indicator), finds a file made in the shell in the file browser, and
//!   stops the lab. Screenshots `lab`, `lab-terminal`, `lab-files`;
//! * the lab's steps in the app: the learner checks step 1 and reads why it fails, presses Run
//!   on the step's code block (typed into the terminal), checks again and is on step 2, which
//!   the lab page still shows when opened again; the lab's instructor watches that session
//!   read-only (the learner's step and checks, nothing to press) and self-tests the lab.
//!   Screenshot `lab-steps`.

use std::time::{Duration, Instant};

use fantoccini::{Client, Locator};
use serde_json::json;
use skilltrack_client::api::ApiError;
use skilltrack_client::labs::{TerminalEvent, TerminalOptions, TerminalState};
use skilltrack_client::sync::SyncError;
use skilltrack_client::tokens::StoreKind;
use skilltrack_protocol::LabSessionStatus;
use skilltrack_protocol::labs::{LabStart, TerminalMode};
use skilltrack_tests::desktop::{
    DesktopApp, PATIENCE, click, fail, find, screenshot, text_of, type_into, wait_attr,
};
use skilltrack_tests::proxy::Proxy;
use skilltrack_tests::tls::TlsFront;
use tokio::sync::mpsc;

use crate::labs_api::LabWorld;

/// Output and states of a terminal as the engine hands them over.
struct Screen {
    events: mpsc::Receiver<TerminalEvent>,
    output: Vec<u8>,
    states: Vec<TerminalState>,
    readies: Vec<u64>,
}

impl Screen {
    /// Reads events until `done` says so; panics with what was seen after `limit`.
    async fn until(&mut self, what: &str, limit: Duration, done: impl Fn(&Self) -> bool) {
        let deadline = tokio::time::Instant::now() + limit;
        while !done(self) {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            match tokio::time::timeout(left, self.events.recv()).await {
                Ok(Some(TerminalEvent::Output(bytes))) => self.output.extend_from_slice(&bytes),
                Ok(Some(TerminalEvent::Ready { replayed_bytes, .. })) => {
                    self.readies.push(replayed_bytes);
                }
                Ok(Some(TerminalEvent::State(s))) => self.states.push(s),
                Ok(None) | Err(_) => panic!(
                    "{what}: never happened; states {:?}, output tail {:?}",
                    self.states,
                    String::from_utf8_lossy(&self.output[self.output.len().saturating_sub(800)..])
                ),
            }
        }
    }

    fn text_after(&self, from: usize) -> String {
        String::from_utf8_lossy(&self.output[from.min(self.output.len())..]).into_owned()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn desktop_lab_engine_syncs_and_opens_its_terminal_over_tls_trusting_only_what_it_is_told() {
    use skilltrack_client::tls::Trust;
    let w = LabWorld::new(|_| {}).await;
    let ana = w.learner("ana").await;
    let front = TlsFront::start(&w.server.url).await;

    // Not told to trust the front's authority: refused, and said so — not "offline".
    let strange = tempfile::tempdir().unwrap();
    let stranger =
        skilltrack_client::device::open(&front.url, strange.path(), &StoreKind::File).unwrap();
    stranger.adopt(ana.clone()).await.unwrap();
    let refused = stranger.sync_once().await.unwrap_err();
    assert!(
        matches!(refused, SyncError::Api(ApiError::Untrusted(_))),
        "{refused:?}"
    );
    assert!(
        refused.explain().contains("SKILLTRACK_CA_FILE"),
        "{}",
        refused.explain()
    );
    assert!(!stranger.status().borrow().online);

    // Told, with a CA file as `SKILLTRACK_CA_FILE` names one: sync and the terminal work.
    let data = tempfile::tempdir().unwrap();
    let ca_file = data.path().join("authority.pem");
    std::fs::write(&ca_file, &front.ca_pem).unwrap();
    let trust = Trust::with_ca_file(&ca_file).unwrap();
    let engine = std::sync::Arc::new(
        skilltrack_client::device::open_with_trust(
            &front.url,
            &data.path().join("device"),
            &StoreKind::File,
            &trust,
        )
        .unwrap(),
    );
    engine.adopt(ana.clone()).await.unwrap();
    let report = engine.sync_once().await.unwrap();
    assert!(report.pulled > 0, "{report:?}");
    let session = engine.start_lab(w.lab, &LabStart::default()).await.unwrap();
    let (terminal, events) = engine.open_terminal(session.id, TerminalOptions::default());
    let mut screen = Screen {
        events,
        output: Vec::new(),
        states: Vec::new(),
        readies: Vec::new(),
    };
    screen
        .until("ready over wss", Duration::from_secs(20), |s| {
            !s.readies.is_empty()
        })
        .await;
    terminal
        .input()
        .input(b"echo over-tls-$((40+2))\n".to_vec())
        .await;
    screen
        .until("the echo over wss", Duration::from_secs(20), |s| {
            s.text_after(0).contains("over-tls-42")
        })
        .await;
    let stopped = engine.stop_lab(session.id).await.unwrap();
    assert_eq!(stopped.status, LabSessionStatus::Completed);

    // A file that holds no certificate is refused with its name, not silently ignored.
    let empty = data.path().join("empty.pem");
    std::fs::write(&empty, "not a certificate\n").unwrap();
    let bad = Trust::with_ca_file(&empty).unwrap_err();
    assert!(bad.to_string().contains("empty.pem"), "{bad}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn desktop_lab_engine_terminal_reconnects_with_replay_and_manages_files() {
    let w = LabWorld::new(|_| {}).await;
    let ana = w.learner("ana").await;
    let proxy = Proxy::start(&w.server.url).await;
    let data = tempfile::tempdir().unwrap();
    let engine = std::sync::Arc::new(
        skilltrack_client::device::open(&proxy.url, data.path(), &StoreKind::File).unwrap(),
    );
    engine.adopt(ana.clone()).await.unwrap();

    let session = engine.start_lab(w.lab, &LabStart::default()).await.unwrap();
    assert_eq!(
        engine.live_lab_session(w.lab).await.unwrap().map(|s| s.id),
        Some(session.id)
    );
    let options = TerminalOptions {
        first_retry: Duration::from_millis(100),
        max_retry: Duration::from_millis(800),
        ..TerminalOptions::default()
    };
    let (terminal, events) = engine.open_terminal(session.id, options);
    let mut screen = Screen {
        events,
        output: Vec::new(),
        states: Vec::new(),
        readies: Vec::new(),
    };
    let input = terminal.input();
    screen
        .until("the first ready", Duration::from_secs(20), |s| {
            !s.readies.is_empty()
        })
        .await;
    assert_eq!(
        *terminal.state().borrow(),
        TerminalState::Connected {
            mode: TerminalMode::Interactive
        }
    );
    input.resize(101, 33).await;
    input
        .input(b"echo hello-$((6*7)); stty size\n".to_vec())
        .await;
    screen
        .until("the echo", Duration::from_secs(20), |s| {
            s.text_after(0).contains("hello-42") && s.text_after(0).contains("33 101")
        })
        .await;

    // The network goes away: the engine notices and keeps trying, with backoff.
    proxy.set_online(false);
    screen
        .until("a reconnect attempt", Duration::from_secs(20), |s| {
            s.states
                .iter()
                .filter(|st| matches!(st, TerminalState::Reconnecting { .. }))
                .count()
                >= 2
        })
        .await;
    let attempts: Vec<u32> = screen
        .states
        .iter()
        .filter_map(|st| match st {
            TerminalState::Reconnecting { attempt, .. } => Some(*attempt),
            _ => None,
        })
        .collect();
    assert!(
        attempts.windows(2).all(|p| p[1] == p[0] + 1),
        "{attempts:?}"
    );
    // Typed into the cut line: dropped, never run later.
    input.input(b"echo typed-while-offline\n".to_vec()).await;

    // The network comes back: reconnected, the recent output replayed, the size kept.
    proxy.set_online(true);
    let before = screen.output.len();
    screen
        .until("the reconnect", Duration::from_secs(20), |s| {
            s.readies.len() >= 2
        })
        .await;
    let replayed = usize::try_from(screen.readies[1]).unwrap();
    assert!(replayed > 0);
    screen
        .until("the replay", Duration::from_secs(10), |s| {
            s.output.len() >= before + replayed
        })
        .await;
    assert!(screen.text_after(before).contains("hello-42"));
    let from = screen.output.len();
    input
        .input(b"echo back-$((2+3)); stty size; ls\n".to_vec())
        .await;
    screen
        .until(
            "the echo after the reconnect",
            Duration::from_secs(20),
            |s| s.text_after(from).contains("back-5") && s.text_after(from).contains("33 101"),
        )
        .await;
    assert!(
        !screen
            .text_after(before)
            .contains("\r\ntyped-while-offline"),
        "keys typed offline ran: {}",
        screen.text_after(before)
    );

    // Files: made in the shell, listed, uploaded, downloaded, made and deleted by the engine.
    input
        .input(b"echo made-in-shell > shell.txt\n".to_vec())
        .await;
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let top = engine.lab_files(session.id, "").await.unwrap();
        if top.items.iter().any(|f| f.path == "shell.txt") {
            break;
        }
        assert!(Instant::now() < deadline, "shell.txt never listed: {top:?}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    engine
        .make_lab_directory(session.id, "notes/deep")
        .await
        .unwrap();
    engine
        .upload_lab_file(session.id, "notes/a b é.txt", b"uploaded bytes".to_vec())
        .await
        .unwrap();
    let notes = engine.lab_files(session.id, "notes").await.unwrap();
    let names: Vec<&str> = notes.items.iter().map(|f| f.name.as_str()).collect();
    assert_eq!(names, ["deep", "a b é.txt"], "directories first");
    let downloads = tempfile::tempdir().unwrap();
    let first = engine
        .download_lab_file(session.id, "notes/a b é.txt", downloads.path())
        .await
        .unwrap();
    assert_eq!(std::fs::read(&first).unwrap(), b"uploaded bytes");
    let second = engine
        .download_lab_file(session.id, "shell.txt", downloads.path())
        .await
        .unwrap();
    assert_eq!(std::fs::read(&second).unwrap(), b"made-in-shell\n");
    let again = engine
        .download_lab_file(session.id, "shell.txt", downloads.path())
        .await
        .unwrap();
    assert_eq!(again.file_name().unwrap(), "shell (1).txt");
    // Bad input: a clear code, and nothing left behind.
    let refused = engine
        .download_lab_file(session.id, "../etc/passwd", downloads.path())
        .await
        .unwrap_err();
    assert!(
        matches!(
            &refused,
            SyncError::Api(ApiError::Problem { status: 422, detail, .. }) if detail.contains("..")
        ),
        "{refused}"
    );
    let missing = engine
        .download_lab_file(session.id, "nope.txt", downloads.path())
        .await
        .unwrap_err();
    assert!(
        matches!(
            &missing,
            SyncError::Api(ApiError::Problem { status: 404, .. })
        ),
        "{missing}"
    );
    assert_eq!(std::fs::read_dir(downloads.path()).unwrap().count(), 3);
    engine.delete_lab_file(session.id, "notes").await.unwrap();
    let top = engine.lab_files(session.id, "").await.unwrap();
    assert!(top.items.iter().all(|f| f.path != "notes"), "{top:?}");

    // Stopping the lab ends the shell: the terminal closes for good.
    let stopped = engine.stop_lab(session.id).await.unwrap();
    assert_eq!(stopped.status, LabSessionStatus::Completed);
    screen
        .until("the close", Duration::from_secs(20), |s| {
            matches!(s.states.last(), Some(TerminalState::Closed { .. }))
        })
        .await;
    assert!(matches!(
        terminal.state().borrow().clone(),
        TerminalState::Closed { code, .. } if code == "exited" || code == "session_not_active"
    ));
    assert!(engine.live_lab_session(w.lab).await.unwrap().is_none());
}

const LEARNER: &str = "learner@skilltrack.dev";
const LEARNER_PASSWORD: &str = "learner-demo-pass";
const LAB: &str = "terminal-first-steps";
const INSTRUCTOR: &str = "instructor@skilltrack.dev";
const INSTRUCTOR_PASSWORD: &str = "instructor-demo-pass";

/// The rows of the xterm.js screen, as text.
async fn screen_rows(client: &Client) -> Vec<String> {
    let rows = client
        .execute(
            "return Array.from(document.querySelectorAll('.xterm-rows > div'))
                 .map(d => d.textContent.replace(/\\u00a0/g, ' ').trimEnd());",
            vec![],
        )
        .await
        .unwrap_or_default();
    serde_json::from_value(rows).unwrap_or_default()
}

/// Types into the terminal (xterm.js listens on its hidden textarea) and presses Enter.
async fn type_line(client: &Client, line: &str, step: &str) {
    let input = find(client, ".xterm-helper-textarea", step).await;
    input
        .send_keys(&format!("{line}\u{E007}"))
        .await
        .unwrap_or_else(|e| panic!("{step}: {e}"));
}

/// Waits until a row of the terminal's screen is exactly `row`.
async fn wait_for_row(client: &Client, row: &str, step: &str) {
    wait_for_row_where(client, step, |r| r == row).await;
}

/// Waits until a row of the terminal's screen (trimmed) satisfies `ok`, and returns it.
async fn wait_for_row_where(client: &Client, step: &str, ok: impl Fn(&str) -> bool) -> String {
    let deadline = Instant::now() + PATIENCE;
    loop {
        let rows = screen_rows(client).await;
        if let Some(r) = rows.iter().find(|r| ok(r.trim())) {
            return r.trim().to_owned();
        }
        if Instant::now() > deadline {
            fail(
                client,
                step,
                &format!("no such row on the screen: {rows:?}"),
            )
            .await;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn desktop_lab_a_learner_works_in_a_lab_in_the_app() {
    let server = skilltrack_tests::spawn_lab_server(|_| {}).await;
    skilltrack_server::seed::load_demo(&server.db.db, server.data_dir.path())
        .await
        .expect("loading the demo catalog");
    let proxy = Proxy::start(&server.url).await;
    let data = tempfile::tempdir().expect("the app's data directory");
    let app = DesktopApp::launch(&proxy.url, data.path()).await;
    let client = &app.client;
    app.sign_in(LEARNER, LEARNER_PASSWORD).await;

    // The labs, from the cache, with filters.
    let step = "opening the labs";
    click(client, r#"[data-testid="nav-labs"]"#, step).await;
    let card = format!(r#"[data-testid="lab-card"][data-slug="{LAB}"]"#);
    find(client, &card, step).await;
    let step = "filtering the labs by difficulty";
    find(client, r#"[data-testid="labs-difficulty"]"#, step)
        .await
        .select_by_value("Advanced")
        .await
        .expect(step);
    let deadline = Instant::now() + PATIENCE;
    while client.find(Locator::Css(&card)).await.is_ok() {
        assert!(Instant::now() < deadline, "{step}: the beginner lab stays");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    find(client, r#"[data-testid="labs-difficulty"]"#, step)
        .await
        .select_by_value("")
        .await
        .expect(step);

    // The lab page: instructions, then start.
    let step = "opening the lab";
    click(client, &card, step).await;
    find(client, r#"[data-testid="lab-instructions"] h1"#, step).await;
    wait_attr(
        client,
        r#"[data-testid="lab-session"]"#,
        "data-status",
        step,
        |s| s == "none",
    )
    .await;
    screenshot(client, "lab").await;
    let step = "starting the lab";
    click(client, r#"[data-testid="lab-start"]:not([disabled])"#, step).await;
    wait_attr(
        client,
        r#"[data-testid="lab-session"]"#,
        "data-status",
        step,
        |s| s == "active",
    )
    .await;
    find(client, r#"[data-testid="lab-auto-stop"]"#, step).await;
    find(client, r#"[data-testid="lab-cost"]"#, step).await;
    wait_attr(
        client,
        r#"[data-testid="terminal-state"]"#,
        "data-state",
        step,
        |s| s == "connected",
    )
    .await;

    // The terminal: type, and read the output on the xterm.js screen.
    let step = "typing into the terminal";
    click(client, r#"[data-testid="terminal"]"#, step).await;
    type_line(client, "echo hello-from-lab", step).await;
    wait_for_row(client, "hello-from-lab", step).await;
    // xterm.js styles its screen with <style> elements it adds at run time: the CSP lets them
    // apply (the theme's foreground colour is on the rows).
    let color = client
        .execute(
            "return getComputedStyle(document.querySelector('.xterm-rows')).color;",
            vec![],
        )
        .await
        .expect("reading a style");
    assert_eq!(color, json!("rgb(230, 237, 243)"), "xterm.js's styles");
    // Fitted to its box: the shell's terminal has the size xterm.js fitted to the window.
    let step = "the shell's size follows the window";
    type_line(client, "stty size", step).await;
    let size = wait_for_row_where(client, step, |r| {
        let parts: Vec<&str> = r.split(' ').collect();
        parts.len() == 2 && parts.iter().all(|p| p.parse::<u16>().is_ok())
    })
    .await;
    let (rows, cols) = size.split_once(' ').unwrap();
    let (rows, cols): (u16, u16) = (rows.parse().unwrap(), cols.parse().unwrap());
    assert!(rows >= 10 && cols >= 60, "a terminal of {rows}x{cols}");
    screenshot(client, "lab-terminal").await;

    // The network drops: the indicator says so, the shell lives on, the screen comes back.
    let step = "losing the network";
    proxy.set_online(false);
    wait_attr(
        client,
        r#"[data-testid="terminal-state"]"#,
        "data-state",
        step,
        |s| s == "reconnecting",
    )
    .await;
    let step = "regaining the network";
    proxy.set_online(true);
    wait_attr(
        client,
        r#"[data-testid="terminal-state"]"#,
        "data-state",
        step,
        |s| s == "connected",
    )
    .await;
    wait_for_row(client, "hello-from-lab", "the replay repaints the screen").await;

    // A file made in the shell shows in the file browser.
    let step = "making a file in the shell";
    click(client, r#"[data-testid="terminal"]"#, step).await;
    type_line(
        client,
        "echo notes > made-in-shell.txt && echo file-made",
        step,
    )
    .await;
    wait_for_row(client, "file-made", step).await;
    let step = "seeing it in the file browser";
    click(client, r#"[data-testid="tab-files"]"#, step).await;
    find(
        client,
        r#"[data-testid="file-row"][data-path="made-in-shell.txt"]"#,
        step,
    )
    .await;
    let step = "making a folder in the file browser";
    type_into(client, r#"[data-testid="files-new-name"]"#, "reports", step).await;
    click(
        client,
        r#"[data-testid="files-mkdir"]:not([disabled])"#,
        step,
    )
    .await;
    find(
        client,
        r#"[data-testid="file-row"][data-path="reports"][data-directory="true"]"#,
        step,
    )
    .await;
    // An upload through the window's IPC as the file browser sends it: the raw bytes as the
    // body, the session and the (URI-encoded) path in headers.
    let step = "uploading a file from the window";
    let session = find(client, r#"[data-testid="lab-session"]"#, step)
        .await
        .attr("data-session-id")
        .await
        .expect(step)
        .expect(step);
    let answer = client
        .execute_async(
            "const [session, done] = [arguments[0], arguments[arguments.length - 1]];
             const bytes = new TextEncoder().encode('sent from the window');
             window.__TAURI_INTERNALS__.invoke('lab_upload_file', bytes, {
                 headers: { 'x-session-id': session, 'x-path': encodeURIComponent('reports/été.txt') },
             }).then(() => done('ok'), (e) => done(JSON.stringify(e)));",
            vec![json!(session)],
        )
        .await
        .expect(step);
    assert_eq!(answer, json!("ok"), "{step}");
    click(
        client,
        r#"[data-testid="file-row"][data-path="reports"] button.dir"#,
        step,
    )
    .await;
    find(
        client,
        r#"[data-testid="file-row"][data-path="reports/été.txt"]"#,
        step,
    )
    .await;
    click(client, r#"[data-testid="files-crumb"]"#, step).await;
    find(
        client,
        r#"[data-testid="file-row"][data-path="made-in-shell.txt"]"#,
        step,
    )
    .await;
    screenshot(client, "lab-files").await;

    // Stop.
    let step = "stopping the lab";
    click(client, r#"[data-testid="lab-stop"]"#, step).await;
    wait_attr(
        client,
        r#"[data-testid="lab-session"]"#,
        "data-status",
        step,
        |s| s == "completed",
    )
    .await;
    find(client, r#"[data-testid="lab-start"]"#, step).await;
    app.close().await;
}

/// Waits until the step panel shows the step at `position`.
async fn on_step(client: &Client, position: u32, step: &str) {
    let position = position.to_string();
    wait_attr(
        client,
        r#"[data-testid="lab-step"]"#,
        "data-position",
        step,
        |p| p == position,
    )
    .await;
}

/// Presses Check and waits for its result to be `outcome`.
async fn check_step(client: &Client, outcome: &str, step: &str) {
    click(
        client,
        r#"[data-testid="step-check"]:not([disabled])"#,
        step,
    )
    .await;
    wait_attr(
        client,
        r#"[data-testid="check-result"]"#,
        "data-outcome",
        step,
        |o| o == outcome,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn desktop_lab_steps_a_learner_checks_runs_a_block_and_moves_on() {
    let server = skilltrack_tests::spawn_lab_server(|_| {}).await;
    skilltrack_server::seed::load_demo(&server.db.db, server.data_dir.path())
        .await
        .expect("loading the demo catalog");
    let data = tempfile::tempdir().expect("the app's data directory");
    let app = DesktopApp::launch(&server.url, data.path()).await;
    let client = &app.client;
    app.sign_in(LEARNER, LEARNER_PASSWORD).await;

    // The lab page: the intro and the way through, then start.
    let step = "opening the lab in steps";
    click(client, r#"[data-testid="nav-labs"]"#, step).await;
    let card = format!(r#"[data-testid="lab-card"][data-slug="{LAB}"]"#);
    click(client, &card, step).await;
    find(
        client,
        r#"[data-testid="lab-steps"] [data-testid="lab-instructions"] h1"#,
        step,
    )
    .await;
    let step = "starting the lab in steps";
    click(client, r#"[data-testid="lab-start"]:not([disabled])"#, step).await;
    wait_attr(
        client,
        r#"[data-testid="lab-session"]"#,
        "data-status",
        step,
        |s| s == "active",
    )
    .await;
    wait_attr(
        client,
        r#"[data-testid="terminal-state"]"#,
        "data-state",
        step,
        |s| s == "connected",
    )
    .await;
    on_step(client, 1, step).await;
    assert_eq!(
        text_of(client, r#"[data-testid="step-counter"]"#, step).await,
        "Step 1 of 4"
    );

    // Check before doing anything: it fails, and says what is missing.
    let step = "checking step 1 too early";
    check_step(client, "failed", step).await;
    let said = text_of(client, r#"[data-testid="check-result"]"#, step).await;
    assert!(said.contains("~/lab/notes"), "{step}: {said:?}");
    find(client, r#"[data-testid="check-output"]"#, step).await;
    // The hint, revealed on asking.
    click(client, r#"[data-testid="show-hint"]"#, step).await;
    let hint = text_of(client, r#"[data-testid="step-hint"]"#, step).await;
    assert!(hint.contains("mkdir -p"), "{step}: {hint:?}");

    // Run the step's block: typed into the terminal, where its `ls -l ~/lab` lists the new
    // directory (so the check that follows sees it).
    let step = "running the step's code block";
    click(
        client,
        r#"[data-testid="lab-step"] [data-testid="code-run"]"#,
        step,
    )
    .await;
    wait_for_row_where(client, step, |r| {
        r.starts_with('d') && r.ends_with(" notes")
    })
    .await;

    // Check again: passed, and step 2 shows.
    let step = "checking step 1 again";
    check_step(client, "passed", step).await;
    on_step(client, 2, step).await;
    assert_eq!(
        text_of(client, r#"[data-testid="step-counter"]"#, step).await,
        "Step 2 of 4"
    );
    screenshot(client, "lab-steps").await;

    // Back to step 1 (passed, nothing to press) and on again.
    let step = "looking back at step 1";
    click(client, r#"[data-testid="step-prev"]:not([disabled])"#, step).await;
    on_step(client, 1, step).await;
    find(client, r#"[data-testid="step-passed"]"#, step).await;
    click(client, r#"[data-testid="step-next"]"#, step).await;
    on_step(client, 2, step).await;

    // The step is the server's: the lab page opened again is on step 2.
    let step = "opening the lab again";
    click(client, r#"[data-testid="nav-labs"]"#, step).await;
    click(client, &card, step).await;
    on_step(client, 2, step).await;

    let session = find(client, r#"[data-testid="lab-session"]"#, step)
        .await
        .attr("data-session-id")
        .await
        .expect(step)
        .expect(step);
    app.close().await;

    // The lab's instructor watches the session, read-only: the learner's step and checks,
    // nothing to press; then self-tests the lab.
    let data = tempfile::tempdir().expect("the instructor app's data directory");
    let app = DesktopApp::launch(&server.url, data.path()).await;
    let client = &app.client;
    app.sign_in(INSTRUCTOR, INSTRUCTOR_PASSWORD).await;
    let step = "finding the lab among the instructor's";
    click(client, r#"[data-testid="nav-instructor"]"#, step).await;
    let mine = format!(r#"[data-testid="instructor-lab"][data-slug="{LAB}"]"#);
    type_into(
        client,
        &format!(r#"{mine} [data-testid="watch-session-id"]"#),
        &session,
        step,
    )
    .await;
    let step = "watching the learner's session";
    click(
        client,
        &format!(r#"{mine} [data-testid="watch-session"]"#),
        step,
    )
    .await;
    find(client, r#"[data-testid="lab-watching"]"#, step).await;
    on_step(client, 2, step).await;
    wait_attr(
        client,
        r#"[data-testid="step-history-row"][data-position="1"]"#,
        "data-passed",
        step,
        |p| p == "true",
    )
    .await;
    let history = text_of(
        client,
        r#"[data-testid="step-history-row"][data-position="1"]"#,
        step,
    )
    .await;
    assert!(history.contains("2 checks"), "{step}: {history:?}");
    wait_attr(
        client,
        r#"[data-testid="terminal-state"]"#,
        "data-state",
        step,
        |s| s == "connected",
    )
    .await;
    assert!(
        text_of(client, r#"[data-testid="terminal-state"]"#, step)
            .await
            .contains("watching"),
        "{step}: the terminal is read-only"
    );
    for nothing_to_press in [
        r#"[data-testid="step-check"]"#,
        r#"[data-testid="code-run"]"#,
        r#"[data-testid="lab-stop"]"#,
    ] {
        assert!(
            client.find(Locator::Css(nothing_to_press)).await.is_err(),
            "{step}: `{nothing_to_press}` is offered to a watcher"
        );
    }
    find(
        client,
        r#"[data-testid="lab-step"] [data-testid="code-copy"]"#,
        step,
    )
    .await;

    let step = "self-testing the lab";
    click(client, r#"[data-testid="nav-instructor"]"#, step).await;
    click(
        client,
        &format!(r#"{mine} [data-testid="self-test"]:not([disabled])"#),
        step,
    )
    .await;
    wait_attr(
        client,
        &format!(r#"{mine} [data-testid="self-test-report"]"#),
        "data-ok",
        step,
        |ok| ok == "true",
    )
    .await;
    let steps = client
        .find_all(Locator::Css(&format!(
            r#"{mine} [data-testid="self-test-step"][data-ok="true"]"#
        )))
        .await
        .expect(step);
    assert_eq!(steps.len(), 4, "{step}");
    app.close().await;
}
