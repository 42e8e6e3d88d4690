//! Access tokens: issuing them, and the one validator every protected endpoint uses.

use std::sync::Arc;

use jsonwebtoken::{decode, decode_header, Validation};
use keygate_core::claims::{AccessTokenClaims, ActClaim, ACCESS_TOKEN_TYP};
use keygate_core::ids::{opaque_id, AccountName, ApiKeyId, ClientId, DomainKeyId, LegacyKeyId, UserId};
use keygate_core::scope::ScopeSet;
use keygate_core::time::now;
use keygate_core::uri::OriginPattern;
use keygate_store::{CredentialRef, Liveness, LivenessQuery, StoreError};

use crate::token_cache::Verified;
use crate::Keygate;

/// Who a token acts as.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Subject {
    User(UserId),
    /// The credential itself, for its account: an app's client_credentials, or a service API key.
    Credential,
}

pub struct AccessTokenRequest<'a> {
    /// The app's client id or the API key's id (the `client_id` claim either way).
    pub client_id: &'a str,
    pub account: &'a AccountName,
    pub subject: Subject,
    pub scope: &'a ScopeSet,
    /// The grant (apps) or key session (API keys) the token belongs to.
    pub grant_id: Option<&'a str>,
    pub ttl: i64,
    /// For domain-key tokens: the API key the domain key is bound to, and the origin the token is bound to.
    pub api_key: Option<&'a str>,
    pub origin: Option<&'a str>,
    /// For impersonation: the real caller.
    pub act: Option<ActClaim>,
}

#[derive(Debug, Clone)]
pub struct IssuedAccessToken {
    pub token: String,
    pub claims: AccessTokenClaims,
}

/// Why a presented access token is refused.
#[derive(Debug, thiserror::Error)]
pub enum TokenRejection {
    #[error("the token is not a well-formed JWT")]
    Malformed,
    #[error("the token is not an access token (typ must be at+jwt)")]
    WrongType,
    #[error("the token was signed by an unknown key")]
    UnknownKey,
    #[error("the token's algorithm does not match its key")]
    WrongAlgorithm,
    #[error("the token's signature is invalid")]
    BadSignature,
    #[error("the token has expired")]
    Expired,
    #[error("the token is not valid yet")]
    NotYetValid,
    #[error("the token was issued by another issuer")]
    WrongIssuer,
    #[error("the token is meant for another audience")]
    WrongAudience,
    #[error("the token has been revoked")]
    Revoked(Liveness),
    #[error("the token is bound to another web origin")]
    OriginMismatch,
    #[error("the token's credential is not allowed from this web origin")]
    OriginNotAllowed,
    #[error("the token's claims are invalid")]
    BadClaims,
    #[error("token validation failed: {0}")]
    Store(#[from] StoreError),
}

/// What a token was obtained with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Credential {
    /// A developer app (OAuth client).
    App(ClientId),
    /// An API key with a secret, exchanged at `POST /auth`.
    ApiKey(ApiKeyId),
    /// A domain key (browsers), exchanged at `POST /auth` through the API key it is bound to.
    DomainKey { id: DomainKeyId, api_key: ApiKeyId },
    /// A legacy static key presented with the request itself.
    LegacyKey(LegacyKeyId),
    /// A user's email and password presented with the request itself (HTTP Basic).
    Basic(UserId),
    /// The developer portal's API explorer, by the id of the portal session its token belongs to.
    Portal(String),
}

impl Credential {
    /// Key ids and client ids never look alike (`kgk_`, `kgd_`), so the `client_id` claim tells them apart.
    fn from_claims(claims: &AccessTokenClaims) -> Result<Self, TokenRejection> {
        let bad = |_| TokenRejection::BadClaims;
        let id = claims.client_id.as_str();
        if id == crate::portal::EXPLORER_CLIENT_ID {
            let session = claims.sid.clone().ok_or(TokenRejection::BadClaims)?;
            Ok(Credential::Portal(session))
        } else if id.starts_with(DomainKeyId::PREFIX) {
            let api_key = claims.api_key.as_deref().ok_or(TokenRejection::BadClaims)?;
            Ok(Credential::DomainKey {
                id: DomainKeyId::parse(id).map_err(bad)?,
                api_key: ApiKeyId::parse(api_key).map_err(bad)?,
            })
        } else if id.starts_with(ApiKeyId::PREFIX) {
            ApiKeyId::parse(id).map(Credential::ApiKey).map_err(bad)
        } else {
            ClientId::parse(id).map(Credential::App).map_err(bad)
        }
    }

