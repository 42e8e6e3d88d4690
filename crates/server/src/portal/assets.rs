//! The portal's stylesheet and scripts, compiled into the binary: nothing is fetched from elsewhere.

use axum::http::{header, HeaderValue};
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;

use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/portal/assets/portal.css",
            get(|| asset("text/css; charset=utf-8", include_str!("assets/portal.css"))),
        )
        .route(
            "/portal/assets/portal.js",
            get(|| asset(JS, include_str!("assets/portal.js"))),
        )
        .route(
            "/portal/assets/explorer.js",
            get(|| asset(JS, include_str!("assets/explorer.js"))),
        )
}

const JS: &str = "text/javascript; charset=utf-8";

async fn asset(content_type: &'static str, body: &'static str) -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(content_type)),
            (
                header::CACHE_CONTROL,
                HeaderValue::from_static("public, max-age=300"),
            ),
            (
                header::X_CONTENT_TYPE_OPTIONS,
                HeaderValue::from_static("nosniff"),
            ),
        ],
        body,
    )
}
