use keygate_core::model::SigningAlgorithm;
use serde::{Deserialize, Serialize};

/// Token and key policy. Every duration is in seconds.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TokenSettings {
    /// The `iss` of every token and the `issuer` of the metadata document. Empty means "the server's
    /// public URL", which the server fills in.
    pub issuer: String,
    /// The `aud` of access tokens; empty means the issuer.
    pub audience: String,
    /// Algorithm of newly generated signing keys.
    pub algorithm: SigningAlgorithm,
    pub access_token_ttl: i64,
    /// Upper bound for per-app access-token lifetimes; also how long a retired key stays published.
    pub max_access_token_ttl: i64,
    pub refresh_token_ttl: i64,
    /// How long a just-rotated refresh token may still be used (concurrent refreshes from one client)
    /// before its reuse is treated as theft and revokes the grant.
    pub refresh_reuse_grace: i64,
    pub authorization_code_ttl: i64,
    /// Clock skew tolerated on `exp` and `nbf`.
    pub leeway: i64,
    /// Scheduled signing-key rotation; 0 turns it off (rotate with `keygate admin keys rotate`).
    pub key_rotation_interval: i64,
    /// How long a client's previous secret keeps working after rotation, unless the rotation says otherwise.
    pub secret_rotation_grace: i64,
    /// How long the consent step of an authorization may take.
    pub consent_ttl: i64,
    /// Access tokens whose signature is remembered once verified (0: verify every time). Revocation is
    /// checked on every request either way.
    pub verified_cache_entries: usize,
}

impl Default for TokenSettings {
    fn default() -> Self {
        Self {
            issuer: String::new(),
            audience: String::new(),
            algorithm: SigningAlgorithm::ES256,
            access_token_ttl: 3600,
            max_access_token_ttl: 86_400,
            refresh_token_ttl: 30 * 86_400,
            refresh_reuse_grace: 10,
            authorization_code_ttl: 60,
            leeway: 30,
            key_rotation_interval: 30 * 86_400,
            secret_rotation_grace: 86_400,
            consent_ttl: 600,
            verified_cache_entries: 10_000,
        }
    }
}

impl TokenSettings {
    /// Problems that would make the server misbehave, as readable sentences.
    pub fn problems(&self) -> Vec<String> {
        let mut out = Vec::new();
        let mut positive = |name: &str, v: i64| {
            if v <= 0 {
                out.push(format!(
                    "tokens.{name} must be a positive number of seconds (got {v})"
                ));
            }
        };
        positive("access_token_ttl", self.access_token_ttl);
        positive("max_access_token_ttl", self.max_access_token_ttl);
        positive("refresh_token_ttl", self.refresh_token_ttl);
        positive("authorization_code_ttl", self.authorization_code_ttl);
        positive("consent_ttl", self.consent_ttl);
        if self.access_token_ttl > self.max_access_token_ttl {
            out.push("tokens.access_token_ttl must not exceed tokens.max_access_token_ttl".into());
        }
        if self.authorization_code_ttl > 600 {
            out.push("tokens.authorization_code_ttl must be at most 600 seconds (RFC 6749 §4.1.2)".into());
        }
        for (name, v) in [
            ("refresh_reuse_grace", self.refresh_reuse_grace),
            ("leeway", self.leeway),
            ("key_rotation_interval", self.key_rotation_interval),
            ("secret_rotation_grace", self.secret_rotation_grace),
        ] {
            if v < 0 {
                out.push(format!("tokens.{name} must not be negative (got {v})"));
            }
        }
        if self.key_rotation_interval > 0 && self.key_rotation_interval < 3600 {
            out.push("tokens.key_rotation_interval must be 0 (off) or at least 3600 seconds".into());
        }
        out
    }

    pub fn audience(&self) -> &str {
        if self.audience.is_empty() {
            &self.issuer
        } else {
            &self.audience
        }
    }
}

/// Policy for API keys exchanged at `POST /auth`. Durations in seconds.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ApiKeySettings {
    /// Lifetime of an access token from `POST /auth` or `POST /auth/refresh`.
    pub token_ttl: i64,
    /// A refresh chain ends this long after the `POST /auth` that began it; then the key must sign in again.
    pub max_session: i64,
    /// How long a key's previous secret keeps working after rotation, unless the rotation says otherwise.
    pub secret_rotation_grace: i64,
    /// Lifetime of a token obtained with a domain key: shorter, as it lives in a browser.
    pub domain_token_ttl: i64,
}

