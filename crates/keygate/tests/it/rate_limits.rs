//! Per-credential rate limits: 429 with Retry-After and RateLimit-* once a credential's bucket is empty.

use keygate_testkit::store_test;
use serde_json::Value;

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
        for _ in 0..3 {
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
