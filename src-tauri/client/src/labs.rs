//! Labs from the client: the lab catalog as the cache holds it, the online lab calls (start,
//! pause, resume, stop, my sessions, the workspace's files) and the **terminal connection**.
//!
//! Lab sessions are the server's to decide (they run a sandbox there), so these calls are online
//! only; the catalog of labs and categories is read from the cache and works offline.
//!
//! The terminal is one WebSocket per terminal, authenticated with an `Authorization` header
//! (the token never goes in the URL, and never leaves this crate: the app's window only ever
//! sees bytes and states). The connection belongs to a task that **reconnects by itself** with
//! backoff after a drop (the shell lives on in the server, which replays its recent output on
//! each connect), keeps the connection alive with pings, and reports its state
//! ([`TerminalState`]) as it changes.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use futures_util::{SinkExt as _, StreamExt as _};
use reqwest::Method;
use serde::Serialize;
use serde_json::Value;
use skilltrack_protocol::catalog::{CourseRef, LabCategory, LabDetail, LabRef, LabSummary};
use skilltrack_protocol::lab_steps::{
    CheckRequest, CheckResult, LabSteps, SelfTestReport, SelfTestRequest,
};
use skilltrack_protocol::labs::{
    LabSession, LabSessionList, LabStart, MakeDirectory, TerminalClientFrame, TerminalMode,
    TerminalServerFrame, WorkspaceListing,
};
use skilltrack_protocol::sync::SyncTable;
use tokio::io::AsyncWriteExt as _;
use tokio::sync::{mpsc, watch};
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest as _;
use uuid::Uuid;

use crate::api::ApiError;
use crate::cache::CacheError;
use crate::sync::{SyncEngine, SyncError, lock};

// Catalog (cache) ---------------------------------------------------------------------------------

/// How to narrow the list of labs.
#[derive(Debug, Clone, Default)]
pub struct LabFilter {
    /// Words that must appear in the title, description or technologies (any case).
    pub text: Option<String>,
    /// Only labs of this category.
    pub category_id: Option<Uuid>,
    /// `Beginner`, `Intermediate` or `Advanced`.
    pub difficulty: Option<String>,
}

fn matches(lab: &LabSummary, filter: &LabFilter) -> bool {
    if filter
        .category_id
        .is_some_and(|c| lab.category_id != Some(c))
    {
        return false;
    }
    if let Some(d) = filter.difficulty.as_deref().filter(|d| !d.is_empty()) {
        if !lab.difficulty.to_string().eq_ignore_ascii_case(d) {
            return false;
        }
    }
    let Some(text) = filter
        .text
        .as_deref()
        .map(str::trim)
        .filter(|t| !t.is_empty())
    else {
        return true;
    };
    let haystack = format!(
        "{} {} {}",
        lab.title,
        lab.description,
        lab.technology.join(" ")
    )
    .to_lowercase();
    text.to_lowercase()
        .split_whitespace()
        .all(|word| haystack.contains(word))
}

fn parse_rows<T: serde::de::DeserializeOwned>(rows: Vec<Value>) -> Vec<T> {
    // A row this version cannot read (a newer server's) is left out, not fatal to the screen.
    rows.into_iter()
        .filter_map(|r| serde_json::from_value(r).ok())
        .collect()
}

