//! Access tokens verified with an independent JOSE library (jwt-simple) against the published JWKS.

use std::collections::HashSet;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use jwt_simple::prelude::*;
use keygate_testkit::{store_test, TestServer};
use serde_json::Value;

#[derive(Debug, Serialize, Deserialize)]
pub struct KeygateClaims {
    pub client_id: String,
    pub scope: String,
    pub account: String,
    #[serde(default)]
    pub sid: Option<String>,
}

fn b64(v: &Value, field: &str) -> Vec<u8> {
    URL_SAFE_NO_PAD.decode(v[field].as_str().unwrap()).unwrap()
}

/// Verifies `token` as a resource server would: fetch the JWKS, pick the key by `kid`, check the
/// signature, `typ`, issuer, audience and time. Returns the claims.
pub async fn verify_with_jwks(srv: &TestServer, token: &str) -> JWTClaims<KeygateClaims> {
    let jwks: Value = srv.get_json("/.well-known/jwks.json").await;
    let meta = Token::decode_metadata(token).unwrap();
    let kid = meta.key_id().expect("tokens carry a kid");
    let jwk = jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["kid"] == kid)
        .expect("kid published in the JWKS");
    assert_eq!(
        jwk["alg"].as_str(),
        Some(meta.algorithm()),
        "header alg matches the key's alg"
    );
    let issuer = srv.config.tokens.issuer.clone();
    let options = VerificationOptions {
        required_signature_type: Some("at+jwt".into()),
        allowed_issuers: Some(HashSet::from([issuer.clone()])),
        allowed_audiences: Some(HashSet::from([issuer])),
        ..Default::default()
    };
    let claims = match jwk["kty"].as_str().unwrap() {
        "EC" => {
            let mut point = vec![0x04];
            point.extend(b64(jwk, "x"));
            point.extend(b64(jwk, "y"));
            ES256PublicKey::from_bytes(&point)
                .unwrap()
                .verify_token::<KeygateClaims>(token, Some(options))
        }
        "OKP" => Ed25519PublicKey::from_bytes(&b64(jwk, "x"))
            .unwrap()
            .verify_token::<KeygateClaims>(token, Some(options)),
        "RSA" => RS256PublicKey::from_components(&b64(jwk, "n"), &b64(jwk, "e"))
            .unwrap()
            .verify_token::<KeygateClaims>(token, Some(options)),
        other => panic!("unexpected kty {other}"),
    };
    claims.expect("the token verifies against the JWKS")
}

store_test!(claims_follow_rfc9068, |srv| async move {
    let (account, app) = srv.owned_app().await;
    let body = srv.client_token(&app, Some("contacts.read")).await;
    let token = body["access_token"].as_str().unwrap();
    let claims = verify_with_jwks(&srv, token).await;
    assert_eq!(claims.subject.as_deref(), Some(app.client_id.as_str()));
    assert_eq!(claims.custom.client_id, app.client_id);
    assert_eq!(claims.custom.account, account);
    assert_eq!(claims.custom.scope, "contacts.read");
    let lifetime = claims.expires_at.unwrap().as_secs() - claims.issued_at.unwrap().as_secs();
    assert_eq!(lifetime, 3600, "default lifetime");
    assert_eq!(body["expires_in"], 3600);
    let other = srv.client_token(&app, None).await;
    let other_claims = verify_with_jwks(&srv, other["access_token"].as_str().unwrap()).await;
    assert_ne!(claims.jwt_id, other_claims.jwt_id, "every token has its own jti");
    assert!(claims.jwt_id.is_some());
});

async fn algorithm_round_trip(srv: TestServer, expected_alg: &str) {
    let (_, app) = srv.owned_app().await;
    let token = srv.client_token(&app, None).await["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(Token::decode_metadata(&token).unwrap().algorithm(), expected_alg);
    verify_with_jwks(&srv, &token).await;
    assert_eq!(srv.me(&token).await.0, 200);
}

store_test!(
    eddsa_tokens_verify,
    |c| c.tokens.algorithm = keygate_core::model::SigningAlgorithm::EdDSA,
    |srv| algorithm_round_trip(srv, "EdDSA")
);

store_test!(
    rs256_tokens_verify,
    |c| c.tokens.algorithm = keygate_core::model::SigningAlgorithm::RS256,
    |srv| algorithm_round_trip(srv, "RS256")
);

store_test!(
    expired_tokens_are_refused,
    |c| {
        c.tokens.access_token_ttl = 1;
        c.tokens.leeway = 0;
    },
    |srv| async move {
        let (_, app) = srv.owned_app().await;
        let token = srv.client_token(&app, None).await["access_token"]
            .as_str()
            .unwrap()
            .to_owned();
        assert_eq!(srv.me(&token).await.0, 200);
        tokio::time::sleep(std::time::Duration::from_millis(2100)).await;
        let (status, body) = srv.me(&token).await;
        assert_eq!(status, 401);
        assert!(body["detail"].as_str().unwrap().contains("expired"), "{body}");
    }
);

store_test!(tokens_of_another_issuer_are_refused, |srv| async move {
    // A second server with its own keys and issuer: its tokens must not pass here.
    let other = TestServer::start(keygate_testkit::StoreKind::Sqlite, |_| {})
        .await
        .unwrap();
    let (_, app) = other.owned_app().await;
    let foreign = other.client_token(&app, None).await["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let (status, body) = srv.me(&foreign).await;
    assert_eq!(status, 401);
    assert!(body["detail"].as_str().unwrap().contains("unknown key"), "{body}");
    other.shutdown().await;
});
