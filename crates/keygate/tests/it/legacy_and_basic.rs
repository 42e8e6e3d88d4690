//! The two doors that take a credential with every request: legacy static keys (deprecated) and HTTP
//! Basic (off unless the account allows it).

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use keygate_testkit::{store_test, TestServer, TestUser};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

const DEPRECATED_SINCE: &str = "@1767225600";

pub async fn me_with(
    srv: &TestServer,
    header: (&str, String),
) -> (StatusCode, Value, reqwest::header::HeaderMap) {
    let res = srv
        .http
        .get(srv.at("/v1/me"))
        .header(header.0, header.1)
        .send()
        .await
        .unwrap();
    let headers = res.headers().clone();
    (res.status(), res.json().await.unwrap_or(Value::Null), headers)
}

pub fn basic(user: &str, password: &str) -> (&'static str, String) {
    (
        "authorization",
        format!("Basic {}", STANDARD.encode(format!("{user}:{password}"))),
    )
}

pub async fn create_legacy(srv: &TestServer, account: &str) -> (StatusCode, Value) {
    srv.admin(
        Method::POST,
        &format!("/admin/v1/accounts/{account}/legacy-keys"),
        Some(json!({"name": "Old CRM sync"})),
    )
    .await
}

store_test!(new_legacy_keys_are_off_by_default, |srv| async move {
    let account = srv.account().await;
    let (status, body) = create_legacy(&srv, &account).await;
    assert_eq!(status, 409);
    assert!(
        body["detail"].as_str().unwrap().contains("legacy_keys.allow_new"),
        "{body}"
    );
});

store_test!(
    legacy_keys_work_deprecated_and_counted,
    |c| {
        c.legacy_keys.allow_new = true;
        c.legacy_keys.sunset = Some(1_798_761_600);
    },
    |srv| async move {
        let account = srv.account().await;
        let (status, created) = create_legacy(&srv, &account).await;
        assert_eq!(status, 201, "{created}");
        let key = created["key_value"].as_str().unwrap().to_owned();
        assert!(key.starts_with("kglk_"));
        for _ in 0..2 {
            let (status, me, headers) = me_with(&srv, ("x-legacy-key", key.clone())).await;
            assert_eq!(status, 200, "{me}");
            assert_eq!(me["credential"], "legacy_key");
            assert_eq!(me["acting_as"], "account");
            assert_eq!(me["account"], account.as_str());
            assert_eq!(me["scope"], "full");
            assert_eq!(headers["deprecation"], DEPRECATED_SINCE);
            assert_eq!(headers["sunset"], "Fri, 01 Jan 2027 00:00:00 GMT");
        }
        let (status, refused, headers) = me_with(&srv, ("x-legacy-key", "kglk_wrong".into())).await;
        assert_eq!(status, 401);
        assert_eq!(headers["deprecation"], DEPRECATED_SINCE, "failures are told too");
        assert_eq!(
            refused["detail"], "this legacy key is unknown or has been revoked",
            "the refusal names the credential that was sent"
        );
        let (_, listed) = srv
            .admin(
                Method::GET,
                &format!("/admin/v1/accounts/{account}/legacy-keys"),
                None,
            )
            .await;
        let listed = &listed["legacy_keys"][0];
        assert_eq!(listed["use_count"], 2);
        assert!(listed["last_used_at"].is_i64());
        assert!(!listed.to_string().contains(&key), "the key is shown once only");
        let (_, audit) = srv
            .admin(
                Method::GET,
                &format!("/admin/v1/audit?account={account}&action=legacy_key.used"),
                None,
            )
            .await;
        assert_eq!(
            audit["events"].as_array().unwrap().len(),
            1,
            "one audit event a day, not one per call"
        );
        let id = listed["id"].as_str().unwrap();
        let (status, revoked) = srv
            .admin(Method::DELETE, &format!("/admin/v1/legacy-keys/{id}"), None)
            .await;
        assert_eq!(
            (status.as_u16(), revoked["status"].as_str()),
            (200, Some("revoked"))
        );
        assert_eq!(me_with(&srv, ("x-legacy-key", key)).await.0, 401);
    }
);

store_test!(
    existing_legacy_keys_keep_working_when_new_ones_are_off,
    |srv| async move {
        // Another node over the same store, configured to allow new keys, creates one: this server, which
        // refuses new keys, must still accept it.
        let mut settings = srv.config.settings();
        settings.legacy_keys.allow_new = true;
        let master = keygate_core::crypto::MasterKey::from_base64(&srv.config.master_key).unwrap();
        let store = keygate_store::connect(srv.database.url()).await.unwrap();
        let other = keygate_lib::Keygate::open(std::sync::Arc::new(store), &master, settings)
            .await
            .unwrap();
        let account = srv.account().await;
        let created = other
            .manage(keygate_lib::Actor::System)
            .create_legacy_key(
                &account,
                keygate_lib::legacy::CreateLegacyKey {
                    name: "imported".into(),
                },
            )
            .await
            .unwrap();
        let (status, me, _) = me_with(&srv, ("x-legacy-key", created.key_value.clone())).await;
        assert_eq!(status, 200, "{me}");
        // A bearer token wins over a legacy key sent alongside it.
        let (_, app) = srv.owned_app().await;
        let token = srv.client_token(&app, None).await["access_token"]
            .as_str()
            .unwrap()
            .to_owned();
        let res = srv
            .http
            .get(srv.at("/v1/me"))
            .bearer_auth(&token)
            .header("x-legacy-key", &created.key_value)
            .send()
            .await
            .unwrap();
        assert!(res.headers().get("deprecation").is_none());
        assert_eq!(res.json::<Value>().await.unwrap()["credential"], "oauth_app");
    }
);

