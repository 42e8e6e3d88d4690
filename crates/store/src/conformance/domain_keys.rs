//! Domain keys, the key sessions opened with them, and the origins browsers may call from.

use std::collections::HashSet;

use keygate_core::ids::{opaque_id, ApiKeyId, DomainKeyId};
use keygate_core::model::{AppStatus, DomainKey, KeySession, KeyStatus};
use keygate_core::scope::ScopeSet;

use super::fixtures::{self, now, tag};
use super::{assert_conflict, assert_missing};
use crate::{AppPatch, NewApp, Store, StoreError};

pub async fn domain_keys(store: &dyn Store) {
    let t = now();
    let account = fixtures::account(store).await;
    let user = fixtures::user(store, &account.name).await;
    let api_key = fixtures::api_key(&account.name, Some(&user.id), t);
    store.create_api_key(&api_key).await.unwrap();
    let key = fixtures::domain_key(
        &api_key,
        &["https://shop.example.com", "https://*.example.com"],
        t,
    );
    store.create_domain_key(&key).await.unwrap();
    assert_eq!(store.get_domain_key(&key.id).await.unwrap(), Some(key.clone()));
    assert_eq!(
        store.get_domain_key(&DomainKeyId::generate()).await.unwrap(),
        None
    );
    let same_id = DomainKey {
        name: "Another".into(),
        origins: vec![],
        ..key.clone()
    };
    assert_conflict(store.create_domain_key(&same_id).await, key.id.as_str());
    assert_eq!(store.get_domain_key(&key.id).await.unwrap(), Some(key.clone()));

    // References: the account must exist, and so must the API key, in that same account.
    let nowhere = DomainKey {
        account: fixtures::account_name(),
        ..fixtures::domain_key(&api_key, &["https://nowhere.example"], t)
    };
    assert_missing(store.create_domain_key(&nowhere).await);
    let ghost = DomainKey {
        api_key_id: ApiKeyId::generate(),
        ..fixtures::domain_key(&api_key, &["https://ghost.example"], t)
    };
    assert_missing(store.create_domain_key(&ghost).await);
    let other = fixtures::account(store).await;
    let foreign_key = fixtures::api_key(&other.name, None, t);
    store.create_api_key(&foreign_key).await.unwrap();
    // Bound to another account's API key, under either account's name.
    let cross = DomainKey {
        account: account.name.clone(),
        ..fixtures::domain_key(&foreign_key, &["https://cross.example"], t)
    };
    match store.create_domain_key(&cross).await {
        Err(StoreError::MissingReference(what)) => {
            assert!(
                what.contains(foreign_key.id.as_str()),
                "{what:?} does not name the API key"
            )
        }
        other => panic!("a domain key bound to another account's API key was not refused: {other:?}"),
    }
    let cross_back = DomainKey {
        account: other.name.clone(),
        ..fixtures::domain_key(&api_key, &["https://cross.example"], t)
    };
    assert_missing(store.create_domain_key(&cross_back).await);
    for refused in [&nowhere, &ghost, &cross, &cross_back] {
        assert_eq!(store.get_domain_key(&refused.id).await.unwrap(), None);
    }
    assert!(store.list_domain_keys(&other.name).await.unwrap().is_empty());

    // Every field round-trips: no origins, odd names and origins, a revoked status, a service key's.
    let service = fixtures::api_key(&account.name, None, t);
    store.create_api_key(&service).await.unwrap();
    let bare = DomainKey {
        name: "Widget \"beta\" ✓".into(),
        origins: vec![],
        scopes: ScopeSet::parse("").unwrap(),
        ..fixtures::domain_key(&service, &[], t - 20)
    };
    store.create_domain_key(&bare).await.unwrap();
    assert_eq!(store.get_domain_key(&bare.id).await.unwrap(), Some(bare.clone()));
    let dead = DomainKey {
        status: KeyStatus::Revoked,
        scopes: ScopeSet::parse("contacts.read contacts.write").unwrap(),
        revoked_at: Some(t - 5),
        updated_at: t - 5,
        ..fixtures::domain_key(
            &api_key,
            &[
                "http://localhost:3000",
                "https://xn--bcher-kva.example",
                "\"quoted\"",
            ],
            t - 10,
        )
    };
    store.create_domain_key(&dead).await.unwrap();
    assert_eq!(store.get_domain_key(&dead.id).await.unwrap(), Some(dead.clone()));

    // Listed by creation time, then id; revoked keys included; other accounts' keys not.
    let twin = fixtures::domain_key(&service, &["https://twin.example"], t);
    store.create_domain_key(&twin).await.unwrap();
    let elsewhere = fixtures::domain_key(&foreign_key, &["https://elsewhere.example"], t - 100);
    store.create_domain_key(&elsewhere).await.unwrap();
    let mut same_time = [key.clone(), twin.clone()];
    same_time.sort_by(|a, b| a.id.as_str().cmp(b.id.as_str()));
    let [first, second] = same_time;
    assert_eq!(
        store.list_domain_keys(&account.name).await.unwrap(),
        [bare.clone(), dead.clone(), first, second]
    );
    assert_eq!(store.list_domain_keys(&other.name).await.unwrap(), [elsewhere]);
    assert!(store
        .list_domain_keys(&fixtures::account_name())
        .await
        .unwrap()
        .is_empty());

    // Revocation is idempotent: the first time stays, and a second call changes nothing.
    let revoked = DomainKey {
        status: KeyStatus::Revoked,
        revoked_at: Some(t + 5),
        updated_at: t + 5,
        ..key.clone()
    };
    assert_eq!(
        store.revoke_domain_key(&key.id, t + 5).await.unwrap(),
        Some(revoked.clone())
    );
    assert_eq!(
        store.revoke_domain_key(&key.id, t + 9).await.unwrap(),
        Some(revoked.clone())
    );
    assert_eq!(
        store.get_domain_key(&key.id).await.unwrap(),
        Some(revoked.clone())
    );
    assert_eq!(
        store.revoke_domain_key(&dead.id, t + 9).await.unwrap(),
        Some(dead.clone())
    );
    assert_eq!(
        store
            .revoke_domain_key(&DomainKeyId::generate(), t)
            .await
            .unwrap(),
        None
    );
    assert!(store
        .list_domain_keys(&account.name)
        .await
        .unwrap()
        .contains(&revoked));
    assert_eq!(
        store.get_domain_key(&twin.id).await.unwrap(),
        Some(twin.clone()),
        "revoking one domain key touched another"
    );
    assert_eq!(
        store.get_api_key(&api_key.id).await.unwrap(),
        Some(api_key.clone()),
        "revoking a domain key touched its API key"
    );
    // A domain key id is not an API key id, nor the other way round.
    assert_eq!(
        store.revoke_api_key(&ApiKeyId::generate(), t).await.unwrap(),
        None
    );
    assert_eq!(store.get_domain_key(&twin.id).await.unwrap(), Some(twin));
}

