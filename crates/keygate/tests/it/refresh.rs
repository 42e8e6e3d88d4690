//! Refresh-token rotation and reuse detection.

use keygate_testkit::{store_test, TestApp, TestServer};
use serde_json::Value;

use crate::authorization_code::fixture;

/// A fresh grant: (access token, refresh token) for a member user.
async fn grant(
    srv: &TestServer,
    app: &TestApp,
    user: &keygate_testkit::TestUser,
    scope: &str,
) -> (String, String) {
    let body = srv.user_tokens(app, user, &[("scope", scope)]).await;
    (
        body["access_token"].as_str().unwrap().into(),
        body["refresh_token"].as_str().unwrap().into(),
    )
}

async fn refresh(srv: &TestServer, app: &TestApp, token: &str, scope: Option<&str>) -> (u16, Value) {
    let mut form = vec![("grant_type", "refresh_token"), ("refresh_token", token)];
    if let Some(s) = scope {
        form.push(("scope", s));
    }
    let (status, body) = srv.oauth_post("/oauth/token", app, &form).await;
    (status.as_u16(), body)
}

store_test!(
    reuse_after_rotation_revokes_the_family,
    |c| c.tokens.refresh_reuse_grace = 0,
    |srv| async move {
        let (user, app) = fixture(&srv, "member", "contacts.read").await;
        let (access1, refresh1) = grant(&srv, &app, &user, "contacts.read").await;
        let (status, second) = refresh(&srv, &app, &refresh1, None).await;
        assert_eq!(status, 200);
        let refresh2 = second["refresh_token"].as_str().unwrap();
        assert_ne!(refresh2, refresh1, "rotated on every use");
        let access2 = second["access_token"].as_str().unwrap();
        assert_eq!(srv.me(access2).await.0, 200);
        tokio::time::sleep(std::time::Duration::from_millis(1100)).await;

        let (status, body) = refresh(&srv, &app, &refresh1, None).await;
        assert_eq!((status, body["error"].as_str()), (400, Some("invalid_grant")));
        // The whole family is gone: the successor and every access token of the grant.
        assert_eq!(refresh(&srv, &app, refresh2, None).await.0, 400);
        assert_eq!(srv.me(&access1).await.0, 401);
        assert_eq!(srv.me(access2).await.0, 401);
    }
);

store_test!(
    concurrent_refreshes_within_the_grace_window_succeed,
    |srv| async move {
        let (user, app) = fixture(&srv, "member", "contacts.read").await;
        let (_, refresh1) = grant(&srv, &app, &user, "contacts.read").await;
        let (a, b) = tokio::join!(
            refresh(&srv, &app, &refresh1, None),
            refresh(&srv, &app, &refresh1, None)
        );
        assert_eq!((a.0, b.0), (200, 200), "{a:?} {b:?}");
        for body in [&a.1, &b.1] {
            assert_eq!(srv.me(body["access_token"].as_str().unwrap()).await.0, 200);
            assert_eq!(
                refresh(&srv, &app, body["refresh_token"].as_str().unwrap(), None)
                    .await
                    .0,
                200
            );
        }
    }
);

store_test!(refresh_may_narrow_but_not_widen, |srv| async move {
    let (user, app) = fixture(&srv, "member", "contacts.read contacts.write").await;
    let (_, rt) = grant(&srv, &app, &user, "contacts.read contacts.write").await;
    let (status, narrowed) = refresh(&srv, &app, &rt, Some("contacts.read")).await;
    assert_eq!(status, 200);
    assert_eq!(narrowed["scope"], "contacts.read");
    // The grant keeps its scope: the next refresh may ask for all of it again.
    let rt2 = narrowed["refresh_token"].as_str().unwrap();
    let (status, full) = refresh(&srv, &app, rt2, None).await;
    assert_eq!(
        (status, full["scope"].as_str()),
        (200, Some("contacts.read contacts.write"))
    );
    let (status, body) = refresh(&srv, &app, full["refresh_token"].as_str().unwrap(), Some("hooks")).await;
    assert_eq!((status, body["error"].as_str()), (400, Some("invalid_scope")));
});

store_test!(refresh_tokens_are_bound_to_their_client, |srv| async move {
    let (user, app) = fixture(&srv, "member", "contacts.read").await;
    let (_, rt) = grant(&srv, &app, &user, "contacts.read").await;
    let other = srv
        .app(serde_json::json!({"name": "Thief", "redirect_uris": ["https://x.example.com/cb"]}))
        .await;
    let (status, body) = refresh(&srv, &other, &rt, None).await;
    assert_eq!((status, body["error"].as_str()), (400, Some("invalid_grant")));
    assert_eq!(
        refresh(&srv, &app, &rt, None).await.0,
        200,
        "the rightful client is unaffected"
    );
    assert_eq!(refresh(&srv, &app, "kgrt_unknown", None).await.0, 400);
});
