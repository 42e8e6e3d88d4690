//! Contacts over XML-RPC, driven by an independent client (Python's `xmlrpc.client`) and checked through
//! REST: Infusionsoft's methods, faults, credentials, and a hardened parser.

use keygate_testkit::{store_test, TestServer};
use reqwest::Method;
use serde_json::{json, Value};

use crate::contacts_rest::{call, token};

/// Whether Python is missing (then the test skips with a message, as on a fresh machine without it;
/// CI sets `KEYGATE_TEST_REQUIRE_TOOLS` so that it fails instead).
fn python_missing() -> bool {
    let present = std::process::Command::new("python3")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !present {
        assert!(
            std::env::var_os("KEYGATE_TEST_REQUIRE_TOOLS").is_none(),
            "python3 is required"
        );
        eprintln!("skipping: python3 (whose xmlrpc.client drives these tests) is not installed");
    }
    !present
}

/// Runs `body` in Python with `kg` bound to a `ServerProxy` for `url` (plus `headers`), and returns
/// what it prints as JSON. Faults are caught by the script itself where a test expects them.
async fn python(url: &str, headers: &[(&str, &str)], body: &str) -> Value {
    let headers: Vec<String> = headers.iter().map(|(k, v)| format!("({k:?}, {v:?})")).collect();
    let script = format!(
        "import json, sys, xmlrpc.client as x\n\
         kg = x.ServerProxy({url:?}, allow_none=True, headers=[{}])\n\
         def fault(f):\n    try:\n        f()\n    except x.Fault as e:\n        return [e.faultCode, e.faultString]\n    return None\n\
         out = {{}}\n{body}\nprint(json.dumps(out, default=str))\n",
        headers.join(", ")
    );
    let output = tokio::process::Command::new("python3")
        .arg("-c")
        .arg(&script)
        .output()
        .await
        .expect("python3 runs (the XML-RPC tests use its standard xmlrpc.client)");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "python failed:\n{}\n{script}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_str(stdout.trim()).unwrap_or_else(|e| panic!("{e}: {stdout}"))
}

async fn legacy_key(srv: &TestServer, account: &str) -> String {
    let (status, v) = srv
        .admin(
            Method::POST,
            &format!("/admin/v1/accounts/{account}/legacy-keys"),
            Some(json!({"name": "SDK"})),
        )
        .await;
    assert_eq!(status, 201, "{v}");
    v["key_value"].as_str().unwrap().to_owned()
}

/// A raw call with a hand-written body; returns the status, the content type and the body text.
async fn raw(srv: &TestServer, path: &str, body: &str) -> (u16, String, String) {
    let res = srv
        .http
        .post(srv.at(path))
        .header("content-type", "text/xml")
        .body(body.to_owned())
        .send()
        .await
        .unwrap();
    let status = res.status().as_u16();
    let ct = res
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    (status, ct, res.text().await.unwrap())
}

