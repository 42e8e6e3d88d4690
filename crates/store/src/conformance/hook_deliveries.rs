//! REST Hook deliveries: claims with a lease, attempts and what they decide, listings, replays, counts,
//! and deletion with the subscription.

use super::assert_missing;
use super::contacts::create;
use super::fixtures::{self, now};
use super::hooks::{delete_all, drain_fan_out, waiting_items};
use crate::{
    AttemptOutcome, Delivery, DeliveryAttempt, DeliveryStatus, Hook, HookStats, HookStatus, Store,
    CONTACT_ADD,
};

/// The deliveries of `hook` among `claimed`, by id.
fn claimed_of(hook: &Hook, claimed: Vec<Delivery>) -> Vec<Delivery> {
    let mut mine: Vec<Delivery> = claimed.into_iter().filter(|d| d.hook_key == hook.key).collect();
    mine.sort_by(|x, y| x.id.cmp(&y.id));
    mine
}

/// `deliveries` as they are once claimed until `until`, by id.
fn leased(deliveries: &[&Delivery], until: i64) -> Vec<Delivery> {
    let mut all: Vec<Delivery> = deliveries
        .iter()
        .map(|&d| Delivery {
            next_attempt_at: Some(until),
            ..d.clone()
        })
        .collect();
    all.sort_by(|x, y| x.id.cmp(&y.id));
    all
}

fn attempt(d: &Delivery, number: i64, at: i64, code: Option<i64>, error: Option<&str>) -> DeliveryAttempt {
    DeliveryAttempt {
        delivery_id: d.id.clone(),
        number,
        at,
        status_code: code,
        latency_ms: 120 + number,
        error: error.map(str::to_owned),
    }
}

