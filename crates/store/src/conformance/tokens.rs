//! Authorization codes, grants and refresh tokens, including races between nodes.

use futures_util::future::join_all;
use keygate_core::ids::{opaque_id, ClientId, UserId};
use keygate_core::model::{AccountStatus, AuthorizationCode, Grant, RefreshToken, UserStatus};

use super::fixtures::{self, now};
use super::{assert_conflict, assert_missing};
use crate::{CodeRedemption, Rotation, Store};

fn consumed(code: &AuthorizationCode, at: i64) -> AuthorizationCode {
    AuthorizationCode {
        consumed_at: Some(at),
        ..code.clone()
    }
}

pub async fn authorization_codes(store: &dyn Store) {
    let t = now();
    let w = fixtures::world(store).await;
    let code = fixtures::code(&w, t + 60);
    store.insert_authorization_code(&code).await.unwrap();
    assert_conflict(store.insert_authorization_code(&code).await, "authorization code");
    let stray = AuthorizationCode {
        client_id: ClientId::generate(),
        ..fixtures::code(&w, t + 60)
    };
    assert_missing(store.insert_authorization_code(&stray).await);
    let stray = AuthorizationCode {
        user_id: UserId::generate(),
        ..fixtures::code(&w, t + 60)
    };
    assert_missing(store.insert_authorization_code(&stray).await);

    let redeemed = store
        .redeem_authorization_code(&code.code_hash, t + 1)
        .await
        .unwrap();
    assert_eq!(redeemed, CodeRedemption::Redeemed(consumed(&code, t + 1)));
    let replayed = store
        .redeem_authorization_code(&code.code_hash, t + 2)
        .await
        .unwrap();
    assert_eq!(replayed, CodeRedemption::Replayed(consumed(&code, t + 1)));
    // Still a replay after expiry: the caller must learn to revoke the grant.
    let late = store
        .redeem_authorization_code(&code.code_hash, t + 600)
        .await
        .unwrap();
    assert_eq!(late, CodeRedemption::Replayed(consumed(&code, t + 1)));
    assert_eq!(
        store
            .redeem_authorization_code(&fixtures::hash(), t)
            .await
            .unwrap(),
        CodeRedemption::NotFound
    );

    // Expired before use: not found. Flags and optional fields round-trip.
    let expired = AuthorizationCode {
        redirect_uri_explicit: false,
        code_challenge: None,
        ..fixtures::code(&w, t - 1)
    };
    store.insert_authorization_code(&expired).await.unwrap();
    let outcome = store
        .redeem_authorization_code(&expired.code_hash, t)
        .await
        .unwrap();
    assert_eq!(outcome, CodeRedemption::NotFound);
    let plain = AuthorizationCode {
        redirect_uri_explicit: false,
        code_challenge: None,
        ..fixtures::code(&w, t + 60)
    };
    store.insert_authorization_code(&plain).await.unwrap();
    let outcome = store
        .redeem_authorization_code(&plain.code_hash, t)
        .await
        .unwrap();
    assert_eq!(outcome, CodeRedemption::Redeemed(consumed(&plain, t)));
}

