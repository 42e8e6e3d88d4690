//! The admin REST API under `/admin/v1`, protected by admin tokens (`keygate admin tokens create`).
//! Handlers are thin: validation and behaviour live in `keygate_lib::manage`, shared with the CLI.

use axum::extract::FromRequestParts;
use axum::extract::{Path, Query, Request, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use keygate_lib::api_keys::{AuditFilter, CreateApiKey, SetAssertionKey};
use keygate_lib::domain_keys::CreateDomainKey;
use keygate_lib::legacy::CreateLegacyKey;
use keygate_lib::manage::{CreateAccount, CreateApp, CreateUser, UpdateAccount, UpdateApp, UpdateUser};
use keygate_lib::{Actor, Manager};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::error::Problem;
use crate::extract::{ApiJson, OptionalApiJson};
use crate::state::AppState;

type ApiResult = Result<Response, Problem>;

pub fn router(state: AppState) -> Router<AppState> {
    Router::new()
        .route("/admin/v1/accounts", get(list_accounts).post(create_account))
        .route(
            "/admin/v1/accounts/{name}",
            get(get_account).patch(update_account),
        )
        .route(
            "/admin/v1/accounts/{name}/users",
            get(list_users).post(create_user),
        )
        .route("/admin/v1/users/{id}", get(get_user).patch(update_user))
        .route("/admin/v1/apps", get(list_apps).post(create_app))
        .route("/admin/v1/apps/{client_id}", get(get_app).patch(update_app))
        .route("/admin/v1/apps/{client_id}/rotate-secret", post(rotate_secret))
        .route("/admin/v1/tokens", get(list_tokens).post(create_token))
        .route("/admin/v1/tokens/{id}", axum::routing::delete(revoke_token))
        .route(
            "/admin/v1/accounts/{name}/api-keys",
            get(list_api_keys).post(create_api_key),
        )
        .route("/admin/v1/api-keys/{id}", get(get_api_key).delete(revoke_api_key))
        .route("/admin/v1/api-keys/{id}/rotate", post(rotate_api_key))
        .route(
            "/admin/v1/api-keys/{id}/assertion-key",
            axum::routing::put(set_assertion_key).delete(clear_assertion_key),
        )
        .route(
            "/admin/v1/accounts/{name}/domain-keys",
            get(list_domain_keys).post(create_domain_key),
        )
        .route(
            "/admin/v1/domain-keys/{id}",
            get(get_domain_key).delete(revoke_domain_key),
        )
        .route(
            "/admin/v1/accounts/{name}/legacy-keys",
            get(list_legacy_keys).post(create_legacy_key),
        )
        .route(
            "/admin/v1/legacy-keys/{id}",
            axum::routing::delete(revoke_legacy_key),
        )
        .route("/admin/v1/audit", get(list_audit))
        .route("/admin/v1/keys", get(list_keys))
        .route("/admin/v1/keys/rotate", post(rotate_keys))
        .route_layer(middleware::from_fn_with_state(state, require_admin))
}

async fn require_admin(State(s): State<AppState>, req: Request, next: Next) -> Response {
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
            req.extensions_mut().insert(Admin(AdminId(admin.id)));
            next.run(req).await
        }
        Ok(None) => Problem::unauthorized("the admin token is invalid or revoked", challenge).into_response(),
        Err(e) => Problem::internal(e).into_response(),
    }
}

/// The admin token a request authenticated with; put in the request by `require_admin`.
#[derive(Clone)]
pub struct AdminId(String);

impl AdminId {
    fn manage<'a>(&self, s: &'a AppState) -> Manager<'a> {
        s.keygate.manage(Actor::AdminToken(self.0.clone()))
    }
}

/// Extracts the authenticated admin, so handlers act (and are audited) as that admin token.
#[derive(Clone)]
pub struct Admin(AdminId);

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

async fn list_accounts(Admin(m): Admin, State(s): State<AppState>) -> ApiResult {
    ok(json!({"accounts": m.manage(&s).list_accounts().await?}))
}

