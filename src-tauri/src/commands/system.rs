//! The app among the operating system's things: `skilltrack://` links handed to it, and the
//! log folder Settings opens.

use skilltrack_client::sync::lock;
use skilltrack_protocol::sync::SyncTable;
use tauri::{AppHandle, State};

use super::{Answer, engine, id};
use crate::Desktop;
use crate::error::CommandError;
use crate::links::{AppLink, OpenedLink};
use crate::views::text;

/// The `skilltrack://` links received since the window last asked (at launch, or from a
/// second launch), oldest first: each a screen to open, with a lesson's course looked up in
/// the cache, or refused.
#[tauri::command]
pub async fn opened_links(app: AppHandle, desktop: State<'_, Desktop>) -> Answer<Vec<OpenedLink>> {
    let taken = crate::links::take(&app);
    if taken.is_empty() {
        return Ok(Vec::new());
    }
    let engine = engine(&desktop).await;
    let mut opened = Vec::with_capacity(taken.len());
    for link in taken {
        opened.push(match link {
            Ok(AppLink::Lesson { id: lesson }) => {
                let cache = lock(engine.cache());
                // A lesson this device does not hold has no course here: its screen then says
                // it is not here, as it does for any lesson it cannot show.
                let course_id = match cache.row(SyncTable::CourseLessons, id(&lesson)?)? {
                    Some(row) => cache
                        .row(SyncTable::CourseModules, id(&text(&row, "module_id"))?)?
                        .map(|module| text(&module, "course_id")),
                    None => None,
                };
                OpenedLink::Open {
                    link: AppLink::Lesson { id: lesson },
                    course_id,
                }
            }
            Ok(link) => OpenedLink::Open {
                link,
                course_id: None,
            },
            Err(refused) => {
                tracing::info!(%refused, "refused a link");
                OpenedLink::Refused { link: refused.link }
            }
        });
    }
    Ok(opened)
}

/// Opens the log folder in the file manager.
#[tauri::command]
pub async fn open_log_folder(app: AppHandle) -> Answer<()> {
    use tauri_plugin_opener::OpenerExt as _;
    let dir = crate::logging::dir().ok_or_else(|| {
        CommandError::new("no_log_file", "This run of the app keeps no log file.")
    })?;
    app.opener()
        .open_path(dir.display().to_string(), None::<&str>)
        .map_err(|e| {
            CommandError::new(
                "no_application",
                format!(
                    "The log folder is {}, but no application opened it: {e}",
                    dir.display()
                ),
            )
        })
}

/// Asks the server the app uses whether there is a newer version of the app.
#[tauri::command]
pub async fn check_for_update(
    app: AppHandle,
    desktop: State<'_, Desktop>,
) -> Answer<crate::updates::UpdateStatus> {
    let server = desktop.device.lock().await.server.clone();
    crate::updates::check(&app, &server).await
}

/// Installs the update the last check found and starts the new version; progress comes as
/// `update-progress` events. Answers only when it fails (the app restarts otherwise).
#[tauri::command]
pub async fn install_update(app: AppHandle) -> Answer<()> {
    crate::updates::install(&app).await
}
