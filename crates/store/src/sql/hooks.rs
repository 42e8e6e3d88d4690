//! REST Hook subscriptions: an account's hooks, each on one event key. Deleting one takes its items,
//! deliveries and attempts with it (the schema's `ON DELETE CASCADE`).

use keygate_core::ids::AccountName;

use super::errors::{corrupt, write_error};
use super::SqlStore;
use crate::{Hook, HookPatch, HookStatus, Result, StoreError};

/// The columns of [`HookRow`], named rather than `*` (see accounts.rs).
macro_rules! hook_columns {
    () => {
        "key, account, event_key, hook_url, status, secret_sealed, previous_secret_sealed, \
         previous_secret_expires_at, failing_since, created_at, updated_at"
    };
}
pub(super) use hook_columns;

#[derive(sqlx::FromRow)]
pub(super) struct HookRow {
    key: String,
    account: String,
    event_key: String,
    hook_url: String,
    status: String,
    secret_sealed: Vec<u8>,
    previous_secret_sealed: Option<Vec<u8>>,
    previous_secret_expires_at: Option<i64>,
    failing_since: Option<i64>,
    created_at: i64,
    updated_at: i64,
}

/// Why a stored enum value did not parse, for [`corrupt`].
pub(super) fn unknown(value: &str) -> String {
    format!("unknown value {value:?}")
}

impl TryFrom<HookRow> for Hook {
    type Error = StoreError;
    fn try_from(r: HookRow) -> Result<Self> {
        let status = HookStatus::parse(&r.status).ok_or_else(|| unknown(&r.status));
        Ok(Hook {
            key: r.key,
            account: AccountName::parse(&r.account).map_err(corrupt("hooks.account"))?,
            event_key: r.event_key,
            hook_url: r.hook_url,
            status: status.map_err(corrupt("hooks.status"))?,
            secret_sealed: r.secret_sealed,
            previous_secret_sealed: r.previous_secret_sealed,
            previous_secret_expires_at: r.previous_secret_expires_at,
            failing_since: r.failing_since,
            created_at: r.created_at,
            updated_at: r.updated_at,
        })
    }
}

pub(super) async fn create(db: &SqlStore, hook: &Hook) -> Result<()> {
    dispatch_write!(db, |pool| {
        sqlx::query(
            "INSERT INTO hooks (key, account, event_key, hook_url, status, secret_sealed, \
             previous_secret_sealed, previous_secret_expires_at, failing_since, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
        )
        .bind(&hook.key)
        .bind(hook.account.as_str())
        .bind(&hook.event_key)
        .bind(&hook.hook_url)
        .bind(hook.status.as_str())
        .bind(hook.secret_sealed.as_slice())
        .bind(hook.previous_secret_sealed.as_deref())
        .bind(hook.previous_secret_expires_at)
        .bind(hook.failing_since)
        .bind(hook.created_at)
        .bind(hook.updated_at)
        .execute(pool)
        .await
        .map(|_| ())
    })
    .map_err(|e| {
        write_error(
            e,
            format!("hook {}", hook.key),
            format!("account {}", hook.account),
        )
    })?;
    Ok(())
}

pub(super) async fn get(db: &SqlStore, account: &AccountName, key: &str) -> Result<Option<Hook>> {
    let row = dispatch!(db, |pool| {
        sqlx::query_as::<_, HookRow>(concat!(
            "SELECT ",
            hook_columns!(),
            " FROM hooks WHERE account = $1 AND key = $2"
        ))
        .bind(account.as_str())
        .bind(key)
        .fetch_optional(pool)
        .await
    })?;
    row.map(Hook::try_from).transpose()
}

pub(super) async fn list(db: &SqlStore, account: &AccountName) -> Result<Vec<Hook>> {
    let rows = dispatch!(db, |pool| {
        sqlx::query_as::<_, HookRow>(concat!(
            "SELECT ",
            hook_columns!(),
            " FROM hooks WHERE account = $1 ORDER BY created_at, key"
        ))
        .bind(account.as_str())
        .fetch_all(pool)
        .await
    })?;
    rows.into_iter().map(Hook::try_from).collect()
}

pub(super) async fn update(
    db: &SqlStore,
    account: &AccountName,
    key: &str,
    patch: &HookPatch,
    now: i64,
) -> Result<Option<Hook>> {
    // A rotation sets all three secret columns; `failing_since` can be cleared, so a flag tells "leave"
    // from "set to NULL" (as in apps.rs).
    let rotation = patch.rotate_secret.as_ref();
    let row = dispatch_write!(db, |pool| {
        sqlx::query_as::<_, HookRow>(concat!(
            "UPDATE hooks SET hook_url = COALESCE($3, hook_url), status = COALESCE($4, status), \
             secret_sealed = CASE WHEN $5 THEN $6 ELSE secret_sealed END, \
             previous_secret_sealed = CASE WHEN $5 THEN $7 ELSE previous_secret_sealed END, \
             previous_secret_expires_at = CASE WHEN $5 THEN $8 ELSE previous_secret_expires_at END, \
             failing_since = CASE WHEN $9 THEN $10 ELSE failing_since END, updated_at = $11 \
             WHERE account = $1 AND key = $2 RETURNING ",
            hook_columns!()
        ))
        .bind(account.as_str())
        .bind(key)
        .bind(patch.hook_url.as_deref())
        .bind(patch.status.map(HookStatus::as_str))
        .bind(rotation.is_some())
        .bind(rotation.map(|(new, _, _)| new.as_slice()))
        .bind(rotation.map(|(_, old, _)| old.as_slice()))
        .bind(rotation.map(|(_, _, until)| *until))
        .bind(patch.failing_since.is_some())
        .bind(patch.failing_since.flatten())
        .bind(now)
        .fetch_optional(pool)
        .await
    })?;
    row.map(Hook::try_from).transpose()
}

pub(super) async fn delete(db: &SqlStore, account: &AccountName, key: &str) -> Result<bool> {
    // One statement: it locks the hook before its children (the order record_attempt takes them in), and
    // the cascade removes the items, deliveries and attempts. SQLite cascades too: `connect` turns
    // foreign keys on for every connection.
    let deleted = dispatch_write!(db, |pool| {
        sqlx::query("DELETE FROM hooks WHERE account = $1 AND key = $2")
            .bind(account.as_str())
            .bind(key)
            .execute(pool)
            .await
            .map(|done| done.rows_affected())
    })?;
    Ok(deleted == 1)
}
