//! What well-behaved clients send parses, and what we write parses back to the same values.
#![allow(clippy::unwrap_used)]

use keygate_xmlrpc::{call, fault, parse_call, parse_response, response, Fault, Limits, MethodCall, Value};

fn parse(body: &str) -> MethodCall {
    parse_call(body.as_bytes(), &Limits::default()).unwrap()
}

fn one_param(body: &str) -> Value {
    let mut call = parse(body);
    assert_eq!(call.params.len(), 1, "{body}");
    call.params.remove(0)
}

fn wrap(value_xml: &str) -> String {
    format!("<methodCall><methodName>m</methodName><params><param>{value_xml}</param></params></methodCall>")
}

fn every_type() -> Vec<Value> {
    vec![
        Value::Int(0),
        Value::Int(-2_147_483_648),
        Value::Int(2_147_483_647),
        Value::Int(2_147_483_648),
        Value::Int(i64::MIN),
        Value::Boolean(true),
        Value::Boolean(false),
        Value::String(String::new()),
        Value::String("  spaced\n\ttext  ".into()),
        Value::String("<a href=\"x\">&amp; 'q'</a> ]]> é 😀 \r\n line".into()),
        Value::Double(1.5),
        Value::Double(-0.000_001),
        Value::Double(1e300),
        Value::Double(f64::MIN_POSITIVE),
        Value::Double(3.0),
        Value::DateTime("20261125T10:20:30".into()),
        Value::Base64(Vec::new()),
        Value::Base64((0..=255).collect()),
        Value::Nil,
        Value::Array(Vec::new()),
        Value::Struct(Vec::new()),
        Value::Struct(vec![
            ("Id".into(), Value::Int(5)),
            ("".into(), Value::String("empty name".into())),
            (
                "a<&>b".into(),
                Value::Array(vec![Value::Int(1), "x".into(), Value::Nil]),
            ),
            (
                "Nested".into(),
                Value::Struct(vec![("Deeper".into(), Value::Array(vec![Value::Struct(vec![])]))]),
            ),
        ]),
    ]
}

#[test]
fn every_type_round_trips_through_a_call() {
    let params = every_type();
    let body = call("DataService.query", &params);
    let parsed = parse(&body);
    assert_eq!(parsed.method, "DataService.query");
    assert_eq!(parsed.params, params);
}

#[test]
fn every_type_round_trips_through_a_response() {
    for value in every_type() {
        let body = response(&value);
        let parsed = parse_response(body.as_bytes(), &Limits::default()).unwrap();
        assert_eq!(parsed, Ok(value), "{body}");
    }
}

#[test]
fn nan_and_infinity_round_trip() {
    for d in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
        let body = response(&Value::Double(d));
        let parsed = parse_response(body.as_bytes(), &Limits::default())
            .unwrap()
            .unwrap();
        let got = parsed.as_f64().unwrap();
        assert!(got.is_nan() == d.is_nan() && (d.is_nan() || got == d), "{body}");
    }
}

#[test]
fn faults_round_trip() {
    let body = fault(-5, "Bad <thing> & more\r\n");
    let parsed = parse_response(body.as_bytes(), &Limits::default()).unwrap();
    assert_eq!(
        parsed,
        Err(Fault {
            code: -5,
            message: "Bad <thing> & more\r\n".into()
        })
    );
}

#[test]
fn forbidden_characters_are_replaced_on_output() {
    let value = Value::String("a\u{0}b\u{1b}c\u{FFFF}".into());
    let body = response(&value);
    let parsed = parse_response(body.as_bytes(), &Limits::default())
        .unwrap()
        .unwrap();
    assert_eq!(parsed, Value::String("a\u{FFFD}b\u{FFFD}c\u{FFFD}".into()));
}

