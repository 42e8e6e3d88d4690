//! Domain keys: public keys for browsers, valid only from the web origins they list.

use std::collections::HashMap;

use axum::extract::{Path, Query};
use axum::http::StatusCode;
use axum::response::Response;
use keygate_core::scope::Scope;
use keygate_lib::domain_keys::CreateDomainKey;
use keygate_lib::views::ApiKeyView;

use super::apps::message;
use super::extract::{AdminOnly, CheckedForm, Ctx};
use super::keys::*;
use super::ui::{self, esc};

/// What a domain key may hold: never impersonate nor full (see docs/domain-keys.md).
pub(super) fn domain_scopes() -> Vec<(&'static str, &'static str)> {
    ui::scope_options()
        .into_iter()
        .filter(|(s, _)| !matches!(Scope::parse(s), Some(Scope::Impersonate | Scope::Full)))
        .collect()
}

pub(super) async fn domain_keys_page(
    ctx: &Ctx,
    status: StatusCode,
    top: &str,
    error: Option<&str>,
    form: Option<&CheckedForm>,
) -> Response {
    let m = ctx.kg().manage(ctx.user.actor());
    let (dks, keys) = match (
        m.list_domain_keys(ctx.account()).await,
        m.list_api_keys(ctx.account()).await,
    ) {
        (Ok(d), Ok(k)) => (d, k),
        (Err(e), _) | (_, Err(e)) => return ui::failure(e),
    };
    let rows: Vec<Vec<String>> = dks
        .iter()
        .map(|d| {
            let bound = match keys.iter().find(|k| k.id == d.api_key_id) {
                Some(k) => format!("{} <span class=\"hint\">{}</span>", esc(&k.name), code(&k.id)),
                None => code(&d.api_key_id),
            };
            let origins: String = d
                .origins
                .iter()
                .map(|o| format!("<li>{}</li>", code(o)))
                .collect();
            let action = if d.status == "active" {
                ui::action(
                    ctx,
                    &format!("{DOMAIN_KEYS}/{}/revoke", d.id),
                    "Revoke",
                    "danger",
                    Some("Revoke this domain key? Pages using it stop working at once."),
                )
            } else {
                String::new()
            };
            vec![
                esc(&d.name),
                copyable(&format!("id-{}", d.id), &d.id, "domain key"),
                format!("<ul class=\"plain\">{origins}</ul>"),
                code(&d.scopes),
                bound,
                status_cell(&d.status, d.revoked_at),
                ui::when(d.created_at),
                action,
            ]
        })
        .collect();
    let active: Vec<&ApiKeyView> = keys.iter().filter(|k| k.status == "active").collect();
    let create = if active.is_empty() {
        format!(
            "<div class=\"empty\"><p>A domain key acts through an API key of this account, and there is no active \
             one. <a href=\"{API_KEYS}#new-key\">Create an API key</a> first.</p></div>"
        )
    } else {
        let value = |name: &str| form.map(|f| f.text(name)).unwrap_or_default();
        let chosen = value("api_key_id");
        let options: String = active
            .iter()
            .map(|k| {
                let sel = if k.id == chosen { " selected" } else { "" };
                format!(
                    "<option value=\"{id}\"{sel}>{name} ({id}; {scopes})</option>",
                    id = esc(&k.id),
                    name = esc(&k.name),
                    scopes = esc(&k.scopes)
                )
            })
            .collect();
        let offered = domain_scopes();
        let names: Vec<&str> = offered.iter().map(|(s, _)| *s).collect();
        let checked = checked_scopes(form, &names, &["contacts.read"]);
        let checked: Vec<&str> = checked.iter().map(String::as_str).collect();
        format!(
            "{error}<form method=\"post\" action=\"{DOMAIN_KEYS}\" class=\"stack\" data-validate novalidate>{csrf}{name}\
             <div class=\"field\"><label for=\"api_key_id\">API key</label>\
             <select id=\"api_key_id\" name=\"api_key_id\" required aria-describedby=\"api_key_id-hint\">{options}</select>\
             <p class=\"hint\" id=\"api_key_id-hint\">Its tokens act as this key's subject, within its scopes.</p></div>\
             {origins}{scopes}<button type=\"submit\" class=\"primary\">Create domain key</button></form>",
            error = error.map(ui::form_error).unwrap_or_default(),
            csrf = ui::csrf_field(ctx),
            name = ui::input("name", "Name", &value("name"), "type=\"text\" required maxlength=\"100\"", "Like “Shop widget”."),
            origins = ui::textarea("origins", "Origins", &value("origins"),
                "One per line, like <code>https://shop.example.com</code> or <code>https://*.example.com</code>: the only pages it works from."),
            scopes = ui::checkboxes("scope", "Scopes", &offered, &checked),
        )
    };
    let body = format!(
        "<h1>Domain keys</h1>{top}\
         <p class=\"lead\">For browser integrations: a domain key (<code>kgd_…</code>) is public and goes in your \
         page's source. It works only from the origins it lists, and can never impersonate.</p>{table}\
         <h2 id=\"new-key\">Create a domain key</h2>{create}",
        table = ui::table(
            "Domain keys of this account",
            &["Name", "Domain key", "Origins", "Scopes", "API key", "Status", "Created", "Actions"],
            &rows,
            "No domain keys yet.",
        ),
    );
    ui::page(status, ctx, "Domain keys", DOMAIN_KEYS, &body)
}

