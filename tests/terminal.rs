//! The terminal over a real WebSocket: type and read the echo, resize, drop and reconnect with
//! the recent output replayed, the instructor's read-only attach, and the connection's checks
//! (token in the first frame, never the URL; Origin).

use std::time::Duration;

use futures_util::{SinkExt as _, StreamExt as _};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest as _;

use crate::labs_api::LabWorld;

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// A terminal client: what the desktop app does, minus the screen.
pub(crate) struct Term {
    socket: Socket,
    /// Every byte of output received, replay included.
    pub output: Vec<u8>,
    /// The `ready` frame.
    pub ready: Value,
    marker: u32,
}

impl Term {
    /// Connects and authenticates with the first frame.
    pub async fn connect(base: &str, session: &str, token: &str) -> Self {
        let url = format!(
            "{}/api/v1/lab-sessions/{session}/terminal",
            base.replacen("http", "ws", 1)
        );
        let (mut socket, _) = tokio_tungstenite::connect_async(url)
            .await
            .expect("connecting");
        socket
            .send(Message::Text(
                json!({"type": "auth", "token": token}).to_string().into(),
            ))
            .await
            .unwrap();
        let mut term = Self {
            socket,
            output: Vec::new(),
            ready: Value::Null,
            marker: 0,
        };
        term.ready = term.next_control().await.expect("a ready frame");
        assert_eq!(term.ready["type"], "ready", "{}", term.ready);
        term
    }

    /// Reads until a text frame arrives (collecting output on the way); `None` when closed.
    pub async fn next_control(&mut self) -> Option<Value> {
        loop {
            let m = tokio::time::timeout(Duration::from_secs(20), self.socket.next())
                .await
                .ok()??
                .ok()?;
            match m {
                Message::Text(t) => return serde_json::from_str(t.as_str()).ok(),
                Message::Binary(b) => self.output.extend_from_slice(&b),
                Message::Close(_) => return None,
                _ => {}
            }
        }
    }

    pub async fn send(&mut self, bytes: &[u8]) {
        self.socket
            .send(Message::Binary(bytes.to_vec().into()))
            .await
            .unwrap();
    }

    pub async fn control(&mut self, frame: Value) {
        self.socket
            .send(Message::Text(frame.to_string().into()))
            .await
            .unwrap();
    }

    /// Reads output until it contains `needle` (after `from`), within `limit`.
    pub async fn read_until(&mut self, from: usize, needle: &str, limit: Duration) -> String {
        if let Some(text) = self.try_read_until(from, needle, limit).await {
            return text;
        }
        let tail = self
            .output
            .len()
            .saturating_sub(2000)
            .max(from.min(self.output.len()));
        panic!(
            "no {needle:?} in the output: {:?}",
            String::from_utf8_lossy(&self.output[tail..])
        )
    }

    /// Like [`Term::read_until`], `None` when the time is up or the connection closes.
    pub async fn try_read_until(
        &mut self,
        from: usize,
        needle: &str,
        limit: Duration,
    ) -> Option<String> {
        let deadline = tokio::time::Instant::now() + limit;
        let mut searched = from.min(self.output.len());
        loop {
            let start = searched
                .saturating_sub(needle.len())
                .max(from.min(self.output.len()));
            if self.output[start..]
                .windows(needle.len())
                .any(|w| w == needle.as_bytes())
            {
                return Some(
                    String::from_utf8_lossy(&self.output[from.min(self.output.len())..])
                        .into_owned(),
                );
            }
            searched = self.output.len();
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            match tokio::time::timeout(left, self.socket.next()).await {
                Ok(Some(Ok(Message::Binary(b)))) => self.output.extend_from_slice(&b),
                Ok(Some(Ok(_))) => {}
                _ => return None,
            }
        }
    }

    /// Runs a command line in the shell and returns what it printed (up to a marker).
    pub async fn run(&mut self, command: &str) -> String {
        self.marker += 1;
        let marker = format!("__done_{}__", self.marker);
        let from = self.output.len();
        // The marker is split in the command line, so only its output matches.
        let half = marker.len() / 2;
        let line = format!(
            "{command}; echo '{}''{}'\n",
            &marker[..half],
            &marker[half..]
        );
        self.send(line.as_bytes()).await;
        let text = self
            .read_until(from, &marker, Duration::from_secs(30))
            .await;
        text.rsplit_once(&marker)
            .map(|(before, _)| before.to_owned())
            .unwrap_or(text)
    }

    pub async fn close(mut self) {
        let _ = self.socket.close(None).await;
    }
}

