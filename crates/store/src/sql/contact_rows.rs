//! How a contact lies in its row: the JSON `body` reads return, and the columns copied out of it for
//! queries to filter and order on. Shared by the modules that read and write contacts.

use keygate_core::contact::{Address, AddressField, Contact, EmailField, PhoneField};
use keygate_core::email::normalize;

use super::errors::corrupt;
use crate::{Result, StoreError};

/// What every read selects, named rather than `*` (see accounts.rs).
macro_rules! contact_columns {
    () => {
        "id, version, body"
    };
}
pub(super) use contact_columns;

#[derive(sqlx::FromRow)]
pub(super) struct ContactRow {
    id: i64,
    version: i64,
    body: String,
}

impl ContactRow {
    pub(super) fn version(&self) -> i64 {
        self.version
    }

    /// The row's [`contact_columns!`], from `first` on, as read on a SQLite connection of our own.
    pub(super) fn from_sqlite(row: &rusqlite::Row<'_>, first: usize) -> rusqlite::Result<Self> {
        Ok(Self {
            id: row.get(first)?,
            version: row.get(first + 1)?,
            body: row.get(first + 2)?,
        })
    }
}

impl TryFrom<ContactRow> for Contact {
    type Error = StoreError;
    fn try_from(r: ContactRow) -> Result<Self> {
        let c: Contact = serde_json::from_str(&r.body).map_err(corrupt("contacts.body"))?;
        // The body is the source of truth, but it must agree with the key and version it is stored under.
        if c.id != r.id || c.version != r.version {
            return Err(StoreError::Corrupt(format!(
                "contacts.body: id {} version {} stored as id {} version {}",
                c.id, c.version, r.id, r.version
            )));
        }
        Ok(c)
    }
}

/// The columns a write sets, `account` first, in the order [`bind_contact!`] binds them.
macro_rules! contact_write_columns {
    () => {
        "account, id, version, created_at, updated_at, given_name, middle_name, family_name, company, \
         job_title, email1, email2, email3, email1_norm, email2_norm, email3_norm, phone1, locality, region, \
         postal_code, country_code, source, sort_email, sort_family_name, sort_given_name, body"
    };
}
pub(super) use contact_write_columns;

/// Rewrites the row `($1, $2)` with [`contact_write_columns!`] as `$1`…`$26`, if its version is still
/// `$27`.
pub(super) const UPDATE_CONTACT: &str = "UPDATE contacts SET version = $3, created_at = $4, \
     updated_at = $5, given_name = $6, middle_name = $7, family_name = $8, company = $9, job_title = $10, \
     email1 = $11, email2 = $12, email3 = $13, email1_norm = $14, email2_norm = $15, email3_norm = $16, \
     phone1 = $17, locality = $18, region = $19, postal_code = $20, country_code = $21, source = $22, \
     sort_email = $23, sort_family_name = $24, sort_given_name = $25, body = $26 \
     WHERE account = $1 AND id = $2 AND version = $27";

/// Reads the row `($1, $2)` and locks it until the transaction ends: an update that changes nothing, so
/// a concurrent writer of the same contact waits here (PostgreSQL's row lock; SQLite's write lock is
/// already held) and then sees the row as the other committed it.
pub(super) const LOCK_CONTACT: &str = concat!(
    "UPDATE contacts SET version = version WHERE account = $1 AND id = $2 RETURNING ",
    contact_columns!()
);

/// The values of a contact's row, derived from the contact alone.
pub(super) struct ContactValues<'a> {
    pub(super) contact: &'a Contact,
    pub(super) emails: [Option<&'a str>; 3],
    pub(super) emails_norm: [Option<String>; 3],
    pub(super) phone1: Option<&'a str>,
    /// locality, region, postal_code, country_code of the billing address.
    pub(super) billing: [Option<&'a str>; 4],
    pub(super) sort_email: Option<String>,
    pub(super) sort_family_name: Option<String>,
    pub(super) sort_given_name: Option<String>,
    pub(super) body: String,
}

impl<'a> ContactValues<'a> {
    pub(super) fn of(c: &'a Contact) -> Result<Self> {
        let emails = [EmailField::Email1, EmailField::Email2, EmailField::Email3].map(|f| c.email(f));
        let billing = c.address(AddressField::Billing);
        let part = |p: fn(&Address) -> &Option<String>| billing.and_then(|a| p(a).as_deref());
        let fold = |v: &Option<String>| v.as_deref().map(str::to_lowercase);
        Ok(ContactValues {
            contact: c,
            emails,
            emails_norm: emails.map(|e| e.map(normalize)),
            phone1: c.phone(PhoneField::Phone1).map(|p| p.number.as_str()),
            billing: [
                part(|a| &a.locality),
                part(|a| &a.region),
                part(|a| &a.postal_code),
                part(|a| &a.country_code),
            ],
            sort_email: c.primary_email().map(normalize),
            sort_family_name: fold(&c.family_name),
            sort_given_name: fold(&c.given_name),
            // Cannot fail for a Contact (no maps, no non-finite floats); reported rather than unwrapped.
            body: serde_json::to_string(c).map_err(corrupt("contacts.body"))?,
        })
    }
}

/// Binds `$account` and the [`ContactValues`] `$v` to [`UPDATE_CONTACT`]: `$1`…`$26`. With `push_bind`
/// first, pushes them as one row of a `QueryBuilder`'s `push_values` (a new contact) instead.
macro_rules! bind_contact {
    ($query:expr, $account:expr, $v:expr) => {
        bind_contact!(bind, $query, $account, $v)
    };
    ($bind:ident, $query:expr, $account:expr, $v:expr) => {{
        let v = $v;
        let c = v.contact;
        $query
            .$bind($account)
            .$bind(c.id)
            .$bind(c.version)
            .$bind(c.created_at)
            .$bind(c.updated_at)
            .$bind(c.given_name.as_deref())
            .$bind(c.middle_name.as_deref())
            .$bind(c.family_name.as_deref())
            .$bind(c.company.as_deref())
            .$bind(c.job_title.as_deref())
            .$bind(v.emails[0])
            .$bind(v.emails[1])
            .$bind(v.emails[2])
            .$bind(v.emails_norm[0].as_deref())
            .$bind(v.emails_norm[1].as_deref())
            .$bind(v.emails_norm[2].as_deref())
            .$bind(v.phone1)
            .$bind(v.billing[0])
            .$bind(v.billing[1])
            .$bind(v.billing[2])
            .$bind(v.billing[3])
            .$bind(c.source.as_deref())
            .$bind(v.sort_email.as_deref())
            .$bind(v.sort_family_name.as_deref())
            .$bind(v.sort_given_name.as_deref())
            .$bind(v.body.as_str())
    }};
}
pub(super) use bind_contact;
