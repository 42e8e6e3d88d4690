//! Group commit of contact creations.
//!
//! Every creation takes the next id of its account's counter, whose row stays locked until the commit,
//! so creations in one account are written one transaction after another whatever the backend. Alone,
//! each pays a whole transaction: on SQLite, `BEGIN` and `COMMIT` and a round trip to the writer
//! connection's thread per statement; on PostgreSQL, a durable commit while every other creation of the
//! account waits on the counter's lock (and wakes, and queues again). So creations that arrive while one
//! batch is being written wait in a queue, and the next transaction writes all of them, taking each
//! account's ids in one step: each caller is answered after the commit that holds its contact, exactly
//! as before, only far fewer commits are made. A task of its own writes the batches, so a caller that
//! goes away cannot abandon the others' writes half-way. On PostgreSQL each node has its own batcher;
//! batches take their counters in account order, so those of different nodes never wait in a cycle.

use keygate_core::contact::Contact;
use keygate_core::ids::AccountName;
use tokio::sync::{mpsc, oneshot};

use super::contacts::insert_all;
use super::Pool;
use crate::{Result, StoreError};

/// Most creations committed in one transaction: long enough to share commits, short enough that a
/// batch holds the write lock (SQLite) or its accounts' counters (PostgreSQL) for milliseconds at most.
const MAX_BATCH: usize = 256;
/// Creations waiting for the writer, beyond which callers wait to queue.
const QUEUE: usize = 4096;

struct Pending {
    account: AccountName,
    contact: Contact,
    done: oneshot::Sender<Result<Contact>>,
}

#[derive(Debug, Clone)]
pub(super) struct ContactBatcher {
    queue: mpsc::Sender<Pending>,
}

impl ContactBatcher {
    /// Starts the writing task on the current Tokio runtime; it ends when the last clone of the store is
    /// dropped.
    pub(super) fn start(writer: Pool) -> Self {
        let (queue, incoming) = mpsc::channel(QUEUE);
        tokio::spawn(write_batches(writer, incoming));
        Self { queue }
    }

    /// Creates `contact` in `account`, answering once its transaction has committed.
    pub(super) async fn create(&self, account: &AccountName, contact: &Contact) -> Result<Contact> {
        let (done, answer) = oneshot::channel();
        let pending = Pending {
            account: account.clone(),
            contact: contact.clone(),
            done,
        };
        self.queue.send(pending).await.map_err(|_| stopped())?;
        answer.await.map_err(|_| stopped())?
    }
}

/// The writing task ends only with the store (or its runtime).
fn stopped() -> StoreError {
    StoreError::Database(sqlx::Error::PoolClosed)
}

async fn write_batches(writer: Pool, mut incoming: mpsc::Receiver<Pending>) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    while incoming.recv_many(&mut batch, MAX_BATCH).await > 0 {
        write_batch(&writer, std::mem::take(&mut batch)).await;
    }
}

async fn write_batch(writer: &Pool, batch: Vec<Pending>) {
    let rows: Vec<(&AccountName, &Contact)> = batch.iter().map(|p| (&p.account, &p.contact)).collect();
    let outcome = insert_all(writer, &rows).await;
    drop(rows);
    match outcome {
        Ok(created) => {
            for (pending, contact) in batch.into_iter().zip(created) {
                // A caller that stopped waiting still has its contact: it was committed.
                let _ = pending.done.send(Ok(contact));
            }
        }
        // One creation's error (an account that does not exist) must not fail the others: when the
        // batch fails, each is written again in a transaction of its own and gets its own outcome.
        Err(e) if batch.len() == 1 => {
            if let Some(pending) = batch.into_iter().next() {
                let _ = pending.done.send(Err(e));
            }
        }
        Err(_) => {
            for pending in batch {
                let outcome = insert_one(writer, &pending.account, &pending.contact).await;
                let _ = pending.done.send(outcome);
            }
        }
    }
}

async fn insert_one(writer: &Pool, account: &AccountName, contact: &Contact) -> Result<Contact> {
    let mut created = insert_all(writer, &[(account, contact)]).await?;
    created
        .pop()
        .ok_or_else(|| StoreError::Corrupt("a contact written alone was not returned".into()))
}
