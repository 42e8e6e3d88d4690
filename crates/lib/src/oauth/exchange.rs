//! Impersonation through token exchange (RFC 8693): a privileged caller trades its own access token for
//! one acting as another user of the same account. The new token names the real caller in `act`, can do
//! no more than the caller could, lives no longer than the caller's token, and dies with the caller's
//! grant or session. Every exchange is written to the audit log.

use keygate_core::claims::ActClaim;
use keygate_core::email;
use keygate_core::ids::UserId;
use keygate_core::model::{App, Role, UserStatus};
use keygate_core::scope::{Scope, ScopeSet};
use keygate_core::time::now;
use serde::Serialize;
use serde_json::json;

use crate::tokens::{AccessTokenRequest, Credential, Principal, Subject, TokenRejection};
use crate::{Actor, Keygate, OAuthError};

pub const GRANT_TYPE: &str = "urn:ietf:params:oauth:grant-type:token-exchange";
pub const ACCESS_TOKEN_TYPE: &str = "urn:ietf:params:oauth:token-type:access_token";

/// RFC 8693 §2.2.1.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ExchangeResponse {
    pub access_token: String,
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub issued_token_type: &'static str,
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub token_type: &'static str,
    pub expires_in: i64,
    pub scope: String,
}

#[derive(Debug, Clone)]
pub struct ExchangeRequest {
    pub subject_token: String,
    pub subject_token_type: Option<String>,
    /// The user to act as: a user id, or an email within the caller's account.
    pub requested_subject: String,
    pub scope: Option<String>,
}

fn denied(d: &str) -> OAuthError {
    OAuthError::new(crate::OAuthErrorCode::InvalidGrant, d)
}

impl Keygate {
    /// Whether this caller may impersonate: it holds `impersonate` (or `full`), and it is an account
    /// admin, or a credential acting as the account itself. Domain keys and Basic never may.
    async fn may_impersonate(&self, caller: &Principal) -> Result<(), OAuthError> {
        if !caller.scope.permits(Scope::Impersonate) {
            return Err(denied("the subject token lacks the impersonate scope"));
        }
        if caller.claims.as_ref().is_some_and(|c| c.act.is_some()) {
            return Err(denied("an impersonation token cannot be exchanged again"));
        }
        if matches!(
            caller.credential,
            Credential::DomainKey { .. } | Credential::Basic(_) | Credential::LegacyKey(_)
        ) {
            return Err(denied("this kind of credential can never impersonate"));
        }
        if let Some(id) = &caller.user_id {
            let user = self.store().get_user(id).await?;
            if user.is_none_or(|u| u.role != Role::Admin) {
                return Err(denied("only account admins may impersonate"));
            }
        }
        Ok(())
    }

    /// `client` is the authenticated client, if the request authenticated one; it must then be the
    /// client the subject token was issued to.
    pub async fn token_exchange(
        &self,
        client: Option<&App>,
        req: ExchangeRequest,
    ) -> Result<ExchangeResponse, OAuthError> {
        if req
            .subject_token_type
            .as_deref()
            .is_some_and(|t| t != ACCESS_TOKEN_TYPE)
        {
            return Err(OAuthError::invalid_request(format!(
                "subject_token_type must be {ACCESS_TOKEN_TYPE}"
            )));
        }
        let caller = match self.validate_access_token(&req.subject_token).await {
            Ok(p) => p,
            Err(TokenRejection::Store(e)) => return Err(e.into()),
            Err(e) => return Err(denied(&format!("the subject token is not valid: {e}"))),
        };
        if let Some(app) = client {
            if caller.credential != Credential::App(app.client_id.clone()) {
                return Err(denied("the subject token was issued to another client"));
            }
        }
        self.may_impersonate(&caller).await?;
        let target = if req.requested_subject.starts_with(UserId::PREFIX) {
            match UserId::parse(&req.requested_subject) {
                Ok(id) => self.store().get_user(&id).await?,
                Err(_) => None,
            }
        } else {
            self.store()
                .find_user_by_email(&caller.account, &email::normalize(&req.requested_subject))
                .await?
        };
        // Another account's user reads exactly like a missing one: nobody impersonates across accounts.
        let Some(target) = target.filter(|u| u.account == caller.account) else {
            return Err(OAuthError::invalid_request(
                "requested_subject is not a user of the caller's account",
            ));
        };
        if target.status != UserStatus::Active {
            return Err(OAuthError::invalid_request("requested_subject is suspended"));
        }
        // Never wider than the caller; impersonation itself does not pass on.
        let ceiling = caller.scope.without(|s| s == Scope::Impersonate);
        let scope = ScopeSet::resolve_request(req.scope.as_deref(), &ceiling)
            .map_err(|e| OAuthError::invalid_scope(e.to_string()))?;
        if scope.is_empty() {
            return Err(OAuthError::invalid_scope("no scope is left to grant"));
        }
        let Some(claims) = caller.claims.as_ref() else {
            return Err(denied("the subject token must be an access token"));
        };
        let t = now();
        let ttl = (claims.exp - t).min(self.settings().access_token_ttl);
        if ttl <= 0 {
            return Err(denied("the subject token has expired"));
        }
        let act = ActClaim {
            sub: claims.sub.clone(),
            client_id: claims.client_id.clone(),
        };
        let issued = self
            .issue_access_token(AccessTokenRequest {
                client_id: &claims.client_id,
                account: &caller.account,
                subject: Subject::User(target.id.clone()),
                scope: &scope,
                // The caller's grant or session: revoking it ends the impersonation too.
                grant_id: claims.sid.as_deref(),
                ttl,
                api_key: claims.api_key.as_deref(),
                origin: None,
                act: Some(act),
            })
            .map_err(OAuthError::server)?;
        let actor = Actor::Credential(format!("{}:{}", caller.credential.kind(), claims.sub));
        let details =
            json!({"credential": caller.credential.id(), "scope": scope, "expires_at": issued.claims.exp});
        self.audit(
            &actor,
            "impersonation.started",
            target.id.as_str(),
            Some(&caller.account),
            details,
        )
        .await;
        Ok(ExchangeResponse {
            access_token: issued.token,
            issued_token_type: ACCESS_TOKEN_TYPE,
            token_type: "Bearer",
            expires_in: ttl,
            scope: scope.to_string(),
        })
    }
}
