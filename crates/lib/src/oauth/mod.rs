//! The OAuth 2 protocol: authorization requests, client authentication, grants, revocation,
//! introspection and server metadata. HTTP-free; the server maps these to endpoints.

pub mod assertion;
pub mod authorize;
pub mod client_auth;
pub mod exchange;
pub mod grants;
pub mod introspect;
pub mod metadata;
mod tickets;

use serde::Serialize;

/// RFC 6749 §5.1 token response.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TokenResponse {
    pub access_token: String,
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub token_type: &'static str,
    pub expires_in: i64,
    pub scope: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
}
