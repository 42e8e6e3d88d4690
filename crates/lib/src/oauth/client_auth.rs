//! Client authentication at the token, revocation and introspection endpoints (RFC 6749 §2.3).

use keygate_core::ids::ClientId;
use keygate_core::model::{AccountStatus, App, AppStatus, ClientType};
use keygate_core::time::now;

use crate::{Keygate, OAuthError};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthMethod {
    ClientSecretBasic,
    ClientSecretPost,
    /// A public client naming itself by `client_id` alone.
    None,
}

/// What the client presented. The secret is never logged: `Debug` hides it.
#[derive(Clone)]
pub struct PresentedClient {
    pub client_id: String,
    pub secret: Option<String>,
    pub method: AuthMethod,
}

impl std::fmt::Debug for PresentedClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PresentedClient")
            .field("client_id", &self.client_id)
            .field("method", &self.method)
            .finish()
    }
}

const BAD_CLIENT: &str = "client authentication failed";

/// A client that authenticated: its app, and the status of the app's owner account (`None` for an app
/// without one), read with it.
#[derive(Debug, Clone)]
pub struct AuthenticatedClient {
    pub app: App,
    pub owner_status: Option<AccountStatus>,
}

impl Keygate {
    /// Authenticates a client. Every failure reads the same, so responses do not reveal which client ids
    /// exist or which secret was close.
    pub async fn authenticate_client(
        &self,
        presented: &PresentedClient,
    ) -> Result<AuthenticatedClient, OAuthError> {
        let fail = || OAuthError::invalid_client(BAD_CLIENT);
        let Ok(client_id) = ClientId::parse(&presented.client_id) else {
            return Err(fail());
        };
        let Some((app, owner_status)) = self.store().get_app_and_owner_status(&client_id).await? else {
            // Spend the same hashing work as for a real client.
            let _ = self
                .pepper()
                .hash(presented.secret.as_deref().unwrap_or_default());
            return Err(fail());
        };
        match (app.client_type, &presented.secret) {
            (ClientType::Public, None) => {}
            (ClientType::Public, Some(_)) => {
                return Err(OAuthError::invalid_client(
                    "public clients have no secret; send client_id only",
                ))
            }
            (ClientType::Confidential, None) => return Err(fail()),
            (ClientType::Confidential, Some(secret)) => {
                if !self.secret_matches(&app, secret) {
                    return Err(fail());
                }
            }
        }
        if app.status != AppStatus::Active {
            return Err(OAuthError::invalid_client(format!(
                "the client is {}",
                app.status
            )));
        }
        Ok(AuthenticatedClient { app, owner_status })
    }

    /// The current secret, or the previous one while its rotation grace lasts.
    fn secret_matches(&self, app: &App, presented: &str) -> bool {
        let current = app
            .secret
            .as_ref()
            .is_some_and(|s| self.pepper().verify(presented, &s.hash));
        let previous = app
            .previous_secret
            .as_ref()
            .filter(|s| s.expires_at.is_some_and(|t| t > now()))
            .is_some_and(|s| self.pepper().verify(presented, &s.hash));
        current | previous
    }
}
