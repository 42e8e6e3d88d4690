//! API keys and the sessions exchanged for them.

use std::future::Future;

use keygate_core::ids::{AccountName, ApiKeyId, DomainKeyId, UserId};
use keygate_core::model::{
    AccountStatus, ApiKey, AssertionAlg, AssertionKey, KeySession, KeyStatus, StoredSecret,
};
use keygate_core::scope::ScopeSet;
use sqlx::QueryBuilder;

use super::accounts::WithAccountStatus;
use super::errors::{corrupt, write_error};
use super::group_commit::GroupWrite;
use super::{Pool, SqlStore};
use crate::{Result, StoreError};

/// The columns of [`ApiKeyRow`], named rather than `*`: api_keys gained columns in 0005, and a SQLite
/// connection that loaded the schema before another connection migrated prepares `*` with the old
/// columns, then steps with the new ones, which sqlx-sqlite does not survive.
macro_rules! columns {
    () => {
        "id, account, name, user_id, scopes, status, secret_hash, secret_last4, previous_secret_hash, \
         previous_secret_last4, previous_secret_expires_at, created_at, updated_at, revoked_at, \
         assertion_alg, assertion_public_jwk, assertion_sealed_secret"
    };
}

#[derive(sqlx::FromRow)]
struct ApiKeyRow {
    id: String,
    account: String,
    name: String,
    user_id: Option<String>,
    scopes: String,
    status: String,
    secret_hash: Vec<u8>,
    secret_last4: String,
    previous_secret_hash: Option<Vec<u8>>,
    previous_secret_last4: Option<String>,
    previous_secret_expires_at: Option<i64>,
    created_at: i64,
    updated_at: i64,
    revoked_at: Option<i64>,
    assertion_alg: Option<String>,
    assertion_public_jwk: Option<String>,
    assertion_sealed_secret: Option<Vec<u8>>,
}

/// The assertion columns: all NULL, or an algorithm with exactly what it verifies with (the sealed
/// secret for HS256, a public JWK otherwise).
fn assertion(
    alg: Option<String>,
    public_jwk: Option<String>,
    sealed_secret: Option<Vec<u8>>,
) -> Result<Option<AssertionKey>> {
    let Some(alg) = alg else {
        return match (&public_jwk, &sealed_secret) {
            (None, None) => Ok(None),
            _ => Err(StoreError::Corrupt(
                "api_keys.assertion_alg: NULL, but the key has assertion material".into(),
            )),
        };
    };
    let alg = AssertionAlg::parse(&alg).map_err(corrupt("api_keys.assertion_alg"))?;
    let consistent = match alg {
        AssertionAlg::HS256 => public_jwk.is_none() && sealed_secret.is_some(),
        AssertionAlg::ES256 | AssertionAlg::EdDSA | AssertionAlg::RS256 => {
            public_jwk.is_some() && sealed_secret.is_none()
        }
    };
    if !consistent {
        return Err(StoreError::Corrupt(format!(
            "api_keys.assertion_alg: {alg} does not match the public key and sealed secret stored"
        )));
    }
    Ok(Some(AssertionKey {
        alg,
        public_jwk,
        sealed_secret,
    }))
}

impl TryFrom<ApiKeyRow> for ApiKey {
    type Error = StoreError;
    fn try_from(r: ApiKeyRow) -> Result<Self> {
        let user_id = r.user_id.as_deref().map(UserId::parse).transpose();
        Ok(ApiKey {
            id: ApiKeyId::parse(&r.id).map_err(corrupt("api_keys.id"))?,
            account: AccountName::parse(&r.account).map_err(corrupt("api_keys.account"))?,
            name: r.name,
            user_id: user_id.map_err(corrupt("api_keys.user_id"))?,
            scopes: ScopeSet::parse(&r.scopes).map_err(corrupt("api_keys.scopes"))?,
            status: KeyStatus::parse(&r.status).map_err(corrupt("api_keys.status"))?,
            secret: StoredSecret {
                hash: r.secret_hash,
                last4: r.secret_last4,
                expires_at: None,
            },
            previous_secret: r.previous_secret_hash.map(|hash| StoredSecret {
                hash,
                last4: r.previous_secret_last4.unwrap_or_default(),
                expires_at: r.previous_secret_expires_at,
            }),
            assertion: assertion(r.assertion_alg, r.assertion_public_jwk, r.assertion_sealed_secret)?,
            created_at: r.created_at,
            updated_at: r.updated_at,
            revoked_at: r.revoked_at,
        })
    }
}

#[derive(sqlx::FromRow)]
struct KeySessionRow {
    id: String,
    key_id: String,
    domain_key_id: Option<String>,
    origin: Option<String>,
    account: String,
    user_id: Option<String>,
    scope: String,
    created_at: i64,
    expires_at: i64,
    revoked_at: Option<i64>,
}

