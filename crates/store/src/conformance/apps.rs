//! Developer apps and admin API tokens.

use keygate_core::ids::{opaque_id, ClientId};
use keygate_core::model::{AccountStatus, AdminToken, App, AppStatus, ClientType, StoredSecret};
use keygate_core::scope::ScopeSet;

use super::fixtures::{self, now, tag};
use super::{assert_conflict, assert_missing};
use crate::{AppPatch, NewApp, Store};

pub async fn apps(store: &dyn Store) {
    let t = now();
    let owner = fixtures::account(store).await;
    let s1 = fixtures::secret();
    let new = NewApp {
        client_id: ClientId::generate(),
        name: "Billing sync".into(),
        client_type: ClientType::Confidential,
        owner_account: Some(owner.name.clone()),
        redirect_uris: vec![
            "https://billing.example/cb".into(),
            "http://127.0.0.1:8080/cb?x=\"1\"".into(),
        ],
        allowed_origins: vec!["https://billing.example".into()],
        allowed_scopes: ScopeSet::parse("contacts.read hooks").unwrap(),
        access_token_ttl: Some(600),
        refresh_token_ttl: None,
        secret: Some(s1.clone()),
    };
    let app = store.create_app(&new, t).await.unwrap();
    let created = App {
        client_id: new.client_id.clone(),
        name: new.name.clone(),
        client_type: new.client_type,
        owner_account: new.owner_account.clone(),
        redirect_uris: new.redirect_uris.clone(),
        allowed_origins: new.allowed_origins.clone(),
        allowed_scopes: new.allowed_scopes.clone(),
        access_token_ttl: Some(600),
        refresh_token_ttl: None,
        status: AppStatus::Active,
        secret: Some(s1.clone()),
        previous_secret: None,
        created_at: t,
        updated_at: t,
    };
    assert_eq!(app, created);

    assert_conflict(store.create_app(&new, t).await, new.client_id.as_str());
    assert_missing(
        store
            .create_app(&fixtures::new_app(Some(&fixtures::account_name())), t)
            .await,
    );
    let public = NewApp {
        client_type: ClientType::Public,
        secret: None,
        ..fixtures::new_app(None)
    };
    let public = store.create_app(&public, t - 10).await.unwrap();

    // Read with its owner's status: the owner's as it is now, none for an app without an owner.
    let with_owner = |id| store.get_app_and_owner_status(id);
    assert_eq!(
        with_owner(&app.client_id).await.unwrap(),
        Some((app.clone(), Some(AccountStatus::Active)))
    );
    assert_eq!(
        with_owner(&public.client_id).await.unwrap(),
        Some((public.clone(), None))
    );
    let unknown = ClientId::generate();
    assert_eq!(with_owner(&unknown).await.unwrap(), None);
    fixtures::set_account_status(store, &owner.name, AccountStatus::Suspended).await;
    assert_eq!(
        with_owner(&app.client_id).await.unwrap(),
        Some((app.clone(), Some(AccountStatus::Suspended)))
    );
    fixtures::set_account_status(store, &owner.name, AccountStatus::Active).await;
    assert_eq!(
        (public.secret.clone(), public.owner_account.clone()),
        (None, None)
    );

    // Ordered by creation time, then client id.
    let older = store
        .create_app(&fixtures::new_app(Some(&owner.name)), t - 20)
        .await
        .unwrap();
    let twin = store
        .create_app(&fixtures::new_app(Some(&owner.name)), t)
        .await
        .unwrap();
    let mut same_time = [app.client_id.clone(), twin.client_id.clone()];
    same_time.sort();
    let owned: Vec<_> = store
        .list_apps(Some(&owner.name))
        .await
        .unwrap()
        .into_iter()
        .map(|a| a.client_id)
        .collect();
    assert_eq!(
        owned,
        [
            older.client_id.clone(),
            same_time[0].clone(),
            same_time[1].clone()
        ]
    );
    let all = store.list_apps(None).await.unwrap();
    assert!(all.contains(&public) && all.contains(&older) && all.contains(&app));
    assert!(all
        .windows(2)
        .all(|w| (w[0].created_at, &w[0].client_id) < (w[1].created_at, &w[1].client_id)));
    assert_eq!(store.get_app(&app.client_id).await.unwrap(), Some(app.clone()));
    assert_eq!(store.get_app(&ClientId::generate()).await.unwrap(), None);

    let patch = AppPatch {
        name: Some("Billing".into()),
        ..AppPatch::default()
    };
    let mut expected = app.clone();
    expected.name = "Billing".into();
    expected.updated_at = t + 1;
    assert_eq!(
        store.update_app(&app.client_id, &patch, t + 1).await.unwrap(),
        Some(expected.clone())
    );
    let patch = AppPatch {
        name: None,
        redirect_uris: Some(vec!["https://new.example/cb".into()]),
        allowed_origins: Some(vec![]),
        allowed_scopes: Some(ScopeSet::parse("full").unwrap()),
        access_token_ttl: Some(None),
        refresh_token_ttl: Some(Some(86_400)),
        status: Some(AppStatus::Suspended),
    };
    expected.redirect_uris = vec!["https://new.example/cb".into()];
    expected.allowed_origins = vec![];
    expected.allowed_scopes = ScopeSet::parse("full").unwrap();
    (expected.access_token_ttl, expected.refresh_token_ttl) = (None, Some(86_400));
    expected.status = AppStatus::Suspended;
    expected.updated_at = t + 2;
    assert_eq!(
        store.update_app(&app.client_id, &patch, t + 2).await.unwrap(),
        Some(expected.clone())
    );
    expected.updated_at = t + 3;
    let untouched = store
        .update_app(&app.client_id, &AppPatch::default(), t + 3)
        .await
        .unwrap();
    assert_eq!(untouched, Some(expected.clone()));
    assert_eq!(
        store.update_app(&ClientId::generate(), &patch, t).await.unwrap(),
        None
    );

    // Secret rotation: the old current secret stays valid until the given time, or is dropped.
    let s2 = fixtures::secret();
    let rotated = store
        .replace_app_secret(&app.client_id, &s2, Some(t + 3600), t + 4)
        .await
        .unwrap();
    expected.secret = Some(s2.clone());
    expected.previous_secret = Some(StoredSecret {
        expires_at: Some(t + 3600),
        ..s1
    });
    expected.updated_at = t + 4;
    assert_eq!(rotated, Some(expected.clone()));
    let s3 = fixtures::secret();
    let rotated = store
        .replace_app_secret(&app.client_id, &s3, None, t + 5)
        .await
        .unwrap();
    (expected.secret, expected.previous_secret, expected.updated_at) = (Some(s3), None, t + 5);
    assert_eq!(rotated, Some(expected.clone()));
    assert_eq!(store.get_app(&app.client_id).await.unwrap(), Some(expected));
    // A client without a secret has nothing to keep as the previous one.
    let s4 = fixtures::secret();
    let first = store
        .replace_app_secret(&public.client_id, &s4, Some(t + 60), t)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((first.secret, first.previous_secret), (Some(s4.clone()), None));
    assert_eq!(
        store
            .replace_app_secret(&ClientId::generate(), &s4, None, t)
            .await
            .unwrap(),
        None
    );
}

