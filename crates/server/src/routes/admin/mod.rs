//! The admin REST API under `/admin/v1`, protected by admin tokens (`keygate admin tokens create`).
//! Handlers are thin: validation and behaviour live in `keygate_lib::manage`, shared with the CLI.

pub mod keys;

use axum::extract::FromRequestParts;
use axum::extract::{Path, Query, Request, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use keygate_lib::api_keys::AuditFilter;
use keygate_lib::manage::{CreateAccount, CreateApp, CreateUser, UpdateAccount, UpdateApp, UpdateUser};
use keygate_lib::views::{
    AccountView, AdminTokenView, AdminTokenWithSecret, AppView, AppWithSecret, AuditEventView,
    SigningKeyView, UserView,
};
use keygate_lib::{Actor, Manager};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::error::Problem;
use crate::extract::{ApiJson, OptionalApiJson};
use crate::json::Json;
use crate::openapi::responses as r;
use crate::routes::table::Routes;
use crate::state::AppState;

type ApiResult = Result<Response, Problem>;

pub fn router(state: AppState) -> Routes {
    Routes::new()
        .get("/admin/v1/accounts", list_accounts)
        .post("/admin/v1/accounts", create_account)
        .get("/admin/v1/accounts/{name}", get_account)
        .patch("/admin/v1/accounts/{name}", update_account)
        .get("/admin/v1/accounts/{name}/users", list_users)
        .post("/admin/v1/accounts/{name}/users", create_user)
        .get("/admin/v1/users/{id}", get_user)
        .patch("/admin/v1/users/{id}", update_user)
        .get("/admin/v1/apps", list_apps)
        .post("/admin/v1/apps", create_app)
        .get("/admin/v1/apps/{client_id}", get_app)
        .patch("/admin/v1/apps/{client_id}", update_app)
        .post("/admin/v1/apps/{client_id}/rotate-secret", rotate_secret)
        .get("/admin/v1/tokens", list_tokens)
        .post("/admin/v1/tokens", create_token)
        .delete("/admin/v1/tokens/{id}", revoke_token)
        .merge(keys::router())
        .get("/admin/v1/audit", list_audit)
        .get("/admin/v1/keys", list_keys)
        .post("/admin/v1/keys/rotate", rotate_keys)
        .map_router(|r| r.route_layer(middleware::from_fn_with_state(state, require_admin)))
}

async fn require_admin(State(s): State<AppState>, req: Request, next: Next) -> Response {
    // Set only by an in-process caller (`keygate admin` on the database): nothing from the network can
    // put an extension into a request.
    if req.extensions().get::<Admin>().is_some() {
        return next.run(req).await;
    }
    let challenge = "Bearer realm=\"keygate-admin\"".to_owned();
    let token = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, t)| t.trim().to_owned());
    let Some(token) = token else {
        return Problem::unauthorized(
            "an admin token is required (Authorization: Bearer kgat_…)",
            challenge,
        )
        .into_response();
    };
    match s.keygate.authenticate_admin(&token).await {
        Ok(Some(admin)) => {
            tracing::debug!(admin = %admin.id, "admin request");
            let mut req = req;
            req.extensions_mut()
                .insert(Admin(AdminId(Actor::AdminToken(admin.id))));
            next.run(req).await
        }
        Ok(None) => Problem::unauthorized("the admin token is invalid or revoked", challenge).into_response(),
        Err(e) => Problem::internal(e).into_response(),
    }
}

/// Who an admin request acts as: the admin token it authenticated with (put in the request by
/// `require_admin`), or the operator's CLI.
#[derive(Clone)]
pub struct AdminId(Actor);

impl AdminId {
    fn manage<'a>(&self, s: &'a AppState) -> Manager<'a> {
        s.keygate.manage(self.0.clone())
    }
}

/// Extracts the authenticated admin, so handlers act (and are audited) as that admin token.
#[derive(Clone)]
pub struct Admin(AdminId);

