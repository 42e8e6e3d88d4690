//! The seed data and the scenarios: what each one sends, and what it expects back.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use anyhow::{bail, Context};
use bytes::Bytes;
use http::header::{HeaderName, HeaderValue, AUTHORIZATION};
use http::{Method, StatusCode};

use crate::grants::{self, REDIRECT_URI};
use crate::http::{basic, form_escape, request, value, Conn};
use crate::load::{Chain, Requests, Rng, Workload};
use crate::server::Server;

/// Every scenario, in the order they run: the baseline first, the writes last (they grow the database).
pub const ALL: &[(&str, &str)] = &[
    (
        "healthz",
        "GET /healthz: unauthenticated static answer (the baseline)",
    ),
    (
        "client_credentials",
        "POST /oauth/token, grant_type=client_credentials, client secret in Basic",
    ),
    (
        "auth_api_key",
        "POST /auth: an API key id and secret exchanged for a token",
    ),
    (
        "introspect",
        "POST /oauth/introspect of an access token by its client",
    ),
    (
        "me_bearer",
        "GET /v1/me with a bearer JWT: the bearer check alone, no resource read",
    ),
    (
        "healthz_with_token",
        "GET /healthz carrying me_bearer's Authorization header, unread: the baseline with the same request",
    ),
    (
        "contact_get_bearer",
        "GET /v1/contacts/{id} with a bearer JWT (client_credentials token)",
    ),
    ("contact_get_legacy", "GET /v1/contacts/{id} with X-Legacy-Key"),
    (
        "contact_list_bearer",
        "GET /v1/contacts?limit=20&offset={n} with a bearer JWT: a page of contacts and their count",
    ),
    (
        "xmlrpc_load",
        "POST /xmlrpc ContactService.load (access token as the key parameter)",
    ),
    (
        "refresh_token",
        "POST /oauth/token, grant_type=refresh_token: each connection follows its own grant's rotations",
    ),
    (
        "contact_create",
        "POST /v1/contacts with a bearer JWT: the write path with its event",
    ),
    (
        "hook_deliveries",
        "contact.add events delivered to a local receiver (events/s; latency from create to delivery)",
    ),
];

pub const ACCOUNT: &str = "bn001";

/// Contacts per page in `contact_list_bearer`.
const LIST_PAGE: usize = 20;

/// What the seeding made: credentials (shown once by the admin CLI) and the contacts.
pub struct Seed {
    pub client_id: String,
    pub client_secret: String,
    pub api_key_id: String,
    pub api_key_secret: String,
    pub legacy_key: String,
    /// A member of the account, who signs in to authorize the app (the `refresh_token` scenario).
    pub user_email: String,
    pub user_password: String,
    /// One refresh token per connection, for `refresh_token`; empty unless that scenario runs.
    pub refresh_tokens: Arc<Vec<String>>,
    /// A `client_credentials` access token of the app (`contacts.read contacts.write hooks`).
    pub access_token: String,
    pub contact_ids: Arc<Vec<u64>>,
}

pub fn field(v: &serde_json::Value, name: &str) -> anyhow::Result<String> {
    v[name]
        .as_str()
        .map(str::to_owned)
        .with_context(|| format!("no {name:?} in {v}"))
}

/// Seeds through the admin CLI (account, app, API key, legacy key) and the REST API (contacts).
pub async fn seed(server: &Server, contacts: usize) -> anyhow::Result<Seed> {
    server
        .admin(&["accounts", "create", ACCOUNT, "--display-name", "Benchmark"])
        .await?;
    let app = server
        .admin(&[
            "apps",
            "create",
            "--name",
            "Benchmark app",
            "--owner",
            ACCOUNT,
            "--scopes",
            "contacts.read contacts.write hooks",
            "--redirect-uri",
            REDIRECT_URI,
        ])
        .await?;
    let user_email = "member@bench.test";
    let user = server
        .admin(&["users", "create", "--account", ACCOUNT, "--email", user_email])
        .await?;
    let key = server
        .admin(&[
            "api-keys",
            "create",
            "--account",
            ACCOUNT,
            "--name",
            "Benchmark key",
        ])
        .await?;
    let legacy = server
        .admin(&[
            "legacy-keys",
            "create",
            "--account",
            ACCOUNT,
            "--name",
            "Benchmark legacy key",
        ])
        .await?;
    let client_id = field(&app, "client_id")?;
    let client_secret = field(&app, "client_secret")?;

    let host = value(&server.addr.to_string());
    let mut conn = Conn::open(server.addr).await?;
    let token = conn
        .send(request(
            Method::POST,
            &host,
            "/oauth/token",
            &[(AUTHORIZATION, basic(&client_id, &client_secret))],
            Some((
                "application/x-www-form-urlencoded",
                Bytes::from_static(b"grant_type=client_credentials"),
            )),
        ))
        .await?
        .expect_json(200, "client_credentials token")?;
    let access_token = field(&token, "access_token")?;

    let contact_ids = create_contacts(server.addr, &access_token, contacts).await?;
    Ok(Seed {
        client_id,
        client_secret,
        api_key_id: field(&key, "id")?,
        api_key_secret: field(&key, "secret")?,
        legacy_key: field(&legacy, "key_value")?,
        user_email: user_email.to_owned(),
        user_password: field(&user, "password")?,
        refresh_tokens: Arc::default(),
        access_token,
        contact_ids: Arc::new(contact_ids),
    })
}