/// Key sessions opened with a domain key carry it and the origin they were opened from.
pub async fn domain_key_sessions(store: &dyn Store) {
    let t = now();
    let w = fixtures::world(store).await;
    let api_key = fixtures::api_key(&w.account.name, Some(&w.user.id), t);
    store.create_api_key(&api_key).await.unwrap();
    let domain = fixtures::domain_key(&api_key, &["https://*.example.com"], t);
    store.create_domain_key(&domain).await.unwrap();
    let session = fixtures::domain_key_session(&api_key, &domain, "https://shop.example.com", t, t + 3600);
    store.create_key_session(&session).await.unwrap();
    assert_eq!(
        store.get_key_session(&session.id).await.unwrap(),
        Some(session.clone())
    );
    let same_id = KeySession {
        domain_key_id: None,
        origin: None,
        ..session.clone()
    };
    assert_conflict(store.create_key_session(&same_id).await, &session.id);
    assert_eq!(
        store.get_key_session(&session.id).await.unwrap(),
        Some(session.clone())
    );

    // The domain key must exist; nothing is stored when it does not.
    let ghost = DomainKey {
        id: DomainKeyId::generate(),
        ..domain.clone()
    };
    let orphan = fixtures::domain_key_session(&api_key, &ghost, "https://shop.example.com", t, t + 60);
    match store.create_key_session(&orphan).await {
        Err(StoreError::MissingReference(what)) => {
            assert!(
                what.contains(ghost.id.as_str()),
                "{what:?} does not name the domain key"
            )
        }
        other => panic!("a session of an unknown domain key was not refused: {other:?}"),
    }
    assert_eq!(store.get_key_session(&orphan.id).await.unwrap(), None);

    // The two fields are independent: an origin without a domain key, a domain key without an origin,
    // and a revoked domain key's session (the store records; the liveness check judges).
    let origin_only = KeySession {
        origin: Some("https://solo.example".into()),
        ..fixtures::key_session(&api_key, t, t + 60)
    };
    let no_origin = KeySession {
        origin: None,
        revoked_at: Some(t + 1),
        ..fixtures::domain_key_session(&api_key, &domain, "", t, t + 60)
    };
    let plain = fixtures::key_session(&api_key, t, t + 60);
    for s in [&origin_only, &no_origin, &plain] {
        store.create_key_session(s).await.unwrap();
        assert_eq!(store.get_key_session(&s.id).await.unwrap().as_ref(), Some(s));
    }
    store.revoke_domain_key(&domain.id, t).await.unwrap().unwrap();
    let after = fixtures::domain_key_session(&api_key, &domain, "https://late.example.com", t, t + 60);
    store.create_key_session(&after).await.unwrap();
    assert_eq!(store.get_key_session(&after.id).await.unwrap(), Some(after));
    assert_eq!(store.get_key_session(&opaque_id("kss_")).await.unwrap(), None);
}

