//! REST Hooks: subscriptions (scope `hooks`), their delivery log, and [`verify_signature`] for the
//! receiving end.
//!
//! ```no_run
//! # async fn example(client: keygate_client::Client) -> Result<(), keygate_client::Error> {
//! let hooks = client.hooks();
//! let created = hooks
//!     .subscribe("contact.add", "https://crm-sync.example.com/keygate")
//!     .await?;
//! // Shown once: store it where the receiver can read it.
//! let secret = created.secret.as_ref().map(|s| s.expose().to_owned());
//! if let Some(why) = &created.verification_error {
//!     println!("the receiver did not confirm: {why}");
//! }
//! for delivery in hooks.deliveries(&created.subscription.key, None, None).await? {
//!     println!("{} {} after {} attempts", delivery.id, delivery.status, delivery.attempts.len());
//! }
//! # let _ = secret;
//! # Ok(())
//! # }
//! ```

use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use keygate_core::webhook::WebhookSecret;
use reqwest::header::HeaderMap;
use reqwest::Method;
use serde::{Deserialize, Serialize};
use url::Url;

use crate::client::{Call, Client};
use crate::Error;

/// How far a delivery's timestamp may be from now (Standard Webhooks suggests five minutes).
pub const DEFAULT_TOLERANCE: Duration = Duration::from_secs(300);

/// Whether a subscription gets events.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub enum HookStatus {
    /// The receiver confirmed the handshake: it gets events.
    Verified,
    /// The receiver has not confirmed; [`Hooks::verify`] tries again.
    Unverified,
    /// Turned off (the receiver answered 410, or failed for too long); [`Hooks::verify`] revives it.
    Inactive,
    /// A status this version of the client does not know.
    #[serde(other)]
    Unknown,
}

/// A subscription (never with its secret).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct Subscription {
    /// `hk_…`
    pub key: String,
    /// `contact.add`, …
    pub event_key: String,
    pub hook_url: String,
    pub status: HookStatus,
}

/// A signing secret (`whsec_…`). `Debug` hides it.
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(transparent)]
pub struct HookSecret(String);

impl HookSecret {
    /// The secret, for the receiver's [`verify_signature`].
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for HookSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("HookSecret([redacted])")
    }
}

/// A subscription with what the last handshake said and, on creation and rotation, the signing secret.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct SubscriptionResult {
    #[serde(flatten)]
    pub subscription: Subscription,
    /// Why the handshake did not verify the receiver, when it did not.
    #[serde(default)]
    pub verification_error: Option<String>,
    /// `whsec_…`: on [`Hooks::subscribe`] and [`Hooks::rotate_secret`] only. It is shown once.
    #[serde(default)]
    pub secret: Option<HookSecret>,
    /// After a rotation: until when (RFC 3339) the previous secret still signs too.
    #[serde(default)]
    pub previous_secret_expires_at: Option<String>,
}

/// One try at delivering.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Attempt {
    pub number: i64,
    /// RFC 3339.
    pub at: String,
    /// The receiver's status; `None` when it did not answer.
    pub status_code: Option<i64>,
    pub latency_ms: i64,
    pub error: Option<String>,
}

/// One message: a batch of events, its attempts, and the payload as sent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Delivery {
    /// The `webhook-id`, the same on every attempt.
    pub id: String,
    /// `pending`, `delivered` or `failed`.
    pub status: String,
    pub created_at: String,
    pub finished_at: Option<String>,
    pub next_attempt_at: Option<String>,
    pub attempts: Vec<Attempt>,
    pub payload: serde_json::Value,
}

impl Delivery {
    /// The payload as an event batch.
    pub fn event(&self) -> Result<HookEvent, serde_json::Error> {
        HookEvent::deserialize(&self.payload)
    }
}

/// A delivery's body: which objects changed; read them through `api_url` with your own credentials.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct HookEvent {
    pub event_key: String,
    /// `contact`.
    pub object_type: String,
    pub object_keys: Vec<ObjectKey>,
}

