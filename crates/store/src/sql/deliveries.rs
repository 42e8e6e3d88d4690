//! The last steps of the REST Hooks pipeline: deliveries claimed for a while, tried, and retried until
//! delivered or failed; and what the API shows of them.
//!
//! Lock order, so that writers never deadlock on PostgreSQL: a subscription's row before its deliveries'
//! (deleting a subscription locks it, then cascades), and items in id order (see hook_pipeline.rs).

use keygate_core::ids::AccountName;

use super::errors::corrupt;
use super::hooks::unknown;
use super::{BeginWrite, SqlStore};
use crate::{AttemptOutcome, Delivery, DeliveryAttempt, DeliveryStatus, HookStats, Result, StoreError};

/// The columns of [`DeliveryRow`], named rather than `*` (see accounts.rs). `seq` is the creation order.
macro_rules! columns {
    () => {
        "seq, id, hook_key, account, payload, status, attempts, next_attempt_at, created_at, finished_at, \
         last_status_code, last_error"
    };
}

#[derive(sqlx::FromRow)]
struct DeliveryRow {
    seq: i64,
    id: String,
    hook_key: String,
    account: String,
    payload: String,
    status: String,
    attempts: i64,
    next_attempt_at: Option<i64>,
    created_at: i64,
    finished_at: Option<i64>,
    last_status_code: Option<i64>,
    last_error: Option<String>,
}

fn parse_status(s: &str) -> Result<DeliveryStatus> {
    let status = DeliveryStatus::parse(s).ok_or_else(|| unknown(s));
    status.map_err(corrupt("hook_deliveries.status"))
}

impl TryFrom<DeliveryRow> for Delivery {
    type Error = StoreError;
    fn try_from(r: DeliveryRow) -> Result<Self> {
        Ok(Delivery {
            id: r.id,
            hook_key: r.hook_key,
            account: AccountName::parse(&r.account).map_err(corrupt("hook_deliveries.account"))?,
            payload: r.payload,
            status: parse_status(&r.status)?,
            attempts: r.attempts,
            next_attempt_at: r.next_attempt_at,
            created_at: r.created_at,
            finished_at: r.finished_at,
            last_status_code: r.last_status_code,
            last_error: r.last_error,
        })
    }
}

#[derive(sqlx::FromRow)]
struct AttemptRow {
    delivery_id: String,
    number: i64,
    at: i64,
    status_code: Option<i64>,
    latency_ms: i64,
    error: Option<String>,
}

impl From<AttemptRow> for DeliveryAttempt {
    fn from(r: AttemptRow) -> Self {
        DeliveryAttempt {
            delivery_id: r.delivery_id,
            number: r.number,
            at: r.at,
            status_code: r.status_code,
            latency_ms: r.latency_ms,
            error: r.error,
        }
    }
}

pub(super) async fn claim(db: &SqlStore, now: i64, lease: i64, limit: u32) -> Result<Vec<Delivery>> {
    // One statement. On PostgreSQL the subquery skips deliveries another claim holds, and re-checks (and
    // drops) one that a claim committed while it looked; on SQLite the statement holds the write lock.
    let claim = skip_locked!(
        db,
        "UPDATE hook_deliveries SET next_attempt_at = $3 WHERE seq IN (SELECT seq FROM hook_deliveries \
         WHERE status = $1 AND next_attempt_at <= $2 ORDER BY next_attempt_at, seq LIMIT $4",
        ") RETURNING ",
        columns!()
    );
    // Nothing due is the common case: a plain read finds that without taking the write lock.
    let due = dispatch!(db, |pool| {
        sqlx::query_scalar::<_, i64>(
            "SELECT seq FROM hook_deliveries WHERE status = $1 AND next_attempt_at <= $2 LIMIT 1",
        )
        .bind(DeliveryStatus::Pending.as_str())
        .bind(now)
        .fetch_optional(pool)
        .await
    })?;
    if due.is_none() {
        return Ok(Vec::new());
    }
    let mut rows = dispatch!(db, |pool| {
        sqlx::query_as::<_, DeliveryRow>(claim)
            .bind(DeliveryStatus::Pending.as_str())
            .bind(now)
            .bind(now.saturating_add(lease))
            .bind(i64::from(limit))
            .fetch_all(pool)
            .await
    })?;
    rows.sort_by_key(|r| r.seq);
    rows.into_iter().map(Delivery::try_from).collect()
}

