//! What a caller sends to create a contact or replace one whole (REST `POST`, `PUT`; XML-RPC `add`).

use serde::{Deserialize, Deserializer, Serialize};

use super::model::{Address, Contact, EmailAddress, PhoneNumber};
use super::patch::{AddressPatch, ContactPatch, EmailPatch, Patch, PhonePatch};
use super::rules;
use crate::InvalidInput;

/// The REST body: field names follow Keap's snake_case wire. A field left out is empty, so on replace
/// it clears what was there.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ContactInput {
    #[serde(default)]
    pub given_name: Option<String>,
    #[serde(default)]
    pub middle_name: Option<String>,
    #[serde(default)]
    pub family_name: Option<String>,
    #[serde(default, rename = "company_name")]
    pub company: Option<String>,
    #[serde(default)]
    pub job_title: Option<String>,
    #[serde(default, rename = "email_addresses", deserialize_with = "null_is_empty")]
    #[cfg_attr(feature = "openapi", schema(nullable))]
    pub emails: Vec<EmailAddress>,
    #[serde(default, rename = "phone_numbers", deserialize_with = "null_is_empty")]
    #[cfg_attr(feature = "openapi", schema(nullable))]
    pub phones: Vec<PhoneNumber>,
    #[serde(default, deserialize_with = "null_is_empty")]
    #[cfg_attr(feature = "openapi", schema(nullable))]
    pub addresses: Vec<Address>,
    #[serde(default, deserialize_with = "null_is_empty")]
    #[cfg_attr(feature = "openapi", schema(nullable))]
    pub tag_ids: Vec<i64>,
    #[serde(default, rename = "source_type")]
    pub source: Option<String>,
}

/// `"tag_ids": null` means no tags, as leaving the field out does.
fn null_is_empty<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Vec<T>, D::Error> {
    Ok(Option::<Vec<T>>::deserialize(d)?.unwrap_or_default())
}

impl ContactInput {
    /// Checks every rule without building anything; refusals name positions as the caller sent them.
    pub fn validate(&self) -> Result<(), InvalidInput> {
        self.clone().into_contact(0, 0).map(|_| ())
    }

    /// A new contact (version 1) with cleaned values in canonical order. The store may pass a
    /// placeholder `id` and set the real one once the row exists.
    pub fn into_contact(self, id: i64, now: i64) -> Result<Contact, InvalidInput> {
        let mut c = Contact {
            id,
            given_name: self.given_name,
            middle_name: self.middle_name,
            family_name: self.family_name,
            company: self.company,
            job_title: self.job_title,
            emails: self.emails,
            phones: self.phones,
            addresses: self.addresses,
            tag_ids: self.tag_ids,
            source: self.source,
            created_at: now,
            updated_at: now,
            version: 1,
        };
        rules::clean_contact(&mut c);
        rules::check(&c)?;
        rules::canonical(&mut c);
        Ok(c)
    }

    /// Full replace, keeping `id` and `created_at`. Returns whether anything changed; only then are
    /// `version` and `updated_at` bumped. On refusal `contact` is untouched.
    pub fn replace(self, contact: &mut Contact, now: i64) -> Result<bool, InvalidInput> {
        let mut next = self.into_contact(contact.id, contact.created_at)?;
        next.updated_at = contact.updated_at;
        next.version = contact.version;
        if next == *contact {
            return Ok(false);
        }
        next.updated_at = now;
        next.version += 1;
        *contact = next;
        Ok(true)
    }

    /// The same values as a patch that only sets what was given, for an upsert that lands on an
    /// existing contact: absent fields and slots are kept; non-empty `tag_ids` replace the tags.
    pub fn into_patch(self) -> ContactPatch {
        let set = |v: Option<String>| v.map_or(Patch::Keep, Patch::Set);
        let emails = self.emails.into_iter().map(|e| EmailPatch {
            field: e.field,
            email: Patch::Set(e.email),
        });
        let phones = self.phones.into_iter().map(|p| PhonePatch {
            field: p.field,
            number: Patch::Set(p.number),
            extension: set(p.extension),
            kind: set(p.kind),
        });
        let addresses = self.addresses.into_iter().map(|a| AddressPatch {
            field: a.field,
            line1: set(a.line1),
            line2: set(a.line2),
            locality: set(a.locality),
            region: set(a.region),
            postal_code: set(a.postal_code),
            country_code: set(a.country_code),
        });
        ContactPatch {
            given_name: set(self.given_name),
            middle_name: set(self.middle_name),
            family_name: set(self.family_name),
            company: set(self.company),
            job_title: set(self.job_title),
            emails: Patch::unless_empty(emails.collect()),
            phones: Patch::unless_empty(phones.collect()),
            addresses: Patch::unless_empty(addresses.collect()),
            tag_ids: Patch::unless_empty(self.tag_ids),
            source: set(self.source),
        }
    }

    /// The patch an upsert applies to the `existing` contact it matched: as [`into_patch`](Self::into_patch),
    /// except that an address the contact already holds stays in its slot rather than moving (moving it
    /// would hold it twice).
    pub fn into_patch_for(self, existing: &Contact) -> ContactPatch {
        let mut patch = self.into_patch();
        if let Patch::Set(emails) = &mut patch.emails {
            emails.retain(|e| match &e.email {
                Patch::Set(addr) => {
                    !existing.has_email(addr)
                        || existing.email(e.field).is_some_and(|held| {
                            crate::email::normalize(held) == crate::email::normalize(addr)
                        })
                }
                _ => true,
            });
            if emails.is_empty() {
                patch.emails = Patch::Keep;
            }
        }
        patch
    }

    /// The address a duplicate check looks up: `EMAIL1`, else the first given; normalised.
    pub fn primary_email(&self) -> Option<String> {
        let first = self.emails.iter().min_by_key(|e| e.field)?;
        Some(crate::email::normalize(&first.email)).filter(|e| !e.is_empty())
    }
}

/// A stored contact's values as input (for an XML-RPC `addWithDupCheck`, whose struct is first applied to
/// an empty contact).
impl From<Contact> for ContactInput {
    fn from(c: Contact) -> Self {
        Self {
            given_name: c.given_name,
            middle_name: c.middle_name,
            family_name: c.family_name,
            company: c.company,
            job_title: c.job_title,
            emails: c.emails,
            phones: c.phones,
            addresses: c.addresses,
            tag_ids: c.tag_ids,
            source: c.source,
        }
    }
}

wire_enum!(
    /// How an upsert (`PUT /contacts`, `addWithDupCheck`) recognises an existing contact.
    DuplicateOption, "duplicate_option" { Email = "Email", EmailAndName = "EmailAndName" }
);

impl DuplicateOption {
    /// Whether `existing` is the contact `input` describes. The input's primary email must be in one of
    /// the existing contact's slots; `EmailAndName` also wants equal given and family names (trimmed,
    /// case-insensitive, a missing name equal only to a missing one). No email never matches.
    pub fn matches(self, existing: &Contact, input: &ContactInput) -> bool {
        let Some(email) = input.primary_email() else {
            return false;
        };
        if !existing.has_email(&email) {
            return false;
        }
        let same = |a: &Option<String>, b: &Option<String>| {
            let fold = |v: &Option<String>| v.as_deref().and_then(rules::clean).map(|s| s.to_lowercase());
            fold(a) == fold(b)
        };
        match self {
            DuplicateOption::Email => true,
            DuplicateOption::EmailAndName => {
                same(&existing.given_name, &input.given_name)
                    && same(&existing.family_name, &input.family_name)
            }
        }
    }
}

#[cfg(test)]
#[path = "input_tests.rs"]
mod tests;