/// Creates `n` contacts named after their index, over a few connections; returns their ids in order.
async fn create_contacts(addr: SocketAddr, token: &str, n: usize) -> anyhow::Result<Vec<u64>> {
    const CONNECTIONS: usize = 8;
    let host = value(&addr.to_string());
    let auth = value(&format!("Bearer {token}"));
    let mut tasks = Vec::new();
    for c in 0..CONNECTIONS {
        let (host, auth) = (host.clone(), auth.clone());
        tasks.push(tokio::spawn(async move {
            let mut conn = Conn::open(addr).await?;
            let mut ids = Vec::new();
            for i in (c..n).step_by(CONNECTIONS) {
                let body = contact_body(&format!("Seed{i}"), &format!("seed{i}@bench.test"));
                let reply = conn
                    .send(request(
                        Method::POST,
                        &host,
                        "/v1/contacts",
                        &[(AUTHORIZATION, auth.clone())],
                        Some(("application/json", body)),
                    ))
                    .await?;
                let id = reply.expect_json(201, "creating a seed contact")?["id"]
                    .as_u64()
                    .context("a created contact without an id")?;
                ids.push((i, id));
            }
            anyhow::Ok(ids)
        }));
    }
    let mut all = Vec::with_capacity(n);
    for t in tasks {
        all.extend(t.await??);
    }
    all.sort_unstable();
    Ok(all.into_iter().map(|(_, id)| id).collect())
}

pub fn contact_body(given_name: &str, email: &str) -> Bytes {
    Bytes::from(
        serde_json::json!({
            "given_name": given_name,
            "family_name": "Bench",
            "company_name": "Keygate Benchmarks",
            "email_addresses": [{"email": email, "field": "EMAIL1"}],
            "phone_numbers": [{"number": "+1 555-0100", "type": "Work", "field": "PHONE1"}],
        })
        .to_string(),
    )
}

