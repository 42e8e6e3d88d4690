//! Contacts over REST: CRUD with ETags, paging and sync, upsert, opt-in rules, scopes, isolation, and
//! every credential type.

use keygate_testkit::{store_test, TestServer};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::api_keys::{api_key, auth};

/// A bearer token of a service key on `account` with `scopes`.
pub async fn token(srv: &TestServer, account: &str, scopes: &str) -> String {
    let (key, secret) = api_key(srv, account, None, Some(scopes)).await;
    let (status, body) = auth(srv, &key, &secret).await;
    assert_eq!(status, 200, "{body}");
    body["access_token"].as_str().unwrap().to_owned()
}

/// A request with `token`; returns status, headers and JSON body (Null when empty).
pub async fn call(
    srv: &TestServer,
    method: Method,
    path: &str,
    token: &str,
    body: Option<Value>,
    headers: &[(&str, &str)],
) -> (StatusCode, reqwest::header::HeaderMap, Value) {
    let mut req = srv.http.request(method, srv.at(path)).bearer_auth(token);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    if let Some(b) = body {
        req = req.json(&b);
    }
    let res = req.send().await.unwrap();
    let (status, h) = (res.status(), res.headers().clone());
    let text = res.text().await.unwrap();
    (status, h, serde_json::from_str(&text).unwrap_or(Value::Null))
}

pub fn ann(email: &str) -> Value {
    json!({
        "given_name": "Ann", "family_name": "Lee", "company_name": "Acme", "job_title": "CTO",
        "email_addresses": [{"email": email, "field": "EMAIL1"}],
        "phone_numbers": [{"number": "+1 555-0100", "extension": "12", "type": "Work", "field": "PHONE1"}],
        "addresses": [{"line1": "1 Main St", "locality": "Boston", "region": "MA", "postal_code": "02110", "country_code": "USA", "field": "BILLING"}],
        "tag_ids": [3, 9],
        "source_type": "API"
    })
}

store_test!(create_read_update_delete_with_etags, |srv| async move {
    let account = srv.account().await;
    let t = token(&srv, &account, "contacts.read contacts.write").await;
    let (status, h, c) = call(
        &srv,
        Method::POST,
        "/v1/contacts",
        &t,
        Some(ann("ann@acme.test")),
        &[],
    )
    .await;
    assert_eq!(status, 201, "{c}");
    let id = c["id"].as_i64().unwrap();
    assert_eq!(h["location"], format!("/v1/contacts/{id}").as_str());
    assert_eq!(h["etag"], "\"1\"");
    assert_eq!(c["given_name"], "Ann");
    assert_eq!(
        c["email_addresses"],
        json!([{"email": "ann@acme.test", "field": "EMAIL1"}])
    );
    assert_eq!(c["phone_numbers"][0]["type"], "Work");
    assert_eq!(c["addresses"][0]["locality"], "Boston");
    assert_eq!(c["tag_ids"], json!([3, 9]));
    assert_eq!(c["email_status"], Value::Null, "never opted in");
    assert_eq!(c["email_opted_in"], false);
    assert!(c["date_created"].as_str().unwrap().ends_with('Z'));

    let path = format!("/v1/contacts/{id}");
    let (status, h, read) = call(&srv, Method::GET, &path, &t, None, &[]).await;
    assert_eq!(
        (status.as_u16(), &h["etag"]),
        (200, &"\"1\"".parse::<reqwest::header::HeaderValue>().unwrap())
    );
    assert_eq!(read, c);

    // A partial update with the current ETag; only what it names changes.
    let patch = json!({"job_title": "CEO", "middle_name": "Q"});
    let (status, h, updated) = call(
        &srv,
        Method::PATCH,
        &path,
        &t,
        Some(patch.clone()),
        &[("if-match", "\"1\"")],
    )
    .await;
    assert_eq!(status, 200, "{updated}");
    assert_eq!(h["etag"], "\"2\"");
    assert_eq!(
        (
            &updated["job_title"],
            &updated["middle_name"],
            &updated["given_name"]
        ),
        (&json!("CEO"), &json!("Q"), &json!("Ann"))
    );
    // The same If-Match again is stale: 412, nothing written.
    let (status, _, body) = call(
        &srv,
        Method::PATCH,
        &path,
        &t,
        Some(json!({"job_title": "X"})),
        &[("if-match", "\"1\"")],
    )
    .await;
    assert_eq!(status, 412, "{body}");
    assert_eq!(body["type"], "urn:keygate:problem:precondition-failed");
    assert_eq!(
        call(&srv, Method::GET, &path, &t, None, &[]).await.2["job_title"],
        "CEO"
    );
    // null clears a field; without If-Match the write is unconditional.
    let (_, h, cleared) = call(
        &srv,
        Method::PATCH,
        &path,
        &t,
        Some(json!({"middle_name": null})),
        &[],
    )
    .await;
    assert_eq!(
        (cleared["middle_name"].clone(), h["etag"].to_str().unwrap()),
        (Value::Null, "\"3\"")
    );

    let (status, ..) = call(&srv, Method::DELETE, &path, &t, None, &[("if-match", "\"2\"")]).await;
    assert_eq!(status, 412);
    let (status, ..) = call(&srv, Method::DELETE, &path, &t, None, &[("if-match", "\"3\"")]).await;
    assert_eq!(status, 204);
    let (status, _, body) = call(&srv, Method::GET, &path, &t, None, &[]).await;
    assert_eq!(status, 404, "{body}");
    assert_eq!(call(&srv, Method::DELETE, &path, &t, None, &[]).await.0, 404);
});

