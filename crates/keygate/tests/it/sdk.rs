//! The Rust SDK (`keygate-client`) against a real server: API-key tokens refreshed ahead of expiry and
//! renewed after it, contacts CRUD with ETags, typed errors, the OAuth helpers driven through the
//! browser flow, and hooks deliveries verified with `verify_signature`.

use std::collections::HashSet;
use std::time::{Duration, SystemTime};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use keygate_client::contacts::{
    Address, AddressField, ContactPatch, ContactQuery, DuplicateOption, EmailField, NewContact, Order,
    PhoneField, PhoneNumber,
};
use keygate_client::hooks::{
    verify_signature, HookEvent, HookStatus, SignatureError, SignatureHeaders, DEFAULT_TOLERANCE,
};
use keygate_client::oauth::{CallbackError, ClientAuth, OAuthClient};
use keygate_client::{Client, Error};
use keygate_testkit::{store_test, TestServer};
use serde_json::{json, Value};

use crate::api_keys::api_key;
use crate::hooks::{fast_hooks, Receiver};

/// A client with a new service key on a new account holding `scopes`; returns it with the key id.
async fn key_client(srv: &TestServer, scopes: &str, refresh_ahead: Duration) -> (Client, String) {
    let account = srv.account().await;
    let (key, secret) = api_key(srv, &account, None, Some(scopes)).await;
    let client = Client::builder(&srv.url)
        .api_key(&key, secret)
        .refresh_ahead(refresh_ahead)
        .build()
        .unwrap();
    (client, key)
}

/// The claims of a JWT, unverified (the server checks them; the tests only look).
fn claims(token: &str) -> Value {
    let payload = token.split('.').nth(1).expect("a JWT");
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap()
}

fn sid(token: &str) -> String {
    claims(token)["sid"].as_str().expect("a key session").to_owned()
}

store_test!(
    an_api_key_client_refreshes_its_token_ahead_of_expiry,
    |c| c.api_keys.token_ttl = 4,
    |srv| async move {
        let (client, key) = key_client(&srv, "contacts.read", Duration::from_secs(60)).await;
        assert!(!format!("{client:?}").contains("kgsk_"), "no secret in Debug");
        let me = client.me().await.unwrap();
        assert_eq!(
            (
                me.credential.as_str(),
                me.credential_id.as_str(),
                me.acting_as.as_str()
            ),
            ("api_key", key.as_str(), "account")
        );
        assert_eq!(me.scope, "contacts.read");
        let first = client.access_token().await.unwrap();
        assert_eq!(
            client.access_token().await.unwrap(),
            first,
            "not due yet: the same token"
        );

        // Past half its life (the refresh-ahead margin is longer than the lifetime): refreshed, in the
        // same key session, so it came from /auth/refresh and not a new /auth.
        tokio::time::sleep(Duration::from_millis(2200)).await;
        let second = client.access_token().await.unwrap();
        assert_ne!(second, first, "refreshed");
        assert_eq!(sid(&second), sid(&first), "the same session: a refresh");
        assert!(claims(&second)["exp"].as_i64() > claims(&first)["exp"].as_i64());
        assert_eq!(
            client.me().await.unwrap().expires_at,
            claims(&second)["exp"].as_i64()
        );

        // Many tasks at once when a refresh is due: one refresh runs; the others keep the valid token.
        tokio::time::sleep(Duration::from_millis(2200)).await;
        let tasks: Vec<_> = (0..8)
            .map(|_| {
                let c = client.clone();
                tokio::spawn(async move { c.access_token().await })
            })
            .collect();
        let mut seen = HashSet::new();
        for t in tasks {
            seen.insert(t.await.unwrap().unwrap());
        }
        let third = client.access_token().await.unwrap();
        assert!(seen.len() <= 2, "at most one refresh: {} tokens", seen.len());
        assert!(seen.contains(&third) && third != second);
        assert_eq!(sid(&third), sid(&first));
        assert_eq!(client.me().await.unwrap().credential_id, key);
    }
);

store_test!(
    an_api_key_client_signs_in_again_after_its_token_expired,
    |c| {
        c.api_keys.token_ttl = 1;
        c.tokens.leeway = 0;
    },
    |srv| async move {
        let (client, _) = key_client(&srv, "contacts.read", Duration::from_secs(0)).await;
        let first = client.access_token().await.unwrap();
        tokio::time::sleep(Duration::from_millis(2200)).await;
        // Refreshing the expired token answers token_expired; the client falls back to /auth.
        assert_eq!(client.me().await.unwrap().scope, "contacts.read");
        let second = client.access_token().await.unwrap();
        assert_ne!(sid(&second), sid(&first), "a new session");
    }
);

