//! One keep-alive HTTP/1.1 connection, driven request by request: the load generator's unit, and the
//! client the harness seeds with. Plain hyper, no pool, so the client's own cost stays small.

use std::net::SocketAddr;

use anyhow::Context;
use bytes::Bytes;
use http::header::{HeaderName, HeaderValue, CONTENT_TYPE, HOST};
use http::{Method, Request, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::SendRequest;
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;

pub type Body = Full<Bytes>;

pub struct Conn {
    sender: SendRequest<Body>,
}

/// A response, fully read.
pub struct Reply {
    pub status: StatusCode,
    pub headers: http::HeaderMap,
    pub body: Bytes,
}

impl Reply {
    pub fn json(&self) -> anyhow::Result<serde_json::Value> {
        serde_json::from_slice(&self.body).with_context(|| {
            format!(
                "status {}, body not JSON: {}",
                self.status,
                String::from_utf8_lossy(&self.body)
            )
        })
    }

    /// The JSON body of a response that must have `expected` status.
    pub fn expect_json(&self, expected: u16, what: &str) -> anyhow::Result<serde_json::Value> {
        if self.status.as_u16() != expected {
            anyhow::bail!(
                "{what}: expected {expected}, got {}: {}",
                self.status,
                String::from_utf8_lossy(&self.body)
            );
        }
        self.json()
    }
}

impl Conn {
    pub async fn open(addr: SocketAddr) -> anyhow::Result<Conn> {
        let stream = TcpStream::connect(addr)
            .await
            .with_context(|| format!("connecting to {addr}"))?;
        stream.set_nodelay(true)?;
        let (sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
        tokio::spawn(async move {
            // Ends when the peer closes or the sender is dropped; errors surface on the next send.
            let _ = connection.await;
        });
        Ok(Conn { sender })
    }

    pub async fn send(&mut self, request: Request<Body>) -> anyhow::Result<Reply> {
        self.sender.ready().await?;
        let response = self.sender.send_request(request).await?;
        let (parts, body) = response.into_parts();
        let body = body.collect().await?.to_bytes();
        Ok(Reply {
            status: parts.status,
            headers: parts.headers,
            body,
        })
    }
}

/// A request to the server at `host`, with the headers given and an optional body.
pub fn request(
    method: Method,
    host: &HeaderValue,
    path: &str,
    headers: &[(HeaderName, HeaderValue)],
    body: Option<(&'static str, Bytes)>,
) -> Request<Body> {
    let mut builder = Request::builder().method(method).uri(path).header(HOST, host);
    for (name, value) in headers {
        builder = builder.header(name, value);
    }
    let body = match body {
        Some((content_type, bytes)) => {
            builder = builder.header(CONTENT_TYPE, content_type);
            Full::new(bytes)
        }
        None => Full::new(Bytes::new()),
    };
    match builder.body(body) {
        Ok(r) => r,
        // Only a path or header value that is not valid HTTP fails, and the harness builds those.
        Err(e) => panic!("invalid request to {path}: {e}"),
    }
}

/// A header value the harness made itself (tokens, ids): always visible ASCII.
pub fn value(s: &str) -> HeaderValue {
    match HeaderValue::from_str(s) {
        Ok(v) => v,
        Err(e) => panic!("{s:?} is not a valid header value: {e}"),
    }
}

/// `Basic base64(user:password)`.
pub fn basic(user: &str, password: &str) -> HeaderValue {
    value(&format!(
        "Basic {}",
        base64(format!("{user}:{password}").as_bytes())
    ))
}

/// Standard base64 with padding (all the harness needs of it; no dependency for one function).
pub fn base64(input: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(input.len().div_ceil(3) * 4);
    for chunk in input.chunks(3) {
        let b = [chunk[0], *chunk.get(1).unwrap_or(&0), *chunk.get(2).unwrap_or(&0)];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// `application/x-www-form-urlencoded` escaping of one value.
pub fn form_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => out.push(b as char),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_matches_the_standard() {
        assert_eq!(base64(b""), "");
        assert_eq!(base64(b"f"), "Zg==");
        assert_eq!(base64(b"fo"), "Zm8=");
        assert_eq!(base64(b"foo"), "Zm9v");
        assert_eq!(base64(b"foob"), "Zm9vYg==");
        assert_eq!(base64(b"client:kgcs_a+b/c"), "Y2xpZW50OmtnY3NfYStiL2M=");
    }

    #[test]
    fn form_escaping() {
        assert_eq!(form_escape("a b+c/é"), "a%20b%2Bc%2F%C3%A9");
        assert_eq!(form_escape("eyJ.abc-_~"), "eyJ.abc-_~");
    }
}
