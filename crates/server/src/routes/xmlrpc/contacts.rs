//! `ContactService.*` and `DataService.*` (the `Contact` table): Infusionsoft's method names, parameter
//! order and return values, over the same contacts, scopes and rules as REST.

use keygate_core::contact::xmlrpc_fields::{all_field_names, patch_from_fields, read_field};
use keygate_core::contact::{
    Contact, ContactInput, ContactOrder, ContactPatch, DuplicateOption, FieldMatch, FieldValue, NoFieldFound,
    OrderDirection, OrderField, Patch,
};
use keygate_core::time::now;
use keygate_lib::contacts::{ContactError, MAX_PAGE};
use keygate_lib::tokens::Principal;
use keygate_lib::Keygate;
use keygate_store::{ContactColumn, ContactQuery};
use keygate_xmlrpc::Value;

use super::fault::Fault;
use super::params::{to_value, Params};

const TABLE: &str = "Contact";

/// The fields `load`, `query` and `findByEmail` return, as a struct: only those with a value.
fn record(c: &Contact, names: &[&str]) -> Result<Value, Fault> {
    let mut members = Vec::with_capacity(names.len());
    for name in names {
        if let Some(v) = read_field(c, name)? {
            members.push(((*name).to_owned(), to_value(v)));
        }
    }
    Ok(Value::Struct(members))
}

fn patch(fields: Vec<(String, FieldValue)>) -> Result<ContactPatch, Fault> {
    let patch = patch_from_fields(fields)?;
    patch.validate()?;
    Ok(patch)
}

/// The contact an `add` struct describes: the struct applied to an empty contact.
fn new_contact(fields: Vec<(String, FieldValue)>) -> Result<ContactInput, Fault> {
    let mut c = ContactInput::default().into_contact(0, now())?;
    patch(fields)?.apply(&mut c, now())?;
    Ok(c.into())
}

fn table(p: &Params<'_>) -> Result<(), Fault> {
    match p.string(0, "table")? {
        TABLE => Ok(()),
        other => Err(Fault::invalid_parameter(format!(
            "table {other} is not available; Keygate serves the {TABLE} table"
        ))),
    }
}

/// The after-the-table parameters of a `DataService` call.
fn rest<'a>(p: &Params<'a>) -> Params<'a> {
    Params {
        method: p.method,
        values: p.values.get(1..).unwrap_or_default(),
    }
}

/// The column a query may filter on, by its Infusionsoft name.
fn column(name: &str) -> Result<ContactColumn, Fault> {
    use ContactColumn as C;
    Ok(match name {
        "Id" => C::Id,
        "FirstName" => C::GivenName,
        "MiddleName" => C::MiddleName,
        "LastName" => C::FamilyName,
        "Company" => C::Company,
        "JobTitle" => C::JobTitle,
        "Email" => C::Email1,
        "EmailAddress2" => C::Email2,
        "EmailAddress3" => C::Email3,
        "Phone1" => C::Phone1,
        "City" => C::Locality,
        "State" => C::Region,
        "PostalCode" => C::PostalCode,
        "Country" => C::CountryCode,
        "LeadSource" => C::Source,
        "DateCreated" => C::CreatedAt,
        "LastUpdated" => C::UpdatedAt,
        known if all_field_names().contains(&known) => {
            return Err(Fault::invalid_parameter(format!(
                "Contact.{known} cannot be queried; query on Id, FirstName, MiddleName, LastName, Company, \
                 JobTitle, Email, EmailAddress2, EmailAddress3, Phone1, City, State, PostalCode, Country, \
                 LeadSource, DateCreated or LastUpdated"
            )))
        }
        unknown => {
            return Err(NoFieldFound {
                table: TABLE,
                field: unknown.to_owned(),
            }
            .into())
        }
    })
}

fn matcher(name: &str, v: &Value) -> Result<FieldMatch, Fault> {
    match v {
        Value::String(s) => Ok(FieldMatch::parse(s)),
        Value::Int(n) => Ok(FieldMatch::Exact(n.to_string())),
        Value::Nil => Ok(FieldMatch::Null),
        other => Err(Fault::invalid_parameter(format!(
            "the query value for {name} must be a string or an int, got {}",
            other.type_phrase()
        ))),
    }
}

