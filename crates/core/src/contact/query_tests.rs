use super::*;
use crate::contact::model::tests::sample;
use crate::contact::model::{EmailAddress, EmailField};

#[test]
fn parses_query_values() {
    assert_eq!(FieldMatch::parse("~null~"), FieldMatch::Null);
    assert_eq!(FieldMatch::parse("~NULL~"), FieldMatch::Null);
    assert_eq!(FieldMatch::parse(""), FieldMatch::Null);
    assert_eq!(FieldMatch::parse("ann%"), FieldMatch::Like("ann%".into()));
    assert_eq!(FieldMatch::parse("a_b"), FieldMatch::Exact("a_b".into()));
}

#[test]
fn exact_and_null() {
    let m = FieldMatch::parse("ANN@Example.com");
    assert!(m.matches(Some("ann@example.COM")));
    assert!(!m.matches(Some("ann@example.co")));
    assert!(!m.matches(None));
    let null = FieldMatch::Null;
    assert!(null.matches(None) && null.matches(Some("")));
    assert!(!null.matches(Some("x")));
    assert!(!FieldMatch::parse("a_c").matches(Some("abc")), "`_` is literal");
}

#[test]
fn wildcards() {
    let yes = |p: &str, v: &str| FieldMatch::parse(p).matches(Some(v));
    assert!(yes("ann%", "Annabel"));
    assert!(yes("%EXAMPLE.com", "bo@example.com"));
    assert!(yes("%nn%", "ann"));
    assert!(yes("a%e%m", "academ"));
    assert!(yes("%", "anything"));
    assert!(yes("a%%b", "ab"));
    assert!(yes("ÅSA%", "åsa lind"));
    assert!(yes("a_%", "a_b"));
    assert!(!yes("a_%", "abb"));
    assert!(!yes("a%a", "a"), "prefix and suffix may not overlap");
    assert!(!yes("%x%y", "yx"));
    assert!(!yes("ann%", "joann"));
    assert!(
        !FieldMatch::parse("%").matches(None),
        "empty fields match only ~null~"
    );
    assert!(
        FieldMatch::Like("abc".into()).matches(Some("ABC")),
        "a pattern without % is exact"
    );
    assert!(!FieldMatch::Like("abc".into()).matches(Some("abcd")));
}

#[test]
fn like_patterns_escape_literals() {
    assert_eq!(
        FieldMatch::Exact(r"a_b\c%".into()).like_pattern().as_deref(),
        Some(r"a\_b\\c\%")
    );
    assert_eq!(
        FieldMatch::parse("%Ann_B%").like_pattern().as_deref(),
        Some(r"%Ann\_B%")
    );
    assert_eq!(
        FieldMatch::parse("plain").like_pattern().as_deref(),
        Some("plain")
    );
    assert_eq!(FieldMatch::Null.like_pattern(), None);
}

#[test]
fn order_parameters() {
    assert_eq!(ContactOrder::parse(None, None).unwrap(), ContactOrder::default());
    let o = ContactOrder::parse(Some("DATE_CREATED"), Some("descending")).unwrap();
    assert_eq!(
        (o.field, o.direction),
        (OrderField::DateCreated, OrderDirection::Descending)
    );
    assert_eq!(
        ContactOrder::parse(Some("email"), None).unwrap().direction,
        OrderDirection::Ascending
    );
    assert_eq!(
        ContactOrder::parse(Some("bogus"), None).unwrap_err().field,
        "order"
    );
    assert_eq!(
        ContactOrder::parse(None, Some("up")).unwrap_err().field,
        "order_direction"
    );
}

fn contact(id: i64, family: Option<&str>, given: &str, email: Option<&str>, created: i64) -> Contact {
    let mut c = sample();
    c.id = id;
    c.family_name = family.map(Into::into);
    c.given_name = Some(given.into());
    c.emails = email
        .map(|e| {
            vec![EmailAddress {
                field: EmailField::Email2,
                email: e.into(),
            }]
        })
        .unwrap_or_default();
    c.created_at = created;
    c.updated_at = -created;
    c
}

fn sorted(field: &str, direction: &str) -> Vec<i64> {
    let order = ContactOrder::parse(Some(field), Some(direction)).unwrap();
    let mut v = [
        contact(1, Some("lee"), "Zoe", Some("z@x.io"), 30),
        contact(2, Some("Adams"), "Bo", None, 10),
        contact(3, Some("Lee"), "ann", Some("B@x.io"), 20),
        contact(4, None, "Cy", Some("b@X.io"), 20),
    ];
    v.sort_by(|a, b| order.compare(a, b));
    v.iter().map(|c| c.id).collect()
}

#[test]
fn compares_like_order_by() {
    assert_eq!(sorted("id", "DESCENDING"), [4, 3, 2, 1]);
    assert_eq!(sorted("date_created", "ASCENDING"), [2, 3, 4, 1], "ties by id");
    assert_eq!(sorted("date_created", "DESCENDING"), [1, 4, 3, 2]);
    assert_eq!(sorted("last_updated", "ASCENDING"), [1, 3, 4, 2]);
    assert_eq!(
        sorted("email", "ASCENDING"),
        [2, 3, 4, 1],
        "empty first, case folded"
    );
    assert_eq!(
        sorted("name", "ASCENDING"),
        [4, 2, 3, 1],
        "family then given name"
    );
}
