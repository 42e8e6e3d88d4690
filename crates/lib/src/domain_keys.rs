//! Managing domain keys: the public, origin-bound credential of browser integrations.

use keygate_core::ids::{ApiKeyId, DomainKeyId};
use keygate_core::model::{DomainKey, KeyStatus};
use keygate_core::scope::{Scope, ScopeSet};
use keygate_core::time::now;
use keygate_core::uri::OriginPattern;
use keygate_core::InvalidInput;
use serde::Deserialize;
use serde_json::json;

use crate::manage::clean_label;
use crate::views::DomainKeyView;
use crate::{ManageError, Manager};

type Result<T> = std::result::Result<T, ManageError>;

#[derive(Debug, Clone, Deserialize, serde::Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CreateDomainKey {
    pub name: String,
    /// The API key (of the same account) whose subject the domain key acts as.
    pub api_key_id: String,
    /// Web origins the key works from: `https://shop.example.com`, `https://*.example.com`.
    pub origins: Vec<String>,
    /// Space-separated; defaults to `contacts.read`. Must be within the API key's scopes.
    pub scopes: Option<String>,
}

const MAX_ORIGINS: usize = 50;

impl Manager<'_> {
    async fn load_domain_key(&self, id: &str) -> Result<DomainKey> {
        let id = DomainKeyId::parse(id)?;
        self.store()
            .get_domain_key(&id)
            .await?
            .ok_or_else(|| ManageError::NotFound(format!("domain key {id}")))
    }

    /// Creates a domain key. It is public by design, so it is shown in full, always; what protects it is
    /// its origins, its read-only default scope, and that it can never impersonate.
    pub async fn create_domain_key(&self, account: &str, req: CreateDomainKey) -> Result<DomainKeyView> {
        let name = clean_label("name", &req.name)?;
        let api_key_id =
            ApiKeyId::parse(&req.api_key_id).map_err(|e| InvalidInput::new("api_key_id", e.message))?;
        let key = self.store().get_api_key(&api_key_id).await?;
        let Some(key) = key.filter(|k| k.account.as_str() == account) else {
            return Err(ManageError::NotFound(format!(
                "API key {api_key_id} in account {account}"
            )));
        };
        if key.status != KeyStatus::Active {
            return Err(ManageError::Conflict(format!("API key {api_key_id} is revoked")));
        }
        if req.origins.is_empty() || req.origins.len() > MAX_ORIGINS {
            return Err(
                InvalidInput::new("origins", format!("must list 1 to {MAX_ORIGINS} web origins")).into(),
            );
        }
        let origins: Vec<String> = req
            .origins
            .iter()
            .map(|o| {
                OriginPattern::parse(o)
                    .map(|p| p.to_string())
                    .map_err(|e| InvalidInput::new("origins", e.message))
            })
            .collect::<std::result::Result<_, _>>()?;
        let scopes = match req.scopes.as_deref() {
            Some(s) => ScopeSet::parse(s).map_err(|e| InvalidInput::new("scopes", e.message))?,
            None => ScopeSet::from_scopes([Scope::ContactsRead]),
        };
        if scopes.is_empty() || scopes.contains(Scope::Impersonate) || scopes.contains(Scope::Full) {
            return Err(InvalidInput::new(
                "scopes",
                "must name at least one scope, and neither impersonate nor full: domain keys never impersonate",
            )
            .into());
        }
        if !key.scopes.covers(&scopes) {
            return Err(InvalidInput::new(
                "scopes",
                format!("must be within the API key's scopes: {}", key.scopes),
            )
            .into());
        }
        let t = now();
        let dk = DomainKey {
            id: DomainKeyId::generate(),
            account: key.account.clone(),
            api_key_id,
            name,
            origins,
            scopes,
            status: KeyStatus::Active,
            created_at: t,
            updated_at: t,
            revoked_at: None,
        };
        self.store().create_domain_key(&dk).await?;
        let details =
            json!({"name": dk.name, "api_key_id": dk.api_key_id, "origins": dk.origins, "scopes": dk.scopes});
        self.record("domain_key.created", dk.id.as_str(), Some(&dk.account), details)
            .await;
        Ok((&dk).into())
    }

    pub async fn list_domain_keys(&self, account: &str) -> Result<Vec<DomainKeyView>> {
        let account = keygate_core::ids::AccountName::parse(account)?;
        if self.store().get_account(&account).await?.is_none() {
            return Err(ManageError::NotFound(format!("account {account}")));
        }
        Ok(self
            .store()
            .list_domain_keys(&account)
            .await?
            .iter()
            .map(Into::into)
            .collect())
    }

    pub async fn get_domain_key(&self, id: &str) -> Result<DomainKeyView> {
        Ok((&self.load_domain_key(id).await?).into())
    }

    /// Revokes for good: its tokens fail on their next use and it no longer opens CORS for its origins.
    pub async fn revoke_domain_key(&self, id: &str) -> Result<DomainKeyView> {
        let dk = self.load_domain_key(id).await?;
        let revoked = self
            .store()
            .revoke_domain_key(&dk.id, now())
            .await?
            .ok_or_else(|| ManageError::NotFound(format!("domain key {}", dk.id)))?;
        if dk.status != KeyStatus::Revoked {
            self.record(
                "domain_key.revoked",
                dk.id.as_str(),
                Some(&dk.account),
                json!({"name": dk.name}),
            )
            .await;
        }
        Ok((&revoked).into())
    }
}
