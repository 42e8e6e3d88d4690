//! Accounts and their users.

use keygate_core::email;
use keygate_core::ids::UserId;
use keygate_core::model::{Account, AccountStatus, RateLimit, Role, User, UserStatus};

use super::fixtures::{self, now, tag};
use super::{assert_conflict, assert_missing};
use crate::{AccountPatch, NewAccount, NewUser, Store, UserPatch};

pub async fn accounts(store: &dyn Store) {
    let t = now();
    let a = fixtures::account_named(store, "Acme Ltd", t).await;
    let status = AccountStatus::Active;
    let created = Account {
        name: a.name.clone(),
        display_name: "Acme Ltd".into(),
        status,
        basic_auth: false,
        rate_limit: None,
        created_at: t,
        updated_at: t,
    };
    assert_eq!(a, created);
    let dup = NewAccount {
        name: a.name.clone(),
        display_name: "Other".into(),
    };
    assert_conflict(store.create_account(&dup, t).await, a.name.as_str());

    assert_eq!(store.get_account(&a.name).await.unwrap(), Some(a.clone()));
    assert_eq!(store.get_account(&fixtures::account_name()).await.unwrap(), None);
    let b = fixtures::account(store).await;
    let listed = store.list_accounts().await.unwrap();
    assert!(listed.contains(&a) && listed.iter().any(|x| x.name == b.name));
    assert!(
        listed.windows(2).all(|w| w[0].name < w[1].name),
        "accounts not ordered by name"
    );

    // Each patch changes only what it names, and always bumps updated_at.
    let patch = AccountPatch {
        display_name: Some("Acme Inc".into()),
        ..AccountPatch::default()
    };
    let renamed = store
        .update_account(&a.name, &patch, t + 5)
        .await
        .unwrap()
        .unwrap();
    let mut expected = a.clone();
    expected.display_name = "Acme Inc".into();
    expected.updated_at = t + 5;
    assert_eq!(renamed, expected);
    let patch = AccountPatch {
        status: Some(AccountStatus::Suspended),
        ..AccountPatch::default()
    };
    let suspended = store
        .update_account(&a.name, &patch, t + 6)
        .await
        .unwrap()
        .unwrap();
    expected.status = AccountStatus::Suspended;
    expected.updated_at = t + 6;
    assert_eq!(suspended, expected);
    // Basic auth is switched on and off by the patch alone; a patch without it leaves it as it is.
    let basic = |on| AccountPatch {
        basic_auth: Some(on),
        ..AccountPatch::default()
    };
    let with_basic = store
        .update_account(&a.name, &basic(true), t + 7)
        .await
        .unwrap()
        .unwrap();
    expected.basic_auth = true;
    expected.updated_at = t + 7;
    assert_eq!(with_basic, expected);
    assert_eq!(store.get_account(&a.name).await.unwrap(), Some(expected.clone()));
    assert!(store.list_accounts().await.unwrap().contains(&expected));
    let touched = store
        .update_account(&a.name, &AccountPatch::default(), t + 8)
        .await
        .unwrap()
        .unwrap();
    expected.updated_at = t + 8;
    assert_eq!(touched, expected);
    assert_eq!(
        store.get_account(&b.name).await.unwrap().map(|b| b.basic_auth),
        Some(false),
        "switching Basic on for one account touched another"
    );
    let all = AccountPatch {
        display_name: Some("Acme".into()),
        status: Some(AccountStatus::Active),
        basic_auth: Some(false),
        rate_limit: None,
    };
    let reset = store.update_account(&a.name, &all, t + 9).await.unwrap().unwrap();
    expected.display_name = "Acme".into();
    expected.status = AccountStatus::Active;
    expected.basic_auth = false;
    expected.updated_at = t + 9;
    assert_eq!(reset, expected);
    assert_eq!(store.get_account(&a.name).await.unwrap(), Some(expected));
    let nobody = store
        .update_account(&fixtures::account_name(), &patch, t)
        .await
        .unwrap();
    assert_eq!(nobody, None);
}