    /// The name `/v1/me` and the docs use for this kind of credential.
    pub fn kind(&self) -> &'static str {
        match self {
            Credential::App(_) => "oauth_app",
            Credential::ApiKey(_) => "api_key",
            Credential::DomainKey { .. } => "domain_key",
            Credential::LegacyKey(_) => "legacy_key",
            Credential::Basic(_) => "basic",
            Credential::Portal(_) => "portal",
        }
    }

    pub fn id(&self) -> &str {
        match self {
            Credential::App(id) => id.as_str(),
            Credential::ApiKey(id) => id.as_str(),
            Credential::DomainKey { id, .. } => id.as_str(),
            Credential::LegacyKey(id) => id.as_str(),
            Credential::Basic(id) => id.as_str(),
            Credential::Portal(session) => session,
        }
    }
}

/// The authenticated caller of a protected endpoint, whatever the door it came through.
#[derive(Debug, Clone)]
pub struct Principal {
    pub account: AccountName,
    pub credential: Credential,
    pub user_id: Option<UserId>,
    pub scope: ScopeSet,
    /// The access token's claims; `None` for credentials presented with each request (legacy keys, Basic).
    pub claims: Option<Arc<AccessTokenClaims>>,
}

impl Principal {
    /// The caller an access token's claims describe, checked as a token from elsewhere would be.
    pub(crate) fn from_claims(claims: Arc<AccessTokenClaims>) -> Result<Principal, TokenRejection> {
        let account = AccountName::parse(&claims.account).map_err(|_| TokenRejection::BadClaims)?;
        let credential = Credential::from_claims(&claims)?;
        let scope = ScopeSet::parse(&claims.scope).map_err(|_| TokenRejection::BadClaims)?;
        let user_id = if claims.sub == claims.client_id {
            None
        } else {
            Some(UserId::parse(&claims.sub).map_err(|_| TokenRejection::BadClaims)?)
        };
        Ok(Principal {
            account,
            credential,
            user_id,
            scope,
            claims: Some(claims),
        })
    }
}

impl Keygate {
    pub fn issue_access_token(
        &self,
        req: AccessTokenRequest<'_>,
    ) -> Result<IssuedAccessToken, jsonwebtoken::errors::Error> {
        let t = now();
        let claims = AccessTokenClaims {
            iss: self.settings().issuer.clone(),
            sub: match &req.subject {
                Subject::User(id) => id.to_string(),
                Subject::Credential => req.client_id.to_owned(),
            },
            aud: self.settings().audience().to_owned(),
            exp: t + req.ttl,
            iat: t,
            nbf: t,
            jti: opaque_id("at_"),
            client_id: req.client_id.to_owned(),
            scope: req.scope.to_string(),
            account: req.account.to_string(),
            sid: req.grant_id.map(str::to_owned),
            api_key: req.api_key.map(str::to_owned),
            origin: req.origin.map(str::to_owned),
            act: req.act,
        };
        let token = self.keyring().current().signer.access_tokens.sign(&claims)?;
        Ok(IssuedAccessToken { token, claims })
    }

    /// Checks signature, key, algorithm, type, time, issuer and audience, without asking the store.
    pub async fn verify_access_token_signature(
        &self,
        token: &str,
    ) -> Result<Arc<AccessTokenClaims>, TokenRejection> {
        let t = now();
        if let Some(known) = self.verified_before(token.as_bytes(), t) {
            return known.and_then(|v| v.principal.claims.clone().ok_or(TokenRejection::BadClaims));
        }
        self.verify_signature(token).await.map(|(_, claims)| claims)
    }

