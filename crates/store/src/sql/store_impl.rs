//! [`Store`] for [`SqlStore`]: each method delegates to the module that owns its table.

use std::future::Future;

use async_trait::async_trait;
use keygate_core::contact::{Contact, ContactInput, DuplicateOption, EmailStatusRecord};
use keygate_core::ids::{AccountName, ApiKeyId, ClientId, DomainKeyId, LegacyKeyId, UserId};
use keygate_core::model::{
    Account, AccountStatus, AdminToken, ApiKey, App, AssertionKey, AuditEvent, AuthorizationCode, DomainKey,
    Grant, KeySession, LegacyKey, RateLimit, RefreshToken, SigningKeyRecord, StoredSecret, User,
};

use super::{
    accounts, admin_tokens, api_keys, apps, audit, auth_cache, auth_failures, codes, contact_query, contacts,
    deliveries, domain_keys, email_statuses, events, grants, hook_pipeline, hooks, legacy_keys, liveness,
    maintenance, portal_sessions, signing_keys, users, Backend, Pool, SqlStore,
};
use crate::{
    AccountPatch, AppPatch, AttemptOutcome, AuditQuery, AuthStreak, CodeRedemption, ContactChange,
    ContactPage, ContactQuery, ContactWrite, Delivery, DeliveryAttempt, EmailStatusChange, Event, Hook,
    HookPatch, HookStats, LiveLease, Liveness, LivenessQuery, NewAccount, NewApp, NewAuditEvent, NewUser,
    PendingBatch, PortalSession, PurgeReport, RefreshContext, Result, Rotation, Store, UserPatch,
};

#[async_trait]
impl Store for SqlStore {
    fn backend(&self) -> Backend {
        match self.pool {
            Pool::Sqlite(_) => Backend::Sqlite,
            Pool::Postgres(_) => Backend::Postgres,
        }
    }

    async fn migrate(&self) -> Result<()> {
        self.run_migrations().await
    }

    async fn leave(&self) {
        self.auth.leave().await;
    }

    async fn ping(&self) -> Result<()> {
        maintenance::ping(self).await
    }

    async fn is_empty(&self) -> Result<bool> {
        maintenance::is_empty(self).await
    }

    async fn create_account(&self, new: &NewAccount, now: i64) -> Result<Account> {
        self.auth.changing(accounts::create(self, new, now)).await
    }

    async fn get_account(&self, name: &AccountName) -> Result<Option<Account>> {
        self.auth
            .read_through(&self.auth.accounts, name.as_str(), accounts::get(self, name))
            .await
    }

    async fn list_accounts(&self) -> Result<Vec<Account>> {
        accounts::list(self).await
    }

    async fn update_account(
        &self,
        name: &AccountName,
        patch: &AccountPatch,
        now: i64,
    ) -> Result<Option<Account>> {
        self.auth.changing(accounts::update(self, name, patch, now)).await
    }

    async fn create_user(&self, new: &NewUser, now: i64) -> Result<User> {
        self.auth.changing(users::create(self, new, now)).await
    }

    async fn get_user(&self, id: &UserId) -> Result<Option<User>> {
        users::get(self, id).await
    }

    async fn find_user_by_email(&self, account: &AccountName, email: &str) -> Result<Option<User>> {
        users::find_by_email(self, account, email).await
    }

    async fn list_users(&self, account: &AccountName) -> Result<Vec<User>> {
        users::list(self, account).await
    }

    async fn update_user(&self, id: &UserId, patch: &UserPatch, now: i64) -> Result<Option<User>> {
        self.auth.changing(users::update(self, id, patch, now)).await
    }

    async fn create_app(&self, new: &NewApp, now: i64) -> Result<App> {
        self.auth.changing(apps::create(self, new, now)).await
    }

    async fn get_app(&self, client_id: &ClientId) -> Result<Option<App>> {
        self.auth
            .read_through(&self.auth.apps, client_id.as_str(), apps::get(self, client_id))
            .await
    }

    async fn get_app_and_owner_status(
        &self,
        client_id: &ClientId,
    ) -> Result<Option<(App, Option<AccountStatus>)>> {
        self.with_account_status(
            self.get_app(client_id),
            |app| app.owner_account.as_ref(),
            apps::get_with_owner_status(self, client_id),
        )
        .await
    }

