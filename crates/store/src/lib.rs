//! Keygate's storage: one [`Store`] trait, implemented for SQLite (the embedded default) and
//! PostgreSQL (several stateless nodes sharing one database).
//!
//! Each method is one atomic unit of work; callers never hold a transaction open across calls. Every
//! query text is written once and runs on both backends (`$n` placeholders, portable SQL); the dialects
//! differ only in their migrations and in the rare method that needs a backend-specific statement.

use async_trait::async_trait;
use keygate_core::contact::{Contact, ContactInput, DuplicateOption, EmailStatusRecord};
use keygate_core::ids::{AccountName, ApiKeyId, ClientId, DomainKeyId, LegacyKeyId, UserId};
use keygate_core::model::{
    Account, AccountStatus, AdminToken, ApiKey, App, AppStatus, AssertionKey, AuditEvent, AuthorizationCode,
    ClientType, DomainKey, Grant, KeySession, LegacyKey, RateLimit, RefreshToken, Role, SigningKeyRecord,
    StoredSecret, User, UserStatus,
};
use keygate_core::password::PasswordDigest;
use keygate_core::scope::ScopeSet;

mod contacts;
mod hooks;
mod sql;
pub use contacts::*;
pub use hooks::*;
pub use sql::{connect, connect_node, Backend, SqlStore};

#[cfg(any(test, feature = "conformance"))]
pub mod conformance;
#[cfg(any(test, feature = "conformance"))]
pub mod testing;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A uniqueness rule was broken; the string names what already exists.
    #[error("{0} already exists")]
    Conflict(String),
    /// A referenced row (an account for a new user, say) does not exist.
    #[error("{0} does not exist")]
    MissingReference(String),
    /// A stored value no longer parses (manual edits, or a bug): never shown to clients as-is.
    #[error("corrupt row: {0}")]
    Corrupt(String),
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("migration failed: {0}")]
    Migration(#[from] sqlx::migrate::MigrateError),
    /// [`connect`] was given a URL whose scheme (the string) is neither SQLite nor PostgreSQL.
    #[error("unsupported database URL scheme {0:?}: expected sqlite://PATH or postgres://HOST/DATABASE")]
    UnsupportedUrl(String),
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

#[derive(Debug, Clone)]
pub struct NewAccount {
    pub name: AccountName,
    pub display_name: String,
}

/// A subject's current run of failed authentications.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct AuthStreak {
    pub subject: String,
    pub failures: i64,
    pub last_failure_at: i64,
    pub locked_until: Option<i64>,
}

impl AuthStreak {
    pub fn locked_at(&self, now: i64) -> bool {
        self.locked_until.is_some_and(|u| u > now)
    }
}

/// A signed-in session of the developer portal. Its token is never stored: only its keyed hash.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct PortalSession {
    pub id_hash: Vec<u8>,
    /// Public (`ps_…`): the `sid` of the tokens the portal's API explorer uses.
    pub id: String,
    pub user_id: String,
    pub account: String,
    pub created_at: i64,
    pub last_seen_at: i64,
    pub expires_at: i64,
}

#[derive(Debug, Clone, Default)]
pub struct AccountPatch {
    pub display_name: Option<String>,
    pub status: Option<AccountStatus>,
    pub basic_auth: Option<bool>,
    /// `Some(None)` returns the account to the server's default limit.
    pub rate_limit: Option<Option<RateLimit>>,
}

#[derive(Debug, Clone)]
pub struct NewUser {
    pub id: UserId,
    pub account: AccountName,
    pub email: String,
    pub password: PasswordDigest,
    pub role: Role,
}

#[derive(Debug, Clone, Default)]
pub struct UserPatch {
    pub role: Option<Role>,
    pub status: Option<UserStatus>,
    pub password: Option<PasswordDigest>,
}

