//! The XML-RPC data model.

use crate::datetime::{format_datetime, parse_datetime};

/// One XML-RPC value.
///
/// Integers are one variant whatever their tag: `<int>`/`<i4>` (32-bit) and `<i8>` (64-bit) all
/// decode to [`Value::Int`]. On output an `Int` that fits in 32 bits is written `<int>`, which every
/// client reads; a larger one is written `<i8>`, the common extension (Python and Apache's
/// extensions read it; strict `i4`-only clients do not, so keep values sent to them within `i32`).
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Int(i64),
    Boolean(bool),
    String(String),
    Double(f64),
    /// The `dateTime.iso8601` text as sent (trimmed), e.g. `20261125T10:20:30`. XML-RPC carries no
    /// time zone; see [`Value::unix_time`] and [`Value::datetime`].
    DateTime(String),
    Base64(Vec<u8>),
    /// Members in document order. The parser refuses duplicate names.
    Struct(Vec<(String, Value)>),
    Array(Vec<Value>),
    Nil,
}

impl Value {
    /// The XML-RPC name of this value's type: `int`, `boolean`, `string`, `double`, `dateTime`,
    /// `base64`, `struct`, `array` or `nil`.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Int(_) => "int",
            Value::Boolean(_) => "boolean",
            Value::String(_) => "string",
            Value::Double(_) => "double",
            Value::DateTime(_) => "dateTime",
            Value::Base64(_) => "base64",
            Value::Struct(_) => "struct",
            Value::Array(_) => "array",
            Value::Nil => "nil",
        }
    }

    /// The type name as a phrase: `an int`, `a string`, …, `nil`.
    pub fn type_phrase(&self) -> &'static str {
        match self {
            Value::Int(_) => "an int",
            Value::Boolean(_) => "a boolean",
            Value::String(_) => "a string",
            Value::Double(_) => "a double",
            Value::DateTime(_) => "a dateTime",
            Value::Base64(_) => "a base64",
            Value::Struct(_) => "a struct",
            Value::Array(_) => "an array",
            Value::Nil => "nil",
        }
    }

    /// A fault message for a parameter of the wrong type: `expected an int, got a string`.
    pub fn expected(&self, what: &str) -> String {
        format!("expected {what}, got {}", self.type_phrase())
    }

    /// A `dateTime.iso8601` value for a Unix time, written as Infusionsoft does
    /// (`20261125T10:20:30`, UTC); see [`format_datetime`].
    pub fn datetime(unix_seconds: i64) -> Value {
        Value::DateTime(format_datetime(unix_seconds))
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_i64(&self) -> Option<i64> {
        match self {
            Value::Int(n) => Some(*n),
            _ => None,
        }
    }

    /// The integer, if it is one and fits in 32 bits.
    pub fn as_int(&self) -> Option<i32> {
        self.as_i64().and_then(|n| i32::try_from(n).ok())
    }

    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Value::Boolean(b) => Some(*b),
            _ => None,
        }
    }

    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Value::Double(d) => Some(*d),
            _ => None,
        }
    }

    /// The raw `dateTime.iso8601` text.
    pub fn as_datetime(&self) -> Option<&str> {
        match self {
            Value::DateTime(s) => Some(s),
            _ => None,
        }
    }

    /// A `dateTime.iso8601` value as Unix seconds, read by [`parse_datetime`] (no zone means UTC).
    /// `None` for other types and for text it cannot read.
    pub fn unix_time(&self) -> Option<i64> {
        self.as_datetime().and_then(parse_datetime)
    }

    pub fn as_bytes(&self) -> Option<&[u8]> {
        match self {
            Value::Base64(b) => Some(b),
            _ => None,
        }
    }

    pub fn as_struct(&self) -> Option<&[(String, Value)]> {
        match self {
            Value::Struct(members) => Some(members),
            _ => None,
        }
    }

    pub fn as_array(&self) -> Option<&[Value]> {
        match self {
            Value::Array(items) => Some(items),
            _ => None,
        }
    }

    pub fn is_nil(&self) -> bool {
        matches!(self, Value::Nil)
    }

    /// A struct member by name (the first, should a hand-built struct repeat one).
    pub fn get(&self, name: &str) -> Option<&Value> {
        self.as_struct()?.iter().find(|(n, _)| n == name).map(|(_, v)| v)
    }
}

impl From<i32> for Value {
    fn from(n: i32) -> Self {
        Value::Int(n.into())
    }
}

impl From<i64> for Value {
    fn from(n: i64) -> Self {
        Value::Int(n)
    }
}

impl From<bool> for Value {
    fn from(b: bool) -> Self {
        Value::Boolean(b)
    }
}

impl From<f64> for Value {
    fn from(d: f64) -> Self {
        Value::Double(d)
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Self {
        Value::String(s.to_owned())
    }
}

impl From<String> for Value {
    fn from(s: String) -> Self {
        Value::String(s)
    }
}

impl From<Vec<Value>> for Value {
    fn from(items: Vec<Value>) -> Self {
        Value::Array(items)
    }
}

impl From<Vec<(String, Value)>> for Value {
    fn from(members: Vec<(String, Value)>) -> Self {
        Value::Struct(members)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn helpers() {
        let s = Value::Struct(vec![("Id".into(), Value::Int(7)), ("Name".into(), "Ann".into())]);
        assert_eq!(s.get("Id").and_then(Value::as_int), Some(7));
        assert_eq!(s.get("Name").and_then(Value::as_str), Some("Ann"));
        assert_eq!(s.get("Nope"), None);
        assert_eq!(Value::Int(1 << 40).as_int(), None);
        assert_eq!(Value::Int(1 << 40).as_i64(), Some(1 << 40));
        assert_eq!(
            Value::from("x").expected("an int"),
            "expected an int, got a string"
        );
        assert_eq!(Value::Nil.expected("a struct"), "expected a struct, got nil");
        assert_eq!(Value::Array(vec![]).type_name(), "array");
        assert_eq!(
            Value::datetime(1_795_602_030).as_datetime(),
            Some("20261125T10:20:30")
        );
        assert_eq!(Value::datetime(1_795_602_030).unix_time(), Some(1_795_602_030));
        assert_eq!(Value::from("20261125T10:20:30").unix_time(), None);
    }
}
