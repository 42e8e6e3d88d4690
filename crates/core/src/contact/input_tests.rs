use super::*;
use crate::contact::model::tests::sample;
use crate::contact::model::{AddressField, EmailField, PhoneField};

fn parse(json: &str) -> ContactInput {
    serde_json::from_str(json).unwrap()
}

fn refusal(json: &str) -> InvalidInput {
    parse(json).validate().unwrap_err()
}

fn email(field: EmailField, email: &str) -> EmailAddress {
    EmailAddress {
        field,
        email: email.into(),
    }
}

#[test]
fn reads_the_rest_wire() {
    let input = parse(
        r#"{"given_name":"Ann","company_name":"Acme","source_type":"API","tag_ids":null,
        "email_addresses":[{"email":"a@example.com","field":"EMAIL1"}],
        "phone_numbers":[{"number":"555","type":"Mobile","field":"PHONE1"}],
        "addresses":[{"locality":"Oslo","field":"OTHER"}]}"#,
    );
    assert_eq!(input.company.as_deref(), Some("Acme"));
    assert_eq!(input.source.as_deref(), Some("API"));
    assert_eq!(input.phones[0].kind.as_deref(), Some("Mobile"));
    assert_eq!(input.addresses[0].field, AddressField::Other);
    assert!(input.tag_ids.is_empty());
    let err = serde_json::from_str::<ContactInput>(r#"{"givenName":"Ann"}"#).unwrap_err();
    assert!(err.to_string().contains("unknown field `givenName`"), "{err}");
    let err = serde_json::from_str::<ContactInput>(r#"{"addresses":[{"field":"OTHER","zip_code":"1"}]}"#)
        .unwrap_err();
    assert!(err.to_string().contains("unknown field `zip_code`"), "{err}");
}

#[test]
fn builds_a_clean_canonical_contact() {
    let input = ContactInput {
        given_name: Some("  Ann ".into()),
        family_name: Some("   ".into()),
        emails: vec![
            email(EmailField::Email3, " c@example.com "),
            email(EmailField::Email1, "A@x.io"),
        ],
        phones: vec![PhoneNumber {
            field: PhoneField::Phone2,
            number: " (555) 010-0100 ".into(),
            extension: Some(" ".into()),
            kind: None,
        }],
        addresses: vec![Address::empty(AddressField::Billing)],
        tag_ids: vec![9, 3, 9],
        ..ContactInput::default()
    };
    let c = input.into_contact(4, 100).unwrap();
    assert_eq!((c.id, c.created_at, c.updated_at, c.version), (4, 100, 100, 1));
    assert_eq!(c.given_name.as_deref(), Some("Ann"));
    assert_eq!(c.family_name, None, "blank is no value");
    assert_eq!(
        c.emails,
        [
            email(EmailField::Email1, "A@x.io"),
            email(EmailField::Email3, "c@example.com")
        ]
    );
    assert_eq!(c.phones[0].number, "(555) 010-0100");
    assert_eq!(c.phones[0].extension, None);
    assert!(c.addresses.is_empty(), "an empty address is dropped");
    assert_eq!(c.tag_ids, [3, 9]);
}

#[test]
fn refuses_with_the_wire_field_name() {
    let long = "x".repeat(101);
    let cases = [
        (format!(r#"{{"given_name":"{long}"}}"#), "given_name"),
        (format!(r#"{{"company_name":"{}"}}"#, "c".repeat(256)), "company_name"),
        (r#"{"job_title":"a\nb"}"#.to_owned(), "job_title"),
        (
            r#"{"email_addresses":[{"email":"a@x.io","field":"EMAIL1"},{"email":"nope","field":"EMAIL2"}]}"#
                .to_owned(),
            "email_addresses[1].email",
        ),
        (
            r#"{"email_addresses":[{"email":"a@x.io","field":"EMAIL2"},{"email":"b@x.io","field":"EMAIL2"}]}"#
                .to_owned(),
            "email_addresses[1].field",
        ),
        (
            r#"{"email_addresses":[{"email":"a@x.io","field":"EMAIL1"},{"email":" A@X.IO","field":"EMAIL2"}]}"#
                .to_owned(),
            "email_addresses[1].email",
        ),
        (r#"{"phone_numbers":[{"number":"555 CALL","field":"PHONE1"}]}"#.to_owned(), "phone_numbers[0].number"),
        (
            format!(r#"{{"phone_numbers":[{{"number":"{}","field":"PHONE1"}}]}}"#, "1".repeat(41)),
            "phone_numbers[0].number",
        ),
        (r#"{"phone_numbers":[{"number":"-()","field":"PHONE1"}]}"#.to_owned(), "phone_numbers[0].number"),
        (
            format!(r#"{{"addresses":[{{"line1":"{}","field":"OTHER"}}]}}"#, "l".repeat(256)),
            "addresses[0].line1",
        ),
        (r#"{"tag_ids":[1,0]}"#.to_owned(), "tag_ids"),
        (format!(r#"{{"tag_ids":[{}]}}"#, vec!["1"; 101].join(",")), "tag_ids"),
    ];
    for (json, field) in cases {
        assert_eq!(refusal(&json).field, field, "{json}");
    }
    assert!(refusal(
        r#"{"email_addresses":[{"email":"a@x.io","field":"EMAIL1"},{"email":" A@X.IO","field":"EMAIL2"}]}"#
    )
    .message
    .contains("EMAIL1"));
    let four = ContactInput {
        emails: [EmailField::Email1; 4]
            .iter()
            .map(|f| email(*f, "a@x.io"))
            .collect(),
        ..ContactInput::default()
    };
    assert_eq!(four.validate().unwrap_err().field, "email_addresses");
    let fine =
        parse(r#"{"given_name":"Ann","phone_numbers":[{"number":"+1 (555) 010-0100.","field":"PHONE5"}]}"#);
    assert!(fine.validate().is_ok());
}

#[test]
fn replace_keeps_identity_and_bumps_only_on_change() {
    let mut c = sample();
    let same = ContactInput {
        given_name: c.given_name.clone(),
        family_name: c.family_name.clone(),
        company: c.company.clone(),
        emails: c.emails.clone(),
        phones: c.phones.clone(),
        addresses: c.addresses.clone(),
        tag_ids: c.tag_ids.clone(),
        source: c.source.clone(),
        ..ContactInput::default()
    };
    assert!(!same.clone().replace(&mut c, 999).unwrap());
    assert_eq!(c, sample());
    let mut other = same;
    other.company = None;
    assert!(other.clone().replace(&mut c, 999).unwrap());
    assert_eq!(
        (c.id, c.created_at, c.updated_at, c.version),
        (7, 1_700_000_000, 999, 3)
    );
    assert_eq!(c.company, None);
    other.given_name = Some("x".repeat(101));
    assert!(other.replace(&mut c, 1000).is_err());
    assert_eq!(c.version, 3, "a refused replace changes nothing");
}

#[test]
fn into_patch_sets_only_what_was_given() {
    let input = parse(r#"{"family_name":"Ng","email_addresses":[{"email":"n@x.io","field":"EMAIL2"}]}"#);
    let patch = input.into_patch();
    assert!(patch.given_name.is_keep() && patch.tag_ids.is_keep() && patch.phones.is_keep());
    let mut c = sample();
    assert!(patch.apply(&mut c, 5).unwrap());
    assert_eq!(c.given_name.as_deref(), Some("Ann"));
    assert_eq!(c.family_name.as_deref(), Some("Ng"));
    assert_eq!(c.emails.len(), 3);
    assert_eq!(c.email(EmailField::Email2), Some("n@x.io"));
}

#[test]
fn primary_email_prefers_the_first_slot() {
    let mut input = ContactInput::default();
    assert_eq!(input.primary_email(), None);
    input.emails = vec![
        email(EmailField::Email3, "C@x.io"),
        email(EmailField::Email2, " B@x.io"),
    ];
    assert_eq!(input.primary_email().as_deref(), Some("b@x.io"));
}

#[test]
fn duplicate_options() {
    let existing = sample();
    let mut input = ContactInput {
        given_name: Some("ann ".into()),
        family_name: Some("LEE".into()),
        emails: vec![email(EmailField::Email1, "ANN@work.example")],
        ..ContactInput::default()
    };
    assert!(
        DuplicateOption::Email.matches(&existing, &input),
        "any slot, any case"
    );
    assert!(DuplicateOption::EmailAndName.matches(&existing, &input));
    input.given_name = Some("Anna".into());
    assert!(!DuplicateOption::EmailAndName.matches(&existing, &input));
    input.given_name = Some("ANN".into());
    input.family_name = None;
    assert!(DuplicateOption::Email.matches(&existing, &input));
    assert!(!DuplicateOption::EmailAndName.matches(&existing, &input));
    input.emails = vec![email(EmailField::Email1, "other@example.com")];
    assert!(!DuplicateOption::Email.matches(&existing, &input));
    input.emails.clear();
    assert!(
        !DuplicateOption::Email.matches(&existing, &input),
        "no email never matches"
    );
    assert_eq!(
        DuplicateOption::parse("EmailAndName").unwrap(),
        DuplicateOption::EmailAndName
    );
    assert_eq!(
        DuplicateOption::parse("email").unwrap_err().field,
        "duplicate_option"
    );
    assert_eq!(
        serde_json::to_string(&DuplicateOption::Email).unwrap(),
        r#""Email""#
    );
}

#[test]
fn an_upsert_leaves_a_held_address_in_its_slot() {
    // sample() holds ann@work.example in EMAIL3 and Ann@Example.com in EMAIL1.
    let mut c = sample();
    let input = ContactInput {
        emails: vec![
            email(EmailField::Email1, "ANN@WORK.EXAMPLE"),
            email(EmailField::Email2, "new@x.io"),
        ],
        job_title: Some("Buyer".into()),
        ..ContactInput::default()
    };
    assert!(
        input.clone().into_patch().apply(&mut sample(), 1).is_err(),
        "moving it would hold it twice"
    );
    assert!(input.into_patch_for(&c.clone()).apply(&mut c, 1).unwrap());
    assert_eq!(c.email(EmailField::Email1), Some("Ann@Example.com"));
    assert_eq!(c.email(EmailField::Email2), Some("new@x.io"));
    assert_eq!(c.email(EmailField::Email3), Some("ann@work.example"));
    assert_eq!(c.job_title.as_deref(), Some("Buyer"));
}
