//! REST Hooks rows whose stored values no longer parse are reported, never trusted; and events written
//! before the hooks release are fanned out after the upgrade.

use super::tests::released_migrations;
use super::{connect, Pool, SqlStore};
use crate::conformance::fixtures;
use crate::testing::{postgres_admin_url, TempDatabase};
use crate::{AttemptOutcome, DeliveryAttempt, HookStatus, Result, Store, StoreError, CONTACT_ADD};

#[track_caller]
fn expect_corrupt<T: std::fmt::Debug>(result: Result<T>, column: &str) {
    match result {
        Err(StoreError::Corrupt(what)) => assert!(what.contains(column), "{what} does not name {column}"),
        other => panic!("expected a corrupt {column}, got {other:?}"),
    }
}

async fn execute(store: &SqlStore, sql: &str, key: &str) {
    let Pool::Sqlite(pool) = &store.pool else {
        panic!("not SQLite")
    };
    sqlx::query(sql).bind(key).execute(pool).await.unwrap();
}

#[tokio::test]
async fn unparsable_hooks_and_deliveries_are_corrupt() {
    let db = TempDatabase::sqlite().await;
    let store = db.store().await.unwrap();
    let t = fixtures::now();
    let account = fixtures::account(&store).await.name;
    let hook = fixtures::hook(&account, CONTACT_ADD, HookStatus::Verified, t);
    store.create_hook(&hook).await.unwrap();
    let delivery = fixtures::delivery(&hook, t);
    assert!(store.create_delivery(&delivery, &[]).await.unwrap());

    execute(
        &store,
        "UPDATE hook_deliveries SET status = 'sent' WHERE id = $1",
        &delivery.id,
    )
    .await;
    let column = "hook_deliveries.status";
    expect_corrupt(
        store.get_delivery(&account, &hook.key, &delivery.id).await,
        column,
    );
    expect_corrupt(store.list_deliveries(&account, &hook.key, 10, None).await, column);
    let attempt = DeliveryAttempt {
        delivery_id: delivery.id.clone(),
        number: 1,
        at: t,
        status_code: Some(200),
        latency_ms: 5,
        error: None,
    };
    expect_corrupt(
        store.record_attempt(&attempt, AttemptOutcome::Delivered).await,
        column,
    );
    // Nothing was recorded.
    assert!(store.list_attempts(&delivery.id).await.unwrap().is_empty());

    execute(
        &store,
        "UPDATE hooks SET status = 'verified' WHERE key = $1",
        &hook.key,
    )
    .await;
    expect_corrupt(store.get_hook(&account, &hook.key).await, "hooks.status");
    expect_corrupt(store.list_hooks(&account).await, "hooks.status");
    let patch = crate::HookPatch::default();
    expect_corrupt(
        store.update_hook(&account, &hook.key, &patch, t).await,
        "hooks.status",
    );
    store.close().await;
    db.cleanup().await;
}

/// A database of the contacts release (0001 to 0007 applied) upgrades in place: the events it holds are
/// fanned out, once, to the subscriptions verified by then.
async fn upgrade_from_contact_release(db: &TempDatabase) {
    let release = released_migrations(
        db,
        &[
            "0001_init.sql",
            "0002_api_keys_audit.sql",
            "0003_domain_keys.sql",
            "0004_legacy_keys_basic_auth.sql",
            "0005_jwt_assertions.sql",
            "0006_lockouts_account_limits.sql",
            "0007_contacts.sql",
        ],
    )
    .await;
    let store = connect(db.url()).await.unwrap();
    dispatch_write!(store, |pool| release.run(pool).await.unwrap());
    let t = fixtures::now();
    let account = fixtures::account(&store).await.name;
    let contact = fixtures::contact_input(None).into_contact(0, t - 5).unwrap();
    let contact = store.create_contact(&account, &contact).await.unwrap();

    let upgrader = connect(db.url()).await.unwrap();
    upgrader.migrate().await.unwrap();
    upgrader.close().await;
    let hook = fixtures::hook(&account, CONTACT_ADD, HookStatus::Verified, t);
    store.create_hook(&hook).await.unwrap();
    assert_eq!(store.fan_out_events(100).await.unwrap(), 1);
    assert_eq!(store.fan_out_events(100).await.unwrap(), 0);
    let batches = store.pending_batches(t, 10, 10).await.unwrap();
    let [batch] = <[_; 1]>::try_from(batches).unwrap();
    assert_eq!(batch.hook, hook);
    let events: Vec<_> = batch.items.into_iter().map(|(_, e)| e).collect();
    assert_eq!(events, store.list_events(&account, 0, 10).await.unwrap());
    assert_eq!((events[0].object_id, events[0].occurred_at), (contact.id, t - 5));
    store.close().await;
}

#[tokio::test]
async fn sqlite_upgrades_from_contact_release() {
    let db = TempDatabase::sqlite().await;
    upgrade_from_contact_release(&db).await;
    db.cleanup().await;
}

#[tokio::test]
async fn postgres_upgrades_from_contact_release() {
    let Some(admin_url) = postgres_admin_url() else {
        println!("skipping PostgreSQL upgrade: KEYGATE_TEST_POSTGRES_URL is not set");
        return;
    };
    let db = TempDatabase::postgres(&admin_url).await.unwrap();
    upgrade_from_contact_release(&db).await;
    db.cleanup().await;
}
