//! The API explorer: the OpenAPI document rendered in the page, with "Try it" calling the API as the
//! signed-in user. Same origin, so CORS lets it through; the token it uses dies with the session.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use serde_json::json;

use super::extract::{CheckedForm, SignedIn};
use super::ui::{self, esc};
use crate::json::Json;
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/portal/explorer", get(page))
        .route("/portal/explorer/token", post(token))
}

async fn page(SignedIn(ctx): SignedIn) -> Response {
    let body = format!(
        "<h1>API explorer</h1>\
         <p class=\"lead\">Every endpoint of the API, from <a href=\"/openapi.json\"><code>/openapi.json</code></a>. \
         <strong>Try it</strong> sends a real request as you, <code>{email}</code>, with the scopes your role allows; \
         what it changes is really changed. The admin API takes an admin token instead, so it is listed but not callable here.</p>\
         <div id=\"explorer\" data-spec=\"/openapi.json\" data-token=\"/portal/explorer/token\" data-csrf=\"{csrf}\">\
         <p class=\"hint\" id=\"explorer-loading\">Loading the API description…</p></div>\
         <noscript><p class=\"error\">The explorer needs JavaScript. The description itself is at \
         <a href=\"/openapi.json\">/openapi.json</a>.</p></noscript>",
        email = esc(&ctx.user.user.email),
        csrf = esc(&ctx.csrf),
    );
    ui::page_with(
        StatusCode::OK,
        &ctx,
        "API explorer",
        "/portal/explorer",
        &body,
        &["explorer.js"],
    )
}

/// A short-lived access token for the explorer's requests (a POST with the page's CSRF token, so no
/// other site can have one minted).
async fn token(SignedIn(ctx): SignedIn, _form: CheckedForm) -> Response {
    match ctx.kg().explorer_token(&ctx.user) {
        Ok(issued) => {
            let expires_in = issued.claims.exp - issued.claims.iat;
            let mut res = Json(json!({
                "access_token": issued.token,
                "token_type": "Bearer",
                "expires_in": expires_in,
                "scope": issued.claims.scope,
            }))
            .into_response();
            res.headers_mut()
                .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            res
        }
        Err(e) => ui::failure(e),
    }
}
