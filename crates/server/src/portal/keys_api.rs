//! API keys: credentials with a secret for servers, exchanged for tokens at `POST /auth`.

use std::collections::HashMap;

use axum::extract::{Path, Query};
use axum::http::StatusCode;
use axum::response::Response;
use keygate_lib::api_keys::CreateApiKey;
use keygate_lib::views::{ApiKeyView, UserView};

use super::apps::message;
use super::extract::{AdminOnly, CheckedForm, Ctx};
use super::keys::*;
use super::ui::{self, esc};

pub(super) async fn owned_api_key(ctx: &Ctx, id: &str) -> Result<ApiKeyView, Response> {
    let found = ctx.kg().manage(ctx.user.actor()).get_api_key(id).await;
    ui::owned(ctx, found, |k| k.account == ctx.account(), API_KEYS, "API key")
}

pub(super) fn api_key_row(ctx: &Ctx, k: &ApiKeyView, users: &[UserView]) -> Vec<String> {
    let acts_as = match &k.user_id {
        Some(id) => match users.iter().find(|u| &u.id == id) {
            Some(u) => format!("{} <span class=\"hint\">{}</span>", esc(&u.email), code(id)),
            None => code(id),
        },
        None => "<span class=\"hint\">the account</span>".into(),
    };
    let mut secret = format!("<code>…{}</code>", esc(&k.secret_last4));
    if let Some(p) = &k.previous_secret_last4 {
        secret.push_str(&format!(
            " <span class=\"hint\">(previous <code>…{}</code> works until {})</span>",
            esc(p),
            ui::optional_when(k.previous_secret_expires_at)
        ));
    }
    let base = format!("{API_KEYS}/{}", k.id);
    let actions = if k.status == "active" {
        [
            ui::action(
                ctx,
                &format!("{base}/rotate"),
                "Rotate secret",
                "secondary",
                Some("Issue a new secret? The current one keeps working for the rotation grace period."),
            ),
            ui::action(
                ctx,
                &format!("{base}/revoke"),
                "Revoke",
                "danger",
                Some("Revoke this key for good? It and every token obtained with it stop working at once."),
            ),
        ]
        .concat()
    } else {
        String::new()
    };
    vec![
        esc(&k.name),
        copyable(&format!("id-{}", k.id), &k.id, "key id"),
        code(&k.scopes),
        acts_as,
        status_cell(&k.status, k.revoked_at),
        secret,
        ui::when(k.created_at),
        actions,
    ]
}

/// The list with the creation form below it; `top` carries a notice or a secret shown once.
pub(super) async fn api_keys_page(
    ctx: &Ctx,
    status: StatusCode,
    top: &str,
    error: Option<&str>,
    form: Option<&CheckedForm>,
) -> Response {
    let m = ctx.kg().manage(ctx.user.actor());
    let (keys, users) = match (
        m.list_api_keys(ctx.account()).await,
        m.list_users(ctx.account()).await,
    ) {
        (Ok(k), Ok(u)) => (k, u),
        (Err(e), _) | (_, Err(e)) => return ui::failure(e),
    };
    let rows: Vec<Vec<String>> = keys.iter().map(|k| api_key_row(ctx, k, &users)).collect();
    let value = |name: &str| form.map(|f| f.text(name)).unwrap_or_default();
    let chosen_user = value("user_id");
    let user_options: String = users
        .iter()
        .filter(|u| u.status == "active")
        .map(|u| {
            let sel = if u.id == chosen_user { " selected" } else { "" };
            format!(
                "<option value=\"{id}\"{sel}>{email} ({role})</option>",
                id = esc(&u.id),
                email = esc(&u.email),
                role = esc(&u.role)
            )
        })
        .collect();
    let checked = checked_scopes(form, &all_scopes(), &["contacts.read", "contacts.write", "hooks"]);
    let checked: Vec<&str> = checked.iter().map(String::as_str).collect();
    let body = format!(
        "<h1>API keys</h1>{top}\
         <p class=\"lead\">For server-side integrations: the key id (<code>kgk_…</code>) and its secret \
         (<code>kgsk_…</code>) are exchanged for an access token at <code>POST /auth</code>. Never put a secret in a \
         browser or a mobile app; browsers use <a href=\"{DOMAIN_KEYS}\">domain keys</a>.</p>{table}\
         <h2 id=\"new-key\">Create an API key</h2>{error}\
         <form method=\"post\" action=\"{API_KEYS}\" class=\"stack\" data-validate novalidate>{csrf}{name}\
         <div class=\"field\"><label for=\"user_id\">Acts as</label>\
         <select id=\"user_id\" name=\"user_id\" aria-describedby=\"user_id-hint\">\
         <option value=\"\">The account (a service key)</option>{user_options}</select>\
         <p class=\"hint\" id=\"user_id-hint\">A key acting as a user can do only what that user may; a key \
         acting as a member can never impersonate.</p></div>{scopes}\
         <button type=\"submit\" class=\"primary\">Create API key</button></form>",
        table = ui::table(
            "API keys of this account",
            &["Name", "Key id", "Scopes", "Acts as", "Status", "Secret", "Created", "Actions"],
            &rows,
            "No API keys yet. <a href=\"#new-key\">Create one</a> for a server that calls the API.",
        ),
        error = error.map(ui::form_error).unwrap_or_default(),
        csrf = ui::csrf_field(ctx),
        name = ui::input("name", "Name", &value("name"), "type=\"text\" required maxlength=\"100\"", "What uses it, like “Nightly sync”."),
        scopes = ui::checkboxes("scope", "Scopes", &ui::scope_options(), &checked),
    );
    ui::page(status, ctx, "API keys", API_KEYS, &body)
}

