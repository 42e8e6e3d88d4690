//! The error responses operations share, as reusable OpenAPI response components: RFC 9457 problems on
//! the REST and admin APIs, RFC 6749 error JSON on the OAuth endpoints. Types for the document only.
#![allow(dead_code)]

use utoipa::ToResponse;

use crate::error::{OAuthErrorBody, ProblemBody};

/// The request is malformed: its query string, body or a header (`If-Match`) cannot be read.
#[derive(ToResponse)]
#[response(content_type = "application/problem+json")]
pub struct BadRequest(ProblemBody);

/// No credentials, or credentials that are wrong, expired or revoked.
#[derive(ToResponse)]
#[response(
    content_type = "application/problem+json",
    headers(("WWW-Authenticate" = String, description = "An RFC 6750 `Bearer` challenge (with `error=\"invalid_token\"` when a token was refused), or a `Basic` one"))
)]
pub struct Unauthorized(ProblemBody);

/// The caller is known but may not do this: a suspended account or user, a token used from another web
/// origin, or a missing scope (`error: insufficient_scope`, with an RFC 6750 challenge naming the scope).
#[derive(ToResponse)]
#[response(content_type = "application/problem+json")]
pub struct Forbidden(ProblemBody);

/// No such record (or none the caller may see).
#[derive(ToResponse)]
#[response(content_type = "application/problem+json")]
pub struct NotFound(ProblemBody);

/// The change conflicts with the current state (a name taken, a key already revoked, an opt-in refused).
#[derive(ToResponse)]
#[response(content_type = "application/problem+json")]
pub struct Conflict(ProblemBody);

/// `If-Match` names a version that is no longer current: read the record again.
#[derive(ToResponse)]
#[response(content_type = "application/problem+json")]
pub struct PreconditionFailed(ProblemBody);

/// The body is not JSON (`Content-Type` must be `application/json`).
#[derive(ToResponse)]
#[response(content_type = "application/problem+json")]
pub struct UnsupportedMediaType(ProblemBody);

/// A value breaks a rule; `field` names it.
#[derive(ToResponse)]
#[response(content_type = "application/problem+json")]
pub struct InvalidField(ProblemBody);

/// Over the credential's rate limit (`error: rate_limited`), or locked out after failed
/// authentications (`error: locked_out`).
#[derive(ToResponse)]
#[response(
    content_type = "application/problem+json",
    headers(
        ("Retry-After" = u64, description = "Seconds to wait"),
        ("RateLimit-Limit" = u32, description = "Requests a minute (rate limits only)"),
        ("RateLimit-Remaining" = u32, description = "Always 0 on this answer (rate limits only)"),
        ("RateLimit-Reset" = u64, description = "Seconds until a request is allowed (rate limits only)"),
    )
)]
pub struct TooManyRequests(ProblemBody);

/// The server could not complete the request.
#[derive(ToResponse)]
#[response(content_type = "application/problem+json")]
pub struct ServerError(ProblemBody);

/// `invalid_request`, `invalid_grant`, `unauthorized_client`, `unsupported_grant_type`, `invalid_scope`…
#[derive(ToResponse)]
#[response(
    content_type = "application/json",
    headers(("Cache-Control" = String, description = "`no-store`"))
)]
pub struct OAuthBadRequest(OAuthErrorBody);

/// `invalid_client`: client authentication failed.
#[derive(ToResponse)]
#[response(
    content_type = "application/json",
    headers(("WWW-Authenticate" = String, description = "`Basic realm=\"keygate\", charset=\"UTF-8\"`"))
)]
pub struct OAuthUnauthorized(OAuthErrorBody);

/// `temporarily_unavailable`: over the client's (or API key's) rate limit, or locked out after failed
/// attempts.
#[derive(ToResponse)]
#[response(
    content_type = "application/json",
    headers(("Retry-After" = u64, description = "Seconds to wait"))
)]
pub struct OAuthTooManyRequests(OAuthErrorBody);
