//! API keys with a secret: `POST /auth`, `POST /auth/refresh`, and their management.

use keygate_testkit::{store_test, TestServer};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::jwt::verify_with_jwks;

/// Creates a key on `account` (a service key unless `user_id`); returns (key id, secret).
pub async fn api_key(
    srv: &TestServer,
    account: &str,
    user_id: Option<&str>,
    scopes: Option<&str>,
) -> (String, String) {
    let mut body = json!({"name": "Nightly sync"});
    if let Some(u) = user_id {
        body["user_id"] = json!(u);
    }
    if let Some(s) = scopes {
        body["scopes"] = json!(s);
    }
    let (status, v) = srv
        .admin(
            Method::POST,
            &format!("/admin/v1/accounts/{account}/api-keys"),
            Some(body),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{v}");
    (
        v["id"].as_str().unwrap().to_owned(),
        v["secret"].as_str().unwrap().to_owned(),
    )
}

/// `POST /auth` with a JSON body; returns status and body.
pub async fn auth(srv: &TestServer, key: &str, secret: &str) -> (StatusCode, Value) {
    let res = srv
        .http
        .post(srv.at("/auth"))
        .header("x-api-key", key)
        .json(&json!({"secret": secret}))
        .send()
        .await
        .unwrap();
    (res.status(), res.json().await.unwrap_or(Value::Null))
}

async fn refresh(srv: &TestServer, key: &str, token: &str) -> (StatusCode, Value) {
    let res = srv
        .http
        .post(srv.at("/auth/refresh"))
        .header("x-api-key", key)
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    (res.status(), res.json().await.unwrap_or(Value::Null))
}

fn token(body: &Value) -> String {
    body["access_token"]
        .as_str()
        .unwrap_or_else(|| panic!("no token in {body}"))
        .to_owned()
}

store_test!(
    a_service_key_gets_a_token_acting_for_its_account,
    |srv| async move {
        let account = srv.account().await;
        let (key, secret) = api_key(&srv, &account, None, Some("contacts.read hooks")).await;
        assert!(key.starts_with("kgk_") && secret.starts_with("kgsk_") && secret.len() >= 5 + 32);
        let (status, body) = auth(&srv, &key, &secret).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["token_type"], "Bearer");
        assert_eq!(body["expires_in"], 3600);
        assert_eq!(body["scope"], "contacts.read hooks");
        let expires_at = body["expires_at"].as_i64().unwrap();
        assert!((expires_at - keygate_core::time::now() - 3600).abs() <= 2);
        let claims = verify_with_jwks(&srv, &token(&body)).await;
        assert_eq!(claims.custom.client_id, key);
        let (status, me) = srv.me(&token(&body)).await;
        assert_eq!(status, 200);
        assert_eq!(me["credential"], "api_key");
        assert_eq!(me["credential_id"], key.as_str());
        assert_eq!(me["acting_as"], "account");
        assert_eq!(me["account"], account.as_str());
        assert_eq!(me["scope"], "contacts.read hooks");
    }
);

store_test!(
    a_user_key_acts_as_its_user_and_form_bodies_work,
    |srv| async move {
        let account = srv.account().await;
        let user = srv.user(&account, "member").await;
        let (key, secret) = api_key(&srv, &account, Some(&user.id), None).await;
        let res = srv
            .http
            .post(srv.at("/auth"))
            .header("X-Api-Key", &key)
            .form(&[("secret", &secret)])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
        assert_eq!(res.headers()["cache-control"], "no-store");
        let body: Value = res.json().await.unwrap();
        let (_, me) = srv.me(&token(&body)).await;
        assert_eq!(me["acting_as"], "user");
        assert_eq!(me["user_id"], user.id.as_str());
        assert_eq!(
            me["scope"], "contacts.read contacts.write hooks",
            "default: what a member could grant"
        );
    }
);

store_test!(bad_credentials_all_read_the_same, |srv| async move {
    let account = srv.account().await;
    let (key, secret) = api_key(&srv, &account, None, None).await;
    let (revoked, revoked_secret) = api_key(&srv, &account, None, None).await;
    srv.admin(Method::DELETE, &format!("/admin/v1/api-keys/{revoked}"), None)
        .await;
    let mut bodies = Vec::new();
    for (k, s) in [
        (key.as_str(), "kgsk_wrong"),
        ("kgk_aaaaaaaaaaaaaaaaaaaa", secret.as_str()),
        ("garbage", "x"),
        (revoked.as_str(), revoked_secret.as_str()),
    ] {
        let (status, body) = auth(&srv, k, s).await;
        assert_eq!(status, 401, "{k}: {body}");
        assert_eq!(body["error"], "invalid_credentials");
        bodies.push(body);
    }
    assert!(
        bodies.windows(2).all(|w| w[0] == w[1]),
        "no hint which part was wrong: {bodies:?}"
    );
    assert!(!bodies[0].to_string().contains(&secret));
});

