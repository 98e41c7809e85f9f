//! What the lab commands answer. Labs, categories, sessions and workspace listings are the
//! protocol's own types (`ui/src/bindings`); this module adds only what the screens need
//! around them.

use serde::{Deserialize, Serialize};
use skilltrack_client::labs::TerminalState;
use skilltrack_protocol::catalog::{LabCategory, LabDetail, LabSummary};
use skilltrack_protocol::labs::TerminalMode;
use ts_rs::TS;

/// How to narrow the list of labs.
#[derive(Debug, Clone, Default, Deserialize, TS)]
#[ts(export)]
pub struct LabQuery {
    /// Words to find in the title, description or technologies.
    pub text: Option<String>,
    /// A category's id.
    pub category_id: Option<String>,
    /// `Beginner`, `Intermediate` or `Advanced`.
    pub difficulty: Option<String>,
}

/// The labs screen: categories (for the filter) and the labs that match.
#[derive(Debug, Clone, Serialize, TS)]
#[ts(export)]
pub struct LabsScreen {
    /// Every category, by name.
    pub categories: Vec<LabCategory>,
    /// The matching labs, popular first.
    pub labs: Vec<LabSummary>,
}

/// A lab's page, from the cache (the session, being live, comes from the server apart).
#[derive(Debug, Clone, Serialize, TS)]
#[ts(export)]
pub struct LabScreen {
    /// The lab.
    pub detail: LabDetail,
    /// Its category, if known here.
    pub category: Option<LabCategory>,
}

/// A JSON message on a terminal's output channel. Output itself travels as raw bytes on the
/// same channel (an `ArrayBuffer` in the window), in order with these.
#[derive(Debug, Clone, Serialize, TS)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[ts(export)]
pub enum TerminalMessage {
    /// (Re)attached: clear the screen; the next `replayed_bytes` bytes are the recent output.
    Ready {
        /// Interactive or read-only.
        mode: TerminalMode,
        /// Bytes of output about to be replayed.
        #[ts(type = "number")]
        replayed_bytes: u64,
    },
    /// The connection's state changed (the reconnect indicator).
    State(TerminalState),
}

/// A file saved from a workspace.
#[derive(Debug, Clone, Serialize, TS)]
#[ts(export)]
pub struct SavedFile {
    /// Where it is on this computer.
    pub path: String,
}
