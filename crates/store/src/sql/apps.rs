use keygate_core::ids::{AccountName, ClientId};
use keygate_core::model::{AccountStatus, App, AppStatus, ClientType, StoredSecret};
use keygate_core::scope::ScopeSet;

use super::accounts::WithAccountStatus;
use super::errors::{corrupt, write_error};
use super::SqlStore;
use crate::{AppPatch, NewApp, Result, StoreError};

#[derive(sqlx::FromRow)]
struct AppRow {
    client_id: String,
    name: String,
    client_type: String,
    owner_account: Option<String>,
    redirect_uris: String,
    allowed_origins: String,
    allowed_scopes: String,
    access_token_ttl: Option<i64>,
    refresh_token_ttl: Option<i64>,
    status: String,
    secret_hash: Option<Vec<u8>>,
    secret_last4: Option<String>,
    previous_secret_hash: Option<Vec<u8>>,
    previous_secret_last4: Option<String>,
    previous_secret_expires_at: Option<i64>,
    created_at: i64,
    updated_at: i64,
}

impl TryFrom<AppRow> for App {
    type Error = StoreError;
    fn try_from(r: AppRow) -> Result<Self> {
        let owner_account = r.owner_account.as_deref().map(AccountName::parse).transpose();
        Ok(App {
            client_id: ClientId::parse(&r.client_id).map_err(corrupt("apps.client_id"))?,
            name: r.name,
            client_type: ClientType::parse(&r.client_type).map_err(corrupt("apps.client_type"))?,
            owner_account: owner_account.map_err(corrupt("apps.owner_account"))?,
            redirect_uris: serde_json::from_str(&r.redirect_uris).map_err(corrupt("apps.redirect_uris"))?,
            allowed_origins: serde_json::from_str(&r.allowed_origins)
                .map_err(corrupt("apps.allowed_origins"))?,
            allowed_scopes: ScopeSet::parse(&r.allowed_scopes).map_err(corrupt("apps.allowed_scopes"))?,
            access_token_ttl: r.access_token_ttl,
            refresh_token_ttl: r.refresh_token_ttl,
            status: AppStatus::parse(&r.status).map_err(corrupt("apps.status"))?,
            secret: r.secret_hash.map(|hash| StoredSecret {
                hash,
                last4: r.secret_last4.unwrap_or_default(),
                expires_at: None,
            }),
            previous_secret: r.previous_secret_hash.map(|hash| StoredSecret {
                hash,
                last4: r.previous_secret_last4.unwrap_or_default(),
                expires_at: r.previous_secret_expires_at,
            }),
            created_at: r.created_at,
            updated_at: r.updated_at,
        })
    }
}

pub(super) fn json_list(list: &[String]) -> String {
    serde_json::Value::from(list).to_string()
}

pub(super) async fn create(db: &SqlStore, new: &NewApp, now: i64) -> Result<App> {
    let row = dispatch_write!(db, |pool| {
        sqlx::query_as::<_, AppRow>(
            "INSERT INTO apps (client_id, name, client_type, owner_account, redirect_uris, allowed_origins, \
             allowed_scopes, access_token_ttl, refresh_token_ttl, status, secret_hash, secret_last4, \
             created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $13) RETURNING *",
        )
        .bind(new.client_id.as_str())
        .bind(&new.name)
        .bind(new.client_type.as_str())
        .bind(new.owner_account.as_ref().map(AccountName::as_str))
        .bind(json_list(&new.redirect_uris))
        .bind(json_list(&new.allowed_origins))
        .bind(new.allowed_scopes.to_string())
        .bind(new.access_token_ttl)
        .bind(new.refresh_token_ttl)
        .bind(AppStatus::Active.as_str())
        .bind(new.secret.as_ref().map(|s| s.hash.as_slice()))
        .bind(new.secret.as_ref().map(|s| s.last4.as_str()))
        .bind(now)
        .fetch_one(pool)
        .await
    })
    .map_err(|e| {
        let owner = new.owner_account.as_ref().map_or("", AccountName::as_str);
        write_error(e, format!("app {}", new.client_id), format!("account {owner}"))
    })?;
    row.try_into()
}

