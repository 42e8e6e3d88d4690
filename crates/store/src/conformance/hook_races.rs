//! The REST Hooks pipeline run by several nodes at once: no event fanned out twice, no delivery claimed
//! twice, no item batched twice, and no deadlock when a subscription is deleted meanwhile.

use futures_util::future::join_all;

use super::contacts::create;
use super::fixtures::{self, now};
use super::hooks::{delete_all, drain_fan_out, events, waiting_items};
use crate::{AttemptOutcome, DeliveryAttempt, Event, HookStats, HookStatus, Store, StoreError, CONTACT_ADD};

/// Fan-outs of the same events at once make each item once.
pub(super) async fn fan_out_race(a: &dyn Store, b: &dyn Store) {
    const EVENTS: usize = 30;
    let t = now();
    let account = fixtures::account(a).await.name;
    let hooks = [a, b].map(|_| fixtures::hook(&account, CONTACT_ADD, HookStatus::Verified, t));
    for (store, hook) in [a, b].into_iter().zip(&hooks) {
        store.create_hook(hook).await.unwrap();
    }
    for i in 0..EVENTS {
        create([a, b][i % 2], &account, fixtures::contact_input(None), t).await;
    }
    let mut rounds = 0;
    loop {
        let calls = (0..8).map(|i| [a, b][i % 2].fan_out_events(4));
        let taken: u64 = join_all(calls).await.into_iter().map(|r| r.unwrap()).sum();
        if taken == 0 {
            break;
        }
        rounds += 1;
        assert!(rounds < 1000, "fan-out never ran dry");
    }
    let mut expected = a.list_events(&account, 0, 100).await.unwrap();
    assert_eq!(expected.len(), EVENTS);
    expected.sort_by_key(|e| e.id);
    for hook in &hooks {
        // Items made by concurrent fan-outs are numbered in no particular order of their events.
        let mut got: Vec<Event> = events(&waiting_items(b, hook).await);
        got.sort_by_key(|e| e.id);
        assert_eq!(got, expected);
        let stats = a.hook_stats(&account, &hook.key).await.unwrap();
        assert_eq!(stats.pending, EVENTS as u64);
    }
    delete_all(a, &hooks.iter().collect::<Vec<_>>()).await;
}

/// Claims at once never return one delivery twice; between them they take every one due.
pub(super) async fn claim_race(a: &dyn Store, b: &dyn Store) {
    const DELIVERIES: usize = 12;
    let t = now();
    let account = fixtures::account(a).await.name;
    let hook = fixtures::hook(&account, CONTACT_ADD, HookStatus::Verified, t);
    a.create_hook(&hook).await.unwrap();
    let deliveries: Vec<_> = (0..DELIVERIES).map(|_| fixtures::delivery(&hook, t)).collect();
    for d in &deliveries {
        assert!(a.create_delivery(d, &[]).await.unwrap());
    }
    let calls = (0..8).map(|i| [a, b][i % 2].claim_deliveries(t, 60, 3));
    let claimed: Vec<_> = join_all(calls)
        .await
        .into_iter()
        .flat_map(|r| r.unwrap())
        .collect();
    let mut ids: Vec<&str> = claimed.iter().map(|d| d.id.as_str()).collect();
    ids.sort_unstable();
    let distinct = ids.len();
    ids.dedup();
    assert_eq!(ids.len(), distinct, "a delivery was claimed twice");
    let mut mine: Vec<_> = claimed.iter().filter(|d| d.hook_key == hook.key).collect();
    mine.sort_by(|x, y| x.id.cmp(&y.id));
    let mut expected: Vec<_> = deliveries.iter().map(|d| d.id.as_str()).collect();
    expected.sort_unstable();
    assert_eq!(mine.iter().map(|d| d.id.as_str()).collect::<Vec<_>>(), expected);
    assert!(mine.iter().all(|d| d.next_attempt_at == Some(t + 60)));
    delete_all(a, &[&hook]).await;
}

