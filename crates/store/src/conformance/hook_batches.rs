//! REST Hook batches: what is ready to batch, in what order, and batches written only whole.

use super::assert_conflict;
use super::contacts::create;
use super::fixtures::{self, now};
use super::hooks::{delete_all, drain_fan_out, waiting_items};
use crate::{Delivery, HookStats, HookStatus, PendingBatch, Store, CONTACT_ADD};

pub async fn hook_batches(store: &dyn Store) {
    let t = now();
    let a = fixtures::account(store).await.name;
    let b = fixtures::account(store).await.name;
    let hook = fixtures::hook(&a, CONTACT_ADD, HookStatus::Verified, t);
    let early = fixtures::hook(&b, CONTACT_ADD, HookStatus::Verified, t);
    for h in [&hook, &early] {
        store.create_hook(h).await.unwrap();
    }
    drain_fan_out(store).await;
    // Ids and times disagree: items are ordered by time, then id.
    let middle = create(store, &a, fixtures::contact_input(None), t - 50).await;
    let oldest = create(store, &a, fixtures::contact_input(None), t - 100).await;
    let newest = create(store, &a, fixtures::contact_input(None), t - 10).await;
    create(store, &b, fixtures::contact_input(None), t - 200).await;
    drain_fan_out(store).await;

    // Nothing until the oldest item is old enough (the debounce); then every item, oldest first, up to
    // `max_items`.
    let batch_of = |batches: Vec<PendingBatch>| batches.into_iter().find(|x| x.hook.key == hook.key);
    assert!(batch_of(store.pending_batches(t - 101, 10, u32::MAX).await.unwrap()).is_none());
    let batch = batch_of(store.pending_batches(t - 100, 10, u32::MAX).await.unwrap()).unwrap();
    assert_eq!(batch.hook, hook);
    let objects: Vec<_> = batch
        .items
        .iter()
        .map(|(_, e)| (e.object_id, e.occurred_at))
        .collect();
    assert_eq!(
        objects,
        [(oldest.id, t - 100), (middle.id, t - 50), (newest.id, t - 10)]
    );
    let items = batch.items;
    let short = batch_of(store.pending_batches(t - 100, 2, u32::MAX).await.unwrap()).unwrap();
    assert_eq!(short.items, items[..2]);
    // The subscription waiting longest comes first; `limit` bounds the subscriptions.
    let all = store.pending_batches(t, 10, u32::MAX).await.unwrap();
    let position = |key: &str| all.iter().position(|x| x.hook.key == key).unwrap();
    assert!(position(&early.key) < position(&hook.key));
    assert_eq!(store.pending_batches(t, 10, 1).await.unwrap(), all[..1]);

    // A batch takes its items; the delivery is pending, due when made unless told otherwise.
    let ids: Vec<i64> = items.iter().map(|(id, _)| *id).collect();
    let delivery = Delivery {
        next_attempt_at: None,
        ..fixtures::delivery(&hook, t)
    };
    assert!(store.create_delivery(&delivery, &ids[..2]).await.unwrap());
    let stored = Delivery {
        next_attempt_at: Some(t),
        ..delivery.clone()
    };
    assert_eq!(
        store.get_delivery(&a, &hook.key, &delivery.id).await.unwrap(),
        Some(stored.clone())
    );
    assert_eq!(waiting_items(store, &hook).await, items[2..]);

    // Refused, writing nothing, when an item is already batched or is another subscription's, or when
    // the subscription is not the delivery's account's.
    let early_item = waiting_items(store, &early).await[0].0;
    let refusals = [
        (fixtures::delivery(&hook, t), vec![ids[2], ids[1]]),
        (fixtures::delivery(&hook, t), vec![ids[2], early_item]),
        (
            Delivery {
                account: b.clone(),
                ..fixtures::delivery(&hook, t)
            },
            vec![ids[2]],
        ),
        (
            Delivery {
                hook_key: "hk_missing".into(),
                ..fixtures::delivery(&hook, t)
            },
            vec![ids[2]],
        ),
    ];
    for (refused, item_ids) in &refusals {
        assert!(
            !store.create_delivery(refused, item_ids).await.unwrap(),
            "{refused:?}"
        );
    }
    // A delivery id is unique.
    assert_conflict(store.create_delivery(&delivery, &ids[2..]).await, &delivery.id);
    assert_eq!(
        store.list_deliveries(&a, &hook.key, 10, None).await.unwrap(),
        [stored]
    );
    assert!(store
        .list_deliveries(&b, &hook.key, 10, None)
        .await
        .unwrap()
        .is_empty());
    assert_eq!(waiting_items(store, &hook).await, items[2..]);
    assert_eq!(waiting_items(store, &early).await.len(), 1);
    // Two items in a pending delivery, one not batched: all pending.
    let stats = store.hook_stats(&a, &hook.key).await.unwrap();
    assert_eq!(
        stats,
        HookStats {
            pending: 3,
            ..HookStats::default()
        }
    );
    delete_all(store, &[&hook, &early]).await;
}
