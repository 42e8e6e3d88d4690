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

/// A database created by the first release (only 0001 applied) upgrades in place: its rows stay, and the
/// new tables can refer to them.
async fn upgrade_from_first_release(db: &TempDatabase) {
    use crate::conformance::fixtures;

    let backend = if db.url().starts_with("sqlite:") {
        "sqlite"
    } else {
        "postgres"
    };
    let dir = std::env::temp_dir().join(format!("keygate-migrations-{}", fixtures::tag()));
    std::fs::create_dir_all(&dir).unwrap();
    let first = format!(
        "{}/migrations/{backend}/0001_init.sql",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::copy(first, dir.join("0001_init.sql")).unwrap();
    let first_release = sqlx::migrate::Migrator::new(dir.clone()).await.unwrap();
    std::fs::remove_dir_all(&dir).unwrap();

    let store = connect(db.url()).await.unwrap();
    dispatch!(store, |pool| first_release.run(pool).await.unwrap());
    let account = fixtures::account(&store).await;
    let user = fixtures::user(&store, &account.name).await;
    let app = fixtures::app(&store, Some(&account.name)).await;

    store.migrate().await.unwrap();
    assert_eq!(store.get_user(&user.id).await.unwrap(), Some(user.clone()));
    assert_eq!(store.get_app(&app.client_id).await.unwrap(), Some(app));
    let key = fixtures::api_key(&account.name, Some(&user.id), fixtures::now());
    store.create_api_key(&key).await.unwrap();
    let other = fixtures::account(&store).await;
    let cross = fixtures::api_key(&other.name, Some(&user.id), fixtures::now());
    assert!(matches!(
        store.create_api_key(&cross).await,
        Err(StoreError::MissingReference(_))
    ));
    let rotated = store
        .replace_api_key_secret(&key.id, &fixtures::secret(), None, fixtures::now())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(rotated.previous_secret, None);
    assert_ne!(rotated.secret, key.secret);
    store.close().await;
}

#[tokio::test]
async fn sqlite_upgrades_from_first_release() {
    let db = TempDatabase::sqlite().await;
    upgrade_from_first_release(&db).await;
    db.cleanup().await;
}

#[tokio::test]
async fn postgres_upgrades_from_first_release() {
    let Some(admin_url) = postgres_admin_url() else {
        println!("skipping PostgreSQL upgrade: KEYGATE_TEST_POSTGRES_URL is not set");
        return;
    };
    let db = TempDatabase::postgres(&admin_url).await.unwrap();
    upgrade_from_first_release(&db).await;
    db.cleanup().await;
}

#[tokio::test]
async fn unparsable_api_keys_and_audit_rows_are_corrupt() {
    use keygate_core::ids::ApiKeyId;

    use crate::conformance::fixtures;
    use crate::AuditQuery;

    let db = TempDatabase::sqlite().await;
    let store = db.store().await.unwrap();
    let account = fixtures::account(&store).await;
    let key = fixtures::api_key(&account.name, None, 0);
    store.create_api_key(&key).await.unwrap();
    let Pool::Sqlite(pool) = &store.pool else {
        panic!("not SQLite")
    };
    sqlx::query("UPDATE api_keys SET status = 'paused' WHERE id = $1")
        .bind(key.id.as_str())
        .execute(pool)
        .await
        .unwrap();
    sqlx::query(
        "INSERT INTO audit_events (at, account, actor, action, target, details) \
                 VALUES (0, 'Not An Account', 'cli', 'x.y', 't', '{}')",
    )
    .execute(pool)
    .await
    .unwrap();
    match store.get_api_key(&key.id).await {
        Err(StoreError::Corrupt(what)) => assert!(what.contains("api_keys.status"), "{what}"),
        other => panic!("expected a corrupt row, got {other:?}"),
    }
    assert!(matches!(
        store.list_api_keys(&account.name).await,
        Err(StoreError::Corrupt(_))
    ));
    assert_eq!(store.get_api_key(&ApiKeyId::generate()).await.unwrap(), None);
    match store.list_audit(&AuditQuery::default()).await {
        Err(StoreError::Corrupt(what)) => assert!(what.contains("audit_events.account"), "{what}"),
        other => panic!("expected a corrupt row, got {other:?}"),
    }
    store.close().await;
    db.cleanup().await;
}
