//! Legacy static keys: found by their hash, revoked idempotently, every use counted.

use futures_util::future::join_all;
use keygate_core::ids::LegacyKeyId;
use keygate_core::model::{AccountStatus, KeyStatus, LegacyKey};

use super::fixtures::{self, now};
use super::{assert_conflict, assert_missing};
use crate::Store;

pub async fn legacy_keys(store: &dyn Store) {
    let t = now();
    let account = fixtures::account(store).await;
    let key = fixtures::legacy_key(&account.name, t);
    store.create_legacy_key(&key).await.unwrap();
    assert_eq!(store.get_legacy_key(&key.id).await.unwrap(), Some(key.clone()));
    assert_eq!(
        store.find_legacy_key(&key.secret.hash).await.unwrap(),
        Some(key.clone())
    );
    assert_eq!(
        store.get_legacy_key(&LegacyKeyId::generate()).await.unwrap(),
        None
    );
    assert_eq!(store.find_legacy_key(&fixtures::hash()).await.unwrap(), None);

    // Found with its account's status, as that status is now.
    let with_account = |hash| store.find_legacy_key_and_account_status(hash);
    assert_eq!(
        with_account(&key.secret.hash).await.unwrap(),
        Some((key.clone(), Some(AccountStatus::Active)))
    );
    let unknown = fixtures::hash();
    assert_eq!(with_account(&unknown).await.unwrap(), None);
    fixtures::set_account_status(store, &account.name, AccountStatus::Suspended).await;
    assert_eq!(
        with_account(&key.secret.hash).await.unwrap(),
        Some((key.clone(), Some(AccountStatus::Suspended)))
    );
    fixtures::set_account_status(store, &account.name, AccountStatus::Active).await;

    // Ids and key hashes are unique; nothing is stored or changed by a refused key.
    let same_id = LegacyKey {
        name: "Another".into(),
        secret: fixtures::secret(),
        ..key.clone()
    };
    assert_conflict(store.create_legacy_key(&same_id).await, key.id.as_str());
    assert_eq!(store.find_legacy_key(&same_id.secret.hash).await.unwrap(), None);
    let same_hash = LegacyKey {
        secret: key.secret.clone(),
        ..fixtures::legacy_key(&account.name, t)
    };
    assert_conflict(store.create_legacy_key(&same_hash).await, "secret");
    assert_eq!(store.get_legacy_key(&same_hash.id).await.unwrap(), None);
    assert_eq!(store.get_legacy_key(&key.id).await.unwrap(), Some(key.clone()));

    // The account must exist.
    let nowhere = fixtures::legacy_key(&fixtures::account_name(), t);
    assert_missing(store.create_legacy_key(&nowhere).await);
    assert_eq!(store.get_legacy_key(&nowhere.id).await.unwrap(), None);
    assert_eq!(store.find_legacy_key(&nowhere.secret.hash).await.unwrap(), None);

    // Every field round-trips: odd names, a revoked status, a use count and a last use. Revoked keys are
    // found by their hash too (the caller tells the client why the key no longer works).
    let used = LegacyKey {
        name: "Old \"integration\" ✓".into(),
        use_count: 42,
        last_used_at: Some(t - 1),
        ..fixtures::legacy_key(&account.name, t - 20)
    };
    store.create_legacy_key(&used).await.unwrap();
    assert_eq!(store.get_legacy_key(&used.id).await.unwrap(), Some(used.clone()));
    let dead = LegacyKey {
        name: String::new(),
        status: KeyStatus::Revoked,
        revoked_at: Some(t - 5),
        updated_at: t - 5,
        use_count: 3,
        last_used_at: Some(t - 6),
        ..fixtures::legacy_key(&account.name, t - 10)
    };
    store.create_legacy_key(&dead).await.unwrap();
    assert_eq!(store.get_legacy_key(&dead.id).await.unwrap(), Some(dead.clone()));
    assert_eq!(
        store.find_legacy_key(&dead.secret.hash).await.unwrap(),
        Some(dead.clone())
    );

    // Listed by creation time, then id; revoked keys included; other accounts' keys not.
    let twin = fixtures::legacy_key(&account.name, t);
    store.create_legacy_key(&twin).await.unwrap();
    let other = fixtures::account(store).await;
    let elsewhere = fixtures::legacy_key(&other.name, t - 100);
    store.create_legacy_key(&elsewhere).await.unwrap();
    let mut same_time = [key.clone(), twin.clone()];
    same_time.sort_by(|a, b| a.id.as_str().cmp(b.id.as_str()));
    let [first, second] = same_time;
    assert_eq!(
        store.list_legacy_keys(&account.name).await.unwrap(),
        [used.clone(), dead.clone(), first, second]
    );
    assert_eq!(store.list_legacy_keys(&other.name).await.unwrap(), [elsewhere]);
    assert!(store
        .list_legacy_keys(&fixtures::account_name())
        .await
        .unwrap()
        .is_empty());

    // Revocation is idempotent: the first time stays, and a second call changes nothing.
    let revoked = LegacyKey {
        status: KeyStatus::Revoked,
        revoked_at: Some(t + 5),
        updated_at: t + 5,
        ..key.clone()
    };
    assert_eq!(
        store.revoke_legacy_key(&key.id, t + 5).await.unwrap(),
        Some(revoked.clone())
    );
    assert_eq!(
        store.revoke_legacy_key(&key.id, t + 9).await.unwrap(),
        Some(revoked.clone())
    );
    assert_eq!(
        store.get_legacy_key(&key.id).await.unwrap(),
        Some(revoked.clone())
    );
    assert_eq!(
        store.find_legacy_key(&key.secret.hash).await.unwrap(),
        Some(revoked.clone())
    );
    assert_eq!(
        store.revoke_legacy_key(&dead.id, t + 9).await.unwrap(),
        Some(dead.clone())
    );
    assert_eq!(
        store
            .revoke_legacy_key(&LegacyKeyId::generate(), t)
            .await
            .unwrap(),
        None
    );
    assert!(store
        .list_legacy_keys(&account.name)
        .await
        .unwrap()
        .contains(&revoked));
    assert_eq!(
        store.get_legacy_key(&twin.id).await.unwrap(),
        Some(twin.clone()),
        "revoking one legacy key touched another"
    );
    // Revoking keeps the use count and the last use.
    let used_revoked = LegacyKey {
        status: KeyStatus::Revoked,
        revoked_at: Some(t + 6),
        updated_at: t + 6,
        ..used.clone()
    };
    assert_eq!(
        store.revoke_legacy_key(&used.id, t + 6).await.unwrap(),
        Some(used_revoked)
    );

    legacy_key_uses(store).await;
}

