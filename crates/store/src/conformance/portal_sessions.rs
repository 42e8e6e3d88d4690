//! Sign-in sessions of the developer portal.

use super::fixtures::{self, hash, now};
use crate::{CredentialRef, Liveness, LivenessQuery, PortalSession, Store, StoreError};

fn session(user: &keygate_core::model::User, created_at: i64, expires_at: i64) -> PortalSession {
    PortalSession {
        id_hash: hash(),
        id: keygate_core::ids::opaque_id("ps_"),
        user_id: user.id.to_string(),
        account: user.account.to_string(),
        created_at,
        last_seen_at: created_at,
        expires_at,
    }
}

pub async fn portal_sessions(store: &dyn Store) {
    let t = now();
    let idle = 3_600;
    let account = fixtures::account(store).await;
    let user = fixtures::user(store, &account.name).await;
    let other = fixtures::user(store, &account.name).await;

    // Found by its hash while live; finding it records the use.
    let s = session(&user, t - 100, t + 10_000);
    store.create_portal_session(&s).await.unwrap();
    let found = store.touch_portal_session(&s.id_hash, t, idle).await.unwrap();
    assert_eq!(
        found,
        Some(PortalSession {
            last_seen_at: t,
            ..s.clone()
        })
    );
    assert_eq!(store.touch_portal_session(&hash(), t, idle).await.unwrap(), None);

    // Idle for longer than the timeout, or past its expiry, it is dead, and stays so.
    assert_eq!(
        store
            .touch_portal_session(&s.id_hash, t + idle, idle)
            .await
            .unwrap(),
        None
    );
    assert!(store
        .touch_portal_session(&s.id_hash, t + idle - 1, idle)
        .await
        .unwrap()
        .is_some());
    assert_eq!(
        store
            .touch_portal_session(&s.id_hash, t + 10_000, idle)
            .await
            .unwrap(),
        None
    );

    // Sign-out deletes it; a second sign-out finds nothing.
    let s = session(&user, t, t + 1_000);
    store.create_portal_session(&s).await.unwrap();
    assert!(store.delete_portal_session(&s.id_hash).await.unwrap());
    assert!(!store.delete_portal_session(&s.id_hash).await.unwrap());
    assert_eq!(
        store.touch_portal_session(&s.id_hash, t, idle).await.unwrap(),
        None
    );

    // Ending a user's sessions (the dead first one too) leaves other users' alone.
    let (a, b, c) = (
        session(&user, t, t + 1_000),
        session(&user, t, t + 1_000),
        session(&other, t, t + 1_000),
    );
    for s in [&a, &b, &c] {
        store.create_portal_session(s).await.unwrap();
    }
    assert_eq!(
        store
            .delete_user_portal_sessions(&user.id.to_string())
            .await
            .unwrap(),
        3
    );
    assert_eq!(
        store.touch_portal_session(&a.id_hash, t, idle).await.unwrap(),
        None
    );
    assert!(store
        .touch_portal_session(&c.id_hash, t, idle)
        .await
        .unwrap()
        .is_some());

    // A session names a user of its account, and its hash is unique.
    let stray = PortalSession {
        account: fixtures::account(store).await.name.to_string(),
        ..session(&user, t, t + 10)
    };
    assert!(matches!(
        store.create_portal_session(&stray).await,
        Err(StoreError::MissingReference(_))
    ));
    assert!(matches!(
        store.create_portal_session(&c).await,
        Err(StoreError::Conflict(_))
    ));

    // Purging removes expired sessions only.
    let expired = session(&other, t - 2_000, t - 1);
    store.create_portal_session(&expired).await.unwrap();
    let report = store.purge_expired(t).await.unwrap();
    assert!(report.portal_sessions >= 1, "{report:?}");
    assert!(store
        .touch_portal_session(&c.id_hash, t, idle)
        .await
        .unwrap()
        .is_some());
    assert!(
        !store.delete_portal_session(&expired.id_hash).await.unwrap(),
        "purged"
    );

    // The explorer's tokens live as long as their session, for its user only.
    let live = session(&user, t, t + 1_000);
    store.create_portal_session(&live).await.unwrap();
    let check = |s: &PortalSession, user_id: String, at: i64| {
        let s = s.clone();
        async move {
            let jti = keygate_core::ids::opaque_id("at_");
            let (liveness, lease) = store
                .leased_liveness(&LivenessQuery {
                    jti: &jti,
                    credential: CredentialRef::PortalSession {
                        session_id: &s.id,
                        idle_timeout: idle,
                    },
                    account: &s.account,
                    user_id: Some(&user_id),
                    now: at,
                })
                .await
                .unwrap();
            // Its idle timeout ends a session without any write: nothing may keep the answer.
            assert_eq!(lease, None);
            liveness
        }
    };
    assert_eq!(check(&live, user.id.to_string(), t).await, Liveness::Live);
    assert_eq!(
        check(&live, other.id.to_string(), t).await,
        Liveness::SessionEnded,
        "another user"
    );
    assert_eq!(
        check(&live, user.id.to_string(), t + idle).await,
        Liveness::SessionEnded,
        "idle"
    );
    assert!(store.delete_portal_session(&live.id_hash).await.unwrap());
    assert_eq!(
        check(&live, user.id.to_string(), t).await,
        Liveness::SessionEnded,
        "signed out"
    );
}
