//! XML-RPC documents to values: a recursive-descent parser over quick-xml's pull tokenizer.
//!
//! quick-xml splits the text into events and checks the XML syntax (tags closed and matched,
//! attributes well-formed). It never expands entities itself: references reach us as
//! `Event::GeneralRef`, and we decode only the five predefined ones and character references. A
//! `<!DOCTYPE` reaches us as `Event::DocType` and is refused, so no DTD is ever read. Everything
//! XML-RPC-specific (which element may stand where, scalar syntax, limits) is checked here.

use std::borrow::Cow;
use std::collections::HashSet;

use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig};
use base64::engine::DecodePaddingMode;
use base64::Engine as _;
use quick_xml::events::{BytesStart, Event};
use quick_xml::Reader;

use crate::encode::is_xml_char;
use crate::{Fault, Limits, MethodCall, ParseError, Value};

/// Decodes a `<methodCall>`.
pub fn parse_call(body: &[u8], limits: &Limits) -> Result<MethodCall, ParseError> {
    let text = decode_body(body)?;
    let mut p = Parser::new(&text, limits);
    p.expect_start(Tag::MethodCall, "the document")?;
    p.expect_start(Tag::MethodName, "<methodCall>")?;
    let method = p.text_until_end(Tag::MethodName)?;
    let method = method.trim_matches(is_xml_space);
    check_method_name(method)?;
    let mut params = Vec::new();
    match p.structural("<methodCall>")? {
        Token::Start(Tag::Params) => {
            loop {
                match p.structural("<params>")? {
                    Token::Start(Tag::Param) => params.push(p.param()?),
                    Token::End(Tag::Params) => break,
                    other => return Err(unexpected(&other, "<params>")),
                }
            }
            p.expect_end(Tag::MethodCall)?;
        }
        Token::End(Tag::MethodCall) => {}
        other => return Err(unexpected(&other, "<methodCall>")),
    }
    p.expect_eof()?;
    Ok(MethodCall {
        method: method.to_owned(),
        params,
    })
}

/// Decodes a `<methodResponse>`: `Ok(Ok(value))` for one `<param>`, `Ok(Err(fault))` for a
/// `<fault>` whose struct has an int `faultCode` and a string `faultString` (an untyped value
/// counts as a string).
pub fn parse_response(body: &[u8], limits: &Limits) -> Result<Result<Value, Fault>, ParseError> {
    let text = decode_body(body)?;
    let mut p = Parser::new(&text, limits);
    p.expect_start(Tag::MethodResponse, "the document")?;
    let result = match p.structural("<methodResponse>")? {
        Token::Start(Tag::Params) => {
            p.expect_start(Tag::Param, "<params>")?;
            let value = p.param()?;
            p.expect_end(Tag::Params)?;
            Ok(value)
        }
        Token::Start(Tag::Fault) => {
            p.expect_start(Tag::Value, "<fault>")?;
            let value = p.value(1)?;
            p.expect_end(Tag::Fault)?;
            Err(fault_from(value)?)
        }
        other => return Err(unexpected(&other, "<methodResponse>")),
    };
    p.expect_end(Tag::MethodResponse)?;
    p.expect_eof()?;
    Ok(result)
}

fn fault_from(value: Value) -> Result<Fault, ParseError> {
    let code = value.get("faultCode").and_then(Value::as_int);
    let message = value.get("faultString").and_then(Value::as_str);
    match (code, message) {
        (Some(code), Some(message)) => Ok(Fault {
            code,
            message: message.to_owned(),
        }),
        _ => Err(ParseError::new(
            "a <fault> must hold a struct with an int faultCode and a string faultString",
        )),
    }
}

/// The spec's method name: "identifier characters, upper and lower-case A-Z, the numeric characters,
/// 0-9, underscore, dot, colon and slash".
fn check_method_name(name: &str) -> Result<(), ParseError> {
    if name.is_empty() {
        return Err(ParseError::new("the method name is empty"));
    }
    if let Some(c) = name
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | ':' | '/')))
    {
        return Err(ParseError::new(format!(
            "the method name {} contains {c:?}; only letters, digits, '_', '.', ':' and '/' are allowed",
            quote(name)
        )));
    }
    Ok(())
}

