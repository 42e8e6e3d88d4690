//! Sign-in sessions of the developer portal, found by the keyed hash of their cookie's token.

use super::errors::write_error;
use super::SqlStore;
use crate::{PortalSession, Result};

pub(super) async fn create(db: &SqlStore, s: &PortalSession) -> Result<()> {
    dispatch_write!(db, |pool| {
        sqlx::query(
            "INSERT INTO portal_sessions (id_hash, id, user_id, account, created_at, last_seen_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(s.id_hash.as_slice())
        .bind(&s.id)
        .bind(&s.user_id)
        .bind(&s.account)
        .bind(s.created_at)
        .bind(s.last_seen_at)
        .bind(s.expires_at)
        .execute(pool)
        .await
        .map(|_| ())
    })
    .map_err(|e| write_error(e, "portal session".to_owned(), format!("user {}", s.user_id)))?;
    Ok(())
}

/// The session, if it is still live at `now` given the idle timeout; a live one is marked as seen.
pub(super) async fn touch(
    db: &SqlStore,
    id_hash: &[u8],
    now: i64,
    idle_timeout: i64,
) -> Result<Option<PortalSession>> {
    // One statement decides liveness and records the use, so two nodes cannot disagree about it.
    let found = dispatch_write!(db, |pool| {
        sqlx::query_as::<_, PortalSession>(
            "UPDATE portal_sessions SET last_seen_at = $2 \
             WHERE id_hash = $1 AND expires_at > $2 AND last_seen_at > $3 \
             RETURNING id_hash, id, user_id, account, created_at, last_seen_at, expires_at",
        )
        .bind(id_hash)
        .bind(now)
        .bind(now - idle_timeout)
        .fetch_optional(pool)
        .await
    })?;
    Ok(found)
}

pub(super) async fn delete(db: &SqlStore, id_hash: &[u8]) -> Result<bool> {
    let n = dispatch_write!(db, |pool| {
        sqlx::query("DELETE FROM portal_sessions WHERE id_hash = $1")
            .bind(id_hash)
            .execute(pool)
            .await
            .map(|r| r.rows_affected())
    })?;
    Ok(n > 0)
}

pub(super) async fn delete_for_user(db: &SqlStore, user_id: &str) -> Result<u64> {
    let n = dispatch_write!(db, |pool| {
        sqlx::query("DELETE FROM portal_sessions WHERE user_id = $1")
            .bind(user_id)
            .execute(pool)
            .await
            .map(|r| r.rows_affected())
    })?;
    Ok(n)
}
