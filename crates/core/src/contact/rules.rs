//! The checks shared by full inputs, patches and the merged result, so every door refuses the same
//! values with the same field names.

use super::model::{Address, Contact, EmailAddress, PhoneNumber};
use crate::InvalidInput;

pub const MAX_NAME_CHARS: usize = 100;
/// Company, job title, lead source and every address part.
pub const MAX_TEXT_CHARS: usize = 255;
pub const MAX_PHONE_CHARS: usize = 40;
pub(super) const MAX_EXTENSION_CHARS: usize = 20;
pub(super) const MAX_PHONE_TYPE_CHARS: usize = 40;
pub const MAX_EMAILS: usize = 3;
pub const MAX_PHONES: usize = 5;
pub const MAX_ADDRESSES: usize = 3;
pub const MAX_TAGS: usize = 100;

/// `InvalidInput::field` is `&'static str`; list positions are bounded by the slot counts (checked
/// first), so every name a refusal can carry is spelled out here.
macro_rules! indexed {
    ($list:literal, $prop:literal) => {
        [
            concat!($list, "[0].", $prop),
            concat!($list, "[1].", $prop),
            concat!($list, "[2].", $prop),
            concat!($list, "[3].", $prop),
            concat!($list, "[4].", $prop),
        ]
    };
}
pub(super) type Names = [&'static str; 5];
pub(super) const EMAIL: Names = indexed!("email_addresses", "email");
pub(super) const EMAIL_FIELD: Names = indexed!("email_addresses", "field");
pub(super) const PHONE_NUMBER: Names = indexed!("phone_numbers", "number");
pub(super) const PHONE_EXTENSION: Names = indexed!("phone_numbers", "extension");
pub(super) const PHONE_TYPE: Names = indexed!("phone_numbers", "type");
pub(super) const PHONE_FIELD: Names = indexed!("phone_numbers", "field");
pub(super) const ADDRESS_FIELD: Names = indexed!("addresses", "field");
const ADDRESS_PARTS: [Names; 6] = [
    indexed!("addresses", "line1"),
    indexed!("addresses", "line2"),
    indexed!("addresses", "locality"),
    indexed!("addresses", "region"),
    indexed!("addresses", "postal_code"),
    indexed!("addresses", "country_code"),
];

pub(super) fn at(names: &Names, i: usize) -> &'static str {
    names[i.min(names.len() - 1)]
}

/// Trims; a blank value is no value (XML-RPC clears a field by sending "").
pub(super) fn clean(v: &str) -> Option<String> {
    let t = v.trim();
    (!t.is_empty()).then(|| t.to_owned())
}

pub(super) fn clean_opt(v: &mut Option<String>) {
    *v = v.as_deref().and_then(clean);
}

/// A single-line text of at most `max` characters.
pub(super) fn text(field: &'static str, v: &str, max: usize) -> Result<(), InvalidInput> {
    if v.chars().count() > max {
        return Err(InvalidInput::new(
            field,
            format!("must be at most {max} characters"),
        ));
    }
    if v.chars().any(char::is_control) {
        return Err(InvalidInput::new(field, "must not contain control characters"));
    }
    Ok(())
}

pub(super) fn opt_text(field: &'static str, v: &Option<String>, max: usize) -> Result<(), InvalidInput> {
    v.as_deref().map_or(Ok(()), |v| text(field, v, max))
}

pub(super) fn email(field: &'static str, v: &str) -> Result<(), InvalidInput> {
    crate::email::validate(v).map_err(|e| InvalidInput::new(field, e.message))
}

pub(super) fn phone_number(field: &'static str, v: &str) -> Result<(), InvalidInput> {
    text(field, v, MAX_PHONE_CHARS)?;
    let allowed = |c: char| c.is_ascii_digit() || " +-().".contains(c);
    if !v.chars().all(allowed) || !v.chars().any(|c| c.is_ascii_digit()) {
        return Err(InvalidInput::new(
            field,
            "must be digits, spaces and + - ( ) . only",
        ));
    }
    Ok(())
}

pub(super) fn phone_extension(field: &'static str, v: &str) -> Result<(), InvalidInput> {
    text(field, v, MAX_EXTENSION_CHARS)
}

pub(super) fn phone_type(field: &'static str, v: &str) -> Result<(), InvalidInput> {
    text(field, v, MAX_PHONE_TYPE_CHARS)
}

/// The names of an address's six parts, in wire order, at list position `i`.
pub(super) fn address_part_names(i: usize) -> [&'static str; 6] {
    ADDRESS_PARTS.map(|names| at(&names, i))
}

pub(super) fn tags(v: &[i64]) -> Result<(), InvalidInput> {
    if v.len() > MAX_TAGS {
        return Err(InvalidInput::new("tag_ids", format!("at most {MAX_TAGS} tags")));
    }
    if v.iter().any(|&t| t <= 0) {
        return Err(InvalidInput::new("tag_ids", "tag ids must be positive"));
    }
    Ok(())
}

/// Every rule on a whole contact whose strings were cleaned; refusals name list positions as given.
pub(super) fn check(c: &Contact) -> Result<(), InvalidInput> {
    opt_text("given_name", &c.given_name, MAX_NAME_CHARS)?;
    opt_text("middle_name", &c.middle_name, MAX_NAME_CHARS)?;
    opt_text("family_name", &c.family_name, MAX_NAME_CHARS)?;
    opt_text("company_name", &c.company, MAX_TEXT_CHARS)?;
    opt_text("job_title", &c.job_title, MAX_TEXT_CHARS)?;
    opt_text("source_type", &c.source, MAX_TEXT_CHARS)?;
    check_emails(&c.emails)?;
    check_phones(&c.phones)?;
    check_addresses(&c.addresses)?;
    tags(&c.tag_ids)
}

