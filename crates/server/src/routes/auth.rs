//! `POST /auth` and `POST /auth/refresh`: API keys exchanged for access tokens (server-side
//! integrations). Errors are problem details with a short `error` code clients can branch on.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use keygate_lib::auth::{AuthError, AuthToken};
use keygate_lib::lockout::Attempt;
use serde::Deserialize;
use utoipa::ToSchema;

use crate::caller::bearer_token;
use crate::client_addr::ClientAddr;
use crate::error::{no_store, refusal, Problem};
use crate::extract::parse_form;
use crate::json::Json;
use crate::openapi::{examples, responses as r};
use crate::routes::table::Routes;
use crate::state::AppState;

pub fn router() -> Routes {
    Routes::new().post("/auth", auth).post("/auth/refresh", refresh)
}

pub const API_KEY_HEADER: &str = "x-api-key";

/// Exactly one of `secret` (servers) and `domain_key` (browsers), as JSON or as a form.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AuthBody {
    /// The API key's secret (`kgsk_…`).
    secret: Option<String>,
    /// A domain key (`kgd_…`) bound to the API key; the request's `Origin` must be one of its origins.
    domain_key: Option<String>,
}

fn api_key(headers: &HeaderMap) -> Result<&str, Problem> {
    headers
        .get(API_KEY_HEADER)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .ok_or_else(|| {
            let mut p = Problem::new(
                StatusCode::UNAUTHORIZED,
                "invalid-credentials",
                "Invalid credentials",
                "the X-Api-Key header is required",
            );
            p.code = Some("invalid_credentials");
            p
        })
}

/// The body as JSON or as a form, whichever its content type says.
fn auth_body(headers: &HeaderMap, body: &[u8]) -> Result<AuthBody, Problem> {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let media = content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    match media.as_str() {
        "application/json" => {
            serde_json::from_slice(body).map_err(|e| Problem::bad_request(format!("invalid JSON body: {e}")))
        }
        "application/x-www-form-urlencoded" => {
            let mut form = parse_form(body).map_err(Problem::bad_request)?;
            let secret = form.remove("secret");
            let domain_key = form.remove("domain_key");
            if let Some(unknown) = form.keys().next() {
                return Err(Problem::bad_request(format!("unknown field {unknown}")));
            }
            Ok(AuthBody { secret, domain_key })
        }
        _ => Err(Problem::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported-media-type",
            "Unsupported media type",
            "send the body as application/json or application/x-www-form-urlencoded",
        )),
    }
}

fn request_origin(headers: &HeaderMap) -> Option<&str> {
    headers.get(header::ORIGIN).and_then(|v| v.to_str().ok())
}

fn auth_problem(e: AuthError) -> Problem {
    let (status, kind, title, code) = match &e {
        AuthError::InvalidCredentials | AuthError::AmbiguousUser => (
            StatusCode::UNAUTHORIZED,
            "invalid-credentials",
            "Invalid credentials",
            "invalid_credentials",
        ),
        AuthError::AccountSuspended | AuthError::UserSuspended => {
            (StatusCode::FORBIDDEN, "suspended", "Suspended", "suspended")
        }
        AuthError::TokenExpired => (
            StatusCode::UNAUTHORIZED,
            "token-expired",
            "Token expired",
            "token_expired",
        ),
        AuthError::SessionExpired => (
            StatusCode::UNAUTHORIZED,
            "session-expired",
            "Session expired",
            "session_expired",
        ),
        AuthError::InvalidToken(_) => (
            StatusCode::UNAUTHORIZED,
            "invalid-token",
            "Invalid token",
            "invalid_token",
        ),
        AuthError::WrongOrigin(_) => (
            StatusCode::FORBIDDEN,
            "origin-not-allowed",
            "Origin not allowed",
            "origin_not_allowed",
        ),
        AuthError::Store(_) | AuthError::Signing(_) => return Problem::internal(e),
    };
    let mut p = Problem::new(status, kind, title, e.to_string());
    p.code = Some(code);
    p
}

