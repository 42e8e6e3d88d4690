//! Reads by primary key on a SQLite file, answered on the calling thread through connections of our own.
//!
//! Each sqlx SQLite connection lives on a worker thread of its own: a query is a message to that thread
//! and its rows a message back, so every read costs two thread wake-ups and context switches, several
//! times what SQLite takes to find one row by its key in its page cache (measured in
//! docs/benchmarks.md, "the sixth optimisations"). These connections (rusqlite, on the libsqlite3 sqlx
//! itself links) are used synchronously and never held across an `.await`, so a read holds its runtime
//! thread only while SQLite looks the row up. Only such bounded reads come here: scans stay on the sqlx
//! readers. Nor do these connections ever wait: a read that finds the file busy (a checkpoint resetting
//! the WAL, say), or every connection taken, or that fails at all, returns `None` and is asked of the
//! sqlx readers instead, which wait and report errors as every other read does.

use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard, TryLockError};
use std::time::Duration;

use rusqlite::{Connection, OpenFlags, OptionalExtension, Row, ToSql};

/// Parameters by name, as the shared SQL text writes them: `[("$1", &account), ("$2", &id)]`. By name,
/// not position, because SQLite numbers `$N` parameters in the order they first appear in the text.
pub(super) type Params<'a> = [(&'a str, &'a dyn ToSql)];

pub(super) struct InlineReaders {
    /// `None` once closed.
    connections: Box<[Mutex<Option<Connection>>]>,
    next: AtomicUsize,
}

impl std::fmt::Debug for InlineReaders {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InlineReaders")
            .field("connections", &self.connections.len())
            .finish_non_exhaustive()
    }
}

impl InlineReaders {
    /// Opens `count` connections to the file at `path`, which must exist (the writer creates it).
    pub(super) fn open(path: &Path, count: usize) -> rusqlite::Result<Self> {
        let connections = (0..count.max(1))
            .map(|_| open_connection(path).map(|c| Mutex::new(Some(c))))
            .collect::<rusqlite::Result<_>>()?;
        Ok(Self {
            connections,
            next: AtomicUsize::new(0),
        })
    }

    /// The row `sql` selects with `params` (the first, if several), mapped by `map`: `Some(None)` when
    /// there is none, `None` when the read must be made through the sqlx readers instead.
    pub(super) fn query_row<T>(
        &self,
        sql: &str,
        params: &Params<'_>,
        map: impl FnOnce(&Row<'_>) -> rusqlite::Result<T>,
    ) -> Option<Option<T>> {
        let mut slot = self.lend()?;
        let connection = slot.as_mut()?;
        let row = connection
            .prepare_cached(sql)
            .and_then(|mut statement| statement.query_row(params, map).optional());
        match row {
            Ok(row) => Some(row),
            Err(e) => {
                if !is_busy(&e) {
                    // Not expected: the sqlx readers will answer, and report the error if it is theirs too.
                    tracing::warn!(error = %e, "an inline SQLite read failed; reading through sqlx");
                }
                None
            }
        }
    }

    /// A connection no other thread is using, if there is one: never waits.
    fn lend(&self) -> Option<MutexGuard<'_, Option<Connection>>> {
        let count = self.connections.len();
        let start = self.next.fetch_add(1, Ordering::Relaxed);
        let try_slot = |i: usize| match self.connections[start.wrapping_add(i) % count].try_lock() {
            Ok(guard) => Some(guard),
            // A read that panicked left the connection as sound as any other: statements reset on drop.
            Err(TryLockError::Poisoned(poisoned)) => Some(poisoned.into_inner()),
            Err(TryLockError::WouldBlock) => None,
        };
        (0..count).find_map(try_slot)
    }

    /// Closes every connection; reads are then made through the sqlx readers (which refuse them once
    /// closed too).
    pub(super) fn close(&self) {
        for slot in self.connections.iter() {
            let mut slot = match slot.lock() {
                Ok(slot) => slot,
                Err(poisoned) => poisoned.into_inner(),
            };
            // Dropping a connection closes it; a failure to would leave nothing to clean up.
            slot.take();
        }
    }
}

fn open_connection(path: &Path) -> rusqlite::Result<Connection> {
    // No CREATE: the writer made the file and switched it to WAL, which lets these read while it writes.
    // NO_MUTEX: each connection is behind our own mutex.
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let connection = Connection::open_with_flags(path, flags)?;
    // Never sleep in SQLite's busy handler on a runtime thread: a busy read goes to the sqlx readers.
    connection.busy_timeout(Duration::ZERO)?;
    // These connections only read; make SQLite hold them to it.
    connection.pragma_update(None, "query_only", true)?;
    Ok(connection)
}

