//! Group commit of small, frequent writes: contact creations, the key sessions `/auth` opens and the
//! rotations of refresh tokens.
//!
//! Alone, each such write pays a whole transaction for a row or two: on SQLite, a round trip to the
//! writer connection's thread per statement (a wake-up each way) and a commit; on PostgreSQL, a round
//! trip per statement and a durable commit, and for contacts the wait on the account's id counter, whose
//! row stays locked until the commit. So writes that arrive while one batch is being written wait in a
//! queue, and the next transaction writes all of them: each caller is answered after the commit that
//! holds its write, exactly as before, only far fewer commits are made. A task of its own writes the
//! batches, so a caller that goes away cannot abandon the others' writes half-way. On PostgreSQL each
//! node has its own batchers.

use std::future::Future;

use tokio::sync::{mpsc, oneshot};

use super::Pool;
use crate::{Result, StoreError};

/// Most writes committed in one transaction: long enough to share commits, short enough that a batch
/// holds the write lock (SQLite) or its rows' locks (PostgreSQL) for milliseconds at most.
const MAX_BATCH: usize = 256;
/// Writes waiting for the writer, beyond which callers wait to queue.
const QUEUE: usize = 4096;

/// One kind of write that can be committed in groups.
pub(super) trait GroupWrite: 'static {
    type Item: Send + Sync + 'static;
    type Written: Send + 'static;
    /// Writes every item in one transaction, in order, answering one `Written` per item; if one fails,
    /// none is written.
    fn write_all<'a>(
        writer: &'a Pool,
        items: &'a [Self::Item],
    ) -> impl Future<Output = Result<Vec<Self::Written>>> + Send + 'a;
}

type Answer<W> = oneshot::Sender<Result<<W as GroupWrite>::Written>>;

pub(super) struct Batcher<W: GroupWrite> {
    queue: mpsc::Sender<(W::Item, Answer<W>)>,
}

impl<W: GroupWrite> Clone for Batcher<W> {
    fn clone(&self) -> Self {
        Self {
            queue: self.queue.clone(),
        }
    }
}

impl<W: GroupWrite> std::fmt::Debug for Batcher<W> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Batcher").finish_non_exhaustive()
    }
}

impl<W: GroupWrite> Batcher<W> {
    /// Starts the writing task on the current Tokio runtime; it ends when the last clone of the store is
    /// dropped.
    pub(super) fn start(writer: Pool) -> Self {
        let (queue, incoming) = mpsc::channel(QUEUE);
        tokio::spawn(write_batches::<W>(writer, incoming));
        Self { queue }
    }

    /// Writes `item`, answering once its transaction has committed.
    pub(super) async fn write(&self, item: W::Item) -> Result<W::Written> {
        let (done, answer) = oneshot::channel();
        self.queue.send((item, done)).await.map_err(|_| stopped())?;
        answer.await.map_err(|_| stopped())?
    }
}

/// The writing task ends only with the store (or its runtime).
fn stopped() -> StoreError {
    StoreError::Database(sqlx::Error::PoolClosed)
}

async fn write_batches<W: GroupWrite>(writer: Pool, mut incoming: mpsc::Receiver<(W::Item, Answer<W>)>) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    while incoming.recv_many(&mut batch, MAX_BATCH).await > 0 {
        let (items, answers): (Vec<_>, Vec<_>) = batch.drain(..).unzip();
        write_batch::<W>(&writer, &items, answers).await;
    }
}

async fn write_batch<W: GroupWrite>(writer: &Pool, items: &[W::Item], answers: Vec<Answer<W>>) {
    match W::write_all(writer, items).await {
        Ok(written) => {
            for (answer, written) in answers.into_iter().zip(written) {
                // A caller that stopped waiting still has its write: it was committed.
                let _ = answer.send(Ok(written));
            }
        }
        // One write's error (say, a contact for an account that does not exist) must not fail the
        // others: when the batch fails, each is written again in a transaction of its own and gets its
        // own outcome.
        Err(e) if items.len() == 1 => {
            if let Some(answer) = answers.into_iter().next() {
                let _ = answer.send(Err(e));
            }
        }
        Err(_) => {
            for (item, answer) in items.chunks(1).zip(answers) {
                let outcome = W::write_all(writer, item).await.and_then(|mut written| {
                    written
                        .pop()
                        .ok_or_else(|| StoreError::Corrupt("a write made alone was not answered".into()))
                });
                let _ = answer.send(outcome);
            }
        }
    }
}

/// A store's group-committed writes, each with its own writing task.
#[derive(Debug, Clone)]
pub(super) struct Batches {
    pub(super) contacts: Batcher<super::contacts::NewContacts>,
    pub(super) key_sessions: Batcher<super::api_keys::NewKeySessions>,
    pub(super) rotations: Batcher<super::grants::Rotations>,
}

impl Batches {
    /// `writer`: the pool writes go through (SQLite's one writer connection).
    pub(super) fn start(writer: Pool) -> Self {
        Self {
            contacts: Batcher::start(writer.clone()),
            key_sessions: Batcher::start(writer.clone()),
            rotations: Batcher::start(writer),
        }
    }
}
