//! Contacts, email statuses and events whose stored values no longer parse are reported, never trusted.

use keygate_core::contact::email_status::opt_out;
use keygate_core::contact::{DuplicateOption, OptOutBy, OptOutOutcome};

use super::{Pool, SqlStore};
use crate::conformance::fixtures;
use crate::testing::TempDatabase;
use crate::{ContactQuery, ContactWrite, Result, Store, StoreError, CONTACT_OPT_OUT};

#[track_caller]
fn expect_corrupt<T: std::fmt::Debug>(result: Result<T>, column: &str) {
    match result {
        Err(StoreError::Corrupt(what)) => assert!(what.contains(column), "{what} does not name {column}"),
        other => panic!("expected a corrupt {column}, got {other:?}"),
    }
}

async fn execute(store: &SqlStore, sql: &str, account: &str) {
    let Pool::Sqlite(pool) = &store.pool else {
        panic!("not SQLite")
    };
    sqlx::query(sql).bind(account).execute(pool).await.unwrap();
}

#[tokio::test]
async fn unparsable_contacts_are_corrupt() {
    let db = TempDatabase::sqlite().await;
    let store = db.store().await.unwrap();
    let t = fixtures::now();
    let account = fixtures::account(&store).await.name;
    let email = fixtures::contact_email();
    let input = fixtures::contact_input(Some(&email));
    let c = store
        .create_contact(&account, &input.clone().into_contact(0, t).unwrap())
        .await
        .unwrap();
    let out = |current: Option<&_>| {
        Ok(match opt_out(current, &email, "", OptOutBy::Admin, t)? {
            OptOutOutcome::Changed(r) => Some(r),
            OptOutOutcome::Unchanged => None,
        })
    };
    let norm = keygate_core::email::normalize(&email);
    let done = store
        .change_email_status(&account, &norm, CONTACT_OPT_OUT, &out)
        .await
        .unwrap();
    assert!(matches!(done, ContactWrite::Done(Some(_))));

    // A body that disagrees with its row's version; then one that is not a contact at all.
    let body = "contacts.body";
    for sql in [
        "UPDATE contacts SET body = REPLACE(body, '\"version\":1', '\"version\":5') WHERE account = $1",
        "UPDATE contacts SET body = '{\"id\": 1' WHERE account = $1",
    ] {
        execute(&store, sql, account.as_str()).await;
        expect_corrupt(store.get_contact(&account, c.id).await, body);
        expect_corrupt(
            store.list_contacts(&account, &ContactQuery::default()).await,
            body,
        );
        expect_corrupt(
            store.update_contact(&account, c.id, None, &|_| Ok(true)).await,
            body,
        );
        let upsert = store
            .upsert_contact(&account, &input, DuplicateOption::Email, t)
            .await;
        expect_corrupt(upsert, body);
    }
    // Deleting needs no more than the version: a corrupt contact can still be removed.
    assert_eq!(
        store.delete_contact(&account, c.id, Some(1)).await.unwrap(),
        ContactWrite::Done(())
    );

    execute(
        &store,
        "UPDATE email_statuses SET status = 'maybe' WHERE account = $1",
        account.as_str(),
    )
    .await;
    expect_corrupt(
        store.get_email_status(&account, &norm).await,
        "email_statuses.status",
    );
    execute(
        &store,
        "UPDATE email_statuses SET status = 'opted_out', opted_out_by = 'nobody' WHERE account = $1",
        account.as_str(),
    )
    .await;
    expect_corrupt(
        store.get_email_status(&account, &norm).await,
        "email_statuses.opted_out_by",
    );

    store.close().await;
    db.cleanup().await;
}
