//! The portal's page shell and the pieces its pages are built from. Everything interpolated goes
//! through [`esc`].

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::Response;

pub use crate::pages::esc;

use keygate_lib::ManageError;

use super::extract::Ctx;

/// Scripts and styles from the portal itself only; no inline script, no framing, forms post home.
const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
                   connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// The sections of the navigation: (path, label, admins only).
const NAV: [(&str, &str, bool); 8] = [
    ("/portal/apps", "Developer apps", false),
    ("/portal/api-keys", "API keys", true),
    ("/portal/domain-keys", "Domain keys", true),
    ("/portal/legacy-keys", "Legacy keys", true),
    ("/portal/users", "Users", true),
    ("/portal/hooks", "REST Hooks", true),
    ("/portal/audit", "Audit log", true),
    ("/portal/explorer", "API explorer", false),
];

fn respond(status: StatusCode, doc: String) -> Response {
    let mut res = crate::pages::protected_html(status, doc, CSP, "same-origin");
    res.headers_mut().insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    res
}

fn document(title: &str, header: &str, main: &str, scripts: &[&str]) -> String {
    let scripts: String = scripts
        .iter()
        .map(|s| format!("<script type=\"module\" src=\"/portal/assets/{s}\"></script>"))
        .collect();
    format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{title} · Keygate portal</title><link rel=\"icon\" href=\"data:,\">\
         <link rel=\"stylesheet\" href=\"/portal/assets/portal.css\">\
         <script type=\"module\" src=\"/portal/assets/portal.js\"></script>{scripts}</head>\
         <body><a class=\"skip\" href=\"#main\">Skip to content</a>{header}\
         <main id=\"main\" tabindex=\"-1\">{main}</main></body></html>",
        title = esc(title),
    )
}

/// A page for a signed-in user, with the navigation; `current` is the nav entry to mark.
pub fn page(status: StatusCode, ctx: &Ctx, title: &str, current: &str, main: &str) -> Response {
    page_with(status, ctx, title, current, main, &[])
}

pub fn page_with(
    status: StatusCode,
    ctx: &Ctx,
    title: &str,
    current: &str,
    main: &str,
    scripts: &[&str],
) -> Response {
    let links: String = NAV
        .iter()
        .filter(|(_, _, admin)| !admin || ctx.user.is_admin())
        .map(|(path, label, _)| {
            let mark = if *path == current {
                " aria-current=\"page\""
            } else {
                ""
            };
            format!("<li><a href=\"{path}\"{mark}>{label}</a></li>")
        })
        .collect();
    let header = format!(
        "<header class=\"top\"><div class=\"brand\"><a href=\"/portal\">Keygate</a>\
         <span class=\"account\">{account}</span></div>\
         <nav aria-label=\"Portal\"><ul>{links}</ul></nav>\
         <form class=\"signout\" method=\"post\" action=\"/portal/sign-out\">{csrf}\
         <span class=\"who\">{email} <span class=\"role\">{role}</span></span>\
         <button type=\"submit\" class=\"link\">Sign out</button></form></header>",
        account = account_label(ctx),
        csrf = csrf_field(ctx),
        email = esc(&ctx.user.user.email),
        role = esc(ctx.user.user.role.as_str()),
    );
    respond(status, document(title, &header, main, scripts))
}

/// A page outside the signed-in area (sign-in, errors before a session exists).
pub fn public_page(status: StatusCode, title: &str, main: &str) -> Response {
    let header = "<header class=\"top\"><div class=\"brand\"><a href=\"/portal\">Keygate</a></div></header>";
    respond(
        status,
        document(title, header, &format!("<div class=\"narrow\">{main}</div>"), &[]),
    )
}

pub fn bare_error(status: StatusCode, message: &str) -> Response {
    public_page(
        status,
        "Error",
        &format!(
            "<h1>Something went wrong</h1><p class=\"error\" role=\"alert\">{}</p>\
             <p><a href=\"/portal\">Back to the portal</a></p>",
            esc(message)
        ),
    )
}