pub async fn users(store: &dyn Store) {
    let t = now();
    let a = fixtures::account(store).await;
    let b = fixtures::account(store).await;
    let tag = tag();
    let email = format!("Ann.{tag}@Example.COM");
    let new = fixtures::new_user(&a.name, &email);
    let ann = store.create_user(&new, t).await.unwrap();
    let created = User {
        id: new.id.clone(),
        account: a.name.clone(),
        email: email.clone(),
        password: new.password.clone(),
        role: Role::Member,
        status: UserStatus::Active,
        created_at: t,
        updated_at: t,
    };
    assert_eq!(ann, created);

    // Emails are unique per account, case-insensitively; ids are unique everywhere.
    let shouting = NewUser {
        id: UserId::generate(),
        email: email.to_uppercase(),
        ..new.clone()
    };
    assert_conflict(store.create_user(&shouting, t).await, &email.to_uppercase());
    let elsewhere = NewUser {
        id: UserId::generate(),
        account: b.name.clone(),
        ..new.clone()
    };
    let ann_b = store.create_user(&elsewhere, t).await.unwrap();
    let same_id = fixtures::new_user(&b.name, &format!("other.{tag}@example.com"));
    let same_id = NewUser {
        id: ann.id.clone(),
        ..same_id
    };
    assert_conflict(store.create_user(&same_id, t).await, ann.id.as_str());
    let orphan = fixtures::new_user(&fixtures::account_name(), &format!("orphan.{tag}@example.com"));
    assert_missing(store.create_user(&orphan, t).await);

    assert_eq!(store.get_user(&ann.id).await.unwrap(), Some(ann.clone()));
    assert_eq!(store.get_user(&UserId::generate()).await.unwrap(), None);
    let lower = email.to_lowercase();
    assert_eq!(
        store.find_user_by_email(&a.name, &lower).await.unwrap(),
        Some(ann.clone())
    );
    let padded = format!("  {}  ", email.to_uppercase());
    assert_eq!(
        store.find_user_by_email(&a.name, &padded).await.unwrap(),
        Some(ann.clone())
    );
    assert_eq!(
        store.find_user_by_email(&b.name, &email).await.unwrap(),
        Some(ann_b)
    );
    assert_eq!(
        store
            .find_user_by_email(&a.name, "nobody@example.com")
            .await
            .unwrap(),
        None
    );

    // Ordered by email regardless of case: raw byte order would put "Zed" before "bob".
    let zed = store
        .create_user(&fixtures::new_user(&a.name, &format!("Zed.{tag}@example.com")), t)
        .await;
    let bob = store
        .create_user(&fixtures::new_user(&a.name, &format!("bob.{tag}@example.com")), t)
        .await;
    let listed: Vec<_> = store
        .list_users(&a.name)
        .await
        .unwrap()
        .into_iter()
        .map(|u| u.id)
        .collect();
    assert_eq!(listed, [ann.id.clone(), bob.unwrap().id, zed.unwrap().id]);

    let patch = UserPatch {
        role: Some(Role::Admin),
        ..UserPatch::default()
    };
    let promoted = store.update_user(&ann.id, &patch, t + 5).await.unwrap().unwrap();
    let mut expected = ann.clone();
    expected.role = Role::Admin;
    expected.updated_at = t + 5;
    assert_eq!(promoted, expected);
    let patch = UserPatch {
        password: Some(fixtures::password()),
        ..UserPatch::default()
    };
    let repassworded = store.update_user(&ann.id, &patch, t + 6).await.unwrap().unwrap();
    expected.password = patch.password.clone().unwrap();
    expected.updated_at = t + 6;
    assert_eq!(repassworded, expected);
    let patch = UserPatch {
        status: Some(UserStatus::Suspended),
        ..UserPatch::default()
    };
    let suspended = store.update_user(&ann.id, &patch, t + 7).await.unwrap().unwrap();
    expected.status = UserStatus::Suspended;
    expected.updated_at = t + 7;
    assert_eq!(suspended, expected);
    assert_eq!(store.get_user(&ann.id).await.unwrap(), Some(expected));
    assert_eq!(
        store.update_user(&UserId::generate(), &patch, t).await.unwrap(),
        None
    );
}

