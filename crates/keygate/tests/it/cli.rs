//! The `keygate` binary itself: `admin` commands run against a live test server's database (the
//! supported way to manage a running server, SQLite included) and take effect there at once; `config
//! check`, `migrate`, and `serve` with its first-start hints, demo seeding and graceful SIGTERM shutdown.
//!
//! Every child process is bounded by a timeout and killed when its handle drops, so a hung or failing
//! child can never hang the suite.

use std::path::{Path, PathBuf};
use std::process::{ExitStatus, Stdio};
use std::time::Duration;

use keygate_core::crypto::random_string;
use keygate_testkit::{store_test, TestServer};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::process::{Child, Command};

use crate::admin_api::{call, client_credentials, owned_app};

/// Generous: a debug binary on a loaded 2-core machine still starts in well under a second.
const CHILD_TIMEOUT: Duration = Duration::from_secs(60);

/// A directory of its own for one test, removed when dropped.
struct Scratch(PathBuf);

impl Scratch {
    fn new() -> Scratch {
        let dir = std::env::temp_dir().join(format!(
            "keygate-cli-{}",
            random_string(b"abcdefghijklmnopqrstuvwxyz0123456789", 12)
        ));
        std::fs::create_dir_all(&dir).unwrap();
        Scratch(dir)
    }
    fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The binary with a clean environment: no `KEYGATE_*` variables (settings, or the suite's own
/// `KEYGATE_TEST_POSTGRES_URL`, see `non_setting_environment_variables_are_ignored`) or `RUST_LOG` leak in,
/// and the working directory is `cwd` so no stray `./keygate.toml` or `./keygate-data` is used.
fn keygate_bin(cwd: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_keygate"));
    for (key, _) in std::env::vars_os() {
        if key.to_string_lossy().starts_with("KEYGATE_") {
            cmd.env_remove(key);
        }
    }
    cmd.env_remove("RUST_LOG")
        .current_dir(cwd)
        .stdin(Stdio::null())
        .kill_on_drop(true);
    cmd
}

/// The binary configured for `srv`'s store: same database, same master key.
fn keygate_for(srv: &TestServer) -> Command {
    // The server's own data directory (the kit removes it) as the working directory.
    std::fs::create_dir_all(&srv.data_dir).unwrap();
    let mut cmd = keygate_bin(&srv.data_dir);
    cmd.env("KEYGATE_MASTER_KEY", &srv.config.master_key)
        .arg("--database-url")
        .arg(srv.database.url())
        .arg("--data-dir")
        .arg(&srv.data_dir);
    cmd
}

struct Output {
    status: ExitStatus,
    stdout: String,
    stderr: String,
    /// `admin --json` reports errors as JSON too.
    json_errors: bool,
}

impl Output {
    #[track_caller]
    fn ok(self) -> Self {
        assert!(
            self.status.success(),
            "exit {}: stdout {} stderr {}",
            self.status,
            self.stdout,
            self.stderr
        );
        self
    }

    #[track_caller]
    fn json(&self) -> Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not JSON ({e}): {}", self.stdout))
    }

    /// Asserts a failure reported on stderr only, mentioning every one of `needles`.
    #[track_caller]
    fn failed(&self, needles: &[&str]) {
        assert!(!self.status.success(), "unexpected success: {}", self.stdout);
        assert_eq!(self.stdout, "", "errors go to stderr only");
        let message = if self.json_errors {
            let v: Value = serde_json::from_str(&self.stderr)
                .unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.stderr));
            v["error"]
                .as_str()
                .unwrap_or_else(|| panic!("no error message: {v}"))
                .to_owned()
        } else {
            assert!(self.stderr.starts_with("error: "), "{}", self.stderr);
            self.stderr.clone()
        };
        for n in needles {
            assert!(message.contains(n), "stderr lacks {n:?}: {}", self.stderr);
        }
        assert!(!self.stderr.contains("panicked"), "{}", self.stderr);
    }
}

/// Runs `cmd` with `args` to completion, feeding `stdin` if given.
async fn run(mut cmd: Command, args: &[&str], stdin: Option<&str>) -> Output {
    cmd.args(args).stdout(Stdio::piped()).stderr(Stdio::piped());
    if stdin.is_some() {
        cmd.stdin(Stdio::piped());
    }
    let mut child = cmd.spawn().expect("start keygate");
    if let Some(input) = stdin {
        let mut pipe = child.stdin.take().unwrap();
        pipe.write_all(input.as_bytes()).await.unwrap();
        // Closing stdin ends the child's read.
        drop(pipe);
    }
    let out = tokio::time::timeout(CHILD_TIMEOUT, child.wait_with_output())
        .await
        .unwrap_or_else(|_| panic!("keygate {args:?} did not finish within {CHILD_TIMEOUT:?}"))
        .unwrap();
    Output {
        status: out.status,
        stdout: String::from_utf8(out.stdout).unwrap(),
        stderr: String::from_utf8(out.stderr).unwrap(),
        json_errors: args.contains(&"admin") && args.contains(&"--json"),
    }
}

/// `keygate admin ARGS` against `srv`'s store.
async fn admin(srv: &TestServer, args: &[&str]) -> Output {
    run(keygate_for(srv), &[&["admin"][..], args].concat(), None).await
}

