//! The JWT assertion grant (RFC 7523): a server signs a short-lived JWT with its API key (the secret, HS256,
//! or a registered private key) and exchanges it for an access token, without sending the secret.

use jsonwebtoken::{decode, decode_header, Algorithm, DecodingKey, Validation};
use keygate_core::claims::ActClaim;
use keygate_core::email;
use keygate_core::ids::{opaque_id, ApiKeyId, UserId};
use keygate_core::model::{AccountStatus, ApiKey, AssertionAlg, KeySession, KeyStatus, Role, UserStatus};
use keygate_core::scope::Scope;
use keygate_core::time::now;
use serde::Deserialize;
use serde_json::json;

use super::TokenResponse;
use crate::tokens::{AccessTokenRequest, Subject};
use crate::{Actor, Keygate, OAuthError};

pub const GRANT_TYPE: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";
/// An assertion may be valid for at most this long: it is a one-shot credential.
pub const MAX_LIFETIME: i64 = 300;

/// `iss` and `aud` are checked by the validation itself.
#[derive(Debug, Deserialize)]
struct AssertionClaims {
    sub: String,
    exp: i64,
    jti: Option<String>,
}

#[derive(Debug, Deserialize)]
struct IssuerOnly {
    iss: String,
}

fn refused(d: impl Into<String>) -> OAuthError {
    OAuthError::invalid_grant(d)
}

pub fn jwt_algorithm(alg: AssertionAlg) -> Algorithm {
    match alg {
        AssertionAlg::HS256 => Algorithm::HS256,
        AssertionAlg::ES256 => Algorithm::ES256,
        AssertionAlg::EdDSA => Algorithm::EdDSA,
        AssertionAlg::RS256 => Algorithm::RS256,
    }
}

impl Keygate {
    fn assertion_key(&self, key: &ApiKey) -> Result<(Algorithm, DecodingKey), OAuthError> {
        let Some(a) = &key.assertion else {
            return Err(refused("this API key is not set up to sign assertions"));
        };
        let decoding = match (a.alg, &a.sealed_secret, &a.public_jwk) {
            (AssertionAlg::HS256, Some(sealed), _) => {
                let secret = self
                    .assertion_sealer()
                    .open(key.id.as_str().as_bytes(), sealed)
                    .map_err(OAuthError::server)?;
                DecodingKey::from_secret(&secret)
            }
            (_, _, Some(jwk)) => {
                let jwk: serde_json::Value = serde_json::from_str(jwk).map_err(OAuthError::server)?;
                crate::signing::decoding_key(&jwk).map_err(OAuthError::server)?
            }
            _ => {
                return Err(OAuthError::server(format!(
                    "API key {} has an incomplete assertion key",
                    key.id
                )))
            }
        };
        Ok((jwt_algorithm(a.alg), decoding))
    }

    /// The API key an assertion claims to come from, unverified: only for charging the attempt to it
    /// (rate limits, lock-outs) before the signature is checked.
    pub fn assertion_issuer(assertion: &str) -> Option<String> {
        jsonwebtoken::dangerous::insecure_decode::<IssuerOnly>(assertion)
            .ok()
            .map(|d| d.claims.iss)
    }