fn is_busy(e: &rusqlite::Error) -> bool {
    matches!(
        e.sqlite_error_code(),
        Some(rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked)
    )
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use keygate_core::contact::Contact;
    use keygate_core::ids::AccountName;
    use rusqlite::Connection;

    use super::super::contact_rows::ContactRow;
    use super::super::contacts::GET_CONTACT;
    use super::super::SqlStore;
    use super::InlineReaders;
    use crate::conformance::fixtures;
    use crate::testing::TempDatabase;
    use crate::Store;

    fn inline(store: &SqlStore) -> &InlineReaders {
        store
            .sqlite_inline
            .as_deref()
            .expect("a SQLite file store reads inline")
    }

    /// A stored contact, and the store it is in.
    async fn store_with_contact(db: &TempDatabase) -> (SqlStore, AccountName, Contact) {
        let store = db.store().await.unwrap();
        let account = fixtures::account(&store).await;
        let input = fixtures::contact_input(Some(&fixtures::contact_email()));
        let contact = input.into_contact(0, fixtures::now()).unwrap();
        let contact = store.create_contact(&account.name, &contact).await.unwrap();
        (store, account.name, contact)
    }

    fn read_contact(readers: &InlineReaders, account: &AccountName, id: i64) -> Option<Option<Contact>> {
        readers
            .query_row(GET_CONTACT, &[("$1", &account.as_str()), ("$2", &id)], |row| {
                ContactRow::from_sqlite(row, 0)
            })
            .map(|row| row.map(|row| Contact::try_from(row).unwrap()))
    }

    #[tokio::test]
    async fn a_contact_read_inline_is_the_one_the_store_wrote() {
        let db = TempDatabase::sqlite().await;
        let (store, account, c) = store_with_contact(&db).await;
        assert_eq!(
            read_contact(inline(&store), &account, c.id),
            Some(Some(c.clone()))
        );
        assert_eq!(
            read_contact(inline(&store), &account, c.id + 1),
            Some(None),
            "no such contact"
        );
        assert_eq!(store.get_contact(&account, c.id).await.unwrap(), Some(c));
        store.close().await;
        db.cleanup().await;
    }

    /// With sqlx's readers closed, only reads made inline can answer: the store's reads by key all are.
    #[tokio::test]
    async fn the_stores_reads_by_key_need_no_sqlx_reader() {
        let db = TempDatabase::sqlite().await;
        let (store, account, c) = store_with_contact(&db).await;
        store.sqlite_readers.as_deref().unwrap().close().await;
        let with_status = store.get_contact_with_status(&account, c.id).await.unwrap();
        assert_eq!(with_status, Some((c.clone(), None)));
        assert_eq!(store.get_contact(&account, c.id).await.unwrap(), Some(c.clone()));
        let address = c.emails[0].email.as_str();
        assert_eq!(store.get_email_status(&account, address).await.unwrap(), None);
        assert!(
            store.list_events(&account, 0, 10).await.is_err(),
            "a scan goes through the closed sqlx readers"
        );
        store.close().await;
        db.cleanup().await;
    }

    #[tokio::test]
    async fn parameters_bind_by_name_whatever_their_order_in_the_text() {
        let db = TempDatabase::sqlite().await;
        let store = db.store().await.unwrap();
        let answer = inline(&store).query_row(
            "SELECT $2 || '-' || $1",
            &[("$1", &"first"), ("$2", &"second")],
            |row| row.get::<_, String>(0),
        );
        assert_eq!(answer, Some(Some("second-first".to_owned())));
        store.close().await;
        db.cleanup().await;
    }

    /// A file another connection holds locked (a rollback-journal file mid-write here: a WAL file locks
    /// readers out only in rare moments) makes an inline read give up rather than wait.
    #[test]
    fn a_locked_file_is_not_waited_for() {
        let path = std::env::temp_dir().join(format!("keygate-inline-{}.db", fixtures::tag()));
        let locker = Connection::open(&path).unwrap();
        locker
            .execute_batch("CREATE TABLE t (x INTEGER); INSERT INTO t VALUES (7);")
            .unwrap();
        let readers = InlineReaders::open(&path, 1).unwrap();
        let read = || readers.query_row("SELECT x FROM t", &[], |row| row.get::<_, i64>(0));
        let busy_timeout = readers.query_row("PRAGMA busy_timeout", &[], |row| row.get::<_, i64>(0));
        assert_eq!(
            busy_timeout,
            Some(Some(0)),
            "SQLite's busy handler never sleeps on these"
        );
        assert_eq!(read(), Some(Some(7)));
        locker.execute_batch("BEGIN EXCLUSIVE;").unwrap();
        assert_eq!(read(), None, "busy: left to the sqlx readers");
        locker.execute_batch("COMMIT;").unwrap();
        assert_eq!(read(), Some(Some(7)));
        drop((readers, locker));
        std::fs::remove_file(&path).unwrap();
    }

    #[tokio::test]
    async fn with_every_connection_taken_a_read_goes_elsewhere_without_waiting() {
        let db = TempDatabase::sqlite().await;
        let (store, account, c) = store_with_contact(&db).await;
        let readers = inline(&store);
        let held: Vec<_> = readers
            .connections
            .iter()
            .map(|slot| slot.lock().unwrap())
            .collect();
        assert_eq!(read_contact(readers, &account, c.id), None);
        let answered = store.get_contact(&account, c.id).await.unwrap();
        assert_eq!(answered.as_ref(), Some(&c), "answered by the sqlx readers");
        drop(held);
        assert_eq!(read_contact(readers, &account, c.id), Some(Some(c)));
        store.close().await;
        db.cleanup().await;
    }

    #[tokio::test]
    async fn the_connections_only_read() {
        let db = TempDatabase::sqlite().await;
        let (store, account, c) = store_with_contact(&db).await;
        let deleted = inline(&store).query_row(
            "DELETE FROM contacts WHERE account = $1 RETURNING id",
            &[("$1", &account.as_str())],
            |row| row.get::<_, i64>(0),
        );
        assert_eq!(deleted, None, "refused, so left to the sqlx readers");
        assert_eq!(store.get_contact(&account, c.id).await.unwrap(), Some(c));
        store.close().await;
        db.cleanup().await;
    }

    #[tokio::test]
    async fn closed_readers_leave_every_read_to_the_sqlx_readers() {
        let db = TempDatabase::sqlite().await;
        let (store, account, c) = store_with_contact(&db).await;
        store.close().await;
        assert_eq!(read_contact(inline(&store), &account, c.id), None);
        assert!(
            store.get_contact(&account, c.id).await.is_err(),
            "the sqlx readers refuse too"
        );
        db.cleanup().await;
    }
}