/// The users HTTP Basic may authenticate: those with the email in accounts that allow Basic, whatever
/// their status or the account's.
pub async fn basic_auth_users(store: &dyn Store) {
    let t = now();
    let tag = tag();
    let email = format!("Pat.{tag}@Example.com");
    let normalized = email::normalize(&email);
    let basic = |on| AccountPatch {
        basic_auth: Some(on),
        ..AccountPatch::default()
    };
    let mut accounts = Vec::new();
    for _ in 0..4 {
        accounts.push(fixtures::account(store).await);
    }
    let [on, on_suspended_user, suspended, off] = &accounts[..] else {
        unreachable!()
    };
    for a in [on, on_suspended_user, suspended] {
        store
            .update_account(&a.name, &basic(true), t)
            .await
            .unwrap()
            .unwrap();
    }
    let suspend = AccountPatch {
        status: Some(AccountStatus::Suspended),
        ..AccountPatch::default()
    };
    store
        .update_account(&suspended.name, &suspend, t)
        .await
        .unwrap()
        .unwrap();

    let mut pats = Vec::new();
    for a in &accounts {
        pats.push(
            store
                .create_user(&fixtures::new_user(&a.name, &email), t)
                .await
                .unwrap(),
        );
    }
    let patch = UserPatch {
        status: Some(UserStatus::Suspended),
        ..UserPatch::default()
    };
    pats[1] = store.update_user(&pats[1].id, &patch, t).await.unwrap().unwrap();
    // Other emails, in an account with Basic: one a prefix of the email, one that contains it.
    for other in [format!("pat.{tag}@example.co"), format!("x{normalized}")] {
        store
            .create_user(&fixtures::new_user(&on.name, &other), t)
            .await
            .unwrap();
    }

    let mut expected = pats[..3].to_vec();
    expected.sort_by(|a, b| a.account.as_str().cmp(b.account.as_str()));
    assert_eq!(store.find_basic_auth_users(&normalized).await.unwrap(), expected);
    assert!(store
        .find_basic_auth_users(&format!("nobody.{tag}@example.com"))
        .await
        .unwrap()
        .is_empty());

    // Switching Basic off removes the account's user; switching it on adds it.
    store
        .update_account(&on.name, &basic(false), t)
        .await
        .unwrap()
        .unwrap();
    store
        .update_account(&off.name, &basic(true), t)
        .await
        .unwrap()
        .unwrap();
    let mut expected = pats[1..].to_vec();
    expected.sort_by(|a, b| a.account.as_str().cmp(b.account.as_str()));
    assert_eq!(store.find_basic_auth_users(&normalized).await.unwrap(), expected);
}

/// An account's own rate limit: set, listed among the overrides, left alone by other patches, cleared.
pub async fn account_rate_limits(store: &dyn Store) {
    let t = now();
    let a = fixtures::account(store).await;
    let b = fixtures::account(store).await;
    let limit = RateLimit {
        per_minute: 30,
        burst: 5,
    };
    let set = |l| AccountPatch {
        rate_limit: Some(l),
        ..AccountPatch::default()
    };
    let limited = store
        .update_account(&a.name, &set(Some(limit)), t + 1)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(limited.rate_limit, Some(limit));
    assert_eq!(
        store.get_account(&b.name).await.unwrap().unwrap().rate_limit,
        None
    );
    let overrides = store.rate_limit_overrides().await.unwrap();
    assert!(overrides.contains(&(a.name.clone(), limit)));
    assert!(!overrides.iter().any(|(n, _)| *n == b.name));

    let renamed = AccountPatch {
        display_name: Some("Renamed".into()),
        ..AccountPatch::default()
    };
    let kept = store
        .update_account(&a.name, &renamed, t + 2)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        kept.rate_limit,
        Some(limit),
        "a patch without rate_limit changed it"
    );

    let cleared = store
        .update_account(&a.name, &set(None), t + 3)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(cleared.rate_limit, None);
    assert!(!store
        .rate_limit_overrides()
        .await
        .unwrap()
        .iter()
        .any(|(n, _)| *n == a.name));
}
