//! The client_credentials grant: an account-owned app acting for its account.

use keygate_testkit::store_test;
use oauth2::basic::BasicErrorResponseType;
use oauth2::{AuthType, RequestTokenError, Scope, TokenResponse};
use serde_json::json;

use crate::authorization_code::{http, oauth_client};

store_test!(owned_apps_get_tokens_with_either_auth_method, |srv| async move {
    let (account, app) = srv.owned_app().await;
    for auth in [AuthType::BasicAuth, AuthType::RequestBody] {
        let token = oauth_client(&srv, &app)
            .set_auth_type(auth)
            .exchange_client_credentials()
            .add_scope(Scope::new("contacts.read".into()))
            .request_async(&http())
            .await
            .expect("client_credentials");
        assert!(
            token.refresh_token().is_none(),
            "no refresh token for client_credentials"
        );
        let (status, me) = srv.me(token.access_token().secret()).await;
        assert_eq!(status, 200);
        assert_eq!(me["account"], account.as_str());
        assert_eq!(me["acting_as"], "account");
        assert_eq!(me["credential"], "oauth_app");
        assert_eq!(me["credential_id"], app.client_id.as_str());
        assert_eq!(me["scope"], "contacts.read");
    }
});

store_test!(scopes_are_checked, |srv| async move {
    let account = srv.account().await;
    let app = srv
        .app(json!({"name": "Reader", "owner_account": account, "allowed_scopes": "contacts.read hooks"}))
        .await;
    assert_eq!(
        srv.client_token(&app, None).await["scope"],
        "contacts.read hooks",
        "default: all allowed scopes"
    );
    for (scope, error) in [("contacts.write", "invalid_scope"), ("made.up", "invalid_scope")] {
        let (status, body) = srv
            .oauth_post(
                "/oauth/token",
                &app,
                &[("grant_type", "client_credentials"), ("scope", scope)],
            )
            .await;
        assert_eq!(
            (status.as_u16(), body["error"].as_str()),
            (400, Some(error)),
            "{scope}: {body}"
        );
    }
});

store_test!(per_app_lifetimes_apply, |srv| async move {
    let account = srv.account().await;
    let app = srv
        .app(json!({"name": "Short", "owner_account": account, "access_token_ttl": 120}))
        .await;
    assert_eq!(srv.client_token(&app, None).await["expires_in"], 120);
});

store_test!(only_owned_confidential_apps_may_use_it, |srv| async move {
    let unowned = srv
        .app(json!({"name": "Unowned", "redirect_uris": ["https://a.example.com/cb"]}))
        .await;
    let err = oauth_client(&srv, &unowned)
        .exchange_client_credentials()
        .request_async(&http())
        .await;
    match err {
        Err(RequestTokenError::ServerResponse(e)) => {
            assert_eq!(*e.error(), BasicErrorResponseType::UnauthorizedClient);
            assert!(e.error_description().unwrap().contains("owned by an account"));
        }
        other => panic!("{other:?}"),
    }
    let public = srv
        .app(json!({"name": "SPA", "client_type": "public", "redirect_uris": ["https://a.example.com/cb"]}))
        .await;
    let (status, body) = srv
        .oauth_post("/oauth/token", &public, &[("grant_type", "client_credentials")])
        .await;
    assert_eq!(
        (status.as_u16(), body["error"].as_str()),
        (400, Some("unauthorized_client"))
    );
});

store_test!(bad_client_credentials_get_401, |srv| async move {
    let (_, app) = srv.owned_app().await;
    let res = srv
        .http
        .post(srv.at("/oauth/token"))
        .basic_auth(&app.client_id, Some("kgcs_wrong"))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
    assert!(res.headers()["www-authenticate"]
        .to_str()
        .unwrap()
        .starts_with("Basic"));
    assert_eq!(res.headers()["cache-control"], "no-store");
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["error"], "invalid_client");
    // An unknown client id reads exactly like a wrong secret.
    let res = srv
        .http
        .post(srv.at("/oauth/token"))
        .basic_auth("abcdefghijklmnopqrstuvwx", Some(app.secret()))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
    assert_eq!(res.json::<serde_json::Value>().await.unwrap(), body);
});
