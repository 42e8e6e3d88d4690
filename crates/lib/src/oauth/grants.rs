//! The token endpoint's grants (RFC 6749 §4.1.3, §4.4, §6).

use keygate_core::model::{AccountStatus, App, ClientType, Grant, RefreshToken, UserStatus};
use keygate_core::pkce;
use keygate_core::scope::ScopeSet;
use keygate_core::secret::SecretKind;
use keygate_core::time::now;
use keygate_store::{CodeRedemption, RefreshContext, Rotation};

use super::client_auth::AuthenticatedClient;
use super::TokenResponse;
use crate::tokens::{AccessTokenRequest, Subject};
use crate::{Actor, Keygate, OAuthError};

/// A parsed token request, after client authentication.
#[derive(Debug, Clone)]
pub enum GrantRequest {
    AuthorizationCode {
        code: String,
        redirect_uri: Option<String>,
        code_verifier: Option<String>,
    },
    RefreshToken {
        refresh_token: String,
        scope: Option<String>,
    },
    ClientCredentials {
        scope: Option<String>,
    },
}

impl Keygate {
    pub async fn grant(
        &self,
        client: &AuthenticatedClient,
        req: GrantRequest,
    ) -> Result<TokenResponse, OAuthError> {
        let app = &client.app;
        match req {
            GrantRequest::AuthorizationCode {
                code,
                redirect_uri,
                code_verifier,
            } => {
                self.exchange_code(app, &code, redirect_uri.as_deref(), code_verifier.as_deref())
                    .await
            }
            GrantRequest::RefreshToken { refresh_token, scope } => {
                self.refresh(app, &refresh_token, scope.as_deref()).await
            }
            GrantRequest::ClientCredentials { scope } => self.client_credentials(client, scope.as_deref()),
        }
    }

    fn access_ttl(&self, app: &App) -> i64 {
        app.access_token_ttl.unwrap_or(self.settings().access_token_ttl)
    }

    fn refresh_ttl(&self, app: &App) -> i64 {
        app.refresh_token_ttl.unwrap_or(self.settings().refresh_token_ttl)
    }

    fn token_response(
        &self,
        app: &App,
        grant: Option<&Grant>,
        account: &keygate_core::ids::AccountName,
        subject: Subject,
        scope: &ScopeSet,
        refresh_token: Option<String>,
    ) -> Result<TokenResponse, OAuthError> {
        let ttl = self.access_ttl(app);
        let issued = self
            .issue_access_token(AccessTokenRequest {
                client_id: app.client_id.as_str(),
                account,
                subject,
                scope,
                grant_id: grant.map(|g| g.id.as_str()),
                ttl,
                api_key: None,
                origin: None,
                act: None,
            })
            .map_err(OAuthError::server)?;
        Ok(TokenResponse {
            access_token: issued.token,
            token_type: "Bearer",
            expires_in: ttl,
            scope: scope.to_string(),
            refresh_token,
        })
    }

    fn new_refresh_token(&self, app: &App, grant: &Grant, t: i64) -> (String, RefreshToken) {
        let secret = SecretKind::RefreshToken.generate();
        let record = RefreshToken {
            token_hash: self.pepper().hash(secret.expose()),
            grant_id: grant.id.clone(),
            scope: grant.scope.clone(),
            created_at: t,
            expires_at: t + self.refresh_ttl(app),
            rotated_at: None,
        };
        (secret.expose().to_owned(), record)
    }

    /// A grant can only yield tokens while its account and user are active.
    async fn ensure_subject_active(&self, grant: &Grant) -> Result<(), OAuthError> {
        let account = self.store().get_account(&grant.account).await?;
        let user = self.store().get_user(&grant.user_id).await?;
        subject_active(account.map(|a| a.status), user.map(|u| u.status))
    }

    async fn exchange_code(
        &self,
        app: &App,
        code: &str,
        redirect_uri: Option<&str>,
        verifier: Option<&str>,
    ) -> Result<TokenResponse, OAuthError> {
        let t = now();
        let code = match self
            .store()
            .redeem_authorization_code(&self.pepper().hash(code), t)
            .await?
        {
            CodeRedemption::Redeemed(c) => c,
            CodeRedemption::Replayed(c) => {
                // RFC 6749 §4.1.2: a code used twice means it leaked; revoke what the first use issued.
                self.store()
                    .revoke_grant(&c.grant_id, "authorization code replayed", t)
                    .await?;
                tracing::warn!(client_id = %c.client_id, grant = %c.grant_id, "authorization code replayed; grant revoked");
                let details = serde_json::json!({"client_id": c.client_id, "grant": c.grant_id});
                let user = c.user_id.as_str();
                self.audit(
                    &Actor::System,
                    "authorization_code.replayed",
                    user,
                    Some(&c.account),
                    details,
                )
                .await;
                return Err(OAuthError::invalid_grant(
                    "the authorization code was already used; the tokens issued for it are revoked",
                ));
            }
            CodeRedemption::NotFound => {
                return Err(OAuthError::invalid_grant(
                    "the authorization code is invalid or has expired",
                ))
            }
        };
        if code.client_id != app.client_id {
            return Err(OAuthError::invalid_grant(
                "the authorization code was issued to another client",
            ));
        }
        match redirect_uri {
            Some(uri) if uri != code.redirect_uri => {
                return Err(OAuthError::invalid_grant(
                    "redirect_uri does not match the authorization request",
                ))
            }
            None if code.redirect_uri_explicit => {
                return Err(OAuthError::invalid_request(
                    "redirect_uri is required: the authorization request had one",
                ))
            }
            _ => {}
        }
        match (&code.code_challenge, verifier) {
            (Some(challenge), Some(v)) if pkce::verify_s256(v, challenge) => {}
            (Some(_), Some(_)) => {
                return Err(OAuthError::invalid_grant(
                    "code_verifier does not match code_challenge",
                ))
            }
            (Some(_), None) => return Err(OAuthError::invalid_request("code_verifier is required")),
            // RFC 9700 §2.1.1: a verifier without a challenge signals a PKCE downgrade attempt.
            (None, Some(_)) => {
                return Err(OAuthError::invalid_grant(
                    "code_verifier sent, but the authorization request had no code_challenge",
                ))
            }
            (None, None) => {}
        }
        let grant = Grant {
            id: code.grant_id.clone(),
            client_id: code.client_id.clone(),
            account: code.account.clone(),
            user_id: code.user_id.clone(),
            scope: code.scope.clone(),
            created_at: t,
            revoked_at: None,
            revoked_reason: None,
        };
        self.ensure_subject_active(&grant).await?;
        let (refresh, record) = self.new_refresh_token(app, &grant, t);
        self.store().create_grant(&grant, Some(&record)).await?;
        self.token_response(
            app,
            Some(&grant),
            &grant.account,
            Subject::User(grant.user_id.clone()),
            &grant.scope,
            Some(refresh),
        )
    }

