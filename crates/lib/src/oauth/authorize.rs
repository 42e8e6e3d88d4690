//! The authorization endpoint's logic (RFC 6749 §4.1, RFC 7636, RFC 9207): validate the request, log
//! the user in, ask for consent, issue the code.

use keygate_core::ids::{opaque_id, AccountName, ClientId, UserId};
use keygate_core::model::{
    AccountStatus, App, AppStatus, AuthorizationCode, ClientType, Role, User, UserStatus,
};
use keygate_core::scope::{Scope, ScopeSet};
use keygate_core::secret::SecretKind;
use keygate_core::time::now;
use keygate_core::{email, pkce};
use serde::{Deserialize, Serialize};
use url::Url;

use super::tickets;
use crate::{Keygate, OAuthError, OAuthErrorCode};

/// The query of `GET /oauth/authorize`, repeated as hidden fields of the login form.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams, utoipa::ToSchema), into_params(parameter_in = Query))]
pub struct AuthorizeParams {
    pub response_type: Option<String>,
    pub client_id: Option<String>,
    pub redirect_uri: Option<String>,
    pub scope: Option<String>,
    pub state: Option<String>,
    pub code_challenge: Option<String>,
    pub code_challenge_method: Option<String>,
}

/// A request that passed validation.
#[derive(Debug, Clone)]
pub struct AuthorizeRequest {
    pub app: App,
    pub redirect_uri: String,
    pub redirect_uri_explicit: bool,
    pub scope: ScopeSet,
    pub state: Option<String>,
    pub code_challenge: Option<String>,
}

/// A failed authorization request. Errors may only be sent back to a redirect URI that is registered
/// for the client; otherwise the user sees an error page (no open redirector).
#[derive(Debug, Clone)]
pub enum AuthorizeError {
    ShowToUser(String),
    Redirect(ErrorRedirect),
}

#[derive(Debug, Clone)]
pub struct ErrorRedirect {
    pub redirect_uri: String,
    pub state: Option<String>,
    pub error: OAuthError,
}

/// Why a login failed; what the login page says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LoginError {
    BadCredentials,
    AccountSuspended,
    UserSuspended,
    Invalid(String),
}

impl std::fmt::Display for LoginError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LoginError::BadCredentials => f.write_str("The account, email or password is incorrect."),
            LoginError::AccountSuspended => f.write_str("This account is suspended."),
            LoginError::UserSuspended => f.write_str("This user is suspended."),
            LoginError::Invalid(m) => f.write_str(m),
        }
    }
}

/// What the consent form carries, MAC-protected.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ConsentTicket {
    pub client_id: String,
    pub user_id: String,
    pub account: String,
    pub redirect_uri: String,
    pub redirect_uri_explicit: bool,
    pub scope: String,
    pub state: Option<String>,
    pub code_challenge: Option<String>,
    pub expires_at: i64,
}

/// Where the browser goes after the consent decision.
pub fn redirect_with(redirect_uri: &str, pairs: &[(&str, &str)]) -> String {
    match Url::parse(redirect_uri) {
        Ok(mut url) => {
            url.query_pairs_mut().extend_pairs(pairs);
            url.to_string()
        }
        // Registered URIs were validated on registration; this cannot happen for them.
        Err(_) => redirect_uri.to_owned(),
    }
}

impl ErrorRedirect {
    pub fn location(&self, issuer: &str) -> String {
        let mut pairs = vec![
            ("error", self.error.code.as_str()),
            ("error_description", self.error.description.as_str()),
        ];
        if let Some(s) = &self.state {
            pairs.push(("state", s));
        }
        pairs.push(("iss", issuer));
        redirect_with(&self.redirect_uri, &pairs)
    }
}

