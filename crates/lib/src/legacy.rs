//! Legacy static keys: the deprecated door, kept open for integrations that still depend on it.

use keygate_core::ids::{AccountName, LegacyKeyId};
use keygate_core::model::{AccountStatus, KeyStatus, LegacyKey};
use keygate_core::scope::{Scope, ScopeSet};
use keygate_core::secret::SecretKind;
use keygate_core::time::now;
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::auth::AuthError;
use crate::manage::clean_label;
use crate::tokens::{Credential, Principal};
use crate::{Actor, Keygate, ManageError, Manager};

type Result<T> = std::result::Result<T, ManageError>;

#[derive(Debug, Clone, Deserialize, serde::Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CreateLegacyKey {
    pub name: String,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LegacyKeyView {
    pub id: String,
    pub account: String,
    pub name: String,
    #[cfg_attr(feature = "openapi", schema(value_type = keygate_core::model::KeyStatus))]
    pub status: String,
    pub key_last4: String,
    /// How many calls it authenticated: who still depends on it.
    pub use_count: i64,
    pub last_used_at: Option<i64>,
    pub created_at: i64,
    pub revoked_at: Option<i64>,
}

impl From<&LegacyKey> for LegacyKeyView {
    fn from(k: &LegacyKey) -> Self {
        Self {
            id: k.id.to_string(),
            account: k.account.to_string(),
            name: k.name.clone(),
            status: k.status.to_string(),
            key_last4: k.secret.last4.clone(),
            use_count: k.use_count,
            last_used_at: k.last_used_at,
            created_at: k.created_at,
            revoked_at: k.revoked_at,
        }
    }
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LegacyKeyWithSecret {
    #[serde(flatten)]
    pub key: LegacyKeyView,
    /// The key itself, shown once.
    pub key_value: String,
}

const DAY: i64 = 86_400;

impl Manager<'_> {
    /// Only while `legacy_keys.allow_new` is on: new integrations should use API keys.
    pub async fn create_legacy_key(
        &self,
        account: &str,
        req: CreateLegacyKey,
    ) -> Result<LegacyKeyWithSecret> {
        if !self.legacy_key_settings().allow_new {
            return Err(ManageError::Conflict(
                "creating legacy keys is disabled (legacy_keys.allow_new = false); use an API key instead"
                    .into(),
            ));
        }
        let account = AccountName::parse(account)?;
        let name = clean_label("name", &req.name)?;
        let value = SecretKind::LegacyKey.generate();
        let t = now();
        let key = LegacyKey {
            id: LegacyKeyId::generate(),
            account,
            name,
            secret: self.stored(&value),
            status: KeyStatus::Active,
            use_count: 0,
            last_used_at: None,
            created_at: t,
            updated_at: t,
            revoked_at: None,
        };
        self.store().create_legacy_key(&key).await?;
        self.record(
            "legacy_key.created",
            key.id.as_str(),
            Some(&key.account),
            json!({"name": key.name}),
        )
        .await;
        Ok(LegacyKeyWithSecret {
            key: (&key).into(),
            key_value: value.expose().to_owned(),
        })
    }

    pub async fn list_legacy_keys(&self, account: &str) -> Result<Vec<LegacyKeyView>> {
        let account = AccountName::parse(account)?;
        // This node's counts are exact in the listing; other nodes' arrive within their flush interval.
        self.flush_legacy_key_uses().await;
        if self.store().get_account(&account).await?.is_none() {
            return Err(ManageError::NotFound(format!("account {account}")));
        }
        Ok(self
            .store()
            .list_legacy_keys(&account)
            .await?
            .iter()
            .map(Into::into)
            .collect())
    }

    pub async fn revoke_legacy_key(&self, id: &str) -> Result<LegacyKeyView> {
        let id = LegacyKeyId::parse(id)?;
        let Some(before) = self.store().get_legacy_key(&id).await? else {
            return Err(ManageError::NotFound(format!("legacy key {id}")));
        };
        let key = self
            .store()
            .revoke_legacy_key(&id, now())
            .await?
            .ok_or_else(|| ManageError::NotFound(format!("legacy key {id}")))?;
        if before.status != KeyStatus::Revoked {
            let details = json!({"name": key.name, "use_count": key.use_count});
            self.record("legacy_key.revoked", id.as_str(), Some(&key.account), details)
                .await;
        }
        Ok((&key).into())
    }
}

impl Keygate {
    /// Authenticates a call made with a legacy key. Every use is counted; the first use of each day is also
    /// written to the audit log, so operators see who still depends on legacy keys without a flood.
    pub async fn authenticate_legacy_key(&self, value: &str) -> std::result::Result<Principal, AuthError> {
        let found = self
            .store()
            .find_legacy_key_and_account_status(&self.pepper().hash(value))
            .await?;
        let Some((key, account)) = found.filter(|(k, _)| k.status == KeyStatus::Active) else {
            return Err(AuthError::InvalidCredentials);
        };
        if account != Some(AccountStatus::Active) {
            return Err(AuthError::AccountSuspended);
        }
        let t = now();
        let uses = self.legacy_key_uses();
        if uses.count(&key.id, t) {
            return Ok(legacy_principal(key));
        }
        let previous = self.store().record_legacy_key_use(&key.id, 1, t).await?;
        uses.written(&key.id, t);
        if previous.is_none_or(|p| p / DAY != t / DAY) {
            let actor = Actor::Credential(format!("legacy_key:{}", key.id));
            self.audit(
                &actor,
                "legacy_key.used",
                key.id.as_str(),
                Some(&key.account),
                json!({"name": key.name}),
            )
            .await;
        }
        Ok(legacy_principal(key))
    }

    /// Writes the legacy-key uses counted in memory (every few seconds, and at shutdown).
    pub async fn flush_legacy_key_uses(&self) {
        if let Err(e) = self.legacy_key_uses().flush(self.store().as_ref(), now()).await {
            tracing::warn!(error = %e, "could not write legacy-key use counts; kept for the next try");
        }
    }
}

/// A legacy key acts as its account, with every scope: what such keys always could do.
fn legacy_principal(key: LegacyKey) -> Principal {
    Principal {
        account: key.account,
        credential: Credential::LegacyKey(key.id),
        user_id: None,
        scope: ScopeSet::from_scopes([Scope::Full]),
        claims: None,
    }
}
