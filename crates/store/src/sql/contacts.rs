//! Contacts: per-account ids, conditional updates and deletes, and upserts by email. Every write that
//! changes something appends its event in the same transaction.
//!
//! Lock order, so that writers never deadlock: the account's `contact_ids` row first (creates, upserts,
//! email-status changes), then contact rows (updates, deletes, upsert candidates).

use std::collections::BTreeMap;
use std::future::Future;

use keygate_core::contact::{Contact, ContactInput, DuplicateOption, EmailStatusRecord};
use keygate_core::ids::AccountName;
use sqlx::QueryBuilder;

use super::contact_rows::{
    bind_contact, contact_columns, contact_write_columns, ContactRow, ContactValues, LOCK_CONTACT,
    UPDATE_CONTACT,
};
use super::email_statuses::EmailStatusRow;
use super::errors::write_error;
use super::events::{event_columns, insert_contact_event};
use super::group_commit::GroupWrite;
use super::{BeginWrite, Pool, SqlStore};
use crate::{ContactChange, ContactWrite, Result, StoreError, CONTACT_ADD, CONTACT_DELETE, CONTACT_EDIT};

/// Moves the account `$1`'s id counter on by `$2` and returns its new last id, so the ids
/// `last - $2 + 1 ..= last` are the caller's. The row stays locked until the transaction ends.
const TAKE_IDS: &str = "INSERT INTO contact_ids (account, last_id) VALUES ($1, $2) \
     ON CONFLICT (account) DO UPDATE SET last_id = contact_ids.last_id + $2 RETURNING last_id";

/// Locks the account `$1`'s id counter without moving it (creating it if need be): upserts of one
/// account queue here, so each sees the contacts the one before it committed.
const LOCK_ACCOUNT: &str = "INSERT INTO contact_ids (account, last_id) VALUES ($1, 0) \
     ON CONFLICT (account) DO UPDATE SET last_id = contact_ids.last_id";

/// The contacts of `$1` holding the normalised address `$2` in any slot, locked (see [`LOCK_CONTACT`]).
/// In no particular order.
const LOCK_HOLDERS: &str = concat!(
    "UPDATE contacts SET version = version WHERE account = $1 ",
    "AND (email1_norm = $2 OR email2_norm = $2 OR email3_norm = $2) RETURNING ",
    contact_columns!()
);

/// Takes `$n` ids from the account `$account`'s counter in the transaction `$tx`; evaluates to the first.
/// `MissingReference` if the account does not exist.
macro_rules! take_ids {
    ($tx:expr, $account:expr, $n:expr) => {{
        let account: &AccountName = $account;
        let n: i64 = $n;
        sqlx::query_scalar::<_, i64>(TAKE_IDS)
            .bind(account.as_str())
            .bind(n)
            .fetch_one(&mut *$tx)
            .await
            .map(|last| last - n + 1)
            .map_err(|e| write_error(e, String::new(), format!("account {account}")))
    }};
}

/// Inserts the new contacts `$rows` (a `Vec` of `(&AccountName, &Contact)`, their ids taken), each with
/// its `contact.add` event, into the transaction `$tx`. On PostgreSQL (`$in_pieces` false) that is two
/// statements however many rows there are: each statement is a round trip, made while the accounts'
/// counters are locked. On SQLite (`$in_pieces` true) the rows go in pieces of [`piece_lengths`], each
/// text prepared once per connection and kept: preparing a batch's own text every time cost SQLite
/// about 200,000 instructions per batch, 15% of a creation's, where running a kept statement is cheap.
macro_rules! insert_new_contacts {
    ($tx:expr, $rows:expr, $in_pieces:expr) => {{
        let rows: Vec<(&AccountName, &Contact)> = $rows;
        let values = rows
            .iter()
            .map(|(_, c)| ContactValues::of(c))
            .collect::<Result<Vec<_>>>()?;
        let in_pieces: bool = $in_pieces;
        // Each piece's rows, as a range of `rows` (and of `values`).
        let mut at = 0;
        let pieces: Vec<std::ops::Range<usize>> = if in_pieces {
            piece_lengths(rows.len())
                .map(|len| {
                    at += len;
                    at - len..at
                })
                .collect()
        } else {
            vec![0..rows.len()]
        };
        // One row (an upsert's creation) is always the same text, and so is every piece.
        let prepared = |piece: &std::ops::Range<usize>| in_pieces || piece.len() == 1;
        for piece in &pieces {
            let mut contacts =
                QueryBuilder::new(concat!("INSERT INTO contacts (", contact_write_columns!(), ") "));
            contacts.push_values(
                rows[piece.clone()].iter().zip(&values[piece.clone()]),
                |mut row, ((account, _), v)| {
                    bind_contact!(push_bind, row, account.as_str(), v);
                },
            );
            contacts
                .build()
                .persistent(prepared(piece))
                .execute(&mut *$tx)
                .await
                .map_err(|e| write_error(e, "a new contact".into(), "its account".into()))?;
        }
        for piece in &pieces {
            let mut events = QueryBuilder::new(concat!("INSERT INTO events (", event_columns!(), ") "));
            events.push_values(&rows[piece.clone()], |mut row, (account, c)| {
                row.push_bind(account.as_str())
                    .push_bind(CONTACT_ADD)
                    .push_bind("contact")
                    .push_bind(c.id)
                    .push_bind(c.updated_at);
            });
            events
                .build()
                .persistent(prepared(piece))
                .execute(&mut *$tx)
                .await?;
        }
    }};
}