#[tokio::test]
async fn type_read_the_echo_resize_drop_and_reconnect_with_replay() {
    let w = LabWorld::new(|_| {}).await;
    let ana = w.learner("ana").await;
    let s = w.start(&ana, w.lab).await;
    let id = s["id"].as_str().unwrap().to_owned();

    let mut t = w.term(&ana, &id).await;
    assert_eq!(t.ready["mode"], "interactive");
    // A prompt, then an echo.
    let out = t.run("echo hello-$((6*7))").await;
    assert!(out.contains("hello-42"), "{out:?}");
    // Resize reaches the shell's own terminal.
    t.control(json!({"type": "resize", "cols": 123, "rows": 45}))
        .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(t.run("stty size").await.contains("45 123"));
    // Keep-alive.
    t.control(json!({"type": "ping"})).await;
    assert_eq!(t.next_control().await.unwrap()["type"], "pong");
    // Ctrl-C interrupts the foreground program, not the shell.
    let from = t.output.len();
    t.send(b"sleep 100\n").await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    t.send(b"\x03").await;
    let _ = t.read_until(from, "$ ", Duration::from_secs(5)).await;
    assert!(t.run("echo still-here").await.contains("still-here"));

    // Drop the connection while a command prints; the shell lives on.
    t.send(b"sleep 1; echo after-the-drop\n").await;
    drop(t);
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let mut again = w.term(&ana, &id).await;
    let replayed = again.ready["replayed_bytes"].as_u64().unwrap();
    assert!(replayed > 0);
    let replay = String::from_utf8_lossy(&again.output).into_owned();
    let replay = if replay.len() < usize::try_from(replayed).unwrap() {
        again
            .read_until(0, "after-the-drop", Duration::from_secs(5))
            .await
    } else {
        replay
    };
    assert!(replay.contains("hello-42"), "{replay:?}");
    assert!(replay.contains("after-the-drop"), "{replay:?}");
    assert!(again.run("echo $((1+1))-ok").await.contains("2-ok"));
    again.close().await;
    w.stop(&ana, &id).await;
}

#[tokio::test]
async fn the_instructor_watches_read_only_and_strangers_cannot_attach() {
    let w = LabWorld::new(|_| {}).await;
    let ana = w.learner("ana").await;
    let eve = w.learner("eve").await;
    let id = w.start(&ana, w.lab).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut learner = w.term(&ana, &id).await;
    learner.run("echo before-watch").await;

    let mut watch = w.term(&w.instructor, &id).await;
    assert_eq!(watch.ready["mode"], "read_only");
    // The instructor's keystrokes are ignored.
    watch
        .send(b"echo from-the-instructor > /home/lab/pwned\n")
        .await;
    // The instructor sees what the learner does.
    let from = watch.output.len();
    learner.run("echo helping-$((2+3))").await;
    watch
        .read_until(from, "helping-5", Duration::from_secs(10))
        .await;
    assert!(
        learner
            .run("ls")
            .await
            .lines()
            .all(|l| !l.contains("pwned"))
    );
    watch.close().await;

    // Another learner: refused, with a close reason.
    let url = format!(
        "{}/api/v1/lab-sessions/{id}/terminal",
        w.server.url.replacen("http", "ws", 1)
    );
    let (mut s, _) = tokio_tungstenite::connect_async(&url).await.unwrap();
    s.send(Message::Text(
        json!({"type": "auth", "token": eve.access_token})
            .to_string()
            .into(),
    ))
    .await
    .unwrap();
    let mut frames = Vec::new();
    while let Some(Ok(m)) = s.next().await {
        frames.push(m);
    }
    let error = frames.iter().find_map(|m| match m {
        Message::Text(t) => serde_json::from_str::<Value>(t.as_str()).ok(),
        _ => None,
    });
    assert_eq!(error.unwrap()["code"], "not_found");
    assert!(
        frames.iter().all(|m| !matches!(m, Message::Binary(_))),
        "no output for strangers"
    );

    // No auth frame, a bad token: refused.
    let (mut s, _) = tokio_tungstenite::connect_async(&url).await.unwrap();
    s.send(Message::Text(
        json!({"type": "auth", "token": "nope"}).to_string().into(),
    ))
    .await
    .unwrap();
    let mut codes = Vec::new();
    while let Some(Ok(m)) = s.next().await {
        if let Message::Close(Some(c)) = m {
            codes.push(u16::from(c.code));
        }
    }
    assert_eq!(codes, [4401]);

    // A bearer header works too (native clients); a bad one is refused before the upgrade.
    let mut req = url.clone().into_client_request().unwrap();
    req.headers_mut().insert(
        "authorization",
        format!("Bearer {}", ana.access_token).parse().unwrap(),
    );
    let (mut s, _) = tokio_tungstenite::connect_async(req).await.unwrap();
    let first = s.next().await.unwrap().unwrap();
    assert!(
        matches!(first, Message::Text(ref t) if t.as_str().contains("interactive")),
        "{first:?}"
    );
    drop(s);
    let mut req = url.clone().into_client_request().unwrap();
    req.headers_mut()
        .insert("authorization", "Bearer nope".parse().unwrap());
    let refused = tokio_tungstenite::connect_async(req).await.unwrap_err();
    assert!(refused.to_string().contains("401"), "{refused}");

    // A foreign browser origin is refused; the desktop app's is allowed.
    let mut req = url.clone().into_client_request().unwrap();
    req.headers_mut()
        .insert("origin", "https://evil.example".parse().unwrap());
    let refused = tokio_tungstenite::connect_async(req).await.unwrap_err();
    assert!(refused.to_string().contains("403"), "{refused}");
    let mut req = url.clone().into_client_request().unwrap();
    req.headers_mut()
        .insert("origin", "tauri://localhost".parse().unwrap());
    assert!(tokio_tungstenite::connect_async(req).await.is_ok());

    // A paused session's terminal does not open.
    learner.close().await;
    let p = w
        .call(
            Method::POST,
            &format!("/api/v1/lab-sessions/{id}/pause"),
            &ana,
            None,
        )
        .await;
    assert_eq!(p.status, StatusCode::OK);
    let (mut s, _) = tokio_tungstenite::connect_async(&url).await.unwrap();
    s.send(Message::Text(
        json!({"type": "auth", "token": ana.access_token})
            .to_string()
            .into(),
    ))
    .await
    .unwrap();
    let mut codes = Vec::new();
    while let Some(Ok(m)) = s.next().await {
        if let Message::Close(Some(c)) = m {
            codes.push(u16::from(c.code));
        }
    }
    assert_eq!(codes, [4409]);
    w.stop(&ana, &id).await;
}

