//! Nodes sharing PostgreSQL: what one keeps in memory, another's write reaches before it is acknowledged.

use std::time::{Duration, Instant};

use keygate_core::ids::AccountName;
use keygate_core::model::AccountStatus;

use super::{connect, connect_node, Pool, SqlStore};
use crate::conformance::fixtures;
use crate::testing::{postgres_admin_url, TempDatabase};
use crate::Store;

/// A fresh database with two nodes on it, both trusting their caches.
async fn two_nodes() -> Option<(TempDatabase, SqlStore, SqlStore)> {
    let Some(admin_url) = postgres_admin_url() else {
        println!("skipping: KEYGATE_TEST_POSTGRES_URL is not set");
        return None;
    };
    let db = TempDatabase::postgres(&admin_url).await.unwrap();
    let a = connect_node(db.url()).await.unwrap();
    a.migrate().await.unwrap();
    let b = connect_node(db.url()).await.unwrap();
    trusting(&a).await;
    trusting(&b).await;
    Some((db, a, b))
}

/// Waits (10 s at most) until `store` answers authentication reads from memory.
async fn trusting(store: &SqlStore) {
    let start = Instant::now();
    while store.auth.epoch().is_none() {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "the node never trusted its cache"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn pg(store: &SqlStore) -> &sqlx::PgPool {
    match &store.pool {
        Pool::Postgres(pool) => pool,
        Pool::Sqlite(_) => panic!("a PostgreSQL store"),
    }
}

/// Renames the account in the table itself, which no cache hears of: a node still answering with the old
/// name is answering from memory.
async fn rename_behind_the_stores(store: &SqlStore, name: &AccountName, display_name: &str) {
    sqlx::query("UPDATE accounts SET display_name = $2 WHERE name = $1")
        .bind(name.as_str())
        .bind(display_name)
        .execute(pg(store))
        .await
        .unwrap();
}

async fn read(store: &SqlStore, name: &AccountName) -> (String, AccountStatus) {
    let account = store.get_account(name).await.unwrap().unwrap();
    (account.display_name, account.status)
}

#[tokio::test]
async fn postgres_a_write_reaches_every_nodes_cache_before_it_is_acknowledged() {
    let Some((db, a, b)) = two_nodes().await else {
        return;
    };
    let name = fixtures::account_named(&a, "Before", fixtures::now()).await.name;
    assert_eq!(read(&b, &name).await, ("Before".into(), AccountStatus::Active));
    rename_behind_the_stores(&a, &name, "Behind").await;
    assert_eq!(read(&b, &name).await.0, "Before", "node b answers from memory");

    fixtures::set_account_status(&a, &name, AccountStatus::Suspended).await;
    assert_eq!(
        read(&b, &name).await,
        ("Behind".into(), AccountStatus::Suspended),
        "node a's write is seen by node b as soon as a has answered"
    );

    // A process that is not a node (the admin CLI) caches nothing, and its writes reach the nodes too.
    let tool = connect(db.url()).await.unwrap();
    assert!(tool.auth.cluster().is_some() && tool.auth.epoch().is_none());
    rename_behind_the_stores(&a, &name, "Again").await;
    assert_eq!(read(&tool, &name).await.0, "Again");
    assert_eq!(read(&b, &name).await.0, "Behind", "node b answers from memory");
    fixtures::set_account_status(&tool, &name, AccountStatus::Active).await;
    assert_eq!(read(&b, &name).await, ("Again".into(), AccountStatus::Active));
    assert_eq!(read(&a, &name).await, ("Again".into(), AccountStatus::Active));

    for store in [tool, a, b] {
        store.close().await;
    }
    db.cleanup().await;
}

#[tokio::test]
async fn postgres_a_node_that_loses_its_connection_forgets_what_it_kept() {
    let Some((db, a, b)) = two_nodes().await else {
        return;
    };
    let name = fixtures::account_named(&a, "Kept", fixtures::now()).await.name;
    assert_eq!(read(&b, &name).await.0, "Kept");
    rename_behind_the_stores(&a, &name, "Behind").await;
    assert_eq!(read(&b, &name).await.0, "Kept", "node b answers from memory");

    // Node b's connection dies: announcements made now never reach it on that connection.
    let cluster = b.auth.cluster().expect("a node");
    let killed: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
         WHERE application_name = $1) AS t",
    )
    .bind(format!("keygate {}", cluster.node()))
    .fetch_one(pg(&a))
    .await
    .unwrap();
    assert_eq!(killed, 1, "node b's listening connection");
    fixtures::set_account_status(&a, &name, AccountStatus::Suspended).await;
    assert_eq!(
        read(&b, &name).await,
        ("Behind".into(), AccountStatus::Suspended),
        "node b does not answer from what it kept before it lost its connection"
    );
    // It reconnects, registers again and caches again.
    trusting(&b).await;
    assert_eq!(read(&b, &name).await.1, AccountStatus::Suspended);
    rename_behind_the_stores(&a, &name, "Later").await;
    assert_eq!(
        read(&b, &name).await.0,
        "Behind",
        "node b answers from memory again"
    );

    a.close().await;
    b.close().await;
    db.cleanup().await;
}

#[tokio::test]
async fn postgres_a_node_that_leaves_is_no_longer_waited_for() {
    let Some((db, a, b)) = two_nodes().await else {
        return;
    };
    let nodes = || async {
        sqlx::query_scalar::<_, String>("SELECT node FROM auth_nodes ORDER BY node")
            .fetch_all(pg(&a))
            .await
            .unwrap()
    };
    let ids = |s: &SqlStore| s.auth.cluster().expect("a node").node().to_owned();
    let mut both = vec![ids(&a), ids(&b)];
    both.sort();
    assert_eq!(nodes().await, both);
    b.leave().await;
    assert_eq!(nodes().await, vec![ids(&a)]);
    assert!(b.auth.epoch().is_none(), "a node that left caches nothing");
    // Its row does not come back: its loop has ended.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(nodes().await, vec![ids(&a)]);
    a.close().await;
    b.close().await;
    db.cleanup().await;
}