pub(super) async fn record_attempt(
    db: &SqlStore,
    attempt: &DeliveryAttempt,
    outcome: AttemptOutcome,
) -> Result<()> {
    let id = attempt.delivery_id.as_str();
    let missing = || StoreError::MissingReference(format!("delivery {id}"));
    let (status, next_attempt_at, finished_at) = match outcome {
        AttemptOutcome::Delivered => (DeliveryStatus::Delivered, None, Some(attempt.at)),
        AttemptOutcome::Retry { at } => (DeliveryStatus::Pending, Some(at), None),
        AttemptOutcome::Failed => (DeliveryStatus::Failed, None, Some(attempt.at)),
    };
    dispatch_write!(db, |pool| {
        let mut tx = pool.begin_write().await?;
        // Locks the subscription, then the delivery.
        let hook = sqlx::query_scalar::<_, String>(
            "UPDATE hooks SET updated_at = updated_at \
             WHERE key = (SELECT hook_key FROM hook_deliveries WHERE id = $1) RETURNING key",
        )
        .bind(id)
        .fetch_optional(&mut *tx)
        .await?;
        let stored = sqlx::query_scalar::<_, String>(
            "UPDATE hook_deliveries SET attempts = attempts WHERE id = $1 RETURNING status",
        )
        .bind(id)
        .fetch_optional(&mut *tx)
        .await?;
        let (Some(hook), Some(stored)) = (hook, stored) else {
            tx.rollback().await?;
            return Err(missing());
        };
        let stored = parse_status(&stored)?;
        // Two nodes may both have tried (the first took longer than its claim): the later one to record
        // is numbered after the last one recorded.
        let last = sqlx::query_scalar::<_, i64>(
            "SELECT COALESCE(MAX(number), 0) FROM hook_attempts WHERE delivery_id = $1",
        )
        .bind(id)
        .fetch_one(&mut *tx)
        .await?;
        let number = attempt.number.max(last.saturating_add(1));
        sqlx::query(
            "INSERT INTO hook_attempts (delivery_id, number, at, status_code, latency_ms, error) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(id)
        .bind(number)
        .bind(attempt.at)
        .bind(attempt.status_code)
        .bind(attempt.latency_ms)
        .bind(attempt.error.as_deref())
        .execute(&mut *tx)
        .await?;
        if stored != DeliveryStatus::Pending {
            // Already delivered or failed (by that other node): the attempt is history, the state stays.
            sqlx::query("UPDATE hook_deliveries SET attempts = $2 WHERE id = $1")
                .bind(id)
                .bind(number)
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            return Ok(());
        }
        sqlx::query(
            "UPDATE hook_deliveries SET attempts = $2, status = $3, next_attempt_at = $4, finished_at = $5, \
             last_status_code = $6, last_error = $7 WHERE id = $1",
        )
        .bind(id)
        .bind(number)
        .bind(status.as_str())
        .bind(next_attempt_at)
        .bind(finished_at)
        .bind(attempt.status_code)
        .bind(attempt.error.as_deref())
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "UPDATE hooks SET failing_since = CASE WHEN $2 THEN NULL ELSE COALESCE(failing_since, $3) END \
             WHERE key = $1",
        )
        .bind(&hook)
        .bind(outcome == AttemptOutcome::Delivered)
        .bind(attempt.at)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    })
}

