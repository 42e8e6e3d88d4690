//! Contacts: per-account ids never reused, conditional updates and deletes, upserts by email, and the
//! event each change writes (and each refused or empty change does not).

use std::sync::atomic::{AtomicUsize, Ordering};

use keygate_core::contact::{
    Contact, ContactInput, ContactPatch, EmailAddress, EmailField, EmailPatch, Patch,
};
use keygate_core::ids::AccountName;
use keygate_core::InvalidInput;

use super::assert_missing;
use super::fixtures::{self, now};
use crate::{ContactQuery, ContactWrite, Store, CONTACT_ADD, CONTACT_DELETE, CONTACT_EDIT};

pub async fn contacts(store: &dyn Store) {
    contact_ids_and_scoping(store).await;
    concurrent_creations(store).await;
    contact_updates(store).await;
    contact_deletes(store).await;
}

/// Stores `input` as a new contact of `account`, created and last updated at `at`.
pub(super) async fn create(
    store: &dyn Store,
    account: &AccountName,
    input: ContactInput,
    at: i64,
) -> Contact {
    let c = input.into_contact(0, at).unwrap();
    store.create_contact(account, &c).await.unwrap()
}

/// The id of the account's latest event, 0 if none.
pub(super) async fn last_event_id(store: &dyn Store, account: &AccountName) -> i64 {
    let events = store.list_events(account, 0, u32::MAX).await.unwrap();
    events.last().map_or(0, |e| e.id)
}

/// The account's events after `after`, as (key, contact id, time); checks what every event shares.
pub(super) async fn events_after(
    store: &dyn Store,
    account: &AccountName,
    after: i64,
) -> Vec<(String, i64, i64)> {
    let events = store.list_events(account, after, u32::MAX).await.unwrap();
    let mut last = after;
    for e in &events {
        assert!(e.id > last, "events out of order: {events:?}");
        last = e.id;
        assert_eq!((&e.account, e.object_type.as_str()), (account, "contact"));
    }
    events
        .into_iter()
        .map(|e| (e.event_key, e.object_id, e.occurred_at))
        .collect()
}

pub(super) fn event(key: &str, id: i64, at: i64) -> (String, i64, i64) {
    (key.to_owned(), id, at)
}

/// An input with only `email`, in `field`.
pub(super) fn with_email(email: &str, field: EmailField) -> ContactInput {
    ContactInput {
        emails: vec![EmailAddress {
            field,
            email: email.to_owned(),
        }],
        ..ContactInput::default()
    }
}

