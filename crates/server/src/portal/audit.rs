//! The account's audit log, newest first, a page at a time, optionally for one action or kind of action.

use std::collections::HashMap;

use axum::extract::Query;
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use keygate_lib::api_keys::AuditFilter;
use keygate_lib::views::{AuditEventView, UserView};

use super::apps::message;
use super::extract::AdminOnly;
use super::ui::{self, esc};
use crate::state::AppState;

const CURRENT: &str = "/portal/audit";
const PAGE: u32 = 50;

pub fn router() -> Router<AppState> {
    Router::new().route(CURRENT, get(list))
}

/// The actor as logged (`user:usr_…`), with the email of a user of this account for readability.
fn actor_cell(actor: &str, users: &[UserView]) -> String {
    let email = actor
        .strip_prefix("user:")
        .and_then(|id| users.iter().find(|u| u.id == id))
        .map(|u| format!("<br><span class=\"hint\">{}</span>", esc(&u.email)))
        .unwrap_or_default();
    format!("<code>{}</code>{email}", esc(actor))
}

fn row(e: &AuditEventView, users: &[UserView]) -> Vec<String> {
    let details = match &e.details {
        serde_json::Value::Null => String::new(),
        serde_json::Value::Object(o) if o.is_empty() => String::new(),
        d => format!("<code>{}</code>", esc(&d.to_string())),
    };
    vec![
        ui::when(e.at),
        actor_cell(&e.actor, users),
        format!("<code>{}</code>", esc(&e.action)),
        format!("<code>{}</code>", esc(&e.target)),
        details,
    ]
}

async fn list(AdminOnly(ctx): AdminOnly, Query(q): Query<HashMap<String, String>>) -> Response {
    let action = q
        .get("action")
        .map(|a| a.trim().to_owned())
        .filter(|a| !a.is_empty());
    // A `before` that is not a number is not an event id: start from the newest instead.
    let before = q.get("before").and_then(|b| b.parse::<i64>().ok());
    let filter = AuditFilter {
        account: Some(ctx.account().to_owned()),
        action: action.clone(),
        before,
        limit: Some(PAGE),
    };
    let m = ctx.kg().manage(ctx.user.actor());
    let (events, error) = match m.list_audit(filter).await {
        Ok(ev) => (ev, None),
        Err(e) => (Vec::new(), Some(message(&e))),
    };
    let users = m.list_users(ctx.account()).await.unwrap_or_default();
    let rows: Vec<Vec<String>> = events.iter().map(|e| row(e, &users)).collect();
    let older = match events.last() {
        // A full page may have more behind it.
        Some(last) if events.len() == PAGE as usize => {
            let mut pairs = vec![("before", last.id.to_string())];
            if let Some(a) = &action {
                pairs.push(("action", a.clone()));
            }
            let qs = serde_urlencoded::to_string(&pairs).unwrap_or_default();
            format!("<p><a href=\"{CURRENT}?{}\">Older events →</a></p>", esc(&qs))
        }
        _ => String::new(),
    };
    let newest = if before.is_some() {
        format!("<p><a href=\"{CURRENT}\">← Newest events</a></p>")
    } else {
        String::new()
    };
    let body = format!(
        "<h1>Audit log</h1><p class=\"lead\">Every change to this account's credentials and users, and who made it: \
         <code>user:…</code> in this portal, <code>admin_token:…</code> over the admin API, <code>cli</code> on the server.</p>\
         <form method=\"get\" action=\"{CURRENT}\" class=\"stack\">{filter}\
         <div><button type=\"submit\" class=\"secondary\">Filter</button> <a href=\"{CURRENT}\">All events</a></div></form>\
         {error}{newest}{table}{older}",
        filter = ui::input("action", "Action", action.as_deref().unwrap_or_default(), "type=\"text\"",
            "Like <code>api_key.revoked</code>, or <code>api_key.</code> for every API key event."),
        error = error.as_deref().map(ui::form_error).unwrap_or_default(),
        table = ui::table("Audit events, newest first", &["Time", "Actor", "Action", "Target", "Details"], &rows,
            "No events match."),
    );
    let status = if error.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    ui::page(status, &ctx, "Audit log", CURRENT, &body)
}
