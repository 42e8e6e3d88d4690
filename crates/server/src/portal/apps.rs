//! Developer apps: the OAuth clients the signed-in user's account owns.

use std::collections::HashMap;

use axum::extract::{Path, Query};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use keygate_core::model::{AppStatus, ClientType};
use keygate_lib::manage::{CreateApp, UpdateApp};
use keygate_lib::views::AppView;
use keygate_lib::ManageError;

use super::extract::{CheckedForm, Ctx, SignedIn};
use super::ui::{self, esc};
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/portal/apps", get(list).post(create))
        .route("/portal/apps/new", get(new))
        .route("/portal/apps/{client_id}", get(show))
        .route("/portal/apps/{client_id}/rotate", post(rotate))
        .route("/portal/apps/{client_id}/suspend", post(suspend))
        .route("/portal/apps/{client_id}/activate", post(activate))
        .route("/portal/apps/{client_id}/delete", post(delete))
}

const CURRENT: &str = "/portal/apps";

/// What a management error says to the person filling the form; storage failures say nothing more.
pub fn message(e: &ManageError) -> String {
    match e {
        ManageError::Invalid(i) => format!("{}: {}", i.field.replace('_', " "), i.message),
        ManageError::NotFound(_) | ManageError::Conflict(_) => e.to_string(),
        ManageError::Store(_) | ManageError::Keys(_) => {
            tracing::error!(error = %e, "portal change failed");
            "The server could not save this. Try again in a moment.".into()
        }
    }
}

/// The account's app, or a 404 page: apps of other accounts do not exist as far as the portal knows.
async fn owned(ctx: &Ctx, client_id: &str) -> Result<AppView, Response> {
    let found = ctx.kg().manage(ctx.user.actor()).get_app(client_id).await;
    // A deleted (revoked) app is gone as far as the portal shows.
    let mine = |app: &AppView| app.owner_account.as_deref() == Some(ctx.account()) && app.status != "revoked";
    ui::owned(ctx, found, mine, CURRENT, "app")
}

async fn list(SignedIn(ctx): SignedIn, Query(q): Query<HashMap<String, String>>) -> Response {
    let apps = match ctx
        .kg()
        .manage(ctx.user.actor())
        .list_apps(Some(ctx.account()))
        .await
    {
        Ok(a) => a,
        Err(e) => return ui::failure(e),
    };
    let rows: Vec<Vec<String>> = apps
        .iter()
        .filter(|a| a.status != "revoked")
        .map(|a| {
            vec![
                format!(
                    "<a href=\"/portal/apps/{id}\">{name}</a>",
                    id = esc(&a.client_id),
                    name = esc(&a.name)
                ),
                format!("<code>{}</code>", esc(&a.client_id)),
                esc(&a.client_type),
                ui::badge(&a.status),
                a.secret_last4
                    .as_deref()
                    .map(|l| format!("<code>…{}</code>", esc(l)))
                    .unwrap_or_else(|| "none (public)".into()),
                ui::when(a.created_at),
            ]
        })
        .collect();
    let notice = q
        .get("deleted")
        .map(|n| ui::notice(&format!("Deleted {n}. Its tokens no longer work.")))
        .unwrap_or_default();
    let body = format!(
        "<div class=\"title-row\"><h1>Developer apps</h1><a class=\"button primary\" href=\"/portal/apps/new\">Register an app</a></div>\
         {notice}<p class=\"lead\">OAuth clients that integrate with your account: the authorization code flow for \
         users, client credentials for servers.</p>{table}",
        table = ui::table(
            "Developer apps of this account",
            &["Name", "Client id", "Type", "Status", "Secret", "Registered"],
            &rows,
            "No developer apps yet. <a href=\"/portal/apps/new\">Register your first app</a> to get a client id and secret.",
        ),
    );
    ui::page(StatusCode::OK, &ctx, "Developer apps", CURRENT, &body)
}

