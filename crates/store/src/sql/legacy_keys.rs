//! Legacy static keys: looked up by their keyed hash, every use counted.

use keygate_core::ids::{AccountName, LegacyKeyId};
use keygate_core::model::{AccountStatus, KeyStatus, LegacyKey, StoredSecret};

use super::accounts::WithAccountStatus;
use super::errors::{corrupt, violates, write_error};
use super::{BeginWrite, SqlStore};
use crate::{Result, StoreError};

/// The columns of [`LegacyKeyRow`], named rather than `*` so that a column added by a later migration
/// cannot upset a SQLite connection that prepared with the old schema (see accounts.rs).
macro_rules! columns {
    () => {
        "id, account, name, secret_hash, secret_last4, status, use_count, last_used_at, created_at, \
         updated_at, revoked_at"
    };
}

#[derive(sqlx::FromRow)]
struct LegacyKeyRow {
    id: String,
    account: String,
    name: String,
    secret_hash: Vec<u8>,
    secret_last4: String,
    status: String,
    use_count: i64,
    last_used_at: Option<i64>,
    created_at: i64,
    updated_at: i64,
    revoked_at: Option<i64>,
}

impl TryFrom<LegacyKeyRow> for LegacyKey {
    type Error = StoreError;
    fn try_from(r: LegacyKeyRow) -> Result<Self> {
        Ok(LegacyKey {
            id: LegacyKeyId::parse(&r.id).map_err(corrupt("legacy_keys.id"))?,
            account: AccountName::parse(&r.account).map_err(corrupt("legacy_keys.account"))?,
            name: r.name,
            secret: StoredSecret {
                hash: r.secret_hash,
                last4: r.secret_last4,
                expires_at: None,
            },
            status: KeyStatus::parse(&r.status).map_err(corrupt("legacy_keys.status"))?,
            use_count: r.use_count,
            last_used_at: r.last_used_at,
            created_at: r.created_at,
            updated_at: r.updated_at,
            revoked_at: r.revoked_at,
        })
    }
}

pub(super) async fn create(db: &SqlStore, key: &LegacyKey) -> Result<()> {
    dispatch_write!(db, |pool| {
        sqlx::query(
            "INSERT INTO legacy_keys (id, account, name, secret_hash, secret_last4, status, use_count, \
             last_used_at, created_at, updated_at, revoked_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
        )
        .bind(key.id.as_str())
        .bind(key.account.as_str())
        .bind(&key.name)
        .bind(key.secret.hash.as_slice())
        .bind(&key.secret.last4)
        .bind(key.status.as_str())
        .bind(key.use_count)
        .bind(key.last_used_at)
        .bind(key.created_at)
        .bind(key.updated_at)
        .bind(key.revoked_at)
        .execute(pool)
        .await
        .map(|_| ())
    })
    .map_err(|e| {
        let conflict = if violates(&e, "secret_hash") {
            "legacy key with this secret".to_owned()
        } else {
            format!("legacy key {}", key.id)
        };
        write_error(e, conflict, format!("account {}", key.account))
    })
}

pub(super) async fn get(db: &SqlStore, id: &LegacyKeyId) -> Result<Option<LegacyKey>> {
    let row = dispatch!(db, |pool| {
        sqlx::query_as::<_, LegacyKeyRow>(concat!("SELECT ", columns!(), " FROM legacy_keys WHERE id = $1"))
            .bind(id.as_str())
            .fetch_optional(pool)
            .await
    })?;
    row.map(LegacyKey::try_from).transpose()
}

pub(super) async fn find(db: &SqlStore, hash: &[u8]) -> Result<Option<LegacyKey>> {
    let row = dispatch!(db, |pool| {
        sqlx::query_as::<_, LegacyKeyRow>(concat!(
            "SELECT ",
            columns!(),
            " FROM legacy_keys WHERE secret_hash = $1"
        ))
        .bind(hash)
        .fetch_optional(pool)
        .await
    })?;
    row.map(LegacyKey::try_from).transpose()
}

pub(super) async fn find_with_account_status(
    db: &SqlStore,
    hash: &[u8],
) -> Result<Option<(LegacyKey, Option<AccountStatus>)>> {
    // A subquery rather than a join: the key's columns are named bare, and accounts has some of the names.
    let row = dispatch!(db, |pool| {
        sqlx::query_as::<_, WithAccountStatus<LegacyKeyRow>>(concat!(
            "SELECT ",
            columns!(),
            ", (SELECT status FROM accounts WHERE accounts.name = legacy_keys.account) AS account_status \
             FROM legacy_keys WHERE secret_hash = $1"
        ))
        .bind(hash)
        .fetch_optional(pool)
        .await
    })?;
    row.map(WithAccountStatus::into_model).transpose()
}

revocable_key_queries!("legacy_keys", LegacyKeyRow, LegacyKey, LegacyKeyId);

pub(super) async fn record_use(db: &SqlStore, id: &LegacyKeyId, uses: i64, at: i64) -> Result<Option<i64>> {
    // RETURNING shows the row after the update, so the old last_used_at cannot come from the statement
    // that changes it. The first update leaves it alone and returns it; it also locks the row until
    // commit (PostgreSQL waits for a concurrent caller's commit, then works on the row it committed;
    // SQLite's write transaction excludes every other writer), so the second update cannot lose a
    // concurrent caller's time, and no two callers see the same previous value.
    dispatch_write!(db, |pool| {
        let mut tx = pool.begin_write().await?;
        let previous = sqlx::query_scalar::<_, Option<i64>>(
            "UPDATE legacy_keys SET use_count = use_count + $2 WHERE id = $1 RETURNING last_used_at",
        )
        .bind(id.as_str())
        .bind(uses)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(previous) = previous else {
            tx.rollback().await?;
            return Ok(None);
        };
        if previous.is_none_or(|last| last < at) {
            sqlx::query("UPDATE legacy_keys SET last_used_at = $2 WHERE id = $1")
                .bind(id.as_str())
                .bind(at)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(previous)
    })
}
