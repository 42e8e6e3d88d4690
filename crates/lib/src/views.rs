//! The JSON shapes of managed records, shared by the admin API and the CLI's `--json` output. They never
//! contain a hash; secrets appear only in the `Created*` responses, once.

use keygate_core::model::{
    Account, AdminToken, ApiKey, App, AuditEvent, DomainKey, RateLimit, SigningKeyRecord, User,
};
use keygate_core::time::now;
use serde::Serialize;

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AccountView {
    pub name: String,
    pub display_name: String,
    #[cfg_attr(feature = "openapi", schema(value_type = keygate_core::model::AccountStatus))]
    pub status: String,
    pub basic_auth: bool,
    /// `null`: the server's default limit applies.
    pub rate_limit: Option<RateLimit>,
    pub created_at: i64,
    pub updated_at: i64,
}

impl From<&Account> for AccountView {
    fn from(a: &Account) -> Self {
        Self {
            name: a.name.to_string(),
            display_name: a.display_name.clone(),
            status: a.status.to_string(),
            basic_auth: a.basic_auth,
            rate_limit: a.rate_limit,
            created_at: a.created_at,
            updated_at: a.updated_at,
        }
    }
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UserView {
    pub id: String,
    pub account: String,
    pub email: String,
    #[cfg_attr(feature = "openapi", schema(value_type = keygate_core::model::Role))]
    pub role: String,
    #[cfg_attr(feature = "openapi", schema(value_type = keygate_core::model::UserStatus))]
    pub status: String,
    pub created_at: i64,
    pub updated_at: i64,
}

impl From<&User> for UserView {
    fn from(u: &User) -> Self {
        Self {
            id: u.id.to_string(),
            account: u.account.to_string(),
            email: u.email.clone(),
            role: u.role.to_string(),
            status: u.status.to_string(),
            created_at: u.created_at,
            updated_at: u.updated_at,
        }
    }
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AppView {
    pub client_id: String,
    pub name: String,
    #[cfg_attr(feature = "openapi", schema(value_type = keygate_core::model::ClientType))]
    pub client_type: String,
    pub owner_account: Option<String>,
    pub redirect_uris: Vec<String>,
    pub allowed_origins: Vec<String>,
    pub allowed_scopes: String,
    pub access_token_ttl: Option<i64>,
    pub refresh_token_ttl: Option<i64>,
    #[cfg_attr(feature = "openapi", schema(value_type = keygate_core::model::AppStatus))]
    pub status: String,
    /// The last four characters of the current secret, as support may quote them.
    pub secret_last4: Option<String>,
    /// While a rotated-out secret still works: its last four characters and when it stops.
    pub previous_secret_last4: Option<String>,
    pub previous_secret_expires_at: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
}

impl From<&App> for AppView {
    fn from(a: &App) -> Self {
        // A previous secret past its grace no longer works, so it is not shown as if it did.
        let previous = a
            .previous_secret
            .as_ref()
            .filter(|s| s.expires_at.is_some_and(|t| t > now()));
        Self {
            client_id: a.client_id.to_string(),
            name: a.name.clone(),
            client_type: a.client_type.to_string(),
            owner_account: a.owner_account.as_ref().map(ToString::to_string),
            redirect_uris: a.redirect_uris.clone(),
            allowed_origins: a.allowed_origins.clone(),
            allowed_scopes: a.allowed_scopes.to_string(),
            access_token_ttl: a.access_token_ttl,
            refresh_token_ttl: a.refresh_token_ttl,
            status: a.status.to_string(),
            secret_last4: a.secret.as_ref().map(|s| s.last4.clone()),
            previous_secret_last4: previous.map(|s| s.last4.clone()),
            previous_secret_expires_at: previous.and_then(|s| s.expires_at),
            created_at: a.created_at,
            updated_at: a.updated_at,
        }
    }
}

/// An app with its secret, returned exactly once: at creation or rotation.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AppWithSecret {
    #[serde(flatten)]
    pub app: AppView,
    pub client_secret: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AdminTokenView {
    pub id: String,
    pub name: String,
    pub last4: String,
    pub created_at: i64,
    pub revoked_at: Option<i64>,
}

impl From<&AdminToken> for AdminTokenView {
    fn from(t: &AdminToken) -> Self {
        Self {
            id: t.id.clone(),
            name: t.name.clone(),
            last4: t.secret.last4.clone(),
            created_at: t.created_at,
            revoked_at: t.revoked_at,
        }
    }
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AdminTokenWithSecret {
    #[serde(flatten)]
    pub token: AdminTokenView,
    pub secret: String,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SigningKeyView {
    pub kid: String,
    #[cfg_attr(feature = "openapi", schema(value_type = keygate_core::model::SigningAlgorithm))]
    pub algorithm: String,
    #[cfg_attr(feature = "openapi", schema(value_type = keygate_core::model::KeyState))]
    pub state: String,
    pub created_at: i64,
    pub activated_at: Option<i64>,
    pub retired_at: Option<i64>,
    pub publish_until: Option<i64>,
}

impl From<&SigningKeyRecord> for SigningKeyView {
    fn from(k: &SigningKeyRecord) -> Self {
        Self {
            kid: k.kid.clone(),
            algorithm: k.algorithm.to_string(),
            state: k.state.to_string(),
            created_at: k.created_at,
            activated_at: k.activated_at,
            retired_at: k.retired_at,
            publish_until: k.publish_until,
        }
    }
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ApiKeyView {
    /// The public key id, sent as `X-Api-Key`.
    pub id: String,
    pub account: String,
    pub name: String,
    /// `user` (acts as `user_id`) or `account` (a service key).
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub acts_as: &'static str,
    pub user_id: Option<String>,
    pub scopes: String,
    #[cfg_attr(feature = "openapi", schema(value_type = keygate_core::model::KeyStatus))]
    pub status: String,
    /// How the key signs JWT assertions, if it may (`HS256`, `ES256`, `EdDSA`, `RS256`).
    #[cfg_attr(feature = "openapi", schema(value_type = Option<keygate_core::model::AssertionAlg>))]
    pub assertion_alg: Option<String>,
    pub secret_last4: String,
    pub previous_secret_last4: Option<String>,
    pub previous_secret_expires_at: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
    pub revoked_at: Option<i64>,
}

impl From<&ApiKey> for ApiKeyView {
    fn from(k: &ApiKey) -> Self {
        let previous = k
            .previous_secret
            .as_ref()
            .filter(|s| s.expires_at.is_some_and(|t| t > now()));
        Self {
            id: k.id.to_string(),
            account: k.account.to_string(),
            name: k.name.clone(),
            acts_as: if k.user_id.is_some() { "user" } else { "account" },
            user_id: k.user_id.as_ref().map(ToString::to_string),
            scopes: k.scopes.to_string(),
            status: k.status.to_string(),
            assertion_alg: k.assertion.as_ref().map(|a| a.alg.to_string()),
            secret_last4: k.secret.last4.clone(),
            previous_secret_last4: previous.map(|s| s.last4.clone()),
            previous_secret_expires_at: previous.and_then(|s| s.expires_at),
            created_at: k.created_at,
            updated_at: k.updated_at,
            revoked_at: k.revoked_at,
        }
    }
}

/// An API key with its secret, returned exactly once: at creation or rotation.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ApiKeyWithSecret {
    #[serde(flatten)]
    pub key: ApiKeyView,
    pub secret: String,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AuditEventView {
    pub id: i64,
    pub at: i64,
    pub account: Option<String>,
    pub actor: String,
    pub action: String,
    pub target: String,
    pub details: serde_json::Value,
}

impl From<&AuditEvent> for AuditEventView {
    fn from(e: &AuditEvent) -> Self {
        Self {
            id: e.id,
            at: e.at,
            account: e.account.as_ref().map(ToString::to_string),
            actor: e.actor.clone(),
            action: e.action.clone(),
            target: e.target.clone(),
            details: serde_json::from_str(&e.details).unwrap_or(serde_json::Value::Null),
        }
    }
}

/// A domain key is public by design: its id is shown in full.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DomainKeyView {
    pub id: String,
    pub account: String,
    pub api_key_id: String,
    pub name: String,
    pub origins: Vec<String>,
    pub scopes: String,
    #[cfg_attr(feature = "openapi", schema(value_type = keygate_core::model::KeyStatus))]
    pub status: String,
    pub created_at: i64,
    pub updated_at: i64,
    pub revoked_at: Option<i64>,
}

impl From<&DomainKey> for DomainKeyView {
    fn from(k: &DomainKey) -> Self {
        Self {
            id: k.id.to_string(),
            account: k.account.to_string(),
            api_key_id: k.api_key_id.to_string(),
            name: k.name.clone(),
            origins: k.origins.clone(),
            scopes: k.scopes.to_string(),
            status: k.status.to_string(),
            created_at: k.created_at,
            updated_at: k.updated_at,
            revoked_at: k.revoked_at,
        }
    }
}
