//! Facilitator accounts: [`add_facilitator`] is what the
//! `peercircle facilitator add` command (and the demo) calls.

use anyhow::Context;

use crate::domain::{Email, GroupName, Password};
use crate::store::{Facilitator, Store, StoreError};

/// Adds a facilitator after checking the e-mail address, the name (1–100
/// characters) and the password (at least 8 characters). A duplicate e-mail
/// address is a clear error.
pub async fn add_facilitator(
    store: &dyn Store,
    email: &str,
    name: &str,
    password: &str,
) -> anyhow::Result<Facilitator> {
    let email = Email::parse(email)?;
    // A facilitator's name follows the same rules as a group's name.
    let name = GroupName::parse(name)
        .map_err(|_| anyhow::anyhow!("Please give a name of 1 to 100 characters on one line."))?;
    let password = Password::parse(password)?;
    let owned = password.as_str().to_string();
    let hash = tokio::task::spawn_blocking(move || crate::auth::hash_password(&owned))
        .await
        .context("hashing the password")??;
    match store
        .create_facilitator(email.as_str(), name.as_str(), &hash)
        .await
    {
        Ok(f) => {
            tracing::info!(facilitator = %f.id, "facilitator added");
            Ok(f)
        }
        Err(StoreError::Conflict(_)) => Err(anyhow::anyhow!(
            "A facilitator with this e-mail address already exists."
        )),
        Err(e) => Err(e.into()),
    }
}
