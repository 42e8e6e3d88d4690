//! Management of accounts, users, developer apps, admin credentials and signing keys: the operations
//! behind both the admin REST API and `keygate admin`, so both validate and behave identically.

use keygate_core::ids::{opaque_id, AccountName, ClientId, UserId};
use keygate_core::model::{
    AccountStatus, AdminToken, AppStatus, ClientType, RateLimit, Role, StoredSecret, UserStatus,
};
use keygate_core::scope::ScopeSet;
use keygate_core::secret::{Secret, SecretKind};
use keygate_core::time::now;
use keygate_core::uri::{validate_redirect_uri, OriginPattern};
use keygate_core::{email, password, InvalidInput};
use keygate_store::{AccountPatch, AppPatch, NewAccount, NewApp, NewUser, UserPatch};
use serde::{Deserialize, Deserializer};

use serde_json::json;

use crate::views::*;
use crate::{Actor, Keygate, ManageError};

type Result<T> = std::result::Result<T, ManageError>;

/// Distinguishes "field absent" (`None`) from "field set to null" (`Some(None)`) in a JSON patch.
fn present<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    d: D,
) -> std::result::Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}

#[derive(Debug, Clone, Deserialize, serde::Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CreateAccount {
    pub name: String,
    pub display_name: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize, serde::Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct UpdateAccount {
    pub display_name: Option<String>,
    pub status: Option<AccountStatus>,
    /// HTTP Basic on the resource APIs for the account's users (off by default).
    pub basic_auth: Option<bool>,
    /// The account's own rate limit per credential; `null` returns it to the server's default.
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    pub rate_limit: Option<Option<RateLimit>>,
}

#[derive(Clone, Deserialize, serde::Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CreateUser {
    pub email: String,
    pub password: String,
    #[serde(default = "default_role")]
    pub role: Role,
}

fn default_role() -> Role {
    Role::Member
}

#[derive(Clone, Default, Deserialize, serde::Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct UpdateUser {
    pub role: Option<Role>,
    pub status: Option<UserStatus>,
    pub password: Option<String>,
}

#[derive(Debug, Clone, Deserialize, serde::Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CreateApp {
    pub name: String,
    #[serde(default = "default_client_type")]
    pub client_type: ClientType,
    pub owner_account: Option<String>,
    #[serde(default)]
    pub redirect_uris: Vec<String>,
    #[serde(default)]
    pub allowed_origins: Vec<String>,
    /// Space-separated; defaults to `contacts.read contacts.write hooks`.
    pub allowed_scopes: Option<String>,
    pub access_token_ttl: Option<i64>,
    pub refresh_token_ttl: Option<i64>,
}

fn default_client_type() -> ClientType {
    ClientType::Confidential
}

#[derive(Debug, Clone, Default, Deserialize, serde::Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct UpdateApp {
    pub name: Option<String>,
    pub redirect_uris: Option<Vec<String>>,
    pub allowed_origins: Option<Vec<String>>,
    pub allowed_scopes: Option<String>,
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    pub access_token_ttl: Option<Option<i64>>,
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    pub refresh_token_ttl: Option<Option<i64>>,
    pub status: Option<AppStatus>,
}

pub(crate) fn clean_label(field: &'static str, v: &str) -> std::result::Result<String, InvalidInput> {
    let v = v.trim();
    if v.is_empty() || v.chars().count() > 100 || v.chars().any(char::is_control) {
        return Err(InvalidInput::new(
            field,
            "must be 1 to 100 characters without control characters",
        ));
    }
    Ok(v.to_owned())
}

fn parse_allowed_scopes(v: &str) -> std::result::Result<ScopeSet, InvalidInput> {
    ScopeSet::parse(v).map_err(|e| InvalidInput::new("allowed_scopes", e.message))
}

/// The grace period of a secret rotation: as requested, or the configured default; at most 30 days.
pub(crate) fn rotation_grace(requested: Option<i64>, default: i64) -> std::result::Result<i64, InvalidInput> {
    let grace = requested.unwrap_or(default);
    if (0..=30 * 86_400).contains(&grace) {
        Ok(grace)
    } else {
        Err(InvalidInput::new(
            "grace_seconds",
            "must be between 0 and 2592000 (30 days)",
        ))
    }
}