store_test!(
    an_api_key_client_starts_a_new_session_when_one_ends,
    |c| {
        c.api_keys.token_ttl = 2;
        c.api_keys.max_session = 3;
    },
    |srv| async move {
        let (client, _) = key_client(&srv, "contacts.read", Duration::from_secs(60)).await;
        let first = client.access_token().await.unwrap();
        tokio::time::sleep(Duration::from_millis(1100)).await;
        let second = client.access_token().await.unwrap();
        assert_eq!(sid(&second), sid(&first), "refreshed within the session");
        tokio::time::sleep(Duration::from_millis(2200)).await;
        // The token is within the server's leeway, but its session is over: session_expired, then /auth.
        client.me().await.unwrap();
        let third = client.access_token().await.unwrap();
        assert_ne!(sid(&third), sid(&first), "a new session");
    }
);

store_test!(contacts_crud_with_etags, |srv| async move {
    let (client, _) = key_client(&srv, "contacts.read contacts.write", Duration::from_secs(60)).await;
    let contacts = client.contacts();
    let new = NewContact::new()
        .given_name("Ann")
        .family_name("Lee")
        .company_name("Acme")
        .email(EmailField::Email1, "ann@acme.test")
        .phone(
            PhoneNumber::new(PhoneField::Phone1, "+1 555-0100")
                .extension("12")
                .kind("Work"),
        )
        .address(
            Address::new(AddressField::Billing)
                .line1("1 Main St")
                .locality("Boston"),
        )
        .tag(3)
        .tag(9)
        .source_type("API");
    let created = contacts.create(&new).await.unwrap();
    assert_eq!(created.etag, "\"1\"");
    assert_eq!(created.company_name.as_deref(), Some("Acme"));
    assert_eq!(created.primary_email(), Some("ann@acme.test"));
    assert_eq!(created.phone_numbers[0].kind.as_deref(), Some("Work"));
    assert_eq!(created.addresses[0].locality.as_deref(), Some("Boston"));
    assert_eq!(created.tag_ids, vec![3, 9]);
    assert_eq!(
        (created.email_status.as_deref(), created.email_opted_in),
        (None, Some(false))
    );
    assert!(created.date_created.ends_with('Z'));
    let id = created.id;

    let read = contacts.get(id).await.unwrap();
    assert_eq!(read, created);

    // A patch with the current ETag; only what it names changes.
    let patch = ContactPatch::new()
        .job_title("CEO")
        .middle_name("Q")
        .email(EmailField::Email2, "ann@home.test");
    let updated = contacts.update(id, &patch, Some(&read.etag)).await.unwrap();
    assert_eq!(updated.etag, "\"2\"");
    assert_eq!(
        (
            updated.job_title.as_deref(),
            updated.middle_name.as_deref(),
            updated.given_name.as_deref()
        ),
        (Some("CEO"), Some("Q"), Some("Ann"))
    );
    assert_eq!(updated.email(EmailField::Email2), Some("ann@home.test"));
    // The old ETag is stale now: 412, and nothing is written.
    let stale = contacts
        .update(id, &ContactPatch::new().clear_middle_name(), Some(&read.etag))
        .await
        .unwrap_err();
    assert!(matches!(stale, Error::PreconditionFailed { .. }), "{stale:?}");
    assert_eq!(stale.problem().unwrap().kind_name(), "precondition-failed");
    assert_eq!(contacts.get(id).await.unwrap().middle_name.as_deref(), Some("Q"));
    let cleared = contacts
        .update(
            id,
            &ContactPatch::new()
                .clear_middle_name()
                .remove_email(EmailField::Email2),
            None,
        )
        .await
        .unwrap();
    assert_eq!(
        (cleared.middle_name.as_deref(), cleared.email_addresses.len()),
        (None, 1)
    );

    // Upsert: the same email replaces (200), a new one creates (201).
    let up = contacts
        .upsert(
            &NewContact::new()
                .given_name("Ann")
                .email(EmailField::Email1, "ANN@acme.test"),
            DuplicateOption::Email,
        )
        .await
        .unwrap();
    assert_eq!((up.created, up.contact.id), (false, id));
    let up2 = contacts
        .upsert(
            &NewContact::new()
                .given_name("Bob")
                .email(EmailField::Email1, "bob@acme.test"),
            DuplicateOption::EmailAndName,
        )
        .await
        .unwrap();
    assert!(up2.created && up2.contact.id != id);

    // Paging follows `next` to the end, keeping the filters.
    for i in 0..4 {
        contacts
            .create(&NewContact::new().given_name(format!("Pat{i}")))
            .await
            .unwrap();
    }
    let mut pages = contacts.pages(ContactQuery::new().given_name("pat%").limit(3));
    let mut sizes = Vec::new();
    let mut ids = HashSet::new();
    while let Some(page) = pages.next().await.unwrap() {
        assert_eq!(page.count, 4);
        sizes.push(page.contacts.len());
        ids.extend(page.contacts.iter().map(|c| c.id));
    }
    assert_eq!((sizes, ids.len()), (vec![3, 1], 4));
    let all = contacts
        .list_all(ContactQuery::new().order(Order::Id).descending().limit(2))
        .await
        .unwrap();
    assert_eq!(all.len(), 6);
    assert!(all.windows(2).all(|w| w[0].id > w[1].id), "descending by id");
    let by_email = contacts
        .list(&ContactQuery::new().email("BOB@acme.test"))
        .await
        .unwrap();
    assert_eq!((by_email.count, by_email.next.as_deref()), (1, None));
    let future = contacts
        .list(&ContactQuery::new().since(4_000_000_000_i64))
        .await
        .unwrap();
    assert_eq!(future.count, 0);

    // Email status: opt in, read, opt out, and a refused opt-in is a conflict.
    let opted = contacts.opt_in("ann@acme.test", "").await.unwrap();
    assert!(opted.changed && opted.status.marketable);
    assert_eq!(opted.status.reason.as_deref(), Some("API Opt In"));
    assert!(!contacts.opt_in("ann@acme.test", "again").await.unwrap().changed);
    let status = contacts.email_status("Ann@Acme.test").await.unwrap();
    assert_eq!(
        (status.email.as_str(), status.status.as_deref()),
        ("ann@acme.test", Some("unconfirmed"))
    );
    let out = contacts.opt_out("ann@acme.test", "asked").await.unwrap();
    assert_eq!(
        (out.changed, out.status.opted_out_by.as_deref()),
        (true, Some("admin"))
    );
    let refused = contacts.opt_in("ann@acme.test", "").await.unwrap_err();
    assert!(matches!(refused, Error::Conflict { .. }), "{refused:?}");
    assert_eq!(refused.code(), Some("opt_in_refused"));
    let slots = contacts.email_statuses(id).await.unwrap();
    assert_eq!(slots.contact_id, id);
    assert_eq!(slots.email_addresses[0].field, EmailField::Email1);
    assert!(!slots.email_addresses[0].status.marketable);
    assert_eq!(contacts.get(id).await.unwrap().email_opted_in, Some(false));

    // Delete: a stale ETag is refused; then it is gone.
    let current = contacts.get(id).await.unwrap();
    let err = contacts.delete(id, Some("\"1\"")).await.unwrap_err();
    assert!(matches!(err, Error::PreconditionFailed { .. }), "{err:?}");
    contacts.delete(id, Some(&current.etag)).await.unwrap();
    let gone = contacts.get(id).await.unwrap_err();
    assert!(matches!(gone, Error::NotFound { .. }), "{gone:?}");
});

