//! The connections SQLite reads go through, lent by the store itself rather than by sqlx's pool.
//!
//! Written here because sqlx's pool pings every connection that comes back to it (in sqlx 0.8, with no
//! way to turn that off), in a task spawned per query. For SQLite a ping is one more hand-off to the
//! connection's worker thread and back, as costly as the read itself, and it protects against nothing:
//! a local file does not go stale the way a network connection does. Writes keep sqlx's pool of one
//! connection, whose transactions need it.

use std::fmt;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use futures_util::future::BoxFuture;
use futures_util::stream::{self, BoxStream, StreamExt, TryStreamExt};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteConnection, SqliteQueryResult, SqliteRow, SqliteStatement, SqliteTypeInfo,
};
use sqlx::{Connection, Describe, Either, Execute, Executor, Sqlite};
use tokio::sync::{MappedMutexGuard, Mutex, MutexGuard};

/// A few connections to one SQLite file, each lent to one query at a time.
pub(super) struct SqliteReaders {
    /// `None` once closed.
    connections: Vec<Mutex<Option<SqliteConnection>>>,
    next: AtomicUsize,
    wait_limit: Duration,
}

impl fmt::Debug for SqliteReaders {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SqliteReaders")
            .field("connections", &self.connections.len())
            .finish_non_exhaustive()
    }
}

/// A connection lent for one query; it goes back when this is dropped, whatever state the query was
/// left in (the connection's worker finishes a dropped query before it starts the next one).
type Lent<'a> = MappedMutexGuard<'a, SqliteConnection>;

impl SqliteReaders {
    /// Opens `count` connections with `options`; a query waits up to `wait_limit` for one to be free.
    pub(super) async fn open(
        options: &SqliteConnectOptions,
        count: usize,
        wait_limit: Duration,
    ) -> sqlx::Result<Self> {
        let mut connections = Vec::with_capacity(count);
        for _ in 0..count.max(1) {
            connections.push(Mutex::new(Some(SqliteConnection::connect_with(options).await?)));
        }
        Ok(Self {
            connections,
            next: AtomicUsize::new(0),
            wait_limit,
        })
    }

    /// A free connection if there is one, else the next in turn once its query is done.
    async fn lend(&self) -> sqlx::Result<Lent<'_>> {
        let count = self.connections.len();
        let start = self.next.fetch_add(1, Ordering::Relaxed);
        let slot = (0..count).find_map(|i| self.connections[start.wrapping_add(i) % count].try_lock().ok());
        let slot = match slot {
            Some(slot) => slot,
            None => tokio::time::timeout(self.wait_limit, self.connections[start % count].lock())
                .await
                .map_err(|_| sqlx::Error::PoolTimedOut)?,
        };
        MutexGuard::try_map(slot, Option::as_mut).map_err(|_| sqlx::Error::PoolClosed)
    }

    /// Runs `sql` once on each connection (tests that change the schema from another process).
    #[cfg(test)]
    pub(super) async fn run_on_each(&self, sql: &str) -> sqlx::Result<()> {
        for slot in &self.connections {
            if let Some(connection) = slot.lock().await.as_mut() {
                sqlx::raw_sql(sql).execute(connection).await?;
            }
        }
        Ok(())
    }

    /// Closes every connection, waiting for queries in progress; later queries fail with `PoolClosed`.
    pub(super) async fn close(&self) {
        for slot in &self.connections {
            if let Some(connection) = slot.lock().await.take() {
                // Closing only finalises statements; a failure leaves nothing to clean up.
                let _ = connection.close().await;
            }
        }
    }
}

