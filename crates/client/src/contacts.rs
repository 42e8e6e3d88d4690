//! The contacts API over REST: typed contacts in the wire shape (Keap's snake_case names), CRUD with
//! ETags, upsert, paging and incremental sync, and email opt-in status.
//!
//! ```no_run
//! # async fn example(client: keygate_client::Client) -> Result<(), keygate_client::Error> {
//! use keygate_client::contacts::{ContactPatch, ContactQuery, EmailField, NewContact};
//! use keygate_client::Error;
//!
//! let contacts = client.contacts();
//! let created = contacts
//!     .create(&NewContact::new().given_name("Ann").email(EmailField::Email1, "ann@acme.test"))
//!     .await?;
//! // Change it only if nobody else did since we read it.
//! let patch = ContactPatch::new().job_title("CTO").clear_middle_name();
//! match contacts.update(created.id, &patch, Some(&created.etag)).await {
//!     Ok(updated) => println!("now version {}", updated.etag),
//!     Err(Error::PreconditionFailed { .. }) => println!("changed meanwhile: read it again"),
//!     Err(e) => return Err(e),
//! }
//! // Every contact changed since the last sync, page by page.
//! let mut pages = contacts.pages(ContactQuery::new().since("2026-11-25T10:20:30Z").limit(200));
//! while let Some(page) = pages.next().await? {
//!     for c in &page.contacts {
//!         println!("{} {:?} {}", c.id, c.given_name, c.last_updated);
//!     }
//! }
//! # Ok(())
//! # }
//! ```

use std::fmt;
use std::ops::Deref;

use reqwest::header::{HeaderMap, ETAG, IF_MATCH};
use reqwest::Method;
use serde::{Deserialize, Serialize, Serializer};
use url::Url;

use crate::client::{Call, Client};
use crate::Error;