    /// `POST /oauth/token` with `grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer`.
    pub async fn jwt_bearer(&self, assertion: &str) -> Result<TokenResponse, OAuthError> {
        let header =
            decode_header(assertion).map_err(|_| refused("the assertion is not a well-formed JWT"))?;
        // Read `iss` to find the key; nothing else is trusted before the signature is checked.
        let iss = jsonwebtoken::dangerous::insecure_decode::<IssuerOnly>(assertion)
            .map_err(|_| refused("the assertion has no iss naming an API key"))?
            .claims
            .iss;
        let found = match ApiKeyId::parse(&iss) {
            Ok(id) => self.store().get_api_key_and_account_status(&id).await?,
            Err(_) => None,
        };
        let Some((key, account)) = found.filter(|(k, _)| k.status == KeyStatus::Active) else {
            return Err(refused("the assertion's issuer is not an active API key"));
        };
        let (alg, decoding) = self.assertion_key(&key)?;
        // The algorithm is pinned by the key: no `none`, no HS256-with-a-public-key confusion.
        if header.alg != alg {
            return Err(refused(format!(
                "this API key signs assertions with {alg:?} only"
            )));
        }
        let audience = format!("{}/oauth/token", self.settings().issuer.trim_end_matches('/'));
        let mut validation = Validation::new(alg);
        validation.leeway = self.settings().leeway.max(0) as u64;
        validation.set_issuer(&[key.id.as_str()]);
        validation.set_audience(&[&audience]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        let claims = decode::<AssertionClaims>(assertion, &decoding, &validation)
            .map_err(|e| refused(format!("the assertion is not valid: {e}")))?
            .claims;
        let t = now();
        if claims.exp - t > MAX_LIFETIME + self.settings().leeway {
            return Err(refused(format!(
                "the assertion's exp must be at most {MAX_LIFETIME} seconds ahead"
            )));
        }
        let Some(jti) = claims.jti.filter(|j| !j.is_empty() && j.len() <= 200) else {
            return Err(refused("the assertion needs a jti (at most 200 characters)"));
        };
        if !self
            .store()
            .use_assertion_jti(&key.id, &jti, claims.exp.max(t))
            .await?
        {
            return Err(refused("this assertion was already used"));
        }
        self.assertion_token(&key, account, &claims.sub, t).await
    }

    /// Issues the token for `sub`: the key's own subject, or (with `impersonate` on the key) another user
    /// of its account, named by id or email. `account`: the status of the key's account, read with it.
    async fn assertion_token(
        &self,
        key: &ApiKey,
        account: Option<AccountStatus>,
        sub: &str,
        t: i64,
    ) -> Result<TokenResponse, OAuthError> {
        let own = sub == key.id.as_str() || key.user_id.as_ref().is_some_and(|u| u.as_str() == sub);
        let user = if sub == key.id.as_str() {
            key.user_id.clone()
        } else {
            let found = if sub.starts_with(UserId::PREFIX) {
                match UserId::parse(sub) {
                    Ok(id) => self.store().get_user(&id).await?,
                    Err(_) => None,
                }
            } else {
                self.store()
                    .find_user_by_email(&key.account, &email::normalize(sub))
                    .await?
            };
            let Some(user) = found.filter(|u| u.account == key.account) else {
                return Err(refused("sub is not a user of the API key's account"));
            };
            if user.status != UserStatus::Active {
                return Err(refused("sub is suspended"));
            }
            Some(user.id)
        };
        let impersonating = !own;
        if impersonating {
            let key_user_is_admin = match &key.user_id {
                None => true,
                Some(id) => self
                    .store()
                    .get_user(id)
                    .await?
                    .is_some_and(|u| u.role == Role::Admin),
            };
            if !key.scopes.permits(Scope::Impersonate) || !key_user_is_admin {
                return Err(refused(
                    "acting as another user needs the impersonate scope on an admin's or the account's key",
                ));
            }
        }
        if account != Some(AccountStatus::Active) {
            return Err(refused("the API key's account is suspended"));
        }
        let scope = key.scopes.without(|s| impersonating && s == Scope::Impersonate);
        let session = KeySession {
            id: opaque_id("kss_"),
            key_id: key.id.clone(),
            domain_key_id: None,
            origin: None,
            account: key.account.clone(),
            user_id: user.clone(),
            scope: scope.clone(),
            created_at: t,
            expires_at: t + self.api_key_settings().max_session,
            revoked_at: None,
        };
        self.store().create_key_session(&session).await?;
        let ttl = self.api_key_settings().token_ttl;
        let act = impersonating.then(|| ActClaim {
            sub: key
                .user_id
                .as_ref()
                .map_or_else(|| key.id.to_string(), ToString::to_string),
            client_id: key.id.to_string(),
        });
        let issued = self
            .issue_access_token(AccessTokenRequest {
                client_id: key.id.as_str(),
                account: &key.account,
                subject: user.clone().map_or(Subject::Credential, Subject::User),
                scope: &scope,
                grant_id: Some(&session.id),
                ttl,
                api_key: None,
                origin: None,
                act: act.clone(),
            })
            .map_err(OAuthError::server)?;
        if let (Some(act), Some(user)) = (act, &user) {
            let actor = Actor::Credential(format!("api_key:{}", key.id));
            let details = json!({"via": "jwt-bearer", "acting": act.sub, "scope": scope});
            self.audit(
                &actor,
                "impersonation.started",
                user.as_str(),
                Some(&key.account),
                details,
            )
            .await;
        }
        Ok(TokenResponse {
            access_token: issued.token,
            token_type: "Bearer",
            expires_in: ttl,
            scope: scope.to_string(),
            refresh_token: None,
        })
    }
}
