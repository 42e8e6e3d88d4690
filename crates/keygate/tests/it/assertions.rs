//! The JWT assertion grant (RFC 7523), with assertions signed by an independent library (jwt-simple).

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use jwt_simple::prelude::*;
use keygate_testkit::{store_test, TestServer};
use reqwest::Method;
use serde_json::{json, Value};

const GRANT: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";

fn claims(srv: &TestServer, iss: &str, sub: &str, jti: &str) -> JWTClaims<NoCustomClaims> {
    Claims::create(Duration::from_mins(2))
        .with_issuer(iss)
        .with_subject(sub)
        .with_audience(format!("{}/oauth/token", srv.config.tokens.issuer))
        .with_jwt_id(jti)
}

async fn grant(srv: &TestServer, assertion: &str) -> (u16, Value) {
    let res = srv
        .http
        .post(srv.at("/oauth/token"))
        .form(&[("grant_type", GRANT), ("assertion", assertion)])
        .send()
        .await
        .unwrap();
    (res.status().as_u16(), res.json().await.unwrap())
}

/// A key of `account` (acting as `user`, or the account) that signs HS256 assertions: (key id, secret).
async fn hs256_key(srv: &TestServer, account: &str, user: Option<&str>, scopes: &str) -> (String, String) {
    let mut body = json!({"name": "signer", "scopes": scopes, "assertion_alg": "HS256"});
    if let Some(u) = user {
        body["user_id"] = json!(u);
    }
    let (status, v) = srv
        .admin(
            Method::POST,
            &format!("/admin/v1/accounts/{account}/api-keys"),
            Some(body),
        )
        .await;
    assert_eq!(status, 201, "{v}");
    assert_eq!(v["assertion_alg"], "HS256");
    (
        v["id"].as_str().unwrap().into(),
        v["secret"].as_str().unwrap().into(),
    )
}

store_test!(hs256_assertions_signed_with_the_secret, |srv| async move {
    let account = srv.account().await;
    let user = srv.user(&account, "member").await;
    let (key, secret) = hs256_key(&srv, &account, Some(&user.id), "contacts.read").await;
    let hmac = HS256Key::from_bytes(secret.as_bytes());
    let assertion = hmac.authenticate(claims(&srv, &key, &user.id, "jti-1")).unwrap();
    let (status, body) = grant(&srv, &assertion).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["scope"], "contacts.read");
    assert!(body.get("refresh_token").is_none());
    let (status, me) = srv.me(body["access_token"].as_str().unwrap()).await;
    assert_eq!(status, 200);
    assert_eq!(
        (me["credential"].as_str(), me["user_id"].as_str()),
        (Some("api_key"), Some(user.id.as_str()))
    );
    // The same assertion again is a replay.
    let (status, body) = grant(&srv, &assertion).await;
    assert_eq!((status, body["error"].as_str()), (400, Some("invalid_grant")));
    assert!(body["error_description"]
        .as_str()
        .unwrap()
        .contains("already used"));
});

store_test!(a_suspended_account_gets_no_assertion_token, |srv| async move {
    let account = srv.account().await;
    let (key, secret) = hs256_key(&srv, &account, None, "contacts.read").await;
    let hmac = HS256Key::from_bytes(secret.as_bytes());
    let path = format!("/admin/v1/accounts/{account}");
    srv.admin(Method::PATCH, &path, Some(json!({"status": "suspended"})))
        .await;
    let assertion = hmac.authenticate(claims(&srv, &key, &key, "jti-s1")).unwrap();
    let (status, body) = grant(&srv, &assertion).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant")),
        "{body}"
    );
    assert!(
        body["error_description"].as_str().unwrap().contains("suspended"),
        "{body}"
    );
    srv.admin(Method::PATCH, &path, Some(json!({"status": "active"})))
        .await;
    let assertion = hmac.authenticate(claims(&srv, &key, &key, "jti-s2")).unwrap();
    let (status, body) = grant(&srv, &assertion).await;
    assert_eq!(status, 200, "{body}");
});

store_test!(malformed_or_misaimed_assertions_are_refused, |srv| async move {
    let account = srv.account().await;
    let user = srv.user(&account, "member").await;
    let (key, secret) = hs256_key(&srv, &account, Some(&user.id), "contacts.read").await;
    let hmac = HS256Key::from_bytes(secret.as_bytes());
    let wrong_aud = Claims::create(Duration::from_mins(2))
        .with_issuer(&key)
        .with_subject(&user.id)
        .with_audience("https://elsewhere.example.com/token")
        .with_jwt_id("a");
    let too_long = Claims::create(Duration::from_mins(30))
        .with_issuer(&key)
        .with_subject(&user.id)
        .with_audience(format!("{}/oauth/token", srv.config.tokens.issuer))
        .with_jwt_id("b");
    let no_jti = Claims::create(Duration::from_mins(2))
        .with_issuer(&key)
        .with_subject(&user.id)
        .with_audience(format!("{}/oauth/token", srv.config.tokens.issuer));
    let forged = HS256Key::from_bytes(b"not the secret")
        .authenticate(claims(&srv, &key, &user.id, "c"))
        .unwrap();
    for (name, assertion) in [
        ("wrong aud", hmac.authenticate(wrong_aud).unwrap()),
        ("exp too far", hmac.authenticate(too_long).unwrap()),
        ("no jti", hmac.authenticate(no_jti).unwrap()),
        ("wrong secret", forged),
        ("garbage", "not.a.jwt".to_owned()),
    ] {
        let (status, body) = grant(&srv, &assertion).await;
        assert_eq!(
            (status, body["error"].as_str()),
            (400, Some("invalid_grant")),
            "{name}: {body}"
        );
    }
    let res = srv
        .http
        .post(srv.at("/oauth/token"))
        .form(&[("grant_type", GRANT)])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400, "no assertion");
});

