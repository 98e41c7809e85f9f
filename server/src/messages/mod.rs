//! What the server writes to people, in their language: the notifications its triggers and jobs
//! write and the account mails. English is the reference and French is complete, the two
//! languages the app speaks; the learner's `profiles.language` chooses ([`Language::of_tag`]),
//! and anything else reads English. Each message is a title (a mail's subject) and a body with
//! `{name}` placeholders.
//!
//! The catalog is written into `private.server_messages` when the server starts
//! ([`crate::db::server_messages::store`]), where the SQL triggers find it
//! (`private.notify_message`, migration 0091), so a notification reads the same whoever
//! writes it.

mod en;
mod fr;

/// A language the server writes in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Language {
    /// The reference.
    English,
    /// Complete.
    French,
}

impl Language {
    /// Every language, English first.
    pub const ALL: [Self; 2] = [Self::English, Self::French];

    /// The language for a BCP 47 tag (`fr`, `fr-CA`, and `fr_FR` as a POSIX locale writes it,
    /// are French; anything else, unknown or empty, is English). `private.message_language`
    /// (migration 0091) is the same rule for SQL.
    #[must_use]
    pub fn of_tag(tag: &str) -> Self {
        let primary = tag.split(['-', '_']).next().unwrap_or_default();
        if primary.eq_ignore_ascii_case("fr") {
            Self::French
        } else {
            Self::English
        }
    }

    /// Its tag in `private.server_messages`.
    #[must_use]
    pub fn tag(self) -> &'static str {
        match self {
            Self::English => "en",
            Self::French => "fr",
        }
    }

    fn catalog(self) -> &'static [(&'static str, Message)] {
        match self {
            Self::English => en::MESSAGES,
            Self::French => fr::MESSAGES,
        }
    }
}

/// One message: a title (or a mail's subject) and a body, with `{name}` placeholders.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Message {
    /// A notification's title, a mail's subject.
    pub title: &'static str,
    /// The words.
    pub body: &'static str,
}

/// What the server says, by key (the keys `private.notify_message` is called with).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Key {
    /// The password-reset mail: `{instance}`, `{email}`, `{link}`.
    PasswordResetMail,
    /// The address-confirmation mail: `{instance}`, `{email}`, `{link}`.
    EmailConfirmationMail,
    /// A lab idle for a while stops soon: `{lab}`, `{time}` (UTC, `HH:MM`).
    LabStopsSoon,
    /// A lab stopped for idleness: `{lab}`, `{minutes}`.
    LabStopped,
    /// A lab lost with its server (killed), now paused: `{lab}`.
    LabInterrupted,
}

impl Key {
    /// Its name in the catalog.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Self::PasswordResetMail => "password_reset_mail",
            Self::EmailConfirmationMail => "email_confirmation_mail",
            Self::LabStopsSoon => "lab_stops_soon",
            Self::LabStopped => "lab_stopped",
            Self::LabInterrupted => "lab_interrupted",
        }
    }
}

/// Message `key` in `language` (English when the language lacks it, which a test forbids).
#[must_use]
pub fn message(language: Language, key: &str) -> Message {
    let find = |l: Language| l.catalog().iter().find(|(k, _)| *k == key).map(|(_, m)| *m);
    find(language)
        .or_else(|| find(Language::English))
        .unwrap_or(Message {
            title: "",
            body: "",
        })
}

/// `template` with each `{name}` replaced by its value.
#[must_use]
pub fn fill(template: &str, args: &[(&str, &str)]) -> String {
    let mut out = template.to_owned();
    for (name, value) in args {
        out = out.replace(&format!("{{{name}}}"), value);
    }
    out
}

/// Message `key` in `language`, its placeholders filled: (title, body).
#[must_use]
pub fn write(language: Language, key: Key, args: &[(&str, &str)]) -> (String, String) {
    let m = message(language, key.name());
    (fill(m.title, args), fill(m.body, args))
}

/// Every message of every language, as `private.server_messages` keeps them:
/// (key, language, title, body).
pub fn rows() -> impl Iterator<Item = (&'static str, &'static str, &'static str, &'static str)> {
    Language::ALL.into_iter().flat_map(|language| {
        language
            .catalog()
            .iter()
            .map(move |(key, m)| (*key, language.tag(), m.title, m.body))
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used, reason = "tests fail loudly on purpose")]
mod tests {
    use std::collections::BTreeSet;

    use super::*;

    fn placeholders(text: &str) -> BTreeSet<&str> {
        text.split('{')
            .skip(1)
            .filter_map(|s| s.split_once('}').map(|(name, _)| name))
            .collect()
    }

    #[test]
    fn french_says_everything_english_says_with_the_same_placeholders() {
        let english: BTreeSet<&str> = en::MESSAGES.iter().map(|(k, _)| *k).collect();
        let french: BTreeSet<&str> = fr::MESSAGES.iter().map(|(k, _)| *k).collect();
        assert_eq!(english, french);
        assert_eq!(english.len(), en::MESSAGES.len(), "a key is there twice");
        for (key, m) in en::MESSAGES {
            let f = message(Language::French, key);
            assert_ne!(f, *m, "{key} is not translated");
            assert_eq!(placeholders(m.title), placeholders(f.title), "{key}");
            assert_eq!(placeholders(m.body), placeholders(f.body), "{key}");
            assert!(
                key.chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_'),
                "{key}"
            );
        }
        for key in [
            Key::PasswordResetMail,
            Key::EmailConfirmationMail,
            Key::LabStopsSoon,
            Key::LabStopped,
            Key::LabInterrupted,
        ] {
            assert!(english.contains(key.name()), "{}", key.name());
        }
    }

    #[test]
    fn french_tags_read_french_and_the_rest_english() {
        for tag in ["fr", "fr-CA", "FR-fr", "fr_FR"] {
            assert_eq!(Language::of_tag(tag), Language::French, "{tag}");
        }
        for tag in ["en", "en-GB", "", "de", "pt-BR", "fry"] {
            assert_eq!(Language::of_tag(tag), Language::English, "{tag}");
        }
    }

    #[test]
    fn placeholders_are_filled() {
        let (title, body) = write(
            Language::French,
            Key::LabStopped,
            &[("lab", "Linux"), ("minutes", "30")],
        );
        assert_eq!(title, "Votre lab s\u{2019}est arrêté");
        assert!(
            body.contains("« Linux »") && body.contains("30 minutes"),
            "{body}"
        );
        assert_eq!(rows().count(), en::MESSAGES.len() * 2);
    }
}
