//! Hostile and broken input gets a clear error, never a panic, never entity expansion.
#![allow(clippy::unwrap_used)]

use keygate_xmlrpc::{parse_call, parse_response, Limits, Value};

fn error_of(body: &[u8], limits: &Limits) -> String {
    match parse_call(body, limits) {
        Ok(call) => panic!("accepted {:?} as {call:?}", String::from_utf8_lossy(body)),
        Err(e) => e.to_string(),
    }
}

fn error(body: &str) -> String {
    error_of(body.as_bytes(), &Limits::default())
}

fn assert_error(body: &str, want: &str) {
    let got = error(body);
    assert!(got.contains(want), "for {body:?}\n  got: {got}\n want: …{want}…");
}

fn wrap(value_xml: &str) -> String {
    format!("<methodCall><methodName>m</methodName><params><param>{value_xml}</param></params></methodCall>")
}

fn value_error(value_xml: &str, want: &str) {
    assert_error(&wrap(value_xml), want);
}

fn nested_arrays(depth: usize) -> String {
    let mut xml = String::new();
    for _ in 1..depth {
        xml.push_str("<value><array><data>");
    }
    xml.push_str("<value><int>1</int></value>");
    for _ in 1..depth {
        xml.push_str("</data></array></value>");
    }
    wrap(&xml)
}

#[test]
fn depth_is_limited() {
    let limits = Limits::default();
    assert_eq!(limits.max_depth, 32);
    assert!(parse_call(nested_arrays(32).as_bytes(), &limits).is_ok());
    let got = error_of(nested_arrays(33).as_bytes(), &limits);
    assert_eq!(got, "values are nested more than 32 deep");

    // Structs count too.
    let mut xml = String::new();
    for _ in 1..5 {
        xml.push_str("<value><struct><member><name>a</name>");
    }
    xml.push_str("<value/>");
    for _ in 1..5 {
        xml.push_str("</member></struct></value>");
    }
    // Four struct levels and the innermost value: five deep.
    let tight = Limits {
        max_depth: 5,
        ..Limits::default()
    };
    assert!(parse_call(wrap(&xml).as_bytes(), &tight).is_ok());
    let tighter = Limits {
        max_depth: 4,
        ..Limits::default()
    };
    assert!(error_of(wrap(&xml).as_bytes(), &tighter).contains("nested more than 4 deep"));

    // A huge configured depth is capped, so recursion stays bounded.
    let reckless = Limits {
        max_depth: usize::MAX,
        ..Limits::default()
    };
    let deep = nested_arrays(Limits::DEPTH_CEILING + 1);
    assert!(error_of(deep.as_bytes(), &reckless).contains("nested more than 256 deep"));
    // And deep garbage with no limit hit still fails cleanly, without recursing on it.
    let garbage = "<value><array><data>".repeat(100_000);
    assert!(parse_call(wrap(&garbage).as_bytes(), &reckless).is_err());
}

#[test]
fn value_count_is_limited() {
    assert_eq!(Limits::default().max_values, 100_000);
    let items = "<value><i4>1</i4></value>".repeat(10);
    let body = wrap(&format!("<value><array><data>{items}</data></array></value>"));
    let exact = Limits {
        max_values: 11,
        ..Limits::default()
    };
    assert_eq!(
        parse_call(body.as_bytes(), &exact).unwrap().params[0]
            .as_array()
            .unwrap()
            .len(),
        10
    );
    let short = Limits {
        max_values: 10,
        ..Limits::default()
    };
    assert_eq!(
        error_of(body.as_bytes(), &short),
        "the document holds more than 10 values"
    );

    let items = "<value/>".repeat(100_001);
    let body = wrap(&format!("<value><array><data>{items}</data></array></value>"));
    assert_eq!(
        error_of(body.as_bytes(), &Limits::default()),
        "the document holds more than 100000 values"
    );
}

#[test]
fn string_size_is_limited() {
    assert_eq!(Limits::default().max_string_bytes, 1024 * 1024);
    let limits = Limits {
        max_string_bytes: 8,
        ..Limits::default()
    };
    let ok = |xml: &str| parse_call(wrap(xml).as_bytes(), &limits).unwrap();
    let bad = |xml: &str| {
        let got = error_of(wrap(xml).as_bytes(), &limits);
        assert_eq!(got, "a text is longer than 8 bytes", "{xml}");
    };
    ok("<value><string>12345678</string></value>");
    bad("<value><string>123456789</string></value>");
    bad("<value>123456789</value>");
    // Counted after decoding, across references and CDATA.
    ok("<value>&amp;&amp;&amp;&amp;&amp;&amp;&amp;&amp;</value>");
    bad("<value>1234&amp;<![CDATA[5678]]></value>");
    bad("<value><struct><member><name>123456789</name><value/></member></struct></value>");
    bad("<value><base64>aGVsbG8gd29y</base64></value>");
    bad("<value>\n          <int>1</int></value>");
    let body = "<methodCall><methodName>Service.method</methodName></methodCall>";
    assert_eq!(
        error_of(body.as_bytes(), &limits),
        "a text is longer than 8 bytes"
    );
}

