//! Failed-authentication streaks and lock-outs.

use super::fixtures::{now, tag};
use crate::{AuthStreak, Store};

/// The furthest lock among `subjects` at `t`, as a caller checking an attempt reads it.
async fn locked_until(store: &dyn Store, subjects: &[&str], t: i64) -> Option<i64> {
    let streaks = store.auth_streaks(subjects).await.unwrap();
    streaks
        .iter()
        .filter(|s| s.locked_at(t))
        .filter_map(|s| s.locked_until)
        .max()
}

pub async fn auth_failures(store: &dyn Store) {
    let t = now();
    let key = format!("api_key:kgk_{}", tag());
    let addr = format!("addr:{}", tag());
    assert_eq!(store.auth_streaks(&[&key, &addr]).await.unwrap(), []);

    // A streak counts each failure; failures within the window keep it going.
    for n in 1..=3 {
        assert_eq!(store.record_auth_failure(&key, t + n, t - 900).await.unwrap(), n);
    }
    let streak = AuthStreak {
        subject: key.clone(),
        failures: 3,
        last_failure_at: t + 3,
        locked_until: None,
    };
    assert_eq!(store.auth_streaks(&[&key, &addr]).await.unwrap(), [streak]);
    assert_eq!(
        store.auth_streaks(&[&key]).await.unwrap().len(),
        1,
        "one subject alone is found too"
    );

    // A lock holds until its end, and a shorter one never cuts it short.
    store.lock_auth_subject(&key, t + 100).await.unwrap();
    store.lock_auth_subject(&key, t + 50).await.unwrap();
    assert_eq!(locked_until(store, &[&key], t + 10).await, Some(t + 100));
    assert_eq!(locked_until(store, &[&key], t + 100).await, None);
    // Locking a subject that never failed does nothing: locks only follow failures.
    store.lock_auth_subject(&addr, t + 500).await.unwrap();
    assert_eq!(store.auth_streaks(&[&addr]).await.unwrap(), []);

    // With several subjects, each streak is there and the furthest lock answers.
    store.record_auth_failure(&addr, t + 5, t - 900).await.unwrap();
    store.lock_auth_subject(&addr, t + 300).await.unwrap();
    assert_eq!(store.auth_streaks(&[&key, &addr]).await.unwrap().len(), 2);
    assert_eq!(locked_until(store, &[&key, &addr], t + 10).await, Some(t + 300));
    assert_eq!(locked_until(store, &[&key, &addr], t + 200).await, Some(t + 300));

    // The window counts from the lock's end as well as the last failure: a streak that was locked
    // until t + 100 goes on at t + 150 when the window reaches back to t + 60 ...
    assert_eq!(store.record_auth_failure(&key, t + 150, t + 60).await.unwrap(), 4);
    // ... and starts again once both lie before the window.
    assert_eq!(
        store.record_auth_failure(&key, t + 2000, t + 1100).await.unwrap(),
        1
    );

    // Success forgets the streak; other subjects keep theirs.
    store.clear_auth_failures(&key).await.unwrap();
    assert_eq!(store.auth_streaks(&[&key]).await.unwrap(), []);
    assert_eq!(
        store.record_auth_failure(&key, t + 2001, t + 1100).await.unwrap(),
        1
    );
    assert_eq!(locked_until(store, &[&addr], t + 10).await, Some(t + 300));
}

/// Concurrent failures of one subject are all counted (one atomic upsert each).
pub async fn auth_failure_races(a: &dyn Store, b: &dyn Store) {
    let t = now();
    let subject = format!("user:{}", tag());
    let tasks = (0..10).map(|i| {
        let store = if i % 2 == 0 { a } else { b };
        let subject = subject.clone();
        async move { store.record_auth_failure(&subject, t, t - 900).await.unwrap() }
    });
    let mut counts = futures_util::future::join_all(tasks).await;
    counts.sort_unstable();
    assert_eq!(
        counts,
        (1..=10).collect::<Vec<_>>(),
        "a concurrent failure was lost"
    );
}