/// A storage failure: logged in full, shown without detail.
pub fn failure(e: impl std::fmt::Display) -> Response {
    tracing::error!(error = %e, "portal request failed");
    bare_error(
        StatusCode::SERVICE_UNAVAILABLE,
        "The server could not complete this request. Try again in a moment.",
    )
}

/// The account's display name with its name, or the name alone when they are the same.
fn account_label(ctx: &Ctx) -> String {
    let display = &ctx.user.account.display_name;
    if display == ctx.account() {
        format!("<code>{}</code>", esc(ctx.account()))
    } else {
        format!("{} <code>{}</code>", esc(display), esc(ctx.account()))
    }
}

/// The 404 page of a record the signed-in account does not have.
pub fn not_found(ctx: &Ctx, current: &str, what: &str) -> Response {
    let body = format!(
        "<h1>No such {what}</h1><p>It may have been deleted, or belong to another account. \
         <a href=\"{current}\">Back to the list</a></p>",
        what = esc(what),
    );
    page(StatusCode::NOT_FOUND, ctx, "Not found", current, &body)
}

/// A management lookup narrowed to the signed-in account: a record that is not `mine`, a missing one and
/// an id that cannot be one all answer the same 404 page, so other accounts' records do not exist here.
// The error is the page to answer with, handed once straight back to axum: boxing it gains nothing.
#[allow(clippy::result_large_err)]
pub fn owned<T>(
    ctx: &Ctx,
    found: Result<T, ManageError>,
    mine: impl FnOnce(&T) -> bool,
    current: &str,
    what: &str,
) -> Result<T, Response> {
    match found {
        Ok(record) if mine(&record) => Ok(record),
        Ok(_) | Err(ManageError::NotFound(_) | ManageError::Invalid(_)) => Err(not_found(ctx, current, what)),
        Err(e) => Err(failure(e)),
    }
}

pub fn csrf_field(ctx: &Ctx) -> String {
    format!(
        "<input type=\"hidden\" name=\"csrf\" value=\"{}\">",
        esc(&ctx.csrf)
    )
}

/// A one-button form, for actions on a row (revoke, rotate, replay). `confirm` asks before submitting.
pub fn action(ctx: &Ctx, path: &str, label: &str, class: &str, confirm: Option<&str>) -> String {
    let confirm = confirm
        .map(|c| format!(" data-confirm=\"{}\"", esc(c)))
        .unwrap_or_default();
    format!(
        "<form method=\"post\" action=\"{path}\" class=\"inline\"{confirm}>{csrf}\
         <button type=\"submit\" class=\"{class}\">{label}</button></form>",
        path = esc(path),
        csrf = csrf_field(ctx),
        class = esc(class),
        label = esc(label),
    )
}

/// The suspend button of an active record (with its confirmation), or the activate button of a
/// suspended one; `base` is the record's path.
pub fn suspend_or_activate(ctx: &Ctx, base: &str, active: bool, class: &str, confirm: &str) -> String {
    if active {
        action(ctx, &format!("{base}/suspend"), "Suspend", class, Some(confirm))
    } else {
        action(ctx, &format!("{base}/activate"), "Activate", "secondary", None)
    }
}

/// A secret shown exactly once, with a copy button.
pub fn secret_once(label: &str, secret: &str) -> String {
    format!(
        "<div class=\"secret\" role=\"status\"><p><strong>{label}</strong>: copy it now. It is shown this \
         once and cannot be recovered; only its last four characters are kept for reference.</p>\
         <div class=\"copy-row\"><code id=\"secret-value\" class=\"secret-value\">{secret}</code>\
         <button type=\"button\" class=\"copy\" data-copy=\"secret-value\" aria-label=\"Copy {label}\">Copy</button>\
         <span class=\"copied\" aria-live=\"polite\"></span></div></div>",
        label = esc(label),
        secret = esc(secret),
    )
}

/// A notice after an action succeeded.
pub fn notice(message: &str) -> String {
    format!("<p class=\"notice\" role=\"status\">{}</p>", esc(message))
}

