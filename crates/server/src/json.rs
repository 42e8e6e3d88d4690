//! JSON answers. Request bodies are read by [`crate::extract::ApiJson`].
//!
//! Rather than `axum::Json` as a response because that one serializes into a 128-byte `BytesMut`:
//! nearly every answer of the API is longer, so it grows the buffer once or twice, and writes every
//! piece through `bytes`' writer: about 700 instructions on `/v1/me`, a fifth of what serializing it
//! costs (`bench/ --callgrind`). A `Vec` sized for a typical answer grows at most once and hands its
//! memory to the body without a copy.

use axum::body::Body;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

/// Room for most answers (a contact, a token, `/v1/me`); larger ones grow the buffer.
const TYPICAL_ANSWER: usize = 512;

/// A JSON answer (`application/json`).
#[derive(Debug, Clone, Copy, Default)]
#[must_use]
pub struct Json<T>(pub T);

impl<T: Serialize> IntoResponse for Json<T> {
    fn into_response(self) -> Response {
        let mut buf = Answer(Vec::with_capacity(TYPICAL_ANSWER));
        match serde_json::to_writer(&mut buf, &self.0) {
            Ok(()) => with_body(buf.0),
            Err(e) => failed(e),
        }
    }
}

/// The answer's bytes. serde_json writes every quote, colon and comma on its own, and `Vec`'s own
/// `write_all` copies even one byte through `memcpy`: pushed instead, `/v1/me`'s answer takes 2,827
/// instructions to write rather than 3,124 (`bench/ --callgrind`).
struct Answer(Vec<u8>);

impl std::io::Write for Answer {
    #[inline]
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.write_all(bytes)?;
        Ok(bytes.len())
    }

    #[inline]
    fn write_all(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        match bytes {
            [byte] => self.0.push(*byte),
            _ => self.0.extend_from_slice(bytes),
        }
        Ok(())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Outside the generic function: compiled once, not once per answer type. The response is built
/// directly: turning the `Vec` into a response first would set a content type only to replace it.
fn with_body(buf: Vec<u8>) -> Response {
    let mut res = Response::new(Body::from(buf));
    res.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    res
}

/// Only a `Serialize` implementation that refuses its value gets here (serde_json cannot fail writing
/// to memory otherwise): a bug, answered as a plain 500 rather than a half-written body.
fn failed(e: serde_json::Error) -> Response {
    tracing::error!(error = %e, "an answer could not be serialized");
    (
        StatusCode::INTERNAL_SERVER_ERROR,
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/plain; charset=utf-8"),
        )],
        "the server could not write its answer",
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::ser::Error as _;

    #[tokio::test]
    async fn writes_the_value_as_json() {
        let long = "x".repeat(2 * TYPICAL_ANSWER);
        let res = Json(serde_json::json!({"a": "b", "long": long})).into_response();
        assert_eq!(res.status(), StatusCode::OK);
        assert_eq!(res.headers()[header::CONTENT_TYPE], "application/json");
        let body = axum::body::to_bytes(res.into_body(), usize::MAX).await.unwrap();
        let back: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(back, serde_json::json!({"a": "b", "long": long}));
    }

    struct Refuses;
    impl Serialize for Refuses {
        fn serialize<S: serde::Serializer>(&self, _: S) -> Result<S::Ok, S::Error> {
            Err(S::Error::custom("no"))
        }
    }

    #[test]
    fn a_value_that_cannot_be_written_is_a_500() {
        let res = Json(Refuses).into_response();
        assert_eq!(res.status(), StatusCode::INTERNAL_SERVER_ERROR);
        assert!(res.headers()[header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("text/plain"));
    }
}
