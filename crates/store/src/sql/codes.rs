use keygate_core::ids::{AccountName, ClientId, UserId};
use keygate_core::model::AuthorizationCode;
use keygate_core::scope::ScopeSet;

use super::errors::{corrupt, write_error};
use super::SqlStore;
use crate::{CodeRedemption, Result, StoreError};

#[derive(sqlx::FromRow)]
struct CodeRow {
    code_hash: Vec<u8>,
    client_id: String,
    account: String,
    user_id: String,
    redirect_uri: String,
    redirect_uri_explicit: i64,
    scope: String,
    code_challenge: Option<String>,
    grant_id: String,
    expires_at: i64,
    consumed_at: Option<i64>,
}

impl TryFrom<CodeRow> for AuthorizationCode {
    type Error = StoreError;
    fn try_from(r: CodeRow) -> Result<Self> {
        Ok(AuthorizationCode {
            code_hash: r.code_hash,
            client_id: ClientId::parse(&r.client_id).map_err(corrupt("authorization_codes.client_id"))?,
            account: AccountName::parse(&r.account).map_err(corrupt("authorization_codes.account"))?,
            user_id: UserId::parse(&r.user_id).map_err(corrupt("authorization_codes.user_id"))?,
            redirect_uri: r.redirect_uri,
            redirect_uri_explicit: r.redirect_uri_explicit != 0,
            scope: ScopeSet::parse(&r.scope).map_err(corrupt("authorization_codes.scope"))?,
            code_challenge: r.code_challenge,
            grant_id: r.grant_id,
            expires_at: r.expires_at,
            consumed_at: r.consumed_at,
        })
    }
}

pub(super) async fn insert(db: &SqlStore, code: &AuthorizationCode) -> Result<()> {
    dispatch_write!(db, |pool| {
        sqlx::query(
            "INSERT INTO authorization_codes (code_hash, client_id, account, user_id, redirect_uri, \
             redirect_uri_explicit, scope, code_challenge, grant_id, expires_at, consumed_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
        )
        .bind(code.code_hash.as_slice())
        .bind(code.client_id.as_str())
        .bind(code.account.as_str())
        .bind(code.user_id.as_str())
        .bind(&code.redirect_uri)
        .bind(i64::from(code.redirect_uri_explicit))
        .bind(code.scope.to_string())
        .bind(code.code_challenge.as_deref())
        .bind(&code.grant_id)
        .bind(code.expires_at)
        .bind(code.consumed_at)
        .execute(pool)
        .await
        .map(|_| ())
    })
    .map_err(|e| {
        let refs = format!(
            "app {}, account {} or user {}",
            code.client_id, code.account, code.user_id
        );
        write_error(e, "authorization code".to_owned(), refs)
    })
}

pub(super) async fn redeem(db: &SqlStore, code_hash: &[u8], now: i64) -> Result<CodeRedemption> {
    // One conditional statement claims the code, so of two concurrent redemptions exactly one wins.
    let claimed = dispatch_write!(db, |pool| {
        sqlx::query_as::<_, CodeRow>(
            "UPDATE authorization_codes SET consumed_at = $2 \
             WHERE code_hash = $1 AND consumed_at IS NULL AND expires_at > $2 RETURNING *",
        )
        .bind(code_hash)
        .bind(now)
        .fetch_optional(pool)
        .await
    })?;
    if let Some(row) = claimed {
        return Ok(CodeRedemption::Redeemed(row.try_into()?));
    }
    let existing = dispatch!(db, |pool| {
        sqlx::query_as::<_, CodeRow>("SELECT * FROM authorization_codes WHERE code_hash = $1")
            .bind(code_hash)
            .fetch_optional(pool)
            .await
    })?;
    match existing {
        // Consumed codes are replays even past their expiry: purge keeps them a day for this.
        Some(row) if row.consumed_at.is_some() => Ok(CodeRedemption::Replayed(row.try_into()?)),
        _ => Ok(CodeRedemption::NotFound),
    }
}
