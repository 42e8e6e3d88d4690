//! Email statuses: kept per address of an account, changed only for an address some contact of the
//! account holds, with one event per contact holding it.

use std::sync::atomic::{AtomicUsize, Ordering};

use futures_util::future::join_all;
use keygate_core::contact::email_status::{opt_in, opt_out};
use keygate_core::contact::{
    EmailAddress, EmailField, EmailStatus, EmailStatusRecord, OptInOutcome, OptOutBy, OptOutOutcome,
};
use keygate_core::email::normalize;
use keygate_core::InvalidInput;

use super::contacts::{create, events_after, last_event_id};
use super::fixtures::{self, now};
use crate::{ContactWrite, Store, CONTACT_OPT_IN, CONTACT_OPT_OUT};

type Change = Result<Option<EmailStatusRecord>, InvalidInput>;

fn opting_out(email: &str, current: Option<&EmailStatusRecord>, by: OptOutBy, at: i64) -> Change {
    Ok(match opt_out(current, email, "", by, at)? {
        OptOutOutcome::Changed(r) => Some(r),
        OptOutOutcome::Unchanged => None,
    })
}

fn opting_in(email: &str, current: Option<&EmailStatusRecord>, at: i64) -> Change {
    Ok(match opt_in(current, email, "web form", true, at)? {
        OptInOutcome::Changed(r) => Some(r),
        OptInOutcome::Unchanged | OptInOutcome::Refused(_) => None,
    })
}

pub async fn email_statuses(store: &dyn Store) {
    let t = now();
    let a = fixtures::account(store).await.name;
    let other = fixtures::account(store).await.name;
    let address = fixtures::contact_email();
    let email = normalize(&address);
    // Two holders: one in slot 1 as entered, one in slot 3 in another case; a bystander; and the same
    // address in another account.
    let first = create(store, &a, fixtures::contact_input(Some(&address)), t).await;
    let mut second = fixtures::contact_input(Some(&fixtures::contact_email()));
    second.emails.push(EmailAddress {
        field: EmailField::Email3,
        email: address.to_uppercase(),
    });
    let second = create(store, &a, second, t).await;
    let bystander_address = fixtures::contact_email();
    let bystander = create(store, &a, fixtures::contact_input(Some(&bystander_address)), t).await;
    let elsewhere_address = fixtures::contact_email();
    create(store, &other, fixtures::contact_input(Some(&address)), t).await;
    create(
        store,
        &other,
        fixtures::contact_input(Some(&elsewhere_address)),
        t,
    )
    .await;
    let (before, before_other) = (last_event_id(store, &a).await, last_event_id(store, &other).await);

    // No contact of the account holds the address: not found, and the change is not even run.
    let runs = AtomicUsize::new(0);
    let counted = |current: Option<&EmailStatusRecord>| {
        runs.fetch_add(1, Ordering::SeqCst);
        opting_out(&email, current, OptOutBy::Admin, t)
    };
    let nobody = normalize(&fixtures::contact_email());
    for (account, address) in [
        (&a, nobody.as_str()),
        (&a, normalize(&elsewhere_address).as_str()),
        (&fixtures::account_name(), email.as_str()),
    ] {
        let missing = store
            .change_email_status(account, address, CONTACT_OPT_OUT, &counted)
            .await
            .unwrap();
        assert_eq!(missing, ContactWrite::NotFound, "{address}");
        assert_eq!(store.get_email_status(account, address).await.unwrap(), None);
    }
    assert_eq!(runs.load(Ordering::SeqCst), 0);
    assert_eq!(store.get_email_status(&a, &email).await.unwrap(), None);

    // Opting out: the record is stored, and each holder gets one event at the record's time.
    let email_ref = email.as_str();
    let out = |by, at| move |current: Option<&EmailStatusRecord>| opting_out(email_ref, current, by, at);
    let done = store
        .change_email_status(&a, &email, CONTACT_OPT_OUT, &out(OptOutBy::Admin, t + 1))
        .await
        .unwrap();
    let record = EmailStatusRecord {
        email: email.clone(),
        status: EmailStatus::OptedOut,
        reason: "API Opt Out".into(),
        opted_out_by: Some(OptOutBy::Admin),
        changed_at: t + 1,
    };
    assert_eq!(done, ContactWrite::Done(Some(record.clone())));
    assert_eq!(
        store.get_email_status(&a, &email).await.unwrap(),
        Some(record.clone())
    );
    let opted_out = |id| (CONTACT_OPT_OUT.to_owned(), id, t + 1);
    let events = events_after(store, &a, before).await;
    assert_eq!(events, [opted_out(first.id), opted_out(second.id)]);
    // The other account's copy of the address is untouched.
    assert_eq!(store.get_email_status(&other, &email).await.unwrap(), None);
    assert!(events_after(store, &other, before_other).await.is_empty());

    // A contact read with its primary address's status: only where that address has one. The second
    // holder has it in slot 3, not as its primary; a contact without an address has none.
    let read = |id| store.get_contact_with_status(&a, id);
    assert_eq!(
        read(first.id).await.unwrap(),
        Some((first.clone(), Some(record.clone())))
    );
    assert_eq!(read(second.id).await.unwrap(), Some((second.clone(), None)));
    assert_eq!(read(bystander.id).await.unwrap(), Some((bystander.clone(), None)));
    let silent = create(store, &a, fixtures::contact_input(None), t).await;
    assert_eq!(read(silent.id).await.unwrap(), Some((silent, None)));
    assert_eq!(read(i64::MAX).await.unwrap(), None);
    assert_eq!(
        store
            .get_contact_with_status(&other, first.id)
            .await
            .unwrap()
            .map(|(c, s)| (c.id, s)),
        Some((first.id, None)),
        "the other account's contact of that id, without this account's status"
    );

    // Nothing to change: no write, no event; a refusal likewise.
    let before = last_event_id(store, &a).await;
    let again = store
        .change_email_status(&a, &email, CONTACT_OPT_OUT, &out(OptOutBy::System, t + 2))
        .await
        .unwrap();
    assert_eq!(again, ContactWrite::Done(None));
    let refusal = InvalidInput::new("reason", "no");
    let refused = store
        .change_email_status(&a, &email, CONTACT_OPT_IN, &|_| Err(refusal.clone()))
        .await
        .unwrap();
    assert_eq!(refused, ContactWrite::Invalid(refusal.clone()));
    // The change sees the stored record: opting in again after an opt-out is refused by the rules.
    let opt_in_again = |current: Option<&EmailStatusRecord>| opting_in(&email, current, t + 3);
    let refused_in = store
        .change_email_status(&a, &email, CONTACT_OPT_IN, &opt_in_again)
        .await
        .unwrap();
    assert_eq!(refused_in, ContactWrite::Done(None));
    assert_eq!(store.get_email_status(&a, &email).await.unwrap(), Some(record));
    assert!(events_after(store, &a, before).await.is_empty());

    // Another address: a first record, then a replaced one, each with its own event.
    let single = normalize(&bystander_address);
    let opt_in_single = |current: Option<&EmailStatusRecord>| opting_in(&single, current, t + 4);
    let done = store
        .change_email_status(&a, &single, CONTACT_OPT_IN, &opt_in_single)
        .await
        .unwrap();
    let confirmed = EmailStatusRecord {
        email: single.clone(),
        status: EmailStatus::Confirmed,
        reason: "web form".into(),
        opted_out_by: None,
        changed_at: t + 4,
    };
    assert_eq!(done, ContactWrite::Done(Some(confirmed.clone())));
    assert_eq!(
        store.get_email_status(&a, &single).await.unwrap(),
        Some(confirmed)
    );
    let out_single =
        |current: Option<&EmailStatusRecord>| opting_out(&single, current, OptOutBy::Contact, t + 5);
    let done = store
        .change_email_status(&a, &single, CONTACT_OPT_OUT, &out_single)
        .await
        .unwrap();
    let ContactWrite::Done(Some(replaced)) = done else {
        panic!("expected an opt-out, got {done:?}");
    };
    assert_eq!(
        (replaced.status, replaced.opted_out_by),
        (EmailStatus::OptedOut, Some(OptOutBy::Contact))
    );
    assert_eq!(store.get_email_status(&a, &single).await.unwrap(), Some(replaced));
    let events = events_after(store, &a, before).await;
    assert_eq!(
        events,
        [
            (CONTACT_OPT_IN.to_owned(), bystander.id, t + 4),
            (CONTACT_OPT_OUT.to_owned(), bystander.id, t + 5)
        ]
    );
}