impl Keygate {
    pub async fn validate_authorize(&self, p: &AuthorizeParams) -> Result<AuthorizeRequest, AuthorizeError> {
        let show = |m: &str| Err(AuthorizeError::ShowToUser(m.to_owned()));
        let Some(client_id) = p.client_id.as_deref() else {
            return show("The request has no client_id.");
        };
        let Ok(client_id) = ClientId::parse(client_id) else {
            return show("The client_id is not a valid client id.");
        };
        let app = match self.store().get_app(&client_id).await {
            Ok(Some(app)) => app,
            Ok(None) => return show("No application is registered with this client_id."),
            Err(e) => {
                tracing::error!(error = %e, "loading app for authorization");
                return show("The server could not load the application. Try again later.");
            }
        };
        let (redirect_uri, explicit) = match p.redirect_uri.as_deref() {
            Some(uri) if app.redirect_uris.iter().any(|r| r == uri) => (uri.to_owned(), true),
            Some(_) => return show("The redirect_uri is not registered for this application."),
            None if app.redirect_uris.len() == 1 => (app.redirect_uris[0].clone(), false),
            None if app.redirect_uris.is_empty() => {
                return show("This application has no redirect URI registered.")
            }
            None => return show("This application has several redirect URIs; the request must name one."),
        };
        if app.status != AppStatus::Active {
            return show(&format!("This application is {}.", app.status));
        }
        let state = p.state.clone();
        let fail = |code: OAuthErrorCode, d: &str| {
            Err(AuthorizeError::Redirect(ErrorRedirect {
                redirect_uri: redirect_uri.clone(),
                state: state.clone(),
                error: OAuthError::new(code, d),
            }))
        };
        match p.response_type.as_deref() {
            Some("code") => {}
            None => return fail(OAuthErrorCode::InvalidRequest, "response_type is required"),
            Some(_) => {
                return fail(
                    OAuthErrorCode::UnsupportedResponseType,
                    "only response_type=code is supported",
                )
            }
        }
        let challenge = match (p.code_challenge.as_deref(), p.code_challenge_method.as_deref()) {
            (None, None) => None,
            (Some(c), Some("S256")) => match pkce::validate_challenge(c) {
                Ok(()) => Some(c.to_owned()),
                Err(e) => return fail(OAuthErrorCode::InvalidRequest, &e.to_string()),
            },
            (Some(_), None | Some("plain")) => {
                return fail(
                    OAuthErrorCode::InvalidRequest,
                    "code_challenge_method plain is not supported; use S256",
                )
            }
            (Some(_), Some(_)) => {
                return fail(
                    OAuthErrorCode::InvalidRequest,
                    "code_challenge_method must be S256",
                )
            }
            (None, Some(_)) => {
                return fail(
                    OAuthErrorCode::InvalidRequest,
                    "code_challenge_method without code_challenge",
                )
            }
        };
        if challenge.is_none() && app.client_type == ClientType::Public {
            return fail(
                OAuthErrorCode::InvalidRequest,
                "public clients must use PKCE (code_challenge with S256)",
            );
        }
        let scope = match ScopeSet::resolve_request(p.scope.as_deref(), &app.allowed_scopes) {
            Ok(s) => s,
            Err(e) => return fail(OAuthErrorCode::InvalidScope, &e.to_string()),
        };
        Ok(AuthorizeRequest {
            app,
            redirect_uri,
            redirect_uri_explicit: explicit,
            scope,
            state,
            code_challenge: challenge,
        })
    }

