//! The store's vocabulary for contacts, their email statuses and the events every change writes.

use keygate_core::contact::{Contact, ContactOrder, EmailStatusRecord, FieldMatch};
use keygate_core::InvalidInput;

/// The contact fields a query may filter on: each is a column of its own, so filters run in SQL.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContactColumn {
    Id,
    GivenName,
    MiddleName,
    FamilyName,
    Company,
    JobTitle,
    Email1,
    Email2,
    Email3,
    Phone1,
    /// Of the BILLING address.
    Locality,
    Region,
    PostalCode,
    CountryCode,
    Source,
    CreatedAt,
    UpdatedAt,
}

/// What to list. Filters are ANDed; text filters compare case-insensitively.
#[derive(Debug, Clone)]
pub struct ContactQuery {
    pub filters: Vec<(ContactColumn, FieldMatch)>,
    /// Any of the three email slots equals this address (case-insensitively).
    pub email: Option<String>,
    /// `updated_at >= since`.
    pub updated_since: Option<i64>,
    /// `updated_at < until`.
    pub updated_until: Option<i64>,
    pub order: ContactOrder,
    pub limit: u32,
    pub offset: u64,
}

impl Default for ContactQuery {
    fn default() -> Self {
        Self {
            filters: Vec::new(),
            email: None,
            updated_since: None,
            updated_until: None,
            order: ContactOrder::default(),
            limit: 50,
            offset: 0,
        }
    }
}

/// A page of contacts and how many match in all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContactPage {
    pub contacts: Vec<Contact>,
    pub total: u64,
}

/// The outcome of a conditional write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ContactWrite<T> {
    Done(T),
    NotFound,
    /// `If-Match` named another version: nothing was written.
    Stale {
        current_version: i64,
    },
    /// The change was refused by the contact rules: nothing was written.
    Invalid(InvalidInput),
}

/// A change to apply to a stored contact inside the store's transaction: returns whether it changed
/// anything (and then bumps `version` and `updated_at` itself, as the core rules do).
pub type ContactChange<'a> = &'a (dyn Fn(&mut Contact) -> Result<bool, InvalidInput> + Send + Sync);

/// A change to an address's email status: given the current record, the new one, or `None` for no change.
pub type EmailStatusChange<'a> =
    &'a (dyn Fn(Option<&EmailStatusRecord>) -> Result<Option<EmailStatusRecord>, InvalidInput> + Send + Sync);

/// What happened to an object, written in the same transaction as the change (`contact.add`, …).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    pub id: i64,
    pub account: keygate_core::ids::AccountName,
    /// `noun.verb`: `contact.add`, `contact.edit`, `contact.delete`, `contact.opt_in`, `contact.opt_out`.
    pub event_key: String,
    pub object_type: String,
    pub object_id: i64,
    pub occurred_at: i64,
}

pub const CONTACT_ADD: &str = "contact.add";
pub const CONTACT_EDIT: &str = "contact.edit";
pub const CONTACT_DELETE: &str = "contact.delete";
pub const CONTACT_OPT_IN: &str = "contact.opt_in";
pub const CONTACT_OPT_OUT: &str = "contact.opt_out";
