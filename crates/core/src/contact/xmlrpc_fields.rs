//! The Infusionsoft `Contact` table as XML-RPC callers name it (`FirstName`, `Phone2Ext`, `City2`…),
//! mapped onto the model. Names are case-sensitive, as Infusionsoft's are.

use std::collections::BTreeMap;

use super::model::{AddressField as A, Contact, EmailField as E, PhoneField as P, PhoneNumber};
use super::patch::{AddressPatch, ContactPatch, EmailPatch, Patch, PhonePatch};

/// A field's value, free of any XML-RPC library's types.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FieldValue {
    Int(i64),
    Text(String),
    /// Unix seconds.
    DateTime(i64),
}

/// Infusionsoft's fault for a name the table lacks; the server prefixes `[NoFieldFound]`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("No field found: {table}.{field}")]
pub struct NoFieldFound {
    pub table: &'static str,
    pub field: String,
}

impl NoFieldFound {
    fn contact(field: &str) -> Self {
        Self {
            table: TABLE,
            field: field.to_owned(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FieldError {
    #[error(transparent)]
    NoFieldFound(#[from] NoFieldFound),
    #[error("Contact.{0} is read-only")]
    ReadOnly(String),
    #[error("Contact.{field} must be {expected}")]
    WrongType { field: String, expected: &'static str },
    #[error("Contact.{field}: {message}")]
    InvalidValue { field: String, message: String },
}

const TABLE: &str = "Contact";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum PhonePart {
    Number,
    Ext,
    Type,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Field {
    Id,
    GivenName,
    MiddleName,
    FamilyName,
    Company,
    JobTitle,
    Email(E),
    Phone(P, PhonePart),
    /// The part's position in `Address::parts`.
    Address(A, usize),
    Groups,
    LeadSource,
    DateCreated,
    LastUpdated,
}

use Field as F;
use PhonePart::{Ext, Number, Type};

#[rustfmt::skip]
const FIELDS: [(&str, Field); 46] = [
    ("Id", F::Id), ("FirstName", F::GivenName), ("MiddleName", F::MiddleName),
    ("LastName", F::FamilyName), ("Company", F::Company), ("JobTitle", F::JobTitle),
    ("Email", F::Email(E::Email1)), ("EmailAddress2", F::Email(E::Email2)),
    ("EmailAddress3", F::Email(E::Email3)),
    ("Phone1", F::Phone(P::Phone1, Number)), ("Phone1Ext", F::Phone(P::Phone1, Ext)),
    ("Phone1Type", F::Phone(P::Phone1, Type)), ("Phone2", F::Phone(P::Phone2, Number)),
    ("Phone2Ext", F::Phone(P::Phone2, Ext)), ("Phone2Type", F::Phone(P::Phone2, Type)),
    ("Phone3", F::Phone(P::Phone3, Number)), ("Phone3Ext", F::Phone(P::Phone3, Ext)),
    ("Phone3Type", F::Phone(P::Phone3, Type)), ("Phone4", F::Phone(P::Phone4, Number)),
    ("Phone4Ext", F::Phone(P::Phone4, Ext)), ("Phone4Type", F::Phone(P::Phone4, Type)),
    ("Phone5", F::Phone(P::Phone5, Number)), ("Phone5Ext", F::Phone(P::Phone5, Ext)),
    ("Phone5Type", F::Phone(P::Phone5, Type)),
    ("StreetAddress1", F::Address(A::Billing, 0)), ("StreetAddress2", F::Address(A::Billing, 1)),
    ("City", F::Address(A::Billing, 2)), ("State", F::Address(A::Billing, 3)),
    ("PostalCode", F::Address(A::Billing, 4)), ("Country", F::Address(A::Billing, 5)),
    ("Address2Street1", F::Address(A::Shipping, 0)), ("Address2Street2", F::Address(A::Shipping, 1)),
    ("City2", F::Address(A::Shipping, 2)), ("State2", F::Address(A::Shipping, 3)),
    ("PostalCode2", F::Address(A::Shipping, 4)), ("Country2", F::Address(A::Shipping, 5)),
    ("Address3Street1", F::Address(A::Other, 0)), ("Address3Street2", F::Address(A::Other, 1)),
    ("City3", F::Address(A::Other, 2)), ("State3", F::Address(A::Other, 3)),
    ("PostalCode3", F::Address(A::Other, 4)), ("Country3", F::Address(A::Other, 5)),
    ("Groups", F::Groups), ("LeadSource", F::LeadSource), ("DateCreated", F::DateCreated),
    ("LastUpdated", F::LastUpdated),
];

const NAMES: [&str; FIELDS.len()] = {
    let mut names = [""; FIELDS.len()];
    let mut i = 0;
    while i < FIELDS.len() {
        names[i] = FIELDS[i].0;
        i += 1;
    }
    names
};

/// Every `Contact` field Keygate knows, in table order.
pub fn all_field_names() -> &'static [&'static str] {
    &NAMES
}

fn lookup(name: &str) -> Result<Field, NoFieldFound> {
    FIELDS
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, f)| *f)
        .ok_or_else(|| NoFieldFound::contact(name))
}

/// One field of `contact`; `None` when it is empty, since `load` returns only fields with a value.
pub fn read_field(contact: &Contact, name: &str) -> Result<Option<FieldValue>, NoFieldFound> {
    let text = |v: Option<&String>| v.map(|s| FieldValue::Text(s.clone()));
    Ok(match lookup(name)? {
        F::Id => Some(FieldValue::Int(contact.id)),
        F::GivenName => text(contact.given_name.as_ref()),
        F::MiddleName => text(contact.middle_name.as_ref()),
        F::FamilyName => text(contact.family_name.as_ref()),
        F::Company => text(contact.company.as_ref()),
        F::JobTitle => text(contact.job_title.as_ref()),
        F::Email(slot) => contact.email(slot).map(|e| FieldValue::Text(e.to_owned())),
        F::Phone(slot, part) => text(contact.phone(slot).and_then(|p: &PhoneNumber| match part {
            Number => Some(&p.number),
            Ext => p.extension.as_ref(),
            Type => p.kind.as_ref(),
        })),
        F::Address(slot, k) => text(
            contact
                .address(slot)
                .and_then(|a| a.parts().get(k).and_then(|p| p.as_ref())),
        ),
        F::Groups if contact.tag_ids.is_empty() => None,
        F::Groups => {
            let ids: Vec<String> = contact.tag_ids.iter().map(i64::to_string).collect();
            Some(FieldValue::Text(ids.join(",")))
        }
        F::LeadSource => text(contact.source.as_ref()),
        F::DateCreated => Some(FieldValue::DateTime(contact.created_at)),
        F::LastUpdated => Some(FieldValue::DateTime(contact.updated_at)),
    })
}

/// The patch an `add`/`update` struct describes. A blank text clears the field; an int is accepted
/// where text is expected (callers send postal codes and phone numbers as ints). Values are checked
/// by `ContactPatch::validate`/`apply`, which name them by their REST names.
pub fn patch_from_fields(
    fields: impl IntoIterator<Item = (String, FieldValue)>,
) -> Result<ContactPatch, FieldError> {
    let mut patch = ContactPatch::default();
    let mut emails = BTreeMap::new();
    let mut phones = BTreeMap::new();
    let mut addresses = BTreeMap::new();
    for (name, value) in fields {
        let field = lookup(&name)?;
        if matches!(field, F::Id | F::DateCreated | F::LastUpdated) {
            return Err(FieldError::ReadOnly(name));
        }
        if field == F::Groups {
            patch.tag_ids = groups(&name, value)?;
            continue;
        }
        let v = match value {
            FieldValue::Text(s) if s.trim().is_empty() => Patch::Clear,
            FieldValue::Text(s) => Patch::Set(s),
            FieldValue::Int(n) => Patch::Set(n.to_string()),
            FieldValue::DateTime(_) => {
                return Err(FieldError::WrongType {
                    field: name,
                    expected: "a string",
                });
            }
        };
        match field {
            F::GivenName => patch.given_name = v,
            F::MiddleName => patch.middle_name = v,
            F::FamilyName => patch.family_name = v,
            F::Company => patch.company = v,
            F::JobTitle => patch.job_title = v,
            F::LeadSource => patch.source = v,
            F::Email(slot) => {
                emails.insert(
                    slot,
                    EmailPatch {
                        field: slot,
                        email: v,
                    },
                );
            }
            F::Phone(slot, part) => {
                let p = phones.entry(slot).or_insert_with(|| PhonePatch {
                    field: slot,
                    number: Patch::Keep,
                    extension: Patch::Keep,
                    kind: Patch::Keep,
                });
                *match part {
                    Number => &mut p.number,
                    Ext => &mut p.extension,
                    Type => &mut p.kind,
                } = v;
            }
            F::Address(slot, k) => {
                let a = addresses.entry(slot).or_insert_with(|| AddressPatch::keep(slot));
                if let Some(part) = a.parts_mut().into_iter().nth(k) {
                    *part = v;
                }
            }
            F::Id | F::DateCreated | F::LastUpdated | F::Groups => {}
        }
    }
    patch.emails = Patch::unless_empty(emails.into_values().collect());
    patch.phones = Patch::unless_empty(phones.into_values().collect());
    patch.addresses = Patch::unless_empty(addresses.into_values().collect());
    Ok(patch)
}

/// `Groups`: comma-separated tag ids; blank clears every tag.
fn groups(name: &str, value: FieldValue) -> Result<Patch<Vec<i64>>, FieldError> {
    let text = match value {
        FieldValue::Int(n) => return Ok(Patch::Set(vec![n])),
        FieldValue::Text(s) => s,
        FieldValue::DateTime(_) => {
            let expected = "comma-separated tag ids";
            return Err(FieldError::WrongType {
                field: name.to_owned(),
                expected,
            });
        }
    };
    if text.trim().is_empty() {
        return Ok(Patch::Clear);
    }
    let ids: Result<Vec<i64>, _> = text.split(',').map(|id| id.trim().parse::<i64>()).collect();
    ids.map(Patch::Set).map_err(|_| FieldError::InvalidValue {
        field: name.to_owned(),
        message: format!("`{text}` is not a comma-separated list of tag ids"),
    })
}

#[cfg(test)]
#[path = "xmlrpc_fields_tests.rs"]
mod tests;
