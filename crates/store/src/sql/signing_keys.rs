use keygate_core::model::{KeyState, SigningAlgorithm, SigningKeyRecord};

use super::errors::{corrupt, is_unique_violation, write_error};
use super::{BeginWrite, SqlStore};
use crate::{Result, StoreError};

#[derive(sqlx::FromRow)]
struct SigningKeyRow {
    kid: String,
    algorithm: String,
    state: String,
    public_jwk: String,
    sealed_private_key: Option<Vec<u8>>,
    created_at: i64,
    activated_at: Option<i64>,
    retired_at: Option<i64>,
    publish_until: Option<i64>,
}

impl TryFrom<SigningKeyRow> for SigningKeyRecord {
    type Error = StoreError;
    fn try_from(r: SigningKeyRow) -> Result<Self> {
        Ok(SigningKeyRecord {
            kid: r.kid,
            algorithm: SigningAlgorithm::parse(&r.algorithm).map_err(corrupt("signing_keys.algorithm"))?,
            state: KeyState::parse(&r.state).map_err(corrupt("signing_keys.state"))?,
            public_jwk: r.public_jwk,
            sealed_private_key: r.sealed_private_key,
            created_at: r.created_at,
            activated_at: r.activated_at,
            retired_at: r.retired_at,
            publish_until: r.publish_until,
        })
    }
}

/// Inserts `$key`; unless `$even_if_not_empty`, only into an empty table (then 0 rows are affected).
macro_rules! insert_key {
    ($key:expr, $even_if_not_empty:expr) => {
        sqlx::query(
            "INSERT INTO signing_keys (kid, algorithm, state, public_jwk, sealed_private_key, created_at, \
             activated_at, retired_at, publish_until) SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9 \
             WHERE $10 OR NOT EXISTS (SELECT 1 FROM signing_keys)",
        )
        .bind(&$key.kid)
        .bind($key.algorithm.as_str())
        .bind($key.state.as_str())
        .bind(&$key.public_jwk)
        .bind($key.sealed_private_key.as_deref())
        .bind($key.created_at)
        .bind($key.activated_at)
        .bind($key.retired_at)
        .bind($key.publish_until)
        .bind($even_if_not_empty)
    };
}

pub(super) async fn list(db: &SqlStore) -> Result<Vec<SigningKeyRecord>> {
    let rows = dispatch!(db, |pool| {
        sqlx::query_as::<_, SigningKeyRow>("SELECT * FROM signing_keys ORDER BY created_at, kid")
            .fetch_all(pool)
            .await
    })?;
    rows.into_iter().map(SigningKeyRecord::try_from).collect()
}

pub(super) async fn bootstrap(db: &SqlStore, keys: &[SigningKeyRecord]) -> Result<bool> {
    // The first insert is conditional on an empty table. On SQLite the write lock serialises bootstraps,
    // so the loser sees the winner's rows; on PostgreSQL both may see an empty table, and the loser then
    // blocks on the winner's uncommitted 'current' (or 'next') row and fails on the partial unique index.
    dispatch_write!(db, |pool| {
        let mut tx = pool.begin_write().await?;
        for (i, key) in keys.iter().enumerate() {
            let inserted = match insert_key!(key, i > 0).execute(&mut *tx).await {
                Ok(done) => done.rows_affected() == 1,
                Err(e) if is_unique_violation(&e) => false,
                Err(e) => return Err(e.into()),
            };
            if !inserted {
                tx.rollback().await?;
                return Ok(false);
            }
        }
        tx.commit().await?;
        Ok(!keys.is_empty())
    })
}

pub(super) async fn rotate(
    db: &SqlStore,
    current_kid: &str,
    next_kid: &str,
    new_next: &SigningKeyRecord,
    publish_until: i64,
    now: i64,
) -> Result<bool> {
    // Retire before promoting, and promote before inserting, so the one-current and one-next indexes
    // hold after every statement. The state conditions make a concurrent rotation touch no rows.
    dispatch_write!(db, |pool| {
        let mut tx = pool.begin_write().await?;
        let retired = sqlx::query(
            "UPDATE signing_keys SET state = 'retired', sealed_private_key = NULL, retired_at = $2, \
             publish_until = $3 WHERE kid = $1 AND state = 'current'",
        )
        .bind(current_kid)
        .bind(now)
        .bind(publish_until)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        let promoted = if retired == 1 {
            sqlx::query(
                "UPDATE signing_keys SET state = 'current', activated_at = $2 \
                 WHERE kid = $1 AND state = 'next'",
            )
            .bind(next_kid)
            .bind(now)
            .execute(&mut *tx)
            .await?
            .rows_affected()
        } else {
            0
        };
        if promoted != 1 {
            tx.rollback().await?;
            return Ok(false);
        }
        insert_key!(new_next, true)
            .execute(&mut *tx)
            .await
            .map_err(|e| write_error(e, format!("signing key {}", new_next.kid), String::new()))?;
        tx.commit().await?;
        Ok(true)
    })
}
