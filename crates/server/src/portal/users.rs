//! The account's users: add one, change a role, suspend or reactivate. Admins cannot demote or suspend
//! themselves here, so an account never loses its last admin by a slip of the mouse.

use std::collections::HashMap;

use axum::extract::{Path, Query};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use keygate_core::model::{Role, UserStatus};
use keygate_lib::manage::{CreateUser, UpdateUser};
use keygate_lib::views::UserView;

use super::apps::message;
use super::extract::{AdminOnly, CheckedForm, Ctx};
use super::ui::{self, esc};
use crate::state::AppState;

const CURRENT: &str = "/portal/users";

pub fn router() -> Router<AppState> {
    Router::new()
        .route(CURRENT, get(list).post(create))
        .route("/portal/users/{id}/make-admin", post(make_admin))
        .route("/portal/users/{id}/make-member", post(make_member))
        .route("/portal/users/{id}/suspend", post(suspend))
        .route("/portal/users/{id}/activate", post(activate))
}

fn user_row(ctx: &Ctx, u: &UserView) -> Vec<String> {
    let base = format!("{CURRENT}/{}", u.id);
    let myself = u.id == ctx.user.user.id.as_str();
    let mut actions = Vec::new();
    if myself {
        actions.push("<span class=\"hint\">you</span>".to_owned());
    } else {
        if u.role == "admin" {
            actions.push(ui::action(
                ctx,
                &format!("{base}/make-member"),
                "Make member",
                "secondary",
                Some("Make this user a member? They lose access to the admin pages."),
            ));
        } else {
            actions.push(ui::action(ctx, &format!("{base}/make-admin"), "Make admin", "secondary",
                Some("Make this user an account admin? They can manage every credential and user of the account.")));
        }
        actions.push(ui::suspend_or_activate(
            ctx,
            &base,
            u.status == "active",
            "danger",
            "Suspend this user? They are signed out, and their tokens and keys stop working.",
        ));
    }
    vec![
        esc(&u.email),
        format!("<code>{}</code>", esc(&u.id)),
        esc(&u.role),
        ui::badge(&u.status),
        ui::when(u.created_at),
        actions.concat(),
    ]
}

async fn page(
    ctx: &Ctx,
    status: StatusCode,
    top: &str,
    error: Option<&str>,
    form: Option<&CheckedForm>,
) -> Response {
    let users = match ctx.kg().manage(ctx.user.actor()).list_users(ctx.account()).await {
        Ok(u) => u,
        Err(e) => return ui::failure(e),
    };
    let rows: Vec<Vec<String>> = users.iter().map(|u| user_row(ctx, u)).collect();
    // The password is never sent back into the page, even when the form returns with an error.
    let email = form.map(|f| f.text("email")).unwrap_or_default();
    let admin = form.is_some_and(|f| f.text("role") == "admin");
    let body = format!(
        "<h1>Users</h1>{top}\
         <p class=\"lead\">People who sign in to this account: admins manage credentials and users here; members \
         use the API and the portal's developer apps.</p>{table}\
         <h2 id=\"new-user\">Add a user</h2>{error}\
         <form method=\"post\" action=\"{CURRENT}\" class=\"stack\" data-validate novalidate>{csrf}{email}\
         <div class=\"field\"><label for=\"password\">Initial password</label>\
         <input type=\"password\" id=\"password\" name=\"password\" required autocomplete=\"new-password\" \
         aria-describedby=\"password-hint\"><p class=\"hint\" id=\"password-hint\">Give it to them safely; they \
         sign in with it.</p></div>\
         <div class=\"field\"><label for=\"role\">Role</label><select id=\"role\" name=\"role\">\
         <option value=\"member\"{member}>Member</option><option value=\"admin\"{admin}>Admin</option></select></div>\
         <button type=\"submit\" class=\"primary\">Add user</button></form>",
        table = ui::table("Users of this account", &["Email", "Id", "Role", "Status", "Added", "Actions"], &rows, "No users."),
        error = error.map(ui::form_error).unwrap_or_default(),
        csrf = ui::csrf_field(ctx),
        email = ui::input("email", "Email", &email, "type=\"email\" required autocomplete=\"off\"", ""),
        member = if admin { "" } else { " selected" },
        admin = if admin { " selected" } else { "" },
    );
    ui::page(status, ctx, "Users", CURRENT, &body)
}