store_test!(lists_page_filter_and_sync, |srv| async move {
    let account = srv.account().await;
    let t = token(&srv, &account, "contacts.write").await;
    let names = ["Cy", "Ann", "Bo", "Di", "Ed"];
    let mut ids = Vec::new();
    for (i, n) in names.iter().enumerate() {
        let body = json!({"given_name": n, "family_name": "Lee", "email_addresses": [{"email": format!("{n}{i}@x.test"), "field": "EMAIL1"}]});
        let (status, _, c) = call(&srv, Method::POST, "/v1/contacts", &t, Some(body), &[]).await;
        assert_eq!(status, 201, "{c}");
        ids.push(c["id"].as_i64().unwrap());
    }
    assert!(ids.windows(2).all(|w| w[0] < w[1]), "ids increase: {ids:?}");

    let (status, _, page) = call(&srv, Method::GET, "/v1/contacts?limit=2", &t, None, &[]).await;
    assert_eq!(status, 200, "{page}");
    assert_eq!(page["count"], 5);
    let got: Vec<i64> = page["contacts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_i64().unwrap())
        .collect();
    assert_eq!(got, ids[..2]);
    assert_eq!(page["previous"], Value::Null);
    let next = page["next"].as_str().unwrap().to_owned();
    assert!(
        next.starts_with(&srv.url) && next.contains("offset=2") && next.contains("limit=2"),
        "{next}"
    );
    let page2: Value = srv
        .http
        .get(&next)
        .bearer_auth(&t)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(page2["contacts"][0]["id"], ids[2]);
    assert!(page2["previous"].as_str().unwrap().contains("offset=0"));
    let last: Value = srv
        .http
        .get(page2["next"].as_str().unwrap())
        .bearer_auth(&t)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        (last["contacts"].as_array().unwrap().len(), &last["next"]),
        (1, &Value::Null)
    );

    // Filters: names case-insensitively (with % wildcards), email in any slot.
    let (_, _, by_name) = call(&srv, Method::GET, "/v1/contacts?given_name=ann", &t, None, &[]).await;
    assert_eq!(
        (by_name["count"].as_u64(), &by_name["contacts"][0]["id"]),
        (Some(1), &json!(ids[1]))
    );
    let (_, _, wild) = call(
        &srv,
        Method::GET,
        "/v1/contacts?given_name=%25d%25",
        &t,
        None,
        &[],
    )
    .await;
    assert_eq!(wild["count"], 2, "Di and Ed: {wild}");
    let (_, _, by_email) = call(
        &srv,
        Method::GET,
        "/v1/contacts?email=BO2%40X.TEST",
        &t,
        None,
        &[],
    )
    .await;
    assert_eq!(by_email["contacts"][0]["given_name"], "Bo");
    let (_, _, ordered) = call(
        &srv,
        Method::GET,
        "/v1/contacts?order=name&order_direction=DESCENDING",
        &t,
        None,
        &[],
    )
    .await;
    let order: Vec<&str> = ordered["contacts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["given_name"].as_str().unwrap())
        .collect();
    assert_eq!(order, ["Ed", "Di", "Cy", "Bo", "Ann"]);

    // Incremental sync: what changed since a moment after the creations.
    let (_, _, all) = call(&srv, Method::GET, "/v1/contacts", &t, None, &[]).await;
    let newest = all["contacts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["last_updated"].as_str().unwrap().to_owned())
        .max()
        .unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    call(
        &srv,
        Method::PATCH,
        &format!("/v1/contacts/{}", ids[3]),
        &t,
        Some(json!({"job_title": "Dev"})),
        &[],
    )
    .await;
    let since = format!("/v1/contacts?since={}", urlencode(&bump(&newest)));
    let (_, _, changed) = call(&srv, Method::GET, &since, &t, None, &[]).await;
    assert_eq!(changed["count"], 1, "{changed}");
    assert_eq!(changed["contacts"][0]["id"], ids[3]);
});

/// One second after an RFC 3339 time (across minutes, hours and days alike).
fn bump(t: &str) -> String {
    let unix = keygate_core::time::parse_rfc3339(t).unwrap_or_else(|| panic!("not RFC 3339: {t}"));
    keygate_core::time::format_rfc3339(unix + 1)
}

fn urlencode(s: &str) -> String {
    s.replace(':', "%3A").replace('+', "%2B")
}

store_test!(upsert_by_email_or_email_and_name, |srv| async move {
    let account = srv.account().await;
    let t = token(&srv, &account, "contacts.write").await;
    let mut body = ann("up@acme.test");
    body["duplicate_option"] = json!("Email");
    let (status, h, first) = call(&srv, Method::PUT, "/v1/contacts", &t, Some(body.clone()), &[]).await;
    assert_eq!(status, 201, "{first}");
    assert!(h.contains_key("location"));
    body["job_title"] = json!("Founder");
    let (status, _, second) = call(&srv, Method::PUT, "/v1/contacts", &t, Some(body.clone()), &[]).await;
    assert_eq!(status, 200, "{second}");
    assert_eq!(
        (second["id"].clone(), second["job_title"].clone()),
        (first["id"].clone(), json!("Founder"))
    );
    // EmailAndName: the same address under another name is someone else.
    body["duplicate_option"] = json!("EmailAndName");
    body["given_name"] = json!("Bea");
    let (status, _, third) = call(&srv, Method::PUT, "/v1/contacts", &t, Some(body.clone()), &[]).await;
    assert_eq!(status, 201, "{third}");
    assert_ne!(third["id"], first["id"]);
    body["duplicate_option"] = json!("Phone");
    let (status, _, bad) = call(&srv, Method::PUT, "/v1/contacts", &t, Some(body), &[]).await;
    assert_eq!(
        (status.as_u16(), bad["field"].as_str()),
        (422, Some("duplicate_option")),
        "{bad}"
    );
});

store_test!(opt_in_and_out_follow_the_rules, |srv| async move {
    let account = srv.account().await;
    let t = token(&srv, &account, "contacts.write").await;
    let (_, _, c) = call(
        &srv,
        Method::POST,
        "/v1/contacts",
        &t,
        Some(ann("Opt@Acme.test")),
        &[],
    )
    .await;
    let id = c["id"].as_i64().unwrap();
    let opt = |path: &'static str, email: &'static str, reason: &'static str| {
        let (srv, t) = (&srv, t.clone());
        async move {
            call(
                srv,
                Method::POST,
                path,
                &t,
                Some(json!({"email": email, "reason": reason})),
                &[],
            )
            .await
        }
    };
    let (status, _, v) = opt("/v1/emails/opt-in", "opt@acme.test", "Signed up at the fair").await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(
        (&v["changed"], &v["status"], &v["email_status"], &v["marketable"]),
        (
            &json!(true),
            &json!("unconfirmed"),
            &json!("SingleOptIn"),
            &json!(true)
        )
    );
    assert_eq!(v["reason"], "Signed up at the fair");
    let (_, _, again) = opt("/v1/emails/opt-in", "OPT@acme.test", "").await;
    assert_eq!(again["changed"], false, "only the first opt-in changes anything");
    let (_, _, read) = call(&srv, Method::GET, &format!("/v1/contacts/{id}"), &t, None, &[]).await;
    assert_eq!(
        (&read["email_status"], &read["email_opted_in"]),
        (&json!("SingleOptIn"), &json!(true))
    );

    let (status, _, out) = opt("/v1/emails/opt-out", "opt@acme.test", "").await;
    assert_eq!(status, 200);
    assert_eq!(
        (&out["status"], &out["reason"], &out["opted_out_by"]),
        (&json!("opted_out"), &json!("API Opt Out"), &json!("admin"))
    );
    // An opt-out cannot be reversed through the API.
    let (status, _, refused) = opt("/v1/emails/opt-in", "opt@acme.test", "please").await;
    assert_eq!(status, 409, "{refused}");
    assert_eq!(refused["error"], "opt_in_refused");
    let (_, _, status_now) = call(
        &srv,
        Method::GET,
        "/v1/emails/opt@acme.test/status",
        &t,
        None,
        &[],
    )
    .await;
    assert_eq!(
        (&status_now["status"], &status_now["marketable"]),
        (&json!("opted_out"), &json!(false))
    );
    let (_, _, per_contact) = call(
        &srv,
        Method::GET,
        &format!("/v1/contacts/{id}/email-status"),
        &t,
        None,
        &[],
    )
    .await;
    assert_eq!(per_contact["email_addresses"][0]["field"], "EMAIL1");
    assert_eq!(per_contact["email_addresses"][0]["status"], "opted_out");

    let (status, ..) = opt("/v1/emails/opt-in", "nobody@acme.test", "").await;
    assert_eq!(status, 404, "an address no contact holds");
    let (status, _, bad) = opt("/v1/emails/opt-in", "not an email", "").await;
    assert_eq!((status.as_u16(), bad["field"].as_str()), (422, Some("email")));
});

store_test!(scopes_decide_who_reads_and_who_writes, |srv| async move {
    let account = srv.account().await;
    let writer = token(&srv, &account, "contacts.write").await;
    let reader = token(&srv, &account, "contacts.read").await;
    let hooks_only = token(&srv, &account, "hooks").await;
    let (_, _, c) = call(
        &srv,
        Method::POST,
        "/v1/contacts",
        &writer,
        Some(ann("s@acme.test")),
        &[],
    )
    .await;
    let path = format!("/v1/contacts/{}", c["id"]);
    assert_eq!(call(&srv, Method::GET, &path, &reader, None, &[]).await.0, 200);
    let (status, h, body) = call(
        &srv,
        Method::PATCH,
        &path,
        &reader,
        Some(json!({"job_title": "X"})),
        &[],
    )
    .await;
    assert_eq!(status, 403, "{body}");
    assert_eq!(body["error"], "insufficient_scope");
    assert!(h["www-authenticate"]
        .to_str()
        .unwrap()
        .contains("scope=\"contacts.write\""));
    for (m, p, b) in [
        (Method::POST, "/v1/contacts".to_owned(), Some(ann("r@acme.test"))),
        (Method::DELETE, path.clone(), None),
        (
            Method::POST,
            "/v1/emails/opt-out".into(),
            Some(json!({"email": "s@acme.test"})),
        ),
    ] {
        assert_eq!(call(&srv, m, &p, &reader, b, &[]).await.0, 403);
    }
    assert_eq!(
        call(&srv, Method::GET, "/v1/contacts", &hooks_only, None, &[])
            .await
            .0,
        403
    );
    let (status, ..) = call(&srv, Method::GET, "/v1/contacts", "not-a-token", None, &[]).await;
    assert_eq!(status, 401);
});

store_test!(accounts_never_see_each_others_contacts, |srv| async move {
    let (a, b) = (srv.account().await, srv.account().await);
    let (ta, tb) = (token(&srv, &a, "full").await, token(&srv, &b, "full").await);
    let (_, _, c) = call(
        &srv,
        Method::POST,
        "/v1/contacts",
        &ta,
        Some(ann("iso@acme.test")),
        &[],
    )
    .await;
    let (_, _, mine) = call(
        &srv,
        Method::POST,
        "/v1/contacts",
        &tb,
        Some(ann("iso@acme.test")),
        &[],
    )
    .await;
    assert_eq!(mine["id"], c["id"], "ids are per account");
    let theirs = format!("/v1/contacts/{}", c["id"]);
    // B's contact with the same id is B's own; A's is unreachable, deletion included.
    call(&srv, Method::DELETE, &theirs, &tb, None, &[]).await;
    let (status, _, body) = call(&srv, Method::GET, &theirs, &tb, None, &[]).await;
    assert_eq!(status, 404, "{body}");
    assert_eq!(
        call(&srv, Method::GET, &theirs, &ta, None, &[]).await.0,
        200,
        "A's contact survived B's delete"
    );
    let (_, _, list) = call(&srv, Method::GET, "/v1/contacts", &tb, None, &[]).await;
    assert_eq!(list["count"], 0);
    // Opting out A's address from B changes nothing of A's.
    call(
        &srv,
        Method::POST,
        "/v1/emails/opt-out",
        &tb,
        Some(json!({"email": "iso@acme.test"})),
        &[],
    )
    .await;
    let (_, _, st) = call(
        &srv,
        Method::GET,
        "/v1/emails/iso@acme.test/status",
        &ta,
        None,
        &[],
    )
    .await;
    assert_eq!(st["status"], Value::Null);
});

store_test!(malformed_input_gets_clear_problems, |srv| async move {
    let account = srv.account().await;
    let t = token(&srv, &account, "full").await;
    let post = |body: Value| {
        let (srv, t) = (&srv, t.clone());
        async move { call(srv, Method::POST, "/v1/contacts", &t, Some(body), &[]).await }
    };
    let (status, h, v) = post(json!({"given_name": "A", "shoe_size": 9})).await;
    assert_eq!(status, 422, "{v}");
    assert_eq!(h["content-type"], "application/problem+json");
    assert!(v["detail"].as_str().unwrap().contains("shoe_size"), "{v}");
    let (status, _, v) = post(json!({"email_addresses": [{"email": "nope", "field": "EMAIL1"}]})).await;
    assert_eq!(status, 422, "{v}");
    assert!(v["field"].as_str().unwrap().contains("email"), "{v}");
    let four: Vec<Value> = (1..=4)
        .map(|i| json!({"email": format!("a{i}@x.test"), "field": "EMAIL1"}))
        .collect();
    assert_eq!(post(json!({"email_addresses": four})).await.0, 422);
    assert_eq!(post(json!({"given_name": "x".repeat(101)})).await.0, 422);
    let (status, ..) = call(&srv, Method::GET, "/v1/contacts/abc", &t, None, &[]).await;
    assert_eq!(status, 404);
    let (status, _, v) = call(
        &srv,
        Method::PATCH,
        "/v1/contacts/1",
        &t,
        Some(json!({})),
        &[("if-match", "yesterday")],
    )
    .await;
    assert_eq!((status.as_u16(), v["field"].as_str()), (400, Some("If-Match")));
    let (status, _, v) = call(&srv, Method::GET, "/v1/contacts?limit=5000", &t, None, &[]).await;
    assert_eq!(
        (status.as_u16(), v["field"].as_str()),
        (422, Some("limit")),
        "{v}"
    );
    let (status, _, v) = call(&srv, Method::GET, "/v1/contacts?colour=red", &t, None, &[]).await;
    assert!(
        status == 400 && v["detail"].as_str().unwrap().contains("colour"),
        "{v}"
    );
    let res = srv
        .http
        .post(srv.at("/v1/contacts"))
        .bearer_auth(&t)
        .body("{not json")
        .header("content-type", "application/json")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400);
});

