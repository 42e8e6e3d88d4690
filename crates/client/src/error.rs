//! Errors: every failed call is an [`Error`], and every error answer of the server becomes a [`Problem`]
//! (RFC 9457 problem details on the REST API; RFC 6749 error JSON on the OAuth endpoints is read into the
//! same shape, with its code in [`Problem::error`]).

use std::time::Duration;

use reqwest::header::{HeaderMap, RETRY_AFTER, WWW_AUTHENTICATE};
use reqwest::StatusCode;
use serde::{Deserialize, Serialize};

/// An error answer of the server: RFC 9457 problem details (`application/problem+json`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Problem {
    /// `urn:keygate:problem:` and a stable kind (`not-found`, `invalid-field`, …); empty when the server
    /// answered RFC 6749 error JSON or no JSON at all.
    #[serde(rename = "type", default)]
    pub kind: String,
    #[serde(default)]
    pub title: String,
    /// The HTTP status.
    #[serde(default)]
    pub status: u16,
    /// For the developer reading it; never contains a secret.
    #[serde(default)]
    pub detail: String,
    /// The request field at fault, when there is one (`email_addresses[0].email`).
    #[serde(default)]
    pub field: Option<String>,
    /// A short code to branch on: `token_expired`, `insufficient_scope`, `rate_limited`, or an RFC 6749
    /// code (`invalid_grant`, …) from the OAuth endpoints.
    #[serde(default)]
    pub error: Option<String>,
}

impl Problem {
    /// The last segment of `type`: `not-found`, `precondition-failed`, … (empty when there is none).
    pub fn kind_name(&self) -> &str {
        self.kind.rsplit(':').next().unwrap_or_default()
    }
}

/// RFC 6749 §5.2: the OAuth endpoints' error body.
#[derive(Deserialize)]
struct OAuthErrorBody {
    error: String,
    #[serde(default)]
    error_description: Option<String>,
}

/// Why a call failed. Match on the variant for the common cases; [`Error::problem`] has the server's
/// whole answer.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// 401: no, bad, expired or revoked credentials. The client already retried once with a fresh token
    /// where it manages tokens itself.
    #[error("unauthorized: {}", .problem.detail)]
    Unauthorized { problem: Box<Problem> },
    /// 403: the token lacks `scope` (`insufficient_scope`), or the account, user or origin is refused.
    #[error("forbidden{}: {}", .scope.as_deref().map(|s| format!(" (needs scope {s})")).unwrap_or_default(), .problem.detail)]
    Forbidden {
        /// The scope the call needs, from `WWW-Authenticate` (`insufficient_scope` only).
        scope: Option<String>,
        problem: Box<Problem>,
    },
    /// 404: no such resource (another account's reads the same).
    #[error("not found: {}", .problem.detail)]
    NotFound { problem: Box<Problem> },
    /// 409: the change conflicts with the resource's state (`opt_in_refused`).
    #[error("conflict: {}", .problem.detail)]
    Conflict { problem: Box<Problem> },
    /// 412: the `If-Match` ETag is stale: someone else changed the resource; nothing was written.
    #[error("precondition failed: {}", .problem.detail)]
    PreconditionFailed { problem: Box<Problem> },
    /// 422: a field is invalid or unknown.
    #[error("invalid{}: {detail}", .field.as_deref().map(|f| format!(" {f}")).unwrap_or_default())]
    Invalid {
        field: Option<String>,
        detail: String,
        problem: Box<Problem>,
    },
    /// 429: over the rate limit (`rate_limited`) or locked out after failed authentications
    /// (`locked_out`). Wait `retry_after` before trying again.
    #[error("rate limited{}: {}", .retry_after.map(|d| format!(" (retry after {} s)", d.as_secs())).unwrap_or_default(), .problem.detail)]
    RateLimited {
        retry_after: Option<Duration>,
        problem: Box<Problem>,
    },
    /// Any other error status (400 for a malformed request or a refused OAuth grant, 5xx, …).
    #[error("HTTP {status}: {}", .problem.detail)]
    Api { status: u16, problem: Box<Problem> },
    /// The request never got an answer: connection, TLS, timeout.
    #[error("transport: {0}")]
    Transport(#[source] reqwest::Error),
    /// The server answered success with a body or headers this client does not understand.
    #[error("unexpected response: {0}")]
    Decode(String),
    /// The client was set up wrongly (a bad base URL, no credential or two).
    #[error("invalid configuration: {0}")]
    Config(String),
}