impl Admin {
    /// The operator at the database (`keygate admin` without `--server`), audited as `cli`. Put in a
    /// request's extensions by an in-process caller, it stands in for an admin token.
    pub fn cli() -> Self {
        Admin(AdminId(Actor::Cli))
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Admin {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Problem> {
        parts
            .extensions
            .get::<Admin>()
            .cloned()
            .ok_or_else(|| Problem::internal("admin route without require_admin"))
    }
}

fn ok<T: Serialize>(body: T) -> ApiResult {
    Ok(Json(body).into_response())
}

fn created<T: Serialize>(location: String, body: T) -> ApiResult {
    let mut res = (StatusCode::CREATED, Json(body)).into_response();
    if let Ok(v) = HeaderValue::from_str(&location) {
        res.headers_mut().insert(header::LOCATION, v);
    }
    res.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(res)
}

/// The bodies of the list endpoints: `{"<name>": [...]}`.
macro_rules! listing {
    ($($name:ident { $field:ident: $item:ty })+) => {$(
        #[derive(Serialize, ToSchema)]
        pub struct $name {
            pub $field: Vec<$item>,
        }
    )+};
}

listing! {
    AccountList { accounts: AccountView }
    UserList { users: UserView }
    AppList { apps: AppView }
    AdminTokenList { tokens: AdminTokenView }
    SigningKeyList { keys: SigningKeyView }
    AuditEventList { events: AuditEventView }
}

/// Every account.
#[utoipa::path(get, path = "/admin/v1/accounts", tag = "admin", security(("adminToken" = [])),
    responses((status = 200, description = "The accounts", body = AccountList), (status = 401, response = r::Unauthorized)))]
pub(crate) async fn list_accounts(Admin(m): Admin, State(s): State<AppState>) -> ApiResult {
    ok(AccountList {
        accounts: m.manage(&s).list_accounts().await?,
    })
}

/// Creates an account: its name is two letters and three digits (`ab123`).
#[utoipa::path(post, path = "/admin/v1/accounts", tag = "admin", security(("adminToken" = [])),
    request_body = CreateAccount,
    responses(
        (status = 201, description = "Created", body = AccountView, headers(("Location" = String, description = "`/admin/v1/accounts/{name}`"))),
        (status = 400, response = r::BadRequest), (status = 401, response = r::Unauthorized),
        (status = 409, response = r::Conflict), (status = 415, response = r::UnsupportedMediaType),
        (status = 422, response = r::InvalidField),
    ))]
pub(crate) async fn create_account(
    Admin(m): Admin,
    State(s): State<AppState>,
    ApiJson(req): ApiJson<CreateAccount>,
) -> ApiResult {
    let a = m.manage(&s).create_account(req).await?;
    created(format!("/admin/v1/accounts/{}", a.name), a)
}

/// An account.
#[utoipa::path(get, path = "/admin/v1/accounts/{name}", tag = "admin", security(("adminToken" = [])),
    params(("name" = String, Path, description = "The account name")),
    responses((status = 200, description = "The account", body = AccountView),
        (status = 401, response = r::Unauthorized), (status = 404, response = r::NotFound), (status = 422, response = r::InvalidField)))]
pub(crate) async fn get_account(
    Admin(m): Admin,
    State(s): State<AppState>,
    Path(name): Path<String>,
) -> ApiResult {
    ok(m.manage(&s).get_account(&name).await?)
}

/// Changes an account.
///
/// Changes an account: display name, status (suspending ends its sessions), HTTP Basic for its users,
/// its own rate limit (`null`: the server's default again).
#[utoipa::path(patch, path = "/admin/v1/accounts/{name}", tag = "admin", security(("adminToken" = [])),
    params(("name" = String, Path, description = "The account name")),
    request_body = UpdateAccount,
    responses((status = 200, description = "The changed account", body = AccountView),
        (status = 400, response = r::BadRequest), (status = 401, response = r::Unauthorized),
        (status = 404, response = r::NotFound), (status = 415, response = r::UnsupportedMediaType),
        (status = 422, response = r::InvalidField)))]