    async fn list_apps(&self, owner: Option<&AccountName>) -> Result<Vec<App>> {
        apps::list(self, owner).await
    }

    async fn update_app(&self, client_id: &ClientId, patch: &AppPatch, now: i64) -> Result<Option<App>> {
        self.auth
            .changing(apps::update(self, client_id, patch, now))
            .await
    }

    async fn replace_app_secret(
        &self,
        client_id: &ClientId,
        secret: &StoredSecret,
        previous_expires_at: Option<i64>,
        now: i64,
    ) -> Result<Option<App>> {
        self.auth
            .changing(apps::replace_secret(
                self,
                client_id,
                secret,
                previous_expires_at,
                now,
            ))
            .await
    }

    async fn create_admin_token(&self, token: &AdminToken) -> Result<()> {
        admin_tokens::create(self, token).await
    }

    async fn find_admin_token(&self, hash: &[u8]) -> Result<Option<AdminToken>> {
        admin_tokens::find(self, hash).await
    }

    async fn list_admin_tokens(&self) -> Result<Vec<AdminToken>> {
        admin_tokens::list(self).await
    }

    async fn revoke_admin_token(&self, id: &str, now: i64) -> Result<bool> {
        admin_tokens::revoke(self, id, now).await
    }

    async fn list_signing_keys(&self) -> Result<Vec<SigningKeyRecord>> {
        signing_keys::list(self).await
    }

    async fn bootstrap_signing_keys(&self, keys: &[SigningKeyRecord]) -> Result<bool> {
        signing_keys::bootstrap(self, keys).await
    }

    async fn rotate_signing_keys(
        &self,
        current_kid: &str,
        next_kid: &str,
        new_next: &SigningKeyRecord,
        publish_until: i64,
        now: i64,
    ) -> Result<bool> {
        signing_keys::rotate(self, current_kid, next_kid, new_next, publish_until, now).await
    }

    async fn insert_authorization_code(&self, code: &AuthorizationCode) -> Result<()> {
        codes::insert(self, code).await
    }

    async fn redeem_authorization_code(&self, code_hash: &[u8], now: i64) -> Result<CodeRedemption> {
        codes::redeem(self, code_hash, now).await
    }

    async fn create_grant(&self, grant: &Grant, first_refresh: Option<&RefreshToken>) -> Result<()> {
        grants::create(self, grant, first_refresh).await
    }

    async fn get_grant(&self, id: &str) -> Result<Option<Grant>> {
        grants::get(self, id).await
    }

    async fn revoke_grant(&self, id: &str, reason: &str, now: i64) -> Result<bool> {
        self.auth.changing(grants::revoke(self, id, reason, now)).await
    }

    async fn get_refresh_token(&self, token_hash: &[u8]) -> Result<Option<RefreshToken>> {
        grants::get_refresh_token(self, token_hash).await
    }

    async fn get_refresh_context(&self, token_hash: &[u8]) -> Result<Option<RefreshContext>> {
        grants::get_refresh_context(self, token_hash).await
    }

    async fn rotate_refresh_token(
        &self,
        old_hash: &[u8],
        successor: &RefreshToken,
        now: i64,
    ) -> Result<Rotation> {
        // No cached answer reads refresh tokens (liveness asks about grants, not their tokens), so a
        // rotation leaves the epoch alone: moving it threw away every cached credential at each refresh.
        grants::rotate_refresh_token(self, old_hash, successor, now).await
    }

    async fn insert_refresh_token(&self, token: &RefreshToken) -> Result<()> {
        grants::insert_refresh_token(self, token).await
    }

    async fn create_api_key(&self, key: &ApiKey) -> Result<()> {
        self.auth.changing(api_keys::create(self, key)).await
    }

    async fn get_api_key(&self, id: &ApiKeyId) -> Result<Option<ApiKey>> {
        self.auth
            .read_through(&self.auth.api_keys, id.as_str(), api_keys::get(self, id))
            .await
    }

