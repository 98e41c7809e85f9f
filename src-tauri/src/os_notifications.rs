//! OS notifications: after each sync, the learner's new notifications of the kinds worth
//! interrupting for — a graded attempt (an essay graded by the instructor, a quiz taken
//! offline graded on sync), a certificate, a lab about to stop (or stopped) for idleness — are
//! raised through the desktop's notification service, unless the learner turned push
//! notifications off (`notification_preferences.push` of their profile). Which were already
//! seen is kept per account in the server's data directory, so a restart raises nothing twice
//! and the first look on a device (a new sign-in) raises nothing old.
//!
//! Clicking one brings the app to the front on what it is about: the course of a graded
//! attempt, else the notifications screen. They are raised with
//! `notify-rust` directly (what the notification plugin uses on Linux), whose handle waits for
//! the click; the plugin raises without one.

use std::collections::HashSet;
use std::path::Path;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use skilltrack_client::sync::{SyncEngine, lock};
use skilltrack_protocol::sync::SyncTable;
use tauri::{AppHandle, Emitter as _};

/// The file of notifications already seen, in a server's data directory.
pub const SEEN_FILE: &str = "os-notifications.json";

/// The event that tells the window a notification without a screen of its own was clicked:
/// it opens the notifications screen.
pub const NOTIFICATION_CLICKED_EVENT: &str = "notification-clicked";

/// The notifications' `entity_type`s raised on the desktop.
const RAISED_KINDS: [&str; 3] = ["assessment_attempt", "certificate", "lab_session"];

/// What was seen, and for whom.
#[derive(Debug, Default, Serialize, Deserialize)]
struct Seen {
    user: String,
    ids: HashSet<String>,
}

/// Whether the learner lets the app raise notifications: their profile's
/// `notification_preferences.push`, true unless set otherwise (the server's default).
pub fn push_allowed(profile: Option<&Value>) -> bool {
    profile
        .and_then(|p| p["notification_preferences"]["push"].as_bool())
        .unwrap_or(true)
}

/// Of `rows` (the learner's notifications), those to raise: unread, of a raised kind, not in
/// `seen`; none on the first look (`seen` is `None`) or when push notifications are off.
pub fn to_raise<'a, S: std::hash::BuildHasher>(
    rows: &'a [Value],
    seen: Option<&HashSet<String, S>>,
    push_allowed: bool,
) -> Vec<&'a Value> {
    let Some(seen) = seen else {
        return Vec::new();
    };
    if !push_allowed {
        return Vec::new();
    }
    rows.iter()
        .filter(|n| n["read_at"].is_null() && n["notification_status"] != "read")
        .filter(|n| {
            n["entity_type"]
                .as_str()
                .is_some_and(|kind| RAISED_KINDS.contains(&kind))
        })
        .filter(|n| n["id"].as_str().is_some_and(|id| !seen.contains(id)))
        .collect()
}

/// Raises the new notifications of the signed-in learner, then remembers every notification
/// they have as seen.
pub async fn raise_new(app: &AppHandle, engine: &SyncEngine, data_dir: &Path) {
    let Some(user) = engine.signed_in_user().await else {
        return;
    };
    let user = user.to_string();
    let (rows, profile) = {
        let cache = lock(engine.cache());
        let rows: Vec<Value> = match cache.all_rows(SyncTable::Notifications) {
            Ok(rows) => rows
                .into_iter()
                .filter(|r| r["user_id"].as_str() == Some(user.as_str()))
                .collect(),
            Err(e) => {
                tracing::warn!(error = %e, "notifications could not be read for the desktop");
                return;
            }
        };
        let profile = user
            .parse()
            .ok()
            .and_then(|id| cache.row(SyncTable::Profiles, id).ok().flatten());
        (rows, profile)
    };
    // A graded attempt opens its course: its quiz's lesson module's course, from the cache.
    let course_of_attempt = |attempt: &str| -> Option<String> {
        let cache = lock(engine.cache());
        let row = |table, id: &str| cache.row(table, id.parse().ok()?).ok().flatten();
        let attempt = row(SyncTable::UserAssessmentAttempts, attempt)?;
        let assessment = row(SyncTable::Assessments, attempt["assessment_id"].as_str()?)?;
        assessment["course_id"].as_str().map(str::to_owned)
    };
    let path = data_dir.join(SEEN_FILE);
    let seen = std::fs::read(&path)
        .ok()
        .and_then(|bytes| serde_json::from_slice::<Seen>(&bytes).ok())
        .filter(|seen| seen.user == user);
    for n in to_raise(
        &rows,
        seen.as_ref().map(|s| &s.ids),
        push_allowed(profile.as_ref()),
    ) {
        raise(
            app,
            n["title"].as_str().unwrap_or_default(),
            n["message"].as_str().unwrap_or_default(),
            clicked_link(n, &course_of_attempt),
        );
    }
    let now = Seen {
        user,
        ids: rows
            .iter()
            .filter_map(|n| n["id"].as_str().map(str::to_owned))
            .collect(),
    };
    // Written again only when it changed: this runs after every sync.
    if seen.is_some_and(|seen| seen.ids == now.ids) {
        return;
    }
    if let Err(e) = serde_json::to_vec(&now)
        .map_err(std::io::Error::other)
        .and_then(|bytes| std::fs::write(&path, bytes))
    {
        tracing::warn!(error = %e, "the notifications seen could not be kept");
    }
}