/// Uses add up; the last use only moves forward; each call returns the last use before it.
async fn legacy_key_uses(store: &dyn Store) {
    let t = now();
    let account = fixtures::account(store).await;
    let key = fixtures::legacy_key(&account.name, t - 100);
    store.create_legacy_key(&key).await.unwrap();
    let bystander = fixtures::legacy_key(&account.name, t - 100);
    store.create_legacy_key(&bystander).await.unwrap();
    let mut expected = key.clone();
    let check = |expected: LegacyKey| async move {
        assert_eq!(store.get_legacy_key(&expected.id).await.unwrap(), Some(expected));
    };

    // The first use: never used before.
    assert_eq!(store.record_legacy_key_use(&key.id, 1, t).await.unwrap(), None);
    (expected.use_count, expected.last_used_at) = (1, Some(t));
    check(expected.clone()).await;
    // A later use, counted in a batch: the previous use is returned, the time moves forward. Nothing
    // else changes (a use is not an update of the key).
    assert_eq!(
        store.record_legacy_key_use(&key.id, 5, t + 10).await.unwrap(),
        Some(t)
    );
    (expected.use_count, expected.last_used_at) = (6, Some(t + 10));
    check(expected.clone()).await;
    // An earlier use (a batch flushed late) is counted but does not move the time back; nor does one at
    // the same time.
    assert_eq!(
        store.record_legacy_key_use(&key.id, 2, t + 3).await.unwrap(),
        Some(t + 10)
    );
    expected.use_count = 8;
    check(expected.clone()).await;
    assert_eq!(
        store.record_legacy_key_use(&key.id, 1, t + 10).await.unwrap(),
        Some(t + 10)
    );
    expected.use_count = 9;
    check(expected.clone()).await;
    assert_eq!(
        store.record_legacy_key_use(&key.id, 1, t + 11).await.unwrap(),
        Some(t + 10)
    );
    (expected.use_count, expected.last_used_at) = (10, Some(t + 11));
    check(expected.clone()).await;
    check(bystander.clone()).await;

    // The store records uses of a revoked key too: whether it still works is the caller's decision.
    let revoked = store.revoke_legacy_key(&key.id, t + 12).await.unwrap().unwrap();
    (expected.status, expected.revoked_at, expected.updated_at) = (KeyStatus::Revoked, Some(t + 12), t + 12);
    assert_eq!(revoked, expected);
    assert_eq!(
        store.record_legacy_key_use(&key.id, 1, t + 13).await.unwrap(),
        Some(t + 11)
    );
    (expected.use_count, expected.last_used_at) = (11, Some(t + 13));
    check(expected).await;

    // No such key: nothing to return, and nothing is created.
    let ghost = LegacyKeyId::generate();
    assert_eq!(store.record_legacy_key_use(&ghost, 1, t).await.unwrap(), None);
    assert_eq!(store.get_legacy_key(&ghost).await.unwrap(), None);
    check(bystander).await;
}