impl HookEvent {
    /// Parses a delivery's body (after [`verify_signature`] accepted it).
    pub fn from_body(body: &[u8]) -> Result<Self, serde_json::Error> {
        serde_json::from_slice(body)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ObjectKey {
    pub id: i64,
    pub api_url: String,
    /// When the change happened (RFC 3339).
    pub timestamp: String,
}

/// Counts of a subscription's events by where their delivery stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct HookStats {
    pub pending: u64,
    pub delivered: u64,
    pub failed: u64,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Subscribe<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    event_key: Option<&'a str>,
    hook_url: &'a str,
}

#[derive(Deserialize)]
struct DeliveryLog {
    deliveries: Vec<Delivery>,
}

/// The REST Hooks API; from [`Client::hooks`]. Needs the `hooks` scope.
#[derive(Debug, Clone, Copy)]
pub struct Hooks<'a> {
    client: &'a Client,
}

impl<'a> Hooks<'a> {
    pub(crate) fn new(client: &'a Client) -> Self {
        Self { client }
    }

    fn url(&self, rest: &[&str]) -> Url {
        let mut segments = vec!["v1", "hooks"];
        segments.extend_from_slice(rest);
        self.client.url(&segments)
    }

    /// The event keys a subscription can name (`contact.add`, `contact.edit`, …).
    pub async fn event_keys(&self) -> Result<Vec<String>, Error> {
        self.client
            .json(Call::new(Method::GET, self.url(&["event_keys"])))
            .await
    }

    /// Subscribes `hook_url` (HTTPS, public) to `event_key`. Keygate runs the handshake at once; the
    /// answer holds the signing secret (shown only now) and, if the receiver did not confirm, why.
    pub async fn subscribe(&self, event_key: &str, hook_url: &str) -> Result<SubscriptionResult, Error> {
        let body = Subscribe {
            event_key: Some(event_key),
            hook_url,
        };
        let call = Call::new(Method::POST, self.url(&[])).json(&body)?;
        self.client.json(call).await
    }

    /// The account's subscriptions, oldest first.
    pub async fn list(&self) -> Result<Vec<Subscription>, Error> {
        self.client.json(Call::new(Method::GET, self.url(&[]))).await
    }

    pub async fn get(&self, key: &str) -> Result<Subscription, Error> {
        self.client.json(Call::new(Method::GET, self.url(&[key]))).await
    }

    /// Points a subscription at a new URL (which must pass the handshake again).
    pub async fn retarget(&self, key: &str, hook_url: &str) -> Result<SubscriptionResult, Error> {
        let body = Subscribe {
            event_key: None,
            hook_url,
        };
        let call = Call::new(Method::PUT, self.url(&[key])).json(&body)?;
        self.client.json(call).await
    }

    /// Unsubscribes, dropping pending deliveries.
    pub async fn delete(&self, key: &str) -> Result<(), Error> {
        self.client
            .send(Call::new(Method::DELETE, self.url(&[key])))
            .await
            .map(drop)
    }

    /// Runs the handshake again (also how an `Inactive` subscription comes back).
    pub async fn verify(&self, key: &str) -> Result<SubscriptionResult, Error> {
        self.client
            .json(Call::new(Method::POST, self.url(&[key, "verify"])))
            .await
    }

    /// A new signing secret (shown once); the old one keeps signing too until
    /// `previous_secret_expires_at`.
    pub async fn rotate_secret(&self, key: &str) -> Result<SubscriptionResult, Error> {
        self.client
            .json(Call::new(Method::POST, self.url(&[key, "rotate-secret"])))
            .await
    }

    /// The delivery log, newest first: `limit` (1–100, default 50) deliveries made before the delivery
    /// `before` (for the next page, the last id of this one).
    pub async fn deliveries(
        &self,
        key: &str,
        limit: Option<u32>,
        before: Option<&str>,
    ) -> Result<Vec<Delivery>, Error> {
        let mut url = self.url(&[key, "deliveries"]);
        if limit.is_some() || before.is_some() {
            let mut q = url.query_pairs_mut();
            if let Some(l) = limit {
                q.append_pair("limit", &l.to_string());
            }
            if let Some(b) = before {
                q.append_pair("before", b);
            }
        }
        let log: DeliveryLog = self.client.json(Call::new(Method::GET, url)).await?;
        Ok(log.deliveries)
    }

    /// Sends a delivery again at once, with the same id and payload.
    pub async fn replay(&self, key: &str, delivery_id: &str) -> Result<(), Error> {
        let url = self.url(&[key, "deliveries", delivery_id, "replay"]);
        self.client.send(Call::new(Method::POST, url)).await.map(drop)
    }

    /// Counts of the subscription's events: pending, delivered, failed.
    pub async fn stats(&self, key: &str) -> Result<HookStats, Error> {
        self.client
            .json(Call::new(Method::GET, self.url(&[key, "stats"])))
            .await
    }
}

