use keygate_core::model::{Account, AccountStatus};

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

/// A pooled PostgreSQL connection that died while idle (the database restarted, a proxy closed it) is
/// pinged before it is lent, and replaced; a connection given back a moment ago is lent without a ping.
#[tokio::test]
async fn postgres_replaces_a_connection_that_died_while_idle() {
    let Some(admin_url) = postgres_admin_url() else {
        println!("skipping: KEYGATE_TEST_POSTGRES_URL is not set");
        return;
    };
    let db = TempDatabase::postgres(&admin_url).await.unwrap();
    let store = db.store().await.unwrap();
    let Pool::Postgres(pool) = &store.pool else {
        panic!("a PostgreSQL store")
    };
    let name: String = sqlx::query_scalar("SELECT current_database()")
        .fetch_one(pool)
        .await
        .unwrap();
    tokio::time::sleep(super::connect::POSTGRES_IDLE_BEFORE_PING + std::time::Duration::from_millis(300))
        .await;
    let mut admin = <sqlx::PgConnection as sqlx::Connection>::connect(&admin_url)
        .await
        .unwrap();
    let killed: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
         WHERE datname = $1 AND pid <> pg_backend_pid()) AS t",
    )
    .bind(&name)
    .fetch_one(&mut admin)
    .await
    .unwrap();
    assert!(killed >= 1, "the pool's idle connections were terminated");
    for _ in 0..3 {
        let one: i32 = sqlx::query_scalar("SELECT 1").fetch_one(pool).await.unwrap();
        assert_eq!(one, 1, "a fresh connection answers");
    }
    drop(admin);
    store.close().await;
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
    sqlx::query(
        "INSERT INTO accounts (name, display_name, status, created_at, updated_at) \
         VALUES ('ab123', 'Acme', 'frozen', 0, 0)",
    )
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

/// A migrator with only `files` of `db`'s backend: the schema as an earlier release left it.
pub(super) async fn released_migrations(db: &TempDatabase, files: &[&str]) -> sqlx::migrate::Migrator {
    let backend = if db.url().starts_with("sqlite:") {
        "sqlite"
    } else {
        "postgres"
    };
    let tag = crate::conformance::fixtures::tag();
    let dir = std::env::temp_dir().join(format!("keygate-migrations-{tag}"));
    std::fs::create_dir_all(&dir).unwrap();
    for file in files {
        let source = format!("{}/migrations/{backend}/{file}", env!("CARGO_MANIFEST_DIR"));
        std::fs::copy(source, dir.join(file)).unwrap();
    }
    let migrator = sqlx::migrate::Migrator::new(dir.clone()).await.unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
    migrator
}

/// Inserts an account with the columns every release has had (an earlier release's account: the store's
/// own queries name columns added since). Returns it as the current store reads it back.
/// Runs `sql` on every connection the store reads through, so each has loaded the schema as it is now
/// (the upgrade tests then change it from another process).
async fn read_on_every_connection(store: &SqlStore, sql: &'static str) {
    if let Some(readers) = store.sqlite_readers.as_deref() {
        readers.run_on_each(sql).await.unwrap();
        return;
    }
    on_pool!(&store.pool, |pool| {
        let mut held = Vec::new();
        for _ in 0..pool.options().get_max_connections().min(4) {
            let mut conn = pool.acquire().await.unwrap();
            sqlx::query(sql).fetch_all(&mut *conn).await.unwrap();
            held.push(conn);
        }
    });
}

