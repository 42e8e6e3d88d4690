//! A partial update (REST `PATCH`, XML-RPC `update`): every field is left alone, cleared or set.

use serde::{Deserialize, Serialize};

pub use super::field_patch::Patch;
use super::model::{Address, AddressField, Contact, EmailAddress, EmailField, PhoneField, PhoneNumber};
use super::rules::{self, at};
use crate::InvalidInput;

/// Changes one email slot; clearing (or blanking) `email` empties the slot.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct EmailPatch {
    pub field: EmailField,
    #[serde(default, skip_serializing_if = "Patch::is_keep")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub email: Patch<String>,
}

/// Changes one phone slot part by part; a slot left without a number is emptied.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct PhonePatch {
    pub field: PhoneField,
    #[serde(default, skip_serializing_if = "Patch::is_keep")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub number: Patch<String>,
    #[serde(default, skip_serializing_if = "Patch::is_keep")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub extension: Patch<String>,
    #[serde(default, rename = "type", skip_serializing_if = "Patch::is_keep")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub kind: Patch<String>,
}

/// Changes one address slot part by part; a slot left with no part is emptied.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct AddressPatch {
    pub field: AddressField,
    #[serde(default, skip_serializing_if = "Patch::is_keep")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub line1: Patch<String>,
    #[serde(default, skip_serializing_if = "Patch::is_keep")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub line2: Patch<String>,
    #[serde(default, skip_serializing_if = "Patch::is_keep")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub locality: Patch<String>,
    #[serde(default, skip_serializing_if = "Patch::is_keep")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub region: Patch<String>,
    #[serde(default, skip_serializing_if = "Patch::is_keep")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub postal_code: Patch<String>,
    #[serde(default, skip_serializing_if = "Patch::is_keep")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub country_code: Patch<String>,
}

impl AddressPatch {
    pub fn keep(field: AddressField) -> Self {
        Self {
            field,
            line1: Patch::Keep,
            line2: Patch::Keep,
            locality: Patch::Keep,
            region: Patch::Keep,
            postal_code: Patch::Keep,
            country_code: Patch::Keep,
        }
    }

    /// The six parts in `Address::parts` order.
    pub fn parts(&self) -> [&Patch<String>; 6] {
        let p = self;
        [
            &p.line1,
            &p.line2,
            &p.locality,
            &p.region,
            &p.postal_code,
            &p.country_code,
        ]
    }

    pub fn parts_mut(&mut self) -> [&mut Patch<String>; 6] {
        let p = self;
        [
            &mut p.line1,
            &mut p.line2,
            &mut p.locality,
            &mut p.region,
            &mut p.postal_code,
            &mut p.country_code,
        ]
    }
}

/// The lists merge by slot: `null` empties the whole list, a list changes only the slots it names
/// (so `[]` changes nothing). `tag_ids` is replaced whole.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ContactPatch {
    #[serde(default, skip_serializing_if = "Patch::is_keep")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub given_name: Patch<String>,
    #[serde(default, skip_serializing_if = "Patch::is_keep")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub middle_name: Patch<String>,
    #[serde(default, skip_serializing_if = "Patch::is_keep")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub family_name: Patch<String>,
    #[serde(default, rename = "company_name", skip_serializing_if = "Patch::is_keep")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub company: Patch<String>,
    #[serde(default, skip_serializing_if = "Patch::is_keep")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub job_title: Patch<String>,
    #[serde(default, rename = "email_addresses", skip_serializing_if = "Patch::is_keep")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Vec<EmailPatch>>))]
    pub emails: Patch<Vec<EmailPatch>>,
    #[serde(default, rename = "phone_numbers", skip_serializing_if = "Patch::is_keep")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Vec<PhonePatch>>))]
    pub phones: Patch<Vec<PhonePatch>>,
    #[serde(default, skip_serializing_if = "Patch::is_keep")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Vec<AddressPatch>>))]
    pub addresses: Patch<Vec<AddressPatch>>,
    #[serde(default, skip_serializing_if = "Patch::is_keep")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Vec<i64>>))]
    pub tag_ids: Patch<Vec<i64>>,
    #[serde(default, rename = "source_type", skip_serializing_if = "Patch::is_keep")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub source: Patch<String>,
}