/// The three Standard Webhooks headers of a delivery.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SignatureHeaders<'a> {
    /// `webhook-id`
    pub id: &'a str,
    /// `webhook-timestamp`: Unix seconds.
    pub timestamp: &'a str,
    /// `webhook-signature`: one or more space-separated `v1,<base64>`.
    pub signature: &'a str,
}

impl<'a> SignatureHeaders<'a> {
    /// The headers from a request's header map (`http::HeaderMap`, as axum, hyper and reqwest use).
    pub fn from_headers(headers: &'a HeaderMap) -> Result<Self, SignatureError> {
        let get = |name: &'static str| {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .ok_or(SignatureError::MissingHeader(name))
        };
        Ok(Self {
            id: get("webhook-id")?,
            timestamp: get("webhook-timestamp")?,
            signature: get("webhook-signature")?,
        })
    }
}

/// `(webhook-id, webhook-timestamp, webhook-signature)`.
impl<'a> From<(&'a str, &'a str, &'a str)> for SignatureHeaders<'a> {
    fn from((id, timestamp, signature): (&'a str, &'a str, &'a str)) -> Self {
        Self {
            id,
            timestamp,
            signature,
        }
    }
}

/// Why a delivery was not accepted as Keygate's.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SignatureError {
    #[error("the {0} header is missing")]
    MissingHeader(&'static str),
    #[error("the signing secret is not a whsec_ secret")]
    InvalidSecret,
    #[error("webhook-timestamp is not Unix seconds")]
    InvalidTimestamp,
    /// Too old (a replay?) or too far in the future.
    #[error("webhook-timestamp is {skew_secs} s from now, more than the {tolerance_secs} s tolerated")]
    TimestampOutOfTolerance { skew_secs: u64, tolerance_secs: u64 },
    /// No `v1,` signature in the header is the secret's signature of this id, timestamp and body.
    #[error("no signature matches")]
    Mismatch,
}

