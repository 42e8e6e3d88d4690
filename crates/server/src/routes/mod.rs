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
