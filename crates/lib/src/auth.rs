//! `POST /auth` and `POST /auth/refresh`: API keys exchanged for access tokens.
//!
//! A successful `/auth` starts a key session; refreshing keeps the session and can never outlive its
//! maximum length. Revoking the key ends every session at once, because token validation checks the
//! key's status on every request.

use keygate_core::ids::{opaque_id, ApiKeyId, DomainKeyId};
use keygate_core::model::{AccountStatus, ApiKey, DomainKey, KeySession, KeyStatus, UserStatus};
use keygate_core::scope::ScopeSet;
use keygate_core::time::now;
use keygate_core::uri::OriginPattern;
use keygate_store::{Liveness, StoreError};
use serde::Serialize;

use crate::tokens::{AccessTokenRequest, Credential, Subject, TokenRejection};
use crate::Keygate;

/// The answer of `/auth` and `/auth/refresh`.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AuthToken {
    pub access_token: String,
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub token_type: &'static str,
    pub expires_in: i64,
    /// Unix time; clients schedule their refresh from it.
    pub expires_at: i64,
    pub scope: String,
}

#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error("the API key or its secret is invalid")]
    InvalidCredentials,
    #[error("the account this credential belongs to is suspended")]
    AccountSuspended,
    #[error("the user this credential acts as is suspended")]
    UserSuspended,
    #[error("the access token has expired; call POST /auth again")]
    TokenExpired,
    #[error("the session reached its maximum length; call POST /auth again")]
    SessionExpired,
    #[error("the access token is not valid for this API key: {0}")]
    InvalidToken(String),
    /// HTTP Basic with an email and password that fit users of several accounts.
    #[error("this email and password belong to users of several accounts: use ab123/email as the user name")]
    AmbiguousUser,
    /// A domain key used from a page it does not belong to; the message says why.
    #[error("{0}")]
    WrongOrigin(String),
    #[error("{0}")]
    Store(#[from] StoreError),
    #[error("signing failed: {0}")]
    Signing(#[from] jsonwebtoken::errors::Error),
}

impl Keygate {
    /// The key if `secret` is its current secret, or its previous one during a rotation's grace; with its
    /// account's status, read alongside.
    async fn authenticate_api_key(
        &self,
        key_id: &str,
        secret: &str,
    ) -> Result<(ApiKey, Option<AccountStatus>), AuthError> {
        let found = match ApiKeyId::parse(key_id) {
            Ok(id) => self.store().get_api_key_and_account_status(&id).await?,
            Err(_) => None,
        };
        let Some((key, account)) = found else {
            // Same hashing work as a real check, so timing does not reveal which key ids exist.
            let _ = self.pepper().hash(secret);
            return Err(AuthError::InvalidCredentials);
        };
        let current = self.pepper().verify(secret, &key.secret.hash);
        let previous = key
            .previous_secret
            .as_ref()
            .filter(|s| s.expires_at.is_some_and(|t| t > now()))
            .is_some_and(|s| self.pepper().verify(secret, &s.hash));
        if !(current | previous) || key.status != KeyStatus::Active {
            return Err(AuthError::InvalidCredentials);
        }
        Ok((key, account))
    }

    /// `account`: the status of the key's account, as read with the key.
    async fn ensure_key_subject_active(
        &self,
        key: &ApiKey,
        account: Option<AccountStatus>,
    ) -> Result<(), AuthError> {
        if account != Some(AccountStatus::Active) {
            return Err(AuthError::AccountSuspended);
        }
        if let Some(user_id) = &key.user_id {
            let user = self.store().get_user(user_id).await?;
            if user.is_none_or(|u| u.status != UserStatus::Active) {
                return Err(AuthError::UserSuspended);
            }
        }
        Ok(())
    }

    fn key_token(&self, session: &KeySession, t: i64) -> Result<AuthToken, AuthError> {
        let settings = self.api_key_settings();
        // A domain-key token names the domain key as its client and carries the API key and origin.
        let (client_id, api_key, ttl) = match &session.domain_key_id {
            Some(domain_key) => (
                domain_key.as_str(),
                Some(session.key_id.as_str()),
                settings.domain_token_ttl,
            ),
            None => (session.key_id.as_str(), None, settings.token_ttl),
        };
        let ttl = ttl.min(session.expires_at - t);
        let subject = session.user_id.clone().map_or(Subject::Credential, Subject::User);
        let issued = self.issue_access_token(AccessTokenRequest {
            client_id,
            account: &session.account,
            subject,
            scope: &session.scope,
            grant_id: Some(&session.id),
            ttl,
            api_key,
            origin: session.origin.as_deref(),
            act: None,
        })?;
        Ok(AuthToken {
            access_token: issued.token,
            token_type: "Bearer",
            expires_in: ttl,
            expires_at: issued.claims.exp,
            scope: session.scope.to_string(),
        })
    }

    /// `POST /auth`: a key and its secret for a token, starting a new session.
    pub async fn exchange_api_key(&self, key_id: &str, secret: &str) -> Result<AuthToken, AuthError> {
        let (key, account) = self.authenticate_api_key(key_id, secret).await?;
        self.start_session(&key, account, None, key.scopes.clone()).await
    }

    /// Opens a key session for `key` (through `browser`'s domain key and origin, if any) and issues its
    /// first token. `account`: the status of the key's account, as read with the key.
    async fn start_session(
        &self,
        key: &ApiKey,
        account: Option<AccountStatus>,
        browser: Option<(&DomainKey, &str)>,
        scope: ScopeSet,
    ) -> Result<AuthToken, AuthError> {
        self.ensure_key_subject_active(key, account).await?;
        let t = now();
        let session = KeySession {
            id: opaque_id("kss_"),
            key_id: key.id.clone(),
            domain_key_id: browser.map(|(dk, _)| dk.id.clone()),
            origin: browser.map(|(_, origin)| origin.to_owned()),
            account: key.account.clone(),
            user_id: key.user_id.clone(),
            scope,
            created_at: t,
            expires_at: t + self.api_key_settings().max_session,
            revoked_at: None,
        };
        self.store().create_key_session(&session).await?;
        self.key_token(&session, t)
    }

    /// `POST /auth` with a domain key: public, so it works only from a page on one of its origins, only
    /// through the API key it is bound to, and only with the scopes both allow. Its tokens are bound to
    /// that origin.
    pub async fn exchange_domain_key(
        &self,
        key_id: &str,
        domain_key: &str,
        origin: Option<&str>,
    ) -> Result<AuthToken, AuthError> {
        let dk = match DomainKeyId::parse(domain_key) {
            Ok(id) => self.store().get_domain_key(&id).await?,
            Err(_) => None,
        };
        let Some(dk) = dk.filter(|d| d.status == KeyStatus::Active && d.api_key_id.as_str() == key_id) else {
            return Err(AuthError::InvalidCredentials);
        };
        let found = self
            .store()
            .get_api_key_and_account_status(&dk.api_key_id)
            .await?;
        let Some((key, account)) = found.filter(|(k, _)| k.status == KeyStatus::Active) else {
            return Err(AuthError::InvalidCredentials);
        };
        let Some(origin) = origin else {
            return Err(AuthError::WrongOrigin(
                "the request has no Origin header: domain keys work only from web pages on their origins"
                    .into(),
            ));
        };
        if !dk
            .origins
            .iter()
            .any(|p| OriginPattern::parse(p).is_ok_and(|p| p.matches(origin)))
        {
            return Err(AuthError::WrongOrigin(format!(
                "origin {origin} is not one of this domain key's origins"
            )));
        }
        let scope = dk.scopes.restricted_to(&key.scopes);
        self.start_session(&key, account, Some((&dk, origin)), scope)
            .await
    }

    /// `POST /auth/refresh`: a still-valid token of this key (or of a domain key bound to it) for a fresh
    /// one in the same session. `origin` is the request's, checked as for any other use of the token.
    pub async fn refresh_api_key_token(
        &self,
        key_id: &str,
        token: &str,
        origin: Option<&str>,
        own_origin: &str,
    ) -> Result<AuthToken, AuthError> {
        let principal = match self
            .validate_for_request(token.as_bytes(), origin, own_origin)
            .await
        {
            Ok(p) => p,
            Err(TokenRejection::Expired) => return Err(AuthError::TokenExpired),
            Err(TokenRejection::Revoked(Liveness::SessionEnded)) => return Err(AuthError::SessionExpired),
            Err(TokenRejection::Store(e)) => return Err(e.into()),
            Err(other) => return Err(AuthError::InvalidToken(other.to_string())),
        };
        if principal.claims.as_ref().is_some_and(|c| c.act.is_some()) {
            return Err(AuthError::InvalidToken(
                "impersonation tokens cannot be refreshed; exchange again".into(),
            ));
        }
        let id = match &principal.credential {
            Credential::ApiKey(id) | Credential::DomainKey { api_key: id, .. } => id,
            _ => {
                return Err(AuthError::InvalidToken(
                    "it was not issued through an API key".into(),
                ))
            }
        };
        if id.as_str() != key_id {
            return Err(AuthError::InvalidToken(
                "it was issued through another API key".into(),
            ));
        }
        let session_id = principal
            .claims
            .as_ref()
            .and_then(|c| c.sid.as_deref())
            .unwrap_or_default();
        let Some(session) = self.store().get_key_session(session_id).await? else {
            return Err(AuthError::SessionExpired);
        };
        let t = now();
        if session.expires_at <= t {
            return Err(AuthError::SessionExpired);
        }
        self.key_token(&session, t)
    }
}
