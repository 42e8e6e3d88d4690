//! The account's REST Hook subscriptions: what they point at, how their deliveries went, and the two
//! repairs an admin needs (run the handshake again, send a delivery again). Subscriptions themselves are
//! made over the API, where the receiver's code lives.

use std::collections::HashMap;

use axum::extract::{Path, Query};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use keygate_core::scope::ScopeSet;
use keygate_lib::hooks::HookError;
use keygate_lib::tokens::{Credential, Principal};
use keygate_store::{Delivery, DeliveryAttempt, Hook, HookStats};

use super::extract::{AdminOnly, CheckedForm, Ctx};
use super::ui::{self, esc};
use crate::routes::hooks::run_handshake;
use crate::state::AppState;

const CURRENT: &str = "/portal/hooks";

pub fn router() -> Router<AppState> {
    Router::new()
        .route(CURRENT, get(list))
        .route("/portal/hooks/{key}", get(show))
        .route("/portal/hooks/{key}/verify", post(verify))
        .route("/portal/hooks/{key}/deliveries/{id}/replay", post(replay))
}

/// The hooks service takes a principal: the signed-in admin, through their portal session, with every
/// scope (admins only reach these pages).
fn principal(ctx: &Ctx) -> Principal {
    Principal {
        account: ctx.user.account.name.clone(),
        credential: Credential::Portal(ctx.user.session.id.clone()),
        user_id: Some(ctx.user.user.id.clone()),
        scope: ScopeSet::all(),
        claims: None,
    }
}

/// The page for a hook error: 404 for keys this account does not have, a failure for the rest.
fn refusal(ctx: &Ctx, e: HookError) -> Response {
    match e {
        HookError::NotFound(_) => ui::not_found(ctx, CURRENT, "subscription"),
        other => ui::failure(other),
    }
}

async fn list(AdminOnly(ctx): AdminOnly) -> Response {
    let hooks = match ctx.kg().hooks(&principal(&ctx)).await {
        Ok(h) => h,
        Err(e) => return refusal(&ctx, e),
    };
    let rows: Vec<Vec<String>> = hooks
        .iter()
        .map(|h| {
            vec![
                format!("<a href=\"{CURRENT}/{k}\"><code>{k}</code></a>", k = esc(&h.key)),
                format!("<code>{}</code>", esc(&h.event_key)),
                format!("<code>{}</code>", esc(&h.hook_url)),
                ui::badge(h.status.as_str()),
                ui::when(h.created_at),
            ]
        })
        .collect();
    let body = format!(
        "<h1>REST Hooks</h1><p class=\"lead\">Subscriptions that send this account's contact events to your \
         receivers, signed the Standard Webhooks way. Only <strong>Verified</strong> ones get events.</p>{}",
        ui::table(
            "REST Hook subscriptions of this account",
            &["Subscription", "Event", "URL", "Status", "Created"],
            &rows,
            "No subscriptions yet. They are created over the API, by the integration that receives them: \
             <code>POST /v1/hooks</code> with <code>{\"eventKey\": \"contact.add\", \"hookUrl\": \"https://…\"}</code> \
             and a token with the <code>hooks</code> scope. Try it in the <a href=\"/portal/explorer\">API explorer</a>, \
             or read <code>docs/hooks.md</code>.",
        ),
    );
    ui::page(StatusCode::OK, &ctx, "REST Hooks", CURRENT, &body)
}

fn delivery_row(ctx: &Ctx, hook: &Hook, d: &Delivery, attempts: &[DeliveryAttempt]) -> Vec<String> {
    let tries: String = attempts
        .iter()
        .map(|a| {
            let answer = match (a.status_code, &a.error) {
                (Some(c), Some(e)) => format!("HTTP {c}: {}", esc(e)),
                (Some(c), None) => format!("HTTP {c}"),
                (None, Some(e)) => esc(e),
                (None, None) => "no answer".into(),
            };
            format!(
                "<li>#{} {} · {answer} · {} ms</li>",
                a.number,
                ui::when(a.at),
                a.latency_ms
            )
        })
        .collect();
    let tries = if tries.is_empty() {
        "<span class=\"hint\">not tried yet</span>".into()
    } else {
        format!("<ul class=\"plain\">{tries}</ul>")
    };
    let next = d
        .next_attempt_at
        .filter(|_| d.finished_at.is_none())
        .map(|t| format!("<br><span class=\"hint\">next try {}</span>", ui::when(t)))
        .unwrap_or_default();
    let replay = ui::action(
        ctx,
        &format!("{CURRENT}/{}/deliveries/{}/replay", hook.key, d.id),
        "Replay",
        "secondary",
        Some("Send this delivery again, with the same webhook-id and payload?"),
    );
    vec![
        format!("<code>{}</code>", esc(&d.id)),
        format!("{}{next}", ui::badge(d.status.as_str())),
        ui::when(d.created_at),
        tries,
        format!(
            "<details><summary>Payload</summary><pre>{}</pre></details>",
            esc(&d.payload)
        ),
        replay,
    ]
}

