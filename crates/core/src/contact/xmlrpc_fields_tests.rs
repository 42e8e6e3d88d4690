use super::*;
use crate::contact::model::tests::sample;

fn text(v: &str) -> Option<FieldValue> {
    Some(FieldValue::Text(v.into()))
}

fn fields(pairs: &[(&str, FieldValue)]) -> Vec<(String, FieldValue)> {
    pairs.iter().map(|(n, v)| ((*n).to_owned(), v.clone())).collect()
}

#[test]
fn names_are_unique_and_all_readable() {
    let names = all_field_names();
    assert_eq!(names.len(), 46);
    assert_eq!(names.first(), Some(&"Id"));
    for (i, n) in names.iter().enumerate() {
        assert!(!names[..i].contains(n), "{n} twice");
        assert!(read_field(&sample(), n).is_ok(), "{n}");
    }
    for n in [
        "Phone5Type",
        "Address3Street2",
        "Country2",
        "EmailAddress3",
        "Groups",
    ] {
        assert!(names.contains(&n), "{n}");
    }
}

#[test]
fn reads_values_and_omits_empty_fields() {
    let c = sample();
    let read = |n: &str| read_field(&c, n).unwrap();
    assert_eq!(read("Id"), Some(FieldValue::Int(7)));
    assert_eq!(read("FirstName"), text("Ann"));
    assert_eq!(read("LastName"), text("Lee"));
    assert_eq!(read("MiddleName"), None);
    assert_eq!(read("Company"), text("Acme"));
    assert_eq!(read("Email"), text("Ann@Example.com"));
    assert_eq!(read("EmailAddress2"), None);
    assert_eq!(read("EmailAddress3"), text("ann@work.example"));
    assert_eq!(read("Phone2"), text("+1 555-0100"));
    assert_eq!(read("Phone2Ext"), text("12"));
    assert_eq!(read("Phone2Type"), text("Work"));
    assert_eq!(read("Phone1"), None);
    assert_eq!(read("City2"), text("Boston"));
    assert_eq!(read("City"), None);
    assert_eq!(read("Address2Street1"), None);
    assert_eq!(read("Groups"), text("3,9"));
    assert_eq!(read("LeadSource"), text("API"));
    assert_eq!(read("DateCreated"), Some(FieldValue::DateTime(1_700_000_000)));
    assert_eq!(read("LastUpdated"), Some(FieldValue::DateTime(1_700_000_100)));
    let mut bare = sample();
    bare.tag_ids.clear();
    assert_eq!(read_field(&bare, "Groups").unwrap(), None);
}

#[test]
fn unknown_names_are_infusionsoft_faults() {
    for n in ["given_name", "firstname", "_Custom", "Nickname", ""] {
        let err = read_field(&sample(), n).unwrap_err();
        assert_eq!((err.table, err.field.as_str()), ("Contact", n));
    }
    let err = read_field(&sample(), "given_name").unwrap_err();
    assert_eq!(err.to_string(), "No field found: Contact.given_name");
    let err = patch_from_fields(fields(&[("_Color", FieldValue::Text("red".into()))])).unwrap_err();
    assert_eq!(err.to_string(), "No field found: Contact._Color");
    assert!(matches!(err, FieldError::NoFieldFound(_)));
}

#[test]
fn builds_a_patch() {
    let p = patch_from_fields(fields(&[
        ("FirstName", FieldValue::Text("Bo".into())),
        ("LastName", FieldValue::Text(" ".into())),
        ("EmailAddress2", FieldValue::Text("b@x.io".into())),
        ("Phone1Ext", FieldValue::Text("7".into())),
        ("PostalCode2", FieldValue::Int(2110)),
        ("Country3", FieldValue::Text("NOR".into())),
        ("LeadSource", FieldValue::Text("Import".into())),
        ("Groups", FieldValue::Text("4, 2".into())),
    ]))
    .unwrap();
    assert_eq!(p.given_name, Patch::Set("Bo".into()));
    assert_eq!(p.family_name, Patch::Clear);
    assert_eq!(p.middle_name, Patch::Keep);
    assert_eq!(p.source, Patch::Set("Import".into()));
    assert_eq!(
        p.emails,
        Patch::Set(vec![EmailPatch {
            field: E::Email2,
            email: Patch::Set("b@x.io".into())
        }])
    );
    let Patch::Set(phones) = &p.phones else {
        panic!("phones")
    };
    assert_eq!(
        (phones[0].field, &phones[0].number, &phones[0].extension),
        (P::Phone1, &Patch::Keep, &Patch::Set("7".into()))
    );
    let Patch::Set(addresses) = &p.addresses else {
        panic!("addresses")
    };
    let slots: Vec<_> = addresses
        .iter()
        .map(|a| (a.field, a.postal_code.clone(), a.country_code.clone()))
        .collect();
    assert_eq!(
        slots,
        [
            (A::Shipping, Patch::Set("2110".into()), Patch::Keep),
            (A::Other, Patch::Keep, Patch::Set("NOR".into())),
        ]
    );
    assert_eq!(p.tag_ids, Patch::Set(vec![4, 2]));
    let empty = patch_from_fields(Vec::new()).unwrap();
    assert_eq!(empty, ContactPatch::default());
}

#[test]
fn patch_round_trips_through_the_model() {
    let p = patch_from_fields(fields(&[
        ("City", FieldValue::Text("Oslo".into())),
        ("Phone3", FieldValue::Text("555 1234".into())),
        ("Phone3Type", FieldValue::Text("Mobile".into())),
        ("Email", FieldValue::Text("".into())),
        ("Groups", FieldValue::Int(8)),
    ]))
    .unwrap();
    let mut c = sample();
    assert!(p.apply(&mut c, 60).unwrap());
    assert_eq!(read_field(&c, "City").unwrap(), text("Oslo"));
    assert_eq!(read_field(&c, "Phone3Type").unwrap(), text("Mobile"));
    assert_eq!(read_field(&c, "Email").unwrap(), None);
    assert_eq!(read_field(&c, "Groups").unwrap(), text("8"));
    assert_eq!(
        read_field(&c, "LastUpdated").unwrap(),
        Some(FieldValue::DateTime(60))
    );
}

#[test]
fn refuses_read_only_and_mistyped_values() {
    for n in ["Id", "DateCreated", "LastUpdated"] {
        let err = patch_from_fields(fields(&[(n, FieldValue::Int(1))])).unwrap_err();
        assert_eq!(err, FieldError::ReadOnly(n.into()));
        assert_eq!(err.to_string(), format!("Contact.{n} is read-only"));
    }
    let err = patch_from_fields(fields(&[("FirstName", FieldValue::DateTime(5))])).unwrap_err();
    assert!(
        matches!(err, FieldError::WrongType { ref field, .. } if field == "FirstName"),
        "{err}"
    );
    let err = patch_from_fields(fields(&[("Groups", FieldValue::Text("1,x".into()))])).unwrap_err();
    assert!(
        matches!(err, FieldError::InvalidValue { ref field, .. } if field == "Groups"),
        "{err}"
    );
    assert!(matches!(
        patch_from_fields(fields(&[("Groups", FieldValue::DateTime(1))])),
        Err(FieldError::WrongType { .. })
    ));
    let cleared = patch_from_fields(fields(&[("Groups", FieldValue::Text("".into()))])).unwrap();
    assert_eq!(cleared.tag_ids, Patch::Clear);
}