store_test!(errors_are_typed, |srv| async move {
    let (reader, _) = key_client(&srv, "contacts.read", Duration::from_secs(60)).await;
    let err = reader
        .contacts()
        .create(&NewContact::new().given_name("Ann"))
        .await
        .unwrap_err();
    match &err {
        Error::Forbidden { scope, problem } => {
            assert_eq!(scope.as_deref(), Some("contacts.write"));
            assert_eq!(problem.error.as_deref(), Some("insufficient_scope"));
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(err.status(), Some(403));
    let err = reader.hooks().list().await.unwrap_err();
    assert!(
        matches!(&err, Error::Forbidden { scope: Some(s), .. } if s == "hooks"),
        "{err:?}"
    );

    let err = reader.contacts().get(987_654).await.unwrap_err();
    assert!(matches!(err, Error::NotFound { .. }), "{err:?}");

    let (writer, _) = key_client(&srv, "contacts.read contacts.write", Duration::from_secs(60)).await;
    let err = writer
        .contacts()
        .create(&NewContact::new().email(EmailField::Email1, "not an address"))
        .await
        .unwrap_err();
    match &err {
        Error::Invalid { field, detail, .. } => {
            assert_eq!(field.as_deref(), Some("email_addresses[0].email"));
            assert!(!detail.is_empty());
        }
        other => panic!("{other:?}"),
    }

    // A wrong secret: /auth refuses, and the call says so.
    let account = srv.account().await;
    let (key, _) = api_key(&srv, &account, None, None).await;
    let wrong = Client::builder(&srv.url)
        .api_key(&key, "kgsk_wrongwrongwrongwrongwrongwrongwrongwrongwro")
        .build()
        .unwrap();
    let err = wrong.me().await.unwrap_err();
    assert!(matches!(err, Error::Unauthorized { .. }), "{err:?}");
    assert_eq!(err.code(), Some("invalid_credentials"));
    assert!(!err.to_string().contains("kgsk_"), "{err}");

    // A static token that is not one.
    let bogus = Client::builder(&srv.url).access_token("nope").build().unwrap();
    assert!(matches!(
        bogus.me().await.unwrap_err(),
        Error::Unauthorized { .. }
    ));

    // Nobody listening: a transport error.
    let nowhere = Client::builder("http://127.0.0.1:9")
        .access_token("t")
        .build()
        .unwrap();
    assert!(matches!(nowhere.me().await.unwrap_err(), Error::Transport(_)));
});

store_test!(
    rate_limits_are_typed_with_retry_after,
    |c| {
        c.rate_limits.per_minute = 3;
        c.rate_limits.burst = 3;
    },
    |srv| async move {
        let (client, _) = key_client(&srv, "contacts.read", Duration::from_secs(60)).await;
        let mut limited = None;
        for _ in 0..5 {
            match client.me().await {
                Ok(_) => {}
                Err(e) => {
                    limited = Some(e);
                    break;
                }
            }
        }
        match limited.expect("the bucket runs dry") {
            Error::RateLimited {
                retry_after: Some(wait),
                problem,
            } => {
                assert!((1..=60).contains(&wait.as_secs()), "{wait:?}");
                assert_eq!(problem.error.as_deref(), Some("rate_limited"));
            }
            other => panic!("{other:?}"),
        }
    }
);

store_test!(oauth_helpers_drive_the_code_flow, |srv| async move {
    let account = srv.account().await;
    let user = srv.user(&account, "member").await;
    let redirect = "https://app.example.com/cb";
    let app = srv
        .app(json!({"name": "SDK app", "redirect_uris": [redirect], "allowed_scopes": "contacts.read contacts.write"}))
        .await;
    let oauth = OAuthClient::new(&srv.url, &app.client_id)
        .unwrap()
        .with_secret(app.secret());
    assert!(!format!("{oauth:?}").contains(app.secret()));

    let request = oauth.authorization_request(redirect, "contacts.read").unwrap();
    let back = srv.authorize_url(request.url().as_str(), &user, true).await;
    let code = request.code_from_callback(back.as_str()).unwrap();
    assert!(code.starts_with("kgac_"));
    let tokens = oauth.exchange_code(&request, &code).await.unwrap();
    assert_eq!(
        (
            tokens.token_type.as_str(),
            tokens.scope.as_deref(),
            tokens.expires_in
        ),
        ("Bearer", Some("contacts.read"), Some(3600))
    );
    let refresh_token = tokens.refresh_token.clone().unwrap();
    assert!(refresh_token.starts_with("kgrt_"));
    assert!(!format!("{tokens:?}").contains(&refresh_token));

    let as_user = Client::builder(&srv.url)
        .access_token(tokens.access_token.clone())
        .build()
        .unwrap();
    let me = as_user.me().await.unwrap();
    assert_eq!(
        (me.acting_as.as_str(), me.user_id.as_deref(), me.account.as_str()),
        ("user", Some(user.id.as_str()), account.as_str())
    );
    assert_eq!(
        as_user.contacts().list(&ContactQuery::new()).await.unwrap().count,
        0
    );

    // Refresh rotates the refresh token; client_secret_post works the same.
    let post = oauth.clone().with_auth_method(ClientAuth::Post);
    let refreshed = post.refresh(&refresh_token, None).await.unwrap();
    let rotated = refreshed.refresh_token.clone().unwrap();
    assert_ne!(rotated, refresh_token);
    assert_ne!(refreshed.access_token, tokens.access_token);
    let narrowed = oauth.refresh(&rotated, Some("contacts.read")).await.unwrap();
    assert_eq!(narrowed.scope.as_deref(), Some("contacts.read"));

    // A code works once (a replay revokes its grant); a wrong verifier never works.
    let replayed = oauth.exchange_code(&request, &code).await.unwrap_err();
    assert_eq!(
        (replayed.status(), replayed.code()),
        (Some(400), Some("invalid_grant"))
    );
    let request2 = oauth.authorization_request(redirect, "").unwrap();
    let back = srv.authorize_url(request2.url().as_str(), &user, true).await;
    let code2 = request2.code_from_callback(back.as_str()).unwrap();
    let err = oauth
        .exchange_code_with(&code2, redirect, Some(request.pkce_verifier()))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("invalid_grant"), "{err:?}");

    // Revoking the access token ends it at once.
    oauth.revoke(&narrowed.access_token).await.unwrap();
    let revoked = Client::builder(&srv.url)
        .access_token(narrowed.access_token.clone())
        .build()
        .unwrap();
    assert!(matches!(
        revoked.me().await.unwrap_err(),
        Error::Unauthorized { .. }
    ));

    // A denial comes back as such, and a callback of another request is refused.
    let denied = oauth.authorization_request(redirect, "contacts.read").unwrap();
    let back = srv.authorize_url(denied.url().as_str(), &user, false).await;
    assert!(matches!(
        denied.code_from_callback(back.as_str()),
        Err(CallbackError::Refused { ref error, .. }) if error == "access_denied"
    ));
    assert_eq!(
        request.code_from_callback(back.as_str()),
        Err(CallbackError::StateMismatch)
    );

    // A wrong client secret is unauthorized.
    let wrong = OAuthClient::new(&srv.url, &app.client_id)
        .unwrap()
        .with_secret("kgcs_wrong");
    let err = wrong.refresh(&rotated, None).await.unwrap_err();
    assert!(matches!(err, Error::Unauthorized { .. }), "{err:?}");
    assert_eq!(err.code(), Some("invalid_client"));
});

store_test!(client_credentials_tokens_are_managed, |srv| async move {
    let (account, app) = srv.owned_app().await;
    let client = Client::builder(&srv.url)
        .oauth_client_credentials(&app.client_id, app.secret(), "contacts.read")
        .build()
        .unwrap();
    assert!(!format!("{client:?}").contains(app.secret()));
    let me = client.me().await.unwrap();
    assert_eq!(
        (
            me.account.as_str(),
            me.acting_as.as_str(),
            me.credential_id.as_str(),
            me.scope.as_str()
        ),
        (
            account.as_str(),
            "account",
            app.client_id.as_str(),
            "contacts.read"
        )
    );
    let token = client.access_token().await.unwrap();
    assert_eq!(claims(&token)["sub"], app.client_id.as_str());

    // A token the server stops accepting is replaced once, transparently.
    let oauth = OAuthClient::new(&srv.url, &app.client_id)
        .unwrap()
        .with_secret(app.secret());
    oauth.revoke(&token).await.unwrap();
    client.me().await.unwrap();
    assert_ne!(client.access_token().await.unwrap(), token);
});

store_test!(
    hooks_deliveries_verify_with_the_subscription_secret,
    fast_hooks,
    |srv| async move {
        let (client, _) = key_client(
            &srv,
            "contacts.read contacts.write hooks",
            Duration::from_secs(60),
        )
        .await;
        let hooks = client.hooks();
        assert_eq!(
            hooks.event_keys().await.unwrap(),
            [
                "contact.add",
                "contact.edit",
                "contact.delete",
                "contact.opt_in",
                "contact.opt_out"
            ]
        );
        let receiver = Receiver::start().await;
        let created = hooks.subscribe("contact.add", &receiver.url).await.unwrap();
        assert_eq!(created.subscription.status, HookStatus::Verified);
        assert_eq!(created.verification_error, None);
        let secret = created.secret.clone().expect("shown once").expose().to_owned();
        assert!(secret.starts_with("whsec_"));
        assert!(!format!("{created:?}").contains(&secret));
        let key = created.subscription.key.clone();
        assert_eq!(hooks.list().await.unwrap(), vec![created.subscription.clone()]);
        assert_eq!(hooks.get(&key).await.unwrap(), created.subscription);

        let ann = client
            .contacts()
            .create(&NewContact::new().given_name("Ann"))
            .await
            .unwrap();
        let got = receiver.wait_for(1).await.remove(0);
        let headers = SignatureHeaders::from_headers(&got.headers).unwrap();
        let now = SystemTime::now();
        assert_eq!(
            verify_signature(&secret, headers, &got.body, DEFAULT_TOLERANCE, now),
            Ok(())
        );
        let event = HookEvent::from_body(&got.body).unwrap();
        assert_eq!(
            (event.event_key.as_str(), event.object_keys[0].id),
            ("contact.add", ann.id)
        );

        // A tampered body, an old (or future) timestamp, or another secret are refused.
        let mut tampered = got.body.clone();
        tampered.extend_from_slice(b" ");
        assert_eq!(
            verify_signature(&secret, headers, &tampered, DEFAULT_TOLERANCE, now),
            Err(SignatureError::Mismatch)
        );
        assert!(matches!(
            verify_signature(
                &secret,
                headers,
                &got.body,
                DEFAULT_TOLERANCE,
                now + Duration::from_secs(600)
            ),
            Err(SignatureError::TimestampOutOfTolerance { .. })
        ));
        assert!(matches!(
            verify_signature(
                &secret,
                headers,
                &got.body,
                DEFAULT_TOLERANCE,
                now - Duration::from_secs(600)
            ),
            Err(SignatureError::TimestampOutOfTolerance { .. })
        ));
        let other = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
        assert_eq!(
            verify_signature(other, headers, &got.body, DEFAULT_TOLERANCE, now),
            Err(SignatureError::Mismatch)
        );

        // The delivery log and stats agree with what arrived; a replay sends the same id again.
        let mut delivered = None;
        for _ in 0..100 {
            let log = hooks.deliveries(&key, Some(10), None).await.unwrap();
            if log.first().is_some_and(|d| d.status == "delivered") {
                delivered = log.into_iter().next();
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let delivery = delivered.expect("the delivery is recorded as delivered");
        assert_eq!(delivery.id, headers.id);
        assert_eq!(delivery.attempts[0].status_code, Some(200));
        assert_eq!(delivery.event().unwrap(), event);
        let stats = hooks.stats(&key).await.unwrap();
        assert_eq!((stats.delivered, stats.failed), (1, 0));
        hooks.replay(&key, &delivery.id).await.unwrap();
        let again = receiver.wait_for(2).await.remove(1);
        assert_eq!(again.headers["webhook-id"], delivery.id.as_str());
        let h = SignatureHeaders::from_headers(&again.headers).unwrap();
        assert_eq!(
            verify_signature(&secret, h, &again.body, DEFAULT_TOLERANCE, SystemTime::now()),
            Ok(())
        );

        // After a rotation deliveries carry both signatures: either secret verifies.
        let rotated = hooks.rotate_secret(&key).await.unwrap();
        let new_secret = rotated.secret.clone().unwrap().expose().to_owned();
        assert_ne!(new_secret, secret);
        assert!(rotated.previous_secret_expires_at.is_some());
        client
            .contacts()
            .create(&NewContact::new().given_name("Bob"))
            .await
            .unwrap();
        let third = receiver.wait_for(3).await.remove(2);
        let h = SignatureHeaders::from_headers(&third.headers).unwrap();
        assert_eq!(h.signature.split(' ').count(), 2, "{}", h.signature);
        for s in [&new_secret, &secret] {
            assert_eq!(
                verify_signature(s, h, &third.body, DEFAULT_TOLERANCE, SystemTime::now()),
                Ok(())
            );
        }

        // Handshake again, point elsewhere, unsubscribe.
        assert_eq!(
            hooks.verify(&key).await.unwrap().subscription.status,
            HookStatus::Verified
        );
        let elsewhere = Receiver::start().await;
        let moved = hooks.retarget(&key, &elsewhere.url).await.unwrap();
        assert_eq!(
            (moved.subscription.hook_url.as_str(), moved.subscription.status),
            (elsewhere.url.as_str(), HookStatus::Verified)
        );
        hooks.delete(&key).await.unwrap();
        assert!(matches!(
            hooks.get(&key).await.unwrap_err(),
            Error::NotFound { .. }
        ));
        assert!(hooks.list().await.unwrap().is_empty());
    }
);