async fn contact_ids_and_scoping(store: &dyn Store) {
    let t = now();
    let a = fixtures::account(store).await.name;
    let b = fixtures::account(store).await.name;
    // The id and version of what is passed in are ignored: ids come from the account, versions start at 1.
    let mut template = fixtures::contact_input(Some(&fixtures::contact_email()))
        .into_contact(0, t - 5)
        .unwrap();
    (template.id, template.version) = (99, 7);
    let a1 = store.create_contact(&a, &template).await.unwrap();
    assert_eq!(a1.version, 1);
    assert_eq!(
        a1,
        Contact {
            id: a1.id,
            version: 1,
            ..template.clone()
        }
    );
    let a2 = create(store, &a, fixtures::contact_input(None), t).await;
    let b1 = create(store, &b, fixtures::contact_input(None), t).await;
    let a3 = create(store, &a, fixtures::contact_input(None), t).await;
    assert!(a1.id < a2.id && a2.id < a3.id, "ids increase per account");
    assert_eq!(b1.id, a1.id, "each account counts on its own");
    assert_eq!(store.get_contact(&a, a1.id).await.unwrap(), Some(a1.clone()));
    assert_eq!(store.get_contact(&a, a3.id).await.unwrap(), Some(a3.clone()));
    assert_eq!(store.get_contact(&b, b1.id).await.unwrap(), Some(b1.clone()));
    // Another account's ids are not there.
    assert_eq!(store.get_contact(&b, a3.id).await.unwrap(), None);
    assert_eq!(store.get_contact(&a, a3.id + 1).await.unwrap(), None);
    assert_eq!(
        store.get_contact(&fixtures::account_name(), a1.id).await.unwrap(),
        None
    );
    let listed = |account: AccountName| async move {
        let page = store
            .list_contacts(&account, &ContactQuery::default())
            .await
            .unwrap();
        (page.contacts, page.total)
    };
    assert_eq!(
        listed(a.clone()).await,
        (vec![a1.clone(), a2.clone(), a3.clone()], 3)
    );
    assert_eq!(listed(b.clone()).await, (vec![b1.clone()], 1));
    // The account must exist.
    assert_missing(store.create_contact(&fixtures::account_name(), &template).await);

    // Deleting the latest contact does not give its id back.
    let deleted_at = now();
    assert_eq!(
        store.delete_contact(&a, a3.id, None).await.unwrap(),
        ContactWrite::Done(())
    );
    let a4 = create(store, &a, fixtures::contact_input(None), t).await;
    assert!(a4.id > a3.id, "id {} reused", a3.id);
    assert_eq!(
        listed(a.clone()).await,
        (vec![a1.clone(), a2.clone(), a4.clone()], 3)
    );

    // One event per change, in order, in the account's own list only.
    let events = events_after(store, &a, 0).await;
    assert_eq!(events.len(), 5, "{events:?}");
    assert_eq!(
        events[..3],
        [
            event(CONTACT_ADD, a1.id, t - 5),
            event(CONTACT_ADD, a2.id, t),
            event(CONTACT_ADD, a3.id, t)
        ]
    );
    let (key, id, at) = &events[3];
    assert_eq!((key.as_str(), *id), (CONTACT_DELETE, a3.id));
    assert!((deleted_at..=now()).contains(at), "deleted at {at}");
    assert_eq!(events[4], event(CONTACT_ADD, a4.id, t));
    assert_eq!(events_after(store, &b, 0).await, [event(CONTACT_ADD, b1.id, t)]);
    // Paged by id.
    let all = store.list_events(&a, 0, 100).await.unwrap();
    assert_eq!(store.list_events(&a, all[1].id, 2).await.unwrap(), all[2..4]);
    assert!(store.list_events(&a, all[4].id, 10).await.unwrap().is_empty());
    assert!(store
        .list_events(&fixtures::account_name(), 0, 10)
        .await
        .unwrap()
        .is_empty());
}

/// Creations made at once (which a store may commit together) each get their own id and event, and one
/// that fails (its account does not exist) fails alone.
async fn concurrent_creations(store: &dyn Store) {
    let t = now();
    let account = fixtures::account(store).await.name;
    let missing = fixtures::account_name();
    let before = last_event_id(store, &account).await;
    let contact = |n: usize| {
        with_email(&format!("c{n}@batch.test"), EmailField::Email1)
            .into_contact(0, t)
            .unwrap()
    };
    let creations = (0..40).map(|n| {
        let (account, missing, c) = (&account, &missing, contact(n));
        async move {
            let into = if n == 17 { missing } else { account };
            store.create_contact(into, &c).await
        }
    });
    let outcomes = futures_util::future::join_all(creations).await;
    let mut ids = Vec::new();
    for (n, outcome) in outcomes.into_iter().enumerate() {
        if n == 17 {
            assert_missing(outcome);
            continue;
        }
        let created = outcome.unwrap();
        assert_eq!(created.version, 1);
        assert_eq!(created.emails[0].email, format!("c{n}@batch.test"));
        let stored = store.get_contact(&account, created.id).await.unwrap();
        assert_eq!(
            stored.as_ref(),
            Some(&created),
            "what was answered is what was stored"
        );
        ids.push(created.id);
    }
    ids.sort_unstable();
    let expected: Vec<i64> = (1..=39).collect();
    assert_eq!(ids, expected, "every creation its own id, none skipped");
    let events = events_after(store, &account, before).await;
    let mut evented: Vec<i64> = events
        .iter()
        .map(|(key, id, _)| {
            assert_eq!(key, CONTACT_ADD);
            *id
        })
        .collect();
    evented.sort_unstable();
    assert_eq!(evented, expected, "one contact.add event per creation");
}

