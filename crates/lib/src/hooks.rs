//! REST Hooks subscriptions (scope `hooks`): create, list, change, delete, rotate the signing secret,
//! and read the delivery log. Delivering is the server's dispatcher; the handshake is its HTTP client.

use keygate_core::ids::opaque_id;
use keygate_core::scope::Scope;
use keygate_core::time::now;
use keygate_core::webhook::WebhookSecret;
use keygate_core::InvalidInput;
use keygate_store::{Delivery, DeliveryAttempt, Hook, HookPatch, HookStats, HookStatus, StoreError};
use serde::Serialize;

use crate::tokens::Principal;
use crate::Keygate;

/// The events a subscription can name, `noun.verb`.
pub const EVENT_KEYS: [&str; 5] = [
    keygate_store::CONTACT_ADD,
    keygate_store::CONTACT_EDIT,
    keygate_store::CONTACT_DELETE,
    keygate_store::CONTACT_OPT_IN,
    keygate_store::CONTACT_OPT_OUT,
];

#[derive(Debug, thiserror::Error)]
pub enum HookError {
    #[error("this credential lacks the hooks scope")]
    MissingScope,
    #[error("hook subscription {0} not found")]
    NotFound(String),
    #[error("{0}")]
    Invalid(#[from] InvalidInput),
    #[error("{0}")]
    Store(#[from] StoreError),
    #[error("a hook's signing secret cannot be decrypted: is this the master key it was created with?")]
    Secret,
}

type Result<T> = std::result::Result<T, HookError>;

/// A subscription as Keap shows it.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct HookView {
    pub key: String,
    pub event_key: String,
    pub hook_url: String,
    /// `Verified` (gets events), `Unverified` or `Inactive`.
    #[cfg_attr(feature = "openapi", schema(example = "Verified"))]
    pub status: &'static str,
}

impl From<&Hook> for HookView {
    fn from(h: &Hook) -> Self {
        Self {
            key: h.key.clone(),
            event_key: h.event_key.clone(),
            hook_url: h.hook_url.clone(),
            status: h.status.as_str(),
        }
    }
}

fn require(p: &Principal) -> Result<()> {
    if p.scope.permits(Scope::Hooks) {
        Ok(())
    } else {
        Err(HookError::MissingScope)
    }
}

fn event_key(key: &str) -> Result<String> {
    EVENT_KEYS
        .iter()
        .find(|k| **k == key)
        .map(|k| (*k).to_owned())
        .ok_or_else(|| {
            InvalidInput::new("eventKey", format!("must be one of: {}", EVENT_KEYS.join(", "))).into()
        })
}

impl Keygate {
    /// Checks a hook URL's shape: absolute, HTTPS (unless private targets are allowed), no credentials,
    /// and not an address literal outside the public internet. Names are checked again at every delivery.
    pub fn check_hook_url(&self, raw: &str) -> std::result::Result<url::Url, InvalidInput> {
        let bad = |m: &str| InvalidInput::new("hookUrl", m.to_owned());
        let url = url::Url::parse(raw.trim()).map_err(|_| bad("must be an absolute URL"))?;
        let insecure_ok = self.hook_settings().allow_private_targets;
        match url.scheme() {
            "https" => {}
            "http" if insecure_ok => {}
            _ => return Err(bad("must be an https:// URL")),
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(bad("must not carry credentials"));
        }
        if raw.len() > 2000 {
            return Err(bad("must be at most 2000 characters"));
        }
        let literal = match url.host() {
            Some(url::Host::Ipv4(ip)) => Some(std::net::IpAddr::V4(ip)),
            Some(url::Host::Ipv6(ip)) => Some(std::net::IpAddr::V6(ip)),
            Some(url::Host::Domain(d)) if d.eq_ignore_ascii_case("localhost") => Some([127, 0, 0, 1].into()),
            Some(url::Host::Domain(_)) => None,
            None => return Err(bad("must name a host")),
        };
        if literal.is_some_and(|ip| !keygate_core::net::is_public(ip)) && !insecure_ok {
            return Err(bad("must not point at a private, loopback or link-local address"));
        }
        Ok(url)
    }

    /// The event keys a subscription can name.
    pub fn hook_event_keys(&self, p: &Principal) -> Result<&'static [&'static str]> {
        require(p)?;
        Ok(&EVENT_KEYS)
    }

    /// A new, unverified subscription and its signing secret (shown once).
    pub async fn create_hook(&self, p: &Principal, key: &str, url: &str) -> Result<(Hook, WebhookSecret)> {
        require(p)?;
        let event_key = event_key(key)?;
        let url = self.check_hook_url(url)?;
        let secret = WebhookSecret::generate();
        let id = opaque_id("hk_");
        let t = now();
        let hook = Hook {
            secret_sealed: self.hook_sealer().seal(id.as_bytes(), secret.as_bytes()),
            key: id,
            account: p.account.clone(),
            event_key,
            hook_url: url.to_string(),
            status: HookStatus::Unverified,
            previous_secret_sealed: None,
            previous_secret_expires_at: None,
            failing_since: None,
            created_at: t,
            updated_at: t,
        };
        self.store().create_hook(&hook).await?;
        Ok((hook, secret))
    }