    /// The caller of a token whose signature was verified before, if the cache of verified tokens
    /// still holds it and its key is still in the keyring.
    fn verified_before(&self, token: &[u8], t: i64) -> Option<Result<Arc<Verified>, TokenRejection>> {
        let keys = self.keyring().current();
        self.verified_tokens().get(
            token,
            |kid| keys.verifiers.contains_key(kid),
            t,
            self.settings().leeway.max(0),
        )
    }

    /// The full signature and claims check (jsonwebtoken reads the clock): the key id and the claims.
    async fn verify_signature(
        &self,
        token: &str,
    ) -> Result<(String, Arc<AccessTokenClaims>), TokenRejection> {
        let settings = self.settings();
        let header = decode_header(token).map_err(|_| TokenRejection::Malformed)?;
        // RFC 9068 §4: `at+jwt`, or the full media type `application/at+jwt`, case-insensitively.
        let typ = header
            .typ
            .as_deref()
            .map(str::to_ascii_lowercase)
            .unwrap_or_default();
        if typ.strip_prefix("application/").unwrap_or(&typ) != ACCESS_TOKEN_TYP {
            return Err(TokenRejection::WrongType);
        }
        let kid = header.kid.ok_or(TokenRejection::UnknownKey)?;
        let mut keys = self.keyring().current();
        if !keys.verifiers.contains_key(&kid) && self.keyring().reload_for_unknown_kid().await {
            keys = self.keyring().current();
        }
        let verifier = keys.verifiers.get(&kid).ok_or(TokenRejection::UnknownKey)?;
        // The algorithm is pinned by the key, never taken from the token: no `none`, no confusion.
        if header.alg != verifier.algorithm {
            return Err(TokenRejection::WrongAlgorithm);
        }
        let mut validation = Validation::new(verifier.algorithm);
        validation.leeway = settings.leeway.max(0) as u64;
        validation.validate_nbf = true;
        validation.set_issuer(&[&settings.issuer]);
        validation.set_audience(&[settings.audience()]);
        validation.set_required_spec_claims(&["exp", "nbf", "iss", "aud", "sub"]);
        let claims = decode::<AccessTokenClaims>(token, &verifier.key, &validation)
            .map(|d| Arc::new(d.claims))
            .map_err(|e| {
                use jsonwebtoken::errors::ErrorKind as K;
                match e.kind() {
                    K::InvalidSignature => TokenRejection::BadSignature,
                    K::ExpiredSignature => TokenRejection::Expired,
                    K::ImmatureSignature => TokenRejection::NotYetValid,
                    K::InvalidIssuer => TokenRejection::WrongIssuer,
                    K::InvalidAudience => TokenRejection::WrongAudience,
                    K::InvalidAlgorithm => TokenRejection::WrongAlgorithm,
                    K::Json(_) | K::MissingRequiredClaim(_) => TokenRejection::BadClaims,
                    _ => TokenRejection::Malformed,
                }
            })?;
        Ok((kid, claims))
    }

    /// The full check a resource server makes: signature and claims, then revocation and the status of
    /// the grant, app, account and user, so a revocation or suspension takes effect on the next request.
    /// The caller is shared with the cache of verified tokens: a hot token's caller is never copied.
    pub async fn validate_access_token(&self, token: &str) -> Result<Arc<Principal>, TokenRejection> {
        self.validate_token_bytes(token.as_bytes()).await
    }