pub(crate) async fn update_account(
    Admin(m): Admin,
    State(s): State<AppState>,
    Path(name): Path<String>,
    ApiJson(req): ApiJson<UpdateAccount>,
) -> ApiResult {
    let limit_changed = req.rate_limit.is_some();
    let account = m.manage(&s).update_account(&name, req).await?;
    // This node applies a new limit at once; the others at their next maintenance tick.
    if limit_changed {
        s.rate_limits
            .refresh(s.keygate.store().as_ref())
            .await
            .map_err(Problem::internal)?;
    }
    ok(account)
}

/// The users of an account.
#[utoipa::path(get, path = "/admin/v1/accounts/{name}/users", tag = "admin", security(("adminToken" = [])),
    params(("name" = String, Path, description = "The account name")),
    responses((status = 200, description = "The users", body = UserList),
        (status = 401, response = r::Unauthorized), (status = 404, response = r::NotFound), (status = 422, response = r::InvalidField)))]
pub(crate) async fn list_users(
    Admin(m): Admin,
    State(s): State<AppState>,
    Path(name): Path<String>,
) -> ApiResult {
    ok(UserList {
        users: m.manage(&s).list_users(&name).await?,
    })
}

/// Creates a user of an account (role `member` unless said otherwise).
#[utoipa::path(post, path = "/admin/v1/accounts/{name}/users", tag = "admin", security(("adminToken" = [])),
    params(("name" = String, Path, description = "The account name")),
    request_body = CreateUser,
    responses(
        (status = 201, description = "Created", body = UserView, headers(("Location" = String, description = "`/admin/v1/users/{id}`"))),
        (status = 400, response = r::BadRequest), (status = 401, response = r::Unauthorized),
        (status = 404, response = r::NotFound), (status = 409, response = r::Conflict),
        (status = 415, response = r::UnsupportedMediaType), (status = 422, response = r::InvalidField),
    ))]
pub(crate) async fn create_user(
    Admin(m): Admin,
    State(s): State<AppState>,
    Path(name): Path<String>,
    ApiJson(req): ApiJson<CreateUser>,
) -> ApiResult {
    let u = m.manage(&s).create_user(&name, req).await?;
    created(format!("/admin/v1/users/{}", u.id), u)
}

/// A user.
#[utoipa::path(get, path = "/admin/v1/users/{id}", tag = "admin", security(("adminToken" = [])),
    params(("id" = String, Path, description = "The user id")),
    responses((status = 200, description = "The user", body = UserView),
        (status = 401, response = r::Unauthorized), (status = 404, response = r::NotFound), (status = 422, response = r::InvalidField)))]
pub(crate) async fn get_user(
    Admin(m): Admin,
    State(s): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult {
    ok(m.manage(&s).get_user(&id).await?)
}

/// Changes a user's role, status or password.
#[utoipa::path(patch, path = "/admin/v1/users/{id}", tag = "admin", security(("adminToken" = [])),
    params(("id" = String, Path, description = "The user id")),
    request_body = UpdateUser,
    responses((status = 200, description = "The changed user", body = UserView),
        (status = 400, response = r::BadRequest), (status = 401, response = r::Unauthorized),
        (status = 404, response = r::NotFound), (status = 409, response = r::Conflict),
        (status = 415, response = r::UnsupportedMediaType), (status = 422, response = r::InvalidField)))]
pub(crate) async fn update_user(
    Admin(m): Admin,
    State(s): State<AppState>,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<UpdateUser>,
) -> ApiResult {
    ok(m.manage(&s).update_user(&id, req).await?)
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct AppFilter {
    /// Only the apps owned by this account.
    owner: Option<String>,
}

/// Developer apps (OAuth clients).
#[utoipa::path(get, path = "/admin/v1/apps", tag = "admin", security(("adminToken" = [])),
    params(AppFilter),
    responses((status = 200, description = "The apps", body = AppList),
        (status = 400, response = r::BadRequest), (status = 401, response = r::Unauthorized), (status = 422, response = r::InvalidField)))]
