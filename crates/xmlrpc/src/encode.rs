//! Values to XML-RPC documents.
//!
//! Written by hand rather than with quick-xml's writer: the output is a fixed handful of elements
//! with no attributes, so a `String` and one escaping function are all it takes, and that keeps
//! every byte we send (compact layout, `<string></string>` rather than `<string/>`, how `\r` and
//! forbidden characters are written) under our control and easy to see.
//!
//! Text is escaped (`&`, `<`, `>`; `\r` as `&#13;` so XML's line-end normalisation cannot turn it
//! into `\n`). Characters XML 1.0 forbids outright (most C0 controls, U+FFFE, U+FFFF) cannot be
//! written at all, not even as references, so each becomes U+FFFD: a response must always be a
//! well-formed document, and a fault about bad input must not itself be unreadable.

use std::fmt::Write as _;

use base64::Engine as _;

use crate::Value;

const DECLARATION: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>";

/// A `<methodResponse>` carrying one value.
pub fn response(value: &Value) -> String {
    let mut out = String::from(DECLARATION);
    out.push_str("<methodResponse><params><param>");
    write_value(&mut out, value);
    out.push_str("</param></params></methodResponse>");
    out
}

/// A `<methodResponse>` carrying a `<fault>`: a struct of `faultCode` (int) and `faultString`.
pub fn fault(code: i32, message: &str) -> String {
    let value = Value::Struct(vec![
        ("faultCode".to_owned(), Value::Int(code.into())),
        ("faultString".to_owned(), Value::String(message.to_owned())),
    ]);
    let mut out = String::from(DECLARATION);
    out.push_str("<methodResponse><fault>");
    write_value(&mut out, &value);
    out.push_str("</fault></methodResponse>");
    out
}

/// A `<methodCall>` (for tests and clients). The method name is escaped but not validated.
pub fn call(method: &str, params: &[Value]) -> String {
    let mut out = String::from(DECLARATION);
    out.push_str("<methodCall><methodName>");
    escape_into(&mut out, method);
    out.push_str("</methodName><params>");
    for param in params {
        out.push_str("<param>");
        write_value(&mut out, param);
        out.push_str("</param>");
    }
    out.push_str("</params></methodCall>");
    out
}

/// Writes `<value>…</value>`. Recursion follows the value's nesting, which the server builds itself
/// (parsed values are already bounded by [`crate::Limits::max_depth`]).
fn write_value(out: &mut String, value: &Value) {
    out.push_str("<value>");
    match value {
        Value::Int(n) => {
            let tag = if i32::try_from(*n).is_ok() { "int" } else { "i8" };
            let _ = write!(out, "<{tag}>{n}</{tag}>");
        }
        Value::Boolean(b) => {
            out.push_str(if *b {
                "<boolean>1</boolean>"
            } else {
                "<boolean>0</boolean>"
            });
        }
        Value::String(s) => {
            out.push_str("<string>");
            escape_into(out, s);
            out.push_str("</string>");
        }
        Value::Double(d) => {
            out.push_str("<double>");
            write_double(out, *d);
            out.push_str("</double>");
        }
        Value::DateTime(s) => {
            out.push_str("<dateTime.iso8601>");
            escape_into(out, s);
            out.push_str("</dateTime.iso8601>");
        }
        Value::Base64(bytes) => {
            out.push_str("<base64>");
            base64::engine::general_purpose::STANDARD.encode_string(bytes, out);
            out.push_str("</base64>");
        }
        Value::Struct(members) => {
            out.push_str("<struct>");
            for (name, member) in members {
                out.push_str("<member><name>");
                escape_into(out, name);
                out.push_str("</name>");
                write_value(out, member);
                out.push_str("</member>");
            }
            out.push_str("</struct>");
        }
        Value::Array(items) => {
            out.push_str("<array><data>");
            for item in items {
                write_value(out, item);
            }
            out.push_str("</data></array>");
        }
        Value::Nil => out.push_str("<nil/>"),
    }
    out.push_str("</value>");
}

/// Plain decimal (the spec has no exponent; Rust's `Display` never uses one and round-trips), with
/// `.0` on whole numbers as Python writes them. NaN and infinities are written `nan`, `inf` and
/// `-inf`, which Python reads; XML-RPC itself has no way to say them.
fn write_double(out: &mut String, d: f64) {
    if d.is_nan() {
        out.push_str("nan");
    } else if d.is_infinite() {
        out.push_str(if d > 0.0 { "inf" } else { "-inf" });
    } else {
        let start = out.len();
        let _ = write!(out, "{d}");
        if !out[start..].contains('.') {
            out.push_str(".0");
        }
    }
}

/// Whether XML 1.0 allows the character at all (production `Char`; surrogates cannot occur in Rust).
pub(crate) fn is_xml_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{FFFD}' | '\u{10000}'..)
}

fn escape_into(out: &mut String, text: &str) {
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '\r' => out.push_str("&#13;"),
            c if is_xml_char(c) => out.push(c),
            _ => out.push('\u{FFFD}'),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_and_replaces() {
        let mut out = String::new();
        escape_into(&mut out, "a<b>&c\r\n\t\u{0}\u{1b}\u{FFFE}\u{FFFF}é😀\"'");
        assert_eq!(
            out,
            "a&lt;b&gt;&amp;c&#13;\n\t\u{FFFD}\u{FFFD}\u{FFFD}\u{FFFD}é😀\"'"
        );
    }

    #[test]
    fn doubles() {
        let cases = [
            (1.5, "1.5"),
            (5.0, "5.0"),
            (-0.0, "-0.0"),
            (1e300, "1"),
            (f64::NAN, "nan"),
            (f64::NEG_INFINITY, "-inf"),
        ];
        for (d, want) in cases {
            let mut out = String::new();
            write_double(&mut out, d);
            assert!(out.starts_with(want), "{d}: {out}");
            if d.is_finite() {
                assert_eq!(out.parse::<f64>().ok(), Some(d));
            }
        }
    }

    #[test]
    fn exact_documents() {
        assert_eq!(
            response(&Value::Struct(vec![
                ("Id".into(), Value::Int(5)),
                ("Big".into(), Value::Int(1 << 40)),
                ("Ok".into(), Value::Boolean(true)),
                ("Empty".into(), Value::String(String::new())),
                ("None".into(), Value::Nil),
                ("List".into(), Value::Array(vec![Value::Base64(b"hi".to_vec())])),
            ])),
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?><methodResponse><params><param><value><struct>\
             <member><name>Id</name><value><int>5</int></value></member>\
             <member><name>Big</name><value><i8>1099511627776</i8></value></member>\
             <member><name>Ok</name><value><boolean>1</boolean></value></member>\
             <member><name>Empty</name><value><string></string></value></member>\
             <member><name>None</name><value><nil/></value></member>\
             <member><name>List</name><value><array><data><value><base64>aGk=</base64></value>\
             </data></array></value></member>\
             </struct></value></param></params></methodResponse>"
        );
        assert_eq!(
            fault(2, "No method matching arguments: <x>"),
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?><methodResponse><fault><value><struct>\
             <member><name>faultCode</name><value><int>2</int></value></member>\
             <member><name>faultString</name><value><string>No method matching arguments: \
             &lt;x&gt;</string></value></member></struct></value></fault></methodResponse>"
        );
    }
}
