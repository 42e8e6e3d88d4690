//! CRM contacts, modelled on the Infusionsoft/Keap API: the record, what callers may send to create or
//! change one, the email opt-in state machine, the XML-RPC field names and the query rules.
//!
//! Pure rules only: the store scopes contacts by account and persists them; the REST and XML-RPC layers
//! translate wire values into these types. Keeping every rule here means both doors refuse the same input
//! with the same words.

/// A string-backed enum with one spelling on every wire and in the database. `$field` names the value
/// in the refusal when a caller sends something else.
macro_rules! wire_enum {
    ($(#[$doc:meta])* $name:ident, $field:literal {
        $($(#[$vdoc:meta])* $variant:ident = $text:literal),+ $(,)?
    }) => {
        $(#[$doc])*
        #[derive(
            Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord,
            serde::Serialize, serde::Deserialize,
        )]
        pub enum $name { $($(#[$vdoc])* #[serde(rename = $text)] $variant),+ }

        // By hand: the derive cannot read a `rename` that comes through a macro.
        #[cfg(feature = "openapi")]
        impl utoipa::PartialSchema for $name {
            fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
                crate::openapi::string_enum(&[$($text),+])
            }
        }
        #[cfg(feature = "openapi")]
        impl utoipa::ToSchema for $name {}

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }
            pub fn parse(v: &str) -> Result<Self, crate::InvalidInput> {
                match v {
                    $($text => Ok($name::$variant),)+
                    _ => Err(crate::InvalidInput::new($field, format!(
                        "must be one of: {}", [$($text),+].join(", ")))),
                }
            }
        }
        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

pub mod email_status;
mod field_patch;
pub mod input;
pub mod model;
pub mod patch;
pub mod query;
mod rules;
pub mod xmlrpc_fields;

pub use email_status::{EmailStatus, EmailStatusRecord, OptInOutcome, OptOutBy, OptOutOutcome};
pub use input::{ContactInput, DuplicateOption};
pub use model::{Address, AddressField, Contact, EmailAddress, EmailField, PhoneField, PhoneNumber};
pub use patch::{AddressPatch, ContactPatch, EmailPatch, Patch, PhonePatch};
pub use query::{ContactOrder, FieldMatch, OrderDirection, OrderField};
pub use rules::{
    MAX_ADDRESSES, MAX_EMAILS, MAX_NAME_CHARS, MAX_PHONES, MAX_PHONE_CHARS, MAX_TAGS, MAX_TEXT_CHARS,
};
pub use xmlrpc_fields::{FieldError, FieldValue, NoFieldFound};