pub(crate) async fn list_apps(
    Admin(m): Admin,
    State(s): State<AppState>,
    q: Result<Query<AppFilter>, axum::extract::rejection::QueryRejection>,
) -> ApiResult {
    let Query(f) = q.map_err(|e| Problem::bad_request(e.body_text()))?;
    ok(AppList {
        apps: m.manage(&s).list_apps(f.owner.as_deref()).await?,
    })
}

/// Registers an app; a confidential app's secret is shown once, here.
#[utoipa::path(post, path = "/admin/v1/apps", tag = "admin", security(("adminToken" = [])),
    request_body = CreateApp,
    responses(
        (status = 201, description = "Created, with its secret", body = AppWithSecret, headers(
            ("Location" = String, description = "`/admin/v1/apps/{client_id}`"), ("Cache-Control" = String, description = "`no-store`"))),
        (status = 400, response = r::BadRequest), (status = 401, response = r::Unauthorized),
        (status = 404, response = r::NotFound), (status = 415, response = r::UnsupportedMediaType),
        (status = 422, response = r::InvalidField),
    ))]
pub(crate) async fn create_app(
    Admin(m): Admin,
    State(s): State<AppState>,
    ApiJson(req): ApiJson<CreateApp>,
) -> ApiResult {
    let a = m.manage(&s).create_app(req).await?;
    created(format!("/admin/v1/apps/{}", a.app.client_id), a)
}

/// An app.
#[utoipa::path(get, path = "/admin/v1/apps/{client_id}", tag = "admin", security(("adminToken" = [])),
    params(("client_id" = String, Path)),
    responses((status = 200, description = "The app", body = AppView),
        (status = 401, response = r::Unauthorized), (status = 404, response = r::NotFound), (status = 422, response = r::InvalidField)))]
pub(crate) async fn get_app(Admin(m): Admin, State(s): State<AppState>, Path(id): Path<String>) -> ApiResult {
    ok(m.manage(&s).get_app(&id).await?)
}

/// Changes an app (`null` token lifetimes return to the server's defaults).
#[utoipa::path(patch, path = "/admin/v1/apps/{client_id}", tag = "admin", security(("adminToken" = [])),
    params(("client_id" = String, Path)),
    request_body = UpdateApp,
    responses((status = 200, description = "The changed app", body = AppView),
        (status = 400, response = r::BadRequest), (status = 401, response = r::Unauthorized),
        (status = 404, response = r::NotFound), (status = 409, response = r::Conflict),
        (status = 415, response = r::UnsupportedMediaType), (status = 422, response = r::InvalidField)))]
pub(crate) async fn update_app(
    Admin(m): Admin,
    State(s): State<AppState>,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<UpdateApp>,
) -> ApiResult {
    ok(m.manage(&s).update_app(&id, req).await?)
}

/// The optional body of a secret rotation.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RotateSecret {
    /// How long the old secret keeps working: 0 to 2592000 (30 days); default as configured.
    grace_seconds: Option<i64>,
}

/// Gives a confidential app a new secret, shown once; the old one works for the grace period.
#[utoipa::path(post, path = "/admin/v1/apps/{client_id}/rotate-secret", tag = "admin", security(("adminToken" = [])),
    params(("client_id" = String, Path)),
    request_body(content = Option<RotateSecret>, description = "Optional: an empty body rotates with the configured grace"),
    responses((status = 200, description = "The app with its new secret", body = AppWithSecret, headers(("Cache-Control" = String, description = "`no-store`"))),
        (status = 400, response = r::BadRequest), (status = 401, response = r::Unauthorized),
        (status = 404, response = r::NotFound), (status = 409, response = r::Conflict),
        (status = 415, response = r::UnsupportedMediaType), (status = 422, response = r::InvalidField)))]
