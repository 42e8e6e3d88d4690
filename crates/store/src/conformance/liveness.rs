//! Access-token revocation, the liveness check, and purging what has expired.

use keygate_core::ids::{opaque_id, ApiKeyId, DomainKeyId};
use keygate_core::model::{
    AccountStatus, AppStatus, AuthorizationCode, DomainKey, Grant, KeySession, KeyState, KeyStatus,
    UserStatus,
};

use super::fixtures::{self, now, World};
use crate::{
    AccountPatch, AppPatch, CodeRedemption, CredentialRef, Liveness, LivenessQuery, Store, UserPatch,
};

/// A token of `w`'s app acting as `w`'s user, through `grant_id`.
fn query<'a>(w: &'a World, jti: &'a str, grant_id: Option<&'a str>) -> LivenessQuery<'a> {
    LivenessQuery {
        jti,
        credential: app(w.app.client_id.as_str(), grant_id),
        account: w.account.name.as_str(),
        user_id: Some(w.user.id.as_str()),
        now: now(),
    }
}

fn app<'a>(client_id: &'a str, grant_id: Option<&'a str>) -> CredentialRef<'a> {
    CredentialRef::App { client_id, grant_id }
}

fn api_key<'a>(key_id: &'a str, session_id: &'a str) -> CredentialRef<'a> {
    CredentialRef::ApiKey { key_id, session_id }
}

fn domain_key<'a>(domain_key_id: &'a str, key_id: &'a str, session_id: &'a str) -> CredentialRef<'a> {
    CredentialRef::DomainKey {
        domain_key_id,
        key_id,
        session_id,
    }
}

/// A world whose user granted its app access, and the id of a token through that grant.
async fn granted(store: &dyn Store, t: i64) -> (World, Grant, String) {
    let w = fixtures::world(store).await;
    let g = fixtures::grant(&w, t);
    store.create_grant(&g, None).await.unwrap();
    (w, g, opaque_id("jti_"))
}