// --- admin commands against a running server --------------------------------------------------------

store_test!(accounts_create_and_errors, |srv| async move {
    let out = admin(
        &srv,
        &[
            "--json",
            "accounts",
            "create",
            "ab123",
            "--display-name",
            "Acme Inc.",
        ],
    )
    .await
    .ok();
    let v = out.json();
    assert_eq!(
        (&v["name"], &v["display_name"], &v["status"]),
        (&json!("ab123"), &json!("Acme Inc."), &json!("active"))
    );
    // Written to the server's store: the API sees it.
    let (status, v) = srv.admin(Method::GET, "/admin/v1/accounts/ab123", None).await;
    assert_eq!(
        (status, &v["display_name"]),
        (StatusCode::OK, &json!("Acme Inc."))
    );

    // Human output: `key  value` lines, not JSON.
    let out = admin(&srv, &["accounts", "create", "cd456"]).await.ok();
    assert!(
        out.stdout
            .lines()
            .any(|l| l.starts_with("name") && l.trim_end().ends_with("cd456")),
        "{}",
        out.stdout
    );
    assert!(
        serde_json::from_str::<Value>(&out.stdout).is_err(),
        "{}",
        out.stdout
    );
    let out = admin(&srv, &["accounts", "list"]).await.ok();
    assert!(out.stdout.starts_with("NAME"), "{}", out.stdout);
    assert!(
        out.stdout.contains("ab123") && out.stdout.contains("Acme Inc.") && out.stdout.contains("cd456"),
        "{}",
        out.stdout
    );
    let list = admin(&srv, &["--json", "accounts", "list"]).await.ok().json();
    let names: Vec<&Value> = list.as_array().unwrap().iter().map(|a| &a["name"]).collect();
    assert_eq!(names, [&json!("ab123"), &json!("cd456")]);

    let out = admin(&srv, &["accounts", "rename", "cd456", "Cobalt"]).await.ok();
    assert!(out.stdout.contains("Cobalt"), "{}", out.stdout);

    // Errors: a message on stderr, nothing on stdout, a failing exit status, also with --json.
    admin(&srv, &["accounts", "create", "AB123"])
        .await
        .failed(&["ab123"]);
    admin(&srv, &["--json", "accounts", "create", "nope"])
        .await
        .failed(&["two lowercase letters"]);
    admin(&srv, &["accounts", "create", "ab123"])
        .await
        .failed(&["already exists"]);
    admin(&srv, &["accounts", "show", "zz999"])
        .await
        .failed(&["zz999", "not found"]);
    admin(&srv, &["apps", "show", "aaaaaaaaaaaaaaaaaaaaaaaa"])
        .await
        .failed(&["not found"]);
    admin(&srv, &["--json", "apps", "suspend", "aaaaaaaaaaaaaaaaaaaaaaaa"])
        .await
        .failed(&["not found"]);
    admin(&srv, &["apps", "show", "not-a-client-id"])
        .await
        .failed(&["client_id"]);
    admin(
        &srv,
        &[
            "apps",
            "create",
            "--name",
            "A",
            "--redirect-uri",
            "http://evil.example.com/cb",
        ],
    )
    .await
    .failed(&["redirect_uris"]);
    admin(&srv, &["apps", "create", "--name", "A", "--owner", "zz999"])
        .await
        .failed(&["zz999"]);
    // Usage errors come from the argument parser, also on stderr.
    let out = admin(&srv, &["accounts", "frobnicate"]).await;
    assert!(
        !out.status.success() && out.stdout.is_empty() && out.stderr.contains("frobnicate"),
        "{}",
        out.stderr
    );
    let (_, v) = srv.admin(Method::GET, "/admin/v1/apps", None).await;
    assert_eq!(v["apps"], json!([]), "no failed command created anything");
});

store_test!(app_secret_is_printed_once, |srv| async move {
    let account = srv.account().await;
    let out = admin(
        &srv,
        &[
            "--json",
            "apps",
            "create",
            "--name",
            "CLI app",
            "--owner",
            &account,
            "--redirect-uri",
            "https://app.example.com/cb",
        ],
    )
    .await
    .ok();
    assert!(
        !out.stderr.contains("shown only"),
        "no prose around --json output: {}",
        out.stderr
    );
    let v = out.json();
    let client_id = v["client_id"].as_str().unwrap().to_owned();
    let secret = v["client_secret"].as_str().unwrap().to_owned();
    assert!(secret.starts_with("kgcs_") && secret.len() >= 5 + 32, "{secret}");
    assert_eq!(v["owner_account"], account.as_str());
    assert_eq!(v["redirect_uris"], json!(["https://app.example.com/cb"]));

    for args in [
        &["--json", "apps", "list"][..],
        &["apps", "list"],
        &["--json", "apps", "list", "--owner", &account],
        &["--json", "apps", "show", &client_id],
        &["apps", "show", &client_id],
    ] {
        let out = admin(&srv, args).await.ok();
        assert!(out.stdout.contains(&client_id), "{args:?}: {}", out.stdout);
        assert!(
            !out.stdout.contains(&secret) && !out.stderr.contains(&secret),
            "{args:?} shows the secret"
        );
        assert!(
            out.stdout.contains(&secret[secret.len() - 4..]),
            "{args:?} shows the last four: {}",
            out.stdout
        );
    }
    let listed = admin(&srv, &["--json", "apps", "list"]).await.json();
    assert_eq!(listed.as_array().unwrap().len(), 1);
    assert_eq!(listed[0]["client_secret"], Value::Null);

    // The server accepts the CLI-made app at once.
    let (status, body) = client_credentials(&srv, &client_id, &secret).await;
    assert_eq!(status, StatusCode::OK, "{body}");

    // Human output shows the secret with a warning that it is shown once.
    let out = admin(&srv, &["apps", "create", "--name", "Other"]).await.ok();
    let line = out
        .stdout
        .lines()
        .find(|l| l.starts_with("client_secret"))
        .unwrap_or_else(|| panic!("{}", out.stdout));
    assert!(line.contains("kgcs_"), "{line}");
    assert!(out.stderr.contains("shown only this once"), "{}", out.stderr);

    // Rotation through the CLI: a new secret, the old one kept for the grace period asked for.
    let out = admin(
        &srv,
        &["--json", "apps", "rotate-secret", &client_id, "--grace", "0"],
    )
    .await
    .ok();
    let rotated = out.json()["client_secret"].as_str().unwrap().to_owned();
    assert_ne!(rotated, secret);
    assert_eq!(
        client_credentials(&srv, &client_id, &rotated).await.0,
        StatusCode::OK
    );
    assert_eq!(
        client_credentials(&srv, &client_id, &secret).await.0,
        StatusCode::UNAUTHORIZED
    );
});