#[test]
fn dtds_are_refused() {
    let billion_laughs = r#"<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol9 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
]>
<methodCall><methodName>m</methodName><params><param><value>&lol9;</value></param></params></methodCall>"#;
    assert_eq!(error(billion_laughs), "DTDs are not allowed");

    let external = r#"<?xml version="1.0"?>
<!DOCTYPE methodCall [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<methodCall><methodName>m</methodName><params><param><value>&xxe;</value></param></params></methodCall>"#;
    assert_eq!(error(external), "DTDs are not allowed");

    let external_dtd = r#"<!DOCTYPE methodCall SYSTEM "http://example.invalid/x.dtd"><methodCall><methodName>m</methodName></methodCall>"#;
    assert_eq!(error(external_dtd), "DTDs are not allowed");

    let lower = "<!doctype methodCall><methodCall><methodName>m</methodName></methodCall>";
    assert_eq!(error(lower), "DTDs are not allowed");
    let entity = "<!ENTITY a 'b'><methodCall><methodName>m</methodName></methodCall>";
    assert!(error(entity).starts_with("malformed XML"));

    // A DOCTYPE anywhere else is refused too (or is malformed XML), never skipped.
    let late = "<methodCall><methodName>m</methodName></methodCall><!DOCTYPE x>";
    assert!(!error(late).is_empty());
    let response =
        "<!DOCTYPE methodResponse><methodResponse><params><param><value/></param></params></methodResponse>";
    assert_eq!(
        parse_response(response.as_bytes(), &Limits::default())
            .unwrap_err()
            .to_string(),
        "DTDs are not allowed"
    );
}

#[test]
fn only_predefined_entities_and_character_references_decode() {
    value_error("<value>&lol;</value>", "unknown entity &lol;");
    value_error("<value>&nbsp;</value>", "unknown entity &nbsp;");
    value_error("<value>a & b</value>", "malformed XML");
    value_error("<value>&amp</value>", "malformed XML");
    value_error("<value>&#xD800;</value>", "invalid character reference &#xD800;");
    value_error("<value>&#x110000;</value>", "invalid character reference");
    value_error("<value>&#abc;</value>", "invalid character reference");
    value_error("<value>&#0;</value>", "invalid character reference &#0;");
    value_error(
        "<value>&#1;</value>",
        "the character U+0001 is not allowed in XML",
    );
    value_error(
        "<value>&#xFFFE;</value>",
        "the character U+FFFE is not allowed in XML",
    );
    let ok = parse_call(
        wrap("<value>&#9;&#10;&#x41;&#66;&lt;&gt;&amp;&apos;&quot;</value>").as_bytes(),
        &Limits::default(),
    );
    assert_eq!(ok.unwrap().params, vec![Value::String("\t\nAB<>&'\"".into())]);
}

#[test]
fn raw_forbidden_characters_are_refused() {
    value_error(
        "<value>a\u{1}b</value>",
        "the character U+0001 is not allowed in XML",
    );
    value_error(
        "<value><string>\u{0}</string></value>",
        "the character U+0000 is not allowed in XML",
    );
    value_error("<value><string>\u{FFFF}</string></value>", "U+FFFF");
}

#[test]
fn processing_instructions_are_refused() {
    assert_error(
        "<?php system('id'); ?><methodCall><methodName>m</methodName></methodCall>",
        "processing instructions are not allowed",
    );
    assert_error(
        "<?xml version=\"1.0\"?><?xml-stylesheet href=\"x\"?><methodCall><methodName>m</methodName></methodCall>",
        "processing instructions are not allowed",
    );
    value_error(
        "<value><?pi?>x</value>",
        "processing instructions are not allowed",
    );
    assert_error(
        "<methodCall><?xml version=\"1.0\"?><methodName>m</methodName></methodCall>",
        "the XML declaration is only allowed at the very start",
    );
    assert_error(
        "\n<?xml version=\"1.0\"?><methodCall><methodName>m</methodName></methodCall>",
        "the XML declaration is only allowed at the very start",
    );
    assert_error(
        "<?xml encoding=\"UTF-8\"?><methodCall/>",
        "malformed XML declaration",
    );
}