macro_rules! slot_enum {
    ($(#[$doc:meta])* $name:ident { $($(#[$vdoc:meta])* $variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        pub enum $name { $($(#[$vdoc])* #[serde(rename = $text)] $variant),+ }

        impl $name {
            /// The wire name.
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

slot_enum!(
    /// One of the three email slots; `EMAIL1` is the primary address.
    EmailField { Email1 = "EMAIL1", Email2 = "EMAIL2", Email3 = "EMAIL3" }
);
slot_enum!(
    /// One of the five phone slots.
    PhoneField { Phone1 = "PHONE1", Phone2 = "PHONE2", Phone3 = "PHONE3", Phone4 = "PHONE4", Phone5 = "PHONE5" }
);
slot_enum!(
    /// One of the three address slots.
    AddressField { Billing = "BILLING", Shipping = "SHIPPING", Other = "OTHER" }
);
slot_enum!(
    /// How an upsert recognises the contact it replaces.
    DuplicateOption {
        /// The primary email address is held by the contact (the default).
        Email = "Email",
        /// That, and the same given and family names.
        EmailAndName = "EmailAndName",
    }
);

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EmailAddress {
    pub email: String,
    pub field: EmailField,
}

impl EmailAddress {
    pub fn new(field: EmailField, email: impl Into<String>) -> Self {
        Self {
            email: email.into(),
            field,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PhoneNumber {
    /// Digits, spaces and `+-().`.
    pub number: String,
    #[serde(default)]
    pub extension: Option<String>,
    /// Free text such as `Mobile` or `Work` (`type` on the wire).
    #[serde(default, rename = "type")]
    pub kind: Option<String>,
    pub field: PhoneField,
}

impl PhoneNumber {
    pub fn new(field: PhoneField, number: impl Into<String>) -> Self {
        Self {
            number: number.into(),
            extension: None,
            kind: None,
            field,
        }
    }

    #[must_use]
    pub fn extension(mut self, extension: impl Into<String>) -> Self {
        self.extension = Some(extension.into());
        self
    }

    /// `Mobile`, `Work`, …
    #[must_use]
    pub fn kind(mut self, kind: impl Into<String>) -> Self {
        self.kind = Some(kind.into());
        self
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Address {
    #[serde(default)]
    pub line1: Option<String>,
    #[serde(default)]
    pub line2: Option<String>,
    #[serde(default)]
    pub locality: Option<String>,
    #[serde(default)]
    pub region: Option<String>,
    #[serde(default)]
    pub postal_code: Option<String>,
    /// ISO 3166-1 alpha-3, such as `USA`.
    #[serde(default)]
    pub country_code: Option<String>,
    pub field: AddressField,
}

impl Address {
    /// An empty address in `field`; set its parts with the fields or the chained setters.
    pub fn new(field: AddressField) -> Self {
        Self {
            line1: None,
            line2: None,
            locality: None,
            region: None,
            postal_code: None,
            country_code: None,
            field,
        }
    }
}

macro_rules! address_setters {
    ($($part:ident),+) => {
        impl Address {
            $(
                #[must_use]
                pub fn $part(mut self, value: impl Into<String>) -> Self {
                    self.$part = Some(value.into());
                    self
                }
            )+
        }
    };
}
address_setters!(line1, line2, locality, region, postal_code, country_code);

/// A contact as the server sends it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Contact {
    /// Increases per account; never reused.
    pub id: i64,
    pub given_name: Option<String>,
    pub middle_name: Option<String>,
    pub family_name: Option<String>,
    pub company_name: Option<String>,
    pub job_title: Option<String>,
    /// Sorted by slot.
    #[serde(default)]
    pub email_addresses: Vec<EmailAddress>,
    #[serde(default)]
    pub phone_numbers: Vec<PhoneNumber>,
    #[serde(default)]
    pub addresses: Vec<Address>,
    #[serde(default)]
    pub tag_ids: Vec<i64>,
    pub source_type: Option<String>,
    /// RFC 3339, UTC.
    pub date_created: String,
    /// RFC 3339, UTC; ask for `since` the largest one seen to sync incrementally.
    pub last_updated: String,
    /// The primary address's status in Keap's spelling (`SingleOptIn`, `Admin`, …); on single reads and
    /// writes only (`None` in lists, and for an address never opted in or out).
    #[serde(default)]
    pub email_status: Option<String>,
    /// Whether the primary address may receive marketing; on single reads and writes only.
    #[serde(default)]
    pub email_opted_in: Option<bool>,
}

impl Contact {
    /// The address in `field`, if any.
    pub fn email(&self, field: EmailField) -> Option<&str> {
        self.email_addresses
            .iter()
            .find(|e| e.field == field)
            .map(|e| e.email.as_str())
    }

    /// `EMAIL1`, or the first address when that slot is empty.
    pub fn primary_email(&self) -> Option<&str> {
        self.email(EmailField::Email1)
            .or_else(|| self.email_addresses.first().map(|e| e.email.as_str()))
    }
}

/// A contact to create (`POST`) or to create or replace (`PUT`, [`Contacts::upsert`]). Fields left out
/// are empty; on a replace they clear what was there.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct NewContact {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub given_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub middle_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub family_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub company_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub job_title: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub email_addresses: Vec<EmailAddress>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub phone_numbers: Vec<PhoneNumber>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub addresses: Vec<Address>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub tag_ids: Vec<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source_type: Option<String>,
}

macro_rules! text_setters {
    ($($(#[$doc:meta])* $field:ident),+) => {
        impl NewContact {
            $(
                $(#[$doc])*
                #[must_use]
                pub fn $field(mut self, value: impl Into<String>) -> Self {
                    self.$field = Some(value.into());
                    self
                }
            )+
        }
    };
}
text_setters!(
    given_name,
    middle_name,
    family_name,
    company_name,
    job_title,
    source_type
);

impl NewContact {
    pub fn new() -> Self {
        Self::default()
    }

    /// An address in `field` (replacing one given before for the same slot).
    #[must_use]
    pub fn email(mut self, field: EmailField, email: impl Into<String>) -> Self {
        self.email_addresses.retain(|e| e.field != field);
        self.email_addresses.push(EmailAddress::new(field, email));
        self
    }

    /// A phone (replacing one given before for the same slot).
    #[must_use]
    pub fn phone(mut self, phone: PhoneNumber) -> Self {
        self.phone_numbers.retain(|p| p.field != phone.field);
        self.phone_numbers.push(phone);
        self
    }

    /// An address (replacing one given before for the same slot).
    #[must_use]
    pub fn address(mut self, address: Address) -> Self {
        self.addresses.retain(|a| a.field != address.field);
        self.addresses.push(address);
        self
    }

    #[must_use]
    pub fn tag(mut self, tag_id: i64) -> Self {
        if !self.tag_ids.contains(&tag_id) {
            self.tag_ids.push(tag_id);
        }
        self
    }
}

/// A stored contact's values, to send back whole (an upsert that replaces it, say).
impl From<&Contact> for NewContact {
    fn from(c: &Contact) -> Self {
        Self {
            given_name: c.given_name.clone(),
            middle_name: c.middle_name.clone(),
            family_name: c.family_name.clone(),
            company_name: c.company_name.clone(),
            job_title: c.job_title.clone(),
            email_addresses: c.email_addresses.clone(),
            phone_numbers: c.phone_numbers.clone(),
            addresses: c.addresses.clone(),
            tag_ids: c.tag_ids.clone(),
            source_type: c.source_type.clone(),
        }
    }
}

/// One field of a patch: left alone (absent on the wire), cleared (`null`) or set.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Patch<T> {
    #[default]
    Keep,
    Clear,
    Set(T),
}

impl<T> Patch<T> {
    pub fn is_keep(&self) -> bool {
        matches!(self, Patch::Keep)
    }

    fn set_or_clear(value: Option<T>) -> Self {
        value.map_or(Patch::Clear, Patch::Set)
    }
}

impl<T: Serialize> Serialize for Patch<T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Patch::Set(v) => v.serialize(s),
            Patch::Keep | Patch::Clear => s.serialize_none(),
        }
    }
}

/// A change to one email slot: an address, or `None` to empty the slot.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct EmailPatch {
    pub field: EmailField,
    pub email: Option<String>,
}

/// A change to one phone slot, part by part; a slot left without a number is emptied.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct PhonePatch {
    pub field: PhoneField,
    #[serde(skip_serializing_if = "Patch::is_keep")]
    pub number: Patch<String>,
    #[serde(skip_serializing_if = "Patch::is_keep")]
    pub extension: Patch<String>,
    #[serde(rename = "type", skip_serializing_if = "Patch::is_keep")]
    pub kind: Patch<String>,
}

impl PhonePatch {
    /// Changes nothing yet in `field`; set the parts to change.
    pub fn new(field: PhoneField) -> Self {
        Self {
            field,
            number: Patch::Keep,
            extension: Patch::Keep,
            kind: Patch::Keep,
        }
    }
}

/// A change to one address slot, part by part; a slot left with no part is emptied.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct AddressPatch {
    pub field: AddressField,
    #[serde(skip_serializing_if = "Patch::is_keep")]
    pub line1: Patch<String>,
    #[serde(skip_serializing_if = "Patch::is_keep")]
    pub line2: Patch<String>,
    #[serde(skip_serializing_if = "Patch::is_keep")]
    pub locality: Patch<String>,
    #[serde(skip_serializing_if = "Patch::is_keep")]
    pub region: Patch<String>,
    #[serde(skip_serializing_if = "Patch::is_keep")]
    pub postal_code: Patch<String>,
    #[serde(skip_serializing_if = "Patch::is_keep")]
    pub country_code: Patch<String>,
}

impl AddressPatch {
    /// Changes nothing yet in `field`; set the parts to change.
    pub fn new(field: AddressField) -> Self {
        Self {
            field,
            line1: Patch::Keep,
            line2: Patch::Keep,
            locality: Patch::Keep,
            region: Patch::Keep,
            postal_code: Patch::Keep,
            country_code: Patch::Keep,
        }
    }
}

/// A partial update (`PATCH`): fields left alone are kept, cleared fields become empty, and the email,
/// phone and address lists change only the slots named.
///
/// ```
/// use keygate_client::contacts::{ContactPatch, EmailField};
///
/// let patch = ContactPatch::new()
///     .job_title("CEO")
///     .clear_middle_name()
///     .email(EmailField::Email2, "ann@home.test")
///     .remove_email(EmailField::Email3);
/// assert_eq!(
///     serde_json::to_value(&patch).unwrap(),
///     serde_json::json!({
///         "middle_name": null,
///         "job_title": "CEO",
///         "email_addresses": [
///             {"field": "EMAIL2", "email": "ann@home.test"},
///             {"field": "EMAIL3", "email": null}
///         ]
///     })
/// );
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct ContactPatch {
    #[serde(skip_serializing_if = "Patch::is_keep")]
    pub given_name: Patch<String>,
    #[serde(skip_serializing_if = "Patch::is_keep")]
    pub middle_name: Patch<String>,
    #[serde(skip_serializing_if = "Patch::is_keep")]
    pub family_name: Patch<String>,
    #[serde(skip_serializing_if = "Patch::is_keep")]
    pub company_name: Patch<String>,
    #[serde(skip_serializing_if = "Patch::is_keep")]
    pub job_title: Patch<String>,
    #[serde(skip_serializing_if = "Patch::is_keep")]
    pub email_addresses: Patch<Vec<EmailPatch>>,
    #[serde(skip_serializing_if = "Patch::is_keep")]
    pub phone_numbers: Patch<Vec<PhonePatch>>,
    #[serde(skip_serializing_if = "Patch::is_keep")]
    pub addresses: Patch<Vec<AddressPatch>>,
    /// Replaced whole.
    #[serde(skip_serializing_if = "Patch::is_keep")]
    pub tag_ids: Patch<Vec<i64>>,
    #[serde(skip_serializing_if = "Patch::is_keep")]
    pub source_type: Patch<String>,
}

macro_rules! patch_text {
    ($($field:ident, $clear:ident);+ $(;)?) => {
        impl ContactPatch {
            $(
                #[must_use]
                pub fn $field(mut self, value: impl Into<String>) -> Self {
                    self.$field = Patch::Set(value.into());
                    self
                }
                #[must_use]
                pub fn $clear(mut self) -> Self {
                    self.$field = Patch::Clear;
                    self
                }
            )+
        }
    };
}
patch_text!(
    given_name, clear_given_name;
    middle_name, clear_middle_name;
    family_name, clear_family_name;
    company_name, clear_company_name;
    job_title, clear_job_title;
    source_type, clear_source_type;
);

/// Adds an entry to a list patch, replacing one for the same slot (and undoing a clear of the list).
fn push_slot<T>(list: &mut Patch<Vec<T>>, entry: T, same: impl Fn(&T) -> bool) {
    match list {
        Patch::Set(entries) => {
            entries.retain(|e| !same(e));
            entries.push(entry);
        }
        _ => *list = Patch::Set(vec![entry]),
    }
}

impl ContactPatch {
    pub fn new() -> Self {
        Self::default()
    }

    /// Whether the patch changes nothing.
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }

    /// Puts `email` in `field`.
    #[must_use]
    pub fn email(mut self, field: EmailField, email: impl Into<String>) -> Self {
        let entry = EmailPatch {
            field,
            email: Some(email.into()),
        };
        push_slot(&mut self.email_addresses, entry, |e| e.field == field);
        self
    }

    /// Empties the email slot `field`.
    #[must_use]
    pub fn remove_email(mut self, field: EmailField) -> Self {
        let entry = EmailPatch { field, email: None };
        push_slot(&mut self.email_addresses, entry, |e| e.field == field);
        self
    }

    /// Removes every email address.
    #[must_use]
    pub fn clear_emails(mut self) -> Self {
        self.email_addresses = Patch::Clear;
        self
    }

    /// Makes the phone's slot exactly `phone` (parts it leaves out are cleared).
    #[must_use]
    pub fn phone(self, phone: PhoneNumber) -> Self {
        let patch = PhonePatch {
            field: phone.field,
            number: Patch::Set(phone.number),
            extension: Patch::set_or_clear(phone.extension),
            kind: Patch::set_or_clear(phone.kind),
        };
        self.phone_patch(patch)
    }

    /// Changes a phone slot part by part.
    #[must_use]
    pub fn phone_patch(mut self, patch: PhonePatch) -> Self {
        let field = patch.field;
        push_slot(&mut self.phone_numbers, patch, |p| p.field == field);
        self
    }

    /// Empties the phone slot `field`.
    #[must_use]
    pub fn remove_phone(self, field: PhoneField) -> Self {
        let mut patch = PhonePatch::new(field);
        patch.number = Patch::Clear;
        self.phone_patch(patch)
    }

    /// Removes every phone number.
    #[must_use]
    pub fn clear_phones(mut self) -> Self {
        self.phone_numbers = Patch::Clear;
        self
    }

    /// Makes the address's slot exactly `address` (parts it leaves out are cleared).
    #[must_use]
    pub fn address(self, address: Address) -> Self {
        let patch = AddressPatch {
            field: address.field,
            line1: Patch::set_or_clear(address.line1),
            line2: Patch::set_or_clear(address.line2),
            locality: Patch::set_or_clear(address.locality),
            region: Patch::set_or_clear(address.region),
            postal_code: Patch::set_or_clear(address.postal_code),
            country_code: Patch::set_or_clear(address.country_code),
        };
        self.address_patch(patch)
    }

    /// Changes an address slot part by part.
    #[must_use]
    pub fn address_patch(mut self, patch: AddressPatch) -> Self {
        let field = patch.field;
        push_slot(&mut self.addresses, patch, |a| a.field == field);
        self
    }

    /// Empties the address slot `field`.
    #[must_use]
    pub fn remove_address(self, field: AddressField) -> Self {
        self.address(Address::new(field))
    }

    /// Removes every address.
    #[must_use]
    pub fn clear_addresses(mut self) -> Self {
        self.addresses = Patch::Clear;
        self
    }

    /// Replaces the tags.
    #[must_use]
    pub fn tag_ids(mut self, tag_ids: Vec<i64>) -> Self {
        self.tag_ids = Patch::Set(tag_ids);
        self
    }

    /// Removes every tag.
    #[must_use]
    pub fn clear_tags(mut self) -> Self {
        self.tag_ids = Patch::Clear;
        self
    }
}

/// How a list is sorted (ties are broken by id, so pages never overlap).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Order {
    Id,
    DateCreated,
    LastUpdated,
    Email,
    Name,
}

impl Order {
    fn as_str(self) -> &'static str {
        match self {
            Order::Id => "id",
            Order::DateCreated => "date_created",
            Order::LastUpdated => "last_updated",
            Order::Email => "email",
            Order::Name => "name",
        }
    }
}

