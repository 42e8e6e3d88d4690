//! Growing lock-outs after failed authentications, per credential and per client address: 429 with
//! nothing to learn from it, audited, and shared by every door.

use keygate_testkit::{store_test, TestServer};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::api_keys::{api_key, auth};
use crate::legacy_and_basic::{basic, basic_user, create_legacy, me_with};

async fn audit_of(srv: &TestServer, query: &str) -> Vec<Value> {
    let (status, v) = srv
        .admin(Method::GET, &format!("/admin/v1/audit?{query}"), None)
        .await;
    assert_eq!(status, 200, "{v}");
    v["events"].as_array().unwrap().clone()
}

#[track_caller]
fn assert_locked(status: StatusCode, body: &Value) {
    assert_eq!(status, 429, "{body}");
    assert_eq!(body["error"], "locked_out", "{body}");
    let detail = body["detail"].as_str().unwrap();
    assert!(
        !detail.contains("secret is") && !detail.contains("correct"),
        "{detail}"
    );
}

store_test!(
    an_api_key_locks_after_five_wrong_secrets_even_for_the_right_one,
    |srv| async move {
        let account = srv.account().await;
        let (key, secret) = api_key(&srv, &account, None, None).await;
        let (other_key, other_secret) = api_key(&srv, &account, None, None).await;
        for _ in 0..5 {
            assert_eq!(auth(&srv, &key, "kgsk_wrong").await.0, 401);
        }
        // Locked: the right secret and a wrong one get the very same answer.
        let (status, right) = auth(&srv, &key, &secret).await;
        assert_locked(status, &right);
        let (status, wrong) = auth(&srv, &key, "kgsk_wrong").await;
        assert_locked(status, &wrong);
        assert_eq!(right, wrong, "the answer must not depend on the secret");
        let res = srv
            .http
            .post(srv.at("/auth"))
            .header("x-api-key", &key)
            .json(&json!({"secret": secret}))
            .send()
            .await
            .unwrap();
        let retry: i64 = res.headers()["retry-after"].to_str().unwrap().parse().unwrap();
        assert!((1..=60).contains(&retry), "first lock is a minute: {retry}");

        // Another key of the same account, from the same address, is unaffected.
        assert_eq!(auth(&srv, &other_key, &other_secret).await.0, 200);

        // The account's admins see the lock-out, without a secret.
        let events = audit_of(&srv, &format!("account={account}&action=auth.")).await;
        assert_eq!(events.len(), 1, "{events:?}");
        assert_eq!(events[0]["action"], "auth.locked_out");
        assert_eq!(events[0]["target"], format!("api_key:{key}"));
        assert_eq!(events[0]["details"]["failures"], 5);
        assert_eq!(events[0]["details"]["locked_for"], 60);
        assert!(!events[0].to_string().contains(&secret));
    }
);

store_test!(a_success_ends_the_streak, |srv| async move {
    let account = srv.account().await;
    let (key, secret) = api_key(&srv, &account, None, None).await;
    for _ in 0..4 {
        assert_eq!(auth(&srv, &key, "kgsk_wrong").await.0, 401);
    }
    assert_eq!(auth(&srv, &key, &secret).await.0, 200);
    for _ in 0..4 {
        assert_eq!(auth(&srv, &key, "kgsk_wrong").await.0, 401);
    }
    assert_eq!(
        auth(&srv, &key, &secret).await.0,
        200,
        "eight failures split by a success do not lock"
    );
});

store_test!(an_oauth_client_locks_with_an_rfc6749_error, |srv| async move {
    let (_, app) = srv.owned_app().await;
    let attempt = |secret: &'static str| {
        let srv = &srv;
        let id = app.client_id.clone();
        async move {
            let res = srv
                .http
                .post(srv.at("/oauth/token"))
                .basic_auth(&id, Some(secret))
                .form(&[("grant_type", "client_credentials")])
                .send()
                .await
                .unwrap();
            let retry = res.headers().get("retry-after").cloned();
            (res.status(), res.json::<Value>().await.unwrap(), retry)
        }
    };
    for _ in 0..5 {
        let (status, body, _) = attempt("kgcs_wrong").await;
        assert_eq!(
            (status.as_u16(), body["error"].as_str()),
            (401, Some("invalid_client"))
        );
    }
    let res = srv
        .http
        .post(srv.at("/oauth/token"))
        .basic_auth(&app.client_id, Some(app.secret()))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 429);
    assert!(res.headers().contains_key("retry-after"));
    assert_eq!(res.headers()["cache-control"], "no-store");
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["error"], "temporarily_unavailable", "{body}");
    assert!(body["error_description"]
        .as_str()
        .unwrap()
        .contains("too many failed"));
    let (_, _, retry) = attempt("kgcs_wrong").await;
    assert!(retry.is_some());
});

store_test!(a_basic_user_locks_after_wrong_passwords, |srv| async move {
    let user = basic_user(&srv, true).await;
    for _ in 0..5 {
        assert_eq!(me_with(&srv, basic(&user.email, "not it")).await.0, 401);
    }
    let (status, body, headers) = me_with(&srv, basic(&user.email, &user.password)).await;
    assert_locked(status, &body);
    assert!(headers.contains_key("retry-after"));
    let events = audit_of(&srv, "action=auth.locked_out").await;
    assert_eq!(events[0]["target"], format!("user:{}", user.email.to_lowercase()));
});

