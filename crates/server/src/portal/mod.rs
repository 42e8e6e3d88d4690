//! The developer portal at `/portal`: server-rendered pages over the same service calls as the admin API
//! and the CLI, for people who manage credentials by looking rather than by reading JSON.
//!
//! Signed in with a session cookie (`HttpOnly`, `SameSite=Strict`, `Secure` on HTTPS); every form carries
//! a CSRF token bound to that cookie; pages load nothing but the portal's own stylesheet and scripts
//! (a strict Content-Security-Policy), so it works with no internet access. These are browser pages, not
//! API, so they are not in `/openapi.json`.

mod apps;
mod assets;
mod audit;
mod explorer;
mod extract;
mod hooks;
mod keys;
mod keys_api;
mod keys_domain;
mod keys_legacy;
mod session;
mod ui;
mod users;

use axum::routing::{get, post};
use axum::Router;

use crate::state::AppState;

pub const PREFIX: &str = "/portal";

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/portal", get(session::home))
        .route(
            "/portal/sign-in",
            get(session::sign_in_page).post(session::sign_in),
        )
        .route("/portal/sign-out", post(session::sign_out))
        .merge(apps::router())
        .merge(keys::router())
        .merge(users::router())
        .merge(hooks::router())
        .merge(audit::router())
        .merge(explorer::router())
        .merge(assets::router())
}