impl<'c> Executor<'c> for &'c SqliteReaders {
    type Database = Sqlite;

    fn fetch_many<'e, 'q: 'e, E>(
        self,
        query: E,
    ) -> BoxStream<'e, sqlx::Result<Either<SqliteQueryResult, SqliteRow>>>
    where
        'c: 'e,
        E: 'q + Execute<'q, Sqlite>,
    {
        // The rows are collected while the connection is lent, so the stream holds no connection.
        stream::once(async move {
            let mut lent = self.lend().await?;
            let steps: Vec<_> = (&mut *lent).fetch_many(query).collect().await;
            Ok::<_, sqlx::Error>(stream::iter(steps))
        })
        .try_flatten()
        .boxed()
    }

    fn fetch_optional<'e, 'q: 'e, E>(self, query: E) -> BoxFuture<'e, sqlx::Result<Option<SqliteRow>>>
    where
        'c: 'e,
        E: 'q + Execute<'q, Sqlite>,
    {
        Box::pin(async move {
            let mut lent = self.lend().await?;
            (&mut *lent).fetch_optional(query).await
        })
    }

    fn prepare_with<'e, 'q: 'e>(
        self,
        sql: &'q str,
        parameters: &'e [SqliteTypeInfo],
    ) -> BoxFuture<'e, sqlx::Result<SqliteStatement<'q>>>
    where
        'c: 'e,
    {
        Box::pin(async move {
            let mut lent = self.lend().await?;
            (&mut *lent).prepare_with(sql, parameters).await
        })
    }

    fn describe<'e, 'q: 'e>(self, sql: &'q str) -> BoxFuture<'e, sqlx::Result<Describe<Sqlite>>>
    where
        'c: 'e,
    {
        Box::pin(async move {
            let mut lent = self.lend().await?;
            (&mut *lent).describe(sql).await
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use std::str::FromStr;

    use super::*;
    use crate::testing::TempDatabase;

    const COUNT_TO_3M: &str =
        "WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < 3000000) \
                               SELECT count(*) FROM n";

    async fn readers(db: &TempDatabase, count: usize, wait_limit: Duration) -> SqliteReaders {
        let options = SqliteConnectOptions::from_str(db.url())
            .unwrap()
            .create_if_missing(true);
        SqliteReaders::open(&options, count, wait_limit).await.unwrap()
    }

    #[tokio::test]
    async fn more_reads_than_connections_each_get_their_own_answer() {
        let db = TempDatabase::sqlite().await;
        let r = readers(&db, 2, Duration::from_secs(5)).await;
        let answers = futures_util::future::join_all((0..20i64).map(|i| {
            let r = &r;
            async move {
                sqlx::query_scalar::<_, i64>("SELECT $1 * 2")
                    .bind(i)
                    .fetch_one(r)
                    .await
                    .unwrap()
            }
        }))
        .await;
        assert_eq!(answers, (0..20).map(|i| i * 2).collect::<Vec<_>>());
        let many: Vec<i64> = sqlx::query_scalar(
            "WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < 500) SELECT x FROM n",
        )
        .fetch_all(&r)
        .await
        .unwrap();
        assert_eq!(many, (1..=500).collect::<Vec<_>>(), "every row, in order");
        db.cleanup().await;
    }

    #[tokio::test]
    async fn a_read_dropped_half_way_leaves_its_connection_to_the_next() {
        let db = TempDatabase::sqlite().await;
        let r = readers(&db, 1, Duration::from_secs(30)).await;
        let slow = sqlx::query_scalar::<_, i64>(COUNT_TO_3M).fetch_one(&r);
        assert!(
            tokio::time::timeout(Duration::from_millis(5), slow)
                .await
                .is_err(),
            "still counting when dropped"
        );
        let answer: i64 = sqlx::query_scalar("SELECT 7").fetch_one(&r).await.unwrap();
        assert_eq!(
            answer, 7,
            "the next read gets its own answer, not the abandoned one's"
        );
        db.cleanup().await;
    }

    #[tokio::test]
    async fn a_read_waits_for_a_connection_no_longer_than_its_limit() {
        let db = TempDatabase::sqlite().await;
        let r = readers(&db, 1, Duration::from_millis(50)).await;
        let held = r.lend().await.unwrap();
        let refused = sqlx::query("SELECT 1").fetch_optional(&r).await;
        assert!(
            matches!(refused, Err(sqlx::Error::PoolTimedOut)),
            "{:?}",
            refused.err()
        );
        drop(held);
        assert!(sqlx::query("SELECT 1")
            .fetch_optional(&r)
            .await
            .unwrap()
            .is_some());
        db.cleanup().await;
    }

    #[tokio::test]
    async fn reads_after_close_are_refused() {
        let db = TempDatabase::sqlite().await;
        let r = readers(&db, 2, Duration::from_secs(5)).await;
        r.close().await;
        let refused = sqlx::query("SELECT 1").fetch_optional(&r).await;
        assert!(
            matches!(refused, Err(sqlx::Error::PoolClosed)),
            "{:?}",
            refused.err()
        );
        db.cleanup().await;
    }
}