#[test]
fn encodings_other_than_utf8_and_latin1_are_refused() {
    let mut bad_utf8 = b"<methodCall><methodName>m</methodName><params><param><value>".to_vec();
    bad_utf8.extend_from_slice(b"\xff\xfe");
    bad_utf8.extend_from_slice(b"</value></param></params></methodCall>");
    assert_eq!(
        error_of(&bad_utf8, &Limits::default()),
        "the body is not valid UTF-8 (at byte 60)"
    );
    assert_error(
        "<?xml version=\"1.0\" encoding=\"Shift_JIS\"?><methodCall/>",
        "the encoding \"shift_jis\" is not supported; send UTF-8",
    );
    assert_eq!(
        error_of(b"\xff\xfe<\x00m\x00", &Limits::default()),
        "UTF-16 is not supported; send UTF-8"
    );
}

#[test]
fn malformed_xml_is_refused() {
    assert_error(
        "",
        "expected <methodCall> in the document, found the end of the document",
    );
    assert_error(
        "   \n",
        "expected <methodCall> in the document, found the end of the document",
    );
    assert_error(
        "hello",
        "expected <methodCall> in the document, found text \"hello\"",
    );
    assert_error(
        "<methodCall><methodName>m</methodName>",
        "the document ends inside <methodCall>",
    );
    assert_error(
        "<methodCall><methodName>m</methodName></methodcall>",
        "malformed XML",
    );
    assert_error(
        "<methodCall><methodName>m</methodName></params></methodCall>",
        "malformed XML",
    );
    assert_error("<methodCall><methodName>m</methodName", "malformed XML");
    assert_error(
        "<methodCall attr><methodName>m</methodName></methodCall>",
        "malformed attribute in <methodCall>",
    );
    assert_error(
        "<methodCall a='1' a='2'><methodName>m</methodName></methodCall>",
        "malformed attribute",
    );
    assert_error(
        "<methodCall><methodName>m</methodName></methodCall><methodCall/>",
        "unexpected <methodCall> after the document element",
    );
    assert_error(
        "<methodCall><methodName>m</methodName></methodCall>trailing",
        "unexpected text \"trailing\" after the document element",
    );
    assert_error(
        "<methodCall><methodName>m</methodName><!-- a -- b --></methodCall>",
        "malformed XML",
    );
    value_error("<value><string>unclosed</value>", "malformed XML");
    value_error("<value><string><![CDATA[x</string></value>", "malformed XML");
}

#[test]
fn unknown_elements_and_wrong_nesting_are_refused() {
    assert_error(
        "<methodResponse/>",
        "expected <methodCall> in the document, found <methodResponse>",
    );
    assert_error("<foo/>", "unknown element <foo>");
    assert_error(
        "<methodCall><params/></methodCall>",
        "expected <methodName> in <methodCall>, found <params>",
    );
    assert_error(
        "<methodCall><methodName>m</methodName><params><value/></params></methodCall>",
        "unexpected <value> in <params>",
    );
    assert_error(
        "<methodCall><methodName>m</methodName><params><param></param></params></methodCall>",
        "expected <value> in <param>, found </param>",
    );
    assert_error(
        "<methodCall><methodName>m</methodName><params><param><value/><value/></param></params></methodCall>",
        "expected </param>, found <value>",
    );
    assert_error(
        "<methodCall><methodName>m</methodName><params>junk</params></methodCall>",
        "unexpected text \"junk\" in <params>",
    );
    assert_error(
        "<methodCall><methodName><b>m</b></methodName></methodCall>",
        "unknown element <b>",
    );
    value_error(
        "<value><int>1</int><int>2</int></value>",
        "expected </value>, found <int>",
    );
    value_error(
        "<value><int>1</int>junk</value>",
        "expected </value>, found text \"junk\"",
    );
    value_error(
        "<value>junk<int>1</int></value>",
        "text \"junk\" mixed with <int> in <value>",
    );
    value_error("<value><float>1</float></value>", "unknown element <float>");
    value_error("<value><member/></value>", "unexpected <member> in <value>");
    value_error(
        "<value><int><int>1</int></int></value>",
        "unexpected <int> in <int>",
    );
    value_error(
        "<value><array><value/></array></value>",
        "expected <data> in <array>, found <value>",
    );
    value_error(
        "<value><array><data><int>1</int></data></array></value>",
        "unexpected <int> in <data>",
    );
    value_error(
        "<value><struct><member><value/><name>a</name></member></struct></value>",
        "expected <name> in <member>, found <value>",
    );
    value_error(
        "<value><struct><member><name>a</name></member></struct></value>",
        "expected <value> in <member>, found </member>",
    );
    value_error(
        "<value><struct><value/></struct></value>",
        "unexpected <value> in <struct>",
    );
    value_error(
        "<value><struct><member><name>a</name><value/></member><member><name>a</name><value/></member></struct></value>",
        "the struct member \"a\" appears twice",
    );
    value_error("<value><nil>x</nil></value>", "<nil/> must be empty");
    let long_name = format!("<value><{}/></value>", "x".repeat(1000));
    let got = error(&wrap(&long_name));
    assert!(
        got.starts_with("unknown element <xxxx") && got.len() < 100,
        "{got}"
    );
}