impl Error {
    /// The server's answer, for errors that have one.
    pub fn problem(&self) -> Option<&Problem> {
        match self {
            Error::Unauthorized { problem }
            | Error::Forbidden { problem, .. }
            | Error::NotFound { problem }
            | Error::Conflict { problem }
            | Error::PreconditionFailed { problem }
            | Error::Invalid { problem, .. }
            | Error::RateLimited { problem, .. }
            | Error::Api { problem, .. } => Some(problem),
            Error::Transport(_) | Error::Decode(_) | Error::Config(_) => None,
        }
    }

    /// The HTTP status of an error answer.
    pub fn status(&self) -> Option<u16> {
        self.problem().map(|p| p.status)
    }

    /// The server's short error code (`token_expired`, `insufficient_scope`, `invalid_grant`, …).
    pub fn code(&self) -> Option<&str> {
        self.problem().and_then(|p| p.error.as_deref())
    }

    /// Reads an error answer (any non-2xx status) into the matching variant.
    pub(crate) fn from_answer(status: StatusCode, headers: &HeaderMap, body: &[u8]) -> Self {
        let mut problem = parse_problem(body);
        problem.status = status.as_u16();
        let problem = Box::new(problem);
        match status.as_u16() {
            401 => Error::Unauthorized { problem },
            403 => Error::Forbidden {
                scope: challenge_scope(headers),
                problem,
            },
            404 => Error::NotFound { problem },
            409 => Error::Conflict { problem },
            412 => Error::PreconditionFailed { problem },
            422 => Error::Invalid {
                field: problem.field.clone(),
                detail: problem.detail.clone(),
                problem,
            },
            429 => Error::RateLimited {
                retry_after: retry_after(headers),
                problem,
            },
            status => Error::Api { status, problem },
        }
    }

    /// A copy, for every variant but [`Error::Transport`] (whose source cannot be copied).
    pub(crate) fn try_clone(&self) -> Option<Self> {
        Some(match self {
            Error::Unauthorized { problem } => Error::Unauthorized {
                problem: problem.clone(),
            },
            Error::Forbidden { scope, problem } => Error::Forbidden {
                scope: scope.clone(),
                problem: problem.clone(),
            },
            Error::NotFound { problem } => Error::NotFound {
                problem: problem.clone(),
            },
            Error::Conflict { problem } => Error::Conflict {
                problem: problem.clone(),
            },
            Error::PreconditionFailed { problem } => Error::PreconditionFailed {
                problem: problem.clone(),
            },
            Error::Invalid {
                field,
                detail,
                problem,
            } => Error::Invalid {
                field: field.clone(),
                detail: detail.clone(),
                problem: problem.clone(),
            },
            Error::RateLimited { retry_after, problem } => Error::RateLimited {
                retry_after: *retry_after,
                problem: problem.clone(),
            },
            Error::Api { status, problem } => Error::Api {
                status: *status,
                problem: problem.clone(),
            },
            Error::Decode(m) => Error::Decode(m.clone()),
            Error::Config(m) => Error::Config(m.clone()),
            Error::Transport(_) => return None,
        })
    }

    pub(crate) fn decode(what: &str, e: impl std::fmt::Display) -> Self {
        Error::Decode(format!("{what}: {e}"))
    }
}