store_test!(suspending_an_app_takes_effect_at_once, |srv| async move {
    let account = srv.account().await;
    let (client_id, secret) = owned_app(&srv, &account).await;
    let (status, body) = client_credentials(&srv, &client_id, &secret).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let token = body["access_token"].as_str().unwrap().to_owned();
    assert_eq!(srv.me(&token).await.0, StatusCode::OK);

    let out = admin(&srv, &["apps", "suspend", &client_id]).await.ok();
    assert!(
        out.stdout
            .lines()
            .any(|l| l.starts_with("status") && l.contains("suspended")),
        "{}",
        out.stdout
    );
    // The very next requests: the CLI, another process, moved the shared auth epoch, so the server reads
    // the new status instead of what it kept in memory.
    assert_eq!(srv.me(&token).await.0, StatusCode::UNAUTHORIZED);
    let (status, body) = client_credentials(&srv, &client_id, &secret).await;
    assert_eq!(
        (status, &body["error"]),
        (StatusCode::UNAUTHORIZED, &json!("invalid_client")),
        "{body}"
    );

    admin(&srv, &["apps", "activate", &client_id]).await.ok();
    assert_eq!(
        client_credentials(&srv, &client_id, &secret).await.0,
        StatusCode::OK
    );

    // Revocation is final, through the CLI as through the API.
    admin(&srv, &["apps", "revoke", &client_id]).await.ok();
    assert_eq!(srv.me(&token).await.0, StatusCode::UNAUTHORIZED);
    admin(&srv, &["apps", "activate", &client_id])
        .await
        .failed(&["revoked"]);
    assert_eq!(
        client_credentials(&srv, &client_id, &secret).await.0,
        StatusCode::UNAUTHORIZED
    );
});