/// The largest piece of a batch written on SQLite: the texts kept per connection are those of 1, 2, 4,
/// … 64 rows, 14 statements for the two tables.
const LARGEST_PIECE: usize = 64;

/// The pieces a batch of `n` rows is written in on SQLite: powers of two, largest first (23 rows: 16,
/// 4, 2, 1), so that a handful of statement texts serve every batch size.
fn piece_lengths(mut n: usize) -> impl Iterator<Item = usize> {
    std::iter::from_fn(move || {
        if n == 0 {
            return None;
        }
        let len = (1 << n.ilog2()).min(LARGEST_PIECE);
        n -= len;
        Some(len)
    })
}

/// The contact `$id` of `$account`, locked for the rest of `$tx`. When it is missing, or not at
/// `$if_version` (when given), rolls back and returns `NotFound` or `Stale` from the enclosing function.
macro_rules! lock_at_version {
    ($tx:ident, $account:expr, $id:expr, $if_version:expr) => {{
        let row = sqlx::query_as::<_, ContactRow>(LOCK_CONTACT)
            .bind($account.as_str())
            .bind($id)
            .fetch_optional(&mut *$tx)
            .await?;
        let Some(row) = row else {
            $tx.rollback().await?;
            return Ok(ContactWrite::NotFound);
        };
        let current = row.version();
        if $if_version.is_some_and(|v| v != current) {
            $tx.rollback().await?;
            return Ok(ContactWrite::Stale {
                current_version: current,
            });
        }
        row
    }};
}

/// Rewrites the row of `$c` if it is still at `$old_version`, with a `contact.edit` event. Evaluates to
/// whether it was.
macro_rules! rewrite_contact {
    ($tx:expr, $account:expr, $c:expr, $old_version:expr) => {{
        let c: &Contact = $c;
        let values = ContactValues::of(c)?;
        let written = bind_contact!(sqlx::query(UPDATE_CONTACT), $account.as_str(), &values)
            .bind($old_version)
            .execute(&mut *$tx)
            .await?
            .rows_affected();
        if written == 1 {
            insert_contact_event!($tx, $account.as_str(), CONTACT_EDIT, c.id, c.updated_at)?;
        }
        written == 1
    }};
}

pub(super) async fn create(db: &SqlStore, account: &AccountName, contact: &Contact) -> Result<Contact> {
    db.batches
        .contacts
        .write((account.clone(), contact.clone()))
        .await
}

/// Contact creations, committed in groups ([`super::group_commit`]).
pub(super) struct NewContacts;

impl GroupWrite for NewContacts {
    type Item = (AccountName, Contact);
    type Written = Contact;
    fn write_all<'a>(
        writer: &'a Pool,
        items: &'a [Self::Item],
    ) -> impl Future<Output = Result<Vec<Contact>>> + Send + 'a {
        insert_all(writer, items)
    }
}