pub(super) async fn get(db: &SqlStore, client_id: &ClientId) -> Result<Option<App>> {
    let row = dispatch!(db, |pool| {
        sqlx::query_as::<_, AppRow>("SELECT * FROM apps WHERE client_id = $1")
            .bind(client_id.as_str())
            .fetch_optional(pool)
            .await
    })?;
    row.map(App::try_from).transpose()
}

pub(super) async fn get_with_owner_status(
    db: &SqlStore,
    client_id: &ClientId,
) -> Result<Option<(App, Option<AccountStatus>)>> {
    let row = dispatch!(db, |pool| {
        sqlx::query_as::<_, WithAccountStatus<AppRow>>(
            "SELECT apps.*, owner.status AS account_status FROM apps \
             LEFT JOIN accounts owner ON owner.name = apps.owner_account WHERE apps.client_id = $1",
        )
        .bind(client_id.as_str())
        .fetch_optional(pool)
        .await
    })?;
    row.map(WithAccountStatus::into_model).transpose()
}

pub(super) async fn list(db: &SqlStore, owner: Option<&AccountName>) -> Result<Vec<App>> {
    let rows = dispatch!(db, |pool| {
        sqlx::query_as::<_, AppRow>(
            "SELECT * FROM apps WHERE $1 IS NULL OR owner_account = $1 ORDER BY created_at, client_id",
        )
        .bind(owner.map(AccountName::as_str))
        .fetch_all(pool)
        .await
    })?;
    rows.into_iter().map(App::try_from).collect()
}

pub(super) async fn update(
    db: &SqlStore,
    client_id: &ClientId,
    patch: &AppPatch,
    now: i64,
) -> Result<Option<App>> {
    // The TTLs can be cleared, so COALESCE cannot tell "leave" from "set to NULL": a flag says which.
    let row = dispatch_write!(db, |pool| {
        sqlx::query_as::<_, AppRow>(
            "UPDATE apps SET name = COALESCE($2, name), redirect_uris = COALESCE($3, redirect_uris), \
             allowed_origins = COALESCE($4, allowed_origins), allowed_scopes = COALESCE($5, allowed_scopes), \
             access_token_ttl = CASE WHEN $6 THEN $7 ELSE access_token_ttl END, \
             refresh_token_ttl = CASE WHEN $8 THEN $9 ELSE refresh_token_ttl END, \
             status = COALESCE($10, status), updated_at = $11 WHERE client_id = $1 RETURNING *",
        )
        .bind(client_id.as_str())
        .bind(patch.name.as_deref())
        .bind(patch.redirect_uris.as_deref().map(json_list))
        .bind(patch.allowed_origins.as_deref().map(json_list))
        .bind(patch.allowed_scopes.as_ref().map(ScopeSet::to_string))
        .bind(patch.access_token_ttl.is_some())
        .bind(patch.access_token_ttl.flatten())
        .bind(patch.refresh_token_ttl.is_some())
        .bind(patch.refresh_token_ttl.flatten())
        .bind(patch.status.map(AppStatus::as_str))
        .bind(now)
        .fetch_optional(pool)
        .await
    })?;
    row.map(App::try_from).transpose()
}

pub(super) async fn replace_secret(
    db: &SqlStore,
    client_id: &ClientId,
    secret: &StoredSecret,
    previous_expires_at: Option<i64>,
    now: i64,
) -> Result<Option<App>> {
    // Assignments all read the row as it was, so the old current secret is still in secret_* here.
    let row = dispatch_write!(db, |pool| {
        sqlx::query_as::<_, AppRow>(
            "UPDATE apps SET \
             previous_secret_hash = CASE WHEN $4 IS NULL THEN NULL ELSE secret_hash END, \
             previous_secret_last4 = CASE WHEN $4 IS NULL THEN NULL ELSE secret_last4 END, \
             previous_secret_expires_at = CASE WHEN secret_hash IS NULL THEN NULL ELSE $4 END, \
             secret_hash = $2, secret_last4 = $3, updated_at = $5 WHERE client_id = $1 RETURNING *",
        )
        .bind(client_id.as_str())
        .bind(secret.hash.as_slice())
        .bind(&secret.last4)
        .bind(previous_expires_at)
        .bind(now)
        .fetch_optional(pool)
        .await
    })?;
    row.map(App::try_from).transpose()
}
