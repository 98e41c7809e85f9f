//! Labs: the lab catalog (from the cache, so it works offline), a lab's session (start, pause,
//! resume, stop, status: online, the server runs the sandbox), its steps and their checks, the
//! workspace's files, and the terminal; for instructors, their labs and a lab's self-test.
//!
//! The terminal's bytes reach the window through a `tauri::ipc::Channel`: output as raw bytes
//! (an `ArrayBuffer` in the window, no JSON or base64 on the way), what arrived together sent
//! as one message; its state as small JSON messages on the same channel, so the two stay in
//! order. Keystrokes and resizes come back as commands. The token stays in the engine.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;

use skilltrack_client::labs::{
    LabFilter, TerminalConnection, TerminalEvent, TerminalInput, TerminalOptions, TerminalState,
};
use skilltrack_client::sync::{SyncEngine, lock};
use skilltrack_protocol::catalog::LabSummary;
use skilltrack_protocol::lab_steps::{CheckResult, LabSteps, SelfTestReport, SelfTestRequest};
use skilltrack_protocol::labs::{LabSession, LabStart, WorkspaceListing};
use skilltrack_protocol::sync::SyncTable;
use tauri::ipc::{Channel, InvokeBody, InvokeResponseBody, Request};
use tauri::{AppHandle, Manager as _, State};
use uuid::Uuid;

use crate::Desktop;
use crate::error::CommandError;
use crate::views::labs::{LabQuery, LabScreen, LabsScreen, SavedFile, TerminalMessage};

type Answer<T> = Result<T, CommandError>;

/// The most output sent to the window in one channel message.
const BATCH_BYTES: usize = 64 * 1024;

fn id(what: &str, s: &str) -> Answer<Uuid> {
    s.parse()
        .map_err(|_| CommandError::new("invalid_id", format!("{s:?} is not a {what} id.")))
}

async fn engine(desktop: &Desktop) -> Arc<SyncEngine> {
    Arc::clone(&desktop.device.lock().await.engine)
}

/// The labs screen: categories and the labs that match, from the cache.
#[tauri::command]
pub async fn labs(desktop: State<'_, Desktop>, query: LabQuery) -> Answer<LabsScreen> {
    let engine = engine(&desktop).await;
    let category_id = match query.category_id.as_deref().filter(|c| !c.is_empty()) {
        Some(c) => Some(id("category", c)?),
        None => None,
    };
    let filter = LabFilter {
        text: query.text,
        category_id,
        difficulty: query.difficulty,
    };
    Ok(LabsScreen {
        categories: engine.cached_lab_categories()?,
        labs: engine.cached_labs(&filter)?,
    })
}

/// A lab's page from the cache.
#[tauri::command]
pub async fn lab_page(desktop: State<'_, Desktop>, lab_id: String) -> Answer<LabScreen> {
    let engine = engine(&desktop).await;
    let detail = engine
        .cached_lab(id("lab", &lab_id)?)?
        .ok_or_else(|| CommandError::new("not_found", "This lab is not on this device."))?;
    let category = match detail.lab.category_id {
        Some(c) => engine
            .cached_lab_categories()?
            .into_iter()
            .find(|cat| cat.id == c),
        None => None,
    };
    Ok(LabScreen { detail, category })
}

/// My live session of a lab (starting, active or paused), if any: asked of the server.
#[tauri::command]
pub async fn lab_live_session(
    desktop: State<'_, Desktop>,
    lab_id: String,
) -> Answer<Option<LabSession>> {
    let engine = engine(&desktop).await;
    Ok(engine.live_lab_session(id("lab", &lab_id)?).await?)
}

/// A session as the server has it now (status, time until auto-stop, cost so far).
#[tauri::command]
pub async fn lab_session(desktop: State<'_, Desktop>, session_id: String) -> Answer<LabSession> {
    let engine = engine(&desktop).await;
    Ok(engine.lab_session(id("session", &session_id)?).await?)
}

/// Starts a lab.
#[tauri::command]
pub async fn start_lab(desktop: State<'_, Desktop>, lab_id: String) -> Answer<LabSession> {
    let engine = engine(&desktop).await;
    Ok(engine
        .start_lab(id("lab", &lab_id)?, &LabStart::default())
        .await?)
}

