//! The app's log: to stderr, and — once the app knows its log directory — to a file there that
//! rotates daily (seven days kept), which Settings names and opens, so a learner can find it
//! and send it along with a problem. Nothing secret is logged (tokens never are), and the
//! directory is readable by its owner only all the same.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use tracing_appender::rolling::{RollingFileAppender, RollingWriter, Rotation};
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::fmt::writer::OptionalWriter;
use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::util::SubscriberInitExt as _;

/// Log files are `skilltrack.<date>.log`.
const PREFIX: &str = "skilltrack";
const SUFFIX: &str = "log";
/// Days of logs kept.
const KEEP_FILES: usize = 7;

/// The file appender, set once the log directory is known ([`open_file`]).
static FILE: OnceLock<(PathBuf, RollingFileAppender)> = OnceLock::new();

/// Writes to the log file once there is one, nowhere before.
struct LogFileWriter;

impl<'a> MakeWriter<'a> for LogFileWriter {
    type Writer = OptionalWriter<RollingWriter<'a>>;

    fn make_writer(&'a self) -> Self::Writer {
        FILE.get().map_or_else(OptionalWriter::none, |(_, file)| {
            OptionalWriter::some(file.make_writer())
        })
    }
}

/// Starts logging (levels from `RUST_LOG`, `info` by default): to stderr now, and to the log
/// file from [`open_file`] on.
pub fn start() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::registry()
        .with(filter)
        .with(tracing_subscriber::fmt::layer().with_writer(std::io::stderr))
        .with(
            tracing_subscriber::fmt::layer()
                .with_ansi(false)
                .with_writer(LogFileWriter),
        )
        .try_init();
}

/// Opens the rotating log file in `dir` (created, private to its owner). The first call wins.
pub fn open_file(dir: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))?;
    }
    let file = RollingFileAppender::builder()
        .rotation(Rotation::DAILY)
        .filename_prefix(PREFIX)
        .filename_suffix(SUFFIX)
        .max_log_files(KEEP_FILES)
        .build(dir)
        .map_err(std::io::Error::other)?;
    let _ = FILE.set((dir.to_owned(), file));
    Ok(())
}

/// The log directory, once open.
pub fn dir() -> Option<&'static Path> {
    FILE.get().map(|(dir, _)| dir.as_path())
}

/// The log file written now: the newest `skilltrack.*.log` in the log directory.
pub fn current_file() -> Option<PathBuf> {
    let dir = dir()?;
    std::fs::read_dir(dir)
        .ok()?
        .flatten()
        .filter(|e| {
            let name = e.file_name();
            let name = name.to_string_lossy();
            name.starts_with(&format!("{PREFIX}.")) && name.ends_with(&format!(".{SUFFIX}"))
        })
        .max_by_key(|e| e.metadata().and_then(|m| m.modified()).ok())
        .map(|e| e.path())
}
