//! Grants and their refresh tokens.

use std::future::Future;

use keygate_core::ids::{AccountName, ClientId, UserId};
use keygate_core::model::{AccountStatus, Grant, RefreshToken, UserStatus};
use keygate_core::scope::ScopeSet;

use super::errors::{corrupt, write_error};
use super::group_commit::GroupWrite;
use super::{BeginWrite, Pool, SqlStore};
use crate::{RefreshContext, Result, Rotation, StoreError};

#[derive(sqlx::FromRow)]
struct GrantRow {
    id: String,
    client_id: String,
    account: String,
    user_id: String,
    scope: String,
    created_at: i64,
    revoked_at: Option<i64>,
    revoked_reason: Option<String>,
}

impl TryFrom<GrantRow> for Grant {
    type Error = StoreError;
    fn try_from(r: GrantRow) -> Result<Self> {
        Ok(Grant {
            id: r.id,
            client_id: ClientId::parse(&r.client_id).map_err(corrupt("grants.client_id"))?,
            account: AccountName::parse(&r.account).map_err(corrupt("grants.account"))?,
            user_id: UserId::parse(&r.user_id).map_err(corrupt("grants.user_id"))?,
            scope: ScopeSet::parse(&r.scope).map_err(corrupt("grants.scope"))?,
            created_at: r.created_at,
            revoked_at: r.revoked_at,
            revoked_reason: r.revoked_reason,
        })
    }
}

#[derive(sqlx::FromRow)]
struct RefreshTokenRow {
    token_hash: Vec<u8>,
    grant_id: String,
    scope: String,
    created_at: i64,
    expires_at: i64,
    rotated_at: Option<i64>,
}

impl TryFrom<RefreshTokenRow> for RefreshToken {
    type Error = StoreError;
    fn try_from(r: RefreshTokenRow) -> Result<Self> {
        Ok(RefreshToken {
            token_hash: r.token_hash,
            grant_id: r.grant_id,
            scope: ScopeSet::parse(&r.scope).map_err(corrupt("refresh_tokens.scope"))?,
            created_at: r.created_at,
            expires_at: r.expires_at,
            rotated_at: r.rotated_at,
        })
    }
}