/// Creates every contact of `rows` in one transaction, in order; if one fails, none is written.
async fn insert_all(writer: &Pool, rows: &[(AccountName, Contact)]) -> Result<Vec<Contact>> {
    // Ids wanted per account, then the next one to give: counters are taken in account order, so that
    // batches written at once (PostgreSQL nodes) never each hold a counter the other waits for.
    let mut next_id: BTreeMap<&AccountName, i64> = BTreeMap::new();
    for (account, _) in rows {
        *next_id.entry(account).or_default() += 1;
    }
    let in_pieces = matches!(writer, Pool::Sqlite(_));
    on_pool!(writer, |pool| {
        let mut tx = pool.begin_write().await?;
        for (account, n) in &mut next_id {
            *n = take_ids!(tx, account, *n)?;
        }
        let mut created = Vec::with_capacity(rows.len());
        for (account, contact) in rows {
            let mut c = contact.clone();
            let id = next_id
                .get_mut(account)
                .ok_or_else(|| StoreError::Corrupt("a batched contact's account was not counted".into()))?;
            (c.id, c.version) = (*id, 1);
            *id += 1;
            created.push(c);
        }
        insert_new_contacts!(
            tx,
            rows.iter().map(|(account, _)| account).zip(&created).collect(),
            in_pieces
        );
        tx.commit().await?;
        Ok(created)
    })
}

pub(super) const GET_CONTACT: &str = concat!(
    "SELECT ",
    contact_columns!(),
    " FROM contacts WHERE account = $1 AND id = $2"
);

pub(super) async fn get(db: &SqlStore, account: &AccountName, id: i64) -> Result<Option<Contact>> {
    let row = read_by_key!(
        db,
        GET_CONTACT,
        ContactRow,
        |row| ContactRow::from_sqlite(row, 0),
        account.as_str(),
        id
    );
    row.map(Contact::try_from).transpose()
}

/// A contact with its primary address's status, in one statement: the status is joined on the contact's
/// `sort_email`, which is that address normalised as the statuses' key is.
macro_rules! get_with_status {
    ($email_is_sort_email:literal) => {
        concat!(
            "SELECT c.id, c.version, c.body, s.email AS status_email, s.status, s.reason, s.opted_out_by, \
             s.changed_at FROM contacts c LEFT JOIN email_statuses s ON s.account = c.account AND ",
            $email_is_sort_email,
            " WHERE c.account = $1 AND c.id = $2"
        )
    };
}

#[derive(sqlx::FromRow)]
struct ContactWithStatusRow {
    #[sqlx(flatten)]
    contact: ContactRow,
    status_email: Option<String>,
    status: Option<String>,
    reason: Option<String>,
    opted_out_by: Option<String>,
    changed_at: Option<i64>,
}

impl ContactWithStatusRow {
    fn from_sqlite(row: &rusqlite::Row<'_>) -> rusqlite::Result<Self> {
        Ok(Self {
            contact: ContactRow::from_sqlite(row, 0)?,
            status_email: row.get(3)?,
            status: row.get(4)?,
            reason: row.get(5)?,
            opted_out_by: row.get(6)?,
            changed_at: row.get(7)?,
        })
    }
}

pub(super) async fn get_with_status(
    db: &SqlStore,
    account: &AccountName,
    id: i64,
) -> Result<Option<(Contact, Option<EmailStatusRecord>)>> {
    let query = match &db.pool {
        Pool::Sqlite(_) => get_with_status!("s.email = c.sort_email"),
        // `sort_email` is collated "C" and the statuses' key is not: compared under the key's own
        // collation, so the key's index is used (equality is byte equality under either).
        Pool::Postgres(_) => get_with_status!("s.email = c.sort_email COLLATE \"default\""),
    };
    let row = read_by_key!(
        db,
        query,
        ContactWithStatusRow,
        ContactWithStatusRow::from_sqlite,
        account.as_str(),
        id
    );
    let Some(row) = row else {
        return Ok(None);
    };
    let status = match (row.status_email, row.status, row.reason, row.changed_at) {
        (Some(email), Some(status), Some(reason), Some(changed_at)) => Some(
            EmailStatusRow {
                email,
                status,
                reason,
                opted_out_by: row.opted_out_by,
                changed_at,
            }
            .try_into()?,
        ),
        (None, None, None, None) => None,
        _ => {
            return Err(StoreError::Corrupt(
                "email_statuses: a status row missing columns".into(),
            ))
        }
    };
    Ok(Some((Contact::try_from(row.contact)?, status)))
}

pub(super) async fn update(
    db: &SqlStore,
    account: &AccountName,
    id: i64,
    if_version: Option<i64>,
    change: ContactChange<'_>,
) -> Result<ContactWrite<Contact>> {
    dispatch_write!(db, |pool| {
        let mut tx = pool.begin_write().await?;
        let row = lock_at_version!(tx, account, id, if_version);
        let old = row.version();
        let stored = Contact::try_from(row)?;
        let mut c = stored.clone();
        let outcome = match change(&mut c) {
            Err(invalid) => ContactWrite::Invalid(invalid),
            Ok(false) => ContactWrite::Done(stored),
            Ok(true) => {
                // The key and the version are the store's: a change cannot move the contact elsewhere.
                (c.id, c.version) = (id, old + 1);
                // The row is locked, so it is still at `old`; were it not, nothing is written.
                if !rewrite_contact!(tx, account, &c, old) {
                    return Err(StoreError::Conflict(format!(
                        "contact {id} (changed concurrently)"
                    )));
                }
                tx.commit().await?;
                return Ok(ContactWrite::Done(c));
            }
        };
        tx.rollback().await?;
        Ok(outcome)
    })
}

