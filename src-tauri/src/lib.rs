//! The Skilltrack desktop app: the Tauri v2 shell over the `skilltrack-client` engine.
//!
//! * [`device`]: the engine of the chosen server, its sync loop, status events.
//! * [`commands`]: what the window may call — thin adapters over the engine and its cache.
//! * [`views`]: the screens' data, exported to TypeScript with ts-rs.
//! * [`error`]: errors as the window sees them (a code and words).
//! * [`local_media`]: downloaded media played over loopback HTTP (`WebKitGTK` cannot play video
//!   from a custom scheme such as `asset:`).
//! * [`offline_queue`]: the courses kept offline, downloaded in the background.
//! * [`navigation`]: the window never leaves the app's own pages.
//! * [`package_preview`]: a course folder previewed through the learner's screens, read again
//!   whenever a file in it changes; no server, no network, nothing written.
//! * [`preferences`]: the player's speed and captions and the theme, kept on this computer.
//! * [`rendering`]: the window paints with the GPU only where there is one.
//! * [`links`]: `skilltrack://` links, handed over at launch or by a second launch.
//! * [`logging`]: the log, to stderr and to a rotating file Settings points at.
//! * [`os_notifications`]: a graded attempt, a certificate, a lab stopping, on the desktop.
//! * [`updates`]: new versions of the app, signed, from the server the app uses.

#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod commands;
pub mod device;
pub mod error;
pub mod links;
pub mod local_media;
pub mod logging;
pub mod navigation;
pub mod offline_queue;
pub mod os_notifications;
pub mod package_preview;
pub mod preferences;
pub mod rendering;
pub mod updates;
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
    /// The server named at start, if it was refused, and why (shown on the sign-in screen).
    pub server_refused: Option<error::CommandError>,
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

/// `SKILLTRACK_DATA_DIR`, when set: where everything of the app goes instead of the OS's
/// directories (the demo and the tests set it).
fn data_root_from_env() -> Option<PathBuf> {
    std::env::var_os("SKILLTRACK_DATA_DIR")
        .filter(|dir| !dir.is_empty())
        .map(PathBuf::from)
}

/// The name the single-instance plugin claims on the session bus: the app's identifier, or
/// with `SKILLTRACK_DATA_DIR` one per data directory (`<identifier>.data_<hash>`), so two
/// apps on two data directories (side-by-side tests, a second profile) both run while a
/// second app on one data directory still finds the first (decision 298).
fn instance_id(identifier: &str, data_root: Option<&std::path::Path>) -> String {
    let Some(dir) = data_root else {
        return identifier.to_owned();
    };
    let dir = std::path::absolute(dir).unwrap_or_else(|_| dir.to_owned());
    // FNV-1a: stable across builds and runs, unlike std's hasher.
    let hash = dir
        .as_os_str()
        .as_encoded_bytes()
        .iter()
        .fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
            (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3)
        });
    format!("{identifier}.data_{hash:016x}")
}

/// One app per data directory (see [`instance_id`]): a second launch hands its command line
/// to this one, which comes to the front and reads it for links, and exits.
fn single_instance(identifier: &str) -> tauri::plugin::TauriPlugin<tauri::Wry> {
    tauri_plugin_single_instance::Builder::new()
        .dbus_id(instance_id(identifier, data_root_from_env().as_deref()))
        .callback(|app, argv, _cwd| {
            tracing::info!("a second launch handed over to this one");
            links::focus_main_window(app);
            links::receive(app, argv);
        })
        .build()
}

/// Window size, place and maximised state, restored at start and saved at exit; in the data
/// directory when `SKILLTRACK_DATA_DIR` names one (else the plugin's file in the OS's config
/// directory), so side-by-side apps never share it.
fn window_state() -> tauri::plugin::TauriPlugin<tauri::Wry> {
    let builder = tauri_plugin_window_state::Builder::new().with_state_flags(WINDOW_STATE);
    match data_root_from_env() {
        // The plugin joins its file name to the config directory: an absolute path replaces it.
        Some(root) => builder
            .with_filename(root.join("window-state.json").to_string_lossy())
            .build(),
        None => builder.build(),
    }
}

/// What of the window is kept: never its visibility or decorations (a window hidden at exit
/// must not come back hidden).
const WINDOW_STATE: tauri_plugin_window_state::StateFlags =
    tauri_plugin_window_state::StateFlags::SIZE
        .union(tauri_plugin_window_state::StateFlags::POSITION)
        .union(tauri_plugin_window_state::StateFlags::MAXIMIZED);

