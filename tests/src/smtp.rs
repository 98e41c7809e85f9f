//! A real SMTP server for tests: Python's `aiosmtpd` (tests/smtp-sink/sink.py) on a free port
//! of 127.0.0.1, writing each message it receives to a directory, parsed by Python's own
//! e-mail parser.

use std::io::{BufRead as _, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

/// The Python with aiosmtpd (scripts/lib.sh's `ensure_smtp_sink`).
pub fn sink_python() -> PathBuf {
    let python = std::env::var_os("SKILLTRACK_SMTP_SINK_PYTHON").map_or_else(
        || {
            PathBuf::from(std::env::var_os("HOME").expect("HOME"))
                .join(".cache/skilltrack/smtp-sink-venv/bin/python")
        },
        PathBuf::from,
    );
    assert!(
        python.exists(),
        "{} is missing: install the test SMTP server with \
         `bash -c 'source scripts/lib.sh && ensure_smtp_sink'` (scripts/test-all does)",
        python.display()
    );
    python
}

/// The user and password the test SMTP server accepts (and no others).
pub const SMTP_USER: &str = "mailer";
/// See [`SMTP_USER`].
pub const SMTP_PASSWORD: &str = "smtp-secret-hunter2";

/// A running SMTP server; stopped when dropped.
pub struct SmtpSink {
    /// `smtp://127.0.0.1:<port>`.
    pub url: String,
    dir: tempfile::TempDir,
    child: Child,
    /// Closing it tells the server to stop.
    stdin: Option<ChildStdin>,
}

/// One message as the server received it.
#[derive(Debug, Clone)]
pub struct Received {
    /// The envelope's sender.
    pub mail_from: String,
    /// The envelope's recipients.
    pub rcpt_tos: Vec<String>,
    /// A header by its lowercase name (`subject`, `to`, `from`).
    pub headers: serde_json::Map<String, Value>,
    /// The plain-text body, transfer encoding undone.
    pub text: String,
    /// The message as it came over SMTP.
    pub raw: String,
    /// The user the client authenticated as (`mailer`), if it did.
    pub auth_user: Option<String>,
}

impl Received {
    /// The first `http` link in the body that contains `part`.
    pub fn link(&self, part: &str) -> String {
        self.text
            .split_whitespace()
            .find(|w| w.starts_with("http") && w.contains(part))
            .unwrap_or_else(|| panic!("no link with {part} in {:?}", self.text))
            .to_owned()
    }

    /// A header (panics if missing).
    pub fn header(&self, name: &str) -> &str {
        self.headers[name].as_str().expect("a header")
    }
}

impl SmtpSink {
    /// Starts the server and waits until it says its port.
    pub fn start() -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("smtp-sink/sink.py");
        let mut child = Command::new(sink_python())
            .arg(&script)
            .arg(dir.path())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("starting the SMTP server");
        let stdin = child.stdin.take();
        let stdout = child.stdout.take().expect("stdout");
        let mut line = String::new();
        BufReader::new(stdout)
            .read_line(&mut line)
            .expect("the SMTP server's port");
        let port: u16 = line
            .trim()
            .parse()
            .unwrap_or_else(|_| panic!("the SMTP server said {line:?}, not a port"));
        Self {
            url: format!("smtp://127.0.0.1:{port}"),
            dir,
            child,
            stdin,
        }
    }

    fn read_all(&self) -> Vec<Received> {
        let mut files: Vec<PathBuf> = std::fs::read_dir(self.dir.path())
            .expect("the mail directory")
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|e| e == "json"))
            .collect();
        files.sort();
        files
            .iter()
            .map(|path| {
                let v: Value = serde_json::from_str(&std::fs::read_to_string(path).expect("mail"))
                    .expect("JSON");
                Received {
                    mail_from: v["mail_from"].as_str().unwrap_or_default().to_owned(),
                    rcpt_tos: v["rcpt_tos"]
                        .as_array()
                        .map(|a| {
                            a.iter()
                                .filter_map(|r| r.as_str().map(str::to_owned))
                                .collect()
                        })
                        .unwrap_or_default(),
                    headers: v["headers"].as_object().cloned().unwrap_or_default(),
                    text: v["text"].as_str().unwrap_or_default().to_owned(),
                    raw: v["raw"].as_str().unwrap_or_default().to_owned(),
                    auth_user: v["auth_user"].as_str().map(str::to_owned),
                }
            })
            .collect()
    }

    /// Every message received so far.
    pub fn messages(&self) -> Vec<Received> {
        self.read_all()
    }

    /// Waits (up to 30 s) until at least `count` messages have arrived; returns them all.
    pub async fn wait_for(&self, count: usize) -> Vec<Received> {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let all = self.read_all();
            if all.len() >= count {
                return all;
            }
            assert!(
                Instant::now() < deadline,
                "{count} messages expected, {} arrived",
                all.len()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        drop(self.stdin.take());
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