fn query_filters(query: &Value) -> Result<Vec<(ContactColumn, FieldMatch)>, Fault> {
    let members = query
        .as_struct()
        .ok_or_else(|| Fault::invalid_parameter("the query must be a struct of field names and values"))?;
    members
        .iter()
        .map(|(name, v)| Ok((column(name)?, matcher(name, v)?)))
        .collect()
}

fn page(limit: i64, page: i64) -> Result<(u32, u64), Fault> {
    let limit = u32::try_from(limit)
        .ok()
        .filter(|l| (1..=MAX_PAGE).contains(l))
        .ok_or_else(|| Fault::invalid_parameter(format!("limit must be between 1 and {MAX_PAGE}")))?;
    let page = u64::try_from(page).map_err(|_| Fault::invalid_parameter("page must be 0 or more"))?;
    Ok((limit, page.saturating_mul(u64::from(limit))))
}

fn order(by: Option<&str>, ascending: Option<bool>) -> Result<ContactOrder, Fault> {
    let Some(by) = by else {
        return Ok(ContactOrder::default());
    };
    let field = match by {
        "Id" => OrderField::Id,
        "DateCreated" => OrderField::DateCreated,
        "LastUpdated" => OrderField::LastUpdated,
        "Email" => OrderField::Email,
        "FirstName" | "LastName" => OrderField::Name,
        other => {
            column(other)?;
            return Err(Fault::invalid_parameter(format!(
                "cannot order by {other}; order by Id, DateCreated, LastUpdated, Email, FirstName or LastName"
            )));
        }
    };
    // Infusionsoft sorts descending unless told otherwise once an order is named.
    let direction = if ascending.unwrap_or(false) {
        OrderDirection::Ascending
    } else {
        OrderDirection::Descending
    };
    Ok(ContactOrder { field, direction })
}

async fn list(kg: &Keygate, p: &Principal, q: &ContactQuery, names: &[&str]) -> Result<Value, Fault> {
    for name in names {
        if !all_field_names().contains(name) {
            return Err(NoFieldFound {
                table: TABLE,
                field: (*name).to_owned(),
            }
            .into());
        }
    }
    let found = kg.list_contacts(p, q).await?;
    let rows: Result<Vec<Value>, Fault> = found.contacts.iter().map(|c| record(c, names)).collect();
    Ok(Value::Array(rows?))
}

/// Adds or removes one tag, re-reading once if another writer got in between.
async fn tag(kg: &Keygate, p: &Principal, id: i64, tag: i64, add: bool) -> Result<Value, Fault> {
    if tag <= 0 {
        return Err(Fault::invalid_parameter("tag ids are positive"));
    }
    for _ in 0..3 {
        let c = kg.get_contact(p, id).await?;
        let mut tags = c.tag_ids.clone();
        tags.retain(|t| *t != tag);
        if add {
            tags.push(tag);
        }
        let change = ContactPatch {
            tag_ids: if tags.is_empty() {
                Patch::Clear
            } else {
                Patch::Set(tags)
            },
            ..ContactPatch::default()
        };
        match kg.update_contact(p, id, Some(c.version), &change).await {
            Err(ContactError::Stale { .. }) => continue,
            other => return other.map(|_| Value::Boolean(true)).map_err(Fault::from),
        }
    }
    Err(Fault::invalid_parameter("the contact kept changing; try again"))
}