fn strings(row: &Value, field: &str) -> Vec<String> {
    row[field]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

fn opt_text(row: &Value, field: &str) -> Option<String> {
    row[field]
        .as_str()
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

impl SyncEngine {
    /// The lab categories in the cache, by name.
    pub fn cached_lab_categories(&self) -> Result<Vec<LabCategory>, CacheError> {
        let mut items: Vec<LabCategory> =
            parse_rows(lock(self.cache()).all_rows(SyncTable::LabCategories)?);
        items.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(items)
    }

    /// The labs in the cache that match `filter`: popular first, then by title.
    pub fn cached_labs(&self, filter: &LabFilter) -> Result<Vec<LabSummary>, CacheError> {
        let mut items: Vec<LabSummary> = parse_rows(lock(self.cache()).all_rows(SyncTable::Labs)?);
        items.retain(|l| matches(l, filter));
        items.sort_by(|a, b| {
            b.is_popular
                .cmp(&a.is_popular)
                .then_with(|| a.title.cmp(&b.title))
        });
        Ok(items)
    }

    /// Everything the lab page shows about a lab, from the cache (`None`: not on this device).
    pub fn cached_lab(&self, lab_id: Uuid) -> Result<Option<LabDetail>, CacheError> {
        let cache = lock(self.cache());
        let Some(row) = cache.row(SyncTable::Labs, lab_id)? else {
            return Ok(None);
        };
        let Ok(lab) = serde_json::from_value::<LabSummary>(row.clone()) else {
            return Ok(None);
        };
        let lab_ref = |id: Uuid| -> Result<Option<LabRef>, CacheError> {
            Ok(cache.row(SyncTable::Labs, id)?.and_then(|r| {
                Some(LabRef {
                    id,
                    slug: r["slug"].as_str()?.to_owned(),
                    title: r["title"].as_str()?.to_owned(),
                })
            }))
        };
        let mut required_labs = Vec::new();
        for p in cache.all_rows(SyncTable::LabPrerequisites)? {
            if p["lab_id"].as_str() != Some(&lab_id.to_string()) {
                continue;
            }
            if let Some(id) = p["prerequisite_lab_id"]
                .as_str()
                .and_then(|s| s.parse().ok())
            {
                required_labs.extend(lab_ref(id)?);
            }
        }
        let mut related_courses = Vec::new();
        for id in strings(&row, "related_courses") {
            let Ok(id) = id.parse::<Uuid>() else { continue };
            if let Some(c) = cache.row(SyncTable::Courses, id)? {
                if let (Some(slug), Some(title)) = (c["slug"].as_str(), c["title"].as_str()) {
                    related_courses.push(CourseRef {
                        id,
                        slug: slug.to_owned(),
                        title: title.to_owned(),
                    });
                }
            }
        }
        Ok(Some(LabDetail {
            lab,
            features: strings(&row, "features"),
            objectives: strings(&row, "objectives"),
            prerequisite_notes: strings(&row, "prerequisites"),
            instructions: opt_text(&row, "instructions"),
            setup_instructions: opt_text(&row, "setup_instructions"),
            cleanup_instructions: opt_text(&row, "cleanup_instructions"),
            environment_template: opt_text(&row, "environment_template"),
            resource_requirements: row["resource_requirements"].clone(),
            max_concurrent_users: row["max_concurrent_users"]
                .as_i64()
                .and_then(|n| i32::try_from(n).ok())
                .unwrap_or_default(),
            instructor: None,
            required_labs,
            related_courses,
        }))
    }
}

// Online calls ------------------------------------------------------------------------------------

/// `+`, spaces, `&`, `#` and non-ASCII escaped, so a workspace path travels as one query value.
fn query_value(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn files_path(session: Uuid, tail: &str, path: &str) -> String {
    format!(
        "/api/v1/lab-sessions/{session}/files{tail}?path={}",
        query_value(path)
    )
}

impl SyncEngine {
    async fn access_token(&self) -> Result<String, SyncError> {
        Ok(self.session().await?.access_token)
    }

    async fn lab_call<B: Serialize, T: serde::de::DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        body: Option<&B>,
    ) -> Result<T, SyncError> {
        let token = self.access_token().await?;
        Ok(self.api().json(method, path, &token, body).await?)
    }

    /// A call answered with no content (204).
    async fn lab_call_empty(
        &self,
        method: Method,
        path: &str,
        body: Option<reqwest::Body>,
        json: bool,
    ) -> Result<(), SyncError> {
        let token = self.access_token().await?;
        let body = body.map(|body| {
            let kind = if json {
                "application/json"
            } else {
                "application/octet-stream"
            };
            (kind, body)
        });
        // Through the API client: its trust, and its rule that the token goes to the server's
        // origin only. Workspace files can be large: up to five minutes.
        Ok(self
            .api()
            .send_empty(method, path, &token, body, Duration::from_secs(300))
            .await?)
    }

    /// My lab sessions, newest first; `live`: only starting, active and paused ones.
    pub async fn my_lab_sessions(&self, live: bool) -> Result<Vec<LabSession>, SyncError> {
        let list: LabSessionList = self
            .lab_call::<(), _>(
                Method::GET,
                &format!("/api/v1/me/lab-sessions?live={live}"),
                None,
            )
            .await?;
        Ok(list.items)
    }

    /// My live session of `lab`, if there is one.
    pub async fn live_lab_session(&self, lab: Uuid) -> Result<Option<LabSession>, SyncError> {
        Ok(self
            .my_lab_sessions(true)
            .await?
            .into_iter()
            .find(|s| s.lab.id == lab))
    }

    /// A session, as the server has it now.
    pub async fn lab_session(&self, session: Uuid) -> Result<LabSession, SyncError> {
        self.lab_call::<(), _>(
            Method::GET,
            &format!("/api/v1/lab-sessions/{session}"),
            None,
        )
        .await
    }

    /// A lab's intro, steps (text and hints, never scripts) and finish page.
    pub async fn lab_steps(&self, lab: Uuid) -> Result<LabSteps, SyncError> {
        self.lab_call::<(), _>(Method::GET, &format!("/api/v1/labs/{lab}/steps"), None)
            .await
    }

    /// Checks a step of my live session (`None`: the step I am on) in its sandbox.
    pub async fn check_lab_step(
        &self,
        session: Uuid,
        step: Option<Uuid>,
    ) -> Result<CheckResult, SyncError> {
        self.lab_call(
            Method::POST,
            &format!("/api/v1/lab-sessions/{session}/check"),
            Some(&CheckRequest { step_id: step }),
        )
        .await
    }

    /// Self-tests a lab (authors): in a fresh sandbox, each step's setup, verify (must fail),
    /// solve, verify (must pass).
    pub async fn self_test_lab(
        &self,
        request: &SelfTestRequest,
    ) -> Result<SelfTestReport, SyncError> {
        self.lab_call(
            Method::POST,
            "/api/v1/authoring/lab-self-tests",
            Some(request),
        )
        .await
    }

    /// Starts `lab`: a new session whose shell is running.
    pub async fn start_lab(&self, lab: Uuid, start: &LabStart) -> Result<LabSession, SyncError> {
        self.lab_call(
            Method::POST,
            &format!("/api/v1/labs/{lab}/sessions"),
            Some(start),
        )
        .await
    }

    async fn session_action(&self, session: Uuid, action: &str) -> Result<LabSession, SyncError> {
        self.lab_call::<(), _>(
            Method::POST,
            &format!("/api/v1/lab-sessions/{session}/{action}"),
            None,
        )
        .await
    }

    /// Pauses an active session (the workspace stays; the shell stops).
    pub async fn pause_lab(&self, session: Uuid) -> Result<LabSession, SyncError> {
        self.session_action(session, "pause").await
    }

    /// Resumes a paused session with a fresh shell.
    pub async fn resume_lab(&self, session: Uuid) -> Result<LabSession, SyncError> {
        self.session_action(session, "resume").await
    }

    /// Stops a session for good.
    pub async fn stop_lab(&self, session: Uuid) -> Result<LabSession, SyncError> {
        self.session_action(session, "stop").await
    }

    /// A directory of the session's workspace (`""`: the top).
    pub async fn lab_files(&self, session: Uuid, dir: &str) -> Result<WorkspaceListing, SyncError> {
        self.lab_call::<(), _>(Method::GET, &files_path(session, "", dir), None)
            .await
    }

    /// Makes a directory (and missing parents) in the workspace.
    pub async fn make_lab_directory(&self, session: Uuid, dir: &str) -> Result<(), SyncError> {
        let body = serde_json::to_vec(&MakeDirectory {
            path: dir.to_owned(),
        })
        .unwrap_or_default();
        self.lab_call_empty(
            Method::POST,
            &format!("/api/v1/lab-sessions/{session}/files/directories"),
            Some(body.into()),
            true,
        )
        .await
    }

    /// Deletes a file, or a directory with all in it.
    pub async fn delete_lab_file(&self, session: Uuid, path: &str) -> Result<(), SyncError> {
        self.lab_call_empty(Method::DELETE, &files_path(session, "", path), None, false)
            .await
    }

    /// Writes `bytes` to `path` in the workspace (replacing a file there).
    pub async fn upload_lab_file(
        &self,
        session: Uuid,
        path: &str,
        bytes: Vec<u8>,
    ) -> Result<(), SyncError> {
        self.lab_call_empty(
            Method::PUT,
            &files_path(session, "/content", path),
            Some(bytes.into()),
            false,
        )
        .await
    }

    /// Downloads a workspace file into `dir` under its own name (`name (1).ext` and so on when
    /// that is taken, so nothing is overwritten); returns where it went. The bytes go to a
    /// hidden partial file first, renamed when complete, so a failed download leaves nothing.
    pub async fn download_lab_file(
        &self,
        session: Uuid,
        path: &str,
        dir: &Path,
    ) -> Result<PathBuf, SyncError> {
        let name = path
            .rsplit('/')
            .next()
            .filter(|n| !n.is_empty() && *n != "." && *n != "..")
            .ok_or_else(|| {
                SyncError::Api(ApiError::Problem {
                    status: 422,
                    code: "bad_path".into(),
                    detail: "Name a file to download.".into(),
                })
            })?
            .to_owned();
        let token = self.access_token().await?;
        let mut res = self
            .api()
            .download(&token, &files_path(session, "/content", path), 0, None)
            .await?;
        let io = |context: String| move |source| SyncError::Io { context, source };
        tokio::fs::create_dir_all(dir)
            .await
            .map_err(io(format!("making {}", dir.display())))?;
        let partial = dir.join(format!(".{name}.{}.part", Uuid::new_v4().simple()));
        let mut file = tokio::fs::File::create(&partial)
            .await
            .map_err(io(format!("writing {}", partial.display())))?;
        let written = async {
            while let Some(chunk) = res
                .chunk()
                .await
                .map_err(|e| SyncError::Api(ApiError::Offline(e.to_string())))?
            {
                file.write_all(&chunk)
                    .await
                    .map_err(io(format!("writing {}", partial.display())))?;
            }
            file.sync_all()
                .await
                .map_err(io(format!("writing {}", partial.display())))
        }
        .await;
        if let Err(e) = written {
            let _ = tokio::fs::remove_file(&partial).await;
            return Err(e);
        }
        let target = free_name(dir, &name);
        tokio::fs::rename(&partial, &target)
            .await
            .map_err(io(format!("moving the download to {}", target.display())))?;
        Ok(target)
    }

    /// Connects to a session's terminal. The connection reconnects by itself until closed;
    /// output and state come through the returned receiver.
    pub fn open_terminal(
        self: &Arc<Self>,
        session: Uuid,
        options: TerminalOptions,
    ) -> (TerminalConnection, mpsc::Receiver<TerminalEvent>) {
        let (commands, commands_rx) = mpsc::channel(256);
        let (events_tx, events) = mpsc::channel(256);
        let (state_tx, state) = watch::channel(TerminalState::Connecting);
        let task = tokio::spawn(run_terminal(
            Arc::clone(self),
            session,
            options,
            commands_rx,
            events_tx,
            state_tx,
        ));
        (
            TerminalConnection {
                commands,
                state,
                task: Some(task),
            },
            events,
        )
    }
}

/// `dir/name`, or `dir/name (n).ext` for the first `n` not taken.
fn free_name(dir: &Path, name: &str) -> PathBuf {
    let first = dir.join(name);
    if !first.exists() {
        return first;
    }
    let (stem, ext) = match name.rsplit_once('.') {
        Some((s, e)) if !s.is_empty() => (s, format!(".{e}")),
        _ => (name, String::new()),
    };
    (1..=u32::MAX)
        .map(|n| dir.join(format!("{stem} ({n}){ext}")))
        .find(|p| !p.exists())
        .unwrap_or(first)
}

// The terminal ------------------------------------------------------------------------------------

/// The terminal connection's state, for the reconnect indicator.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
#[serde(tag = "state", rename_all = "snake_case")]
#[ts(export)]
pub enum TerminalState {
    /// Connecting for the first time.
    Connecting,
    /// Attached: bytes flow both ways.
    Connected {
        /// Interactive, or read-only (the lab's instructor watching).
        mode: TerminalMode,
    },
    /// The connection dropped; trying again after a pause (the shell lives on in the server).
    Reconnecting {
        /// Attempts since the connection was last up (1 for the first retry).
        attempt: u32,
        /// Milliseconds until the next attempt.
        #[ts(type = "number")]
        retry_in_ms: u64,
        /// Why the connection is down, in words.
        reason: String,
    },
    /// Over for good: the shell ended, the session is no longer active, or the terminal was
    /// closed here.
    Closed {
        /// Stable: `exited`, `closed`, `session_not_active`, `not_found`, `unauthenticated`,
        /// `forbidden`, `sandbox_failed`, `signed_out`.
        code: String,
        /// In words.
        reason: String,
    },
}

/// What comes out of a terminal connection, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TerminalEvent {
    /// (Re)attached: the next `replayed_bytes` bytes of output are the recent output the screen
    /// may already show, so clear the screen before writing them.
    Ready {
        /// Interactive or read-only.
        mode: TerminalMode,
        /// Bytes about to be replayed.
        replayed_bytes: u64,
    },
    /// Output of the shell.
    Output(Vec<u8>),
    /// The state changed.
    State(TerminalState),
}

/// Timings of a terminal connection (tests shorten them).
#[derive(Debug, Clone, Copy)]
pub struct TerminalOptions {
    /// The first pause before reconnecting; it doubles with each failed attempt…
    pub first_retry: Duration,
    /// … up to this.
    pub max_retry: Duration,
    /// How often to ping a quiet connection.
    pub ping_every: Duration,
    /// How long without hearing anything before a connection counts as dead (a half-open TCP
    /// connection after the network went away never reports an error by itself).
    pub dead_after: Duration,
    /// How long a connection attempt may take.
    pub connect_timeout: Duration,
}

impl Default for TerminalOptions {
    fn default() -> Self {
        Self {
            first_retry: Duration::from_millis(250),
            max_retry: Duration::from_secs(8),
            ping_every: Duration::from_secs(10),
            dead_after: Duration::from_secs(25),
            connect_timeout: Duration::from_secs(10),
        }
    }
}

impl TerminalOptions {
    /// The pause before retry number `attempt` (1-based): doubling from `first_retry`, capped.
    pub fn backoff(&self, attempt: u32) -> Duration {
        let factor = 1u32 << attempt.saturating_sub(1).min(16);
        self.first_retry.saturating_mul(factor).min(self.max_retry)
    }
}

enum TerminalCommand {
    Input(Vec<u8>),
    Resize { cols: u16, rows: u16 },
    Close,
}

/// A live terminal connection. Dropping it closes the connection (the shell lives on).
#[derive(Debug)]
pub struct TerminalConnection {
    commands: mpsc::Sender<TerminalCommand>,
    state: watch::Receiver<TerminalState>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl std::fmt::Debug for TerminalCommand {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Input(b) => write!(f, "Input({} bytes)", b.len()),
            Self::Resize { cols, rows } => write!(f, "Resize({cols}x{rows})"),
            Self::Close => f.write_str("Close"),
        }
    }
}