/// The `skilltrack://` link a click on notification `n` opens, if it is about a screen.
fn clicked_link(n: &Value, course_of_attempt: &dyn Fn(&str) -> Option<String>) -> Option<String> {
    let id = n["entity_id"].as_str()?;
    match n["entity_type"].as_str()? {
        "assessment_attempt" => course_of_attempt(id)
            .map(|course| format!("{}://course/{course}", crate::links::SCHEME)),
        // A certificate and a lab session (not kept on the device) have no screen of their own.
        _ => None,
    }
}

/// Raises one notification; a click on it (its default action) brings the window to the front
/// on `link`, or on the notifications screen.
fn raise(app: &AppHandle, title: &str, message: &str, link: Option<String>) {
    let shown = notify_rust::Notification::new()
        .appname("Skilltrack")
        .summary(title)
        .body(message)
        .action("default", "Open")
        .show();
    let handle = match shown {
        Ok(handle) => handle,
        Err(e) => {
            tracing::warn!(error = %e, "a notification could not be raised on the desktop");
            return;
        }
    };
    let app = app.clone();
    // The handle waits on the session bus until the notification is clicked or closed.
    std::thread::spawn(move || {
        handle.wait_for_action(|action| {
            if action != "default" {
                return;
            }
            tracing::info!(?link, "a desktop notification was clicked");
            crate::links::focus_main_window(&app);
            match &link {
                Some(link) => {
                    crate::links::receive(&app, [String::new(), link.clone()]);
                }
                None => {
                    let _ = app.emit(NOTIFICATION_CLICKED_EVENT, ());
                }
            }
        });
    });
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn note(id: &str, kind: &str, read: bool) -> Value {
        json!({"id": id, "entity_type": kind, "title": id, "message": "",
               "read_at": if read { json!("2026-01-01T00:00:00Z") } else { Value::Null },
               "notification_status": if read { "read" } else { "sent" }})
    }

    fn ids(raised: &[&Value]) -> Vec<String> {
        raised
            .iter()
            .map(|n| n["id"].as_str().unwrap().to_owned())
            .collect()
    }

    #[test]
    fn new_unread_grades_certificates_and_lab_warnings_are_raised_once() {
        let rows = [
            note("graded", "assessment_attempt", false),
            note("certificate", "certificate", false),
            note("lab", "lab_session", false),
            note("enrolled", "course", false),
            note("read", "certificate", true),
            note("old", "certificate", false),
        ];
        let seen: HashSet<String> = ["old".to_owned()].into();
        assert_eq!(
            ids(&to_raise(&rows, Some(&seen), true)),
            ["graded", "certificate", "lab"]
        );
    }

    #[test]
    fn nothing_is_raised_on_the_first_look_or_with_push_notifications_off() {
        let rows = [note("graded", "assessment_attempt", false)];
        assert!(to_raise::<std::hash::RandomState>(&rows, None, true).is_empty());
        assert!(to_raise(&rows, Some(&HashSet::new()), false).is_empty());
    }

    #[test]
    fn push_notifications_are_on_unless_the_profile_says_otherwise() {
        assert!(push_allowed(None));
        assert!(push_allowed(Some(&json!({"notification_preferences": {}}))));
        assert!(push_allowed(Some(
            &json!({"notification_preferences": {"push": true}})
        )));
        assert!(!push_allowed(Some(
            &json!({"notification_preferences": {"push": false}})
        )));
    }
}
