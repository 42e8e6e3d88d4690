//! The server's configuration. Loading (file, environment, flags) is the binary's job; this type is
//! plain data so tests build it directly.

use std::net::SocketAddr;
use std::path::PathBuf;

use keygate_lib::{
    ApiKeySettings, HookSettings, LegacyKeySettings, LockoutSettings, PortalSettings, Settings, TokenSettings,
};

use crate::rate_limit::RateLimitConfig;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Address to listen on.
    pub listen: SocketAddr,
    /// The URL clients reach this server at (issuer, links). Empty: `http://` + `listen`.
    pub public_url: String,
    /// Where the embedded database and the generated master key live. Created if missing.
    pub data_dir: PathBuf,
    /// `sqlite://…` or `postgres://…`. Empty: SQLite at `data_dir/keygate.db`.
    pub database_url: String,
    /// Base64 of 32 random bytes. Empty: read from `data_dir/master.key`, generated on first start.
    pub master_key: String,
    pub log: LogConfig,
    pub http: HttpConfig,
    pub tokens: TokenSettings,
    pub api_keys: ApiKeySettings,
    pub legacy_keys: LegacyKeySettings,
    pub rate_limits: RateLimitConfig,
    pub lockouts: LockoutSettings,
    pub hooks: HookSettings,
    pub portal: PortalSettings,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LogConfig {
    pub format: LogFormat,
    /// A `tracing` filter such as `info` or `keygate=debug,info`.
    pub level: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct HttpConfig {
    /// Larger request bodies are refused with 413.
    pub max_body_bytes: usize,
    /// A request still running after this many seconds is answered with 503.
    pub request_timeout_secs: u64,
    /// On SIGTERM/SIGINT, in-flight requests get this long to finish.
    pub shutdown_grace_secs: u64,
    /// Take the client's address from the last `X-Forwarded-For` entry (the one the proxy in front
    /// added) rather than the connection. Only behind a proxy that sets it: clients can forge the header.
    pub trust_forwarded_for: bool,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            public_url: String::new(),
            data_dir: PathBuf::from("keygate-data"),
            database_url: String::new(),
            master_key: String::new(),
            log: LogConfig::default(),
            http: HttpConfig::default(),
            tokens: TokenSettings::default(),
            api_keys: ApiKeySettings::default(),
            legacy_keys: LegacyKeySettings::default(),
            rate_limits: RateLimitConfig::default(),
            lockouts: LockoutSettings::default(),
            hooks: HookSettings::default(),
            portal: PortalSettings::default(),
        }
    }
}

impl Default for LogConfig {
    fn default() -> Self {
        Self {
            format: LogFormat::Text,
            level: "info".into(),
        }
    }
}

impl Default for HttpConfig {
    fn default() -> Self {
        Self {
            max_body_bytes: 64 * 1024,
            request_timeout_secs: 30,
            shutdown_grace_secs: 30,
            trust_forwarded_for: false,
        }
    }
}

impl Config {
    /// Fills in the values derived from others (public URL, database URL, issuer).
    pub fn resolved(mut self) -> Self {
        if self.public_url.is_empty() {
            self.public_url = format!("http://{}", self.listen);
        }
        self.public_url = self.public_url.trim_end_matches('/').to_owned();
        if self.database_url.is_empty() {
            self.database_url = format!("sqlite://{}", self.data_dir.join("keygate.db").display());
        }
        if self.tokens.issuer.is_empty() {
            self.tokens.issuer = self.public_url.clone();
        }
        self
    }

    /// The web origin of `public_url` (`scheme://host[:port]`), as browsers send it in `Origin`.
    pub fn own_origin(&self) -> String {
        url::Url::parse(&self.public_url)
            .map(|u| u.origin().ascii_serialization())
            .unwrap_or_default()
    }

    /// What the service layer is configured with.
    pub fn settings(&self) -> Settings {
        Settings {
            tokens: self.tokens.clone(),
            api_keys: self.api_keys.clone(),
            legacy_keys: self.legacy_keys.clone(),
            lockouts: self.lockouts.clone(),
            hooks: self.hooks.clone(),
            portal: self.portal.clone(),
        }
    }

    pub fn uses_sqlite(&self) -> bool {
        self.database_url.starts_with("sqlite:")
    }

    /// Every problem with a resolved configuration, as sentences naming the setting.
    pub fn problems(&self) -> Vec<String> {
        let mut out = self.tokens.problems();
        out.extend(self.api_keys.problems(self.tokens.max_access_token_ttl));
        out.extend(self.legacy_keys.problems());
        out.extend(self.lockouts.problems());
        out.extend(self.portal.problems());
        out.extend(self.hooks.problems());
        match url::Url::parse(&self.public_url) {
            Ok(u) if matches!(u.scheme(), "http" | "https") && u.query().is_none() => {}
            _ => out.push(format!(
                "public_url must be an http(s) URL without a query (got {:?})",
                self.public_url
            )),
        }
        let db = &self.database_url;
        if !(db.starts_with("sqlite:") || db.starts_with("postgres://") || db.starts_with("postgresql://")) {
            out.push("database_url must start with sqlite:, postgres:// or postgresql://".into());
        }
        if !self.master_key.is_empty() {
            if let Err(e) = keygate_core::crypto::MasterKey::from_base64(&self.master_key) {
                out.push(e.to_string());
            }
        }
        if self.http.max_body_bytes < 1024 {
            out.push("http.max_body_bytes must be at least 1024".into());
        }
        if self.http.request_timeout_secs == 0 {
            out.push("http.request_timeout_secs must be positive".into());
        }
        out
    }
}