store_test!(
    contact_service_round_trip_seen_through_rest,
    |c| c.legacy_keys.allow_new = true,
    |srv| async move {
        if python_missing() {
            return;
        }
        let account = srv.account().await;
        let key = legacy_key(&srv, &account).await;
        let url = srv.at("/api/xmlrpc");
        let script = format!(
            "k = {key:?}\n\
             out['id'] = kg.ContactService.add(k, {{'FirstName': 'Ann', 'LastName': 'Lee', 'Email': 'ann@acme.test', 'Phone1': '555-0100', 'Phone1Type': 'Work', 'City': 'Boston', 'PostalCode': 2110, 'Company': 'Acme'}})\n\
             cid = out['id']\n\
             out['load'] = kg.ContactService.load(k, cid, ['Id', 'FirstName', 'LastName', 'Email', 'Phone1', 'City', 'PostalCode', 'JobTitle', 'DateCreated'])\n\
             out['update'] = kg.ContactService.update(k, cid, {{'JobTitle': 'CTO', 'EmailAddress2': 'ann@home.test'}})\n\
             out['by_email'] = kg.ContactService.findByEmail(k, 'ANN@HOME.TEST', ['Id', 'JobTitle'])\n\
             out['tag'] = kg.ContactService.addToGroup(k, cid, 42)\n\
             out['groups'] = kg.ContactService.load(k, cid, ['Groups'])\n\
             out['dup'] = kg.ContactService.addWithDupCheck(k, {{'FirstName': 'Ann', 'Email': 'ann@acme.test', 'LeadSource': 'Fair'}}, 'Email')\n\
             out['bo'] = kg.DataService.add(k, 'Contact', {{'FirstName': 'Bo', 'LastName': 'Ng'}})\n\
             out['query'] = kg.DataService.query(k, 'Contact', 10, 0, {{'FirstName': 'a%'}}, ['Id', 'FirstName'])\n\
             out['null_email'] = kg.DataService.query(k, 'Contact', 10, 0, {{'Email': '~null~'}}, ['FirstName'])\n\
             out['ordered'] = kg.DataService.query(k, 'Contact', 10, 0, {{}}, ['FirstName'], 'FirstName', True)\n\
             out['count'] = kg.DataService.count(k, 'Contact', {{'LastName': '%'}})\n\
             out['by_field'] = kg.DataService.findByField(k, 'Contact', 10, 0, 'LastName', 'ng', ['Id'])\n\
             out['data_load'] = kg.DataService.load(k, 'Contact', out['bo'], ['FirstName'])\n\
             out['removed_tag'] = kg.ContactService.removeFromGroup(k, cid, 42)\n\
             out['deleted'] = kg.DataService.delete(k, 'Contact', out['bo'])\n\
             out['gone'] = fault(lambda: kg.ContactService.load(k, out['bo'], ['Id']))\n"
        );
        let out = python(&url, &[], &script).await;
        let id = out["id"].as_i64().unwrap();
        let load = &out["load"];
        assert_eq!(
            (&load["Id"], &load["FirstName"], &load["Email"], &load["City"]),
            (
                &json!(id),
                &json!("Ann"),
                &json!("ann@acme.test"),
                &json!("Boston")
            )
        );
        assert_eq!(load["PostalCode"], "2110", "ints are accepted for text fields");
        assert!(
            load.get("JobTitle").is_none(),
            "empty fields are left out: {load}"
        );
        assert!(
            load["DateCreated"].as_str().unwrap().contains('T'),
            "a dateTime: {load}"
        );
        assert_eq!(out["update"], id);
        assert_eq!(out["by_email"], json!([{"Id": id, "JobTitle": "CTO"}]));
        assert_eq!(
            (&out["tag"], &out["groups"]["Groups"]),
            (&json!(true), &json!("42"))
        );
        assert_eq!(out["dup"], id, "the duplicate check found Ann by email");
        let firsts: Vec<&str> = out["query"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["FirstName"].as_str().unwrap())
            .collect();
        assert_eq!(firsts, ["Ann"], "case-insensitive wildcard");
        assert_eq!(out["null_email"], json!([{"FirstName": "Bo"}]));
        assert_eq!(out["ordered"], json!([{"FirstName": "Ann"}, {"FirstName": "Bo"}]));
        assert_eq!(
            (&out["count"], &out["by_field"]),
            (&json!(2), &json!([{"Id": out["bo"]}]))
        );
        assert_eq!(out["data_load"], json!({"FirstName": "Bo"}));
        assert_eq!(
            (&out["removed_tag"], &out["deleted"]),
            (&json!(true), &json!(true))
        );
        assert_eq!(out["gone"][0], 5);
        assert!(
            out["gone"][1].as_str().unwrap().starts_with("[RecordNotFound]"),
            "{}",
            out["gone"]
        );

        // The same record through REST.
        let t = token(&srv, &account, "contacts.read").await;
        let (status, _, c) = call(&srv, Method::GET, &format!("/v1/contacts/{id}"), &t, None, &[]).await;
        assert_eq!(status, 200, "{c}");
        assert_eq!(
            (&c["given_name"], &c["job_title"], &c["source_type"]),
            (&json!("Ann"), &json!("CTO"), &json!("Fair"))
        );
        assert_eq!(
            c["email_addresses"],
            json!([{"email": "ann@acme.test", "field": "EMAIL1"}, {"email": "ann@home.test", "field": "EMAIL2"}])
        );
        assert_eq!(
            c["phone_numbers"][0],
            json!({"number": "555-0100", "extension": null, "type": "Work", "field": "PHONE1"})
        );
    }
);