store_test!(suspending_an_account_stops_its_tokens, |srv| async move {
    let account = srv.account().await;
    let bystander = srv.account().await;
    let user = srv.user(&account, "member").await;
    let (client_id, secret) = owned_app(&srv, &account).await;
    let (other_id, other_secret) = owned_app(&srv, &bystander).await;
    let token = client_credentials(&srv, &client_id, &secret).await.1["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let other = client_credentials(&srv, &other_id, &other_secret).await.1["access_token"]
        .as_str()
        .unwrap()
        .to_owned();

    let out = admin(&srv, &["--json", "accounts", "suspend", &account])
        .await
        .ok();
    assert_eq!(out.json()["status"], "suspended");
    assert_eq!(srv.me(&token).await.0, StatusCode::UNAUTHORIZED);
    let (status, body) = client_credentials(&srv, &client_id, &secret).await;
    assert_eq!(
        (status, &body["error"]),
        (StatusCode::BAD_REQUEST, &json!("unauthorized_client")),
        "{body}"
    );
    let err = srv
        .keygate()
        .login(&account, &user.email, &user.password)
        .await
        .unwrap_err();
    assert_eq!(err, keygate_lib::oauth::authorize::LoginError::AccountSuspended);
    assert_eq!(
        srv.me(&other).await.0,
        StatusCode::OK,
        "other accounts are untouched"
    );

    admin(&srv, &["accounts", "activate", &account]).await.ok();
    assert_eq!(srv.me(&token).await.0, StatusCode::OK);
    assert!(srv
        .keygate()
        .login(&account, &user.email, &user.password)
        .await
        .is_ok());
});

store_test!(users_with_password_from_stdin, |srv| async move {
    let account = srv.account().await;
    let password = "a password from stdin";
    let out = run(
        keygate_for(&srv),
        &[
            "admin",
            "--json",
            "users",
            "create",
            "--account",
            &account,
            "--email",
            "Ops@Example.com",
            "--role",
            "admin",
            "--password-stdin",
        ],
        Some(&format!("{password}\n")),
    )
    .await
    .ok();
    let user = out.json();
    assert_eq!(
        (&user["email"], &user["role"], &user["account"]),
        (&json!("Ops@Example.com"), &json!("admin"), &json!(account))
    );
    assert!(
        !out.stdout.contains(password) && !out.stdout.contains("\"password\""),
        "{}",
        out.stdout
    );
    let id = user["id"].as_str().unwrap().to_owned();
    let logged_in = srv
        .keygate()
        .login(&account, "ops@example.com", password)
        .await
        .unwrap();
    assert_eq!(
        logged_in.id.as_str(),
        id,
        "the newline is not part of the password"
    );

    // Without --password-stdin a password is generated and shown once.
    let out = admin(
        &srv,
        &[
            "--json",
            "users",
            "create",
            "--account",
            &account,
            "--email",
            "gen@example.com",
        ],
    )
    .await
    .ok();
    let generated = out.json()["password"].as_str().unwrap().to_owned();
    assert!(generated.len() >= 16, "{generated}");
    assert!(srv
        .keygate()
        .login(&account, "gen@example.com", &generated)
        .await
        .is_ok());

    // Too short, or the same email in another case.
    let short = [
        "admin",
        "users",
        "create",
        "--account",
        account.as_str(),
        "--email",
        "x@example.com",
        "--password-stdin",
    ];
    run(keygate_for(&srv), &short, Some("short\n"))
        .await
        .failed(&["password"]);
    let dup = [
        "admin",
        "users",
        "create",
        "--account",
        account.as_str(),
        "--email",
        "OPS@example.com",
        "--password-stdin",
    ];
    run(keygate_for(&srv), &dup, Some("long enough password\n"))
        .await
        .failed(&["already exists"]);
    admin(
        &srv,
        &[
            "users",
            "create",
            "--account",
            "zz999",
            "--email",
            "y@example.com",
        ],
    )
    .await
    .failed(&["zz999"]);

    let out = run(
        keygate_for(&srv),
        &["admin", "users", "set-password", &id],
        Some("the next password\n"),
    )
    .await
    .ok();
    assert!(!out.stdout.contains("the next password"));
    assert!(srv
        .keygate()
        .login(&account, "ops@example.com", "the next password")
        .await
        .is_ok());
    assert!(
        srv.keygate()
            .login(&account, "ops@example.com", password)
            .await
            .is_err(),
        "the old password stops working"
    );

    let out = admin(&srv, &["--json", "users", "set-role", &id, "member"])
        .await
        .ok();
    assert_eq!(out.json()["role"], "member");
    let out = admin(&srv, &["--json", "users", "list", "--account", &account])
        .await
        .ok();
    assert_eq!(out.json().as_array().unwrap().len(), 2);
});

store_test!(admin_tokens_from_the_cli, |srv| async move {
    let out = admin(&srv, &["--json", "tokens", "create", "--name", "ops laptop"])
        .await
        .ok();
    let v = out.json();
    let (id, secret) = (
        v["id"].as_str().unwrap().to_owned(),
        v["secret"].as_str().unwrap().to_owned(),
    );
    assert!(secret.starts_with("kgat_"), "{secret}");
    let r = call(&srv, Method::GET, "/admin/v1/accounts", Some(&secret), None).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);

    let out = admin(&srv, &["--json", "tokens", "list"]).await.ok();
    assert!(!out.stdout.contains(&secret));
    assert!(
        out.json()
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t["id"] == id.as_str() && t["name"] == "ops laptop"),
        "{}",
        out.stdout
    );

    let out = admin(&srv, &["--json", "tokens", "revoke", &id]).await.ok();
    assert_eq!(out.json()["ok"], true);
    let r = call(&srv, Method::GET, "/admin/v1/accounts", Some(&secret), None).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED, "revoked at once");
    admin(&srv, &["tokens", "revoke", &id])
        .await
        .failed(&["not found"]);
    assert_eq!(
        srv.admin(Method::GET, "/admin/v1/accounts", None).await.0,
        StatusCode::OK,
        "other tokens still work"
    );
});

fn kids(keys: &Value, state: &str) -> Vec<String> {
    keys.as_array()
        .unwrap()
        .iter()
        .filter(|k| k["state"] == state)
        .map(|k| k["kid"].as_str().unwrap().to_owned())
        .collect()
}

store_test!(key_rotation_from_the_cli, |srv| async move {
    let before = admin(&srv, &["--json", "keys", "list"]).await.ok().json();
    let (current, next) = (kids(&before, "current"), kids(&before, "next"));
    assert_eq!((current.len(), next.len()), (1, 1), "{before}");

    let after = admin(&srv, &["--json", "keys", "rotate"]).await.ok().json();
    assert_eq!(kids(&after, "current"), next);
    assert_eq!(kids(&after, "retired"), current);
    let new_next = kids(&after, "next");
    assert_eq!(new_next.len(), 1);
    assert!(new_next[0] != current[0] && new_next[0] != next[0]);
    assert_eq!(
        admin(&srv, &["--json", "keys", "list"]).await.ok().json(),
        after,
        "stored as printed"
    );
    let out = admin(&srv, &["keys", "list"]).await.ok();
    assert!(
        out.stdout.starts_with("KID") && out.stdout.contains("retired"),
        "{}",
        out.stdout
    );

    // The server picks the change up on its next reload (periodic, or on meeting an unknown kid).
    srv.keygate().keyring().reload().await.unwrap();
    let published = srv.jwks_kids().await;
    for kid in [&current[0], &next[0], &new_next[0]] {
        assert!(published.contains(kid), "{kid} not in {published:?}");
    }
    let account = srv.account().await;
    let (client_id, secret) = owned_app(&srv, &account).await;
    let token = client_credentials(&srv, &client_id, &secret).await.1["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        jwt_simple::token::Token::decode_metadata(&token)
            .unwrap()
            .key_id(),
        Some(next[0].as_str())
    );
    assert_eq!(srv.me(&token).await.0, StatusCode::OK);
});

