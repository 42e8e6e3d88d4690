use super::{connect, Backend, Pool, SqlStore};
use crate::testing::{postgres_admin_url, TempDatabase};
use crate::{conformance, Store, StoreError};

/// The whole suite on one pool, then the races again between two pools on the same database.
async fn conformance_on(db: &TempDatabase, backend: Backend) {
    let store = db.store().await.unwrap();
    assert_eq!(store.backend(), backend);
    assert!(store.is_empty().await.unwrap(), "a fresh database is empty");
    conformance::run_all(&store).await;
    let other = connect(db.url()).await.unwrap();
    conformance::races(&store, &other).await;
    // The suite leaves no trace that stops it from running again on the same database.
    conformance::run_all(&other).await;
    store.close().await;
    other.close().await;
}

#[tokio::test]
async fn sqlite_conformance() {
    let db = TempDatabase::sqlite().await;
    conformance_on(&db, Backend::Sqlite).await;
    db.cleanup().await;
}

#[tokio::test]
async fn postgres_conformance() {
    let Some(admin_url) = postgres_admin_url() else {
        println!("skipping PostgreSQL conformance: KEYGATE_TEST_POSTGRES_URL is not set");
        return;
    };
    let db = TempDatabase::postgres(&admin_url).await.unwrap();
    conformance_on(&db, Backend::Postgres).await;
    db.cleanup().await;
}

#[tokio::test]
async fn sqlite_binds_numbered_placeholders_by_number() {
    let store = connect("sqlite::memory:").await.unwrap();
    let Pool::Sqlite(pool) = &store.pool else {
        panic!("not SQLite")
    };
    let diff: i64 = sqlx::query_scalar("SELECT $2 - $1 + $2")
        .bind(1_i64)
        .bind(10_i64)
        .fetch_one(pool)
        .await
        .unwrap();
    assert_eq!(diff, 19);
}

#[tokio::test]
async fn sqlite_processes_migrate_one_file_at_once() {
    let db = TempDatabase::sqlite().await;
    // `sqlite:` without slashes works too.
    let url = db.url().replacen("sqlite://", "sqlite:", 1);
    let (a, b) = (connect(&url).await.unwrap(), connect(db.url()).await.unwrap());
    let (ra, rb) = tokio::join!(a.migrate(), b.migrate());
    ra.unwrap();
    rb.unwrap();
    assert!(a.is_empty().await.unwrap() && b.is_empty().await.unwrap());
    a.close().await;
    b.close().await;
    db.cleanup().await;
}

#[tokio::test]
async fn unparsable_rows_are_corrupt() {
    let db = TempDatabase::sqlite().await;
    let store = db.store().await.unwrap();
    let Pool::Sqlite(pool) = &store.pool else {
        panic!("not SQLite")
    };
    sqlx::query("INSERT INTO accounts VALUES ('ab123', 'Acme', 'frozen', 0, 0)")
        .execute(pool)
        .await
        .unwrap();
    let name = keygate_core::ids::AccountName::parse("ab123").unwrap();
    match store.get_account(&name).await {
        Err(StoreError::Corrupt(what)) => assert!(what.contains("accounts.status"), "{what}"),
        other => panic!("expected a corrupt row, got {other:?}"),
    }
    store.close().await;
    db.cleanup().await;
}

#[tokio::test]
async fn other_schemes_are_refused() {
    for (url, scheme) in [("mysql://u:secret@h/db", "mysql"), ("keygate.db", "(none)")] {
        match connect(url).await {
            Err(StoreError::UnsupportedUrl(s)) => assert_eq!(s, scheme),
            other => panic!(
                "{url}: expected UnsupportedUrl, got {:?}",
                other.map(|s: SqlStore| s.backend())
            ),
        }
    }
}
