//! Opening Keygate from a configuration: data directory, master key, store, migrations, keys. Shared by
//! `keygate serve`, `keygate migrate`, `keygate admin …` and the test kit.

use std::path::Path;
use std::sync::Arc;

use keygate_core::crypto::MasterKey;
use keygate_lib::Keygate;
use keygate_store::{connect, connect_node, SqlStore, Store};

use crate::config::Config;

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("configuration: {0}")]
    Config(String),
    #[error("data directory {path}: {source}")]
    DataDir { path: String, source: std::io::Error },
    #[error("master key file {path}: {reason}")]
    MasterKey { path: String, reason: String },
    #[error("database: {0}")]
    Store(#[from] keygate_store::StoreError),
    #[error("signing keys: {0}")]
    Keys(#[from] keygate_lib::signing::KeyError),
}

/// The master key from configuration, or from `data_dir/master.key`, generated there (mode 0600) if
/// neither exists yet. Nodes sharing a PostgreSQL database must share this key.
pub fn load_master_key(config: &Config) -> Result<MasterKey, StartError> {
    if !config.master_key.is_empty() {
        return MasterKey::from_base64(&config.master_key).map_err(|e| StartError::Config(e.to_string()));
    }
    let path = config.data_dir.join("master.key");
    let shown = path.display().to_string();
    let fail = |reason: String| StartError::MasterKey {
        path: shown.clone(),
        reason,
    };
    match std::fs::read_to_string(&path) {
        Ok(text) => MasterKey::from_base64(&text).map_err(|e| fail(e.to_string())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            ensure_data_dir(&config.data_dir)?;
            let key = MasterKey::generate();
            write_private(&path, &key.to_base64()).map_err(|e| fail(e.to_string()))?;
            tracing::info!(path = %shown, "generated a new master key; back it up: without it the signing keys cannot be decrypted");
            Ok(key)
        }
        Err(e) => Err(fail(e.to_string())),
    }
}

fn ensure_data_dir(dir: &Path) -> Result<(), StartError> {
    std::fs::create_dir_all(dir).map_err(|source| StartError::DataDir {
        path: dir.display().to_string(),
        source,
    })
}

fn write_private(path: &Path, contents: &str) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut f = options.open(path)?;
    f.write_all(contents.as_bytes())?;
    f.write_all(b"\n")?;
    f.sync_all()
}

/// Who opens the store: a server joins the other nodes of a shared PostgreSQL database (see
/// `keygate_store::connect_node`); a command that runs and exits does not.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Server,
    Tool,
}

/// Connects to the configured database (creating the data directory for SQLite) and migrates it.
pub async fn open_store(config: &Config, role: Role) -> Result<SqlStore, StartError> {
    if config.uses_sqlite() {
        ensure_data_dir(&config.data_dir)?;
    }
    let store = match role {
        Role::Server => connect_node(&config.database_url).await?,
        Role::Tool => connect(&config.database_url).await?,
    };
    store.migrate().await?;
    Ok(store)
}

/// Everything needed to serve or administer: a migrated store and the service over it.
pub async fn open(config: &Config, role: Role) -> Result<Keygate, StartError> {
    let problems = config.problems();
    if !problems.is_empty() {
        return Err(StartError::Config(problems.join("; ")));
    }
    let master = load_master_key(config)?;
    let store: Arc<dyn Store> = Arc::new(open_store(config, role).await?);
    Ok(Keygate::open(store, &master, config.settings()).await?)
}