/// Inserts the refresh token `$token` into `$executor`, mapping constraint violations.
macro_rules! insert_refresh_token {
    ($token:expr, $executor:expr) => {
        sqlx::query(
            "INSERT INTO refresh_tokens (token_hash, grant_id, scope, created_at, expires_at, rotated_at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind($token.token_hash.as_slice())
        .bind(&$token.grant_id)
        .bind($token.scope.to_string())
        .bind($token.created_at)
        .bind($token.expires_at)
        .bind($token.rotated_at)
        .execute($executor)
        .await
        .map_err(|e| {
            write_error(
                e,
                "refresh token".to_owned(),
                format!("grant {}", $token.grant_id),
            )
        })
    };
}

pub(super) async fn create(db: &SqlStore, grant: &Grant, first_refresh: Option<&RefreshToken>) -> Result<()> {
    dispatch_write!(db, |pool| {
        let mut tx = pool.begin_write().await?;
        sqlx::query(
            "INSERT INTO grants (id, client_id, account, user_id, scope, created_at, revoked_at, \
             revoked_reason) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(&grant.id)
        .bind(grant.client_id.as_str())
        .bind(grant.account.as_str())
        .bind(grant.user_id.as_str())
        .bind(grant.scope.to_string())
        .bind(grant.created_at)
        .bind(grant.revoked_at)
        .bind(grant.revoked_reason.as_deref())
        .execute(&mut *tx)
        .await
        .map_err(|e| {
            let refs = format!(
                "app {}, account {} or user {}",
                grant.client_id, grant.account, grant.user_id
            );
            write_error(e, format!("grant {}", grant.id), refs)
        })?;
        if let Some(token) = first_refresh {
            insert_refresh_token!(token, &mut *tx)?;
        }
        tx.commit().await?;
        Ok(())
    })
}

pub(super) async fn get(db: &SqlStore, id: &str) -> Result<Option<Grant>> {
    let row = dispatch!(db, |pool| {
        sqlx::query_as::<_, GrantRow>("SELECT * FROM grants WHERE id = $1")
            .bind(id)
            .fetch_optional(pool)
            .await
    })?;
    row.map(Grant::try_from).transpose()
}

pub(super) async fn revoke(db: &SqlStore, id: &str, reason: &str, now: i64) -> Result<bool> {
    let done = dispatch_write!(db, |pool| {
        sqlx::query(
            "UPDATE grants SET revoked_at = $2, revoked_reason = $3 WHERE id = $1 AND revoked_at IS NULL",
        )
        .bind(id)
        .bind(now)
        .bind(reason)
        .execute(pool)
        .await
        .map(|r| r.rows_affected())
    })?;
    Ok(done > 0)
}

pub(super) async fn get_refresh_token(db: &SqlStore, token_hash: &[u8]) -> Result<Option<RefreshToken>> {
    let row = dispatch!(db, |pool| {
        sqlx::query_as::<_, RefreshTokenRow>("SELECT * FROM refresh_tokens WHERE token_hash = $1")
            .bind(token_hash)
            .fetch_optional(pool)
            .await
    })?;
    row.map(RefreshToken::try_from).transpose()
}

/// A grant's row with one of its refresh tokens (its columns renamed, as both tables have `scope` and
/// `created_at`) and the statuses of the grant's account and user.
#[derive(sqlx::FromRow)]
struct RefreshContextRow {
    #[sqlx(flatten)]
    grant: GrantRow,
    refresh_scope: String,
    refresh_created_at: i64,
    refresh_expires_at: i64,
    refresh_rotated_at: Option<i64>,
    account_status: Option<String>,
    user_status: Option<String>,
}

pub(super) async fn get_refresh_context(db: &SqlStore, token_hash: &[u8]) -> Result<Option<RefreshContext>> {
    let row = dispatch!(db, |pool| {
        sqlx::query_as::<_, RefreshContextRow>(
            "SELECT g.id, g.client_id, g.account, g.user_id, g.scope, g.created_at, g.revoked_at, \
                    g.revoked_reason, r.scope AS refresh_scope, r.created_at AS refresh_created_at, \
                    r.expires_at AS refresh_expires_at, r.rotated_at AS refresh_rotated_at, \
                    (SELECT status FROM accounts WHERE accounts.name = g.account) AS account_status, \
                    (SELECT status FROM users WHERE users.id = g.user_id) AS user_status \
             FROM refresh_tokens r JOIN grants g ON g.id = r.grant_id \
             WHERE r.token_hash = $1",
        )
        .bind(token_hash)
        .fetch_optional(pool)
        .await
    })?;
    let Some(r) = row else {
        return Ok(None);
    };
    let token = RefreshToken::try_from(RefreshTokenRow {
        token_hash: token_hash.to_vec(),
        grant_id: r.grant.id.clone(),
        scope: r.refresh_scope,
        created_at: r.refresh_created_at,
        expires_at: r.refresh_expires_at,
        rotated_at: r.refresh_rotated_at,
    })?;
    let account_status = r.account_status.as_deref().map(AccountStatus::parse).transpose();
    let user_status = r.user_status.as_deref().map(UserStatus::parse).transpose();
    Ok(Some(RefreshContext {
        token,
        grant: Grant::try_from(r.grant)?,
        account_status: account_status.map_err(corrupt("accounts.status"))?,
        user_status: user_status.map_err(corrupt("users.status"))?,
    }))
}

pub(super) async fn insert_refresh_token(db: &SqlStore, token: &RefreshToken) -> Result<()> {
    dispatch_write!(db, |pool| insert_refresh_token!(token, pool).map(|_| ()))
}

pub(super) async fn rotate_refresh_token(
    db: &SqlStore,
    old_hash: &[u8],
    successor: &RefreshToken,
    now: i64,
) -> Result<Rotation> {
    let rotation = Rotate {
        old_hash: old_hash.to_vec(),
        successor: successor.clone(),
        now,
    };
    if db.batches.rotations.write(rotation).await? {
        return Ok(Rotation::Rotated);
    }
    Ok(
        match get_refresh_token(db, old_hash).await?.and_then(|t| t.rotated_at) {
            Some(rotated_at) => Rotation::AlreadyRotated { rotated_at },
            None => Rotation::NotFound,
        },
    )
}

/// Refresh-token rotations, committed in groups ([`super::group_commit`]): every refresh makes one.
pub(super) struct Rotations;

pub(super) struct Rotate {
    old_hash: Vec<u8>,
    successor: RefreshToken,
    now: i64,
}

impl GroupWrite for Rotations {
    type Item = Rotate;
    /// Whether this rotation claimed its old token.
    type Written = bool;
    fn write_all<'a>(
        writer: &'a Pool,
        items: &'a [Rotate],
    ) -> impl Future<Output = Result<Vec<bool>>> + Send + 'a {
        rotate_all(writer, items)
    }
}

/// Claims each old token and stores the successor of each one claimed, in one transaction. The
/// conditional update is the claim: a concurrent rotation of the same token, in this batch or another
/// (PostgreSQL: another node's, waiting on the row lock), finds `rotated_at` set and changes nothing.
/// Tokens are claimed in hash order, so two nodes' batches never wait on each other's rows in a cycle.
async fn rotate_all(writer: &Pool, items: &[Rotate]) -> Result<Vec<bool>> {
    let mut order: Vec<usize> = (0..items.len()).collect();
    order.sort_by(|&a, &b| items[a].old_hash.cmp(&items[b].old_hash));
    let mut claimed = vec![false; items.len()];
    on_pool!(writer, |pool| {
        let mut tx = pool.begin_write().await?;
        for i in order {
            let r = &items[i];
            let rows = sqlx::query(
                "UPDATE refresh_tokens SET rotated_at = $2 WHERE token_hash = $1 AND rotated_at IS NULL",
            )
            .bind(r.old_hash.as_slice())
            .bind(r.now)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if rows == 1 {
                insert_refresh_token!(r.successor, &mut *tx)?;
                claimed[i] = true;
            }
        }
        tx.commit().await?;
    });
    Ok(claimed)
}
