//! Managing API keys (the credential of server-side integrations) and reading the audit log.

use keygate_core::ids::{AccountName, ApiKeyId, UserId};
use keygate_core::model::{ApiKey, KeyStatus, Role, UserStatus};
use keygate_core::scope::{Scope, ScopeSet};
use keygate_core::secret::SecretKind;
use keygate_core::time::now;
use keygate_core::InvalidInput;
use keygate_store::AuditQuery;
use serde::Deserialize;
use serde_json::json;

use crate::manage::{clean_label, rotation_grace};
use crate::views::{ApiKeyView, ApiKeyWithSecret, AuditEventView};
use crate::{ManageError, Manager};

type Result<T> = std::result::Result<T, ManageError>;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateApiKey {
    pub name: String,
    /// The user the key acts as; absent for a service key acting as the account.
    pub user_id: Option<String>,
    /// Space-separated; defaults to `contacts.read contacts.write hooks`.
    pub scopes: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuditFilter {
    pub account: Option<String>,
    pub action: Option<String>,
    /// Only events with a smaller id: pass the last id of a page to get the next.
    pub before: Option<i64>,
    /// At most 1000; default 100.
    pub limit: Option<u32>,
}

impl Manager<'_> {
    async fn load_key(&self, id: &str) -> Result<ApiKey> {
        let id = ApiKeyId::parse(id)?;
        self.store()
            .get_api_key(&id)
            .await?
            .ok_or_else(|| ManageError::NotFound(format!("API key {id}")))
    }

    async fn existing_account(&self, account: &str) -> Result<AccountName> {
        let account = AccountName::parse(account)?;
        match self.store().get_account(&account).await? {
            Some(_) => Ok(account),
            None => Err(ManageError::NotFound(format!("account {account}"))),
        }
    }

    /// Creates a key; its secret is shown once. A key acting as a member user can never hold
    /// `impersonate`, as the member could not grant it either.
    pub async fn create_api_key(&self, account: &str, req: CreateApiKey) -> Result<ApiKeyWithSecret> {
        let account = self.existing_account(account).await?;
        let name = clean_label("name", &req.name)?;
        let scopes = match req.scopes.as_deref() {
            Some(s) => ScopeSet::parse(s).map_err(|e| InvalidInput::new("scopes", e.message))?,
            None => ScopeSet::member_default(),
        };
        if scopes.is_empty() {
            return Err(InvalidInput::new("scopes", "must name at least one scope").into());
        }
        let user_id = match req.user_id.as_deref() {
            None => None,
            Some(id) => {
                let id = UserId::parse(id)?;
                let user = self.store().get_user(&id).await?.filter(|u| u.account == account);
                let Some(user) = user else {
                    return Err(ManageError::NotFound(format!("user {id} in account {account}")));
                };
                if user.status != UserStatus::Active {
                    return Err(ManageError::Conflict(format!("user {id} is suspended")));
                }
                if user.role != Role::Admin && scopes.iter().any(Scope::requires_admin) {
                    return Err(InvalidInput::new(
                        "scopes",
                        "a key acting as a member cannot hold impersonate",
                    )
                    .into());
                }
                Some(id)
            }
        };
        let secret = SecretKind::ApiKeySecret.generate();
        let t = now();
        let key = ApiKey {
            id: ApiKeyId::generate(),
            account,
            name,
            user_id,
            scopes,
            status: KeyStatus::Active,
            secret: self.stored(&secret),
            previous_secret: None,
            created_at: t,
            updated_at: t,
            revoked_at: None,
        };
        self.store().create_api_key(&key).await?;
        let details = json!({"name": key.name, "user_id": key.user_id, "scopes": key.scopes});
        self.record("api_key.created", key.id.as_str(), Some(&key.account), details)
            .await;
        Ok(ApiKeyWithSecret {
            key: (&key).into(),
            secret: secret.expose().to_owned(),
        })
    }

    pub async fn list_api_keys(&self, account: &str) -> Result<Vec<ApiKeyView>> {
        let account = self.existing_account(account).await?;
        Ok(self
            .store()
            .list_api_keys(&account)
            .await?
            .iter()
            .map(Into::into)
            .collect())
    }

    pub async fn get_api_key(&self, id: &str) -> Result<ApiKeyView> {
        Ok((&self.load_key(id).await?).into())
    }

    /// A new secret, shown once; the previous one works for the grace period
    /// (`api_keys.secret_rotation_grace` unless given).
    pub async fn rotate_api_key(&self, id: &str, grace_seconds: Option<i64>) -> Result<ApiKeyWithSecret> {
        let key = self.load_key(id).await?;
        if key.status == KeyStatus::Revoked {
            return Err(ManageError::Conflict("the API key is revoked".into()));
        }
        let grace = rotation_grace(grace_seconds, self.api_key_settings().secret_rotation_grace)?;
        let t = now();
        let secret = SecretKind::ApiKeySecret.generate();
        let updated = self
            .store()
            .replace_api_key_secret(
                &key.id,
                &self.stored(&secret),
                (grace > 0).then_some(t + grace),
                t,
            )
            .await?
            .ok_or_else(|| ManageError::NotFound(format!("API key {}", key.id)))?;
        let details = json!({"grace_seconds": grace, "last4": secret.last4()});
        self.record("api_key.rotated", key.id.as_str(), Some(&key.account), details)
            .await;
        Ok(ApiKeyWithSecret {
            key: (&updated).into(),
            secret: secret.expose().to_owned(),
        })
    }

    /// Revokes the key for good; every token issued through it fails on its next use.
    pub async fn revoke_api_key(&self, id: &str) -> Result<ApiKeyView> {
        let key = self.load_key(id).await?;
        let revoked = self
            .store()
            .revoke_api_key(&key.id, now())
            .await?
            .ok_or_else(|| ManageError::NotFound(format!("API key {}", key.id)))?;
        if key.status != KeyStatus::Revoked {
            self.record(
                "api_key.revoked",
                key.id.as_str(),
                Some(&key.account),
                json!({"name": key.name}),
            )
            .await;
        }
        Ok((&revoked).into())
    }

    pub async fn list_audit(&self, filter: AuditFilter) -> Result<Vec<AuditEventView>> {
        let account = filter.account.as_deref().map(AccountName::parse).transpose()?;
        if let Some(action) = &filter.action {
            if action.is_empty()
                || !action
                    .bytes()
                    .all(|c| c.is_ascii_lowercase() || c == b'_' || c == b'.')
            {
                return Err(InvalidInput::new(
                    "action",
                    "must look like api_key.revoked, or api_key. for all of a kind",
                )
                .into());
            }
        }
        let limit = filter.limit.unwrap_or(100);
        if !(1..=1000).contains(&limit) {
            return Err(InvalidInput::new("limit", "must be between 1 and 1000").into());
        }
        let query = AuditQuery {
            account,
            action: filter.action,
            before: filter.before,
            limit,
        };
        Ok(self
            .store()
            .list_audit(&query)
            .await?
            .iter()
            .map(Into::into)
            .collect())
    }
}