#[test]
fn python_dumps_output_parses() {
    // xmlrpc.client.dumps(("key", 5, ["Id"]), methodname="ContactService.load")
    let body = "<?xml version='1.0'?>\n<methodCall>\n<methodName>ContactService.load</methodName>\n<params>\n<param>\n<value><string>key</string></value>\n</param>\n<param>\n<value><int>5</int></value>\n</param>\n<param>\n<value><array><data>\n<value><string>Id</string></value>\n</data></array></value>\n</param>\n</params>\n</methodCall>\n";
    assert_eq!(
        parse(body),
        MethodCall {
            method: "ContactService.load".into(),
            params: vec!["key".into(), Value::Int(5), Value::Array(vec!["Id".into()])],
        }
    );

    // xmlrpc.client.dumps((b"hello world" * 10, 1.5, True, None, DateTime("20261125T10:20:30"),
    //     {"a": 1, "b": [1, "x"]}), methodname="m", allow_none=True)
    let body = "<?xml version='1.0'?>\n<methodCall>\n<methodName>m</methodName>\n<params>\n<param>\n<value><base64>\naGVsbG8gd29ybGRoZWxsbyB3b3JsZGhlbGxvIHdvcmxkaGVsbG8gd29ybGRoZWxsbyB3b3JsZGhl\nbGxvIHdvcmxkaGVsbG8gd29ybGRoZWxsbyB3b3JsZGhlbGxvIHdvcmxkaGVsbG8gd29ybGQ=\n</base64></value>\n</param>\n<param>\n<value><double>1.5</double></value>\n</param>\n<param>\n<value><boolean>1</boolean></value>\n</param>\n<param>\n<value><nil/></value></param>\n<param>\n<value><dateTime.iso8601>20261125T10:20:30</dateTime.iso8601></value>\n</param>\n<param>\n<value><struct>\n<member>\n<name>a</name>\n<value><int>1</int></value>\n</member>\n<member>\n<name>b</name>\n<value><array><data>\n<value><int>1</int></value>\n<value><string>x</string></value>\n</data></array></value>\n</member>\n</struct></value>\n</param>\n</params>\n</methodCall>\n";
    let call = parse(body);
    assert_eq!(
        call.params,
        vec![
            Value::Base64(b"hello world".repeat(10)),
            Value::Double(1.5),
            Value::Boolean(true),
            Value::Nil,
            Value::DateTime("20261125T10:20:30".into()),
            Value::Struct(vec![
                ("a".into(), Value::Int(1)),
                ("b".into(), Value::Array(vec![Value::Int(1), "x".into()])),
            ]),
        ]
    );
    assert_eq!(call.params[4].unix_time(), Some(1_795_602_030));

    // xmlrpc.client.dumps(Fault(3, "bad <x>"))
    let body = "<?xml version='1.0'?>\n<methodResponse>\n<fault>\n<value><struct>\n<member>\n<name>faultCode</name>\n<value><int>3</int></value>\n</member>\n<member>\n<name>faultString</name>\n<value><string>bad &lt;x&gt;</string></value>\n</member>\n</struct></value>\n</fault>\n</methodResponse>\n";
    assert_eq!(
        parse_response(body.as_bytes(), &Limits::default()).unwrap(),
        Err(Fault {
            code: 3,
            message: "bad <x>".into()
        })
    );
}

#[test]
fn php_and_java_styles_parse() {
    // phpxmlrpc: declaration with encoding, i4, untyped strings, pretty-printed.
    let body = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<methodCall>\n<methodName>ContactService.add</methodName>\n<params>\n<param>\n<value><string>key</string></value>\n</param>\n<param>\n<value><struct>\n<member><name>FirstName</name>\n<value>Ann</value>\n</member>\n<member><name>Age</name>\n<value><i4>42</i4></value>\n</member>\n</struct></value>\n</param>\n</params>\n</methodCall>";
    let call = parse(body);
    assert_eq!(
        call.params[1].get("FirstName"),
        Some(&Value::String("Ann".into()))
    );
    assert_eq!(call.params[1].get("Age"), Some(&Value::Int(42)));

    // Apache XML-RPC with extensions: a namespace declaration, ex:i8 and ex:nil.
    let body = "<?xml version=\"1.0\" encoding=\"UTF-8\"?><methodCall xmlns:ex=\"http://ws.apache.org/xmlrpc/namespaces/extensions\"><methodName>DataService.query</methodName><params><param><value><ex:i8>9223372036854775807</ex:i8></value></param><param><value><ex:nil/></value></param></params></methodCall>";
    assert_eq!(parse(body).params, vec![Value::Int(i64::MAX), Value::Nil]);
}

#[test]
fn untyped_values_are_strings_with_whitespace_kept() {
    assert_eq!(
        one_param(&wrap("<value>plain</value>")),
        Value::String("plain".into())
    );
    assert_eq!(
        one_param(&wrap("<value>  two  words \n</value>")),
        Value::String("  two  words \n".into())
    );
    assert_eq!(one_param(&wrap("<value></value>")), Value::String(String::new()));
    assert_eq!(one_param(&wrap("<value/>")), Value::String(String::new()));
    assert_eq!(
        one_param(&wrap("<value>   </value>")),
        Value::String("   ".into())
    );
    assert_eq!(
        one_param(&wrap("<value>a&amp;b&lt;c&#233;&#x1F600;</value>")),
        Value::String("a&b<cé😀".into())
    );
    assert_eq!(
        one_param(&wrap("<value>x<!-- note -->y</value>")),
        Value::String("xy".into())
    );
}

#[test]
fn strings_keep_their_content() {
    assert_eq!(
        one_param(&wrap("<value><string/></value>")),
        Value::String(String::new())
    );
    assert_eq!(
        one_param(&wrap("<value><string></string></value>")),
        Value::String(String::new())
    );
    assert_eq!(
        one_param(&wrap("<value><string> \t x \n</string></value>")),
        Value::String(" \t x \n".into())
    );
    assert_eq!(
        one_param(&wrap(
            "<value><string><![CDATA[<b>&amp;</b>]]> tail</string></value>"
        )),
        Value::String("<b>&amp;</b> tail".into())
    );
    assert_eq!(
        one_param(&wrap("<value><string>&quot;&apos;&gt;</string></value>")),
        Value::String("\"'>".into())
    );
    // XML line-end normalisation applies to literal CR; a character reference keeps it.
    assert_eq!(
        one_param(&wrap("<value><string>a\r\nb\rc&#13;&#10;d</string></value>")),
        Value::String("a\nb\nc\r\nd".into())
    );
}