// --- config check and migrate ---------------------------------------------------------------------

async fn config_check(dir: &Scratch, toml: &str, env: &[(&str, &str)]) -> Output {
    let file = dir
        .path()
        .join(format!("{}.toml", random_string(b"abcdefghij", 8)));
    std::fs::write(&file, toml).unwrap();
    let mut cmd = keygate_bin(dir.path());
    cmd.envs(env.iter().copied());
    run(
        cmd,
        &["--config", file.to_str().unwrap(), "config", "check"],
        None,
    )
    .await
}

#[tokio::test]
async fn config_check_names_bad_settings() {
    let dir = Scratch::new();
    let cases: &[(&str, &[&str])] = &[
        (
            "[tokens]\naccess_token_ttl = -5\n",
            &["tokens.access_token_ttl", "-5"],
        ),
        ("[tokens]\nacess_token_ttl = 60\n", &["acess_token_ttl"]),
        ("colour = \"red\"\n", &["colour"]),
        ("[http]\nmax_body_bytes = \"big\"\n", &["max_body_bytes"]),
        ("[http]\nmax_body_bytes = 10\n", &["http.max_body_bytes"]),
        ("database_url = \"mysql://db/keygate\"\n", &["database_url"]),
        ("master_key = \"not base64!\"\n", &["master_key"]),
        (
            "[tokens]\nkey_rotation_interval = 60\n",
            &["tokens.key_rotation_interval"],
        ),
        ("[tokens\n", &["TOML"]),
    ];
    for (toml, needles) in cases {
        let out = config_check(&dir, toml, &[]).await;
        assert!(!out.status.success(), "{toml:?} accepted: {}", out.stdout);
        assert_eq!(out.stdout, "", "{toml:?}");
        for n in *needles {
            assert!(
                out.stderr.to_lowercase().contains(&n.to_lowercase()),
                "{toml:?}: stderr lacks {n:?}: {}",
                out.stderr
            );
        }
    }
    // Environment variables are checked the same way, and override the file.
    let out = config_check(
        &dir,
        "[tokens]\naccess_token_ttl = 600\n",
        &[("KEYGATE_TOKENS__ACCESS_TOKEN_TTL", "0")],
    )
    .await;
    out.failed(&["tokens.access_token_ttl"]);
    let missing = run(
        keygate_bin(dir.path()),
        &["--config", "/nonexistent/keygate.toml", "config", "check"],
        None,
    )
    .await;
    missing.failed(&["does not exist"]);
}

#[tokio::test]
async fn config_check_accepts_and_redacts_a_valid_file() {
    let dir = Scratch::new();
    let master = keygate_core::crypto::MasterKey::generate().to_base64();
    let toml = format!(
        "listen = \"127.0.0.1:9999\"\n\
         database_url = \"postgres://kg:s3cret-pw@db.internal:5432/keygate\"\n\
         master_key = \"{master}\"\n\
         [tokens]\naccess_token_ttl = 600\n\
         [http]\nmax_body_bytes = 2048\n"
    );
    let out = config_check(&dir, &toml, &[("KEYGATE_LOG__LEVEL", "debug")])
        .await
        .ok();
    assert!(out.stderr.contains("configuration is valid"), "{}", out.stderr);
    assert!(
        !out.stdout.contains("s3cret-pw") && !out.stdout.contains(&master),
        "secrets are redacted: {}",
        out.stdout
    );
    let v = out.json();
    assert_eq!(v["listen"], "127.0.0.1:9999");
    assert_eq!(
        v["public_url"], "http://127.0.0.1:9999",
        "derived values are resolved"
    );
    assert_eq!(v["tokens"]["issuer"], "http://127.0.0.1:9999");
    assert_eq!(v["tokens"]["access_token_ttl"], 600);
    assert_eq!(
        v["tokens"]["refresh_token_ttl"],
        30 * 86_400,
        "defaults fill the rest"
    );
    assert_eq!(v["http"]["max_body_bytes"], 2048);
    assert_eq!(v["log"]["level"], "debug", "from the environment");
    assert_eq!(v["master_key"], "(set)");
    assert_eq!(v["database_url"], "postgres://kg:***@db.internal:5432/keygate");
    // An empty file is valid: every setting has a default.
    config_check(&dir, "", &[]).await.ok();
}

/// `KEYGATE_CONFIG` (the `--config` flag's variable) and the test suite's `KEYGATE_TEST_*` are meant to be
/// skipped by the settings loader, but its filter compares them in lowercase to keys that keep the
/// environment's (upper) case, so both are refused as unknown settings.
#[tokio::test]

