//! Notifications from the cache: listed, counted, marked read here at once (and on the server
//! when synced).

use skilltrack_client::sync::lock;
use skilltrack_protocol::sync::SyncTable;
use tauri::State;

use super::{Answer, engine, id, own, user};
use crate::Desktop;
use crate::views::{NotificationItem, NotificationsPage};

fn page(engine: &skilltrack_client::sync::SyncEngine, user: &str) -> Answer<NotificationsPage> {
    let mut items: Vec<NotificationItem> = own(
        lock(engine.cache()).all_rows(SyncTable::Notifications)?,
        user,
    )
    .map(|r| NotificationItem::from_row(&r))
    .collect();
    items.sort_by(|a, b| b.created_at.cmp(&a.created_at).then(b.id.cmp(&a.id)));
    let unread = items.iter().filter(|n| !n.read).count();
    Ok(NotificationsPage {
        items,
        unread: i32::try_from(unread).unwrap_or(i32::MAX),
    })
}

/// The learner's notifications, newest first, with the unread count.
#[tauri::command]
pub async fn notifications(desktop: State<'_, Desktop>) -> Answer<NotificationsPage> {
    let engine = engine(&desktop).await;
    let user = user(&engine).await?;
    page(&engine, &user)
}

/// How many notifications are unread (the navigation's badge); 0 when signed out.
#[tauri::command]
pub async fn unread_notifications(desktop: State<'_, Desktop>) -> Answer<i32> {
    let engine = engine(&desktop).await;
    let Some(user) = engine.signed_in_user().await else {
        return Ok(0);
    };
    Ok(page(&engine, &user.to_string())?.unread)
}

/// Marks a notification read.
#[tauri::command]
pub async fn mark_notification_read(
    desktop: State<'_, Desktop>,
    notification_id: String,
) -> Answer<()> {
    let engine = engine(&desktop).await;
    engine.mark_notification_read(id(&notification_id)?)?;
    Ok(())
}

/// Marks every unread notification read.
#[tauri::command]
pub async fn mark_all_notifications_read(desktop: State<'_, Desktop>) -> Answer<()> {
    let engine = engine(&desktop).await;
    let user = user(&engine).await?;
    for n in page(&engine, &user)?.items.iter().filter(|n| !n.read) {
        engine.mark_notification_read(id(&n.id)?)?;
    }
    Ok(())
}
