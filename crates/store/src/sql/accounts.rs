use keygate_core::ids::AccountName;
use keygate_core::model::{Account, AccountStatus, RateLimit};

use super::errors::{corrupt, write_error};
use super::SqlStore;
use crate::{AccountPatch, NewAccount, Result, StoreError};

/// The columns of [`AccountRow`], named rather than `*`: accounts gained a column in 0004, and a SQLite
/// connection that loaded the schema before another connection migrated prepares `*` with the old
/// columns, then steps with the new ones, which sqlx-sqlite does not survive.
macro_rules! columns {
    () => {
        "name, display_name, status, basic_auth, rate_limit_per_minute, rate_limit_burst, created_at, updated_at"
    };
}

#[derive(sqlx::FromRow)]
struct AccountRow {
    name: String,
    display_name: String,
    status: String,
    basic_auth: i64,
    rate_limit_per_minute: Option<i64>,
    rate_limit_burst: Option<i64>,
    created_at: i64,
    updated_at: i64,
}

impl TryFrom<AccountRow> for Account {
    type Error = StoreError;
    fn try_from(r: AccountRow) -> Result<Self> {
        Ok(Account {
            name: AccountName::parse(&r.name).map_err(corrupt("accounts.name"))?,
            display_name: r.display_name,
            status: AccountStatus::parse(&r.status).map_err(corrupt("accounts.status"))?,
            basic_auth: r.basic_auth != 0,
            rate_limit: match (r.rate_limit_per_minute, r.rate_limit_burst) {
                (Some(per_minute), Some(burst)) => Some(RateLimit {
                    per_minute: u32::try_from(per_minute)
                        .map_err(corrupt("accounts.rate_limit_per_minute"))?,
                    burst: u32::try_from(burst).map_err(corrupt("accounts.rate_limit_burst"))?,
                }),
                _ => None,
            },
            created_at: r.created_at,
            updated_at: r.updated_at,
        })
    }
}

/// A row of a credential's table with the status of the credential's account, selected beside it as
/// `account_status` (`NULL` when there is no account).
#[derive(sqlx::FromRow)]
pub(super) struct WithAccountStatus<Credential> {
    #[sqlx(flatten)]
    row: Credential,
    account_status: Option<String>,
}

impl<Credential> WithAccountStatus<Credential> {
    pub(super) fn into_model<M: TryFrom<Credential, Error = StoreError>>(
        self,
    ) -> Result<(M, Option<AccountStatus>)> {
        let status = self
            .account_status
            .as_deref()
            .map(AccountStatus::parse)
            .transpose();
        Ok((
            M::try_from(self.row)?,
            status.map_err(corrupt("accounts.status"))?,
        ))
    }
}

pub(super) async fn create(db: &SqlStore, new: &NewAccount, now: i64) -> Result<Account> {
    // Basic auth starts switched off: the column's default.
    let row = dispatch_write!(db, |pool| {
        sqlx::query_as::<_, AccountRow>(concat!(
            "INSERT INTO accounts (name, display_name, status, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $4) RETURNING ",
            columns!()
        ))
        .bind(new.name.as_str())
        .bind(&new.display_name)
        .bind(AccountStatus::Active.as_str())
        .bind(now)
        .fetch_one(pool)
        .await
    })
    .map_err(|e| write_error(e, format!("account {}", new.name), String::new()))?;
    row.try_into()
}

pub(super) async fn get(db: &SqlStore, name: &AccountName) -> Result<Option<Account>> {
    let row = dispatch!(db, |pool| {
        sqlx::query_as::<_, AccountRow>(concat!("SELECT ", columns!(), " FROM accounts WHERE name = $1"))
            .bind(name.as_str())
            .fetch_optional(pool)
            .await
    })?;
    row.map(Account::try_from).transpose()
}

pub(super) async fn list(db: &SqlStore) -> Result<Vec<Account>> {
    let rows = dispatch!(db, |pool| {
        sqlx::query_as::<_, AccountRow>(concat!("SELECT ", columns!(), " FROM accounts ORDER BY name"))
            .fetch_all(pool)
            .await
    })?;
    rows.into_iter().map(Account::try_from).collect()
}

pub(super) async fn update(
    db: &SqlStore,
    name: &AccountName,
    patch: &AccountPatch,
    now: i64,
) -> Result<Option<Account>> {
    let limit = patch.rate_limit.flatten();
    let row = dispatch_write!(db, |pool| {
        sqlx::query_as::<_, AccountRow>(concat!(
            "UPDATE accounts SET display_name = COALESCE($2, display_name), status = COALESCE($3, status), \
                          basic_auth = COALESCE($4, basic_auth), \
             rate_limit_per_minute = CASE WHEN $6 THEN $7 ELSE rate_limit_per_minute END, \
             rate_limit_burst = CASE WHEN $6 THEN $8 ELSE rate_limit_burst END, \
             updated_at = $5 WHERE name = $1 RETURNING ",
            columns!()
        ))
        .bind(name.as_str())
        .bind(patch.display_name.as_deref())
        .bind(patch.status.map(AccountStatus::as_str))
        .bind(patch.basic_auth.map(i64::from))
        .bind(now)
        .bind(patch.rate_limit.is_some())
        .bind(limit.map(|l| i64::from(l.per_minute)))
        .bind(limit.map(|l| i64::from(l.burst)))
        .fetch_optional(pool)
        .await
    })?;
    row.map(Account::try_from).transpose()
}

/// Accounts with a rate limit of their own, for the nodes' in-memory limiters.
pub(super) async fn rate_limit_overrides(db: &SqlStore) -> Result<Vec<(AccountName, RateLimit)>> {
    let rows = dispatch!(db, |pool| {
        sqlx::query_as::<_, AccountRow>(concat!(
            "SELECT ",
            columns!(),
            " FROM accounts WHERE rate_limit_per_minute IS NOT NULL ORDER BY name"
        ))
        .fetch_all(pool)
        .await
    })?;
    rows.into_iter()
        .map(Account::try_from)
        .filter_map(|a| a.map(|a| a.rate_limit.map(|l| (a.name, l))).transpose())
        .collect()
}