/// Pauses a session.
#[tauri::command]
pub async fn pause_lab(desktop: State<'_, Desktop>, session_id: String) -> Answer<LabSession> {
    let engine = engine(&desktop).await;
    Ok(engine.pause_lab(id("session", &session_id)?).await?)
}

/// Resumes a paused session.
#[tauri::command]
pub async fn resume_lab(desktop: State<'_, Desktop>, session_id: String) -> Answer<LabSession> {
    let engine = engine(&desktop).await;
    Ok(engine.resume_lab(id("session", &session_id)?).await?)
}

/// Stops a session for good.
#[tauri::command]
pub async fn stop_lab(desktop: State<'_, Desktop>, session_id: String) -> Answer<LabSession> {
    let engine = engine(&desktop).await;
    Ok(engine.stop_lab(id("session", &session_id)?).await?)
}

/// A lab's intro, steps (text and hints, never the scripts) and finish page: asked of the
/// server, as a lab runs online only.
#[tauri::command]
pub async fn lab_steps(desktop: State<'_, Desktop>, lab_id: String) -> Answer<LabSteps> {
    let engine = engine(&desktop).await;
    Ok(engine.lab_steps(id("lab", &lab_id)?).await?)
}

/// Checks a step of my live session in its sandbox (`step_id` absent: the step I am on). A
/// step without a verify script passes: that is how the learner moves on from it.
#[tauri::command]
pub async fn check_lab_step(
    desktop: State<'_, Desktop>,
    session_id: String,
    step_id: Option<String>,
) -> Answer<CheckResult> {
    let session = id("session", &session_id)?;
    let step = match step_id.as_deref().filter(|s| !s.is_empty()) {
        Some(s) => Some(id("step", s)?),
        None => None,
    };
    let engine = engine(&desktop).await;
    Ok(engine.check_lab_step(session, step).await?)
}

/// The labs the signed-in instructor teaches, from the cache (drafts included once synced),
/// by the cached row's `instructor_id` (the lab page's detail carries no instructor here).
#[tauri::command]
pub async fn instructor_labs(desktop: State<'_, Desktop>) -> Answer<Vec<LabSummary>> {
    let engine = engine(&desktop).await;
    let me = engine
        .signed_in_user()
        .await
        .ok_or_else(|| CommandError::new("signed_out", "Sign in first."))?
        .to_string();
    let rows = lock(engine.cache()).all_rows(SyncTable::Labs)?;
    let mut mine: Vec<LabSummary> = rows
        .into_iter()
        .filter(|row| row["instructor_id"].as_str() == Some(me.as_str()))
        // A row this version cannot read (a newer server's) is left out.
        .filter_map(|row| serde_json::from_value(row).ok())
        .collect();
    mine.sort_by(|a, b| a.title.cmp(&b.title));
    Ok(mine)
}

/// Self-tests one of my labs in a fresh sandbox: per step, setup, verify (must fail), solve,
/// verify (must pass). Online only; it can take a while.
#[tauri::command]
pub async fn self_test_lab(desktop: State<'_, Desktop>, lab_id: String) -> Answer<SelfTestReport> {
    let request = SelfTestRequest {
        lab_id: Some(id("lab", &lab_id)?),
        ..SelfTestRequest::default()
    };
    let engine = engine(&desktop).await;
    Ok(engine.self_test_lab(&request).await?)
}

/// A directory of the session's workspace (`""`: the top).
#[tauri::command]
pub async fn lab_files(
    desktop: State<'_, Desktop>,
    session_id: String,
    path: String,
) -> Answer<WorkspaceListing> {
    let engine = engine(&desktop).await;
    Ok(engine.lab_files(id("session", &session_id)?, &path).await?)
}

/// Makes a directory in the workspace.
#[tauri::command]
pub async fn lab_make_directory(
    desktop: State<'_, Desktop>,
    session_id: String,
    path: String,
) -> Answer<()> {
    let engine = engine(&desktop).await;
    Ok(engine
        .make_lab_directory(id("session", &session_id)?, &path)
        .await?)
}