#[derive(Debug, Clone)]
pub struct NewApp {
    pub client_id: ClientId,
    pub name: String,
    pub client_type: ClientType,
    pub owner_account: Option<AccountName>,
    pub redirect_uris: Vec<String>,
    pub allowed_origins: Vec<String>,
    pub allowed_scopes: ScopeSet,
    pub access_token_ttl: Option<i64>,
    pub refresh_token_ttl: Option<i64>,
    /// `None` for public clients.
    pub secret: Option<StoredSecret>,
}

/// `Some(None)` clears an optional field; `None` leaves it as it is.
#[derive(Debug, Clone, Default)]
pub struct AppPatch {
    pub name: Option<String>,
    pub redirect_uris: Option<Vec<String>>,
    pub allowed_origins: Option<Vec<String>>,
    pub allowed_scopes: Option<ScopeSet>,
    pub access_token_ttl: Option<Option<i64>>,
    pub refresh_token_ttl: Option<Option<i64>>,
    pub status: Option<AppStatus>,
}

/// The credential a token was issued through, and the grant or session it belongs to.
#[derive(Debug, Clone, Copy)]
pub enum CredentialRef<'a> {
    /// A developer app (OAuth client); `grant_id` for tokens of a user's authorization.
    App {
        client_id: &'a str,
        grant_id: Option<&'a str>,
    },
    /// An API key exchanged at `POST /auth`, and the session of that exchange.
    ApiKey { key_id: &'a str, session_id: &'a str },
    /// A domain key exchanged at `POST /auth` (through its API key), and the session of that exchange.
    DomainKey {
        domain_key_id: &'a str,
        key_id: &'a str,
        session_id: &'a str,
    },
    /// A session of the developer portal (its API explorer's tokens).
    PortalSession {
        session_id: &'a str,
        /// The portal's idle timeout: a session unused for this long is over.
        idle_timeout: i64,
    },
}

/// What a resource server needs to know, beyond the signature, about a presented access token.
#[derive(Debug, Clone)]
pub struct LivenessQuery<'a> {
    pub jti: &'a str,
    pub credential: CredentialRef<'a>,
    pub account: &'a str,
    /// `None` for tokens acting as an app or account rather than a user.
    pub user_id: Option<&'a str>,
    /// Sessions past their end are no longer live.
    pub now: i64,
}

/// Why a well-signed token is no longer good, or `Live`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Liveness {
    Live,
    TokenRevoked,
    GrantRevoked,
    AppInactive,
    /// The API key is revoked, missing, or belongs to another account.
    KeyRevoked,
    /// The domain key is revoked, missing, or not bound to that API key.
    DomainKeyRevoked,
    /// The key session was revoked or reached its maximum length; or the portal session ended.
    SessionEnded,
    AccountInactive,
    UserInactive,
}

/// How long whoever asked may keep a `Live` answer without asking again: while the store's credentials
/// epoch ([`Store::credentials_epoch`]) still reads `epoch` and the time is before `until` (Unix seconds).
/// The epoch moves before and after every write that could change the answer, and `epoch` was read
/// before the answer was, so a kept answer never outlives a revocation that has been acknowledged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LiveLease {
    pub epoch: u64,
    pub until: i64,
}

/// An audit event before the store numbers it.
#[derive(Debug, Clone)]
pub struct NewAuditEvent {
    pub at: i64,
    pub account: Option<AccountName>,
    pub actor: String,
    pub action: String,
    pub target: String,
    pub details: String,
}

/// Which audit events to list: newest first, `limit` at most, only ids below `before` when set.
#[derive(Debug, Clone, Default)]
pub struct AuditQuery {
    pub account: Option<AccountName>,
    /// Exact action (`api_key.revoked`) or a noun prefix ending in a dot (`api_key.`).
    pub action: Option<String>,
    pub before: Option<i64>,
    pub limit: u32,
}