/// Skips a UTF-8 byte order mark and decodes per the XML declaration's `encoding`: UTF-8 (also
/// when it says US-ASCII or says nothing) or ISO-8859-1. UTF-16 and other encodings are refused.
fn decode_body(body: &[u8]) -> Result<Cow<'_, str>, ParseError> {
    let body = body.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(body);
    if body.starts_with(b"\xFE\xFF") || body.starts_with(b"\xFF\xFE") {
        return Err(ParseError::new("UTF-16 is not supported; send UTF-8"));
    }
    let encoding = declared_encoding(body)?.map(|e| e.to_ascii_lowercase());
    match encoding.as_deref() {
        None | Some("utf-8" | "utf8" | "us-ascii" | "ascii") => match std::str::from_utf8(body) {
            Ok(text) => Ok(Cow::Borrowed(text)),
            Err(e) => Err(ParseError::new(format!(
                "the body is not valid UTF-8 (at byte {})",
                e.valid_up_to()
            ))),
        },
        // Each ISO-8859-1 byte is the Unicode code point of the same number.
        Some("iso-8859-1" | "iso8859-1" | "latin1" | "latin-1" | "l1") => {
            Ok(Cow::Owned(body.iter().map(|&b| char::from(b)).collect()))
        }
        Some(other) => Err(ParseError::new(format!(
            "the encoding {} is not supported; send UTF-8",
            quote(other)
        ))),
    }
}

/// The `encoding` of a leading `<?xml …?>`, read by quick-xml from just the declaration (which must
/// be ASCII whatever the encoding).
fn declared_encoding(body: &[u8]) -> Result<Option<String>, ParseError> {
    if !body.starts_with(b"<?xml") {
        return Ok(None);
    }
    let Some(end) = body.windows(2).take(1024).position(|w| w == b"?>") else {
        // Unclosed or absurdly long: let the main parse report it.
        return Ok(None);
    };
    let Ok(decl) = std::str::from_utf8(&body[..end + 2]) else {
        return Err(ParseError::new("the XML declaration is not ASCII"));
    };
    match Reader::from_str(decl).read_event() {
        Ok(Event::Decl(d)) => match d.encoding() {
            None => Ok(None),
            Some(Ok(e)) => Ok(Some(e.into_owned())),
            Some(Err(e)) => Err(ParseError::new(format!("malformed XML declaration: {e}"))),
        },
        // `<?xml-stylesheet …?>` and the like: refused by the main parse.
        _ => Ok(None),
    }
}

/// The elements XML-RPC uses; any other name is refused as soon as it is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tag {
    MethodCall,
    MethodName,
    MethodResponse,
    Params,
    Param,
    Fault,
    Value,
    Int,
    I4,
    I8,
    Boolean,
    String,
    Double,
    DateTime,
    Base64,
    Struct,
    Member,
    Name,
    Array,
    Data,
    Nil,
}

impl Tag {
    fn from_name(name: &str) -> Option<Tag> {
        Some(match name {
            "methodCall" => Tag::MethodCall,
            "methodName" => Tag::MethodName,
            "methodResponse" => Tag::MethodResponse,
            "params" => Tag::Params,
            "param" => Tag::Param,
            "fault" => Tag::Fault,
            "value" => Tag::Value,
            "int" => Tag::Int,
            "i4" => Tag::I4,
            "i8" | "ex:i8" => Tag::I8,
            "boolean" => Tag::Boolean,
            "string" => Tag::String,
            "double" => Tag::Double,
            "dateTime.iso8601" => Tag::DateTime,
            "base64" => Tag::Base64,
            "struct" => Tag::Struct,
            "member" => Tag::Member,
            "name" => Tag::Name,
            "array" => Tag::Array,
            "data" => Tag::Data,
            "nil" | "ex:nil" => Tag::Nil,
            _ => return None,
        })
    }

    fn name(self) -> &'static str {
        match self {
            Tag::MethodCall => "methodCall",
            Tag::MethodName => "methodName",
            Tag::MethodResponse => "methodResponse",
            Tag::Params => "params",
            Tag::Param => "param",
            Tag::Fault => "fault",
            Tag::Value => "value",
            Tag::Int => "int",
            Tag::I4 => "i4",
            Tag::I8 => "i8",
            Tag::Boolean => "boolean",
            Tag::String => "string",
            Tag::Double => "double",
            Tag::DateTime => "dateTime.iso8601",
            Tag::Base64 => "base64",
            Tag::Struct => "struct",
            Tag::Member => "member",
            Tag::Name => "name",
            Tag::Array => "array",
            Tag::Data => "data",
            Tag::Nil => "nil",
        }
    }
}

/// What the grammar sees: tags, text (adjacent text, CDATA and references merged, comments
/// dropped) and the end.
#[derive(Debug)]
enum Token {
    Start(Tag),
    End(Tag),
    Text(String),
    Eof,
}

