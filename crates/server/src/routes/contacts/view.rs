//! The contact's REST wire shape (snake_case, as the Infusionsoft/Keap REST API names fields), the
//! ETag it travels with, and how contact errors read as problems.

use axum::http::{HeaderMap, StatusCode};
use keygate_core::contact::{
    Address, Contact, ContactInput, DuplicateOption, EmailAddress, EmailStatusRecord, PhoneNumber,
};
use keygate_core::time::format_rfc3339;
use keygate_lib::contacts::ContactError;
use serde::Serialize;
use utoipa::openapi::schema::{ObjectBuilder, OneOfBuilder, Schema, Type};
use utoipa::openapi::{Ref, RefOr};
use utoipa::{PartialSchema, ToSchema};

use crate::error::Problem;

/// A contact. Lists sort each of `email_addresses`, `phone_numbers` and `addresses` by slot.
#[derive(Serialize, ToSchema)]
#[schema(as = Contact)]
pub struct ContactView<'a> {
    pub id: i64,
    pub given_name: &'a Option<String>,
    pub middle_name: &'a Option<String>,
    pub family_name: &'a Option<String>,
    pub company_name: &'a Option<String>,
    pub job_title: &'a Option<String>,
    pub email_addresses: &'a [EmailAddress],
    pub phone_numbers: &'a [PhoneNumber],
    pub addresses: &'a [Address],
    pub tag_ids: &'a [i64],
    pub source_type: &'a Option<String>,
    pub date_created: String,
    pub last_updated: String,
    /// Of the primary address, in Keap's spelling (`SingleOptIn`, `DoubleOptin`, `Admin`, …; `null`: never
    /// opted in or out). On single reads and writes only: lists leave it out.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub email_status: Option<Option<&'static str>>,
    /// Whether the primary address may receive marketing. On single reads and writes only.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = bool, required = false)]
    pub email_opted_in: Option<bool>,
}

impl<'a> ContactView<'a> {
    pub fn of(c: &'a Contact) -> Self {
        Self {
            id: c.id,
            given_name: &c.given_name,
            middle_name: &c.middle_name,
            family_name: &c.family_name,
            company_name: &c.company,
            job_title: &c.job_title,
            email_addresses: &c.emails,
            phone_numbers: &c.phones,
            addresses: &c.addresses,
            tag_ids: &c.tag_ids,
            source_type: &c.source,
            date_created: format_rfc3339(c.created_at),
            last_updated: format_rfc3339(c.updated_at),
            email_status: None,
            email_opted_in: None,
        }
    }

    pub fn with_status(mut self, primary: Option<&EmailStatusRecord>) -> Self {
        self.email_status = Some(primary.map(EmailStatusRecord::keap_status));
        self.email_opted_in = Some(primary.is_some_and(|r| r.status.marketable()));
        self
    }
}

/// A page of `GET /contacts`.
#[derive(Serialize, ToSchema)]
pub struct ContactList<'a> {
    pub contacts: Vec<ContactView<'a>>,
    /// How many contacts match, over all pages.
    pub count: u64,
    /// The next page as an absolute URL; `null` on the last.
    pub next: Option<String>,
    /// The previous page as an absolute URL; `null` on the first.
    pub previous: Option<String>,
}

/// The body of `PUT /contacts`: a contact plus how to find an existing one. (For the document only: the
/// handler takes `duplicate_option` out of the JSON object and reads the rest as a [`ContactInput`].)
pub struct UpsertInput;

impl PartialSchema for UpsertInput {
    /// The contact input's schema with one more property: it refuses unknown ones, so `allOf` cannot
    /// add it.
    fn schema() -> RefOr<Schema> {
        let mut schema = ContactInput::schema();
        if let RefOr::T(Schema::Object(object)) = &mut schema {
            let option = OneOfBuilder::new()
                .item(ObjectBuilder::new().schema_type(Type::Null))
                .item(Ref::from_schema_name(DuplicateOption::name()))
                .description(Some(
                    "How an existing contact is recognised: `Email` (the default) or `EmailAndName`",
                ));
            object.properties.insert("duplicate_option".into(), option.into());
            object.description = Some(
                "A contact, and how to find the one it replaces; fields left out are cleared on replace"
                    .into(),
            );
        }
        schema
    }
}

impl ToSchema for UpsertInput {
    fn schemas(schemas: &mut Vec<(String, RefOr<Schema>)>) {
        ContactInput::schemas(schemas);
        schemas.push((ContactInput::name().into(), ContactInput::schema()));
        schemas.push((DuplicateOption::name().into(), DuplicateOption::schema()));
    }
}

/// A strong validator naming the contact's version.
pub fn etag(c: &Contact) -> String {
    format!("\"{}\"", c.version)
}

/// The version `If-Match` requires, if any: `None` without the header or with `*`.
pub fn if_match(headers: &HeaderMap) -> Result<Option<i64>, Problem> {
    let Some(value) = headers.get(axum::http::header::IF_MATCH) else {
        return Ok(None);
    };
    let text = value.to_str().unwrap_or_default().trim();
    if text == "*" {
        return Ok(None);
    }
    // RFC 9110 §13.1.1: If-Match compares strongly, so a weak tag never matches.
    if text.starts_with("W/") {
        return Ok(Some(-1));
    }
    text.strip_prefix('"')
        .and_then(|t| t.strip_suffix('"'))
        .and_then(|t| t.parse::<i64>().ok())
        .map(Some)
        .ok_or_else(|| {
            let mut p =
                Problem::bad_request("If-Match must be an ETag from a read of this contact, such as \"3\"");
            p.field = Some("If-Match");
            p
        })
}

pub fn contact_problem(e: ContactError) -> Problem {
    let detail = e.to_string();
    match e {
        ContactError::MissingScope(scope) => Problem::insufficient_scope(scope, detail),
        ContactError::NotFound(_) | ContactError::UnknownEmail(_) => Problem::not_found(detail),
        ContactError::Stale { .. } => Problem::new(
            StatusCode::PRECONDITION_FAILED,
            "precondition-failed",
            "Precondition failed",
            detail,
        ),
        ContactError::Invalid(i) => i.into(),
        ContactError::OptInRefused { .. } => {
            let mut p = Problem::new(StatusCode::CONFLICT, "opt-in-refused", "Opt-in refused", detail);
            p.code = Some("opt_in_refused");
            p
        }
        ContactError::Store(e) => Problem::internal(e),
    }
}
