//! Impersonation through token exchange (RFC 8693).

use keygate_testkit::{store_test, TestServer};
use reqwest::{Method, StatusCode};
use serde_json::Value;

use crate::api_keys::{api_key, auth};
use crate::jwt::verify_with_jwks;

const EXCHANGE: &str = "urn:ietf:params:oauth:grant-type:token-exchange";

async fn exchange(
    srv: &TestServer,
    subject_token: &str,
    requested: &str,
    scope: Option<&str>,
) -> (StatusCode, Value) {
    let mut form = vec![
        ("grant_type", EXCHANGE),
        ("subject_token", subject_token),
        (
            "subject_token_type",
            "urn:ietf:params:oauth:token-type:access_token",
        ),
        ("requested_subject", requested),
    ];
    if let Some(s) = scope {
        form.push(("scope", s));
    }
    let res = srv
        .http
        .post(srv.at("/oauth/token"))
        .form(&form)
        .send()
        .await
        .unwrap();
    (res.status(), res.json().await.unwrap_or(Value::Null))
}

/// A token of an account admin's API key that may impersonate.
async fn admin_token(srv: &TestServer, account: &str) -> (String, String) {
    let admin = srv.user(account, "admin").await;
    let (key, secret) = api_key(
        srv,
        account,
        Some(&admin.id),
        Some("contacts.read contacts.write impersonate"),
    )
    .await;
    (
        auth(srv, &key, &secret).await.1["access_token"]
            .as_str()
            .unwrap()
            .to_owned(),
        admin.id,
    )
}

store_test!(an_admin_acts_as_a_user_of_the_same_account, |srv| async move {
    let account = srv.account().await;
    let (caller, admin_id) = admin_token(&srv, &account).await;
    let target = srv.user(&account, "member").await;
    let (status, body) = exchange(&srv, &caller, &target.id, None).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body["issued_token_type"],
        "urn:ietf:params:oauth:token-type:access_token"
    );
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(
        body["scope"], "contacts.read contacts.write",
        "no wider than the caller, and no impersonate"
    );
    let token = body["access_token"].as_str().unwrap();
    let claims = verify_with_jwks(&srv, token).await;
    assert_eq!(claims.subject.as_deref(), Some(target.id.as_str()));
    let caller_claims = verify_with_jwks(&srv, &caller).await;
    assert!(
        claims.expires_at.unwrap() <= caller_claims.expires_at.unwrap(),
        "never outlives the caller's token"
    );
    let (status, me) = srv.me(token).await;
    assert_eq!(status, 200);
    assert_eq!(me["user_id"], target.id.as_str());
    assert_eq!(me["impersonated_by"]["sub"], admin_id.as_str());
    // By email too, and narrowed.
    let (status, body) = exchange(&srv, &caller, &target.email, Some("contacts.read")).await;
    assert_eq!(
        (status.as_u16(), body["scope"].as_str()),
        (200, Some("contacts.read"))
    );
    // Written to the audit log.
    let (_, audit) = srv
        .admin(
            Method::GET,
            &format!("/admin/v1/audit?account={account}&action=impersonation.started"),
            None,
        )
        .await;
    let event = &audit["events"][0];
    assert_eq!(event["target"], target.id.as_str());
    assert!(event["actor"].as_str().unwrap().contains(&admin_id), "{event}");
});

store_test!(impersonation_is_refused_without_the_right, |srv| async move {
    let account = srv.account().await;
    let target = srv.user(&account, "member").await;
    // A key without the scope.
    let (key, secret) = api_key(&srv, &account, None, None).await;
    let plain = auth(&srv, &key, &secret).await.1["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let (status, body) = exchange(&srv, &plain, &target.id, None).await;
    assert_eq!(
        (status.as_u16(), body["error"].as_str()),
        (400, Some("invalid_grant")),
        "{body}"
    );
    // Across accounts: refused like a missing user.
    let (caller, _) = admin_token(&srv, &account).await;
    let other = srv.account().await;
    let stranger = srv.user(&other, "member").await;
    let (status, body) = exchange(&srv, &caller, &stranger.id, None).await;
    assert_eq!(
        (status.as_u16(), body["error"].as_str()),
        (400, Some("invalid_request")),
        "{body}"
    );
    let (status, _) = exchange(&srv, &caller, &stranger.email, None).await;
    assert_eq!(status, 400);
    // An impersonation token cannot impersonate again, and garbage is no subject token.
    let token = exchange(&srv, &caller, &target.id, None).await.1["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(exchange(&srv, &token, &target.id, None).await.0, 400);
    assert_eq!(exchange(&srv, "garbage", &target.id, None).await.0, 400);
    let (status, body) = exchange(&srv, &caller, &target.id, Some("hooks")).await;
    assert_eq!(
        (status.as_u16(), body["error"].as_str()),
        (400, Some("invalid_scope")),
        "no wider than the caller"
    );
});

store_test!(
    revoking_the_callers_key_ends_the_impersonation,
    |srv| async move {
        let account = srv.account().await;
        let admin = srv.user(&account, "admin").await;
        let (key, secret) = api_key(&srv, &account, Some(&admin.id), Some("contacts.read impersonate")).await;
        let caller = auth(&srv, &key, &secret).await.1["access_token"]
            .as_str()
            .unwrap()
            .to_owned();
        let target = srv.user(&account, "member").await;
        let token = exchange(&srv, &caller, &target.id, None).await.1["access_token"]
            .as_str()
            .unwrap()
            .to_owned();
        assert_eq!(srv.me(&token).await.0, 200);
        srv.admin(Method::DELETE, &format!("/admin/v1/api-keys/{key}"), None)
            .await;
        assert_eq!(srv.me(&token).await.0, 401);
    }
);

store_test!(
    a_client_that_authenticates_must_own_the_subject_token,
    |srv| async move {
        let account = srv.account().await;
        let (caller, _) = admin_token(&srv, &account).await;
        let target = srv.user(&account, "member").await;
        let (_, app) = srv.owned_app().await;
        let (status, body) = srv
            .oauth_post(
                "/oauth/token",
                &app,
                &[
                    ("grant_type", EXCHANGE),
                    ("subject_token", &caller),
                    ("requested_subject", &target.id),
                ],
            )
            .await;
        assert_eq!(
            (status.as_u16(), body["error"].as_str()),
            (400, Some("invalid_grant")),
            "{body}"
        );
    }
);
