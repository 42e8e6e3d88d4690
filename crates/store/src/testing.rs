//! Throwaway databases for tests: a fresh SQLite file or a fresh PostgreSQL database per test, each
//! with a random name so tests run in parallel and repeatedly without seeing each other's rows.

use std::path::PathBuf;

use sqlx::{Connection, PgConnection};

use crate::{connect, Result, SqlStore, Store, StoreError};

/// The environment variable naming a PostgreSQL server tests may create databases on, as a URL with a
/// user allowed to `CREATE DATABASE` (for example `postgres://postgres@127.0.0.1:5432/postgres`).
pub const POSTGRES_URL_VAR: &str = "KEYGATE_TEST_POSTGRES_URL";

/// The admin URL from [`POSTGRES_URL_VAR`], if set and not blank.
pub fn postgres_admin_url() -> Option<String> {
    std::env::var(POSTGRES_URL_VAR)
        .ok()
        .filter(|url| !url.trim().is_empty())
}

/// A database that exists for one test. Call [`TempDatabase::cleanup`] at the end; dropping it instead
/// cleans up too, on a best-effort basis (a panicking test still removes its database).
#[derive(Debug)]
pub struct TempDatabase {
    url: String,
    kind: Kind,
    cleaned: bool,
}

#[derive(Debug, Clone)]
enum Kind {
    Sqlite { path: PathBuf },
    Postgres { admin_url: String, name: String },
}

impl TempDatabase {
    /// A fresh file under the system temporary directory; created on first connect.
    pub async fn sqlite() -> TempDatabase {
        let path = std::env::temp_dir().join(format!("keygate-test-{}.db", random_suffix()));
        let url = format!("sqlite://{}", path.display());
        TempDatabase {
            url,
            kind: Kind::Sqlite { path },
            cleaned: false,
        }
    }

    /// Creates `keygate_test_<random>` on the server `admin_url` points at.
    pub async fn postgres(admin_url: &str) -> Result<TempDatabase> {
        let name = format!("keygate_test_{}", random_suffix());
        let url = with_database(admin_url, &name)?;
        let mut admin = PgConnection::connect(admin_url).await?;
        let created = sqlx::query(&format!("CREATE DATABASE \"{name}\""))
            .execute(&mut admin)
            .await;
        admin.close().await?;
        created?;
        let kind = Kind::Postgres {
            admin_url: admin_url.to_owned(),
            name,
        };
        Ok(TempDatabase {
            url,
            kind,
            cleaned: false,
        })
    }

    /// The URL to pass to [`crate::connect`] (or to the server's configuration).
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Connects and migrates: a store ready for a test.
    pub async fn store(&self) -> Result<SqlStore> {
        let store = connect(&self.url).await?;
        store.migrate().await?;
        Ok(store)
    }

    /// Drops the database (terminating any connections still open to it) or deletes the SQLite files.
    pub async fn cleanup(mut self) {
        self.cleaned = true;
        cleanup(&self.kind).await;
    }
}

impl Drop for TempDatabase {
    fn drop(&mut self) {
        if self.cleaned {
            return;
        }
        match &self.kind {
            Kind::Sqlite { path } => remove_sqlite_files(path),
            Kind::Postgres { .. } => {
                // Drop cannot await, and may run inside a runtime that must not be blocked on itself:
                // a separate thread with its own runtime does the work.
                let kind = self.kind.clone();
                let worker = std::thread::spawn(move || {
                    if let Ok(rt) = tokio::runtime::Builder::new_current_thread().enable_all().build() {
                        rt.block_on(cleanup(&kind));
                    }
                });
                let _ = worker.join();
            }
        }
    }
}

async fn cleanup(kind: &Kind) {
    match kind {
        Kind::Sqlite { path } => remove_sqlite_files(path),
        Kind::Postgres { admin_url, name } => {
            // Best effort: a leftover test database is litter, not a failure.
            if let Ok(mut admin) = PgConnection::connect(admin_url).await {
                let sql = format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)");
                let _ = sqlx::query(&sql).execute(&mut admin).await;
                let _ = admin.close().await;
            }
        }
    }
}

fn remove_sqlite_files(path: &std::path::Path) {
    for suffix in ["", "-wal", "-shm", "-journal", "-epoch"] {
        let mut file = path.as_os_str().to_owned();
        file.push(suffix);
        let _ = std::fs::remove_file(file);
    }
}

/// Lowercase letters and digits only, so the name needs no quoting rules beyond the double quotes.
fn random_suffix() -> String {
    keygate_core::crypto::random_string(b"abcdefghijklmnopqrstuvwxyz0123456789", 16)
}

/// `admin_url` with its database (the path) replaced by `name`, keeping credentials and query options.
fn with_database(admin_url: &str, name: &str) -> Result<String> {
    let unsupported = || StoreError::UnsupportedUrl(admin_url.split(':').next().unwrap_or("").to_owned());
    let (scheme, rest) = admin_url.split_once("://").ok_or_else(unsupported)?;
    if scheme != "postgres" && scheme != "postgresql" {
        return Err(unsupported());
    }
    let (rest, query) = match rest.split_once('?') {
        Some((rest, query)) => (rest, format!("?{query}")),
        None => (rest, String::new()),
    };
    let authority = rest.split_once('/').map_or(rest, |(authority, _)| authority);
    Ok(format!("{scheme}://{authority}/{name}{query}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn dropping_removes_the_database() {
        let db = TempDatabase::sqlite().await;
        db.store().await.unwrap().close().await;
        let Kind::Sqlite { path } = db.kind.clone() else {
            unreachable!()
        };
        assert!(path.exists());
        drop(db);
        assert!(!path.exists());

        let Some(admin_url) = postgres_admin_url() else {
            return;
        };
        let db = TempDatabase::postgres(&admin_url).await.unwrap();
        let store = db.store().await.unwrap();
        let Kind::Postgres { name, .. } = db.kind.clone() else {
            unreachable!()
        };
        let exists = "SELECT COUNT(*) FROM pg_database WHERE datname = $1";
        let mut admin = PgConnection::connect(&admin_url).await.unwrap();
        let count: i64 = sqlx::query_scalar(exists)
            .bind(&name)
            .fetch_one(&mut admin)
            .await
            .unwrap();
        assert_eq!(count, 1);
        drop(db); // with the store still connected
        let count: i64 = sqlx::query_scalar(exists)
            .bind(&name)
            .fetch_one(&mut admin)
            .await
            .unwrap();
        assert_eq!(count, 0);
        assert!(store.ping().await.is_err());
    }

    #[test]
    fn database_url_rewrite() {
        let cases = [
            ("postgres://u:p@h:5432/postgres", "postgres://u:p@h:5432/db1"),
            ("postgresql://h", "postgresql://h/db1"),
            (
                "postgres://h/x?sslmode=disable",
                "postgres://h/db1?sslmode=disable",
            ),
            ("postgres://h?sslmode=disable", "postgres://h/db1?sslmode=disable"),
        ];
        for (admin, expected) in cases {
            assert_eq!(with_database(admin, "db1").unwrap(), expected);
        }
        assert!(with_database("mysql://h/x", "db1").is_err());
    }
}