async fn non_setting_environment_variables_are_ignored() {
    let dir = Scratch::new();
    let file = dir.path().join("keygate.toml");
    std::fs::write(&file, "[tokens]\naccess_token_ttl = 600\n").unwrap();
    let mut cmd = keygate_bin(dir.path());
    cmd.env("KEYGATE_CONFIG", &file);
    let out = run(cmd, &["config", "check"], None).await.ok();
    assert_eq!(
        out.json()["tokens"]["access_token_ttl"],
        600,
        "the file named by KEYGATE_CONFIG was read"
    );
    let mut cmd = keygate_bin(dir.path());
    cmd.env(
        "KEYGATE_TEST_POSTGRES_URL",
        "postgres://postgres@127.0.0.1/postgres",
    );
    run(
        cmd,
        &["--config", file.to_str().unwrap(), "config", "check"],
        None,
    )
    .await
    .ok();
}

#[tokio::test]
async fn migrate_creates_the_database() {
    let dir = Scratch::new();
    let db = dir.path().join("x.db");
    let url = format!("sqlite://{}", db.display());
    let data = dir.path().join("data");
    let args = [
        "migrate",
        "--database-url",
        &url,
        "--data-dir",
        data.to_str().unwrap(),
    ];
    let out = run(keygate_bin(dir.path()), &args, None).await.ok();
    assert!(db.is_file(), "{} was not created", db.display());
    assert!(
        out.stdout.contains("migrations applied") && out.stdout.contains("x.db"),
        "{}",
        out.stdout
    );
    // Again: nothing to do, still fine.
    run(keygate_bin(dir.path()), &args, None).await.ok();
    // The migrated database is usable by the admin commands.
    let mut cmd = keygate_bin(dir.path());
    cmd.env(
        "KEYGATE_MASTER_KEY",
        keygate_core::crypto::MasterKey::generate().to_base64(),
    );
    let out = run(
        cmd,
        &[
            "--database-url",
            &url,
            "--data-dir",
            data.to_str().unwrap(),
            "admin",
            "--json",
            "accounts",
            "list",
        ],
        None,
    )
    .await
    .ok();
    assert_eq!(out.json(), json!([]));

    run(
        keygate_bin(dir.path()),
        &["migrate", "--database-url", "mysql://db/x"],
        None,
    )
    .await
    .failed(&["database_url"]);
    let out = run(
        keygate_bin(dir.path()),
        &["migrate", "--database-url", "sqlite:///nonexistent-dir/sub/x.db"],
        None,
    )
    .await;
    assert!(
        !out.status.success() && out.stdout.is_empty() && !out.stderr.contains("panicked"),
        "{}",
        out.stderr
    );
}

// --- serve ----------------------------------------------------------------------------------------

/// A running `keygate serve`: its stdout read line by line, stderr drained in the background (so the
/// child never blocks on a full pipe). Killed on drop if the test fails before stopping it.
struct Served {
    child: Child,
    stdout: tokio::io::Lines<BufReader<tokio::process::ChildStdout>>,
    stderr: tokio::task::JoinHandle<String>,
    seen: Vec<String>,
}

impl Served {
    async fn start(cwd: &Path, args: &[&str]) -> Served {
        let mut cmd = keygate_bin(cwd);
        cmd.args(args).stdout(Stdio::piped()).stderr(Stdio::piped());
        let mut child = cmd.spawn().expect("start keygate serve");
        let stdout = BufReader::new(child.stdout.take().unwrap()).lines();
        let mut err = child.stderr.take().unwrap();
        let stderr = tokio::spawn(async move {
            let mut s = String::new();
            let _ = err.read_to_string(&mut s).await;
            s
        });
        Served {
            child,
            stdout,
            stderr,
            seen: Vec::new(),
        }
    }

    /// Reads stdout up to and including the first line containing `needle`.
    async fn read_until(&mut self, needle: &str) {
        let found = tokio::time::timeout(CHILD_TIMEOUT, async {
            while let Some(line) = self.stdout.next_line().await.unwrap() {
                let hit = line.contains(needle);
                self.seen.push(line);
                if hit {
                    return true;
                }
            }
            false
        })
        .await;
        assert_eq!(
            found,
            Ok(true),
            "no line with {needle:?} in stdout: {:#?}",
            self.seen
        );
    }

    /// The value after `label` on the first line starting with it (after indentation).
    fn value(&self, label: &str) -> String {
        let line = self
            .seen
            .iter()
            .find(|l| l.trim_start().starts_with(label))
            .unwrap_or_else(|| panic!("no {label:?} line: {:#?}", self.seen));
        line.trim_start()[label.len()..].trim().to_owned()
    }

    /// Sends SIGTERM once the server handles it, and returns the exit status and stderr.
    async fn terminate(mut self) -> (ExitStatus, String) {
        let pid = self.child.id().expect("still running");
        wait_for_sigterm_handler(pid).await;
        let kill = std::process::Command::new("kill")
            .arg("-TERM")
            .arg(pid.to_string())
            .status()
            .unwrap();
        assert!(kill.success());
        let status = tokio::time::timeout(CHILD_TIMEOUT, self.child.wait())
            .await
            .expect("keygate did not exit after SIGTERM")
            .unwrap();
        let stderr = tokio::time::timeout(CHILD_TIMEOUT, &mut self.stderr)
            .await
            .unwrap()
            .unwrap();
        (status, stderr)
    }
}

