//! Where the window plays downloaded media from (see [`crate::local_media`]).

use std::path::Path;

use tauri::State;

use crate::error::CommandError;
use crate::local_media::LocalMedia;

/// The loopback URL of a downloaded file, for the window's `<video>`.
#[tauri::command]
#[allow(
    clippy::needless_pass_by_value,
    reason = "Tauri hands commands their arguments by value"
)]
pub fn media_url(media: State<'_, LocalMedia>, path: String) -> Result<String, CommandError> {
    media.url_of(Path::new(&path)).ok_or_else(|| {
        CommandError::new(
            "not_downloaded",
            "This file is not among the downloads of this device.",
        )
    })
}
