//! Access-token revocation, the liveness check, and purging what has expired.

use keygate_core::ids::opaque_id;
use keygate_core::model::{AccountStatus, AppStatus, AuthorizationCode, KeyState, UserStatus};

use super::fixtures::{self, now, World};
use crate::{AccountPatch, AppPatch, CodeRedemption, Liveness, LivenessQuery, Store, UserPatch};

fn query<'a>(w: &'a World, jti: &'a str, grant_id: Option<&'a str>) -> LivenessQuery<'a> {
    LivenessQuery {
        jti,
        grant_id,
        client_id: w.app.client_id.as_str(),
        account: w.account.name.as_str(),
        user_id: Some(w.user.id.as_str()),
    }
}

pub async fn liveness(store: &dyn Store) {
    let t = now();
    let w = fixtures::world(store).await;
    let g = fixtures::grant(&w, t);
    store.create_grant(&g, None).await.unwrap();
    let jti = opaque_id("jti_");
    let live = query(&w, &jti, Some(&g.id));
    assert_eq!(store.liveness(&live).await.unwrap(), Liveness::Live);
    let app_itself = LivenessQuery {
        grant_id: None,
        user_id: None,
        ..live.clone()
    };
    assert_eq!(store.liveness(&app_itself).await.unwrap(), Liveness::Live);

    // Each failure on its own, then the order in which they are reported.
    let (grant_id, other_jti) = (opaque_id("grt_"), opaque_id("jti_"));
    let cases: Vec<(LivenessQuery<'_>, Liveness)> = vec![
        (
            LivenessQuery {
                grant_id: Some(&grant_id),
                ..live.clone()
            },
            Liveness::GrantRevoked,
        ),
        (
            LivenessQuery {
                client_id: "unknown-client",
                ..live.clone()
            },
            Liveness::AppInactive,
        ),
        (
            LivenessQuery {
                account: "unknown-account",
                ..live.clone()
            },
            Liveness::AccountInactive,
        ),
        (
            LivenessQuery {
                user_id: Some("unknown-user"),
                ..live.clone()
            },
            Liveness::UserInactive,
        ),
        (
            LivenessQuery {
                jti: &other_jti,
                ..live.clone()
            },
            Liveness::Live,
        ),
    ];
    for (q, want) in &cases {
        assert_eq!(store.liveness(q).await.unwrap(), *want, "{q:?}");
    }
    let other = fixtures::world(store).await;
    let foreign_user = LivenessQuery {
        user_id: Some(other.user.id.as_str()),
        ..live.clone()
    };
    assert_eq!(
        store.liveness(&foreign_user).await.unwrap(),
        Liveness::UserInactive
    );
    let everything_wrong = LivenessQuery {
        grant_id: Some(&grant_id),
        client_id: "unknown-client",
        account: "unknown-account",
        user_id: Some("unknown-user"),
        ..live.clone()
    };
    assert_eq!(
        store.liveness(&everything_wrong).await.unwrap(),
        Liveness::GrantRevoked
    );

    store.revoke_access_token(&jti, t + 600, t).await.unwrap();
    store
        .revoke_access_token(&jti, t + 600, t + 1)
        .await
        .expect("revoking twice is a no-op");
    assert_eq!(store.liveness(&live).await.unwrap(), Liveness::TokenRevoked);
    assert_eq!(
        store.liveness(&everything_wrong).await.unwrap(),
        Liveness::TokenRevoked
    );
    assert_eq!(store.liveness(&app_itself).await.unwrap(), Liveness::TokenRevoked);

    // Status changes: suspend from the bottom up, so each step reveals the next reason.
    let live = LivenessQuery {
        jti: &other_jti,
        ..live
    };
    let suspend_user = UserPatch {
        status: Some(UserStatus::Suspended),
        ..UserPatch::default()
    };
    store
        .update_user(&w.user.id, &suspend_user, t)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(store.liveness(&live).await.unwrap(), Liveness::UserInactive);
    let as_app = LivenessQuery {
        grant_id: None,
        user_id: None,
        ..live.clone()
    };
    assert_eq!(store.liveness(&as_app).await.unwrap(), Liveness::Live);
    let suspend_account = AccountPatch {
        status: Some(AccountStatus::Suspended),
        ..AccountPatch::default()
    };
    store
        .update_account(&w.account.name, &suspend_account, t)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(store.liveness(&live).await.unwrap(), Liveness::AccountInactive);
    let revoke_app = AppPatch {
        status: Some(AppStatus::Revoked),
        ..AppPatch::default()
    };
    store
        .update_app(&w.app.client_id, &revoke_app, t)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(store.liveness(&live).await.unwrap(), Liveness::AppInactive);
    store.revoke_grant(&g.id, "test", t).await.unwrap();
    assert_eq!(store.liveness(&live).await.unwrap(), Liveness::GrantRevoked);
    assert_eq!(store.liveness(&as_app).await.unwrap(), Liveness::AppInactive);
}

