//! Legacy static keys: deprecated, listed with their usage so their last users can be found.

use std::collections::HashMap;

use axum::extract::{Path, Query};
use axum::http::StatusCode;
use axum::response::Response;
use keygate_lib::legacy::{CreateLegacyKey, LegacyKeyView};
use keygate_lib::ManageError;

use super::apps::message;
use super::extract::{AdminOnly, CheckedForm, Ctx};
use super::keys::*;
use super::ui::{self, esc};

pub(super) async fn legacy_keys_page(
    ctx: &Ctx,
    status: StatusCode,
    top: &str,
    error: Option<&str>,
    form: Option<&CheckedForm>,
) -> Response {
    let keys = match ctx
        .kg()
        .manage(ctx.user.actor())
        .list_legacy_keys(ctx.account())
        .await
    {
        Ok(k) => k,
        Err(e) => return ui::failure(e),
    };
    let rows: Vec<Vec<String>> = keys
        .iter()
        .map(|k| {
            let action = if k.status == "active" {
                ui::action(
                    ctx,
                    &format!("{LEGACY_KEYS}/{}/revoke", k.id),
                    "Revoke",
                    "danger",
                    Some("Revoke this legacy key? Integrations still sending it are refused at once."),
                )
            } else {
                String::new()
            };
            vec![
                esc(&k.name),
                code(&k.id),
                format!("<code>…{}</code>", esc(&k.key_last4)),
                status_cell(&k.status, k.revoked_at),
                k.use_count.to_string(),
                ui::optional_when(k.last_used_at),
                ui::when(k.created_at),
                action,
            ]
        })
        .collect();
    let settings = ctx.kg().legacy_key_settings();
    let sunset = settings
        .sunset
        .map(|t| format!(" They stop working on {}.", ui::when(t)))
        .unwrap_or_default();
    let create = if settings.allow_new {
        format!(
            "<h2 id=\"new-key\">Create a legacy key</h2>{error}\
             <form method=\"post\" action=\"{LEGACY_KEYS}\" class=\"stack\" data-validate novalidate>{csrf}{name}\
             <button type=\"submit\" class=\"primary\">Create legacy key</button></form>",
            error = error.map(ui::form_error).unwrap_or_default(),
            csrf = ui::csrf_field(ctx),
            name = ui::input("name", "Name", &form.map(|f| f.text("name")).unwrap_or_default(),
                "type=\"text\" required maxlength=\"100\"", "Only for an integration that cannot use anything else."),
        )
    } else {
        format!(
            "{}<p class=\"hint\">This server does not allow new legacy keys (<code>legacy_keys.allow_new</code> is off). \
             New integrations use <a href=\"{API_KEYS}\">API keys</a>.</p>",
            error.map(ui::form_error).unwrap_or_default()
        )
    };
    let body = format!(
        "<h1>Legacy keys</h1>{top}\
         <p class=\"lead\"><strong>Deprecated</strong> since {since}.{sunset} A legacy key is one static key sent \
         with every call (<code>X-Legacy-Key</code>, or the first XML-RPC parameter), acting as the account with full \
         access. Move what still uses one to an <a href=\"{API_KEYS}\">API key</a>, then revoke it: the use count \
         and last use show what still depends on it.</p>{table}{create}",
        since = ui::when(settings.deprecated_since),
        table = ui::table(
            "Legacy keys of this account",
            &["Name", "Id", "Key", "Status", "Uses", "Last used", "Created", "Actions"],
            &rows,
            "No legacy keys. Nothing to migrate.",
        ),
    );
    ui::page(status, ctx, "Legacy keys", LEGACY_KEYS, &body)
}

pub(super) async fn legacy_keys(
    AdminOnly(ctx): AdminOnly,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    legacy_keys_page(&ctx, StatusCode::OK, &revoked_notice(&q), None, None).await
}

pub(super) async fn create_legacy_key(AdminOnly(ctx): AdminOnly, form: CheckedForm) -> Response {
    let req = CreateLegacyKey {
        name: form.text("name"),
    };
    match ctx
        .kg()
        .manage(ctx.user.actor())
        .create_legacy_key(ctx.account(), req)
        .await
    {
        Ok(created) => {
            let top = format!(
                "{}{}",
                ui::notice(&format!("Legacy key {} created.", created.key.name)),
                ui::secret_once("Legacy key", &created.key_value)
            );
            legacy_keys_page(&ctx, StatusCode::CREATED, &top, None, None).await
        }
        Err(e @ ManageError::Conflict(_)) => {
            legacy_keys_page(&ctx, StatusCode::CONFLICT, "", Some(&message(&e)), Some(&form)).await
        }
        Err(e) => {
            legacy_keys_page(
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

pub(super) async fn revoke_legacy_key(
    AdminOnly(ctx): AdminOnly,
    Path(id): Path<String>,
    _form: CheckedForm,
) -> Response {
    let m = ctx.kg().manage(ctx.user.actor());
    // The manager has no lookup by id: the account's own list is the ownership check.
    let owned: Option<LegacyKeyView> = match m.list_legacy_keys(ctx.account()).await {
        Ok(keys) => keys.into_iter().find(|k| k.id == id),
        Err(e) => return ui::failure(e),
    };
    if owned.is_none() {
        return ui::not_found(&ctx, LEGACY_KEYS, "legacy key");
    }
    match m.revoke_legacy_key(&id).await {
        Ok(k) => revoked_redirect(LEGACY_KEYS, &k.name),
        Err(e) => {
            legacy_keys_page(
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