pub(super) async fn api_keys(
    AdminOnly(ctx): AdminOnly,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    api_keys_page(&ctx, StatusCode::OK, &revoked_notice(&q), None, None).await
}

pub(super) async fn create_api_key(AdminOnly(ctx): AdminOnly, form: CheckedForm) -> Response {
    let scopes = form.checked("scope", &all_scopes());
    if scopes.is_empty() {
        return api_keys_page(
            &ctx,
            StatusCode::UNPROCESSABLE_ENTITY,
            "",
            Some("Scopes: choose at least one."),
            Some(&form),
        )
        .await;
    }
    let req = CreateApiKey {
        name: form.text("name"),
        user_id: form.opt("user_id"),
        scopes: Some(scopes),
        assertion_alg: None,
    };
    match ctx
        .kg()
        .manage(ctx.user.actor())
        .create_api_key(ctx.account(), req)
        .await
    {
        Ok(created) => {
            let top = format!(
                "{}{}",
                ui::notice(&format!(
                    "API key {} created with id {}.",
                    created.key.name, created.key.id
                )),
                ui::secret_once("API key secret", &created.secret)
            );
            api_keys_page(&ctx, StatusCode::CREATED, &top, None, None).await
        }
        Err(e) => {
            api_keys_page(
                &ctx,
                StatusCode::UNPROCESSABLE_ENTITY,
                "",
                Some(&message(&e)),
                Some(&form),
            )
            .await
        }
    }
}

pub(super) async fn rotate_api_key(
    AdminOnly(ctx): AdminOnly,
    Path(id): Path<String>,
    _form: CheckedForm,
) -> Response {
    if let Err(r) = owned_api_key(&ctx, &id).await {
        return r;
    }
    match ctx.kg().manage(ctx.user.actor()).rotate_api_key(&id, None).await {
        Ok(rotated) => {
            let previous = match (
                &rotated.key.previous_secret_last4,
                rotated.key.previous_secret_expires_at,
            ) {
                (Some(l), Some(t)) => format!(
                    " The previous secret (…{l}) keeps working until {}.",
                    keygate_core::time::format_rfc3339(t)
                ),
                _ => " The previous secret no longer works.".into(),
            };
            let top = format!(
                "{}{}",
                ui::notice(&format!("New secret for {}.{previous}", rotated.key.name)),
                ui::secret_once("New API key secret", &rotated.secret)
            );
            api_keys_page(&ctx, StatusCode::OK, &top, None, None).await
        }
        Err(e) => {
            api_keys_page(
                &ctx,
                StatusCode::CONFLICT,
                &ui::form_error(&message(&e)),
                None,
                None,
            )
            .await
        }
    }
}

pub(super) async fn revoke_api_key(
    AdminOnly(ctx): AdminOnly,
    Path(id): Path<String>,
    _form: CheckedForm,
) -> Response {
    if let Err(r) = owned_api_key(&ctx, &id).await {
        return r;
    }
    match ctx.kg().manage(ctx.user.actor()).revoke_api_key(&id).await {
        Ok(k) => revoked_redirect(API_KEYS, &k.name),
        Err(e) => {
            api_keys_page(
                &ctx,
                StatusCode::CONFLICT,
                &ui::form_error(&message(&e)),
                None,
                None,
            )
            .await
        }
    }
}
