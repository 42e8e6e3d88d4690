//! Discovery documents and the JWKS.

use axum::extract::State;
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};

use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/.well-known/oauth-authorization-server", get(metadata))
        .route("/.well-known/openid-configuration", get(metadata))
        .route("/.well-known/jwks.json", get(jwks))
}

async fn metadata(State(s): State<AppState>) -> Json<serde_json::Value> {
    Json(s.keygate.metadata())
}

async fn jwks(State(s): State<AppState>) -> Response {
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
