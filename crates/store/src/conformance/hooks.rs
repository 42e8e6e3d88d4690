//! REST Hook subscriptions, scoped by account, and the fan-out of events to them: only to verified
//! subscriptions of the event's account and key, each event once.
//!
//! Fan-out takes every account's events, other checks' included: checks drain it before asserting, and
//! assert only about the subscriptions they made. Each check deletes its subscriptions at the end, so
//! that no delivery of theirs is left for a later check to claim.

use keygate_core::ids::AccountName;

use super::contacts::create;
use super::fixtures::{self, now};
use super::{assert_conflict, assert_missing};
use crate::{Event, Hook, HookPatch, HookStats, HookStatus, Store, CONTACT_ADD, CONTACT_EDIT};

pub async fn hooks(store: &dyn Store) {
    hook_crud(store).await;
    fan_out(store).await;
}

/// Fans out until no event is left.
pub(super) async fn drain_fan_out(store: &dyn Store) {
    for _ in 0..10_000 {
        if store.fan_out_events(100).await.unwrap() == 0 {
            return;
        }
    }
    panic!("fan-out never ran dry");
}

/// The unbatched items of a verified `hook`, oldest first.
pub(super) async fn waiting_items(store: &dyn Store, hook: &Hook) -> Vec<(i64, Event)> {
    let batches = store.pending_batches(i64::MAX, 1000, u32::MAX).await.unwrap();
    let mut mine = batches.into_iter().filter(|b| b.hook.key == hook.key);
    let Some(batch) = mine.next() else {
        return Vec::new();
    };
    assert!(mine.next().is_none(), "one batch per subscription");
    assert_eq!(batch.hook.account, hook.account);
    batch.items
}

/// The events of those items.
pub(super) fn events(items: &[(i64, Event)]) -> Vec<Event> {
    items.iter().map(|(_, e)| e.clone()).collect()
}

pub(super) async fn delete_all(store: &dyn Store, hooks: &[&Hook]) {
    for hook in hooks {
        assert!(store.delete_hook(&hook.account, &hook.key).await.unwrap());
    }
}

/// Gives the contact `id` of `account` a new job title at `at`: a `contact.edit` event.
pub(super) async fn edit(store: &dyn Store, account: &AccountName, id: i64, at: i64) {
    let title = fixtures::tag();
    let done = store
        .update_contact(account, id, None, &|c| {
            c.job_title = Some(title.clone());
            c.updated_at = at;
            Ok(true)
        })
        .await
        .unwrap();
    assert!(matches!(done, crate::ContactWrite::Done(_)), "{done:?}");
}

async fn hook_crud(store: &dyn Store) {
    let t = now();
    let a = fixtures::account(store).await.name;
    let b = fixtures::account(store).await.name;
    let first = fixtures::hook(&a, CONTACT_ADD, HookStatus::Verified, t);
    let second = fixtures::hook(&a, CONTACT_EDIT, HookStatus::Unverified, t + 1);
    let elsewhere = fixtures::hook(&b, CONTACT_ADD, HookStatus::Verified, t);
    for hook in [&second, &first, &elsewhere] {
        store.create_hook(hook).await.unwrap();
    }
    // A key is unique across accounts; the account must exist.
    let taken = Hook {
        key: first.key.clone(),
        ..fixtures::hook(&b, CONTACT_ADD, HookStatus::Verified, t)
    };
    assert_conflict(store.create_hook(&taken).await, &first.key);
    let orphan = fixtures::hook(&fixtures::account_name(), CONTACT_ADD, HookStatus::Verified, t);
    assert_missing(store.create_hook(&orphan).await);

    // Reads are scoped by account; listings are oldest first.
    assert_eq!(store.get_hook(&a, &first.key).await.unwrap(), Some(first.clone()));
    assert_eq!(store.get_hook(&b, &first.key).await.unwrap(), None);
    assert_eq!(store.get_hook(&a, "hk_missing").await.unwrap(), None);
    assert_eq!(
        store.list_hooks(&a).await.unwrap(),
        [first.clone(), second.clone()]
    );
    assert_eq!(
        store.list_hooks(&b).await.unwrap(),
        std::slice::from_ref(&elsewhere)
    );
    assert!(store
        .list_hooks(&fixtures::account_name())
        .await
        .unwrap()
        .is_empty());

    // An update changes what the patch names and bumps `updated_at`; another account's changes nothing.
    let patch = HookPatch {
        hook_url: Some("https://new.example/hook".into()),
        status: Some(HookStatus::Inactive),
        failing_since: Some(Some(t - 60)),
        ..HookPatch::default()
    };
    assert_eq!(
        store.update_hook(&b, &first.key, &patch, t + 5).await.unwrap(),
        None
    );
    assert_eq!(
        store.update_hook(&a, "hk_missing", &patch, t + 5).await.unwrap(),
        None
    );
    assert_eq!(store.get_hook(&a, &first.key).await.unwrap(), Some(first.clone()));
    let updated = store.update_hook(&a, &first.key, &patch, t + 5).await.unwrap();
    let expected = Hook {
        hook_url: "https://new.example/hook".into(),
        status: HookStatus::Inactive,
        failing_since: Some(t - 60),
        updated_at: t + 5,
        ..first.clone()
    };
    assert_eq!(updated.as_ref(), Some(&expected));
    assert_eq!(store.get_hook(&a, &first.key).await.unwrap(), updated);

    // A rotation keeps the old secret for a while; `failing_since` can be cleared; an empty patch
    // changes only `updated_at`.
    let new_secret = fixtures::hash();
    let rotation = HookPatch {
        rotate_secret: Some((new_secret.clone(), first.secret_sealed.clone(), t + 3600)),
        failing_since: Some(None),
        ..HookPatch::default()
    };
    let rotated = store.update_hook(&a, &first.key, &rotation, t + 6).await.unwrap();
    let expected = Hook {
        secret_sealed: new_secret,
        previous_secret_sealed: Some(first.secret_sealed.clone()),
        previous_secret_expires_at: Some(t + 3600),
        failing_since: None,
        updated_at: t + 6,
        ..expected
    };
    assert_eq!(rotated.as_ref(), Some(&expected));
    let touched = store
        .update_hook(&a, &first.key, &HookPatch::default(), t + 7)
        .await
        .unwrap();
    assert_eq!(
        touched,
        Some(Hook {
            updated_at: t + 7,
            ..expected
        })
    );
    assert_eq!(
        store.get_hook(&a, &second.key).await.unwrap(),
        Some(second.clone())
    );

    // Deleting is scoped too, and happens once.
    assert!(!store.delete_hook(&b, &first.key).await.unwrap());
    assert!(store.delete_hook(&a, &first.key).await.unwrap());
    assert!(!store.delete_hook(&a, &first.key).await.unwrap());
    assert_eq!(store.get_hook(&a, &first.key).await.unwrap(), None);
    assert_eq!(store.list_hooks(&a).await.unwrap(), std::slice::from_ref(&second));
    delete_all(store, &[&second, &elsewhere]).await;
}