/// Where a terminal's keystrokes and resizes go; cheap to clone, so callers need not hold a
/// lock on the connection while sending.
#[derive(Debug, Clone)]
pub struct TerminalInput(mpsc::Sender<TerminalCommand>);

impl TerminalInput {
    /// Sends keystrokes. While the connection is down they are dropped, as a terminal whose line
    /// is cut does: typing blind into a shell that reappears later would run surprises.
    /// `false`: the terminal is closed for good.
    pub async fn input(&self, bytes: Vec<u8>) -> bool {
        self.0.send(TerminalCommand::Input(bytes)).await.is_ok()
    }

    /// Sets the terminal's size (kept, and sent again on every reconnect).
    pub async fn resize(&self, cols: u16, rows: u16) -> bool {
        self.0
            .send(TerminalCommand::Resize { cols, rows })
            .await
            .is_ok()
    }
}

impl TerminalConnection {
    /// Where to send keystrokes and resizes.
    pub fn input(&self) -> TerminalInput {
        TerminalInput(self.commands.clone())
    }

    /// The state, as it changes.
    pub fn state(&self) -> watch::Receiver<TerminalState> {
        self.state.clone()
    }

    /// Closes the connection (the shell lives on in the server) and waits for the task.
    pub async fn close(mut self) {
        let _ = self.commands.send(TerminalCommand::Close).await;
        if let Some(task) = self.task.take() {
            let _ = tokio::time::timeout(Duration::from_secs(5), task).await;
        }
    }
}

