//! The Rust SDK for [Keygate](https://example.invalid/keygate): a self-hosted API access platform.
//!
//! - [`Client`]: calls the REST API with one credential. With an API key it obtains a token at first
//!   use, refreshes it shortly before it expires (`POST /auth/refresh`), signs in again when the session
//!   is over, and retries a call once with a new token when the server refused the old one. Safe to share
//!   between tasks: at most one renewal runs at a time.
//! - [`contacts`]: typed contacts (create, read with ETag, patch with `If-Match`, delete, upsert, paging
//!   and incremental sync, email opt-in status).
//! - [`hooks`]: REST Hooks subscriptions and their delivery log, and [`hooks::verify_signature`] for
//!   the receiver.
//! - [`oauth`]: for apps: the authorization URL with `state` and PKCE, the code exchange, refresh, client
//!   credentials.
//! - [`Error`]: one variant per thing worth branching on (`Unauthorized`, `Forbidden { scope }`,
//!   `NotFound`, `PreconditionFailed`, `RateLimited { retry_after }`, `Invalid { field, .. }`, …).
//!
//! The client never logs, and its `Debug` output never shows a secret or a token.
//!
//! ```no_run
//! use keygate_client::contacts::{ContactQuery, EmailField, NewContact};
//! use keygate_client::{Client, Error};
//!
//! # async fn example() -> Result<(), Error> {
//! let client = Client::builder("https://keygate.example.com")
//!     .api_key("kgk_3q7…", "kgsk_Vt8…")
//!     .build()?;
//!
//! let ann = client
//!     .contacts()
//!     .create(&NewContact::new().given_name("Ann").email(EmailField::Email1, "ann@acme.test"))
//!     .await?;
//! println!("contact {} at version {}", ann.id, ann.etag);
//!
//! match client.contacts().list(&ContactQuery::new().email("ann@acme.test")).await {
//!     Ok(page) => println!("{} match", page.count),
//!     Err(Error::RateLimited { retry_after, .. }) => println!("slow down: {retry_after:?}"),
//!     Err(Error::Forbidden { scope: Some(scope), .. }) => println!("the key needs {scope}"),
//!     Err(e) => return Err(e),
//! }
//! # Ok(())
//! # }
//! ```
//!
//! TLS is rustls on aws-lc-rs with Mozilla's root certificates; [`ClientBuilder::http_client`] takes a
//! `reqwest::Client` of your own for anything else (proxies, private roots).

mod answer;
mod auth;
mod client;
pub mod contacts;
mod error;
pub mod hooks;
pub mod oauth;

pub use client::{Client, ClientBuilder, Me, DEFAULT_REFRESH_AHEAD, DEFAULT_TIMEOUT};
pub use error::{Error, Problem};

/// The guide's examples (`docs/sdk-rust.md`), compiled (and the self-contained ones run) as doctests.
#[cfg(doctest)]
#[doc = include_str!("../../../docs/sdk-rust.md")]
pub struct Guide;

/// A secret or token held by the client: `Debug` never shows it.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct Secret(String);

impl Secret {
    pub(crate) fn new(s: String) -> Self {
        Self(s)
    }

    pub(crate) fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("[redacted]")
    }
}

/// Equality whose time depends on the lengths only.
pub(crate) fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}
