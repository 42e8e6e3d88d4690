//! `GET /v1/me`: who the caller is, through whichever door. The smallest protected resource, and the one
//! every credential type is tested against.

use axum::routing::get;
use axum::{Json, Router};
use serde_json::{json, Value};

use crate::caller::Caller;
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new().route("/v1/me", get(me))
}

async fn me(Caller(p): Caller) -> Json<Value> {
    Json(json!({
        "account": p.account,
        "user_id": p.user_id,
        "acting_as": if p.user_id.is_some() { "user" } else { "account" },
        "credential": p.credential.kind(),
        "credential_id": p.credential.id(),
        "scope": p.scope.to_string(),
                "expires_at": p.claims.as_ref().map(|c| c.exp),
        // Set when impersonating: who is really calling.
        "impersonated_by": p.claims.as_ref().and_then(|c| c.act.as_ref()),
    }))
}
