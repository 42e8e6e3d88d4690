//! A whole Keygate server per test: a fresh database (SQLite file or PostgreSQL database), a fresh data
//! directory and master key, listening on a random loopback port, and helpers that speak HTTP to it the
//! way clients and browsers do.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;
use std::sync::Arc;

use keygate_core::crypto::{random_string, MasterKey};
use keygate_server::{AppState, Config};
use keygate_store::testing::{postgres_admin_url, TempDatabase};
use reqwest::StatusCode;
use serde_json::{json, Value};
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub use keygate_store::testing;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StoreKind {
    Sqlite,
    Postgres,
}

/// Runs a test body once per store: `store_test!(name, |srv| async move { … })` makes `name::sqlite`
/// and `name::postgres` (which skips with a message when `KEYGATE_TEST_POSTGRES_URL` is unset).
#[macro_export]
macro_rules! store_test {
    ($name:ident, $body:expr) => {
        $crate::store_test!($name, |_config| {}, $body);
    };
    ($name:ident, $tweak:expr, $body:expr) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                $crate::run_test($crate::StoreKind::Sqlite, $tweak, $body).await;
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                $crate::run_test($crate::StoreKind::Postgres, $tweak, $body).await;
            }
        }
    };
}

pub async fn run_test<T, F, Fut>(kind: StoreKind, tweak: T, body: F)
where
    T: FnOnce(&mut Config),
    F: FnOnce(TestServer) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let Some(srv) = TestServer::start(kind, tweak).await else {
        return;
    };
    let db = srv.database.clone();
    let data_dir = srv.data_dir.clone();
    body(srv).await;
    if let Some(db) = Arc::into_inner(db) {
        db.cleanup().await;
    }
    let _ = std::fs::remove_dir_all(data_dir);
}

pub struct TestServer {
    pub url: String,
    pub state: AppState,
    pub config: Config,
    /// A live admin token for the admin API.
    pub admin_token: String,
    pub http: reqwest::Client,
    pub database: Arc<TempDatabase>,
    pub data_dir: PathBuf,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<std::io::Result<()>>>,
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// A listener on a free loopback port, and its address.
async fn loopback() -> (TcpListener, std::net::SocketAddr) {
    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind a loopback port");
    let addr = listener.local_addr().unwrap();
    (listener, addr)
}

/// Serves `state` on `listener` until the returned sender is used or dropped (graceful shutdown).
fn launch(listener: TcpListener, state: &AppState) -> (oneshot::Sender<()>, JoinHandle<std::io::Result<()>>) {
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(keygate_server::serve(listener, state.clone(), async {
        let _ = stopped.await;
    }));
    (stop, task)
}

impl TestServer {
    /// `None` (after saying why) when the PostgreSQL tests cannot run here.
    pub async fn start(kind: StoreKind, tweak: impl FnOnce(&mut Config)) -> Option<TestServer> {
        let database = match kind {
            StoreKind::Sqlite => TempDatabase::sqlite().await,
            StoreKind::Postgres => {
                let Some(admin) = postgres_admin_url() else {
                    eprintln!("skipping PostgreSQL test: KEYGATE_TEST_POSTGRES_URL is not set");
                    return None;
                };
                TempDatabase::postgres(&admin)
                    .await
                    .expect("create a PostgreSQL test database")
            }
        };
        let (listener, addr) = loopback().await;
        let data_dir = std::env::temp_dir().join(format!(
            "keygate-test-data-{}",
            random_string(b"abcdefghijklmnopqrstuvwxyz0123456789", 12)
        ));
        let mut config = Config {
            listen: addr,
            data_dir: data_dir.clone(),
            database_url: database.url().to_owned(),
            master_key: MasterKey::generate().to_base64(),
            ..Config::default()
        };
        config.log.level = "warn".into();
        tweak(&mut config);
        let state = keygate_server::build_state(config, false)
            .await
            .expect("start keygate");
        let config = (*state.config).clone();
        let admin_token = state
            .keygate
            .manage(keygate_lib::Actor::System)
            .create_admin_token("tests")
            .await
            .unwrap()
            .secret;
        let (stop, task) = launch(listener, &state);
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        Some(TestServer {
            url: format!("http://{addr}"),
            state,
            config,
            admin_token,
            http,
            database: Arc::new(database),
            data_dir,
            stop: Some(stop),
            task: Some(task),
        })
    }

    /// A second server on the same database, master key and public URL, on a port of its own: another
    /// node of one deployment, as behind a load balancer.
    pub async fn another_node(&self) -> TestServer {
        let (listener, addr) = loopback().await;
        let mut config = self.config.clone();
        config.listen = addr;
        let state = keygate_server::build_state(config, false)
            .await
            .expect("start another keygate node");
        let config = (*state.config).clone();
        let (stop, task) = launch(listener, &state);
        TestServer {
            url: format!("http://{addr}"),
            state,
            config,
            admin_token: self.admin_token.clone(),
            http: self.http.clone(),
            database: self.database.clone(),
            data_dir: self.data_dir.clone(),
            stop: Some(stop),
            task: Some(task),
        }
    }

