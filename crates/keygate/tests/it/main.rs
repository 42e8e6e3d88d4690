//! Keygate's integration tests: each starts a real server on a random loopback port over a fresh
//! database (SQLite, and PostgreSQL when `KEYGATE_TEST_POSTGRES_URL` is set) and talks HTTP to it.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod admin_api;
mod api_keys;
mod assertions;
mod audit;
mod authorization_code;
mod bad_input;
mod browser;
mod cli;
mod client_credentials;
mod contacts_rest;
mod contacts_xmlrpc;
mod cors;
mod discovery;
mod domain_keys;
mod hooks;
mod hooks_crash;
mod impersonation;
mod jwt;
mod keys;
mod legacy_and_basic;
mod lockouts;
mod nodes;
mod openapi;
mod portal_pages;
mod rate_limits;
mod refresh;
mod revocation;
mod sdk;
mod suspension;