fn es256_jwk(pair: &ES256KeyPair) -> Value {
    let point = pair.public_key().public_key().to_bytes_uncompressed();
    json!({"kty": "EC", "crv": "P-256", "x": URL_SAFE_NO_PAD.encode(&point[1..33]), "y": URL_SAFE_NO_PAD.encode(&point[33..65])})
}

store_test!(public_key_assertions_with_a_pinned_algorithm, |srv| async move {
    let account = srv.account().await;
    let user = srv.user(&account, "member").await;
    let (key, secret) = crate::api_keys::api_key(&srv, &account, Some(&user.id), None).await;
    let pair = ES256KeyPair::generate();
    let path = format!("/admin/v1/api-keys/{key}/assertion-key");
    let (status, v) = srv
        .admin(
            Method::PUT,
            &path,
            Some(json!({"alg": "ES256", "public_key": es256_jwk(&pair)})),
        )
        .await;
    assert_eq!(
        (status.as_u16(), v["assertion_alg"].as_str()),
        (200, Some("ES256")),
        "{v}"
    );
    let (status, body) = grant(&srv, &pair.sign(claims(&srv, &key, &user.id, "es-1")).unwrap()).await;
    assert_eq!(status, 200, "{body}");
    // The algorithm is pinned: an HS256 assertion (even with the right secret) or another key is refused.
    let hs = HS256Key::from_bytes(secret.as_bytes())
        .authenticate(claims(&srv, &key, &user.id, "es-2"))
        .unwrap();
    assert_eq!(grant(&srv, &hs).await.0, 400);
    let other = ES256KeyPair::generate()
        .sign(claims(&srv, &key, &user.id, "es-3"))
        .unwrap();
    assert_eq!(grant(&srv, &other).await.0, 400);
    // Private material is refused; clearing stops assertions.
    let mut private = es256_jwk(&pair);
    private["d"] = json!("AAAA");
    let (status, v) = srv
        .admin(
            Method::PUT,
            &path,
            Some(json!({"alg": "ES256", "public_key": private})),
        )
        .await;
    assert_eq!((status.as_u16(), v["field"].as_str()), (422, Some("public_key")));
    srv.admin(Method::DELETE, &path, None).await;
    assert_eq!(
        grant(&srv, &pair.sign(claims(&srv, &key, &user.id, "es-4")).unwrap())
            .await
            .0,
        400
    );
});

store_test!(acting_as_another_user_needs_impersonate, |srv| async move {
    let account = srv.account().await;
    let target = srv.user(&account, "member").await;
    let (plain, plain_secret) = hs256_key(&srv, &account, None, "contacts.read").await;
    let a = HS256Key::from_bytes(plain_secret.as_bytes())
        .authenticate(claims(&srv, &plain, &target.id, "i-1"))
        .unwrap();
    let (status, body) = grant(&srv, &a).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant")),
        "{body}"
    );
    let (key, secret) = hs256_key(&srv, &account, None, "contacts.read impersonate").await;
    let hmac = HS256Key::from_bytes(secret.as_bytes());
    let (status, body) = grant(
        &srv,
        &hmac
            .authenticate(claims(&srv, &key, &target.email, "i-2"))
            .unwrap(),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["scope"], "contacts.read", "impersonate does not pass on");
    let (_, me) = srv.me(body["access_token"].as_str().unwrap()).await;
    assert_eq!(me["user_id"], target.id.as_str());
    assert_eq!(me["impersonated_by"]["client_id"], key.as_str());
    // Never across accounts.
    let other = srv.account().await;
    let stranger = srv.user(&other, "member").await;
    assert_eq!(
        grant(
            &srv,
            &hmac
                .authenticate(claims(&srv, &key, &stranger.id, "i-3"))
                .unwrap()
        )
        .await
        .0,
        400
    );
    // Acting as the account itself: sub is the key.
    let (status, body) = grant(&srv, &hmac.authenticate(claims(&srv, &key, &key, "i-4")).unwrap()).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        srv.me(body["access_token"].as_str().unwrap()).await.1["acting_as"],
        "account"
    );
});