fn describe(token: &Token) -> String {
    match token {
        Token::Start(tag) => format!("<{}>", tag.name()),
        Token::End(tag) => format!("</{}>", tag.name()),
        Token::Text(text) => format!("text {}", quote(text)),
        Token::Eof => "the end of the document".to_owned(),
    }
}

fn unexpected(token: &Token, context: &str) -> ParseError {
    match token {
        Token::Eof => ParseError::new(format!("the document ends inside {context}")),
        _ => ParseError::new(format!("unexpected {} in {context}", describe(token))),
    }
}

/// A piece of input for an error message: cut to a few dozen characters, escaped like a Rust string.
fn cut(text: &str) -> String {
    const MAX_CHARS: usize = 40;
    let mut out: String = text
        .chars()
        .take(MAX_CHARS)
        .flat_map(char::escape_debug)
        .collect();
    if text.chars().nth(MAX_CHARS).is_some() {
        out.push('…');
    }
    out
}

/// [`cut`] in double quotes.
fn quote(text: &str) -> String {
    format!("\"{}\"", cut(text))
}

fn is_xml_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | '\r')
}

fn is_blank(text: &str) -> bool {
    text.chars().all(is_xml_space)
}

const LENIENT_BASE64: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

struct Parser<'a> {
    reader: Reader<&'a [u8]>,
    limits: &'a Limits,
    max_depth: usize,
    values: usize,
    peeked: Option<Token>,
    at_start: bool,
}

impl<'a> Parser<'a> {
    fn new(text: &'a str, limits: &'a Limits) -> Self {
        let mut reader = Reader::from_str(text);
        let config = reader.config_mut();
        config.check_end_names = true;
        config.check_comments = true;
        config.expand_empty_elements = true;
        config.allow_dangling_amp = false;
        config.allow_unmatched_ends = false;
        config.trim_text(false);
        Self {
            reader,
            limits,
            max_depth: limits.max_depth.min(Limits::DEPTH_CEILING),
            values: 0,
            peeked: None,
            at_start: true,
        }
    }

    fn xml_error(&self, e: &quick_xml::Error) -> ParseError {
        ParseError::new(format!(
            "malformed XML at byte {}: {e}",
            self.reader.error_position()
        ))
    }

    fn append(&self, text: &mut Option<String>, piece: &str) -> Result<(), ParseError> {
        if let Some(c) = piece.chars().find(|&c| !is_xml_char(c)) {
            return Err(ParseError::new(format!(
                "the character U+{:04X} is not allowed in XML",
                u32::from(c)
            )));
        }
        let text = text.get_or_insert_with(String::new);
        if text.len() + piece.len() > self.limits.max_string_bytes {
            return Err(ParseError::new(format!(
                "a text is longer than {} bytes",
                self.limits.max_string_bytes
            )));
        }
        text.push_str(piece);
        Ok(())
    }

    fn tag(name: &str) -> Result<Tag, ParseError> {
        Tag::from_name(name).ok_or_else(|| ParseError::new(format!("unknown element <{}>", cut(name))))
    }

    fn start(&self, start: &BytesStart<'_>) -> Result<Tag, ParseError> {
        let tag = Self::tag(start.name().as_ref())?;
        // XML-RPC has no attributes; tolerate namespace declarations and the like, but only if
        // they are well-formed.
        for attribute in start.attributes() {
            if let Err(e) = attribute {
                return Err(ParseError::new(format!(
                    "malformed attribute in <{}>: {e}",
                    tag.name()
                )));
            }
        }
        Ok(tag)
    }