/// Filters, order and paging of [`Contacts::list`].
///
/// ```
/// use keygate_client::contacts::{ContactQuery, Order};
///
/// let q = ContactQuery::new()
///     .given_name("an%")
///     .since(1_795_564_800)
///     .order(Order::LastUpdated)
///     .descending()
///     .limit(100);
/// assert_eq!(
///     q.to_query_string(),
///     "limit=100&given_name=an%25&since=1795564800&order=last_updated&order_direction=DESCENDING"
/// );
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ContactQuery {
    limit: Option<u32>,
    offset: Option<u64>,
    email: Option<String>,
    given_name: Option<String>,
    family_name: Option<String>,
    since: Option<String>,
    until: Option<String>,
    order: Option<Order>,
    descending: Option<bool>,
}

impl ContactQuery {
    /// Every contact, 50 to a page, by id.
    pub fn new() -> Self {
        Self::default()
    }

    /// Page size, 1 to 1000 (default 50).
    #[must_use]
    pub fn limit(mut self, limit: u32) -> Self {
        self.limit = Some(limit);
        self
    }

    /// How many matching contacts to skip.
    #[must_use]
    pub fn offset(mut self, offset: u64) -> Self {
        self.offset = Some(offset);
        self
    }

    /// Contacts holding this address in any slot (case-insensitive).
    #[must_use]
    pub fn email(mut self, email: impl Into<String>) -> Self {
        self.email = Some(email.into());
        self
    }

