//! The admin API's credentials of integrations: API keys (with their JWT assertion keys), domain keys and
//! legacy keys.

use axum::extract::{Path, State};
use axum::http::{header, HeaderValue};
use axum::response::IntoResponse;
use keygate_lib::api_keys::{CreateApiKey, SetAssertionKey};
use keygate_lib::domain_keys::CreateDomainKey;
use keygate_lib::legacy::{CreateLegacyKey, LegacyKeyView, LegacyKeyWithSecret};
use keygate_lib::views::{ApiKeyView, ApiKeyWithSecret, DomainKeyView};
use serde::Serialize;
use utoipa::ToSchema;

use super::{created, ok, Admin, ApiResult, RotateSecret};
use crate::extract::{ApiJson, OptionalApiJson};
use crate::json::Json;
use crate::openapi::responses as r;
use crate::routes::table::Routes;
use crate::state::AppState;

pub fn router() -> Routes {
    Routes::new()
        .get("/admin/v1/accounts/{name}/api-keys", list_api_keys)
        .post("/admin/v1/accounts/{name}/api-keys", create_api_key)
        .get("/admin/v1/api-keys/{id}", get_api_key)
        .delete("/admin/v1/api-keys/{id}", revoke_api_key)
        .post("/admin/v1/api-keys/{id}/rotate", rotate_api_key)
        .put("/admin/v1/api-keys/{id}/assertion-key", set_assertion_key)
        .delete("/admin/v1/api-keys/{id}/assertion-key", clear_assertion_key)
        .get("/admin/v1/accounts/{name}/domain-keys", list_domain_keys)
        .post("/admin/v1/accounts/{name}/domain-keys", create_domain_key)
        .get("/admin/v1/domain-keys/{id}", get_domain_key)
        .delete("/admin/v1/domain-keys/{id}", revoke_domain_key)
        .get("/admin/v1/accounts/{name}/legacy-keys", list_legacy_keys)
        .post("/admin/v1/accounts/{name}/legacy-keys", create_legacy_key)
        .delete("/admin/v1/legacy-keys/{id}", revoke_legacy_key)
}

#[derive(Serialize, ToSchema)]
pub struct ApiKeyList {
    api_keys: Vec<ApiKeyView>,
}

#[derive(Serialize, ToSchema)]
pub struct DomainKeyList {
    domain_keys: Vec<DomainKeyView>,
}

#[derive(Serialize, ToSchema)]
pub struct LegacyKeyList {
    legacy_keys: Vec<LegacyKeyView>,
}

/// An account's API keys (never their secrets).
#[utoipa::path(get, path = "/admin/v1/accounts/{name}/api-keys", tag = "admin", security(("adminToken" = [])),
    params(("name" = String, Path, description = "The account name")),
    responses((status = 200, description = "The API keys", body = ApiKeyList),
        (status = 401, response = r::Unauthorized), (status = 404, response = r::NotFound), (status = 422, response = r::InvalidField)))]
pub(crate) async fn list_api_keys(
    Admin(m): Admin,
    State(s): State<AppState>,
    Path(name): Path<String>,
) -> ApiResult {
    ok(ApiKeyList {
        api_keys: m.manage(&s).list_api_keys(&name).await?,
    })
}

/// Creates an API key acting as a user (`user_id`) or as the account; its secret is shown once, here.
#[utoipa::path(post, path = "/admin/v1/accounts/{name}/api-keys", tag = "admin", security(("adminToken" = [])),
    params(("name" = String, Path, description = "The account name")),
    request_body = CreateApiKey,
    responses(
        (status = 201, description = "Created, with its secret", body = ApiKeyWithSecret, headers(
            ("Location" = String, description = "`/admin/v1/api-keys/{id}`"), ("Cache-Control" = String, description = "`no-store`"))),
        (status = 400, response = r::BadRequest), (status = 401, response = r::Unauthorized),
        (status = 404, response = r::NotFound), (status = 409, response = r::Conflict),
        (status = 415, response = r::UnsupportedMediaType), (status = 422, response = r::InvalidField),
    ))]
pub(crate) async fn create_api_key(
    Admin(m): Admin,
    State(s): State<AppState>,
    Path(name): Path<String>,
    ApiJson(req): ApiJson<CreateApiKey>,
) -> ApiResult {
    let k = m.manage(&s).create_api_key(&name, req).await?;
    created(format!("/admin/v1/api-keys/{}", k.key.id), k)
}

/// An API key.
#[utoipa::path(get, path = "/admin/v1/api-keys/{id}", tag = "admin", security(("adminToken" = [])),
    params(("id" = String, Path, description = "The key id (`kgk_…`)")),
    responses((status = 200, description = "The API key", body = ApiKeyView),
        (status = 401, response = r::Unauthorized), (status = 404, response = r::NotFound), (status = 422, response = r::InvalidField)))]
