//! `GET /v1/me`: who the caller is, through whichever door. The smallest protected resource, and the one
//! every credential type is tested against.

use axum::response::{IntoResponse, Response};
use keygate_core::claims::ActClaim;
use keygate_core::ids::UserId;
use keygate_core::scope::ScopeSet;
use serde::Serialize;
use utoipa::ToSchema;

use crate::caller::Caller;
use crate::json::Json;
use crate::openapi::responses as r;
use crate::routes::table::Routes;

pub fn router() -> Routes {
    Routes::new().get("/v1/me", me)
}

/// The caller as Keygate sees it. Borrowed from the caller's principal: the smallest protected resource
/// is also the benchmark's bearer check, so it copies nothing.
#[derive(Serialize, ToSchema)]
pub struct Me<'a> {
    #[schema(example = "ab123")]
    account: &'a str,
    /// The user the caller acts as; `null` when it acts as the account (service keys, client
    /// credentials).
    user_id: Option<&'a str>,
    /// `user` or `account`.
    #[schema(example = "user")]
    acting_as: &'static str,
    #[schema(value_type = crate::openapi::schemas::CredentialKind)]
    credential: &'static str,
    /// The client id, key id or user id of the credential.
    credential_id: &'a str,
    /// Space-separated.
    #[schema(value_type = String)]
    scope: &'a ScopeSet,
    /// Unix time; `null` for credentials presented with each request (legacy keys, Basic).
    expires_at: Option<i64>,
    /// Set when impersonating (RFC 8693 `act`): who is really calling.
    impersonated_by: Option<&'a ActClaim>,
}

/// Who the caller is: account, user, credential and scope.
#[utoipa::path(
    get,
    path = "/v1/me",
    tag = "resources",
    security(("bearer" = []), ("basic" = []), ("legacyKey" = [])),
    responses(
        (status = 200, description = "The caller", body = Me),
        (status = 401, response = r::Unauthorized),
        (status = 403, response = r::Forbidden),
        (status = 429, response = r::TooManyRequests),
    )
)]
pub(crate) async fn me(Caller(p): Caller) -> Response {
    let claims = p.claims.as_deref();
    Json(Me {
        account: p.account.as_str(),
        user_id: p.user_id.as_ref().map(UserId::as_str),
        acting_as: if p.user_id.is_some() { "user" } else { "account" },
        credential: p.credential.kind(),
        credential_id: p.credential.id(),
        scope: &p.scope,
        expires_at: claims.map(|c| c.exp),
        impersonated_by: claims.and_then(|c| c.act.as_ref()),
    })
    .into_response()
}