    /// Case-insensitive; `%` is a wildcard.
    #[must_use]
    pub fn given_name(mut self, name: impl Into<String>) -> Self {
        self.given_name = Some(name.into());
        self
    }

    /// Case-insensitive; `%` is a wildcard.
    #[must_use]
    pub fn family_name(mut self, name: impl Into<String>) -> Self {
        self.family_name = Some(name.into());
        self
    }

    /// Updated at or after: an RFC 3339 time (`"2026-11-25T10:20:30Z"`, such as a contact's
    /// `last_updated`) or Unix seconds.
    #[must_use]
    pub fn since(mut self, time: impl fmt::Display) -> Self {
        self.since = Some(time.to_string());
        self
    }

    /// Updated before (exclusive): RFC 3339 or Unix seconds.
    #[must_use]
    pub fn until(mut self, time: impl fmt::Display) -> Self {
        self.until = Some(time.to_string());
        self
    }

    #[must_use]
    pub fn order(mut self, order: Order) -> Self {
        self.order = Some(order);
        self
    }

    #[must_use]
    pub fn ascending(mut self) -> Self {
        self.descending = Some(false);
        self
    }

    #[must_use]
    pub fn descending(mut self) -> Self {
        self.descending = Some(true);
        self
    }

    fn pairs(&self) -> Vec<(&'static str, String)> {
        let mut out = Vec::new();
        let mut put = |name, value: Option<String>| {
            if let Some(v) = value {
                out.push((name, v));
            }
        };
        put("limit", self.limit.map(|l| l.to_string()));
        put("offset", self.offset.map(|o| o.to_string()));
        put("email", self.email.clone());
        put("given_name", self.given_name.clone());
        put("family_name", self.family_name.clone());
        put("since", self.since.clone());
        put("until", self.until.clone());
        put("order", self.order.map(|o| o.as_str().to_owned()));
        put(
            "order_direction",
            self.descending
                .map(|d| if d { "DESCENDING" } else { "ASCENDING" }.to_owned()),
        );
        out
    }

