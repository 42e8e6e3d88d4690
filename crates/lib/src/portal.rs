//! The developer portal's sign-in sessions, the CSRF tokens of its forms, and the access tokens its
//! API explorer calls the API with.

use aws_lc_rs::hmac;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use keygate_core::ids::opaque_id;
use keygate_core::model::{Account, AccountStatus, Role, User, UserStatus};
use keygate_core::scope::{Scope, ScopeSet};
use keygate_core::secret::SecretKind;
use keygate_core::time::now;
use keygate_store::{PortalSession, StoreError};
use serde_json::json;

use crate::tokens::{AccessTokenRequest, IssuedAccessToken, Subject};
use crate::{Actor, Keygate};

/// The `client_id` of the explorer's tokens; its `sid` names the portal session they belong to.
pub const EXPLORER_CLIENT_ID: &str = "keygate-portal";

/// A live portal session and who it belongs to, read afresh on every request.
#[derive(Debug, Clone)]
pub struct PortalUser {
    pub session: PortalSession,
    pub user: User,
    pub account: Account,
}

impl PortalUser {
    pub fn is_admin(&self) -> bool {
        self.user.role == Role::Admin
    }

    /// Who the audit log says made a change through the portal.
    pub fn actor(&self) -> Actor {
        Actor::User(self.user.id.to_string())
    }
}

impl Keygate {
    /// Starts a session for `user`, who has just signed in; returns the cookie's value, which is never
    /// stored (only its keyed hash is).
    pub async fn open_portal_session(&self, user: &User) -> Result<String, StoreError> {
        let token = SecretKind::PortalSession.generate();
        let t = now();
        let session = PortalSession {
            id_hash: self.pepper().hash(token.expose()),
            id: opaque_id("ps_"),
            user_id: user.id.to_string(),
            account: user.account.to_string(),
            created_at: t,
            last_seen_at: t,
            expires_at: t + self.portal_settings().session_ttl,
        };
        self.store().create_portal_session(&session).await?;
        let actor = Actor::User(user.id.to_string());
        self.audit(
            &actor,
            "portal.signed_in",
            &session.id,
            Some(&user.account),
            json!({}),
        )
        .await;
        Ok(token.expose().to_owned())
    }

    /// The session a cookie names, if it is live and its user and account may still sign in.
    pub async fn portal_user(&self, token: &str) -> Result<Option<PortalUser>, StoreError> {
        if !token.starts_with(SecretKind::PortalSession.prefix()) {
            return Ok(None);
        }
        let hash = self.pepper().hash(token);
        let settings = self.portal_settings();
        let Some(session) = self
            .store()
            .touch_portal_session(&hash, now(), settings.idle_timeout)
            .await?
        else {
            return Ok(None);
        };
        let user = match keygate_core::ids::UserId::parse(&session.user_id) {
            Ok(id) => self.store().get_user(&id).await?,
            Err(_) => None,
        };
        let account = match &user {
            Some(u) => self.store().get_account(&u.account).await?,
            None => None,
        };
        match (user, account) {
            (Some(user), Some(account))
                if user.status == UserStatus::Active && account.status == AccountStatus::Active =>
            {
                Ok(Some(PortalUser {
                    session,
                    user,
                    account,
                }))
            }
            // Suspended since signing in: the session is over for good.
            _ => {
                self.store().delete_portal_session(&hash).await?;
                Ok(None)
            }
        }
    }

    /// Signs out: the session, and with it the explorer's tokens, end at once.
    pub async fn close_portal_session(&self, user: &PortalUser) -> Result<(), StoreError> {
        self.store().delete_portal_session(&user.session.id_hash).await?;
        self.audit(
            &user.actor(),
            "portal.signed_out",
            &user.session.id,
            Some(&user.account.name),
            json!({}),
        )
        .await;
        Ok(())
    }

    /// The CSRF token of forms for `purpose` ("session", "sign-in") bound to a cookie's value: a MAC,
    /// so nothing needs storing, and another site can neither read nor compute it.
    pub fn portal_csrf(&self, purpose: &str, cookie: &str) -> String {
        URL_SAFE_NO_PAD.encode(hmac::sign(self.ticket_key(), &csrf_message(purpose, cookie)))
    }

    /// Constant-time check of a form's CSRF token.
    pub fn check_portal_csrf(&self, purpose: &str, cookie: &str, presented: &str) -> bool {
        URL_SAFE_NO_PAD
            .decode(presented)
            .is_ok_and(|tag| hmac::verify(self.ticket_key(), &csrf_message(purpose, cookie), &tag).is_ok())
    }

    /// An access token for the API explorer, acting as the signed-in user on the resource APIs; it dies
    /// with the session (see [`crate::tokens::Credential::Portal`]).
    pub fn explorer_token(
        &self,
        user: &PortalUser,
    ) -> Result<IssuedAccessToken, jsonwebtoken::errors::Error> {
        // The resource scopes only: a token held by a page's script never impersonates anyone.
        let scope = ScopeSet::from_scopes([Scope::ContactsRead, Scope::ContactsWrite, Scope::Hooks]);
        let remaining = user.session.expires_at - now();
        self.issue_access_token(AccessTokenRequest {
            client_id: EXPLORER_CLIENT_ID,
            account: &user.account.name,
            subject: Subject::User(user.user.id.clone()),
            scope: &scope,
            grant_id: Some(&user.session.id),
            ttl: self.portal_settings().explorer_token_ttl.min(remaining).max(1),
            api_key: None,
            origin: None,
            act: None,
        })
    }
}

fn csrf_message(purpose: &str, cookie: &str) -> Vec<u8> {
    [b"portal csrf\0", purpose.as_bytes(), b"\0", cookie.as_bytes()].concat()
}
