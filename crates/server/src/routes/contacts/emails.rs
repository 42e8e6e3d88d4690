//! Email opt-in status: per address (statuses belong to addresses, shared by the contacts holding them),
//! and per contact.

use axum::extract::{Path, State};
use axum::Json;
use keygate_core::contact::{EmailStatusRecord, OptOutBy};
use keygate_core::time::format_rfc3339;
use serde::Deserialize;
use serde_json::{json, Value};

use super::contact_id;
use super::view::contact_problem;
use crate::caller::Caller;
use crate::error::Problem;
use crate::extract::ApiJson;
use crate::state::AppState;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OptRequest {
    email: String,
    #[serde(default)]
    reason: String,
}

/// An address's status; an address never opted in or out has none and is not marketable.
fn status_json(email: &str, r: Option<&EmailStatusRecord>) -> Value {
    json!({
        "email": email,
        "status": r.map(|r| r.status),
        "email_status": r.map(EmailStatusRecord::keap_status),
        "marketable": r.is_some_and(|r| r.status.marketable()),
        "reason": r.map(|r| &r.reason),
        "opted_out_by": r.and_then(|r| r.opted_out_by),
        "changed_at": r.map(|r| format_rfc3339(r.changed_at)),
    })
}

pub async fn opt_in(
    State(s): State<AppState>,
    Caller(p): Caller,
    ApiJson(req): ApiJson<OptRequest>,
) -> Result<Json<Value>, Problem> {
    let changed = s
        .keygate
        .opt_in(&p, &req.email, &req.reason)
        .await
        .map_err(contact_problem)?;
    answer(&s, &p, &req.email, changed).await
}

/// Through the API, an opt-out is recorded as the account's own doing (`admin`).
pub async fn opt_out(
    State(s): State<AppState>,
    Caller(p): Caller,
    ApiJson(req): ApiJson<OptRequest>,
) -> Result<Json<Value>, Problem> {
    let changed = s
        .keygate
        .opt_out(&p, &req.email, &req.reason, OptOutBy::Admin)
        .await
        .map_err(contact_problem)?;
    answer(&s, &p, &req.email, changed).await
}

async fn answer(
    s: &AppState,
    p: &keygate_lib::tokens::Principal,
    email: &str,
    changed: bool,
) -> Result<Json<Value>, Problem> {
    let record = s.keygate.email_status(p, email).await.map_err(contact_problem)?;
    let mut body = status_json(&keygate_core::email::normalize(email), record.as_ref());
    body["changed"] = json!(changed);
    Ok(Json(body))
}

pub async fn status(
    State(s): State<AppState>,
    Caller(p): Caller,
    Path(email): Path<String>,
) -> Result<Json<Value>, Problem> {
    let record = s
        .keygate
        .email_status(&p, &email)
        .await
        .map_err(contact_problem)?;
    Ok(Json(status_json(
        &keygate_core::email::normalize(&email),
        record.as_ref(),
    )))
}

pub async fn contact_statuses(
    State(s): State<AppState>,
    Caller(p): Caller,
    Path(id): Path<String>,
) -> Result<Json<Value>, Problem> {
    let id = contact_id(&id)?;
    let c = s.keygate.get_contact(&p, id).await.map_err(contact_problem)?;
    let mut addresses = Vec::new();
    for e in &c.emails {
        let record = s
            .keygate
            .email_status(&p, &e.email)
            .await
            .map_err(contact_problem)?;
        let mut v = status_json(&e.email, record.as_ref());
        v["field"] = json!(e.field);
        addresses.push(v);
    }
    Ok(Json(json!({"contact_id": id, "email_addresses": addresses})))
}
