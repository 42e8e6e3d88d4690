//! The contacts resource over REST, under `/v1` and again under `/crm/rest/v1` for Infusionsoft-style
//! clients: CRUD with ETags, upsert, paging and sync, and email opt-in status.

pub(crate) mod emails;
mod list;
pub mod view;

use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use keygate_core::contact::{ContactInput, ContactPatch, DuplicateOption};

use serde_json::Value;

use crate::caller::Caller;
use crate::error::Problem;
use crate::extract::ApiJson;
use crate::json::Json;
use crate::openapi::examples;
use crate::routes::table::Routes;
use crate::state::AppState;
use view::{contact_problem, etag, if_match, ContactList, ContactView, UpsertInput};

pub fn router() -> Routes {
    let mut routes = Routes::new();
    for prefix in super::REST_PREFIXES {
        let at = |path: &str| format!("{prefix}{path}");
        routes = routes
            .get(&at("/contacts"), list)
            .post(&at("/contacts"), create)
            .put(&at("/contacts"), upsert)
            .get(&at("/contacts/{id}"), read)
            .patch(&at("/contacts/{id}"), update)
            .delete(&at("/contacts/{id}"), remove)
            .get(&at("/contacts/{id}/email-status"), emails::contact_statuses)
            .post(&at("/emails/opt-in"), emails::opt_in)
            .post(&at("/emails/opt-out"), emails::opt_out)
            .get(&at("/emails/{email}/status"), emails::status);
    }
    routes
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
    Ok(contact_with_status(c, primary.as_ref(), status))
}

fn contact_with_status(
    c: &keygate_core::contact::Contact,
    primary: Option<&keygate_core::contact::EmailStatusRecord>,
    status: StatusCode,
) -> Response {
    let body = Json(ContactView::of(c).with_status(primary));
    (status, [(header::ETAG, etag(c))], body).into_response()
}

/// Lists contacts.
///
/// Lists the account's contacts: filters, order, and `limit`/`offset` paging with absolute
/// `next`/`previous` links. Unknown or repeated query parameters are refused. Needs `contacts.read`.
#[utoipa::path(
    get,
    path = "/v1/contacts",
    tag = "contacts",
    operation_id = "list_contacts",
    params(list::ListQuery),
    security(("bearer" = []), ("basic" = []), ("legacyKey" = [])),
    responses(
        (status = 200, description = "A page of contacts (without `email_status`)", body = ContactList),
        (status = 400, response = crate::openapi::responses::BadRequest),
        (status = 401, response = crate::openapi::responses::Unauthorized),
        (status = 403, response = crate::openapi::responses::Forbidden),
        (status = 422, response = crate::openapi::responses::InvalidField),
        (status = 429, response = crate::openapi::responses::TooManyRequests),
    )
)]
pub(crate) async fn list(
    State(s): State<AppState>,
    Caller(p): Caller,
    // Routes are not nested, so the URI is the one the client sent.
    uri: Uri,
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
    let body = ContactList {
        contacts,
        count: page.total,
        next,
        previous,
    };
    Ok(Json(body).into_response())
}

/// Creates a contact. Needs `contacts.write`.
#[utoipa::path(
    post,
    path = "/v1/contacts",
    tag = "contacts",
    operation_id = "create_contact",
    request_body(content = ContactInput, example = json!(examples::contact_input())),
    security(("bearer" = []), ("basic" = []), ("legacyKey" = [])),
    responses(
        (status = 201, description = "Created", body = ContactView, headers(
            ("Location" = String, description = "The contact's path, under the prefix it was created at: `/v1/contacts/42`"),
            ("ETag" = String, description = "The contact's version as a strong validator: `\"1\"`"),
        ), example = json!(examples::contact())),
        (status = 400, response = crate::openapi::responses::BadRequest),
        (status = 401, response = crate::openapi::responses::Unauthorized),
        (status = 403, response = crate::openapi::responses::Forbidden),
        (status = 415, response = crate::openapi::responses::UnsupportedMediaType),
        (status = 422, response = crate::openapi::responses::InvalidField),
        (status = 429, response = crate::openapi::responses::TooManyRequests),
    )
)]
pub(crate) async fn create(
    State(s): State<AppState>,
    Caller(p): Caller,
    uri: Uri,
    ApiJson(input): ApiJson<ContactInput>,
) -> Result<Response, Problem> {
    let c = s
        .keygate
        .create_contact(&p, input)
        .await
        .map_err(contact_problem)?;
    let res = contact_response(&s, &p, &c, StatusCode::CREATED).await?;
    Ok(with_location(res, &uri, c.id))
}

/// A new contact's `Location`: under the prefix (`/v1` or `/crm/rest/v1`) it was created through.
fn with_location(mut res: Response, collection: &axum::http::Uri, id: i64) -> Response {
    let location = format!("{}/{id}", collection.path().trim_end_matches('/'));
    if let Ok(v) = location.parse() {
        res.headers_mut().insert(header::LOCATION, v);
    }
    res
}

