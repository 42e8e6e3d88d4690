//! Who is calling a resource endpoint. One extractor for every door, so each resource API (REST now,
//! XML-RPC later) accepts exactly the same credentials with exactly the same checks:
//! `Authorization: Bearer` (tokens from OAuth, API keys, domain keys), `Authorization: Basic` (account
//! users, where the account allows it), and `X-Legacy-Key` (deprecated). `Authorization` wins when both
//! are sent.

use std::sync::Arc;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use keygate_lib::auth::AuthError;
use keygate_lib::lockout::Attempt;
use keygate_lib::tokens::{Principal, TokenRejection};

use crate::client_addr::ClientAddr;
use crate::error::{refusal, Problem};
use crate::state::AppState;

pub const LEGACY_KEY_HEADER: &str = "x-legacy-key";

/// Shared with the cache of verified tokens when it is a token's: a hot token's caller is never copied.
pub struct Caller(pub Arc<Principal>);

/// The token of an `Authorization: Bearer` header (RFC 6750 §2.1), if there is one.
pub fn bearer_token(headers: &HeaderMap) -> Option<&str> {
    authorization(headers, "bearer")
}

/// [`bearer_token`] as the request brought it: the cache of verified tokens is keyed by bytes, so a hot
/// token is never checked as UTF-8 (only a token whose signature must be verified is).
fn bearer_bytes(headers: &HeaderMap) -> Option<&[u8]> {
    credential(headers, "bearer")
}

fn authorization<'h>(headers: &'h HeaderMap, scheme: &str) -> Option<&'h str> {
    // Only the credential is checked as UTF-8 (a word at a time), not the whole value one byte at a time
    // as `HeaderValue::to_str` does. Whatever else the credential holds, its own check refuses.
    std::str::from_utf8(credential(headers, scheme)?).ok()
}

/// The credential of an `Authorization` header of `scheme`, trimmed, on bytes.
fn credential<'h>(headers: &'h HeaderMap, scheme: &str) -> Option<&'h [u8]> {
    let value = headers.get(header::AUTHORIZATION)?.as_bytes();
    let space = value.iter().position(|&b| b == b' ')?;
    let (name, credential) = value.split_at(space);
    name.eq_ignore_ascii_case(scheme.as_bytes())
        .then(|| credential.trim_ascii())
}

fn bearer_challenge(error: Option<&str>, description: &str) -> String {
    match error {
        Some(e) => format!("Bearer realm=\"keygate\", error=\"{e}\", error_description=\"{description}\""),
        None => "Bearer realm=\"keygate\"".into(),
    }
}

fn token_problem(e: TokenRejection) -> Problem {
    match e {
        TokenRejection::Store(e) => Problem::internal(e),
        e @ (TokenRejection::OriginMismatch | TokenRejection::OriginNotAllowed) => Problem::new(
            StatusCode::FORBIDDEN,
            "origin-not-allowed",
            "Origin not allowed",
            e.to_string(),
        ),
        e => {
            let detail = e.to_string();
            Problem::unauthorized(detail.clone(), bearer_challenge(Some("invalid_token"), &detail))
        }
    }
}

/// Failures of credentials presented with the request (Basic, legacy keys).
/// `wrong` words a refusal of the credential for its door: the library's own wording names the API key
/// and its secret, which would mislead a caller of Basic or a legacy key.
fn direct_problem(e: AuthError, challenge: &str, wrong: &str) -> Problem {
    match e {
        AuthError::AccountSuspended | AuthError::UserSuspended => {
            Problem::new(StatusCode::FORBIDDEN, "suspended", "Suspended", e.to_string())
        }
        AuthError::Store(_) | AuthError::Signing(_) => Problem::internal(e),
        AuthError::InvalidCredentials => Problem::unauthorized(wrong.to_owned(), challenge.to_owned()),
        e => Problem::unauthorized(e.to_string(), challenge.to_owned()),
    }
}

fn basic_credentials(value: &str) -> Option<(String, String)> {
    let text = String::from_utf8(STANDARD.decode(value).ok()?).ok()?;
    let (user, pass) = text.split_once(':')?;
    Some((user.to_owned(), pass.to_owned()))
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, s: &AppState) -> Result<Self, Problem> {
        let Ok(ClientAddr(addr)) = ClientAddr::from_request_parts(parts, s).await;
        let principal = match from_headers(s, &parts.headers, addr).await {
            Some(result) => result?,
            None => {
                return Err(Problem::unauthorized(
                    "credentials are required: an access token (Authorization: Bearer), or where enabled Basic or a legacy key",
                    bearer_challenge(None, ""),
                ))
            }
        };
        charge(s, &principal)?;
        Ok(Caller(principal))
    }
}

/// Takes one request from the credential's rate-limit bucket.
pub fn charge(s: &AppState, p: &Principal) -> Result<(), Problem> {
    s.rate_limits
        .check_in(&p.account, p.credential.kind(), p.credential.id())
}