/// Exchanges an API key or a domain key for an access token.
///
/// Exchanges an API key (`X-Api-Key`) and its secret, or a domain key, for an access token, starting a
/// key session. Errors carry an `error` code: `invalid_credentials`, `suspended`, `origin_not_allowed`,
/// `rate_limited`, `locked_out`.
#[utoipa::path(
    post,
    path = "/auth",
    tag = "auth",
    request_body(content(
        (AuthBody = "application/json", example = json!({"secret": "kgsk_4fJq8sT2vW9xZ1bC3dE5gH7k"})),
        (AuthBody = "application/x-www-form-urlencoded"),
    )),
    security(("apiKey" = [])),
    responses(
        (status = 200, description = "An access token", body = AuthToken, headers(
            ("Cache-Control" = String, description = "`no-store`"),
        ), example = json!(examples::auth_token())),
        (status = 400, response = r::BadRequest),
        (status = 401, description = "The key, secret or domain key is wrong or revoked (`invalid_credentials`)", body = crate::error::ProblemBody, content_type = "application/problem+json"),
        (status = 403, response = r::Forbidden),
        (status = 415, description = "The body is neither JSON nor a form", body = crate::error::ProblemBody, content_type = "application/problem+json"),
        (status = 429, response = r::TooManyRequests),
    )
)]
pub(crate) async fn auth(
    State(s): State<AppState>,
    ClientAddr(addr): ClientAddr,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, Problem> {
    let key = api_key(&headers)?;
    s.rate_limits.check("api_key", key)?;
    let body = auth_body(&headers, &body)?;
    let origin = request_origin(&headers);
    let kg = &s.keygate;
    let guess = |e: &AuthError| matches!(e, AuthError::InvalidCredentials);
    let token = match (body.secret, body.domain_key) {
        (Some(secret), None) => {
            let attempt = Attempt::from(addr).api_key(key);
            kg.guarded(&attempt, kg.exchange_api_key(key, &secret), guess)
                .await
        }
        // Domain keys are public, and so is the API key beside them in a web page: failures here are
        // charged to the address alone, so nobody can lock a site's visitors out by naming its key.
        (None, Some(domain_key)) => {
            let attempt = Attempt::from(addr);
            kg.guarded(&attempt, kg.exchange_domain_key(key, &domain_key, origin), guess)
                .await
        }
        (Some(_), Some(_)) => {
            return Err(Problem::bad_request(
                "send either the key's secret or a domain key, never both",
            ));
        }
        (None, None) => {
            let mut p = Problem::bad_request(
                "the body must carry the key's secret (servers) or a domain key (browsers)",
            );
            p.field = Some("secret");
            return Err(p);
        }
    }
    .map_err(|g| refusal(g, auth_problem))?;
    Ok((no_store(), Json(token)).into_response())
}

/// Renews the access token of a key session.
///
/// Renews an access token of a key session (the current token as `Authorization: Bearer`, with the
/// key as `X-Api-Key`), until the session's maximum length. Errors carry an `error` code:
/// `invalid_token`, `token_expired`, `session_expired`, `invalid_credentials`, `suspended`,
/// `origin_not_allowed`, `rate_limited`.
#[utoipa::path(
    post,
    path = "/auth/refresh",
    tag = "auth",
    security(("apiKey" = [], "bearer" = [])),
    responses(
        (status = 200, description = "A new access token", body = AuthToken, headers(
            ("Cache-Control" = String, description = "`no-store`"),
        ), example = json!(examples::auth_token())),
        (status = 401, description = "The token or key is invalid, or the session is over", body = crate::error::ProblemBody, content_type = "application/problem+json"),
        (status = 403, response = r::Forbidden),
        (status = 429, response = r::TooManyRequests),
    )
)]
pub(crate) async fn refresh(State(s): State<AppState>, headers: HeaderMap) -> Result<Response, Problem> {
    let key = api_key(&headers)?;
    s.rate_limits.check("api_key", key)?;
    let Some(token) = bearer_token(&headers) else {
        let mut p = Problem::new(
            StatusCode::UNAUTHORIZED,
            "invalid-token",
            "Invalid token",
            "send the current access token as Authorization: Bearer",
        );
        p.code = Some("invalid_token");
        return Err(p);
    };
    let token = s
        .keygate
        .refresh_api_key_token(key, token, request_origin(&headers), &s.own_origin)
        .await
        .map_err(auth_problem)?;
    Ok((no_store(), Json(token)).into_response())
}
