//! Request extractors whose rejections speak each protocol's error format instead of axum's plain text.

use std::collections::HashMap;

use axum::body::Bytes;
use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, Request};
use axum::http::{header, StatusCode};
use keygate_lib::OAuthError;
use serde::de::DeserializeOwned;

use crate::error::{OAuthErrorResponse, Problem};

/// The parameters of an OAuth form POST (`application/x-www-form-urlencoded`), following RFC 6749 §3.1:
/// a parameter sent without a value counts as absent, and one sent twice is an error.
#[derive(Debug, Default)]
pub struct OAuthForm(pub HashMap<String, String>);

impl OAuthForm {
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(String::as_str)
    }
    pub fn take(&mut self, name: &str) -> Option<String> {
        self.0.remove(name)
    }
    pub fn require(&mut self, name: &str) -> Result<String, OAuthError> {
        self.take(name)
            .ok_or_else(|| OAuthError::invalid_request(format!("{name} is required")))
    }
}

pub fn is_form(req: &Request) -> bool {
    req.headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("application/x-www-form-urlencoded"))
}

/// Parses a urlencoded body into unique, non-empty parameters.
pub fn parse_form(body: &[u8]) -> Result<HashMap<String, String>, String> {
    let pairs: Vec<(String, String)> =
        serde_urlencoded::from_bytes(body).map_err(|e| format!("the body is not a valid form: {e}"))?;
    let mut out = HashMap::with_capacity(pairs.len());
    for (k, v) in pairs {
        if v.is_empty() {
            continue;
        }
        if out.insert(k.clone(), v).is_some() {
            return Err(format!("parameter {k} is repeated"));
        }
    }
    Ok(out)
}

impl<S: Send + Sync> FromRequest<S> for OAuthForm {
    type Rejection = OAuthErrorResponse;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        if !is_form(&req) {
            return Err(
                OAuthError::invalid_request("the body must be application/x-www-form-urlencoded").into(),
            );
        }
        let body = Bytes::from_request(req, state).await.map_err(|r| {
            let mut e = OAuthErrorResponse::from(OAuthError::invalid_request(r.body_text()));
            if r.status() == StatusCode::PAYLOAD_TOO_LARGE {
                e.error.description = "the request body is too large".into();
                e.status = Some(StatusCode::PAYLOAD_TOO_LARGE);
            }
            e
        })?;
        parse_form(&body)
            .map(OAuthForm)
            .map_err(|m| OAuthError::invalid_request(m).into())
    }
}

/// A JSON body for the REST APIs, rejecting with problem details.
pub struct ApiJson<T>(pub T);

/// A JSON body that may also be left out entirely (`None`); when present, the same rules as [`ApiJson`].
pub struct OptionalApiJson<T>(pub Option<T>);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for OptionalApiJson<T> {
    type Rejection = Problem;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let (parts, body) = req.into_parts();
        let bytes = Bytes::from_request(Request::from_parts(parts.clone(), body), state)
            .await
            .map_err(|r| match r.status() {
                StatusCode::PAYLOAD_TOO_LARGE => Problem::new(
                    r.status(),
                    "body-too-large",
                    "Body too large",
                    "the request body is too large",
                ),
                status => Problem::new(status, "invalid-body", "Invalid body", r.body_text()),
            })?;
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(OptionalApiJson(None));
        }
        let req = Request::from_parts(parts, axum::body::Body::from(bytes));
        ApiJson::<T>::from_request(req, state)
            .await
            .map(|ApiJson(v)| OptionalApiJson(Some(v)))
    }
}

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for ApiJson<T> {
    type Rejection = Problem;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(v)) => Ok(ApiJson(v)),
            Err(r) => Err(json_problem(r)),
        }
    }
}

pub fn json_problem(r: JsonRejection) -> Problem {
    let status = r.status();
    let detail = r.body_text();
    match r {
        JsonRejection::JsonDataError(_) => Problem::new(status, "invalid-body", "Invalid body", detail),
        JsonRejection::JsonSyntaxError(_) => Problem::new(status, "malformed-json", "Malformed JSON", detail),
        JsonRejection::MissingJsonContentType(_) => Problem::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported-media-type",
            "Unsupported media type",
            "the body must be application/json",
        ),
        _ if status == StatusCode::PAYLOAD_TOO_LARGE => Problem::new(
            status,
            "body-too-large",
            "Body too large",
            "the request body is too large",
        ),
        _ => Problem::new(status, "invalid-body", "Invalid body", detail),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_rules() {
        let f = parse_form(b"a=1&b=&c=x%20y").unwrap();
        assert_eq!(f.get("a").map(String::as_str), Some("1"));
        assert!(!f.contains_key("b"), "empty values count as absent");
        assert_eq!(f.get("c").map(String::as_str), Some("x y"));
        assert!(parse_form(b"a=1&a=2").unwrap_err().contains("repeated"));
    }
}