fn stats_list(st: &HookStats) -> String {
    format!(
        "<dl class=\"details\"><dt>Pending</dt><dd>{}</dd><dt>Delivered</dt><dd>{}</dd><dt>Failed</dt><dd>{}</dd></dl>",
        st.pending, st.delivered, st.failed
    )
}

/// The subscription's page, with `top` as the result of what was just done.
async fn hook_page(ctx: &Ctx, status: StatusCode, hook: &Hook, top: &str) -> Response {
    let p = principal(ctx);
    let (stats, deliveries) = match (
        ctx.kg().hook_stats(&p, &hook.key).await,
        ctx.kg().hook_deliveries(&p, &hook.key, 50, None).await,
    ) {
        (Ok(s), Ok(d)) => (s, d),
        (Err(e), _) | (_, Err(e)) => return refusal(ctx, e),
    };
    let rows: Vec<Vec<String>> = deliveries
        .iter()
        .map(|(d, a)| delivery_row(ctx, hook, d, a))
        .collect();
    let failing = hook
        .failing_since
        .map(|t| format!("<dt>Failing since</dt><dd>{}</dd>", ui::when(t)))
        .unwrap_or_default();
    let body = format!(
        "<p><a href=\"{CURRENT}\">← REST Hooks</a></p><h1>Subscription <code>{key}</code></h1>{top}\
         <dl class=\"details\"><dt>Event</dt><dd><code>{event}</code></dd><dt>URL</dt><dd><code>{url}</code></dd>\
         <dt>Status</dt><dd>{badge}</dd>{failing}<dt>Created</dt><dd>{created}</dd></dl>\
         <div class=\"actions\">{verify}</div>\
         <p class=\"hint\">Re-verify sends the handshake (a POST with <code>X-Hook-Secret</code>, which the receiver \
         echoes); it is also how an Inactive subscription comes back.</p>\
         <h2>Events</h2>{stats}<h2>Recent deliveries</h2>{table}",
        key = esc(&hook.key),
        event = esc(&hook.event_key),
        url = esc(&hook.hook_url),
        badge = ui::badge(hook.status.as_str()),
        created = ui::when(hook.created_at),
        verify = ui::action(ctx, &format!("{CURRENT}/{}/verify", hook.key), "Re-verify", "secondary", None),
        stats = stats_list(&stats),
        table = ui::table(
            "Recent deliveries, newest first",
            &["Delivery", "Status", "Created", "Attempts", "Payload", "Actions"],
            &rows,
            "No deliveries yet: they come when a subscribed event happens while the subscription is Verified.",
        ),
    );
    ui::page(status, ctx, &format!("Subscription {}", hook.key), CURRENT, &body)
}

async fn show(
    AdminOnly(ctx): AdminOnly,
    Path(key): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let hook = match ctx.kg().hook(&principal(&ctx), &key).await {
        Ok(h) => h,
        Err(e) => return refusal(&ctx, e),
    };
    let top = match q.get("done").map(String::as_str) {
        Some("replayed") => ui::notice("Queued: the delivery is sent again at once."),
        _ => String::new(),
    };
    hook_page(&ctx, StatusCode::OK, &hook, &top).await
}

async fn verify(AdminOnly(ctx): AdminOnly, Path(key): Path<String>, _form: CheckedForm) -> Response {
    let hook = match ctx.kg().hook(&principal(&ctx), &key).await {
        Ok(h) => h,
        Err(e) => return refusal(&ctx, e),
    };
    match run_handshake(&ctx.state, hook).await {
        Ok((hook, None)) => {
            hook_page(
                &ctx,
                StatusCode::OK,
                &hook,
                &ui::notice("Verified: the receiver confirmed the handshake."),
            )
            .await
        }
        Ok((hook, Some(why))) => {
            let message = format!(
                "The receiver did not confirm the handshake: {why}. The subscription is {}.",
                hook.status.as_str()
            );
            hook_page(&ctx, StatusCode::OK, &hook, &ui::form_error(&message)).await
        }
        Err(e) => refusal(&ctx, e),
    }
}

async fn replay(
    AdminOnly(ctx): AdminOnly,
    Path((key, id)): Path<(String, String)>,
    _form: CheckedForm,
) -> Response {
    match ctx.kg().replay_delivery(&principal(&ctx), &key, &id).await {
        Ok(()) => Redirect::to(&format!("{CURRENT}/{key}?done=replayed")).into_response(),
        Err(e) => refusal(&ctx, e),
    }
}
