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

struct Buckets {
    limiter: DefaultKeyedRateLimiter<String>,
    limit: RateLimit,
}

impl Buckets {
    fn new(limit: RateLimit) -> Option<Self> {
        let per_minute = NonZeroU32::new(limit.per_minute)?;
        let burst = NonZeroU32::new(limit.burst).unwrap_or(per_minute);
        Some(Self {
            limiter: DefaultKeyedRateLimiter::keyed(Quota::per_minute(per_minute).allow_burst(burst)),
            limit,
        })
    }

    fn check(&self, credential: String) -> Result<(), Problem> {
        let Err(not_until) = self.limiter.check_key(&credential) else {
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

pub struct RateLimits {
    default: Option<Buckets>,
    accounts: ArcSwap<HashMap<AccountName, Arc<Buckets>>>,
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

    /// Takes one request from `credential`'s bucket (`kind:id`) at the server's default limit, or says
    /// how long to wait. The bucket's name is built only when a limit applies.
    pub fn check(&self, credential: impl FnOnce() -> String) -> Result<(), Problem> {
        self.default.as_ref().map_or(Ok(()), |b| b.check(credential()))
    }

    /// As [`check`](Self::check), at the limit of the credential's account.
    pub fn check_in(
        &self,
        account: &AccountName,
        credential: impl FnOnce() -> String,
    ) -> Result<(), Problem> {
        match self.accounts.load().get(account) {
            Some(own) => own.check(credential()),
            None => self.check(credential),
        }
    }

    /// Re-reads the accounts' own limits. An account whose limit did not change keeps its buckets.
    pub async fn refresh(&self, store: &dyn Store) -> Result<(), StoreError> {
        let overrides = store.rate_limit_overrides().await?;
        let current = self.accounts.load();
        let next = overrides
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