pub(super) async fn delete(
    db: &SqlStore,
    account: &AccountName,
    id: i64,
    if_version: Option<i64>,
) -> Result<ContactWrite<()>> {
    dispatch_write!(db, |pool| {
        let mut tx = pool.begin_write().await?;
        lock_at_version!(tx, account, id, if_version);
        sqlx::query("DELETE FROM contacts WHERE account = $1 AND id = $2")
            .bind(account.as_str())
            .bind(id)
            .execute(&mut *tx)
            .await?;
        let now = keygate_core::time::now();
        insert_contact_event!(tx, account.as_str(), CONTACT_DELETE, id, now)?;
        tx.commit().await?;
        Ok(ContactWrite::Done(()))
    })
}

pub(super) async fn upsert(
    db: &SqlStore,
    account: &AccountName,
    input: &ContactInput,
    option: DuplicateOption,
    now: i64,
) -> Result<ContactWrite<(Contact, bool)>> {
    let email = input.primary_email();
    dispatch_write!(db, |pool| {
        let mut tx = pool.begin_write().await?;
        // An input without an email matches nothing: no candidates to look for.
        if let Some(email) = &email {
            sqlx::query(LOCK_ACCOUNT)
                .bind(account.as_str())
                .execute(&mut *tx)
                .await
                .map_err(|e| write_error(e, String::new(), format!("account {account}")))?;
            let rows = sqlx::query_as::<_, ContactRow>(LOCK_HOLDERS)
                .bind(account.as_str())
                .bind(email)
                .fetch_all(&mut *tx)
                .await?;
            let mut holders = rows
                .into_iter()
                .map(Contact::try_from)
                .collect::<Result<Vec<_>>>()?;
            holders.sort_by_key(|c| c.id);
            if let Some(existing) = holders.into_iter().find(|c| option.matches(c, input)) {
                let mut c = existing.clone();
                let outcome = match input.clone().into_patch_for(&c).apply(&mut c, now) {
                    Err(invalid) => ContactWrite::Invalid(invalid),
                    Ok(false) => ContactWrite::Done((existing, false)),
                    Ok(true) => {
                        (c.id, c.version) = (existing.id, existing.version + 1);
                        if !rewrite_contact!(tx, account, &c, existing.version) {
                            let id = existing.id;
                            return Err(StoreError::Conflict(format!(
                                "contact {id} (changed concurrently)"
                            )));
                        }
                        tx.commit().await?;
                        return Ok(ContactWrite::Done((c, false)));
                    }
                };
                tx.rollback().await?;
                return Ok(outcome);
            }
        }
        // Checked before an id is handed out (the rollback would return it anyway).
        let mut c = match input.clone().into_contact(0, now) {
            Ok(c) => c,
            Err(invalid) => {
                tx.rollback().await?;
                return Ok(ContactWrite::Invalid(invalid));
            }
        };
        c.id = take_ids!(tx, account, 1)?;
        insert_new_contacts!(tx, vec![(account, &c)], false);
        tx.commit().await?;
        Ok(ContactWrite::Done((c, true)))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_batch_goes_in_pieces_of_powers_of_two_largest_first() {
        assert_eq!(piece_lengths(0).count(), 0);
        assert_eq!(piece_lengths(1).collect::<Vec<_>>(), [1]);
        assert_eq!(piece_lengths(23).collect::<Vec<_>>(), [16, 4, 2, 1]);
        assert_eq!(piece_lengths(256).collect::<Vec<_>>(), [64; 4]);
        for n in 0..=300 {
            let pieces: Vec<usize> = piece_lengths(n).collect();
            assert_eq!(pieces.iter().sum::<usize>(), n, "{n}");
            assert!(
                pieces.iter().all(|p| p.is_power_of_two() && *p <= LARGEST_PIECE),
                "{n}: {pieces:?}"
            );
            assert!(pieces.windows(2).all(|w| w[0] >= w[1]), "{n}: {pieces:?}");
        }
    }
}