/// Creates or replaces a contact.
///
/// Creates or replaces a contact: the contact fields plus `duplicate_option` (`Email`, the default, or
/// `EmailAndName`) telling how an existing contact is recognised. A replace clears the fields left out.
/// Needs `contacts.write`.
#[utoipa::path(
    put,
    path = "/v1/contacts",
    tag = "contacts",
    operation_id = "upsert_contact",
    request_body = UpsertInput,
    security(("bearer" = []), ("basic" = []), ("legacyKey" = [])),
    responses(
        (status = 200, description = "An existing contact was replaced", body = ContactView, headers(
            ("ETag" = String, description = "The contact's new version"),
        )),
        (status = 201, description = "No contact matched: created", body = ContactView, headers(
            ("Location" = String, description = "The new contact's path"),
            ("ETag" = String, description = "The contact's version"),
        )),
        (status = 400, response = crate::openapi::responses::BadRequest),
        (status = 401, response = crate::openapi::responses::Unauthorized),
        (status = 403, response = crate::openapi::responses::Forbidden),
        (status = 415, response = crate::openapi::responses::UnsupportedMediaType),
        (status = 422, response = crate::openapi::responses::InvalidField),
        (status = 429, response = crate::openapi::responses::TooManyRequests),
    )
)]
pub(crate) async fn upsert(
    State(s): State<AppState>,
    Caller(p): Caller,
    uri: Uri,
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
    let res = contact_response(&s, &p, &c, status).await?;
    Ok(if created {
        with_location(res, &uri, c.id)
    } else {
        res
    })
}

/// Reads a contact, with the opt-in status of its primary address. Needs `contacts.read`.
#[utoipa::path(
    get,
    path = "/v1/contacts/{id}",
    tag = "contacts",
    operation_id = "get_contact",
    params(("id" = i64, Path, description = "The contact id (a positive integer)")),
    security(("bearer" = []), ("basic" = []), ("legacyKey" = [])),
    responses(
        (status = 200, description = "The contact", body = ContactView, headers(
            ("ETag" = String, description = "The contact's version, for `If-Match`"),
        ), example = json!(examples::contact())),
        (status = 401, response = crate::openapi::responses::Unauthorized),
        (status = 403, response = crate::openapi::responses::Forbidden),
        (status = 404, response = crate::openapi::responses::NotFound),
        (status = 429, response = crate::openapi::responses::TooManyRequests),
    )
)]
pub(crate) async fn read(
    State(s): State<AppState>,
    Caller(p): Caller,
    Path(id): Path<String>,
) -> Result<Response, Problem> {
    let (c, primary) = s
        .keygate
        .get_contact_with_status(&p, contact_id(&id)?)
        .await
        .map_err(contact_problem)?;
    Ok(contact_with_status(&c, primary.as_ref(), StatusCode::OK))
}

/// Changes a contact.
///
/// Changes some fields of a contact: a field left out is kept, `null` clears it; the email, phone and
/// address lists merge by `field` slot. Needs `contacts.write`.
#[utoipa::path(
    patch,
    path = "/v1/contacts/{id}",
    tag = "contacts",
    operation_id = "update_contact",
    params(
        ("id" = i64, Path, description = "The contact id (a positive integer)"),
        ("If-Match" = Option<String>, Header, description = "An ETag from a read (`\"3\"`): the change applies only to that version (412 otherwise). `*` or no header: any version."),
    ),
    request_body = ContactPatch,
    security(("bearer" = []), ("basic" = []), ("legacyKey" = [])),
    responses(
        (status = 200, description = "The changed contact", body = ContactView, headers(
            ("ETag" = String, description = "The contact's new version"),
        )),
        (status = 400, response = crate::openapi::responses::BadRequest),
        (status = 401, response = crate::openapi::responses::Unauthorized),
        (status = 403, response = crate::openapi::responses::Forbidden),
        (status = 404, response = crate::openapi::responses::NotFound),
        (status = 412, response = crate::openapi::responses::PreconditionFailed),
        (status = 415, response = crate::openapi::responses::UnsupportedMediaType),
        (status = 422, response = crate::openapi::responses::InvalidField),
        (status = 429, response = crate::openapi::responses::TooManyRequests),
    )
)]
pub(crate) async fn update(
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

/// Deletes a contact. Needs `contacts.write`.
#[utoipa::path(
    delete,
    path = "/v1/contacts/{id}",
    tag = "contacts",
    operation_id = "delete_contact",
    params(
        ("id" = i64, Path, description = "The contact id (a positive integer)"),
        ("If-Match" = Option<String>, Header, description = "An ETag from a read (`\"3\"`): the change applies only to that version (412 otherwise). `*` or no header: any version."),
    ),
    security(("bearer" = []), ("basic" = []), ("legacyKey" = [])),
    responses(
        (status = 204, description = "Deleted"),
        (status = 400, response = crate::openapi::responses::BadRequest),
        (status = 401, response = crate::openapi::responses::Unauthorized),
        (status = 403, response = crate::openapi::responses::Forbidden),
        (status = 404, response = crate::openapi::responses::NotFound),
        (status = 412, response = crate::openapi::responses::PreconditionFailed),
        (status = 429, response = crate::openapi::responses::TooManyRequests),
    )
)]
pub(crate) async fn remove(
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