store_test!(malformed_auth_requests_get_clear_errors, |srv| async move {
    let account = srv.account().await;
    let (key, secret) = api_key(&srv, &account, None, None).await;
    let res = srv
        .http
        .post(srv.at("/auth"))
        .json(&json!({"secret": secret}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401, "no X-Api-Key");
    assert_eq!(res.headers()["content-type"], "application/problem+json");
    let res = srv
        .http
        .post(srv.at("/auth"))
        .header("x-api-key", &key)
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400, "no secret");
    assert_eq!(res.json::<Value>().await.unwrap()["field"], "secret");
    let res = srv
        .http
        .post(srv.at("/auth"))
        .header("x-api-key", &key)
        .body("secret")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 415);
    let res = srv
        .http
        .post(srv.at("/auth"))
        .header("x-api-key", &key)
        .json(&json!({"secret": secret, "extra": 1}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400, "unknown fields are refused");
    let res = srv
        .http
        .post(srv.at("/auth"))
        .header("x-api-key", &key)
        .header("content-type", "application/json")
        .body("{")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400);
});

store_test!(
    refresh_gives_a_fresh_token_in_the_same_session,
    |srv| async move {
        let account = srv.account().await;
        let (key, secret) = api_key(&srv, &account, None, None).await;
        let (_, first) = auth(&srv, &key, &secret).await;
        let (status, second) = refresh(&srv, &key, &token(&first)).await;
        assert_eq!(status, 200, "{second}");
        assert_ne!(token(&second), token(&first));
        let a = verify_with_jwks(&srv, &token(&first)).await;
        let b = verify_with_jwks(&srv, &token(&second)).await;
        assert_eq!(a.custom.sid, b.custom.sid, "one session");
        assert_eq!(srv.me(&token(&second)).await.0, 200);
        // Only the key the token was issued through may refresh it, and only its own tokens.
        let (other, _) = api_key(&srv, &account, None, None).await;
        let (status, body) = refresh(&srv, &other, &token(&first)).await;
        assert_eq!(
            (status.as_u16(), body["error"].as_str()),
            (401, Some("invalid_token"))
        );
        let (_, app) = srv.owned_app().await;
        let app_token = srv.client_token(&app, None).await["access_token"]
            .as_str()
            .unwrap()
            .to_owned();
        let (status, body) = refresh(&srv, &key, &app_token).await;
        assert_eq!(
            (status.as_u16(), body["error"].as_str()),
            (401, Some("invalid_token"))
        );
        let res = srv
            .http
            .post(srv.at("/auth/refresh"))
            .header("x-api-key", &key)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 401, "no bearer token");
    }
);

store_test!(
    refresh_after_expiry_is_token_expired,
    |c| {
        c.api_keys.token_ttl = 1;
        c.tokens.leeway = 0;
    },
    |srv| async move {
        let account = srv.account().await;
        let (key, secret) = api_key(&srv, &account, None, None).await;
        let (_, body) = auth(&srv, &key, &secret).await;
        assert_eq!(body["expires_in"], 1);
        tokio::time::sleep(std::time::Duration::from_millis(2100)).await;
        let (status, err) = refresh(&srv, &key, &token(&body)).await;
        assert_eq!(status, 401);
        assert_eq!(err["error"], "token_expired");
        assert!(err["detail"].as_str().unwrap().contains("POST /auth"));
        assert_eq!(auth(&srv, &key, &secret).await.0, 200, "signing in again works");
    }
);