pub async fn grants_and_refresh_tokens(store: &dyn Store) {
    let t = now();
    let w = fixtures::world(store).await;
    let g1 = fixtures::grant(&w, t);
    let r1 = fixtures::refresh_token(&g1.id, t, t + 3600);
    store.create_grant(&g1, Some(&r1)).await.unwrap();
    assert_eq!(store.get_grant(&g1.id).await.unwrap(), Some(g1.clone()));
    assert_eq!(
        store.get_refresh_token(&r1.token_hash).await.unwrap(),
        Some(r1.clone())
    );
    assert_eq!(store.get_grant(&opaque_id("grt_")).await.unwrap(), None);
    assert_eq!(store.get_refresh_token(&fixtures::hash()).await.unwrap(), None);

    // Creating a grant is all or nothing.
    let extra = fixtures::refresh_token(&g1.id, t, t + 3600);
    assert_conflict(store.create_grant(&g1, Some(&extra)).await, &g1.id);
    assert_eq!(store.get_refresh_token(&extra.token_hash).await.unwrap(), None);
    let strangers = Grant {
        user_id: UserId::generate(),
        ..fixtures::grant(&w, t)
    };
    assert_missing(store.create_grant(&strangers, None).await);
    assert_eq!(store.get_grant(&strangers.id).await.unwrap(), None);
    let g3 = fixtures::grant(&w, t);
    let misfiled = fixtures::refresh_token(&opaque_id("grt_"), t, t + 3600);
    assert_missing(store.create_grant(&g3, Some(&misfiled)).await);
    assert_eq!(store.get_grant(&g3.id).await.unwrap(), None);

    let g2 = fixtures::grant(&w, t);
    store.create_grant(&g2, None).await.unwrap();
    let r2 = fixtures::refresh_token(&g2.id, t, t + 3600);
    store.insert_refresh_token(&r2).await.unwrap();
    assert_eq!(
        store.get_refresh_token(&r2.token_hash).await.unwrap(),
        Some(r2.clone())
    );
    assert_conflict(store.insert_refresh_token(&r2).await, "refresh token");
    assert_missing(
        store
            .insert_refresh_token(&fixtures::refresh_token(&opaque_id("grt_"), t, t + 1))
            .await,
    );

    // Rotation: once only; a failed successor insert leaves the old token unrotated.
    let s1 = fixtures::refresh_token(&g1.id, t + 10, t + 3610);
    assert_eq!(
        store
            .rotate_refresh_token(&r1.token_hash, &s1, t + 10)
            .await
            .unwrap(),
        Rotation::Rotated
    );
    let old = store.get_refresh_token(&r1.token_hash).await.unwrap().unwrap();
    assert_eq!(old.rotated_at, Some(t + 10));
    assert_eq!(
        store.get_refresh_token(&s1.token_hash).await.unwrap(),
        Some(s1.clone())
    );
    let s2 = fixtures::refresh_token(&g1.id, t + 11, t + 3611);
    let again = store
        .rotate_refresh_token(&r1.token_hash, &s2, t + 11)
        .await
        .unwrap();
    assert_eq!(again, Rotation::AlreadyRotated { rotated_at: t + 10 });
    assert_eq!(store.get_refresh_token(&s2.token_hash).await.unwrap(), None);
    let unknown = store
        .rotate_refresh_token(&fixtures::hash(), &s2, t + 11)
        .await
        .unwrap();
    assert_eq!(unknown, Rotation::NotFound);
    assert_eq!(store.get_refresh_token(&s2.token_hash).await.unwrap(), None);
    let clash = RefreshToken {
        token_hash: r2.token_hash.clone(),
        ..s2.clone()
    };
    assert_conflict(
        store.rotate_refresh_token(&s1.token_hash, &clash, t + 12).await,
        "refresh token",
    );
    let orphan = fixtures::refresh_token(&opaque_id("grt_"), t, t + 1);
    assert_missing(store.rotate_refresh_token(&s1.token_hash, &orphan, t + 12).await);
    assert_eq!(
        store
            .get_refresh_token(&s1.token_hash)
            .await
            .unwrap()
            .unwrap()
            .rotated_at,
        None
    );

    // Revocation is idempotent and keeps the first time and reason.
    assert!(store.revoke_grant(&g1.id, "code replay", t + 20).await.unwrap());
    assert!(!store.revoke_grant(&g1.id, "user request", t + 30).await.unwrap());
    let revoked = store.get_grant(&g1.id).await.unwrap().unwrap();
    assert_eq!(
        (revoked.revoked_at, revoked.revoked_reason.as_deref()),
        (Some(t + 20), Some("code replay"))
    );
    assert!(!store
        .revoke_grant(&opaque_id("grt_"), "nothing", t)
        .await
        .unwrap());
}

/// Two redemptions of one code at once: one redeems, the other sees a replay.
pub(super) async fn code_redemption_race(a: &dyn Store, b: &dyn Store) {
    let t = now();
    let w = fixtures::world(a).await;
    for _ in 0..5 {
        let code = fixtures::code(&w, t + 60);
        a.insert_authorization_code(&code).await.unwrap();
        let (ra, rb) = tokio::join!(
            a.redeem_authorization_code(&code.code_hash, t),
            b.redeem_authorization_code(&code.code_hash, t)
        );
        let mut outcomes = [ra.unwrap(), rb.unwrap()];
        outcomes.sort_by_key(|o| matches!(o, CodeRedemption::Replayed(_)));
        let expected = [
            CodeRedemption::Redeemed(consumed(&code, t)),
            CodeRedemption::Replayed(consumed(&code, t)),
        ];
        assert_eq!(outcomes, expected);
    }
}

/// Two rotations of one refresh token at once: exactly one stores its successor.
pub(super) async fn refresh_rotation_race(a: &dyn Store, b: &dyn Store) {
    let t = now();
    let w = fixtures::world(a).await;
    let g = fixtures::grant(&w, t);
    a.create_grant(&g, None).await.unwrap();
    for _ in 0..5 {
        let old = fixtures::refresh_token(&g.id, t, t + 3600);
        a.insert_refresh_token(&old).await.unwrap();
        let (sa, sb) = (
            fixtures::refresh_token(&g.id, t, t + 3600),
            fixtures::refresh_token(&g.id, t, t + 3600),
        );
        let (ra, rb) = tokio::join!(
            a.rotate_refresh_token(&old.token_hash, &sa, t),
            b.rotate_refresh_token(&old.token_hash, &sb, t)
        );
        let (ra, rb) = (ra.unwrap(), rb.unwrap());
        let (winner, loser) = match (&ra, &rb) {
            (Rotation::Rotated, _) => (&sa, &sb),
            _ => (&sb, &sa),
        };
        let mut outcomes = [ra, rb];
        outcomes.sort_by_key(|o| *o != Rotation::Rotated);
        assert_eq!(
            outcomes,
            [Rotation::Rotated, Rotation::AlreadyRotated { rotated_at: t }]
        );
        assert!(a.get_refresh_token(&winner.token_hash).await.unwrap().is_some());
        assert!(a.get_refresh_token(&loser.token_hash).await.unwrap().is_none());
    }
}