/// Deletes a file or a directory from the workspace.
#[tauri::command]
pub async fn lab_delete_file(
    desktop: State<'_, Desktop>,
    session_id: String,
    path: String,
) -> Answer<()> {
    let engine = engine(&desktop).await;
    Ok(engine
        .delete_lab_file(id("session", &session_id)?, &path)
        .await?)
}

/// `%XX` escapes decoded (the window sends the path with `encodeURIComponent`, as headers
/// carry ASCII only).
fn percent_decoded(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = s.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

fn header<'a>(request: &'a Request<'_>, name: &str) -> Answer<&'a str> {
    request
        .headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .ok_or_else(|| CommandError::new("bad_request", format!("The `{name}` header is missing.")))
}

/// Uploads a file into the workspace. The body is the file's raw bytes (no JSON, no base64);
/// the headers name the session (`x-session-id`) and the path (`x-path`, URI-encoded).
#[tauri::command]
pub async fn lab_upload_file(desktop: State<'_, Desktop>, request: Request<'_>) -> Answer<()> {
    let session = id("session", header(&request, "x-session-id")?)?;
    let path = percent_decoded(header(&request, "x-path")?)
        .ok_or_else(|| CommandError::new("bad_path", "The file's name could not be read."))?;
    let InvokeBody::Raw(bytes) = request.body() else {
        return Err(CommandError::new(
            "bad_request",
            "Send the file's bytes as the body.",
        ));
    };
    let engine = engine(&desktop).await;
    Ok(engine
        .upload_lab_file(session, &path, bytes.clone())
        .await?)
}

/// Where downloads go: `SKILLTRACK_DOWNLOAD_DIR` (tests), else the user's downloads
/// directory, else `~/Downloads`.
pub(crate) fn downloads_dir(app: &AppHandle) -> Answer<PathBuf> {
    if let Some(dir) = std::env::var_os("SKILLTRACK_DOWNLOAD_DIR").filter(|d| !d.is_empty()) {
        return Ok(PathBuf::from(dir));
    }
    app.path()
        .download_dir()
        .or_else(|_| app.path().home_dir().map(|h| h.join("Downloads")))
        .map_err(|e| {
            CommandError::new(
                "no_downloads_dir",
                format!("There is no downloads directory: {e}"),
            )
        })
}

/// Saves a workspace file into the downloads directory (never overwriting a file there).
#[tauri::command]
pub async fn lab_download_file(
    app: AppHandle,
    desktop: State<'_, Desktop>,
    session_id: String,
    path: String,
) -> Answer<SavedFile> {
    let dir = downloads_dir(&app)?;
    let engine = engine(&desktop).await;
    let saved = engine
        .download_lab_file(id("session", &session_id)?, &path, &dir)
        .await?;
    Ok(SavedFile {
        path: saved.display().to_string(),
    })
}

// The terminal --------------------------------------------------------------------------------

struct OpenTerminal {
    session: Uuid,
    connection: TerminalConnection,
    forward: tauri::async_runtime::JoinHandle<()>,
}

/// The open terminals, by the id handed to the window. Managed on first use.
#[derive(Default)]
pub struct LabTerminals(tokio::sync::Mutex<HashMap<Uuid, OpenTerminal>>);

fn terminals(app: &AppHandle) -> State<'_, LabTerminals> {
    if app.try_state::<LabTerminals>().is_none() {
        app.manage(LabTerminals::default());
    }
    app.state::<LabTerminals>()
}

fn json(message: &TerminalMessage) -> InvokeResponseBody {
    InvokeResponseBody::Json(serde_json::to_string(message).unwrap_or_default())
}