/// The registration form, filled with what was entered when it comes back with an error.
fn form_page(ctx: &Ctx, status: StatusCode, error: Option<&str>, form: Option<&CheckedForm>) -> Response {
    let value = |name: &str| form.map(|f| f.text(name)).unwrap_or_default();
    let public = value("client_type") == "public";
    let checked: Vec<String> = match form {
        Some(f) => f
            .checked("scope", &keygate_core::scope::Scope::ALL.map(|s| s.as_str()))
            .split(' ')
            .map(str::to_owned)
            .collect(),
        None => vec!["contacts.read".into(), "contacts.write".into(), "hooks".into()],
    };
    let checked: Vec<&str> = checked.iter().map(String::as_str).collect();
    let body = format!(
        "<h1>Register a developer app</h1>{error}\
         <form method=\"post\" action=\"/portal/apps\" class=\"stack\" data-validate novalidate>{csrf}\
         {name}\
         <fieldset><legend>Type</legend>\
         <div class=\"check\"><input type=\"radio\" id=\"type-confidential\" name=\"client_type\" value=\"confidential\"{conf}>\
         <label for=\"type-confidential\">Confidential <span class=\"hint\">a server that can keep a client secret</span></label></div>\
         <div class=\"check\"><input type=\"radio\" id=\"type-public\" name=\"client_type\" value=\"public\"{publ}>\
         <label for=\"type-public\">Public <span class=\"hint\">a single-page or mobile app: no secret, PKCE only</span></label></div>\
         </fieldset>\
         {redirects}{origins}{scopes}\
         <button type=\"submit\" class=\"primary\">Register app</button> <a href=\"/portal/apps\">Cancel</a></form>",
        error = error.map(ui::form_error).unwrap_or_default(),
        csrf = ui::csrf_field(ctx),
        name = ui::input("name", "Name", &value("name"), "type=\"text\" required maxlength=\"100\"", "Shown to users when they authorize the app."),
        conf = if public { "" } else { " checked" },
        publ = if public { " checked" } else { "" },
        redirects = ui::textarea("redirect_uris", "Redirect URIs", &value("redirect_uris"),
            "One per line, exact match. HTTPS, or http on localhost for development. Needed for the authorization code flow."),
        origins = ui::textarea("allowed_origins", "Allowed web origins", &value("allowed_origins"),
            "One per line, like <code>https://app.example.com</code> or <code>https://*.example.com</code>: where browsers may call the API with this app's tokens."),
        scopes = ui::checkboxes("scope", "Scopes the app may ask for", &ui::scope_options(), &checked),
    );
    ui::page(status, ctx, "Register an app", CURRENT, &body)
}

async fn new(SignedIn(ctx): SignedIn) -> Response {
    form_page(&ctx, StatusCode::OK, None, None)
}

async fn create(SignedIn(ctx): SignedIn, form: CheckedForm) -> Response {
    let client_type = match form.text("client_type").as_str() {
        "public" => ClientType::Public,
        _ => ClientType::Confidential,
    };
    let scopes = form.checked("scope", &keygate_core::scope::Scope::ALL.map(|s| s.as_str()));
    if scopes.is_empty() {
        return form_page(
            &ctx,
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("Scopes: choose at least one."),
            Some(&form),
        );
    }
    let req = CreateApp {
        name: form.text("name"),
        client_type,
        owner_account: Some(ctx.account().to_owned()),
        redirect_uris: form.lines("redirect_uris"),
        allowed_origins: form.lines("allowed_origins"),
        allowed_scopes: Some(scopes),
        access_token_ttl: None,
        refresh_token_ttl: None,
    };
    match ctx.kg().manage(ctx.user.actor()).create_app(req).await {
        Ok(created) => {
            let secret = created
                .client_secret
                .as_deref()
                .map(|s| ui::secret_once("Client secret", s))
                .unwrap_or_default();
            app_page(
                &ctx,
                StatusCode::CREATED,
                &created.app,
                &format!("{}{secret}", ui::notice("App registered.")),
            )
        }
        Err(e) => form_page(
            &ctx,
            StatusCode::UNPROCESSABLE_ENTITY,
            Some(&message(&e)),
            Some(&form),
        ),
    }
}

fn list_or_none(items: &[String]) -> String {
    if items.is_empty() {
        "<span class=\"hint\">none</span>".into()
    } else {
        format!(
            "<ul class=\"plain\">{}</ul>",
            items
                .iter()
                .map(|i| format!("<li><code>{}</code></li>", esc(i)))
                .collect::<String>()
        )
    }
}