pub async fn hook_deliveries(store: &dyn Store) {
    let t = now();
    let a = fixtures::account(store).await.name;
    let hook = fixtures::hook(&a, CONTACT_ADD, HookStatus::Verified, t);
    store.create_hook(&hook).await.unwrap();
    drain_fan_out(store).await;
    for _ in 0..4 {
        create(store, &a, fixtures::contact_input(None), t - 10).await;
    }
    drain_fan_out(store).await;
    let items = waiting_items(store, &hook).await;
    // Three deliveries of one item each, due at different times; the fourth item stays unbatched.
    let [d1, d2, d3] = [t, t + 10, t + 100].map(|due| Delivery {
        next_attempt_at: Some(due),
        ..fixtures::delivery(&hook, t)
    });
    for (d, (item, _)) in [&d1, &d2, &d3].into_iter().zip(&items) {
        assert!(store.create_delivery(d, &[*item]).await.unwrap());
    }

    // A claim takes what is due and leases it; no other claim takes it until the lease ends.
    let claimed = store.claim_deliveries(t + 10, 30, u32::MAX).await.unwrap();
    assert_eq!(claimed_of(&hook, claimed), leased(&[&d1, &d2], t + 40));
    let claimed = store.claim_deliveries(t + 39, 30, u32::MAX).await.unwrap();
    assert!(claimed_of(&hook, claimed).is_empty());
    let stored = store.get_delivery(&a, &hook.key, &d1.id).await.unwrap().unwrap();
    assert_eq!(stored.next_attempt_at, Some(t + 40));
    let claimed = store.claim_deliveries(t + 40, 30, u32::MAX).await.unwrap();
    assert_eq!(claimed_of(&hook, claimed), leased(&[&d1, &d2], t + 70));
    assert_eq!(store.claim_deliveries(t + 70, 30, 1).await.unwrap().len(), 1);

    // A retry: still pending, due then; the subscription is failing since the attempt.
    let get = |id: &str| {
        let (a, key, id) = (a.clone(), hook.key.clone(), id.to_owned());
        async move { store.get_delivery(&a, &key, &id).await.unwrap().unwrap() }
    };
    let failing_since = || async {
        store
            .get_hook(&a, &hook.key)
            .await
            .unwrap()
            .unwrap()
            .failing_since
    };
    let first = attempt(&d1, 1, t + 41, Some(500), Some("HTTP 500"));
    let retry = AttemptOutcome::Retry { at: t + 100 };
    store.record_attempt(&first, retry).await.unwrap();
    let retried = Delivery {
        attempts: 1,
        next_attempt_at: Some(t + 100),
        last_status_code: Some(500),
        last_error: Some("HTTP 500".into()),
        ..d1.clone()
    };
    assert_eq!(get(&d1.id).await, retried);
    assert_eq!(failing_since().await, Some(t + 41));
    // Delivered: final, and the subscription no longer failing.
    let second = attempt(&d1, 2, t + 101, Some(200), None);
    store
        .record_attempt(&second, AttemptOutcome::Delivered)
        .await
        .unwrap();
    let delivered = Delivery {
        status: DeliveryStatus::Delivered,
        attempts: 2,
        next_attempt_at: None,
        finished_at: Some(t + 101),
        last_status_code: Some(200),
        last_error: None,
        ..d1.clone()
    };
    assert_eq!(get(&d1.id).await, delivered);
    assert_eq!(failing_since().await, None);
    // Failed: final; failing since then. A retry of another delivery keeps that time.
    let gone = attempt(&d2, 1, t + 102, Some(410), Some("Gone"));
    store.record_attempt(&gone, AttemptOutcome::Failed).await.unwrap();
    let failed = Delivery {
        status: DeliveryStatus::Failed,
        attempts: 1,
        next_attempt_at: None,
        finished_at: Some(t + 102),
        last_status_code: Some(410),
        last_error: Some("Gone".into()),
        ..d2.clone()
    };
    assert_eq!(get(&d2.id).await, failed);
    let refused = attempt(&d3, 1, t + 103, None, Some("connection refused"));
    store
        .record_attempt(&refused, AttemptOutcome::Retry { at: t + 200 })
        .await
        .unwrap();
    assert_eq!(get(&d3.id).await.next_attempt_at, Some(t + 200));
    assert_eq!(failing_since().await, Some(t + 102));
    assert_eq!(
        store.list_attempts(&d1.id).await.unwrap(),
        [first.clone(), second.clone()]
    );
    assert_eq!(store.list_attempts(&d2.id).await.unwrap(), [gone]);
    assert!(store.list_attempts("msg_missing").await.unwrap().is_empty());
    // A late attempt (from a node whose claim lapsed) is numbered after the last; the outcome stays.
    let late = attempt(&d1, 2, t + 104, Some(500), Some("late"));
    store
        .record_attempt(&late, AttemptOutcome::Retry { at: t + 300 })
        .await
        .unwrap();
    let late = DeliveryAttempt { number: 3, ..late };
    assert_eq!(store.list_attempts(&d1.id).await.unwrap(), [first, second, late]);
    assert_eq!(
        get(&d1.id).await,
        Delivery {
            attempts: 3,
            ..delivered
        }
    );
    assert_eq!(failing_since().await, Some(t + 102));
    let unknown = Delivery {
        id: "msg_missing".into(),
        ..d1.clone()
    };
    assert_missing(
        store
            .record_attempt(&attempt(&unknown, 1, t, None, None), AttemptOutcome::Delivered)
            .await,
    );

    // Listed newest first, paged by `before`, scoped by account and subscription.
    let listed = |limit, before: Option<String>| {
        let (a, key) = (a.clone(), hook.key.clone());
        async move {
            let page = store
                .list_deliveries(&a, &key, limit, before.as_deref())
                .await
                .unwrap();
            page.into_iter().map(|d| d.id).collect::<Vec<_>>()
        }
    };
    assert_eq!(listed(10, None).await, [d3.id.as_str(), &d2.id, &d1.id]);
    assert_eq!(listed(2, None).await, [d3.id.as_str(), &d2.id]);
    assert_eq!(listed(10, Some(d2.id.clone())).await, [d1.id.as_str()]);
    assert!(listed(10, Some(d1.id.clone())).await.is_empty());
    let stranger = fixtures::account_name();
    assert!(store
        .list_deliveries(&stranger, &hook.key, 10, None)
        .await
        .unwrap()
        .is_empty());
    assert!(store
        .list_deliveries(&a, "hk_missing", 10, None)
        .await
        .unwrap()
        .is_empty());
    assert_eq!(
        store.get_delivery(&stranger, &hook.key, &d1.id).await.unwrap(),
        None
    );
    assert_eq!(store.get_delivery(&a, "hk_missing", &d1.id).await.unwrap(), None);

    // One item delivered, one failed, one in a pending delivery and one not batched.
    let counts = |pending, delivered, failed| HookStats {
        pending,
        delivered,
        failed,
    };
    assert_eq!(store.hook_stats(&a, &hook.key).await.unwrap(), counts(2, 1, 1));
    assert_eq!(
        store.hook_stats(&stranger, &hook.key).await.unwrap(),
        counts(0, 0, 0)
    );

    // A replay makes a delivery pending and due again, keeping its id, payload and attempts.
    assert!(!store
        .replay_delivery(&stranger, &hook.key, &d2.id, t + 500)
        .await
        .unwrap());
    assert!(!store
        .replay_delivery(&a, &hook.key, "msg_missing", t + 500)
        .await
        .unwrap());
    assert!(store
        .replay_delivery(&a, &hook.key, &d2.id, t + 500)
        .await
        .unwrap());
    let replayed = Delivery {
        status: DeliveryStatus::Pending,
        next_attempt_at: Some(t + 500),
        finished_at: None,
        ..failed
    };
    assert_eq!(get(&d2.id).await, replayed);
    assert_eq!(store.hook_stats(&a, &hook.key).await.unwrap(), counts(3, 1, 0));
    let claimed = claimed_of(
        &hook,
        store.claim_deliveries(t + 500, 30, u32::MAX).await.unwrap(),
    );
    let mut expected = vec![d2.id.clone(), d3.id.clone()];
    expected.sort();
    assert_eq!(claimed.into_iter().map(|d| d.id).collect::<Vec<_>>(), expected);

    // Deleting the subscription deletes its items, deliveries and attempts: one made again under the
    // same key starts empty.
    delete_all(store, &[&hook]).await;
    assert!(store.list_attempts(&d1.id).await.unwrap().is_empty());
    store.create_hook(&hook).await.unwrap();
    assert_eq!(store.get_delivery(&a, &hook.key, &d1.id).await.unwrap(), None);
    assert!(listed(10, None).await.is_empty());
    assert_eq!(store.hook_stats(&a, &hook.key).await.unwrap(), counts(0, 0, 0));
    assert!(waiting_items(store, &hook).await.is_empty());
    delete_all(store, &[&hook]).await;
}
