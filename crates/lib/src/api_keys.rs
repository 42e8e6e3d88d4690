//! Managing API keys (the credential of server-side integrations) and reading the audit log.

use keygate_core::ids::{AccountName, ApiKeyId, UserId};
use keygate_core::model::{ApiKey, AssertionAlg, AssertionKey, KeyStatus, Role, UserStatus};
use keygate_core::scope::{Scope, ScopeSet};
use keygate_core::secret::Secret;
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

#[derive(Debug, Clone, Deserialize, serde::Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CreateApiKey {
    pub name: String,
    /// The user the key acts as; absent for a service key acting as the account.
    pub user_id: Option<String>,
    /// Space-separated; defaults to `contacts.read contacts.write hooks`.
    pub scopes: Option<String>,
    /// `HS256` to sign JWT assertions with the key's secret (chosen here, while the secret exists in
    /// clear); for a public key, use `set_api_key_assertion` after creation.
    pub assertion_alg: Option<AssertionAlg>,
}

/// A public key for verifying a key's JWT assertions.
#[derive(Debug, Clone, Deserialize, serde::Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct SetAssertionKey {
    pub alg: AssertionAlg,
    /// The public key as a JWK: EC P-256 for ES256, OKP Ed25519 for EdDSA, RSA (2048 bits or more) for RS256.
    pub public_key: serde_json::Value,
}

#[derive(Debug, Clone, Default, Deserialize, serde::Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams), into_params(parameter_in = Query))]
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
        let id = ApiKeyId::generate();
        let assertion = match req.assertion_alg {
            None => None,
            Some(AssertionAlg::HS256) => Some(self.hs256_assertion(&id, &secret)),
            Some(_) => {
                return Err(InvalidInput::new(
                    "assertion_alg",
                    "only HS256 is chosen at creation; register a public key afterwards",
                )
                .into())
            }
        };
        let t = now();
        let key = ApiKey {
            id,
            assertion,
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
        let mut updated = self
            .store()
            .replace_api_key_secret(
                &key.id,
                &self.stored(&secret),
                (grace > 0).then_some(t + grace),
                t,
            )
            .await?
            .ok_or_else(|| ManageError::NotFound(format!("API key {}", key.id)))?;
        // HS256 assertions are signed with the current secret: seal the new one in place of the old.
        if key
            .assertion
            .as_ref()
            .is_some_and(|a| a.alg == AssertionAlg::HS256)
        {
            let sealed = self.hs256_assertion(&key.id, &secret);
            updated = self
                .store()
                .set_api_key_assertion(&key.id, Some(&sealed), t)
                .await?
                .unwrap_or(updated);
        }
        let details = json!({"grace_seconds": grace, "last4": secret.last4()});
        self.record("api_key.rotated", key.id.as_str(), Some(&key.account), details)
            .await;
        Ok(ApiKeyWithSecret {
            key: (&updated).into(),
            secret: secret.expose().to_owned(),
        })
    }

    fn hs256_assertion(&self, id: &ApiKeyId, secret: &Secret) -> AssertionKey {
        AssertionKey {
            alg: AssertionAlg::HS256,
            public_jwk: None,
            sealed_secret: Some(
                self.assertion_sealer()
                    .seal(id.as_str().as_bytes(), secret.expose().as_bytes()),
            ),
        }
    }

    /// Registers the public key that verifies the key's assertions (replacing any earlier choice, HS256
    /// included), or with `None` stops the key signing assertions at all.
    pub async fn set_api_key_assertion(&self, id: &str, req: Option<SetAssertionKey>) -> Result<ApiKeyView> {
        let key = self.load_key(id).await?;
        let assertion = match req {
            None => None,
            Some(SetAssertionKey {
                alg: AssertionAlg::HS256,
                ..
            }) => {
                return Err(InvalidInput::new(
                    "alg",
                    "HS256 uses the key's secret: choose it when creating the key (assertion_alg)",
                )
                .into())
            }
            Some(SetAssertionKey { alg, public_key }) => Some(AssertionKey {
                alg,
                public_jwk: Some(public_jwk(alg, &public_key)?),
                sealed_secret: None,
            }),
        };
        let updated = self
            .store()
            .set_api_key_assertion(&key.id, assertion.as_ref(), now())
            .await?
            .ok_or_else(|| ManageError::NotFound(format!("API key {}", key.id)))?;
        let details = json!({"alg": assertion.as_ref().map(|a| a.alg)});
        self.record(
            "api_key.assertion_key_set",
            key.id.as_str(),
            Some(&key.account),
            details,
        )
        .await;
        Ok((&updated).into())
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

/// Checks a public JWK against the algorithm and keeps only its public members. Private key material is
/// refused outright: it must never be sent to the server.
fn public_jwk(alg: AssertionAlg, jwk: &serde_json::Value) -> std::result::Result<String, InvalidInput> {
    let bad = |m: &str| InvalidInput::new("public_key", m.to_owned());
    let obj = jwk.as_object().ok_or_else(|| bad("must be a JWK object"))?;
    if ["d", "p", "q", "dp", "dq", "qi", "k"]
        .iter()
        .any(|m| obj.contains_key(*m))
    {
        return Err(bad("contains private key material; send only the public key"));
    }
    let field = |n: &str| obj.get(n).and_then(|v| v.as_str()).map(str::to_owned);
    let (kty, members): (&str, &[&str]) = match alg {
        AssertionAlg::ES256 => ("EC", &["crv", "x", "y"]),
        AssertionAlg::EdDSA => ("OKP", &["crv", "x"]),
        AssertionAlg::RS256 => ("RSA", &["n", "e"]),
        AssertionAlg::HS256 => return Err(bad("HS256 has no public key")),
    };
    if field("kty").as_deref() != Some(kty) {
        return Err(bad(&format!("{alg} needs a {kty} key")));
    }
    let expected_crv = match alg {
        AssertionAlg::ES256 => Some("P-256"),
        AssertionAlg::EdDSA => Some("Ed25519"),
        _ => None,
    };
    if expected_crv.is_some() && field("crv").as_deref() != expected_crv {
        return Err(bad(&format!(
            "{alg} needs curve {}",
            expected_crv.unwrap_or_default()
        )));
    }
    let mut public = serde_json::Map::new();
    public.insert("kty".into(), kty.into());
    for m in members {
        let v = field(m).ok_or_else(|| bad(&format!("lacks {m}")))?;
        public.insert((*m).into(), v.into());
    }
    if alg == AssertionAlg::RS256 {
        use base64::Engine;
        let n = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(field("n").unwrap_or_default())
            .unwrap_or_default();
        if n.len() < 256 {
            return Err(bad("RSA keys must have at least 2048 bits"));
        }
    }
    let value = serde_json::Value::Object(public);
    crate::signing::decoding_key(&value).map_err(|e| bad(&format!("is not a usable key: {e}")))?;
    Ok(value.to_string())
}