/// Batches sharing an item, made at once: exactly one is written, whole; the others write nothing.
pub(super) async fn batch_race(a: &dyn Store, b: &dyn Store) {
    const CALLS: usize = 8;
    let t = now();
    let account = fixtures::account(a).await.name;
    let hook = fixtures::hook(&account, CONTACT_ADD, HookStatus::Verified, t);
    a.create_hook(&hook).await.unwrap();
    for _ in 0..=CALLS {
        create(a, &account, fixtures::contact_input(None), t).await;
    }
    drain_fan_out(a).await;
    let items: Vec<i64> = waiting_items(a, &hook)
        .await
        .into_iter()
        .map(|(id, _)| id)
        .collect();
    let (shared, own) = (items[0], &items[1..]);
    assert_eq!(own.len(), CALLS);
    let deliveries: Vec<_> = (0..CALLS).map(|_| fixtures::delivery(&hook, t)).collect();
    let batches: Vec<[i64; 2]> = own.iter().map(|&item| [shared, item]).collect();
    let calls = deliveries
        .iter()
        .zip(&batches)
        .enumerate()
        .map(|(i, (d, batch))| [a, b][i % 2].create_delivery(d, batch));
    let results: Vec<bool> = join_all(calls).await.into_iter().map(|r| r.unwrap()).collect();
    assert_eq!(results.iter().filter(|&&won| won).count(), 1, "{results:?}");
    let winner = results.iter().position(|&won| won).unwrap();
    for (i, d) in deliveries.iter().enumerate() {
        let stored = b.get_delivery(&account, &hook.key, &d.id).await.unwrap();
        assert_eq!(stored.is_some(), i == winner);
    }
    let left: Vec<i64> = waiting_items(b, &hook)
        .await
        .into_iter()
        .map(|(id, _)| id)
        .collect();
    let expected: Vec<i64> = own.iter().copied().filter(|&id| id != own[winner]).collect();
    assert_eq!(left, expected);
    let stats = a.hook_stats(&account, &hook.key).await.unwrap();
    let all_pending = HookStats {
        pending: items.len() as u64,
        ..HookStats::default()
    };
    assert_eq!(stats, all_pending);
    delete_all(a, &[&hook]).await;
}

/// A subscription deleted while its deliveries are tried and its items batched: no call fails but by
/// reporting the subscription gone, and nothing of it is left.
pub(super) async fn delete_race(a: &dyn Store, b: &dyn Store) {
    const DELIVERIES: usize = 6;
    let t = now();
    let account = fixtures::account(a).await.name;
    let hook = fixtures::hook(&account, CONTACT_ADD, HookStatus::Verified, t);
    a.create_hook(&hook).await.unwrap();
    for _ in 0..DELIVERIES {
        create(a, &account, fixtures::contact_input(None), t).await;
    }
    drain_fan_out(a).await;
    let items = waiting_items(a, &hook).await;
    let deliveries: Vec<_> = (0..DELIVERIES).map(|_| fixtures::delivery(&hook, t)).collect();
    let (tried, batched) = deliveries.split_at(DELIVERIES / 2);
    for (d, (item, _)) in tried.iter().zip(&items) {
        assert!(a.create_delivery(d, &[*item]).await.unwrap());
    }
    let attempts = tried.iter().enumerate().map(|(i, d)| {
        let attempt = DeliveryAttempt {
            delivery_id: d.id.clone(),
            number: 1,
            at: t,
            status_code: Some(500),
            latency_ms: 10,
            error: None,
        };
        async move {
            [a, b][i % 2]
                .record_attempt(&attempt, AttemptOutcome::Failed)
                .await
        }
    });
    let batches = batched
        .iter()
        .zip(&items[DELIVERIES / 2..])
        .enumerate()
        .map(|(i, (d, (item, _)))| [b, a][i % 2].create_delivery(d, std::slice::from_ref(item)));
    let (deleted, recorded, created) = tokio::join!(
        b.delete_hook(&account, &hook.key),
        join_all(attempts),
        join_all(batches)
    );
    assert!(deleted.unwrap());
    for result in recorded {
        match result {
            Ok(()) | Err(StoreError::MissingReference(_)) => {}
            Err(e) => panic!("recording an attempt: {e:?}"),
        }
    }
    for result in created {
        result.unwrap();
    }
    assert_eq!(a.get_hook(&account, &hook.key).await.unwrap(), None);
    for d in &deliveries {
        assert_eq!(a.get_delivery(&account, &hook.key, &d.id).await.unwrap(), None);
        assert!(a.list_attempts(&d.id).await.unwrap().is_empty());
    }
}