    fn next(&mut self) -> Result<Token, ParseError> {
        if let Some(token) = self.peeked.take() {
            return Ok(token);
        }
        let mut text: Option<String> = None;
        loop {
            let event = self.reader.read_event().map_err(|e| self.xml_error(&e))?;
            let at_start = std::mem::replace(&mut self.at_start, false);
            let token = match event {
                Event::Text(t) => {
                    self.append(&mut text, &t.xml10_content())?;
                    continue;
                }
                Event::CData(t) => {
                    self.append(&mut text, &t.xml10_content())?;
                    continue;
                }
                Event::GeneralRef(r) => {
                    let resolved = match r.resolve_char_ref() {
                        Ok(Some(c)) => c,
                        Ok(None) => match &*r {
                            "lt" => '<',
                            "gt" => '>',
                            "amp" => '&',
                            "apos" => '\'',
                            "quot" => '"',
                            name => return Err(ParseError::new(format!("unknown entity &{};", cut(name)))),
                        },
                        Err(_) => {
                            return Err(ParseError::new(format!(
                                "invalid character reference &{};",
                                cut(&r)
                            )))
                        }
                    };
                    self.append(&mut text, resolved.encode_utf8(&mut [0; 4]))?;
                    continue;
                }
                Event::Comment(_) => continue,
                Event::Decl(d) if at_start => {
                    if let Err(e) = d.version() {
                        return Err(ParseError::new(format!("malformed XML declaration: {e}")));
                    }
                    continue;
                }
                Event::Decl(_) => {
                    return Err(ParseError::new(
                        "the XML declaration is only allowed at the very start",
                    ))
                }
                Event::PI(_) => return Err(ParseError::new("processing instructions are not allowed")),
                Event::DocType(_) => return Err(ParseError::new("DTDs are not allowed")),
                Event::Start(s) => Token::Start(self.start(&s)?),
                Event::End(e) => Token::End(Self::tag(e.name().as_ref())?),
                // Not produced with `expand_empty_elements`; refused rather than mishandled.
                Event::Empty(_) => return Err(ParseError::new("unexpected empty element")),
                Event::Eof => Token::Eof,
            };
            return Ok(match text {
                Some(text) => {
                    self.peeked = Some(token);
                    Token::Text(text)
                }
                None => token,
            });
        }
    }

    /// The next tag or the end, skipping whitespace; other text is an error.
    fn structural(&mut self, context: &str) -> Result<Token, ParseError> {
        match self.next()? {
            Token::Text(text) if is_blank(&text) => self.next_not_text(context),
            token => Ok(token),
        }
    }

    fn next_not_text(&mut self, context: &str) -> Result<Token, ParseError> {
        match self.next()? {
            token @ Token::Text(_) => Err(unexpected(&token, context)),
            token => Ok(token),
        }
    }

    fn expect_start(&mut self, tag: Tag, context: &str) -> Result<(), ParseError> {
        match self.structural(context)? {
            Token::Start(t) if t == tag => Ok(()),
            other => Err(ParseError::new(format!(
                "expected <{}> in {context}, found {}",
                tag.name(),
                describe(&other)
            ))),
        }
    }

    fn expect_end(&mut self, tag: Tag) -> Result<(), ParseError> {
        let context = format!("<{}>", tag.name());
        match self.structural(&context)? {
            Token::End(t) if t == tag => Ok(()),
            other => Err(ParseError::new(format!(
                "expected </{}>, found {}",
                tag.name(),
                describe(&other)
            ))),
        }
    }

    fn expect_eof(&mut self) -> Result<(), ParseError> {
        match self.structural("the document")? {
            Token::Eof => Ok(()),
            other => Err(ParseError::new(format!(
                "unexpected {} after the document element",
                describe(&other)
            ))),
        }
    }

    /// The text of a text-only element whose start tag was just read, up to and including its end
    /// tag; empty for `<x/>` and `<x></x>`.
    fn text_until_end(&mut self, tag: Tag) -> Result<String, ParseError> {
        let context = format!("<{}>", tag.name());
        let (text, token) = match self.next()? {
            Token::Text(text) => (text, self.next()?),
            token => (String::new(), token),
        };
        match token {
            Token::End(t) if t == tag => Ok(text),
            other => Err(unexpected(&other, &context)),
        }
    }

    /// A `<param>` whose start tag was just read: one `<value>`, then `</param>`.
    fn param(&mut self) -> Result<Value, ParseError> {
        self.expect_start(Tag::Value, "<param>")?;
        let value = self.value(1)?;
        self.expect_end(Tag::Param)?;
        Ok(value)
    }

