//! Several Keygate nodes on one database (as behind a load balancer): each answers hot credentials from
//! memory, and what one node revokes or suspends, every other refuses as soon as the first has answered.

use keygate_testkit::store_test;
use reqwest::Method;
use serde_json::json;

use crate::api_keys::{api_key, auth};

store_test!(
    a_revocation_on_one_node_is_refused_by_the_others_at_once,
    |a| async move {
        let b = a.another_node().await;

        // An app's token, issued by node a, checked by node b (the second time from b's memory).
        let (account, app) = a.owned_app().await;
        let token = a.client_token(&app, None).await["access_token"]
            .as_str()
            .unwrap()
            .to_owned();
        for _ in 0..2 {
            assert_eq!(b.me(&token).await.0, 200);
        }
        let (status, _) = a.oauth_post("/oauth/revoke", &app, &[("token", &token)]).await;
        assert_eq!(status, 200);
        assert_eq!(b.me(&token).await.0, 401, "revoked on node a");

        // An API key exchanged on node b, revoked on node a: b refuses both the key and its token.
        let (key, secret) = api_key(&a, &account, None, None).await;
        let (status, body) = auth(&b, &key, &secret).await;
        assert_eq!(status, 200, "{body}");
        let key_token = body["access_token"].as_str().unwrap().to_owned();
        for _ in 0..2 {
            assert_eq!(b.me(&key_token).await.0, 200);
            assert_eq!(auth(&b, &key, &secret).await.0, 200);
        }
        let (status, _) = a
            .admin(Method::DELETE, &format!("/admin/v1/api-keys/{key}"), None)
            .await;
        assert!(status.is_success(), "{status}");
        assert_eq!(auth(&b, &key, &secret).await.0, 401, "key revoked on node a");
        assert_eq!(b.me(&key_token).await.0, 401, "its token too");

        // An account suspended through node b: node a stops its app's new tokens at once, and takes them
        // back when b reactivates it.
        let token = a.client_token(&app, None).await["access_token"]
            .as_str()
            .unwrap()
            .to_owned();
        assert_eq!(a.me(&token).await.0, 200);
        let path = format!("/admin/v1/accounts/{account}");
        let (status, _) = b
            .admin(Method::PATCH, &path, Some(json!({"status": "suspended"})))
            .await;
        assert_eq!(status, 200);
        assert_eq!(a.me(&token).await.0, 401, "suspended on node b");
        let (status, _) = b
            .admin(Method::PATCH, &path, Some(json!({"status": "active"})))
            .await;
        assert_eq!(status, 200);
        assert_eq!(a.me(&token).await.0, 200, "reactivated on node b");
        b.shutdown().await;
    }
);