/// Problem details, RFC 6749 error JSON, or (for a proxy's page) the start of the text.
fn parse_problem(body: &[u8]) -> Problem {
    if let Ok(p) = serde_json::from_slice::<Problem>(body) {
        if !p.kind.is_empty() || !p.detail.is_empty() {
            return p;
        }
    }
    if let Ok(o) = serde_json::from_slice::<OAuthErrorBody>(body) {
        return Problem {
            title: o.error.clone(),
            detail: o.error_description.unwrap_or_default(),
            error: Some(o.error),
            ..Problem::default()
        };
    }
    let text = String::from_utf8_lossy(body);
    Problem {
        detail: text.trim().chars().take(200).collect(),
        ..Problem::default()
    }
}

/// `scope="contacts.write"` of a `WWW-Authenticate: Bearer error="insufficient_scope", …` challenge.
fn challenge_scope(headers: &HeaderMap) -> Option<String> {
    let value = headers.get(WWW_AUTHENTICATE)?.to_str().ok()?;
    let start = value.find("scope=\"")? + "scope=\"".len();
    let end = start + value[start..].find('"')?;
    Some(value[start..end].to_owned())
}

/// `Retry-After` in seconds (Keygate never sends the HTTP-date form).
fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let value = headers.get(RETRY_AFTER)?.to_str().ok()?;
    value.trim().parse::<u64>().ok().map(Duration::from_secs)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, v.parse().unwrap());
        }
        h
    }

    #[test]
    fn problems_become_variants() {
        let body = br#"{"type":"urn:keygate:problem:invalid-field","title":"Invalid field","status":422,
            "detail":"email_addresses[0].email: must look like an address","field":"email_addresses[0].email"}"#;
        let e = Error::from_answer(StatusCode::UNPROCESSABLE_ENTITY, &HeaderMap::new(), body);
        let Error::Invalid {
            field,
            detail,
            problem,
        } = &e
        else {
            panic!("{e:?}")
        };
        assert_eq!(field.as_deref(), Some("email_addresses[0].email"));
        assert!(detail.contains("must look like"));
        assert_eq!(problem.kind_name(), "invalid-field");
        assert!(e.to_string().starts_with("invalid email_addresses[0].email: "));

        let e = Error::from_answer(
            StatusCode::FORBIDDEN,
            &headers(&[(
                "www-authenticate",
                "Bearer realm=\"keygate\", error=\"insufficient_scope\", scope=\"contacts.write\"",
            )]),
            br#"{"type":"urn:keygate:problem:insufficient-scope","title":"Insufficient scope","status":403,"detail":"x","error":"insufficient_scope"}"#,
        );
        assert!(matches!(&e, Error::Forbidden { scope: Some(s), .. } if s == "contacts.write"));
        assert_eq!(e.code(), Some("insufficient_scope"));

        let e = Error::from_answer(
            StatusCode::TOO_MANY_REQUESTS,
            &headers(&[("retry-after", "7")]),
            br#"{"error":"temporarily_unavailable","error_description":"slow down"}"#,
        );
        assert!(matches!(e, Error::RateLimited { retry_after: Some(d), .. } if d.as_secs() == 7));
        assert_eq!(e.code(), Some("temporarily_unavailable"));
        assert_eq!(e.problem().unwrap().detail, "slow down");

        let e = Error::from_answer(
            StatusCode::BAD_REQUEST,
            &HeaderMap::new(),
            br#"{"error":"invalid_grant","error_description":"the code is invalid"}"#,
        );
        assert!(matches!(e, Error::Api { status: 400, .. }));
        assert_eq!(e.code(), Some("invalid_grant"));

        let e = Error::from_answer(
            StatusCode::BAD_GATEWAY,
            &HeaderMap::new(),
            b"<html>bad gateway</html>",
        );
        assert_eq!(
            (e.status(), e.problem().unwrap().detail.as_str()),
            (Some(502), "<html>bad gateway</html>")
        );
    }
}