pub(super) async fn domain_keys(
    AdminOnly(ctx): AdminOnly,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    domain_keys_page(&ctx, StatusCode::OK, &revoked_notice(&q), None, None).await
}

/// How to use a new domain key from a page, with its real values filled in.
pub(super) fn usage_snippet(base_url: &str, api_key: &str, domain_key: &str) -> String {
    format!(
        "<h2>Use it in a page</h2><p>With the browser SDK (<code>sdk/js</code>; see <code>docs/sdk-js.md</code>):</p>\
         <pre><code>import {{ createClient }} from \"@keygate/browser\";\n\n\
         const kg = createClient({{\n  baseUrl: \"{base}\",\n  apiKey: \"{api}\",\n  domainKey: \"{dk}\",\n}});\n\
         console.log(await kg.me());</code></pre>\
         <p class=\"hint\">Without it: <code>POST /auth</code> with <code>X-Api-Key: {api}</code> and \
         <code>{{\"domain_key\": \"{dk}\"}}</code> (see <code>docs/domain-keys.md</code>). All three values are public; \
         the API key's secret never goes in a page.</p>",
        base = esc(base_url),
        api = esc(api_key),
        dk = esc(domain_key),
    )
}

pub(super) async fn create_domain_key(AdminOnly(ctx): AdminOnly, form: CheckedForm) -> Response {
    let offered: Vec<&str> = domain_scopes().iter().map(|(s, _)| *s).collect();
    let scopes = form.checked("scope", &offered);
    if scopes.is_empty() {
        return domain_keys_page(
            &ctx,
            StatusCode::UNPROCESSABLE_ENTITY,
            "",
            Some("Scopes: choose at least one."),
            Some(&form),
        )
        .await;
    }
    let req = CreateDomainKey {
        name: form.text("name"),
        api_key_id: form.text("api_key_id"),
        origins: form.lines("origins"),
        scopes: Some(scopes),
    };
    match ctx
        .kg()
        .manage(ctx.user.actor())
        .create_domain_key(ctx.account(), req)
        .await
    {
        Ok(dk) => {
            let top = format!(
                "{}<dl class=\"details\"><dt>Domain key</dt><dd>{}</dd></dl>{}",
                ui::notice(&format!("Domain key {} created.", dk.name)),
                copyable("new-domain-key", &dk.id, "domain key"),
                usage_snippet(&ctx.state.config.public_url, &dk.api_key_id, &dk.id),
            );
            domain_keys_page(&ctx, StatusCode::CREATED, &top, None, None).await
        }
        Err(e) => {
            domain_keys_page(
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

pub(super) async fn revoke_domain_key(
    AdminOnly(ctx): AdminOnly,
    Path(id): Path<String>,
    _form: CheckedForm,
) -> Response {
    let m = ctx.kg().manage(ctx.user.actor());
    let found = m.get_domain_key(&id).await;
    if let Err(r) = ui::owned(
        &ctx,
        found,
        |d| d.account == ctx.account(),
        DOMAIN_KEYS,
        "domain key",
    ) {
        return r;
    }
    match m.revoke_domain_key(&id).await {
        Ok(d) => revoked_redirect(DOMAIN_KEYS, &d.name),
        Err(e) => {
            domain_keys_page(
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
