//! Whole-database operations: health, emptiness, purging.

use super::SqlStore;
use crate::{PurgeReport, Result};

/// Consumed codes are kept this long past expiry so a late replay is still recognised (and revokes the
/// grant) instead of looking like an unknown code.
const CODE_REPLAY_WINDOW: i64 = 86_400;

pub(super) async fn ping(db: &SqlStore) -> Result<()> {
    dispatch!(db, |pool| sqlx::query("SELECT 1").execute(pool).await.map(|_| ()))?;
    Ok(())
}

pub(super) async fn is_empty(db: &SqlStore) -> Result<bool> {
    let rows = dispatch!(db, |pool| {
        sqlx::query_scalar::<_, i64>(
            "SELECT COUNT(*) FROM (SELECT 1 AS one FROM accounts UNION ALL SELECT 1 FROM apps LIMIT 1) AS t",
        )
        .fetch_one(pool)
        .await
    })?;
    Ok(rows == 0)
}

pub(super) async fn purge_expired(db: &SqlStore, now: i64) -> Result<PurgeReport> {
    // Independent deletes: each is atomic, and a crash between them only leaves work for the next run.
    // Grants and API keys are never deleted here, so removing their refresh tokens, sessions and
    // assertion jtis cannot break a reference.
    let deleted = dispatch_write!(db, |pool| {
        let mut counts = [0u64; 8];
        let statements = [
            (
                "DELETE FROM authorization_codes WHERE expires_at < $1",
                now - CODE_REPLAY_WINDOW,
            ),
            ("DELETE FROM assertion_jtis WHERE expires_at < $1", now),
            ("DELETE FROM key_sessions WHERE expires_at < $1", now),
            ("DELETE FROM refresh_tokens WHERE expires_at < $1", now),
            ("DELETE FROM revoked_tokens WHERE expires_at < $1", now),
            (
                "DELETE FROM signing_keys WHERE state = 'retired' AND publish_until < $1",
                now,
            ),
            // A day without failures ends a streak; the lock, if any, is long over by then.
            (
                "DELETE FROM auth_failures WHERE last_failure_at < $1 AND COALESCE(locked_until, 0) < $1",
                now - 86_400,
            ),
            ("DELETE FROM portal_sessions WHERE expires_at < $1", now),
        ];
        for (count, (sql, before)) in counts.iter_mut().zip(statements) {
            *count = sqlx::query(sql).bind(before).execute(pool).await?.rows_affected();
        }
        counts
    });
    let [authorization_codes, assertion_jtis, key_sessions, refresh_tokens, revoked_tokens, signing_keys, auth_failures, portal_sessions] =
        deleted;
    Ok(PurgeReport {
        authorization_codes,
        assertion_jtis,
        key_sessions,
        refresh_tokens,
        revoked_tokens,
        signing_keys,
        auth_failures,
        portal_sessions,
    })
}
