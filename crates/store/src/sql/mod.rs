//! The one [`Store`](crate::Store) implementation, over SQLite or PostgreSQL.
//!
//! Each query is written once; `dispatch!` runs it against whichever pool the store holds, expanding to
//! one `match` arm per backend so every arm is concretely typed (no `Any` driver, no boxing).

/// `dispatch!(store, |pool| body)`: evaluates `body` with `pool` bound to the concrete pool: for SQLite on
/// a file, the store's own reader connections. The body is compiled once per kind of pool, so a bind the
/// other driver cannot encode fails to build. (Closure syntax only so that rustfmt formats the body;
/// nothing is called.)
macro_rules! dispatch {
    ($db:expr, |$pool:ident| $body:expr) => {
        match (&$db.pool, $db.sqlite_readers.as_deref()) {
            ($crate::sql::Pool::Sqlite(_), Some($pool)) => $body,
            ($crate::sql::Pool::Sqlite($pool), None) => $body,
            ($crate::sql::Pool::Postgres($pool), _) => $body,
        }
    };
}

/// `read_by_key!(db, SQL, Row, Row::from_sqlite, account, key)`: the one row `SQL` selects with `$1` =
/// `account` and `$2` = `key`, as an `Option<Row>`; `?` on a database error. On a SQLite file it is read
/// on the calling thread (`SqlStore::read_inline`), else, or when that declines, through `dispatch!`.
/// `account` and `key` may be evaluated twice: pass plain values.
macro_rules! read_by_key {
    ($db:expr, $sql:expr, $row:ty, $from_sqlite:expr, $account:expr, $key:expr) => {{
        // Its parameters are dropped with this statement: they are not `Send`, and the await is below.
        let inline = $db.read_inline($sql, &[("$1", &$account), ("$2", &$key)], $from_sqlite);
        match inline {
            Some(row) => row,
            None => dispatch!($db, |pool| {
                sqlx::query_as::<_, $row>($sql)
                    .bind($account)
                    .bind($key)
                    .fetch_optional(pool)
                    .await
            })?,
        }
    }};
}

/// `dispatch!` for a [`Pool`] held apart from a store (the contact batcher's writer).
macro_rules! on_pool {
    ($pools:expr, |$pool:ident| $body:expr) => {
        match $pools {
            $crate::sql::Pool::Sqlite($pool) => $body,
            $crate::sql::Pool::Postgres($pool) => $body,
        }
    };
}

/// As `dispatch!`, for a body that writes. On SQLite the store's pool is its one writer connection, so this
/// process's writers queue in order for it instead of polling SQLite's lock in its busy handler (whose
/// sleeps gave rare writes multi-second waits under load); readers keep their own connections (WAL).
macro_rules! dispatch_write {
    ($db:expr, |$pool:ident| $body:expr) => {
        on_pool!(&$db.pool, |$pool| $body)
    };
}

/// `skip_locked!(db, "SELECT … LIMIT $n", rest…)`: the text for the store's backend, a `&'static str`. On
/// PostgreSQL `FOR UPDATE SKIP LOCKED` follows the first part, so that concurrent transactions each take
/// rows none of the others holds, without waiting; on SQLite the parts are joined as they are, since a
/// write transaction ([`BeginWrite`], or a single writing statement) already holds the one write lock.
macro_rules! skip_locked {
    ($db:expr, $select:expr $(, $rest:expr)* $(,)?) => {
        match &$db.pool {
            $crate::sql::Pool::Sqlite(_) => concat!($select $(, $rest)*),
            $crate::sql::Pool::Postgres(_) => concat!($select, " FOR UPDATE SKIP LOCKED" $(, $rest)*),
        }
    };
}

/// `list` (an account's keys, oldest first) and `revoke` (idempotent: a revoked key keeps its first
/// `revoked_at`) for a table of revocable keys. The API-key, domain-key and legacy-key tables share these
/// exactly; each file defines `columns!()` for its row type before invoking this.
macro_rules! revocable_key_queries {
    ($table:literal, $row:ty, $model:ty, $id:ty) => {
        pub(super) async fn list(db: &SqlStore, account: &AccountName) -> Result<Vec<$model>> {
            let rows = dispatch!(db, |pool| {
                sqlx::query_as::<_, $row>(concat!(
                    "SELECT ",
                    columns!(),
                    " FROM ",
                    $table,
                    " WHERE account = $1 ORDER BY created_at, id"
                ))
                .bind(account.as_str())
                .fetch_all(pool)
                .await
            })?;
            rows.into_iter().map(<$model>::try_from).collect()
        }

        pub(super) async fn revoke(db: &SqlStore, id: &$id, now: i64) -> Result<Option<$model>> {
            // Assignments all read the row as it was: a key already revoked keeps its times.
            let row = dispatch_write!(db, |pool| {
                sqlx::query_as::<_, $row>(concat!(
                    "UPDATE ",
                    $table,
                    " SET status = $2, revoked_at = COALESCE(revoked_at, $3), \
                     updated_at = CASE WHEN status = $2 AND revoked_at IS NOT NULL THEN updated_at ELSE $3 END \
                     WHERE id = $1 RETURNING ",
                    columns!()
                ))
                .bind(id.as_str())
                .bind(keygate_core::model::KeyStatus::Revoked.as_str())
                .bind(now)
                .fetch_optional(pool)
                .await
            })?;
            row.map(<$model>::try_from).transpose()
        }
    };
}

