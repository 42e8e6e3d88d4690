//! Routes by feature; each module exports its `router()`, most as a [`table::Routes`] that records what
//! it serves.

pub mod admin;
pub mod auth;
pub mod authorize;
pub mod contacts;
pub mod demo;
pub mod health;
pub mod hooks;
pub mod me;
pub mod oauth;
pub mod table;
pub mod wellknown;
pub mod xmlrpc;

/// The REST resources (contacts, hooks) answer under `/v1` and again under `/crm/rest/v1`, for
/// Infusionsoft-style clients; the OpenAPI document describes the first and copies the second.
pub const REST_PREFIXES: [&str; 2] = ["/v1", "/crm/rest/v1"];
