//! `GET /v1/me`: who the caller is, through whichever door. The smallest protected resource, and the one
//! every credential type is tested against.

use axum::Json;
use keygate_core::claims::ActClaim;
use serde::Serialize;
use utoipa::ToSchema;

use crate::caller::Caller;
use crate::openapi::responses as r;
use crate::routes::table::Routes;

pub fn router() -> Routes {
    Routes::new().get("/v1/me", me)
}

/// The caller as Keygate sees it.
#[derive(Serialize, ToSchema)]
pub struct Me {
    #[schema(example = "ab123")]
    account: String,
    /// The user the caller acts as; `null` when it acts as the account (service keys, client
    /// credentials).
    user_id: Option<String>,
    /// `user` or `account`.
    #[schema(example = "user")]
    acting_as: &'static str,
    #[schema(value_type = crate::openapi::schemas::CredentialKind)]
    credential: &'static str,
    /// The client id, key id or user id of the credential.
    credential_id: String,
    /// Space-separated.
    scope: String,
    /// Unix time; `null` for credentials presented with each request (legacy keys, Basic).
    expires_at: Option<i64>,
    /// Set when impersonating (RFC 8693 `act`): who is really calling.
    impersonated_by: Option<ActClaim>,
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
pub(crate) async fn me(Caller(p): Caller) -> Json<Me> {
    let claims = p.claims.as_ref();
    Json(Me {
        account: p.account.to_string(),
        user_id: p.user_id.as_ref().map(ToString::to_string),
        acting_as: if p.user_id.is_some() { "user" } else { "account" },
        credential: p.credential.kind(),
        credential_id: p.credential.id().to_owned(),
        scope: p.scope.to_string(),
        expires_at: claims.map(|c| c.exp),
        impersonated_by: claims.and_then(|c| c.act.clone()),
    })
}
