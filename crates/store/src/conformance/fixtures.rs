//! Rows with random names, for the conformance checks and for other crates' tests.

use keygate_core::contact::{ContactInput, EmailAddress, EmailField};
use keygate_core::crypto::{random_bytes, random_string};
use keygate_core::ids::{opaque_id, AccountName, ApiKeyId, ClientId, DomainKeyId, LegacyKeyId, UserId};
use keygate_core::model::{
    Account, AccountStatus, ApiKey, App, AssertionAlg, AssertionKey, AuthorizationCode, ClientType,
    DomainKey, Grant, KeySession, KeyState, KeyStatus, LegacyKey, RefreshToken, Role, SigningAlgorithm,
    SigningKeyRecord, StoredSecret, User, UserStatus,
};
use keygate_core::password::PasswordDigest;
use keygate_core::scope::ScopeSet;

use crate::{
    AccountPatch, Delivery, DeliveryStatus, Hook, HookStatus, NewAccount, NewApp, NewUser, Store, StoreError,
    UserPatch,
};

pub fn now() -> i64 {
    keygate_core::time::now()
}

/// A random, well-formed account name. Rarely taken: [`account`] retries when it is.
pub fn account_name() -> AccountName {
    let letters = random_string(b"abcdefghijklmnopqrstuvwxyz", 2);
    let digits = random_string(b"0123456789", 3);
    AccountName::parse(&format!("{letters}{digits}")).unwrap()
}

/// Lowercase letters, to make emails and names unique.
pub fn tag() -> String {
    random_string(b"abcdefghijklmnopqrstuvwxyz", 10)
}

pub fn hash() -> Vec<u8> {
    random_bytes::<32>().to_vec()
}

pub fn secret() -> StoredSecret {
    StoredSecret {
        hash: hash(),
        last4: random_string(b"abcdefghijklmnopqrstuvwxyz0123456789", 4),
        expires_at: None,
    }
}

pub fn password() -> PasswordDigest {
    PasswordDigest(format!("$argon2id$v=19$m=19456,t=2,p=1${}", tag()))
}

/// Creates an account with a fresh random name (the space of names is small enough to collide now and
/// then in a long-lived test database).
pub async fn account_named(store: &dyn Store, display_name: &str, now: i64) -> Account {
    for _ in 0..20 {
        let new = NewAccount {
            name: account_name(),
            display_name: display_name.to_owned(),
        };
        match store.create_account(&new, now).await {
            Err(StoreError::Conflict(_)) => continue,
            other => return other.unwrap(),
        }
    }
    panic!("no free account name in 20 tries")
}

pub async fn account(store: &dyn Store) -> Account {
    account_named(store, "Test account", now()).await
}

/// Suspends or reactivates `account` (it must exist).
pub async fn set_account_status(store: &dyn Store, account: &AccountName, status: AccountStatus) {
    let patch = AccountPatch {
        status: Some(status),
        ..AccountPatch::default()
    };
    let updated = store.update_account(account, &patch, now()).await.unwrap();
    assert!(updated.is_some(), "no account {account}");
}

/// Suspends or reactivates the user `id` (it must exist).
pub async fn set_user_status(store: &dyn Store, id: &UserId, status: UserStatus) {
    let patch = UserPatch {
        status: Some(status),
        ..UserPatch::default()
    };
    let updated = store.update_user(id, &patch, now()).await.unwrap();
    assert!(updated.is_some(), "no user {id}");
}

pub fn new_user(account: &AccountName, email: &str) -> NewUser {
    NewUser {
        id: UserId::generate(),
        account: account.clone(),
        email: email.to_owned(),
        password: password(),
        role: Role::Member,
    }
}

pub async fn user(store: &dyn Store, account: &AccountName) -> User {
    let new = new_user(account, &format!("{}@example.com", tag()));
    store.create_user(&new, now()).await.unwrap()
}

