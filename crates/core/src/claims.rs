//! The claims of a Keygate access token (RFC 9068 JWT profile).

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessTokenClaims {
    pub iss: String,
    /// The user id, or the client id for a client_credentials token (RFC 9068 §2.2).
    pub sub: String,
    pub aud: String,
    pub exp: i64,
    pub iat: i64,
    pub nbf: i64,
    pub jti: String,
    pub client_id: String,
    pub scope: String,
    /// The account (tenant) the token acts in.
    pub account: String,
    /// The grant (refresh-token family) this token came from; revoking the grant revokes the token.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sid: Option<String>,
    /// For tokens obtained with a domain key: the API key it is bound to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_key: Option<String>,
    /// For tokens obtained with a domain key: the only web origin that may present them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub origin: Option<String>,
    /// For impersonation tokens (RFC 8693 §4.1): who is really acting.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub act: Option<ActClaim>,
}

/// The party acting on behalf of `sub`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ActClaim {
    pub sub: String,
    pub client_id: String,
}

/// The JOSE `typ` of access tokens (RFC 9068 §2.1), checked on validation so an ID token or another
/// JWT signed by the same key can never pass as an access token.
pub const ACCESS_TOKEN_TYP: &str = "at+jwt";