store_test!(
    the_infusionsoft_prefix_serves_the_same_contacts,
    |srv| async move {
        let account = srv.account().await;
        let t = token(&srv, &account, "full").await;
        let (status, h, c) = call(
            &srv,
            Method::POST,
            "/crm/rest/v1/contacts",
            &t,
            Some(ann("crm@acme.test")),
            &[],
        )
        .await;
        assert_eq!(status, 201);
        assert_eq!(
            h["location"],
            format!("/crm/rest/v1/contacts/{}", c["id"]).as_str()
        );
        let (_, _, same) = call(
            &srv,
            Method::GET,
            &format!("/v1/contacts/{}", c["id"]),
            &t,
            None,
            &[],
        )
        .await;
        assert_eq!(same["email_addresses"], c["email_addresses"]);
        let (_, _, list) = call(&srv, Method::GET, "/crm/rest/v1/contacts?limit=1", &t, None, &[]).await;
        assert_eq!(list["count"], 1);
    }
);

store_test!(
    every_door_reaches_the_contacts,
    |c| c.legacy_keys.allow_new = true,
    |srv| async move {
        let account = srv.account().await;
        let writer = token(&srv, &account, "full").await;
        let (_, _, c) = call(
            &srv,
            Method::POST,
            "/v1/contacts",
            &writer,
            Some(ann("door@acme.test")),
            &[],
        )
        .await;
        let path = format!("/v1/contacts/{}", c["id"]);

        // A legacy key, in its header.
        let (_, legacy) = srv
            .admin(
                Method::POST,
                &format!("/admin/v1/accounts/{account}/legacy-keys"),
                Some(json!({"name": "old"})),
            )
            .await;
        let res = srv
            .http
            .get(srv.at(&path))
            .header("x-legacy-key", legacy["key_value"].as_str().unwrap())
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
        assert!(res.headers().contains_key("deprecation"));

        // Basic, where the account allows it.
        srv.admin(
            Method::PATCH,
            &format!("/admin/v1/accounts/{account}"),
            Some(json!({"basic_auth": true})),
        )
        .await;
        let user = srv.user(&account, "member").await;
        let res = srv
            .http
            .get(srv.at(&path))
            .basic_auth(&user.email, Some(&user.password))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200);

        // An OAuth app of the account, by client credentials.
        let app = srv
            .app(json!({"name": "Sync", "owner_account": account, "allowed_scopes": "contacts.read"}))
            .await;
        let app_token = srv.client_token(&app, Some("contacts.read")).await["access_token"]
            .as_str()
            .unwrap()
            .to_owned();
        assert_eq!(call(&srv, Method::GET, &path, &app_token, None, &[]).await.0, 200);

        // A domain key from its origin: read-only.
        let (key, _) = api_key(&srv, &account, None, None).await;
        let dk = crate::domain_keys::domain_key(&srv, &account, &key, &["https://shop.example.com"]).await;
        let (_, body, _) =
            crate::domain_keys::auth_from(&srv, &key, &dk, Some("https://shop.example.com")).await;
        let browser = body["access_token"].as_str().unwrap();
        let origin = [("origin", "https://shop.example.com")];
        assert_eq!(
            call(&srv, Method::GET, &path, browser, None, &origin).await.0,
            200
        );
        assert_eq!(
            call(
                &srv,
                Method::PATCH,
                &path,
                browser,
                Some(json!({"job_title": "x"})),
                &origin
            )
            .await
            .0,
            403
        );
        assert_eq!(
            call(&srv, Method::GET, &path, browser, None, &[]).await.0,
            403,
            "no Origin"
        );
    }
);
