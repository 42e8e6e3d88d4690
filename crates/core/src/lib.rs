//! Keygate's domain core: the vocabulary every other crate speaks.
//!
//! Nothing here performs I/O or knows about HTTP or SQL; that keeps the rules (what an account name
//! looks like, which scopes exist, how secrets are hashed) testable on their own and shared verbatim
//! by the server, the CLI and the store.

pub mod claims;
pub mod contact;
pub mod crypto;
pub mod email;
pub mod error;
pub mod ids;
pub mod model;
pub mod net;
#[cfg(feature = "openapi")]
pub mod openapi;
pub mod password;
pub mod pkce;
pub mod scope;
pub mod secret;
pub mod time;
pub mod uri;
pub mod webhook;

pub use error::InvalidInput;