pub async fn contact_service(kg: &Keygate, p: &Principal, name: &str, a: Params<'_>) -> Result<Value, Fault> {
    match name {
        "add" => {
            a.arity(1, 1, "a struct of fields")?;
            let c = kg.create_contact(p, new_contact(a.fields(0, "data")?)?).await?;
            Ok(Value::Int(c.id))
        }
        "addWithDupCheck" => {
            a.arity(2, 2, "a struct of fields and a duplicate check type")?;
            let input = new_contact(a.fields(0, "data")?)?;
            let option = DuplicateOption::parse(a.string(1, "dupCheckType")?)?;
            Ok(Value::Int(kg.upsert_contact(p, &input, option).await?.0.id))
        }
        "load" => {
            a.arity(2, 2, "a contact id and an array of field names")?;
            let c = kg.get_contact(p, a.int(0, "id")?).await?;
            record(&c, &a.names(1, "selectedFields")?)
        }
        "update" => {
            a.arity(2, 2, "a contact id and a struct of fields")?;
            let id = a.int(0, "contactId")?;
            kg.update_contact(p, id, None, &patch(a.fields(1, "data")?)?)
                .await?;
            Ok(Value::Int(id))
        }
        "delete" => {
            a.arity(1, 1, "a contact id")?;
            kg.delete_contact(p, a.int(0, "id")?, None).await?;
            Ok(Value::Boolean(true))
        }
        "findByEmail" => {
            a.arity(2, 2, "an email address and an array of field names")?;
            let q = ContactQuery {
                email: Some(keygate_core::email::normalize(a.string(0, "email")?)),
                limit: MAX_PAGE,
                ..ContactQuery::default()
            };
            list(kg, p, &q, &a.names(1, "selectedFields")?).await
        }
        "addToGroup" | "removeFromGroup" => {
            a.arity(2, 2, "a contact id and a tag id")?;
            tag(
                kg,
                p,
                a.int(0, "contactId")?,
                a.int(1, "groupId")?,
                name == "addToGroup",
            )
            .await
        }
        _ => Err(Fault::no_such_method(a.method)),
    }
}

pub async fn data_service(kg: &Keygate, p: &Principal, name: &str, a: Params<'_>) -> Result<Value, Fault> {
    let known = ["add", "load", "update", "delete", "query", "findByField", "count"];
    if !known.contains(&name) {
        return Err(Fault::no_such_method(a.method));
    }
    a.arity(1, 7, "a table name and the method's parameters")?;
    table(&a)?;
    let r = rest(&a);
    match name {
        "add" => {
            r.arity(1, 1, "a struct of fields")?;
            contact_service(kg, p, "add", r).await
        }
        "load" => {
            r.arity(2, 2, "an id and an array of field names")?;
            contact_service(kg, p, "load", r).await
        }
        "update" => {
            r.arity(2, 2, "an id and a struct of fields")?;
            contact_service(kg, p, "update", r).await
        }
        "delete" => {
            r.arity(1, 1, "an id")?;
            contact_service(kg, p, "delete", r).await
        }
        "query" => {
            r.arity(
                4,
                6,
                "limit, page, a query struct, an array of field names [, orderBy, ascending]",
            )?;
            let (limit, offset) = page(r.int(0, "limit")?, r.int(1, "page")?)?;
            let q = ContactQuery {
                filters: query_filters(&r.values[2])?,
                order: order(r.optional_string(4, "orderBy")?, r.optional_bool(5, "ascending")?)?,
                limit,
                offset,
                ..ContactQuery::default()
            };
            list(kg, p, &q, &r.names(3, "selectedFields")?).await
        }
        "findByField" => {
            r.arity(
                5,
                5,
                "limit, page, a field name, a value and an array of field names",
            )?;
            let (limit, offset) = page(r.int(0, "limit")?, r.int(1, "page")?)?;
            let field = r.string(2, "fieldName")?;
            let value = r.values.get(3).unwrap_or(&Value::Nil);
            let q = ContactQuery {
                filters: vec![(column(field)?, matcher(field, value)?)],
                limit,
                offset,
                ..ContactQuery::default()
            };
            list(kg, p, &q, &r.names(4, "returnFields")?).await
        }
        _ => {
            r.arity(1, 1, "a query struct")?;
            let q = ContactQuery {
                filters: query_filters(&r.values[0])?,
                limit: 1,
                ..ContactQuery::default()
            };
            let total = kg.list_contacts(p, &q).await?.total;
            Ok(Value::Int(i64::try_from(total).unwrap_or(i64::MAX)))
        }
    }
}
