use super::*;
use crate::contact::model::tests::sample;

fn patch(json: &str) -> ContactPatch {
    serde_json::from_str(json).unwrap()
}

/// Applies to the sample contact at time 50, returning the result and whether it changed.
fn applied(json: &str) -> (Contact, bool) {
    let mut c = sample();
    let changed = patch(json).apply(&mut c, 50).unwrap();
    (c, changed)
}

fn refused(json: &str) -> InvalidInput {
    let mut c = sample();
    let err = patch(json).apply(&mut c, 50).unwrap_err();
    assert_eq!(c, sample(), "a refused patch leaves the contact alone");
    err
}

#[test]
fn tri_state_on_the_wire() {
    let p = patch(r#"{"given_name":"Bo","family_name":null,"tag_ids":[1]}"#);
    assert_eq!(p.given_name, Patch::Set("Bo".into()));
    assert_eq!(p.family_name, Patch::Clear);
    assert_eq!(p.middle_name, Patch::Keep);
    assert_eq!(p.tag_ids, Patch::Set(vec![1]));
    assert_eq!(
        serde_json::to_string(&p).unwrap(),
        r#"{"given_name":"Bo","family_name":null,"tag_ids":[1]}"#
    );
    let err = serde_json::from_str::<ContactPatch>(r#"{"nickname":"x"}"#).unwrap_err();
    assert!(err.to_string().contains("unknown field `nickname`"), "{err}");
}

#[test]
fn scalars_keep_clear_and_set() {
    let (c, changed) = applied(r#"{"given_name":" Bo ","company_name":null,"job_title":"CTO"}"#);
    assert!(changed);
    assert_eq!(c.given_name.as_deref(), Some("Bo"));
    assert_eq!(c.company, None);
    assert_eq!(c.job_title.as_deref(), Some("CTO"));
    assert_eq!(c.family_name.as_deref(), Some("Lee"), "absent is kept");
    assert_eq!((c.version, c.updated_at), (3, 50));
    let (c, _) = applied(r#"{"source_type":"  "}"#);
    assert_eq!(c.source, None, "blank clears");
}

#[test]
fn no_change_bumps_nothing() {
    let (c, changed) = applied(r#"{"given_name":"Ann","email_addresses":[],"tag_ids":[9,3]}"#);
    assert!(!changed);
    assert_eq!(c, sample());
}

#[test]
fn emails_merge_by_slot() {
    let (c, _) = applied(r#"{"email_addresses":[{"field":"EMAIL2","email":"b@x.io"}]}"#);
    let slots: Vec<_> = c.emails.iter().map(|e| e.field).collect();
    assert_eq!(
        slots,
        [EmailField::Email1, EmailField::Email2, EmailField::Email3]
    );
    let (c, _) = applied(r#"{"email_addresses":[{"field":"EMAIL1","email":null}]}"#);
    assert_eq!(c.emails.len(), 1);
    assert_eq!(c.email(EmailField::Email1), None);
    let (c, _) = applied(r#"{"email_addresses":null}"#);
    assert!(c.emails.is_empty());
    let err = refused(r#"{"email_addresses":[{"field":"EMAIL2","email":"ANN@example.com"}]}"#);
    assert!(
        err.field.starts_with("email_addresses[") && err.message.contains("EMAIL1"),
        "{err}"
    );
}

#[test]
fn phones_merge_part_by_part() {
    let (c, _) = applied(r#"{"phone_numbers":[{"field":"PHONE2","extension":"99"}]}"#);
    let p = c.phone(PhoneField::Phone2).unwrap();
    assert_eq!(
        (p.number.as_str(), p.extension.as_deref(), p.kind.as_deref()),
        ("+1 555-0100", Some("99"), Some("Work"))
    );
    let (c, _) = applied(r#"{"phone_numbers":[{"field":"PHONE2","number":null,"type":"Home"}]}"#);
    assert!(c.phones.is_empty(), "no number, no phone");
    let (c, _) = applied(r#"{"phone_numbers":[{"field":"PHONE1","number":"123"}]}"#);
    assert_eq!(
        c.phones.iter().map(|p| p.field).collect::<Vec<_>>(),
        [PhoneField::Phone1, PhoneField::Phone2]
    );
    let err = refused(r#"{"phone_numbers":[{"field":"PHONE4","type":"Mobile"}]}"#);
    assert_eq!(err.field, "phone_numbers");
    assert!(err.message.contains("PHONE4"));
}

#[test]
fn addresses_merge_part_by_part() {
    let (c, _) = applied(
        r#"{"addresses":[{"field":"BILLING","region":"MA"},{"field":"SHIPPING","line1":"1 Main St"}]}"#,
    );
    assert_eq!(
        c.address(AddressField::Billing).unwrap().region.as_deref(),
        Some("MA")
    );
    let ship = c.address(AddressField::Shipping).unwrap();
    assert_eq!(
        (ship.line1.as_deref(), ship.locality.as_deref()),
        (Some("1 Main St"), Some("Boston"))
    );
    let (c, _) = applied(r#"{"addresses":[{"field":"SHIPPING","locality":""}]}"#);
    assert!(c.addresses.is_empty(), "the last part cleared drops the slot");
}

#[test]
fn tags_are_replaced_whole() {
    let (c, _) = applied(r#"{"tag_ids":[5,1,5]}"#);
    assert_eq!(c.tag_ids, [1, 5]);
    let (c, _) = applied(r#"{"tag_ids":null}"#);
    assert!(c.tag_ids.is_empty());
    assert_eq!(refused(r#"{"tag_ids":[-1]}"#).field, "tag_ids");
}

#[test]
fn refusals_name_the_patch_positions() {
    let cases = [
        (r#"{"middle_name":"a\u0000b"}"#, "middle_name"),
        (
            r#"{"email_addresses":[{"field":"EMAIL3","email":"bad"}]}"#,
            "email_addresses[0].email",
        ),
        (
            r#"{"email_addresses":[{"field":"EMAIL3","email":"a@x.io"},{"field":"EMAIL3","email":"b@x.io"}]}"#,
            "email_addresses[1].field",
        ),
        (
            r#"{"phone_numbers":[{"field":"PHONE1","number":"12"},{"field":"PHONE3","number":"x"}]}"#,
            "phone_numbers[1].number",
        ),
        (
            r#"{"phone_numbers":[{"field":"PHONE1","number":"1","extension":"123456789012345678901"}]}"#,
            "phone_numbers[0].extension",
        ),
        (
            r#"{"phone_numbers":[{"field":"PHONE1","number":"1","type":"a\tb"}]}"#,
            "phone_numbers[0].type",
        ),
    ];
    for (json, field) in cases {
        assert_eq!(refused(json).field, field, "{json}");
    }
    let long = format!(
        r#"{{"addresses":[{{"field":"OTHER","postal_code":"{}"}}]}}"#,
        "9".repeat(256)
    );
    assert_eq!(refused(&long).field, "addresses[0].postal_code");
    let four = format!(
        r#"{{"email_addresses":[{}]}}"#,
        [r#"{"field":"EMAIL1"}"#; 4].join(",")
    );
    assert_eq!(patch(&four).validate().unwrap_err().field, "email_addresses");
    assert!(
        patch(r#"{"email_addresses":[{"field":"EMAIL2","email":""}]}"#)
            .validate()
            .is_ok(),
        "blank clears"
    );
}
