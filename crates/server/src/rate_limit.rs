//! Per-credential rate limits: a token bucket for every app, API key, domain key, legacy key and Basic
//! user, refilled continuously (GCRA, via `governor`). Over the limit, a request gets 429 with
//! `Retry-After` and the `RateLimit-*` fields, before any work is done for it.
//!
//! An account may have its own limit for its credentials; the overrides are read from the store into
//! memory (on start, every maintenance tick, and at once on the node that changed one), so checking stays
//! free of I/O. Buckets live in each node's memory: with several nodes, a credential's limit is per node.

use std::collections::HashMap;
use std::num::NonZeroU32;
use std::sync::Arc;

use arc_swap::ArcSwap;
use axum::http::StatusCode;
use governor::clock::{Clock, DefaultClock};
use governor::middleware::NoOpMiddleware;
use governor::{DefaultKeyedRateLimiter, Quota};
use keygate_core::ids::AccountName;
use keygate_core::model::RateLimit;
use keygate_store::{Store, StoreError};
use serde::{Deserialize, Serialize};

use crate::error::Problem;

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RateLimitConfig {
    /// Sustained requests per minute for each credential; 0 turns rate limiting off.
    pub per_minute: u32,
    /// How many requests a credential may make at once before the per-minute pace applies.
    pub burst: u32,
}

impl Default for RateLimitConfig {
    fn default() -> Self {
        // The per-app allowance integrators already know from comparable CRM APIs.
        Self {
            per_minute: 1500,
            burst: 100,
        }
    }
}

/// The name of a credential's bucket: its kind and its id, kept inline for the ids Keygate issues (24
/// bytes at most), so charging a request allocates nothing.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
struct BucketKey {
    kind: &'static str,
    id: BucketId,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
enum BucketId {
    Inline {
        len: u8,
        bytes: [u8; INLINE_ID],
    },
    /// Longer ids: a portal session's, or whatever a caller put where a key id belongs.
    Boxed(Box<str>),
}

const INLINE_ID: usize = 24;

impl BucketKey {
    fn new(kind: &'static str, id: &str) -> Self {
        let id = match u8::try_from(id.len()) {
            Ok(len) if id.len() <= INLINE_ID => {
                let mut bytes = [0; INLINE_ID];
                bytes[..id.len()].copy_from_slice(id.as_bytes());
                BucketId::Inline { len, bytes }
            }
            _ => BucketId::Boxed(id.into()),
        };
        Self { kind, id }
    }
}

/// Keyed by [`BucketKey`], hashed with foldhash: the keys are credential ids, and SipHash's resistance
/// to chosen keys is not needed against a hasher seeded at random per process.
type Limiter = DefaultKeyedRateLimiter<
    BucketKey,
    NoOpMiddleware<<DefaultClock as Clock>::Instant>,
    foldhash::fast::RandomState,
>;

struct Buckets {
    limiter: Limiter,
    limit: RateLimit,
}

impl Buckets {
    fn new(limit: RateLimit) -> Option<Self> {
        let per_minute = NonZeroU32::new(limit.per_minute)?;
        let burst = NonZeroU32::new(limit.burst).unwrap_or(per_minute);
        Some(Self {
            limiter: Limiter::dashmap_with_hasher(
                Quota::per_minute(per_minute).allow_burst(burst),
                foldhash::fast::RandomState::default(),
            ),
            limit,
        })
    }

    fn check(&self, credential: &BucketKey) -> Result<(), Problem> {
        let Err(not_until) = self.limiter.check_key(credential) else {
            return Ok(());
        };
        let wait = not_until.wait_time_from(DefaultClock::default().now());
        let seconds = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
        let per_minute = self.limit.per_minute;
        let mut p = Problem::new(
            StatusCode::TOO_MANY_REQUESTS,
            "rate-limited",
            "Too many requests",
            format!(
                "this credential is over its limit of {per_minute} requests a minute; retry in {seconds} s"
            ),
        );
        p.code = Some("rate_limited");
        p.headers = vec![
            ("retry-after", seconds.to_string()),
            ("ratelimit-limit", per_minute.to_string()),
            ("ratelimit-remaining", "0".into()),
            ("ratelimit-reset", seconds.to_string()),
        ];
        Err(p)
    }
}

/// Accounts with their own limit. Looked up on every charged request once any account has one.
type AccountBuckets = HashMap<AccountName, Arc<Buckets>, foldhash::fast::RandomState>;

pub struct RateLimits {
    default: Option<Buckets>,
    accounts: ArcSwap<AccountBuckets>,
}

impl RateLimits {
    pub fn new(config: &RateLimitConfig) -> Self {
        Self {
            default: Buckets::new(RateLimit {
                per_minute: config.per_minute,
                burst: config.burst,
            }),
            accounts: ArcSwap::default(),
        }
    }