    /// [`Keygate::validate_access_token`] of a token as a request brought it: checked as UTF-8 only when
    /// its signature has to be verified.
    async fn validate_token_bytes(&self, token: &[u8]) -> Result<Arc<Principal>, TokenRejection> {
        let t = now();
        let (p, verified) = match self.verified_before(token, t) {
            Some(known) => {
                let verified = known?;
                (verified.principal.clone(), Some(verified))
            }
            None => {
                let text = std::str::from_utf8(token).map_err(|_| TokenRejection::Malformed)?;
                let (kid, claims) = self.verify_signature(text).await?;
                let p = Arc::new(Principal::from_claims(claims)?);
                let verified = self.verified_tokens().insert(token, kid, &p);
                (p, verified)
            }
        };
        let store = self.store();
        if let (Some(verified), Some(epoch)) = (&verified, store.credentials_epoch()) {
            if verified.still_live(epoch, t) {
                return Ok(p);
            }
        }
        let Some(claims) = p.claims.as_deref() else {
            return Err(TokenRejection::BadClaims);
        };
        let credential_ref = match &p.credential {
            Credential::App(id) => CredentialRef::App {
                client_id: id.as_str(),
                grant_id: claims.sid.as_deref(),
            },
            Credential::ApiKey(id) => CredentialRef::ApiKey {
                key_id: id.as_str(),
                session_id: claims.sid.as_deref().ok_or(TokenRejection::BadClaims)?,
            },
            Credential::DomainKey { id, api_key } => CredentialRef::DomainKey {
                domain_key_id: id.as_str(),
                key_id: api_key.as_str(),
                session_id: claims.sid.as_deref().ok_or(TokenRejection::BadClaims)?,
            },
            Credential::Portal(session) => CredentialRef::PortalSession {
                session_id: session,
                idle_timeout: self.portal_settings().idle_timeout,
            },
            // Never in a token: these are presented with each request.
            Credential::LegacyKey(_) | Credential::Basic(_) => return Err(TokenRejection::BadClaims),
        };
        let (liveness, lease) = store
            .leased_liveness(&LivenessQuery {
                jti: &claims.jti,
                credential: credential_ref,
                account: &claims.account,
                user_id: p.user_id.as_ref().map(UserId::as_str),
                now: t,
            })
            .await?;
        if liveness != Liveness::Live {
            return Err(TokenRejection::Revoked(liveness));
        }
        if let (Some(verified), Some(lease)) = (verified, lease) {
            verified.keep_live(lease);
        }
        Ok(p)
    }

    /// [`Keygate::validate_access_token`] plus the browser rules, for a request that came with `origin`
    /// (`None` for server-to-server calls). A domain-key token works only from the origin it was issued
    /// to, and never without one. From any other web origin than Keygate's own (`own_origin`), an app's
    /// token needs that origin among the app's allowed origins, and an API-key token is refused: its
    /// secret belongs on a server.
    pub async fn validate_for_request(
        &self,
        token: &[u8],
        origin: Option<&str>,
        own_origin: &str,
    ) -> Result<Arc<Principal>, TokenRejection> {
        let p = self.validate_token_bytes(token).await?;
        if let Some(bound) = p.claims.as_ref().and_then(|c| c.origin.as_ref()) {
            return if origin == Some(bound.as_str()) {
                Ok(p)
            } else {
                Err(TokenRejection::OriginMismatch)
            };
        }
        let Some(origin) = origin.filter(|o| *o != own_origin) else {
            return Ok(p);
        };
        let allowed = match &p.credential {
            Credential::App(id) => self.store().get_app(id).await?.is_some_and(|app| {
                app.allowed_origins
                    .iter()
                    .any(|o| OriginPattern::parse(o).is_ok_and(|o| o.matches(origin)))
            }),
            // The explorer's tokens are for the portal's own pages.
            Credential::ApiKey(_)
            | Credential::Portal(_)
            | Credential::DomainKey { .. }
            | Credential::LegacyKey(_)
            | Credential::Basic(_) => false,
        };
        if allowed {
            Ok(p)
        } else {
            Err(TokenRejection::OriginNotAllowed)
        }
    }

    /// Whether browsers may call Keygate from `origin`: it matches an active app's or domain key's origins.
    pub async fn origin_allowed(&self, origin: &str) -> Result<bool, StoreError> {
        let patterns = self.store().allowed_origin_patterns().await?;
        Ok(patterns
            .iter()
            .any(|p| OriginPattern::parse(p).is_ok_and(|p| p.matches(origin))))
    }
}