impl Default for ApiKeySettings {
    fn default() -> Self {
        Self {
            token_ttl: 3600,
            max_session: 12 * 3600,
            secret_rotation_grace: 86_400,
            domain_token_ttl: 900,
        }
    }
}

impl ApiKeySettings {
    pub fn problems(&self, max_access_token_ttl: i64) -> Vec<String> {
        let mut out = Vec::new();
        if !(1..=max_access_token_ttl).contains(&self.token_ttl) {
            out.push(format!(
                "api_keys.token_ttl must be between 1 and tokens.max_access_token_ttl ({max_access_token_ttl}) seconds"
            ));
        }
        if !(1..=max_access_token_ttl).contains(&self.domain_token_ttl) {
            out.push(format!(
                "api_keys.domain_token_ttl must be between 1 and tokens.max_access_token_ttl ({max_access_token_ttl}) seconds"
            ));
        }
        if self.max_session < self.token_ttl {
            out.push("api_keys.max_session must be at least api_keys.token_ttl".into());
        }
        if self.secret_rotation_grace < 0 {
            out.push("api_keys.secret_rotation_grace must not be negative".into());
        }
        out
    }
}

/// Everything the service layer is configured with.
#[derive(Debug, Clone, Default)]
pub struct Settings {
    pub tokens: TokenSettings,
    pub api_keys: ApiKeySettings,
    pub legacy_keys: LegacyKeySettings,
    pub lockouts: LockoutSettings,
    pub hooks: HookSettings,
    pub portal: PortalSettings,
}

/// The developer portal's sign-in sessions. Durations in seconds.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PortalSettings {
    /// A session ends this long after sign-in, however busy.
    pub session_ttl: i64,
    /// A session unused for this long ends.
    pub idle_timeout: i64,
    /// Lifetime of the access tokens the API explorer calls the API with (never past the session).
    pub explorer_token_ttl: i64,
}

impl Default for PortalSettings {
    fn default() -> Self {
        Self {
            session_ttl: 12 * 3600,
            idle_timeout: 3600,
            explorer_token_ttl: 900,
        }
    }
}

impl PortalSettings {
    pub fn problems(&self) -> Vec<String> {
        let mut out = Vec::new();
        for (name, v) in [
            ("session_ttl", self.session_ttl),
            ("idle_timeout", self.idle_timeout),
            ("explorer_token_ttl", self.explorer_token_ttl),
        ] {
            if v <= 0 {
                out.push(format!(
                    "portal.{name} must be a positive number of seconds (got {v})"
                ));
            }
        }
        out
    }
}

/// Legacy static keys: deprecated, but existing integrations must keep working.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LegacyKeySettings {
    /// Whether new legacy keys may be created. Existing ones work until revoked either way.
    pub allow_new: bool,
    /// When legacy keys were deprecated (Unix seconds), sent as `Deprecation: @<time>` (RFC 9745).
    pub deprecated_since: i64,
    /// When they stop working (Unix seconds), sent as `Sunset` (RFC 8594) when set.
    pub sunset: Option<i64>,
}

impl Default for LegacyKeySettings {
    fn default() -> Self {
        // 2026-01-01T00:00:00Z: the release that introduced token-based doors.
        Self {
            allow_new: false,
            deprecated_since: 1_767_225_600,
            sunset: None,
        }
    }
}

impl LegacyKeySettings {
    pub fn problems(&self) -> Vec<String> {
        let mut out = Vec::new();
        if self.deprecated_since < 0 {
            out.push("legacy_keys.deprecated_since must be a Unix time".into());
        }
        if self.sunset.is_some_and(|s| s < self.deprecated_since) {
            out.push("legacy_keys.sunset must not be before legacy_keys.deprecated_since".into());
        }
        out
    }
}

/// Lock-outs after failed authentications. Durations in seconds.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LockoutSettings {
    /// Failures a credential (API key, client, user) may make in a row before it is locked; 0 turns
    /// credential lock-outs off.
    pub credential_attempts: u32,
    /// Failures one client address may make in a row, across credentials; 0 turns them off. Higher than
    /// the credential's, as many users can share an address.
    pub address_attempts: u32,
    /// The first lock's length; each further failure after a lock doubles it.
    pub first_lock: i64,
    pub max_lock: i64,
    /// A streak ends this long after its last failure or lock.
    pub reset_after: i64,
}