fn count(field: &'static str, n: usize, max: usize) -> Result<(), InvalidInput> {
    if n > max {
        return Err(InvalidInput::new(field, format!("at most {max} entries")));
    }
    Ok(())
}

/// The position of an earlier entry with the same key, if any.
fn earlier<T: PartialEq>(keys: &[T], i: usize) -> Option<usize> {
    keys.iter().take(i).position(|k| keys.get(i) == Some(k))
}

pub(super) fn slot_twice<T: PartialEq + std::fmt::Display>(
    names: &Names,
    slots: &[T],
) -> Result<(), InvalidInput> {
    for (i, slot) in slots.iter().enumerate() {
        if earlier(slots, i).is_some() {
            return Err(InvalidInput::new(at(names, i), format!("{slot} is used twice")));
        }
    }
    Ok(())
}

fn check_emails(v: &[EmailAddress]) -> Result<(), InvalidInput> {
    count("email_addresses", v.len(), MAX_EMAILS)?;
    let slots: Vec<_> = v.iter().map(|e| e.field).collect();
    slot_twice(&EMAIL_FIELD, &slots)?;
    for (i, e) in v.iter().enumerate() {
        email(at(&EMAIL, i), &e.email)?;
    }
    let normalized: Vec<_> = v.iter().map(|e| crate::email::normalize(&e.email)).collect();
    for (i, e) in v.iter().enumerate() {
        if let Some(j) = earlier(&normalized, i) {
            let other = v.get(j).map_or(e.field, |o| o.field);
            let msg = format!("the same address as {other}");
            return Err(InvalidInput::new(at(&EMAIL, i), msg));
        }
    }
    Ok(())
}

fn check_phones(v: &[PhoneNumber]) -> Result<(), InvalidInput> {
    count("phone_numbers", v.len(), MAX_PHONES)?;
    let slots: Vec<_> = v.iter().map(|p| p.field).collect();
    slot_twice(&PHONE_FIELD, &slots)?;
    for (i, p) in v.iter().enumerate() {
        phone_number(at(&PHONE_NUMBER, i), &p.number)?;
        if let Some(x) = &p.extension {
            phone_extension(at(&PHONE_EXTENSION, i), x)?;
        }
        if let Some(t) = &p.kind {
            phone_type(at(&PHONE_TYPE, i), t)?;
        }
    }
    Ok(())
}

fn check_addresses(v: &[Address]) -> Result<(), InvalidInput> {
    count("addresses", v.len(), MAX_ADDRESSES)?;
    let slots: Vec<_> = v.iter().map(|a| a.field).collect();
    slot_twice(&ADDRESS_FIELD, &slots)?;
    for (i, a) in v.iter().enumerate() {
        for (name, part) in address_part_names(i).into_iter().zip(a.parts()) {
            opt_text(name, part, MAX_TEXT_CHARS)?;
        }
    }
    Ok(())
}

/// Trims every string in place without reordering, so refusals still point at the caller's positions.
pub(super) fn clean_contact(c: &mut Contact) {
    for v in [
        &mut c.given_name,
        &mut c.middle_name,
        &mut c.family_name,
        &mut c.company,
        &mut c.job_title,
        &mut c.source,
    ] {
        clean_opt(v);
    }
    for e in &mut c.emails {
        e.email = e.email.trim().to_owned();
    }
    for p in &mut c.phones {
        p.number = p.number.trim().to_owned();
        clean_opt(&mut p.extension);
        clean_opt(&mut p.kind);
    }
    for a in &mut c.addresses {
        a.parts_mut().into_iter().for_each(clean_opt);
    }
}

/// The stored form once checked: lists in slot order, empty addresses dropped, tags as a sorted set.
pub(super) fn canonical(c: &mut Contact) {
    c.emails.sort_by_key(|e| e.field);
    c.phones.sort_by_key(|p| p.field);
    c.addresses.retain(|a| !a.is_empty());
    c.addresses.sort_by_key(|a| a.field);
    c.tag_ids.sort_unstable();
    c.tag_ids.dedup();
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::contact::model::tests::sample;
    use crate::contact::model::AddressField;

    #[test]
    fn cleaning_and_text() {
        assert_eq!(clean("  a b "), Some("a b".into()));
        assert_eq!(clean(" \t"), None);
        assert!(text("f", &"é".repeat(100), 100).is_ok(), "characters, not bytes");
        assert_eq!(text("f", &"é".repeat(101), 100).unwrap_err().field, "f");
        assert!(text("f", "a\u{7}", 10).is_err());
    }

    #[test]
    fn phones_and_names() {
        assert!(phone_number("p", "+44 (0)20 7946.0018").is_ok());
        for bad in ["", "()", "555-CALL", "12/34", &"1".repeat(41)] {
            assert!(phone_number("p", bad).is_err(), "{bad}");
        }
        assert_eq!(at(&EMAIL, 1), "email_addresses[1].email");
        assert_eq!(at(&PHONE_TYPE, 9), "phone_numbers[4].type");
        assert_eq!(address_part_names(2)[5], "addresses[2].country_code");
        let twice = slot_twice(&ADDRESS_FIELD, &[1, 2, 1]).unwrap_err();
        assert_eq!(twice.field, "addresses[2].field");
    }

    #[test]
    fn canonical_order() {
        let mut c = sample();
        c.addresses.insert(0, Address::empty(AddressField::Billing));
        c.emails.reverse();
        c.tag_ids = vec![5, 1, 5];
        canonical(&mut c);
        assert_eq!(c.emails, sample().emails);
        assert_eq!(c.addresses, sample().addresses);
        assert_eq!(c.tag_ids, [1, 5]);
        assert!(check(&c).is_ok());
    }
}
