//! The Keygate server under test: a child process on a free loopback port with its own data
//! directory, configuration file and (for PostgreSQL) a database of its own, and the admin CLI run
//! against the same configuration.

use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{bail, Context};
use http::{Method, StatusCode};
use sqlx::{Connection, PgConnection};
use tokio::process::{Child, Command};

use crate::callgrind::{self, Callgrind};
use crate::http::{request, value, Conn};

/// A fixed master key (base64 of the bytes 0 to 31): runs are reproducible, and nothing here is secret.
const MASTER_KEY: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";

pub struct ServerOptions<'a> {
    pub binary: &'a Path,
    /// A PostgreSQL URL whose user may create databases; SQLite when `None`.
    pub postgres: Option<&'a str>,
    /// Run the server on this CPU (through `taskset`).
    pub pin_cpu: Option<usize>,
    pub hook_debounce_ms: u64,
    /// Check every request against a rate limit (one it never reaches), as a deployment with the
    /// default limits on does; `false` turns the limiter off.
    pub rate_limits: bool,
    /// Run the server under Valgrind's callgrind, to count the instructions of each scenario.
    pub callgrind: bool,
}

pub struct Server {
    child: Child,
    pub pid: u32,
    pub addr: SocketAddr,
    binary: PathBuf,
    dir: PathBuf,
    config_path: PathBuf,
    log_path: PathBuf,
    database: Option<TempPostgres>,
    /// `SQLite` or the PostgreSQL server's version.
    pub store: String,
    pub callgrind: Option<Callgrind>,
}

impl Server {
    pub async fn start(options: ServerOptions<'_>) -> anyhow::Result<Server> {
        let binary = options.binary.to_path_buf();
        if !binary.is_file() {
            bail!(
                "no Keygate binary at {} (build it with `cargo build --release -p keygate`, or pass --server)",
                binary.display()
            );
        }
        let stamp = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_millis());
        let dir = std::env::temp_dir().join(format!("keygate-bench-{}-{stamp}", std::process::id()));
        std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
        let (database, store) = match options.postgres {
            Some(admin_url) => {
                let db = TempPostgres::create(admin_url, &format!("keygate_bench_{stamp}"))
                    .await
                    .context("creating the PostgreSQL database for the run")?;
                let version = db.version.clone();
                (Some(db), format!("PostgreSQL {version}"))
            }
            None => (None, "SQLite".to_owned()),
        };
        let addr = free_port()?;
        let config_path = dir.join("keygate.toml");
        let database_url = database.as_ref().map_or(String::new(), |d| d.url.clone());
        std::fs::write(
            &config_path,
            config_toml(addr, &dir.join("data"), &database_url, &options),
        )?;
        let log_path = dir.join("server.log");
        let log = std::fs::File::create(&log_path)?;