impl Drop for TerminalConnection {
    fn drop(&mut self) {
        if self.task.as_ref().is_some_and(|t| !t.is_finished()) {
            let _ = self.commands.try_send(TerminalCommand::Close);
        }
    }
}

/// How one connection ended.
enum Ended {
    /// Dropped: reconnect.
    Dropped(String),
    /// Over for good.
    Closed(&'static str, String),
}

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

struct Link<'a> {
    engine: &'a SyncEngine,
    session: Uuid,
    options: TerminalOptions,
    commands: &'a mut mpsc::Receiver<TerminalCommand>,
    events: &'a mpsc::Sender<TerminalEvent>,
    state: &'a watch::Sender<TerminalState>,
    /// The last size asked for, sent again after each reconnect.
    size: Option<(u16, u16)>,
}

impl Link<'_> {
    fn set_state(&self, state: TerminalState) {
        self.state.send_replace(state);
    }

    async fn emit(&self, event: TerminalEvent) -> bool {
        self.events.send(event).await.is_ok()
    }

    async fn connect(&self) -> Result<Socket, Ended> {
        let token = match self.engine.session().await {
            Ok(s) => s.access_token,
            Err(SyncError::SignedOut) => {
                return Err(Ended::Closed(
                    "signed_out",
                    "Sign in again to use the terminal.".into(),
                ));
            }
            Err(SyncError::Api(e)) if e.is_unauthorized() => {
                return Err(Ended::Closed(
                    "unauthenticated",
                    "Your session has ended; sign in again.".into(),
                ));
            }
            Err(e) => return Err(Ended::Dropped(e.explain())),
        };
        let base = self.engine.api().base();
        let ws_base = if let Some(rest) = base.strip_prefix("https://") {
            format!("wss://{rest}")
        } else {
            format!("ws://{}", base.trim_start_matches("http://"))
        };
        let url = format!("{ws_base}/api/v1/lab-sessions/{}/terminal", self.session);
        let mut request = url
            .into_client_request()
            .map_err(|e| Ended::Closed("bad_server", format!("The server's address: {e}")))?;
        let header = format!("Bearer {token}")
            .parse()
            .map_err(|_| Ended::Closed("unauthenticated", "An unusable token.".into()))?;
        request.headers_mut().insert("authorization", header);
        // The API client's TLS configuration: `wss://` trusts what `https://` trusts.
        let connector = tokio_tungstenite::Connector::Rustls(self.engine.api().trust().config());
        let connecting =
            tokio_tungstenite::connect_async_tls_with_config(request, None, false, Some(connector));
        match tokio::time::timeout(self.options.connect_timeout, connecting).await {
            Err(_) => Err(Ended::Dropped("The server did not answer in time.".into())),
            Ok(Ok((socket, _))) => Ok(socket),
            Ok(Err(tokio_tungstenite::tungstenite::Error::Http(res))) => {
                Err(match res.status().as_u16() {
                    401 => Ended::Closed(
                        "unauthenticated",
                        "The server did not accept the session; sign in again.".into(),
                    ),
                    403 => Ended::Closed("forbidden", "This terminal may not be opened.".into()),
                    404 => Ended::Closed("not_found", "No such lab session.".into()),
                    s => Ended::Dropped(format!("The server answered {s}.")),
                })
            }
            Ok(Err(tokio_tungstenite::tungstenite::Error::Url(e))) => Err(Ended::Closed(
                "bad_server",
                format!("Terminals cannot be opened on this server's address: {e}"),
            )),
            Ok(Err(e)) => match crate::api::untrusted(&e) {
                Some(untrusted) => Err(Ended::Closed(
                    "untrusted_certificate",
                    SyncError::Api(untrusted).explain(),
                )),
                None => Err(Ended::Dropped(format!("The connection failed: {e}"))),
            },
        }
    }

    /// Serves one connection until it ends. `Ok(())`: closed from this side.
    async fn serve(&mut self, mut socket: Socket) -> Result<(), Ended> {
        let mut heard = Instant::now();
        let mut ping = tokio::time::interval(self.options.ping_every);
        ping.tick().await;
        let mut problem: Option<(String, String)> = None;
        loop {
            tokio::select! {
                incoming = socket.next() => {
                    let message = match incoming {
                        Some(Ok(m)) => m,
                        Some(Err(e)) => return Err(Ended::Dropped(format!("The connection broke: {e}"))),
                        None => return Err(Ended::Dropped("The connection closed.".into())),
                    };
                    heard = Instant::now();
                    match message {
                        Message::Binary(bytes) => {
                            let delivered = self.emit(TerminalEvent::Output(bytes.to_vec())).await;
                            if !delivered {
                                // Nobody reads the output any more: the terminal was dropped.
                                let _ = socket.close(None).await;
                                return Ok(());
                            }
                        }
                        Message::Text(text) => match serde_json::from_str::<TerminalServerFrame>(text.as_str()) {
                            Ok(TerminalServerFrame::Ready { mode, replayed_bytes }) => {
                                self.set_state(TerminalState::Connected { mode });
                                if !self.emit(TerminalEvent::Ready { mode, replayed_bytes }).await {
                                    return Ok(());
                                }
                                if let Some((cols, rows)) = self.size {
                                    send_control(&mut socket, &TerminalClientFrame::Resize { cols, rows }).await;
                                }
                            }
                            Ok(TerminalServerFrame::Exited) => {
                                let _ = socket.close(None).await;
                                return Err(Ended::Closed("exited", "The shell ended.".into()));
                            }
                            Ok(TerminalServerFrame::Lagged) => {
                                return Err(Ended::Dropped("The terminal fell behind its output.".into()));
                            }
                            Ok(TerminalServerFrame::Error { code, detail }) => problem = Some((code, detail)),
                            Ok(TerminalServerFrame::Pong) | Err(_) => {}
                        },
                        Message::Close(frame) => {
                            let code = frame.as_ref().map_or(1005, |f| u16::from(f.code));
                            return Err(closed_by_server(code, problem.as_ref()));
                        }
                        _ => {}
                    }
                }
                command = self.commands.recv() => match command {
                    Some(TerminalCommand::Input(bytes)) => {
                        if socket.send(Message::Binary(bytes.into())).await.is_err() {
                            return Err(Ended::Dropped("The connection broke while sending.".into()));
                        }
                    }
                    Some(TerminalCommand::Resize { cols, rows }) => {
                        self.size = Some((cols, rows));
                        send_control(&mut socket, &TerminalClientFrame::Resize { cols, rows }).await;
                    }
                    Some(TerminalCommand::Close) | None => {
                        let _ = socket.close(None).await;
                        return Ok(());
                    }
                },
                _ = ping.tick() => {
                    if heard.elapsed() > self.options.dead_after {
                        return Err(Ended::Dropped("The server stopped answering.".into()));
                    }
                    send_control(&mut socket, &TerminalClientFrame::Ping).await;
                }
            }
        }
    }

    /// Waits `pause` before the next attempt, keeping the latest size; `false`: closed here.
    async fn wait(&mut self, pause: Duration) -> bool {
        let until = Instant::now() + pause;
        loop {
            tokio::select! {
                () = tokio::time::sleep_until(until) => return true,
                command = self.commands.recv() => match command {
                    Some(TerminalCommand::Resize { cols, rows }) => self.size = Some((cols, rows)),
                    // Typing into a cut line goes nowhere (see `TerminalConnection::input`).
                    Some(TerminalCommand::Input(_)) => {}
                    Some(TerminalCommand::Close) | None => return false,
                }
            }
        }
    }
}