async fn fan_out(store: &dyn Store) {
    let t = now();
    let a = fixtures::account(store).await.name;
    let b = fixtures::account(store).await.name;
    let hook = |account: &AccountName, key: &str, status| fixtures::hook(account, key, status, t);
    let adds = hook(&a, CONTACT_ADD, HookStatus::Verified);
    let adds_too = hook(&a, CONTACT_ADD, HookStatus::Verified);
    let edits = hook(&a, CONTACT_EDIT, HookStatus::Verified);
    let unverified = hook(&a, CONTACT_ADD, HookStatus::Unverified);
    let inactive = hook(&a, CONTACT_ADD, HookStatus::Inactive);
    let other = hook(&b, CONTACT_ADD, HookStatus::Verified);
    let all = [&adds, &adds_too, &edits, &unverified, &inactive, &other];
    for h in all {
        store.create_hook(h).await.unwrap();
    }
    drain_fan_out(store).await;

    let c = create(store, &a, fixtures::contact_input(None), t - 30).await;
    edit(store, &a, c.id, t - 20).await;
    create(store, &b, fixtures::contact_input(None), t - 10).await;
    let [added, edited] = <[Event; 2]>::try_from(store.list_events(&a, 0, 10).await.unwrap()).unwrap();
    let [added_b] = <[Event; 1]>::try_from(store.list_events(&b, 0, 10).await.unwrap()).unwrap();
    assert_eq!(store.fan_out_events(100).await.unwrap(), 3);
    drain_fan_out(store).await;

    // Each verified subscription of the account and key gets the event once; others get nothing.
    assert_eq!(
        events(&waiting_items(store, &adds).await),
        std::slice::from_ref(&added)
    );
    assert_eq!(events(&waiting_items(store, &adds_too).await), [added]);
    assert_eq!(events(&waiting_items(store, &edits).await), [edited]);
    assert_eq!(events(&waiting_items(store, &other).await), [added_b]);
    for h in [&unverified, &inactive] {
        assert_eq!(store.hook_stats(&a, &h.key).await.unwrap(), HookStats::default());
    }
    let one_pending = HookStats {
        pending: 1,
        ..HookStats::default()
    };
    assert_eq!(store.hook_stats(&a, &adds.key).await.unwrap(), one_pending);
    // Scoped by account.
    assert_eq!(
        store.hook_stats(&b, &adds.key).await.unwrap(),
        HookStats::default()
    );

    // Fanning out again adds nothing. A subscription verified since does not get the old event, but
    // gets the next one.
    assert_eq!(store.fan_out_events(100).await.unwrap(), 0);
    let verify = HookPatch {
        status: Some(HookStatus::Verified),
        ..HookPatch::default()
    };
    store
        .update_hook(&a, &unverified.key, &verify, t)
        .await
        .unwrap()
        .unwrap();
    drain_fan_out(store).await;
    assert!(waiting_items(store, &unverified).await.is_empty());
    let later = create(store, &a, fixtures::contact_input(None), t - 5).await;
    drain_fan_out(store).await;
    let items = waiting_items(store, &unverified).await;
    assert_eq!(items.len(), 1);
    assert_eq!((items[0].1.object_id, items[0].1.occurred_at), (later.id, t - 5));
    let both = events(&waiting_items(store, &adds).await);
    assert_eq!(
        both.iter().map(|e| e.object_id).collect::<Vec<_>>(),
        [c.id, later.id]
    );

    // A subscription switched off keeps its items, but they are not batched until it is verified.
    let off = HookPatch {
        status: Some(HookStatus::Inactive),
        ..HookPatch::default()
    };
    store.update_hook(&a, &adds.key, &off, t).await.unwrap().unwrap();
    assert!(waiting_items(store, &adds).await.is_empty());
    let two_pending = HookStats {
        pending: 2,
        ..HookStats::default()
    };
    assert_eq!(store.hook_stats(&a, &adds.key).await.unwrap(), two_pending);
    store
        .update_hook(&a, &adds.key, &verify, t)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(waiting_items(store, &adds).await.len(), 2);
    delete_all(store, &all).await;
}