/// Forwards a terminal's events to the window: output that arrived together goes as one
/// binary message (up to [`BATCH_BYTES`]), states as JSON, all in order.
async fn forward(
    mut events: tokio::sync::mpsc::Receiver<TerminalEvent>,
    channel: Channel<InvokeResponseBody>,
) {
    let mut pending: Option<TerminalEvent> = None;
    loop {
        let event = match pending.take() {
            Some(e) => e,
            None => match events.recv().await {
                Some(e) => e,
                None => return,
            },
        };
        let sent = match event {
            TerminalEvent::Output(mut bytes) => {
                while bytes.len() < BATCH_BYTES {
                    match events.try_recv() {
                        Ok(TerminalEvent::Output(more)) => bytes.extend_from_slice(&more),
                        Ok(other) => {
                            pending = Some(other);
                            break;
                        }
                        Err(_) => break,
                    }
                }
                channel.send(InvokeResponseBody::Raw(bytes))
            }
            TerminalEvent::Ready {
                mode,
                replayed_bytes,
            } => channel
                .send(json(&TerminalMessage::Ready {
                    mode,
                    replayed_bytes,
                }))
                .and_then(|()| {
                    channel.send(json(&TerminalMessage::State(TerminalState::Connected {
                        mode,
                    })))
                }),
            TerminalEvent::State(state) => channel.send(json(&TerminalMessage::State(state))),
        };
        if sent.is_err() {
            // The window went away (reloaded): nobody reads this terminal any more.
            return;
        }
    }
}

/// Opens the terminal of a session; output and state arrive on `on_event`. Returns the
/// terminal's id for [`terminal_input`], [`terminal_resize`] and [`close_terminal`]. A
/// terminal already open here for the same session is closed first (one screen per shell).
#[tauri::command]
pub async fn open_terminal(
    app: AppHandle,
    desktop: State<'_, Desktop>,
    session_id: String,
    on_event: Channel<InvokeResponseBody>,
) -> Answer<String> {
    let session = id("session", &session_id)?;
    let engine = engine(&desktop).await;
    let (connection, events) = engine.open_terminal(session, TerminalOptions::default());
    let forward = tauri::async_runtime::spawn(forward(events, on_event));
    let terminal = Uuid::new_v4();
    let registry = terminals(&app);
    let mut open = registry.0.lock().await;
    let older: Vec<Uuid> = open
        .iter()
        .filter(|(_, t)| t.session == session)
        .map(|(k, _)| *k)
        .collect();
    for k in older {
        if let Some(t) = open.remove(&k) {
            t.forward.abort();
            t.connection.close().await;
        }
    }
    open.insert(
        terminal,
        OpenTerminal {
            session,
            connection,
            forward,
        },
    );
    Ok(terminal.to_string())
}

/// The terminal's input, cloned out so no lock is held while sending.
async fn input_of(app: &AppHandle, terminal_id: &str) -> Answer<TerminalInput> {
    let terminal = id("terminal", terminal_id)?;
    let registry = terminals(app);
    let open = registry.0.lock().await;
    open.get(&terminal)
        .map(|t| t.connection.input())
        .ok_or_else(|| {
            CommandError::new("terminal_closed", "This terminal is closed; open it again.")
        })
}

/// Keystrokes (what xterm.js hands over: UTF-8 text, control characters included).
#[tauri::command]
pub async fn terminal_input(app: AppHandle, terminal_id: String, data: String) -> Answer<()> {
    input_of(&app, &terminal_id)
        .await?
        .input(data.into_bytes())
        .await;
    Ok(())
}

/// The terminal's size in characters.
#[tauri::command]
pub async fn terminal_resize(
    app: AppHandle,
    terminal_id: String,
    cols: u16,
    rows: u16,
) -> Answer<()> {
    input_of(&app, &terminal_id).await?.resize(cols, rows).await;
    Ok(())
}

/// Closes a terminal here (the shell lives on in the lab until the session stops).
#[tauri::command]
pub async fn close_terminal(app: AppHandle, terminal_id: String) -> Answer<()> {
    let terminal = id("terminal", &terminal_id)?;
    let registry = terminals(&app);
    let closed = registry.0.lock().await.remove(&terminal);
    if let Some(t) = closed {
        t.connection.close().await;
        t.forward.abort();
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::percent_decoded;

    #[test]
    fn uri_encoded_paths_are_decoded() {
        assert_eq!(
            percent_decoded("notes%2Fa%20b%C3%A9.txt").as_deref(),
            Some("notes/a bé.txt")
        );
        assert_eq!(percent_decoded("plain.txt").as_deref(), Some("plain.txt"));
        assert_eq!(percent_decoded("bad%2"), None);
        assert_eq!(percent_decoded("bad%ZZ"), None);
        assert_eq!(percent_decoded("%FF"), None);
    }
}