    /// The query string as sent.
    pub fn to_query_string(&self) -> String {
        url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(self.pairs())
            .finish()
    }
}

/// A page of [`Contacts::list`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ContactPage {
    /// Without `email_status`/`email_opted_in` (single reads have them).
    pub contacts: Vec<Contact>,
    /// How many contacts match, over all pages.
    pub count: u64,
    /// The next page as an absolute URL; `None` on the last.
    pub next: Option<String>,
    /// The previous page; `None` on the first.
    pub previous: Option<String>,
}

impl ContactPage {
    /// The offset of the next page, `None` on the last.
    pub fn next_offset(&self) -> Option<u64> {
        let next = self.next.as_deref()?;
        let from_link = Url::parse(next).ok().and_then(|u| {
            u.query_pairs()
                .find(|(k, _)| k == "offset")
                .and_then(|(_, v)| v.parse().ok())
        });
        Some(from_link.unwrap_or(self.contacts.len() as u64))
    }
}

/// A resource with its ETag (for `If-Match`); derefs to the resource.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Tagged<T> {
    pub value: T,
    /// As sent, quotes included (`"3"`): pass it back unchanged.
    pub etag: String,
}

impl<T> Tagged<T> {
    pub fn into_inner(self) -> T {
        self.value
    }
}