pub async fn liveness(store: &dyn Store) {
    let t = now();
    let (w, g, jti) = granted(store, t).await;
    let live = query(&w, &jti, Some(&g.id));
    assert_eq!(store.liveness(&live).await.unwrap(), Liveness::Live);
    let client_id = w.app.client_id.as_str();
    let app_itself = LivenessQuery {
        credential: app(client_id, None),
        user_id: None,
        ..live.clone()
    };
    assert_eq!(store.liveness(&app_itself).await.unwrap(), Liveness::Live);

    // Each failure on its own, then the order in which they are reported.
    let (grant_id, other_jti) = (opaque_id("grt_"), opaque_id("jti_"));
    let cases: Vec<(LivenessQuery<'_>, Liveness)> = vec![
        (
            LivenessQuery {
                credential: app(client_id, Some(&grant_id)),
                ..live.clone()
            },
            Liveness::GrantRevoked,
        ),
        (
            LivenessQuery {
                credential: app("unknown-client", Some(&g.id)),
                ..live.clone()
            },
            Liveness::AppInactive,
        ),
        (
            // Session expiry is for API keys: an app's token is as live as its grant, whatever `now`.
            LivenessQuery {
                now: i64::MAX,
                ..live.clone()
            },
            Liveness::Live,
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
        credential: app("unknown-client", Some(&grant_id)),
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
        credential: app(client_id, None),
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

/// Leases on `Live` answers: given only where the store has a credentials epoch, never longer than two
/// seconds or the key session, and broken by any write that could change an answer.
pub async fn liveness_leases(store: &dyn Store) {
    let t = now();
    let (w, g, jti) = granted(store, t).await;
    let live = query(&w, &jti, Some(&g.id));
    let Some(before) = store.credentials_epoch() else {
        // Nodes share nothing but the database: every answer is asked for again.
        assert_eq!(
            store.leased_liveness(&live).await.unwrap(),
            (Liveness::Live, None)
        );
        return;
    };
    let (liveness, lease) = store.leased_liveness(&live).await.unwrap();
    assert_eq!(liveness, Liveness::Live);
    let lease = lease.expect("a live answer is leased where there is an epoch");
    assert!(lease.epoch >= before, "the epoch is read before the answer");
    assert!(lease.until > live.now && lease.until <= now() + 2, "{lease:?}");
    // Asked again, the lease ends no later: from this store's memory, it is no longer than what is left.
    let (_, again) = store.leased_liveness(&live).await.unwrap();
    assert!(again.is_some_and(|a| a.until <= now() + 2), "{again:?}");

    // A key session ending within the two seconds ends the lease with it.
    let key = fixtures::api_key(&w.account.name, Some(&w.user.id), t);
    store.create_api_key(&key).await.unwrap();
    let session = fixtures::key_session(&key, t, t + 1);
    store.create_key_session(&session).await.unwrap();
    let by_key = LivenessQuery {
        credential: api_key(key.id.as_str(), &session.id),
        now: t,
        ..live.clone()
    };
    let (liveness, lease) = store.leased_liveness(&by_key).await.unwrap();
    assert_eq!(liveness, Liveness::Live);
    assert_eq!(lease.map(|l| l.until), Some(t + 1));

    // A revocation moves the epoch: the lease no longer holds, and what is not live is never leased.
    let (_, lease) = store.leased_liveness(&live).await.unwrap();
    let lease = lease.unwrap();
    assert_eq!(
        store.credentials_epoch(),
        Some(lease.epoch),
        "nothing written since"
    );
    store.revoke_access_token(&jti, t + 600, t).await.unwrap();
    assert_ne!(store.credentials_epoch(), Some(lease.epoch));
    assert_eq!(
        store.leased_liveness(&live).await.unwrap(),
        (Liveness::TokenRevoked, None)
    );
}

/// Tokens issued through an API key: the key, its session (and the session's end), the account, the user.
pub async fn key_liveness(store: &dyn Store) {
    let t = now();
    let w = fixtures::world(store).await;
    let key = fixtures::api_key(&w.account.name, Some(&w.user.id), t);
    store.create_api_key(&key).await.unwrap();
    let session = fixtures::key_session(&key, t, t + 600);
    store.create_key_session(&session).await.unwrap();
    let jti = opaque_id("jti_");
    let live = LivenessQuery {
        jti: &jti,
        credential: api_key(key.id.as_str(), &session.id),
        account: w.account.name.as_str(),
        user_id: Some(w.user.id.as_str()),
        now: t,
    };
    assert_eq!(store.liveness(&live).await.unwrap(), Liveness::Live);
    // A service key acts as the account: no user to check.
    let service = fixtures::api_key(&w.account.name, None, t);
    store.create_api_key(&service).await.unwrap();
    let service_session = fixtures::key_session(&service, t, t + 600);
    store.create_key_session(&service_session).await.unwrap();
    let as_account = LivenessQuery {
        credential: api_key(service.id.as_str(), &service_session.id),
        user_id: None,
        ..live.clone()
    };
    assert_eq!(store.liveness(&as_account).await.unwrap(), Liveness::Live);

    // A key and session of another account, and a session that was revoked early.
    let other = fixtures::world(store).await;
    let foreign = fixtures::api_key(&other.account.name, Some(&other.user.id), t);
    store.create_api_key(&foreign).await.unwrap();
    let foreign_session = fixtures::key_session(&foreign, t, t + 600);
    store.create_key_session(&foreign_session).await.unwrap();
    let cut_short = KeySession {
        revoked_at: Some(t),
        ..fixtures::key_session(&key, t, t + 600)
    };
    store.create_key_session(&cut_short).await.unwrap();

    // Each failure on its own, then the order in which they are reported.
    let (unknown_key, unknown_session, other_jti) =
        (ApiKeyId::generate(), opaque_id("kss_"), opaque_id("jti_"));
    let cases: Vec<(LivenessQuery<'_>, Liveness)> = vec![
        (
            LivenessQuery {
                credential: api_key(unknown_key.as_str(), &session.id),
                ..live.clone()
            },
            Liveness::KeyRevoked,
        ),
        (
            // Another account's key, with its own session: not a key of the token's account.
            LivenessQuery {
                credential: api_key(foreign.id.as_str(), &foreign_session.id),
                ..live.clone()
            },
            Liveness::KeyRevoked,
        ),
        (
            // An app's client id is not a key.
            LivenessQuery {
                credential: api_key(w.app.client_id.as_str(), &session.id),
                ..live.clone()
            },
            Liveness::KeyRevoked,
        ),
        (
            LivenessQuery {
                credential: api_key(key.id.as_str(), &unknown_session),
                ..live.clone()
            },
            Liveness::SessionEnded,
        ),
        (
            // A session of another key of the same account.
            LivenessQuery {
                credential: api_key(key.id.as_str(), &service_session.id),
                ..live.clone()
            },
            Liveness::SessionEnded,
        ),
        (
            LivenessQuery {
                credential: api_key(key.id.as_str(), &cut_short.id),
                ..live.clone()
            },
            Liveness::SessionEnded,
        ),
        (
            LivenessQuery {
                now: session.expires_at - 1,
                ..live.clone()
            },
            Liveness::Live,
        ),
        (
            LivenessQuery {
                now: session.expires_at,
                ..live.clone()
            },
            Liveness::SessionEnded,
        ),
        (
            // The key's account is checked against the token's first.
            LivenessQuery {
                account: "unknown-account",
                ..live.clone()
            },
            Liveness::KeyRevoked,
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
                user_id: Some(other.user.id.as_str()),
                ..live.clone()
            },
            Liveness::UserInactive,
        ),
        (
            // An API key's token is not an app's, nor the other way round.
            LivenessQuery {
                credential: app(key.id.as_str(), None),
                ..live.clone()
            },
            Liveness::AppInactive,
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
    let expired_and_strange = LivenessQuery {
        user_id: Some("unknown-user"),
        now: t + 10_000,
        ..live.clone()
    };
    assert_eq!(
        store.liveness(&expired_and_strange).await.unwrap(),
        Liveness::SessionEnded
    );
    let everything_wrong = LivenessQuery {
        credential: api_key(unknown_key.as_str(), &unknown_session),
        ..expired_and_strange.clone()
    };
    assert_eq!(
        store.liveness(&everything_wrong).await.unwrap(),
        Liveness::KeyRevoked
    );

    store.revoke_access_token(&jti, t + 600, t).await.unwrap();
    assert_eq!(store.liveness(&live).await.unwrap(), Liveness::TokenRevoked);
    assert_eq!(
        store.liveness(&everything_wrong).await.unwrap(),
        Liveness::TokenRevoked
    );

    // Status changes: suspend from the bottom up, so each step reveals the next reason.
    let live = LivenessQuery {
        jti: &other_jti,
        ..live
    };
    let as_account = LivenessQuery {
        jti: &other_jti,
        ..as_account
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
    assert_eq!(store.liveness(&as_account).await.unwrap(), Liveness::Live);
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
    assert_eq!(
        store.liveness(&as_account).await.unwrap(),
        Liveness::AccountInactive
    );
    let ended = LivenessQuery {
        now: session.expires_at,
        ..live.clone()
    };
    assert_eq!(store.liveness(&ended).await.unwrap(), Liveness::SessionEnded);
    store.revoke_api_key(&key.id, t).await.unwrap().unwrap();
    assert_eq!(store.liveness(&live).await.unwrap(), Liveness::KeyRevoked);
    assert_eq!(store.liveness(&ended).await.unwrap(), Liveness::KeyRevoked);
    assert_eq!(
        store.liveness(&as_account).await.unwrap(),
        Liveness::AccountInactive,
        "revoking one key revoked another"
    );
}

/// Tokens issued through a domain key: the domain key, its API key, the session (opened with that domain
/// key, and its end), the account, the user.
pub async fn domain_key_liveness(store: &dyn Store) {
    let t = now();
    let origin = "https://shop.example.com";
    let w = fixtures::world(store).await;
    let key = fixtures::api_key(&w.account.name, Some(&w.user.id), t);
    store.create_api_key(&key).await.unwrap();
    let dk = fixtures::domain_key(&key, &["https://*.example.com"], t);
    store.create_domain_key(&dk).await.unwrap();
    let session = fixtures::domain_key_session(&key, &dk, origin, t, t + 600);
    store.create_key_session(&session).await.unwrap();
    let jti = opaque_id("jti_");
    let live = LivenessQuery {
        jti: &jti,
        credential: domain_key(dk.id.as_str(), key.id.as_str(), &session.id),
        account: w.account.name.as_str(),
        user_id: Some(w.user.id.as_str()),
        now: t,
    };
    assert_eq!(store.liveness(&live).await.unwrap(), Liveness::Live);
    // The API key's own sessions are not affected by its domain keys.
    let plain = fixtures::key_session(&key, t, t + 600);
    store.create_key_session(&plain).await.unwrap();
    let through_key = LivenessQuery {
        credential: api_key(key.id.as_str(), &plain.id),
        ..live.clone()
    };
    assert_eq!(store.liveness(&through_key).await.unwrap(), Liveness::Live);
    // A domain-key session passed off as a plain API-key session is no session at all.
    let disguised = LivenessQuery {
        credential: api_key(key.id.as_str(), &session.id),
        ..live.clone()
    };
    assert_eq!(store.liveness(&disguised).await.unwrap(), Liveness::SessionEnded);
    // A domain key of a service key acts as the account: no user to check.
    let service = fixtures::api_key(&w.account.name, None, t);
    store.create_api_key(&service).await.unwrap();
    let service_dk = fixtures::domain_key(&service, &[origin], t);
    store.create_domain_key(&service_dk).await.unwrap();
    let service_session = fixtures::domain_key_session(&service, &service_dk, origin, t, t + 600);
    store.create_key_session(&service_session).await.unwrap();
    let as_account = LivenessQuery {
        credential: domain_key(service_dk.id.as_str(), service.id.as_str(), &service_session.id),
        user_id: None,
        ..live.clone()
    };
    assert_eq!(store.liveness(&as_account).await.unwrap(), Liveness::Live);

    // A second domain key of the same API key, with its session; a domain key revoked from the start; a
    // revoked API key with an active domain key; another account's domain key; a session revoked early.
    let sibling = fixtures::domain_key(&key, &[origin], t);
    store.create_domain_key(&sibling).await.unwrap();
    let sibling_session = fixtures::domain_key_session(&key, &sibling, origin, t, t + 600);
    store.create_key_session(&sibling_session).await.unwrap();
    let dead_dk = DomainKey {
        status: KeyStatus::Revoked,
        revoked_at: Some(t),
        ..fixtures::domain_key(&key, &[origin], t)
    };
    store.create_domain_key(&dead_dk).await.unwrap();
    let dead_dk_session = fixtures::domain_key_session(&key, &dead_dk, origin, t, t + 600);
    store.create_key_session(&dead_dk_session).await.unwrap();
    let dead_key = fixtures::api_key(&w.account.name, Some(&w.user.id), t);
    store.create_api_key(&dead_key).await.unwrap();
    let orphan_dk = fixtures::domain_key(&dead_key, &[origin], t);
    store.create_domain_key(&orphan_dk).await.unwrap();
    let orphan_session = fixtures::domain_key_session(&dead_key, &orphan_dk, origin, t, t + 600);
    store.create_key_session(&orphan_session).await.unwrap();
    store.revoke_api_key(&dead_key.id, t).await.unwrap().unwrap();
    let other = fixtures::world(store).await;
    let foreign = fixtures::api_key(&other.account.name, Some(&other.user.id), t);
    store.create_api_key(&foreign).await.unwrap();
    let foreign_dk = fixtures::domain_key(&foreign, &[origin], t);
    store.create_domain_key(&foreign_dk).await.unwrap();
    let foreign_session = fixtures::domain_key_session(&foreign, &foreign_dk, origin, t, t + 600);
    store.create_key_session(&foreign_session).await.unwrap();
    let cut_short = KeySession {
        revoked_at: Some(t),
        ..fixtures::domain_key_session(&key, &dk, origin, t, t + 600)
    };
    store.create_key_session(&cut_short).await.unwrap();
    // The store does not tie a session's domain key to its API key: the check does.
    let mismatched = fixtures::domain_key_session(&service, &dk, origin, t, t + 600);
    store.create_key_session(&mismatched).await.unwrap();

    // Each failure on its own, then the order in which they are reported.
    let (unknown_dk, unknown_key, unknown_session, other_jti) = (
        DomainKeyId::generate(),
        ApiKeyId::generate(),
        opaque_id("kss_"),
        opaque_id("jti_"),
    );
    let (dk_id, key_id) = (dk.id.as_str(), key.id.as_str());
    let cases: Vec<(LivenessQuery<'_>, Liveness)> = vec![
        (
            LivenessQuery {
                credential: domain_key(unknown_dk.as_str(), key_id, &session.id),
                ..live.clone()
            },
            Liveness::DomainKeyRevoked,
        ),
        (
            LivenessQuery {
                credential: domain_key(dead_dk.id.as_str(), key_id, &dead_dk_session.id),
                ..live.clone()
            },
            Liveness::DomainKeyRevoked,
        ),
        (
            // Bound to another API key: the service key's domain key through this key, and the other
            // way round.
            LivenessQuery {
                credential: domain_key(service_dk.id.as_str(), key_id, &session.id),
                ..live.clone()
            },
            Liveness::DomainKeyRevoked,
        ),
        (
            LivenessQuery {
                credential: domain_key(dk_id, service.id.as_str(), &service_session.id),
                ..live.clone()
            },
            Liveness::DomainKeyRevoked,
        ),
        (
            LivenessQuery {
                credential: domain_key(dk_id, unknown_key.as_str(), &session.id),
                ..live.clone()
            },
            Liveness::DomainKeyRevoked,
        ),
        (
            // Another account's domain key, with its own API key and session.
            LivenessQuery {
                credential: domain_key(foreign_dk.id.as_str(), foreign.id.as_str(), &foreign_session.id),
                ..live.clone()
            },
            Liveness::DomainKeyRevoked,
        ),
        (
            // An API key's id is not a domain key's.
            LivenessQuery {
                credential: domain_key(key_id, key_id, &session.id),
                ..live.clone()
            },
            Liveness::DomainKeyRevoked,
        ),
        (
            // The domain key's account is checked against the token's first.
            LivenessQuery {
                account: "unknown-account",
                ..live.clone()
            },
            Liveness::DomainKeyRevoked,
        ),
        (
            LivenessQuery {
                account: other.account.name.as_str(),
                ..live.clone()
            },
            Liveness::DomainKeyRevoked,
        ),
        (
            LivenessQuery {
                credential: domain_key(orphan_dk.id.as_str(), dead_key.id.as_str(), &orphan_session.id),
                ..live.clone()
            },
            Liveness::KeyRevoked,
        ),
        (
            LivenessQuery {
                credential: domain_key(dk_id, key_id, &unknown_session),
                ..live.clone()
            },
            Liveness::SessionEnded,
        ),
        (
            // The API key's own session, not opened with a domain key.
            LivenessQuery {
                credential: domain_key(dk_id, key_id, &plain.id),
                ..live.clone()
            },
            Liveness::SessionEnded,
        ),
        (
            // A session of another domain key of the same API key.
            LivenessQuery {
                credential: domain_key(dk_id, key_id, &sibling_session.id),
                ..live.clone()
            },
            Liveness::SessionEnded,
        ),
        (
            LivenessQuery {
                credential: domain_key(sibling.id.as_str(), key_id, &sibling_session.id),
                ..live.clone()
            },
            Liveness::Live,
        ),
        (
            // A session of another API key (and of another domain key).
            LivenessQuery {
                credential: domain_key(dk_id, key_id, &service_session.id),
                ..live.clone()
            },
            Liveness::SessionEnded,
        ),
        (
            // A session of this domain key, but of another API key.
            LivenessQuery {
                credential: domain_key(dk_id, key_id, &mismatched.id),
                ..live.clone()
            },
            Liveness::SessionEnded,
        ),
        (
            LivenessQuery {
                credential: domain_key(dk_id, key_id, &cut_short.id),
                ..live.clone()
            },
            Liveness::SessionEnded,
        ),
        (
            LivenessQuery {
                now: session.expires_at - 1,
                ..live.clone()
            },
            Liveness::Live,
        ),
        (
            LivenessQuery {
                now: session.expires_at,
                ..live.clone()
            },
            Liveness::SessionEnded,
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
                user_id: Some(other.user.id.as_str()),
                ..live.clone()
            },
            Liveness::UserInactive,
        ),
        (
            // A domain key's token is not an app's.
            LivenessQuery {
                credential: app(dk_id, None),
                ..live.clone()
            },
            Liveness::AppInactive,
        ),
        (
            // Nor a plain API key's: the domain key's id is no API key.
            LivenessQuery {
                credential: api_key(dk_id, &session.id),
                ..live.clone()
            },
            Liveness::KeyRevoked,
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
    let expired_and_strange = LivenessQuery {
        user_id: Some("unknown-user"),
        now: t + 10_000,
        ..live.clone()
    };
    assert_eq!(
        store.liveness(&expired_and_strange).await.unwrap(),
        Liveness::SessionEnded
    );
    let dead_key_expired = LivenessQuery {
        credential: domain_key(orphan_dk.id.as_str(), dead_key.id.as_str(), &unknown_session),
        ..expired_and_strange.clone()
    };
    assert_eq!(
        store.liveness(&dead_key_expired).await.unwrap(),
        Liveness::KeyRevoked
    );
    let everything_wrong = LivenessQuery {
        credential: domain_key(dead_dk.id.as_str(), dead_key.id.as_str(), &unknown_session),
        ..expired_and_strange.clone()
    };
    assert_eq!(
        store.liveness(&everything_wrong).await.unwrap(),
        Liveness::DomainKeyRevoked
    );

    store.revoke_access_token(&jti, t + 600, t).await.unwrap();
    assert_eq!(store.liveness(&live).await.unwrap(), Liveness::TokenRevoked);
    assert_eq!(
        store.liveness(&everything_wrong).await.unwrap(),
        Liveness::TokenRevoked
    );

    // Status changes: suspend from the bottom up, so each step reveals the next reason.
    let live = LivenessQuery {
        jti: &other_jti,
        ..live
    };
    let as_account = LivenessQuery {
        jti: &other_jti,
        ..as_account
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
    assert_eq!(store.liveness(&as_account).await.unwrap(), Liveness::Live);
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
    assert_eq!(
        store.liveness(&as_account).await.unwrap(),
        Liveness::AccountInactive
    );
    let ended = LivenessQuery {
        now: session.expires_at,
        ..live.clone()
    };
    assert_eq!(store.liveness(&ended).await.unwrap(), Liveness::SessionEnded);
    store.revoke_api_key(&key.id, t).await.unwrap().unwrap();
    assert_eq!(store.liveness(&live).await.unwrap(), Liveness::KeyRevoked);
    assert_eq!(store.liveness(&ended).await.unwrap(), Liveness::KeyRevoked);
    store.revoke_domain_key(&dk.id, t).await.unwrap().unwrap();
    assert_eq!(store.liveness(&live).await.unwrap(), Liveness::DomainKeyRevoked);
    assert_eq!(
        store.liveness(&as_account).await.unwrap(),
        Liveness::AccountInactive,
        "revoking one domain key or API key revoked another"
    );
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
    // Key sessions go once past their end (a session ending exactly now is already dead, and goes next time).
    let key = fixtures::api_key(&w.account.name, None, t - 2 * day);
    store.create_api_key(&key).await.unwrap();
    let expired_session = fixtures::key_session(&key, t - day, t - 1);
    let ending_session = fixtures::key_session(&key, t - day, t);
    let live_session = fixtures::key_session(&key, t - day, t + 100);
    let dk = fixtures::domain_key(&key, &["https://purge.example"], t - 2 * day);
    store.create_domain_key(&dk).await.unwrap();
    let expired_dk_session = fixtures::domain_key_session(&key, &dk, "https://purge.example", t - day, t - 1);
    let live_dk_session = fixtures::domain_key_session(&key, &dk, "https://purge.example", t - day, t + 100);
    for session in [
        &expired_session,
        &ending_session,
        &live_session,
        &expired_dk_session,
        &live_dk_session,
    ] {
        store.create_key_session(session).await.unwrap();
    }
    // Assertion jtis go once past their expiry, like sessions; until then a replay is still refused.
    let (expired_use, ending_use, live_use) = (opaque_id("jti_"), opaque_id("jti_"), opaque_id("jti_"));
    for (jti, expires_at) in [(&expired_use, t - 1), (&ending_use, t), (&live_use, t + 100)] {
        assert!(store.use_assertion_jti(&key.id, jti, expires_at).await.unwrap());
    }
    let (old_jti, new_jti) = (opaque_id("jti_"), opaque_id("jti_"));
    store.revoke_access_token(&old_jti, t - 1, t - 600).await.unwrap();
    store
        .revoke_access_token(&new_jti, t + 100, t - 600)
        .await
        .unwrap();

    // Failure streaks go a day after their last failure, but not while they are locked.
    let (stale, locked, fresh) = (
        format!("addr:stale-{}", opaque_id("")),
        format!("addr:locked-{}", opaque_id("")),
        format!("addr:fresh-{}", opaque_id("")),
    );
    store.record_auth_failure(&stale, t - 2 * day, 0).await.unwrap();
    store.record_auth_failure(&locked, t - 2 * day, 0).await.unwrap();
    store.lock_auth_subject(&locked, t + 60).await.unwrap();
    store.record_auth_failure(&fresh, t - 60, 0).await.unwrap();

    let report = store.purge_expired(t).await.unwrap();
    assert!(report.auth_failures >= 1, "{report:?}");
    // A streak that survived the purge counts on (2); a purged one starts again (1).
    assert_eq!(store.record_auth_failure(&stale, t, 0).await.unwrap(), 1);
    assert_eq!(store.record_auth_failure(&locked, t, 0).await.unwrap(), 2);
    assert_eq!(store.record_auth_failure(&fresh, t, 0).await.unwrap(), 2);
    assert!(report.authorization_codes >= 2 && report.refresh_tokens >= 1 && report.revoked_tokens >= 1);
    assert!(report.key_sessions >= 2, "{report:?}");
    assert!(report.assertion_jtis >= 1, "{report:?}");
    assert!(store
        .use_assertion_jti(&key.id, &expired_use, t + 60)
        .await
        .unwrap());
    for jti in [&ending_use, &live_use] {
        assert!(!store.use_assertion_jti(&key.id, jti, t + 60).await.unwrap());
    }
    assert_eq!(store.get_key_session(&expired_session.id).await.unwrap(), None);
    assert_eq!(store.get_key_session(&expired_dk_session.id).await.unwrap(), None);
    assert_eq!(
        store.get_key_session(&live_dk_session.id).await.unwrap(),
        Some(live_dk_session)
    );
    assert_eq!(store.get_domain_key(&dk.id).await.unwrap(), Some(dk));
    assert_eq!(
        store.get_key_session(&ending_session.id).await.unwrap(),
        Some(ending_session.clone())
    );
    assert_eq!(
        store.get_key_session(&live_session.id).await.unwrap(),
        Some(live_session.clone())
    );
    assert_eq!(store.get_api_key(&key.id).await.unwrap(), Some(key.clone()));
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
