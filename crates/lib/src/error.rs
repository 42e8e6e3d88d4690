use keygate_core::InvalidInput;
use keygate_store::StoreError;

/// RFC 6749 §5.2 (and §4.1.2.1) error codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OAuthErrorCode {
    InvalidRequest,
    InvalidClient,
    InvalidGrant,
    UnauthorizedClient,
    UnsupportedGrantType,
    InvalidScope,
    AccessDenied,
    UnsupportedResponseType,
    ServerError,
    /// RFC 6749 §4.1.2.1; Keygate also answers it, with 429 and `Retry-After`, when a client is over its
    /// rate limit or locked out after failed attempts.
    TemporarilyUnavailable,
}

impl OAuthErrorCode {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::InvalidRequest => "invalid_request",
            Self::InvalidClient => "invalid_client",
            Self::InvalidGrant => "invalid_grant",
            Self::UnauthorizedClient => "unauthorized_client",
            Self::UnsupportedGrantType => "unsupported_grant_type",
            Self::InvalidScope => "invalid_scope",
            Self::AccessDenied => "access_denied",
            Self::UnsupportedResponseType => "unsupported_response_type",
            Self::ServerError => "server_error",
            Self::TemporarilyUnavailable => "temporarily_unavailable",
        }
    }
}

/// An error of an OAuth endpoint. The description is for the developer reading the response and never
/// contains a secret.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}: {description}", code.as_str())]
pub struct OAuthError {
    pub code: OAuthErrorCode,
    pub description: String,
}

impl OAuthError {
    pub fn new(code: OAuthErrorCode, description: impl Into<String>) -> Self {
        Self {
            code,
            description: description.into(),
        }
    }
    pub fn invalid_request(d: impl Into<String>) -> Self {
        Self::new(OAuthErrorCode::InvalidRequest, d)
    }
    pub fn invalid_client(d: impl Into<String>) -> Self {
        Self::new(OAuthErrorCode::InvalidClient, d)
    }
    pub fn invalid_grant(d: impl Into<String>) -> Self {
        Self::new(OAuthErrorCode::InvalidGrant, d)
    }
    pub fn invalid_scope(d: impl Into<String>) -> Self {
        Self::new(OAuthErrorCode::InvalidScope, d)
    }
    pub fn unauthorized_client(d: impl Into<String>) -> Self {
        Self::new(OAuthErrorCode::UnauthorizedClient, d)
    }
    /// Storage failed: logged in full here, reported to the client without detail.
    pub fn server(e: impl std::fmt::Display) -> Self {
        tracing::error!(error = %e, "internal error on an OAuth endpoint");
        Self::new(
            OAuthErrorCode::ServerError,
            "the server could not complete the request",
        )
    }
}

impl From<StoreError> for OAuthError {
    fn from(e: StoreError) -> Self {
        OAuthError::server(e)
    }
}

/// An error of a management operation (admin API and CLI).
#[derive(Debug, thiserror::Error)]
pub enum ManageError {
    #[error(transparent)]
    Invalid(#[from] InvalidInput),
    #[error("{0} not found")]
    NotFound(String),
    #[error("{0}")]
    Conflict(String),
    #[error(transparent)]
    Store(StoreError),
    #[error("signing keys: {0}")]
    Keys(String),
}

impl From<StoreError> for ManageError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Conflict(what) => ManageError::Conflict(format!("{what} already exists")),
            StoreError::MissingReference(what) => ManageError::NotFound(what),
            other => ManageError::Store(other),
        }
    }
}