async fn released_account(store: &SqlStore, status: keygate_core::model::AccountStatus) -> Account {
    use crate::conformance::fixtures;

    let t = fixtures::now();
    let account = Account {
        name: fixtures::account_name(),
        display_name: format!("Released {}", fixtures::tag()),
        status,
        basic_auth: false,
        rate_limit: None,
        created_at: t - 10,
        updated_at: t - 5,
    };
    dispatch!(store, |pool| {
        sqlx::query(
            "INSERT INTO accounts (name, display_name, status, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(account.name.as_str())
        .bind(&account.display_name)
        .bind(account.status.as_str())
        .bind(account.created_at)
        .bind(account.updated_at)
        .execute(pool)
        .await
        .map(|_| ())
        .unwrap()
    });
    account
}

/// Inserts `key` with the columns of the API-key release (0002), as a release before 0005 would have:
/// `create_api_key` names the assertion columns added since.
async fn released_api_key(store: &SqlStore, key: &keygate_core::model::ApiKey) {
    assert!(key.assertion.is_none(), "no release before 0005 had assertions");
    let previous = key.previous_secret.as_ref();
    dispatch!(store, |pool| {
        sqlx::query(
            "INSERT INTO api_keys (id, account, name, user_id, scopes, status, secret_hash, secret_last4, \
             previous_secret_hash, previous_secret_last4, previous_secret_expires_at, created_at, \
             updated_at, revoked_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)",
        )
        .bind(key.id.as_str())
        .bind(key.account.as_str())
        .bind(&key.name)
        .bind(key.user_id.as_ref().map(|u| u.as_str()))
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
        .execute(pool)
        .await
        .map(|_| ())
        .unwrap()
    });
}

/// A database created by the first release (only 0001 applied) upgrades in place: its rows stay, and the
/// new tables can refer to them.
async fn upgrade_from_first_release(db: &TempDatabase) {
    use crate::conformance::fixtures;

    let first_release = released_migrations(db, &["0001_init.sql"]).await;
    let store = connect(db.url()).await.unwrap();
    dispatch_write!(store, |pool| first_release.run(pool).await.unwrap());
    let account = released_account(&store, AccountStatus::Active).await;
    let user = fixtures::user(&store, &account.name).await;
    let app = fixtures::app(&store, Some(&account.name)).await;

    store.migrate().await.unwrap();
    assert_eq!(
        store.get_account(&account.name).await.unwrap(),
        Some(account.clone())
    );
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

/// A database of the API-key release (0001 and 0002 applied) upgrades in place: its keys and sessions
/// stay, the sessions without a domain key, and the keys can get domain keys.
async fn upgrade_from_api_key_release(db: &TempDatabase) {
    use keygate_core::model::KeySession;

    use crate::conformance::fixtures;

    let release = released_migrations(db, &["0001_init.sql", "0002_api_keys_audit.sql"]).await;
    let store = connect(db.url()).await.unwrap();
    dispatch_write!(store, |pool| release.run(pool).await.unwrap());
    let t = fixtures::now();
    let account = released_account(&store, AccountStatus::Active).await;
    let user = fixtures::user(&store, &account.name).await;
    let key = fixtures::api_key(&account.name, Some(&user.id), t);
    released_api_key(&store, &key).await;
    let session = KeySession {
        revoked_at: Some(t + 1),
        ..fixtures::key_session(&key, t, t + 600)
    };
    // The columns of that release only.
    dispatch!(store, |pool| {
        sqlx::query(
            "INSERT INTO key_sessions (id, key_id, account, user_id, scope, created_at, expires_at, \
             revoked_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(&session.id)
        .bind(session.key_id.as_str())
        .bind(session.account.as_str())
        .bind(session.user_id.as_ref().map(|u| u.as_str()))
        .bind(session.scope.to_string())
        .bind(session.created_at)
        .bind(session.expires_at)
        .bind(session.revoked_at)
        .execute(pool)
        .await
        .map(|_| ())
        .unwrap()
    });

    store.migrate().await.unwrap();
    assert_eq!(store.get_api_key(&key.id).await.unwrap(), Some(key.clone()));
    assert_eq!(store.get_key_session(&session.id).await.unwrap(), Some(session));
    let domain = fixtures::domain_key(&key, &["https://upgraded.example"], t);
    store.create_domain_key(&domain).await.unwrap();
    assert_eq!(
        store.get_domain_key(&domain.id).await.unwrap(),
        Some(domain.clone())
    );
    let other = fixtures::account(&store).await;
    let cross = keygate_core::model::DomainKey {
        account: other.name.clone(),
        ..fixtures::domain_key(&key, &[], t)
    };
    assert!(matches!(
        store.create_domain_key(&cross).await,
        Err(StoreError::MissingReference(_))
    ));
    let opened = fixtures::domain_key_session(&key, &domain, "https://upgraded.example", t, t + 600);
    store.create_key_session(&opened).await.unwrap();
    assert_eq!(store.get_key_session(&opened.id).await.unwrap(), Some(opened));
    assert_eq!(
        store.allowed_origin_patterns().await.unwrap(),
        ["https://upgraded.example"]
    );
    store.close().await;
}

#[tokio::test]
async fn sqlite_upgrades_from_api_key_release() {
    let db = TempDatabase::sqlite().await;
    upgrade_from_api_key_release(&db).await;
    db.cleanup().await;
}

#[tokio::test]
async fn postgres_upgrades_from_api_key_release() {
    let Some(admin_url) = postgres_admin_url() else {
        println!("skipping PostgreSQL upgrade: KEYGATE_TEST_POSTGRES_URL is not set");
        return;
    };
    let db = TempDatabase::postgres(&admin_url).await.unwrap();
    upgrade_from_api_key_release(&db).await;
    db.cleanup().await;
}

#[tokio::test]
async fn unparsable_domain_keys_and_origins_are_corrupt() {
    use keygate_core::ids::DomainKeyId;

    use crate::conformance::fixtures;
    use crate::AppPatch;

    let db = TempDatabase::sqlite().await;
    let store = db.store().await.unwrap();
    let t = fixtures::now();
    let account = fixtures::account(&store).await;
    let key = fixtures::api_key(&account.name, None, t);
    store.create_api_key(&key).await.unwrap();
    let domain = fixtures::domain_key(&key, &["https://a.example"], t);
    store.create_domain_key(&domain).await.unwrap();
    let app = fixtures::app(&store, Some(&account.name)).await;
    let Pool::Sqlite(pool) = &store.pool else {
        panic!("not SQLite")
    };
    let exec = |sql: &'static str, id: String| async move {
        sqlx::query(sql).bind(id).execute(pool).await.unwrap();
    };
    let expect_corrupt = |result: crate::Result<_>, column: &str| match result {
        Err(StoreError::Corrupt(what)) => assert!(what.contains(column), "{what} does not name {column}"),
        other => panic!("expected a corrupt {column}, got {other:?}"),
    };

    // A list that is not JSON: the domain key, and the origin patterns (its key is active).
    exec(
        "UPDATE domain_keys SET origins = 'https://a.example' WHERE id = $1",
        domain.id.to_string(),
    )
    .await;
    expect_corrupt(
        store.get_domain_key(&domain.id).await.map(|_| ()),
        "domain_keys.origins",
    );
    expect_corrupt(
        store.list_domain_keys(&account.name).await.map(|_| ()),
        "domain_keys.origins",
    );
    expect_corrupt(
        store.allowed_origin_patterns().await.map(|_| ()),
        "domain_keys.origins",
    );
    // Once the domain key is revoked its origins are not read.
    expect_corrupt(
        store.revoke_domain_key(&domain.id, t).await.map(|_| ()),
        "domain_keys.origins",
    );
    assert!(store.allowed_origin_patterns().await.unwrap().is_empty());
    exec(
        "UPDATE domain_keys SET origins = '[1]', status = 'active' WHERE id = $1",
        domain.id.to_string(),
    )
    .await;
    expect_corrupt(
        store.allowed_origin_patterns().await.map(|_| ()),
        "domain_keys.origins",
    );
    exec(
        "UPDATE domain_keys SET origins = '[]', status = 'paused' WHERE id = $1",
        domain.id.to_string(),
    )
    .await;
    expect_corrupt(
        store.get_domain_key(&domain.id).await.map(|_| ()),
        "domain_keys.status",
    );
    assert_eq!(
        store.get_domain_key(&DomainKeyId::generate()).await.unwrap(),
        None
    );

    // An app's list, read only while the app is active.
    exec(
        "UPDATE apps SET allowed_origins = '{\"a\": 1}' WHERE client_id = $1",
        app.client_id.to_string(),
    )
    .await;
    expect_corrupt(
        store.allowed_origin_patterns().await.map(|_| ()),
        "apps.allowed_origins",
    );
    let suspend = AppPatch {
        status: Some(keygate_core::model::AppStatus::Suspended),
        ..AppPatch::default()
    };
    expect_corrupt(
        store.update_app(&app.client_id, &suspend, t).await.map(|_| ()),
        "apps.allowed_origins",
    );
    assert!(store.allowed_origin_patterns().await.unwrap().is_empty());

    // A session whose domain key id does not parse.
    let bad_id = "kgd_NOT-VALID";
    sqlx::query(
        "INSERT INTO domain_keys (id, account, api_key_id, name, origins, scopes, status, created_at, \
         updated_at) VALUES ($1, $2, $3, 'x', '[]', '', 'revoked', 0, 0)",
    )
    .bind(bad_id)
    .bind(account.name.as_str())
    .bind(key.id.as_str())
    .execute(pool)
    .await
    .unwrap();
    expect_corrupt(
        store.list_domain_keys(&account.name).await.map(|_| ()),
        "domain_keys.id",
    );
    let session = fixtures::key_session(&key, t, t + 60);
    store.create_key_session(&session).await.unwrap();
    exec(
        "UPDATE key_sessions SET domain_key_id = 'kgd_NOT-VALID' WHERE id = $1",
        session.id.clone(),
    )
    .await;
    expect_corrupt(
        store.get_key_session(&session.id).await.map(|_| ()),
        "key_sessions.domain_key_id",
    );
    store.close().await;
    db.cleanup().await;
}

/// A database of the domain-key release (0001 to 0003 applied) upgrades in place, migrated by another
/// node while this one's connections hold the old schema: its accounts read back with Basic auth off,
/// and can switch it on; its users and keys stay; the accounts can get legacy keys.
async fn upgrade_from_domain_key_release(db: &TempDatabase) {
    use keygate_core::email;

    use crate::conformance::fixtures;
    use crate::AccountPatch;

    let release = released_migrations(
        db,
        &["0001_init.sql", "0002_api_keys_audit.sql", "0003_domain_keys.sql"],
    )
    .await;
    let store = connect(db.url()).await.unwrap();
    dispatch_write!(store, |pool| release.run(pool).await.unwrap());
    let t = fixtures::now();
    let account = released_account(&store, AccountStatus::Active).await;
    let suspended = released_account(&store, AccountStatus::Suspended).await;
    let email = format!("Pat.{}@Example.com", fixtures::tag());
    let pat = store
        .create_user(&fixtures::new_user(&account.name, &email), t)
        .await
        .unwrap();
    let key = fixtures::api_key(&account.name, Some(&pat.id), t);
    released_api_key(&store, &key).await;
    let domain = fixtures::domain_key(&key, &["https://released.example"], t);
    store.create_domain_key(&domain).await.unwrap();
    // Every pooled connection loads the old schema.
    read_on_every_connection(&store, "SELECT * FROM accounts").await;

    let upgrader = connect(db.url()).await.unwrap();
    upgrader.migrate().await.unwrap();
    upgrader.close().await;
    assert_eq!(
        store.get_account(&account.name).await.unwrap(),
        Some(account.clone())
    );
    assert_eq!(
        store.get_account(&suspended.name).await.unwrap(),
        Some(suspended.clone())
    );
    let mut both = vec![account.clone(), suspended.clone()];
    both.sort_by(|a, b| a.name.as_str().cmp(b.name.as_str()));
    assert_eq!(store.list_accounts().await.unwrap(), both);
    assert_eq!(store.get_user(&pat.id).await.unwrap(), Some(pat.clone()));
    assert_eq!(store.get_api_key(&key.id).await.unwrap(), Some(key.clone()));
    assert_eq!(store.get_domain_key(&domain.id).await.unwrap(), Some(domain));

    let normalized = email::normalize(&email);
    assert!(store.find_basic_auth_users(&normalized).await.unwrap().is_empty());
    let patch = AccountPatch {
        basic_auth: Some(true),
        ..AccountPatch::default()
    };
    let switched = store
        .update_account(&account.name, &patch, t + 1)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        switched,
        Account {
            basic_auth: true,
            updated_at: t + 1,
            ..account.clone()
        }
    );
    assert_eq!(store.find_basic_auth_users(&normalized).await.unwrap(), [pat]);

    let legacy = fixtures::legacy_key(&suspended.name, t);
    store.create_legacy_key(&legacy).await.unwrap();
    assert_eq!(store.record_legacy_key_use(&legacy.id, 1, t).await.unwrap(), None);
    assert_eq!(
        store.find_legacy_key(&legacy.secret.hash).await.unwrap(),
        Some(keygate_core::model::LegacyKey {
            use_count: 1,
            last_used_at: Some(t),
            ..legacy
        })
    );
    store.close().await;
}

#[tokio::test]
async fn sqlite_upgrades_from_domain_key_release() {
    let db = TempDatabase::sqlite().await;
    upgrade_from_domain_key_release(&db).await;
    db.cleanup().await;
}

#[tokio::test]
async fn postgres_upgrades_from_domain_key_release() {
    let Some(admin_url) = postgres_admin_url() else {
        println!("skipping PostgreSQL upgrade: KEYGATE_TEST_POSTGRES_URL is not set");
        return;
    };
    let db = TempDatabase::postgres(&admin_url).await.unwrap();
    upgrade_from_domain_key_release(&db).await;
    db.cleanup().await;
}

/// A database of the legacy-key release (0001 to 0004 applied) upgrades in place, migrated by another
/// node while this one's connections hold the old schema: its API keys read back without assertions, can
/// get one, and then use jtis that purging forgets once expired.
async fn upgrade_from_legacy_key_release(db: &TempDatabase) {
    use keygate_core::model::{ApiKey, AssertionAlg, StoredSecret};

    use crate::conformance::fixtures;

    let release = released_migrations(
        db,
        &[
            "0001_init.sql",
            "0002_api_keys_audit.sql",
            "0003_domain_keys.sql",
            "0004_legacy_keys_basic_auth.sql",
        ],
    )
    .await;
    let store = connect(db.url()).await.unwrap();
    dispatch_write!(store, |pool| release.run(pool).await.unwrap());
    let t = fixtures::now();
    let account = released_account(&store, AccountStatus::Active).await;
    let user = fixtures::user(&store, &account.name).await;
    let key = ApiKey {
        previous_secret: Some(StoredSecret {
            expires_at: Some(t + 60),
            ..fixtures::secret()
        }),
        ..fixtures::api_key(&account.name, Some(&user.id), t - 10)
    };
    released_api_key(&store, &key).await;
    let service = fixtures::api_key(&account.name, None, t - 5);
    released_api_key(&store, &service).await;
    let session = fixtures::key_session(&key, t, t + 600);
    store.create_key_session(&session).await.unwrap();
    let legacy = fixtures::legacy_key(&account.name, t);
    store.create_legacy_key(&legacy).await.unwrap();
    // Every pooled connection loads the old schema.
    read_on_every_connection(&store, "SELECT * FROM api_keys").await;

    let upgrader = connect(db.url()).await.unwrap();
    upgrader.migrate().await.unwrap();
    upgrader.close().await;
    assert_eq!(store.get_api_key(&key.id).await.unwrap(), Some(key.clone()));
    assert_eq!(
        store.list_api_keys(&account.name).await.unwrap(),
        [key.clone(), service.clone()]
    );
    assert_eq!(store.get_key_session(&session.id).await.unwrap(), Some(session));
    assert_eq!(store.get_legacy_key(&legacy.id).await.unwrap(), Some(legacy));

    let assertion = fixtures::assertion_key(AssertionAlg::ES256);
    let signing = ApiKey {
        assertion: Some(assertion.clone()),
        updated_at: t + 1,
        ..key.clone()
    };
    assert_eq!(
        store
            .set_api_key_assertion(&key.id, Some(&assertion), t + 1)
            .await
            .unwrap(),
        Some(signing.clone())
    );
    let revoked = store.revoke_api_key(&service.id, t + 2).await.unwrap().unwrap();
    assert_eq!(revoked.assertion, None);
    let jti = "upgraded-jti";
    assert!(store.use_assertion_jti(&key.id, jti, t - 1).await.unwrap());
    assert!(!store.use_assertion_jti(&key.id, jti, t + 60).await.unwrap());
    let report = store.purge_expired(t).await.unwrap();
    assert_eq!(report.assertion_jtis, 1, "{report:?}");
    assert!(store.use_assertion_jti(&key.id, jti, t + 60).await.unwrap());
    let created = ApiKey {
        assertion: Some(fixtures::assertion_key(AssertionAlg::HS256)),
        ..fixtures::api_key(&account.name, None, t + 3)
    };
    store.create_api_key(&created).await.unwrap();
    assert_eq!(
        store.list_api_keys(&account.name).await.unwrap(),
        [signing, revoked, created]
    );
    store.close().await;
}

#[tokio::test]
async fn sqlite_upgrades_from_legacy_key_release() {
    let db = TempDatabase::sqlite().await;
    upgrade_from_legacy_key_release(&db).await;
    db.cleanup().await;
}

#[tokio::test]
async fn postgres_upgrades_from_legacy_key_release() {
    let Some(admin_url) = postgres_admin_url() else {
        println!("skipping PostgreSQL upgrade: KEYGATE_TEST_POSTGRES_URL is not set");
        return;
    };
    let db = TempDatabase::postgres(&admin_url).await.unwrap();
    upgrade_from_legacy_key_release(&db).await;
    db.cleanup().await;
}

#[tokio::test]
async fn inconsistent_assertion_columns_are_corrupt() {
    use keygate_core::model::AssertionAlg;

    use crate::conformance::fixtures;

    let db = TempDatabase::sqlite().await;
    let store = db.store().await.unwrap();
    let t = fixtures::now();
    let account = fixtures::account(&store).await;
    let key = fixtures::api_key(&account.name, None, t);
    store.create_api_key(&key).await.unwrap();
    let Pool::Sqlite(pool) = &store.pool else {
        panic!("not SQLite")
    };
    for (alg, jwk, secret) in [
        (Some("HS512"), None, Some(vec![1u8; 32])),
        (Some("HS256"), None, None),
        (Some("HS256"), Some("{}"), Some(vec![1u8; 32])),
        (Some("ES256"), None, None),
        (Some("EdDSA"), None, Some(vec![1u8; 32])),
        (Some("RS256"), Some("{}"), Some(vec![1u8; 32])),
        (None, Some("{}"), None),
        (None, None, Some(vec![1u8; 32])),
    ] {
        sqlx::query(
            "UPDATE api_keys SET assertion_alg = $2, assertion_public_jwk = $3, \
             assertion_sealed_secret = $4 WHERE id = $1",
        )
        .bind(key.id.as_str())
        .bind(alg)
        .bind(jwk)
        .bind(secret)
        .execute(pool)
        .await
        .unwrap();
        for result in [
            store.get_api_key(&key.id).await.map(|_| ()),
            store.list_api_keys(&account.name).await.map(|_| ()),
        ] {
            match result {
                Err(StoreError::Corrupt(what)) => {
                    assert!(what.contains("api_keys.assertion_alg"), "{alg:?}: {what}")
                }
                other => panic!("{alg:?} {jwk:?}: expected a corrupt row, got {other:?}"),
            }
        }
    }
    // Consistent columns read back, whichever the algorithm.
    for &alg in AssertionAlg::ALL {
        let assertion = fixtures::assertion_key(alg);
        let set = store
            .set_api_key_assertion(&key.id, Some(&assertion), t)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(set.assertion, Some(assertion));
    }
    store.close().await;
    db.cleanup().await;
}

#[tokio::test]
async fn unparsable_legacy_keys_are_corrupt() {
    use keygate_core::ids::LegacyKeyId;

    use crate::conformance::fixtures;

    let db = TempDatabase::sqlite().await;
    let store = db.store().await.unwrap();
    let t = fixtures::now();
    let account = fixtures::account(&store).await;
    let key = fixtures::legacy_key(&account.name, t);
    store.create_legacy_key(&key).await.unwrap();
    let Pool::Sqlite(pool) = &store.pool else {
        panic!("not SQLite")
    };
    let expect_corrupt = |result: crate::Result<()>, column: &str| match result {
        Err(StoreError::Corrupt(what)) => assert!(what.contains(column), "{what} does not name {column}"),
        other => panic!("expected a corrupt {column}, got {other:?}"),
    };
    sqlx::query("UPDATE legacy_keys SET status = 'paused' WHERE id = $1")
        .bind(key.id.as_str())
        .execute(pool)
        .await
        .unwrap();
    let status = "legacy_keys.status";
    expect_corrupt(store.get_legacy_key(&key.id).await.map(|_| ()), status);
    expect_corrupt(store.find_legacy_key(&key.secret.hash).await.map(|_| ()), status);
    expect_corrupt(store.list_legacy_keys(&account.name).await.map(|_| ()), status);
    // Counting a use reads no more than the last use.
    assert_eq!(store.record_legacy_key_use(&key.id, 1, t).await.unwrap(), None);
    assert_eq!(
        store.get_legacy_key(&LegacyKeyId::generate()).await.unwrap(),
        None
    );

    sqlx::query("UPDATE legacy_keys SET id = 'kgl_NOT-VALID' WHERE id = $1")
        .bind(key.id.as_str())
        .execute(pool)
        .await
        .unwrap();
    expect_corrupt(
        store.list_legacy_keys(&account.name).await.map(|_| ()),
        "legacy_keys.id",
    );
    store.close().await;
    db.cleanup().await;
}

/// Where authentication reads are cached, a credential and its account's status come from two cached
/// reads; the one-statement reads used elsewhere must answer alike on SQLite too (the conformance suite
/// reaches them only on PostgreSQL).
#[tokio::test]
async fn credentials_with_account_status_in_one_statement_on_sqlite() {
    use crate::conformance::fixtures;
    let store = connect("sqlite::memory:").await.unwrap();
    store.migrate().await.unwrap();
    let account = fixtures::account(&store).await;
    let owned = fixtures::app(&store, Some(&account.name)).await;
    let ownerless = fixtures::app(&store, None).await;
    let joined = |id| super::apps::get_with_owner_status(&store, id);
    assert_eq!(
        joined(&owned.client_id).await.unwrap(),
        Some((owned.clone(), Some(AccountStatus::Active)))
    );
    assert_eq!(
        joined(&ownerless.client_id).await.unwrap(),
        Some((ownerless.clone(), None))
    );
    let unknown = keygate_core::ids::ClientId::generate();
    assert_eq!(joined(&unknown).await.unwrap(), None);
    assert_eq!(
        store.get_app_and_owner_status(&owned.client_id).await.unwrap(),
        joined(&owned.client_id).await.unwrap(),
        "the cached reads agree"
    );

    let key = fixtures::api_key(&account.name, None, fixtures::now());
    store.create_api_key(&key).await.unwrap();
    let read = super::api_keys::get_with_account_status(&store, &key.id)
        .await
        .unwrap();
    assert_eq!(read, Some((key.clone(), Some(AccountStatus::Active))));
    assert_eq!(store.get_api_key_and_account_status(&key.id).await.unwrap(), read);
    let unknown = keygate_core::ids::ApiKeyId::generate();
    assert_eq!(
        super::api_keys::get_with_account_status(&store, &unknown)
            .await
            .unwrap(),
        None
    );

    let legacy = fixtures::legacy_key(&account.name, fixtures::now());
    store.create_legacy_key(&legacy).await.unwrap();
    let hash = &legacy.secret.hash;
    let read = super::legacy_keys::find_with_account_status(&store, hash)
        .await
        .unwrap();
    assert_eq!(read, Some((legacy.clone(), Some(AccountStatus::Active))));
    assert_eq!(
        store.find_legacy_key_and_account_status(hash).await.unwrap(),
        read
    );
    let unknown = fixtures::hash();
    assert_eq!(
        super::legacy_keys::find_with_account_status(&store, &unknown)
            .await
            .unwrap(),
        None
    );
}