async fn send_control(socket: &mut Socket, frame: &TerminalClientFrame) {
    let text = serde_json::to_string(frame).unwrap_or_default();
    let _ = socket.send(Message::Text(text.into())).await;
}

/// What a close code from the server means for the client (see the server's terminal module).
fn closed_by_server(code: u16, problem: Option<&(String, String)>) -> Ended {
    let detail = |fallback: &str| {
        problem
            .as_ref()
            .map_or_else(|| fallback.to_owned(), |(_, d)| d.clone())
    };
    match code {
        1000 => Ended::Closed("exited", detail("The shell ended.")),
        4401 => Ended::Closed("unauthenticated", detail("Sign in again.")),
        4403 => Ended::Closed("forbidden", detail("This terminal may not be opened.")),
        4404 => Ended::Closed("not_found", detail("No such lab session.")),
        4409 => Ended::Closed(
            "session_not_active",
            detail("The session is not active: start or resume it."),
        ),
        4500 => Ended::Closed("sandbox_failed", detail("The lab's shell could not start.")),
        4008 => Ended::Dropped("The terminal fell behind its output.".into()),
        // The server ends a connection when its access token expires: reconnecting takes a
        // fresh one.
        4001 => Ended::Dropped("The access token expired; reconnecting.".into()),
        _ => Ended::Dropped(format!("The server closed the connection ({code}).")),
    }
}

