//! Keygate's XML-RPC codec: request and response bodies to [`Value`]s and back.
//!
//! Pure: no HTTP, no async. The server reads the body (and caps its size), calls [`parse_call`],
//! runs the method and answers with [`response`] or [`fault`]. [`call`] and [`parse_response`] are
//! the client side, for tests and tools.
//!
//! What is accepted follows the XML-RPC specification as Python's `xmlrpc.client`, the PHP, Java and
//! Ruby Infusionsoft SDKs send it:
//!
//! * `<int>` and `<i4>` are 32-bit; `<i8>` (and Apache's `<ex:i8>`) is 64-bit. All land in
//!   [`Value::Int`].
//! * A `<value>` without a type element is a string, its text kept as sent (whitespace included).
//! * `<nil/>` and `<ex:nil/>` are [`Value::Nil`]; booleans are `0` or `1`; `<params>` may be absent.
//! * Whitespace between elements is ignored; comments are ignored; CDATA sections are text.
//! * The body is UTF-8 (a BOM is skipped); a declared `ISO-8859-1` is decoded too; anything else is
//!   refused.
//!
//! Hostile input gets a [`ParseError`], never a panic: DTDs are refused outright (so no entity
//! expansion, internal or external), only the five predefined entities and character references are
//! decoded, processing instructions other than the leading XML declaration are refused, characters
//! XML 1.0 forbids are refused, and [`Limits`] caps nesting, the number of values and string sizes.
//!
//! ```
//! use keygate_xmlrpc::{parse_call, response, Limits, Value};
//!
//! let body = b"<?xml version='1.0'?><methodCall><methodName>ContactService.load</methodName>\
//!     <params><param><value><string>key</string></value></param>\
//!     <param><value><int>5</int></value></param></params></methodCall>";
//! let call = parse_call(body, &Limits::default())?;
//! assert_eq!(call.method, "ContactService.load");
//! assert_eq!(call.params[1].as_int(), Some(5));
//!
//! let out = response(&Value::Struct(vec![("Id".into(), Value::Int(5))]));
//! assert!(out.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?><methodResponse><params>"));
//! # Ok::<(), keygate_xmlrpc::ParseError>(())
//! ```

mod datetime;
mod decode;
mod encode;
mod value;

pub use datetime::{format_datetime, parse_datetime};
pub use decode::{parse_call, parse_response};
pub use encode::{call, fault, response};
pub use value::Value;

use std::fmt;

/// Caps the parser enforces on top of the server's body-size limit.
///
/// Memory is already bounded by the body size (decoding never makes text longer), so these exist to
/// bound work and recursion, and to let the server refuse oversized strings early.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// How deeply `<value>`s may nest: a top-level parameter is depth 1, an element of an array in
    /// it depth 2, and so on. The parser recurses once per level, so values above
    /// [`Limits::DEPTH_CEILING`] are treated as that ceiling. Default 32.
    pub max_depth: usize,
    /// How many `<value>`s the whole document may hold, counting nested ones. Default 100 000.
    pub max_values: usize,
    /// The longest text, in UTF-8 bytes after decoding, of any one string, member name, method name,
    /// scalar or base64 payload (before decoding), and of any run of whitespace between elements.
    /// Default 1 MiB.
    pub max_string_bytes: usize,
}

impl Limits {
    /// The deepest nesting the parser will ever follow, whatever `max_depth` says.
    pub const DEPTH_CEILING: usize = 256;
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_depth: 32,
            max_values: 100_000,
            max_string_bytes: 1024 * 1024,
        }
    }
}

/// A decoded `<methodCall>`.
#[derive(Debug, Clone, PartialEq)]
pub struct MethodCall {
    /// The `<methodName>`, trimmed; only ASCII letters, digits, `_`, `.`, `:` and `/`.
    pub method: String,
    /// The `<param>` values, in order; empty when `<params>` is absent.
    pub params: Vec<Value>,
}

/// A decoded `<fault>`: the `faultCode` and `faultString` members.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fault {
    pub code: i32,
    pub message: String,
}

impl fmt::Display for Fault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "fault {}: {}", self.code, self.message)
    }
}

impl std::error::Error for Fault {}

/// Why a body is not an acceptable XML-RPC document. The message is meant for the caller, e.g.
/// `Failed to parse XML-RPC request: <message>`; it quotes at most a short, truncated piece of input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    message: String,
}

impl ParseError {
    pub(crate) fn new(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
        }
    }

    /// The message, as [`Display`](fmt::Display) shows it.
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for ParseError {}
