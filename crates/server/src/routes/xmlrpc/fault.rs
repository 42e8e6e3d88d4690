//! XML-RPC faults in Infusionsoft's style: a `faultString` that starts with a bracketed category
//! (`[RecordNotFound]…`), which existing clients match on, and a stable `faultCode` per category
//! (Keygate's own numbering, listed in docs/xmlrpc.md; Infusionsoft's were never documented).

use keygate_core::contact::{FieldError, NoFieldFound};
use keygate_core::InvalidInput;
use keygate_lib::contacts::ContactError;

use crate::error::Problem;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fault {
    pub code: i32,
    pub message: String,
}

/// The categories, with their codes.
pub const PARSE: i32 = 0;
pub const INVALID_KEY: i32 = 2;
pub const NO_FIELD_FOUND: i32 = 3;
pub const INVALID_PARAMETER: i32 = 4;
pub const RECORD_NOT_FOUND: i32 = 5;
pub const NOT_AUTHORIZED: i32 = 6;
pub const THROTTLED: i32 = 7;
pub const DATABASE_ERROR: i32 = 8;
/// The XML-RPC interoperability code for an unknown method.
pub const NO_SUCH_METHOD: i32 = -32601;

impl Fault {
    fn new(code: i32, category: &str, message: impl std::fmt::Display) -> Self {
        Self {
            code,
            message: format!("[{category}]{message}"),
        }
    }
    pub fn parse(message: impl std::fmt::Display) -> Self {
        Self {
            code: PARSE,
            message: format!("Failed to parse XML-RPC request: {message}"),
        }
    }
    pub fn no_such_method(method: &str) -> Self {
        Self {
            code: NO_SUCH_METHOD,
            message: format!("No such handler: {method}"),
        }
    }
    pub fn invalid_key(message: impl std::fmt::Display) -> Self {
        Self::new(INVALID_KEY, "InvalidKey", message)
    }
    pub fn invalid_parameter(message: impl std::fmt::Display) -> Self {
        Self::new(INVALID_PARAMETER, "InvalidParameter", message)
    }
    pub fn not_found(message: impl std::fmt::Display) -> Self {
        Self::new(RECORD_NOT_FOUND, "RecordNotFound", message)
    }
    pub fn internal(e: impl std::fmt::Display) -> Self {
        tracing::error!(error = %e, "XML-RPC call failed");
        Self::new(
            DATABASE_ERROR,
            "DatabaseError",
            "The server could not complete the call",
        )
    }
}

impl From<NoFieldFound> for Fault {
    fn from(e: NoFieldFound) -> Self {
        Self::new(NO_FIELD_FOUND, "NoFieldFound", e)
    }
}

impl From<FieldError> for Fault {
    fn from(e: FieldError) -> Self {
        match e {
            FieldError::NoFieldFound(n) => n.into(),
            e => Self::invalid_parameter(e),
        }
    }
}

impl From<InvalidInput> for Fault {
    fn from(e: InvalidInput) -> Self {
        Self::invalid_parameter(e)
    }
}

impl From<ContactError> for Fault {
    fn from(e: ContactError) -> Self {
        match e {
            ContactError::MissingScope(_) => Self::new(NOT_AUTHORIZED, "NotAuthorized", &e),
            ContactError::NotFound(id) => Self::not_found(format!(
                "Unable to perform the call. Record not found for Id:{id}"
            )),
            ContactError::UnknownEmail(_) => Self::not_found(&e),
            ContactError::Stale { .. } => Self::new(INVALID_PARAMETER, "RecordChanged", &e),
            ContactError::Invalid(i) => i.into(),
            ContactError::OptInRefused { .. } => Self::invalid_parameter(&e),
            ContactError::Store(e) => Self::internal(e),
        }
    }
}

/// An authentication or rate-limit refusal, which the REST side words as a problem.
impl From<Problem> for Fault {
    fn from(p: Problem) -> Self {
        match p.status.as_u16() {
            429 => Self::new(THROTTLED, "Throttled", p.detail),
            403 => Self::new(NOT_AUTHORIZED, "NotAuthorized", p.detail),
            500..=599 => Self::new(DATABASE_ERROR, "DatabaseError", p.detail),
            _ => Self::invalid_key(p.detail),
        }
    }
}