pub(super) async fn list(
    db: &SqlStore,
    account: &AccountName,
    hook_key: &str,
    limit: u32,
    before: Option<&str>,
) -> Result<Vec<Delivery>> {
    // A `before` that names no delivery of the subscription compares with NULL: an empty page.
    let rows = dispatch!(db, |pool| {
        sqlx::query_as::<_, DeliveryRow>(concat!(
            "SELECT ",
            columns!(),
            " FROM hook_deliveries WHERE account = $1 AND hook_key = $2 AND ($3 IS NULL OR seq < \
             (SELECT seq FROM hook_deliveries WHERE id = $3 AND hook_key = $2)) ORDER BY seq DESC LIMIT $4"
        ))
        .bind(account.as_str())
        .bind(hook_key)
        .bind(before)
        .bind(i64::from(limit))
        .fetch_all(pool)
        .await
    })?;
    rows.into_iter().map(Delivery::try_from).collect()
}

pub(super) async fn get(
    db: &SqlStore,
    account: &AccountName,
    hook_key: &str,
    id: &str,
) -> Result<Option<Delivery>> {
    let row = dispatch!(db, |pool| {
        sqlx::query_as::<_, DeliveryRow>(concat!(
            "SELECT ",
            columns!(),
            " FROM hook_deliveries WHERE account = $1 AND hook_key = $2 AND id = $3"
        ))
        .bind(account.as_str())
        .bind(hook_key)
        .bind(id)
        .fetch_optional(pool)
        .await
    })?;
    row.map(Delivery::try_from).transpose()
}

pub(super) async fn list_attempts(db: &SqlStore, delivery_id: &str) -> Result<Vec<DeliveryAttempt>> {
    let rows = dispatch!(db, |pool| {
        sqlx::query_as::<_, AttemptRow>(
            "SELECT delivery_id, number, at, status_code, latency_ms, error FROM hook_attempts \
             WHERE delivery_id = $1 ORDER BY number",
        )
        .bind(delivery_id)
        .fetch_all(pool)
        .await
    })?;
    Ok(rows.into_iter().map(DeliveryAttempt::from).collect())
}

pub(super) async fn replay(
    db: &SqlStore,
    account: &AccountName,
    hook_key: &str,
    id: &str,
    now: i64,
) -> Result<bool> {
    let replayed = dispatch_write!(db, |pool| {
        sqlx::query(
            "UPDATE hook_deliveries SET status = $4, next_attempt_at = $5, finished_at = NULL \
             WHERE account = $1 AND hook_key = $2 AND id = $3",
        )
        .bind(account.as_str())
        .bind(hook_key)
        .bind(id)
        .bind(DeliveryStatus::Pending.as_str())
        .bind(now)
        .execute(pool)
        .await
        .map(|done| done.rows_affected())
    })?;
    Ok(replayed == 1)
}

pub(super) async fn stats(db: &SqlStore, account: &AccountName, hook_key: &str) -> Result<HookStats> {
    // An item not in a delivery (no joined row) is pending too.
    let (pending, delivered, failed) = dispatch!(db, |pool| {
        sqlx::query_as::<_, (i64, i64, i64)>(
            "SELECT COUNT(CASE WHEN d.id IS NULL OR d.status = $3 THEN 1 END), \
             COUNT(CASE WHEN d.status = $4 THEN 1 END), COUNT(CASE WHEN d.status = $5 THEN 1 END) \
             FROM hook_items i JOIN hooks h ON h.key = i.hook_key \
             LEFT JOIN hook_deliveries d ON d.id = i.delivery_id WHERE h.account = $1 AND h.key = $2",
        )
        .bind(account.as_str())
        .bind(hook_key)
        .bind(DeliveryStatus::Pending.as_str())
        .bind(DeliveryStatus::Delivered.as_str())
        .bind(DeliveryStatus::Failed.as_str())
        .fetch_one(pool)
        .await
    })?;
    let count = |n: i64| u64::try_from(n).unwrap_or_default();
    Ok(HookStats {
        pending: count(pending),
        delivered: count(delivered),
        failed: count(failed),
    })
}
