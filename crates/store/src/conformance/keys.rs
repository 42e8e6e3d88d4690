//! Signing keys: first-start bootstrap and rotation, including races between nodes.

use keygate_core::model::{KeyState, SigningKeyRecord};

use super::fixtures::{self, now};
use crate::Store;

fn with_state(keys: &[SigningKeyRecord], state: KeyState) -> Vec<&SigningKeyRecord> {
    keys.iter().filter(|k| k.state == state).collect()
}

/// The one current and the one next key (after bootstrapping if the table is empty).
async fn current_and_next(store: &dyn Store) -> (SigningKeyRecord, SigningKeyRecord) {
    let t = now();
    let initial = [
        fixtures::signing_key(KeyState::Current, t),
        fixtures::signing_key(KeyState::Next, t),
    ];
    store.bootstrap_signing_keys(&initial).await.unwrap();
    let keys = store.list_signing_keys().await.unwrap();
    let (current, next) = (
        with_state(&keys, KeyState::Current),
        with_state(&keys, KeyState::Next),
    );
    assert_eq!(
        (current.len(), next.len()),
        (1, 1),
        "want one current and one next key: {keys:?}"
    );
    (current[0].clone(), next[0].clone())
}

pub async fn signing_keys(store: &dyn Store) {
    bootstrap_race(store, store).await;
    let t = now();
    let before = store.list_signing_keys().await.unwrap();
    assert!(
        before.windows(2).all(|w| w[0].created_at <= w[1].created_at),
        "keys not oldest first"
    );
    let again = [fixtures::signing_key(KeyState::Current, t)];
    assert!(
        !store.bootstrap_signing_keys(&again).await.unwrap(),
        "bootstrapped a non-empty table"
    );
    assert!(!store.bootstrap_signing_keys(&[]).await.unwrap());
    assert_eq!(store.list_signing_keys().await.unwrap(), before);

    let (current, next) = current_and_next(store).await;
    // Kids in the wrong roles: nothing changes.
    let stray = fixtures::signing_key(KeyState::Next, t);
    assert!(!store
        .rotate_signing_keys(&next.kid, &current.kid, &stray, t + 3600, t)
        .await
        .unwrap());
    assert_eq!(store.list_signing_keys().await.unwrap(), before);

    let new_next = fixtures::signing_key(KeyState::Next, t + 10);
    assert!(store
        .rotate_signing_keys(&current.kid, &next.kid, &new_next, t + 3600, t + 10)
        .await
        .unwrap());
    let after = store.list_signing_keys().await.unwrap();
    let find = |kid: &str| after.iter().find(|k| k.kid == kid).cloned().unwrap();
    let retired = SigningKeyRecord {
        state: KeyState::Retired,
        sealed_private_key: None,
        retired_at: Some(t + 10),
        publish_until: Some(t + 3600),
        ..current.clone()
    };
    assert_eq!(find(&current.kid), retired);
    let promoted = SigningKeyRecord {
        state: KeyState::Current,
        activated_at: Some(t + 10),
        ..next.clone()
    };
    assert_eq!(find(&next.kid), promoted);
    assert_eq!(find(&new_next.kid), new_next);
    assert_eq!(after.len(), before.len() + 1);

    // The same rotation again (a node that lost the race), or one naming a retired key as current:
    // refused, nothing changed.
    let late = fixtures::signing_key(KeyState::Next, t + 11);
    assert!(!store
        .rotate_signing_keys(&current.kid, &next.kid, &late, t + 3600, t + 11)
        .await
        .unwrap());
    assert!(!store
        .rotate_signing_keys(&current.kid, &new_next.kid, &late, t + 3600, t + 11)
        .await
        .unwrap());
    assert_eq!(store.list_signing_keys().await.unwrap(), after);
}

/// On an empty table, two bootstraps at once: exactly one inserts its keys. Otherwise both refuse.
pub(super) async fn bootstrap_race(a: &dyn Store, b: &dyn Store) {
    let t = now();
    let before = a.list_signing_keys().await.unwrap();
    let ka = [
        fixtures::signing_key(KeyState::Current, t),
        fixtures::signing_key(KeyState::Next, t),
    ];
    let kb = [
        fixtures::signing_key(KeyState::Current, t),
        fixtures::signing_key(KeyState::Next, t),
    ];
    let (ra, rb) = tokio::join!(a.bootstrap_signing_keys(&ka), b.bootstrap_signing_keys(&kb));
    let (ra, rb) = (ra.unwrap(), rb.unwrap());
    let mut stored = a.list_signing_keys().await.unwrap();
    if before.is_empty() {
        assert!(ra != rb, "exactly one bootstrap must win, got {ra} and {rb}");
        let mut winner = if ra { ka.to_vec() } else { kb.to_vec() };
        winner.sort_by(|x, y| x.kid.cmp(&y.kid));
        stored.sort_by(|x, y| x.kid.cmp(&y.kid));
        assert_eq!(stored, winner);
    } else {
        assert!(!ra && !rb, "bootstrapped a non-empty table");
        assert_eq!(stored, before);
    }
}

/// Two nodes rotating the same keys at once: exactly one succeeds and inserts its next key.
pub(super) async fn rotation_race(a: &dyn Store, b: &dyn Store) {
    let (current, next) = current_and_next(a).await;
    let t = now();
    let (na, nb) = (
        fixtures::signing_key(KeyState::Next, t),
        fixtures::signing_key(KeyState::Next, t),
    );
    let (ra, rb) = tokio::join!(
        a.rotate_signing_keys(&current.kid, &next.kid, &na, t + 3600, t),
        b.rotate_signing_keys(&current.kid, &next.kid, &nb, t + 3600, t),
    );
    let (ra, rb) = (ra.unwrap(), rb.unwrap());
    assert!(ra != rb, "exactly one rotation must win, got {ra} and {rb}");
    let keys = a.list_signing_keys().await.unwrap();
    let (winner, loser) = if ra { (&na, &nb) } else { (&nb, &na) };
    assert!(keys.contains(winner) && !keys.iter().any(|k| k.kid == loser.kid));
    let (now_current, now_next) = current_and_next(a).await;
    assert_eq!((now_current.kid, now_next.kid), (next.kid, winner.kid.clone()));
}