/// A SIGTERM that arrives before the server installs its handler kills the process outright, which
/// says nothing about graceful shutdown. On Linux, wait until the handler is in place (the process's
/// caught-signals mask has SIGTERM, bit 15 - 1); elsewhere give it a moment.
async fn wait_for_sigterm_handler(pid: u32) {
    let status_file = format!("/proc/{pid}/status");
    if !Path::new(&status_file).exists() {
        tokio::time::sleep(Duration::from_millis(500)).await;
        return;
    }
    let deadline = tokio::time::Instant::now() + CHILD_TIMEOUT;
    loop {
        let status = std::fs::read_to_string(&status_file).unwrap_or_default();
        let caught = status
            .lines()
            .find_map(|l| l.strip_prefix("SigCgt:"))
            .and_then(|mask| u64::from_str_radix(mask.trim(), 16).ok())
            .unwrap_or(0);
        if caught & (1 << (15 - 1)) != 0 {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "keygate never installed a SIGTERM handler"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn serve_prints_next_steps_on_an_empty_store_and_stops_on_sigterm() {
    let dir = Scratch::new();
    let data = dir.path().join("data");
    let mut served = Served::start(
        dir.path(),
        &[
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--data-dir",
            data.to_str().unwrap(),
        ],
    )
    .await;
    served.read_until("Next steps").await;
    served.read_until("oauth-authorization-server").await;
    let text = served.seen.join("\n");
    for hint in [
        "keygate admin tokens create",
        "keygate admin accounts create",
        "keygate admin apps create",
        "--demo",
    ] {
        assert!(text.contains(hint), "the hint mentions {hint:?}: {text}");
    }
    let (status, stderr) = served.terminate().await;
    assert!(
        status.success(),
        "graceful shutdown exits 0, got {status}: {stderr}"
    );
    assert!(stderr.contains("shutting down"), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    // First start made the data directory, a private master key and the database.
    let key = data.join("master.key");
    assert!(key.is_file() && data.join("keygate.db").is_file());
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(&key).unwrap().permissions().mode() & 0o777,
            0o600
        );
    }
}

#[tokio::test]
async fn serve_demo_prints_credentials_once() {
    let dir = Scratch::new();
    let data = dir.path().join("data");
    let data = data.to_str().unwrap();
    let args = ["serve", "--demo", "--listen", "127.0.0.1:0", "--data-dir", data];
    let mut served = Served::start(dir.path(), &args).await;
    served.read_until("admin token").await;
    let client_id = served.value("client_id");
    let client_secret = served.value("client_secret");
    let admin_token = served.value("admin token");
    assert!(client_secret.starts_with("kgcs_"), "{client_secret}");
    assert!(admin_token.starts_with("kgat_"), "{admin_token}");
    assert_eq!(served.value("account"), "dm001");
    assert!(!served.value("password").is_empty());

    // The printed app is in the store, its secret not: checked with the CLI on the shared SQLite file.
    let out = run(
        keygate_bin(dir.path()),
        &["--data-dir", data, "admin", "--json", "apps", "list"],
        None,
    )
    .await
    .ok();
    let apps = out.json();
    assert_eq!(apps[0]["client_id"], client_id.as_str(), "{apps}");
    assert!(!out.stdout.contains(&client_secret));

    let (status, stderr) = served.terminate().await;
    assert!(
        status.success(),
        "graceful shutdown exits 0, got {status}: {stderr}"
    );

    // A second start does not seed again, and shows no secret.
    let mut served = Served::start(dir.path(), &args).await;
    served.read_until("already exists").await;
    let text = served.seen.join("\n");
    assert!(
        !text.contains(&client_secret) && !text.contains(&admin_token) && !text.contains("kgcs_"),
        "{text}"
    );
    let (status, stderr) = served.terminate().await;
    assert!(status.success(), "{status}: {stderr}");
}

store_test!(api_keys_and_the_audit_log_from_the_cli, |srv| async move {
    let account = srv.account().await;
    let created = admin(
        &srv,
        &[
            "--json",
            "api-keys",
            "create",
            "--account",
            &account,
            "--name",
            "cron",
        ],
    )
    .await
    .ok()
    .json();
    let (key, secret) = (
        created["id"].as_str().unwrap().to_owned(),
        created["secret"].as_str().unwrap().to_owned(),
    );
    assert_eq!(created["acts_as"], "account");
    let (status, body) = crate::api_keys::auth(&srv, &key, &secret).await;
    assert_eq!(status, StatusCode::OK);
    let token = body["access_token"].as_str().unwrap().to_owned();
    let listed = admin(&srv, &["--json", "api-keys", "list", "--account", &account])
        .await
        .ok();
    assert!(
        listed.stdout.contains(&key) && !listed.stdout.contains(&secret),
        "{}",
        listed.stdout
    );
    admin(&srv, &["api-keys", "revoke", &key]).await.ok();
    assert_eq!(
        srv.me(&token).await.0,
        StatusCode::UNAUTHORIZED,
        "revoked from the CLI, dead on the server at once"
    );
    admin(&srv, &["--json", "api-keys", "show", "kgk_nope"])
        .await
        .failed(&["api_key"]);

    let events = admin(
        &srv,
        &["--json", "audit", "--account", &account, "--action", "api_key."],
    )
    .await
    .ok()
    .json();
    let events = events.as_array().unwrap();
    assert_eq!(events.len(), 2, "{events:?}");
    assert_eq!(events[0]["action"], "api_key.revoked");
    assert_eq!(events[0]["actor"], "cli");
    let table = admin(&srv, &["audit", "--account", &account]).await.ok();
    assert!(
        table.stdout.starts_with("ID") && table.stdout.contains("account.created"),
        "{}",
        table.stdout
    );
});

store_test!(account_rate_limits_from_the_cli, |srv| async move {
    let account = srv.account().await;
    let args = [
        "--json",
        "accounts",
        "rate-limit",
        account.as_str(),
        "--per-minute",
        "300",
    ];
    let v = admin(&srv, &args).await.ok().json();
    assert_eq!(
        v["rate_limit"],
        json!({"per_minute": 300, "burst": 20}),
        "burst defaults to a fifteenth"
    );
    let (_, v) = srv
        .admin(Method::GET, &format!("/admin/v1/accounts/{account}"), None)
        .await;
    assert_eq!(v["rate_limit"]["per_minute"], 300);
    let v = admin(&srv, &["--json", "accounts", "rate-limit", &account, "--default"])
        .await
        .ok()
        .json();
    assert_eq!(v["rate_limit"], Value::Null);
    admin(&srv, &["accounts", "rate-limit", &account])
        .await
        .failed(&["--per-minute"]);
    admin(&srv, &["accounts", "rate-limit", &account, "--per-minute", "0"])
        .await
        .failed(&["rate_limit.per_minute"]);
});

// --- admin commands against a remote server (--server) ------------------------------------------------

/// `keygate admin --server <srv>` with `token` in KEYGATE_ADMIN_TOKEN, from a directory without config.
async fn remote(srv: &TestServer, token: Option<&str>, args: &[&str]) -> Output {
    let dir = Scratch::new();
    let mut cmd = keygate_bin(dir.path());
    if let Some(t) = token {
        cmd.env("KEYGATE_ADMIN_TOKEN", t);
    }
    let server = srv.url.clone();
    run(cmd, &[&["admin", "--server", &server][..], args].concat(), None).await
}

store_test!(admin_commands_work_against_a_remote_server, |srv| async move {
    let token = srv.admin_token.clone();
    let v = remote(
        &srv,
        Some(&token),
        &[
            "--json",
            "accounts",
            "create",
            "rm001",
            "--display-name",
            "Remote",
        ],
    )
    .await
    .ok()
    .json();
    assert_eq!(
        (&v["name"], &v["display_name"]),
        (&json!("rm001"), &json!("Remote"))
    );
    let (status, _) = srv.admin(Method::GET, "/admin/v1/accounts/rm001", None).await;
    assert_eq!(status, StatusCode::OK, "written through the server");

    let key = remote(
        &srv,
        Some(&token),
        &[
            "--json",
            "api-keys",
            "create",
            "--account",
            "rm001",
            "--name",
            "sync",
        ],
    )
    .await
    .ok()
    .json();
    assert!(key["secret"].as_str().unwrap().starts_with("kgsk_"));
    let out = remote(&srv, Some(&token), &["api-keys", "list", "--account", "rm001"])
        .await
        .ok();
    assert!(
        out.stdout.starts_with("ID") && out.stdout.contains("sync"),
        "{}",
        out.stdout
    );

    // Audited as the admin token, not as the local CLI.
    let events = remote(&srv, Some(&token), &["--json", "audit", "--account", "rm001"])
        .await
        .ok()
        .json();
    assert!(
        events
            .as_array()
            .unwrap()
            .iter()
            .all(|e| e["actor"].as_str().unwrap().starts_with("admin_token:")),
        "{events}"
    );

    // Errors read as locally: the server's problem detail, on stderr.
    remote(&srv, Some(&token), &["accounts", "show", "zz999"])
        .await
        .failed(&["not found"]);
    remote(
        &srv,
        Some(&token),
        &["accounts", "rate-limit", "rm001", "--per-minute", "0"],
    )
    .await
    .failed(&["rate_limit.per_minute"]);
    remote(&srv, Some("kgat_wrong"), &["accounts", "list"])
        .await
        .failed(&["invalid or revoked"]);
    remote(&srv, None, &["accounts", "list"])
        .await
        .failed(&["KEYGATE_ADMIN_TOKEN"]);
});

#[tokio::test]
async fn a_remote_server_that_is_not_there_is_reported() {
    let dir = Scratch::new();
    let mut cmd = keygate_bin(dir.path());
    cmd.env("KEYGATE_ADMIN_TOKEN", "kgat_x");
    let out = run(
        cmd,
        &["admin", "--server", "http://127.0.0.1:9", "accounts", "list"],
        None,
    )
    .await;
    out.failed(&["cannot reach http://127.0.0.1:9"]);
    let mut cmd = keygate_bin(dir.path());
    cmd.env("KEYGATE_ADMIN_TOKEN", "kgat_x");
    run(
        cmd,
        &["admin", "--server", "ftp://example.com", "accounts", "list"],
        None,
    )
    .await
    .failed(&["http(s) URL"]);
}
