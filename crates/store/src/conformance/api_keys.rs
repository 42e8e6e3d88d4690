//! API keys and their sessions.

use futures_util::future::join_all;
use keygate_core::ids::{opaque_id, ApiKeyId, UserId};
use keygate_core::model::{AccountStatus, ApiKey, AssertionAlg, KeySession, KeyStatus, StoredSecret};
use keygate_core::scope::ScopeSet;

use super::fixtures::{self, now};
use super::{assert_conflict, assert_missing};
use crate::{Store, StoreError};

pub async fn api_keys(store: &dyn Store) {
    let t = now();
    let account = fixtures::account(store).await;
    let user = fixtures::user(store, &account.name).await;
    let key = fixtures::api_key(&account.name, Some(&user.id), t);
    store.create_api_key(&key).await.unwrap();
    assert_eq!(store.get_api_key(&key.id).await.unwrap(), Some(key.clone()));
    assert_eq!(store.get_api_key(&ApiKeyId::generate()).await.unwrap(), None);

    // Read with its account's status, as that status is now.
    let with_account = |id| store.get_api_key_and_account_status(id);
    assert_eq!(
        with_account(&key.id).await.unwrap(),
        Some((key.clone(), Some(AccountStatus::Active)))
    );
    let unknown = ApiKeyId::generate();
    assert_eq!(with_account(&unknown).await.unwrap(), None);
    fixtures::set_account_status(store, &account.name, AccountStatus::Suspended).await;
    assert_eq!(
        with_account(&key.id).await.unwrap(),
        Some((key.clone(), Some(AccountStatus::Suspended)))
    );
    fixtures::set_account_status(store, &account.name, AccountStatus::Active).await;

    let same_id = ApiKey {
        secret: fixtures::secret(),
        user_id: None,
        ..key.clone()
    };
    assert_conflict(store.create_api_key(&same_id).await, key.id.as_str());

    // References: the account must exist, and so must the user, in that same account.
    let nowhere = fixtures::api_key(&fixtures::account_name(), None, t);
    assert_missing(store.create_api_key(&nowhere).await);
    let ghost = fixtures::api_key(&account.name, Some(&UserId::generate()), t);
    assert_missing(store.create_api_key(&ghost).await);
    let other = fixtures::account(store).await;
    let stranger = fixtures::user(store, &other.name).await;
    let cross = fixtures::api_key(&account.name, Some(&stranger.id), t);
    match store.create_api_key(&cross).await {
        Err(StoreError::MissingReference(what)) => {
            assert!(
                what.contains(stranger.id.as_str()),
                "{what:?} does not name the user"
            )
        }
        other => panic!("a key for another account's user was not refused: {other:?}"),
    }
    for refused in [&nowhere, &ghost, &cross] {
        assert_eq!(store.get_api_key(&refused.id).await.unwrap(), None);
    }
    assert!(store.list_api_keys(&other.name).await.unwrap().is_empty());

    // Every field round-trips, a previous secret and a revoked status included.
    let service = ApiKey {
        name: "Nightly \"export\" ✓".into(),
        scopes: ScopeSet::parse("full").unwrap(),
        previous_secret: Some(StoredSecret {
            expires_at: Some(t + 60),
            ..fixtures::secret()
        }),
        ..fixtures::api_key(&account.name, None, t - 20)
    };
    store.create_api_key(&service).await.unwrap();
    assert_eq!(
        store.get_api_key(&service.id).await.unwrap(),
        Some(service.clone())
    );
    let dead = ApiKey {
        status: KeyStatus::Revoked,
        scopes: ScopeSet::parse("").unwrap(),
        revoked_at: Some(t - 5),
        updated_at: t - 5,
        ..fixtures::api_key(&account.name, Some(&user.id), t - 10)
    };
    store.create_api_key(&dead).await.unwrap();
    assert_eq!(store.get_api_key(&dead.id).await.unwrap(), Some(dead.clone()));

    // Listed by creation time, then id; revoked keys included; other accounts' keys not.
    let twin = fixtures::api_key(&account.name, None, t);
    store.create_api_key(&twin).await.unwrap();
    let elsewhere = fixtures::api_key(&other.name, Some(&stranger.id), t - 100);
    store.create_api_key(&elsewhere).await.unwrap();
    let mut same_time = [key.clone(), twin.clone()];
    same_time.sort_by(|a, b| a.id.as_str().cmp(b.id.as_str()));
    let [first, second] = same_time;
    assert_eq!(
        store.list_api_keys(&account.name).await.unwrap(),
        [service.clone(), dead.clone(), first, second]
    );
    assert_eq!(store.list_api_keys(&other.name).await.unwrap(), [elsewhere]);
    assert!(store
        .list_api_keys(&fixtures::account_name())
        .await
        .unwrap()
        .is_empty());

    // Revocation is idempotent: the first time stays, and a second call changes nothing.
    let revoked = ApiKey {
        status: KeyStatus::Revoked,
        revoked_at: Some(t + 5),
        updated_at: t + 5,
        ..key.clone()
    };
    assert_eq!(
        store.revoke_api_key(&key.id, t + 5).await.unwrap(),
        Some(revoked.clone())
    );
    assert_eq!(
        store.revoke_api_key(&key.id, t + 9).await.unwrap(),
        Some(revoked.clone())
    );
    assert_eq!(store.get_api_key(&key.id).await.unwrap(), Some(revoked.clone()));
    assert_eq!(
        store.revoke_api_key(&dead.id, t + 9).await.unwrap(),
        Some(dead.clone())
    );
    assert_eq!(
        store.revoke_api_key(&ApiKeyId::generate(), t).await.unwrap(),
        None
    );
    assert!(store
        .list_api_keys(&account.name)
        .await
        .unwrap()
        .contains(&revoked));
    assert_eq!(
        store.get_api_key(&twin.id).await.unwrap(),
        Some(twin.clone()),
        "revoking one key touched another"
    );

    // Secret rotation, as for apps: the old current secret stays valid until the given time, or goes.
    let s2 = fixtures::secret();
    let mut expected = service.clone();
    expected.previous_secret = Some(StoredSecret {
        expires_at: Some(t + 3600),
        ..service.secret.clone()
    });
    expected.secret = s2.clone();
    expected.updated_at = t + 6;
    assert_eq!(
        store
            .replace_api_key_secret(&service.id, &s2, Some(t + 3600), t + 6)
            .await
            .unwrap(),
        Some(expected.clone())
    );
    let s3 = fixtures::secret();
    (expected.secret, expected.previous_secret, expected.updated_at) = (s3.clone(), None, t + 7);
    assert_eq!(
        store
            .replace_api_key_secret(&service.id, &s3, None, t + 7)
            .await
            .unwrap(),
        Some(expected.clone())
    );
    assert_eq!(store.get_api_key(&service.id).await.unwrap(), Some(expected));
    assert_eq!(
        store
            .replace_api_key_secret(&ApiKeyId::generate(), &s3, None, t)
            .await
            .unwrap(),
        None
    );
}

