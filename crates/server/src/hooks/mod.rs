//! REST Hooks delivery: the outbound HTTP client (SSRF-safe), the verification handshake, and the
//! dispatcher that turns stored events into signed, retried deliveries.

pub mod client;
pub mod dispatcher;
pub mod handshake;