impl TryFrom<KeySessionRow> for KeySession {
    type Error = StoreError;
    fn try_from(r: KeySessionRow) -> Result<Self> {
        let user_id = r.user_id.as_deref().map(UserId::parse).transpose();
        let domain_key_id = r.domain_key_id.as_deref().map(DomainKeyId::parse).transpose();
        Ok(KeySession {
            id: r.id,
            key_id: ApiKeyId::parse(&r.key_id).map_err(corrupt("key_sessions.key_id"))?,
            domain_key_id: domain_key_id.map_err(corrupt("key_sessions.domain_key_id"))?,
            origin: r.origin,
            account: AccountName::parse(&r.account).map_err(corrupt("key_sessions.account"))?,
            user_id: user_id.map_err(corrupt("key_sessions.user_id"))?,
            scope: ScopeSet::parse(&r.scope).map_err(corrupt("key_sessions.scope"))?,
            created_at: r.created_at,
            expires_at: r.expires_at,
            revoked_at: r.revoked_at,
        })
    }
}

pub(super) async fn create(db: &SqlStore, key: &ApiKey) -> Result<()> {
    // The (user_id, account) foreign key refuses a user of another account like a missing one.
    let previous = key.previous_secret.as_ref();
    let assertion = key.assertion.as_ref();
    dispatch_write!(db, |pool| {
        sqlx::query(concat!(
            "INSERT INTO api_keys (",
            columns!(),
            ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)"
        ))
        .bind(key.id.as_str())
        .bind(key.account.as_str())
        .bind(&key.name)
        .bind(key.user_id.as_ref().map(UserId::as_str))
        .bind(key.scopes.to_string())
        .bind(key.status.as_str())
        .bind(key.secret.hash.as_slice())
        .bind(&key.secret.last4)
        .bind(previous.map(|s| s.hash.as_slice()))
        .bind(previous.map(|s| s.last4.as_str()))
        .bind(previous.and_then(|s| s.expires_at))
        .bind(key.created_at)
        .bind(key.updated_at)
        .bind(key.revoked_at)
        .bind(assertion.map(|a| a.alg.as_str()))
        .bind(assertion.and_then(|a| a.public_jwk.as_deref()))
        .bind(assertion.and_then(|a| a.sealed_secret.as_deref()))
        .execute(pool)
        .await
        .map(|_| ())
    })
    .map_err(|e| {
        let missing = match &key.user_id {
            Some(user) => format!("account {} or user {user} in that account", key.account),
            None => format!("account {}", key.account),
        };
        write_error(e, format!("api key {}", key.id), missing)
    })
}

pub(super) async fn get(db: &SqlStore, id: &ApiKeyId) -> Result<Option<ApiKey>> {
    let row = dispatch!(db, |pool| {
        sqlx::query_as::<_, ApiKeyRow>(concat!("SELECT ", columns!(), " FROM api_keys WHERE id = $1"))
            .bind(id.as_str())
            .fetch_optional(pool)
            .await
    })?;
    row.map(ApiKey::try_from).transpose()
}

pub(super) async fn get_with_account_status(
    db: &SqlStore,
    id: &ApiKeyId,
) -> Result<Option<(ApiKey, Option<AccountStatus>)>> {
    // A subquery rather than a join: the key's columns are named bare, and accounts has some of the names.
    let row = dispatch!(db, |pool| {
        sqlx::query_as::<_, WithAccountStatus<ApiKeyRow>>(concat!(
            "SELECT ",
            columns!(),
            ", (SELECT status FROM accounts WHERE accounts.name = api_keys.account) AS account_status \
             FROM api_keys WHERE id = $1"
        ))
        .bind(id.as_str())
        .fetch_optional(pool)
        .await
    })?;
    row.map(WithAccountStatus::into_model).transpose()
}

revocable_key_queries!("api_keys", ApiKeyRow, ApiKey, ApiKeyId);

pub(super) async fn replace_secret(
    db: &SqlStore,
    id: &ApiKeyId,
    secret: &StoredSecret,
    previous_expires_at: Option<i64>,
    now: i64,
) -> Result<Option<ApiKey>> {
    // Assignments all read the row as it was, so the old current secret is still in secret_* here.
    let row = dispatch_write!(db, |pool| {
        sqlx::query_as::<_, ApiKeyRow>(concat!(
            "UPDATE api_keys SET \
             previous_secret_hash = CASE WHEN $4 IS NULL THEN NULL ELSE secret_hash END, \
             previous_secret_last4 = CASE WHEN $4 IS NULL THEN NULL ELSE secret_last4 END, \
             previous_secret_expires_at = $4, \
             secret_hash = $2, secret_last4 = $3, updated_at = $5 WHERE id = $1 RETURNING ",
            columns!()
        ))
        .bind(id.as_str())
        .bind(secret.hash.as_slice())
        .bind(&secret.last4)
        .bind(previous_expires_at)
        .bind(now)
        .fetch_optional(pool)
        .await
    })?;
    row.map(ApiKey::try_from).transpose()
}