/// Two stores on one database (two nodes) create contacts in the same two accounts at once, taking the
/// accounts in opposite orders: nobody waits forever on the other's counter, and each account's ids stay
/// dense and its own.
pub async fn creation_race(a: &dyn Store, b: &dyn Store) {
    let t = now();
    let (x, y) = (fixtures::account(a).await.name, fixtures::account(a).await.name);
    let before = [last_event_id(a, &x).await, last_event_id(a, &y).await];
    let creations = (0..60).map(|n| {
        let (store, first, second) = if n % 2 == 0 { (a, &x, &y) } else { (b, &y, &x) };
        let into = if n % 4 < 2 { first } else { second };
        let c = with_email(&format!("r{n}@race.test"), EmailField::Email1)
            .into_contact(0, t)
            .unwrap();
        async move { (into.clone(), store.create_contact(into, &c).await) }
    });
    let outcomes = futures_util::future::join_all(creations).await;
    for (account, before) in [&x, &y].into_iter().zip(before) {
        let mut ids: Vec<i64> = outcomes
            .iter()
            .filter(|(into, _)| into == account)
            .map(|(_, outcome)| outcome.as_ref().expect("every creation succeeds").id)
            .collect();
        ids.sort_unstable();
        let expected: Vec<i64> = (1..=30).collect();
        assert_eq!(ids, expected, "ids of {account}: dense, none shared");
        let mut evented: Vec<i64> = events_after(a, account, before)
            .await
            .into_iter()
            .map(|(_, id, _)| id)
            .collect();
        evented.sort_unstable();
        assert_eq!(evented, expected, "one event per creation in {account}");
    }
}