impl<T> Deref for Tagged<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.value
    }
}

/// What [`Contacts::upsert`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Upserted {
    pub contact: Tagged<Contact>,
    /// `true`: no contact matched and this one is new; `false`: the match was replaced.
    pub created: bool,
}

/// An address's opt-in status.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct EmailStatus {
    /// Normalised: trimmed and lowercase.
    pub email: String,
    /// Keygate's name (`unconfirmed`, `confirmed`, `opted_out`, …); `None`: never opted in or out.
    pub status: Option<String>,
    /// Keap's name (`SingleOptIn`, `DoubleOptin`, `Admin`, …).
    pub email_status: Option<String>,
    /// Whether it may receive marketing.
    pub marketable: bool,
    /// Why, as recorded with the last change.
    pub reason: Option<String>,
    /// `contact`, `admin`, `system` or `list_unsubscribe` while opted out.
    pub opted_out_by: Option<String>,
    /// RFC 3339.
    pub changed_at: Option<String>,
}

/// The status after an opt-in or opt-out.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct OptResult {
    #[serde(flatten)]
    pub status: EmailStatus,
    /// `false` when it already was so (opting in a marketable address changes nothing).
    pub changed: bool,
}

/// One of a contact's addresses with its status.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct SlotStatus {
    #[serde(flatten)]
    pub status: EmailStatus,
    pub field: EmailField,
}

/// The statuses of a contact's addresses.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ContactEmailStatuses {
    pub contact_id: i64,
    pub email_addresses: Vec<SlotStatus>,
}

#[derive(Serialize)]
struct OptRequest<'a> {
    email: &'a str,
    reason: &'a str,
}

#[derive(Serialize)]
struct UpsertBody<'a> {
    #[serde(flatten)]
    contact: &'a NewContact,
    duplicate_option: DuplicateOption,
}

fn etag(headers: &HeaderMap) -> Result<String, Error> {
    headers
        .get(ETAG)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
        .ok_or_else(|| Error::Decode("the response has no ETag".into()))
}

/// The contacts API; from [`Client::contacts`]. Needs `contacts.read` to read and `contacts.write` to
/// change anything.
#[derive(Debug, Clone, Copy)]
pub struct Contacts<'a> {
    client: &'a Client,
}

impl<'a> Contacts<'a> {
    pub(crate) fn new(client: &'a Client) -> Self {
        Self { client }
    }

    fn url(&self, rest: &[&str]) -> Url {
        let mut segments = vec!["v1"];
        segments.extend_from_slice(rest);
        self.client.url(&segments)
    }

    async fn tagged(&self, call: Call) -> Result<(Tagged<Contact>, u16), Error> {
        let (value, headers, status) = self.client.json_with_headers::<Contact>(call).await?;
        let etag = etag(&headers)?;
        Ok((Tagged { value, etag }, status))
    }

    /// One page of contacts (`GET /v1/contacts`).
    pub async fn list(&self, query: &ContactQuery) -> Result<ContactPage, Error> {
        let mut url = self.url(&["contacts"]);
        let pairs = query.pairs();
        if !pairs.is_empty() {
            url.query_pairs_mut().extend_pairs(pairs);
        }
        self.client.json(Call::new(Method::GET, url)).await
    }

