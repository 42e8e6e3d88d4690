//! Schemas of what the server sends or accepts where no Rust type carries it: form bodies the handlers
//! read parameter by parameter, and JSON built elsewhere (discovery, the JWKS). Types for the document
//! only; the integration tests check them against the live server.
#![allow(dead_code)]

use keygate_lib::oauth::exchange::ExchangeResponse;
use keygate_lib::oauth::TokenResponse;
use serde::Serialize;
use utoipa::openapi::schema::{AnyOfBuilder, Schema};
use utoipa::openapi::{Ref, RefOr};
use utoipa::{PartialSchema, ToSchema};

/// RFC 6749 §5.2 error codes (and `access_denied`, `unsupported_response_type` of §4.1.2.1, sent in
/// redirects).
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum OAuthErrorCode {
    InvalidRequest,
    InvalidClient,
    InvalidGrant,
    UnauthorizedClient,
    UnsupportedGrantType,
    InvalidScope,
    AccessDenied,
    UnsupportedResponseType,
    ServerError,
    TemporarilyUnavailable,
}

/// The kind of credential a caller came with (`GET /v1/me`).
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CredentialKind {
    OauthApp,
    ApiKey,
    DomainKey,
    LegacyKey,
    Basic,
}

/// RFC 8414 authorization server metadata (also the OpenID discovery document).
#[derive(ToSchema)]
pub struct ServerMetadata {
    issuer: String,
    authorization_endpoint: String,
    token_endpoint: String,
    revocation_endpoint: String,
    introspection_endpoint: String,
    jwks_uri: String,
    response_types_supported: Vec<String>,
    response_modes_supported: Vec<String>,
    grant_types_supported: Vec<String>,
    token_endpoint_auth_methods_supported: Vec<String>,
    revocation_endpoint_auth_methods_supported: Vec<String>,
    introspection_endpoint_auth_methods_supported: Vec<String>,
    code_challenge_methods_supported: Vec<String>,
    scopes_supported: Vec<String>,
    /// Not registered in RFC 8414: the algorithms access tokens may be signed with.
    access_token_signing_alg_values_supported: Vec<String>,
    id_token_signing_alg_values_supported: Vec<String>,
    authorization_response_iss_parameter_supported: bool,
    subject_types_supported: Vec<String>,
}

/// RFC 7517 JWK Set: the public keys access tokens are signed with (`current`, `next`, and `retired`
/// ones still within the life of tokens they signed).
#[derive(ToSchema)]
pub struct Jwks {
    keys: Vec<Jwk>,
}

/// A public signing key: EC P-256 (`ES256`), OKP Ed25519 (`EdDSA`) or RSA (`RS256`).
#[derive(ToSchema)]
pub struct Jwk {
    #[schema(example = "EC")]
    kty: String,
    kid: String,
    #[schema(example = "ES256")]
    alg: String,
    #[schema(example = "sig")]
    r#use: String,
    /// EC and OKP keys.
    crv: Option<String>,
    x: Option<String>,
    /// EC keys.
    y: Option<String>,
    /// RSA keys.
    n: Option<String>,
    e: Option<String>,
}

/// The token request (`application/x-www-form-urlencoded`), by `grant_type`. A confidential client
/// authenticates with HTTP Basic (`client_secret_basic`) or with `client_id` and `client_secret` in the
/// body (`client_secret_post`), never both; a public client sends `client_id` alone. A parameter sent
/// without a value counts as absent; one sent twice is an error.
#[derive(Serialize, ToSchema)]
#[serde(tag = "grant_type")]
pub enum TokenRequest {
    /// RFC 6749 §4.1.3 (with PKCE, RFC 7636).
    #[serde(rename = "authorization_code")]
    AuthorizationCode {
        code: String,
        /// Required when the authorization request had one.
        redirect_uri: Option<String>,
        /// Required when the authorization request had a `code_challenge`.
        code_verifier: Option<String>,
        client_id: Option<String>,
        client_secret: Option<String>,
    },
    /// RFC 6749 §6. The refresh token is rotated: the response carries a new one.
    #[serde(rename = "refresh_token")]
    RefreshToken {
        refresh_token: String,
        /// Space-separated; at most the scope of the grant.
        scope: Option<String>,
        client_id: Option<String>,
        client_secret: Option<String>,
    },
    /// RFC 6749 §4.4: the app acts as its owner account.
    #[serde(rename = "client_credentials")]
    ClientCredentials {
        scope: Option<String>,
        client_id: Option<String>,
        client_secret: Option<String>,
    },
    /// RFC 7523: a JWT signed by an API key (its id as `iss` and `sub`) is the credential; no client
    /// authentication.
    #[serde(rename = "urn:ietf:params:oauth:grant-type:jwt-bearer")]
    JwtBearer { assertion: String },
    /// RFC 8693 impersonation: an access token with the `impersonate` scope is exchanged for one acting
    /// as a user of its account. Client authentication is optional; when sent, the token must be the
    /// client's own.
    #[serde(rename = "urn:ietf:params:oauth:grant-type:token-exchange")]
    TokenExchange {
        subject_token: String,
        /// `urn:ietf:params:oauth:token-type:access_token` when sent.
        subject_token_type: Option<String>,
        /// A user id, or an email within the caller's account.
        requested_subject: String,
        scope: Option<String>,
        client_id: Option<String>,
        client_secret: Option<String>,
    },
}

