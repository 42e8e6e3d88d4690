//! Routes by feature; each module exports its `router()`.

pub mod admin;
pub mod auth;
pub mod authorize;
pub mod contacts;
pub mod demo;
pub mod health;
pub mod me;
pub mod oauth;
pub mod wellknown;
pub mod xmlrpc;
