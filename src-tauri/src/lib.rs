//! The Skilltrack desktop app: the Tauri v2 shell over the `skilltrack-client` engine.
//!
//! * [`device`]: the engine of the chosen server, its sync loop, status events.
//! * [`commands`]: what the window may call — thin adapters over the engine and its cache.
//! * [`views`]: the screens' data, exported to TypeScript with ts-rs.
//! * [`error`]: errors as the window sees them (a code and words).

#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod commands;
pub mod device;
pub mod error;
pub mod views;

use std::path::PathBuf;

use skilltrack_client::tokens::StoreKind;
use tauri::Manager as _;

use crate::device::{Device, DeviceConfig};

/// Which build of ui/dist is embedded (set by build.rs; a new UI build recompiles this crate).
pub const UI_BUILD: &str = env!("SKILLTRACK_UI_BUILD");

/// The server when neither `SKILLTRACK_SERVER` nor the settings name one.
pub const DEFAULT_SERVER: &str = "http://127.0.0.1:8787";

/// The app's managed state.
pub struct Desktop {
    /// Where data is kept.
    pub config: DeviceConfig,
    /// The current server's engine. Commands clone the engine out before any network call, so
    /// a slow server never holds this lock.
    pub device: tokio::sync::Mutex<Device>,
}

/// The server to use: `SKILLTRACK_SERVER` (the demo and the tests set it), else the one chosen
/// in settings, else [`DEFAULT_SERVER`].
fn chosen_server(data_root: &std::path::Path) -> String {
    std::env::var("SKILLTRACK_SERVER")
        .ok()
        .filter(|s| !s.trim().is_empty())
        .or_else(|| std::fs::read_to_string(data_root.join("server-url")).ok())
        .map_or_else(
            || DEFAULT_SERVER.to_owned(),
            |s| s.trim().trim_end_matches('/').to_owned(),
        )
}

fn setup(app: &mut tauri::App) -> Result<(), Box<dyn std::error::Error>> {
    let data_root = match std::env::var_os("SKILLTRACK_DATA_DIR") {
        Some(dir) => PathBuf::from(dir),
        None => app.path().app_data_dir()?,
    };
    let store = if std::env::var("SKILLTRACK_TOKEN_STORE").as_deref() == Ok("file") {
        StoreKind::File
    } else {
        StoreKind::Keyring
    };
    let config = DeviceConfig { data_root, store };
    let server = chosen_server(&config.data_root);
    let device = Device::open(app.handle(), &config, &server)?;
    commands::allow_media(app.handle(), &device)?;
    app.manage(Desktop {
        config,
        device: tokio::sync::Mutex::new(device),
    });
    Ok(())
}

/// Runs the app until its window closes.
pub fn run() -> tauri::Result<()> {
    tauri::Builder::default()
        .setup(setup)
        .invoke_handler(tauri::generate_handler![
            commands::launch_state,
            commands::sign_in,
            commands::sign_out,
            commands::sync_now,
            commands::set_server,
            commands::catalog,
            commands::course_page,
            commands::lesson,
            commands::complete_lesson,
            commands::set_bookmark,
            commands::my_learning,
            commands::download_lesson_media,
            commands::settings,
        ])
        .run(tauri::generate_context!("../tauri.conf.json"))
}
