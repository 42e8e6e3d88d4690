//! Server metadata, JWKS, health and metrics.

use keygate_testkit::store_test;
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

store_test!(health_readiness_and_metrics, |srv| async move {
    let health: Value = srv.get_json("/healthz").await;
    assert_eq!(health["status"], "ok");
    let ready: Value = srv.get_json("/readyz").await;
    assert_eq!(ready["status"], "ready");
    let (_, app) = srv.owned_app().await;
    srv.client_token(&app, None).await;
    let metrics = srv
        .http
        .get(srv.at("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains("keygate_tokens_issued_total{grant_type=\"client_credentials\"} 1"),
        "{metrics}"
    );
    assert!(metrics.contains("route=\"/oauth/token\""));
    assert!(!metrics.contains(app.secret()));
});

store_test!(graceful_shutdown_stops_the_listener, |srv| async move {
    let url = srv.at("/healthz");
    let http = srv.http.clone();
    srv.shutdown().await;
    assert!(
        http.get(url).send().await.is_err(),
        "nothing listens after shutdown"
    );
});
