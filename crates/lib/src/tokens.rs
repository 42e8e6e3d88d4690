//! Access tokens: issuing them, and the one validator every protected endpoint uses.

use jsonwebtoken::{decode, decode_header, encode, Header, Validation};
use keygate_core::claims::{AccessTokenClaims, ACCESS_TOKEN_TYP};
use keygate_core::ids::{opaque_id, AccountName, ClientId, UserId};
use keygate_core::scope::ScopeSet;
use keygate_core::time::now;
use keygate_store::{Liveness, LivenessQuery, StoreError};

use crate::Keygate;

/// Who a token acts as.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Subject {
    User(UserId),
    /// The app itself, for its owner account (client_credentials).
    App,
}

pub struct AccessTokenRequest<'a> {
    pub client_id: &'a ClientId,
    pub account: &'a AccountName,
    pub subject: Subject,
    pub scope: &'a ScopeSet,
    pub grant_id: Option<&'a str>,
    pub ttl: i64,
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
    #[error("the token's claims are invalid")]
    BadClaims,
    #[error("token validation failed: {0}")]
    Store(#[from] StoreError),
}

/// A validated access token: the caller of a protected endpoint.
#[derive(Debug, Clone)]
pub struct Principal {
    pub claims: AccessTokenClaims,
    pub account: AccountName,
    pub client_id: ClientId,
    pub user_id: Option<UserId>,
    pub scope: ScopeSet,
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
                Subject::App => req.client_id.to_string(),
            },
            aud: self.settings().audience().to_owned(),
            exp: t + req.ttl,
            iat: t,
            nbf: t,
            jti: opaque_id("at_"),
            client_id: req.client_id.to_string(),
            scope: req.scope.to_string(),
            account: req.account.to_string(),
            sid: req.grant_id.map(str::to_owned),
        };
        let keys = self.keyring().current();
        let mut header = Header::new(keys.signer.algorithm);
        header.kid = Some(keys.signer.kid.clone());
        header.typ = Some(ACCESS_TOKEN_TYP.to_owned());
        let token = encode(&header, &claims, &keys.signer.key)?;
        Ok(IssuedAccessToken { token, claims })
    }

    /// Checks signature, key, algorithm, type, time, issuer and audience, without asking the store.
    pub async fn verify_access_token_signature(
        &self,
        token: &str,
    ) -> Result<AccessTokenClaims, TokenRejection> {
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
        let settings = self.settings();
        let mut validation = Validation::new(verifier.algorithm);
        validation.leeway = settings.leeway.max(0) as u64;
        validation.validate_nbf = true;
        validation.set_issuer(&[&settings.issuer]);
        validation.set_audience(&[settings.audience()]);
        validation.set_required_spec_claims(&["exp", "nbf", "iss", "aud", "sub"]);
        decode::<AccessTokenClaims>(token, &verifier.key, &validation)
            .map(|d| d.claims)
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
            })
    }

    /// The full check a resource server makes: signature and claims, then revocation and the status of
    /// the grant, app, account and user, so a revocation or suspension takes effect on the next request.
    pub async fn validate_access_token(&self, token: &str) -> Result<Principal, TokenRejection> {
        let claims = self.verify_access_token_signature(token).await?;
        let account = AccountName::parse(&claims.account).map_err(|_| TokenRejection::BadClaims)?;
        let client_id = ClientId::parse(&claims.client_id).map_err(|_| TokenRejection::BadClaims)?;
        let scope = ScopeSet::parse(&claims.scope).map_err(|_| TokenRejection::BadClaims)?;
        let user_id = if claims.sub == claims.client_id {
            None
        } else {
            Some(UserId::parse(&claims.sub).map_err(|_| TokenRejection::BadClaims)?)
        };
        let liveness = self
            .store()
            .liveness(&LivenessQuery {
                jti: &claims.jti,
                grant_id: claims.sid.as_deref(),
                client_id: &claims.client_id,
                account: &claims.account,
                user_id: user_id.as_ref().map(UserId::as_str),
            })
            .await?;
        if liveness != Liveness::Live {
            return Err(TokenRejection::Revoked(liveness));
        }
        Ok(Principal {
            claims,
            account,
            client_id,
            user_id,
            scope,
        })
    }
}