    async fn get_api_key_and_account_status(
        &self,
        id: &ApiKeyId,
    ) -> Result<Option<(ApiKey, Option<AccountStatus>)>> {
        self.with_account_status(
            self.get_api_key(id),
            |key| Some(&key.account),
            api_keys::get_with_account_status(self, id),
        )
        .await
    }

    async fn list_api_keys(&self, account: &AccountName) -> Result<Vec<ApiKey>> {
        api_keys::list(self, account).await
    }

    async fn revoke_api_key(&self, id: &ApiKeyId, now: i64) -> Result<Option<ApiKey>> {
        self.auth.changing(api_keys::revoke(self, id, now)).await
    }

    async fn replace_api_key_secret(
        &self,
        id: &ApiKeyId,
        secret: &StoredSecret,
        previous_expires_at: Option<i64>,
        now: i64,
    ) -> Result<Option<ApiKey>> {
        self.auth
            .changing(api_keys::replace_secret(
                self,
                id,
                secret,
                previous_expires_at,
                now,
            ))
            .await
    }

    async fn set_api_key_assertion(
        &self,
        id: &ApiKeyId,
        assertion: Option<&AssertionKey>,
        now: i64,
    ) -> Result<Option<ApiKey>> {
        self.auth
            .changing(api_keys::set_assertion(self, id, assertion, now))
            .await
    }

    async fn use_assertion_jti(&self, key_id: &ApiKeyId, jti: &str, expires_at: i64) -> Result<bool> {
        api_keys::use_assertion_jti(self, key_id, jti, expires_at).await
    }

    async fn create_key_session(&self, session: &KeySession) -> Result<()> {
        api_keys::create_session(self, session).await
    }

    async fn get_key_session(&self, id: &str) -> Result<Option<KeySession>> {
        api_keys::get_session(self, id).await
    }

    async fn create_domain_key(&self, key: &DomainKey) -> Result<()> {
        self.auth.changing(domain_keys::create(self, key)).await
    }

    async fn get_domain_key(&self, id: &DomainKeyId) -> Result<Option<DomainKey>> {
        domain_keys::get(self, id).await
    }

    async fn list_domain_keys(&self, account: &AccountName) -> Result<Vec<DomainKey>> {
        domain_keys::list(self, account).await
    }

    async fn revoke_domain_key(&self, id: &DomainKeyId, now: i64) -> Result<Option<DomainKey>> {
        self.auth.changing(domain_keys::revoke(self, id, now)).await
    }

    async fn allowed_origin_patterns(&self) -> Result<Vec<String>> {
        domain_keys::allowed_origin_patterns(self).await
    }

    async fn create_legacy_key(&self, key: &LegacyKey) -> Result<()> {
        self.auth.changing(legacy_keys::create(self, key)).await
    }

    async fn get_legacy_key(&self, id: &LegacyKeyId) -> Result<Option<LegacyKey>> {
        legacy_keys::get(self, id).await
    }

    async fn find_legacy_key(&self, hash: &[u8]) -> Result<Option<LegacyKey>> {
        let key = auth_cache::hex(hash);
        self.auth
            .read_through(&self.auth.legacy_keys, &key, legacy_keys::find(self, hash))
            .await
    }

    async fn find_legacy_key_and_account_status(
        &self,
        hash: &[u8],
    ) -> Result<Option<(LegacyKey, Option<AccountStatus>)>> {
        self.with_account_status(
            self.find_legacy_key(hash),
            |key| Some(&key.account),
            legacy_keys::find_with_account_status(self, hash),
        )
        .await
    }

    async fn list_legacy_keys(&self, account: &AccountName) -> Result<Vec<LegacyKey>> {
        legacy_keys::list(self, account).await
    }

    async fn revoke_legacy_key(&self, id: &LegacyKeyId, now: i64) -> Result<Option<LegacyKey>> {
        self.auth.changing(legacy_keys::revoke(self, id, now)).await
    }

    async fn record_legacy_key_use(&self, id: &LegacyKeyId, uses: i64, at: i64) -> Result<Option<i64>> {
        // Batched (a few writes a minute), so keeping the cached records' counts exact costs nothing.
        self.auth
            .changing(legacy_keys::record_use(self, id, uses, at))
            .await
    }

    async fn find_basic_auth_users(&self, email_normalized: &str) -> Result<Vec<User>> {
        users::find_basic_auth(self, email_normalized).await
    }

