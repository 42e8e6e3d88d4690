//! The contacts resource over REST, under `/v1` and again under `/crm/rest/v1` for Infusionsoft-style
//! clients: CRUD with ETags, upsert, paging and sync, and email opt-in status.

mod emails;
mod list;
pub mod view;

use axum::extract::{OriginalUri, Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use keygate_core::contact::{ContactInput, ContactPatch, DuplicateOption};

use serde_json::{json, Value};

use crate::caller::Caller;
use crate::error::Problem;
use crate::extract::ApiJson;
use crate::state::AppState;
use view::{contact_problem, etag, if_match, ContactView};

pub fn router() -> Router<AppState> {
    let routes = Router::new()
        .route("/contacts", get(list).post(create).put(upsert))
        .route("/contacts/{id}", get(read).patch(update).delete(remove))
        .route("/contacts/{id}/email-status", get(emails::contact_statuses))
        .route("/emails/opt-in", axum::routing::post(emails::opt_in))
        .route("/emails/opt-out", axum::routing::post(emails::opt_out))
        .route("/emails/{email}/status", get(emails::status));
    Router::new()
        .nest("/v1", routes.clone())
        .nest("/crm/rest/v1", routes)
}

fn contact_id(raw: &str) -> Result<i64, Problem> {
    raw.parse::<i64>()
        .ok()
        .filter(|id| *id > 0)
        .ok_or_else(|| Problem::not_found(format!("contact {raw:?} not found: ids are positive integers")))
}

/// A contact with its ETag (and, on single reads, its primary address's status).
async fn contact_response(
    s: &AppState,
    p: &keygate_lib::tokens::Principal,
    c: &keygate_core::contact::Contact,
    status: StatusCode,
) -> Result<Response, Problem> {
    let primary = match c.primary_email() {
        Some(e) => s.keygate.email_status(p, e).await.map_err(contact_problem)?,
        None => None,
    };
    let body = Json(ContactView::of(c).with_status(primary.as_ref()));
    Ok((status, [(header::ETAG, etag(c))], body).into_response())
}

async fn list(
    State(s): State<AppState>,
    Caller(p): Caller,
    OriginalUri(uri): OriginalUri,
) -> Result<Response, Problem> {
    let query = list::parse(uri.query())?;
    let page = s
        .keygate
        .list_contacts(&p, &query)
        .await
        .map_err(contact_problem)?;
    let base = &s.config.public_url;
    let end = query.offset + page.contacts.len() as u64;
    let next = (end < page.total).then(|| list::page_link(base, &uri, end));
    let previous = (query.offset > 0)
        .then(|| list::page_link(base, &uri, query.offset.saturating_sub(u64::from(query.limit))));
    let contacts: Vec<_> = page.contacts.iter().map(ContactView::of).collect();
    Ok(
        Json(json!({"contacts": contacts, "count": page.total, "next": next, "previous": previous}))
            .into_response(),
    )
}

async fn create(
    State(s): State<AppState>,
    Caller(p): Caller,
    OriginalUri(uri): OriginalUri,
    ApiJson(input): ApiJson<ContactInput>,
) -> Result<Response, Problem> {
    let c = s
        .keygate
        .create_contact(&p, input)
        .await
        .map_err(contact_problem)?;
    let mut res = contact_response(&s, &p, &c, StatusCode::CREATED).await?;
    let location = format!("{}/{}", uri.path().trim_end_matches('/'), c.id);
    if let Ok(v) = location.parse() {
        res.headers_mut().insert(header::LOCATION, v);
    }
    Ok(res)
}

/// `PUT /contacts`: the contact fields plus `duplicate_option` (`Email` or `EmailAndName`).
async fn upsert(
    State(s): State<AppState>,
    Caller(p): Caller,
    OriginalUri(uri): OriginalUri,
    ApiJson(mut fields): ApiJson<serde_json::Map<String, Value>>,
) -> Result<Response, Problem> {
    let option = match fields.remove("duplicate_option") {
        Some(Value::String(o)) => DuplicateOption::parse(&o)?,
        None => DuplicateOption::Email,
        Some(_) => {
            return Err(
                keygate_core::InvalidInput::new("duplicate_option", "must be Email or EmailAndName").into(),
            )
        }
    };
    let input: ContactInput = serde_json::from_value(Value::Object(fields)).map_err(|e| {
        Problem::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid-body",
            "Invalid body",
            e.to_string(),
        )
    })?;
    let (c, created) = s
        .keygate
        .upsert_contact(&p, &input, option)
        .await
        .map_err(contact_problem)?;
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    let mut res = contact_response(&s, &p, &c, status).await?;
    if created {
        if let Ok(v) = format!("{}/{}", uri.path().trim_end_matches('/'), c.id).parse() {
            res.headers_mut().insert(header::LOCATION, v);
        }
    }
    Ok(res)
}

async fn read(
    State(s): State<AppState>,
    Caller(p): Caller,
    Path(id): Path<String>,
) -> Result<Response, Problem> {
    let c = s
        .keygate
        .get_contact(&p, contact_id(&id)?)
        .await
        .map_err(contact_problem)?;
    contact_response(&s, &p, &c, StatusCode::OK).await
}

async fn update(
    State(s): State<AppState>,
    Caller(p): Caller,
    Path(id): Path<String>,
    headers: HeaderMap,
    ApiJson(patch): ApiJson<ContactPatch>,
) -> Result<Response, Problem> {
    let (id, version) = (contact_id(&id)?, if_match(&headers)?);
    let c = s
        .keygate
        .update_contact(&p, id, version, &patch)
        .await
        .map_err(contact_problem)?;
    contact_response(&s, &p, &c, StatusCode::OK).await
}

async fn remove(
    State(s): State<AppState>,
    Caller(p): Caller,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, Problem> {
    let (id, version) = (contact_id(&id)?, if_match(&headers)?);
    s.keygate
        .delete_contact(&p, id, version)
        .await
        .map_err(contact_problem)?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