/// Management operations performed by one actor; every change is written to the audit log.
pub struct Manager<'a> {
    kg: &'a Keygate,
    actor: Actor,
}

impl std::ops::Deref for Manager<'_> {
    type Target = Keygate;
    fn deref(&self) -> &Keygate {
        self.kg
    }
}

impl Keygate {
    pub fn manage(&self, actor: Actor) -> Manager<'_> {
        Manager { kg: self, actor }
    }

    pub(crate) fn stored(&self, secret: &Secret) -> StoredSecret {
        StoredSecret {
            hash: self.pepper().hash(secret.expose()),
            last4: secret.last4(),
            expires_at: None,
        }
    }

    /// The live admin token matching `presented`, if any.
    pub async fn authenticate_admin(
        &self,
        presented: &str,
    ) -> std::result::Result<Option<AdminToken>, keygate_store::StoreError> {
        if !presented.starts_with(SecretKind::AdminToken.prefix()) {
            return Ok(None);
        }
        // Looked up by its keyed hash: equality on a MAC of the secret leaks nothing usable about it.
        self.store()
            .find_admin_token(&self.pepper().hash(presented))
            .await
    }
}

impl Manager<'_> {
    pub(crate) async fn record(
        &self,
        action: &str,
        target: &str,
        account: Option<&AccountName>,
        details: serde_json::Value,
    ) {
        self.kg.audit(&self.actor, action, target, account, details).await;
    }

    // --- accounts ---------------------------------------------------------------------------------

    pub async fn create_account(&self, req: CreateAccount) -> Result<AccountView> {
        let name = AccountName::parse(req.name.trim()).map_err(|e| InvalidInput::new("name", e.message))?;
        let display_name = clean_label(
            "display_name",
            req.display_name.as_deref().unwrap_or(name.as_str()),
        )?;
        let a = self
            .store()
            .create_account(&NewAccount { name, display_name }, now())
            .await?;
        self.record(
            "account.created",
            a.name.as_str(),
            Some(&a.name),
            json!({"display_name": a.display_name}),
        )
        .await;
        Ok((&a).into())
    }

    pub async fn get_account(&self, name: &str) -> Result<AccountView> {
        let name = AccountName::parse(name)?;
        let a = self
            .store()
            .get_account(&name)
            .await?
            .ok_or_else(|| ManageError::NotFound(format!("account {name}")))?;
        Ok((&a).into())
    }

    pub async fn list_accounts(&self) -> Result<Vec<AccountView>> {
        Ok(self
            .store()
            .list_accounts()
            .await?
            .iter()
            .map(Into::into)
            .collect())
    }

    /// Suspending an account stops every credential of it on the next request: token validation and
    /// every grant check the account's status.
    pub async fn update_account(&self, name: &str, req: UpdateAccount) -> Result<AccountView> {
        let name = AccountName::parse(name)?;
        let patch = AccountPatch {
            display_name: req
                .display_name
                .as_deref()
                .map(|d| clean_label("display_name", d))
                .transpose()?,
            status: req.status,
            basic_auth: req.basic_auth,
            rate_limit: req
                .rate_limit
                .map(|l| l.map(check_rate_limit).transpose())
                .transpose()?,
        };
        let a = self
            .store()
            .update_account(&name, &patch, now())
            .await?
            .ok_or_else(|| ManageError::NotFound(format!("account {name}")))?;
        let action = match req.status {
            Some(AccountStatus::Suspended) => "account.suspended",
            Some(AccountStatus::Active) => "account.activated",
            None if req.basic_auth == Some(true) => "account.basic_auth_enabled",
            None if req.basic_auth == Some(false) => "account.basic_auth_disabled",
            None if req.rate_limit.is_some() => "account.rate_limit_changed",
            None => "account.updated",
        };
        self.record(
            action,
            name.as_str(),
            Some(&name),
            json!({"display_name": req.display_name, "rate_limit": req.rate_limit}),
        )
        .await;
        Ok((&a).into())
    }

    // --- users ------------------------------------------------------------------------------------

    pub async fn create_user(&self, account: &str, req: CreateUser) -> Result<UserView> {
        let account = AccountName::parse(account)?;
        let addr = req.email.trim();
        email::validate(addr)?;
        let new = NewUser {
            id: UserId::generate(),
            account,
            email: addr.to_owned(),
            password: password::hash(&req.password)?,
            role: req.role,
        };
        let u = self.store().create_user(&new, now()).await?;
        self.record(
            "user.created",
            u.id.as_str(),
            Some(&u.account),
            json!({"email": u.email, "role": u.role}),
        )
        .await;
        Ok((&u).into())
    }

    pub async fn get_user(&self, id: &str) -> Result<UserView> {
        let id = UserId::parse(id)?;
        let u = self
            .store()
            .get_user(&id)
            .await?
            .ok_or_else(|| ManageError::NotFound(format!("user {id}")))?;
        Ok((&u).into())
    }

    pub async fn list_users(&self, account: &str) -> Result<Vec<UserView>> {
        let account = AccountName::parse(account)?;
        if self.store().get_account(&account).await?.is_none() {
            return Err(ManageError::NotFound(format!("account {account}")));
        }
        Ok(self
            .store()
            .list_users(&account)
            .await?
            .iter()
            .map(Into::into)
            .collect())
    }

    pub async fn update_user(&self, id: &str, req: UpdateUser) -> Result<UserView> {
        let id = UserId::parse(id)?;
        let patch = UserPatch {
            role: req.role,
            status: req.status,
            password: req.password.as_deref().map(password::hash).transpose()?,
        };
        let u = self
            .store()
            .update_user(&id, &patch, now())
            .await?
            .ok_or_else(|| ManageError::NotFound(format!("user {id}")))?;
        // A new password or a suspension signs the user out of the portal everywhere.
        if req.password.is_some() || req.status.is_some_and(|s| s != UserStatus::Active) {
            self.store().delete_user_portal_sessions(u.id.as_str()).await?;
        }
        let details =
            json!({"role": req.role, "status": req.status, "password_changed": req.password.is_some()});
        self.record("user.updated", u.id.as_str(), Some(&u.account), details)
            .await;
        Ok((&u).into())
    }

    // --- developer apps ---------------------------------------------------------------------------

    fn check_ttl(
        &self,
        field: &'static str,
        ttl: Option<i64>,
        max: i64,
    ) -> std::result::Result<(), InvalidInput> {
        match ttl {
            Some(t) if !(60..=max).contains(&t) => Err(InvalidInput::new(
                field,
                format!("must be between 60 and {max} seconds"),
            )),
            _ => Ok(()),
        }
    }

    fn check_app_fields(
        &self,
        redirect_uris: Option<&[String]>,
        origins: Option<&[String]>,
        access_ttl: Option<i64>,
        refresh_ttl: Option<i64>,
    ) -> std::result::Result<(), InvalidInput> {
        redirect_uris
            .unwrap_or_default()
            .iter()
            .try_for_each(|u| validate_redirect_uri(u))?;
        origins
            .unwrap_or_default()
            .iter()
            .try_for_each(|o| OriginPattern::parse(o).map(drop))?;
        self.check_ttl(
            "access_token_ttl",
            access_ttl,
            self.settings().max_access_token_ttl,
        )?;
        self.check_ttl("refresh_token_ttl", refresh_ttl, 10 * 365 * 86_400)
    }

    pub async fn create_app(&self, req: CreateApp) -> Result<AppWithSecret> {
        let name = clean_label("name", &req.name)?;
        self.check_app_fields(
            Some(&req.redirect_uris),
            Some(&req.allowed_origins),
            req.access_token_ttl,
            req.refresh_token_ttl,
        )?;
        let owner_account = req.owner_account.as_deref().map(AccountName::parse).transpose()?;
        if let Some(owner) = &owner_account {
            if self.store().get_account(owner).await?.is_none() {
                return Err(ManageError::NotFound(format!("account {owner}")));
            }
        }
        let allowed_scopes = match &req.allowed_scopes {
            Some(s) => parse_allowed_scopes(s)?,
            None => ScopeSet::member_default(),
        };
        if allowed_scopes.is_empty() {
            return Err(InvalidInput::new("allowed_scopes", "must name at least one scope").into());
        }
        if req.client_type == ClientType::Public && req.redirect_uris.is_empty() {
            return Err(InvalidInput::new(
                "redirect_uris",
                "a public client needs at least one redirect URI",
            )
            .into());
        }
        let secret =
            (req.client_type == ClientType::Confidential).then(|| SecretKind::ClientSecret.generate());
        let new = NewApp {
            client_id: ClientId::generate(),
            name,
            client_type: req.client_type,
            owner_account,
            redirect_uris: req.redirect_uris,
            allowed_origins: req.allowed_origins,
            allowed_scopes,
            access_token_ttl: req.access_token_ttl,
            refresh_token_ttl: req.refresh_token_ttl,
            secret: secret.as_ref().map(|s| self.stored(s)),
        };
        let app = self.store().create_app(&new, now()).await?;
        let details = json!({"name": app.name, "client_type": app.client_type, "scopes": app.allowed_scopes});
        self.record(
            "app.created",
            app.client_id.as_str(),
            app.owner_account.as_ref(),
            details,
        )
        .await;
        Ok(AppWithSecret {
            app: (&app).into(),
            client_secret: secret.map(|s| s.expose().to_owned()),
        })
    }

    async fn load_app(&self, client_id: &str) -> Result<keygate_core::model::App> {
        let id = ClientId::parse(client_id)?;
        self.store()
            .get_app(&id)
            .await?
            .ok_or_else(|| ManageError::NotFound(format!("app {id}")))
    }

    pub async fn get_app(&self, client_id: &str) -> Result<AppView> {
        Ok((&self.load_app(client_id).await?).into())
    }

    pub async fn list_apps(&self, owner: Option<&str>) -> Result<Vec<AppView>> {
        let owner = owner.map(AccountName::parse).transpose()?;
        Ok(self
            .store()
            .list_apps(owner.as_ref())
            .await?
            .iter()
            .map(Into::into)
            .collect())
    }

    /// Suspending or revoking an app takes effect on the next request: its tokens fail validation and
    /// it can no longer authenticate. Revocation is final.
    pub async fn update_app(&self, client_id: &str, req: UpdateApp) -> Result<AppView> {
        let app = self.load_app(client_id).await?;
        self.check_app_fields(
            req.redirect_uris.as_deref(),
            req.allowed_origins.as_deref(),
            req.access_token_ttl.flatten(),
            req.refresh_token_ttl.flatten(),
        )?;
        if app.status == AppStatus::Revoked && req.status.is_some_and(|s| s != AppStatus::Revoked) {
            return Err(ManageError::Conflict(
                "a revoked app cannot be reactivated; register a new one".into(),
            ));
        }
        let allowed_scopes = req
            .allowed_scopes
            .as_deref()
            .map(parse_allowed_scopes)
            .transpose()?;
        if allowed_scopes.as_ref().is_some_and(ScopeSet::is_empty) {
            return Err(InvalidInput::new("allowed_scopes", "must name at least one scope").into());
        }
        if app.client_type == ClientType::Public && req.redirect_uris.as_ref().is_some_and(Vec::is_empty) {
            return Err(InvalidInput::new(
                "redirect_uris",
                "a public client needs at least one redirect URI",
            )
            .into());
        }
        let patch = AppPatch {
            name: req.name.as_deref().map(|n| clean_label("name", n)).transpose()?,
            redirect_uris: req.redirect_uris,
            allowed_origins: req.allowed_origins,
            allowed_scopes,
            access_token_ttl: req.access_token_ttl,
            refresh_token_ttl: req.refresh_token_ttl,
            status: req.status,
        };
        let updated = self
            .store()
            .update_app(&app.client_id, &patch, now())
            .await?
            .ok_or_else(|| ManageError::NotFound(format!("app {}", app.client_id)))?;
        let action = match req.status {
            Some(AppStatus::Active) if app.status != AppStatus::Active => "app.activated",
            Some(AppStatus::Suspended) if app.status != AppStatus::Suspended => "app.suspended",
            Some(AppStatus::Revoked) if app.status != AppStatus::Revoked => "app.revoked",
            _ => "app.updated",
        };
        self.record(
            action,
            app.client_id.as_str(),
            app.owner_account.as_ref(),
            json!({}),
        )
        .await;
        Ok((&updated).into())
    }

    /// Issues a new client secret, shown once. The old one keeps working for `grace_seconds` (default:
    /// `tokens.secret_rotation_grace`; 0 ends it at once).
    pub async fn rotate_app_secret(
        &self,
        client_id: &str,
        grace_seconds: Option<i64>,
    ) -> Result<AppWithSecret> {
        let app = self.load_app(client_id).await?;
        if app.client_type == ClientType::Public {
            return Err(ManageError::Conflict(
                "public clients have no secret to rotate".into(),
            ));
        }
        if app.status == AppStatus::Revoked {
            return Err(ManageError::Conflict("the app is revoked".into()));
        }
        let grace = rotation_grace(grace_seconds, self.settings().secret_rotation_grace)?;
        let t = now();
        let secret = SecretKind::ClientSecret.generate();
        let previous_expires_at = (grace > 0).then_some(t + grace);
        let updated = self
            .store()
            .replace_app_secret(&app.client_id, &self.stored(&secret), previous_expires_at, t)
            .await?
            .ok_or_else(|| ManageError::NotFound(format!("app {}", app.client_id)))?;
        let details = json!({"grace_seconds": grace, "last4": secret.last4()});
        self.record(
            "app.secret_rotated",
            app.client_id.as_str(),
            app.owner_account.as_ref(),
            details,
        )
        .await;
        Ok(AppWithSecret {
            app: (&updated).into(),
            client_secret: Some(secret.expose().to_owned()),
        })
    }

    // --- admin API credentials --------------------------------------------------------------------

    pub async fn create_admin_token(&self, name: &str) -> Result<AdminTokenWithSecret> {
        let name = clean_label("name", name)?;
        let secret = SecretKind::AdminToken.generate();
        let token = AdminToken {
            id: opaque_id("adm_"),
            name,
            secret: self.stored(&secret),
            created_at: now(),
            revoked_at: None,
        };
        self.store().create_admin_token(&token).await?;
        self.record(
            "admin_token.created",
            &token.id,
            None,
            json!({"name": token.name}),
        )
        .await;
        Ok(AdminTokenWithSecret {
            token: (&token).into(),
            secret: secret.expose().to_owned(),
        })
    }

    pub async fn list_admin_tokens(&self) -> Result<Vec<AdminTokenView>> {
        Ok(self
            .store()
            .list_admin_tokens()
            .await?
            .iter()
            .map(Into::into)
            .collect())
    }

    pub async fn revoke_admin_token(&self, id: &str) -> Result<()> {
        if self.store().revoke_admin_token(id, now()).await? {
            self.record("admin_token.revoked", id, None, json!({})).await;
            Ok(())
        } else {
            Err(ManageError::NotFound(format!("live admin token {id}")))
        }
    }

    // --- signing keys -----------------------------------------------------------------------------

    pub async fn list_signing_keys(&self) -> Result<Vec<SigningKeyView>> {
        Ok(self
            .store()
            .list_signing_keys()
            .await?
            .iter()
            .map(Into::into)
            .collect())
    }

    pub async fn rotate_signing_keys(&self) -> Result<Vec<SigningKeyView>> {
        if !self
            .keyring()
            .rotate()
            .await
            .map_err(|e| ManageError::Keys(e.to_string()))?
        {
            return Err(ManageError::Conflict(
                "another node rotated the keys at the same moment; try again".into(),
            ));
        }
        let current = self.keyring().current().signer.kid.clone();
        self.record("signing_keys.rotated", &current, None, json!({}))
            .await;
        self.list_signing_keys().await
    }
}

/// A limit the token buckets can honour: at least one request, at most a million, a minute.
fn check_rate_limit(l: RateLimit) -> Result<RateLimit> {
    let range = 1..=1_000_000;
    if !range.contains(&l.per_minute) {
        return Err(InvalidInput::new("rate_limit.per_minute", "must be between 1 and 1000000").into());
    }
    if !range.contains(&l.burst) {
        return Err(InvalidInput::new("rate_limit.burst", "must be between 1 and 1000000").into());
    }
    Ok(l)
}
