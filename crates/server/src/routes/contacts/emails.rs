//! Email opt-in status: per address (statuses belong to addresses, shared by the contacts holding them),
//! and per contact.

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use keygate_core::contact::{EmailField, EmailStatus, EmailStatusRecord, OptOutBy};
use keygate_core::time::format_rfc3339;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::contact_id;
use super::view::contact_problem;
use crate::caller::Caller;
use crate::error::Problem;
use crate::extract::ApiJson;
use crate::json::Json;
use crate::openapi::responses as r;
use crate::state::AppState;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OptRequest {
    email: String,
    /// Why, for the record.
    #[serde(default)]
    reason: String,
}

/// An address's status; an address never opted in or out has none and is not marketable.
#[derive(Serialize, ToSchema)]
pub struct EmailStatusView<'a> {
    /// Normalised: trimmed and lowercase.
    email: &'a str,
    /// `null`: never opted in or out.
    status: Option<EmailStatus>,
    /// Keap's spelling of the status (`SingleOptIn`, `DoubleOptin`, `Admin`, …).
    #[schema(value_type = Option<String>)]
    email_status: Option<&'static str>,
    marketable: bool,
    reason: Option<&'a str>,
    /// Set while `status` is `opted_out`.
    opted_out_by: Option<OptOutBy>,
    /// RFC 3339.
    changed_at: Option<String>,
}

/// The status after an opt-in or opt-out, and whether it changed.
#[derive(Serialize, ToSchema)]
pub struct OptResult<'a> {
    #[serde(flatten)]
    status: EmailStatusView<'a>,
    changed: bool,
}

/// One of a contact's addresses with its status.
#[derive(Serialize, ToSchema)]
pub struct SlotStatus<'a> {
    #[serde(flatten)]
    status: EmailStatusView<'a>,
    field: EmailField,
}

#[derive(Serialize, ToSchema)]
pub struct ContactEmailStatuses<'a> {
    contact_id: i64,
    email_addresses: Vec<SlotStatus<'a>>,
}

fn status_view<'a>(email: &'a str, r: Option<&'a EmailStatusRecord>) -> EmailStatusView<'a> {
    EmailStatusView {
        email,
        status: r.map(|r| r.status),
        email_status: r.map(EmailStatusRecord::keap_status),
        marketable: r.is_some_and(|r| r.status.marketable()),
        reason: r.map(|r| r.reason.as_str()),
        opted_out_by: r.and_then(|r| r.opted_out_by),
        changed_at: r.map(|r| format_rfc3339(r.changed_at)),
    }
}

/// Opts an address in.
///
/// Records consent for an address. Refused (409, `opt_in_refused`) for an address that opted out or
/// bounced: only the person can undo that. Needs `contacts.write`.
#[utoipa::path(
    post,
    path = "/v1/emails/opt-in",
    tag = "contacts",
    operation_id = "opt_in_email",
    request_body = OptRequest,
    security(("bearer" = []), ("basic" = []), ("legacyKey" = [])),
    responses(
        (status = 200, description = "The address's status", body = OptResult),
        (status = 400, response = r::BadRequest),
        (status = 401, response = r::Unauthorized),
        (status = 403, response = r::Forbidden),
        (status = 409, response = r::Conflict),
        (status = 415, response = r::UnsupportedMediaType),
        (status = 422, response = r::InvalidField),
        (status = 429, response = r::TooManyRequests),
    )
)]
pub async fn opt_in(
    State(s): State<AppState>,
    Caller(p): Caller,
    ApiJson(req): ApiJson<OptRequest>,
) -> Result<Response, Problem> {
    let changed = s
        .keygate
        .opt_in(&p, &req.email, &req.reason)
        .await
        .map_err(contact_problem)?;
    answer(&s, &p, &req.email, changed).await
}

/// Opts an address out.
///
/// For every contact holding it. Through the API, an opt-out is recorded as the account's own doing
/// (`opted_out_by: admin`). Needs `contacts.write`.
#[utoipa::path(
    post,
    path = "/v1/emails/opt-out",
    tag = "contacts",
    operation_id = "opt_out_email",
    request_body = OptRequest,
    security(("bearer" = []), ("basic" = []), ("legacyKey" = [])),
    responses(
        (status = 200, description = "The address's status", body = OptResult),
        (status = 400, response = r::BadRequest),
        (status = 401, response = r::Unauthorized),
        (status = 403, response = r::Forbidden),
        (status = 415, response = r::UnsupportedMediaType),
        (status = 422, response = r::InvalidField),
        (status = 429, response = r::TooManyRequests),
    )
)]
pub async fn opt_out(
    State(s): State<AppState>,
    Caller(p): Caller,
    ApiJson(req): ApiJson<OptRequest>,
) -> Result<Response, Problem> {
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
) -> Result<Response, Problem> {
    let record = s.keygate.email_status(p, email).await.map_err(contact_problem)?;
    let email = keygate_core::email::normalize(email);
    let status = status_view(&email, record.as_ref());
    Ok(Json(OptResult { status, changed }).into_response())
}

/// An address's opt-in status. Needs `contacts.read`.
#[utoipa::path(
    get,
    path = "/v1/emails/{email}/status",
    tag = "contacts",
    operation_id = "get_email_status",
    params(("email" = String, Path, description = "The address (percent-encoded)")),
    security(("bearer" = []), ("basic" = []), ("legacyKey" = [])),
    responses(
        (status = 200, description = "The address's status", body = EmailStatusView),
        (status = 401, response = r::Unauthorized),
        (status = 403, response = r::Forbidden),
        (status = 429, response = r::TooManyRequests),
    )
)]
pub async fn status(
    State(s): State<AppState>,
    Caller(p): Caller,
    Path(email): Path<String>,
) -> Result<Response, Problem> {
    let record = s
        .keygate
        .email_status(&p, &email)
        .await
        .map_err(contact_problem)?;
    let email = keygate_core::email::normalize(&email);
    Ok(Json(status_view(&email, record.as_ref())).into_response())
}

/// The opt-in status of each of a contact's addresses. Needs `contacts.read`.
#[utoipa::path(
    get,
    path = "/v1/contacts/{id}/email-status",
    tag = "contacts",
    operation_id = "get_contact_email_statuses",
    params(("id" = i64, Path, description = "The contact id (a positive integer)")),
    security(("bearer" = []), ("basic" = []), ("legacyKey" = [])),
    responses(
        (status = 200, description = "The contact's addresses with their statuses", body = ContactEmailStatuses),
        (status = 401, response = r::Unauthorized),
        (status = 403, response = r::Forbidden),
        (status = 404, response = r::NotFound),
        (status = 429, response = r::TooManyRequests),
    )
)]
pub async fn contact_statuses(
    State(s): State<AppState>,
    Caller(p): Caller,
    Path(id): Path<String>,
) -> Result<Response, Problem> {
    let id = contact_id(&id)?;
    let c = s.keygate.get_contact(&p, id).await.map_err(contact_problem)?;
    let mut records = Vec::with_capacity(c.emails.len());
    for e in &c.emails {
        records.push(
            s.keygate
                .email_status(&p, &e.email)
                .await
                .map_err(contact_problem)?,
        );
    }
    let email_addresses = c
        .emails
        .iter()
        .zip(&records)
        .map(|(e, r)| SlotStatus {
            status: status_view(&e.email, r.as_ref()),
            field: e.field,
        })
        .collect();
    Ok(Json(ContactEmailStatuses {
        contact_id: id,
        email_addresses,
    })
    .into_response())
}
