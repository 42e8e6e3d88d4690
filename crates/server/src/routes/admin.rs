//! The admin REST API under `/admin/v1`, protected by admin tokens (`keygate admin tokens create`).
//! Handlers are thin: validation and behaviour live in `keygate_lib::manage`, shared with the CLI.

use axum::extract::{Path, Query, Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use keygate_lib::manage::{CreateAccount, CreateApp, CreateUser, UpdateAccount, UpdateApp, UpdateUser};
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
            next.run(req).await
        }
        Ok(None) => Problem::unauthorized("the admin token is invalid or revoked", challenge).into_response(),
        Err(e) => Problem::internal(e).into_response(),
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

async fn list_accounts(State(s): State<AppState>) -> ApiResult {
    ok(json!({"accounts": s.keygate.list_accounts().await?}))
}

async fn create_account(State(s): State<AppState>, ApiJson(req): ApiJson<CreateAccount>) -> ApiResult {
    let a = s.keygate.create_account(req).await?;
    created(format!("/admin/v1/accounts/{}", a.name), a)
}

async fn get_account(State(s): State<AppState>, Path(name): Path<String>) -> ApiResult {
    ok(s.keygate.get_account(&name).await?)
}

async fn update_account(
    State(s): State<AppState>,
    Path(name): Path<String>,
    ApiJson(req): ApiJson<UpdateAccount>,
) -> ApiResult {
    ok(s.keygate.update_account(&name, req).await?)
}

async fn list_users(State(s): State<AppState>, Path(name): Path<String>) -> ApiResult {
    ok(json!({"users": s.keygate.list_users(&name).await?}))
}

async fn create_user(
    State(s): State<AppState>,
    Path(name): Path<String>,
    ApiJson(req): ApiJson<CreateUser>,
) -> ApiResult {
    let u = s.keygate.create_user(&name, req).await?;
    created(format!("/admin/v1/users/{}", u.id), u)
}

async fn get_user(State(s): State<AppState>, Path(id): Path<String>) -> ApiResult {
    ok(s.keygate.get_user(&id).await?)
}

async fn update_user(
    State(s): State<AppState>,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<UpdateUser>,
) -> ApiResult {
    ok(s.keygate.update_user(&id, req).await?)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AppFilter {
    owner: Option<String>,
}

async fn list_apps(
    State(s): State<AppState>,
    q: Result<Query<AppFilter>, axum::extract::rejection::QueryRejection>,
) -> ApiResult {
    let Query(f) = q.map_err(|e| Problem::bad_request(e.body_text()))?;
    ok(json!({"apps": s.keygate.list_apps(f.owner.as_deref()).await?}))
}

async fn create_app(State(s): State<AppState>, ApiJson(req): ApiJson<CreateApp>) -> ApiResult {
    let a = s.keygate.create_app(req).await?;
    created(format!("/admin/v1/apps/{}", a.app.client_id), a)
}

async fn get_app(State(s): State<AppState>, Path(id): Path<String>) -> ApiResult {
    ok(s.keygate.get_app(&id).await?)
}

async fn update_app(
    State(s): State<AppState>,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<UpdateApp>,
) -> ApiResult {
    ok(s.keygate.update_app(&id, req).await?)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RotateSecret {
    grace_seconds: Option<i64>,
}

/// The body is optional: an empty POST rotates with the configured grace.
async fn rotate_secret(
    State(s): State<AppState>,
    Path(id): Path<String>,
    OptionalApiJson(body): OptionalApiJson<RotateSecret>,
) -> ApiResult {
    let grace = body.and_then(|b| b.grace_seconds);
    let mut res = Json(s.keygate.rotate_app_secret(&id, grace).await?).into_response();
    res.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(res)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CreateToken {
    name: String,
}

async fn list_tokens(State(s): State<AppState>) -> ApiResult {
    ok(json!({"tokens": s.keygate.list_admin_tokens().await?}))
}

async fn create_token(State(s): State<AppState>, ApiJson(req): ApiJson<CreateToken>) -> ApiResult {
    let t = s.keygate.create_admin_token(&req.name).await?;
    created(format!("/admin/v1/tokens/{}", t.token.id), t)
}

async fn revoke_token(State(s): State<AppState>, Path(id): Path<String>) -> ApiResult {
    s.keygate.revoke_admin_token(&id).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn list_keys(State(s): State<AppState>) -> ApiResult {
    ok(json!({"keys": s.keygate.list_signing_keys().await?}))
}

async fn rotate_keys(State(s): State<AppState>) -> ApiResult {
    ok(json!({"keys": s.keygate.rotate_signing_keys().await?}))
}
