//! The first two steps of the REST Hooks pipeline: events fanned out to the subscriptions verified for
//! them, as items; items batched into deliveries. Several nodes may run either step at once: fan-out
//! takes disjoint events (PostgreSQL: `FOR UPDATE SKIP LOCKED`; SQLite: one writer at a time), and a
//! batch is written only if none of its items was batched first.

use std::sync::LazyLock;

use keygate_core::ids::AccountName;

use super::errors::write_error;
use super::hooks::{hook_columns, HookRow};
use super::{BeginWrite, SqlStore};
use crate::{Delivery, DeliveryStatus, Event, Hook, HookStatus, PendingBatch, Result, StoreError};

/// How many ids one statement names. Shorter lists are padded by repeating an id, so each statement has
/// one text (one prepared statement), whatever the number of ids; the count stays far below what
/// either backend allows for parameters.
const IDS_PER_STATEMENT: usize = 100;

/// `$first, …`: [`IDS_PER_STATEMENT`] numbered placeholders.
fn id_placeholders(first: usize) -> String {
    let all: Vec<String> = (first..first + IDS_PER_STATEMENT)
        .map(|n| format!("${n}"))
        .collect();
    all.join(", ")
}

/// `ids` in lists of exactly [`IDS_PER_STATEMENT`], the last one padded with its last id.
fn padded_chunks(ids: &[i64]) -> impl Iterator<Item = [i64; IDS_PER_STATEMENT]> + '_ {
    ids.chunks(IDS_PER_STATEMENT).map(|chunk| {
        let pad = chunk.last().copied().unwrap_or_default();
        std::array::from_fn(|i| chunk.get(i).copied().unwrap_or(pad))
    })
}

/// Makes an item of each listed event (`$2`…) for each subscription in status `$1` of its account and
/// key; an event already there for a subscription is left as it is. In event order, so that items of
/// one time keep the order of their events. The listed events are read first, by key: left to choose,
/// PostgreSQL's cached plan for this statement walked every event of the account (the subscriptions
/// being few) and filtered by id, a cost growing with the account's history.
static INSERT_ITEMS: LazyLock<String> = LazyLock::new(|| {
    format!(
        "WITH listed AS MATERIALIZED (SELECT id, account, event_key, object_type, object_id, occurred_at \
         FROM events WHERE id IN ({})) \
         INSERT INTO hook_items (hook_key, event_id, event_key, object_type, object_id, occurred_at) \
         SELECT h.key, e.id, e.event_key, e.object_type, e.object_id, e.occurred_at \
         FROM listed e JOIN hooks h ON h.account = e.account AND h.event_key = e.event_key \
         WHERE h.status = $1 ORDER BY e.id, h.key \
         ON CONFLICT (hook_key, event_id) DO NOTHING",
        id_placeholders(2)
    )
});

/// Marks the listed events (`$2`…) fanned out at `$1`.
static MARK_FANNED_OUT: LazyLock<String> = LazyLock::new(|| {
    format!(
        "UPDATE events SET fanned_out_at = $1 WHERE id IN ({})",
        id_placeholders(2)
    )
});

/// Puts the listed items (`$3`…) of the subscription `$2` into the delivery `$1`, those not yet in one.
static BATCH_ITEMS: LazyLock<String> = LazyLock::new(|| {
    format!(
        "UPDATE hook_items SET delivery_id = $1 \
         WHERE hook_key = $2 AND delivery_id IS NULL AND id IN ({})",
        id_placeholders(3)
    )
});