/// The credential of the request's headers, checked; `None` when it carries none.
pub async fn from_headers(
    s: &AppState,
    headers: &HeaderMap,
    addr: Option<std::net::IpAddr>,
) -> Option<Result<Arc<Principal>, Problem>> {
    if let Some(token) = bearer_bytes(headers) {
        return Some(from_token(s, token, headers).await);
    }
    if let Some(value) = authorization(headers, "basic") {
        return Some(from_basic(s, value, addr).await);
    }
    let key = headers.get(LEGACY_KEY_HEADER).and_then(|v| v.to_str().ok())?;
    Some(from_legacy_key(s, key, addr).await)
}

/// An access token, from a header or (XML-RPC) a parameter; the request's `Origin` still applies.
pub async fn from_token(s: &AppState, token: &[u8], headers: &HeaderMap) -> Result<Arc<Principal>, Problem> {
    let origin = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok());
    s.keygate
        .validate_for_request(token, origin, &s.own_origin)
        .await
        .map_err(token_problem)
}

fn is_guess(e: &AuthError) -> bool {
    matches!(e, AuthError::InvalidCredentials)
}

async fn from_basic(
    s: &AppState,
    value: &str,
    addr: Option<std::net::IpAddr>,
) -> Result<Arc<Principal>, Problem> {
    let challenge = "Basic realm=\"keygate\", charset=\"UTF-8\"";
    let Some((user, pass)) = basic_credentials(value) else {
        return Err(Problem::unauthorized(
            "the Basic credentials are not valid base64 of email:password",
            challenge.into(),
        ));
    };
    let kg = &s.keygate;
    let attempt = Attempt::from(addr).user(&user);
    kg.guarded(&attempt, kg.authenticate_basic(&user, &pass), is_guess)
        .await
        .map(Arc::new)
        .map_err(|g| {
            refusal(g, |e| {
                direct_problem(e, challenge, "the email or the password is wrong")
            })
        })
}

/// A legacy key, from its header or (XML-RPC) the first parameter. It is its own secret and names
/// nothing else, so a wrong one is charged to the address.
pub async fn from_legacy_key(
    s: &AppState,
    key: &str,
    addr: Option<std::net::IpAddr>,
) -> Result<Arc<Principal>, Problem> {
    let kg = &s.keygate;
    kg.guarded(
        &Attempt::from(addr),
        kg.authenticate_legacy_key(key.trim()),
        is_guess,
    )
    .await
    .map(Arc::new)
    .map_err(|g| {
        refusal(g, |e| {
            direct_problem(e, "LegacyKey", "this legacy key is unknown or has been revoked")
        })
    })
}

/// The `Deprecation` (RFC 9745) and, when configured, `Sunset` (RFC 8594) fields of legacy-key answers.
pub fn deprecation_headers(s: &AppState) -> Vec<(header::HeaderName, HeaderValue)> {
    let settings = s.keygate.legacy_key_settings();
    let mut out = Vec::new();
    if let Ok(v) = HeaderValue::from_str(&format!("@{}", settings.deprecated_since)) {
        out.push((header::HeaderName::from_static("deprecation"), v));
    }
    if let Some(sunset) = settings.sunset {
        let at = std::time::UNIX_EPOCH + std::time::Duration::from_secs(sunset.max(0) as u64);
        if let Ok(v) = HeaderValue::from_str(&httpdate::fmt_http_date(at)) {
            out.push((header::HeaderName::from_static("sunset"), v));
        }
    }
    out
}

/// Whether a request is made with a legacy key: its header, and no `Authorization` (which would win).
/// Every answer to such a request says the door is deprecated (RFC 9745), and when it closes
/// (RFC 8594), whether the call succeeded or not: see [`crate::edge`].
pub fn uses_legacy_key(headers: &HeaderMap) -> bool {
    headers.contains_key(LEGACY_KEY_HEADER) && !headers.contains_key(header::AUTHORIZATION)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(value: &[u8]) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(header::AUTHORIZATION, HeaderValue::from_bytes(value).unwrap());
        h
    }

    #[test]
    fn the_scheme_is_matched_without_regard_to_case_and_the_credential_trimmed() {
        assert_eq!(bearer_token(&headers(b"Bearer a.b.c")), Some("a.b.c"));
        assert_eq!(bearer_token(&headers(b"bEARER   a.b.c  ")), Some("a.b.c"));
        assert_eq!(authorization(&headers(b"Basic dTpw"), "basic"), Some("dTpw"));
    }

    #[test]
    fn another_scheme_or_no_credential_is_not_a_bearer_token() {
        assert_eq!(bearer_token(&headers(b"Basic dTpw")), None);
        assert_eq!(bearer_token(&headers(b"Bearera.b.c")), None);
        assert_eq!(bearer_token(&headers(b"Bearer")), None);
        assert_eq!(bearer_token(&HeaderMap::new()), None);
    }

    #[test]
    fn a_credential_that_is_not_utf8_is_none() {
        assert_eq!(bearer_token(&headers(b"Bearer a.\xff.c")), None);
        // The hot path takes the bytes as they came; the token check refuses them as malformed.
        assert_eq!(
            bearer_bytes(&headers(b"Bearer a.\xff.c ")),
            Some(&b"a.\xff.c"[..])
        );
        // UTF-8 that is not ASCII reaches the token check, which refuses it as malformed.
        assert_eq!(bearer_token(&headers("Bearer a.é.c".as_bytes())), Some("a.é.c"));
    }
}
