//! Signing-key rotation: the next key is published before it signs, and retired keys stay published
//! while tokens they signed are alive.

use jwt_simple::prelude::Token;
use keygate_testkit::store_test;

use crate::jwt::verify_with_jwks;

fn kid_of(token: &str) -> String {
    Token::decode_metadata(token)
        .unwrap()
        .key_id()
        .unwrap()
        .to_owned()
}

store_test!(rotation_publishes_ahead_and_keeps_old_keys, |srv| async move {
    let (_, app) = srv.owned_app().await;
    let before = srv.client_token(&app, None).await["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let old_kid = kid_of(&before);
    let published_before = srv.jwks_kids().await;

    let (status, body) = srv
        .admin(reqwest::Method::POST, "/admin/v1/keys/rotate", None)
        .await;
    assert_eq!(status, 200, "{body}");
    let states: Vec<(String, String)> = body["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| {
            (
                k["kid"].as_str().unwrap().to_owned(),
                k["state"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert!(states.contains(&(old_kid.clone(), "retired".into())));

    let after = srv.client_token(&app, None).await["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let new_kid = kid_of(&after);
    assert_ne!(new_kid, old_kid);
    assert!(
        published_before.contains(&new_kid),
        "the new signing key was published before it signed"
    );
    let published_after = srv.jwks_kids().await;
    assert_eq!(published_after.len(), 3, "retired, current and a new next");
    assert!(published_after.contains(&old_kid));

    // Both tokens verify independently and on the resource side.
    verify_with_jwks(&srv, &before).await;
    verify_with_jwks(&srv, &after).await;
    assert_eq!(srv.me(&before).await.0, 200);
    assert_eq!(srv.me(&after).await.0, 200);

    let (_, listed) = srv.admin(reqwest::Method::GET, "/admin/v1/keys", None).await;
    let retired = listed["keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["kid"] == old_kid.as_str())
        .unwrap();
    assert!(retired["publish_until"].as_i64().unwrap() > keygate_core::time::now() + 3600);
});

store_test!(another_node_sees_rotation_through_the_store, |srv| async move {
    // A second service over the same database and master key, like a second stateless node.
    let master = keygate_core::crypto::MasterKey::from_base64(&srv.config.master_key).unwrap();
    let store = keygate_store::connect(srv.database.url()).await.unwrap();
    let node2 = keygate_lib::Keygate::open(std::sync::Arc::new(store), &master, srv.config.settings())
        .await
        .unwrap();
    assert!(node2.keyring().rotate().await.unwrap());
    let (_, app) = srv.owned_app().await;
    let stale = srv.client_token(&app, None).await["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        srv.me(&stale).await.0,
        200,
        "a token from a node that has not reloaded yet still verifies"
    );
    srv.keygate().keyring().reload().await.unwrap();
    let fresh = srv.client_token(&app, None).await["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(kid_of(&fresh), node2.keyring().current().signer.kid);
    // node2 verifies tokens of node1 and the other way round.
    assert!(node2.validate_access_token(&fresh).await.is_ok());
    assert!(node2.validate_access_token(&stale).await.is_ok());
});

store_test!(a_wrong_master_key_is_a_clear_error, |srv| async move {
    let store = keygate_store::connect(srv.database.url()).await.unwrap();
    let wrong = keygate_core::crypto::MasterKey::generate();
    let err = keygate_lib::Keygate::open(std::sync::Arc::new(store), &wrong, srv.config.settings())
        .await
        .err()
        .expect("keys sealed under another master key must not open");
    assert!(err.to_string().contains("master key"), "{err}");
});
