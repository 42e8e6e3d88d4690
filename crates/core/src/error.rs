/// A value that breaks a domain rule. `field` names what the caller sent, so every protocol layer can
/// point at it (RFC 6749 `error_description`, RFC 9457 problem details, CLI messages).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct InvalidInput {
    pub field: &'static str,
    pub message: String,
}

impl InvalidInput {
    pub fn new(field: &'static str, message: impl Into<String>) -> Self {
        Self {
            field,
            message: message.into(),
        }
    }
}
