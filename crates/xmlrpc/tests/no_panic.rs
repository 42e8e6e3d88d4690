//! A deterministic fuzz-ish loop: truncations and random mutations of valid documents must give a
//! value or an error, never a panic (and never a hang). Whatever parses must re-encode stably.
#![allow(clippy::unwrap_used)]

use keygate_xmlrpc::{call, fault, parse_call, parse_response, response, Limits, Value};

/// xorshift64: enough randomness for mutations, and the same sequence on every run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

fn seeds() -> Vec<Vec<u8>> {
    let every = vec![
        Value::Int(7),
        Value::Int(1 << 40),
        Value::Boolean(true),
        Value::String("a<b>&c\r\n é😀".into()),
        Value::Double(-1.25),
        Value::DateTime("20261125T10:20:30".into()),
        Value::Base64(b"\x00\x01binary".to_vec()),
        Value::Nil,
        Value::Struct(vec![
            ("Id".into(), Value::Int(1)),
            (
                "List".into(),
                Value::Array(vec![
                    Value::Struct(vec![("k".into(), "v".into())]),
                    Value::Array(vec![]),
                ]),
            ),
        ]),
    ];
    let mut docs: Vec<Vec<u8>> = vec![
        call("ContactService.load", &every).into_bytes(),
        response(&Value::Array(every.clone())).into_bytes(),
        fault(3, "bad <x> & y").into_bytes(),
        b"<?xml version='1.0'?>\n<methodCall>\n<methodName>ContactService.load</methodName>\n<params>\n<param>\n<value><string>key</string></value>\n</param>\n<param>\n<value><int>5</int></value>\n</param>\n<param>\n<value><array><data>\n<value><string>Id</string></value>\n</data></array></value>\n</param>\n</params>\n</methodCall>\n".to_vec(),
        b"\xEF\xBB\xBF<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><methodCall xmlns:ex=\"x\"><methodName>m</methodName><params><param><value>untyped &amp; &#233; <![CDATA[<cdata>]]><!-- c --></value></param><param><value><ex:i8>-9</ex:i8></value></param><param><value><ex:nil/></value></param><param><value><base64>\naGk=\n</base64></value></param></params></methodCall>".to_vec(),
        b"<!DOCTYPE x [<!ENTITY a \"&b;&b;\">]><methodCall><methodName>m</methodName><params><param><value>&a;</value></param></params></methodCall>".to_vec(),
    ];
    let mut deep = String::from("<methodCall><methodName>m</methodName><params><param>");
    for _ in 0..40 {
        deep.push_str("<value><array><data>");
    }
    for _ in 0..40 {
        deep.push_str("</data></array></value>");
    }
    deep.push_str("</param></params></methodCall>");
    docs.push(deep.into_bytes());
    docs
}

/// Parses as a call and as a response under `limits`; anything that parses must re-encode to a
/// document that parses to the same encoding. Returns whether either parse succeeded.
fn exercise(body: &[u8], limits: &Limits) -> bool {
    let mut parsed = false;
    if let Ok(c) = parse_call(body, limits) {
        parsed = true;
        let encoded = call(&c.method, &c.params);
        let again = parse_call(encoded.as_bytes(), &Limits::default()).unwrap();
        assert_eq!(call(&again.method, &again.params), encoded);
    }
    if let Ok(r) = parse_response(body, limits) {
        parsed = true;
        let encoded = match &r {
            Ok(value) => response(value),
            Err(f) => fault(f.code, &f.message),
        };
        let again = parse_response(encoded.as_bytes(), &Limits::default()).unwrap();
        let encoded_again = match &again {
            Ok(value) => response(value),
            Err(f) => fault(f.code, &f.message),
        };
        assert_eq!(encoded_again, encoded);
    }
    parsed
}

#[test]
fn truncations_never_panic() {
    let limits = Limits::default();
    for doc in seeds() {
        for end in 0..=doc.len() {
            let _ = exercise(&doc[..end], &limits);
            let _ = exercise(&doc[end..], &limits);
        }
    }
}

#[test]
fn random_mutations_never_panic() {
    const INTERESTING: &[u8] = b"<>/&;#x!?[]-='\" \n\r\t0129aZ\x00\x01\x7f\x80\xc3\xa9\xef\xbb\xbf";
    const SNIPPETS: &[&[u8]] = &[
        b"<value>",
        b"</value>",
        b"<struct>",
        b"<member><name>",
        b"<array><data>",
        b"<![CDATA[",
        b"]]>",
        b"<!--",
        b"-->",
        b"<!DOCTYPE",
        b"<?xml version=\"1.0\"?>",
        b"<?pi?>",
        b"&#x10FFFF;",
        b"&#55296;",
        b"&amp;",
        b"&bogus;",
        b"<i8>99999999999999999999</i8>",
        b"<nil/>",
        b"<double>nan</double>",
    ];
    let seeds = seeds();
    let tight = Limits {
        max_depth: 3,
        max_values: 6,
        max_string_bytes: 16,
    };
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let mut accepted = 0;
    for round in 0..20_000 {
        let mut doc = seeds[rng.below(seeds.len())].clone();
        let mutations = if rng.below(2) == 0 { 1 } else { 2 + rng.below(3) };
        for _ in 0..mutations {
            let at = rng.below(doc.len() + 1);
            match rng.below(7) {
                // Alphanumerics for alphanumerics: mostly keeps the markup, changes content.
                6 if doc.get(at).is_some_and(u8::is_ascii_alphanumeric) => {
                    doc[at] = b"0123456789abcdefxyzABCDEF"[rng.below(25)];
                }
                0 if at < doc.len() => doc[at] = INTERESTING[rng.below(INTERESTING.len())],
                1 if at < doc.len() => doc[at] = rng.next() as u8,
                2 => doc.insert(at, INTERESTING[rng.below(INTERESTING.len())]),
                3 if at < doc.len() => {
                    let len = 1 + rng.below(8.min(doc.len() - at));
                    doc.drain(at..at + len);
                }
                4 => {
                    let snippet = SNIPPETS[rng.below(SNIPPETS.len())];
                    doc.splice(at..at, snippet.iter().copied());
                }
                _ => {
                    // Duplicate a slice elsewhere: repeats tags, breaks nesting.
                    let from = rng.below(doc.len());
                    let len = 1 + rng.below(32.min(doc.len() - from));
                    let piece = doc[from..from + len].to_vec();
                    doc.splice(at..at, piece);
                }
            }
        }
        let limits = if round % 4 == 0 { tight } else { Limits::default() };
        accepted += usize::from(exercise(&doc, &limits));
    }
    // The mutations should neither all break the documents nor all be harmless.
    assert!(
        (200..19_000).contains(&accepted),
        "{accepted} of 20000 mutants parsed"
    );
}

#[test]
fn random_bytes_never_panic() {
    let mut rng = Rng(42);
    for _ in 0..5_000 {
        let len = rng.below(200);
        let doc: Vec<u8> = (0..len).map(|_| rng.next() as u8).collect();
        let _ = exercise(&doc, &Limits::default());
        let ascii: Vec<u8> = doc
            .iter()
            .map(|b| b"<>/&;#!?=\"' abvxdlm"[(*b % 19) as usize])
            .collect();
        let _ = exercise(&ascii, &Limits::default());
    }
}
