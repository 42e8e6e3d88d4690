//! Events: what happened to an account's objects, appended in the transaction of each change and read
//! oldest first.

use keygate_core::ids::AccountName;

use super::errors::corrupt;
use super::SqlStore;
use crate::{Event, Result, StoreError};

/// The columns an appended event sets.
macro_rules! event_columns {
    () => {
        "account, event_key, object_type, object_id, occurred_at"
    };
}
pub(super) use event_columns;

/// Appends the event `$key` (a `&str`) of the contact `$id` of `$account` (a `&str`), at `$at`, inside the
/// transaction `$tx`. Evaluates to the driver's result.
macro_rules! insert_contact_event {
    ($tx:expr, $account:expr, $key:expr, $id:expr, $at:expr) => {
        sqlx::query(concat!(
            "INSERT INTO events (",
            $crate::sql::events::event_columns!(),
            ") VALUES ($1, $2, 'contact', $3, $4)"
        ))
        .bind($account)
        .bind($key)
        .bind($id)
        .bind($at)
        .execute(&mut *$tx)
        .await
    };
}
pub(super) use insert_contact_event;

#[derive(sqlx::FromRow)]
struct EventRow {
    id: i64,
    account: String,
    event_key: String,
    object_type: String,
    object_id: i64,
    occurred_at: i64,
}

impl TryFrom<EventRow> for Event {
    type Error = StoreError;
    fn try_from(r: EventRow) -> Result<Self> {
        Ok(Event {
            id: r.id,
            account: AccountName::parse(&r.account).map_err(corrupt("events.account"))?,
            event_key: r.event_key,
            object_type: r.object_type,
            object_id: r.object_id,
            occurred_at: r.occurred_at,
        })
    }
}

/// At most `limit` events of `account` with ids above `after_id`, oldest first.
pub(super) async fn list(
    db: &SqlStore,
    account: &AccountName,
    after_id: i64,
    limit: u32,
) -> Result<Vec<Event>> {
    let rows = dispatch!(db, |pool| {
        sqlx::query_as::<_, EventRow>(
            "SELECT id, account, event_key, object_type, object_id, occurred_at FROM events \
             WHERE account = $1 AND id > $2 ORDER BY id LIMIT $3",
        )
        .bind(account.as_str())
        .bind(after_id)
        .bind(i64::from(limit))
        .fetch_all(pool)
        .await
    })?;
    rows.into_iter().map(Event::try_from).collect()
}
