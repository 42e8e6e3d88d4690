//! `GET/POST /oauth/authorize` (login) and `POST /oauth/authorize/consent`: the browser side of the
//! authorization code flow.

use axum::body::Bytes;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use keygate_core::model::User;
use keygate_core::scope::ScopeSet;
use keygate_lib::oauth::authorize::{
    redirect_with, AuthorizeError, AuthorizeParams, AuthorizeRequest, ErrorRedirect,
};
use keygate_lib::{OAuthError, OAuthErrorCode};

use crate::client_addr::ClientAddr;
use crate::extract::parse_form;
use crate::openapi::schemas::{ConsentForm, LoginForm};
use crate::pages::{error_page, esc, hidden, page};
use crate::routes::table::Routes;
use crate::state::AppState;

pub fn router() -> Routes {
    Routes::new()
        .get("/oauth/authorize", show_login)
        .post("/oauth/authorize", submit_login)
        .post("/oauth/authorize/consent", submit_consent)
}

fn see_other(location: &str) -> Response {
    match HeaderValue::from_str(location) {
        Ok(v) => (StatusCode::SEE_OTHER, [(header::LOCATION, v)]).into_response(),
        Err(_) => error_page(StatusCode::BAD_REQUEST, "The redirect URI cannot be used."),
    }
}

fn authorize_failure(s: &AppState, e: AuthorizeError) -> Response {
    match e {
        AuthorizeError::ShowToUser(m) => error_page(StatusCode::BAD_REQUEST, &m),
        AuthorizeError::Redirect(r) => see_other(&r.location(&s.keygate.settings().issuer)),
    }
}

/// The authorization endpoint: the sign-in page.
///
/// The authorization endpoint (RFC 6749 §4.1.1, PKCE per RFC 7636): validates the request and shows
/// the sign-in page. A request that names no valid client or redirect URI gets an error page; any other
/// error is sent to the client's redirect URI.
#[utoipa::path(
    get,
    path = "/oauth/authorize",
    tag = "authorize",
    params(keygate_lib::oauth::authorize::AuthorizeParams),
    responses(
        (status = 200, description = "The sign-in page", body = String, content_type = "text/html"),
        (status = 303, description = "An error sent back to the client", headers(("Location" = String, description = "The client's `redirect_uri` with `error`, `error_description`, `state` and `iss` (RFC 9207)"))),
        (status = 400, description = "An error page: the request cannot be redirected", body = String, content_type = "text/html"),
    )
)]
pub(crate) async fn show_login(
    State(s): State<AppState>,
    q: Result<Query<AuthorizeParams>, QueryRejection>,
) -> Response {
    let params = match q {
        Ok(Query(p)) => p,
        // Repeated or undecodable parameters (RFC 6749 §3.1): nothing in it can be trusted to redirect to.
        Err(e) => {
            return error_page(
                StatusCode::BAD_REQUEST,
                &format!("The request is malformed: {}", e.body_text()),
            )
        }
    };
    match s.keygate.validate_authorize(&params).await {
        Ok(req) => login_page(StatusCode::OK, &params, &req, None, "", ""),
        Err(e) => authorize_failure(&s, e),
    }
}

fn login_page(
    status: StatusCode,
    p: &AuthorizeParams,
    req: &AuthorizeRequest,
    error: Option<&str>,
    account: &str,
    email: &str,
) -> Response {
    let hidden_fields: String = [
        ("response_type", &p.response_type),
        ("client_id", &p.client_id),
        ("redirect_uri", &p.redirect_uri),
        ("scope", &p.scope),
        ("state", &p.state),
        ("code_challenge", &p.code_challenge),
        ("code_challenge_method", &p.code_challenge_method),
    ]
    .iter()
    .map(|(n, v)| hidden(n, v.as_deref()))
    .collect();
    let error = error
        .map(|e| format!("<p class=\"error\" role=\"alert\">{}</p>", esc(e)))
        .unwrap_or_default();
    let body = format!(
        "<h1>Sign in to continue to {app}</h1>{error}\
         <form method=\"post\" action=\"/oauth/authorize\">{hidden_fields}\
         <label for=\"account\">Account</label>\
         <input type=\"text\" id=\"account\" name=\"account\" required pattern=\"[a-z]{{2}}[0-9]{{3}}\" \
           placeholder=\"ab123\" autocomplete=\"organization\" value=\"{account}\" aria-describedby=\"account-hint\">\
         <p id=\"account-hint\" class=\"muted\">Your account name: two letters and three digits.</p>\
         <label for=\"email\">Email</label>\
         <input type=\"email\" id=\"email\" name=\"email\" required autocomplete=\"username\" value=\"{email}\">\
         <label for=\"password\">Password</label>\
         <input type=\"password\" id=\"password\" name=\"password\" required autocomplete=\"current-password\">\
         <button class=\"primary\" type=\"submit\">Sign in</button></form>",
        app = esc(&req.app.name),
        account = esc(account),
        email = esc(email),
    );
    page(status, "Sign in", &body)
}

