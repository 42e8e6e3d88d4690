//! Domain keys, and the origins browsers may call from.

use std::collections::BTreeSet;

use keygate_core::ids::{AccountName, ApiKeyId, DomainKeyId};
use keygate_core::model::{AppStatus, DomainKey, KeyStatus};
use keygate_core::scope::ScopeSet;

use super::apps::json_list;
use super::errors::{corrupt, write_error};
use super::SqlStore;
use crate::{Result, StoreError};

/// The columns of [`DomainKeyRow`], named rather than `*` so that a column added by a later migration
/// cannot upset a SQLite connection that prepared with the old schema (see api_keys.rs).
macro_rules! columns {
    () => {
        "id, account, api_key_id, name, origins, scopes, status, created_at, updated_at, revoked_at"
    };
}

#[derive(sqlx::FromRow)]
struct DomainKeyRow {
    id: String,
    account: String,
    api_key_id: String,
    name: String,
    origins: String,
    scopes: String,
    status: String,
    created_at: i64,
    updated_at: i64,
    revoked_at: Option<i64>,
}

impl TryFrom<DomainKeyRow> for DomainKey {
    type Error = StoreError;
    fn try_from(r: DomainKeyRow) -> Result<Self> {
        Ok(DomainKey {
            id: DomainKeyId::parse(&r.id).map_err(corrupt("domain_keys.id"))?,
            account: AccountName::parse(&r.account).map_err(corrupt("domain_keys.account"))?,
            api_key_id: ApiKeyId::parse(&r.api_key_id).map_err(corrupt("domain_keys.api_key_id"))?,
            name: r.name,
            origins: serde_json::from_str(&r.origins).map_err(corrupt("domain_keys.origins"))?,
            scopes: ScopeSet::parse(&r.scopes).map_err(corrupt("domain_keys.scopes"))?,
            status: KeyStatus::parse(&r.status).map_err(corrupt("domain_keys.status"))?,
            created_at: r.created_at,
            updated_at: r.updated_at,
            revoked_at: r.revoked_at,
        })
    }
}

pub(super) async fn create(db: &SqlStore, key: &DomainKey) -> Result<()> {
    // The (api_key_id, account) foreign key refuses an API key of another account like a missing one.
    dispatch_write!(db, |pool| {
        sqlx::query(
            "INSERT INTO domain_keys (id, account, api_key_id, name, origins, scopes, status, created_at, \
             updated_at, revoked_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .bind(key.id.as_str())
        .bind(key.account.as_str())
        .bind(key.api_key_id.as_str())
        .bind(&key.name)
        .bind(json_list(&key.origins))
        .bind(key.scopes.to_string())
        .bind(key.status.as_str())
        .bind(key.created_at)
        .bind(key.updated_at)
        .bind(key.revoked_at)
        .execute(pool)
        .await
        .map(|_| ())
    })
    .map_err(|e| {
        write_error(
            e,
            format!("domain key {}", key.id),
            format!(
                "account {} or api key {} in that account",
                key.account, key.api_key_id
            ),
        )
    })
}

pub(super) async fn get(db: &SqlStore, id: &DomainKeyId) -> Result<Option<DomainKey>> {
    let row = dispatch!(db, |pool| {
        sqlx::query_as::<_, DomainKeyRow>(concat!("SELECT ", columns!(), " FROM domain_keys WHERE id = $1"))
            .bind(id.as_str())
            .fetch_optional(pool)
            .await
    })?;
    row.map(DomainKey::try_from).transpose()
}

revocable_key_queries!("domain_keys", DomainKeyRow, DomainKey, DomainKeyId);

/// One stored JSON list of origins, and the column it came from (for a corrupt-row error).
#[derive(sqlx::FromRow)]
struct OriginsRow {
    source: String,
    origins: String,
}

pub(super) async fn allowed_origin_patterns(db: &SqlStore) -> Result<Vec<String>> {
    // The lists are decoded here rather than with either database's JSON functions; UNION already drops
    // identical lists.
    let rows = dispatch!(db, |pool| {
        sqlx::query_as::<_, OriginsRow>(
            "SELECT 'apps.allowed_origins' AS source, allowed_origins AS origins FROM apps \
             WHERE status = $1 \
             UNION \
             SELECT 'domain_keys.origins', d.origins FROM domain_keys d \
             JOIN api_keys k ON k.id = d.api_key_id WHERE d.status = $2 AND k.status = $2",
        )
        .bind(AppStatus::Active.as_str())
        .bind(KeyStatus::Active.as_str())
        .fetch_all(pool)
        .await
    })?;
    let mut patterns = BTreeSet::new();
    for row in rows {
        let list: Vec<String> = serde_json::from_str(&row.origins)
            .map_err(|e| StoreError::Corrupt(format!("{}: {e}", row.source)))?;
        patterns.extend(list);
    }
    Ok(patterns.into_iter().collect())
}
