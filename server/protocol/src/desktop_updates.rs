//! Updates of the desktop app, served by the server it signs in to: what Tauri's updater plugin
//! asks (`GET /api/v1/desktop/updates/{target}/{arch}/{bundle}/{current_version}`) and the
//! answer it reads, exactly the plugin's "dynamic server" shape.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// A newer release for the app that asked: Tauri's updater downloads `url`, checks it against
/// `signature` with the public key compiled into the app, and installs it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[ts(export)]
pub struct DesktopUpdate {
    /// The release's version, `X.Y.Z` (the version its signature was made for).
    pub version: String,
    /// What changed, in words (may be empty).
    pub notes: String,
    /// When it was published (RFC 3339, whole seconds).
    pub pub_date: DateTime<Utc>,
    /// Where the package is downloaded from (an absolute URL on this server).
    pub url: String,
    /// The package's signature: the `.sig` file the Tauri CLI wrote (base64 of a minisign
    /// signature).
    pub signature: String,
}

/// The operating system the updater names as `{{target}}`: packages are made for Linux only.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
#[ts(export)]
pub enum DesktopTarget {
    /// Linux.
    Linux,
}

/// A package format the server publishes (`{{bundle_type}}`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
#[ts(export)]
pub enum DesktopBundle {
    /// A Debian package (`.deb`), for Debian and Ubuntu.
    Deb,
    /// An RPM package (`.rpm`), for Fedora, RHEL and openSUSE.
    Rpm,
}

impl DesktopBundle {
    /// Every format.
    pub const ALL: [Self; 2] = [Self::Deb, Self::Rpm];

    /// As the URL, the database and file names spell it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Deb => "deb",
            Self::Rpm => "rpm",
        }
    }

    /// The format spelled `text`, if it is one.
    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|b| b.as_str() == text)
    }

    /// The package's media type.
    pub fn media_type(self) -> &'static str {
        match self {
            Self::Deb => "application/vnd.debian.binary-package",
            Self::Rpm => "application/x-rpm",
        }
    }
}

/// A processor architecture the server publishes packages for (`{{arch}}`, as Tauri spells
/// it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[ts(export)]
pub enum DesktopArch {
    /// 64-bit x86 (Debian's `amd64`).
    #[serde(rename = "x86_64")]
    X86_64,
    /// 64-bit ARM (Debian's `arm64`).
    #[serde(rename = "aarch64")]
    Aarch64,
}

impl DesktopArch {
    /// Every architecture.
    pub const ALL: [Self; 2] = [Self::X86_64, Self::Aarch64];

    /// As the URL and the database spell it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::X86_64 => "x86_64",
            Self::Aarch64 => "aarch64",
        }
    }

    /// The architecture spelled `text`, if it is one.
    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|a| a.as_str() == text)
    }
}

/// A release version: `X.Y.Z`, three numbers of at most nine digits without leading zeros
/// (semver's rule, which the updater's parser applies), compared number by number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ReleaseVersion {
    /// X.
    pub major: u32,
    /// Y.
    pub minor: u32,
    /// Z.
    pub patch: u32,
}

impl ReleaseVersion {
    /// The pattern a version matches, for documents that describe one.
    pub const PATTERN: &'static str =
        r"^(0|[1-9][0-9]{0,8})\.(0|[1-9][0-9]{0,8})\.(0|[1-9][0-9]{0,8})$";

    /// `text` as a version, if it is `X.Y.Z` as [`Self::PATTERN`] says.
    pub fn parse(text: &str) -> Option<Self> {
        let number = |part: &str| -> Option<u32> {
            let valid = !part.is_empty()
                && part.len() <= 9
                && part.bytes().all(|b| b.is_ascii_digit())
                && (part == "0" || !part.starts_with('0'));
            valid.then(|| part.parse().ok()).flatten()
        };
        let mut parts = text.split('.');
        let version = Self {
            major: number(parts.next()?)?,
            minor: number(parts.next()?)?,
            patch: number(parts.next()?)?,
        };
        parts.next().is_none().then_some(version)
    }
}

impl std::fmt::Display for ReleaseVersion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}.{}", self.major, self.minor, self.patch)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_are_three_numbers_compared_as_numbers() {
        let v = |t| ReleaseVersion::parse(t);
        assert!(v("0.1.10") > v("0.1.9"));
        assert!(v("1.0.0") > v("0.99.99"));
        assert_eq!(v("0.1.0").map(|v| v.to_string()).as_deref(), Some("0.1.0"));
        assert_eq!(v("999999999.0.0").map(|v| v.major), Some(999_999_999));
        for bad in [
            "",
            "1",
            "1.2",
            "1.2.3.4",
            "01.2.3",
            "1.02.3",
            "1.2.3-beta",
            "v1.2.3",
            "1..3",
            "1.2.3 ",
            "1000000000.0.0",
            "+1.2.3",
            "١.2.3",
        ] {
            assert_eq!(v(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn names_are_spelled_as_tauri_spells_them() {
        assert_eq!(
            serde_json::to_string(&DesktopArch::X86_64).unwrap(),
            "\"x86_64\""
        );
        assert_eq!(DesktopBundle::parse("rpm"), Some(DesktopBundle::Rpm));
        assert_eq!(DesktopArch::parse("amd64"), None);
    }
}
