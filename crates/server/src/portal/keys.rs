//! The account's integration credentials: API keys (servers, [`super::keys_api`]), domain keys
//! (browsers, [`super::keys_domain`]) and the deprecated legacy keys ([`super::keys_legacy`]). Secrets
//! appear once, in the response that made them; ids of other accounts' keys are 404. This file holds
//! the router and the pieces the three pages share.

use std::collections::HashMap;

use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use keygate_core::scope::Scope;

use super::extract::CheckedForm;
use super::keys_api::*;
use super::keys_domain::*;
use super::keys_legacy::*;
use super::ui::{self, esc};
use crate::state::AppState;

pub(super) const API_KEYS: &str = "/portal/api-keys";
pub(super) const DOMAIN_KEYS: &str = "/portal/domain-keys";
pub(super) const LEGACY_KEYS: &str = "/portal/legacy-keys";

pub fn router() -> Router<AppState> {
    Router::new()
        .route(API_KEYS, get(api_keys).post(create_api_key))
        .route("/portal/api-keys/{id}/rotate", post(rotate_api_key))
        .route("/portal/api-keys/{id}/revoke", post(revoke_api_key))
        .route(DOMAIN_KEYS, get(domain_keys).post(create_domain_key))
        .route("/portal/domain-keys/{id}/revoke", post(revoke_domain_key))
        .route(LEGACY_KEYS, get(legacy_keys).post(create_legacy_key))
        .route("/portal/legacy-keys/{id}/revoke", post(revoke_legacy_key))
}

/// A value with a copy button; `dom_id` must be unique on the page.
pub(super) fn copyable(dom_id: &str, value: &str, label: &str) -> String {
    format!(
        "<div class=\"copy-row\"><code id=\"{id}\">{value}</code>\
         <button type=\"button\" class=\"copy\" data-copy=\"{id}\" aria-label=\"Copy {label}\">Copy</button>\
         <span class=\"copied\" aria-live=\"polite\"></span></div>",
        id = esc(dom_id),
        value = esc(value),
        label = esc(label),
    )
}

pub(super) fn code(v: &str) -> String {
    format!("<code>{}</code>", esc(v))
}

/// The notice after a revocation, named by the redirect's `?revoked=<name>`.
pub(super) fn revoked_notice(q: &HashMap<String, String>) -> String {
    q.get("revoked")
        .map(|n| {
            ui::notice(&format!(
                "Revoked {n}. It no longer works, nor do tokens obtained with it."
            ))
        })
        .unwrap_or_default()
}

pub(super) fn revoked_redirect(list: &str, name: &str) -> Response {
    let q = serde_urlencoded::to_string([("revoked", name)]).unwrap_or_default();
    Redirect::to(&format!("{list}?{q}")).into_response()
}

/// The checked scope boxes of a form that came back, or the defaults.
pub(super) fn checked_scopes(form: Option<&CheckedForm>, offered: &[&str], default: &[&str]) -> Vec<String> {
    match form {
        Some(f) => f
            .checked("scope", offered)
            .split(' ')
            .map(str::to_owned)
            .collect(),
        None => default.iter().map(|s| (*s).to_owned()).collect(),
    }
}

pub(super) fn all_scopes() -> [&'static str; 5] {
    Scope::ALL.map(Scope::as_str)
}

pub(super) fn status_cell(status: &str, revoked_at: Option<i64>) -> String {
    match revoked_at {
        Some(t) => format!(
            "{} <span class=\"hint\">{}</span>",
            ui::badge(status),
            ui::when(t)
        ),
        None => ui::badge(status),
    }
}
