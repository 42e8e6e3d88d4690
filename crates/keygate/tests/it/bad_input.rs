//! Malformed, hostile and unexpected requests get a clear 4xx in the endpoint's own error format: never a
//! 500, never a stack trace, and never a redirect to a URI the client did not register.

use jwt_simple::prelude::{
    Base64, Base64UrlSafeNoPadding, Claims, Duration, HS256Key, HeaderOptions, MACLike,
};
use jwt_simple::reexports::ct_codecs::{Decoder, Encoder};
use keygate_testkit::{location, query_param, store_test, TestServer};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::admin_api::{call, client_credentials, owned_app, Reply};

/// What no error response may contain: traces, panics, internals.
#[track_caller]
fn assert_clean(text: &str) {
    for bad in [
        "panicked",
        "stack backtrace",
        "RUST_BACKTRACE",
        ".rs:",
        "sqlx",
        "SQLSTATE",
    ] {
        assert!(!text.contains(bad), "response leaks {bad:?}: {text}");
    }
}

async fn send(req: reqwest::RequestBuilder) -> Reply {
    let res = req.send().await.unwrap();
    let status = res.status();
    let headers = res.headers().clone();
    let reply = Reply {
        status,
        headers,
        text: res.text().await.unwrap(),
    };
    assert_clean(&reply.text);
    reply
}

/// Asserts an RFC 6749 error response of `status` and `code`.
#[track_caller]
fn oauth_error(r: &Reply, status: StatusCode, code: &str) -> Value {
    assert_eq!(r.status, status, "{}", r.text);
    assert!(
        r.header("content-type").starts_with("application/json"),
        "{:?}",
        r.headers
    );
    assert_eq!(r.header("cache-control"), "no-store");
    let v = r.json();
    assert_eq!(v["error"], code, "{v}");
    assert!(
        v["error_description"].as_str().is_some_and(|d| !d.is_empty()),
        "{v}"
    );
    v
}

fn token_request(srv: &TestServer) -> reqwest::RequestBuilder {
    srv.http.post(srv.at("/oauth/token"))
}

fn b64(bytes: &[u8]) -> String {
    Base64UrlSafeNoPadding::encode_to_string(bytes).unwrap()
}

fn unb64(s: &str) -> Vec<u8> {
    Base64UrlSafeNoPadding::decode_to_vec(s, None).unwrap()
}

// --- the token endpoint ---------------------------------------------------------------------------

store_test!(token_endpoint_refuses_malformed_requests, |srv| async move {
    let account = srv.account().await;
    let (client_id, secret) = owned_app(&srv, &account).await;
    let authed = || token_request(&srv).basic_auth(&client_id, Some(&secret));

    // RFC 6749 §3.2: form-encoded only.
    let r = send(authed().json(&json!({"grant_type": "client_credentials"}))).await;
    let v = oauth_error(&r, StatusCode::BAD_REQUEST, "invalid_request");
    assert!(
        v["error_description"]
            .as_str()
            .unwrap()
            .contains("x-www-form-urlencoded"),
        "{v}"
    );
    let r = send(
        authed()
            .header("content-type", "text/plain")
            .body("grant_type=client_credentials"),
    )
    .await;
    oauth_error(&r, StatusCode::BAD_REQUEST, "invalid_request");

    let r = send(authed().form(&[("scope", "contacts.read")])).await;
    let v = oauth_error(&r, StatusCode::BAD_REQUEST, "invalid_request");
    assert!(
        v["error_description"].as_str().unwrap().contains("grant_type"),
        "{v}"
    );
    // An empty value counts as absent (RFC 6749 §3.1).
    let r = send(authed().form(&[("grant_type", "")])).await;
    oauth_error(&r, StatusCode::BAD_REQUEST, "invalid_request");

    for grant in ["password", "implicit", "CLIENT_CREDENTIALS"] {
        let r = send(authed().form(&[("grant_type", grant)])).await;
        oauth_error(&r, StatusCode::BAD_REQUEST, "unsupported_grant_type");
    }
    // A supported grant without its parameter.
    let r = send(authed().form(&[("grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer")])).await;
    oauth_error(&r, StatusCode::BAD_REQUEST, "invalid_request");

    // Repeated parameters are refused, not resolved by picking one (RFC 6749 §3.1).
    let r = send(
        authed()
            .header("content-type", "application/x-www-form-urlencoded")
            .body("grant_type=client_credentials&scope=a&scope=b"),
    )
    .await;
    let v = oauth_error(&r, StatusCode::BAD_REQUEST, "invalid_request");
    assert!(v["error_description"].as_str().unwrap().contains("scope"), "{v}");
    let r = send(
        authed()
            .header("content-type", "application/x-www-form-urlencoded")
            .body("grant_type=client_credentials&grant_type=client_credentials"),
    )
    .await;
    oauth_error(&r, StatusCode::BAD_REQUEST, "invalid_request");
    // Undecodable form bytes.
    let r = send(
        authed()
            .header("content-type", "application/x-www-form-urlencoded")
            .body(vec![0xff, 0xfe, b'=', 0x80]),
    )
    .await;
    assert!(r.status.is_client_error(), "{} {}", r.status, r.text);

    // Two authentication methods at once.
    let r = send(authed().form(&[
        ("grant_type", "client_credentials"),
        ("client_secret", secret.as_str()),
    ]))
    .await;
    oauth_error(&r, StatusCode::BAD_REQUEST, "invalid_request");
    // None at all.
    let r = send(token_request(&srv).form(&[("grant_type", "client_credentials")])).await;
    oauth_error(&r, StatusCode::UNAUTHORIZED, "invalid_client");
    // Missing grant parameters.
    let r = send(authed().form(&[("grant_type", "authorization_code")])).await;
    oauth_error(&r, StatusCode::BAD_REQUEST, "invalid_request");
    let r = send(authed().form(&[("grant_type", "refresh_token")])).await;
    oauth_error(&r, StatusCode::BAD_REQUEST, "invalid_request");

    // Control: the same client with a well-formed request gets a token.
    let r = send(authed().form(&[("grant_type", "client_credentials")])).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
});

