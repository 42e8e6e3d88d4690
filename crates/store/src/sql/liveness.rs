//! Access-token revocation and the per-request liveness check.

use std::hash::{Hash, Hasher};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use quick_cache::Equivalent;

use super::auth_cache::{AuthCache, MAX_AGE};
use super::SqlStore;
use crate::{CredentialRef, LiveLease, Liveness, LivenessQuery, Result};

/// Counts of matching live rows (0 or 1 each): one round trip answers every question. `live_link` is the
/// grant or key session the token belongs to, `live_credential` the app or API key it was issued through.
#[derive(sqlx::FromRow)]
struct LivenessRow {
    revoked: i64,
    live_link: i64,
    live_credential: i64,
    live_account: i64,
    live_user: i64,
    /// When the key session ends (NULL for other credentials).
    link_until: Option<i64>,
}

pub(super) async fn revoke_access_token(db: &SqlStore, jti: &str, expires_at: i64, now: i64) -> Result<()> {
    dispatch_write!(db, |pool| {
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

/// A lease is only worth giving for a while: an answer with less than this left in memory is read
/// again, or every request in its last second would come back for a lease that has already ended.
const LEASE_AT_LEAST: Duration = Duration::from_secs(1);

/// The answer, from memory when one read in the current epoch has at least [`LEASE_AT_LEAST`] left.
pub(super) async fn leased_liveness(
    db: &SqlStore,
    q: &LivenessQuery<'_>,
) -> Result<(Liveness, Option<LiveLease>)> {
    // The epoch first: without one (nothing may be cached now) the key is never looked at.
    let Some((epoch, key)) = db.auth.epoch().and_then(|epoch| Some((epoch, LiveParts::of(q)?))) else {
        return Ok((uncached(db, q).await?.0, None));
    };
    if let Some((until, left)) = AuthCache::fresh_for(&db.auth.live, &key, epoch) {
        if q.now < until && left >= LEASE_AT_LEAST {
            return Ok((Liveness::Live, Some(lease(epoch, until, left))));
        }
    }
    let (liveness, until) = uncached(db, q).await?;
    if liveness != Liveness::Live {
        return Ok((liveness, None));
    }
    AuthCache::keep(&db.auth.live, &key, epoch, until);
    Ok((liveness, Some(lease(epoch, until, MAX_AGE))))
}

/// A lease that ends, in whole Unix seconds rounded down, no later than the answer does in this store's
/// memory (`left` from now), so that whoever keeps it never trusts it longer than the store would.
fn lease(epoch: u64, until: i64, left: Duration) -> LiveLease {
    let end = SystemTime::now()
        .checked_add(left)
        .and_then(|end| end.duration_since(UNIX_EPOCH).ok())
        .map_or(0, |end| i64::try_from(end.as_secs()).unwrap_or(i64::MAX));
    LiveLease {
        epoch,
        until: until.min(end),
    }
}

/// A cached liveness answer's key: everything the answer depends on but the time, the ids joined with
/// spaces (ids never hold one, so the join is unambiguous). Hashed by the token's id alone, which
/// already tells tokens apart, so that a look-up can hash the borrowed [`LiveParts`] the same way and
/// compare them in place: every bearer check looks one up, and building the string each time was a
/// sixth of the check's instructions.
#[derive(PartialEq, Eq)]
pub(super) struct LiveKey(Box<str>);

impl Hash for LiveKey {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.0.split(' ').next().unwrap_or_default().hash(state);
    }
}

/// A [`LiveKey`] not yet joined: the token's id first.
pub(super) struct LiveParts<'a>([&'a str; 6]);

impl<'a> LiveParts<'a> {
    /// `None` for the answers that are never cached: a portal session's, which its idle timeout ends
    /// without any write.
    fn of(q: &LivenessQuery<'a>) -> Option<Self> {
        let [c1, c2, c3] = match q.credential {
            CredentialRef::App { client_id, grant_id } => ["app", client_id, grant_id.unwrap_or("-")],
            CredentialRef::ApiKey { key_id, session_id } => ["key", key_id, session_id],
            CredentialRef::DomainKey {
                domain_key_id,
                key_id,
                session_id,
            } => [domain_key_id, key_id, session_id],
            CredentialRef::PortalSession { .. } => return None,
        };
        Some(Self([q.jti, q.account, q.user_id.unwrap_or("-"), c1, c2, c3]))
    }
}

impl Hash for LiveParts<'_> {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.0[0].hash(state);
    }
}

impl Equivalent<LiveKey> for LiveParts<'_> {
    fn equivalent(&self, key: &LiveKey) -> bool {
        let mut rest = &*key.0;
        for part in self.0 {
            match rest.strip_prefix(part).and_then(|r| r.strip_prefix(' ')) {
                Some(r) => rest = r,
                None => return false,
            }
        }
        rest.is_empty()
    }
}

impl From<&LiveParts<'_>> for LiveKey {
    fn from(parts: &LiveParts<'_>) -> Self {
        let mut key = String::with_capacity(parts.0.iter().map(|p| p.len() + 1).sum());
        for part in parts.0 {
            key.push_str(part);
            key.push(' ');
        }
        LiveKey(key.into())
    }
}

