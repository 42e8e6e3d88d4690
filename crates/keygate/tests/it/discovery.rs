//! Server metadata, JWKS, health and metrics.

use keygate_testkit::{store_test, TestServer};
use serde_json::Value;

store_test!(metadata_lists_everything_supported, |srv| async move {
    let meta: Value = srv.get_json("/.well-known/oauth-authorization-server").await;
    let iss = srv.config.tokens.issuer.as_str();
    assert_eq!(meta["issuer"], iss);
    for (field, path) in [
        ("authorization_endpoint", "/oauth/authorize"),
        ("token_endpoint", "/oauth/token"),
        ("revocation_endpoint", "/oauth/revoke"),
        ("introspection_endpoint", "/oauth/introspect"),
        ("jwks_uri", "/.well-known/jwks.json"),
    ] {
        assert_eq!(meta[field], format!("{iss}{path}"), "{field}");
    }
    let list = |f: &str| {
        meta[f]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap().to_owned())
            .collect::<Vec<_>>()
    };
    assert_eq!(
        list("grant_types_supported"),
        [
            "authorization_code",
            "refresh_token",
            "client_credentials",
            "urn:ietf:params:oauth:grant-type:jwt-bearer",
            "urn:ietf:params:oauth:grant-type:token-exchange"
        ]
    );
    assert_eq!(list("code_challenge_methods_supported"), ["S256"]);
    assert!(list("token_endpoint_auth_methods_supported").contains(&"client_secret_basic".to_owned()));
    assert!(list("token_endpoint_auth_methods_supported").contains(&"client_secret_post".to_owned()));
    for scope in ["contacts.read", "contacts.write", "hooks", "impersonate", "full"] {
        assert!(list("scopes_supported").contains(&scope.to_owned()), "{scope}");
    }
    assert_eq!(
        list("access_token_signing_alg_values_supported"),
        ["ES256", "EdDSA", "RS256"]
    );
    assert_eq!(meta["authorization_response_iss_parameter_supported"], true);
    let oidc: Value = srv.get_json("/.well-known/openid-configuration").await;
    assert_eq!(oidc, meta);
});

store_test!(jwks_publishes_current_and_next_keys, |srv| async move {
    let res = srv
        .http
        .get(srv.at("/.well-known/jwks.json"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.headers()["content-type"], "application/jwk-set+json");
    let jwks: Value = res.json().await.unwrap();
    let keys = jwks["keys"].as_array().unwrap();
    assert_eq!(keys.len(), 2, "current and next");
    for k in keys {
        assert_eq!(k["kty"], "EC");
        assert_eq!(k["alg"], "ES256");
        assert!(k.get("d").is_none(), "never a private component");
    }
});

/// The `/metrics` text.
async fn scrape(srv: &TestServer) -> String {
    let res = srv.http.get(srv.at("/metrics")).send().await.unwrap();
    assert_eq!(res.status(), 200);
    res.text().await.unwrap()
}

store_test!(health_readiness_and_metrics, |srv| async move {
    let health: Value = srv.get_json("/healthz").await;
    assert_eq!(health["status"], "ok");
    let ready: Value = srv.get_json("/readyz").await;
    assert_eq!(ready["status"], "ready");
    let (_, app) = srv.owned_app().await;
    srv.client_token(&app, None).await;
    let metrics = scrape(&srv).await;
    assert!(
        metrics.contains("keygate_tokens_issued_total{grant_type=\"client_credentials\"} 1"),
        "{metrics}"
    );
    assert!(metrics.contains("route=\"/oauth/token\""));
    assert!(!metrics.contains(app.secret()));
});

store_test!(
    metrics_count_requests_by_route_method_and_status,
    |srv| async move {
        for _ in 0..3 {
            srv.get_json("/healthz").await;
        }
        let refused = srv.http.get(srv.at("/v1/me")).send().await.unwrap();
        assert_eq!(refused.status(), 401);
        let contact_id = "c_not-a-real-id-in-a-url";
        srv.http
            .get(srv.at(&format!("/v1/contacts/{contact_id}")))
            .send()
            .await
            .unwrap();
        srv.http.get(srv.at("/no/such/page")).send().await.unwrap();
        // A portal page: a route outside the API's route table, counted all the same.
        srv.http.get(srv.at("/portal")).send().await.unwrap();
        let metrics = scrape(&srv).await;
        for line in [
            "keygate_http_requests_total{method=\"GET\",route=\"/healthz\",status=\"200\"} 3",
            "keygate_http_requests_total{method=\"GET\",route=\"/v1/me\",status=\"401\"} 1",
            "keygate_http_requests_total{method=\"GET\",route=\"/v1/contacts/{id}\",status=\"401\"} 1",
            "keygate_http_requests_total{method=\"GET\",route=\"unmatched\",status=\"404\"} 1",
            "keygate_http_request_duration_seconds_count{route=\"/healthz\"} 3",
            "keygate_http_request_duration_seconds_bucket{le=\"+Inf\",route=\"/healthz\"} 3",
        ] {
            assert!(
                metrics.lines().any(|l| l == line),
                "missing {line:?} in\n{metrics}"
            );
        }
        let portal = "keygate_http_requests_total{method=\"GET\",route=\"/portal\",status=";
        assert!(
            metrics
                .lines()
                .any(|l| l.starts_with(portal) && l.ends_with("} 1")),
            "{metrics}"
        );
        assert!(!metrics.contains(contact_id), "labels name routes, never paths");
        assert!(!metrics.contains("/no/such/page"));
    }
);

store_test!(graceful_shutdown_stops_the_listener, |srv| async move {
    let url = srv.at("/healthz");
    let http = srv.http.clone();
    srv.shutdown().await;
    assert!(
        http.get(url).send().await.is_err(),
        "nothing listens after shutdown"
    );
});
