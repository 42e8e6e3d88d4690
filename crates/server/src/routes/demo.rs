//! `GET /demo/callback`: where the demo app of `keygate serve --demo` is redirected, so a newcomer sees
//! the authorization code and the exact request that exchanges it. Only mounted in demo mode.

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use std::collections::HashMap;

use crate::pages::{esc, page};
use crate::routes::table::Routes;
use crate::state::AppState;

pub const PATH: &str = "/demo/callback";

pub fn router() -> Routes {
    Routes::new().get(PATH, callback)
}

/// The demo app's redirect target.
///
/// The demo app's redirect URI: shows the authorization code and the request that exchanges it. Only
/// served by `keygate serve --demo` (this document lists it only then).
#[utoipa::path(
    get,
    path = "/demo/callback",
    tag = "authorize",
    params(
        ("code" = Option<String>, Query, description = "The authorization code"),
        ("state" = Option<String>, Query),
        ("iss" = Option<String>, Query),
        ("error" = Option<String>, Query, description = "Set when the authorization failed"),
        ("error_description" = Option<String>, Query),
    ),
    responses((status = 200, description = "An HTML page", body = String, content_type = "text/html"))
)]
pub(crate) async fn callback(
    State(s): State<AppState>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    if let Some(error) = q.get("error") {
        let detail = q.get("error_description").map(String::as_str).unwrap_or_default();
        return page(
            StatusCode::OK,
            "Demo callback",
            &format!(
                "<h1>The authorization failed</h1><p class=\"error\">{}: {}</p>",
                esc(error),
                esc(detail)
            ),
        );
    }
    let code = q.get("code").map(String::as_str).unwrap_or_default();
    let base = &s.config.public_url;
    let body = format!(
        "<h1>Authorization code received</h1><p>Exchange it within a minute (it works once):</p>\
         <pre><code>curl -s -u \"$CLIENT_ID:$CLIENT_SECRET\" {base}/oauth/token \\\n  -d grant_type=authorization_code \\\n  -d redirect_uri={base}/demo/callback \\\n  -d code={code}</code></pre>",
        base = esc(base),
        code = esc(code),
    );
    page(StatusCode::OK, "Demo callback", &body)
}
