//! Per-credential rate limits: 429 with Retry-After and RateLimit-* once a credential's bucket is empty.

use keygate_testkit::store_test;
use reqwest::Method;
use serde_json::{json, Value};

use crate::api_keys::{api_key, auth};

store_test!(
    a_credential_over_its_limit_gets_429,
    |c| {
        c.rate_limits.per_minute = 3;
        c.rate_limits.burst = 3;
    },
    |srv| async move {
        let (_, app) = srv.owned_app().await;
        let token = srv.client_token(&app, None).await["access_token"]
            .as_str()
            .unwrap()
            .to_owned();
        // The token request took one from the app's bucket: the app's calls all count, whichever endpoint.
        for _ in 0..2 {
            assert_eq!(srv.me(&token).await.0, 200);
        }
        let res = srv
            .http
            .get(srv.at("/v1/me"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 429);
        let h = res.headers().clone();
        let retry: u64 = h["retry-after"].to_str().unwrap().parse().unwrap();
        assert!((1..=60).contains(&retry), "{retry}");
        assert_eq!(h["ratelimit-limit"], "3");
        assert_eq!(h["ratelimit-remaining"], "0");
        assert_eq!(h["ratelimit-reset"], retry.to_string().as_str());
        assert_eq!(h["content-type"], "application/problem+json");
        let body: Value = res.json().await.unwrap();
        assert_eq!(body["error"], "rate_limited");

        // Buckets are per credential: another app's token is unaffected, and so is an API key's /auth.
        let (_, other) = srv.owned_app().await;
        let other_token = srv.client_token(&other, None).await["access_token"]
            .as_str()
            .unwrap()
            .to_owned();
        assert_eq!(srv.me(&other_token).await.0, 200);
        let account = srv.account().await;
        let (key, secret) = api_key(&srv, &account, None, None).await;
        for _ in 0..3 {
            assert_eq!(auth(&srv, &key, &secret).await.0, 200);
        }
        assert_eq!(
            auth(&srv, &key, &secret).await.0,
            429,
            "/auth counts against the key too"
        );
    }
);

store_test!(
    limits_can_be_turned_off,
    |c| c.rate_limits.per_minute = 0,
    |srv| async move {
        let (_, app) = srv.owned_app().await;
        let token = srv.client_token(&app, None).await["access_token"]
            .as_str()
            .unwrap()
            .to_owned();
        for _ in 0..20 {
            assert_eq!(srv.me(&token).await.0, 200);
        }
    }
);

store_test!(
    the_token_endpoint_answers_429_in_rfc6749_shape,
    |c| {
        c.rate_limits.per_minute = 2;
        c.rate_limits.burst = 2;
    },
    |srv| async move {
        let (_, app) = srv.owned_app().await;
        for _ in 0..2 {
            srv.client_token(&app, None).await;
        }
        let res = srv
            .http
            .post(srv.at("/oauth/token"))
            .basic_auth(&app.client_id, Some(app.secret()))
            .form(&[("grant_type", "client_credentials")])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 429);
        let h = res.headers().clone();
        assert!(h.contains_key("retry-after"));
        assert_eq!(h["ratelimit-limit"], "2");
        assert_eq!(h["content-type"], "application/json");
        let body: Value = res.json().await.unwrap();
        assert_eq!(body["error"], "temporarily_unavailable", "{body}");
        assert!(body["error_description"].as_str().unwrap().contains("limit of 2"));
    }
);

store_test!(an_account_can_have_its_own_limit, |srv| async move {
    let account = srv.account().await;
    let (key, secret) = api_key(&srv, &account, None, None).await;
    let token = auth(&srv, &key, &secret).await.1["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let path = format!("/admin/v1/accounts/{account}");
    let (status, v) = srv
        .admin(
            Method::PATCH,
            &path,
            Some(json!({"rate_limit": {"per_minute": 60, "burst": 2}})),
        )
        .await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["rate_limit"], json!({"per_minute": 60, "burst": 2}));
    for _ in 0..2 {
        assert_eq!(srv.me(&token).await.0, 200);
    }
    let res = srv
        .http
        .get(srv.at("/v1/me"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 429);
    assert_eq!(res.headers()["ratelimit-limit"], "60");

    // Other accounts keep the server's default.
    let other = srv.account().await;
    let (other_key, other_secret) = api_key(&srv, &other, None, None).await;
    let other_token = auth(&srv, &other_key, &other_secret).await.1["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    for _ in 0..5 {
        assert_eq!(srv.me(&other_token).await.0, 200);
    }

    // Back to the default: a fresh bucket at the server's limit.
    let (status, v) = srv
        .admin(Method::PATCH, &path, Some(json!({"rate_limit": null})))
        .await;
    assert_eq!((status.as_u16(), &v["rate_limit"]), (200, &Value::Null));
    assert_eq!(srv.me(&token).await.0, 200);

    // Nonsense is refused, naming the field.
    for bad in [
        json!({"per_minute": 0, "burst": 1}),
        json!({"per_minute": 10}),
        json!({"per_minute": 10, "burst": 1, "x": 1}),
    ] {
        let (status, v) = srv
            .admin(Method::PATCH, &path, Some(json!({"rate_limit": bad})))
            .await;
        assert!(matches!(status.as_u16(), 400 | 422), "{status} {v}");
    }
    let events = srv
        .admin(
            Method::GET,
            &format!("/admin/v1/audit?account={account}&action=account.rate_limit_changed"),
            None,
        )
        .await
        .1;
    assert_eq!(events["events"].as_array().unwrap().len(), 2, "{events}");
});
