//! CORS, denied by default. Browsers may call Keygate only from allow-listed origins: those of active
//! developer apps, those of active domain keys, and Keygate's own (the portal). Anything else, preflight
//! or actual request, is answered 403 `{"error": "cors_origin_denied", "message": "CORS origin denied"}`
//! before any handler runs.
//!
//! Written here rather than with tower-http's `CorsLayer` because the allow-list lives in the store and
//! changes at runtime, and a refusal must be a clear JSON 403 rather than a response without headers.

use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;

use crate::error::Problem;
use crate::state::AppState;

/// Only the methods and request headers the API uses.
const ALLOW_METHODS: &str = "GET, POST, PUT, PATCH, DELETE";
const ALLOW_HEADERS: &str = "Authorization, Content-Type, X-Api-Key, X-Legacy-Key, If-Match, If-None-Match";
const EXPOSE_HEADERS: &str =
    "ETag, Location, Retry-After, RateLimit-Limit, RateLimit-Remaining, RateLimit-Reset, Deprecation, Sunset, WWW-Authenticate";
const PREFLIGHT_MAX_AGE: &str = "600";

pub fn denied() -> Response {
    let mut res = (
        StatusCode::FORBIDDEN,
        Json(json!({"error": "cors_origin_denied", "message": "CORS origin denied"})),
    )
        .into_response();
    res.headers_mut()
        .insert(header::VARY, HeaderValue::from_static("Origin"));
    res
}

pub async fn cors(State(s): State<AppState>, req: Request, next: Next) -> Response {
    let Some(origin) = req.headers().get(header::ORIGIN).cloned() else {
        // Not a browser's cross-origin call (servers, curl, same-origin GETs): nothing to decide.
        return next.run(req).await;
    };
    let preflight =
        req.method() == Method::OPTIONS && req.headers().contains_key(header::ACCESS_CONTROL_REQUEST_METHOD);
    let Ok(origin_str) = origin.to_str() else {
        return denied();
    };
    let allowed = if origin_str == s.own_origin.as_ref() {
        true
    } else {
        match s.keygate.origin_allowed(origin_str).await {
            Ok(allowed) => allowed,
            Err(e) => return Problem::internal(e).into_response(),
        }
    };
    if !allowed {
        tracing::debug!(origin = origin_str, "CORS origin denied");
        return denied();
    }
    let mut res = if preflight {
        let mut res = StatusCode::NO_CONTENT.into_response();
        let h = res.headers_mut();
        h.insert(
            header::ACCESS_CONTROL_ALLOW_METHODS,
            HeaderValue::from_static(ALLOW_METHODS),
        );
        h.insert(
            header::ACCESS_CONTROL_ALLOW_HEADERS,
            HeaderValue::from_static(ALLOW_HEADERS),
        );
        h.insert(
            header::ACCESS_CONTROL_MAX_AGE,
            HeaderValue::from_static(PREFLIGHT_MAX_AGE),
        );
        res
    } else {
        let mut res = next.run(req).await;
        res.headers_mut().insert(
            header::ACCESS_CONTROL_EXPOSE_HEADERS,
            HeaderValue::from_static(EXPOSE_HEADERS),
        );
        res
    };
    let h = res.headers_mut();
    // The caller's own origin, never `*`; caches must keep answers per origin.
    h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
    h.insert(header::VARY, HeaderValue::from_static("Origin"));
    res
}