store_test!(garbage_basic_credentials_are_invalid_client, |srv| async move {
    let basic = |raw: &[u8]| format!("Basic {}", Base64::encode_to_string(raw).unwrap());
    let cases = [
        "Basic".to_owned(),
        "Basic !!!not-base64!!!".to_owned(),
        basic(b"no-colon-here"),
        basic(&[0xff, 0xfe, b':', 0x80]),
        basic(b"%zz:secret"),
        basic(b"aaaaaaaaaaaaaaaaaaaaaaaa:kgcs_wrong"),
        basic(b":"),
        "Bearer kgcs_something".to_owned(),
        "Digest username=\"x\"".to_owned(),
    ];
    for header in cases {
        let r = send(
            token_request(&srv)
                .header("authorization", &header)
                .form(&[("grant_type", "client_credentials")]),
        )
        .await;
        oauth_error(&r, StatusCode::UNAUTHORIZED, "invalid_client");
        assert!(
            r.header("www-authenticate").starts_with("Basic"),
            "{header}: {:?}",
            r.headers
        );
    }
    // Non-ASCII header bytes.
    let value = reqwest::header::HeaderValue::from_bytes(b"Basic \xe9\xe9").unwrap();
    let r = send(
        token_request(&srv)
            .header("authorization", value)
            .form(&[("grant_type", "client_credentials")]),
    )
    .await;
    oauth_error(&r, StatusCode::UNAUTHORIZED, "invalid_client");
});

store_test!(
    oversized_bodies_are_413,
    |config| config.http.max_body_bytes = 4096,
    |srv| async move {
        let big = "x".repeat(10_000);
        let r =
            send(token_request(&srv).form(&[("grant_type", "client_credentials"), ("scope", big.as_str())]))
                .await;
        let v = oauth_error(&r, StatusCode::PAYLOAD_TOO_LARGE, "invalid_request");
        assert!(
            v["error_description"].as_str().unwrap().contains("too large"),
            "{v}"
        );

        let r = call(
            &srv,
            Method::POST,
            "/admin/v1/accounts",
            Some(&srv.admin_token),
            Some(json!({"name": big})),
        )
        .await;
        assert_clean(&r.text);
        r.problem(StatusCode::PAYLOAD_TOO_LARGE, "body-too-large");

        // Just under the limit is fine (it is refused for its content, not its size).
        let r = call(
            &srv,
            Method::POST,
            "/admin/v1/accounts",
            Some(&srv.admin_token),
            Some(json!({"name": "x".repeat(3000)})),
        )
        .await;
        r.problem(StatusCode::UNPROCESSABLE_ENTITY, "invalid-field");
    }
);

// --- the admin API and the router -----------------------------------------------------------------