pub(super) async fn fan_out(db: &SqlStore, limit: u32) -> Result<u64> {
    // Oldest first by id; on PostgreSQL the events another node is fanning out are skipped, and one it
    // finished while this looked is re-checked and dropped (its mark is no longer NULL).
    let take = skip_locked!(
        db,
        "SELECT id FROM events WHERE fanned_out_at IS NULL ORDER BY id LIMIT $1"
    );
    let now = keygate_core::time::now();
    // An idle node looks with a plain read first, so it does not take the write lock every tick for nothing.
    let any = dispatch!(db, |pool| {
        sqlx::query_scalar::<_, i64>("SELECT id FROM events WHERE fanned_out_at IS NULL LIMIT 1")
            .fetch_optional(pool)
            .await
    })?;
    if any.is_none() {
        return Ok(0);
    }
    dispatch_write!(db, |pool| {
        let mut tx = pool.begin_write().await?;
        let ids = sqlx::query_scalar::<_, i64>(take)
            .bind(i64::from(limit))
            .fetch_all(&mut *tx)
            .await?;
        for chunk in padded_chunks(&ids) {
            let mut insert = sqlx::query(INSERT_ITEMS.as_str()).bind(HookStatus::Verified.as_str());
            let mut mark = sqlx::query(MARK_FANNED_OUT.as_str()).bind(now);
            for id in chunk {
                insert = insert.bind(id);
                mark = mark.bind(id);
            }
            insert.execute(&mut *tx).await?;
            mark.execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(ids.len() as u64)
    })
}

#[derive(sqlx::FromRow)]
struct ItemRow {
    id: i64,
    event_id: i64,
    event_key: String,
    object_type: String,
    object_id: i64,
    occurred_at: i64,
}

impl ItemRow {
    /// The event the item copied, of the subscription's account.
    fn into_item(self, account: &AccountName) -> (i64, Event) {
        let event = Event {
            id: self.event_id,
            account: account.clone(),
            event_key: self.event_key,
            object_type: self.object_type,
            object_id: self.object_id,
            occurred_at: self.occurred_at,
        };
        (self.id, event)
    }
}

pub(super) async fn pending_batches(
    db: &SqlStore,
    ready_before: i64,
    max_items: u32,
    limit: u32,
) -> Result<Vec<PendingBatch>> {
    // Verified subscriptions only: the items of one switched off wait until it is verified again. The
    // longest waiting first.
    let rows = dispatch!(db, |pool| {
        sqlx::query_as::<_, HookRow>(concat!(
            "SELECT ",
            hook_columns!(),
            " FROM hooks JOIN (SELECT hook_key, MIN(occurred_at) AS oldest FROM hook_items \
             WHERE delivery_id IS NULL GROUP BY hook_key) waiting ON waiting.hook_key = hooks.key \
             WHERE hooks.status = $1 AND waiting.oldest <= $2 ORDER BY waiting.oldest, hooks.key LIMIT $3"
        ))
        .bind(HookStatus::Verified.as_str())
        .bind(ready_before)
        .bind(i64::from(limit))
        .fetch_all(pool)
        .await
    })?;
    let mut batches = Vec::with_capacity(rows.len());
    for row in rows {
        let hook = Hook::try_from(row)?;
        let items = dispatch!(db, |pool| {
            sqlx::query_as::<_, ItemRow>(
                "SELECT id, event_id, event_key, object_type, object_id, occurred_at FROM hook_items \
                 WHERE hook_key = $1 AND delivery_id IS NULL ORDER BY occurred_at, id LIMIT $2",
            )
            .bind(&hook.key)
            .bind(i64::from(max_items))
            .fetch_all(pool)
            .await
        })?;
        // Another node may have batched them since the first query.
        if items.is_empty() {
            continue;
        }
        let items = items.into_iter().map(|i| i.into_item(&hook.account)).collect();
        batches.push(PendingBatch { hook, items });
    }
    Ok(batches)
}

pub(super) async fn create_delivery(db: &SqlStore, delivery: &Delivery, item_ids: &[i64]) -> Result<bool> {
    let mut ids = item_ids.to_vec();
    ids.sort_unstable();
    ids.dedup();
    let due = delivery.next_attempt_at.unwrap_or(delivery.created_at);
    dispatch_write!(db, |pool| {
        let mut tx = pool.begin_write().await?;
        // Inserted only under its subscription, which must be of its account.
        let inserted = sqlx::query(
            "INSERT INTO hook_deliveries (id, hook_key, account, payload, status, attempts, \
             next_attempt_at, created_at, finished_at, last_status_code, last_error) \
             SELECT $1, key, account, $4, $5, $6, $7, $8, NULL, $9, $10 FROM hooks \
             WHERE key = $2 AND account = $3",
        )
        .bind(&delivery.id)
        .bind(&delivery.hook_key)
        .bind(delivery.account.as_str())
        .bind(&delivery.payload)
        .bind(DeliveryStatus::Pending.as_str())
        .bind(delivery.attempts)
        .bind(due)
        .bind(delivery.created_at)
        .bind(delivery.last_status_code)
        .bind(delivery.last_error.as_deref())
        .execute(&mut *tx)
        .await;
        let inserted = match inserted {
            Ok(done) => done.rows_affected(),
            // The subscription was deleted after the insert read it (PostgreSQL): so were its items.
            Err(e) => match write_error(e, format!("delivery {}", delivery.id), String::new()) {
                StoreError::MissingReference(_) => 0,
                other => return Err(other),
            },
        };
        if inserted == 0 {
            tx.rollback().await?;
            return Ok(false);
        }
        // In id order, as every batcher locks them: concurrent batches of shared items cannot deadlock.
        let mut batched = 0;
        for chunk in padded_chunks(&ids) {
            let mut batch = sqlx::query(BATCH_ITEMS.as_str())
                .bind(&delivery.id)
                .bind(&delivery.hook_key);
            for id in chunk {
                batch = batch.bind(id);
            }
            batched += batch.execute(&mut *tx).await?.rows_affected();
        }
        if batched != ids.len() as u64 {
            tx.rollback().await?;
            return Ok(false);
        }
        tx.commit().await?;
        Ok(true)
    })
}
