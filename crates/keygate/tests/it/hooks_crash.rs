//! Crash safety of REST Hooks: `keygate serve` is killed with SIGKILL while contacts are being written
//! and delivered, then started again on the same database. Every acknowledged write must reach the
//! receiver at least once, and nothing may arrive that the store does not hold.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use keygate_core::crypto::{random_string, MasterKey};
use keygate_testkit::testing::{postgres_admin_url, TempDatabase};
use serde_json::{json, Value};
use tokio::process::{Child, Command};

use crate::hooks::Receiver;

struct Node {
    dir: PathBuf,
    config: PathBuf,
    master: String,
    database_url: String,
}

impl Node {
    fn command(&self) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_keygate"));
        for (key, _) in std::env::vars_os() {
            if key.to_string_lossy().starts_with("KEYGATE_") {
                cmd.env_remove(key);
            }
        }
        cmd.env_remove("RUST_LOG")
            .env("KEYGATE_MASTER_KEY", &self.master)
            .current_dir(&self.dir)
            .arg("--config")
            .arg(&self.config)
            .arg("--database-url")
            .arg(&self.database_url)
            .stdin(Stdio::null())
            .kill_on_drop(true);
        cmd
    }

    async fn admin(&self, args: &[&str]) -> Value {
        let out = self
            .command()
            .arg("admin")
            .arg("--json")
            .args(args)
            .output()
            .await
            .unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        serde_json::from_slice(&out.stdout).unwrap()
    }

    async fn serve(&self, http: &reqwest::Client, base: &str) -> Child {
        let child = self
            .command()
            .arg("serve")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        for _ in 0..300 {
            if http
                .get(format!("{base}/readyz"))
                .send()
                .await
                .is_ok_and(|r| r.status() == 200)
            {
                return child;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("keygate did not become ready");
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

async fn survives_sigkill(db: &TempDatabase) {
    let dir = std::env::temp_dir().join(format!(
        "keygate-crash-{}",
        random_string(b"abcdefghij0123456789", 10)
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let config = dir.join("keygate.toml");
    std::fs::write(
        &config,
        format!(
            "listen = \"127.0.0.1:{port}\"\ndata_dir = \"{}\"\n[hooks]\nallow_private_targets = true\ndebounce_ms = 0\ntimeout = 2\nretry_schedule = [0, 1, 1, 1, 1, 1, 1, 1, 1, 1]\n[rate_limits]\nper_minute = 0\n",
            dir.join("data").display()
        ),
    )
    .unwrap();
    let node = Node {
        dir: dir.clone(),
        config,
        master: MasterKey::generate().to_base64(),
        database_url: db.url().to_owned(),
    };
    // The server runs in a child process here, so nothing in this one has chosen rustls' crypto
    // provider for reqwest yet (in-process servers do it when they build their hook client).
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    let http = reqwest::Client::new();
    node.admin(&["accounts", "create", "cr001"]).await;
    let key = node
        .admin(&[
            "api-keys",
            "create",
            "--account",
            "cr001",
            "--name",
            "crash",
            "--scopes",
            "full",
        ])
        .await;
    let (key_id, secret) = (
        key["id"].as_str().unwrap().to_owned(),
        key["secret"].as_str().unwrap().to_owned(),
    );

    let mut server = node.serve(&http, &base).await;
    let token = {
        let res = http
            .post(format!("{base}/auth"))
            .header("x-api-key", &key_id)
            .json(&json!({"secret": secret}))
            .send()
            .await
            .unwrap();
        res.json::<Value>().await.unwrap()["access_token"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let rx = Receiver::start().await;
    let hook: Value = http
        .post(format!("{base}/v1/hooks"))
        .bearer_auth(&token)
        .json(&json!({"eventKey": "contact.add", "hookUrl": rx.url}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(hook["status"], "Verified", "{hook}");

    // Writers run while the server is killed; each records what was acknowledged.
    let acknowledged = Arc::new(Mutex::new(BTreeSet::new()));
    let writers: Vec<_> = (0..4)
        .map(|w| {
            let (http, base, token, acked) =
                (http.clone(), base.clone(), token.clone(), acknowledged.clone());
            tokio::spawn(async move {
                for n in 0..10_000 {
                    let body = json!({"given_name": format!("w{w}n{n}")});
                    let Ok(res) = http
                        .post(format!("{base}/v1/contacts"))
                        .bearer_auth(&token)
                        .json(&body)
                        .send()
                        .await
                    else {
                        return;
                    };
                    if res.status() != 201 {
                        return;
                    }
                    let Ok(c) = res.json::<Value>().await else { return };
                    acked.lock().unwrap().insert(c["id"].as_i64().unwrap());
                }
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(1500)).await;
    server.start_kill().unwrap();
    server.wait().await.unwrap();
    for w in writers {
        w.await.unwrap();
    }
    let acknowledged = acknowledged.lock().unwrap().clone();
    assert!(
        acknowledged.len() > 10,
        "the writers got some work done before the kill"
    );

    let _server = node.serve(&http, &base).await;
    let delivered = || -> BTreeSet<i64> {
        rx.deliveries()
            .iter()
            .flat_map(|d| {
                let v: Value = serde_json::from_slice(&d.body).unwrap();
                v["object_keys"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|k| k["id"].as_i64().unwrap())
                    .collect::<Vec<_>>()
            })
            .collect()
    };
    // A delivery in flight at the kill stays claimed until its lease ends (hooks.timeout + 60 s = 62 s
    // here) and is sent again after that, so the wait must outlast the lease.
    for _ in 0..900 {
        if acknowledged.is_subset(&delivered()) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let got = delivered();
    let missing: Vec<_> = acknowledged.difference(&got).collect();
    assert!(
        missing.is_empty(),
        "acknowledged but never delivered: {missing:?}"
    );

    // Nothing invented: every delivered id is a contact the store holds.
    let mut stored = BTreeSet::new();
    let mut next = Some(format!("{base}/v1/contacts?limit=1000"));
    while let Some(url) = next {
        let page: Value = http
            .get(url)
            .bearer_auth(&token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        stored.extend(
            page["contacts"]
                .as_array()
                .unwrap()
                .iter()
                .map(|c| c["id"].as_i64().unwrap()),
        );
        next = page["next"].as_str().map(str::to_owned);
    }
    let invented: Vec<_> = got.difference(&stored).collect();
    assert!(invented.is_empty(), "delivered but not stored: {invented:?}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hooks_survive_sigkill_on_sqlite() {
    let db = TempDatabase::sqlite().await;
    survives_sigkill(&db).await;
    db.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hooks_survive_sigkill_on_postgres() {
    let Some(admin) = postgres_admin_url() else {
        eprintln!("skipping PostgreSQL test: KEYGATE_TEST_POSTGRES_URL is not set");
        return;
    };
    let db = TempDatabase::postgres(&admin).await.unwrap();
    survives_sigkill(&db).await;
    db.cleanup().await;
}