pub async fn purge(store: &dyn Store) {
    let t = now();
    let day = 86_400;
    let w = fixtures::world(store).await;
    let g = fixtures::grant(&w, t - 2 * day);
    store.create_grant(&g, None).await.unwrap();
    // Codes are kept a day past expiry, so that late replays are still recognised.
    let stale_used = AuthorizationCode {
        consumed_at: Some(t - day - 60),
        ..fixtures::code(&w, t - day - 10)
    };
    let stale_unused = fixtures::code(&w, t - day - 10);
    let recent_used = AuthorizationCode {
        consumed_at: Some(t - 30),
        ..fixtures::code(&w, t - 10)
    };
    for code in [&stale_used, &stale_unused, &recent_used] {
        store.insert_authorization_code(code).await.unwrap();
    }
    let expired_refresh = fixtures::refresh_token(&g.id, t - day, t - 1);
    let live_refresh = fixtures::refresh_token(&g.id, t - day, t + 100);
    store.insert_refresh_token(&expired_refresh).await.unwrap();
    store.insert_refresh_token(&live_refresh).await.unwrap();
    let (old_jti, new_jti) = (opaque_id("jti_"), opaque_id("jti_"));
    store.revoke_access_token(&old_jti, t - 1, t - 600).await.unwrap();
    store
        .revoke_access_token(&new_jti, t + 100, t - 600)
        .await
        .unwrap();

    let report = store.purge_expired(t).await.unwrap();
    assert!(report.authorization_codes >= 2 && report.refresh_tokens >= 1 && report.revoked_tokens >= 1);
    let outcome = store
        .redeem_authorization_code(&stale_used.code_hash, t)
        .await
        .unwrap();
    assert_eq!(outcome, CodeRedemption::NotFound);
    let outcome = store
        .redeem_authorization_code(&recent_used.code_hash, t)
        .await
        .unwrap();
    assert_eq!(outcome, CodeRedemption::Replayed(recent_used.clone()));
    assert_eq!(
        store
            .get_refresh_token(&expired_refresh.token_hash)
            .await
            .unwrap(),
        None
    );
    assert_eq!(
        store.get_refresh_token(&live_refresh.token_hash).await.unwrap(),
        Some(live_refresh)
    );
    assert_eq!(store.get_grant(&g.id).await.unwrap(), Some(g.clone()));
    let as_app = |jti| LivenessQuery {
        grant_id: None,
        user_id: None,
        ..query(&w, jti, None)
    };
    assert_eq!(store.liveness(&as_app(&old_jti)).await.unwrap(), Liveness::Live);
    assert_eq!(
        store.liveness(&as_app(&new_jti)).await.unwrap(),
        Liveness::TokenRevoked
    );

    // Retired signing keys go once no token they signed can be valid; current and next stay.
    let keys = store.list_signing_keys().await.unwrap();
    let retired: Vec<_> = keys.iter().filter(|k| k.state == KeyState::Retired).collect();
    assert!(
        retired
            .iter()
            .all(|k| k.publish_until.is_some_and(|until| until >= t)),
        "purged too late"
    );
    let horizon = retired.iter().filter_map(|k| k.publish_until).max().unwrap_or(t) + 1;
    let report = store.purge_expired(horizon).await.unwrap();
    assert!(report.signing_keys >= retired.len() as u64);
    let left = store.list_signing_keys().await.unwrap();
    assert!(left.iter().all(|k| k.state != KeyState::Retired));
    assert_eq!(left.len(), keys.len() - retired.len());
}