    async fn append_audit(&self, event: &NewAuditEvent) -> Result<AuditEvent> {
        audit::append(self, event).await
    }

    async fn list_audit(&self, query: &AuditQuery) -> Result<Vec<AuditEvent>> {
        audit::list(self, query).await
    }

    async fn revoke_access_token(&self, jti: &str, expires_at: i64, now: i64) -> Result<()> {
        self.auth
            .changing(liveness::revoke_access_token(self, jti, expires_at, now))
            .await
    }

    async fn leased_liveness(&self, q: &LivenessQuery<'_>) -> Result<(Liveness, Option<LiveLease>)> {
        liveness::leased_liveness(self, q).await
    }

    fn credentials_epoch(&self) -> Option<u64> {
        self.auth.epoch()
    }

    async fn purge_expired(&self, now: i64) -> Result<PurgeReport> {
        self.auth
            .changing_all(maintenance::purge_expired(self, now))
            .await
    }

    async fn create_contact(&self, account: &AccountName, contact: &Contact) -> Result<Contact> {
        contacts::create(self, account, contact).await
    }

    async fn get_contact(&self, account: &AccountName, id: i64) -> Result<Option<Contact>> {
        contacts::get(self, account, id).await
    }

    async fn get_contact_with_status(
        &self,
        account: &AccountName,
        id: i64,
    ) -> Result<Option<(Contact, Option<EmailStatusRecord>)>> {
        contacts::get_with_status(self, account, id).await
    }

    async fn update_contact(
        &self,
        account: &AccountName,
        id: i64,
        if_version: Option<i64>,
        change: ContactChange<'_>,
    ) -> Result<ContactWrite<Contact>> {
        contacts::update(self, account, id, if_version, change).await
    }

    async fn delete_contact(
        &self,
        account: &AccountName,
        id: i64,
        if_version: Option<i64>,
    ) -> Result<ContactWrite<()>> {
        contacts::delete(self, account, id, if_version).await
    }

    async fn upsert_contact(
        &self,
        account: &AccountName,
        input: &ContactInput,
        option: DuplicateOption,
        now: i64,
    ) -> Result<ContactWrite<(Contact, bool)>> {
        contacts::upsert(self, account, input, option, now).await
    }

    async fn list_contacts(&self, account: &AccountName, query: &ContactQuery) -> Result<ContactPage> {
        contact_query::list(self, account, query).await
    }

    async fn get_email_status(
        &self,
        account: &AccountName,
        email: &str,
    ) -> Result<Option<EmailStatusRecord>> {
        email_statuses::get(self, account, email).await
    }

    async fn change_email_status(
        &self,
        account: &AccountName,
        email: &str,
        event_key: &str,
        change: EmailStatusChange<'_>,
    ) -> Result<ContactWrite<Option<EmailStatusRecord>>> {
        email_statuses::change(self, account, email, event_key, change).await
    }

    async fn list_events(&self, account: &AccountName, after_id: i64, limit: u32) -> Result<Vec<Event>> {
        events::list(self, account, after_id, limit).await
    }

    async fn create_hook(&self, hook: &Hook) -> Result<()> {
        hooks::create(self, hook).await
    }

    async fn get_hook(&self, account: &AccountName, key: &str) -> Result<Option<Hook>> {
        hooks::get(self, account, key).await
    }

    async fn list_hooks(&self, account: &AccountName) -> Result<Vec<Hook>> {
        hooks::list(self, account).await
    }

    async fn update_hook(
        &self,
        account: &AccountName,
        key: &str,
        patch: &HookPatch,
        now: i64,
    ) -> Result<Option<Hook>> {
        hooks::update(self, account, key, patch, now).await
    }

    async fn delete_hook(&self, account: &AccountName, key: &str) -> Result<bool> {
        hooks::delete(self, account, key).await
    }

    async fn fan_out_events(&self, limit: u32) -> Result<u64> {
        hook_pipeline::fan_out(self, limit).await
    }

    async fn pending_batches(
        &self,
        ready_before: i64,
        max_items: u32,
        limit: u32,
    ) -> Result<Vec<PendingBatch>> {
        hook_pipeline::pending_batches(self, ready_before, max_items, limit).await
    }