/// Many uses of one key at once, alternating between the two stores: every use is counted, and each
/// caller sees the last use before its own, as if the calls had run one after the other.
pub(super) async fn legacy_key_use_race(a: &dyn Store, b: &dyn Store) {
    const CALLS: i64 = 16;
    let t = now();
    let account = fixtures::account(a).await;
    let key = fixtures::legacy_key(&account.name, t);
    a.create_legacy_key(&key).await.unwrap();
    let store = |i: i64| [a, b][usize::from(i % 2 == 1)];

    // All at one time: one caller is first, the others see its use.
    let uses = (0..CALLS).map(|i| store(i).record_legacy_key_use(&key.id, 1, t));
    let previous: Vec<Option<i64>> = join_all(uses).await.into_iter().map(|r| r.unwrap()).collect();
    assert_eq!(
        previous.iter().filter(|p| p.is_none()).count(),
        1,
        "not exactly one first use: {previous:?}"
    );
    assert!(
        previous.iter().all(|&p| p.is_none() || p == Some(t)),
        "{previous:?}"
    );
    let stored = a.get_legacy_key(&key.id).await.unwrap().unwrap();
    assert_eq!((stored.use_count, stored.last_used_at), (CALLS, Some(t)));

    // Each at its own, later time: whatever the order, the time ends at the latest, each call returns a
    // time it did not set itself, and only the first sees the time of the round before.
    let uses = (1..=CALLS).map(|i| store(i).record_legacy_key_use(&key.id, 2, t + i));
    let previous: Vec<i64> = join_all(uses)
        .await
        .into_iter()
        .map(|r| r.unwrap().unwrap())
        .collect();
    assert_eq!(previous.iter().filter(|&&p| p == t).count(), 1, "{previous:?}");
    for (i, &p) in (1..=CALLS).zip(&previous) {
        assert!(p != t + i && (t..=t + CALLS).contains(&p), "{previous:?}");
    }
    let stored = b.get_legacy_key(&key.id).await.unwrap().unwrap();
    assert_eq!(
        (stored.use_count, stored.last_used_at),
        (3 * CALLS, Some(t + CALLS))
    );
}