async fn contact_updates(store: &dyn Store) {
    let t = now();
    let a = fixtures::account(store).await.name;
    let other = fixtures::account(store).await.name;
    let c = create(
        store,
        &a,
        fixtures::contact_input(Some(&fixtures::contact_email())),
        t - 100,
    )
    .await;
    let titled = ContactPatch {
        job_title: Patch::Set("Engineer".into()),
        ..ContactPatch::default()
    };
    let mut expected = Contact {
        job_title: Some("Engineer".into()),
        version: 2,
        updated_at: t,
        ..c.clone()
    };
    let before = last_event_id(store, &a).await;
    let done = store
        .update_contact(&a, c.id, Some(1), &|x| titled.apply(x, t))
        .await
        .unwrap();
    assert_eq!(done, ContactWrite::Done(expected.clone()));
    assert_eq!(store.get_contact(&a, c.id).await.unwrap(), Some(expected.clone()));
    assert_eq!(
        events_after(store, &a, before).await,
        [event(CONTACT_EDIT, c.id, t)]
    );

    // A stale version: the change is not even run, nothing is written.
    let before = last_event_id(store, &a).await;
    let runs = AtomicUsize::new(0);
    let renamed = ContactPatch {
        given_name: Patch::Set("Renamed".into()),
        ..ContactPatch::default()
    };
    let counted = |x: &mut Contact| {
        runs.fetch_add(1, Ordering::SeqCst);
        renamed.apply(x, t + 1)
    };
    let stale = store.update_contact(&a, c.id, Some(1), &counted).await.unwrap();
    assert_eq!(stale, ContactWrite::Stale { current_version: 2 });
    assert_eq!(runs.load(Ordering::SeqCst), 0);
    // A change that changes nothing: no write, no event, the version stays (even if it scribbled).
    let unchanged = store
        .update_contact(&a, c.id, Some(2), &|x| titled.apply(x, t + 2))
        .await
        .unwrap();
    assert_eq!(unchanged, ContactWrite::Done(expected.clone()));
    let scribbled = store
        .update_contact(&a, c.id, None, &|x| {
            x.given_name = Some("Scribble".into());
            Ok(false)
        })
        .await
        .unwrap();
    assert_eq!(scribbled, ContactWrite::Done(expected.clone()));
    // A refused change: nothing written.
    let bad_email = ContactPatch {
        emails: Patch::Set(vec![EmailPatch {
            field: EmailField::Email2,
            email: Patch::Set("not-an-email".into()),
        }]),
        ..renamed.clone()
    };
    match store
        .update_contact(&a, c.id, Some(2), &|x| bad_email.apply(x, t + 3))
        .await
        .unwrap()
    {
        ContactWrite::Invalid(e) => assert_eq!(e.field, "email_addresses[0].email"),
        other => panic!("expected a refusal, got {other:?}"),
    }
    let refusal = InvalidInput::new("given_name", "no");
    let refused = store
        .update_contact(&a, c.id, None, &|x| {
            x.given_name = Some("Half-done".into());
            x.version += 1;
            Err(refusal.clone())
        })
        .await
        .unwrap();
    assert_eq!(refused, ContactWrite::Invalid(refusal.clone()));
    // No such contact, or another account's.
    for (account, id) in [
        (&other, c.id),
        (&a, c.id + 1000),
        (&fixtures::account_name(), c.id),
    ] {
        let missing = store.update_contact(account, id, None, &counted).await.unwrap();
        assert_eq!(missing, ContactWrite::NotFound);
    }
    assert_eq!(runs.load(Ordering::SeqCst), 0);
    assert_eq!(store.get_contact(&a, c.id).await.unwrap(), Some(expected.clone()));
    assert!(events_after(store, &a, before).await.is_empty());

    // Unconditional, on whatever version is stored.
    let done = store.update_contact(&a, c.id, None, &counted).await.unwrap();
    (expected.given_name, expected.version, expected.updated_at) = (Some("Renamed".into()), 3, t + 1);
    assert_eq!(done, ContactWrite::Done(expected.clone()));
    assert_eq!(store.get_contact(&a, c.id).await.unwrap(), Some(expected));
    assert_eq!(
        events_after(store, &a, before).await,
        [event(CONTACT_EDIT, c.id, t + 1)]
    );
}

async fn contact_deletes(store: &dyn Store) {
    let t = now();
    let a = fixtures::account(store).await.name;
    let other = fixtures::account(store).await.name;
    let c = create(store, &a, fixtures::contact_input(None), t).await;
    let keep = create(store, &a, fixtures::contact_input(None), t).await;
    let before = last_event_id(store, &a).await;
    assert_eq!(
        store.delete_contact(&a, c.id, Some(2)).await.unwrap(),
        ContactWrite::Stale { current_version: 1 }
    );
    assert_eq!(
        store.delete_contact(&other, c.id, None).await.unwrap(),
        ContactWrite::NotFound
    );
    assert_eq!(store.get_contact(&a, c.id).await.unwrap(), Some(c.clone()));
    assert!(events_after(store, &a, before).await.is_empty());

    let from = now();
    assert_eq!(
        store.delete_contact(&a, c.id, Some(1)).await.unwrap(),
        ContactWrite::Done(())
    );
    assert_eq!(store.get_contact(&a, c.id).await.unwrap(), None);
    let events = events_after(store, &a, before).await;
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!((events[0].0.as_str(), events[0].1), (CONTACT_DELETE, c.id));
    assert!((from..=now()).contains(&events[0].2));
    // Gone for every method; the other contact stays.
    assert_eq!(
        store.delete_contact(&a, c.id, None).await.unwrap(),
        ContactWrite::NotFound
    );
    let update = store.update_contact(&a, c.id, None, &|_| Ok(true)).await.unwrap();
    assert_eq!(update, ContactWrite::NotFound);
    let page = store.list_contacts(&a, &ContactQuery::default()).await.unwrap();
    assert_eq!((page.contacts, page.total), (vec![keep], 1));
    assert_eq!(events_after(store, &a, before).await.len(), 1);
}