    /// Takes one request from the bucket of the credential `id` of `kind` at the server's default
    /// limit, or says how long to wait.
    pub fn check(&self, kind: &'static str, id: &str) -> Result<(), Problem> {
        self.default
            .as_ref()
            .map_or(Ok(()), |b| b.check(&BucketKey::new(kind, id)))
    }

    /// As [`check`](Self::check), at the limit of the credential's account.
    pub fn check_in(&self, account: &AccountName, kind: &'static str, id: &str) -> Result<(), Problem> {
        let accounts = self.accounts.load();
        match accounts.get(account) {
            Some(own) => own.check(&BucketKey::new(kind, id)),
            None => self.check(kind, id),
        }
    }

    /// Re-reads the accounts' own limits. An account whose limit did not change keeps its buckets.
    pub async fn refresh(&self, store: &dyn Store) -> Result<(), StoreError> {
        let overrides = store.rate_limit_overrides().await?;
        let current = self.accounts.load();
        let next: AccountBuckets = overrides
            .into_iter()
            .filter_map(|(account, limit)| {
                let kept = current.get(&account).filter(|b| b.limit == limit).cloned();
                let buckets = kept.or_else(|| Buckets::new(limit).map(Arc::new))?;
                Some((account, buckets))
            })
            .collect();
        self.accounts.store(Arc::new(next));
        Ok(())
    }

    /// Forgets buckets that have refilled completely, so memory follows the active credentials.
    pub fn retain_recent(&self) {
        if let Some(b) = &self.default {
            b.limiter.retain_recent();
        }
        for b in self.accounts.load().values() {
            b.limiter.retain_recent();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits(per_minute: u32, burst: u32) -> RateLimits {
        RateLimits::new(&RateLimitConfig { per_minute, burst })
    }

    fn refused(result: Result<(), Problem>) -> bool {
        result.is_err_and(|p| p.status == StatusCode::TOO_MANY_REQUESTS)
    }

    #[test]
    fn each_credential_has_its_own_bucket() {
        let l = limits(60, 2);
        let id = "kgk_aaaaaaaaaaaaaaaaaaaa";
        assert!(l.check("api_key", id).is_ok());
        assert!(l.check("api_key", id).is_ok());
        assert!(refused(l.check("api_key", id)), "the burst is spent");
        assert!(l.check("legacy_key", id).is_ok(), "another kind, another bucket");
        assert!(l.check("api_key", "kgk_bbbbbbbbbbbbbbbbbbbb").is_ok());
    }

    #[test]
    fn ids_are_told_apart_by_length_and_beyond_the_inline_part() {
        let l = limits(60, 1);
        assert!(l.check("api_key", "a").is_ok());
        assert!(l.check("api_key", "a\0").is_ok(), "padding is not part of an id");
        let long = "x".repeat(INLINE_ID + 10);
        let longer = format!("{long}y");
        assert!(l.check("portal", &long).is_ok());
        assert!(refused(l.check("portal", &long)));
        assert!(l.check("portal", &longer).is_ok());
        assert_ne!(BucketKey::new("portal", &long), BucketKey::new("portal", &longer));
        assert_eq!(BucketKey::new("portal", &long), BucketKey::new("portal", &long));
    }

    #[test]
    fn no_limit_when_turned_off() {
        let l = limits(0, 0);
        for _ in 0..1000 {
            assert!(l.check("api_key", "kgk_aaaaaaaaaaaaaaaaaaaa").is_ok());
        }
    }
}