    async fn create_delivery(&self, delivery: &Delivery, item_ids: &[i64]) -> Result<bool> {
        hook_pipeline::create_delivery(self, delivery, item_ids).await
    }

    async fn claim_deliveries(&self, now: i64, lease: i64, limit: u32) -> Result<Vec<Delivery>> {
        deliveries::claim(self, now, lease, limit).await
    }

    async fn record_attempt(&self, attempt: &DeliveryAttempt, outcome: AttemptOutcome) -> Result<()> {
        deliveries::record_attempt(self, attempt, outcome).await
    }

    async fn list_deliveries(
        &self,
        account: &AccountName,
        hook_key: &str,
        limit: u32,
        before: Option<&str>,
    ) -> Result<Vec<Delivery>> {
        deliveries::list(self, account, hook_key, limit, before).await
    }

    async fn get_delivery(
        &self,
        account: &AccountName,
        hook_key: &str,
        id: &str,
    ) -> Result<Option<Delivery>> {
        deliveries::get(self, account, hook_key, id).await
    }

    async fn list_attempts(&self, delivery_id: &str) -> Result<Vec<DeliveryAttempt>> {
        deliveries::list_attempts(self, delivery_id).await
    }

    async fn replay_delivery(
        &self,
        account: &AccountName,
        hook_key: &str,
        id: &str,
        now: i64,
    ) -> Result<bool> {
        deliveries::replay(self, account, hook_key, id, now).await
    }

    async fn hook_stats(&self, account: &AccountName, hook_key: &str) -> Result<HookStats> {
        deliveries::stats(self, account, hook_key).await
    }

    async fn rate_limit_overrides(&self) -> Result<Vec<(AccountName, RateLimit)>> {
        accounts::rate_limit_overrides(self).await
    }

    async fn record_auth_failure(&self, subject: &str, now: i64, reset_before: i64) -> Result<i64> {
        self.auth
            .changing_lockouts(auth_failures::record(self, subject, now, reset_before))
            .await
    }

    async fn lock_auth_subject(&self, subject: &str, until: i64) -> Result<()> {
        self.auth
            .changing_lockouts(auth_failures::lock(self, subject, until))
            .await
    }

    async fn auth_streaks(&self, subjects: &[&str]) -> Result<Vec<AuthStreak>> {
        auth_failures::cached_streaks(self, subjects).await
    }

    async fn clear_auth_failures(&self, subject: &str) -> Result<()> {
        self.auth
            .changing_lockouts(auth_failures::clear(self, subject))
            .await
    }

    async fn create_portal_session(&self, session: &PortalSession) -> Result<()> {
        portal_sessions::create(self, session).await
    }

    async fn touch_portal_session(
        &self,
        id_hash: &[u8],
        now: i64,
        idle_timeout: i64,
    ) -> Result<Option<PortalSession>> {
        portal_sessions::touch(self, id_hash, now, idle_timeout).await
    }

    async fn delete_portal_session(&self, id_hash: &[u8]) -> Result<bool> {
        portal_sessions::delete(self, id_hash).await
    }

    async fn delete_user_portal_sessions(&self, user_id: &str) -> Result<u64> {
        portal_sessions::delete_for_user(self, user_id).await
    }
}

impl SqlStore {
    /// A credential with its account's status. Where authentication reads are kept in memory, two
    /// lookups there (`cached`, then the account `account_of` names) cost less than one query; elsewhere
    /// `joined` reads both in one statement. Only the one awaited runs.
    async fn with_account_status<C: Send>(
        &self,
        cached: impl Future<Output = Result<Option<C>>> + Send,
        account_of: impl FnOnce(&C) -> Option<&AccountName> + Send,
        joined: impl Future<Output = Result<Option<(C, Option<AccountStatus>)>>> + Send,
    ) -> Result<Option<(C, Option<AccountStatus>)>> {
        if self.auth.epoch().is_none() {
            return joined.await;
        }
        let Some(credential) = cached.await? else {
            return Ok(None);
        };
        let status = match account_of(&credential) {
            Some(account) => self.get_account(account).await?.map(|a| a.status),
            None => None,
        };
        Ok(Some((credential, status)))
    }
}