    /// A `<value>` whose start tag was just read, at nesting `depth` (1 for a parameter), up to and
    /// including `</value>`.
    fn value(&mut self, depth: usize) -> Result<Value, ParseError> {
        if depth > self.max_depth {
            return Err(ParseError::new(format!(
                "values are nested more than {} deep",
                self.max_depth
            )));
        }
        self.values += 1;
        if self.values > self.limits.max_values {
            return Err(ParseError::new(format!(
                "the document holds more than {} values",
                self.limits.max_values
            )));
        }
        let tag = match self.next()? {
            Token::End(Tag::Value) => return Ok(Value::String(String::new())),
            Token::Start(tag) => tag,
            Token::Text(text) => match self.next()? {
                // No type element: a string, whitespace and all.
                Token::End(Tag::Value) => return Ok(Value::String(text)),
                Token::Start(tag) if is_blank(&text) => tag,
                Token::Start(tag) => {
                    return Err(ParseError::new(format!(
                        "text {} mixed with <{}> in <value>",
                        quote(&text),
                        tag.name()
                    )))
                }
                other => return Err(unexpected(&other, "<value>")),
            },
            other => return Err(unexpected(&other, "<value>")),
        };
        let value = match tag {
            Tag::Int | Tag::I4 => {
                let text = self.text_until_end(tag)?;
                Value::Int(parse_int::<i32>(&text, tag)?.into())
            }
            Tag::I8 => Value::Int(parse_int::<i64>(&self.text_until_end(tag)?, tag)?),
            Tag::Boolean => match self.text_until_end(tag)?.trim_matches(is_xml_space) {
                "1" => Value::Boolean(true),
                "0" => Value::Boolean(false),
                other => {
                    return Err(ParseError::new(format!(
                        "<boolean> must be 0 or 1, not {}",
                        quote(other)
                    )))
                }
            },
            Tag::String => Value::String(self.text_until_end(tag)?),
            Tag::Double => {
                let text = self.text_until_end(tag)?;
                let trimmed = text.trim_matches(is_xml_space);
                match trimmed.parse::<f64>() {
                    Ok(d) => Value::Double(d),
                    Err(_) => {
                        return Err(ParseError::new(format!(
                            "<double> holds {}, not a number",
                            quote(trimmed)
                        )))
                    }
                }
            }
            Tag::DateTime => {
                let text = self.text_until_end(tag)?;
                let trimmed = text.trim_matches(is_xml_space);
                if trimmed.is_empty() {
                    return Err(ParseError::new("<dateTime.iso8601> is empty"));
                }
                Value::DateTime(trimmed.to_owned())
            }
            Tag::Base64 => {
                let mut text = self.text_until_end(tag)?;
                text.retain(|c| !is_xml_space(c));
                match LENIENT_BASE64.decode(&text) {
                    Ok(bytes) => Value::Base64(bytes),
                    Err(e) => return Err(ParseError::new(format!("<base64> is not valid base64: {e}"))),
                }
            }
            Tag::Nil => {
                let text = self.text_until_end(tag)?;
                if !is_blank(&text) {
                    return Err(ParseError::new("<nil/> must be empty"));
                }
                Value::Nil
            }
            Tag::Struct => self.struct_members(depth)?,
            Tag::Array => self.array(depth)?,
            other => return Err(unexpected(&Token::Start(other), "<value>")),
        };
        self.expect_end(Tag::Value)?;
        Ok(value)
    }

    fn struct_members(&mut self, depth: usize) -> Result<Value, ParseError> {
        let mut members = Vec::new();
        let mut seen = HashSet::new();
        loop {
            match self.structural("<struct>")? {
                Token::Start(Tag::Member) => {}
                Token::End(Tag::Struct) => return Ok(Value::Struct(members)),
                other => return Err(unexpected(&other, "<struct>")),
            }
            self.expect_start(Tag::Name, "<member>")?;
            let name = self.text_until_end(Tag::Name)?;
            if !seen.insert(name.clone()) {
                return Err(ParseError::new(format!(
                    "the struct member {} appears twice",
                    quote(&name)
                )));
            }
            self.expect_start(Tag::Value, "<member>")?;
            let value = self.value(depth + 1)?;
            self.expect_end(Tag::Member)?;
            members.push((name, value));
        }
    }

    fn array(&mut self, depth: usize) -> Result<Value, ParseError> {
        self.expect_start(Tag::Data, "<array>")?;
        let mut items = Vec::new();
        loop {
            match self.structural("<data>")? {
                Token::Start(Tag::Value) => items.push(self.value(depth + 1)?),
                Token::End(Tag::Data) => break,
                other => return Err(unexpected(&other, "<data>")),
            }
        }
        self.expect_end(Tag::Array)?;
        Ok(Value::Array(items))
    }
}

/// An integer in decimal with an optional sign, surrounded by whitespace or not.
fn parse_int<T: std::str::FromStr>(text: &str, tag: Tag) -> Result<T, ParseError> {
    let trimmed = text.trim_matches(is_xml_space);
    let digits = trimmed.strip_prefix(['+', '-']).unwrap_or(trimmed);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(ParseError::new(format!(
            "<{}> holds {}, not an integer",
            tag.name(),
            quote(trimmed)
        )));
    }
    trimmed.parse::<T>().map_err(|_| {
        ParseError::new(format!(
            "<{}> value {} is out of range",
            tag.name(),
            quote(trimmed)
        ))
    })
}