    /// Stops accepting and waits for the server task to end (graceful shutdown).
    pub async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            task.await.unwrap().unwrap();
        }
    }

    pub fn keygate(&self) -> &keygate_lib::Keygate {
        &self.state.keygate
    }

    pub fn at(&self, path: &str) -> String {
        format!("{}{}", self.url, path)
    }

    /// Calls the admin API; returns status and JSON body (Null when empty).
    pub async fn admin(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut req = self
            .http
            .request(method, self.at(path))
            .bearer_auth(&self.admin_token);
        if let Some(b) = body {
            req = req.json(&b);
        }
        let res = req.send().await.unwrap();
        let status = res.status();
        let text = res.text().await.unwrap();
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    async fn admin_ok(&self, method: reqwest::Method, path: &str, body: Value) -> Value {
        let (status, v) = self.admin(method, path, Some(body)).await;
        assert!(status.is_success(), "admin call {path} failed: {status} {v}");
        v
    }

    /// A new active account with a random name.
    /// `GET path` and parse the JSON body (any status).
    pub async fn get_json(&self, path: &str) -> Value {
        self.http
            .get(self.at(path))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    /// The `kid`s the JWKS publishes now.
    pub async fn jwks_kids(&self) -> Vec<String> {
        let jwks = self.get_json("/.well-known/jwks.json").await;
        jwks["keys"]
            .as_array()
            .unwrap()
            .iter()
            .map(|k| k["kid"].as_str().unwrap().to_owned())
            .collect()
    }

    /// Authorizes `app` for `user` (consent allowed) with extra query parameters, exchanges the code, and
    /// returns the token response.
    pub async fn user_tokens(&self, app: &TestApp, user: &TestUser, query: &[(&str, &str)]) -> Value {
        let mut q = vec![("response_type", "code"), ("client_id", app.client_id.as_str())];
        q.extend_from_slice(query);
        let back = self.authorize(&q, user, true).await;
        let code = query_param(&back, "code").unwrap_or_else(|| panic!("no code in {back}"));
        let (status, body) = self
            .oauth_post(
                "/oauth/token",
                app,
                &[("grant_type", "authorization_code"), ("code", &code)],
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        body
    }

    /// Loads the login page for `query` and returns its form filled in with `user`'s account and email
    /// and the given password, ready to submit.
    pub async fn login_form(
        &self,
        query: &[(&str, &str)],
        user: &TestUser,
        password: &str,
    ) -> Vec<(String, String)> {
        let res = self
            .http
            .get(self.at("/oauth/authorize"))
            .query(query)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        let mut form = hidden_fields(&res.text().await.unwrap());
        form.push(("account".into(), user.account.clone()));
        form.push(("email".into(), user.email.clone()));
        form.push(("password".into(), password.to_owned()));
        form
    }

    /// A client_credentials token for `app`.
    pub async fn client_token(&self, app: &TestApp, scope: Option<&str>) -> Value {
        let mut form = vec![("grant_type", "client_credentials")];
        if let Some(s) = scope {
            form.push(("scope", s));
        }
        let res = self
            .http
            .post(self.at("/oauth/token"))
            .basic_auth(&app.client_id, app.client_secret.as_deref())
            .form(&form)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        res.json().await.unwrap()
    }

    /// `POST` a form to an OAuth endpoint as `app` (Basic auth); returns status and JSON.
    /// A public client (no secret) names itself with `client_id` in the body instead.
    pub async fn oauth_post(&self, path: &str, app: &TestApp, form: &[(&str, &str)]) -> (StatusCode, Value) {
        let req = self.http.post(self.at(path));
        let res = match &app.client_secret {
            Some(secret) => req.basic_auth(&app.client_id, Some(secret)).form(form),
            None => req.form(&[form, &[("client_id", app.client_id.as_str())]].concat()),
        }
        .send()
        .await
        .unwrap();
        let status = res.status();
        (status, res.json().await.unwrap_or(Value::Null))
    }

    /// `GET /v1/me` with a bearer token: the status and body.
    pub async fn me(&self, token: &str) -> (StatusCode, Value) {
        let res = self
            .http
            .get(self.at("/v1/me"))
            .bearer_auth(token)
            .send()
            .await
            .unwrap();
        let status = res.status();
        (status, res.json().await.unwrap_or(Value::Null))
    }

    /// An account with an owned confidential app allowed the default scopes.
    pub async fn owned_app(&self) -> (String, TestApp) {
        let account = self.account().await;
        let app = self
            .app(json!({"name": "Owned app", "owner_account": account, "redirect_uris": ["https://app.example.com/cb"]}))
            .await;
        (account, app)
    }

    pub async fn account(&self) -> String {
        let name = format!(
            "{}{}",
            random_string(b"abcdefghijklmnopqrstuvwxyz", 2),
            random_string(b"0123456789", 3)
        );
        self.admin_ok(reqwest::Method::POST, "/admin/v1/accounts", json!({"name": name}))
            .await;
        name
    }

    /// A new user of `account`; returns its id, email and password.
    pub async fn user(&self, account: &str, role: &str) -> TestUser {
        let email = format!("{}@example.com", random_string(b"abcdefghijklmnopqrstuvwxyz", 10));
        let password = random_string(b"abcdefghijklmnopqrstuvwxyz0123456789", 16);
        let v = self
            .admin_ok(
                reqwest::Method::POST,
                &format!("/admin/v1/accounts/{account}/users"),
                json!({"email": email, "password": password, "role": role}),
            )
            .await;
        TestUser {
            id: v["id"].as_str().unwrap().to_owned(),
            account: account.to_owned(),
            email,
            password,
        }
    }

    /// Registers an app from a JSON body (see the admin API); returns client id and secret.
    pub async fn app(&self, body: Value) -> TestApp {
        let v = self.admin_ok(reqwest::Method::POST, "/admin/v1/apps", body).await;
        TestApp {
            client_id: v["client_id"].as_str().unwrap().to_owned(),
            client_secret: v["client_secret"].as_str().map(str::to_owned),
            redirect_uri: v["redirect_uris"][0].as_str().map(str::to_owned),
        }
    }

    /// Drives the authorization endpoint as a browser would: load the login page, submit the form,
    /// then press Allow (or Deny) on the consent page. Returns the final redirect's `Location`.
    pub async fn authorize(&self, query: &[(&str, &str)], user: &TestUser, allow: bool) -> url::Url {
        let url = url::Url::parse_with_params(&self.at("/oauth/authorize"), query).unwrap();
        self.authorize_url(url.as_str(), user, allow).await
    }

    /// As [`TestServer::authorize`], for an authorization URL a client library built.
    pub async fn authorize_url(&self, url: &str, user: &TestUser, allow: bool) -> url::Url {
        let login = self.http.get(url).send().await.unwrap();
        if login.status() == StatusCode::SEE_OTHER {
            return location(&login);
        }
        assert_eq!(
            login.status(),
            StatusCode::OK,
            "login page: {}",
            login.text().await.unwrap()
        );
        let html = login.text().await.unwrap();
        let mut form = hidden_fields(&html);
        form.push(("account".into(), user.account.clone()));
        form.push(("email".into(), user.email.clone()));
        form.push(("password".into(), user.password.clone()));
        let consent = self
            .http
            .post(self.at("/oauth/authorize"))
            .form(&form)
            .send()
            .await
            .unwrap();
        if consent.status() == StatusCode::SEE_OTHER {
            return location(&consent);
        }
        assert_eq!(consent.status(), StatusCode::OK, "consent page");
        let html = consent.text().await.unwrap();
        let mut form = hidden_fields(&html);
        form.push(("decision".into(), if allow { "allow" } else { "deny" }.into()));
        let done = self
            .http
            .post(self.at("/oauth/authorize/consent"))
            .form(&form)
            .send()
            .await
            .unwrap();
        assert_eq!(done.status(), StatusCode::SEE_OTHER);
        location(&done)
    }
}

pub struct TestUser {
    pub id: String,
    pub account: String,
    pub email: String,
    pub password: String,
}

pub struct TestApp {
    pub client_id: String,
    pub client_secret: Option<String>,
    pub redirect_uri: Option<String>,
}

impl TestApp {
    pub fn secret(&self) -> &str {
        self.client_secret.as_deref().expect("a confidential app")
    }
}

pub fn location(res: &reqwest::Response) -> url::Url {
    let loc = res
        .headers()
        .get("location")
        .expect("a Location header")
        .to_str()
        .unwrap();
    url::Url::parse(loc).expect("an absolute Location")
}

pub fn query_param(url: &url::Url, name: &str) -> Option<String> {
    url.query_pairs()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

/// The `<input type="hidden">` fields of a page, unescaped: what a browser would submit.
pub fn hidden_fields(html: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for chunk in html.split("<input type=\"hidden\" ").skip(1) {
        let attr = |name: &str| {
            let start = chunk.find(&format!("{name}=\""))? + name.len() + 2;
            let end = start + chunk[start..].find('"')?;
            Some(unescape(&chunk[start..end]))
        };
        if let (Some(n), Some(v)) = (attr("name"), attr("value")) {
            out.push((n, v));
        }
    }
    out
}

fn unescape(s: &str) -> String {
    s.replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}