/// Saves the window's size and place half a second after it last changed, as well as at exit
/// (the plugin's own moment): an app ended by a signal (the session logging out, `WebDriver`
/// ending its session) never reaches its exit, and would forget the size it was left at.
fn save_window_state_when_changed(window: &tauri::WebviewWindow) {
    use std::sync::atomic::{AtomicU64, Ordering};
    use tauri_plugin_window_state::AppHandleExt as _;
    let changes = std::sync::Arc::new(AtomicU64::new(0));
    let app = window.app_handle().clone();
    window.on_window_event(move |event| {
        if !matches!(
            event,
            tauri::WindowEvent::Resized(_) | tauri::WindowEvent::Moved(_)
        ) {
            return;
        }
        let this = changes.fetch_add(1, Ordering::SeqCst) + 1;
        let (app, changes) = (app.clone(), std::sync::Arc::clone(&changes));
        tauri::async_runtime::spawn(async move {
            tokio::time::sleep(std::time::Duration::from_millis(500)).await;
            if changes.load(Ordering::SeqCst) == this {
                if let Err(e) = app.save_window_state(WINDOW_STATE) {
                    tracing::warn!(error = %e, "the window's size and place could not be saved");
                }
            }
        });
    });
}

fn setup(app: &mut tauri::App) -> Result<(), Box<dyn std::error::Error>> {
    // The log file first, so it has every line of this run; then at once the rendering
    // policy: the window exists (Tauri made it from the config) but its page has not started
    // drawing yet, which is when WebKit reads it.
    let log_dir = match data_root_from_env() {
        Some(root) => root.join("logs"),
        None => app.path().app_log_dir()?,
    };
    // No log file is no reason not to start: the log still goes to stderr.
    if let Err(e) = logging::open_file(&log_dir) {
        tracing::warn!(dir = %log_dir.display(), error = %e, "no log file");
    }
    tracing::info!(
        version = env!("CARGO_PKG_VERSION"),
        "skilltrack-desktop starting"
    );
    if let Some(window) = app.get_webview_window("main") {
        rendering::apply(&window, rendering::Gpu::choose())?;
        save_window_state_when_changed(&window);
    }
    let data_root = match data_root_from_env() {
        Some(dir) => dir,
        None => app.path().app_data_dir()?,
    };
    let store = if std::env::var("SKILLTRACK_TOKEN_STORE").as_deref() == Ok("file") {
        StoreKind::File
    } else {
        StoreKind::Keyring
    };
    // A bad SKILLTRACK_CA_FILE stops the app with the reason: quietly trusting less than the
    // operator asked for would only fail later, with a vaguer error.
    let trust = skilltrack_client::tls::Trust::from_env()?;
    let config = DeviceConfig {
        data_root,
        store,
        trust,
    };
    let server = chosen_server(&config.data_root);
    // A server the engine refuses (plain http:// to another computer) must not keep the app
    // from starting: it starts on the default server and the sign-in screen says why.
    let (device, server_refused) = match Device::open(app.handle(), &config, &server) {
        Ok(device) => (device, None),
        Err(refused) if matches!(refused.code.as_str(), "insecure_server" | "invalid_server") => {
            tracing::warn!(%server, %refused, "refused the server named at start");
            let device = Device::open(app.handle(), &config, DEFAULT_SERVER)?;
            (device, Some(refused))
        }
        Err(other) => return Err(other.into()),
    };
    app.manage(local_media::LocalMedia::start(device.media_dir())?);
    app.manage(package_preview::PackagePreview::default());
    commands::allow_media(app.handle(), &device)?;
    app.manage(Desktop {
        config,
        device: tokio::sync::Mutex::new(device),
        server_refused,
    });
    // Courses kept offline carry on downloading where they stopped.
    app.manage(offline_queue::OfflineQueue::default());
    app.state::<offline_queue::OfflineQueue>()
        .kick(app.handle());
    // A link the app was started with waits for the window (see links.rs).
    links::receive(app.handle(), std::env::args());
    Ok(())
}