impl ContactPatch {
    /// Checks the values being set; refusals name positions in the patch's own lists.
    pub fn validate(&self) -> Result<(), InvalidInput> {
        let text = |f, p: &Patch<String>, max| p.value().map_or(Ok(()), |v| rules::text(f, &v, max));
        text("given_name", &self.given_name, rules::MAX_NAME_CHARS)?;
        text("middle_name", &self.middle_name, rules::MAX_NAME_CHARS)?;
        text("family_name", &self.family_name, rules::MAX_NAME_CHARS)?;
        text("company_name", &self.company, rules::MAX_TEXT_CHARS)?;
        text("job_title", &self.job_title, rules::MAX_TEXT_CHARS)?;
        text("source_type", &self.source, rules::MAX_TEXT_CHARS)?;
        let emails = self.emails.set().map_or(&[][..], Vec::as_slice);
        slots(
            "email_addresses",
            &rules::EMAIL_FIELD,
            emails,
            rules::MAX_EMAILS,
            |e| e.field,
        )?;
        for (i, e) in emails.iter().enumerate() {
            e.email
                .value()
                .map_or(Ok(()), |v| rules::email(at(&rules::EMAIL, i), &v))?;
        }
        let phones = self.phones.set().map_or(&[][..], Vec::as_slice);
        slots(
            "phone_numbers",
            &rules::PHONE_FIELD,
            phones,
            rules::MAX_PHONES,
            |p| p.field,
        )?;
        for (i, p) in phones.iter().enumerate() {
            let number = at(&rules::PHONE_NUMBER, i);
            p.number
                .value()
                .map_or(Ok(()), |v| rules::phone_number(number, &v))?;
            let ext = at(&rules::PHONE_EXTENSION, i);
            p.extension
                .value()
                .map_or(Ok(()), |v| rules::phone_extension(ext, &v))?;
            let kind = at(&rules::PHONE_TYPE, i);
            p.kind.value().map_or(Ok(()), |v| rules::phone_type(kind, &v))?;
        }
        let addresses = self.addresses.set().map_or(&[][..], Vec::as_slice);
        slots(
            "addresses",
            &rules::ADDRESS_FIELD,
            addresses,
            rules::MAX_ADDRESSES,
            |a| a.field,
        )?;
        for (i, a) in addresses.iter().enumerate() {
            for (name, part) in rules::address_part_names(i).into_iter().zip(a.parts()) {
                part.value()
                    .map_or(Ok(()), |v| rules::text(name, &v, rules::MAX_TEXT_CHARS))?;
            }
        }
        self.tag_ids.set().map_or(Ok(()), |t| rules::tags(t))
    }

    /// Applies the patch, then checks the merged contact (an address may now sit in two slots).
    /// Returns whether anything changed; only then are `version` and `updated_at` bumped. On refusal
    /// `contact` is untouched.
    pub fn apply(&self, contact: &mut Contact, now: i64) -> Result<bool, InvalidInput> {
        self.validate()?;
        let mut next = contact.clone();
        self.given_name.apply_text(&mut next.given_name);
        self.middle_name.apply_text(&mut next.middle_name);
        self.family_name.apply_text(&mut next.family_name);
        self.company.apply_text(&mut next.company);
        self.job_title.apply_text(&mut next.job_title);
        self.source.apply_text(&mut next.source);
        match &self.emails {
            Patch::Keep => {}
            Patch::Clear => next.emails.clear(),
            Patch::Set(v) => v.iter().for_each(|e| apply_email(e, &mut next.emails)),
        }
        match &self.phones {
            Patch::Keep => {}
            Patch::Clear => next.phones.clear(),
            Patch::Set(v) => v.iter().try_for_each(|p| apply_phone(p, &mut next.phones))?,
        }
        match &self.addresses {
            Patch::Keep => {}
            Patch::Clear => next.addresses.clear(),
            Patch::Set(v) => v.iter().for_each(|a| apply_address(a, &mut next.addresses)),
        }
        match &self.tag_ids {
            Patch::Keep => {}
            Patch::Clear => next.tag_ids.clear(),
            Patch::Set(v) => next.tag_ids.clone_from(v),
        }
        rules::canonical(&mut next);
        rules::check(&next)?;
        if next == *contact {
            return Ok(false);
        }
        next.version += 1;
        next.updated_at = now;
        *contact = next;
        Ok(true)
    }
}

fn slots<T, S: PartialEq + std::fmt::Display>(
    list: &'static str,
    names: &rules::Names,
    v: &[T],
    max: usize,
    slot: impl Fn(&T) -> S,
) -> Result<(), InvalidInput> {
    if v.len() > max {
        return Err(InvalidInput::new(list, format!("at most {max} entries")));
    }
    rules::slot_twice(names, &v.iter().map(slot).collect::<Vec<_>>())
}

fn apply_email(p: &EmailPatch, emails: &mut Vec<EmailAddress>) {
    if p.email.is_keep() {
        return;
    }
    emails.retain(|e| e.field != p.field);
    if let Some(email) = p.email.value() {
        emails.push(EmailAddress {
            field: p.field,
            email,
        });
    }
}

fn apply_phone(p: &PhonePatch, phones: &mut Vec<PhoneNumber>) -> Result<(), InvalidInput> {
    let old = phones
        .iter()
        .position(|x| x.field == p.field)
        .map(|i| phones.remove(i));
    let mut number = old.as_ref().map(|o| o.number.clone());
    let mut extension = old.as_ref().and_then(|o| o.extension.clone());
    let mut kind = old.and_then(|o| o.kind);
    p.number.apply_text(&mut number);
    p.extension.apply_text(&mut extension);
    p.kind.apply_text(&mut kind);
    match number {
        Some(number) => phones.push(PhoneNumber {
            field: p.field,
            number,
            extension,
            kind,
        }),
        // Clearing the number empties the slot; describing a phone that has no number is a mistake.
        None if p.number.is_keep() && (extension.is_some() || kind.is_some()) => {
            return Err(InvalidInput::new(
                "phone_numbers",
                format!("{} has no number; send one with its extension or type", p.field),
            ));
        }
        None => {}
    }
    Ok(())
}

fn apply_address(p: &AddressPatch, addresses: &mut Vec<Address>) {
    let old = addresses
        .iter()
        .position(|x| x.field == p.field)
        .map(|i| addresses.remove(i));
    let mut a = old.unwrap_or_else(|| Address::empty(p.field));
    for (patch, part) in p.parts().into_iter().zip(a.parts_mut()) {
        patch.apply_text(part);
    }
    if !a.is_empty() {
        addresses.push(a);
    }
}

#[cfg(test)]
#[path = "patch_tests.rs"]
mod tests;