/// Many write transactions at once, alternating between the two stores: none fails for want of a lock.
pub(super) async fn write_contention(a: &dyn Store, b: &dyn Store) {
    let t = now();
    let w = fixtures::world(a).await;
    let grants: Vec<_> = (0..24).map(|_| fixtures::grant(&w, t)).collect();
    let tokens: Vec<_> = grants
        .iter()
        .map(|g| fixtures::refresh_token(&g.id, t, t + 60))
        .collect();
    let successors: Vec<_> = grants
        .iter()
        .map(|g| fixtures::refresh_token(&g.id, t, t + 60))
        .collect();
    let store = |i: usize| [a, b][i % 2];
    let creates = grants
        .iter()
        .zip(&tokens)
        .enumerate()
        .map(|(i, (g, r))| store(i).create_grant(g, Some(r)));
    for result in join_all(creates).await {
        result.unwrap();
    }
    let rotations = tokens
        .iter()
        .zip(&successors)
        .enumerate()
        .map(|(i, (old, new))| store(i + 1).rotate_refresh_token(&old.token_hash, new, t + 1));
    for result in join_all(rotations).await {
        assert_eq!(result.unwrap(), Rotation::Rotated);
    }
}

/// A refresh reads its token, grant and subject's statuses in one query; each part must be the one
/// the separate reads give.
pub async fn refresh_contexts(store: &dyn Store) {
    let t = now();
    let w = fixtures::world(store).await;
    let grant = fixtures::grant(&w, t);
    let token = fixtures::refresh_token(&grant.id, t, t + 3600);
    store.create_grant(&grant, Some(&token)).await.unwrap();
    let context = |hash: Vec<u8>| async move { store.get_refresh_context(&hash).await.unwrap() };

    let read = context(token.token_hash.clone()).await.unwrap();
    assert_eq!(read.token, token);
    assert_eq!(read.grant, grant);
    assert_eq!(read.account_status, Some(AccountStatus::Active));
    assert_eq!(read.user_status, Some(UserStatus::Active));
    assert_eq!(context(fixtures::hash()).await, None);

    fixtures::set_user_status(store, &w.user.id, UserStatus::Suspended).await;
    fixtures::set_account_status(store, &w.account.name, AccountStatus::Suspended).await;
    let successor = fixtures::refresh_token(&grant.id, t, t + 3600);
    assert_eq!(
        store
            .rotate_refresh_token(&token.token_hash, &successor, t + 1)
            .await
            .unwrap(),
        Rotation::Rotated
    );
    store.revoke_grant(&grant.id, "test", t + 2).await.unwrap();

    let read = context(token.token_hash.clone()).await.unwrap();
    assert_eq!(read.token.rotated_at, Some(t + 1));
    assert_eq!(read.grant.revoked_at, Some(t + 2));
    assert_eq!(read.account_status, Some(AccountStatus::Suspended));
    assert_eq!(read.user_status, Some(UserStatus::Suspended));
    assert_eq!(
        context(successor.token_hash.clone()).await.unwrap().token,
        successor
    );
}

/// Rotations arriving together on one store (written in one group): each token is claimed once, by one
/// of them, and only the claimed ones' successors are stored.
pub async fn concurrent_rotations(store: &dyn Store) {
    let t = now();
    let w = fixtures::world(store).await;
    let grant = fixtures::grant(&w, t);
    store.create_grant(&grant, None).await.unwrap();
    let olds: Vec<RefreshToken> = (0..6)
        .map(|_| fixtures::refresh_token(&grant.id, t, t + 3600))
        .collect();
    for old in &olds {
        store.insert_refresh_token(old).await.unwrap();
    }
    // Every token three times over, interleaved, each with its own successor.
    let attempts: Vec<(&RefreshToken, RefreshToken)> = (0..3)
        .flat_map(|_| &olds)
        .map(|old| (old, fixtures::refresh_token(&grant.id, t, t + 3600)))
        .collect();
    let outcomes = join_all(
        attempts
            .iter()
            .map(|(old, successor)| store.rotate_refresh_token(&old.token_hash, successor, t + 1)),
    )
    .await;
    for old in &olds {
        let mine: Vec<(&RefreshToken, Rotation)> = attempts
            .iter()
            .zip(&outcomes)
            .filter(|((o, _), _)| o.token_hash == old.token_hash)
            .map(|((_, successor), outcome)| (successor, outcome.as_ref().unwrap().clone()))
            .collect();
        let winners = mine.iter().filter(|(_, o)| *o == Rotation::Rotated).count();
        assert_eq!(winners, 1, "{mine:?}");
        for (successor, outcome) in &mine {
            let stored = store.get_refresh_token(&successor.token_hash).await.unwrap();
            match outcome {
                Rotation::Rotated => assert_eq!(stored.as_ref(), Some(*successor)),
                other => {
                    assert_eq!(*other, Rotation::AlreadyRotated { rotated_at: t + 1 });
                    assert_eq!(stored, None);
                }
            }
        }
    }
}