async fn create_account(
    Admin(m): Admin,
    State(s): State<AppState>,
    ApiJson(req): ApiJson<CreateAccount>,
) -> ApiResult {
    let a = m.manage(&s).create_account(req).await?;
    created(format!("/admin/v1/accounts/{}", a.name), a)
}

async fn get_account(Admin(m): Admin, State(s): State<AppState>, Path(name): Path<String>) -> ApiResult {
    ok(m.manage(&s).get_account(&name).await?)
}

async fn update_account(
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

async fn list_users(Admin(m): Admin, State(s): State<AppState>, Path(name): Path<String>) -> ApiResult {
    ok(json!({"users": m.manage(&s).list_users(&name).await?}))
}

async fn create_user(
    Admin(m): Admin,
    State(s): State<AppState>,
    Path(name): Path<String>,
    ApiJson(req): ApiJson<CreateUser>,
) -> ApiResult {
    let u = m.manage(&s).create_user(&name, req).await?;
    created(format!("/admin/v1/users/{}", u.id), u)
}

async fn get_user(Admin(m): Admin, State(s): State<AppState>, Path(id): Path<String>) -> ApiResult {
    ok(m.manage(&s).get_user(&id).await?)
}

async fn update_user(
    Admin(m): Admin,
    State(s): State<AppState>,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<UpdateUser>,
) -> ApiResult {
    ok(m.manage(&s).update_user(&id, req).await?)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AppFilter {
    owner: Option<String>,
}

async fn list_apps(
    Admin(m): Admin,
    State(s): State<AppState>,
    q: Result<Query<AppFilter>, axum::extract::rejection::QueryRejection>,
) -> ApiResult {
    let Query(f) = q.map_err(|e| Problem::bad_request(e.body_text()))?;
    ok(json!({"apps": m.manage(&s).list_apps(f.owner.as_deref()).await?}))
}

async fn create_app(
    Admin(m): Admin,
    State(s): State<AppState>,
    ApiJson(req): ApiJson<CreateApp>,
) -> ApiResult {
    let a = m.manage(&s).create_app(req).await?;
    created(format!("/admin/v1/apps/{}", a.app.client_id), a)
}

async fn get_app(Admin(m): Admin, State(s): State<AppState>, Path(id): Path<String>) -> ApiResult {
    ok(m.manage(&s).get_app(&id).await?)
}

async fn update_app(
    Admin(m): Admin,
    State(s): State<AppState>,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<UpdateApp>,
) -> ApiResult {
    ok(m.manage(&s).update_app(&id, req).await?)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RotateSecret {
    grace_seconds: Option<i64>,
}

/// The body is optional: an empty POST rotates with the configured grace.
async fn rotate_secret(
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

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CreateToken {
    name: String,
}

async fn list_tokens(Admin(m): Admin, State(s): State<AppState>) -> ApiResult {
    ok(json!({"tokens": m.manage(&s).list_admin_tokens().await?}))
}

async fn create_token(
    Admin(m): Admin,
    State(s): State<AppState>,
    ApiJson(req): ApiJson<CreateToken>,
) -> ApiResult {
    let t = m.manage(&s).create_admin_token(&req.name).await?;
    created(format!("/admin/v1/tokens/{}", t.token.id), t)
}

async fn revoke_token(Admin(m): Admin, State(s): State<AppState>, Path(id): Path<String>) -> ApiResult {
    m.manage(&s).revoke_admin_token(&id).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn list_keys(Admin(m): Admin, State(s): State<AppState>) -> ApiResult {
    ok(json!({"keys": m.manage(&s).list_signing_keys().await?}))
}

async fn rotate_keys(Admin(m): Admin, State(s): State<AppState>) -> ApiResult {
    ok(json!({"keys": m.manage(&s).rotate_signing_keys().await?}))
}

async fn list_api_keys(Admin(m): Admin, State(s): State<AppState>, Path(name): Path<String>) -> ApiResult {
    ok(json!({"api_keys": m.manage(&s).list_api_keys(&name).await?}))
}

async fn create_api_key(
    Admin(m): Admin,
    State(s): State<AppState>,
    Path(name): Path<String>,
    ApiJson(req): ApiJson<CreateApiKey>,
) -> ApiResult {
    let k = m.manage(&s).create_api_key(&name, req).await?;
    created(format!("/admin/v1/api-keys/{}", k.key.id), k)
}

async fn get_api_key(Admin(m): Admin, State(s): State<AppState>, Path(id): Path<String>) -> ApiResult {
    ok(m.manage(&s).get_api_key(&id).await?)
}

/// Revocation is final; the key stays listed as revoked.
async fn revoke_api_key(Admin(m): Admin, State(s): State<AppState>, Path(id): Path<String>) -> ApiResult {
    ok(m.manage(&s).revoke_api_key(&id).await?)
}

async fn rotate_api_key(
    Admin(m): Admin,
    State(s): State<AppState>,
    Path(id): Path<String>,
    OptionalApiJson(body): OptionalApiJson<RotateSecret>,
) -> ApiResult {
    let grace = body.and_then(|b| b.grace_seconds);
    let mut res = Json(m.manage(&s).rotate_api_key(&id, grace).await?).into_response();
    res.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(res)
}

async fn list_audit(
    Admin(m): Admin,
    State(s): State<AppState>,
    q: Result<Query<AuditFilter>, axum::extract::rejection::QueryRejection>,
) -> ApiResult {
    let Query(filter) = q.map_err(|e| Problem::bad_request(e.body_text()))?;
    ok(json!({"events": m.manage(&s).list_audit(filter).await?}))
}

async fn list_domain_keys(Admin(m): Admin, State(s): State<AppState>, Path(name): Path<String>) -> ApiResult {
    ok(json!({"domain_keys": m.manage(&s).list_domain_keys(&name).await?}))
}

async fn create_domain_key(
    Admin(m): Admin,
    State(s): State<AppState>,
    Path(name): Path<String>,
    ApiJson(req): ApiJson<CreateDomainKey>,
) -> ApiResult {
    let k = m.manage(&s).create_domain_key(&name, req).await?;
    created(format!("/admin/v1/domain-keys/{}", k.id), k)
}

async fn get_domain_key(Admin(m): Admin, State(s): State<AppState>, Path(id): Path<String>) -> ApiResult {
    ok(m.manage(&s).get_domain_key(&id).await?)
}

async fn revoke_domain_key(Admin(m): Admin, State(s): State<AppState>, Path(id): Path<String>) -> ApiResult {
    ok(m.manage(&s).revoke_domain_key(&id).await?)
}

async fn list_legacy_keys(Admin(m): Admin, State(s): State<AppState>, Path(name): Path<String>) -> ApiResult {
    ok(json!({"legacy_keys": m.manage(&s).list_legacy_keys(&name).await?}))
}

async fn create_legacy_key(
    Admin(m): Admin,
    State(s): State<AppState>,
    Path(name): Path<String>,
    ApiJson(req): ApiJson<CreateLegacyKey>,
) -> ApiResult {
    let k = m.manage(&s).create_legacy_key(&name, req).await?;
    created(format!("/admin/v1/accounts/{name}/legacy-keys"), k)
}

async fn revoke_legacy_key(Admin(m): Admin, State(s): State<AppState>, Path(id): Path<String>) -> ApiResult {
    ok(m.manage(&s).revoke_legacy_key(&id).await?)
}

async fn set_assertion_key(
    Admin(m): Admin,
    State(s): State<AppState>,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<SetAssertionKey>,
) -> ApiResult {
    ok(m.manage(&s).set_api_key_assertion(&id, Some(req)).await?)
}

async fn clear_assertion_key(
    Admin(m): Admin,
    State(s): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult {
    ok(m.manage(&s).set_api_key_assertion(&id, None).await?)
}
