//! Revocation (RFC 7009) and introspection (RFC 7662).

use keygate_testkit::{store_test, TestApp, TestServer};
use serde_json::Value;

use crate::authorization_code::fixture;

async fn introspect(srv: &TestServer, app: &TestApp, token: &str) -> Value {
    let (status, body) = srv
        .oauth_post("/oauth/introspect", app, &[("token", token)])
        .await;
    assert_eq!(status, 200);
    body
}

store_test!(revoking_an_access_token_takes_effect_at_once, |srv| async move {
    let (_, app) = srv.owned_app().await;
    let token = srv.client_token(&app, None).await["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let live = introspect(&srv, &app, &token).await;
    assert_eq!(live["active"], true);
    assert_eq!(live["client_id"], app.client_id.as_str());
    assert_eq!(live["token_type"], "Bearer");
    let (status, _) = srv
        .oauth_post(
            "/oauth/revoke",
            &app,
            &[("token", &token), ("token_type_hint", "access_token")],
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(
        introspect(&srv, &app, &token).await,
        serde_json::json!({"active": false})
    );
    assert_eq!(srv.me(&token).await.0, 401);
});

store_test!(revoking_a_refresh_token_ends_its_grant, |srv| async move {
    let (user, app) = fixture(&srv, "member", "contacts.read").await;
    let tokens = srv.user_tokens(&app, &user, &[]).await;
    let (access, refresh) = (
        tokens["access_token"].as_str().unwrap(),
        tokens["refresh_token"].as_str().unwrap(),
    );
    let rt = introspect(&srv, &app, refresh).await;
    assert_eq!(rt["active"], true);
    assert_eq!(rt["token_type"], "refresh_token");
    assert_eq!(rt["sub"], user.id.as_str());
    assert_eq!(
        srv.oauth_post("/oauth/revoke", &app, &[("token", refresh)])
            .await
            .0,
        200
    );
    assert_eq!(introspect(&srv, &app, refresh).await["active"], false);
    assert_eq!(
        srv.me(access).await.0,
        401,
        "access tokens of the grant die with it"
    );
    let (status, body) = srv
        .oauth_post(
            "/oauth/token",
            &app,
            &[("grant_type", "refresh_token"), ("refresh_token", refresh)],
        )
        .await;
    assert_eq!(
        (status.as_u16(), body["error"].as_str()),
        (400, Some("invalid_grant"))
    );
});

store_test!(clients_cannot_touch_each_others_tokens, |srv| async move {
    let (_, app) = srv.owned_app().await;
    let (_, other) = srv.owned_app().await;
    let token = srv.client_token(&app, None).await["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        introspect(&srv, &other, &token).await,
        serde_json::json!({"active": false})
    );
    assert_eq!(
        srv.oauth_post("/oauth/revoke", &other, &[("token", &token)])
            .await
            .0,
        200,
        "same answer as for any token"
    );
    assert_eq!(srv.me(&token).await.0, 200, "but nothing was revoked");
    assert_eq!(
        srv.oauth_post("/oauth/revoke", &app, &[("token", "garbage")])
            .await
            .0,
        200
    );
    assert_eq!(introspect(&srv, &app, "garbage").await["active"], false);
});

store_test!(
    revocation_and_introspection_need_client_authentication,
    |srv| async move {
        for path in ["/oauth/revoke", "/oauth/introspect"] {
            let res = srv
                .http
                .post(srv.at(path))
                .form(&[("token", "x")])
                .send()
                .await
                .unwrap();
            assert_eq!(res.status(), 401, "{path}");
            let body: Value = res.json().await.unwrap();
            assert_eq!(body["error"], "invalid_client");
        }
        let (_, app) = srv.owned_app().await;
        let (status, body) = srv.oauth_post("/oauth/introspect", &app, &[]).await;
        assert_eq!(
            (status.as_u16(), body["error"].as_str()),
            (400, Some("invalid_request"))
        );
    }
);

store_test!(public_clients_may_revoke_but_not_introspect, |srv| async move {
    let account = srv.account().await;
    let user = srv.user(&account, "member").await;
    let app = srv
        .app(serde_json::json!({"name": "SPA", "client_type": "public", "redirect_uris": ["http://127.0.0.1:9/cb"]}))
        .await;
    let (code, verifier) =
        crate::authorization_code::code_with_pkce(&srv, &app, &user, "contacts.read").await;
    let (_, tokens) = srv
        .oauth_post(
            "/oauth/token",
            &app,
            &[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("code_verifier", verifier.secret()),
                ("redirect_uri", "http://127.0.0.1:9/cb"),
            ],
        )
        .await;
    let access = tokens["access_token"].as_str().expect("token exchange");
    let (status, body) = srv
        .oauth_post("/oauth/introspect", &app, &[("token", access)])
        .await;
    assert_eq!(
        (status.as_u16(), body["error"].as_str()),
        (401, Some("invalid_client"))
    );
    assert_eq!(
        srv.oauth_post("/oauth/revoke", &app, &[("token", access)])
            .await
            .0,
        200
    );
    assert_eq!(
        srv.me(access).await.0,
        401,
        "a public client can revoke its own tokens"
    );
});

// A token used again and again is served from the cache of verified signatures; revocation and
// suspension must still end it on the very next request.
store_test!(a_hot_token_still_dies_at_once, |srv| async move {
    let (account, app) = srv.owned_app().await;
    let token = |v: Value| v["access_token"].as_str().unwrap().to_owned();
    let revoked = token(srv.client_token(&app, None).await);
    let suspended = token(srv.client_token(&app, None).await);
    for t in [&revoked, &suspended] {
        for _ in 0..3 {
            assert_eq!(srv.me(t).await.0, 200);
        }
    }
    let (status, _) = srv
        .oauth_post("/oauth/revoke", &app, &[("token", &revoked)])
        .await;
    assert_eq!(status, 200);
    assert_eq!(srv.me(&revoked).await.0, 401, "revoked while hot");
    assert_eq!(srv.me(&suspended).await.0, 200, "the other token is untouched");
    let (status, body) = srv
        .admin(
            reqwest::Method::PATCH,
            &format!("/admin/v1/accounts/{account}"),
            Some(serde_json::json!({"status": "suspended"})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(srv.me(&suspended).await.0, 401, "its account suspended while hot");
});