/// The answer, and until when a `Live` one stays so unless something is written (`i64::MAX`: no end).
async fn uncached(db: &SqlStore, q: &LivenessQuery<'_>) -> Result<(Liveness, i64)> {
    match q.credential {
        CredentialRef::App { client_id, grant_id } => {
            Ok((app_liveness(db, q, client_id, grant_id).await?, i64::MAX))
        }
        CredentialRef::ApiKey { key_id, session_id } => key_liveness(db, q, key_id, session_id).await,
        CredentialRef::DomainKey {
            domain_key_id,
            key_id,
            session_id,
        } => domain_key_liveness(db, q, domain_key_id, key_id, session_id).await,
        CredentialRef::PortalSession {
            session_id,
            idle_timeout,
        } => Ok((portal_liveness(db, q, session_id, idle_timeout).await?, q.now)),
    }
}

async fn app_liveness(
    db: &SqlStore,
    q: &LivenessQuery<'_>,
    client_id: &str,
    grant_id: Option<&str>,
) -> Result<Liveness> {
    let row = dispatch!(db, |pool| {
        sqlx::query_as::<_, LivenessRow>(
            "SELECT \
             (SELECT COUNT(*) FROM revoked_tokens WHERE jti = $1) AS revoked, \
             (SELECT COUNT(*) FROM grants WHERE id = $2 AND revoked_at IS NULL) AS live_link, \
             (SELECT COUNT(*) FROM apps WHERE client_id = $3 AND status = 'active') AS live_credential, \
             (SELECT COUNT(*) FROM accounts WHERE name = $4 AND status = 'active') AS live_account, \
             (SELECT COUNT(*) FROM users WHERE id = $5 AND account = $4 AND status = 'active') AS live_user, \
             CAST(NULL AS BIGINT) AS link_until",
        )
        .bind(q.jti)
        .bind(grant_id)
        .bind(client_id)
        .bind(q.account)
        .bind(q.user_id)
        .fetch_one(pool)
        .await
    })?;
    // The first failure, in the documented order.
    Ok(if row.revoked > 0 {
        Liveness::TokenRevoked
    } else if grant_id.is_some() && row.live_link == 0 {
        Liveness::GrantRevoked
    } else if row.live_credential == 0 {
        Liveness::AppInactive
    } else {
        holder_liveness(&row, q)
    })
}

async fn key_liveness(
    db: &SqlStore,
    q: &LivenessQuery<'_>,
    key_id: &str,
    session_id: &str,
) -> Result<(Liveness, i64)> {
    // A key of another account is as dead as a revoked one; so is a session of another key, and a
    // session opened with a domain key (its tokens must be checked as domain-key tokens).
    let row = dispatch!(db, |pool| {
        sqlx::query_as::<_, LivenessRow>(
            "SELECT \
             (SELECT COUNT(*) FROM revoked_tokens WHERE jti = $1) AS revoked, \
             (SELECT COUNT(*) FROM key_sessions WHERE id = $2 AND key_id = $3 AND revoked_at IS NULL \
              AND expires_at > $6 AND domain_key_id IS NULL) AS live_link, \
             (SELECT COUNT(*) FROM api_keys WHERE id = $3 AND account = $4 AND status = 'active') \
              AS live_credential, \
             (SELECT COUNT(*) FROM accounts WHERE name = $4 AND status = 'active') AS live_account, \
             (SELECT COUNT(*) FROM users WHERE id = $5 AND account = $4 AND status = 'active') AS live_user, \
             (SELECT expires_at FROM key_sessions WHERE id = $2) AS link_until",
        )
        .bind(q.jti)
        .bind(session_id)
        .bind(key_id)
        .bind(q.account)
        .bind(q.user_id)
        .bind(q.now)
        .fetch_one(pool)
        .await
    })?;
    let liveness = if row.revoked > 0 {
        Liveness::TokenRevoked
    } else if row.live_credential == 0 {
        Liveness::KeyRevoked
    } else if row.live_link == 0 {
        Liveness::SessionEnded
    } else {
        holder_liveness(&row, q)
    };
    Ok((liveness, row.link_until.unwrap_or(q.now)))
}

/// [`LivenessRow`] and whether the domain key is live, bound to the API key and of the token's account.
#[derive(sqlx::FromRow)]
struct DomainKeyLivenessRow {
    #[sqlx(flatten)]
    base: LivenessRow,
    live_domain_key: i64,
}