pub(crate) async fn rotate_secret(
    Admin(m): Admin,
    State(s): State<AppState>,
    Path(id): Path<String>,
    OptionalApiJson(body): OptionalApiJson<RotateSecret>,
) -> ApiResult {
    let grace = body.and_then(|b| b.grace_seconds);
    let mut res = Json(m.manage(&s).rotate_app_secret(&id, grace).await?).into_response();
    res.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(res)
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateToken {
    name: String,
}

/// The admin tokens (never their secrets).
#[utoipa::path(get, path = "/admin/v1/tokens", tag = "admin", security(("adminToken" = [])),
    responses((status = 200, description = "The admin tokens", body = AdminTokenList), (status = 401, response = r::Unauthorized)))]
pub(crate) async fn list_tokens(Admin(m): Admin, State(s): State<AppState>) -> ApiResult {
    ok(AdminTokenList {
        tokens: m.manage(&s).list_admin_tokens().await?,
    })
}

/// Creates an admin token; its secret is shown once, here.
#[utoipa::path(post, path = "/admin/v1/tokens", tag = "admin", security(("adminToken" = [])),
    request_body = CreateToken,
    responses(
        (status = 201, description = "Created, with its secret", body = AdminTokenWithSecret, headers(
            ("Location" = String, description = "`/admin/v1/tokens/{id}`"), ("Cache-Control" = String, description = "`no-store`"))),
        (status = 400, response = r::BadRequest), (status = 401, response = r::Unauthorized),
        (status = 415, response = r::UnsupportedMediaType), (status = 422, response = r::InvalidField),
    ))]
pub(crate) async fn create_token(
    Admin(m): Admin,
    State(s): State<AppState>,
    ApiJson(req): ApiJson<CreateToken>,
) -> ApiResult {
    let t = m.manage(&s).create_admin_token(&req.name).await?;
    created(format!("/admin/v1/tokens/{}", t.token.id), t)
}

/// Revokes an admin token.
#[utoipa::path(delete, path = "/admin/v1/tokens/{id}", tag = "admin", security(("adminToken" = [])),
    params(("id" = String, Path, description = "The admin token id")),
    responses((status = 204, description = "Revoked"), (status = 401, response = r::Unauthorized), (status = 404, response = r::NotFound)))]
pub(crate) async fn revoke_token(
    Admin(m): Admin,
    State(s): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult {
    m.manage(&s).revoke_admin_token(&id).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// The signing keys (never their private parts).
#[utoipa::path(get, path = "/admin/v1/keys", tag = "admin", security(("adminToken" = [])),
    responses((status = 200, description = "The signing keys", body = SigningKeyList), (status = 401, response = r::Unauthorized)))]
pub(crate) async fn list_keys(Admin(m): Admin, State(s): State<AppState>) -> ApiResult {
    ok(SigningKeyList {
        keys: m.manage(&s).list_signing_keys().await?,
    })
}

/// Rotates the signing keys: `next` becomes `current`, `current` is retired, a new `next` is made.
#[utoipa::path(post, path = "/admin/v1/keys/rotate", tag = "admin", security(("adminToken" = [])),
    responses((status = 200, description = "The signing keys after the rotation", body = SigningKeyList), (status = 401, response = r::Unauthorized)))]
pub(crate) async fn rotate_keys(Admin(m): Admin, State(s): State<AppState>) -> ApiResult {
    ok(SigningKeyList {
        keys: m.manage(&s).rotate_signing_keys().await?,
    })
}

/// The audit log, newest first; page with `before`.
#[utoipa::path(get, path = "/admin/v1/audit", tag = "admin", security(("adminToken" = [])),
    params(AuditFilter),
    responses((status = 200, description = "Audit events", body = AuditEventList),
        (status = 400, response = r::BadRequest), (status = 401, response = r::Unauthorized), (status = 422, response = r::InvalidField)))]
pub(crate) async fn list_audit(
    Admin(m): Admin,
    State(s): State<AppState>,
    q: Result<Query<AuditFilter>, axum::extract::rejection::QueryRejection>,
) -> ApiResult {
    let Query(filter) = q.map_err(|e| Problem::bad_request(e.body_text()))?;
    ok(AuditEventList {
        events: m.manage(&s).list_audit(filter).await?,
    })
}