pub async fn admin_tokens(store: &dyn Store) {
    let t = now();
    let first = AdminToken {
        id: opaque_id("adm_"),
        name: format!("ci {}", tag()),
        secret: fixtures::secret(),
        created_at: t,
        revoked_at: None,
    };
    let expiring = StoredSecret {
        expires_at: Some(t + 1000),
        ..fixtures::secret()
    };
    let second = AdminToken {
        id: opaque_id("adm_"),
        secret: expiring,
        created_at: t + 1,
        ..first.clone()
    };
    store.create_admin_token(&first).await.unwrap();
    store.create_admin_token(&second).await.unwrap();
    let listed = store.list_admin_tokens().await.unwrap();
    let position = |id: &str| listed.iter().position(|x| x.id == id).unwrap();
    assert!(
        position(&first.id) < position(&second.id),
        "admin tokens not ordered by creation"
    );
    assert_eq!(listed[position(&second.id)], second);

    assert_eq!(
        store.find_admin_token(&first.secret.hash).await.unwrap(),
        Some(first.clone())
    );
    assert_eq!(
        store.find_admin_token(&second.secret.hash).await.unwrap(),
        Some(second.clone())
    );
    assert_eq!(store.find_admin_token(&fixtures::hash()).await.unwrap(), None);
    let same_id = AdminToken {
        secret: fixtures::secret(),
        ..first.clone()
    };
    assert_conflict(store.create_admin_token(&same_id).await, &first.id);
    let same_hash = AdminToken {
        id: opaque_id("adm_"),
        ..first.clone()
    };
    assert_conflict(store.create_admin_token(&same_hash).await, "secret");

    assert!(store.revoke_admin_token(&first.id, t + 2).await.unwrap());
    assert!(
        !store.revoke_admin_token(&first.id, t + 3).await.unwrap(),
        "revoked twice"
    );
    assert!(!store.revoke_admin_token(&opaque_id("adm_"), t).await.unwrap());
    assert_eq!(store.find_admin_token(&first.secret.hash).await.unwrap(), None);
    let listed = store.list_admin_tokens().await.unwrap();
    let revoked = listed.iter().find(|x| x.id == first.id).unwrap();
    assert_eq!(revoked.revoked_at, Some(t + 2));
}