pub(super) async fn set_assertion(
    db: &SqlStore,
    id: &ApiKeyId,
    assertion: Option<&AssertionKey>,
    now: i64,
) -> Result<Option<ApiKey>> {
    let row = dispatch_write!(db, |pool| {
        sqlx::query_as::<_, ApiKeyRow>(concat!(
            "UPDATE api_keys SET assertion_alg = $2, assertion_public_jwk = $3, \
             assertion_sealed_secret = $4, updated_at = $5 WHERE id = $1 RETURNING ",
            columns!()
        ))
        .bind(id.as_str())
        .bind(assertion.map(|a| a.alg.as_str()))
        .bind(assertion.and_then(|a| a.public_jwk.as_deref()))
        .bind(assertion.and_then(|a| a.sealed_secret.as_deref()))
        .bind(now)
        .fetch_optional(pool)
        .await
    })?;
    row.map(ApiKey::try_from).transpose()
}

pub(super) async fn use_assertion_jti(
    db: &SqlStore,
    key_id: &ApiKeyId,
    jti: &str,
    expires_at: i64,
) -> Result<bool> {
    // One statement: of concurrent uses of one jti, the primary key lets exactly one insert, and the
    // others do nothing rather than fail or wait for a retry.
    let inserted = dispatch_write!(db, |pool| {
        sqlx::query(
            "INSERT INTO assertion_jtis (key_id, jti, expires_at) VALUES ($1, $2, $3) \
             ON CONFLICT (key_id, jti) DO NOTHING",
        )
        .bind(key_id.as_str())
        .bind(jti)
        .bind(expires_at)
        .execute(pool)
        .await
        .map(|done| done.rows_affected())
    })
    .map_err(|e| write_error(e, format!("assertion jti {jti:?}"), format!("api key {key_id}")))?;
    Ok(inserted == 1)
}

pub(super) async fn create_session(db: &SqlStore, session: &KeySession) -> Result<()> {
    db.batches.key_sessions.write(session.clone()).await
}

/// Key sessions, committed in groups ([`super::group_commit`]): `/auth` opens one per exchange.
pub(super) struct NewKeySessions;

impl GroupWrite for NewKeySessions {
    type Item = KeySession;
    type Written = ();
    fn write_all<'a>(
        writer: &'a Pool,
        items: &'a [KeySession],
    ) -> impl Future<Output = Result<Vec<()>>> + Send + 'a {
        insert_sessions(writer, items)
    }
}

async fn insert_sessions(writer: &Pool, sessions: &[KeySession]) -> Result<Vec<()>> {
    let scopes: Vec<String> = sessions.iter().map(|s| s.scope.to_string()).collect();
    on_pool!(writer, |pool| {
        let mut insert = QueryBuilder::new(
            "INSERT INTO key_sessions (id, key_id, domain_key_id, origin, account, user_id, scope, \
             created_at, expires_at, revoked_at) ",
        );
        insert.push_values(sessions.iter().zip(&scopes), |mut row, (session, scope)| {
            row.push_bind(session.id.as_str())
                .push_bind(session.key_id.as_str())
                .push_bind(session.domain_key_id.as_ref().map(DomainKeyId::as_str))
                .push_bind(session.origin.as_deref())
                .push_bind(session.account.as_str())
                .push_bind(session.user_id.as_ref().map(UserId::as_str))
                .push_bind(scope.as_str())
                .push_bind(session.created_at)
                .push_bind(session.expires_at)
                .push_bind(session.revoked_at);
        });
        // Built anew for each batch size: not worth a prepared statement each.
        insert.build().persistent(false).execute(pool).await.map(|_| ())
    })
    .map_err(|e| match sessions {
        [session] => {
            let missing = match &session.domain_key_id {
                Some(domain_key) => format!("api key {} or domain key {domain_key}", session.key_id),
                None => format!("api key {}", session.key_id),
            };
            write_error(e, format!("key session {}", session.id), missing)
        }
        _ => write_error(
            e,
            "a batched key session".into(),
            "an api key or domain key".into(),
        ),
    })?;
    Ok(vec![(); sessions.len()])
}

pub(super) async fn get_session(db: &SqlStore, id: &str) -> Result<Option<KeySession>> {
    // Columns named, not `*`: key_sessions gained columns in 0003, and a SQLite connection that loaded
    // the schema before another connection migrated prepares `*` with the old columns, then steps with
    // the new ones, which sqlx-sqlite does not survive (its worker panics on the extra column).
    let row = dispatch!(db, |pool| {
        sqlx::query_as::<_, KeySessionRow>(
            "SELECT id, key_id, domain_key_id, origin, account, user_id, scope, created_at, expires_at, \
             revoked_at FROM key_sessions WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(pool)
        .await
    })?;
    row.map(KeySession::try_from).transpose()
}
