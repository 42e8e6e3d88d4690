//! Interoperability with Python's `xmlrpc.client` (an expat-based, strict XML parser and the most
//! common Infusionsoft client): it must read what we write, and we must read what it writes.
//! Skipped, with a message, where `python3` is not installed.
#![allow(clippy::unwrap_used)]

use std::io::Write as _;
use std::process::{Command, Stdio};

use keygate_xmlrpc::{call, fault, parse_call, response, Limits, Value};

/// Runs `python3 -c script` with `stdin`, returning its stdout, or `None` if there is no python3.
fn python(script: &str, stdin: &[u8]) -> Option<Vec<u8>> {
    let child = Command::new("python3")
        .args(["-c", script])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn();
    let mut child = match child {
        Ok(child) => child,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            eprintln!("skipping: python3 is not installed");
            return None;
        }
        Err(e) => panic!("cannot run python3: {e}"),
    };
    child.stdin.take().unwrap().write_all(stdin).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "python3 failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    Some(out.stdout)
}

/// Python's reading of a document, as `ascii()` of the params and method name, or of the fault.
const LOADS: &str = r#"
import sys, xmlrpc.client
try:
    params, method = xmlrpc.client.loads(sys.stdin.buffer.read(), use_builtin_types=True)
    print(ascii(params), ascii(method))
except xmlrpc.client.Fault as f:
    print("FAULT", f.faultCode, ascii(f.faultString))
"#;

fn python_reads(body: &str) -> Option<String> {
    python(LOADS, body.as_bytes()).map(|out| String::from_utf8(out).unwrap().trim_end().to_owned())
}

#[test]
fn python_reads_our_responses() {
    let value = Value::Struct(vec![
        ("Int".into(), Value::Int(5)),
        ("Big".into(), Value::Int(1 << 40)),
        ("Neg".into(), Value::Int(-7)),
        ("True".into(), Value::Boolean(true)),
        ("False".into(), Value::Boolean(false)),
        ("Str".into(), Value::String("a<b>&c\r\n\t \"q\" ]]> é😀".into())),
        ("Empty".into(), Value::String(String::new())),
        ("Bad".into(), Value::String("x\u{1}y\u{0}".into())),
        ("Dbl".into(), Value::Double(1.5)),
        ("Whole".into(), Value::Double(3.0)),
        ("Tiny".into(), Value::Double(1e-300)),
        ("When".into(), Value::datetime(1_795_602_030)),
        ("Bytes".into(), Value::Base64(vec![0, 1, 255])),
        ("None".into(), Value::Nil),
        (
            "List".into(),
            Value::Array(vec![Value::Int(1), "two".into(), Value::Array(vec![])]),
        ),
        (
            "Nested".into(),
            Value::Struct(vec![("k".into(), Value::Struct(vec![]))]),
        ),
        ("a&<b>".into(), Value::Int(0)),
    ]);
    let Some(got) = python_reads(&response(&value)) else {
        return;
    };
    assert_eq!(
        got,
        "({'Int': 5, 'Big': 1099511627776, 'Neg': -7, 'True': True, 'False': False, \
         'Str': 'a<b>&c\\r\\n\\t \"q\" ]]> \\xe9\\U0001f600', 'Empty': '', 'Bad': 'x\\ufffdy\\ufffd', \
         'Dbl': 1.5, 'Whole': 3.0, 'Tiny': 1e-300, 'When': datetime.datetime(2026, 11, 25, 10, 20, 30), \
         'Bytes': b'\\x00\\x01\\xff', 'None': None, 'List': [1, 'two', []], 'Nested': {'k': {}}, \
         'a&<b>': 0},) None"
    );
}

#[test]
fn python_reads_our_faults_and_calls() {
    let Some(got) = python_reads(&fault(4, "No method <x> & y\r\n")) else {
        return;
    };
    assert_eq!(got, "FAULT 4 'No method <x> & y\\r\\n'");

    let body = call(
        "ContactService.load",
        &["key".into(), Value::Int(5), Value::Array(vec!["Id".into()])],
    );
    let Some(got) = python_reads(&body) else { return };
    assert_eq!(got, "('key', 5, ['Id']) 'ContactService.load'");
}

#[test]
fn we_read_what_python_writes() {
    let script = r#"
import sys, xmlrpc.client as x
params = (
    "key", 5, -2147483648, 2147483647, True, False, "", "  spaced\n", "a<b>&c é😀 \"q\" 's'", "cr\r\nlf",
    1.5, -0.25, 1e100, float("inf"), x.DateTime("20261125T10:20:30"), x.Binary(b"\x00\x01" * 100),
    None, [], {}, [1, ["two", {"three": 3}]], {"FirstName": "Ann", "Groups": [1, 2], "Opt": {"a": None}},
)
sys.stdout.buffer.write(x.dumps(params, methodname="DataService.query", allow_none=True).encode("utf-8"))
"#;
    let Some(body) = python(script, b"") else { return };
    let parsed = parse_call(&body, &Limits::default()).unwrap();
    assert_eq!(parsed.method, "DataService.query");
    let struct_of = |members: Vec<(&str, Value)>| {
        Value::Struct(members.into_iter().map(|(k, v)| (k.to_owned(), v)).collect())
    };
    let want = vec![
        "key".into(),
        Value::Int(5),
        Value::Int(-2_147_483_648),
        Value::Int(2_147_483_647),
        Value::Boolean(true),
        Value::Boolean(false),
        "".into(),
        "  spaced\n".into(),
        "a<b>&c é😀 \"q\" 's'".into(),
        // Python writes a raw CR; XML line-end normalisation reads it as LF, as expat does.
        "cr\nlf".into(),
        Value::Double(1.5),
        Value::Double(-0.25),
        Value::Double(1e100),
        Value::Double(f64::INFINITY),
        Value::DateTime("20261125T10:20:30".into()),
        Value::Base64(b"\x00\x01".repeat(100)),
        Value::Nil,
        Value::Array(vec![]),
        Value::Struct(vec![]),
        Value::Array(vec![
            Value::Int(1),
            Value::Array(vec!["two".into(), struct_of(vec![("three", Value::Int(3))])]),
        ]),
        struct_of(vec![
            ("FirstName", "Ann".into()),
            ("Groups", Value::Array(vec![Value::Int(1), Value::Int(2)])),
            ("Opt", struct_of(vec![("a", Value::Nil)])),
        ]),
    ];
    assert_eq!(parsed.params, want);
}

#[test]
fn we_read_python_latin1_requests() {
    // What ServerProxy(..., encoding="iso-8859-1") sends: a Latin-1 body, with characters outside
    // Latin-1 as character references.
    let script = r#"
import sys, xmlrpc.client as x
body = x.dumps(("café €",), methodname="m", encoding="iso-8859-1")
sys.stdout.buffer.write(body.encode("iso-8859-1", "xmlcharrefreplace"))
"#;
    let Some(body) = python(script, b"") else { return };
    assert!(body.windows(4).any(|w| w == b"caf\xe9"), "{body:?}");
    let parsed = parse_call(&body, &Limits::default()).unwrap();
    assert_eq!(parsed.params, vec![Value::String("café €".into())]);
}