pub(crate) async fn get_api_key(
    Admin(m): Admin,
    State(s): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult {
    ok(m.manage(&s).get_api_key(&id).await?)
}

/// Revokes an API key.
///
/// Revokes an API key: every token issued through it fails on its next use. Final; the key stays listed
/// as revoked.
#[utoipa::path(delete, path = "/admin/v1/api-keys/{id}", tag = "admin", security(("adminToken" = [])),
    params(("id" = String, Path, description = "The key id (`kgk_…`)")),
    responses((status = 200, description = "The revoked key", body = ApiKeyView),
        (status = 401, response = r::Unauthorized), (status = 404, response = r::NotFound), (status = 422, response = r::InvalidField)))]
pub(crate) async fn revoke_api_key(
    Admin(m): Admin,
    State(s): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult {
    ok(m.manage(&s).revoke_api_key(&id).await?)
}

/// Gives an API key a new secret, shown once; the old one works for the grace period.
#[utoipa::path(post, path = "/admin/v1/api-keys/{id}/rotate", tag = "admin", security(("adminToken" = [])),
    params(("id" = String, Path, description = "The key id (`kgk_…`)")),
    request_body(content = Option<RotateSecret>, description = "Optional: an empty body rotates with the configured grace"),
    responses((status = 200, description = "The key with its new secret", body = ApiKeyWithSecret, headers(("Cache-Control" = String, description = "`no-store`"))),
        (status = 400, response = r::BadRequest), (status = 401, response = r::Unauthorized),
        (status = 404, response = r::NotFound), (status = 409, response = r::Conflict),
        (status = 415, response = r::UnsupportedMediaType), (status = 422, response = r::InvalidField)))]
pub(crate) async fn rotate_api_key(
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

/// Registers the public key (a JWK) that verifies the key's JWT assertions, pinning its algorithm.
#[utoipa::path(put, path = "/admin/v1/api-keys/{id}/assertion-key", tag = "admin", security(("adminToken" = [])),
    params(("id" = String, Path, description = "The key id (`kgk_…`)")),
    request_body = SetAssertionKey,
    responses((status = 200, description = "The API key", body = ApiKeyView),
        (status = 400, response = r::BadRequest), (status = 401, response = r::Unauthorized),
        (status = 404, response = r::NotFound), (status = 409, response = r::Conflict),
        (status = 415, response = r::UnsupportedMediaType), (status = 422, response = r::InvalidField)))]
pub(crate) async fn set_assertion_key(
    Admin(m): Admin,
    State(s): State<AppState>,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<SetAssertionKey>,
) -> ApiResult {
    ok(m.manage(&s).set_api_key_assertion(&id, Some(req)).await?)
}

/// Stops the key from signing JWT assertions.
#[utoipa::path(delete, path = "/admin/v1/api-keys/{id}/assertion-key", tag = "admin", security(("adminToken" = [])),
    params(("id" = String, Path, description = "The key id (`kgk_…`)")),
    responses((status = 200, description = "The API key", body = ApiKeyView),
        (status = 401, response = r::Unauthorized), (status = 404, response = r::NotFound),
        (status = 409, response = r::Conflict), (status = 422, response = r::InvalidField)))]
pub(crate) async fn clear_assertion_key(
    Admin(m): Admin,
    State(s): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult {
    ok(m.manage(&s).set_api_key_assertion(&id, None).await?)
}

/// An account's domain keys.
#[utoipa::path(get, path = "/admin/v1/accounts/{name}/domain-keys", tag = "admin", security(("adminToken" = [])),
    params(("name" = String, Path, description = "The account name")),
    responses((status = 200, description = "The domain keys", body = DomainKeyList),
        (status = 401, response = r::Unauthorized), (status = 404, response = r::NotFound), (status = 422, response = r::InvalidField)))]
pub(crate) async fn list_domain_keys(
    Admin(m): Admin,
    State(s): State<AppState>,
    Path(name): Path<String>,
) -> ApiResult {
    ok(DomainKeyList {
        domain_keys: m.manage(&s).list_domain_keys(&name).await?,
    })
}

/// Creates a domain key: public by design, bound to an API key of the account and to web origins.
#[utoipa::path(post, path = "/admin/v1/accounts/{name}/domain-keys", tag = "admin", security(("adminToken" = [])),
    params(("name" = String, Path, description = "The account name")),
    request_body = CreateDomainKey,
    responses(
        (status = 201, description = "Created", body = DomainKeyView, headers(
            ("Location" = String, description = "`/admin/v1/domain-keys/{id}`"), ("Cache-Control" = String, description = "`no-store`"))),
        (status = 400, response = r::BadRequest), (status = 401, response = r::Unauthorized),
        (status = 404, response = r::NotFound), (status = 409, response = r::Conflict),
        (status = 415, response = r::UnsupportedMediaType), (status = 422, response = r::InvalidField),
    ))]