/// Keys that sign JWT assertions: what verifies them round-trips for every algorithm and can be
/// replaced or cleared, and each key accepts a jti once.
pub async fn api_key_assertions(store: &dyn Store) {
    let t = now();
    let account = fixtures::account(store).await;
    let user = fixtures::user(store, &account.name).await;

    // Created with one, for each algorithm; listed with it too.
    let mut created = Vec::new();
    for (i, &alg) in (0..).zip(AssertionAlg::ALL) {
        let key = ApiKey {
            assertion: Some(fixtures::assertion_key(alg)),
            ..fixtures::api_key(&account.name, Some(&user.id), t - 100 + i)
        };
        store.create_api_key(&key).await.unwrap();
        assert_eq!(store.get_api_key(&key.id).await.unwrap(), Some(key.clone()));
        created.push(key);
    }
    assert_eq!(store.list_api_keys(&account.name).await.unwrap(), created);

    // Set on a key created without one, changed to every algorithm in turn, then cleared.
    let plain = fixtures::api_key(&account.name, None, t - 10);
    store.create_api_key(&plain).await.unwrap();
    assert_eq!(
        store.get_api_key(&plain.id).await.unwrap().unwrap().assertion,
        None
    );
    let mut expected = plain.clone();
    for (i, &alg) in (0..).zip(AssertionAlg::ALL) {
        let assertion = fixtures::assertion_key(alg);
        (expected.assertion, expected.updated_at) = (Some(assertion.clone()), t + i);
        assert_eq!(
            store
                .set_api_key_assertion(&plain.id, Some(&assertion), t + i)
                .await
                .unwrap(),
            Some(expected.clone())
        );
        assert_eq!(
            store.get_api_key(&plain.id).await.unwrap(),
            Some(expected.clone())
        );
    }
    (expected.assertion, expected.updated_at) = (None, t + 10);
    assert_eq!(
        store
            .set_api_key_assertion(&plain.id, None, t + 10)
            .await
            .unwrap(),
        Some(expected.clone())
    );
    assert_eq!(
        store.get_api_key(&plain.id).await.unwrap(),
        Some(expected.clone())
    );
    let hs256 = fixtures::assertion_key(AssertionAlg::HS256);
    assert_eq!(
        store
            .set_api_key_assertion(&ApiKeyId::generate(), Some(&hs256), t)
            .await
            .unwrap(),
        None
    );
    assert_eq!(
        store.get_api_key(&created[0].id).await.unwrap(),
        Some(created[0].clone()),
        "setting one key's assertion touched another"
    );

    // Rotating the secret and revoking keep it.
    let signer = &created[1];
    let s2 = fixtures::secret();
    let rotated = store
        .replace_api_key_secret(&signer.id, &s2, None, t + 11)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(rotated.assertion, signer.assertion);
    let revoked = store.revoke_api_key(&signer.id, t + 12).await.unwrap().unwrap();
    assert_eq!(revoked.assertion, signer.assertion);

    // A jti is accepted once per key, whatever expiry a replay claims; other keys may use it too.
    let (key, other) = (&created[0], &created[2]);
    let jti = opaque_id("jti_");
    assert!(store.use_assertion_jti(&key.id, &jti, t + 60).await.unwrap());
    assert!(!store.use_assertion_jti(&key.id, &jti, t + 60).await.unwrap());
    assert!(!store.use_assertion_jti(&key.id, &jti, t + 600).await.unwrap());
    assert!(store.use_assertion_jti(&other.id, &jti, t + 60).await.unwrap());
    assert!(!store.use_assertion_jti(&other.id, &jti, t + 60).await.unwrap());
    let fresh = opaque_id("jti_");
    assert!(store.use_assertion_jti(&key.id, &fresh, t + 60).await.unwrap());
    // Clearing the key's assertion forgets nothing it used.
    store
        .set_api_key_assertion(&key.id, None, t + 13)
        .await
        .unwrap()
        .unwrap();
    assert!(!store.use_assertion_jti(&key.id, &jti, t + 60).await.unwrap());
    assert_missing(
        store
            .use_assertion_jti(&ApiKeyId::generate(), &opaque_id("jti_"), t + 60)
            .await,
    );
}

