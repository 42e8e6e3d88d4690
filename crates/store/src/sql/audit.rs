//! The audit log: append-only, listed newest first.

use keygate_core::ids::AccountName;
use keygate_core::model::AuditEvent;

use super::errors::corrupt;
use super::SqlStore;
use crate::{AuditQuery, NewAuditEvent, Result, StoreError};

/// What `limit: 0` asks for.
const DEFAULT_LIMIT: u32 = 100;
/// The most events one listing returns, whatever the query asks.
const MAX_LIMIT: u32 = 1000;

#[derive(sqlx::FromRow)]
struct AuditRow {
    id: i64,
    at: i64,
    account: Option<String>,
    actor: String,
    action: String,
    target: String,
    details: String,
}

impl TryFrom<AuditRow> for AuditEvent {
    type Error = StoreError;
    fn try_from(r: AuditRow) -> Result<Self> {
        let account = r.account.as_deref().map(AccountName::parse).transpose();
        Ok(AuditEvent {
            id: r.id,
            at: r.at,
            account: account.map_err(corrupt("audit_events.account"))?,
            actor: r.actor,
            action: r.action,
            target: r.target,
            details: r.details,
        })
    }
}

pub(super) async fn append(db: &SqlStore, event: &NewAuditEvent) -> Result<AuditEvent> {
    let id = dispatch_write!(db, |pool| {
        sqlx::query_scalar::<_, i64>(
            "INSERT INTO audit_events (at, account, actor, action, target, details) \
             VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
        )
        .bind(event.at)
        .bind(event.account.as_ref().map(AccountName::as_str))
        .bind(&event.actor)
        .bind(&event.action)
        .bind(&event.target)
        .bind(&event.details)
        .fetch_one(pool)
        .await
    })?;
    Ok(AuditEvent {
        id,
        at: event.at,
        account: event.account.clone(),
        actor: event.actor.clone(),
        action: event.action.clone(),
        target: event.target.clone(),
        details: event.details.clone(),
    })
}

/// Newest first. `$1` the id to stay below, `$2` an exact action, `$3` an action prefix, `$4` the limit.
/// Plain conditions on account and id (no `$n IS NULL OR …`), so both backends can walk an index.
const LIST_ALL: &str = "SELECT * FROM audit_events WHERE id < $1 AND ($2 IS NULL OR action = $2) \
     AND ($3 IS NULL OR substr(action, 1, length($3)) = $3) ORDER BY id DESC LIMIT $4";
/// As [`LIST_ALL`], for the account `$5`.
const LIST_ACCOUNT: &str = "SELECT * FROM audit_events WHERE account = $5 AND id < $1 \
     AND ($2 IS NULL OR action = $2) AND ($3 IS NULL OR substr(action, 1, length($3)) = $3) \
     ORDER BY id DESC LIMIT $4";

pub(super) async fn list(db: &SqlStore, query: &AuditQuery) -> Result<Vec<AuditEvent>> {
    // A filter ending in a dot is a prefix. substr, not LIKE: `_` in an action is a LIKE wildcard.
    let (exact, prefix) = match query.action.as_deref() {
        Some(action) if action.ends_with('.') => (None, Some(action)),
        action => (action, None),
    };
    let limit = match query.limit {
        0 => DEFAULT_LIMIT,
        n => n.min(MAX_LIMIT),
    };
    let account = query.account.as_ref().map(AccountName::as_str);
    let sql = if account.is_some() { LIST_ACCOUNT } else { LIST_ALL };
    let rows = dispatch!(db, |pool| {
        let mut q = sqlx::query_as::<_, AuditRow>(sql)
            .bind(query.before.unwrap_or(i64::MAX))
            .bind(exact)
            .bind(prefix)
            .bind(i64::from(limit));
        if let Some(account) = account {
            q = q.bind(account);
        }
        q.fetch_all(pool).await
    })?;
    rows.into_iter().map(AuditEvent::try_from).collect()
}