/// The origins of active apps and of active domain keys whose API key is active, each once.
pub async fn origin_patterns(store: &dyn Store) {
    let t = now();
    // Origins unique to this run, as other checks (and earlier runs) leave their own in the database.
    let tag = tag();
    let origin = |name: &str| format!("https://{name}.{tag}.example");
    let (shared, app_only, key_only, both_apps) = (
        origin("shared"),
        origin("app"),
        origin("key"),
        origin("both-apps"),
    );
    let (suspended_app, revoked_app, revoked_domain, dead_api_key, born_revoked) = (
        origin("suspended-app"),
        origin("revoked-app"),
        origin("revoked-domain"),
        origin("dead-api-key"),
        origin("born-revoked"),
    );
    let wildcard = format!("https://*.{tag}.example");

    let w = fixtures::world(store).await;
    let app_with = |origins: &[&String]| NewApp {
        allowed_origins: origins.iter().map(|&o| o.clone()).collect(),
        ..fixtures::new_app(Some(&w.account.name))
    };
    let live_app = store
        .create_app(&app_with(&[&app_only, &shared, &both_apps, &app_only]), t)
        .await
        .unwrap();
    let other_app = store
        .create_app(&app_with(&[&both_apps, &wildcard]), t)
        .await
        .unwrap();
    let ownerless = NewApp {
        owner_account: None,
        ..app_with(&[&both_apps])
    };
    store.create_app(&ownerless, t).await.unwrap();
    let status = |status| AppPatch {
        status: Some(status),
        ..AppPatch::default()
    };
    let suspended = store.create_app(&app_with(&[&suspended_app]), t).await.unwrap();
    store
        .update_app(&suspended.client_id, &status(AppStatus::Suspended), t)
        .await
        .unwrap()
        .unwrap();
    let revoked = store.create_app(&app_with(&[&revoked_app]), t).await.unwrap();
    store
        .update_app(&revoked.client_id, &status(AppStatus::Revoked), t)
        .await
        .unwrap()
        .unwrap();

    let api_key = fixtures::api_key(&w.account.name, None, t);
    store.create_api_key(&api_key).await.unwrap();
    let live_domain = fixtures::domain_key(&api_key, &[&key_only, &shared, &key_only].map(String::as_str), t);
    store.create_domain_key(&live_domain).await.unwrap();
    let same_list = fixtures::domain_key(&api_key, &[&key_only, &shared, &key_only].map(String::as_str), t);
    store.create_domain_key(&same_list).await.unwrap();
    let to_revoke = fixtures::domain_key(&api_key, &[revoked_domain.as_str()], t);
    store.create_domain_key(&to_revoke).await.unwrap();
    store.revoke_domain_key(&to_revoke.id, t).await.unwrap().unwrap();
    let born_dead = DomainKey {
        status: KeyStatus::Revoked,
        revoked_at: Some(t),
        ..fixtures::domain_key(&api_key, &[born_revoked.as_str()], t)
    };
    store.create_domain_key(&born_dead).await.unwrap();
    let doomed_key = fixtures::api_key(&w.account.name, Some(&w.user.id), t);
    store.create_api_key(&doomed_key).await.unwrap();
    let orphaned = fixtures::domain_key(&doomed_key, &[dead_api_key.as_str()], t);
    store.create_domain_key(&orphaned).await.unwrap();
    store.revoke_api_key(&doomed_key.id, t).await.unwrap().unwrap();
    // An empty list contributes nothing.
    store
        .create_domain_key(&fixtures::domain_key(&api_key, &[], t))
        .await
        .unwrap();

    let ours = |all: &[String]| -> Vec<String> {
        let mut ours: Vec<String> = all.iter().filter(|o| o.contains(&tag)).cloned().collect();
        ours.sort();
        ours
    };
    let patterns = store.allowed_origin_patterns().await.unwrap();
    let distinct: HashSet<&String> = patterns.iter().collect();
    assert_eq!(distinct.len(), patterns.len(), "duplicates in {patterns:?}");
    let mut expected = vec![
        app_only.clone(),
        both_apps.clone(),
        key_only.clone(),
        shared.clone(),
        wildcard.clone(),
    ];
    expected.sort();
    assert_eq!(ours(&patterns), expected);

    // Status changes take effect: a suspended app's origins go, and come back when it is reactivated;
    // a revoked domain key's go; so do those of a domain key whose API key is revoked.
    store
        .update_app(&other_app.client_id, &status(AppStatus::Suspended), t)
        .await
        .unwrap()
        .unwrap();
    let without_wildcard: Vec<String> = expected.iter().filter(|&o| *o != wildcard).cloned().collect();
    assert_eq!(
        ours(&store.allowed_origin_patterns().await.unwrap()),
        without_wildcard
    );
    store
        .update_app(&other_app.client_id, &status(AppStatus::Active), t)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(ours(&store.allowed_origin_patterns().await.unwrap()), expected);
    store
        .update_app(&live_app.client_id, &status(AppStatus::Revoked), t)
        .await
        .unwrap()
        .unwrap();
    // `shared` stays, through the domain keys; `both_apps` through the other apps.
    let mut expected = vec![
        both_apps.clone(),
        key_only.clone(),
        shared.clone(),
        wildcard.clone(),
    ];
    expected.sort();
    assert_eq!(ours(&store.allowed_origin_patterns().await.unwrap()), expected);
    store
        .revoke_domain_key(&live_domain.id, t)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        ours(&store.allowed_origin_patterns().await.unwrap()),
        expected,
        "another active domain key still lists the same origins"
    );
    store.revoke_api_key(&api_key.id, t).await.unwrap().unwrap();
    let mut expected = vec![both_apps, wildcard];
    expected.sort();
    assert_eq!(ours(&store.allowed_origin_patterns().await.unwrap()), expected);
}