/// The sign-in form: on success, the consent page.
#[utoipa::path(
    post,
    path = "/oauth/authorize",
    tag = "authorize",
    request_body(content = LoginForm, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 200, description = "The consent page", body = String, content_type = "text/html"),
        (status = 303, description = "An error sent back to the client (the user may grant none of the scopes asked, say)", headers(("Location" = String, description = "The client's `redirect_uri` with `error`, `error_description`, `state` and `iss` (RFC 9207)"))),
        (status = 400, description = "An error page", body = String, content_type = "text/html"),
        (status = 401, description = "The sign-in page again, saying the credentials were wrong", body = String, content_type = "text/html"),
        (status = 429, description = "The sign-in page again: too many failed sign-ins", body = String, content_type = "text/html"),
    )
)]
pub(crate) async fn submit_login(
    State(s): State<AppState>,
    ClientAddr(addr): ClientAddr,
    body: Bytes,
) -> Response {
    let Ok(mut form) = parse_form(&body) else {
        return error_page(StatusCode::BAD_REQUEST, "The sign-in form is malformed.");
    };
    let account = form.remove("account").unwrap_or_default();
    let email = form.remove("email").unwrap_or_default();
    let password = form.remove("password").unwrap_or_default();
    let params = AuthorizeParams {
        response_type: form.remove("response_type"),
        client_id: form.remove("client_id"),
        redirect_uri: form.remove("redirect_uri"),
        scope: form.remove("scope"),
        state: form.remove("state"),
        code_challenge: form.remove("code_challenge"),
        code_challenge_method: form.remove("code_challenge_method"),
    };
    let req = match s.keygate.validate_authorize(&params).await {
        Ok(r) => r,
        Err(e) => return authorize_failure(&s, e),
    };
    let user = match crate::pages::sign_in(&s.keygate, addr, &account, &email, &password).await {
        Ok(u) => u,
        Err((status, message)) => return login_page(status, &params, &req, Some(&message), &account, &email),
    };
    match s.keygate.grantable_scopes(&req, &user) {
        Ok(scope) => consent_page(&s, &req, &user, &scope),
        Err(error) => see_other(
            &ErrorRedirect {
                redirect_uri: req.redirect_uri.clone(),
                state: req.state.clone(),
                error,
            }
            .location(&s.keygate.settings().issuer),
        ),
    }
}

fn consent_page(s: &AppState, req: &AuthorizeRequest, user: &User, scope: &ScopeSet) -> Response {
    let ticket = s.keygate.consent_ticket(req, user, scope);
    let scopes: String = scope
        .iter()
        .map(|sc| {
            format!(
                "<li><strong>{}</strong>: {}</li>",
                esc(sc.as_str()),
                esc(sc.description())
            )
        })
        .collect();
    let body = format!(
        "<h1>Allow {app} to access {account}?</h1>\
         <p>Signed in as <strong>{email}</strong>. {app} asks for:</p><ul class=\"scopes\">{scopes}</ul>\
         <form method=\"post\" action=\"/oauth/authorize/consent\">{ticket}\
         <button class=\"primary\" type=\"submit\" name=\"decision\" value=\"allow\">Allow</button>\
         <button class=\"secondary\" type=\"submit\" name=\"decision\" value=\"deny\">Deny</button></form>\
         <p class=\"muted\">You will be sent back to {redirect}.</p>",
        app = esc(&req.app.name),
        account = esc(user.account.as_str()),
        email = esc(&user.email),
        ticket = hidden("ticket", Some(&ticket)),
        redirect = esc(&req.redirect_uri),
    );
    page(StatusCode::OK, "Authorize", &body)
}

/// The consent form: Allow sends an authorization code to the client, Deny an `access_denied` error.
#[utoipa::path(
    post,
    path = "/oauth/authorize/consent",
    tag = "authorize",
    request_body(content = ConsentForm, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 303, description = "Back to the client", headers(("Location" = String, description = "The `redirect_uri` with `code`, `state` and `iss`, or with an `error`"))),
        (status = 400, description = "An error page: the form expired or was altered", body = String, content_type = "text/html"),
    )
)]
pub(crate) async fn submit_consent(State(s): State<AppState>, body: Bytes) -> Response {
    let Ok(mut form) = parse_form(&body) else {
        return error_page(StatusCode::BAD_REQUEST, "The consent form is malformed.");
    };
    let Some(ticket) = form
        .remove("ticket")
        .and_then(|t| s.keygate.open_consent_ticket(&t))
    else {
        return error_page(
            StatusCode::BAD_REQUEST,
            "This consent form has expired or was altered. Start again from the application.",
        );
    };
    let issuer = s.keygate.settings().issuer.clone();
    let redirect_error = |error: OAuthError| {
        see_other(
            &ErrorRedirect {
                redirect_uri: ticket.redirect_uri.clone(),
                state: ticket.state.clone(),
                error,
            }
            .location(&issuer),
        )
    };
    match form.remove("decision").as_deref() {
        Some("allow") => {}
        Some("deny") => {
            return redirect_error(OAuthError::new(
                OAuthErrorCode::AccessDenied,
                "the user denied the request",
            ))
        }
        _ => return error_page(StatusCode::BAD_REQUEST, "Choose Allow or Deny."),
    }
    match s.keygate.issue_code(&ticket).await {
        Ok(code) => {
            let mut pairs = vec![("code", code.as_str())];
            if let Some(state) = &ticket.state {
                pairs.push(("state", state));
            }
            pairs.push(("iss", &issuer));
            see_other(&redirect_with(&ticket.redirect_uri, &pairs))
        }
        Err(e) => redirect_error(e),
    }
}