    /// Every page of `query`, from its offset on; see [`ContactPages::next`].
    pub fn pages(&self, query: ContactQuery) -> ContactPages<'a> {
        ContactPages {
            contacts: *self,
            query,
            done: false,
        }
    }

    /// Every contact matching `query` (all pages), collected.
    pub async fn list_all(&self, query: ContactQuery) -> Result<Vec<Contact>, Error> {
        let mut out = Vec::new();
        let mut pages = self.pages(query);
        while let Some(page) = pages.next().await? {
            out.extend(page.contacts);
        }
        Ok(out)
    }

    /// Reads a contact with its ETag and its primary address's status.
    pub async fn get(&self, id: i64) -> Result<Tagged<Contact>, Error> {
        let call = Call::new(Method::GET, self.url(&["contacts", &id.to_string()]));
        Ok(self.tagged(call).await?.0)
    }

    /// Creates a contact (`POST /v1/contacts`).
    pub async fn create(&self, contact: &NewContact) -> Result<Tagged<Contact>, Error> {
        let call = Call::new(Method::POST, self.url(&["contacts"])).json(contact)?;
        Ok(self.tagged(call).await?.0)
    }

    /// Creates a contact, or replaces the one `duplicate_option` recognises (`PUT /v1/contacts`).
    pub async fn upsert(
        &self,
        contact: &NewContact,
        duplicate_option: DuplicateOption,
    ) -> Result<Upserted, Error> {
        let body = UpsertBody {
            contact,
            duplicate_option,
        };
        let call = Call::new(Method::PUT, self.url(&["contacts"])).json(&body)?;
        let (contact, status) = self.tagged(call).await?;
        Ok(Upserted {
            contact,
            created: status == 201,
        })
    }

    /// Changes some fields (`PATCH`). With `if_match` (an ETag from a read), only if the contact is still
    /// that version: otherwise [`Error::PreconditionFailed`] and nothing is written.
    pub async fn update(
        &self,
        id: i64,
        patch: &ContactPatch,
        if_match: Option<&str>,
    ) -> Result<Tagged<Contact>, Error> {
        let mut call = Call::new(Method::PATCH, self.url(&["contacts", &id.to_string()])).json(patch)?;
        if let Some(tag) = if_match {
            call = call.header(IF_MATCH, tag)?;
        }
        Ok(self.tagged(call).await?.0)
    }

    /// Deletes a contact; with `if_match`, only if it is still that version.
    pub async fn delete(&self, id: i64, if_match: Option<&str>) -> Result<(), Error> {
        let mut call = Call::new(Method::DELETE, self.url(&["contacts", &id.to_string()]));
        if let Some(tag) = if_match {
            call = call.header(IF_MATCH, tag)?;
        }
        self.client.send(call).await.map(drop)
    }

    /// The status of each of a contact's addresses.
    pub async fn email_statuses(&self, id: i64) -> Result<ContactEmailStatuses, Error> {
        let url = self.url(&["contacts", &id.to_string(), "email-status"]);
        self.client.json(Call::new(Method::GET, url)).await
    }

    /// Records consent for an address a contact of the account holds. Refused with [`Error::Conflict`]
    /// (`opt_in_refused`) for an opted-out or bounced address. A blank reason becomes `API Opt In`.
    pub async fn opt_in(&self, email: &str, reason: &str) -> Result<OptResult, Error> {
        let call =
            Call::new(Method::POST, self.url(&["emails", "opt-in"])).json(&OptRequest { email, reason })?;
        self.client.json(call).await
    }

    /// Opts an address out, for every contact holding it (recorded as `admin`; not reversible through
    /// the API).
    pub async fn opt_out(&self, email: &str, reason: &str) -> Result<OptResult, Error> {
        let call =
            Call::new(Method::POST, self.url(&["emails", "opt-out"])).json(&OptRequest { email, reason })?;
        self.client.json(call).await
    }

    /// One address's status.
    pub async fn email_status(&self, email: &str) -> Result<EmailStatus, Error> {
        let url = self.url(&["emails", email, "status"]);
        self.client.json(Call::new(Method::GET, url)).await
    }
}

/// Pages of a contact list, fetched one at a time; from [`Contacts::pages`].
#[derive(Debug)]
pub struct ContactPages<'a> {
    contacts: Contacts<'a>,
    query: ContactQuery,
    done: bool,
}

