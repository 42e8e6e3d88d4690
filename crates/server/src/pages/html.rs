use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Response};

/// Escapes text for HTML content and double-quoted attributes. Five characters need it; a template
/// engine would be a large dependency for three small pages.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

pub const STYLESHEET: &str = r#"
:root { color-scheme: light dark; --accent: #3157d5; }
* { box-sizing: border-box; }
body { font: 16px/1.5 system-ui, sans-serif; margin: 0; min-height: 100vh; display: grid; place-items: center; background: Canvas; color: CanvasText; }
main { width: min(26rem, 100% - 2rem); padding: 2rem; border: 1px solid color-mix(in srgb, CanvasText 15%, transparent); border-radius: 12px; }
h1 { font-size: 1.3rem; margin: 0 0 1rem; }
label { display: block; margin: .8rem 0 .2rem; font-weight: 600; }
input[type=text], input[type=email], input[type=password] { width: 100%; padding: .55rem; font: inherit; border: 1px solid GrayText; border-radius: 6px; }
button { font: inherit; padding: .55rem 1.1rem; border-radius: 6px; border: 1px solid var(--accent); cursor: pointer; margin-top: 1.2rem; }
button.primary { background: var(--accent); color: white; }
button.secondary { background: transparent; color: inherit; margin-left: .5rem; }
.error { border-left: 4px solid #c62828; padding: .4rem .8rem; background: color-mix(in srgb, #c62828 10%, transparent); }
ul.scopes { padding-left: 1.2rem; }
code { word-break: break-all; }
.muted { color: GrayText; font-size: .9rem; }
"#;

/// Pages of the authorization flow may not be framed (clickjacking) nor load anything but our stylesheet.
const CSP: &str =
    "default-src 'none'; style-src 'self'; img-src 'self'; frame-ancestors 'none'; base-uri 'none'";

pub fn page(status: StatusCode, title: &str, body: &str) -> Response {
    let doc = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{} · Keygate</title><link rel=\"stylesheet\" href=\"/assets/keygate.css\"></head>\
         <body><main>{}</main></body></html>",
        esc(title),
        body
    );
    protected_html(status, doc, CSP, "no-referrer")
}

/// An HTML document under `csp`, never framed and never stored (a page may show a secret once).
pub fn protected_html(
    status: StatusCode,
    doc: String,
    csp: &'static str,
    referrer: &'static str,
) -> Response {
    let mut res = (status, Html(doc)).into_response();
    let h = res.headers_mut();
    h.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(csp));
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(header::REFERRER_POLICY, HeaderValue::from_static(referrer));
    res
}

/// Checks a user's password through the lock-outs every password door shares; a refusal comes as the
/// status and sentence a sign-in page shows.
pub async fn sign_in(
    kg: &keygate_lib::Keygate,
    addr: Option<std::net::IpAddr>,
    account: &str,
    email: &str,
    password: &str,
) -> Result<keygate_core::model::User, (StatusCode, String)> {
    use keygate_lib::lockout::{Attempt, Guarded};
    use keygate_lib::oauth::authorize::LoginError;
    let attempt = Attempt::from(addr).user(&format!("{}/{}", account.trim(), email.trim()));
    let login = kg.login(account, email, password);
    kg.guarded(&attempt, login, |e| matches!(e, LoginError::BadCredentials))
        .await
        .map_err(|g| match g {
            Guarded::Locked(_) => (
                StatusCode::TOO_MANY_REQUESTS,
                "Too many failed sign-ins for this user or from this network. Try again later.".to_owned(),
            ),
            Guarded::Failed(e) => (StatusCode::UNAUTHORIZED, e.to_string()),
        })
}

pub fn error_page(status: StatusCode, message: &str) -> Response {
    page(
        status,
        "Authorization error",
        &format!(
            "<h1>This authorization request cannot continue</h1><p class=\"error\" role=\"alert\">{}</p>\
             <p class=\"muted\">Return to the application and try again, or contact its developer.</p>",
            esc(message)
        ),
    )
}

pub fn hidden(name: &str, value: Option<&str>) -> String {
    match value {
        Some(v) => format!(
            "<input type=\"hidden\" name=\"{}\" value=\"{}\">",
            esc(name),
            esc(v)
        ),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes() {
        assert_eq!(
            esc("<a href=\"x\">'&'</a>"),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;"
        );
    }
}