store_test!(
    sessions_end_at_their_maximum_length,
    |c| {
        c.api_keys.token_ttl = 2;
        c.api_keys.max_session = 3;
    },
    |srv| async move {
        let account = srv.account().await;
        let (key, secret) = api_key(&srv, &account, None, None).await;
        let (_, first) = auth(&srv, &key, &secret).await;
        let session_end = keygate_core::time::now() + 3;
        tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
        let (status, second) = refresh(&srv, &key, &token(&first)).await;
        assert_eq!(status, 200);
        assert!(
            second["expires_at"].as_i64().unwrap() <= session_end,
            "never beyond the session: {second}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(2100)).await;
        // The token is within the default leeway, but its session is over.
        let (status, err) = refresh(&srv, &key, &token(&second)).await;
        assert_eq!(status, 401);
        assert_eq!(err["error"], "session_expired", "{err}");
        assert_eq!(srv.me(&token(&second)).await.0, 401);
    }
);

store_test!(revoking_a_key_kills_its_tokens_at_once, |srv| async move {
    let account = srv.account().await;
    let (key, secret) = api_key(&srv, &account, None, None).await;
    let (_, body) = auth(&srv, &key, &secret).await;
    let t = token(&body);
    assert_eq!(srv.me(&t).await.0, 200);
    let (status, revoked) = srv
        .admin(Method::DELETE, &format!("/admin/v1/api-keys/{key}"), None)
        .await;
    assert_eq!(status, 200);
    assert_eq!(revoked["status"], "revoked");
    assert_eq!(srv.me(&t).await.0, 401);
    assert_eq!(refresh(&srv, &key, &t).await.0, 401);
    assert_eq!(auth(&srv, &key, &secret).await.0, 401);
    let (status, _) = srv
        .admin(Method::POST, &format!("/admin/v1/api-keys/{key}/rotate"), None)
        .await;
    assert_eq!(status, 409, "a revoked key cannot be rotated back to life");
});

store_test!(
    rotation_keeps_the_old_secret_for_the_grace_period,
    |srv| async move {
        let account = srv.account().await;
        let (key, old) = api_key(&srv, &account, None, None).await;
        let (status, rotated) = srv
            .admin(Method::POST, &format!("/admin/v1/api-keys/{key}/rotate"), None)
            .await;
        assert_eq!(status, 200);
        let new = rotated["secret"].as_str().unwrap().to_owned();
        assert_eq!(rotated["secret_last4"], new[new.len() - 4..]);
        assert_eq!(auth(&srv, &key, &new).await.0, 200);
        assert_eq!(
            auth(&srv, &key, &old).await.0,
            200,
            "old secret during the grace period"
        );
        let (_, again) = srv
            .admin(
                Method::POST,
                &format!("/admin/v1/api-keys/{key}/rotate"),
                Some(json!({"grace_seconds": 0})),
            )
            .await;
        let newest = again["secret"].as_str().unwrap();
        assert_eq!(auth(&srv, &key, newest).await.0, 200);
        assert_eq!(
            auth(&srv, &key, &new).await.0,
            401,
            "no grace: the previous secret stops at once"
        );
        let (_, listed) = srv
            .admin(
                Method::GET,
                &format!("/admin/v1/accounts/{account}/api-keys"),
                None,
            )
            .await;
        let text = listed.to_string();
        assert!(
            !text.contains(newest) && !text.contains(&new) && !text.contains(&old),
            "listings never show secrets"
        );
    }
);

store_test!(suspension_stops_key_tokens, |srv| async move {
    let account = srv.account().await;
    let user = srv.user(&account, "member").await;
    let (key, secret) = api_key(&srv, &account, Some(&user.id), None).await;
    let t = token(&auth(&srv, &key, &secret).await.1);
    srv.admin(
        Method::PATCH,
        &format!("/admin/v1/users/{}", user.id),
        Some(json!({"status": "suspended"})),
    )
    .await;
    assert_eq!(srv.me(&t).await.0, 401);
    let (status, body) = auth(&srv, &key, &secret).await;
    assert_eq!(
        (status.as_u16(), body["error"].as_str()),
        (403, Some("suspended"))
    );
    srv.admin(
        Method::PATCH,
        &format!("/admin/v1/users/{}", user.id),
        Some(json!({"status": "active"})),
    )
    .await;
    srv.admin(
        Method::PATCH,
        &format!("/admin/v1/accounts/{account}"),
        Some(json!({"status": "suspended"})),
    )
    .await;
    assert_eq!(srv.me(&t).await.0, 401);
    assert_eq!(auth(&srv, &key, &secret).await.0, 403);
});

store_test!(key_creation_rules, |srv| async move {
    let account = srv.account().await;
    let member = srv.user(&account, "member").await;
    let admin = srv.user(&account, "admin").await;
    let path = format!("/admin/v1/accounts/{account}/api-keys");
    let (status, body) = srv
        .admin(
            Method::POST,
            &path,
            Some(json!({"name": "k", "user_id": member.id, "scopes": "impersonate"})),
        )
        .await;
    assert_eq!(
        (status.as_u16(), body["field"].as_str()),
        (422, Some("scopes")),
        "{body}"
    );
    let (status, _) = srv
        .admin(
            Method::POST,
            &path,
            Some(json!({"name": "k", "user_id": admin.id, "scopes": "impersonate contacts.read"})),
        )
        .await;
    assert_eq!(status, 201, "an admin's key may hold impersonate");
    let other = srv.account().await;
    let stranger = srv.user(&other, "admin").await;
    let (status, _) = srv
        .admin(
            Method::POST,
            &path,
            Some(json!({"name": "k", "user_id": stranger.id})),
        )
        .await;
    assert_eq!(status, 404, "a key never acts as another account's user");
    let (status, body) = srv
        .admin(Method::POST, &path, Some(json!({"name": "k", "scopes": "root"})))
        .await;
    assert_eq!((status.as_u16(), body["field"].as_str()), (422, Some("scopes")));
    let (status, _) = srv
        .admin(
            Method::POST,
            "/admin/v1/accounts/zz999/api-keys",
            Some(json!({"name": "k"})),
        )
        .await;
    assert_eq!(status, 404);
    let (status, _) = srv
        .admin(Method::GET, "/admin/v1/api-keys/kgk_doesnotexist00000000", None)
        .await;
    assert_eq!(status, 404);
    let (status, _) = srv.admin(Method::GET, "/admin/v1/api-keys/not-a-key", None).await;
    assert_eq!(status, 422);
});
