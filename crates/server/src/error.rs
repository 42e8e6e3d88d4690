//! The two error shapes of the HTTP API, each mapped in one place: RFC 6749 error JSON on OAuth
//! endpoints, RFC 9457 problem details everywhere else.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use keygate_lib::{ManageError, OAuthError, OAuthErrorCode};
use serde::Serialize;
use utoipa::ToSchema;

use crate::json::Json;

/// An OAuth endpoint's error response; the status follows from the error code unless overridden
/// (413 for an oversized body, 429 when over a limit).
#[derive(Debug)]
pub struct OAuthErrorResponse {
    pub error: OAuthError,
    pub status: Option<StatusCode>,
    pub headers: Vec<(&'static str, String)>,
}

impl From<OAuthError> for OAuthErrorResponse {
    fn from(error: OAuthError) -> Self {
        Self {
            error,
            status: None,
            headers: Vec::new(),
        }
    }
}

/// A 429 problem (rate limit, lock-out) in RFC 6749's shape, keeping its `Retry-After` and
/// `RateLimit-*` headers.
impl From<Problem> for OAuthErrorResponse {
    fn from(p: Problem) -> Self {
        let code = match p.status {
            StatusCode::TOO_MANY_REQUESTS => OAuthErrorCode::TemporarilyUnavailable,
            s if s.is_server_error() => OAuthErrorCode::ServerError,
            _ => OAuthErrorCode::InvalidRequest,
        };
        Self {
            error: OAuthError::new(code, p.detail),
            status: Some(p.status),
            headers: p.headers,
        }
    }
}

impl IntoResponse for OAuthErrorResponse {
    fn into_response(self) -> Response {
        let status = self.status.unwrap_or(match self.error.code {
            OAuthErrorCode::InvalidClient => StatusCode::UNAUTHORIZED,
            OAuthErrorCode::ServerError => StatusCode::INTERNAL_SERVER_ERROR,
            _ => StatusCode::BAD_REQUEST,
        });
        let body = Json(OAuthErrorBody {
            error: self.error.code.as_str(),
            error_description: self.error.description,
        });
        let mut res = (status, no_store(), body).into_response();
        for (name, value) in self.headers {
            if let Ok(v) = HeaderValue::from_str(&value) {
                res.headers_mut().insert(name, v);
            }
        }
        if status == StatusCode::UNAUTHORIZED {
            res.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Basic realm=\"keygate\", charset=\"UTF-8\""),
            );
        }
        res
    }
}

/// RFC 6749 §5.2: the body of every error of the OAuth endpoints (`/oauth/token`, `/oauth/revoke`,
/// `/oauth/introspect`), sent with `Cache-Control: no-store`.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = OAuthError, example = json!({"error": "invalid_grant", "error_description": "the authorization code is invalid or has expired"}))]
pub struct OAuthErrorBody {
    #[schema(value_type = crate::openapi::schemas::OAuthErrorCode)]
    pub error: &'static str,
    /// For the developer reading the response; never contains a secret.
    pub error_description: String,
}

