//! Listing contacts: every kind of filter on every kind of column, the order of
//! [`ContactOrder::compare`] with ties broken by id, and pages with their total.

use keygate_core::contact::{
    Address, AddressField, Contact, ContactInput, ContactOrder, EmailAddress, EmailField, FieldMatch,
    OrderDirection, OrderField, PhoneField, PhoneNumber,
};
use keygate_core::ids::AccountName;

use super::contacts::create;
use super::fixtures::{self, now};
use crate::{ContactColumn as C, ContactQuery, Store};

/// A query's filters.
type Filters = Vec<(C, FieldMatch)>;

fn email(field: EmailField, email: String) -> Vec<EmailAddress> {
    vec![EmailAddress { field, email }]
}

fn phone(field: PhoneField, number: &str) -> Vec<PhoneNumber> {
    vec![PhoneNumber {
        field,
        number: number.to_owned(),
        extension: None,
        kind: None,
    }]
}

fn named(given: Option<&str>, family: Option<&str>) -> ContactInput {
    ContactInput {
        given_name: given.map(str::to_owned),
        family_name: family.map(str::to_owned),
        ..ContactInput::default()
    }
}

/// The value a filter on `col` looks at, as text.
fn value(c: &Contact, col: C) -> Option<String> {
    let billing = c.address(AddressField::Billing);
    let part = |f: fn(&Address) -> &Option<String>| billing.and_then(|a| f(a).clone());
    match col {
        C::Id => Some(c.id.to_string()),
        C::GivenName => c.given_name.clone(),
        C::MiddleName => c.middle_name.clone(),
        C::FamilyName => c.family_name.clone(),
        C::Company => c.company.clone(),
        C::JobTitle => c.job_title.clone(),
        C::Email1 => c.email(EmailField::Email1).map(str::to_owned),
        C::Email2 => c.email(EmailField::Email2).map(str::to_owned),
        C::Email3 => c.email(EmailField::Email3).map(str::to_owned),
        C::Phone1 => c.phone(PhoneField::Phone1).map(|p| p.number.clone()),
        C::Locality => part(|a| &a.locality),
        C::Region => part(|a| &a.region),
        C::PostalCode => part(|a| &a.postal_code),
        C::CountryCode => part(|a| &a.country_code),
        C::Source => c.source.clone(),
        C::CreatedAt => Some(c.created_at.to_string()),
        C::UpdatedAt => Some(c.updated_at.to_string()),
    }
}

/// Ids and total of a query (by default ordered by id).
async fn ids(store: &dyn Store, account: &AccountName, q: &ContactQuery) -> (Vec<i64>, u64) {
    let page = store.list_contacts(account, q).await.unwrap();
    (page.contacts.iter().map(|c| c.id).collect(), page.total)
}

