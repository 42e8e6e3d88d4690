//! Domain keys: public keys for browsers, good only from their origins, with origin-bound tokens.

use keygate_testkit::{store_test, TestServer};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::api_keys::api_key;

const SHOP: &str = "https://shop.example.com";

/// Creates a domain key for `origins` on an API key of `account`; returns its id.
pub async fn domain_key(srv: &TestServer, account: &str, api_key_id: &str, origins: &[&str]) -> String {
    let body = json!({"name": "Shop widget", "api_key_id": api_key_id, "origins": origins});
    let (status, v) = srv
        .admin(
            Method::POST,
            &format!("/admin/v1/accounts/{account}/domain-keys"),
            Some(body),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{v}");
    v["id"].as_str().unwrap().to_owned()
}

/// `POST /auth` with a domain key, from `origin` (or no Origin header).
pub async fn auth_from(
    srv: &TestServer,
    key: &str,
    dk: &str,
    origin: Option<&str>,
) -> (StatusCode, Value, reqwest::header::HeaderMap) {
    let mut req = srv
        .http
        .post(srv.at("/auth"))
        .header("x-api-key", key)
        .json(&json!({"domain_key": dk}));
    if let Some(o) = origin {
        req = req.header("origin", o);
    }
    let res = req.send().await.unwrap();
    let headers = res.headers().clone();
    (res.status(), res.json().await.unwrap_or(Value::Null), headers)
}

pub async fn me_from(srv: &TestServer, token: &str, origin: Option<&str>) -> (StatusCode, Value) {
    let mut req = srv.http.get(srv.at("/v1/me")).bearer_auth(token);
    if let Some(o) = origin {
        req = req.header("origin", o);
    }
    let res = req.send().await.unwrap();
    (res.status(), res.json().await.unwrap_or(Value::Null))
}

/// An account with a service API key and a domain key for SHOP: (account, key id, domain key id).
async fn setup(srv: &TestServer) -> (String, String, String) {
    let account = srv.account().await;
    let (key, _) = api_key(srv, &account, None, None).await;
    let dk = domain_key(srv, &account, &key, &[SHOP]).await;
    (account, key, dk)
}

store_test!(
    a_domain_key_from_its_origin_gets_an_origin_bound_token,
    |srv| async move {
        let (account, key, dk) = setup(&srv).await;
        assert!(dk.starts_with("kgd_"));
        let (status, body, headers) = auth_from(&srv, &key, &dk, Some(SHOP)).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(headers["access-control-allow-origin"], SHOP);
        assert_eq!(body["expires_in"], 900, "shorter than a server token");
        assert_eq!(body["scope"], "contacts.read", "read-only by default");
        let token = body["access_token"].as_str().unwrap();
        let (status, me) = me_from(&srv, token, Some(SHOP)).await;
        assert_eq!(status, 200, "{me}");
        assert_eq!(me["credential"], "domain_key");
        assert_eq!(me["credential_id"], dk.as_str());
        assert_eq!(me["account"], account.as_str());
        let (status, body) = me_from(&srv, token, None).await;
        assert_eq!(status, 403, "the same token without an Origin: {body}");
        // From another origin that CORS does allow (a second key's), the token is still refused.
        let (key2, _) = api_key(&srv, &account, None, None).await;
        domain_key(&srv, &account, &key2, &["https://other.example.com"]).await;
        let (status, body) = me_from(&srv, token, Some("https://other.example.com")).await;
        assert_eq!(status, 403, "{body}");
        assert_eq!(body["type"], "urn:keygate:problem:origin-not-allowed");
    }
);

store_test!(
    wrong_or_missing_origins_are_refused_with_the_reason,
    |srv| async move {
        let (account, key, dk) = setup(&srv).await;
        let (status, body, _) = auth_from(&srv, &key, &dk, None).await;
        assert_eq!(status, 403);
        assert_eq!(body["error"], "origin_not_allowed");
        assert!(body["detail"].as_str().unwrap().contains("no Origin"), "{body}");
        // An origin CORS lets through (another key lists it) but this domain key does not.
        let (key2, _) = api_key(&srv, &account, None, None).await;
        domain_key(&srv, &account, &key2, &["https://blog.example.com"]).await;
        let (status, body, _) = auth_from(&srv, &key, &dk, Some("https://blog.example.com")).await;
        assert_eq!(status, 403);
        assert!(
            body["detail"]
                .as_str()
                .unwrap()
                .contains("https://blog.example.com"),
            "{body}"
        );
        // An origin nobody lists never reaches /auth.
        let (status, body, _) = auth_from(&srv, &key, &dk, Some("https://evil.example.net")).await;
        assert_eq!(status, 403);
        assert_eq!(
            body,
            json!({"error": "cors_origin_denied", "message": "CORS origin denied"})
        );
    }
);

store_test!(wildcards_match_subdomains_only, |srv| async move {
    let account = srv.account().await;
    let (key, _) = api_key(&srv, &account, None, None).await;
    let dk = domain_key(&srv, &account, &key, &["https://*.example.com"]).await;
    assert_eq!(
        auth_from(&srv, &key, &dk, Some("https://a.example.com")).await.0,
        200
    );
    assert_eq!(
        auth_from(&srv, &key, &dk, Some("https://b.c.example.com"))
            .await
            .0,
        200
    );
    assert_eq!(
        auth_from(&srv, &key, &dk, Some("https://example.com")).await.0,
        403
    );
    assert_eq!(
        auth_from(&srv, &key, &dk, Some("http://a.example.com")).await.0,
        403,
        "scheme must match"
    );
    assert_eq!(
        auth_from(&srv, &key, &dk, Some("https://a.example.com:8443"))
            .await
            .0,
        403,
        "port must match"
    );
});

store_test!(a_domain_key_never_comes_with_a_secret, |srv| async move {
    let account = srv.account().await;
    let (key, secret) = api_key(&srv, &account, None, None).await;
    let dk = domain_key(&srv, &account, &key, &[SHOP]).await;
    let res = srv
        .http
        .post(srv.at("/auth"))
        .header("x-api-key", &key)
        .header("origin", SHOP)
        .json(&json!({"domain_key": dk, "secret": secret}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400);
    // Through another API key than its own, a domain key is worthless.
    let (other, _) = api_key(&srv, &account, None, None).await;
    let (status, body, _) = auth_from(&srv, &other, &dk, Some(SHOP)).await;
    assert_eq!(
        (status.as_u16(), body["error"].as_str()),
        (401, Some("invalid_credentials"))
    );
});

store_test!(refresh_works_from_the_same_origin_only, |srv| async move {
    let (_, key, dk) = setup(&srv).await;
    let (_, body, _) = auth_from(&srv, &key, &dk, Some(SHOP)).await;
    let token = body["access_token"].as_str().unwrap();
    let refresh = |origin: Option<&'static str>| {
        let mut req = srv
            .http
            .post(srv.at("/auth/refresh"))
            .header("x-api-key", &key)
            .bearer_auth(token);
        if let Some(o) = origin {
            req = req.header("origin", o);
        }
        req.send()
    };
    let res = refresh(Some(SHOP)).await.unwrap();
    assert_eq!(res.status(), 200);
    let fresh: Value = res.json().await.unwrap();
    assert_eq!(
        me_from(&srv, fresh["access_token"].as_str().unwrap(), Some(SHOP))
            .await
            .0,
        200
    );
    assert_eq!(refresh(None).await.unwrap().status(), 401, "bound to its origin");
});

store_test!(revocation_takes_effect_at_once, |srv| async move {
    let (account, key, dk) = setup(&srv).await;
    // A second domain key for the same origin keeps CORS open, so the token check itself is exercised.
    let (key2, _) = api_key(&srv, &account, None, None).await;
    let dk2 = domain_key(&srv, &account, &key2, &[SHOP]).await;
    let token = auth_from(&srv, &key, &dk, Some(SHOP)).await.1["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let (status, revoked) = srv
        .admin(Method::DELETE, &format!("/admin/v1/domain-keys/{dk}"), None)
        .await;
    assert_eq!(
        (status.as_u16(), revoked["status"].as_str()),
        (200, Some("revoked"))
    );
    assert_eq!(me_from(&srv, &token, Some(SHOP)).await.0, 401);
    assert_eq!(auth_from(&srv, &key, &dk, Some(SHOP)).await.0, 401);
    // Revoking the API key ends its domain keys' tokens too.
    let token2 = auth_from(&srv, &key2, &dk2, Some(SHOP)).await.1["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    srv.admin(Method::DELETE, &format!("/admin/v1/api-keys/{key2}"), None)
        .await;
    let (status, body) = me_from(&srv, &token2, Some(SHOP)).await;
    assert_eq!(status, 403, "the origin is no longer allowed at all: {body}");
    assert_eq!(body["error"], "cors_origin_denied");
});

store_test!(a_suspended_account_opens_no_session, |srv| async move {
    let (account, key, dk) = setup(&srv).await;
    let suspend = |status: &'static str| {
        let path = format!("/admin/v1/accounts/{account}");
        let srv = &srv;
        async move {
            srv.admin(Method::PATCH, &path, Some(json!({"status": status})))
                .await
                .0
        }
    };
    assert_eq!(suspend("suspended").await, 200);
    let (status, body, _) = auth_from(&srv, &key, &dk, Some(SHOP)).await;
    assert_eq!(
        (status.as_u16(), body["error"].as_str()),
        (403, Some("suspended")),
        "refused by /auth itself, not by CORS: {body}"
    );
    assert_eq!(suspend("active").await, 200);
    let (status, body, _) = auth_from(&srv, &key, &dk, Some(SHOP)).await;
    assert_eq!(status, 200, "{body}");
});

store_test!(domain_key_rules, |srv| async move {
    let account = srv.account().await;
    let (key, _) = api_key(&srv, &account, None, Some("contacts.read hooks")).await;
    let path = format!("/admin/v1/accounts/{account}/domain-keys");
    let create = |body: Value| srv.admin(Method::POST, &path, Some(body));
    for (body, field) in [
        (
            json!({"name": "x", "api_key_id": key, "origins": [SHOP], "scopes": "contacts.write"}),
            "scopes",
        ),
        (
            json!({"name": "x", "api_key_id": key, "origins": [SHOP], "scopes": "impersonate"}),
            "scopes",
        ),
        (
            json!({"name": "x", "api_key_id": key, "origins": ["https://shop.example.com/path"]}),
            "origins",
        ),
        (json!({"name": "x", "api_key_id": key, "origins": []}), "origins"),
        (
            json!({"name": "x", "api_key_id": "nope", "origins": [SHOP]}),
            "api_key_id",
        ),
    ] {
        let (status, v) = create(body.clone()).await;
        assert_eq!(
            (status.as_u16(), v["field"].as_str()),
            (422, Some(field)),
            "{body}: {v}"
        );
    }
    let other = srv.account().await;
    let (foreign, _) = api_key(&srv, &other, None, None).await;
    let (status, _) = create(json!({"name": "x", "api_key_id": foreign, "origins": [SHOP]})).await;
    assert_eq!(status, 404, "never bound to another account's API key");
    let (status, v) =
        create(json!({"name": "x", "api_key_id": key, "origins": [SHOP], "scopes": "hooks"})).await;
    assert_eq!(status, 201);
    assert_eq!(v["scopes"], "hooks");
    let (_, listed) = srv.admin(Method::GET, &path, None).await;
    assert_eq!(
        listed["domain_keys"][0]["id"], v["id"],
        "domain keys are public and listed in full"
    );
});