    /// Checks an account user's password. Unknown accounts and emails cost the same time as a wrong
    /// password and read the same.
    pub async fn login(&self, account: &str, email_addr: &str, pass: &str) -> Result<User, LoginError> {
        let Ok(account) = AccountName::parse(account.trim()) else {
            return Err(LoginError::Invalid(
                "The account name looks like ab123: two letters and three digits.".into(),
            ));
        };
        let lookup = async {
            let acct = self.store().get_account(&account).await?;
            let user = self
                .store()
                .find_user_by_email(&account, &email::normalize(email_addr))
                .await?;
            Ok::<_, keygate_store::StoreError>((acct, user))
        };
        let (acct, user) = lookup.await.map_err(|e| {
            tracing::error!(error = %e, "login lookup failed");
            LoginError::Invalid("The server could not check the password. Try again later.".into())
        })?;
        let (Some(acct), Some(user)) = (acct, user) else {
            crate::basic::spend_dummy_verification(pass).await;
            return Err(LoginError::BadCredentials);
        };
        if !crate::basic::verify_password(pass, &user.password).await {
            return Err(LoginError::BadCredentials);
        }
        if acct.status != AccountStatus::Active {
            return Err(LoginError::AccountSuspended);
        }
        if user.status != UserStatus::Active {
            return Err(LoginError::UserSuspended);
        }
        Ok(user)
    }

    /// The scopes `user` can grant of those requested (members never grant admin-only scopes), or an
    /// `access_denied` if none are left.
    pub fn grantable_scopes(&self, req: &AuthorizeRequest, user: &User) -> Result<ScopeSet, OAuthError> {
        let scope = if user.role == Role::Admin {
            req.scope.clone()
        } else {
            req.scope.without(Scope::requires_admin)
        };
        if scope.is_empty() {
            return Err(OAuthError::new(
                OAuthErrorCode::AccessDenied,
                "the user's role may not grant the requested scopes",
            ));
        }
        Ok(scope)
    }

    pub fn consent_ticket(&self, req: &AuthorizeRequest, user: &User, scope: &ScopeSet) -> String {
        tickets::seal(
            self.ticket_key(),
            &ConsentTicket {
                client_id: req.app.client_id.to_string(),
                user_id: user.id.to_string(),
                account: user.account.to_string(),
                redirect_uri: req.redirect_uri.clone(),
                redirect_uri_explicit: req.redirect_uri_explicit,
                scope: scope.to_string(),
                state: req.state.clone(),
                code_challenge: req.code_challenge.clone(),
                expires_at: now() + self.settings().consent_ttl,
            },
        )
    }

    pub fn open_consent_ticket(&self, ticket: &str) -> Option<ConsentTicket> {
        tickets::open::<ConsentTicket>(self.ticket_key(), ticket).filter(|t| t.expires_at > now())
    }

    /// Issues the authorization code for an approved consent. Re-checks that app and user are still
    /// active: the ticket may be minutes old.
    pub async fn issue_code(&self, t: &ConsentTicket) -> Result<String, OAuthError> {
        let bad = |m: &str| OAuthError::new(OAuthErrorCode::AccessDenied, m);
        let client_id = ClientId::parse(&t.client_id).map_err(|_| bad("invalid ticket"))?;
        let user_id = UserId::parse(&t.user_id).map_err(|_| bad("invalid ticket"))?;
        let account = AccountName::parse(&t.account).map_err(|_| bad("invalid ticket"))?;
        let scope = ScopeSet::parse(&t.scope).map_err(|_| bad("invalid ticket"))?;
        let app = self.store().get_app(&client_id).await?;
        if app.is_none_or(|a| a.status != AppStatus::Active) {
            return Err(bad("the application is no longer active"));
        }
        let user = self.store().get_user(&user_id).await?;
        if user.is_none_or(|u| u.status != UserStatus::Active) {
            return Err(bad("the user is no longer active"));
        }
        let code = SecretKind::AuthorizationCode.generate();
        self.store()
            .insert_authorization_code(&AuthorizationCode {
                code_hash: self.pepper().hash(code.expose()),
                client_id,
                account,
                user_id,
                redirect_uri: t.redirect_uri.clone(),
                redirect_uri_explicit: t.redirect_uri_explicit,
                scope,
                code_challenge: t.code_challenge.clone(),
                grant_id: opaque_id("grt_"),
                expires_at: now() + self.settings().authorization_code_ttl,
                consumed_at: None,
            })
            .await?;
        Ok(code.expose().to_owned())
    }
}
