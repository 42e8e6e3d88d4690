//! The consent of each address of an account's contacts, changed with one event per contact holding it.

use keygate_core::contact::{EmailStatus, EmailStatusRecord, OptOutBy};
use keygate_core::email::normalize;
use keygate_core::ids::AccountName;

use super::errors::corrupt;
use super::events::insert_contact_event;
use super::{BeginWrite, SqlStore};
use crate::{ContactWrite, EmailStatusChange, Result, StoreError};

macro_rules! columns {
    () => {
        "email, status, reason, opted_out_by, changed_at"
    };
}

#[derive(sqlx::FromRow)]
pub(super) struct EmailStatusRow {
    pub(super) email: String,
    pub(super) status: String,
    pub(super) reason: String,
    pub(super) opted_out_by: Option<String>,
    pub(super) changed_at: i64,
}

impl EmailStatusRow {
    /// The row's [`columns!`], as read on a SQLite connection of our own.
    fn from_sqlite(row: &rusqlite::Row<'_>) -> rusqlite::Result<Self> {
        Ok(Self {
            email: row.get(0)?,
            status: row.get(1)?,
            reason: row.get(2)?,
            opted_out_by: row.get(3)?,
            changed_at: row.get(4)?,
        })
    }
}

impl TryFrom<EmailStatusRow> for EmailStatusRecord {
    type Error = StoreError;
    fn try_from(r: EmailStatusRow) -> Result<Self> {
        let by = r.opted_out_by.as_deref().map(OptOutBy::parse).transpose();
        Ok(EmailStatusRecord {
            email: r.email,
            status: EmailStatus::parse(&r.status).map_err(corrupt("email_statuses.status"))?,
            reason: r.reason,
            opted_out_by: by.map_err(corrupt("email_statuses.opted_out_by"))?,
            changed_at: r.changed_at,
        })
    }
}

const GET: &str = concat!(
    "SELECT ",
    columns!(),
    " FROM email_statuses WHERE account = $1 AND email = $2"
);

pub(super) async fn get(
    db: &SqlStore,
    account: &AccountName,
    email: &str,
) -> Result<Option<EmailStatusRecord>> {
    let email = normalize(email);
    let row = read_by_key!(
        db,
        GET,
        EmailStatusRow,
        EmailStatusRow::from_sqlite,
        account.as_str(),
        email.as_str()
    );
    row.map(EmailStatusRecord::try_from).transpose()
}

/// The record is stored under the address asked about (normalised), whatever `email` the change put in
/// it; the record returned says so too.
pub(super) async fn change(
    db: &SqlStore,
    account: &AccountName,
    email: &str,
    event_key: &str,
    change: EmailStatusChange<'_>,
) -> Result<ContactWrite<Option<EmailStatusRecord>>> {
    let email = normalize(email);
    dispatch_write!(db, |pool| {
        let mut tx = pool.begin_write().await?;
        // Changes of one account's addresses queue on its id counter (see contacts.rs for the lock
        // order), so each reads the record the one before it stored. No counter: no contacts.
        sqlx::query("UPDATE contact_ids SET last_id = last_id WHERE account = $1")
            .bind(account.as_str())
            .execute(&mut *tx)
            .await?;
        let holders = sqlx::query_scalar::<_, i64>(
            "SELECT id FROM contacts WHERE account = $1 \
             AND (email1_norm = $2 OR email2_norm = $2 OR email3_norm = $2) ORDER BY id",
        )
        .bind(account.as_str())
        .bind(&email)
        .fetch_all(&mut *tx)
        .await?;
        if holders.is_empty() {
            tx.rollback().await?;
            return Ok(ContactWrite::NotFound);
        }
        let current = sqlx::query_as::<_, EmailStatusRow>(GET)
            .bind(account.as_str())
            .bind(&email)
            .fetch_optional(&mut *tx)
            .await?
            .map(EmailStatusRecord::try_from)
            .transpose()?;
        let mut record = match change(current.as_ref()) {
            Ok(Some(record)) => record,
            Ok(None) => {
                tx.rollback().await?;
                return Ok(ContactWrite::Done(None));
            }
            Err(invalid) => {
                tx.rollback().await?;
                return Ok(ContactWrite::Invalid(invalid));
            }
        };
        record.email.clone_from(&email);
        sqlx::query(
            "INSERT INTO email_statuses (account, email, status, reason, opted_out_by, changed_at) \
             VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (account, email) DO UPDATE SET \
             status = excluded.status, reason = excluded.reason, opted_out_by = excluded.opted_out_by, \
             changed_at = excluded.changed_at",
        )
        .bind(account.as_str())
        .bind(&record.email)
        .bind(record.status.as_str())
        .bind(&record.reason)
        .bind(record.opted_out_by.map(OptOutBy::as_str))
        .bind(record.changed_at)
        .execute(&mut *tx)
        .await?;
        for id in holders {
            insert_contact_event!(tx, account.as_str(), event_key, id, record.changed_at)?;
        }
        tx.commit().await?;
        Ok(ContactWrite::Done(Some(record)))
    })
}