mod accounts;
mod admin_tokens;
mod api_keys;
mod apps;
mod audit;
mod auth_cache;
mod auth_epoch;
mod auth_failures;
mod cluster_epoch;
mod codes;
mod connect;
mod contact_query;
mod contact_rows;
mod contacts;
mod deliveries;
mod domain_keys;
mod email_statuses;
mod errors;
mod events;
mod grants;
mod group_commit;
mod hook_pipeline;
mod hooks;
mod legacy_keys;
mod liveness;
mod maintenance;
mod portal_sessions;
mod signing_keys;
mod sqlite_inline;
mod sqlite_readers;
mod store_impl;
mod users;

#[cfg(test)]
mod cluster_tests;
#[cfg(test)]
mod contact_tests;
#[cfg(test)]
mod hook_tests;
#[cfg(test)]
mod tests;

use std::future::Future;

use sqlx::{PgPool, Postgres, Sqlite, SqlitePool, Transaction};

pub use connect::{connect, connect_node};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub fn as_str(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
    }
}

/// A connection pool to one database; cheap to clone (the pool is shared).
#[derive(Debug, Clone)]
pub struct SqlStore {
    /// Writes go through it (see `dispatch_write!`); on SQLite it holds one connection, so it is the writer.
    pool: Pool,
    /// SQLite on a file: the connections reads go through (see `sqlite_readers`); elsewhere reads use `pool`.
    sqlite_readers: Option<std::sync::Arc<sqlite_readers::SqliteReaders>>,
    /// SQLite on a file: connections for reads by primary key on the calling thread (see `sqlite_inline`).
    sqlite_inline: Option<std::sync::Arc<sqlite_inline::InlineReaders>>,
    /// Authentication's hot reads, kept while the auth epoch stands still.
    auth: std::sync::Arc<auth_cache::AuthCache>,
    /// Writes committed in groups (see `group_commit`).
    batches: group_commit::Batches,
}

#[derive(Debug, Clone)]
enum Pool {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

impl SqlStore {
    /// Closes every pooled connection, waiting for those in use to be returned.
    pub async fn close(&self) {
        self.auth.leave().await;
        on_pool!(&self.pool, |pool| pool.close().await);
        if let Some(readers) = &self.sqlite_inline {
            readers.close();
        }
        if let Some(readers) = &self.sqlite_readers {
            readers.close().await;
        }
    }

    /// A read by primary key made on this thread when the store is a SQLite file (see `sqlite_inline`):
    /// `Some(row)` (`row` being `None` when there is none), or `None` when it must go through `dispatch!`.
    fn read_inline<T>(
        &self,
        sql: &str,
        params: &sqlite_inline::Params<'_>,
        map: impl FnOnce(&rusqlite::Row<'_>) -> rusqlite::Result<T>,
    ) -> Option<Option<T>> {
        self.sqlite_inline.as_deref()?.query_row(sql, params, map)
    }
}

/// Starts a write transaction. On SQLite it takes the write lock up front (`BEGIN IMMEDIATE`): a
/// deferred transaction that reads first can fail with SQLITE_BUSY when it later upgrades its lock,
/// without the busy timeout ever applying.
trait BeginWrite {
    type Db: sqlx::Database;
    fn begin_write(&self) -> impl Future<Output = sqlx::Result<Transaction<'static, Self::Db>>> + Send;
}

impl BeginWrite for SqlitePool {
    type Db = Sqlite;
    fn begin_write(&self) -> impl Future<Output = sqlx::Result<Transaction<'static, Sqlite>>> + Send {
        self.begin_with("BEGIN IMMEDIATE")
    }
}

impl BeginWrite for PgPool {
    type Db = Postgres;
    fn begin_write(&self) -> impl Future<Output = sqlx::Result<Transaction<'static, Postgres>>> + Send {
        self.begin()
    }
}
