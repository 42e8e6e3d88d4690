//! CORS: denied to every origin that is not allow-listed, with a clear JSON 403.

use keygate_testkit::{store_test, TestServer};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::api_keys::{api_key, auth};
use crate::domain_keys::me_from;

fn denied_body() -> Value {
    json!({"error": "cors_origin_denied", "message": "CORS origin denied"})
}

async fn preflight(srv: &TestServer, origin: &str) -> reqwest::Response {
    srv.http
        .request(Method::OPTIONS, srv.at("/v1/me"))
        .header("origin", origin)
        .header("access-control-request-method", "GET")
        .header("access-control-request-headers", "authorization")
        .send()
        .await
        .unwrap()
}

/// An account and an app allowed from `origin`, with a client_credentials token.
async fn app_for(srv: &TestServer, origin: &str) -> (keygate_testkit::TestApp, String) {
    let account = srv.account().await;
    let app = srv
        .app(json!({"name": "Web app", "owner_account": account, "allowed_origins": [origin]}))
        .await;
    let token = srv.client_token(&app, None).await["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    (app, token)
}

store_test!(
    unknown_origins_are_denied_with_a_clear_message,
    |srv| async move {
        let res = preflight(&srv, "https://evil.example.net").await;
        assert_eq!(res.status(), 403);
        assert!(res.headers().get("access-control-allow-origin").is_none());
        assert_eq!(res.json::<Value>().await.unwrap(), denied_body());
        let res = srv
            .http
            .post(srv.at("/oauth/token"))
            .header("origin", "https://evil.example.net")
            .send()
            .await
            .unwrap();
        assert_eq!(
            res.status(),
            403,
            "actual cross-origin requests too, before any handler"
        );
        assert_eq!(res.json::<Value>().await.unwrap(), denied_body());
        let res = srv
            .http
            .get(srv.at("/healthz"))
            .header("origin", "null")
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 403, "opaque origins are never allowed");
    }
);

store_test!(allowed_origins_get_exactly_what_they_need, |srv| async move {
    let origin = "https://app.example.org";
    let (_, token) = app_for(&srv, origin).await;
    let res = preflight(&srv, origin).await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let h = res.headers();
    assert_eq!(h["access-control-allow-origin"], origin, "echoed, never *");
    assert_eq!(h["vary"], "Origin");
    let methods = h["access-control-allow-methods"].to_str().unwrap();
    assert!(methods.contains("GET") && methods.contains("POST") && !methods.contains('*'));
    assert!(h["access-control-allow-headers"]
        .to_str()
        .unwrap()
        .contains("Authorization"));
    let res = srv
        .http
        .get(srv.at("/v1/me"))
        .bearer_auth(&token)
        .header("origin", origin)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["access-control-allow-origin"], origin);
    assert_eq!(res.headers()["vary"], "Origin");
});

store_test!(keygates_own_origin_is_always_allowed, |srv| async move {
    let own = srv.url.clone();
    let res = preflight(&srv, &own).await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let (_, app) = srv.owned_app().await;
    let token = srv.client_token(&app, None).await["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(me_from(&srv, &token, Some(&own)).await.0, 200);
});

store_test!(
    requests_without_an_origin_are_not_cors_requests,
    |srv| async move {
        let res = srv.http.get(srv.at("/healthz")).send().await.unwrap();
        assert_eq!(res.status(), 200);
        assert!(res.headers().get("access-control-allow-origin").is_none());
    }
);

store_test!(
    an_apps_token_only_works_from_that_apps_origins,
    |srv| async move {
        let (_, token_a) = app_for(&srv, "https://a.example.org").await;
        let (_, token_b) = app_for(&srv, "https://b.example.org").await;
        assert_eq!(
            me_from(&srv, &token_a, Some("https://a.example.org")).await.0,
            200
        );
        let (status, body) = me_from(&srv, &token_a, Some("https://b.example.org")).await;
        assert_eq!(status, 403, "a's token from b's origin: {body}");
        assert_eq!(body["type"], "urn:keygate:problem:origin-not-allowed");
        assert_eq!(
            me_from(&srv, &token_b, Some("https://b.example.org")).await.0,
            200
        );
        // API-key (secret) tokens belong on servers: refused from any browser origin.
        let account = srv.account().await;
        let (key, secret) = api_key(&srv, &account, None, None).await;
        let token = auth(&srv, &key, &secret).await.1["access_token"]
            .as_str()
            .unwrap()
            .to_owned();
        assert_eq!(me_from(&srv, &token, Some("https://a.example.org")).await.0, 403);
        assert_eq!(me_from(&srv, &token, None).await.0, 200);
    }
);

store_test!(suspending_an_app_closes_its_origins_at_once, |srv| async move {
    let origin = "https://c.example.org";
    let (app, _) = app_for(&srv, origin).await;
    assert_eq!(preflight(&srv, origin).await.status(), StatusCode::NO_CONTENT);
    srv.admin(
        Method::PATCH,
        &format!("/admin/v1/apps/{}", app.client_id),
        Some(json!({"status": "suspended"})),
    )
    .await;
    assert_eq!(preflight(&srv, origin).await.status(), 403);
});