store_test!(
    a_suspended_accounts_legacy_key_is_refused,
    |c| c.legacy_keys.allow_new = true,
    |srv| async move {
        let account = srv.account().await;
        let (_, created) = create_legacy(&srv, &account).await;
        let key = created["key_value"].as_str().unwrap().to_owned();
        let path = format!("/admin/v1/accounts/{account}");
        srv.admin(Method::PATCH, &path, Some(json!({"status": "suspended"})))
            .await;
        let (status, body, _) = me_with(&srv, ("x-legacy-key", key.clone())).await;
        assert_eq!(
            (status.as_u16(), body["type"].as_str()),
            (403, Some("urn:keygate:problem:suspended")),
            "{body}"
        );
        srv.admin(Method::PATCH, &path, Some(json!({"status": "active"})))
            .await;
        assert_eq!(me_with(&srv, ("x-legacy-key", key)).await.0, 200);
    }
);

pub async fn basic_user(srv: &TestServer, enable: bool) -> TestUser {
    let account = srv.account().await;
    if enable {
        let (status, v) = srv
            .admin(
                Method::PATCH,
                &format!("/admin/v1/accounts/{account}"),
                Some(json!({"basic_auth": true})),
            )
            .await;
        assert_eq!((status.as_u16(), v["basic_auth"].as_bool()), (200, Some(true)));
    }
    srv.user(&account, "member").await
}

store_test!(basic_auth_is_off_unless_the_account_allows_it, |srv| async move {
    let user = basic_user(&srv, false).await;
    let (status, body, headers) = me_with(&srv, basic(&user.email, &user.password)).await;
    assert_eq!(status, 401, "{body}");
    assert!(headers["www-authenticate"].to_str().unwrap().starts_with("Basic"));
    let (_, account) = srv
        .admin(Method::GET, &format!("/admin/v1/accounts/{}", user.account), None)
        .await;
    assert_eq!(account["basic_auth"], false, "off by default");
});

store_test!(basic_auth_for_an_allowed_account, |srv| async move {
    let user = basic_user(&srv, true).await;
    let (status, me, _) = me_with(&srv, basic(&user.email, &user.password)).await;
    assert_eq!(status, 200, "{me}");
    assert_eq!(me["credential"], "basic");
    assert_eq!(me["user_id"], user.id.as_str());
    assert_eq!(
        me["scope"], "contacts.read contacts.write hooks",
        "never impersonate over Basic"
    );
    let (status, _, _) = me_with(&srv, basic(&user.email.to_uppercase(), &user.password)).await;
    assert_eq!(status, 200, "emails are case-insensitive");
    let (status, body, headers) = me_with(&srv, basic(&user.email, "wrong password here")).await;
    assert_eq!(status, 401);
    assert!(headers["www-authenticate"].to_str().unwrap().starts_with("Basic"));
    assert!(!body.to_string().contains("wrong password here"));
    assert_eq!(body["detail"], "the email or the password is wrong", "{body}");
    assert_eq!(me_with(&srv, ("authorization", "Basic !!!".into())).await.0, 401);
    srv.admin(
        Method::PATCH,
        &format!("/admin/v1/users/{}", user.id),
        Some(json!({"status": "suspended"})),
    )
    .await;
    assert_eq!(me_with(&srv, basic(&user.email, &user.password)).await.0, 403);
});

store_test!(
    the_same_email_in_two_accounts_needs_the_account_name,
    |srv| async move {
        let first = basic_user(&srv, true).await;
        let second_account = basic_user(&srv, true).await.account;
        let body = json!({"email": first.email, "password": first.password, "role": "member"});
        let (status, _) = srv
            .admin(
                Method::POST,
                &format!("/admin/v1/accounts/{second_account}/users"),
                Some(body),
            )
            .await;
        assert_eq!(status, 201);
        let (status, err, _) = me_with(&srv, basic(&first.email, &first.password)).await;
        assert_eq!(status, 401);
        assert!(err["detail"].as_str().unwrap().contains("ab123/email"), "{err}");
        let (status, me, _) = me_with(
            &srv,
            basic(&format!("{second_account}/{}", first.email), &first.password),
        )
        .await;
        assert_eq!(status, 200);
        assert_eq!(me["account"], second_account.as_str());
    }
);