#[tokio::test]
async fn a_flood_of_output_cannot_exhaust_the_server() {
    let w = LabWorld::new(|_| {}).await;
    let ana = w.learner("ana").await;
    let id = w.start(&ana, w.lab).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut t = w.term(&ana, &id).await;
    // A client that stops reading while the shell prints ~200 MB.
    t.send(b"head -c 200000000 /dev/zero | tr '\\0' x; echo; echo flood-''done\n")
        .await;
    tokio::time::sleep(Duration::from_secs(4)).await;
    // Either the client kept up, or it was told it lagged and closed: never unbounded.
    let mut lagged = false;
    loop {
        match tokio::time::timeout(Duration::from_secs(30), t.socket.next()).await {
            Ok(Some(Ok(Message::Text(text)))) if text.as_str().contains("lagged") => lagged = true,
            Ok(Some(Ok(Message::Binary(b)))) => {
                if String::from_utf8_lossy(&b).contains("flood-done") {
                    break;
                }
            }
            Ok(Some(Ok(Message::Close(_))) | None) | Err(_) => break,
            Ok(Some(_)) => {}
        }
    }
    assert!(
        lagged,
        "a client that stopped reading should have been cut off"
    );
    // The shell survived: once the flood is over, a new connection gets its end replayed.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(120);
    let mut again = loop {
        let mut again = w.term(&ana, &id).await;
        if again
            .try_read_until(0, "flood-done", Duration::from_secs(2))
            .await
            .is_some()
        {
            break again;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the flood never ended"
        );
        tokio::time::sleep(Duration::from_secs(1)).await;
    };
    assert!(again.run("echo alive").await.contains("alive"));
    again.close().await;
    w.stop(&ana, &id).await;
}

#[tokio::test]
async fn a_flood_of_input_is_held_to_the_shells_input_budget() {
    use skilltrack_server::labs::terminal::INPUT_BUDGET_BYTES;
    let w = LabWorld::new(|_| {}).await;
    let ana = w.learner("ana").await;
    let id = w.start(&ana, w.lab).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let session: uuid::Uuid = id.parse().unwrap();
    let mut t = w.term(&ana, &id).await;
    // The shell reads nothing while it sleeps: whatever is typed piles up somewhere.
    t.send(b"sleep 3600\n").await;
    let terminal = w.labs().terminal(session).await.unwrap();
    let (mut sink, _stream) = t.socket.split();
    let flood = tokio::spawn(async move {
        for _ in 0..16 {
            if sink
                .send(Message::Binary(vec![b'x'; 1 << 20].into()))
                .await
                .is_err()
            {
                break;
            }
        }
    });
    // Wait until the server has taken in a budget's worth: from then on, it is full.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    while terminal.input_received_bytes() < INPUT_BUDGET_BYTES {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the server took only {} bytes",
            terminal.input_received_bytes()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(
        terminal.input_queued_peak() <= INPUT_BUDGET_BYTES,
        "the server held {} bytes of input for one shell (budget {INPUT_BUDGET_BYTES})",
        terminal.input_queued_peak()
    );
    w.stop(&ana, &id).await;
    flood.abort();
}
