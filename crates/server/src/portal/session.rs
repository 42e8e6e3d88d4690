//! Signing in and out.

use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use keygate_core::crypto::random_token;
use std::collections::HashMap;

use super::extract::{cookie, set_cookie, CheckedForm, SignedIn, SESSION_COOKIE, SIGN_IN_COOKIE};
use super::ui::{self, esc};
use crate::client_addr::ClientAddr;
use crate::state::AppState;

/// `/portal`: the apps page when signed in, else the sign-in page.
pub async fn home(signed_in: Result<SignedIn, Response>) -> Redirect {
    match signed_in {
        Ok(_) => Redirect::to("/portal/apps"),
        Err(_) => Redirect::to("/portal/sign-in"),
    }
}

fn sign_in_form(
    s: &AppState,
    bound_to: &str,
    status: StatusCode,
    error: Option<&str>,
    account: &str,
    email: &str,
) -> Response {
    let error = error.map(ui::form_error).unwrap_or_default();
    let body = format!(
        "<h1>Sign in to the developer portal</h1>{error}\
         <form method=\"post\" action=\"/portal/sign-in\" class=\"stack\" novalidate data-validate>\
         <input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\
         {account}{email}\
         <div class=\"field\"><label for=\"password\">Password</label>\
         <input type=\"password\" id=\"password\" name=\"password\" required autocomplete=\"current-password\"></div>\
         <button type=\"submit\" class=\"primary\">Sign in</button></form>",
        csrf = esc(&s.keygate.portal_csrf("sign-in", bound_to)),
        account = ui::input(
            "account",
            "Account",
            account,
            "type=\"text\" required pattern=\"[a-z]{2}[0-9]{3}\" placeholder=\"ab123\" autocomplete=\"organization\" autofocus",
            "Your account name: two lowercase letters and three digits.",
        ),
        email = ui::input("email", "Email", email, "type=\"email\" required autocomplete=\"username\"", ""),
    );
    let mut res = ui::public_page(status, "Sign in", &body);
    if let Ok(v) = set_cookie(s, SIGN_IN_COOKIE, bound_to, Some(3600)).parse() {
        res.headers_mut().append(header::SET_COOKIE, v);
    }
    res
}

pub async fn sign_in_page(
    State(s): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let bound_to = cookie(&headers, SIGN_IN_COOKIE)
        .filter(|c| c.len() == 43)
        .unwrap_or_else(random_token::<32>);
    let note = q
        .contains_key("expired")
        .then_some("Your session has ended. Sign in again.");
    sign_in_form(&s, &bound_to, StatusCode::OK, note, "", "")
}

pub async fn sign_in(
    State(s): State<AppState>,
    ClientAddr(addr): ClientAddr,
    headers: HeaderMap,
    CheckedForm(mut form): CheckedForm,
) -> Response {
    let bound_to = cookie(&headers, SIGN_IN_COOKIE).unwrap_or_default();
    let account = form.remove("account").unwrap_or_default().trim().to_owned();
    let email = form.remove("email").unwrap_or_default().trim().to_owned();
    let password = form.remove("password").unwrap_or_default();
    if account.is_empty() || email.is_empty() || password.is_empty() {
        return sign_in_form(
            &s,
            &bound_to,
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("Enter your account, email and password."),
            &account,
            &email,
        );
    }
    let kg = &s.keygate;
    let user = match crate::pages::sign_in(kg, addr, &account, &email, &password).await {
        Ok(u) => u,
        Err((status, message)) => {
            return sign_in_form(&s, &bound_to, status, Some(&message), &account, &email)
        }
    };
    let token = match kg.open_portal_session(&user).await {
        Ok(t) => t,
        Err(e) => return ui::failure(e),
    };
    let mut res = Redirect::to("/portal/apps").into_response();
    let cookies = [
        set_cookie(&s, SESSION_COOKIE, &token, None),
        set_cookie(&s, SIGN_IN_COOKIE, "", Some(0)),
    ];
    for c in cookies {
        if let Ok(v) = c.parse() {
            res.headers_mut().append(header::SET_COOKIE, v);
        }
    }
    res
}

pub async fn sign_out(SignedIn(ctx): SignedIn, _form: CheckedForm) -> Response {
    if let Err(e) = ctx.kg().close_portal_session(&ctx.user).await {
        return ui::failure(e);
    }
    let mut res = Redirect::to("/portal/sign-in").into_response();
    if let Ok(v) = set_cookie(&ctx.state, SESSION_COOKIE, "", Some(0)).parse() {
        res.headers_mut().append(header::SET_COOKIE, v);
    }
    res
}