store_test!(
    every_credential_works_and_the_header_wins,
    |c| c.legacy_keys.allow_new = true,
    |srv| async move {
        if python_missing() {
            return;
        }
        let account = srv.account().await;
        let writer = token(&srv, &account, "contacts.write").await;
        let reader = token(&srv, &account, "contacts.read").await;
        let url = srv.at("/crm/xmlrpc/v1");
        // The token as the first parameter.
        let out = python(
            &url,
            &[],
            &format!("out['id'] = kg.ContactService.add({writer:?}, {{'FirstName': 'Cy'}})"),
        )
        .await;
        let id = out["id"].as_i64().unwrap();
        // A header wins; the first parameter is a placeholder.
        let bearer = format!("Bearer {reader}");
        let out = python(
            &url,
            &[("Authorization", &bearer)],
            &format!(
                "out['load'] = kg.ContactService.load('placeholder', {id}, ['FirstName'])\n\
             out['write'] = fault(lambda: kg.ContactService.add('placeholder', {{'FirstName': 'X'}}))"
            ),
        )
        .await;
        assert_eq!(out["load"], json!({"FirstName": "Cy"}));
        assert_eq!(
            out["write"][0], 6,
            "a read-only token cannot write: {}",
            out["write"]
        );
        assert!(out["write"][1].as_str().unwrap().starts_with("[NotAuthorized]"));
        // `?access_token=` for OAuth-era clients.
        let with_query = format!("{url}?access_token={writer}");
        let out = python(
            &with_query,
            &[],
            &format!("out['load'] = kg.ContactService.load('', {id}, ['Id'])"),
        )
        .await;
        assert_eq!(out["load"], json!({"Id": id}));
        // A legacy key, with the deprecation headers on the answer.
        let key = legacy_key(&srv, &account).await;
        let body = keygate_xmlrpc::call(
            "ContactService.load",
            &[
                keygate_xmlrpc::Value::String(key),
                keygate_xmlrpc::Value::Int(id),
                keygate_xmlrpc::Value::Array(vec![keygate_xmlrpc::Value::String("FirstName".into())]),
            ],
        );
        let res = srv.http.post(&url).body(body).send().await.unwrap();
        assert!(res.headers().contains_key("deprecation"));
        let answer =
            keygate_xmlrpc::parse_response(res.text().await.unwrap().as_bytes(), &Default::default())
                .unwrap()
                .unwrap();
        assert_eq!(answer.get("FirstName").and_then(|v| v.as_str()), Some("Cy"));
        // Garbage keys.
        let out = python(
            &url,
            &[],
            &format!(
                "out['bad'] = fault(lambda: kg.ContactService.load('kglk_nope', {id}, ['Id']))\n\
             out['none'] = fault(lambda: kg.ContactService.load())\n\
             out['jwt'] = fault(lambda: kg.ContactService.load('eyJhbGciOi.x.y', {id}, ['Id']))"
            ),
        )
        .await;
        for case in ["bad", "none", "jwt"] {
            assert_eq!(out[case][0], 2, "{case}: {}", out[case]);
            assert!(
                out[case][1].as_str().unwrap().starts_with("[InvalidKey]"),
                "{}",
                out[case]
            );
        }
        // Another account's key sees nothing of this one's.
        let other = srv.account().await;
        let other_token = token(&srv, &other, "full").await;
        let out = python(
            &url,
            &[],
            &format!("out['f'] = fault(lambda: kg.ContactService.load({other_token:?}, {id}, ['Id']))"),
        )
        .await;
        assert_eq!(out["f"][0], 5, "{}", out["f"]);
    }
);

store_test!(email_service_follows_infusionsoft, |srv| async move {
    if python_missing() {
        return;
    }
    let account = srv.account().await;
    let t = token(&srv, &account, "full").await;
    let url = srv.at("/xmlrpc");
    let out = python(
        &url,
        &[],
        &format!(
            "k = {t:?}\n\
         kg.ContactService.add(k, {{'Email': 'opt@acme.test'}})\n\
         out['status0'] = kg.APIEmailService.getOptStatus(k, 'opt@acme.test')\n\
         out['in1'] = kg.APIEmailService.optIn(k, 'opt@acme.test', 'Fair')\n\
         out['in2'] = kg.APIEmailService.optIn(k, 'OPT@acme.test', '')\n\
         out['status1'] = kg.APIEmailService.getOptStatus(k, 'opt@acme.test')\n\
         out['out1'] = kg.APIEmailService.optOut(k, 'opt@acme.test', 'asked')\n\
         out['out2'] = kg.APIEmailService.optOut(k, 'opt@acme.test', 'asked')\n\
         out['in3'] = kg.APIEmailService.optIn(k, 'opt@acme.test', 'please')\n\
         out['status2'] = kg.APIEmailService.getOptStatus(k, 'opt@acme.test')\n\
         out['unknown'] = kg.APIEmailService.optIn(k, 'nobody@acme.test', '')\n\
         out['bad'] = fault(lambda: kg.APIEmailService.getOptStatus(k, 'not an email'))"
        ),
    )
    .await;
    assert_eq!(
        out,
        json!({
            "status0": 0, "in1": true, "in2": false, "status1": 1, "out1": true, "out2": false,
            "in3": false, "status2": 0, "unknown": false,
            "bad": [4, out["bad"][1]],
        })
    );
    assert!(out["bad"][1].as_str().unwrap().starts_with("[InvalidParameter]"));
    // REST reads the same status.
    let (_, _, st) = call(
        &srv,
        Method::GET,
        "/v1/emails/opt@acme.test/status",
        &t,
        None,
        &[],
    )
    .await;
    assert_eq!(
        (&st["status"], &st["reason"]),
        (&json!("opted_out"), &json!("asked"))
    );
});

