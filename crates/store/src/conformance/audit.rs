//! The audit log.

use futures_util::future::join_all;
use keygate_core::ids::AccountName;
use keygate_core::model::AuditEvent;

use super::fixtures::{self, now, tag};
use crate::{AuditQuery, NewAuditEvent, Store};

fn event(account: Option<&AccountName>, action: &str, at: i64) -> NewAuditEvent {
    NewAuditEvent {
        at,
        account: account.cloned(),
        actor: format!("admin_token:adm_{}", tag()),
        action: action.to_owned(),
        target: format!("kgk_{}", tag()),
        details: format!(r#"{{"name":"{}","n":1,"quoted":"\"x\" ✓"}}"#, tag()),
    }
}

async fn list(store: &dyn Store, query: AuditQuery) -> Vec<AuditEvent> {
    store.list_audit(&query).await.unwrap()
}

fn ids(events: &[AuditEvent]) -> Vec<i64> {
    events.iter().map(|e| e.id).collect()
}

pub async fn audit(store: &dyn Store) {
    let t = now();
    // Fresh accounts and a fresh noun (with an underscore, which LIKE would take for a wildcard), so the
    // filters below see only this run's events however often the suite ran on this database.
    let a = fixtures::account(store).await.name;
    let b = fixtures::account(store).await.name;
    let noun = format!("{}_{}", tag(), tag());
    let lookalike = noun.replace('_', "x");
    let created = format!("{noun}.created");
    let plan = [
        (Some(&a), created.clone()),
        (Some(&a), format!("{noun}.revoked")),
        (None, created.clone()),
        (Some(&b), format!("{lookalike}.created")),
        (Some(&a), format!("{noun}x.created")),
        (Some(&b), format!("{noun}.secret.replaced")),
    ];
    let mut events = Vec::new();
    for (i, (account, action)) in plan.iter().enumerate() {
        let new = event(*account, action, t + i as i64);
        let appended = store.append_audit(&new).await.unwrap();
        let expected = AuditEvent {
            id: appended.id,
            at: new.at,
            account: new.account,
            actor: new.actor,
            action: new.action,
            target: new.target,
            details: new.details,
        };
        assert_eq!(appended, expected);
        events.push(appended);
    }
    assert!(
        events.windows(2).all(|w| w[0].id < w[1].id),
        "ids not increasing: {:?}",
        ids(&events)
    );
    let [e0, e1, e2, e3, e4, e5] = <[AuditEvent; 6]>::try_from(events).unwrap();

    // Newest first, with every field read back; filtered by account, exact action, or prefix.
    let by_account = |account: &AccountName| AuditQuery {
        account: Some(account.clone()),
        ..AuditQuery::default()
    };
    assert_eq!(
        list(store, by_account(&a)).await,
        vec![e4.clone(), e1.clone(), e0.clone()]
    );
    assert_eq!(list(store, by_account(&b)).await, vec![e5.clone(), e3.clone()]);
    assert!(list(store, by_account(&fixtures::account_name()))
        .await
        .is_empty());
    let by_action = |action: &str| AuditQuery {
        action: Some(action.to_owned()),
        ..AuditQuery::default()
    };
    assert_eq!(
        list(store, by_action(&created)).await,
        vec![e2.clone(), e0.clone()]
    );
    assert_eq!(
        list(store, by_action(&format!("{noun}."))).await,
        vec![e5.clone(), e2.clone(), e1.clone(), e0.clone()],
        "a prefix ending in a dot matches the noun's actions, and only those"
    );
    assert!(
        list(store, by_action(&noun)).await.is_empty(),
        "an action without a trailing dot is matched exactly"
    );
    assert_eq!(
        list(store, by_action(&format!("{noun}.secret."))).await,
        vec![e5.clone()]
    );
    let both = AuditQuery {
        account: Some(a.clone()),
        action: Some(format!("{noun}.")),
        ..AuditQuery::default()
    };
    assert_eq!(list(store, both.clone()).await, vec![e1.clone(), e0.clone()]);
    let exact_in_account = AuditQuery {
        action: Some(created.clone()),
        ..both.clone()
    };
    assert_eq!(list(store, exact_in_account).await, vec![e0.clone()]);

    // Paging: `before` excludes that id and everything newer.
    let page = |before: Option<i64>, limit: u32| AuditQuery {
        before,
        limit,
        ..by_account(&a)
    };
    assert_eq!(list(store, page(None, 1)).await, vec![e4.clone()]);
    assert_eq!(list(store, page(Some(e4.id), 1)).await, vec![e1.clone()]);
    assert_eq!(list(store, page(Some(e1.id), 1)).await, vec![e0.clone()]);
    assert!(list(store, page(Some(e0.id), 1)).await.is_empty());
    assert_eq!(
        list(store, page(Some(e4.id), 0)).await,
        vec![e1.clone(), e0.clone()]
    );
    assert_eq!(
        list(store, page(Some(e4.id + 1), 2)).await,
        vec![e4.clone(), e1.clone()]
    );
    let paged = AuditQuery {
        before: Some(e1.id),
        ..both
    };
    assert_eq!(list(store, paged).await, vec![e0.clone()]);
    // Across accounts: everything of this run is below e5 + 1, the newest first.
    let everything = AuditQuery {
        before: Some(e5.id + 1),
        limit: 6,
        ..AuditQuery::default()
    };
    assert_eq!(list(store, everything).await, vec![e5, e4, e3, e2, e1, e0]);

    // Limits: 0 means 100, and no listing returns more than 1000.
    let busy = fixtures::account(store).await.name;
    let mut many = Vec::new();
    for i in 0..1001 {
        many.push(
            store
                .append_audit(&event(Some(&busy), "audit.filled", t + i))
                .await
                .unwrap(),
        );
    }
    let newest = many.iter().map(|e| e.id).max().unwrap();
    for (limit, expected) in [
        (0, 100),
        (1, 1),
        (100, 100),
        (999, 999),
        (1000, 1000),
        (1001, 1000),
    ] {
        let got = list(
            store,
            AuditQuery {
                limit,
                ..by_account(&busy)
            },
        )
        .await;
        assert_eq!(got.len(), expected, "limit {limit}");
        assert_eq!(got[0].id, newest, "limit {limit}");
        assert!(got.windows(2).all(|w| w[0].id > w[1].id), "limit {limit}");
    }
    assert_eq!(
        list(
            store,
            AuditQuery {
                limit: u32::MAX,
                ..AuditQuery::default()
            }
        )
        .await
        .len(),
        1000
    );
}

/// Concurrent appends through two stores: every event gets its own id, and all are listed.
pub(super) async fn append_race(a: &dyn Store, b: &dyn Store) {
    let t = now();
    let account = fixtures::account(a).await.name;
    let appended = join_all((0..20).map(|i| {
        let store = if i % 2 == 0 { a } else { b };
        let new = event(Some(&account), "audit.raced", t);
        async move { store.append_audit(&new).await.unwrap() }
    }))
    .await;
    let mut expected = appended;
    expected.sort_by_key(|e| std::cmp::Reverse(e.id));
    assert!(
        expected.windows(2).all(|w| w[0].id > w[1].id),
        "an id was given twice"
    );
    let query = AuditQuery {
        account: Some(account),
        ..AuditQuery::default()
    };
    assert_eq!(a.list_audit(&query).await.unwrap(), expected);
    assert_eq!(b.list_audit(&query).await.unwrap(), expected);
}
