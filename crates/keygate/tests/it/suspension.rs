//! Suspending or revoking an account, app or user stops its credentials on the very next request.

use keygate_testkit::store_test;
use reqwest::Method;
use serde_json::json;

use crate::authorization_code::fixture;

store_test!(
    suspending_an_account_stops_its_tokens_until_reactivated,
    |srv| async move {
        let (account, app) = srv.owned_app().await;
        let token = srv.client_token(&app, None).await["access_token"]
            .as_str()
            .unwrap()
            .to_owned();
        let (status, _) = srv
            .admin(
                Method::PATCH,
                &format!("/admin/v1/accounts/{account}"),
                Some(json!({"status": "suspended"})),
            )
            .await;
        assert_eq!(status, 200);
        let (status, body) = srv.me(&token).await;
        assert_eq!(status, 401);
        assert!(body["detail"].as_str().unwrap().contains("revoked"), "{body}");
        let (status, body) = srv
            .oauth_post("/oauth/token", &app, &[("grant_type", "client_credentials")])
            .await;
        assert_eq!(
            (status.as_u16(), body["error"].as_str()),
            (400, Some("unauthorized_client"))
        );
        srv.admin(
            Method::PATCH,
            &format!("/admin/v1/accounts/{account}"),
            Some(json!({"status": "active"})),
        )
        .await;
        assert_eq!(srv.me(&token).await.0, 200, "suspension is not revocation");
    }
);

store_test!(suspended_and_revoked_apps_lose_access, |srv| async move {
    let (_, app) = srv.owned_app().await;
    let token = srv.client_token(&app, None).await["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let path = format!("/admin/v1/apps/{}", app.client_id);
    srv.admin(Method::PATCH, &path, Some(json!({"status": "suspended"})))
        .await;
    assert_eq!(srv.me(&token).await.0, 401);
    let (status, body) = srv
        .oauth_post("/oauth/token", &app, &[("grant_type", "client_credentials")])
        .await;
    assert_eq!(
        (status.as_u16(), body["error"].as_str()),
        (401, Some("invalid_client"))
    );
    srv.admin(Method::PATCH, &path, Some(json!({"status": "revoked"})))
        .await;
    let (status, _) = srv
        .admin(Method::PATCH, &path, Some(json!({"status": "active"})))
        .await;
    assert_eq!(status, 409, "revocation is final");
    assert_eq!(srv.me(&token).await.0, 401);
});

store_test!(suspended_users_cannot_sign_in_or_refresh, |srv| async move {
    let (user, app) = fixture(&srv, "member", "contacts.read").await;
    let tokens = srv.user_tokens(&app, &user, &[]).await;
    let (access, refresh) = (
        tokens["access_token"].as_str().unwrap(),
        tokens["refresh_token"].as_str().unwrap(),
    );
    srv.admin(
        Method::PATCH,
        &format!("/admin/v1/users/{}", user.id),
        Some(json!({"status": "suspended"})),
    )
    .await;
    assert_eq!(srv.me(access).await.0, 401);
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
    assert!(srv
        .keygate()
        .login(&user.account, &user.email, &user.password)
        .await
        .is_err());
});

store_test!(
    a_suspended_account_cannot_refresh_until_reactivated,
    |srv| async move {
        let (user, app) = fixture(&srv, "member", "contacts.read").await;
        let tokens = srv.user_tokens(&app, &user, &[]).await;
        let refresh = tokens["refresh_token"].as_str().unwrap();
        let account = format!("/admin/v1/accounts/{}", user.account);
        let refresh_with = |token: String| {
            let (srv, app) = (&srv, &app);
            async move {
                srv.oauth_post(
                    "/oauth/token",
                    app,
                    &[("grant_type", "refresh_token"), ("refresh_token", &token)],
                )
                .await
            }
        };
        srv.admin(Method::PATCH, &account, Some(json!({"status": "suspended"})))
            .await;
        let (status, body) = refresh_with(refresh.to_owned()).await;
        assert_eq!(
            (
                status.as_u16(),
                body["error"].as_str(),
                body["error_description"].as_str()
            ),
            (400, Some("invalid_grant"), Some("the account is suspended"))
        );
        srv.admin(Method::PATCH, &account, Some(json!({"status": "active"})))
            .await;
        let (status, body) = refresh_with(refresh.to_owned()).await;
        assert_eq!(status.as_u16(), 200, "{body}");
        assert!(body["refresh_token"].as_str().is_some_and(|r| r != refresh));
    }
);
