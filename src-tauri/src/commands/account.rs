//! Creating an account from the sign-in screen.

use tauri::State;

use super::{Answer, engine, needs_network};
use crate::Desktop;
use crate::error::CommandError;
use crate::views::Account;

/// Creates an account on the server, signs in with it and starts syncing. The server checks
/// the fields (`invalid_email`, password length, `email_taken`) and says what is wrong.
#[tauri::command]
pub async fn sign_up(
    desktop: State<'_, Desktop>,
    email: String,
    password: String,
    full_name: String,
) -> Answer<Account> {
    if full_name.trim().is_empty() {
        return Err(CommandError::new(
            "name_required",
            "Give your name: instructors and certificates show it.",
        ));
    }
    let engine = engine(&desktop).await;
    engine
        .sign_up(email.trim(), &password, full_name.trim())
        .await
        .map_err(|e| needs_network(e, "Creating an account"))?;
    let mut device = desktop.device.lock().await;
    device.start_syncing();
    device
        .kept_account()
        .ok_or_else(|| CommandError::new("session_store", "The session could not be kept."))
}