async fn run_terminal(
    engine: Arc<SyncEngine>,
    session: Uuid,
    options: TerminalOptions,
    mut commands: mpsc::Receiver<TerminalCommand>,
    events: mpsc::Sender<TerminalEvent>,
    state: watch::Sender<TerminalState>,
) {
    let mut link = Link {
        engine: &engine,
        session,
        options,
        commands: &mut commands,
        events: &events,
        state: &state,
        size: None,
    };
    let mut attempt = 0u32;
    let ended = loop {
        let outcome = match link.connect().await {
            Ok(socket) => {
                let result = link.serve(socket).await;
                // A connection that got as far as `ready` starts the backoff over.
                if matches!(*link.state.borrow(), TerminalState::Connected { .. }) {
                    attempt = 0;
                }
                result
            }
            Err(e) => Err(e),
        };
        match outcome {
            Ok(()) => break ("closed", "The terminal was closed.".to_owned()),
            Err(Ended::Closed(code, reason)) => break (code, reason),
            Err(Ended::Dropped(reason)) => {
                attempt += 1;
                let pause = options.backoff(attempt);
                let next = TerminalState::Reconnecting {
                    attempt,
                    retry_in_ms: u64::try_from(pause.as_millis()).unwrap_or(u64::MAX),
                    reason,
                };
                link.set_state(next.clone());
                if !link.emit(TerminalEvent::State(next)).await || !link.wait(pause).await {
                    break ("closed", "The terminal was closed.".to_owned());
                }
            }
        }
    };
    let closed = TerminalState::Closed {
        code: ended.0.to_owned(),
        reason: ended.1,
    };
    state.send_replace(closed.clone());
    let _ = events.send(TerminalEvent::State(closed)).await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_its_cap() {
        let o = TerminalOptions::default();
        let pauses: Vec<u128> = (1..=8).map(|a| o.backoff(a).as_millis()).collect();
        assert_eq!(pauses, [250, 500, 1000, 2000, 4000, 8000, 8000, 8000]);
        assert_eq!(o.backoff(u32::MAX), o.max_retry);
    }

    #[test]
    fn close_codes_say_whether_to_reconnect() {
        assert!(matches!(closed_by_server(4008, None), Ended::Dropped(_)));
        assert!(matches!(closed_by_server(1006, None), Ended::Dropped(_)));
        assert!(matches!(
            closed_by_server(4409, None),
            Ended::Closed("session_not_active", _)
        ));
        assert!(matches!(
            closed_by_server(4401, Some(&("unauthenticated".into(), "Send auth.".into()))),
            Ended::Closed("unauthenticated", d) if d == "Send auth."
        ));
    }

    #[test]
    fn workspace_paths_travel_as_one_query_value() {
        assert_eq!(query_value("notes/a b&c+d.txt"), "notes/a%20b%26c%2Bd.txt");
        assert_eq!(query_value("é"), "%C3%A9");
    }

    #[test]
    fn downloads_never_overwrite() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(free_name(dir.path(), "a.txt"), dir.path().join("a.txt"));
        std::fs::write(dir.path().join("a.txt"), "x").unwrap();
        assert_eq!(free_name(dir.path(), "a.txt"), dir.path().join("a (1).txt"));
        std::fs::write(dir.path().join("README"), "x").unwrap();
        assert_eq!(
            free_name(dir.path(), "README"),
            dir.path().join("README (1)")
        );
    }
}