/// An error above a form, naming the field when the service did.
pub fn form_error(message: &str) -> String {
    format!(
        "<p class=\"error\" role=\"alert\" id=\"form-error\">{}</p>",
        esc(message)
    )
}

/// A table with a caption for screen readers, or the empty state when there are no rows.
pub fn table(caption: &str, headers: &[&str], rows: &[Vec<String>], empty: &str) -> String {
    if rows.is_empty() {
        return format!("<div class=\"empty\"><p>{empty}</p></div>");
    }
    let head: String = headers
        .iter()
        .map(|h| format!("<th scope=\"col\">{}</th>", esc(h)))
        .collect();
    let body: String = rows
        .iter()
        .map(|cells| {
            format!(
                "<tr>{}</tr>",
                cells.iter().map(|c| format!("<td>{c}</td>")).collect::<String>()
            )
        })
        .collect();
    format!(
        "<div class=\"table-wrap\"><table><caption class=\"sr-only\">{}</caption><thead><tr>{head}</tr></thead>\
         <tbody>{body}</tbody></table></div>",
        esc(caption)
    )
}

/// A labelled text input; `hint` is tied to it for screen readers.
pub fn input(name: &str, label: &str, value: &str, attrs: &str, hint: &str) -> String {
    let hint_html = if hint.is_empty() {
        String::new()
    } else {
        format!("<p class=\"hint\" id=\"{name}-hint\">{hint}</p>")
    };
    let described = if hint.is_empty() {
        String::new()
    } else {
        format!(" aria-describedby=\"{name}-hint\"")
    };
    format!(
        "<div class=\"field\"><label for=\"{name}\">{label}</label>\
         <input id=\"{name}\" name=\"{name}\" value=\"{value}\"{described} {attrs}>{hint_html}</div>",
        name = esc(name),
        label = esc(label),
        value = esc(value),
    )
}

/// A labelled textarea of one value per line.
pub fn textarea(name: &str, label: &str, value: &str, hint: &str) -> String {
    format!(
        "<div class=\"field\"><label for=\"{name}\">{label}</label>\
         <textarea id=\"{name}\" name=\"{name}\" rows=\"3\" aria-describedby=\"{name}-hint\">{value}</textarea>\
         <p class=\"hint\" id=\"{name}-hint\">{hint}</p></div>",
        name = esc(name),
        label = esc(label),
        value = esc(value),
    )
}

/// A group of checkboxes named `name.<value>`, for scopes.
pub fn checkboxes(name: &str, legend: &str, options: &[(&str, &str)], checked: &[&str]) -> String {
    let boxes: String = options
        .iter()
        .map(|(value, description)| {
            let id = format!("{name}-{}", value.replace('.', "-"));
            let on = if checked.contains(value) { " checked" } else { "" };
            format!(
                "<div class=\"check\"><input type=\"checkbox\" id=\"{id}\" name=\"{name}.{value}\"{on}>\
                 <label for=\"{id}\"><code>{value}</code> <span class=\"hint\">{description}</span></label></div>",
                id = esc(&id),
                name = esc(name),
                value = esc(value),
                description = esc(description),
            )
        })
        .collect();
    format!("<fieldset><legend>{}</legend>{boxes}</fieldset>", esc(legend))
}

/// A status as a badge that does not rely on colour alone.
pub fn badge(status: &str) -> String {
    format!(
        "<span class=\"badge badge-{s}\">{s}</span>",
        s = esc(&status.to_lowercase())
    )
}

/// Unix seconds as a UTC date and time.
pub fn when(t: i64) -> String {
    let iso = keygate_core::time::format_rfc3339(t);
    format!(
        "<time datetime=\"{iso}\">{}</time>",
        esc(&iso.replace('T', " ").replace('Z', " UTC"))
    )
}

pub fn optional_when(t: Option<i64>) -> String {
    t.map(when).unwrap_or_else(|| "never".into())
}

/// The scopes a form may offer, with what they allow.
pub fn scope_options() -> Vec<(&'static str, &'static str)> {
    keygate_core::scope::Scope::ALL
        .iter()
        .map(|s| (s.as_str(), s.description()))
        .collect()
}
