use keygate_core::model::{AdminToken, StoredSecret};

use super::errors::{violates, write_error};
use super::SqlStore;
use crate::Result;

#[derive(sqlx::FromRow)]
struct AdminTokenRow {
    id: String,
    name: String,
    secret_hash: Vec<u8>,
    secret_last4: String,
    secret_expires_at: Option<i64>,
    created_at: i64,
    revoked_at: Option<i64>,
}

impl From<AdminTokenRow> for AdminToken {
    fn from(r: AdminTokenRow) -> Self {
        AdminToken {
            id: r.id,
            name: r.name,
            secret: StoredSecret {
                hash: r.secret_hash,
                last4: r.secret_last4,
                expires_at: r.secret_expires_at,
            },
            created_at: r.created_at,
            revoked_at: r.revoked_at,
        }
    }
}

pub(super) async fn create(db: &SqlStore, token: &AdminToken) -> Result<()> {
    dispatch_write!(db, |pool| {
        sqlx::query(
            "INSERT INTO admin_tokens (id, name, secret_hash, secret_last4, secret_expires_at, created_at, \
             revoked_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(&token.id)
        .bind(&token.name)
        .bind(token.secret.hash.as_slice())
        .bind(&token.secret.last4)
        .bind(token.secret.expires_at)
        .bind(token.created_at)
        .bind(token.revoked_at)
        .execute(pool)
        .await
        .map(|_| ())
    })
    .map_err(|e| {
        let conflict = if violates(&e, "secret_hash") {
            "admin token with this secret".to_owned()
        } else {
            format!("admin token {}", token.id)
        };
        write_error(e, conflict, String::new())
    })?;
    Ok(())
}

pub(super) async fn find(db: &SqlStore, hash: &[u8]) -> Result<Option<AdminToken>> {
    let row = dispatch!(db, |pool| {
        sqlx::query_as::<_, AdminTokenRow>(
            "SELECT * FROM admin_tokens WHERE secret_hash = $1 AND revoked_at IS NULL",
        )
        .bind(hash)
        .fetch_optional(pool)
        .await
    })?;
    Ok(row.map(AdminToken::from))
}

pub(super) async fn list(db: &SqlStore) -> Result<Vec<AdminToken>> {
    let rows = dispatch!(db, |pool| {
        sqlx::query_as::<_, AdminTokenRow>("SELECT * FROM admin_tokens ORDER BY created_at, id")
            .fetch_all(pool)
            .await
    })?;
    Ok(rows.into_iter().map(AdminToken::from).collect())
}

pub(super) async fn revoke(db: &SqlStore, id: &str, now: i64) -> Result<bool> {
    let done = dispatch_write!(db, |pool| {
        sqlx::query("UPDATE admin_tokens SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL")
            .bind(id)
            .bind(now)
            .execute(pool)
            .await
            .map(|r| r.rows_affected())
    })?;
    Ok(done > 0)
}
