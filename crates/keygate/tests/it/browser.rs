//! The browser SDK (`sdk/js`): its unit tests under Node, and an end-to-end run in real Chromium against a
//! real server (`e2e/sdk-cors.mjs`). They need tools outside Rust (Node, npm, Chromium and the npm
//! packages); without them they say why and pass, unless `KEYGATE_TEST_REQUIRE_TOOLS` is set (CI), in
//! which case they fail.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use keygate_testkit::{run_test, StoreKind};
use tokio::io::AsyncReadExt;

/// Held while `sdk/js/dist` is built or served: `npm test` rebuilds it, and a page must never load a
/// half-written file.
static SDK_DIST: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// Something a JavaScript test needs on this machine.
pub(crate) enum Tool<'a> {
    /// A program on `PATH` that answers `--version`.
    Program(&'a str),
    /// A file or directory that must exist, and how to get it.
    File(PathBuf, &'a str),
}

/// Whether every tool is present. When one is missing: fails if `KEYGATE_TEST_REQUIRE_TOOLS` is set (CI
/// installs them all, so nothing skips there), else prints why and returns false for the test to return.
pub(crate) fn tools_or_skip(test: &str, tools: &[Tool<'_>]) -> bool {
    let missing: Vec<String> = tools
        .iter()
        .filter_map(|tool| match tool {
            Tool::Program(program) => {
                let runs = std::process::Command::new(program)
                    .arg("--version")
                    .stdout(Stdio::null())
                    .stderr(Stdio::null())
                    .status()
                    .is_ok_and(|s| s.success());
                (!runs).then(|| format!("{program} (not found on PATH)"))
            }
            Tool::File(path, how) => (!path.exists()).then(|| format!("{} ({how})", path.display())),
        })
        .collect();
    if missing.is_empty() {
        return true;
    }
    let why = format!("{test} needs {}", missing.join(", "));
    assert!(
        std::env::var_os("KEYGATE_TEST_REQUIRE_TOOLS").is_none(),
        "KEYGATE_TEST_REQUIRE_TOOLS is set, but {why}"
    );
    eprintln!("skipping: {why}");
    false
}

pub(crate) fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .expect("the workspace root")
}

/// The Chromium the browser tests drive (`e2e/lib.mjs` reads the same variable).
pub(crate) fn chromium() -> PathBuf {
    std::env::var_os("KEYGATE_CHROMIUM").map_or_else(|| PathBuf::from("/usr/bin/chromium"), PathBuf::from)
}

/// `<target>/e2e-artifacts/<name>` (screenshots), honouring `CARGO_TARGET_DIR`.
pub(crate) fn artifacts_dir(name: &str) -> PathBuf {
    let root = workspace_root();
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .map_or_else(|| root.join("target"), |t| root.join(t));
    target.join("e2e-artifacts").join(name)
}

/// Runs `program` in `dir` with `env` added, for at most `limit`. Returns whether it exited with success
/// and what it printed (stdout, then stderr). On timeout it is asked to stop (SIGTERM, so that Playwright
/// closes Chromium), then killed, and the test fails.
pub(crate) async fn run(
    program: &str,
    args: &[&str],
    dir: &Path,
    env: &[(&str, &str)],
    limit: Duration,
) -> (bool, String) {
    let mut child = tokio::process::Command::new(program)
        .args(args)
        .current_dir(dir)
        .envs(env.iter().copied())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {program}: {e}"));
    let read = |mut pipe: Box<dyn tokio::io::AsyncRead + Send + Unpin>| {
        tokio::spawn(async move {
            let mut text = Vec::new();
            let _ = pipe.read_to_end(&mut text).await;
            String::from_utf8_lossy(&text).into_owned()
        })
    };
    let stdout = read(Box::new(child.stdout.take().expect("piped stdout")));
    let stderr = read(Box::new(child.stderr.take().expect("piped stderr")));
    let status = match tokio::time::timeout(limit, child.wait()).await {
        Ok(status) => Some(status.expect("wait for the child")),
        Err(_) => {
            if let Some(pid) = child.id() {
                let _ = std::process::Command::new("kill")
                    .args(["-TERM", &pid.to_string()])
                    .status();
            }
            if tokio::time::timeout(Duration::from_secs(10), child.wait())
                .await
                .is_err()
            {
                let _ = child.kill().await;
            }
            None
        }
    };
    let output = format!(
        "{}{}",
        stdout.await.unwrap_or_default(),
        stderr.await.unwrap_or_default()
    );
    let Some(status) = status else {
        panic!(
            "{program} {} ran longer than {limit:?}; its output:\n{output}",
            args.join(" ")
        );
    };
    (status.success(), output)
}

/// The test summary of `node --test` (`# pass 52`, `# fail 0`, …).
fn node_test_count(output: &str, what: &str) -> Option<u32> {
    output
        .lines()
        .find_map(|l| l.trim().strip_prefix(&format!("# {what} ")))
        .and_then(|n| n.trim().parse().ok())
}

#[tokio::test]
async fn js_sdk_unit_tests() {
    let sdk = workspace_root().join("sdk/js");
    let tools = [
        Tool::Program("node"),
        Tool::Program("npm"),
        Tool::File(sdk.join("node_modules"), "run npm ci in sdk/js"),
    ];
    if !tools_or_skip("js_sdk_unit_tests", &tools) {
        return;
    }
    let _dist = SDK_DIST.lock().await;
    let (ok, output) = run("npm", &["test"], &sdk, &[], Duration::from_secs(180)).await;
    assert!(ok, "npm test in sdk/js failed:\n{output}");
    let (pass, fail) = (node_test_count(&output, "pass"), node_test_count(&output, "fail"));
    assert!(
        pass.is_some_and(|n| n > 0) && fail == Some(0),
        "npm test passed but ran no tests, or hid failures:\n{output}"
    );
    println!("sdk/js unit tests: {} passed", pass.unwrap_or_default());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn js_sdk_in_chromium_honours_cors() {
    let root = workspace_root();
    let tools = [
        Tool::Program("node"),
        Tool::Program("npm"),
        Tool::File(chromium(), "apt-get install chromium"),
        Tool::File(root.join("sdk/js/node_modules"), "run npm ci in sdk/js"),
        Tool::File(root.join("e2e/node_modules"), "run npm ci in e2e"),
    ];
    if !tools_or_skip("js_sdk_in_chromium_honours_cors", &tools) {
        return;
    }
    // Short-lived tokens checked without leeway, so that the script can watch a real expiry.
    let tweak = |c: &mut keygate_server::Config| {
        c.api_keys.domain_token_ttl = 10;
        c.tokens.leeway = 0;
    };
    run_test(StoreKind::Sqlite, tweak, |srv| async move {
        let _dist = SDK_DIST.lock().await;
        let sdk = root.join("sdk/js");
        let (ok, output) = run("npm", &["run", "build"], &sdk, &[], Duration::from_secs(180)).await;
        assert!(ok, "npm run build in sdk/js failed:\n{output}");
        let account = srv.account().await;
        let artifacts = artifacts_dir("sdk");
        let env = [
            ("KEYGATE_URL", srv.url.as_str()),
            ("KEYGATE_ADMIN_TOKEN", srv.admin_token.as_str()),
            ("KEYGATE_ACCOUNT", account.as_str()),
            ("KEYGATE_E2E_ARTIFACTS", artifacts.to_str().expect("a UTF-8 path")),
        ];
        let (ok, output) = run(
            "node",
            &["e2e/sdk-cors.mjs"],
            &root,
            &env,
            Duration::from_secs(120),
        )
        .await;
        assert!(ok, "e2e/sdk-cors.mjs failed:\n{output}");
        println!("{output}\nscreenshots: {}", artifacts.display());
    })
    .await;
}

/// The developer portal in Chromium (`e2e/portal.mjs`), as an account admin of a fresh account.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn portal_in_chromium() {
    let root = workspace_root();
    let tools = [
        Tool::Program("node"),
        Tool::File(chromium(), "apt-get install chromium"),
        Tool::File(root.join("e2e/node_modules"), "run npm ci in e2e"),
    ];
    if !tools_or_skip("portal_in_chromium", &tools) {
        return;
    }
    run_test(
        StoreKind::Sqlite,
        |_| {},
        |srv| async move {
            let account = srv.account().await;
            let admin = srv.user(&account, "admin").await;
            let artifacts = artifacts_dir("portal");
            let env = [
                ("KEYGATE_URL", srv.url.as_str()),
                ("KEYGATE_ACCOUNT", account.as_str()),
                ("KEYGATE_EMAIL", admin.email.as_str()),
                ("KEYGATE_PASSWORD", admin.password.as_str()),
                ("KEYGATE_E2E_ARTIFACTS", artifacts.to_str().expect("a UTF-8 path")),
            ];
            let (ok, output) = run("node", &["e2e/portal.mjs"], &root, &env, Duration::from_secs(120)).await;
            assert!(ok, "e2e/portal.mjs failed:\n{output}");
            println!("{output}\nscreenshots: {}", artifacts.display());
        },
    )
    .await;
}