async fn domain_key_liveness(
    db: &SqlStore,
    q: &LivenessQuery<'_>,
    domain_key_id: &str,
    key_id: &str,
    session_id: &str,
) -> Result<(Liveness, i64)> {
    // As for an API key, and the domain key must be the one the key and the session were used through.
    let row = dispatch!(db, |pool| {
        sqlx::query_as::<_, DomainKeyLivenessRow>(
            "SELECT \
             (SELECT COUNT(*) FROM revoked_tokens WHERE jti = $1) AS revoked, \
             (SELECT COUNT(*) FROM domain_keys WHERE id = $7 AND api_key_id = $3 AND account = $4 \
              AND status = 'active') AS live_domain_key, \
             (SELECT COUNT(*) FROM key_sessions WHERE id = $2 AND key_id = $3 AND domain_key_id = $7 \
              AND revoked_at IS NULL AND expires_at > $6) AS live_link, \
             (SELECT COUNT(*) FROM api_keys WHERE id = $3 AND account = $4 AND status = 'active') \
              AS live_credential, \
             (SELECT COUNT(*) FROM accounts WHERE name = $4 AND status = 'active') AS live_account, \
             (SELECT COUNT(*) FROM users WHERE id = $5 AND account = $4 AND status = 'active') AS live_user, \
             (SELECT expires_at FROM key_sessions WHERE id = $2) AS link_until",
        )
        .bind(q.jti)
        .bind(session_id)
        .bind(key_id)
        .bind(q.account)
        .bind(q.user_id)
        .bind(q.now)
        .bind(domain_key_id)
        .fetch_one(pool)
        .await
    })?;
    let DomainKeyLivenessRow {
        base,
        live_domain_key,
    } = row;
    let liveness = if base.revoked > 0 {
        Liveness::TokenRevoked
    } else if live_domain_key == 0 {
        Liveness::DomainKeyRevoked
    } else if base.live_credential == 0 {
        Liveness::KeyRevoked
    } else if base.live_link == 0 {
        Liveness::SessionEnded
    } else {
        holder_liveness(&base, q)
    };
    Ok((liveness, base.link_until.unwrap_or(q.now)))
}

async fn portal_liveness(
    db: &SqlStore,
    q: &LivenessQuery<'_>,
    session_id: &str,
    idle_timeout: i64,
) -> Result<Liveness> {
    // The session is the credential: signed out, expired or idle too long, its tokens die with it.
    let row = dispatch!(db, |pool| {
        sqlx::query_as::<_, LivenessRow>(
            "SELECT \
             (SELECT COUNT(*) FROM revoked_tokens WHERE jti = $1) AS revoked, \
             (SELECT COUNT(*) FROM portal_sessions WHERE id = $2 AND user_id = $5 AND account = $4 \
              AND expires_at > $6 AND last_seen_at > $6 - $3) AS live_link, \
             CAST(1 AS BIGINT) AS live_credential, \
             (SELECT COUNT(*) FROM accounts WHERE name = $4 AND status = 'active') AS live_account, \
             (SELECT COUNT(*) FROM users WHERE id = $5 AND account = $4 AND status = 'active') AS live_user, \
             CAST(NULL AS BIGINT) AS link_until",
        )
        .bind(q.jti)
        .bind(session_id)
        .bind(idle_timeout)
        .bind(q.account)
        .bind(q.user_id)
        .bind(q.now)
        .fetch_one(pool)
        .await
    })?;
    Ok(if row.revoked > 0 {
        Liveness::TokenRevoked
    } else if row.live_link == 0 || q.user_id.is_none() {
        Liveness::SessionEnded
    } else {
        holder_liveness(&row, q)
    })
}

/// The checks after the credential's: the account, then the user the token acts as.
fn holder_liveness(row: &LivenessRow, q: &LivenessQuery<'_>) -> Liveness {
    if row.live_account == 0 {
        Liveness::AccountInactive
    } else if q.user_id.is_some() && row.live_user == 0 {
        Liveness::UserInactive
    } else {
        Liveness::Live
    }
}

#[cfg(test)]
mod tests {
    use std::hash::BuildHasher;

    use super::*;

    fn query<'a>(jti: &'a str, user_id: Option<&'a str>, grant_id: Option<&'a str>) -> LivenessQuery<'a> {
        LivenessQuery {
            jti,
            credential: CredentialRef::App {
                client_id: "client",
                grant_id,
            },
            account: "ab123",
            user_id,
            now: 0,
        }
    }

    #[test]
    fn a_key_is_found_by_its_parts_and_only_by_them() {
        let hasher = foldhash::fast::RandomState::default();
        let parts = LiveParts::of(&query("at_1", Some("usr_1"), Some("grt_1"))).unwrap();
        let key = LiveKey::from(&parts);
        assert_eq!(&*key.0, "at_1 ab123 usr_1 app client grt_1 ");
        assert_eq!(hasher.hash_one(&parts), hasher.hash_one(&key));
        assert!(parts.equivalent(&key));
        for other in [
            query("at_1", None, Some("grt_1")),
            query("at_1", Some("usr_1"), None),
            query("at_1", Some("usr_"), Some("grt_1")),
            query("at_2", Some("usr_1"), Some("grt_1")),
        ] {
            assert!(!LiveParts::of(&other).unwrap().equivalent(&key));
        }
    }

    #[test]
    fn a_portal_session_has_no_key() {
        let q = LivenessQuery {
            credential: CredentialRef::PortalSession {
                session_id: "ps_1",
                idle_timeout: 60,
            },
            ..query("at_1", None, None)
        };
        assert!(LiveParts::of(&q).is_none());
    }
}
