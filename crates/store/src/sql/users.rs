use keygate_core::email;
use keygate_core::ids::{AccountName, UserId};
use keygate_core::model::{Role, User, UserStatus};
use keygate_core::password::PasswordDigest;

use super::errors::{corrupt, violates, write_error};
use super::SqlStore;
use crate::{NewUser, Result, StoreError, UserPatch};

#[derive(sqlx::FromRow)]
struct UserRow {
    id: String,
    account: String,
    email: String,
    password_hash: String,
    role: String,
    status: String,
    created_at: i64,
    updated_at: i64,
}

impl TryFrom<UserRow> for User {
    type Error = StoreError;
    fn try_from(r: UserRow) -> Result<Self> {
        Ok(User {
            id: UserId::parse(&r.id).map_err(corrupt("users.id"))?,
            account: AccountName::parse(&r.account).map_err(corrupt("users.account"))?,
            email: r.email,
            password: PasswordDigest(r.password_hash),
            role: Role::parse(&r.role).map_err(corrupt("users.role"))?,
            status: UserStatus::parse(&r.status).map_err(corrupt("users.status"))?,
            created_at: r.created_at,
            updated_at: r.updated_at,
        })
    }
}

pub(super) async fn create(db: &SqlStore, new: &NewUser, now: i64) -> Result<User> {
    let row = dispatch_write!(db, |pool| {
        sqlx::query_as::<_, UserRow>(
            "INSERT INTO users (id, account, email, email_normalized, password_hash, role, status, \
             created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8) RETURNING *",
        )
        .bind(new.id.as_str())
        .bind(new.account.as_str())
        .bind(&new.email)
        .bind(email::normalize(&new.email))
        .bind(&new.password.0)
        .bind(new.role.as_str())
        .bind(UserStatus::Active.as_str())
        .bind(now)
        .fetch_one(pool)
        .await
    })
    .map_err(|e| {
        let conflict = if violates(&e, "email") {
            format!("user with email {} in account {}", new.email, new.account)
        } else {
            format!("user {}", new.id)
        };
        write_error(e, conflict, format!("account {}", new.account))
    })?;
    row.try_into()
}

pub(super) async fn get(db: &SqlStore, id: &UserId) -> Result<Option<User>> {
    let row = dispatch!(db, |pool| {
        sqlx::query_as::<_, UserRow>("SELECT * FROM users WHERE id = $1")
            .bind(id.as_str())
            .fetch_optional(pool)
            .await
    })?;
    row.map(User::try_from).transpose()
}

pub(super) async fn find_by_email(db: &SqlStore, account: &AccountName, email: &str) -> Result<Option<User>> {
    let row = dispatch!(db, |pool| {
        sqlx::query_as::<_, UserRow>("SELECT * FROM users WHERE account = $1 AND email_normalized = $2")
            .bind(account.as_str())
            .bind(email::normalize(email))
            .fetch_optional(pool)
            .await
    })?;
    row.map(User::try_from).transpose()
}

pub(super) async fn list(db: &SqlStore, account: &AccountName) -> Result<Vec<User>> {
    let rows = dispatch!(db, |pool| {
        sqlx::query_as::<_, UserRow>("SELECT * FROM users WHERE account = $1 ORDER BY email_normalized, id")
            .bind(account.as_str())
            .fetch_all(pool)
            .await
    })?;
    rows.into_iter().map(User::try_from).collect()
}

pub(super) async fn update(db: &SqlStore, id: &UserId, patch: &UserPatch, now: i64) -> Result<Option<User>> {
    let row = dispatch_write!(db, |pool| {
        sqlx::query_as::<_, UserRow>(
            "UPDATE users SET role = COALESCE($2, role), status = COALESCE($3, status), \
             password_hash = COALESCE($4, password_hash), updated_at = $5 WHERE id = $1 RETURNING *",
        )
        .bind(id.as_str())
        .bind(patch.role.map(Role::as_str))
        .bind(patch.status.map(UserStatus::as_str))
        .bind(patch.password.as_ref().map(|p| p.0.as_str()))
        .bind(now)
        .fetch_optional(pool)
        .await
    })?;
    row.map(User::try_from).transpose()
}

pub(super) async fn find_basic_auth(db: &SqlStore, email_normalized: &str) -> Result<Vec<User>> {
    // The users' columns by name: accounts, joined here, gained a column in 0004 (see accounts.rs).
    let rows = dispatch!(db, |pool| {
        sqlx::query_as::<_, UserRow>(
            "SELECT u.id, u.account, u.email, u.password_hash, u.role, u.status, u.created_at, \
             u.updated_at FROM users u JOIN accounts a ON a.name = u.account \
             WHERE u.email_normalized = $1 AND a.basic_auth <> 0 ORDER BY u.account",
        )
        .bind(email_normalized)
        .fetch_all(pool)
        .await
    })?;
    rows.into_iter().map(User::try_from).collect()
}
