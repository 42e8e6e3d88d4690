//! Access-token revocation and the per-request liveness check.

use super::SqlStore;
use crate::{Liveness, LivenessQuery, Result};

/// Counts of matching live rows (0 or 1 each): one round trip answers every question.
#[derive(sqlx::FromRow)]
struct LivenessRow {
    revoked: i64,
    live_grant: i64,
    live_app: i64,
    live_account: i64,
    live_user: i64,
}

pub(super) async fn revoke_access_token(db: &SqlStore, jti: &str, expires_at: i64, now: i64) -> Result<()> {
    dispatch!(db, |pool| {
        sqlx::query(
            "INSERT INTO revoked_tokens (jti, expires_at, revoked_at) VALUES ($1, $2, $3) \
             ON CONFLICT (jti) DO NOTHING",
        )
        .bind(jti)
        .bind(expires_at)
        .bind(now)
        .execute(pool)
        .await
        .map(|_| ())
    })?;
    Ok(())
}

pub(super) async fn liveness(db: &SqlStore, q: &LivenessQuery<'_>) -> Result<Liveness> {
    let row = dispatch!(db, |pool| {
        sqlx::query_as::<_, LivenessRow>(
            "SELECT \
             (SELECT COUNT(*) FROM revoked_tokens WHERE jti = $1) AS revoked, \
             (SELECT COUNT(*) FROM grants WHERE id = $2 AND revoked_at IS NULL) AS live_grant, \
             (SELECT COUNT(*) FROM apps WHERE client_id = $3 AND status = 'active') AS live_app, \
             (SELECT COUNT(*) FROM accounts WHERE name = $4 AND status = 'active') AS live_account, \
             (SELECT COUNT(*) FROM users WHERE id = $5 AND account = $4 AND status = 'active') AS live_user",
        )
        .bind(q.jti)
        .bind(q.grant_id)
        .bind(q.client_id)
        .bind(q.account)
        .bind(q.user_id)
        .fetch_one(pool)
        .await
    })?;
    // The first failure, in the documented order.
    Ok(if row.revoked > 0 {
        Liveness::TokenRevoked
    } else if q.grant_id.is_some() && row.live_grant == 0 {
        Liveness::GrantRevoked
    } else if row.live_app == 0 {
        Liveness::AppInactive
    } else if row.live_account == 0 {
        Liveness::AccountInactive
    } else if q.user_id.is_some() && row.live_user == 0 {
        Liveness::UserInactive
    } else {
        Liveness::Live
    })
}
