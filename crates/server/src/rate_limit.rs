//! Per-credential rate limits: a token bucket for every app, API key, domain key, legacy key and Basic
//! user, refilled continuously (GCRA, via `governor`). Over the limit, a request gets 429 with
//! `Retry-After` and the `RateLimit-*` fields, before any work is done for it.
//!
//! Buckets live in each node's memory: with several nodes behind a load balancer, a credential's limit is
//! per node.

use std::num::NonZeroU32;

use axum::http::StatusCode;
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota};
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

pub struct RateLimits {
    limiter: Option<DefaultKeyedRateLimiter<String>>,
    per_minute: u32,
}

impl RateLimits {
    pub fn new(config: &RateLimitConfig) -> Self {
        let limiter = NonZeroU32::new(config.per_minute).map(|per_minute| {
            let burst = NonZeroU32::new(config.burst).unwrap_or(per_minute);
            DefaultKeyedRateLimiter::keyed(Quota::per_minute(per_minute).allow_burst(burst))
        });
        Self {
            limiter,
            per_minute: config.per_minute,
        }
    }

    /// Takes one request from `credential`'s bucket (`kind:id`), or says how long to wait.
    pub fn check(&self, credential: &str) -> Result<(), Problem> {
        let Some(limiter) = &self.limiter else {
            return Ok(());
        };
        let Err(not_until) = limiter.check_key(&credential.to_owned()) else {
            return Ok(());
        };
        let wait = not_until.wait_time_from(DefaultClock::default().now());
        let seconds = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
        let mut p = Problem::new(
            StatusCode::TOO_MANY_REQUESTS,
            "rate-limited",
            "Too many requests",
            format!(
                "this credential is over its limit of {} requests a minute; retry in {seconds} s",
                self.per_minute
            ),
        );
        p.code = Some("rate_limited");
        p.headers = vec![
            ("retry-after", seconds.to_string()),
            ("ratelimit-limit", self.per_minute.to_string()),
            ("ratelimit-remaining", "0".into()),
            ("ratelimit-reset", seconds.to_string()),
        ];
        Err(p)
    }

    /// Forgets buckets that have refilled completely, so memory follows the active credentials.
    pub fn retain_recent(&self) {
        if let Some(l) = &self.limiter {
            l.retain_recent();
        }
    }
}
