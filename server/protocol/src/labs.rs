//! Labs at run time: a learner's sessions and their environments, the workspace's files, and
//! the terminal WebSocket's control frames.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use ts_rs::TS;
use uuid::Uuid;

use crate::catalog::LabRef;
use crate::enums::{EnvironmentStatus, LabSessionStatus};

/// `POST /api/v1/labs/{id}/sessions`: start a lab.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
#[ts(export)]
pub struct LabStart {
    /// Keep the workspace for the next session of this lab (default `true`); `false` deletes
    /// it when the session ends.
    #[serde(default)]
    #[ts(optional)]
    pub auto_save_enabled: Option<bool>,
}

/// The environment a session runs in.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[ts(export)]
pub struct LabEnvironment {
    /// Id.
    pub id: Uuid,
    /// Creating, running, paused, stopped, error or deleted.
    pub status: EnvironmentStatus,
    /// The lab's template (`shell-basic`, `python`, …).
    pub template_name: String,
    /// The sandbox profile the template maps to.
    pub profile: String,
    /// Whether the environment may reach the network.
    pub network: bool,
    /// CPU cores, memory (GB) and storage (GB) as the lab asks them.
    #[ts(type = "Record<string, unknown>")]
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub resource_config: serde_json::Value,
    /// Minutes without input after which the environment stops itself.
    pub auto_stop_minutes: i32,
    /// Started.
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub started_at: Option<DateTime<Utc>>,
    /// Stopped.
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub stopped_at: Option<DateTime<Utc>>,
}

/// A learner's session of a lab.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[ts(export)]
pub struct LabSession {
    /// Id.
    pub id: Uuid,
    /// The learner.
    pub user_id: Uuid,
    /// The lab.
    pub lab: LabRef,
    /// Starting, active, paused, completed or expired.
    pub status: LabSessionStatus,
    /// Its environment.
    pub environment: LabEnvironment,
    /// Started.
    pub started_at: DateTime<Utc>,
    /// Ended (completed or expired).
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub ended_at: Option<DateTime<Utc>>,
    /// Minutes from start to end (or to now).
    pub duration_minutes: i32,
    /// Last input in the terminal (saved every reaper round, so up to that late).
    pub last_activity: DateTime<Utc>,
    /// When the environment will stop itself if nothing is typed (live sessions only).
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub auto_stop_at: Option<DateTime<Utc>>,
    /// Cost so far: the lab's hourly `estimated_cost` times the hours used, in USD.
    #[ts(type = "string")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, example = "0.0050"))]
    pub cost_estimate: Decimal,
    /// Memory, processes and disk last measured.
    #[ts(type = "Record<string, unknown>")]
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub resource_usage: serde_json::Value,
    /// Progress through the lab's steps (the server's record of the learner's checks; also
    /// under `progress_data.steps`). Absent until the first check.
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub steps: Option<crate::lab_steps::StepProgress>,
    /// Whatever the client saved about the learner's progress.
    #[ts(type = "Record<string, unknown>")]
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub progress_data: serde_json::Value,
    /// The workspace is kept for the next session.
    pub auto_save_enabled: bool,
    /// The terminal's WebSocket path (authenticate with the first frame, see
    /// [`TerminalClientFrame::Auth`]).
    pub terminal_path: String,
}

/// Sessions, newest first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[ts(export)]
pub struct LabSessionList {
    /// The sessions.
    pub items: Vec<LabSession>,
}

/// `PUT /api/v1/lab-sessions/{id}/progress`: replace the saved progress.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
#[ts(export)]
pub struct LabProgress {
    /// A JSON object, at most 64 KiB.
    #[ts(type = "Record<string, unknown>")]
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub progress_data: serde_json::Value,
}

/// A lab image: a root filesystem labs may run on (`labs.docker_image`), imported by an admin.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[ts(export)]
pub struct LabImage {
    /// What a lab's `docker_image` names: `name` or `name:tag`.
    pub name: String,
    /// `sha256:…` of what was imported.
    pub digest: String,
    /// Where it came from, in words.
    pub source: String,
    /// Bytes of its files.
    #[ts(type = "number")]
    pub size_bytes: i64,
    /// The login shell a lab's terminal starts on it.
    pub shell: String,
    /// When it was last imported.
    pub imported_at: DateTime<Utc>,
}

/// `GET /api/v1/lab-images`: the images labs may run on (authors and admins).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[ts(export)]
pub struct LabImageList {
    /// By name.
    pub items: Vec<LabImage>,
}

/// A file or directory of a lab workspace.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[ts(export)]
pub struct WorkspaceFile {
    /// Path from the workspace's top, `/`-separated, no leading `/`.
    pub path: String,
    /// The last part of the path.
    pub name: String,
    /// A directory.
    pub is_directory: bool,
    /// A symbolic link (listed, never followed).
    pub is_symlink: bool,
    /// Bytes (0 for directories).
    // A byte count far below 2^53: a plain number in TypeScript, as in JSON.
    #[ts(type = "number")]
    pub size: u64,
    /// Last modified.
    pub modified_at: DateTime<Utc>,
}

/// A workspace directory's entries, directories first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[ts(export)]
pub struct WorkspaceListing {
    /// The directory listed (`""`: the top).
    pub path: String,
    /// Its entries.
    pub items: Vec<WorkspaceFile>,
    /// Bytes the whole workspace holds.
    // A byte count far below 2^53: a plain number in TypeScript, as in JSON.
    #[ts(type = "number")]
    pub used_bytes: u64,
    /// Bytes it may hold.
    // A byte count far below 2^53: a plain number in TypeScript, as in JSON.
    #[ts(type = "number")]
    pub quota_bytes: u64,
}

/// `POST /api/v1/lab-sessions/{id}/files/directories`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
#[ts(export)]
pub struct MakeDirectory {
    /// The new directory's path; missing parents are made too.
    pub path: String,
}

/// How a client is attached to a terminal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum TerminalMode {
    /// The learner: types and reads.
    Interactive,
    /// The lab's instructor (or an admin) helping: reads only, input is ignored.
    ReadOnly,
}

/// A text frame from the client on the terminal WebSocket. Keystrokes go as binary frames.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "type", rename_all = "snake_case")]
#[ts(export)]
pub enum TerminalClientFrame {
    /// The first frame, unless the upgrade request carried `Authorization: Bearer …`: the
    /// access token (never in the URL, where logs would keep it).
    Auth {
        /// The access token.
        token: String,
    },
    /// The terminal's size changed.
    Resize {
        /// Columns.
        cols: u16,
        /// Rows.
        rows: u16,
    },
    /// Keep-alive; answered with [`TerminalServerFrame::Pong`].
    Ping,
}

/// A text frame from the server on the terminal WebSocket. Output goes as binary frames.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "type", rename_all = "snake_case")]
#[ts(export)]
pub enum TerminalServerFrame {
    /// Attached. The next `replayed_bytes` bytes of binary frames are recent output the client
    /// may already have shown (clear the screen before writing them); live output follows.
    Ready {
        /// Interactive or read-only.
        mode: TerminalMode,
        /// Bytes of recent output about to be replayed.
        // A byte count far below 2^53: a plain number in TypeScript, as in JSON.
        #[ts(type = "number")]
        replayed_bytes: u64,
    },
    /// Answers a ping.
    Pong,
    /// The client fell behind the output; the server closes the connection and the client
    /// should reconnect (it gets the recent output replayed).
    Lagged,
    /// The shell ended (the session was stopped, paused or reaped).
    Exited,
    /// Something went wrong; the connection closes.
    Error {
        /// A stable code.
        code: String,
        /// A sentence.
        detail: String,
    },
}