#[test]
fn whitespace_between_elements_is_ignored() {
    let body = " <?xml version=\"1.0\"?>";
    assert!(
        parse_call(body.as_bytes(), &Limits::default()).is_err(),
        "declaration must come first"
    );
    let body = "\u{feff}<?xml version=\"1.0\"?>\r\n<!-- hi -->\n<methodCall>\n\t<methodName> M.n </methodName>\n\t<params>\n\t\t<param>\n\t\t\t<value>\n\t\t\t\t<int> 7 </int>\n\t\t\t</value>\n\t\t</param>\n\t</params>\n</methodCall>\n<!-- bye -->\n";
    let call = parse(body);
    assert_eq!(call.method, "M.n");
    assert_eq!(call.params, vec![Value::Int(7)]);
}

#[test]
fn params_may_be_absent_or_empty() {
    for body in [
        "<methodCall><methodName>a.b</methodName></methodCall>",
        "<methodCall><methodName>a.b</methodName><params/></methodCall>",
        "<methodCall><methodName>a.b</methodName><params>\n</params></methodCall>",
    ] {
        assert_eq!(
            parse(body),
            MethodCall {
                method: "a.b".into(),
                params: vec![]
            }
        );
    }
}

#[test]
fn scalars_parse() {
    let cases: Vec<(&str, Value)> = vec![
        ("<int>5</int>", Value::Int(5)),
        ("<i4>-5</i4>", Value::Int(-5)),
        ("<int>+12</int>", Value::Int(12)),
        ("<int>007</int>", Value::Int(7)),
        ("<int>\n -2147483648 \n</int>", Value::Int(-2_147_483_648)),
        ("<i8>-9223372036854775808</i8>", Value::Int(i64::MIN)),
        ("<boolean>1</boolean>", Value::Boolean(true)),
        ("<boolean> 0 </boolean>", Value::Boolean(false)),
        ("<double>-12.214</double>", Value::Double(-12.214)),
        ("<double>1e+100</double>", Value::Double(1e100)),
        ("<double>5</double>", Value::Double(5.0)),
        (
            "<dateTime.iso8601> 19980717T14:08:55 </dateTime.iso8601>",
            Value::DateTime("19980717T14:08:55".into()),
        ),
        (
            "<base64>eW91IGNhbid0IHJlYWQgdGhpcyE=</base64>",
            Value::Base64(b"you can't read this!".to_vec()),
        ),
        ("<base64>\naGk\n</base64>", Value::Base64(b"hi".to_vec())),
        ("<base64></base64>", Value::Base64(vec![])),
        ("<nil/>", Value::Nil),
        ("<nil></nil>", Value::Nil),
        ("<ex:nil/>", Value::Nil),
        ("<array><data/></array>", Value::Array(vec![])),
        ("<struct/>", Value::Struct(vec![])),
    ];
    for (xml, want) in cases {
        assert_eq!(one_param(&wrap(&format!("<value>{xml}</value>"))), want, "{xml}");
    }
}

#[test]
fn nested_structs_and_arrays() {
    let xml = wrap(
        "<value><struct>\
         <member><name>list</name><value><array><data>\
           <value><struct><member><name>k</name><value><i4>1</i4></value></member></struct></value>\
           <value><array><data><value>deep</value><value><array><data/></array></value></data></array></value>\
         </data></array></value></member>\
         <member><name>flag</name><value><boolean>0</boolean></value></member>\
         </struct></value>",
    );
    assert_eq!(
        one_param(&xml),
        Value::Struct(vec![
            (
                "list".into(),
                Value::Array(vec![
                    Value::Struct(vec![("k".into(), Value::Int(1))]),
                    Value::Array(vec!["deep".into(), Value::Array(vec![])]),
                ])
            ),
            ("flag".into(), Value::Boolean(false)),
        ])
    );
}

#[test]
fn latin1_declared_bodies_are_decoded() {
    let mut body = b"<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><methodCall><methodName>m</methodName><params><param><value>caf".to_vec();
    body.push(0xE9);
    body.extend_from_slice(b"</value></param></params></methodCall>");
    let call = parse_call(&body, &Limits::default()).unwrap();
    assert_eq!(call.params, vec![Value::String("café".into())]);
}

#[test]
fn responses_with_extra_markup_parse() {
    let body = "<?xml version=\"1.0\"?>\n<methodResponse>\n<params>\n<param>\n<value>\n<array><data>\n<value><i4>1</i4></value>\n</data></array>\n</value>\n</param>\n</params>\n</methodResponse>";
    assert_eq!(
        parse_response(body.as_bytes(), &Limits::default()).unwrap(),
        Ok(Value::Array(vec![Value::Int(1)]))
    );
}
