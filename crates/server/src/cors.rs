//! CORS, denied by default. Browsers may call Keygate only from allow-listed origins: those of active
//! developer apps, those of active domain keys, and Keygate's own (the portal). Anything else, preflight
//! or actual request, is answered 403 `{"error": "cors_origin_denied", "message": "CORS origin denied"}`
//! before any handler runs.
//!
//! Written here rather than with tower-http's `CorsLayer` because the allow-list lives in the store and
//! changes at runtime, and a refusal must be a clear JSON 403 rather than a response without headers.

use axum::extract::Request;
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::error::Problem;
use crate::json::Json;
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

/// What the CORS check decided before any handler ran.
pub enum Decision {
    /// The handler runs. With an allowed origin, [`expose`] decorates its answer; without one, the
    /// request had no `Origin` (servers, curl, same-origin GETs): not a browser's cross-origin call.
    Pass(Option<HeaderValue>),
    /// Answered here: a refusal, or a preflight's answer.
    Answer(Response),
}

/// An origin that only the store's allow-list can judge.
pub struct Lookup {
    origin: HeaderValue,
    preflight: bool,
}

/// Decides without the store when it can (no `Origin`, an unreadable one, the portal's own); `Err` when
/// the allow-list must be read.
pub fn check(s: &AppState, req: &Request) -> Result<Decision, Lookup> {
    let Some(origin) = req.headers().get(header::ORIGIN) else {
        return Ok(Decision::Pass(None));
    };
    let preflight =
        req.method() == Method::OPTIONS && req.headers().contains_key(header::ACCESS_CONTROL_REQUEST_METHOD);
    let Ok(origin_str) = origin.to_str() else {
        return Ok(Decision::Answer(denied()));
    };
    if origin_str == s.own_origin.as_ref() {
        return Ok(allowed(origin.clone(), preflight));
    }
    Err(Lookup {
        origin: origin.clone(),
        preflight,
    })
}

impl Lookup {
    pub async fn decide(self, s: &AppState) -> Decision {
        // `to_str` succeeded in `check`; a failure here would be a bug, answered as a refusal.
        let Ok(origin_str) = self.origin.to_str() else {
            return Decision::Answer(denied());
        };
        match s.keygate.origin_allowed(origin_str).await {
            Ok(true) => allowed(self.origin, self.preflight),
            Ok(false) => {
                tracing::debug!(origin = origin_str, "CORS origin denied");
                Decision::Answer(denied())
            }
            Err(e) => Decision::Answer(Problem::internal(e).into_response()),
        }
    }
}

fn allowed(origin: HeaderValue, preflight: bool) -> Decision {
    if !preflight {
        return Decision::Pass(Some(origin));
    }
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
    allow_origin(&mut res, origin);
    Decision::Answer(res)
}

/// The headers of an allowed actual request's answer.
pub fn expose(res: &mut Response, origin: HeaderValue) {
    res.headers_mut().insert(
        header::ACCESS_CONTROL_EXPOSE_HEADERS,
        HeaderValue::from_static(EXPOSE_HEADERS),
    );
    allow_origin(res, origin);
}

fn allow_origin(res: &mut Response, origin: HeaderValue) {
    let h = res.headers_mut();
    // The caller's own origin, never `*`; caches must keep answers per origin.
    h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
    h.insert(header::VARY, HeaderValue::from_static("Origin"));
}
