//! Upserts: a contact found by its primary address (and names, with `EmailAndName`) is patched, any
//! other input creates one; concurrent upserts of one address make one contact.

use futures_util::future::join_all;
use keygate_core::contact::{
    Contact, ContactInput, ContactPatch, DuplicateOption, EmailField, Patch, PhoneField, PhoneNumber,
};

use super::contacts::{create, event, events_after, last_event_id, with_email};
use super::fixtures::{self, now};
use crate::{ContactQuery, ContactWrite, Store, CONTACT_ADD, CONTACT_EDIT};

pub async fn contact_upserts(store: &dyn Store) {
    let t = now();
    let account = fixtures::account(store).await.name;
    let a = &account;
    let email = fixtures::contact_email();
    let ann = ContactInput {
        given_name: Some("Ann".into()),
        family_name: Some("Lee".into()),
        ..with_email(&email, EmailField::Email1)
    };
    let upsert = |input: ContactInput, option: DuplicateOption, at: i64| async move {
        match store.upsert_contact(a, &input, option, at).await.unwrap() {
            ContactWrite::Done(done) => done,
            other => panic!("expected an upsert, got {other:?}"),
        }
    };

    // New: created as the input describes.
    let before = last_event_id(store, a).await;
    let (c1, created) = upsert(ann.clone(), DuplicateOption::Email, t).await;
    assert!(created);
    assert_eq!(c1, ann.clone().into_contact(c1.id, t).unwrap());
    assert_eq!(store.get_contact(a, c1.id).await.unwrap(), Some(c1.clone()));
    assert_eq!(
        events_after(store, a, before).await,
        [event(CONTACT_ADD, c1.id, t)]
    );

    // The same address in another case: the input patches the contact (absent fields are kept).
    let titled = ContactInput {
        job_title: Some("CTO".into()),
        ..with_email(&email.to_uppercase(), EmailField::Email1)
    };
    let mut expected = c1.clone();
    assert!(titled.clone().into_patch().apply(&mut expected, t + 1).unwrap());
    let before = last_event_id(store, a).await;
    assert_eq!(
        upsert(titled.clone(), DuplicateOption::Email, t + 1).await,
        (expected.clone(), false)
    );
    assert_eq!(
        (expected.given_name.as_deref(), expected.version),
        (Some("Ann"), 2)
    );
    assert_eq!(store.get_contact(a, c1.id).await.unwrap(), Some(expected.clone()));
    // Again: nothing to change, no event.
    assert_eq!(
        upsert(titled, DuplicateOption::Email, t + 2).await,
        (expected.clone(), false)
    );
    assert_eq!(
        events_after(store, a, before).await,
        [event(CONTACT_EDIT, c1.id, t + 1)]
    );

    // EmailAndName: other names make a new contact; the same names, spelled loosely, find the first.
    let bob = ContactInput {
        given_name: Some("Bob".into()),
        ..ann.clone()
    };
    let (c2, created) = upsert(bob.clone(), DuplicateOption::EmailAndName, t + 3).await;
    assert!(created && c2.id > c1.id);
    let loose = ContactInput {
        given_name: Some(" ann ".into()),
        family_name: Some("LEE".into()),
        company: Some("Acme".into()),
        ..with_email(&email.to_lowercase(), EmailField::Email1)
    };
    let (found, created) = upsert(loose.clone(), DuplicateOption::EmailAndName, t + 4).await;
    assert!(!created);
    assert_eq!(
        (found.id, found.company.as_deref(), found.version),
        (c1.id, Some("Acme"), 3)
    );
    // Email alone: the first contact holding the address, by id, even for Bob's names.
    let (found, created) = upsert(bob, DuplicateOption::Email, t + 5).await;
    assert_eq!((found.id, created), (c1.id, false));
    assert_eq!(store.get_contact(a, c2.id).await.unwrap(), Some(c2.clone()));

    // The address may sit in any slot of the existing contact. In the same slot, the input's spelling
    // replaces the stored one.
    let slot3 = fixtures::contact_email();
    let c3 = create(store, a, with_email(&slot3, EmailField::Email3), t).await;
    let respelled = with_email(&slot3.to_lowercase(), EmailField::Email3);
    let (found, created) = upsert(respelled, DuplicateOption::Email, t + 6).await;
    assert_eq!((found.id, created), (c3.id, false));
    assert_eq!(
        found.email(EmailField::Email3),
        Some(slot3.to_lowercase().as_str())
    );
    // In another slot it is found too, and stays where it is (moving it would hold it twice); the rest
    // of the input applies, and no second contact is made.
    let elsewhere = ContactInput {
        job_title: Some("Buyer".into()),
        ..with_email(&slot3, EmailField::Email1)
    };
    let (found, created) = upsert(elsewhere, DuplicateOption::Email, t + 7).await;
    assert_eq!((found.id, created), (c3.id, false));
    assert_eq!(
        found.email(EmailField::Email3),
        Some(slot3.to_lowercase().as_str())
    );
    assert_eq!(
        (found.email(EmailField::Email1), found.job_title.as_deref()),
        (None, Some("Buyer"))
    );
    let holders = ContactQuery {
        email: Some(slot3.to_lowercase()),
        ..ContactQuery::default()
    };
    let page = store.list_contacts(a, &holders).await.unwrap();
    assert_eq!((page.contacts, page.total), (vec![found], 1));

    // Without an email nothing matches: every upsert creates.
    let nameless = ContactInput {
        given_name: Some("Anon".into()),
        ..ContactInput::default()
    };
    let (n1, created1) = upsert(nameless.clone(), DuplicateOption::Email, t).await;
    let (n2, created2) = upsert(nameless, DuplicateOption::EmailAndName, t).await;
    assert!(created1 && created2 && n2.id > n1.id);

    // Refused inputs write nothing: not a contact, not an event, not even an id.
    let before = last_event_id(store, a).await;
    let bad_new = with_email("not-an-email", EmailField::Email1);
    match store
        .upsert_contact(a, &bad_new, DuplicateOption::Email, t)
        .await
        .unwrap()
    {
        ContactWrite::Invalid(e) => assert_eq!(e.field, "email_addresses[0].email"),
        other => panic!("expected a refusal, got {other:?}"),
    }
    let bad_patch = ContactInput {
        phones: vec![PhoneNumber {
            field: PhoneField::Phone1,
            number: "call me".into(),
            extension: None,
            kind: None,
        }],
        ..with_email(&slot3, EmailField::Email1)
    };
    let c3_now = store.get_contact(a, c3.id).await.unwrap();
    assert!(matches!(
        store
            .upsert_contact(a, &bad_patch, DuplicateOption::Email, t + 7)
            .await
            .unwrap(),
        ContactWrite::Invalid(_)
    ));
    assert_eq!(store.get_contact(a, c3.id).await.unwrap(), c3_now);
    assert!(events_after(store, a, before).await.is_empty());
    let next = create(store, a, fixtures::contact_input(None), t).await;
    assert_eq!(next.id, n2.id + 1, "a refused upsert used an id");
}