impl ContactPages<'_> {
    /// The next page, or `None` after the last.
    pub async fn next(&mut self) -> Result<Option<ContactPage>, Error> {
        if self.done {
            return Ok(None);
        }
        let page = self.contacts.list(&self.query).await?;
        match page.next_offset() {
            Some(offset) if !page.contacts.is_empty() => self.query.offset = Some(offset),
            _ => self.done = true,
        }
        Ok(Some(page))
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn new_contacts_serialize_to_the_wire_shape() {
        let c = NewContact::new()
            .given_name("Ann")
            .company_name("Acme")
            .email(EmailField::Email1, "old@acme.test")
            .email(EmailField::Email1, "ann@acme.test")
            .phone(PhoneNumber::new(PhoneField::Phone1, "+1 555-0100").kind("Work"))
            .address(Address::new(AddressField::Billing).locality("Boston"))
            .tag(3)
            .tag(3);
        assert_eq!(
            serde_json::to_value(&c).unwrap(),
            json!({
                "given_name": "Ann", "company_name": "Acme",
                "email_addresses": [{"email": "ann@acme.test", "field": "EMAIL1"}],
                "phone_numbers": [{"number": "+1 555-0100", "extension": null, "type": "Work", "field": "PHONE1"}],
                "addresses": [{"line1": null, "line2": null, "locality": "Boston", "region": null,
                               "postal_code": null, "country_code": null, "field": "BILLING"}],
                "tag_ids": [3]
            })
        );
        let upsert = UpsertBody {
            contact: &NewContact::new().given_name("Ann"),
            duplicate_option: DuplicateOption::EmailAndName,
        };
        assert_eq!(
            serde_json::to_value(&upsert).unwrap(),
            json!({"given_name": "Ann", "duplicate_option": "EmailAndName"})
        );
    }

    #[test]
    fn patches_keep_clear_and_set() {
        assert!(ContactPatch::new().is_empty());
        assert_eq!(serde_json::to_value(ContactPatch::new()).unwrap(), json!({}));
        let p = ContactPatch::new()
            .clear_emails()
            .email(EmailField::Email2, "a@b.co")
            .phone(PhoneNumber::new(PhoneField::Phone2, "123"))
            .remove_phone(PhoneField::Phone3)
            .remove_address(AddressField::Other)
            .clear_tags()
            .given_name("x")
            .clear_given_name();
        assert_eq!(
            serde_json::to_value(&p).unwrap(),
            json!({
                "given_name": null,
                "email_addresses": [{"field": "EMAIL2", "email": "a@b.co"}],
                "phone_numbers": [
                    {"field": "PHONE2", "number": "123", "extension": null, "type": null},
                    {"field": "PHONE3", "number": null}
                ],
                "addresses": [{"field": "OTHER", "line1": null, "line2": null, "locality": null, "region": null,
                               "postal_code": null, "country_code": null}],
                "tag_ids": null
            })
        );
    }

    #[test]
    fn contacts_parse_from_the_wire() {
        let c: Contact = serde_json::from_value(json!({
            "id": 7, "given_name": "Ann", "middle_name": null, "family_name": "Lee",
            "company_name": "Acme", "job_title": "CTO",
            "email_addresses": [{"email": "ann@acme.test", "field": "EMAIL1"}],
            "phone_numbers": [{"number": "+1 555-0100", "extension": "12", "type": "Work", "field": "PHONE1"}],
            "addresses": [{"line1": "1 Main St", "line2": null, "locality": "Boston", "region": "MA",
                           "postal_code": "02110", "country_code": "USA", "field": "BILLING"}],
            "tag_ids": [3, 9], "source_type": "API",
            "date_created": "2026-11-25T10:20:30Z", "last_updated": "2026-11-25T10:20:30Z",
            "email_status": "SingleOptIn", "email_opted_in": true,
            "some_future_field": 1
        }))
        .unwrap();
        assert_eq!(c.primary_email(), Some("ann@acme.test"));
        assert_eq!(c.phone_numbers[0].kind.as_deref(), Some("Work"));
        assert_eq!(c.email_opted_in, Some(true));
        let back: NewContact = (&c).into();
        assert_eq!(back.company_name.as_deref(), Some("Acme"));
    }

    #[test]
    fn the_next_offset_comes_from_the_link() {
        let page = |next: Option<&str>| ContactPage {
            contacts: Vec::new(),
            count: 10,
            next: next.map(str::to_owned),
            previous: None,
        };
        assert_eq!(
            page(Some(
                "https://kg.example/v1/contacts?limit=2&given_name=Ann&offset=6"
            ))
            .next_offset(),
            Some(6)
        );
        assert_eq!(page(None).next_offset(), None);
        assert_eq!(ContactQuery::new().to_query_string(), "");
    }
}