pub fn new_app(owner: Option<&AccountName>) -> NewApp {
    NewApp {
        client_id: ClientId::generate(),
        name: format!("App {}", tag()),
        client_type: ClientType::Confidential,
        owner_account: owner.cloned(),
        redirect_uris: vec!["https://app.example/callback".to_owned()],
        allowed_origins: vec![],
        allowed_scopes: ScopeSet::all(),
        access_token_ttl: None,
        refresh_token_ttl: None,
        secret: Some(secret()),
    }
}

pub async fn app(store: &dyn Store, owner: Option<&AccountName>) -> App {
    store.create_app(&new_app(owner), now()).await.unwrap()
}

/// An account with one user and one app it owns: what codes, grants and tokens refer to.
pub struct World {
    pub account: Account,
    pub user: User,
    pub app: App,
}

pub async fn world(store: &dyn Store) -> World {
    let account = account(store).await;
    let user = user(store, &account.name).await;
    let app = app(store, Some(&account.name)).await;
    World { account, user, app }
}

pub fn code(w: &World, expires_at: i64) -> AuthorizationCode {
    AuthorizationCode {
        code_hash: hash(),
        client_id: w.app.client_id.clone(),
        account: w.account.name.clone(),
        user_id: w.user.id.clone(),
        redirect_uri: "https://app.example/callback".to_owned(),
        redirect_uri_explicit: true,
        scope: ScopeSet::parse("contacts.read contacts.write").unwrap(),
        code_challenge: Some("E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM".to_owned()),
        grant_id: opaque_id("grt_"),
        expires_at,
        consumed_at: None,
    }
}

pub fn grant(w: &World, now: i64) -> Grant {
    Grant {
        id: opaque_id("grt_"),
        client_id: w.app.client_id.clone(),
        account: w.account.name.clone(),
        user_id: w.user.id.clone(),
        scope: ScopeSet::parse("contacts.read").unwrap(),
        created_at: now,
        revoked_at: None,
        revoked_reason: None,
    }
}

pub fn refresh_token(grant_id: &str, now: i64, expires_at: i64) -> RefreshToken {
    RefreshToken {
        token_hash: hash(),
        grant_id: grant_id.to_owned(),
        scope: ScopeSet::parse("contacts.read").unwrap(),
        created_at: now,
        expires_at,
        rotated_at: None,
    }
}