/// Concurrent opt-outs of one address: one stores the record and writes the events, the others find it
/// already opted out.
pub(super) async fn email_status_race(a: &dyn Store, b: &dyn Store) {
    const CALLS: usize = 8;
    let t = now();
    let account = fixtures::account(a).await.name;
    let address = fixtures::contact_email();
    let email = normalize(&address);
    let first = create(a, &account, fixtures::contact_input(Some(&address)), t).await;
    let second = create(b, &account, fixtures::contact_input(Some(&address)), t).await;
    let before = last_event_id(a, &account).await;
    let stores = [a, b];
    let changes: Vec<_> = (0..CALLS)
        .map(|i| {
            let email = email.as_str();
            let at = t + 1 + i as i64;
            move |current: Option<&EmailStatusRecord>| opting_out(email, current, OptOutBy::Contact, at)
        })
        .collect();
    let calls = changes
        .iter()
        .enumerate()
        .map(|(i, change)| stores[i % 2].change_email_status(&account, &email, CONTACT_OPT_OUT, change));
    let results: Vec<_> = join_all(calls).await.into_iter().map(|r| r.unwrap()).collect();
    let stored: Vec<&EmailStatusRecord> = results
        .iter()
        .filter_map(|r| match r {
            ContactWrite::Done(Some(record)) => Some(record),
            _ => None,
        })
        .collect();
    assert_eq!(stored.len(), 1, "{results:?}");
    let unchanged = results.iter().filter(|r| **r == ContactWrite::Done(None)).count();
    assert_eq!(unchanged, CALLS - 1, "{results:?}");
    assert_eq!(
        b.get_email_status(&account, &email).await.unwrap().as_ref(),
        Some(stored[0])
    );
    let at = stored[0].changed_at;
    let expected = [first.id, second.id].map(|id| (CONTACT_OPT_OUT.to_owned(), id, at));
    assert_eq!(events_after(a, &account, before).await, expected);
}
