//! `GET /openapi.json`: served, valid OpenAPI 3.1 by an independent validator (Python's
//! `openapi-spec-validator`), complete (exactly the routes the router records, each of which the server
//! really routes), and true: live answers conform to the documented schemas and match the examples.

use std::collections::BTreeSet;
use std::io::Write;

use keygate_testkit::{store_test, TestServer};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::contacts_rest::token;

const VALIDATOR_REQUIRED: &str = "KEYGATE_TEST_REQUIRE_OPENAPI_VALIDATOR";

async fn document(srv: &TestServer) -> Value {
    let res = srv.http.get(srv.at("/openapi.json")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert!(res.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("application/json"));
    res.json().await.unwrap()
}

/// Runs a Python check on the document (`doc` in its globals), or `None` when `openapi-spec-validator` is
/// not installed and not required.
fn python(doc: &Value, extra: &Value, script: &str) -> Option<String> {
    let probe = std::process::Command::new("python3")
        .args(["-c", "import openapi_spec_validator, jsonschema"])
        .output();
    if !probe.is_ok_and(|o| o.status.success()) {
        assert!(
            std::env::var_os(VALIDATOR_REQUIRED).is_none(),
            "{VALIDATOR_REQUIRED} is set but Python's openapi-spec-validator is not importable"
        );
        eprintln!(
            "skipping: Python's openapi-spec-validator is not installed (pip install openapi-spec-validator)"
        );
        return None;
    }
    let mut file = tempfile(&json!({"doc": doc, "extra": extra}));
    file.flush().unwrap();
    let program = format!(
        "import json, sys\ndata = json.load(open(sys.argv[1]))\ndoc, extra = data['doc'], data['extra']\n{script}"
    );
    let out = std::process::Command::new("python3")
        .args(["-c", &program])
        .arg(&file.path)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    Some(String::from_utf8_lossy(&out.stdout).into_owned())
}

struct TempFile {
    path: std::path::PathBuf,
    file: std::fs::File,
}

impl Write for TempFile {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.file.write(buf)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.file.flush()
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

fn tempfile(v: &Value) -> TempFile {
    let path = std::env::temp_dir().join(format!(
        "keygate-openapi-{}.json",
        keygate_core::crypto::random_string(b"abcdefghijklmnopqrstuvwxyz0123456789", 12)
    ));
    let mut file = std::fs::File::create(&path).unwrap();
    file.write_all(v.to_string().as_bytes()).unwrap();
    TempFile { path, file }
}

/// Checks each `(schema, instance)` of `pairs` with JSON Schema 2020-12 (what OpenAPI 3.1 schemas are),
/// resolving `$ref`s into the document's components.
fn conforms(doc: &Value, pairs: &[(Value, Value)]) {
    let pairs: Vec<Value> = pairs.iter().map(|(s, i)| json!([s, i])).collect();
    python(
        doc,
        &json!(pairs),
        "from jsonschema import Draft202012Validator\n\
         for schema, instance in extra:\n\
         \x20   root = dict(schema, components=doc['components'])\n\
         \x20   errors = list(Draft202012Validator(root).iter_errors(instance))\n\
         \x20   assert not errors, (schema, instance, [e.message for e in errors])\n",
    );
}

fn schema(name: &str) -> Value {
    json!({"$ref": format!("#/components/schemas/{name}")})
}

/// Every (METHOD, path) the document describes.
fn documented(doc: &Value) -> BTreeSet<(String, String)> {
    let mut out = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in [
            "get", "put", "post", "delete", "patch", "head", "options", "trace",
        ] {
            if item.get(method).is_some() {
                out.insert((method.to_uppercase(), path.clone()));
            }
        }
    }
    out
}

fn served(state: &keygate_server::AppState) -> BTreeSet<(String, String)> {
    keygate_server::routes(state)
        .served()
        .iter()
        .map(|(m, p)| (m.to_string(), p.clone()))
        .collect()
}

store_test!(served_as_valid_openapi_3_1, |srv| async move {
    let doc = document(&srv).await;
    assert!(
        doc["openapi"].as_str().unwrap().starts_with("3.1."),
        "{}",
        doc["openapi"]
    );
    assert_eq!(doc["info"]["version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(doc["servers"], json!([{"url": srv.config.public_url}]));
    let out = python(
        &doc,
        &Value::Null,
        "from openapi_spec_validator import validate\nvalidate(doc)\nprint('valid')",
    );
    if let Some(out) = out {
        assert_eq!(out.trim(), "valid");
    }
    // Every example conforms to the schema beside it.
    let mut pairs = Vec::new();
    for (name, schema) in doc["components"]["schemas"].as_object().unwrap() {
        if let Some(example) = schema.get("example") {
            pairs.push((self::schema(name), example.clone()));
        }
    }
    for item in doc["paths"].as_object().unwrap().values() {
        for op in item.as_object().unwrap().values() {
            let mut media = vec![&op["requestBody"]["content"]];
            media.extend(
                op["responses"]
                    .as_object()
                    .unwrap()
                    .values()
                    .map(|r| &r["content"]),
            );
            for content in media
                .into_iter()
                .filter_map(Value::as_object)
                .flat_map(|c| c.values())
            {
                let examples = content["examples"]
                    .as_object()
                    .into_iter()
                    .flat_map(|e| e.values());
                for example in content
                    .get("example")
                    .into_iter()
                    .chain(examples.map(|e| &e["value"]))
                {
                    pairs.push((content["schema"].clone(), example.clone()));
                }
            }
        }
    }
    assert!(pairs.len() >= 8, "{}", pairs.len());
    conforms(&doc, &pairs);
});

store_test!(documents_every_route_and_nothing_else, |srv| async move {
    let doc = document(&srv).await;
    let routes = served(&srv.state);
    let described = documented(&doc);
    let undocumented: Vec<_> = routes.difference(&described).collect();
    let unserved: Vec<_> = described.difference(&routes).collect();
    assert!(
        undocumented.is_empty(),
        "served but not documented: {undocumented:?}"
    );
    assert!(unserved.is_empty(), "documented but not served: {unserved:?}");

    // Demo mode serves, and documents, one more page.
    let demo = keygate_server::AppState::new(keygate_server::state::SharedState {
        demo: true,
        ..(*srv.state).clone()
    });
    let demo_doc = serde_json::to_value(keygate_server::openapi::document(&demo)).unwrap();
    assert_eq!(documented(&demo_doc), served(&demo));
    assert!(served(&demo).contains(&("GET".into(), "/demo/callback".into())));

    // The recorded routes are the router's: none of them falls through to "no such endpoint" or 405.
    for (method, path) in &routes {
        let concrete = path
            .replace("{id}", "1")
            .replace("{email}", "nobody@example.com")
            .replace("{name}", "zz999")
            .replace("{client_id}", "kgc_unknown");
        let method = Method::from_bytes(method.as_bytes()).unwrap();
        let res = srv
            .http
            .request(method.clone(), srv.at(&concrete))
            .send()
            .await
            .unwrap();
        let status = res.status();
        let body = res.text().await.unwrap();
        assert_ne!(status, StatusCode::METHOD_NOT_ALLOWED, "{method} {path}");
        assert!(
            !(status == StatusCode::NOT_FOUND && body.contains("no such endpoint")),
            "{method} {path} is recorded but not routed"
        );
    }
});

store_test!(security_schemes_and_requirements, |srv| async move {
    let doc = document(&srv).await;
    let schemes = &doc["components"]["securitySchemes"];
    assert_eq!(schemes["bearer"]["scheme"], "bearer");
    assert_eq!(schemes["basic"]["scheme"], "basic");
    assert_eq!(schemes["adminToken"]["scheme"], "bearer");
    assert_eq!(
        schemes["apiKey"],
        json!({"type": "apiKey", "in": "header", "name": "X-Api-Key", "description": schemes["apiKey"]["description"]})
    );
    assert_eq!(schemes["legacyKey"]["name"], "X-Legacy-Key");
    assert!(schemes["legacyKey"]["description"]
        .as_str()
        .unwrap()
        .starts_with("Deprecated"));
    let resource = json!([{"bearer": []}, {"basic": []}, {"legacyKey": []}]);
    for (method, path) in documented(&doc) {
        let op = &doc["paths"][&path][method.to_lowercase()];
        if path.starts_with("/admin/v1/") {
            assert_eq!(op["security"], json!([{"adminToken": []}]), "{method} {path}");
        } else if path.starts_with("/v1/") || path.starts_with("/crm/rest/v1/") {
            assert_eq!(op["security"], resource, "{method} {path}");
        }
    }
    assert_eq!(doc["paths"]["/auth"]["post"]["security"], json!([{"apiKey": []}]));
    assert_eq!(
        doc["paths"]["/auth/refresh"]["post"]["security"],
        json!([{"apiKey": [], "bearer": []}])
    );
    assert_eq!(
        doc["paths"]["/oauth/token"]["post"]["security"],
        json!([{"basic": []}, {}])
    );
    assert!(doc["paths"]["/openapi.json"]["get"].get("security").is_none());
});

store_test!(contacts_are_documented_truthfully, |srv| async move {
    let doc = document(&srv).await;
    let create = &doc["paths"]["/v1/contacts"]["post"];
    let created = &create["responses"]["201"];
    assert!(created["headers"]["Location"].is_object());
    assert!(created["headers"]["ETag"].is_object());
    assert_eq!(
        created["content"]["application/json"]["schema"],
        schema("Contact")
    );
    assert_eq!(
        doc["paths"]["/crm/rest/v1/contacts"]["post"]["operationId"],
        "create_contact_crm"
    );

    // The request example, sent, is answered with the response example (but for id and times).
    let account = srv.account().await;
    let t = token(&srv, &account, "contacts.read contacts.write").await;
    let input = create["requestBody"]["content"]["application/json"]["example"].clone();
    let res = srv
        .http
        .post(srv.at("/v1/contacts"))
        .bearer_auth(&t)
        .json(&input)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    let id_path = res.headers()["location"].to_str().unwrap().to_owned();
    assert_eq!(res.headers()["etag"], "\"1\"");
    let contact: Value = res.json().await.unwrap();
    assert_eq!(id_path, format!("/v1/contacts/{}", contact["id"]));
    let mut example = created["content"]["application/json"]["example"].clone();
    for field in ["id", "date_created", "last_updated"] {
        example[field] = contact[field].clone();
    }
    assert_eq!(contact, example);

    // A problem is what the Problem schema's example shows.
    let res = srv
        .http
        .post(srv.at("/v1/contacts"))
        .bearer_auth(&t)
        .json(&json!({"tag_ids": [-1]}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(res.headers()["content-type"], "application/problem+json");
    let problem: Value = res.json().await.unwrap();
    assert_eq!(problem, doc["components"]["schemas"]["Problem"]["example"]);

    // Live answers conform to their schemas.
    let call = |method: Method, path: String| {
        let req = srv.http.request(method, srv.at(&path)).bearer_auth(&t);
        async move { req.send().await.unwrap().json::<Value>().await.unwrap() }
    };
    let list = call(Method::GET, "/crm/rest/v1/contacts?limit=1".into()).await;
    let statuses = call(Method::GET, format!("{id_path}/email-status")).await;
    let status = call(Method::GET, "/v1/emails/ann%40acme.example/status".into()).await;
    let me = call(Method::GET, "/v1/me".into()).await;
    let mut upsert = input.clone();
    upsert["duplicate_option"] = json!("EmailAndName");
    let res = srv
        .http
        .put(srv.at("/v1/contacts"))
        .bearer_auth(&t)
        .json(&upsert)
        .send()
        .await
        .unwrap();
    assert_eq!(
        res.status(),
        StatusCode::OK,
        "the same contact, found by email and name"
    );
    conforms(
        &doc,
        &[
            (schema("ContactList"), list),
            (schema("ContactEmailStatuses"), statuses),
            (schema("EmailStatusView"), status),
            (schema("Me"), me),
            (schema("Problem"), problem),
            (schema("Contact"), contact),
            (schema("UpsertInput"), upsert),
            (schema("ContactInput"), input),
        ],
    );
});

store_test!(oauth_and_discovery_are_documented_truthfully, |srv| async move {
    let doc = document(&srv).await;
    let token_op = &doc["paths"]["/oauth/token"]["post"];
    assert!(token_op["requestBody"]["content"]["application/x-www-form-urlencoded"]["schema"].is_object());
    for op in ["/oauth/revoke", "/oauth/introspect"] {
        assert!(
            doc["paths"][op]["post"]["requestBody"]["content"]["application/x-www-form-urlencoded"]
                .is_object()
        );
    }
    let oauth_error = &token_op["responses"]["400"];
    assert_eq!(oauth_error["$ref"], "#/components/responses/OAuthBadRequest");
    let bad_request = &doc["components"]["responses"]["OAuthBadRequest"]["content"]["application/json"];
    assert_eq!(bad_request["schema"], schema("OAuthError"));
    let html = &doc["paths"]["/oauth/authorize"]["get"]["responses"]["200"]["content"];
    assert!(html["text/html"].is_object());

    let (_, app) = srv.owned_app().await;
    let token = srv.client_token(&app, None).await;
    let (status, error) = srv
        .oauth_post(
            "/oauth/token",
            &app,
            &[("grant_type", "authorization_code"), ("code", "kgac_nope")],
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(error, doc["components"]["schemas"]["OAuthError"]["example"]);
    let access = token["access_token"].as_str().unwrap();
    let (_, introspection) = srv
        .oauth_post("/oauth/introspect", &app, &[("token", access)])
        .await;
    let metadata = srv.get_json("/.well-known/oauth-authorization-server").await;
    let jwks = srv.get_json("/.well-known/jwks.json").await;
    let documented_fields: BTreeSet<&String> = doc["components"]["schemas"]["ServerMetadata"]["properties"]
        .as_object()
        .unwrap()
        .keys()
        .collect();
    assert_eq!(
        metadata.as_object().unwrap().keys().collect::<BTreeSet<_>>(),
        documented_fields
    );
    let (_, account) = srv
        .admin(
            Method::GET,
            &format!("/admin/v1/accounts/{}", app_owner(&srv, &app).await),
            None,
        )
        .await;
    let (_, keys) = srv.admin(Method::GET, "/admin/v1/keys", None).await;
    let (_, audit) = srv.admin(Method::GET, "/admin/v1/audit?limit=5", None).await;
    let ready = srv.get_json("/readyz").await;
    conforms(
        &doc,
        &[
            (schema("TokenEndpointResponse"), token),
            (schema("OAuthError"), error),
            (schema("Introspection"), introspection),
            (schema("ServerMetadata"), metadata),
            (schema("Jwks"), jwks),
            (schema("AccountView"), account),
            (schema("SigningKeyList"), keys),
            (schema("AuditEventList"), audit),
            (schema("Ready"), ready),
        ],
    );
});

/// The owner account of an app registered by `owned_app`.
async fn app_owner(srv: &TestServer, app: &keygate_testkit::TestApp) -> String {
    let (_, v) = srv
        .admin(Method::GET, &format!("/admin/v1/apps/{}", app.client_id), None)
        .await;
    v["owner_account"].as_str().unwrap().to_owned()
}