/// Concurrent uses of one jti by one key, as replays racing the original: exactly one is accepted.
pub(super) async fn assertion_jti_race(a: &dyn Store, b: &dyn Store) {
    const CALLS: usize = 16;
    let t = now();
    let account = fixtures::account(a).await;
    let key = ApiKey {
        assertion: Some(fixtures::assertion_key(AssertionAlg::EdDSA)),
        ..fixtures::api_key(&account.name, None, t)
    };
    a.create_api_key(&key).await.unwrap();
    for _ in 0..3 {
        let jti = opaque_id("jti_");
        let uses = (0..CALLS).map(|i| [a, b][i % 2].use_assertion_jti(&key.id, &jti, t + 60));
        let accepted: Vec<bool> = join_all(uses).await.into_iter().map(|r| r.unwrap()).collect();
        assert_eq!(
            accepted.iter().filter(|&&ok| ok).count(),
            1,
            "not exactly one use accepted: {accepted:?}"
        );
    }
}

pub async fn key_sessions(store: &dyn Store) {
    let t = now();
    let w = fixtures::world(store).await;
    let key = fixtures::api_key(&w.account.name, Some(&w.user.id), t);
    store.create_api_key(&key).await.unwrap();
    let session = fixtures::key_session(&key, t, t + 3600);
    store.create_key_session(&session).await.unwrap();
    assert_eq!(
        store.get_key_session(&session.id).await.unwrap(),
        Some(session.clone())
    );
    assert_eq!(store.get_key_session(&opaque_id("kss_")).await.unwrap(), None);
    let same_id = KeySession {
        expires_at: t + 1,
        ..session.clone()
    };
    assert_conflict(store.create_key_session(&same_id).await, &session.id);
    let orphan = KeySession {
        key_id: ApiKeyId::generate(),
        ..fixtures::key_session(&key, t, t + 3600)
    };
    assert_missing(store.create_key_session(&orphan).await);
    assert_eq!(store.get_key_session(&orphan.id).await.unwrap(), None);

    // Optional fields round-trip.
    let service = fixtures::api_key(&w.account.name, None, t);
    store.create_api_key(&service).await.unwrap();
    let ended = KeySession {
        scope: ScopeSet::parse("full").unwrap(),
        revoked_at: Some(t + 1),
        ..fixtures::key_session(&service, t, t + 60)
    };
    assert_eq!(ended.user_id, None);
    store.create_key_session(&ended).await.unwrap();
    assert_eq!(store.get_key_session(&ended.id).await.unwrap(), Some(ended));

    // Many at once (a store may commit them together): the orphan and the duplicate among them fail
    // alone, each with its own error; every other one is stored as given.
    let sessions: Vec<KeySession> = (0..30)
        .map(|n| match n {
            7 => orphan.clone(),
            19 => same_id.clone(),
            _ => fixtures::key_session(&key, t, t + 600 + n),
        })
        .collect();
    let outcomes = futures_util::future::join_all(sessions.iter().map(|s| store.create_key_session(s))).await;
    for (n, (session, outcome)) in sessions.iter().zip(outcomes).enumerate() {
        match n {
            7 => assert_missing(outcome),
            19 => assert_conflict(outcome, &session.id),
            _ => {
                outcome.unwrap();
                let stored = store.get_key_session(&session.id).await.unwrap();
                assert_eq!(stored.as_ref(), Some(session));
            }
        }
    }
    assert_eq!(store.get_key_session(&orphan.id).await.unwrap(), None);
    assert_eq!(
        store.get_key_session(&session.id).await.unwrap(),
        Some(session),
        "the first session with that id is untouched"
    );
}