    pub async fn hooks(&self, p: &Principal) -> Result<Vec<Hook>> {
        require(p)?;
        Ok(self.store().list_hooks(&p.account).await?)
    }

    pub async fn hook(&self, p: &Principal, key: &str) -> Result<Hook> {
        require(p)?;
        self.store()
            .get_hook(&p.account, key)
            .await?
            .ok_or_else(|| HookError::NotFound(key.to_owned()))
    }

    /// `PUT`: a new URL (the subscription must be verified again) for the same event key.
    pub async fn retarget_hook(
        &self,
        p: &Principal,
        key: &str,
        event: Option<&str>,
        url: &str,
    ) -> Result<Hook> {
        let hook = self.hook(p, key).await?;
        if event.is_some_and(|e| e != hook.event_key) {
            return Err(InvalidInput::new(
                "eventKey",
                "cannot change; create a new subscription for another event",
            )
            .into());
        }
        let url = self.check_hook_url(url)?.to_string();
        let status = (url != hook.hook_url).then_some(HookStatus::Unverified);
        let patch = HookPatch {
            hook_url: Some(url),
            status,
            ..HookPatch::default()
        };
        self.patch_hook(&hook, &patch).await
    }

    pub async fn set_hook_status(&self, hook: &Hook, status: HookStatus) -> Result<Hook> {
        let patch = HookPatch {
            status: Some(status),
            failing_since: (status == HookStatus::Verified).then_some(None),
            ..HookPatch::default()
        };
        self.patch_hook(hook, &patch).await
    }

    async fn patch_hook(&self, hook: &Hook, patch: &HookPatch) -> Result<Hook> {
        self.store()
            .update_hook(&hook.account, &hook.key, patch, now())
            .await?
            .ok_or_else(|| HookError::NotFound(hook.key.clone()))
    }

    pub async fn delete_hook(&self, p: &Principal, key: &str) -> Result<()> {
        require(p)?;
        if self.store().delete_hook(&p.account, key).await? {
            Ok(())
        } else {
            Err(HookError::NotFound(key.to_owned()))
        }
    }

    /// A new signing secret (shown once); the old one keeps being signed with for the grace period.
    pub async fn rotate_hook_secret(&self, p: &Principal, key: &str) -> Result<(Hook, WebhookSecret)> {
        let hook = self.hook(p, key).await?;
        let secret = WebhookSecret::generate();
        let until = now() + self.hook_settings().secret_rotation_grace;
        let patch = HookPatch {
            rotate_secret: Some((
                self.hook_sealer().seal(hook.key.as_bytes(), secret.as_bytes()),
                hook.secret_sealed.clone(),
                until,
            )),
            ..HookPatch::default()
        };
        Ok((self.patch_hook(&hook, &patch).await?, secret))
    }

    /// The secrets a delivery is signed with now: the current one, and the previous during its overlap.
    pub fn hook_secrets(&self, hook: &Hook) -> Result<Vec<WebhookSecret>> {
        let open = |sealed: &[u8]| {
            self.hook_sealer()
                .open(hook.key.as_bytes(), sealed)
                .map(WebhookSecret::from_bytes)
                .map_err(|_| HookError::Secret)
        };
        let mut out = vec![open(&hook.secret_sealed)?];
        if let (Some(old), Some(until)) = (&hook.previous_secret_sealed, hook.previous_secret_expires_at) {
            if until > now() {
                out.push(open(old)?);
            }
        }
        Ok(out)
    }

    pub async fn hook_deliveries(
        &self,
        p: &Principal,
        key: &str,
        limit: u32,
        before: Option<&str>,
    ) -> Result<Vec<(Delivery, Vec<DeliveryAttempt>)>> {
        let hook = self.hook(p, key).await?;
        let deliveries = self
            .store()
            .list_deliveries(&p.account, &hook.key, limit.clamp(1, 100), before)
            .await?;
        let mut out = Vec::with_capacity(deliveries.len());
        for d in deliveries {
            let attempts = self.store().list_attempts(&d.id).await?;
            out.push((d, attempts));
        }
        Ok(out)
    }

    pub async fn replay_delivery(&self, p: &Principal, key: &str, id: &str) -> Result<()> {
        let hook = self.hook(p, key).await?;
        if self
            .store()
            .replay_delivery(&p.account, &hook.key, id, now())
            .await?
        {
            Ok(())
        } else {
            Err(HookError::NotFound(format!("{key}/deliveries/{id}")))
        }
    }

    pub async fn hook_stats(&self, p: &Principal, key: &str) -> Result<HookStats> {
        let hook = self.hook(p, key).await?;
        Ok(self.store().hook_stats(&p.account, &hook.key).await?)
    }
}