async fn list(AdminOnly(ctx): AdminOnly, Query(q): Query<HashMap<String, String>>) -> Response {
    let top = match q.get("done").map(String::as_str) {
        Some("created") => ui::notice("User added."),
        Some("admin") => ui::notice("Now an account admin."),
        Some("member") => ui::notice("Now a member."),
        Some("suspended") => ui::notice("Suspended: signed out, and their tokens and keys no longer work."),
        Some("activated") => ui::notice("Activated."),
        _ => String::new(),
    };
    page(&ctx, StatusCode::OK, &top, None, None).await
}

async fn create(AdminOnly(ctx): AdminOnly, form: CheckedForm) -> Response {
    let role = if form.text("role") == "admin" {
        Role::Admin
    } else {
        Role::Member
    };
    // Passwords are taken as typed: leading or trailing spaces may be part of one.
    let password = form.0.get("password").cloned().unwrap_or_default();
    let req = CreateUser {
        email: form.text("email"),
        password,
        role,
    };
    match ctx
        .kg()
        .manage(ctx.user.actor())
        .create_user(ctx.account(), req)
        .await
    {
        Ok(_) => Redirect::to(&format!("{CURRENT}?done=created")).into_response(),
        Err(e) => {
            page(
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

/// Applies a change to a user of this account (404 for anyone else's), refusing to demote or suspend
/// the admin making it.
async fn change(ctx: &Ctx, id: &str, req: UpdateUser, done: &str) -> Response {
    let m = ctx.kg().manage(ctx.user.actor());
    let found = m.get_user(id).await;
    if let Err(r) = ui::owned(ctx, found, |u| u.account == ctx.account(), CURRENT, "user") {
        return r;
    }
    let demotes = req.role.is_some_and(|r| r != Role::Admin);
    let suspends = req.status.is_some_and(|s| s != UserStatus::Active);
    if id == ctx.user.user.id.as_str() && (demotes || suspends) {
        let why = "You cannot demote or suspend yourself: the account could be left without an admin. \
                   Ask another admin to do it.";
        return page(ctx, StatusCode::CONFLICT, &ui::form_error(why), None, None).await;
    }
    match m.update_user(id, req).await {
        Ok(_) => Redirect::to(&format!("{CURRENT}?done={done}")).into_response(),
        Err(e) => {
            page(
                ctx,
                StatusCode::CONFLICT,
                &ui::form_error(&message(&e)),
                None,
                None,
            )
            .await
        }
    }
}

async fn make_admin(AdminOnly(ctx): AdminOnly, Path(id): Path<String>, _form: CheckedForm) -> Response {
    change(
        &ctx,
        &id,
        UpdateUser {
            role: Some(Role::Admin),
            ..UpdateUser::default()
        },
        "admin",
    )
    .await
}

async fn make_member(AdminOnly(ctx): AdminOnly, Path(id): Path<String>, _form: CheckedForm) -> Response {
    change(
        &ctx,
        &id,
        UpdateUser {
            role: Some(Role::Member),
            ..UpdateUser::default()
        },
        "member",
    )
    .await
}

async fn suspend(AdminOnly(ctx): AdminOnly, Path(id): Path<String>, _form: CheckedForm) -> Response {
    change(
        &ctx,
        &id,
        UpdateUser {
            status: Some(UserStatus::Suspended),
            ..UpdateUser::default()
        },
        "suspended",
    )
    .await
}

async fn activate(AdminOnly(ctx): AdminOnly, Path(id): Path<String>, _form: CheckedForm) -> Response {
    change(
        &ctx,
        &id,
        UpdateUser {
            status: Some(UserStatus::Active),
            ..UpdateUser::default()
        },
        "activated",
    )
    .await
}
