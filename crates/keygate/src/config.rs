//! Loading configuration: defaults, then a TOML file, then `KEYGATE_*` environment variables, then
//! command-line flags; later sources win.

use std::path::{Path, PathBuf};

use figment::providers::{Env, Format, Serialized, Toml};
use figment::Figment;
use keygate_server::Config;

/// Settings that flags may override.
#[derive(Debug, Default, Clone, clap::Args)]
pub struct ConfigArgs {
    /// TOML configuration file [default: ./keygate.toml if it exists]
    #[arg(long, global = true, env = "KEYGATE_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Database URL: sqlite://PATH or postgres://… [default: SQLite in the data directory]
    #[arg(long, global = true, value_name = "URL")]
    pub database_url: Option<String>,
    /// Directory for the embedded database and the generated master key [default: ./keygate-data]
    #[arg(long, global = true, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
}

/// The merged configuration, not yet resolved: see [`finish`].
pub fn load(args: &ConfigArgs, overrides: &[(&str, Option<String>)]) -> Result<Config, String> {
    let mut fig = Figment::from(Serialized::defaults(Config::default()));
    match &args.config {
        Some(path) if !path.exists() => {
            return Err(format!("configuration file {} does not exist", path.display()))
        }
        Some(path) => fig = fig.merge(Toml::file_exact(path)),
        None if Path::new("keygate.toml").exists() => fig = fig.merge(Toml::file_exact("keygate.toml")),
        None => {}
    }
    // KEYGATE_TOKENS__ACCESS_TOKEN_TTL sets tokens.access_token_ttl. Variables that configure something
    // other than the server (the config path, the admin CLI's server and token, the test suite's database)
    // are not settings.
    fig = fig.merge(Env::prefixed("KEYGATE_").split("__").filter(|k| {
        let k = k.as_str().to_ascii_lowercase();
        !(matches!(k.as_str(), "config" | "server" | "admin_token") || k.starts_with("test_"))
    }));
    if let Some(url) = &args.database_url {
        fig = fig.merge(("database_url", url));
    }
    if let Some(dir) = &args.data_dir {
        fig = fig.merge(("data_dir", dir));
    }
    for (key, value) in overrides {
        if let Some(v) = value {
            fig = fig.merge((*key, v));
        }
    }
    fig.extract().map_err(|e| {
        e.into_iter()
            .map(|e| e.to_string())
            .collect::<Vec<_>>()
            .join("; ")
    })
}

/// Derives the settings that follow from others and validates the result.
pub fn finish(config: Config) -> Result<Config, String> {
    let config = config.resolved();
    let problems = config.problems();
    if problems.is_empty() {
        Ok(config)
    } else {
        Err(problems.join("\n"))
    }
}