fn app_page(ctx: &Ctx, status: StatusCode, app: &AppView, top: &str) -> Response {
    let id = esc(&app.client_id);
    let base = format!("/portal/apps/{}", app.client_id);
    let secret = match (&app.secret_last4, &app.previous_secret_last4) {
        (Some(l), Some(p)) => format!(
            "<code>…{}</code> <span class=\"hint\">(the previous one, <code>…{}</code>, works until {})</span>",
            esc(l), esc(p), ui::optional_when(app.previous_secret_expires_at)),
        (Some(l), None) => format!("<code>…{}</code>", esc(l)),
        (None, _) => "none: a public app authenticates with PKCE only".into(),
    };
    let mut actions = Vec::new();
    if app.client_type == "confidential" {
        actions.push(ui::action(
            ctx,
            &format!("{base}/rotate"),
            "Rotate secret",
            "secondary",
            Some("Issue a new secret? The current one keeps working for the rotation grace period."),
        ));
    }
    actions.push(ui::suspend_or_activate(
        ctx,
        &base,
        app.status == "active",
        "secondary",
        "Suspend this app? Its tokens stop working until you activate it again.",
    ));
    actions.push(ui::action(
        ctx,
        &format!("{base}/delete"),
        "Delete",
        "danger",
        Some("Delete this app for good? Its tokens and secret stop working at once."),
    ));
    let body = format!(
        "<p><a href=\"/portal/apps\">← Developer apps</a></p><h1>{name}</h1>{top}\
         <dl class=\"details\">\
         <dt>Client id</dt><dd><div class=\"copy-row\"><code id=\"client-id\">{id}</code>\
         <button type=\"button\" class=\"copy\" data-copy=\"client-id\" aria-label=\"Copy client id\">Copy</button>\
         <span class=\"copied\" aria-live=\"polite\"></span></div></dd>\
         <dt>Client secret</dt><dd>{secret}</dd>\
         <dt>Type</dt><dd>{ty}</dd><dt>Status</dt><dd>{status}</dd>\
         <dt>Redirect URIs</dt><dd>{redirects}</dd><dt>Allowed web origins</dt><dd>{origins}</dd>\
         <dt>Scopes</dt><dd><code>{scopes}</code></dd><dt>Registered</dt><dd>{created}</dd></dl>\
         <div class=\"actions\">{actions}</div>",
        name = esc(&app.name),
        ty = esc(&app.client_type),
        status = ui::badge(&app.status),
        redirects = list_or_none(&app.redirect_uris),
        origins = list_or_none(&app.allowed_origins),
        scopes = esc(&app.allowed_scopes),
        created = ui::when(app.created_at),
        actions = actions.join(""),
    );
    ui::page(status, ctx, &app.name, CURRENT, &body)
}

async fn show(
    SignedIn(ctx): SignedIn,
    Path(client_id): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    match owned(&ctx, &client_id).await {
        Ok(app) => {
            let top = match q.get("done").map(String::as_str) {
                Some("suspended") => ui::notice("Suspended: the app's tokens no longer work."),
                Some("activated") => ui::notice("Activated."),
                _ => String::new(),
            };
            app_page(&ctx, StatusCode::OK, &app, &top)
        }
        Err(r) => r,
    }
}

async fn rotate(SignedIn(ctx): SignedIn, Path(client_id): Path<String>, _form: CheckedForm) -> Response {
    if let Err(r) = owned(&ctx, &client_id).await {
        return r;
    }
    match ctx
        .kg()
        .manage(ctx.user.actor())
        .rotate_app_secret(&client_id, None)
        .await
    {
        Ok(rotated) => {
            let secret = rotated
                .client_secret
                .as_deref()
                .map(|s| ui::secret_once("New client secret", s))
                .unwrap_or_default();
            app_page(&ctx, StatusCode::OK, &rotated.app, &secret)
        }
        Err(e) => ui::bare_error(StatusCode::CONFLICT, &message(&e)),
    }
}

async fn set_status(ctx: &Ctx, client_id: &str, status: AppStatus) -> Result<AppView, Response> {
    owned(ctx, client_id).await?;
    let req = UpdateApp {
        status: Some(status),
        ..UpdateApp::default()
    };
    ctx.kg()
        .manage(ctx.user.actor())
        .update_app(client_id, req)
        .await
        .map_err(|e| ui::bare_error(StatusCode::CONFLICT, &message(&e)))
}

async fn suspend(SignedIn(ctx): SignedIn, Path(client_id): Path<String>, _form: CheckedForm) -> Response {
    match set_status(&ctx, &client_id, AppStatus::Suspended).await {
        Ok(_) => Redirect::to(&format!("/portal/apps/{client_id}?done=suspended")).into_response(),
        Err(r) => r,
    }
}

async fn activate(SignedIn(ctx): SignedIn, Path(client_id): Path<String>, _form: CheckedForm) -> Response {
    match set_status(&ctx, &client_id, AppStatus::Active).await {
        Ok(_) => Redirect::to(&format!("/portal/apps/{client_id}?done=activated")).into_response(),
        Err(r) => r,
    }
}

/// Deleting revokes the app for good; the record stays for the audit log.
async fn delete(SignedIn(ctx): SignedIn, Path(client_id): Path<String>, _form: CheckedForm) -> Response {
    match set_status(&ctx, &client_id, AppStatus::Revoked).await {
        Ok(app) => {
            let q = serde_urlencoded::to_string([("deleted", app.name.as_str())]).unwrap_or_default();
            Redirect::to(&format!("/portal/apps?{q}")).into_response()
        }
        Err(r) => r,
    }
}
