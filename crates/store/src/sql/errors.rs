//! Turning driver errors and unparsable rows into [`StoreError`]s.

use std::fmt::Display;

use sqlx::error::ErrorKind;

use crate::StoreError;

/// Classifies a failed write: a unique violation means `conflict` already exists, a foreign-key
/// violation means `missing` does not. Both kinds are reported the same way by SQLite and PostgreSQL.
pub(super) fn write_error(err: sqlx::Error, conflict: String, missing: String) -> StoreError {
    match kind(&err) {
        Some(ErrorKind::UniqueViolation) => StoreError::Conflict(conflict),
        Some(ErrorKind::ForeignKeyViolation) => StoreError::MissingReference(missing),
        _ => StoreError::Database(err),
    }
}

/// Whether the violated constraint involves `column`, for tables with more than one unique key. Both
/// backends name it: PostgreSQL in the constraint name, SQLite in the message ("UNIQUE constraint
/// failed: users.account, users.email_normalized").
pub(super) fn violates(err: &sqlx::Error, column: &str) -> bool {
    match err {
        sqlx::Error::Database(db) => {
            db.constraint().is_some_and(|c| c.contains(column)) || db.message().contains(column)
        }
        _ => false,
    }
}

pub(super) fn is_unique_violation(err: &sqlx::Error) -> bool {
    matches!(kind(err), Some(ErrorKind::UniqueViolation))
}

fn kind(err: &sqlx::Error) -> Option<ErrorKind> {
    match err {
        sqlx::Error::Database(db) => Some(db.kind()),
        _ => None,
    }
}

/// For `map_err` while converting a row: names the column whose stored value did not parse.
pub(super) fn corrupt<E: Display>(column: &'static str) -> impl FnOnce(E) -> StoreError {
    move |e| StoreError::Corrupt(format!("{column}: {e}"))
}