store_test!(admin_api_refuses_malformed_bodies, |srv| async move {
    let post = |body: &'static str, content_type: Option<&'static str>| {
        let mut req = srv
            .http
            .post(srv.at("/admin/v1/accounts"))
            .bearer_auth(&srv.admin_token)
            .body(body);
        if let Some(ct) = content_type {
            req = req.header("content-type", ct);
        }
        send(req)
    };
    for body in ["{\"name\":", "not json", "{\"name\": \"ab123\"} trailing", ""] {
        let r = post(body, Some("application/json")).await;
        r.problem(StatusCode::BAD_REQUEST, "malformed-json");
    }
    let r = post("[1, 2]", Some("application/json")).await;
    r.problem(StatusCode::UNPROCESSABLE_ENTITY, "invalid-body");
    let r = post("{\"name\": 12345}", Some("application/json")).await;
    r.problem(StatusCode::UNPROCESSABLE_ENTITY, "invalid-body");
    for ct in [
        Some("text/plain"),
        Some("application/x-www-form-urlencoded"),
        None,
    ] {
        let r = post("{\"name\": \"ab123\"}", ct).await;
        let p = r.problem(StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported-media-type");
        assert!(p["detail"].as_str().unwrap().contains("application/json"), "{p}");
    }
    // Control: the same body with the right type works.
    let r = post("{\"name\": \"ab123\"}", Some("application/json; charset=utf-8")).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);

    // Malformed JSON elsewhere gets the same answer.
    let r = send(
        srv.http
            .patch(srv.at("/admin/v1/accounts/ab123"))
            .bearer_auth(&srv.admin_token)
            .header("content-type", "application/json")
            .body("{"),
    )
    .await;
    r.problem(StatusCode::BAD_REQUEST, "malformed-json");
    let (client_id, _) = owned_app(&srv, "ab123").await;
    let r = send(
        srv.http
            .post(srv.at(&format!("/admin/v1/apps/{client_id}/rotate-secret")))
            .bearer_auth(&srv.admin_token)
            .header("content-type", "application/json")
            .body("{"),
    )
    .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text);
    assert_eq!(r.header("content-type"), "application/problem+json");
});

store_test!(unknown_routes_and_methods_are_problems, |srv| async move {
    for path in [
        "/nope",
        "/admin/v1/nope",
        "/admin/v2/accounts",
        "/oauth/tokens",
        "/v1/me/extra",
        "/.well-known/nope",
    ] {
        let r = send(srv.http.get(srv.at(path)).bearer_auth(&srv.admin_token)).await;
        r.problem(StatusCode::NOT_FOUND, "not-found");
    }
    let cases = [
        (Method::GET, "/oauth/token"),
        (Method::PUT, "/oauth/token"),
        (Method::GET, "/oauth/revoke"),
        (Method::DELETE, "/admin/v1/accounts"),
        (Method::PUT, "/admin/v1/accounts/ab123"),
        (Method::POST, "/admin/v1/keys"),
        (Method::GET, "/admin/v1/keys/rotate"),
        (Method::POST, "/v1/me"),
        (Method::POST, "/.well-known/jwks.json"),
        (Method::DELETE, "/oauth/authorize"),
    ];
    for (method, path) in cases {
        let r = send(
            srv.http
                .request(method.clone(), srv.at(path))
                .bearer_auth(&srv.admin_token),
        )
        .await;
        r.problem(StatusCode::METHOD_NOT_ALLOWED, "method-not-allowed");
    }
});

// --- the authorization endpoint -------------------------------------------------------------------

/// Asserts the user sees an HTML error page and is not sent anywhere.
#[track_caller]
fn error_page(r: &Reply) {
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text);
    assert!(
        r.headers.get("location").is_none(),
        "must not redirect: {:?}",
        r.headers
    );
    assert!(
        r.header("content-type").starts_with("text/html"),
        "{:?}",
        r.headers
    );
    assert!(r.text.contains("<html"), "{}", r.text);
}

