//! Discovery documents and the JWKS.

use axum::extract::State;
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};

use crate::json::Json;
use crate::openapi::schemas::{Jwks, ServerMetadata};
use crate::routes::table::Routes;
use crate::state::AppState;

pub fn router() -> Routes {
    Routes::new()
        .get("/.well-known/oauth-authorization-server", metadata)
        .get("/.well-known/openid-configuration", openid_configuration)
        .get("/.well-known/jwks.json", jwks)
}

/// RFC 8414 authorization server metadata.
#[utoipa::path(
    get,
    path = "/.well-known/oauth-authorization-server",
    tag = "discovery",
    responses((status = 200, description = "The metadata", body = ServerMetadata))
)]
pub(crate) async fn metadata(State(s): State<AppState>) -> Json<serde_json::Value> {
    Json(s.keygate.metadata())
}

/// The same metadata, where OpenID Connect discovery looks for it.
#[utoipa::path(
    get,
    path = "/.well-known/openid-configuration",
    tag = "discovery",
    responses((status = 200, description = "The metadata", body = ServerMetadata))
)]
pub(crate) async fn openid_configuration(s: State<AppState>) -> Json<serde_json::Value> {
    metadata(s).await
}

/// The public keys access tokens are signed with: verify tokens offline with them.
#[utoipa::path(
    get,
    path = "/.well-known/jwks.json",
    tag = "discovery",
    responses((status = 200, description = "The JWK Set", body = Jwks, content_type = "application/jwk-set+json", headers(
        ("Cache-Control" = String, description = "`public, max-age=300`: short, so verifiers pick up a new key well before it signs"),
    )))
)]
pub(crate) async fn jwks(State(s): State<AppState>) -> Response {
    let keys = s.keygate.keyring().current();
    (
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/jwk-set+json"),
            ),
            // Short, so verifiers pick up a new `next` key well before it signs.
            (
                header::CACHE_CONTROL,
                HeaderValue::from_static("public, max-age=300"),
            ),
        ],
        keys.jwks.to_string(),
    )
        .into_response()
}
