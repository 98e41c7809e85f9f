//! `skilltrack://` links: `skilltrack://course/<id>`, `skilltrack://lesson/<id>` and
//! `skilltrack://lab/<id>` open that screen in the app. The desktop entry hands a link to the
//! app as its argument (`Exec=skilltrack-desktop %u`): at first launch it is in the app's own
//! argv; with the app already running, the second launch hands its argv over (the
//! single-instance plugin) and exits. Either way the link waits here until the window takes
//! it ([`take`], after the [`LINK_OPENED_EVENT`]), so one arriving before the window has
//! loaded is not lost.

use std::collections::VecDeque;
use std::sync::Mutex;

use serde::Serialize;
use tauri::{AppHandle, Emitter as _, Manager as _};
use ts_rs::TS;

/// The scheme, registered by the desktop entry (`x-scheme-handler/skilltrack`).
pub const SCHEME: &str = "skilltrack";

/// Tells the window that links wait to be taken (no payload: it calls `opened_links`).
pub const LINK_OPENED_EVENT: &str = "link-opened";

/// What a link opens.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[ts(export)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum AppLink {
    /// A course page.
    Course {
        /// The course's id.
        id: String,
    },
    /// A lesson in the player.
    Lesson {
        /// The lesson's id.
        id: String,
    },
    /// A lab's page.
    Lab {
        /// The lab's id.
        id: String,
    },
}

/// A link that is not one of ours, or is malformed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "{link} is not a Skilltrack link the app can open: skilltrack://course/<id>, skilltrack://lesson/<id> or skilltrack://lab/<id>"
)]
pub struct LinkRefused {
    /// The link as given.
    pub link: String,
}

impl AppLink {
    /// Reads `skilltrack://<course|lesson|lab>/<uuid>` (the scheme in any case, one trailing
    /// `/` allowed); anything else, a query or fragment included, is refused.
    pub fn parse(link: &str) -> Result<Self, LinkRefused> {
        let refused = || LinkRefused {
            link: link.to_owned(),
        };
        let (scheme, rest) = link.split_once(':').ok_or_else(refused)?;
        if !scheme.eq_ignore_ascii_case(SCHEME) {
            return Err(refused());
        }
        let path = rest.strip_prefix("//").ok_or_else(refused)?;
        let path = path.strip_suffix('/').unwrap_or(path);
        let (kind, id) = path.split_once('/').ok_or_else(refused)?;
        let id = uuid::Uuid::parse_str(id)
            .map_err(|_| refused())?
            .hyphenated()
            .to_string();
        match kind {
            "course" => Ok(Self::Course { id }),
            "lesson" => Ok(Self::Lesson { id }),
            "lab" => Ok(Self::Lab { id }),
            _ => Err(refused()),
        }
    }
}

/// Whether a command-line argument is meant as one of our links (well formed or not): other
/// arguments (a launcher's or a test driver's own flags) are not links at all.
fn is_ours(arg: &str) -> bool {
    arg.get(..=SCHEME.len())
        .is_some_and(|head| head.eq_ignore_ascii_case(&format!("{SCHEME}:")))
}

/// A link as the window receives it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[ts(export)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum OpenedLink {
    /// Open this screen.
    Open {
        /// What to open.
        link: AppLink,
        /// A lesson's course, from the cache (none when the lesson is not on this device:
        /// the lesson screen then says it is not here, as for any lesson it cannot show).
        course_id: Option<String>,
    },
    /// Not a link the app opens; the window says so.
    Refused {
        /// The link as given.
        link: String,
    },
}

/// Links received and not yet taken by the window.
#[derive(Debug, Default)]
pub struct LinkInbox(Mutex<VecDeque<String>>);

/// Keeps the links among `args` (a command line: the program first, then its arguments) for
/// the window, and tells it; returns how many there were.
pub fn receive(app: &AppHandle, args: impl IntoIterator<Item = String>) -> usize {
    let links: Vec<String> = args.into_iter().skip(1).filter(|a| is_ours(a)).collect();
    let count = links.len();
    if count > 0 {
        tracing::info!(count, "skilltrack:// links received");
        app.state::<LinkInbox>()
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .extend(links);
        let _ = app.emit(LINK_OPENED_EVENT, ());
    }
    count
}

/// Takes the links waiting, oldest first, each read and checked.
pub fn take(app: &AppHandle) -> Vec<Result<AppLink, LinkRefused>> {
    app.state::<LinkInbox>()
        .0
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .drain(..)
        .map(|link| AppLink::parse(&link))
        .collect()
}

/// Brings the main window to the front (a second launch means the learner is looking for it).
pub fn focus_main_window(app: &AppHandle) {
    if let Some(window) = app.get_webview_window("main") {
        let _ = window.unminimize();
        let _ = window.show();
        let _ = window.set_focus();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ID: &str = "0190f3c2-7b1e-7c3a-9f00-000000000001";

    #[test]
    fn a_course_a_lesson_and_a_lab_are_read_from_their_links() {
        assert_eq!(
            AppLink::parse(&format!("skilltrack://course/{ID}")),
            Ok(AppLink::Course { id: ID.to_owned() })
        );
        assert_eq!(
            AppLink::parse(&format!("skilltrack://lesson/{ID}/")),
            Ok(AppLink::Lesson { id: ID.to_owned() })
        );
        // The scheme in any case; the id as the cache writes it.
        assert_eq!(
            AppLink::parse(&format!("SkillTrack://lab/{}", ID.to_uppercase())),
            Ok(AppLink::Lab { id: ID.to_owned() })
        );
    }

    #[test]
    fn anything_else_is_refused_with_the_link_named() {
        for link in [
            "skilltrack://lesson/not-an-id".to_owned(),
            format!("skilltrack://quiz/{ID}"),
            format!("skilltrack:lesson/{ID}"),
            format!("skilltrack://lesson/{ID}?x=1"),
            format!("skilltrack://lesson/{ID}/more"),
            format!("https://lesson/{ID}"),
            "skilltrack://".to_owned(),
        ] {
            let refused = AppLink::parse(&link).unwrap_err();
            assert_eq!(refused.link, link);
            assert!(refused.to_string().contains("skilltrack://lesson/<id>"));
        }
    }

    #[test]
    fn only_arguments_in_our_scheme_are_taken_for_links() {
        assert!(is_ours("skilltrack://lesson/x"));
        assert!(is_ours("SKILLTRACK:whatever"));
        assert!(!is_ours("--automation"));
        assert!(!is_ours("skilltrack"));
        assert!(!is_ours("https://example.org"));
    }
}
