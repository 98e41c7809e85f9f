//! The learner's certificates on this device: saved as JSON, PDF or a PNG badge, and verified,
//! all from the offline cache (the sync feed carries each signed credential with its
//! certificate, and the issuer's keys and revocation list are cached after a sync), so both
//! work with no network.

use std::path::{Path, PathBuf};

use chrono::{DateTime, Duration, Utc};
use skilltrack_client::certificates::{
    CertificateError, CredentialFormat, DEFAULT_MAX_STATUS_AGE_DAYS, cached_credential,
    save_credential, verify_cached,
};
use skilltrack_client::sync::{SyncEngine, lock};
use skilltrack_credentials::verify::human;
use skilltrack_protocol::credentials::CertificateCredential;
use skilltrack_protocol::sync::SyncTable;
use tauri::{AppHandle, State};

use super::labs::downloads_dir;
use super::{Answer, engine, id, own, user};
use crate::Desktop;
use crate::error::CommandError;
use crate::views::CertificateCheck;
use crate::views::labs::SavedFile;

/// The signed-in learner's certificate, with its credential, from the cache.
async fn own_credential(
    engine: &SyncEngine,
    certificate_id: &str,
) -> Answer<CertificateCredential> {
    let user = user(engine).await?;
    let row = lock(engine.cache()).row(SyncTable::Certificates, id(certificate_id)?)?;
    let row = own(row.into_iter().collect(), &user)
        .next()
        .ok_or_else(|| CommandError::new("not_found", "This certificate is not on this device."))?;
    cached_credential(&row).ok_or_else(|| {
        CommandError::new(
            "not_signed_yet",
            "This certificate's signed credential is not on this device yet: sync while online.",
        )
    })
}

/// `name` in `dir`, or `name (2)`, `name (3)`, … if that is taken: a save never overwrites.
fn free_path(dir: &Path, name: &str) -> PathBuf {
    let (stem, extension) = match name.split_once('.') {
        Some((stem, extension)) => (stem, format!(".{extension}")),
        None => (name, String::new()),
    };
    let mut path = dir.join(name);
    let mut n = 2;
    while path.exists() {
        path = dir.join(format!("{stem} ({n}){extension}"));
        n += 1;
    }
    path
}

/// Saves one of the learner's certificates into the downloads directory as `json` (the
/// credential), `pdf` (a printable certificate) or `png` (a badge with the credential baked in).
#[tauri::command]
pub async fn save_certificate(
    app: AppHandle,
    desktop: State<'_, Desktop>,
    certificate_id: String,
    format: CredentialFormat,
) -> Answer<SavedFile> {
    let engine = engine(&desktop).await;
    let credential = own_credential(&engine, &certificate_id).await?;
    let dir = downloads_dir(&app)?;
    std::fs::create_dir_all(&dir).map_err(|e| {
        CommandError::new(
            "io",
            format!("The downloads directory could not be made: {e}"),
        )
    })?;
    let path = free_path(&dir, &format.file_name(&credential.certificate_number));
    save_credential(&credential, format, &path)?;
    Ok(SavedFile {
        path: path.display().to_string(),
    })
}

fn check(
    credential: &str,
    data_dir: &Path,
    now: DateTime<Utc>,
) -> Result<CertificateCheck, CertificateError> {
    let (v, trust) = verify_cached(
        credential,
        data_dir,
        now,
        Duration::days(DEFAULT_MAX_STATUS_AGE_DAYS),
    )?;
    Ok(CertificateCheck {
        verdict: v.verdict,
        explanation: v.verdict.explain().to_owned(),
        detail: v.detail,
        status_issued_at: v.status_issued_at.map(|t| t.to_rfc3339()),
        status_age: v.status_issued_at.map(|t| human(now - t)),
        keys_fetched_at: trust.fetched_at.map(|t| t.to_rfc3339()),
        keys_fetched_ago: trust.fetched_at.map(|t| human(now - t)),
    })
}

/// Verifies one of the learner's certificates offline, as any verifier would: its signed
/// credential against the issuer's keys and revocation list cached at the last sync, saying
/// how old that list is.
#[tauri::command]
pub async fn verify_certificate(
    desktop: State<'_, Desktop>,
    certificate_id: String,
) -> Answer<CertificateCheck> {
    let (engine, data_dir) = {
        let device = desktop.device.lock().await;
        (
            std::sync::Arc::clone(&device.engine),
            device.data_dir().to_owned(),
        )
    };
    let credential = own_credential(&engine, &certificate_id).await?;
    Ok(check(&credential.credential, &data_dir, Utc::now())?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_save_never_overwrites_a_file_of_the_same_name() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(free_path(dir.path(), "N.pdf"), dir.path().join("N.pdf"));
        std::fs::write(dir.path().join("N.credential.json"), "x").unwrap();
        assert_eq!(
            free_path(dir.path(), "N.credential.json"),
            dir.path().join("N (2).credential.json")
        );
    }

    #[test]
    fn with_nothing_cached_the_check_says_to_sync_once() {
        let dir = tempfile::tempdir().unwrap();
        let e = CommandError::from(check("a.b.c", dir.path(), Utc::now()).unwrap_err());
        assert_eq!(e.code, "no_trust_cached");
        assert!(e.message.contains("sync"), "{}", e.message);
    }
}
