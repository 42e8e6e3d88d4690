//! The behaviour every [`Store`] must show, as runnable checks. The store's own tests run it on SQLite and
//! PostgreSQL; other crates can run it against whatever store they build (feature `conformance`).
//!
//! Every check creates its own rows under random names, so the suite can run repeatedly against one
//! database. It expects a migrated store, and must not run twice at once on one database (signing keys
//! are global). A failed check panics, like any test assertion.

// Test-support code: a panic is how a check fails.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod api_keys;
mod apps;
mod audit;
mod contact_listing;
mod contact_upserts;
mod contacts;
mod cross_store;
mod directory;
mod domain_keys;
mod email_statuses;
pub mod fixtures;
mod hook_batches;
mod hook_deliveries;
mod hook_races;
mod hooks;
mod keys;
mod legacy_keys;
mod liveness;
mod lockouts;
mod portal_sessions;
mod tokens;

use std::fmt::Debug;

use crate::{Result, Store, StoreError};

pub use api_keys::{api_key_assertions, api_keys, key_sessions};
pub use apps::{admin_tokens, apps};
pub use audit::audit;
pub use contact_listing::contact_listing;
pub use contact_upserts::contact_upserts;
pub use contacts::contacts;
pub use cross_store::changes_seen_across_stores;
pub use directory::{account_rate_limits, accounts, basic_auth_users, users};
pub use domain_keys::{domain_key_sessions, domain_keys, origin_patterns};
pub use email_statuses::email_statuses;
pub use hook_batches::hook_batches;
pub use hook_deliveries::hook_deliveries;
pub use hooks::hooks;
pub use keys::signing_keys;
pub use legacy_keys::legacy_keys;
pub use liveness::{domain_key_liveness, key_liveness, liveness, liveness_leases, purge};
pub use lockouts::auth_failures;
pub use portal_sessions::portal_sessions;
pub use tokens::{authorization_codes, concurrent_rotations, grants_and_refresh_tokens, refresh_contexts};

/// Runs every check, in an order where later ones may rely on earlier ones' rows (purge removes the
/// signing keys retired by [`signing_keys`]).
pub async fn run_all(store: &dyn Store) {
    basics(store).await;
    accounts(store).await;
    account_rate_limits(store).await;
    users(store).await;
    apps(store).await;
    admin_tokens(store).await;
    signing_keys(store).await;
    authorization_codes(store).await;
    grants_and_refresh_tokens(store).await;
    refresh_contexts(store).await;
    concurrent_rotations(store).await;
    api_keys(store).await;
    api_key_assertions(store).await;
    key_sessions(store).await;
    domain_keys(store).await;
    domain_key_sessions(store).await;
    origin_patterns(store).await;
    legacy_keys(store).await;
    basic_auth_users(store).await;
    audit(store).await;
    auth_failures(store).await;
    portal_sessions(store).await;
    contacts(store).await;
    contact_upserts(store).await;
    contact_listing(store).await;
    email_statuses(store).await;
    hooks(store).await;
    hook_batches(store).await;
    hook_deliveries(store).await;
    liveness(store).await;
    liveness_leases(store).await;
    key_liveness(store).await;
    domain_key_liveness(store).await;
    races(store, store).await;
    purge(store).await;
}

/// Health checks, idempotent migration and what makes an installation non-empty.
pub async fn basics(store: &dyn Store) {
    assert!(matches!(store.backend().as_str(), "sqlite" | "postgres"));
    store.ping().await.unwrap();
    store.migrate().await.expect("migrating twice is a no-op");
    if store.is_empty().await.unwrap() {
        assert!(store.list_accounts().await.unwrap().is_empty());
        assert!(store.list_apps(None).await.unwrap().is_empty());
        // An app without an owner is enough to make the installation non-empty.
        fixtures::app(store, None).await;
        assert!(!store.is_empty().await.unwrap());
    }
    fixtures::account(store).await;
    assert!(!store.is_empty().await.unwrap());
}

/// Races between two stores on one database (two pools, as two processes or nodes would have; pass the
/// same store twice for one pool): exactly one side wins each, and what one writes the other sees at once.
pub async fn races(a: &dyn Store, b: &dyn Store) {
    cross_store::changes_seen_across_stores(a, b).await;
    tokens::code_redemption_race(a, b).await;
    tokens::refresh_rotation_race(a, b).await;
    tokens::write_contention(a, b).await;
    keys::bootstrap_race(a, b).await;
    keys::rotation_race(a, b).await;
    audit::append_race(a, b).await;
    legacy_keys::legacy_key_use_race(a, b).await;
    api_keys::assertion_jti_race(a, b).await;
    lockouts::auth_failure_races(a, b).await;
    contacts::creation_race(a, b).await;
    contact_upserts::contact_upsert_race(a, b).await;
    contact_upserts::contact_update_race(a, b).await;
    email_statuses::email_status_race(a, b).await;
    hook_races::fan_out_race(a, b).await;
    hook_races::claim_race(a, b).await;
    hook_races::batch_race(a, b).await;
    hook_races::delete_race(a, b).await;
}

#[track_caller]
fn assert_conflict<T: Debug>(result: Result<T>, mentions: &str) {
    match result {
        Err(StoreError::Conflict(what)) => {
            assert!(what.contains(mentions), "conflict {what:?} lacks {mentions:?}")
        }
        other => panic!("expected a conflict naming {mentions:?}, got {other:?}"),
    }
}

#[track_caller]
fn assert_missing<T: Debug>(result: Result<T>) {
    match result {
        Err(StoreError::MissingReference(_)) => {}
        other => panic!("expected a missing reference, got {other:?}"),
    }
}