/// Token responses and their errors must not be cached (RFC 6749 §5.1).
pub fn no_store() -> [(header::HeaderName, HeaderValue); 2] {
    [
        (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
        (header::PRAGMA, HeaderValue::from_static("no-cache")),
    ]
}

/// An RFC 9457 problem. `kind` is the stable last segment of the `type` URI.
#[derive(Debug)]
pub struct Problem {
    pub status: StatusCode,
    pub kind: &'static str,
    pub title: &'static str,
    pub detail: String,
    /// The request field at fault, when there is one.
    pub field: Option<&'static str>,
    /// A short machine-readable code clients branch on (`token_expired`), sent as `error`.
    pub code: Option<&'static str>,
    /// Further response headers (`WWW-Authenticate`, `Retry-After`, `RateLimit-*`).
    pub headers: Vec<(&'static str, String)>,
}

impl Problem {
    pub fn new(
        status: StatusCode,
        kind: &'static str,
        title: &'static str,
        detail: impl Into<String>,
    ) -> Self {
        Self {
            status,
            kind,
            title,
            detail: detail.into(),
            field: None,
            code: None,
            headers: Vec::new(),
        }
    }
    pub fn bad_request(detail: impl Into<String>) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "invalid-request",
            "Invalid request",
            detail,
        )
    }
    pub fn not_found(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not-found", "Not found", detail)
    }
    pub fn unauthorized(detail: impl Into<String>, challenge: String) -> Self {
        let mut p = Self::new(StatusCode::UNAUTHORIZED, "unauthorized", "Unauthorized", detail);
        // An RFC 6750 (or Basic) challenge.
        p.headers.push(("www-authenticate", challenge));
        p
    }
    /// A credential without the scope an operation needs, with the RFC 6750 §3.1 challenge naming it.
    pub fn insufficient_scope(scope: keygate_core::scope::Scope, detail: impl Into<String>) -> Self {
        let mut p = Self::new(
            StatusCode::FORBIDDEN,
            "insufficient-scope",
            "Insufficient scope",
            detail,
        );
        p.code = Some("insufficient_scope");
        p.headers.push((
            "www-authenticate",
            format!(
                "Bearer realm=\"keygate\", error=\"insufficient_scope\", scope=\"{}\"",
                scope.as_str()
            ),
        ));
        p
    }
    /// The same answer whether the secret presented was right or wrong: nothing to learn from it.
    pub fn locked_out(l: keygate_lib::lockout::LockedOut) -> Self {
        let mut p = Self::new(
            StatusCode::TOO_MANY_REQUESTS,
            "locked-out",
            "Too many failed attempts",
            "too many failed authentications with this credential or from this address; try again later",
        );
        p.code = Some("locked_out");
        p.headers.push(("retry-after", l.retry_after.max(1).to_string()));
        p
    }
    pub fn internal(e: impl std::fmt::Display) -> Self {
        tracing::error!(error = %e, "internal error");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "Internal error",
            "the server could not complete the request",
        )
    }
}

pub const PROBLEM_JSON: &str = "application/problem+json";

/// RFC 9457 problem details: the body of every error of the REST and admin APIs, sent as
/// `application/problem+json`.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = Problem, example = json!({
    "type": "urn:keygate:problem:invalid-field",
    "title": "Invalid field",
    "status": 422,
    "detail": "tag_ids: tag ids must be positive",
    "field": "tag_ids"
}))]
pub struct ProblemBody {
    /// `urn:keygate:problem:` and a stable kind (`not-found`, `invalid-field`, `unauthorized`, …).
    #[serde(rename = "type")]
    #[schema(example = "urn:keygate:problem:not-found")]
    pub kind: String,
    pub title: &'static str,
    /// The HTTP status, repeated.
    pub status: u16,
    pub detail: String,
    /// The request field at fault, when there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = String, required = false)]
    pub field: Option<&'static str>,
    /// A short machine-readable code clients branch on (`token_expired`, `insufficient_scope`, …).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = String, required = false)]
    pub error: Option<&'static str>,
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let body = ProblemBody {
            kind: format!("urn:keygate:problem:{}", self.kind),
            title: self.title,
            status: self.status.as_u16(),
            detail: self.detail,
            field: self.field,
            error: self.code,
        };
        let mut res = (self.status, Json(body)).into_response();
        res.headers_mut()
            .insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));

        for (name, value) in self.headers {
            if let Ok(v) = HeaderValue::from_str(&value) {
                res.headers_mut().insert(name, v);
            }
        }
        res
    }
}

impl From<keygate_core::InvalidInput> for Problem {
    fn from(i: keygate_core::InvalidInput) -> Self {
        let mut p = Self::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid-field",
            "Invalid field",
            i.to_string(),
        );
        p.field = Some(i.field);
        p
    }
}

impl From<ManageError> for Problem {
    fn from(e: ManageError) -> Self {
        match e {
            ManageError::Invalid(i) => i.into(),
            ManageError::NotFound(what) => Self::not_found(format!("{what} not found")),
            ManageError::Conflict(m) => Self::new(StatusCode::CONFLICT, "conflict", "Conflict", m),
            ManageError::Store(e) => Self::internal(e),
            ManageError::Keys(e) => Self::internal(e),
        }
    }
}

/// A guarded authentication's refusal in the door's own error shape: a lock-out as 429, anything else
/// as the door maps it.
pub fn refusal<E, R: From<Problem>>(g: keygate_lib::lockout::Guarded<E>, failed: impl FnOnce(E) -> R) -> R {
    match g {
        keygate_lib::lockout::Guarded::Locked(l) => Problem::locked_out(l).into(),
        keygate_lib::lockout::Guarded::Failed(e) => failed(e),
    }
}