/// The plugins and the state they need, in the order they must start.
fn with_plugins(
    builder: tauri::Builder<tauri::Wry>,
    identifier: &str,
) -> tauri::Builder<tauri::Wry> {
    builder
        // First of all: a second launch hands its command line (a link, maybe) to the app
        // already running, which comes to the front, and exits before anything else starts.
        .plugin(single_instance(identifier))
        // Managed before any plugin's setup: links may be handed over before the app's own.
        .manage(links::LinkInbox::default())
        .plugin(window_state())
        .plugin(navigation::guard())
        // External links open in the OS browser (http, https, mailto only: the capability's
        // scope), after the learner confirms in the window.
        .plugin(tauri_plugin_opener::init())
        // The folder picker of the package preview, called from Rust only (no permission for
        // the window to open dialogs itself).
        .plugin(tauri_plugin_dialog::init())
        // Updates, checked and installed from Rust only (updates.rs): none for the window.
        .plugin(tauri_plugin_updater::Builder::new().build())
        .manage(updates::PendingUpdate::default())
}

/// Runs the app until its window closes.
pub fn run() -> tauri::Result<()> {
    commands::startup::mark_launch();
    let context = tauri::generate_context!("../tauri.conf.json");
    with_plugins(tauri::Builder::default(), &context.config().identifier)
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
            commands::streamed_extras,
            commands::preferences,
            commands::set_preferences,
            commands::course_downloads::course_download_plan,
            commands::course_downloads::keep_course_offline,
            commands::course_downloads::open_attachment,
            commands::course_downloads::pause_course_download,
            commands::course_downloads::delete_course_downloads,
            commands::course_downloads::offline_courses,
            commands::course_downloads::next_lessons_state,
            commands::course_by_slug,
            commands::complete_lesson,
            commands::set_bookmark,
            commands::my_learning,
            commands::download_lesson_media,
            commands::settings,
            commands::enroll,
            commands::review_course,
            commands::record_video_position,
            commands::account::sign_up,
            commands::account::request_password_reset,
            commands::certificates::save_certificate,
            commands::certificates::verify_certificate,
            commands::notifications::notifications,
            commands::notifications::unread_notifications,
            commands::notifications::mark_notification_read,
            commands::notifications::mark_all_notifications_read,
            commands::quiz::quiz,
            commands::quiz::start_attempt,
            commands::quiz::save_answer,
            commands::quiz::submit_attempt,
            commands::quiz::discard_attempt,
            commands::quiz::attempt_result,
            commands::instructor::instructor_courses,
            commands::instructor::publish_course,
            commands::instructor::unpublish_course,
            commands::instructor::grading_queue,
            commands::instructor::grade_answer,
            commands::media::media_url,
            commands::startup::catalog_interactive,
            commands::labs::labs,
            commands::labs::lab_page,
            commands::labs::lab_live_session,
            commands::labs::lab_session,
            commands::labs::start_lab,
            commands::labs::pause_lab,
            commands::labs::resume_lab,
            commands::labs::stop_lab,
            commands::labs::lab_steps,
            commands::labs::check_lab_step,
            commands::labs::instructor_labs,
            commands::labs::self_test_lab,
            commands::labs::lab_files,
            commands::labs::lab_make_directory,
            commands::labs::lab_delete_file,
            commands::labs::lab_upload_file,
            commands::labs::lab_download_file,
            commands::labs::open_terminal,
            commands::labs::terminal_input,
            commands::labs::terminal_resize,
            commands::labs::close_terminal,
            commands::package_preview::open_package_preview,
            commands::package_preview::pick_package_folder,
            commands::package_preview::close_package_preview,
            commands::package_preview::package_preview_status,
            commands::package_preview::push_package_preview,
            commands::package_preview::preview_catalog,
            commands::package_preview::preview_course_page,
            commands::package_preview::preview_lesson,
            commands::package_preview::preview_quiz,
            commands::package_preview::preview_start_attempt,
            commands::package_preview::preview_save_answer,
            commands::package_preview::preview_submit_attempt,
            commands::package_preview::preview_discard_attempt,
            commands::package_preview::preview_attempt_result,
            commands::package_preview::preview_lab,
            commands::system::opened_links,
            commands::system::open_log_folder,
            commands::system::check_for_update,
            commands::system::install_update,
        ])
        .run(context)
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::instance_id;

    #[test]
    fn one_instance_per_data_directory_under_a_name_the_bus_accepts() {
        let id = "dev.skilltrack.desktop";
        assert_eq!(instance_id(id, None), id);
        let one = instance_id(id, Some(Path::new("/tmp/one")));
        assert_eq!(one, instance_id(id, Some(Path::new("/tmp/one"))));
        assert_ne!(one, instance_id(id, Some(Path::new("/tmp/two"))));
        // A D-Bus name's elements: letters, digits, `_` and `-`, never a digit first.
        let last = one.rsplit('.').next().unwrap_or_default();
        assert!(last.starts_with("data_"), "{one}");
        assert!(
            last.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'),
            "{one}"
        );
    }
}