/// Outcome of consuming an authorization code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CodeRedemption {
    /// First use: the code is now marked consumed.
    Redeemed(AuthorizationCode),
    /// The code was already used: a replay. The caller revokes `grant_id`.
    Replayed(AuthorizationCode),
    NotFound,
}

/// A refresh token with everything refreshing it checks, read in one query: its grant, and the status
/// of the grant's account and user (`None` when the account or user no longer exists).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefreshContext {
    pub token: RefreshToken,
    pub grant: Grant,
    pub account_status: Option<AccountStatus>,
    pub user_status: Option<UserStatus>,
}

/// Outcome of rotating a refresh token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rotation {
    /// The old token is now marked rotated and the successor stored.
    Rotated,
    /// Someone rotated it first (`rotated_at` is when); the successor was not stored.
    AlreadyRotated {
        rotated_at: i64,
    },
    NotFound,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PurgeReport {
    pub authorization_codes: u64,
    pub assertion_jtis: u64,
    pub key_sessions: u64,
    pub refresh_tokens: u64,
    pub revoked_tokens: u64,
    pub signing_keys: u64,
    /// Failure streaks a day old with no lock left.
    pub auth_failures: u64,
    /// Portal sessions past their absolute expiry.
    pub portal_sessions: u64,
}

#[async_trait]
pub trait Store: Send + Sync + 'static {
    fn backend(&self) -> Backend;

    /// Applies this backend's pending migrations.
    async fn migrate(&self) -> Result<()>;

    /// A cheap round trip, for readiness checks.
    async fn ping(&self) -> Result<()>;

    /// True when there are no accounts and no apps yet (a brand-new installation).
    async fn is_empty(&self) -> Result<bool>;

    /// Called once when the process stops serving: a node sharing PostgreSQL with others leaves them,
    /// so their writes stop waiting for it at once (see `keygate_store::connect_node`).
    async fn leave(&self) {}

    // --- accounts ---------------------------------------------------------------------------------
    /// `Conflict` if the name is taken.
    async fn create_account(&self, new: &NewAccount, now: i64) -> Result<Account>;
    async fn get_account(&self, name: &AccountName) -> Result<Option<Account>>;
    /// Ordered by name.
    async fn list_accounts(&self) -> Result<Vec<Account>>;
    /// `None` if there is no such account.
    async fn update_account(
        &self,
        name: &AccountName,
        patch: &AccountPatch,
        now: i64,
    ) -> Result<Option<Account>>;
    /// Accounts with a rate limit of their own, by name.
    async fn rate_limit_overrides(&self) -> Result<Vec<(AccountName, RateLimit)>>;

    // --- users ------------------------------------------------------------------------------------
    /// `Conflict` if the account already has this email (case-insensitively); `MissingReference` if the
    /// account does not exist.
    async fn create_user(&self, new: &NewUser, now: i64) -> Result<User>;
    async fn get_user(&self, id: &UserId) -> Result<Option<User>>;
    /// Case-insensitive on the email.
    async fn find_user_by_email(&self, account: &AccountName, email: &str) -> Result<Option<User>>;
    /// Ordered by email.
    async fn list_users(&self, account: &AccountName) -> Result<Vec<User>>;
    async fn update_user(&self, id: &UserId, patch: &UserPatch, now: i64) -> Result<Option<User>>;

    // --- developer apps ---------------------------------------------------------------------------
    /// `Conflict` on a duplicate client id; `MissingReference` if the owner account does not exist.
    async fn create_app(&self, new: &NewApp, now: i64) -> Result<App>;
    async fn get_app(&self, client_id: &ClientId) -> Result<Option<App>>;
    /// [`Store::get_app`] with the status of its owner account (`None` for an app without one), read
    /// together: what authenticating a client needs, in one round trip where nothing is cached.
    async fn get_app_and_owner_status(
        &self,
        client_id: &ClientId,
    ) -> Result<Option<(App, Option<AccountStatus>)>>;
    /// All apps, or only those owned by `owner`; ordered by creation time, then client id.
    async fn list_apps(&self, owner: Option<&AccountName>) -> Result<Vec<App>>;
    async fn update_app(&self, client_id: &ClientId, patch: &AppPatch, now: i64) -> Result<Option<App>>;
    /// Installs `secret` as the current secret. The old current secret becomes the previous one, valid
    /// until `previous_expires_at`, or is dropped when that is `None`.
    async fn replace_app_secret(
        &self,
        client_id: &ClientId,
        secret: &StoredSecret,
        previous_expires_at: Option<i64>,
        now: i64,
    ) -> Result<Option<App>>;

    // --- admin API credentials --------------------------------------------------------------------
    async fn create_admin_token(&self, token: &AdminToken) -> Result<()>;
    /// Only tokens that are not revoked.
    async fn find_admin_token(&self, hash: &[u8]) -> Result<Option<AdminToken>>;
    async fn list_admin_tokens(&self) -> Result<Vec<AdminToken>>;
    /// Returns whether a live token was revoked.
    async fn revoke_admin_token(&self, id: &str, now: i64) -> Result<bool>;

    // --- signing keys -----------------------------------------------------------------------------
    /// Every key still stored, oldest first.
    async fn list_signing_keys(&self) -> Result<Vec<SigningKeyRecord>>;
    /// Inserts keys only if no key exists yet (first start); returns whether it inserted. Two nodes
    /// starting together must not both create a current key.
    async fn bootstrap_signing_keys(&self, keys: &[SigningKeyRecord]) -> Result<bool>;
    /// Atomically: the key `current_kid` (which must still be current) becomes retired, its private key
    /// wiped and `publish_until` set; the key `next_kid` (which must still be next) becomes current;
    /// `new_next` is inserted. Returns false, changing nothing, if another node rotated first.
    async fn rotate_signing_keys(
        &self,
        current_kid: &str,
        next_kid: &str,
        new_next: &SigningKeyRecord,
        publish_until: i64,
        now: i64,
    ) -> Result<bool>;

    // --- authorization codes, grants, refresh tokens ----------------------------------------------
    async fn insert_authorization_code(&self, code: &AuthorizationCode) -> Result<()>;
    /// Marks the code consumed if it was not; codes past `expires_at` count as `NotFound`.
    async fn redeem_authorization_code(&self, code_hash: &[u8], now: i64) -> Result<CodeRedemption>;
    /// Creates the grant and its first refresh token together.
    async fn create_grant(&self, grant: &Grant, first_refresh: Option<&RefreshToken>) -> Result<()>;
    async fn get_grant(&self, id: &str) -> Result<Option<Grant>>;
    /// Idempotent: revoking a revoked grant keeps the first time and reason. Returns whether it changed.
    async fn revoke_grant(&self, id: &str, reason: &str, now: i64) -> Result<bool>;
    async fn get_refresh_token(&self, token_hash: &[u8]) -> Result<Option<RefreshToken>>;
    /// [`Store::get_refresh_token`] with its grant and the grant's account and user status, read
    /// together (one round trip instead of four); `None` when the token or its grant is unknown.
    async fn get_refresh_context(&self, token_hash: &[u8]) -> Result<Option<RefreshContext>>;
    /// Atomically marks `old_hash` rotated at `now` (only if it was not) and inserts `successor`.
    async fn rotate_refresh_token(
        &self,
        old_hash: &[u8],
        successor: &RefreshToken,
        now: i64,
    ) -> Result<Rotation>;
    /// Adds a refresh token to an existing grant (the concurrent-refresh grace path).
    async fn insert_refresh_token(&self, token: &RefreshToken) -> Result<()>;

    // --- API keys and their sessions --------------------------------------------------------------
    /// `Conflict` on a duplicate id; `MissingReference` if the account or user does not exist.
    async fn create_api_key(&self, key: &ApiKey) -> Result<()>;
    async fn get_api_key(&self, id: &ApiKeyId) -> Result<Option<ApiKey>>;
    /// [`Store::get_api_key`] with the status of the key's account (`None` if it is gone), read together:
    /// what opening a key session needs, in one round trip where nothing is cached.
    async fn get_api_key_and_account_status(
        &self,
        id: &ApiKeyId,
    ) -> Result<Option<(ApiKey, Option<AccountStatus>)>>;
    /// The account's keys, revoked ones included, ordered by creation time, then id.
    async fn list_api_keys(&self, account: &AccountName) -> Result<Vec<ApiKey>>;
    /// Marks the key revoked (idempotent: the first `revoked_at` stays). `None` if there is no such key.
    async fn revoke_api_key(&self, id: &ApiKeyId, now: i64) -> Result<Option<ApiKey>>;
    /// As [`Store::replace_app_secret`], for an API key.
    async fn replace_api_key_secret(
        &self,
        id: &ApiKeyId,
        secret: &StoredSecret,
        previous_expires_at: Option<i64>,
        now: i64,
    ) -> Result<Option<ApiKey>>;
    /// Sets (or, with `None`, clears) how the key signs JWT assertions. `None` if there is no such key.
    async fn set_api_key_assertion(
        &self,
        id: &ApiKeyId,
        assertion: Option<&AssertionKey>,
        now: i64,
    ) -> Result<Option<ApiKey>>;
    /// Records that an assertion with `jti` was accepted for `key_id`, remembered until `expires_at`.
    /// Returns false, recording nothing, if that key already used that jti: a replay. `MissingReference`
    /// if the key does not exist.
    async fn use_assertion_jti(&self, key_id: &ApiKeyId, jti: &str, expires_at: i64) -> Result<bool>;
    /// `MissingReference` if the key does not exist.
    async fn create_key_session(&self, session: &KeySession) -> Result<()>;
    async fn get_key_session(&self, id: &str) -> Result<Option<KeySession>>;

    // --- domain keys ------------------------------------------------------------------------------
    /// `Conflict` on a duplicate id; `MissingReference` if the account or the API key does not exist, or
    /// the API key belongs to another account.
    async fn create_domain_key(&self, key: &DomainKey) -> Result<()>;
    async fn get_domain_key(&self, id: &DomainKeyId) -> Result<Option<DomainKey>>;
    /// The account's domain keys, revoked ones included, ordered by creation time, then id.
    async fn list_domain_keys(&self, account: &AccountName) -> Result<Vec<DomainKey>>;
    /// As [`Store::revoke_api_key`].
    async fn revoke_domain_key(&self, id: &DomainKeyId, now: i64) -> Result<Option<DomainKey>>;
    /// Every origin pattern a browser may call from: those of active apps and of active domain keys
    /// (whose API key is active too). Duplicates removed, in no particular order.
    async fn allowed_origin_patterns(&self) -> Result<Vec<String>>;

    // --- legacy static keys -----------------------------------------------------------------------
    /// `Conflict` on a duplicate id or key hash; `MissingReference` if the account does not exist.
    async fn create_legacy_key(&self, key: &LegacyKey) -> Result<()>;
    async fn get_legacy_key(&self, id: &LegacyKeyId) -> Result<Option<LegacyKey>>;
    /// The key whose keyed hash is `hash`, revoked or not.
    async fn find_legacy_key(&self, hash: &[u8]) -> Result<Option<LegacyKey>>;
    /// [`Store::find_legacy_key`] with the status of the key's account (`None` if it is gone), read
    /// together.
    async fn find_legacy_key_and_account_status(
        &self,
        hash: &[u8],
    ) -> Result<Option<(LegacyKey, Option<AccountStatus>)>>;
    /// The account's legacy keys, revoked ones included, ordered by creation time, then id.
    async fn list_legacy_keys(&self, account: &AccountName) -> Result<Vec<LegacyKey>>;
    /// As [`Store::revoke_api_key`].
    async fn revoke_legacy_key(&self, id: &LegacyKeyId, now: i64) -> Result<Option<LegacyKey>>;
    /// Adds `uses` to the key's use count and sets `last_used_at` to `at` if that is later. Returns the
    /// previous `last_used_at` (`None` if never used, or no such key).
    async fn record_legacy_key_use(&self, id: &LegacyKeyId, uses: i64, at: i64) -> Result<Option<i64>>;

    // --- HTTP Basic ---------------------------------------------------------------------------------
    /// Users with this email (already normalised) in accounts that have Basic auth switched on, whatever
    /// the status of user or account. Ordered by account.
    async fn find_basic_auth_users(&self, email_normalized: &str) -> Result<Vec<User>>;

    // --- audit log --------------------------------------------------------------------------------
    /// Appends an event and returns it with its id.
    async fn append_audit(&self, event: &NewAuditEvent) -> Result<AuditEvent>;
    async fn list_audit(&self, query: &AuditQuery) -> Result<Vec<AuditEvent>>;

    // --- access-token revocation ------------------------------------------------------------------
    /// Remembers a revoked JWT id until the token would have expired anyway.
    async fn revoke_access_token(&self, jti: &str, expires_at: i64, now: i64) -> Result<()>;
    /// [`Store::leased_liveness`] without its lease.
    async fn liveness(&self, q: &LivenessQuery<'_>) -> Result<Liveness> {
        Ok(self.leased_liveness(q).await?.0)
    }
    /// Whether a token is still good (`Live`, or why not), and for a `Live` answer the lease under which
    /// it may be kept; `None` when it must be asked again on every request (a PostgreSQL store that is
    /// not a node, or a node without a lease standing; a portal session, which its idle timeout ends
    /// without any write).
    async fn leased_liveness(&self, q: &LivenessQuery<'_>) -> Result<(Liveness, Option<LiveLease>)>;
    /// The epoch a [`LiveLease`] is checked against; `None` when no answer may be kept.
    fn credentials_epoch(&self) -> Option<u64>;

    /// Deletes what can never be used again: expired codes and refresh tokens, revocation entries past
    /// the token's expiry, retired signing keys past `publish_until`, key sessions past their end, and
    /// assertion jtis past their expiry.
    async fn purge_expired(&self, now: i64) -> Result<PurgeReport>;

    // --- contacts ---------------------------------------------------------------------------------
    // Every write that changes something writes its event in the same transaction; one that changes
    // nothing writes none. Nothing ever reads or writes across accounts.

    /// Stores a new contact under the account's next id (ids increase per account and are never reused),
    /// with `version` 1; `contact.id` and `contact.version` are ignored. Event `contact.add`.
    async fn create_contact(&self, account: &AccountName, contact: &Contact) -> Result<Contact>;
    /// `None` if the account has no contact `id` (whoever else has one).
    async fn get_contact(&self, account: &AccountName, id: i64) -> Result<Option<Contact>>;
    /// [`Store::get_contact`] with the status of the contact's primary address (what
    /// [`Store::get_email_status`] answers for it), read together.
    async fn get_contact_with_status(
        &self,
        account: &AccountName,
        id: i64,
    ) -> Result<Option<(Contact, Option<EmailStatusRecord>)>>;
    /// Applies `change` to the contact as stored, if its version is `if_version` (when given).
    /// Event `contact.edit` when it changed something.
    async fn update_contact(
        &self,
        account: &AccountName,
        id: i64,
        if_version: Option<i64>,
        change: ContactChange<'_>,
    ) -> Result<ContactWrite<Contact>>;
    /// Event `contact.delete` (dated now). The id is not reused.
    async fn delete_contact(
        &self,
        account: &AccountName,
        id: i64,
        if_version: Option<i64>,
    ) -> Result<ContactWrite<()>>;
    /// Creates `input` unless a contact matches it by `option` (the first match by id, among contacts
    /// holding the input's primary email), which is then updated with `input` as a patch. Atomic: two
    /// concurrent upserts of one address make one contact. Returns the contact and whether it is new.
    async fn upsert_contact(
        &self,
        account: &AccountName,
        input: &ContactInput,
        option: DuplicateOption,
        now: i64,
    ) -> Result<ContactWrite<(Contact, bool)>>;
    /// The page `query` asks for, in its order (ties by id, in the same direction), and how many match in
    /// all. `limit` and `offset` are taken as given: the caller bounds them.
    async fn list_contacts(&self, account: &AccountName, query: &ContactQuery) -> Result<ContactPage>;

    /// `email` is normalised (trimmed, lowercase).
    async fn get_email_status(&self, account: &AccountName, email: &str)
        -> Result<Option<EmailStatusRecord>>;
    /// Applies `change` to the address's status; when it yields a record, stores it and writes
    /// `event_key` for every contact of the account holding the address. Returns the new record, or
    /// `Done(None)` when nothing changed; `NotFound` when no contact of the account has the address.
    /// The events are dated with the record's `changed_at`; the record is stored (and returned) under
    /// `email`.
    async fn change_email_status(
        &self,
        account: &AccountName,
        email: &str,
        event_key: &str,
        change: EmailStatusChange<'_>,
    ) -> Result<ContactWrite<Option<EmailStatusRecord>>>;

    /// The account's events after `after_id`, oldest first.
    async fn list_events(&self, account: &AccountName, after_id: i64, limit: u32) -> Result<Vec<Event>>;

    // --- REST hooks -------------------------------------------------------------------------------
    // The pipeline: events (written with each change) are fanned out to the verified subscriptions of
    // their account and key as items; items are batched into deliveries; deliveries are claimed, tried,
    // and retried until delivered or failed. Every step is one transaction that several nodes may run at
    // once without doing the same work twice (`FOR UPDATE SKIP LOCKED` on PostgreSQL).

    /// `Conflict` if the key exists (in any account); `MissingReference` if the account does not exist.
    async fn create_hook(&self, hook: &Hook) -> Result<()>;
    async fn get_hook(&self, account: &AccountName, key: &str) -> Result<Option<Hook>>;
    /// Oldest first.
    async fn list_hooks(&self, account: &AccountName) -> Result<Vec<Hook>>;
    /// Applies `patch` and sets `updated_at` to `now`. `None` if the account has no such subscription.
    async fn update_hook(
        &self,
        account: &AccountName,
        key: &str,
        patch: &HookPatch,
        now: i64,
    ) -> Result<Option<Hook>>;
    /// Deletes the subscription with its items, deliveries and attempts. `false` if there was none.
    async fn delete_hook(&self, account: &AccountName, key: &str) -> Result<bool>;

    /// Takes up to `limit` events not yet fanned out (oldest first), makes an item for each verified
    /// subscription of the event's account and key, and marks the events done. Returns how many events
    /// it took. An event is fanned out exactly once, whatever the number of nodes: a subscription verified
    /// after that never gets it.
    async fn fan_out_events(&self, limit: u32) -> Result<u64>;
    /// Verified subscriptions with items not in a delivery whose oldest item occurred at or before
    /// `ready_before` (the debounce), each with up to `max_items` of them, oldest first (by time, then
    /// id); at most `limit` subscriptions, the longest waiting first. The items of a subscription that is
    /// not verified wait until it is again.
    async fn pending_batches(
        &self,
        ready_before: i64,
        max_items: u32,
        limit: u32,
    ) -> Result<Vec<PendingBatch>>;
    /// Makes `delivery` of the given items of its subscription, unless another node batched any of them
    /// first, or one is not the subscription's, or the subscription is not `delivery.account`'s (then
    /// nothing is written and `false` is returned). It is stored pending and unfinished, due at its
    /// `next_attempt_at` (at `created_at` if `None`). `Conflict` if the id exists.
    async fn create_delivery(&self, delivery: &Delivery, item_ids: &[i64]) -> Result<bool>;
    /// Claims up to `limit` pending deliveries due at `now` (oldest due first) by moving their due time to
    /// `now + lease`, so no other node takes them while they are being sent; a node that dies mid-send
    /// leaves them to be taken again when the lease ends. Returns them as claimed (due at the lease's end),
    /// in creation order.
    async fn claim_deliveries(&self, now: i64, lease: i64, limit: u32) -> Result<Vec<Delivery>>;
    /// Records an attempt and what it decided (attempt count, last status and error, due time or final
    /// state). On `Delivered` clears the subscription's `failing_since`; on anything else sets it if unset.
    /// The attempt is numbered `attempt.number`, or after the last one recorded if that is not above it
    /// (two nodes tried, the first past its lease), and the delivery's `attempts` becomes that number. A
    /// delivery already delivered or failed keeps its state and last result: the attempt is only added to
    /// its history. `MissingReference` if the delivery does not exist (its subscription was deleted).
    async fn record_attempt(&self, attempt: &DeliveryAttempt, outcome: AttemptOutcome) -> Result<()>;
    /// At most `limit` of a subscription's deliveries, newest first (creation order); with `before` (a
    /// delivery id), only those created before it (none if it is not one of the subscription's).
    async fn list_deliveries(
        &self,
        account: &AccountName,
        hook_key: &str,
        limit: u32,
        before: Option<&str>,
    ) -> Result<Vec<Delivery>>;
    async fn get_delivery(&self, account: &AccountName, hook_key: &str, id: &str)
        -> Result<Option<Delivery>>;
    /// Every attempt of a delivery, in order.
    async fn list_attempts(&self, delivery_id: &str) -> Result<Vec<DeliveryAttempt>>;
    /// Makes a delivery pending, unfinished and due at `now` again (keeping its id, payload and attempt
    /// count). `false` if the subscription has no such delivery.
    async fn replay_delivery(
        &self,
        account: &AccountName,
        hook_key: &str,
        id: &str,
        now: i64,
    ) -> Result<bool>;
    /// Counts the subscription's items (all zero if the account has no such subscription).
    async fn hook_stats(&self, account: &AccountName, hook_key: &str) -> Result<HookStats>;

    // --- failed authentications ---------------------------------------------------------------------
    /// Counts a failed authentication of `subject` and returns the length of its streak. A streak whose
    /// last failure and lock both ended before `reset_before` starts again at one.
    async fn record_auth_failure(&self, subject: &str, now: i64, reset_before: i64) -> Result<i64>;
    /// Locks `subject` until `until`; a longer lock already in place stays.
    async fn lock_auth_subject(&self, subject: &str, until: i64) -> Result<()>;
    /// The streaks of those `subjects` that have one.
    async fn auth_streaks(&self, subjects: &[&str]) -> Result<Vec<AuthStreak>>;
    /// Forgets `subject`'s streak, after it authenticated.
    async fn clear_auth_failures(&self, subject: &str) -> Result<()>;

    // --- developer portal sessions ------------------------------------------------------------------
    async fn create_portal_session(&self, session: &PortalSession) -> Result<()>;
    /// The session with this hash if it is live at `now`: before its expiry and used within the last
    /// `idle_timeout` seconds. Finding it records the use.
    async fn touch_portal_session(
        &self,
        id_hash: &[u8],
        now: i64,
        idle_timeout: i64,
    ) -> Result<Option<PortalSession>>;
    /// Ends one session (sign-out); false if there was none.
    async fn delete_portal_session(&self, id_hash: &[u8]) -> Result<bool>;
    /// Ends every session of a user (password changed, suspended); returns how many there were.
    async fn delete_user_portal_sessions(&self, user_id: &str) -> Result<u64>;
}