store_test!(
    an_address_that_keeps_failing_is_locked_for_every_credential,
    |c| {
        c.lockouts.address_attempts = 3;
        c.legacy_keys.allow_new = true;
    },
    |srv| async move {
        let account = srv.account().await;
        let (_, legacy) = create_legacy(&srv, &account).await;
        let legacy = legacy["key_value"].as_str().unwrap().to_owned();
        assert_eq!(me_with(&srv, ("x-legacy-key", legacy.clone())).await.0, 200);
        // Three wrong legacy keys (which name no credential) from this address ...
        for n in 0..3 {
            let (status, ..) = me_with(&srv, ("x-legacy-key", format!("kglk_guess{n}"))).await;
            assert_eq!(status, 401);
        }
        // ... lock the address out of every door, the real key included.
        let (status, body, _) = me_with(&srv, ("x-legacy-key", legacy)).await;
        assert_locked(status, &body);
        let (key, secret) = api_key(&srv, &account, None, None).await;
        assert_locked(
            auth(&srv, &key, &secret).await.0,
            &auth(&srv, &key, &secret).await.1,
        );
        let events = audit_of(&srv, "action=auth.failure_burst").await;
        assert_eq!(events.len(), 1, "{events:?}");
        assert_eq!(events[0]["target"], "addr:127.0.0.1");
        assert_eq!(events[0]["details"]["failures"], 3);
    }
);

store_test!(
    behind_a_trusted_proxy_each_forwarded_address_counts_alone,
    |c| {
        c.lockouts.address_attempts = 2;
        c.http.trust_forwarded_for = true;
    },
    |srv| async move {
        let account = srv.account().await;
        let (key, secret) = api_key(&srv, &account, None, None).await;
        let post = |from: &'static str, secret: String| {
            let srv = &srv;
            let key = key.clone();
            async move {
                srv.http
                    .post(srv.at("/auth"))
                    .header("x-api-key", key)
                    .header("x-forwarded-for", format!("203.0.113.50, {from}"))
                    .json(&json!({"secret": secret}))
                    .send()
                    .await
                    .unwrap()
                    .status()
            }
        };
        // Unknown key ids charge the address alone.
        for _ in 0..2 {
            let res = srv
                .http
                .post(srv.at("/auth"))
                .header("x-api-key", "kgk_doesnotexist")
                .header("x-forwarded-for", "198.51.100.1")
                .json(&json!({"secret": "x"}))
                .send()
                .await
                .unwrap();
            assert_eq!(res.status(), 401);
        }
        assert_eq!(
            post("198.51.100.1", secret.clone()).await,
            429,
            "the proxy-added entry is the address"
        );
        assert_eq!(
            post("198.51.100.2", secret.clone()).await,
            200,
            "another address is not locked"
        );
    }
);

store_test!(failed_assertions_lock_their_api_key, |srv| async move {
    let account = srv.account().await;
    let (key, _) = api_key(&srv, &account, None, None).await;
    // Unsigned garbage claiming to come from the key: each a failed attempt charged to it.
    let header = base64_url(r#"{"alg":"HS256","typ":"JWT"}"#);
    let claims = base64_url(&format!(
        r#"{{"iss":"{key}","sub":"x","aud":"x","exp":9999999999,"jti":"j"}}"#
    ));
    let forged = format!("{header}.{claims}.c2lnbmF0dXJl");
    for _ in 0..5 {
        let res = srv
            .http
            .post(srv.at("/oauth/token"))
            .form(&[
                ("grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer"),
                ("assertion", &forged),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 400);
    }
    let events = audit_of(&srv, &format!("account={account}&action=auth.locked_out")).await;
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(events[0]["target"], format!("api_key:{key}"));
});

fn base64_url(s: &str) -> String {
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use base64::Engine;
    URL_SAFE_NO_PAD.encode(s)
}

store_test!(the_sign_in_form_locks_a_user_and_says_so, |srv| async move {
    let account = srv.account().await;
    let user = srv.user(&account, "member").await;
    let (_, app) = srv.owned_app().await;
    let redirect = app.redirect_uri.clone().unwrap_or_default();
    let mut last = None;
    for n in 0..6 {
        let password = if n < 5 { "wrong" } else { user.password.as_str() };
        let res = srv
            .http
            .post(srv.at("/oauth/authorize"))
            .form(&[
                ("account", account.as_str()),
                ("email", user.email.as_str()),
                ("password", password),
                ("response_type", "code"),
                ("client_id", app.client_id.as_str()),
                ("redirect_uri", redirect.as_str()),
                ("scope", "contacts.read"),
                ("code_challenge", "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"),
                ("code_challenge_method", "S256"),
            ])
            .send()
            .await
            .unwrap();
        last = Some((res.status(), res.text().await.unwrap()));
        if n < 5 {
            assert_eq!(last.as_ref().unwrap().0, 401, "{:?}", last);
        }
    }
    let (status, page) = last.unwrap();
    assert_eq!(status, 429, "{page}");
    assert!(page.contains("Too many failed sign-ins"), "{page}");
});
