//! Creating an account, and recovering one, from the sign-in screen.

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

/// Asks the server to mail a link for choosing a new password (the link opens a page the server
/// serves). Answers the server's words, which are the same whether or not an account has the
/// address.
#[tauri::command]
pub async fn request_password_reset(desktop: State<'_, Desktop>, email: String) -> Answer<String> {
    let email = email.trim();
    if email.is_empty() {
        return Err(CommandError::new(
            "email_required",
            "Enter the e-mail address of your account.",
        ));
    }
    let engine = engine(&desktop).await;
    let accepted = engine
        .api()
        .request_password_reset(email)
        .await
        .map_err(|e| needs_network(e.into(), "Asking for a password reset link"))?;
    Ok(accepted.message)
}
