//! Failed-authentication streaks and lock-outs, shared by every node through the store.

use super::auth_cache::AuthCache;
use super::SqlStore;
use crate::{AuthStreak, Result};

pub(super) async fn record(db: &SqlStore, subject: &str, now: i64, reset_before: i64) -> Result<i64> {
    // One upsert, so concurrent failures of one subject each count.
    let failures = dispatch_write!(db, |pool| {
        sqlx::query_scalar::<_, i64>(
            "INSERT INTO auth_failures (subject, failures, last_failure_at) VALUES ($1, 1, $2) \
             ON CONFLICT (subject) DO UPDATE SET \
             failures = CASE WHEN auth_failures.last_failure_at < $3 \
                 AND COALESCE(auth_failures.locked_until, 0) < $3 \
                 THEN 1 ELSE auth_failures.failures + 1 END, \
             last_failure_at = $2 \
             RETURNING failures",
        )
        .bind(subject)
        .bind(now)
        .bind(reset_before)
        .fetch_one(pool)
        .await
    })?;
    Ok(failures)
}

pub(super) async fn lock(db: &SqlStore, subject: &str, until: i64) -> Result<()> {
    dispatch_write!(db, |pool| {
        sqlx::query(
            "UPDATE auth_failures SET locked_until = $2 \
             WHERE subject = $1 AND (locked_until IS NULL OR locked_until < $2)",
        )
        .bind(subject)
        .bind(until)
        .execute(pool)
        .await
        .map(|_| ())
    })?;
    Ok(())
}

/// [`streaks`], answered from memory when every subject's answer (a streak or none) is fresh: nearly
/// every attempt has no streak at all, and asking costs more than the rest of a token.
pub(super) async fn cached_streaks(db: &SqlStore, subjects: &[&str]) -> Result<Vec<AuthStreak>> {
    let Some(epoch) = db.auth.lockout_epoch() else {
        return streaks(db, subjects).await;
    };
    let mut found = Vec::new();
    for subject in subjects {
        match AuthCache::fresh(&db.auth.streaks, *subject, epoch) {
            Some(streak) => found.extend(streak),
            None => {
                let all = streaks(db, subjects).await?;
                for subject in subjects {
                    let streak = all.iter().find(|s| s.subject == *subject).cloned();
                    AuthCache::keep(&db.auth.streaks, *subject, epoch, streak);
                }
                return Ok(all);
            }
        }
    }
    Ok(found)
}

pub(super) async fn streaks(db: &SqlStore, subjects: &[&str]) -> Result<Vec<AuthStreak>> {
    // Callers pass a credential and an address at most: two fixed placeholders keep the text portable.
    let mut found = Vec::new();
    for pair in subjects.chunks(2) {
        let rows = dispatch!(db, |pool| {
            sqlx::query_as::<_, AuthStreak>(
                "SELECT subject, failures, last_failure_at, locked_until FROM auth_failures \
                 WHERE subject = $1 OR subject = $2",
            )
            .bind(pair[0])
            .bind(pair.get(1).copied().unwrap_or(pair[0]))
            .fetch_all(pool)
            .await
        })?;
        found.extend(rows);
    }
    Ok(found)
}

pub(super) async fn clear(db: &SqlStore, subject: &str) -> Result<()> {
    dispatch_write!(db, |pool| {
        sqlx::query("DELETE FROM auth_failures WHERE subject = $1")
            .bind(subject)
            .execute(pool)
            .await
            .map(|_| ())
    })?;
    Ok(())
}