store_test!(malformed_calls_get_faults_never_errors, |srv| async move {
    let account = srv.account().await;
    let t = token(&srv, &account, "full").await;
    let call_with = |method: &str, params: &str| {
        format!("<?xml version=\"1.0\"?><methodCall><methodName>{method}</methodName><params><param><value><string>{t}</string></value></param>{params}</params></methodCall>")
    };
    let p = |v: &str| format!("<param><value>{v}</value></param>");
    let cases = [
        ("garbage", "this is not xml".to_owned(), 0, "Failed to parse XML-RPC request"),
        ("truncated", call_with("ContactService.load", "")[..60].to_owned(), 0, "Failed to parse XML-RPC request"),
        ("dtd", "<?xml version=\"1.0\"?><!DOCTYPE lolz [<!ENTITY lol \"lol\"><!ENTITY lol2 \"&lol;&lol;&lol;\">]><methodCall><methodName>x</methodName></methodCall>".to_owned(), 0, "DTD"),
        ("deep", format!("<?xml version=\"1.0\"?><methodCall><methodName>x</methodName><params><param>{}</param></params></methodCall>", "<value><array><data>".repeat(200)), 0, "Failed to parse XML-RPC request"),
        ("unknown method", call_with("ContactService.fly", ""), -32601, "No such handler: ContactService.fly"),
        ("wrong type", call_with("ContactService.load", &(p("<string>seven</string>") + &p("<array><data/></array>"))), 4, "[InvalidParameter]"),
        ("unknown field", call_with("ContactService.add", &p("<struct><member><name>given_name</name><value>Ann</value></member></struct>")), 3, "[NoFieldFound]No field found: Contact.given_name"),
        ("read-only field", call_with("ContactService.add", &p("<struct><member><name>Id</name><value><int>5</int></value></member></struct>")), 4, "[InvalidParameter]"),
        ("bad email", call_with("ContactService.add", &p("<struct><member><name>Email</name><value>nope</value></member></struct>")), 4, "[InvalidParameter]"),
        ("other table", call_with("DataService.query", &(p("<string>Invoice</string>") + &p("<int>10</int>") + &p("<int>0</int>") + &p("<struct/>") + &p("<array><data/></array>"))), 4, "Invoice"),
        ("limit", call_with("DataService.query", &(p("<string>Contact</string>") + &p("<int>5000</int>") + &p("<int>0</int>") + &p("<struct/>") + &p("<array><data/></array>"))), 4, "limit"),
        ("arity", call_with("ContactService.load", &p("<int>1</int>")), 4, "[InvalidParameter]"),
    ];
    for (name, body, code, needle) in cases {
        let (status, ct, text) = raw(&srv, "/xmlrpc", &body).await;
        assert_eq!(status, 200, "{name}: {text}");
        assert!(ct.starts_with("text/xml"), "{name}: {ct}");
        let fault = keygate_xmlrpc::parse_response(text.as_bytes(), &Default::default())
            .unwrap()
            .expect_err(name);
        assert_eq!(fault.code, code, "{name}: {}", fault.message);
        assert!(fault.message.contains(needle), "{name}: {}", fault.message);
    }
    // A body over the server's limit is refused before parsing.
    let huge = call_with(
        "ContactService.add",
        &p(&format!("<string>{}</string>", "a".repeat(100_000))),
    );
    let (status, ..) = raw(&srv, "/xmlrpc", &huge).await;
    assert_eq!(status, 413);
});

store_test!(system_methods, |srv| async move {
    if python_missing() {
        return;
    }
    let account = srv.account().await;
    let t = token(&srv, &account, "full").await;
    let out = python(
        &srv.at("/xmlrpc"),
        &[],
        &format!(
            "out['methods'] = kg.system.listMethods()\n\
         m = x.MultiCall(kg)\n\
         m.ContactService.add({t:?}, {{'FirstName': 'Mo'}})\n\
         m.ContactService.load({t:?}, 999999, ['Id'])\n\
         res = m()\n\
         out['first'] = res[0]\n\
         out['second'] = fault(lambda: res[1])"
        ),
    )
    .await;
    let methods = out["methods"].as_array().unwrap();
    assert!(methods.contains(&json!("ContactService.load")) && methods.contains(&json!("system.multicall")));
    assert!(out["first"].as_i64().unwrap() > 0);
    assert_eq!(out["second"][0], 5, "{}", out["second"]);
});
