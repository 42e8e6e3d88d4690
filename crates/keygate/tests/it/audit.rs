//! The audit log: security events recorded as they happen, listable and filterable, never with a secret.

use keygate_testkit::{query_param, store_test};
use reqwest::Method;
use serde_json::{json, Value};

use crate::api_keys::api_key;

fn actions(events: &Value) -> Vec<String> {
    events["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap().to_owned())
        .collect()
}

store_test!(
    credential_changes_are_recorded_with_their_actor,
    |srv| async move {
        let (account, app) = srv.owned_app().await;
        let (key, secret) = api_key(&srv, &account, None, None).await;
        let (_, rotated) = srv
            .admin(
                Method::POST,
                &format!("/admin/v1/apps/{}/rotate-secret", app.client_id),
                None,
            )
            .await;
        srv.admin(Method::DELETE, &format!("/admin/v1/api-keys/{key}"), None)
            .await;
        srv.admin(
            Method::PATCH,
            &format!("/admin/v1/accounts/{account}"),
            Some(json!({"status": "suspended"})),
        )
        .await;

        let (status, events) = srv
            .admin(Method::GET, &format!("/admin/v1/audit?account={account}"), None)
            .await;
        assert_eq!(status, 200);
        assert_eq!(
            actions(&events),
            [
                "account.suspended",
                "api_key.revoked",
                "app.secret_rotated",
                "api_key.created",
                "app.created",
                "account.created"
            ],
            "newest first"
        );
        let first = &events["events"][0];
        assert!(
            first["actor"].as_str().unwrap().starts_with("admin_token:adm_"),
            "{first}"
        );
        assert_eq!(first["target"], account.as_str());
        let text = events.to_string();
        for secret in [
            secret.as_str(),
            app.secret(),
            rotated["client_secret"].as_str().unwrap(),
        ] {
            assert!(!text.contains(secret), "no secret in the audit log");
        }
    }
);

store_test!(filters_and_paging, |srv| async move {
    let account = srv.account().await;
    for _ in 0..3 {
        api_key(&srv, &account, None, None).await;
    }
    let (_, keys) = srv
        .admin(
            Method::GET,
            &format!("/admin/v1/audit?account={account}&action=api_key."),
            None,
        )
        .await;
    assert_eq!(actions(&keys), ["api_key.created"; 3]);
    let (_, page1) = srv
        .admin(
            Method::GET,
            &format!("/admin/v1/audit?account={account}&limit=2"),
            None,
        )
        .await;
    assert_eq!(page1["events"].as_array().unwrap().len(), 2);
    let last = page1["events"][1]["id"].as_i64().unwrap();
    let (_, page2) = srv
        .admin(
            Method::GET,
            &format!("/admin/v1/audit?account={account}&limit=2&before={last}"),
            None,
        )
        .await;
    let ids: Vec<i64> = page2["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["id"].as_i64().unwrap())
        .collect();
    assert_eq!(ids.len(), 2);
    assert!(ids.iter().all(|id| *id < last));
    for bad in [
        "limit=0",
        "limit=5000",
        "action=DROP%20TABLE",
        "account=nope",
        "limit=x",
    ] {
        let (status, body) = srv
            .admin(Method::GET, &format!("/admin/v1/audit?{bad}"), None)
            .await;
        assert!(status == 400 || status == 422, "{bad}: {status} {body}");
    }
});

store_test!(replayed_codes_are_security_events, |srv| async move {
    let (user, app) = crate::authorization_code::fixture(&srv, "member", "contacts.read").await;
    let back = srv
        .authorize(
            &[("response_type", "code"), ("client_id", &app.client_id)],
            &user,
            true,
        )
        .await;
    let code = query_param(&back, "code").unwrap();
    let form = [("grant_type", "authorization_code"), ("code", code.as_str())];
    assert_eq!(srv.oauth_post("/oauth/token", &app, &form).await.0, 200);
    assert_eq!(srv.oauth_post("/oauth/token", &app, &form).await.0, 400);
    let (_, events) = srv
        .admin(
            Method::GET,
            &format!(
                "/admin/v1/audit?account={}&action=authorization_code.",
                user.account
            ),
            None,
        )
        .await;
    let event = &events["events"][0];
    assert_eq!(event["action"], "authorization_code.replayed");
    assert_eq!(event["actor"], "system");
    assert_eq!(event["target"], user.id.as_str());
    assert_eq!(event["details"]["client_id"], app.client_id.as_str());
});
