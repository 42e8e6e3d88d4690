//! Keygate's service layer: everything the server and the CLI do, without HTTP.
//!
//! [`Keygate`] is cheap to clone and is the one handle the protocol layers use: it owns the store, the
//! keyed hash for secrets, the signing keyring and the token policy.

use std::sync::Arc;

use keygate_core::crypto::{KeyPurpose, MasterKey, Sealer};
use keygate_core::secret::Pepper;
use keygate_store::Store;

pub mod api_keys;
pub mod audit;
pub mod auth;
pub mod basic;
pub mod contacts;
pub mod domain_keys;
pub mod error;
pub mod hooks;
pub mod jws;
pub mod legacy;
mod legacy_uses;
pub use legacy_uses::FLUSH_INTERVAL_SECS as LEGACY_USE_FLUSH_SECS;
pub mod lockout;
pub mod manage;
pub mod oauth;
pub mod portal;
pub mod settings;
pub mod signing;
mod token_cache;
pub mod tokens;
pub mod views;

pub use audit::Actor;
pub use error::{ManageError, OAuthError, OAuthErrorCode};
pub use manage::Manager;
pub use settings::{
    ApiKeySettings, HookSettings, LegacyKeySettings, LockoutSettings, PortalSettings, Settings, TokenSettings,
};
use signing::{KeyError, Keyring};

#[derive(Clone)]
pub struct Keygate {
    inner: Arc<Inner>,
}

struct Inner {
    store: Arc<dyn Store>,
    settings: TokenSettings,
    api_keys: ApiKeySettings,
    legacy_keys: LegacyKeySettings,
    lockouts: LockoutSettings,
    hooks: HookSettings,
    portal: PortalSettings,
    hook_sealer: Sealer,
    pepper: Pepper,
    tickets: aws_lc_rs::hmac::Key,
    /// Seals the secrets of API keys that sign HS256 assertions.
    assertion_sealer: Sealer,
    keyring: Keyring,
    verified: token_cache::VerifiedTokens,
    legacy_uses: legacy_uses::LegacyKeyUses,
}

impl Keygate {
    /// Opens the service over a migrated store, creating the first signing keys if there are none.
    pub async fn open(store: Arc<dyn Store>, master: &MasterKey, all: Settings) -> Result<Self, KeyError> {
        let Settings {
            tokens: settings,
            api_keys,
            legacy_keys,
            lockouts,
            hooks,
            portal,
        } = all;
        let retire_publish_for = settings.max_access_token_ttl + settings.leeway + MAINTENANCE_INTERVAL_SECS;
        let keyring = Keyring::open(
            store.clone(),
            Sealer::new(master.derive(KeyPurpose::SigningKeyEncryption)),
            settings.algorithm,
            retire_publish_for,
        )
        .await?;
        let verified = token_cache::VerifiedTokens::new(settings.verified_cache_entries);
        Ok(Self {
            inner: Arc::new(Inner {
                verified,
                legacy_uses: legacy_uses::LegacyKeyUses::default(),
                pepper: Pepper::new(master.derive(KeyPurpose::SecretPepper)),
                tickets: aws_lc_rs::hmac::Key::new(
                    aws_lc_rs::hmac::HMAC_SHA256,
                    &master.derive(KeyPurpose::FormTickets),
                ),
                assertion_sealer: Sealer::new(master.derive(KeyPurpose::AssertionSecrets)),
                store,
                settings,
                api_keys,
                legacy_keys,
                lockouts,
                hooks,
                portal,
                hook_sealer: Sealer::new(master.derive(KeyPurpose::HookSecrets)),
                keyring,
            }),
        })
    }

    pub fn store(&self) -> &Arc<dyn Store> {
        &self.inner.store
    }
    pub fn settings(&self) -> &TokenSettings {
        &self.inner.settings
    }
    pub fn api_key_settings(&self) -> &ApiKeySettings {
        &self.inner.api_keys
    }
    pub fn hook_settings(&self) -> &HookSettings {
        &self.inner.hooks
    }
    pub(crate) fn hook_sealer(&self) -> &Sealer {
        &self.inner.hook_sealer
    }
    pub fn portal_settings(&self) -> &PortalSettings {
        &self.inner.portal
    }
    pub fn lockout_settings(&self) -> &LockoutSettings {
        &self.inner.lockouts
    }
    pub fn legacy_key_settings(&self) -> &LegacyKeySettings {
        &self.inner.legacy_keys
    }
    pub fn pepper(&self) -> &Pepper {
        &self.inner.pepper
    }
    pub(crate) fn legacy_key_uses(&self) -> &legacy_uses::LegacyKeyUses {
        &self.inner.legacy_uses
    }
    pub(crate) fn verified_tokens(&self) -> &token_cache::VerifiedTokens {
        &self.inner.verified
    }
    pub fn keyring(&self) -> &Keyring {
        &self.inner.keyring
    }
    pub(crate) fn ticket_key(&self) -> &aws_lc_rs::hmac::Key {
        &self.inner.tickets
    }
    pub(crate) fn assertion_sealer(&self) -> &Sealer {
        &self.inner.assertion_sealer
    }

    /// Periodic upkeep: pick up key changes made elsewhere, rotate keys when due, purge dead rows.
    pub async fn maintain(&self) {
        if let Err(e) = self.keyring().reload().await {
            tracing::warn!(error = %e, "reloading signing keys failed");
        }
        if let Err(e) = self
            .keyring()
            .rotate_if_due(self.settings().key_rotation_interval)
            .await
        {
            tracing::error!(error = %e, "scheduled signing key rotation failed");
        }
        match self.store().purge_expired(keygate_core::time::now()).await {
            Ok(report) => tracing::debug!(?report, "purged expired rows"),
            Err(e) => tracing::warn!(error = %e, "purging expired rows failed"),
        }
    }
}

/// How often [`Keygate::maintain`] runs on a server.
pub const MAINTENANCE_INTERVAL_SECS: i64 = 60;
