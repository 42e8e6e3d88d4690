//! Who is signed in, and forms that passed the CSRF check.

use std::collections::HashMap;

use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use keygate_lib::portal::PortalUser;

use super::ui;
use crate::extract::parse_form;
use crate::state::AppState;

pub const SESSION_COOKIE: &str = "kg_portal";
/// Set by the sign-in page so that its form's CSRF token has something to be bound to.
pub const SIGN_IN_COOKIE: &str = "kg_portal_sign_in";

/// The value of one cookie. Parsed by hand: two names, no attributes to read, not worth a dependency.
pub fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_owned())
}

/// `Set-Cookie` for the portal: never readable by scripts, never sent by other sites' requests.
pub fn set_cookie(s: &AppState, name: &str, value: &str, max_age: Option<i64>) -> String {
    let secure = if s.config.public_url.starts_with("https://") {
        "; Secure"
    } else {
        ""
    };
    let age = max_age.map(|a| format!("; Max-Age={a}")).unwrap_or_default();
    format!(
        "{name}={value}; Path={PREFIX}; HttpOnly; SameSite=Strict{secure}{age}",
        PREFIX = super::PREFIX
    )
}

/// A signed-in page: the user, their session, and the CSRF token their forms carry.
pub struct Ctx {
    pub user: PortalUser,
    pub csrf: String,
    pub state: AppState,
}

impl Ctx {
    pub fn kg(&self) -> &keygate_lib::Keygate {
        &self.state.keygate
    }
    pub fn account(&self) -> &str {
        self.user.account.name.as_str()
    }
}

/// Requests without a live session go to the sign-in page.
pub struct SignedIn(pub Ctx);

impl FromRequestParts<AppState> for SignedIn {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, s: &AppState) -> Result<Self, Self::Rejection> {
        let Some(token) = cookie(&parts.headers, SESSION_COOKIE) else {
            return Err(Redirect::to("/portal/sign-in").into_response());
        };
        match s.keygate.portal_user(&token).await {
            Ok(Some(user)) => Ok(SignedIn(Ctx {
                csrf: s.keygate.portal_csrf("session", &token),
                user,
                state: s.clone(),
            })),
            Ok(None) => Err(Redirect::to("/portal/sign-in?expired=1").into_response()),
            Err(e) => Err(ui::failure(e)),
        }
    }
}

/// As [`SignedIn`], for the pages only an account admin may use.
pub struct AdminOnly(pub Ctx);

impl FromRequestParts<AppState> for AdminOnly {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, s: &AppState) -> Result<Self, Self::Rejection> {
        let SignedIn(ctx) = SignedIn::from_request_parts(parts, s).await?;
        if ctx.user.is_admin() {
            Ok(AdminOnly(ctx))
        } else {
            let body = "<h1>Account admins only</h1><p>Ask an admin of your account to do this, or to make \
                        you an admin.</p>";
            Err(ui::page(StatusCode::FORBIDDEN, &ctx, "Admins only", "", body))
        }
    }
}

/// A submitted form whose CSRF token matches the session (or, for sign-in, the sign-in cookie), sent
/// from the portal's own origin.
pub struct CheckedForm(pub HashMap<String, String>);

impl FromRequest<AppState> for CheckedForm {
    type Rejection = Response;

    async fn from_request(req: Request, s: &AppState) -> Result<Self, Self::Rejection> {
        let (parts, body) = req.into_parts();
        let refuse = |why: &str| ui::bare_error(StatusCode::FORBIDDEN, why);
        // Browsers send Origin with every POST; one that is not ours is a cross-site request.
        if let Some(origin) = parts.headers.get(header::ORIGIN) {
            if origin.as_bytes() != s.own_origin.as_bytes() {
                return Err(refuse("This form was sent from another site."));
            }
        }
        let signing_in = parts.uri.path() == "/portal/sign-in";
        let (purpose, cookie_name) = if signing_in {
            ("sign-in", SIGN_IN_COOKIE)
        } else {
            ("session", SESSION_COOKIE)
        };
        let Some(bound_to) = cookie(&parts.headers, cookie_name) else {
            return Err(if signing_in {
                refuse("Your browser did not keep the sign-in page's cookie. Enable cookies and reload the page.")
            } else {
                Redirect::to("/portal/sign-in?expired=1").into_response()
            });
        };
        let bytes = axum::body::to_bytes(body, s.config.http.max_body_bytes)
            .await
            .map_err(|_| ui::bare_error(StatusCode::PAYLOAD_TOO_LARGE, "The form is too large."))?;
        let mut form = parse_form(&bytes)
            .map_err(|e| ui::bare_error(StatusCode::BAD_REQUEST, &format!("The form is malformed: {e}.")))?;
        let presented = form.remove("csrf").unwrap_or_default();
        if !s.keygate.check_portal_csrf(purpose, &bound_to, &presented) {
            return Err(refuse(
                "This form has expired or did not come from the portal. Reload the page and try again.",
            ));
        }
        Ok(CheckedForm(form))
    }
}

impl CheckedForm {
    pub fn text(&self, name: &str) -> String {
        self.0.get(name).map(|v| v.trim().to_owned()).unwrap_or_default()
    }
    pub fn opt(&self, name: &str) -> Option<String> {
        Some(self.text(name)).filter(|v| !v.is_empty())
    }
    /// A textarea of one value per line.
    pub fn lines(&self, name: &str) -> Vec<String> {
        self.text(name)
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(str::to_owned)
            .collect()
    }
    /// The checked boxes named `name.<value>`, space-separated in the order given.
    pub fn checked(&self, name: &str, values: &[&str]) -> String {
        values
            .iter()
            .filter(|v| self.0.contains_key(&format!("{name}.{v}")))
            .copied()
            .collect::<Vec<_>>()
            .join(" ")
    }
}