store_test!(authorize_never_redirects_to_unregistered_uris, |srv| async move {
    let app = srv
        .app(json!({"name": "Web", "redirect_uris": ["https://app.example.com/cb"]}))
        .await;
    let evil = "https://evil.example.com/steal";
    let get =
        |query: Vec<(&'static str, String)>| send(srv.http.get(srv.at("/oauth/authorize")).query(&query));
    let cases: Vec<Vec<(&str, String)>> = vec![
        // Unknown (but well-formed) client, with or without a redirect URI.
        vec![
            ("response_type", "code".into()),
            ("client_id", "aaaaaaaaaaaaaaaaaaaaaaaa".into()),
            ("redirect_uri", evil.into()),
        ],
        vec![
            ("response_type", "token".into()),
            ("client_id", "aaaaaaaaaaaaaaaaaaaaaaaa".into()),
            ("redirect_uri", evil.into()),
        ],
        vec![
            ("response_type", "code".into()),
            ("client_id", "NOT A CLIENT".into()),
            ("redirect_uri", evil.into()),
        ],
        vec![("response_type", "code".into()), ("redirect_uri", evil.into())],
        // A real client with a redirect URI it never registered, whatever else is wrong.
        vec![
            ("response_type", "code".into()),
            ("client_id", app.client_id.clone()),
            ("redirect_uri", evil.into()),
        ],
        vec![
            ("response_type", "token".into()),
            ("client_id", app.client_id.clone()),
            ("redirect_uri", evil.into()),
        ],
        vec![
            ("client_id", app.client_id.clone()),
            ("redirect_uri", "https://app.example.com/cb/../../evil".into()),
            ("state", "xyz".into()),
        ],
        vec![
            ("response_type", "code".into()),
            ("client_id", app.client_id.clone()),
            ("redirect_uri", "https://app.example.com/cb?x=1".into()),
        ],
        vec![
            ("response_type", "code".into()),
            ("client_id", app.client_id.clone()),
            ("redirect_uri", "https://APP.example.com/cb".into()),
        ],
        // Repeated parameters: nothing in the request can be trusted.
        vec![
            ("response_type", "code".into()),
            ("client_id", app.client_id.clone()),
            ("client_id", app.client_id.clone()),
            ("redirect_uri", "https://app.example.com/cb".into()),
        ],
    ];
    for query in cases {
        let r = get(query.clone()).await;
        error_page(&r);
        assert!(
            !r.text.contains(evil),
            "the page does not link the unregistered URI: {query:?}"
        );
    }
    // The login form submission is held to the same rule.
    let r = send(srv.http.post(srv.at("/oauth/authorize")).form(&[
        ("response_type", "code"),
        ("client_id", app.client_id.as_str()),
        ("redirect_uri", evil),
        ("account", "ab123"),
        ("email", "a@example.com"),
        ("password", "whatever password"),
    ]))
    .await;
    error_page(&r);
    // So is a forged or garbled consent form.
    for body in ["ticket=forged&decision=allow", "decision=allow", "ticket=%ZZ"] {
        let r = send(
            srv.http
                .post(srv.at("/oauth/authorize/consent"))
                .header("content-type", "application/x-www-form-urlencoded")
                .body(body),
        )
        .await;
        error_page(&r);
    }
    // A suspended app's requests stop at the error page too.
    srv.admin(
        Method::PATCH,
        &format!("/admin/v1/apps/{}", app.client_id),
        Some(json!({"status": "suspended"})),
    )
    .await;
    let r = get(vec![
        ("response_type", "code".into()),
        ("client_id", app.client_id.clone()),
    ])
    .await;
    error_page(&r);
});

store_test!(authorize_errors_go_back_to_a_registered_uri, |srv| async move {
    let web = srv
        .app(json!({"name": "Web", "redirect_uris": ["https://app.example.com/cb?tenant=1"]}))
        .await;
    let spa = srv
        .app(json!({"name": "SPA", "client_type": "public", "redirect_uris": ["http://127.0.0.1:8765/cb"]}))
        .await;
    let challenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
    let issuer = srv.config.tokens.issuer.clone();
    let (w, s) = (web.client_id.as_str(), spa.client_id.as_str());
    assert!(!issuer.is_empty());

    let cases = vec![
        (
            "token",
            vec![("client_id", w), ("response_type", "token")],
            "unsupported_response_type",
        ),
        ("no response_type", vec![("client_id", w)], "invalid_request"),
        (
            "plain PKCE",
            vec![
                ("client_id", w),
                ("response_type", "code"),
                ("code_challenge", challenge),
                ("code_challenge_method", "plain"),
            ],
            "invalid_request",
        ),
        (
            "PKCE method without challenge",
            vec![
                ("client_id", w),
                ("response_type", "code"),
                ("code_challenge_method", "S256"),
            ],
            "invalid_request",
        ),
        (
            "bad challenge",
            vec![
                ("client_id", w),
                ("response_type", "code"),
                ("code_challenge", "short"),
                ("code_challenge_method", "S256"),
            ],
            "invalid_request",
        ),
        (
            "public client without PKCE",
            vec![("client_id", s), ("response_type", "code")],
            "invalid_request",
        ),
        (
            "unknown scope",
            vec![("client_id", w), ("response_type", "code"), ("scope", "root")],
            "invalid_scope",
        ),
    ];
    for (what, mut query, code) in cases {
        query.push(("state", "s t&ate=1"));
        let res = srv
            .http
            .get(srv.at("/oauth/authorize"))
            .query(&query)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::SEE_OTHER, "{what}");
        let to = location(&res);
        let app = if query.contains(&("client_id", s)) {
            &spa
        } else {
            &web
        };
        let registered = url::Url::parse(app.redirect_uri.as_deref().unwrap()).unwrap();
        assert_eq!(
            (to.scheme(), to.host_str(), to.port(), to.path()),
            (
                registered.scheme(),
                registered.host_str(),
                registered.port(),
                registered.path()
            ),
            "{what}: {to}"
        );
        assert_eq!(query_param(&to, "error").as_deref(), Some(code), "{what}: {to}");
        assert!(
            query_param(&to, "error_description").is_some_and(|d| !d.is_empty()),
            "{what}"
        );
        assert_eq!(
            query_param(&to, "state").as_deref(),
            Some("s t&ate=1"),
            "{what}: state comes back intact"
        );
        assert_eq!(
            query_param(&to, "iss").as_deref(),
            Some(issuer.as_str()),
            "{what}: RFC 9207 iss"
        );
        assert_eq!(query_param(&to, "code"), None, "{what}");
        if app.client_id == web.client_id {
            assert_eq!(
                query_param(&to, "tenant").as_deref(),
                Some("1"),
                "{what}: the registered query is kept"
            );
        }
    }
    // Control: a valid request shows the login page.
    let res = srv
        .http
        .get(srv.at("/oauth/authorize"))
        .query(&[("client_id", w), ("response_type", "code")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
});

// --- bearer tokens --------------------------------------------------------------------------------

/// `GET /v1/me` with `token`; asserts a 401 with an `invalid_token` challenge.
async fn assert_invalid_token(srv: &TestServer, token: &str, what: &str) {
    let r = send(srv.http.get(srv.at("/v1/me")).bearer_auth(token)).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{what}: {}", r.text);
    let challenge = r.header("www-authenticate");
    assert!(
        challenge.starts_with("Bearer ") && challenge.contains("error=\"invalid_token\""),
        "{what}: {challenge}"
    );
    r.problem(StatusCode::UNAUTHORIZED, "unauthorized");
}

store_test!(garbage_bearer_tokens_are_401, |srv| async move {
    // No credentials: a bare challenge without an error code (RFC 6750 §3.1).
    let r = send(srv.http.get(srv.at("/v1/me"))).await;
    r.problem(StatusCode::UNAUTHORIZED, "unauthorized");
    let challenge = r.header("www-authenticate");
    assert!(
        challenge.starts_with("Bearer") && !challenge.contains("error="),
        "{challenge}"
    );

    let long = "x".repeat(5000);
    let tokens = [
        "garbage",
        "a.b.c",
        "....",
        "eyJhbGciOiJFUzI1NiJ9.e30.",
        &long,
        "kgat_notanaccesstoken",
        &srv.admin_token,
    ];
    for token in tokens {
        assert_invalid_token(&srv, token, token).await;
    }

    // Bytes that are not UTF-8, after a token that is hot in the cache of verified tokens: the cache is
    // keyed by bytes, so they miss it and the check refuses them as malformed.
    let (_, app) = srv.owned_app().await;
    let hot = srv.client_token(&app, None).await["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(srv.me(&hot).await.0, StatusCode::OK);
    let mut raw = format!("Bearer {hot}").into_bytes();
    raw.extend_from_slice(b"\xff\xfe");
    let value = reqwest::header::HeaderValue::from_bytes(&raw).unwrap();
    let r = send(srv.http.get(srv.at("/v1/me")).header("authorization", value)).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{}", r.text);
    assert!(
        r.header("www-authenticate").contains("error=\"invalid_token\""),
        "{:?}",
        r.headers
    );
    r.problem(StatusCode::UNAUTHORIZED, "unauthorized");
});

store_test!(forged_jwts_are_401, |srv| async move {
    let account = srv.account().await;
    let other = srv.account().await;
    let (client_id, secret) = owned_app(&srv, &account).await;
    let (_, body) = client_credentials(&srv, &client_id, &secret).await;
    let token = body["access_token"].as_str().unwrap().to_owned();
    let parts: Vec<&str> = token.split('.').collect();
    let (header_b64, payload_b64, signature) = (parts[0], parts[1], parts[2]);
    let header: Value = serde_json::from_slice(&unb64(header_b64)).unwrap();
    let payload: Value = serde_json::from_slice(&unb64(payload_b64)).unwrap();
    let kid = header["kid"].as_str().unwrap().to_owned();
    assert_eq!(header["alg"], "ES256");

    // Control: the genuine token works.
    let me = |t: String| send(srv.http.get(srv.at("/v1/me")).bearer_auth(t));
    assert_eq!(me(token.clone()).await.status, StatusCode::OK);

    // Payload altered, signature kept: another account, wider scope, later expiry.
    for (claim, value) in [
        ("account", json!(other)),
        ("scope", json!("full impersonate")),
        ("exp", json!(payload["exp"].as_i64().unwrap() + 1)),
    ] {
        let mut altered = payload.clone();
        altered[claim] = value;
        let forged = format!("{header_b64}.{}.{signature}", b64(altered.to_string().as_bytes()));
        assert_invalid_token(&srv, &forged, &format!("altered {claim}")).await;
    }
    // The signature of another token.
    let (_, second) = client_credentials(&srv, &client_id, &secret).await;
    let other_sig = second["access_token"]
        .as_str()
        .unwrap()
        .rsplit('.')
        .next()
        .unwrap()
        .to_owned();
    assert_invalid_token(
        &srv,
        &format!("{header_b64}.{payload_b64}.{other_sig}"),
        "swapped signature",
    )
    .await;
    // Header altered: typ of an ID token, then an unknown kid.
    for (field, value) in [("typ", "JWT"), ("kid", "nosuchkey")] {
        let mut h = header.clone();
        h[field] = json!(value);
        assert_invalid_token(
            &srv,
            &format!("{}.{payload_b64}.{signature}", b64(h.to_string().as_bytes())),
            field,
        )
        .await;
    }

    // `alg: none`, with and without a signature.
    let none = json!({"alg": "none", "typ": "at+jwt", "kid": kid});
    let none_b64 = b64(none.to_string().as_bytes());
    assert_invalid_token(&srv, &format!("{none_b64}.{payload_b64}."), "alg none").await;
    assert_invalid_token(
        &srv,
        &format!("{none_b64}.{payload_b64}.{signature}"),
        "alg none with signature",
    )
    .await;

    // Algorithm confusion: HS256 keyed with the published public key, in the forms an attacker would try.
    let jwks: Value = srv.get_json("/.well-known/jwks.json").await;
    let jwk = jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["kid"] == kid.as_str())
        .unwrap()
        .clone();
    let x = unb64(jwk["x"].as_str().unwrap());
    let y = unb64(jwk["y"].as_str().unwrap());
    let point = [&[4u8][..], &x, &y].concat();
    for (what, key) in [
        ("jwk json", jwk.to_string().into_bytes()),
        ("jwks json", jwks.to_string().into_bytes()),
        ("x", x.clone()),
        ("point", point),
    ] {
        let claims = Claims::with_custom_claims(
            json!({"client_id": payload["client_id"], "scope": payload["scope"], "account": payload["account"]}),
            Duration::from_hours(1),
        )
        .with_issuer(payload["iss"].as_str().unwrap())
        .with_subject(payload["sub"].as_str().unwrap())
        .with_audience(payload["aud"].as_str().unwrap())
        .with_jwt_id("at_forged");
        let options = HeaderOptions {
            signature_type: Some("at+jwt".into()),
            ..Default::default()
        };
        let forged = HS256Key::from_bytes(&key)
            .with_key_id(&kid)
            .authenticate_with_options(claims, &options)
            .unwrap();
        let h: Value = serde_json::from_slice(&unb64(forged.split('.').next().unwrap())).unwrap();
        assert_eq!(
            (h["alg"].as_str(), h["typ"].as_str(), h["kid"].as_str()),
            (Some("HS256"), Some("at+jwt"), Some(kid.as_str()))
        );
        assert_invalid_token(&srv, &forged, &format!("HS256 keyed with the {what}")).await;
    }

    // The genuine token is still fine: nothing above changed server state.
    assert_eq!(me(token).await.status, StatusCode::OK);
});
