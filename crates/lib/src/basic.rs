//! HTTP Basic on the resource APIs: an account user's email and password with every request. Off unless
//! the account switches it on; tokens are the better choice (see docs/basic-auth.md).

use keygate_core::email;
use keygate_core::ids::AccountName;
use keygate_core::model::{AccountStatus, UserStatus};
use keygate_core::password::{self, PasswordDigest};
use keygate_core::scope::ScopeSet;

use crate::auth::AuthError;
use crate::tokens::{Credential, Principal};
use crate::Keygate;

/// Argon2 takes tens of milliseconds by design; run it where it cannot stall other requests.
pub(crate) async fn verify_password(password: &str, digest: &PasswordDigest) -> bool {
    let (password, digest) = (password.to_owned(), digest.clone());
    tokio::task::spawn_blocking(move || password::verify(&password, &digest))
        .await
        .unwrap_or(false)
}

/// The same work as [`verify_password`] for a user that does not exist, so timing reveals nothing.
pub(crate) async fn spend_dummy_verification(password: &str) {
    let password = password.to_owned();
    let _ = tokio::task::spawn_blocking(move || password::verify_against_dummy(&password)).await;
}

impl Keygate {
    /// `username` is the user's email, or `ab123/email` when the same email and password exist in several
    /// accounts. Only accounts with Basic auth on are considered; everything else reads as bad credentials.
    pub async fn authenticate_basic(&self, username: &str, pass: &str) -> Result<Principal, AuthError> {
        let (account, addr) = match username.split_once('/') {
            Some((a, e)) => match AccountName::parse(a) {
                Ok(a) => (Some(a), e),
                Err(_) => (None, username),
            },
            None => (None, username),
        };
        let candidates: Vec<_> = self
            .store()
            .find_basic_auth_users(&email::normalize(addr))
            .await?
            .into_iter()
            .filter(|u| account.as_ref().is_none_or(|a| *a == u.account))
            .collect();
        if candidates.is_empty() {
            spend_dummy_verification(pass).await;
            return Err(AuthError::InvalidCredentials);
        }
        let mut matching = Vec::new();
        for user in candidates {
            if verify_password(pass, &user.password).await {
                matching.push(user);
            }
        }
        let user = match matching.len() {
            0 => return Err(AuthError::InvalidCredentials),
            1 => matching.remove(0),
            _ => return Err(AuthError::AmbiguousUser),
        };
        let acct = self.store().get_account(&user.account).await?;
        if acct.is_none_or(|a| a.status != AccountStatus::Active) {
            return Err(AuthError::AccountSuspended);
        }
        if user.status != UserStatus::Active {
            return Err(AuthError::UserSuspended);
        }
        Ok(Principal {
            account: user.account,
            credential: Credential::Basic(user.id.clone()),
            user_id: Some(user.id),
            // Basic never carries admin-only scopes: impersonation needs a token.
            scope: ScopeSet::member_default(),
            claims: None,
        })
    }
}