        // The binary, behind Valgrind when counting instructions, behind `taskset` when pinned.
        let mut argv = if options.callgrind {
            callgrind::launcher(&dir)?
        } else {
            Vec::new()
        };
        argv.push(binary.clone().into_os_string());
        if let Some(cpu) = options.pin_cpu {
            argv.splice(0..0, ["taskset".into(), "-c".into(), cpu.to_string().into()]);
        }
        let mut command = Command::new(&argv[0]);
        command.args(&argv[1..]);
        clean_environment(&mut command);
        command
            .arg("--config")
            .arg(&config_path)
            .arg("serve")
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .kill_on_drop(true);
        let child = command
            .spawn()
            .with_context(|| format!("starting {}", binary.display()))?;
        let pid = child.id().context("the server exited at once")?;
        let callgrind = options.callgrind.then(|| Callgrind::new(pid, &dir));
        let mut server = Server {
            child,
            pid,
            addr,
            binary,
            dir,
            config_path,
            log_path,
            database,
            store,
            callgrind,
        };
        if let Err(e) = server.wait_ready(Duration::from_secs(60)).await {
            let log = server.log_tail();
            server.stop().await;
            bail!("{e:#}\nserver log:\n{log}");
        }
        Ok(server)
    }

    async fn wait_ready(&mut self, limit: Duration) -> anyhow::Result<()> {
        let deadline = Instant::now() + limit;
        let host = value(&self.addr.to_string());
        loop {
            if let Some(status) = self.child.try_wait()? {
                bail!("the server exited during start-up ({status})");
            }
            if let Ok(mut conn) = Conn::open(self.addr).await {
                let req = request(Method::GET, &host, "/readyz", &[], None);
                if let Ok(reply) = conn.send(req).await {
                    if reply.status == StatusCode::OK {
                        return Ok(());
                    }
                }
            }
            if Instant::now() > deadline {
                bail!("the server was not ready within {}s", limit.as_secs());
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Runs `keygate admin --json ARGS` on the server's configuration and returns its JSON output.
    pub async fn admin(&self, args: &[&str]) -> anyhow::Result<serde_json::Value> {
        let mut command = Command::new(&self.binary);
        clean_environment(&mut command);
        let out = command
            .arg("--config")
            .arg(&self.config_path)
            .arg("admin")
            .arg("--json")
            .args(args)
            .stdin(Stdio::null())
            .output()
            .await
            .context("running keygate admin")?;
        if !out.status.success() {
            bail!(
                "keygate admin {} failed: {}",
                args.join(" "),
                String::from_utf8_lossy(&out.stderr).trim()
            );
        }
        serde_json::from_slice(&out.stdout)
            .with_context(|| format!("keygate admin {}: output is not JSON", args.join(" ")))
    }

    /// Whether the server process is still running.
    pub fn alive(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// The last lines of the server's log.
    pub fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log_path).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(30)..].join("\n")
    }

    /// Stops the server (SIGTERM, then SIGKILL after a grace period), drops its database and removes
    /// its directory.
    pub async fn stop(mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = Command::new("kill")
                .arg("-TERM")
                .arg(self.pid.to_string())
                .status()
                .await;
            if tokio::time::timeout(Duration::from_secs(10), self.child.wait())
                .await
                .is_err()
            {
                let _ = self.child.kill().await;
            }
        }
        if let Some(db) = self.database.take() {
            db.drop_database().await;
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Only the harness's configuration reaches Keygate: no `KEYGATE_*` variable of the caller's (settings,
/// or CI's own such as `KEYGATE_TEST_REQUIRE_TOOLS`, which the server would refuse as unknown) and no
/// `RUST_LOG`.
fn clean_environment(command: &mut Command) {
    for (key, _) in std::env::vars_os() {
        if key.to_string_lossy().starts_with("KEYGATE_") {
            command.env_remove(key);
        }
    }
    command
        .env_remove("RUST_LOG")
        .env("KEYGATE_MASTER_KEY", MASTER_KEY);
}

/// The limit when rate limits are on: no scenario comes near four billion requests a minute, so every
/// request pays for the limiter's check and none is refused.
const UNREACHED_LIMIT_PER_MINUTE: u32 = 4_000_000_000;

fn config_toml(addr: SocketAddr, data_dir: &Path, database_url: &str, options: &ServerOptions) -> String {
    let quote = |s: &str| serde_json::Value::String(s.to_owned()).to_string();
    let per_minute = if options.rate_limits {
        UNREACHED_LIMIT_PER_MINUTE
    } else {
        0
    };
    format!(
        r#"# Written by keygate-bench for one run.
listen = {listen}
data_dir = {data_dir}
database_url = {database_url}

[log]
level = "warn"

[rate_limits]
# Checked on every request (unless --no-rate-limits) at a limit no scenario reaches: the harness
# measures what the limiter costs a deployment, never its refusals.
per_minute = {per_minute}
burst = {per_minute}

[legacy_keys]
allow_new = true

[hooks]
allow_private_targets = true
debounce_ms = {debounce_ms}
"#,
        debounce_ms = options.hook_debounce_ms,
        listen = quote(&addr.to_string()),
        data_dir = quote(&data_dir.display().to_string()),
        database_url = quote(database_url),
    )
}

/// A loopback port nobody listens on right now.
fn free_port() -> anyhow::Result<SocketAddr> {
    let listener = TcpListener::bind("127.0.0.1:0").context("finding a free port")?;
    Ok(listener.local_addr()?)
}

/// A database created for one run on the PostgreSQL server the admin URL points at.
struct TempPostgres {
    admin_url: String,
    name: String,
    url: String,
    version: String,
}

impl TempPostgres {
    async fn create(admin_url: &str, name: &str) -> anyhow::Result<TempPostgres> {
        let url = with_database(admin_url, name)?;
        let mut admin = PgConnection::connect(admin_url)
            .await
            .with_context(|| format!("connecting to {}", redact(admin_url)))?;
        let version: String = sqlx::query_scalar("SHOW server_version")
            .fetch_one(&mut admin)
            .await?;
        sqlx::query(&format!("CREATE DATABASE \"{name}\""))
            .execute(&mut admin)
            .await?;
        admin.close().await?;
        Ok(TempPostgres {
            admin_url: admin_url.to_owned(),
            name: name.to_owned(),
            url,
            version: version.split_whitespace().next().unwrap_or("").to_owned(),
        })
    }

    async fn drop_database(self) {
        // Best effort: a database left behind is litter, not a failed run.
        if let Ok(mut admin) = PgConnection::connect(&self.admin_url).await {
            let sql = format!("DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)", self.name);
            if let Err(e) = sqlx::query(&sql).execute(&mut admin).await {
                eprintln!("warning: could not drop database {}: {e}", self.name);
            }
            let _ = admin.close().await;
        }
    }
}

/// `admin_url` with its database (the path) replaced by `name`, keeping credentials and options.
fn with_database(admin_url: &str, name: &str) -> anyhow::Result<String> {
    let Some((scheme, rest)) = admin_url.split_once("://") else {
        bail!("--postgres must be a postgres:// URL");
    };
    if scheme != "postgres" && scheme != "postgresql" {
        bail!("--postgres must be a postgres:// URL");
    }
    let (rest, query) = match rest.split_once('?') {
        Some((rest, query)) => (rest, format!("?{query}")),
        None => (rest, String::new()),
    };
    let authority = rest.split_once('/').map_or(rest, |(authority, _)| authority);
    Ok(format!("{scheme}://{authority}/{name}{query}"))
}

/// A database URL fit for printing: any password replaced.
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let credentials = &url[scheme_end + 3..at];
            match credentials.split_once(':') {
                Some((user, _)) => format!("{}://{user}:***{}", &url[..scheme_end], &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn database_urls() {
        assert_eq!(
            with_database("postgres://postgres@127.0.0.1:5432/postgres", "b1").ok(),
            Some("postgres://postgres@127.0.0.1:5432/b1".to_owned())
        );
        assert_eq!(
            with_database("postgresql://h?sslmode=disable", "b1").ok(),
            Some("postgresql://h/b1?sslmode=disable".to_owned())
        );
        assert!(with_database("mysql://h/x", "b1").is_err());
        assert_eq!(redact("postgres://u:pw@h/db"), "postgres://u:***@h/db");
    }

    #[test]
    fn the_config_is_toml_the_server_reads() {
        let mut options = ServerOptions {
            binary: Path::new("keygate"),
            postgres: None,
            pin_cpu: None,
            hook_debounce_ms: 10,
            rate_limits: true,
            callgrind: false,
        };
        let text = config_toml(
            "127.0.0.1:4000".parse().unwrap(),
            Path::new("/tmp/x \"y\""),
            "",
            &options,
        );
        assert!(text.contains("listen = \"127.0.0.1:4000\""));
        assert!(text.contains(r#"data_dir = "/tmp/x \"y\"""#));
        assert!(
            text.contains("per_minute = 4000000000\nburst = 4000000000"),
            "{text}"
        );
        assert!(text.contains("debounce_ms = 10"));
        options.rate_limits = false;
        let text = config_toml("127.0.0.1:4000".parse().unwrap(), Path::new("/tmp"), "", &options);
        assert!(text.contains("per_minute = 0\nburst = 0"), "{text}");
    }
}
