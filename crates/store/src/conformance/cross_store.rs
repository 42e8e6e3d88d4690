//! What authentication reads through one store changes at once when another store (another process or
//! node on the same database) writes: a store may keep answers in memory, but never past a write that
//! another one has acknowledged.

use keygate_core::ids::opaque_id;
use keygate_core::model::{AccountStatus, AppStatus, KeyStatus, UserStatus};

use super::fixtures::{self, now, tag};
use crate::{AppPatch, CredentialRef, Liveness, LivenessQuery, Store, UserPatch};

/// Every read is made twice through `a` first (so an answer it keeps is kept, and then used), then the
/// write goes through `b`, and the very next read through `a` must see it.
pub async fn changes_seen_across_stores(a: &dyn Store, b: &dyn Store) {
    let t = now();
    let w = fixtures::world(a).await;
    let grant = fixtures::grant(&w, t);
    a.create_grant(&grant, None).await.unwrap();
    let client_id = w.app.client_id.as_str();
    let (jti, other_jti) = (opaque_id("jti_"), opaque_id("jti_"));
    let q = LivenessQuery {
        jti: &jti,
        credential: CredentialRef::App {
            client_id,
            grant_id: Some(&grant.id),
        },
        account: w.account.name.as_str(),
        user_id: Some(w.user.id.as_str()),
        now: t,
    };
    let other = LivenessQuery {
        jti: &other_jti,
        ..q.clone()
    };

    // A revoked access token.
    for _ in 0..2 {
        assert_eq!(a.liveness(&q).await.unwrap(), Liveness::Live);
    }
    b.revoke_access_token(&jti, t + 600, t).await.unwrap();
    assert_eq!(a.liveness(&q).await.unwrap(), Liveness::TokenRevoked);

    // A suspended user, then a suspended app and account (each restored before the next).
    for _ in 0..2 {
        assert_eq!(a.liveness(&other).await.unwrap(), Liveness::Live);
    }
    let suspend_user = UserPatch {
        status: Some(UserStatus::Suspended),
        ..UserPatch::default()
    };
    b.update_user(&w.user.id, &suspend_user, t).await.unwrap();
    assert_eq!(a.liveness(&other).await.unwrap(), Liveness::UserInactive);
    let restore_user = UserPatch {
        status: Some(UserStatus::Active),
        ..UserPatch::default()
    };
    b.update_user(&w.user.id, &restore_user, t).await.unwrap();
    assert_eq!(a.liveness(&other).await.unwrap(), Liveness::Live);

    for _ in 0..2 {
        assert_eq!(
            a.get_app(&w.app.client_id).await.unwrap().unwrap().status,
            AppStatus::Active
        );
    }
    let app_status = |status| AppPatch {
        status: Some(status),
        ..AppPatch::default()
    };
    b.update_app(&w.app.client_id, &app_status(AppStatus::Suspended), t)
        .await
        .unwrap();
    assert_eq!(
        a.get_app(&w.app.client_id).await.unwrap().unwrap().status,
        AppStatus::Suspended
    );
    assert_eq!(a.liveness(&other).await.unwrap(), Liveness::AppInactive);
    b.update_app(&w.app.client_id, &app_status(AppStatus::Active), t)
        .await
        .unwrap();
    assert_eq!(a.liveness(&other).await.unwrap(), Liveness::Live);

    for _ in 0..2 {
        let account = a.get_account(&w.account.name).await.unwrap().unwrap();
        assert_eq!(account.status, AccountStatus::Active);
    }
    fixtures::set_account_status(b, &w.account.name, AccountStatus::Suspended).await;
    let account = a.get_account(&w.account.name).await.unwrap().unwrap();
    assert_eq!(account.status, AccountStatus::Suspended);
    assert_eq!(a.liveness(&other).await.unwrap(), Liveness::AccountInactive);
    let (_, owner) = a
        .get_app_and_owner_status(&w.app.client_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        owner,
        Some(AccountStatus::Suspended),
        "the app's owner, read with the app"
    );
    fixtures::set_account_status(b, &w.account.name, AccountStatus::Active).await;

    // A revoked grant.
    assert_eq!(a.liveness(&other).await.unwrap(), Liveness::Live);
    assert!(b.revoke_grant(&grant.id, "test", t).await.unwrap());
    assert_eq!(a.liveness(&other).await.unwrap(), Liveness::GrantRevoked);

    // A revoked API key: the record and its sessions' tokens.
    let key = fixtures::api_key(&w.account.name, Some(&w.user.id), t);
    a.create_api_key(&key).await.unwrap();
    let session = fixtures::key_session(&key, t, t + 600);
    a.create_key_session(&session).await.unwrap();
    let key_jti = opaque_id("jti_");
    let by_key = LivenessQuery {
        jti: &key_jti,
        credential: CredentialRef::ApiKey {
            key_id: key.id.as_str(),
            session_id: &session.id,
        },
        ..q.clone()
    };
    let key_and_account = || async {
        let (key, account) = a.get_api_key_and_account_status(&key.id).await.unwrap().unwrap();
        (key.status, account)
    };
    for _ in 0..2 {
        assert_eq!(
            a.get_api_key(&key.id).await.unwrap().unwrap().status,
            KeyStatus::Active
        );
        assert_eq!(a.liveness(&by_key).await.unwrap(), Liveness::Live);
        assert_eq!(
            key_and_account().await,
            (KeyStatus::Active, Some(AccountStatus::Active))
        );
    }
    fixtures::set_account_status(b, &w.account.name, AccountStatus::Suspended).await;
    assert_eq!(
        key_and_account().await,
        (KeyStatus::Active, Some(AccountStatus::Suspended)),
        "the key's account, read with the key"
    );
    fixtures::set_account_status(b, &w.account.name, AccountStatus::Active).await;
    b.revoke_api_key(&key.id, t).await.unwrap();
    assert_eq!(
        a.get_api_key(&key.id).await.unwrap().unwrap().status,
        KeyStatus::Revoked
    );
    assert_eq!(key_and_account().await.0, KeyStatus::Revoked);
    assert_eq!(a.liveness(&by_key).await.unwrap(), Liveness::KeyRevoked);

    // A record that did not exist, then did.
    let app = fixtures::new_app(Some(&w.account.name));
    for _ in 0..2 {
        assert!(a.get_app(&app.client_id).await.unwrap().is_none());
    }
    b.create_app(&app, t).await.unwrap();
    assert!(a.get_app(&app.client_id).await.unwrap().is_some());

    // A failure streak, and its end.
    let subject = format!("user:{}", tag());
    for _ in 0..2 {
        assert_eq!(a.auth_streaks(&[&subject]).await.unwrap(), []);
    }
    b.record_auth_failure(&subject, t, t - 900).await.unwrap();
    assert_eq!(a.auth_streaks(&[&subject]).await.unwrap().len(), 1);
    b.clear_auth_failures(&subject).await.unwrap();
    assert_eq!(a.auth_streaks(&[&subject]).await.unwrap(), []);
}