/// Concurrent upserts of one address (with `Email`) make one contact; the others find it.
pub(super) async fn contact_upsert_race(a: &dyn Store, b: &dyn Store) {
    const CALLS: usize = 8;
    let t = now();
    let account = fixtures::account(a).await.name;
    let email = fixtures::contact_email();
    let input = fixtures::contact_input(Some(&email));
    let stores = [a, b];
    let upserts =
        (0..CALLS).map(|i| stores[i % 2].upsert_contact(&account, &input, DuplicateOption::Email, t));
    let results: Vec<(Contact, bool)> = join_all(upserts)
        .await
        .into_iter()
        .map(|r| match r.unwrap() {
            ContactWrite::Done(done) => done,
            other => panic!("expected an upsert, got {other:?}"),
        })
        .collect();
    assert_eq!(
        results.iter().filter(|(_, created)| *created).count(),
        1,
        "{results:?}"
    );
    assert!(results.iter().all(|(c, _)| *c == results[0].0), "{results:?}");
    let query = ContactQuery {
        email: Some(email.to_lowercase()),
        ..ContactQuery::default()
    };
    assert_eq!(b.list_contacts(&account, &query).await.unwrap().total, 1);
    assert_eq!(
        events_after(a, &account, 0).await,
        [event(CONTACT_ADD, results[0].0.id, t)]
    );
}

/// Concurrent updates of one version: one wins, the others are told the version moved on.
pub(super) async fn contact_update_race(a: &dyn Store, b: &dyn Store) {
    const CALLS: usize = 8;
    let t = now();
    let account = fixtures::account(a).await.name;
    let c = create(a, &account, fixtures::contact_input(None), t).await;
    let patches: Vec<ContactPatch> = (0..CALLS)
        .map(|i| ContactPatch {
            job_title: Patch::Set(format!("Title {i}")),
            ..ContactPatch::default()
        })
        .collect();
    let changes: Vec<_> = patches
        .iter()
        .map(|p| move |x: &mut Contact| p.apply(x, t + 1))
        .collect();
    let stores = [a, b];
    let updates = changes
        .iter()
        .enumerate()
        .map(|(i, change)| stores[i % 2].update_contact(&account, c.id, Some(1), change));
    let results: Vec<_> = join_all(updates).await.into_iter().map(|r| r.unwrap()).collect();
    let winners: Vec<&Contact> = results
        .iter()
        .filter_map(|r| match r {
            ContactWrite::Done(c) => Some(c),
            _ => None,
        })
        .collect();
    assert_eq!(winners.len(), 1, "{results:?}");
    let stale = ContactWrite::Stale { current_version: 2 };
    assert_eq!(
        results.iter().filter(|r| **r == stale).count(),
        CALLS - 1,
        "{results:?}"
    );
    assert_eq!(
        a.get_contact(&account, c.id).await.unwrap().as_ref(),
        Some(winners[0])
    );
    assert_eq!(winners[0].version, 2);
    let events = events_after(b, &account, 0).await;
    assert_eq!(
        events,
        [event(CONTACT_ADD, c.id, t), event(CONTACT_EDIT, c.id, t + 1)]
    );
}