pub async fn contact_listing(store: &dyn Store) {
    let t = now();
    let account = fixtures::account(store).await.name;
    let tag = fixtures::tag();
    let shared = format!("Ann.{tag}@X.io");
    let ann = ContactInput {
        middle_name: Some("Q".into()),
        company: Some("Acme_Co".into()),
        job_title: Some("CEO".into()),
        emails: email(EmailField::Email1, shared.clone()),
        phones: phone(PhoneField::Phone1, "555 0101"),
        addresses: vec![Address {
            locality: Some("Oslo".into()),
            region: Some("Viken".into()),
            postal_code: Some("0150".into()),
            country_code: Some("NOR".into()),
            ..Address::empty(AddressField::Billing)
        }],
        source: Some("Web".into()),
        ..named(Some("Ann"), Some("Lee"))
    };
    let ann = create(store, &account, ann, t - 30).await;
    // The address in slot 2 is bob's primary one; his address is a shipping one.
    let mut bob = ContactInput {
        company: Some("AcmeXCo".into()),
        emails: email(EmailField::Email2, format!("Bob.{tag}@Y.io")),
        addresses: vec![Address {
            locality: Some("Oslo".into()),
            ..Address::empty(AddressField::Shipping)
        }],
        ..named(Some("bob"), Some("lee"))
    }
    .into_contact(0, t - 20)
    .unwrap();
    bob.updated_at = t - 5;
    let bob = store.create_contact(&account, &bob).await.unwrap();
    // Ann's address again, lowercased, in slot 3; a phone that is not PHONE1. A family name with a
    // space: byte order puts it before "dean", where many locales' collations would not.
    let zed = ContactInput {
        emails: email(EmailField::Email3, shared.to_lowercase()),
        phones: phone(PhoneField::Phone2, "555 0102"),
        ..named(None, Some("de la Cruz"))
    };
    let zed = create(store, &account, zed, t - 10).await;
    let anon = create(store, &account, named(Some("ANN"), None), t - 40).await;
    let twin = ContactInput {
        emails: email(EmailField::Email1, format!("a.{tag}@x.io")),
        ..named(Some("Ann"), Some("LEE"))
    };
    let twin = create(store, &account, twin, t - 30).await;
    let dean = ContactInput {
        emails: email(EmailField::Email1, format!("dean.{tag}@x.io")),
        ..named(None, Some("Dean"))
    };
    let dean = create(store, &account, dean, t - 15).await;
    let all = [&ann, &bob, &zed, &anon, &twin, &dean];

    // Another account's contacts, however alike, are never listed.
    let other = fixtures::account(store).await.name;
    let elsewhere = ContactInput {
        emails: email(EmailField::Email1, shared.clone()),
        ..named(Some("Ann"), Some("Lee"))
    };
    let elsewhere = create(store, &other, elsewhere, t - 30).await;

    let filtered = |filters: Filters| ContactQuery {
        filters,
        ..ContactQuery::default()
    };
    let exact = |v: &str| FieldMatch::Exact(v.to_owned());
    let like = |v: &str| FieldMatch::Like(v.to_owned());
    let cases: Vec<(Filters, Vec<&Contact>)> = vec![
        (vec![], all.to_vec()),
        (vec![(C::GivenName, exact("aNN"))], vec![&ann, &anon, &twin]),
        (vec![(C::GivenName, exact("an"))], vec![]),
        (vec![(C::GivenName, FieldMatch::Null)], vec![&zed, &dean]),
        (vec![(C::MiddleName, exact("q"))], vec![&ann]),
        (vec![(C::FamilyName, like("%EE"))], vec![&ann, &bob, &twin]),
        (vec![(C::FamilyName, like("de%"))], vec![&zed, &dean]),
        (vec![(C::FamilyName, like("%la%"))], vec![&zed]),
        // `_` is a literal underscore, not a one-character wildcard.
        (vec![(C::Company, like("acme_%"))], vec![&ann]),
        (vec![(C::Company, like("acme%co"))], vec![&ann, &bob]),
        (vec![(C::Company, exact("ACME_CO"))], vec![&ann]),
        (vec![(C::Company, exact("acmexco"))], vec![&bob]),
        (
            vec![(C::Company, FieldMatch::Null)],
            vec![&zed, &anon, &twin, &dean],
        ),
        (vec![(C::JobTitle, exact("ceo"))], vec![&ann]),
        (vec![(C::Email1, exact(&shared.to_uppercase()))], vec![&ann]),
        (vec![(C::Email1, FieldMatch::Null)], vec![&bob, &zed, &anon]),
        (vec![(C::Email2, like("bob.%"))], vec![&bob]),
        (vec![(C::Email3, exact(&shared))], vec![&zed]),
        (vec![(C::Phone1, like("555%"))], vec![&ann]),
        (
            vec![(C::Phone1, FieldMatch::Null)],
            vec![&bob, &zed, &anon, &twin, &dean],
        ),
        (vec![(C::Locality, exact("oslo"))], vec![&ann]),
        (vec![(C::Region, exact("VIKEN"))], vec![&ann]),
        (vec![(C::PostalCode, exact("0150"))], vec![&ann]),
        (vec![(C::CountryCode, like("n%"))], vec![&ann]),
        (vec![(C::Source, exact("WEB"))], vec![&ann]),
        (vec![(C::Id, exact(&bob.id.to_string()))], vec![&bob]),
        (vec![(C::Id, exact("bob"))], vec![]),
        (vec![(C::Id, like("%"))], all.to_vec()),
        (vec![(C::Id, FieldMatch::Null)], vec![]),
        (vec![(C::CreatedAt, exact(&(t - 20).to_string()))], vec![&bob]),
        (
            vec![(C::UpdatedAt, exact(&(t - 30).to_string()))],
            vec![&ann, &twin],
        ),
        (vec![(C::CreatedAt, like(&format!("{}%", t - 40)))], vec![&anon]),
        (vec![(C::UpdatedAt, FieldMatch::Null)], vec![]),
        (
            vec![(C::GivenName, exact("ann")), (C::Company, FieldMatch::Null)],
            vec![&anon, &twin],
        ),
    ];
    for (filters, expected) in cases {
        let what = format!("{filters:?}");
        // The core's in-memory rules agree with each expectation: the store is checked against them too.
        let in_memory: Vec<&Contact> = all
            .iter()
            .copied()
            .filter(|c| {
                filters
                    .iter()
                    .all(|(col, m)| m.matches(value(c, *col).as_deref()))
            })
            .collect();
        assert_eq!(in_memory, expected, "{what}");
        let q = filtered(filters);
        let expected: Vec<i64> = expected.iter().map(|c| c.id).collect();
        let total = expected.len() as u64;
        assert_eq!(ids(store, &account, &q).await, (expected, total), "{what}");
    }

    // Any slot, any case; and the update window.
    let by_email = ContactQuery {
        email: Some(shared.to_lowercase()),
        ..ContactQuery::default()
    };
    assert_eq!(ids(store, &account, &by_email).await, (vec![ann.id, zed.id], 2));
    assert_eq!(ids(store, &other, &by_email).await, (vec![elsewhere.id], 1));
    let window = |since: Option<i64>, until: Option<i64>| ContactQuery {
        updated_since: since,
        updated_until: until,
        ..ContactQuery::default()
    };
    assert_eq!(
        ids(store, &account, &window(Some(t - 10), None)).await,
        (vec![bob.id, zed.id], 2)
    );
    assert_eq!(
        ids(store, &account, &window(None, Some(t - 15))).await,
        (vec![ann.id, anon.id, twin.id], 3)
    );
    assert_eq!(
        ids(store, &account, &window(Some(t - 30), Some(t - 10))).await,
        (vec![ann.id, twin.id, dean.id], 3)
    );

    // Every order, both ways, as the core rules sort; ties (ann and twin by name or creation) by id.
    for &field in OrderField::ALL {
        for &direction in OrderDirection::ALL {
            let order = ContactOrder { field, direction };
            let mut expected: Vec<&Contact> = all.to_vec();
            expected.sort_by(|a, b| order.compare(a, b));
            let expected: Vec<i64> = expected.iter().map(|c| c.id).collect();
            let q = ContactQuery {
                order,
                ..ContactQuery::default()
            };
            assert_eq!(ids(store, &account, &q).await, (expected, 6), "{order:?}");
        }
    }
    let ordered = |field, direction, limit, offset| ContactQuery {
        order: ContactOrder { field, direction },
        limit,
        offset,
        ..ContactQuery::default()
    };
    let (asc, desc) = (OrderDirection::Ascending, OrderDirection::Descending);
    let by_name = [anon.id, zed.id, dean.id, ann.id, twin.id, bob.id];
    assert_eq!(
        ids(store, &account, &ordered(OrderField::Name, asc, 50, 0)).await,
        (by_name.to_vec(), 6)
    );
    let by_email = [anon.id, twin.id, ann.id, zed.id, bob.id, dean.id];
    assert_eq!(
        ids(store, &account, &ordered(OrderField::Email, asc, 50, 0)).await,
        (by_email.to_vec(), 6)
    );

    // Pages: the total counts every match.
    let account = &account;
    let page = |q| async move { ids(store, account, &q).await };
    assert_eq!(
        page(ordered(OrderField::Id, asc, 2, 1)).await,
        (vec![bob.id, zed.id], 6)
    );
    let mut reversed = by_name;
    reversed.reverse();
    assert_eq!(
        page(ordered(OrderField::Name, desc, 3, 0)).await,
        (reversed[..3].to_vec(), 6)
    );
    assert_eq!(
        page(ordered(OrderField::Name, desc, 3, 3)).await,
        (reversed[3..].to_vec(), 6)
    );
    assert_eq!(page(ordered(OrderField::Name, desc, 3, 6)).await, (vec![], 6));
    assert_eq!(
        page(ordered(OrderField::Id, asc, 10, u64::MAX)).await,
        (vec![], 6)
    );
    assert_eq!(page(ordered(OrderField::Id, asc, 0, 0)).await, (vec![], 6));
    let anns = ContactQuery {
        limit: 1,
        offset: 1,
        ..filtered(vec![(C::GivenName, exact("ann"))])
    };
    assert_eq!(page(anns).await, (vec![anon.id], 3));
    assert_eq!(
        ids(store, &fixtures::account_name(), &ContactQuery::default()).await,
        (vec![], 0)
    );
}
