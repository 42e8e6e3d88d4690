//! The store's vocabulary for REST Hooks: subscriptions, the events fanned out to them, deliveries
//! (batches of those events, each one signed message) and every attempt to deliver them.

use keygate_core::ids::AccountName;

/// A subscription's state, as Infusionsoft names them on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HookStatus {
    /// Confirmed the handshake: gets events.
    Verified,
    /// Not (yet) confirmed: gets nothing.
    Unverified,
    /// Turned off after a 410 or after failing for too long: gets nothing until verified again.
    Inactive,
}

impl HookStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            HookStatus::Verified => "Verified",
            HookStatus::Unverified => "Unverified",
            HookStatus::Inactive => "Inactive",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        [Self::Verified, Self::Unverified, Self::Inactive]
            .into_iter()
            .find(|v| v.as_str() == s)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hook {
    /// `hk_…`, the subscription's public key.
    pub key: String,
    pub account: AccountName,
    pub event_key: String,
    pub hook_url: String,
    pub status: HookStatus,
    /// The signing secret, sealed under the master key (the server must sign with it, so it cannot be
    /// a one-way hash).
    pub secret_sealed: Vec<u8>,
    /// The secret before the last rotation, still signed with until `previous_secret_expires_at`.
    pub previous_secret_sealed: Option<Vec<u8>>,
    pub previous_secret_expires_at: Option<i64>,
    /// When deliveries started failing without a success since; `None` while they succeed.
    pub failing_since: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
}

/// What an update changes; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct HookPatch {
    pub hook_url: Option<String>,
    pub status: Option<HookStatus>,
    /// A rotation: the new sealed secret, and the old one with the end of its overlap.
    pub rotate_secret: Option<(Vec<u8>, Vec<u8>, i64)>,
    pub failing_since: Option<Option<i64>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeliveryStatus {
    Pending,
    Delivered,
    Failed,
}

impl DeliveryStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryStatus::Pending => "pending",
            DeliveryStatus::Delivered => "delivered",
            DeliveryStatus::Failed => "failed",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        [Self::Pending, Self::Delivered, Self::Failed]
            .into_iter()
            .find(|v| v.as_str() == s)
    }
}

/// One message to one subscription: a batch of events of its event key, with a fixed payload and id
/// (the `webhook-id`, the same on every attempt, so receivers can drop duplicates).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    /// `msg_…`.
    pub id: String,
    pub hook_key: String,
    pub account: AccountName,
    pub payload: String,
    pub status: DeliveryStatus,
    pub attempts: i64,
    /// When the next attempt is due (for a claimed delivery: when its claim lapses); `None` once final.
    pub next_attempt_at: Option<i64>,
    pub created_at: i64,
    pub finished_at: Option<i64>,
    pub last_status_code: Option<i64>,
    pub last_error: Option<String>,
}

/// One try at delivering.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryAttempt {
    pub delivery_id: String,
    /// 1 for the first attempt.
    pub number: i64,
    pub at: i64,
    pub status_code: Option<i64>,
    pub latency_ms: i64,
    pub error: Option<String>,
}

/// What an attempt decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttemptOutcome {
    Delivered,
    /// Try again at this time.
    Retry {
        at: i64,
    },
    /// Give up on this delivery (retries exhausted, or the receiver said 410).
    Failed,
}

/// A subscription's events waiting to be batched: the oldest first, at most the batch size.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingBatch {
    pub hook: Hook,
    /// (item id, event) pairs.
    pub items: Vec<(i64, crate::Event)>,
}

/// Counts of a subscription's events by the state of their delivery.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct HookStats {
    /// Fanned out but not yet batched, or in a delivery still being tried.
    pub pending: u64,
    pub delivered: u64,
    pub failed: u64,
}
