//! Revocation (RFC 7009) and introspection (RFC 7662). Both accept access tokens (JWTs) and refresh
//! tokens; a client only ever affects or learns about tokens issued to itself.

use keygate_core::model::{App, ClientType, Grant, RefreshToken};
use keygate_core::secret::SecretKind;
use keygate_core::time::now;
use serde::Serialize;

use crate::tokens::{Credential, Principal, TokenRejection};
use crate::{Keygate, OAuthError};

/// RFC 7662 §2.2. An inactive token is `{"active": false}` and nothing else.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Introspection {
    pub active: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token_type: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exp: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub iat: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nbf: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sub: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub aud: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub iss: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub jti: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub account: Option<String>,
}

fn is_refresh_token(token: &str) -> bool {
    token.starts_with(SecretKind::RefreshToken.prefix())
}

impl Keygate {
    /// A refresh token of this client with its grant, if it exists.
    async fn own_refresh_token(
        &self,
        app: &App,
        token: &str,
    ) -> Result<Option<(RefreshToken, Grant)>, OAuthError> {
        let Some(rt) = self.store().get_refresh_token(&self.pepper().hash(token)).await? else {
            return Ok(None);
        };
        let Some(grant) = self.store().get_grant(&rt.grant_id).await? else {
            return Ok(None);
        };
        Ok((grant.client_id == app.client_id).then_some((rt, grant)))
    }

    /// Revokes `token` if it is this client's. Unknown or foreign tokens are ignored (RFC 7009 §2.2: the
    /// answer is the same, so it reveals nothing).
    pub async fn revoke(&self, app: &App, token: &str) -> Result<(), OAuthError> {
        let t = now();
        if is_refresh_token(token) {
            if let Some((_, grant)) = self.own_refresh_token(app, token).await? {
                // RFC 7009 §2.1: revoking a refresh token also ends the access tokens of its grant.
                self.store()
                    .revoke_grant(&grant.id, "revoked by the client", t)
                    .await?;
            }
            return Ok(());
        }
        match self.verify_access_token_signature(token).await {
            Ok(claims) if claims.client_id == app.client_id.as_str() => {
                self.store()
                    .revoke_access_token(&claims.jti, claims.exp, t)
                    .await?;
            }
            Ok(_)
            | Err(TokenRejection::Expired | TokenRejection::Malformed | TokenRejection::BadSignature) => {}
            Err(TokenRejection::Store(e)) => return Err(e.into()),
            Err(_) => {}
        }
        Ok(())
    }

    /// Only confidential clients may introspect: a public client's `client_id` proves nothing (RFC 7662 §4).
    pub async fn introspect(&self, app: &App, token: &str) -> Result<Introspection, OAuthError> {
        if app.client_type != ClientType::Confidential {
            return Err(OAuthError::invalid_client(
                "introspection requires a confidential client",
            ));
        }
        let t = now();
        if is_refresh_token(token) {
            let Some((rt, grant)) = self.own_refresh_token(app, token).await? else {
                return Ok(Introspection::default());
            };
            let live = grant.revoked_at.is_none()
                && rt
                    .rotated_at
                    .is_none_or(|at| t - at <= self.settings().refresh_reuse_grace)
                && rt.expires_at > t;
            if !live {
                return Ok(Introspection::default());
            }
            return Ok(Introspection {
                active: true,
                scope: Some(rt.scope.to_string()),
                client_id: Some(grant.client_id.to_string()),
                token_type: Some("refresh_token".into()),
                exp: Some(rt.expires_at),
                iat: Some(rt.created_at),
                sub: Some(grant.user_id.to_string()),
                iss: Some(self.settings().issuer.clone()),
                account: Some(grant.account.to_string()),
                ..Default::default()
            });
        }
        let caller = match self.validate_access_token(token).await {
            Ok(p) => p,
            Err(TokenRejection::Store(e)) => return Err(e.into()),
            Err(_) => return Ok(Introspection::default()),
        };
        match &*caller {
            Principal {
                credential: Credential::App(id),
                claims: Some(c),
                ..
            } if *id == app.client_id => {
                // The claims are shared with the cache of verified tokens: only what the answer says is copied.
                Ok(Introspection {
                    active: true,
                    scope: Some(c.scope.clone()),
                    client_id: Some(c.client_id.clone()),
                    token_type: Some("Bearer".into()),
                    exp: Some(c.exp),
                    iat: Some(c.iat),
                    nbf: Some(c.nbf),
                    sub: Some(c.sub.clone()),
                    aud: Some(c.aud.clone()),
                    iss: Some(c.iss.clone()),
                    jti: Some(c.jti.clone()),
                    account: Some(c.account.clone()),
                })
            }
            _ => Ok(Introspection::default()),
        }
    }
}