/// Verifies a hook delivery the Standard Webhooks way: one of the `v1,` signatures in the header must be
/// the base64 HMAC-SHA256 of `{id}.{timestamp}.{body}` keyed with the subscription's `whsec_…` secret
/// (compared in constant time; during a secret rotation the header holds two), and the timestamp must be
/// within `tolerance` of `now`. Pass the body exactly as received, before any parsing.
///
/// Use `webhook-id` to drop duplicates: delivery is at least once, and every attempt has the same id.
///
/// ```
/// use std::time::{Duration, SystemTime, UNIX_EPOCH};
/// use keygate_client::hooks::{verify_signature, SignatureError, DEFAULT_TOLERANCE};
///
/// let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
/// let headers = (
///     "msg_p5jXN8AQM9LWM0D4loKWxJek",
///     "1614265330",
///     "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
/// );
/// let body = br#"{"test": 2432232314}"#;
/// let now = UNIX_EPOCH + Duration::from_secs(1614265330 + 10);
/// assert_eq!(verify_signature(secret, headers, body, DEFAULT_TOLERANCE, now), Ok(()));
///
/// let tampered = br#"{"test": 2432232315}"#;
/// assert_eq!(
///     verify_signature(secret, headers, tampered, DEFAULT_TOLERANCE, now),
///     Err(SignatureError::Mismatch)
/// );
/// let an_hour_later = now + Duration::from_secs(3600);
/// assert!(matches!(
///     verify_signature(secret, headers, body, DEFAULT_TOLERANCE, an_hour_later),
///     Err(SignatureError::TimestampOutOfTolerance { .. })
/// ));
/// # let _ = SystemTime::now();
/// ```
pub fn verify_signature<'a>(
    secret: &str,
    headers: impl Into<SignatureHeaders<'a>>,
    body: &[u8],
    tolerance: Duration,
    now: SystemTime,
) -> Result<(), SignatureError> {
    let headers = headers.into();
    let secret = WebhookSecret::decode(secret.trim()).ok_or(SignatureError::InvalidSecret)?;
    let timestamp: i64 = headers
        .timestamp
        .trim()
        .parse()
        .map_err(|_| SignatureError::InvalidTimestamp)?;
    let now = match now.duration_since(UNIX_EPOCH) {
        Ok(d) => i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
        Err(e) => -i64::try_from(e.duration().as_secs()).unwrap_or(i64::MAX),
    };
    let skew = now.abs_diff(timestamp);
    if skew > tolerance.as_secs() {
        return Err(SignatureError::TimestampOutOfTolerance {
            skew_secs: skew,
            tolerance_secs: tolerance.as_secs(),
        });
    }
    if secret.verify(headers.id, timestamp, body, headers.signature) {
        Ok(())
    } else {
        Err(SignatureError::Mismatch)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_verify_as_standard_webhooks_do() {
        let secret = WebhookSecret::generate();
        let (id, ts, body) = ("msg_1", 1_800_000_000_i64, br#"{"event_key":"contact.add"}"#);
        let sig = secret.sign(id, ts, body);
        let now = UNIX_EPOCH + Duration::from_secs(ts as u64);
        let ts_text = ts.to_string();
        let check = |s: &str, b: &[u8], at: SystemTime| {
            verify_signature(
                &secret.encode(),
                (id, ts_text.as_str(), s),
                b,
                DEFAULT_TOLERANCE,
                at,
            )
        };
        assert_eq!(check(&sig, body, now), Ok(()));
        // During a rotation the header carries two signatures: either matching is enough.
        let old = WebhookSecret::generate().sign(id, ts, body);
        assert_eq!(check(&format!("{sig} {old}"), body, now), Ok(()));
        assert_eq!(check(&format!("{old} {sig}"), body, now), Ok(()));
        assert_eq!(check(&old, body, now), Err(SignatureError::Mismatch));
        assert_eq!(check(&sig, b"{}", now), Err(SignatureError::Mismatch));
        assert_eq!(check("", body, now), Err(SignatureError::Mismatch));
        // Within five minutes either way, not beyond.
        assert_eq!(check(&sig, body, now + Duration::from_secs(300)), Ok(()));
        assert_eq!(check(&sig, body, now - Duration::from_secs(300)), Ok(()));
        assert_eq!(
            check(&sig, body, now + Duration::from_secs(301)),
            Err(SignatureError::TimestampOutOfTolerance {
                skew_secs: 301,
                tolerance_secs: 300
            })
        );
        assert!(check(&sig, body, now - Duration::from_secs(301)).is_err());
        assert_eq!(
            verify_signature("nope!", (id, "1", sig.as_str()), body, DEFAULT_TOLERANCE, now),
            Err(SignatureError::InvalidSecret)
        );
        assert_eq!(
            verify_signature(
                &secret.encode(),
                (id, "soon", sig.as_str()),
                body,
                DEFAULT_TOLERANCE,
                now
            ),
            Err(SignatureError::InvalidTimestamp)
        );
    }

    #[test]
    fn headers_come_from_a_header_map() {
        let mut h = HeaderMap::new();
        h.insert("webhook-id", "msg_1".parse().unwrap());
        h.insert("webhook-timestamp", "5".parse().unwrap());
        assert_eq!(
            SignatureHeaders::from_headers(&h),
            Err(SignatureError::MissingHeader("webhook-signature"))
        );
        h.insert("webhook-signature", "v1,x".parse().unwrap());
        assert_eq!(
            SignatureHeaders::from_headers(&h).unwrap(),
            SignatureHeaders::from(("msg_1", "5", "v1,x"))
        );
    }

    #[test]
    fn subscription_bodies_parse_and_hide_the_secret() {
        let r: SubscriptionResult = serde_json::from_str(
            r#"{"key":"hk_1","eventKey":"contact.add","hookUrl":"https://x.example/h","status":"Verified",
                "secret":"whsec_SECRETSECRET"}"#,
        )
        .unwrap();
        assert_eq!(r.subscription.status, HookStatus::Verified);
        assert_eq!(r.secret.as_ref().unwrap().expose(), "whsec_SECRETSECRET");
        assert!(!format!("{r:?}").contains("SECRET"));
        let s: Subscription =
            serde_json::from_str(r#"{"key":"hk_1","eventKey":"e","hookUrl":"u","status":"Paused"}"#).unwrap();
        assert_eq!(s.status, HookStatus::Unknown);
        let e = HookEvent::from_body(
            br#"{"event_key":"contact.add","object_type":"contact",
                 "object_keys":[{"id":7,"api_url":"https://kg/v1/contacts/7","timestamp":"2026-11-25T10:20:30Z"}]}"#,
        )
        .unwrap();
        assert_eq!(e.object_keys[0].id, 7);
    }
}
