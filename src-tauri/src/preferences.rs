//! What the learner chose on this computer and expects kept: the player's speed and caption
//! language, the theme, how much its downloads may take. One small JSON file in the data root (every server and account on this
//! computer shares it, as the window's own settings would); a missing or unreadable file is the
//! defaults, so a damaged file never stops the app.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::error::CommandError;

/// The speeds the player offers.
pub const PLAYBACK_RATES: [f64; 7] = [0.5, 0.75, 1.0, 1.25, 1.5, 1.75, 2.0];

/// The window's colours.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum Theme {
    /// As the operating system says (light or dark).
    #[default]
    System,
    /// Always light.
    Light,
    /// Always dark.
    Dark,
}

/// The learner's choices on this computer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(default)]
#[ts(export)]
pub struct Preferences {
    /// The player's speed, one of 0.5–2 in quarter steps.
    pub playback_rate: f64,
    /// The captions shown, as a BCP 47 tag; none: captions off.
    pub caption_language: Option<String>,
    /// The window's colours.
    pub theme: Theme,
    /// The most downloads may take on this computer, in MiB; none: no limit.
    pub storage_limit_mb: Option<u32>,
    /// The language of the app's words, as a BCP 47 tag; none: the operating system's.
    pub language: Option<String>,
    /// Keep the next lessons of every enrolled course downloaded (within the storage limit),
    /// so the learner can go on offline without asking ([`crate::offline_queue`]).
    pub keep_next_lessons: bool,
}

impl Default for Preferences {
    fn default() -> Self {
        Self {
            playback_rate: 1.0,
            caption_language: None,
            theme: Theme::System,
            storage_limit_mb: None,
            language: None,
            keep_next_lessons: false,
        }
    }
}

impl Preferences {
    /// The file under `data_root`.
    #[must_use]
    pub fn path(data_root: &Path) -> PathBuf {
        data_root.join("preferences.json")
    }

    /// What is saved under `data_root`, or the defaults.
    #[must_use]
    pub fn load(data_root: &Path) -> Self {
        std::fs::read(Self::path(data_root))
            .ok()
            .and_then(|bytes| serde_json::from_slice::<Self>(&bytes).ok())
            .filter(|p| p.check().is_ok())
            .unwrap_or_default()
    }

    /// Checks and saves these choices (written whole to a new file, then renamed over the old).
    ///
    /// # Errors
    /// `invalid_preferences` for a speed or language the player does not offer; `io` when the
    /// file cannot be written.
    pub fn save(&self, data_root: &Path) -> Result<(), CommandError> {
        self.check()?;
        let path = Self::path(data_root);
        let temporary = path.with_extension("json.new");
        let io = |e: std::io::Error| {
            CommandError::new("io", format!("{} could not be saved: {e}", path.display()))
        };
        let json =
            serde_json::to_vec_pretty(self).map_err(|e| CommandError::new("io", e.to_string()))?;
        std::fs::create_dir_all(data_root).map_err(io)?;
        std::fs::write(&temporary, json).map_err(io)?;
        std::fs::rename(&temporary, &path).map_err(io)
    }

    fn check(&self) -> Result<(), CommandError> {
        if !PLAYBACK_RATES.contains(&self.playback_rate) {
            return Err(CommandError::new(
                "invalid_preferences",
                format!(
                    "{} is not a speed the player offers (0.5 to 2, in steps of 0.25).",
                    self.playback_rate
                ),
            ));
        }
        for language in [&self.caption_language, &self.language]
            .into_iter()
            .flatten()
        {
            if !is_language_tag(language) {
                return Err(CommandError::new(
                    "invalid_preferences",
                    format!("{language:?} is not a language tag."),
                ));
            }
        }
        Ok(())
    }
}

fn is_language_tag(tag: &str) -> bool {
    !tag.is_empty() && tag.len() <= 35 && tag.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
}

/// The operating system's language for messages, as a BCP 47 tag (`fr_FR.UTF-8` → `fr-FR`),
/// from the variables POSIX reads in this order; none for the C locale or when nothing is set.
#[must_use]
pub fn system_locale() -> Option<String> {
    ["LC_ALL", "LC_MESSAGES", "LANG"]
        .iter()
        .filter_map(|name| std::env::var(name).ok())
        .find(|value| !value.is_empty())
        .and_then(|value| locale_tag(&value))
}

/// `fr_FR.UTF-8@euro` → `fr-FR`; `C` and `POSIX` name no language.
fn locale_tag(posix: &str) -> Option<String> {
    let name = posix.split(['.', '@']).next().unwrap_or_default();
    if name.is_empty() || name == "C" || name == "POSIX" {
        return None;
    }
    let tag = name.replace('_', "-");
    is_language_tag(&tag).then_some(tag)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, reason = "tests fail loudly on purpose")]
mod tests {
    use super::*;

    #[test]
    fn choices_are_kept_and_bad_ones_refused() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(Preferences::load(dir.path()), Preferences::default());
        let chosen = Preferences {
            playback_rate: 1.5,
            caption_language: Some("fr".to_owned()),
            theme: Theme::Dark,
            storage_limit_mb: Some(2048),
            language: Some("fr".to_owned()),
            keep_next_lessons: true,
        };
        chosen.save(dir.path()).unwrap();
        assert_eq!(Preferences::load(dir.path()), chosen);

        let too_fast = Preferences {
            playback_rate: 16.0,
            ..Preferences::default()
        };
        assert_eq!(
            too_fast.save(dir.path()).unwrap_err().code,
            "invalid_preferences"
        );
        let odd_language = Preferences {
            caption_language: Some("<script>".to_owned()),
            ..Preferences::default()
        };
        assert!(odd_language.save(dir.path()).is_err());
        assert_eq!(
            Preferences::load(dir.path()),
            chosen,
            "a refused save changes nothing"
        );

        std::fs::write(Preferences::path(dir.path()), b"{ not json").unwrap();
        assert_eq!(Preferences::load(dir.path()), Preferences::default());
    }

    #[test]
    fn posix_locales_become_language_tags() {
        assert_eq!(locale_tag("fr_FR.UTF-8").as_deref(), Some("fr-FR"));
        assert_eq!(locale_tag("de_DE@euro").as_deref(), Some("de-DE"));
        assert_eq!(locale_tag("en").as_deref(), Some("en"));
        assert_eq!(locale_tag("C.UTF-8"), None);
        assert_eq!(locale_tag("POSIX"), None);
        assert_eq!(locale_tag(""), None);
    }
}