pub fn signing_key(state: KeyState, now: i64) -> SigningKeyRecord {
    let kid = opaque_id("kid_");
    SigningKeyRecord {
        public_jwk: format!(r#"{{"kty":"EC","crv":"P-256","kid":"{kid}"}}"#),
        kid,
        algorithm: SigningAlgorithm::ES256,
        state,
        sealed_private_key: Some(random_bytes::<48>().to_vec()),
        created_at: now,
        activated_at: (state == KeyState::Current).then_some(now),
        retired_at: None,
        publish_until: None,
    }
}

/// An active API key of `account`, acting as `user` (or as the account: a service key).
pub fn api_key(account: &AccountName, user: Option<&UserId>, now: i64) -> ApiKey {
    ApiKey {
        id: ApiKeyId::generate(),
        account: account.clone(),
        name: format!("Key {}", tag()),
        user_id: user.cloned(),
        scopes: ScopeSet::parse("contacts.read contacts.write").unwrap(),
        status: KeyStatus::Active,
        secret: secret(),
        previous_secret: None,
        assertion: None,
        created_at: now,
        updated_at: now,
        revoked_at: None,
    }
}

/// What verifies `alg` assertions: a random sealed secret for HS256, a public JWK otherwise.
pub fn assertion_key(alg: AssertionAlg) -> AssertionKey {
    let (public_jwk, sealed_secret) = match alg {
        AssertionAlg::HS256 => (None, Some(hash())),
        AssertionAlg::ES256 => (
            Some(format!(
                r#"{{"kty":"EC","crv":"P-256","x":"{}","y":"{}"}}"#,
                tag(),
                tag()
            )),
            None,
        ),
        AssertionAlg::EdDSA => (
            Some(format!(r#"{{"kty":"OKP","crv":"Ed25519","x":"{}"}}"#, tag())),
            None,
        ),
        AssertionAlg::RS256 => (
            Some(format!(r#"{{"kty":"RSA","n":"{}","e":"AQAB"}}"#, tag())),
            None,
        ),
    };
    AssertionKey {
        alg,
        public_jwk,
        sealed_secret,
    }
}

/// A session of `key`, from `now` until `expires_at`.
pub fn key_session(key: &ApiKey, now: i64, expires_at: i64) -> KeySession {
    KeySession {
        id: opaque_id("kss_"),
        key_id: key.id.clone(),
        domain_key_id: None,
        origin: None,
        account: key.account.clone(),
        user_id: key.user_id.clone(),
        scope: ScopeSet::parse("contacts.read").unwrap(),
        created_at: now,
        expires_at,
        revoked_at: None,
    }
}

/// An active domain key bound to `key` (so of its account), good from `origins`.
pub fn domain_key(key: &ApiKey, origins: &[&str], now: i64) -> DomainKey {
    DomainKey {
        id: DomainKeyId::generate(),
        account: key.account.clone(),
        api_key_id: key.id.clone(),
        name: format!("Domain key {}", tag()),
        origins: origins.iter().map(|&o| o.to_owned()).collect(),
        scopes: ScopeSet::parse("contacts.read").unwrap(),
        status: KeyStatus::Active,
        created_at: now,
        updated_at: now,
        revoked_at: None,
    }
}

/// A session opened with `domain` (through `key`, the API key it is bound to) from `origin`.
pub fn domain_key_session(
    key: &ApiKey,
    domain: &DomainKey,
    origin: &str,
    now: i64,
    expires_at: i64,
) -> KeySession {
    KeySession {
        domain_key_id: Some(domain.id.clone()),
        origin: Some(origin.to_owned()),
        ..key_session(key, now, expires_at)
    }
}

/// An active, never used legacy key of `account`.
pub fn legacy_key(account: &AccountName, now: i64) -> LegacyKey {
    LegacyKey {
        id: LegacyKeyId::generate(),
        account: account.clone(),
        name: format!("Legacy key {}", tag()),
        secret: secret(),
        status: KeyStatus::Active,
        use_count: 0,
        last_used_at: None,
        created_at: now,
        updated_at: now,
        revoked_at: None,
    }
}

/// A contact's input: random given and family names, and `email` in slot `EMAIL1` when given.
pub fn contact_input(email: Option<&str>) -> ContactInput {
    ContactInput {
        given_name: Some(format!("Given {}", tag())),
        family_name: Some(format!("Family {}", tag())),
        emails: email
            .map(|e| EmailAddress {
                field: EmailField::Email1,
                email: e.to_owned(),
            })
            .into_iter()
            .collect(),
        ..ContactInput::default()
    }
}

/// A random address, unique to the caller (mixed case: the store compares addresses case-insensitively).
pub fn contact_email() -> String {
    format!("Person.{}@Example.com", tag())
}

/// A subscription of `account` to `event_key`, created and last updated at `now`, with a random sealed
/// secret and never failing.
pub fn hook(account: &AccountName, event_key: &str, status: HookStatus, now: i64) -> Hook {
    Hook {
        key: opaque_id("hk_"),
        account: account.clone(),
        event_key: event_key.to_owned(),
        hook_url: format!("https://{}.example/hooks", tag()),
        status,
        secret_sealed: hash(),
        previous_secret_sealed: None,
        previous_secret_expires_at: None,
        failing_since: None,
        created_at: now,
        updated_at: now,
    }
}

/// A new delivery to `hook`, made at `now` and due then, never tried.
pub fn delivery(hook: &Hook, now: i64) -> Delivery {
    Delivery {
        id: opaque_id("msg_"),
        hook_key: hook.key.clone(),
        account: hook.account.clone(),
        payload: format!(r#"{{"event_key":"{}","tag":"{}"}}"#, hook.event_key, tag()),
        status: DeliveryStatus::Pending,
        attempts: 0,
        next_attempt_at: Some(now),
        created_at: now,
        finished_at: None,
        last_status_code: None,
        last_error: None,
    }
}