#[test]
fn method_names_are_checked() {
    assert_error(
        "<methodCall><methodName></methodName></methodCall>",
        "the method name is empty",
    );
    assert_error(
        "<methodCall><methodName/></methodCall>",
        "the method name is empty",
    );
    assert_error(
        "<methodCall><methodName>  </methodName></methodCall>",
        "the method name is empty",
    );
    assert_error(
        "<methodCall><methodName>a b</methodName></methodCall>",
        "the method name \"a b\" contains ' '",
    );
    assert_error(
        "<methodCall><methodName>a&lt;b</methodName></methodCall>",
        "contains '<'",
    );
    assert_error(
        "<methodCall><methodName>caf\u{e9}</methodName></methodCall>",
        "contains 'é'",
    );
    let ok = parse_call(
        b"<methodCall><methodName>system/list_Methods:v2.x</methodName></methodCall>",
        &Limits::default(),
    );
    assert_eq!(ok.unwrap().method, "system/list_Methods:v2.x");
}

#[test]
fn bad_scalars_are_refused() {
    value_error(
        "<value><int>abc</int></value>",
        "<int> holds \"abc\", not an integer",
    );
    value_error("<value><int></int></value>", "<int> holds \"\", not an integer");
    value_error("<value><int/></value>", "<int> holds \"\", not an integer");
    value_error(
        "<value><int>1.5</int></value>",
        "<int> holds \"1.5\", not an integer",
    );
    value_error("<value><int>1 2</int></value>", "not an integer");
    value_error("<value><int>--1</int></value>", "not an integer");
    value_error("<value><int>0x10</int></value>", "not an integer");
    value_error("<value><int>٣</int></value>", "not an integer");
    value_error(
        "<value><i4>2147483648</i4></value>",
        "<i4> value \"2147483648\" is out of range",
    );
    value_error(
        "<value><int>-2147483649</int></value>",
        "<int> value \"-2147483649\" is out of range",
    );
    value_error(
        "<value><i8>9223372036854775808</i8></value>",
        "<i8> value \"9223372036854775808\" is out of range",
    );
    value_error(
        &format!("<value><int>{}</int></value>", "9".repeat(500)),
        "is out of range",
    );
    value_error(
        "<value><boolean>2</boolean></value>",
        "<boolean> must be 0 or 1, not \"2\"",
    );
    value_error(
        "<value><boolean>true</boolean></value>",
        "<boolean> must be 0 or 1, not \"true\"",
    );
    value_error("<value><boolean/></value>", "<boolean> must be 0 or 1, not \"\"");
    value_error(
        "<value><double>abc</double></value>",
        "<double> holds \"abc\", not a number",
    );
    value_error(
        "<value><double></double></value>",
        "<double> holds \"\", not a number",
    );
    value_error(
        "<value><base64>!!!!</base64></value>",
        "<base64> is not valid base64",
    );
    value_error(
        "<value><base64>aGk=aGk=</base64></value>",
        "<base64> is not valid base64",
    );
    value_error(
        "<value><base64>a</base64></value>",
        "<base64> is not valid base64",
    );
    value_error(
        "<value><dateTime.iso8601> </dateTime.iso8601></value>",
        "<dateTime.iso8601> is empty",
    );
}

#[test]
fn responses_are_checked_too() {
    let limits = Limits::default();
    let err = |body: &str| parse_response(body.as_bytes(), &limits).unwrap_err().to_string();
    assert_eq!(
        err("<methodResponse><params><param><value/></param><param><value/></param></params></methodResponse>"),
        "expected </params>, found <param>"
    );
    assert_eq!(
        err("<methodResponse><params></params></methodResponse>"),
        "expected <param> in <params>, found </params>"
    );
    assert_eq!(
        err("<methodResponse><fault><value><struct><member><name>faultCode</name><value>x</value></member></struct></value></fault></methodResponse>"),
        "a <fault> must hold a struct with an int faultCode and a string faultString"
    );
    assert_eq!(
        err("<methodCall/>"),
        "expected <methodResponse> in the document, found <methodCall>"
    );
}

#[test]
fn errors_quote_little_input() {
    let got = error(&wrap(&format!(
        "<value><int>{}</int></value>",
        "a".repeat(10_000)
    )));
    assert!(got.len() < 100, "{got}");
    assert!(got.contains('…'));
}