impl Default for LockoutSettings {
    fn default() -> Self {
        Self {
            credential_attempts: 5,
            address_attempts: 20,
            first_lock: 60,
            max_lock: 3600,
            reset_after: 900,
        }
    }
}

impl LockoutSettings {
    /// How long the `failures`-th failure in a streak locks for, given how many are free.
    pub fn lock_for(&self, failures: i64, free: u32) -> Option<i64> {
        if free == 0 || failures < i64::from(free) {
            return None;
        }
        let doublings = u32::try_from(failures - i64::from(free))
            .unwrap_or(u32::MAX)
            .min(32);
        Some(self.first_lock.saturating_mul(1 << doublings).min(self.max_lock))
    }

    pub fn problems(&self) -> Vec<String> {
        let mut out = Vec::new();
        if self.first_lock <= 0 {
            out.push("lockouts.first_lock must be a positive number of seconds".into());
        }
        if self.max_lock < self.first_lock {
            out.push("lockouts.max_lock must be at least lockouts.first_lock".into());
        }
        if self.reset_after <= 0 {
            out.push("lockouts.reset_after must be a positive number of seconds".into());
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::LockoutSettings;

    #[test]
    fn locks_grow_from_the_free_attempts_and_stop_at_the_maximum() {
        let s = LockoutSettings::default();
        let locks: Vec<_> = (1..=12).map(|n| s.lock_for(n, 5)).collect();
        assert_eq!(
            locks,
            [
                None,
                None,
                None,
                None,
                Some(60),
                Some(120),
                Some(240),
                Some(480),
                Some(960),
                Some(1920),
                Some(3600),
                Some(3600)
            ]
        );
        assert_eq!(
            s.lock_for(1_000_000, 5),
            Some(3600),
            "no overflow on long streaks"
        );
        assert_eq!(s.lock_for(100, 0), None, "0 free attempts turns lock-outs off");
    }
}

/// REST Hooks: verification, batching and delivery. Durations in seconds unless named otherwise.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct HookSettings {
    /// How long events gather before a delivery is made of them (milliseconds).
    pub debounce_ms: u64,
    /// The most events one delivery carries.
    pub max_batch: u32,
    /// A receiver that has not answered 2xx within this long has failed the attempt.
    pub timeout: u64,
    /// The delay before each attempt: the first is immediate, and after the last the delivery fails.
    pub retry_schedule: Vec<u64>,
    /// A subscription failing for this long without a success turns inactive.
    pub inactive_after: i64,
    /// How long a rotated secret's signature is still sent beside the new one.
    pub secret_rotation_grace: i64,
    /// Deliveries sent at once by one node.
    pub concurrency: usize,
    /// Development and tests only: allow `http://` hook URLs and private, loopback and link-local
    /// targets. Never in production: it opens Keygate to SSRF.
    pub allow_private_targets: bool,
}

impl Default for HookSettings {
    fn default() -> Self {
        Self {
            debounce_ms: 2000,
            max_batch: 1000,
            timeout: 15,
            retry_schedule: vec![0, 5, 300, 1800, 7200, 18_000, 36_000, 36_000],
            inactive_after: 5 * 86_400,
            secret_rotation_grace: 86_400,
            concurrency: 32,
            allow_private_targets: false,
        }
    }
}

impl HookSettings {
    pub fn problems(&self) -> Vec<String> {
        let mut out = Vec::new();
        if !(1..=1000).contains(&self.max_batch) {
            out.push("hooks.max_batch must be between 1 and 1000".into());
        }
        if !(1..=300).contains(&self.timeout) {
            out.push("hooks.timeout must be between 1 and 300 seconds".into());
        }
        if self.retry_schedule.is_empty() {
            out.push("hooks.retry_schedule needs at least one attempt".into());
        }
        if self.concurrency == 0 {
            out.push("hooks.concurrency must be at least 1".into());
        }
        if self.inactive_after <= 0 || self.secret_rotation_grace < 0 {
            out.push(
                "hooks.inactive_after must be positive and hooks.secret_rotation_grace not negative".into(),
            );
        }
        out
    }
}