pub(crate) async fn create_domain_key(
    Admin(m): Admin,
    State(s): State<AppState>,
    Path(name): Path<String>,
    ApiJson(req): ApiJson<CreateDomainKey>,
) -> ApiResult {
    let k = m.manage(&s).create_domain_key(&name, req).await?;
    created(format!("/admin/v1/domain-keys/{}", k.id), k)
}

/// A domain key.
#[utoipa::path(get, path = "/admin/v1/domain-keys/{id}", tag = "admin", security(("adminToken" = [])),
    params(("id" = String, Path, description = "The domain key (`kgd_…`)")),
    responses((status = 200, description = "The domain key", body = DomainKeyView),
        (status = 401, response = r::Unauthorized), (status = 404, response = r::NotFound), (status = 422, response = r::InvalidField)))]
pub(crate) async fn get_domain_key(
    Admin(m): Admin,
    State(s): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult {
    ok(m.manage(&s).get_domain_key(&id).await?)
}

/// Revokes a domain key. Final.
#[utoipa::path(delete, path = "/admin/v1/domain-keys/{id}", tag = "admin", security(("adminToken" = [])),
    params(("id" = String, Path, description = "The domain key (`kgd_…`)")),
    responses((status = 200, description = "The revoked domain key", body = DomainKeyView),
        (status = 401, response = r::Unauthorized), (status = 404, response = r::NotFound), (status = 422, response = r::InvalidField)))]
pub(crate) async fn revoke_domain_key(
    Admin(m): Admin,
    State(s): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult {
    ok(m.manage(&s).revoke_domain_key(&id).await?)
}

/// An account's legacy keys (never the keys themselves), with how much they are still used.
#[utoipa::path(get, path = "/admin/v1/accounts/{name}/legacy-keys", tag = "admin", security(("adminToken" = [])),
    params(("name" = String, Path, description = "The account name")),
    responses((status = 200, description = "The legacy keys", body = LegacyKeyList),
        (status = 401, response = r::Unauthorized), (status = 404, response = r::NotFound), (status = 422, response = r::InvalidField)))]
pub(crate) async fn list_legacy_keys(
    Admin(m): Admin,
    State(s): State<AppState>,
    Path(name): Path<String>,
) -> ApiResult {
    ok(LegacyKeyList {
        legacy_keys: m.manage(&s).list_legacy_keys(&name).await?,
    })
}

/// Creates a legacy key (deprecated).
///
/// Creates a legacy key (deprecated; only while `legacy_keys.allow_new` is on); the key is shown once,
/// here. `Location` names the account's list of legacy keys: there is no endpoint for one key.
#[utoipa::path(post, path = "/admin/v1/accounts/{name}/legacy-keys", tag = "admin", security(("adminToken" = [])),
    params(("name" = String, Path, description = "The account name")),
    request_body = CreateLegacyKey,
    responses(
        (status = 201, description = "Created, with the key", body = LegacyKeyWithSecret, headers(
            ("Location" = String, description = "`/admin/v1/accounts/{name}/legacy-keys`"), ("Cache-Control" = String, description = "`no-store`"))),
        (status = 400, response = r::BadRequest), (status = 401, response = r::Unauthorized),
        (status = 404, response = r::NotFound), (status = 409, response = r::Conflict),
        (status = 415, response = r::UnsupportedMediaType), (status = 422, response = r::InvalidField),
    ))]
pub(crate) async fn create_legacy_key(
    Admin(m): Admin,
    State(s): State<AppState>,
    Path(name): Path<String>,
    ApiJson(req): ApiJson<CreateLegacyKey>,
) -> ApiResult {
    let k = m.manage(&s).create_legacy_key(&name, req).await?;
    created(format!("/admin/v1/accounts/{name}/legacy-keys"), k)
}

/// Revokes a legacy key. Final.
#[utoipa::path(delete, path = "/admin/v1/legacy-keys/{id}", tag = "admin", security(("adminToken" = [])),
    params(("id" = String, Path, description = "The legacy key id (`kgl_…`)")),
    responses((status = 200, description = "The revoked legacy key", body = LegacyKeyView),
        (status = 401, response = r::Unauthorized), (status = 404, response = r::NotFound), (status = 422, response = r::InvalidField)))]
pub(crate) async fn revoke_legacy_key(
    Admin(m): Admin,
    State(s): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult {
    ok(m.manage(&s).revoke_legacy_key(&id).await?)
}
