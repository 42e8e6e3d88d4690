//! Opening pools and applying migrations.

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use sqlx::migrate::Migrator;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};

use super::auth_cache::AuthCache;
use super::auth_epoch::AuthEpoch;
use super::cluster_epoch::ClusterEpoch;
use super::group_commit::Batches;
use super::sqlite_inline::InlineReaders;
use super::sqlite_readers::SqliteReaders;
use super::{Pool, SqlStore};
use crate::{Result, StoreError};

static SQLITE_MIGRATIONS: Migrator = sqlx::migrate!("migrations/sqlite");
static POSTGRES_MIGRATIONS: Migrator = sqlx::migrate!("migrations/postgres");

/// How long a writer waits for another (in this process or another one) to release SQLite's lock.
const SQLITE_BUSY_TIMEOUT: Duration = Duration::from_secs(5);
/// Readers: WAL lets them read while the one writer connection writes.
const SQLITE_READERS: usize = 4;
const POSTGRES_MAX_CONNECTIONS: u32 = 10;
/// A pooled PostgreSQL connection idle for longer than this is pinged before it is lent.
pub(super) const POSTGRES_IDLE_BEFORE_PING: Duration = Duration::from_secs(1);
pub(super) const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(5);

/// Opens a pool for `sqlite://PATH` (or `sqlite:PATH`; the file is created if missing) or
/// `postgres://…` / `postgresql://…`. Does not migrate: call [`crate::Store::migrate`]. On PostgreSQL
/// this process caches no authentication reads (its writes still reach the nodes' caches before they are
/// acknowledged): for a server, use [`connect_node`].
pub async fn connect(url: &str) -> Result<SqlStore> {
    open(url, false).await
}

/// As [`connect`], for a server. On PostgreSQL the store joins the other nodes of the database, so that it
/// may answer hot authentication reads from memory (see `cluster_epoch`): it keeps one more connection,
/// and its writes that change credentials wait until every other node has heard of them. Call
/// [`crate::Store::leave`] when it stops serving.
pub async fn connect_node(url: &str) -> Result<SqlStore> {
    open(url, true).await
}

async fn open(url: &str, node: bool) -> Result<SqlStore> {
    if url.starts_with("sqlite:") {
        return connect_sqlite(url).await;
    }
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        let options = PgConnectOptions::from_str(url)?;
        // sqlx pings a connection before lending it by default: a round trip to PostgreSQL per query,
        // on top of the ping it makes when each connection comes back to the pool. A connection just
        // given back has been checked then, so only one idle for longer is pinged first (a ping that
        // fails closes it, and the pool lends another).
        let pool = PgPoolOptions::new()
            .max_connections(POSTGRES_MAX_CONNECTIONS)
            .acquire_timeout(ACQUIRE_TIMEOUT)
            .test_before_acquire(false)
            .before_acquire(|conn, meta| {
                Box::pin(async move {
                    if meta.idle_for > POSTGRES_IDLE_BEFORE_PING {
                        sqlx::Connection::ping(conn).await?;
                    }
                    Ok(true)
                })
            })
            .connect_with(options.clone())
            .await?;
        let epoch = if node {
            ClusterEpoch::join(pool.clone(), options)
        } else {
            ClusterEpoch::announcer(pool.clone())
        };
        // Each node batches its own writes.
        return Ok(SqlStore {
            batches: Batches::start(Pool::Postgres(pool.clone())),
            pool: Pool::Postgres(pool),
            sqlite_readers: None,
            sqlite_inline: None,
            auth: AuthCache::new(AuthEpoch::Cluster(epoch)),
        });
    }
    // Only the scheme: the rest of a URL may hold a password.
    let scheme = url.split_once(':').map_or("(none)", |(scheme, _)| scheme);
    Err(StoreError::UnsupportedUrl(scheme.to_owned()))
}

/// For a file: the one-connection pool writes go through (with the group commits on it), the reader
/// connections, and the auth epoch shared through the file. In memory: one connection for everything.
async fn connect_sqlite(url: &str) -> Result<SqlStore> {
    let options = SqliteConnectOptions::from_str(url)?
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Normal)
        .foreign_keys(true)
        .busy_timeout(SQLITE_BUSY_TIMEOUT);
    // A connection to a local file cannot go stale the way a network one can, so sqlx's ping before
    // each acquire (a round trip to the connection's worker thread per query) buys nothing here.
    let pool = SqlitePoolOptions::new()
        .acquire_timeout(ACQUIRE_TIMEOUT)
        .test_before_acquire(false);
    // An in-memory database lives as long as a connection to it, and shared-cache connections fail with
    // SQLITE_LOCKED instead of waiting: keep exactly one, forever. One process, so a local epoch.
    if url.contains(":memory:") || url.contains("mode=memory") {
        let pool = pool
            .max_connections(1)
            .min_connections(1)
            .idle_timeout(None)
            .max_lifetime(None)
            .connect_with(options)
            .await?;
        return Ok(SqlStore {
            batches: Batches::start(Pool::Sqlite(pool.clone())),
            pool: Pool::Sqlite(pool),
            sqlite_readers: None,
            sqlite_inline: None,
            auth: AuthCache::new(AuthEpoch::local()),
        });
    }
    // The writer first: it creates the file and switches it to WAL before readers open it.
    let writer = pool
        .clone()
        .max_connections(1)
        .min_connections(1)
        .idle_timeout(None)
        .connect_with(options.clone())
        .await?;
    let epoch = AuthEpoch::for_sqlite_file(options.get_filename());
    // Reads go through connections the store lends itself (see `sqlite_readers`), never through the
    // writer's pool.
    let readers = SqliteReaders::open(&options, SQLITE_READERS, ACQUIRE_TIMEOUT).await?;
    let inline = InlineReaders::open(options.get_filename(), SQLITE_READERS).map_err(inline_open_error)?;
    Ok(SqlStore {
        batches: Batches::start(Pool::Sqlite(writer.clone())),
        pool: Pool::Sqlite(writer),
        sqlite_readers: Some(Arc::new(readers)),
        sqlite_inline: Some(Arc::new(inline)),
        auth: AuthCache::new(epoch),
    })
}

/// The file opened for the writer and the sqlx readers a moment before, so this is rare (the file
/// removed in between, say); reported as the database error sqlx gives for a connection it cannot open.
fn inline_open_error(e: rusqlite::Error) -> StoreError {
    StoreError::Database(sqlx::Error::Configuration(
        format!("opening a SQLite connection for reads: {e}").into(),
    ))
}

impl SqlStore {
    pub(super) async fn run_migrations(&self) -> Result<()> {
        match &self.pool {
            // PostgreSQL serialises concurrent migrators with an advisory lock.
            Pool::Postgres(pool) => POSTGRES_MIGRATIONS.run(pool).await?,
            // SQLite has no such lock: when two processes migrate one file at once, the loser fails on
            // tables the winner just created. Running again re-reads what is applied; the winner may
            // still be applying a later migration then, so the loser may fail once per migration.
            Pool::Sqlite(pool) => {
                let mut retries = SQLITE_MIGRATIONS.iter().count();
                loop {
                    match SQLITE_MIGRATIONS.run(pool).await {
                        Ok(()) => break,
                        Err(_) if retries > 0 => retries -= 1,
                        Err(e) => return Err(e.into()),
                    }
                }
            }
        }
        Ok(())
    }
}