/// The token endpoint's answer: RFC 6749 §5.1, or RFC 8693 §2.2.1 for a token exchange. By hand, as
/// `anyOf`: an exchange response also has every field of a token response, so `oneOf` would refuse it.
pub struct TokenEndpointResponse;

impl PartialSchema for TokenEndpointResponse {
    fn schema() -> RefOr<Schema> {
        AnyOfBuilder::new()
            .item(Ref::from_schema_name(TokenResponse::name()))
            .item(Ref::from_schema_name(ExchangeResponse::name()))
            .description(Some(
                "RFC 6749 §5.1 tokens, or RFC 8693 §2.2.1 for a token exchange (with `issued_token_type`)",
            ))
            .into()
    }
}

impl ToSchema for TokenEndpointResponse {
    fn schemas(schemas: &mut Vec<(String, RefOr<Schema>)>) {
        schemas.push((TokenResponse::name().into(), TokenResponse::schema()));
        schemas.push((ExchangeResponse::name().into(), ExchangeResponse::schema()));
    }
}

/// RFC 7009 revocation or RFC 7662 introspection (`application/x-www-form-urlencoded`), with the same
/// client authentication as the token endpoint.
#[derive(ToSchema)]
pub struct TokenForm {
    /// An access token (JWT) or a refresh token of this client.
    token: String,
    /// Accepted and ignored: the token's form tells its type.
    token_type_hint: Option<String>,
    client_id: Option<String>,
    client_secret: Option<String>,
}

/// The sign-in form of the login page, with the authorization request repeated in hidden fields.
#[derive(ToSchema)]
pub struct LoginForm {
    /// The account name: two letters and three digits.
    #[schema(example = "ab123")]
    account: String,
    email: String,
    password: String,
    response_type: Option<String>,
    client_id: Option<String>,
    redirect_uri: Option<String>,
    scope: Option<String>,
    state: Option<String>,
    code_challenge: Option<String>,
    code_challenge_method: Option<String>,
}

/// The consent form: the signed ticket of the consent page and the user's decision.
#[derive(ToSchema)]
pub struct ConsentForm {
    ticket: String,
    decision: Decision,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Decision {
    Allow,
    Deny,
}

#[cfg(test)]
mod tests {
    use keygate_lib::OAuthErrorCode as Code;

    /// The documented codes are exactly the codes the server can send.
    #[test]
    fn oauth_error_codes_match() {
        let documented = |c: Code| {
            let doc = match c {
                Code::InvalidRequest => super::OAuthErrorCode::InvalidRequest,
                Code::InvalidClient => super::OAuthErrorCode::InvalidClient,
                Code::InvalidGrant => super::OAuthErrorCode::InvalidGrant,
                Code::UnauthorizedClient => super::OAuthErrorCode::UnauthorizedClient,
                Code::UnsupportedGrantType => super::OAuthErrorCode::UnsupportedGrantType,
                Code::InvalidScope => super::OAuthErrorCode::InvalidScope,
                Code::AccessDenied => super::OAuthErrorCode::AccessDenied,
                Code::UnsupportedResponseType => super::OAuthErrorCode::UnsupportedResponseType,
                Code::ServerError => super::OAuthErrorCode::ServerError,
                Code::TemporarilyUnavailable => super::OAuthErrorCode::TemporarilyUnavailable,
            };
            serde_json::to_value(doc).unwrap()
        };
        for c in [
            Code::InvalidRequest,
            Code::InvalidClient,
            Code::InvalidGrant,
            Code::UnauthorizedClient,
            Code::UnsupportedGrantType,
            Code::InvalidScope,
            Code::AccessDenied,
            Code::UnsupportedResponseType,
            Code::ServerError,
            Code::TemporarilyUnavailable,
        ] {
            assert_eq!(documented(c), c.as_str());
        }
    }
}