/// The load of a request/response scenario; `None` for `hook_deliveries`, which has its own driver.
pub fn workload(name: &str, addr: SocketAddr, seed: &Seed) -> anyhow::Result<Option<Workload>> {
    let host = value(&addr.to_string());
    let bearer = value(&format!("Bearer {}", seed.access_token));
    let client_basic = basic(&seed.client_id, &seed.client_secret);
    let ids = seed.contact_ids.clone();
    if ids.is_empty() {
        bail!("no seeded contacts");
    }
    let form = "application/x-www-form-urlencoded";
    let w = |make: crate::load::MakeRequest, expect: u16, expect_body: Option<&'static str>| Workload {
        requests: Requests::Independent(make),
        expect: StatusCode::from_u16(expect).unwrap_or(StatusCode::OK),
        expect_body,
    };
    let workload = match name {
        "healthz" => w(
            Arc::new(move |_, _| request(Method::GET, &host, "/healthz", &[], None)),
            200,
            None,
        ),
        "client_credentials" => {
            let body = Bytes::from_static(b"grant_type=client_credentials");
            w(
                Arc::new(move |_, _| {
                    request(
                        Method::POST,
                        &host,
                        "/oauth/token",
                        &[(AUTHORIZATION, client_basic.clone())],
                        Some((form, body.clone())),
                    )
                }),
                200,
                Some("access_token"),
            )
        }
        "auth_api_key" => {
            let key: (HeaderName, HeaderValue) =
                (HeaderName::from_static("x-api-key"), value(&seed.api_key_id));
            let body = Bytes::from(serde_json::json!({"secret": seed.api_key_secret}).to_string());
            w(
                Arc::new(move |_, _| {
                    request(
                        Method::POST,
                        &host,
                        "/auth",
                        std::slice::from_ref(&key),
                        Some(("application/json", body.clone())),
                    )
                }),
                200,
                Some("access_token"),
            )
        }
        "introspect" => {
            let body = Bytes::from(format!("token={}", form_escape(&seed.access_token)));
            w(
                Arc::new(move |_, _| {
                    request(
                        Method::POST,
                        &host,
                        "/oauth/introspect",
                        &[(AUTHORIZATION, client_basic.clone())],
                        Some((form, body.clone())),
                    )
                }),
                200,
                Some("\"active\":true"),
            )
        }
        "me_bearer" => w(
            Arc::new(move |_, _| {
                request(
                    Method::GET,
                    &host,
                    "/v1/me",
                    &[(AUTHORIZATION, bearer.clone())],
                    None,
                )
            }),
            200,
            Some("\"account\""),
        ),
        "healthz_with_token" => w(
            Arc::new(move |_, _| {
                request(
                    Method::GET,
                    &host,
                    "/healthz",
                    &[(AUTHORIZATION, bearer.clone())],
                    None,
                )
            }),
            200,
            None,
        ),
        "contact_get_bearer" => w(
            Arc::new(move |rng: &mut Rng, _| {
                let id = ids[rng.below(ids.len())];
                let path = format!("/v1/contacts/{id}");
                request(
                    Method::GET,
                    &host,
                    &path,
                    &[(AUTHORIZATION, bearer.clone())],
                    None,
                )
            }),
            200,
            Some("\"given_name\""),
        ),
        "contact_get_legacy" => {
            let key = (HeaderName::from_static("x-legacy-key"), value(&seed.legacy_key));
            w(
                Arc::new(move |rng: &mut Rng, _| {
                    let id = ids[rng.below(ids.len())];
                    let path = format!("/v1/contacts/{id}");
                    request(Method::GET, &host, &path, std::slice::from_ref(&key), None)
                }),
                200,
                Some("\"given_name\""),
            )
        }
        "contact_list_bearer" => {
            // Pages that start anywhere among the seeded contacts, so the scan is not always the same rows.
            let pages = ids.len().saturating_sub(LIST_PAGE).max(1);
            w(
                Arc::new(move |rng: &mut Rng, _| {
                    let path = format!("/v1/contacts?limit={LIST_PAGE}&offset={}", rng.below(pages));
                    request(
                        Method::GET,
                        &host,
                        &path,
                        &[(AUTHORIZATION, bearer.clone())],
                        None,
                    )
                }),
                200,
                Some("\"contacts\""),
            )
        }
        "xmlrpc_load" => {
            let token = xml_escape(&seed.access_token);
            w(
                Arc::new(move |rng: &mut Rng, _| {
                    let id = ids[rng.below(ids.len())];
                    let body = format!(
                        "<?xml version=\"1.0\"?><methodCall><methodName>ContactService.load</methodName>\
                         <params><param><value><string>{token}</string></value></param>\
                         <param><value><int>{id}</int></value></param>\
                         <param><value><array><data><value><string>Id</string></value>\
                         <value><string>FirstName</string></value><value><string>LastName</string></value>\
                         <value><string>Email</string></value></data></array></value></param>\
                         </params></methodCall>"
                    );
                    request(
                        Method::POST,
                        &host,
                        "/xmlrpc",
                        &[],
                        Some(("text/xml", Bytes::from(body))),
                    )
                }),
                200,
                Some("<name>FirstName</name>"),
            )
        }
        "contact_create" => {
            // One sequence across connections: every created contact has its own address.
            let next = Arc::new(AtomicU64::new(0));
            w(
                Arc::new(move |_, _| {
                    let n = next.fetch_add(1, Ordering::Relaxed);
                    let body = contact_body(&format!("Load{n}"), &format!("load{n}@bench.test"));
                    request(
                        Method::POST,
                        &host,
                        "/v1/contacts",
                        &[(AUTHORIZATION, bearer.clone())],
                        Some(("application/json", body)),
                    )
                }),
                201,
                None,
            )
        }
        "refresh_token" => {
            let client = client_basic.clone();
            Workload {
                requests: Requests::Chained(Chain {
                    start: seed.refresh_tokens.clone(),
                    make: Arc::new(move |refresh: &str| {
                        let body =
                            grants::form(&[("grant_type", "refresh_token"), ("refresh_token", refresh)]);
                        request(
                            Method::POST,
                            &host,
                            "/oauth/token",
                            &[(AUTHORIZATION, client.clone())],
                            Some((form, body)),
                        )
                    }),
                    next: Arc::new(|reply| reply.json().ok().and_then(|a| field(&a, "refresh_token").ok())),
                }),
                expect: StatusCode::OK,
                expect_body: Some("refresh_token"),
            }
        }
        "hook_deliveries" => return Ok(None),
        other => bail!("unknown scenario {other:?}"),
    };
    Ok(Some(workload))
}

fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}