    async fn refresh(
        &self,
        app: &App,
        presented: &str,
        scope: Option<&str>,
    ) -> Result<TokenResponse, OAuthError> {
        let t = now();
        let invalid = || OAuthError::invalid_grant("the refresh token is invalid, expired or revoked");
        let old_hash = self.pepper().hash(presented);
        let Some(context) = self.store().get_refresh_context(&old_hash).await? else {
            return Err(invalid());
        };
        let RefreshContext {
            token: old,
            grant,
            account_status,
            user_status,
        } = context;
        if grant.client_id != app.client_id || grant.revoked_at.is_some() || old.expires_at <= t {
            return Err(invalid());
        }
        let scope = ScopeSet::resolve_request(scope, &grant.scope).map_err(|e| {
            OAuthError::invalid_scope(format!("a refresh may only narrow the granted scope; {e}"))
        })?;
        subject_active(account_status, user_status)?;
        let (refresh, successor) = self.new_refresh_token(app, &grant, t);
        let rotated_at = match old.rotated_at {
            Some(at) => Some(at),
            None => match self
                .store()
                .rotate_refresh_token(&old_hash, &successor, t)
                .await?
            {
                Rotation::Rotated => None,
                Rotation::AlreadyRotated { rotated_at } => Some(rotated_at),
                Rotation::NotFound => return Err(invalid()),
            },
        };
        if let Some(at) = rotated_at {
            if t - at > self.settings().refresh_reuse_grace {
                // RFC 9700 §4.14.2: reuse of a rotated refresh token means one copy is stolen.
                self.store()
                    .revoke_grant(&grant.id, "refresh token reused", t)
                    .await?;
                tracing::warn!(client_id = %app.client_id, grant = %grant.id, "refresh token reused; grant revoked");
                let details = serde_json::json!({"client_id": app.client_id, "grant": grant.id});
                let user = grant.user_id.as_str();
                self.audit(
                    &Actor::System,
                    "refresh_token.reused",
                    user,
                    Some(&grant.account),
                    details,
                )
                .await;
                return Err(OAuthError::invalid_grant(
                    "the refresh token was already used; the grant is revoked",
                ));
            }
            // Within the grace window: a concurrent refresh by the same client. Give it its own successor.
            self.store().insert_refresh_token(&successor).await?;
        }
        self.token_response(
            app,
            Some(&grant),
            &grant.account,
            Subject::User(grant.user_id.clone()),
            &scope,
            Some(refresh),
        )
    }

    fn client_credentials(
        &self,
        client: &AuthenticatedClient,
        scope: Option<&str>,
    ) -> Result<TokenResponse, OAuthError> {
        let app = &client.app;
        if app.client_type != ClientType::Confidential {
            return Err(OAuthError::unauthorized_client(
                "public clients cannot use client_credentials",
            ));
        }
        let Some(owner) = &app.owner_account else {
            return Err(OAuthError::unauthorized_client(
                "client_credentials needs an app owned by an account; this app has no owner",
            ));
        };
        // Read with the app when the client authenticated.
        if client.owner_status != Some(AccountStatus::Active) {
            return Err(OAuthError::unauthorized_client("the owner account is suspended"));
        }
        let scope = ScopeSet::resolve_request(scope, &app.allowed_scopes)
            .map_err(|e| OAuthError::invalid_scope(e.to_string()))?;
        self.token_response(app, None, owner, Subject::Credential, &scope, None)
    }
}

/// A grant is usable only while its account and its user are active (and still exist).
fn subject_active(account: Option<AccountStatus>, user: Option<UserStatus>) -> Result<(), OAuthError> {
    if account != Some(AccountStatus::Active) {
        return Err(OAuthError::invalid_grant("the account is suspended"));
    }
    if user != Some(UserStatus::Active) {
        return Err(OAuthError::invalid_grant("the user is suspended"));
    }
    Ok(())
}
