//! `GET /v1/me`: who the bearer of an access token is. The smallest protected resource, and the one
//! every credential type is tested against.

use axum::extract::FromRequestParts;
use axum::http::header;
use axum::http::request::Parts;
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use keygate_lib::tokens::{Principal, TokenRejection};
use serde_json::{json, Value};

use crate::error::Problem;
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new().route("/v1/me", get(me))
}

/// The token of an `Authorization: Bearer` header (RFC 6750 §2.1), if there is one.
pub fn bearer_token(headers: &axum::http::HeaderMap) -> Option<&str> {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, t)| t.trim())
}

/// A caller authenticated by a bearer access token (RFC 6750 §2.1), validated by the shared validator.
pub struct Bearer(pub Principal);

fn challenge(error: Option<&str>, description: &str) -> String {
    match error {
        Some(e) => format!("Bearer realm=\"keygate\", error=\"{e}\", error_description=\"{description}\""),
        None => "Bearer realm=\"keygate\"".into(),
    }
}

impl FromRequestParts<AppState> for Bearer {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, s: &AppState) -> Result<Self, Problem> {
        let token = bearer_token(&parts.headers);
        let Some(token) = token else {
            return Err(Problem::unauthorized(
                "an access token is required",
                challenge(None, ""),
            ));
        };
        let origin = parts.headers.get(header::ORIGIN).and_then(|v| v.to_str().ok());
        match s.keygate.validate_for_request(token, origin, &s.own_origin).await {
            Ok(p) => Ok(Bearer(p)),
            Err(TokenRejection::Store(e)) => Err(Problem::internal(e)),
            Err(e @ (TokenRejection::OriginMismatch | TokenRejection::OriginNotAllowed)) => {
                Err(Problem::new(
                    StatusCode::FORBIDDEN,
                    "origin-not-allowed",
                    "Origin not allowed",
                    e.to_string(),
                ))
            }
            Err(e) => {
                let detail = e.to_string();
                Err(Problem::unauthorized(
                    detail.clone(),
                    challenge(Some("invalid_token"), &detail),
                ))
            }
        }
    }
}

async fn me(Bearer(p): Bearer) -> Json<Value> {
    Json(json!({
        "account": p.account,
        "user_id": p.user_id,
        "acting_as": if p.user_id.is_some() { "user" } else { "account" },
        "credential": p.credential.kind(),
        "credential_id": p.credential.id(),
        "scope": p.scope.to_string(),
        "expires_at": p.claims.exp,
    }))
}
