//! `GET /openapi.json`: the OpenAPI 3.1 document of every HTTP endpoint, generated from the handlers'
//! `#[utoipa::path]` annotations and the types they send and accept. The routes under `/crm/rest/v1` and
//! the XML-RPC aliases are the same handlers as their `/v1` (`/xmlrpc`) twins, so they are documented by
//! copying those operations (see [`Aliases`]).

pub mod examples;
pub mod responses;
pub mod schemas;

use std::sync::OnceLock;

use axum::extract::State;
use utoipa::openapi::path::{Operation, PathItem};
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{OpenApi as Document, Server};
use utoipa::{Modify, OpenApi};

use crate::json::Json;
use crate::routes::table::Routes;
use crate::routes::{self, xmlrpc};
use crate::state::AppState;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Keygate",
        description = "A self-hosted API access platform: OAuth 2 (authorization code with PKCE, client \
credentials, refresh, JWT bearer assertions, token exchange), API keys and domain keys exchanged at \
`/auth`, legacy keys and HTTP Basic on the resource APIs, an admin API, and a CRM contacts resource over \
REST and XML-RPC.\n\nErrors are RFC 9457 problem details (`application/problem+json`) everywhere except \
the OAuth endpoints, which answer RFC 6749 error JSON, and XML-RPC, which answers faults."
    ),
    paths(
        routes::wellknown::metadata,
        routes::wellknown::openid_configuration,
        routes::wellknown::jwks,
        routes::oauth::token,
        routes::oauth::revoke,
        routes::oauth::introspect,
        routes::authorize::show_login,
        routes::authorize::submit_login,
        routes::authorize::submit_consent,
        routes::auth::auth,
        routes::auth::refresh,
        routes::me::me,
        routes::contacts::list,
        routes::contacts::create,
        routes::contacts::upsert,
        routes::contacts::read,
        routes::contacts::update,
        routes::contacts::remove,
        routes::contacts::emails::contact_statuses,
        routes::contacts::emails::opt_in,
        routes::contacts::emails::opt_out,
        routes::contacts::emails::status,
                routes::xmlrpc::endpoint,
        routes::hooks::event_keys,
        routes::hooks::list,
        routes::hooks::create,
        routes::hooks::read,
        routes::hooks::retarget,
        routes::hooks::remove,
        routes::hooks::verify,
        routes::hooks::rotate,
        routes::hooks::deliveries,
        routes::hooks::replay,
        routes::hooks::stats,
        routes::admin::list_accounts,
        routes::admin::create_account,
        routes::admin::get_account,
        routes::admin::update_account,
        routes::admin::list_users,
        routes::admin::create_user,
        routes::admin::get_user,
        routes::admin::update_user,
        routes::admin::list_apps,
        routes::admin::create_app,
        routes::admin::get_app,
        routes::admin::update_app,
        routes::admin::rotate_secret,
        routes::admin::list_tokens,
        routes::admin::create_token,
        routes::admin::revoke_token,
        routes::admin::keys::list_api_keys,
        routes::admin::keys::create_api_key,
        routes::admin::keys::get_api_key,
        routes::admin::keys::revoke_api_key,
        routes::admin::keys::rotate_api_key,
        routes::admin::keys::set_assertion_key,
        routes::admin::keys::clear_assertion_key,
        routes::admin::keys::list_domain_keys,
        routes::admin::keys::create_domain_key,
        routes::admin::keys::get_domain_key,
        routes::admin::keys::revoke_domain_key,
        routes::admin::keys::list_legacy_keys,
        routes::admin::keys::create_legacy_key,
        routes::admin::keys::revoke_legacy_key,
        routes::admin::list_audit,
        routes::admin::list_keys,
        routes::admin::rotate_keys,
        routes::health::healthz,
        routes::health::readyz,
        routes::health::metrics,
        routes::demo::callback,
        crate::stylesheet,
        openapi_json,
    ),
    components(schemas(crate::error::ProblemBody, crate::error::OAuthErrorBody), responses(
        responses::BadRequest,
        responses::Unauthorized,
        responses::Forbidden,
        responses::NotFound,
        responses::Conflict,
        responses::PreconditionFailed,
        responses::UnsupportedMediaType,
        responses::InvalidField,
        responses::TooManyRequests,
        responses::ServerError,
        responses::OAuthBadRequest,
        responses::OAuthUnauthorized,
        responses::OAuthTooManyRequests,
    )),
    modifiers(&SecuritySchemes, &Aliases),
    tags(
        (name = "oauth", description = "OAuth 2 endpoints (RFC 6749, 7009, 7662, 7523, 8693); errors are RFC 6749 error JSON"),
        (name = "authorize", description = "The browser side of the authorization code flow: HTML pages"),
        (name = "auth", description = "API keys and domain keys exchanged for access tokens"),
        (name = "discovery", description = "Server metadata and signing keys"),
        (name = "resources", description = "Protected resources"),
        (name = "contacts", description = "The CRM contacts resource (Infusionsoft/Keap-style REST)"),
                (name = "xmlrpc", description = "Infusionsoft-compatible XML-RPC"),
        (name = "hooks", description = "REST Hooks subscriptions (scope `hooks`): signed, retried deliveries of contact events"),
        (name = "admin", description = "The admin API, for admin tokens (`keygate admin tokens create`)"),
        (name = "operations", description = "Health, readiness, metrics, assets and this document"),
    )
)]
pub struct ApiDoc;

/// The security schemes operations name in their `security` requirements.
struct SecuritySchemes;

impl Modify for SecuritySchemes {
    fn modify(&self, doc: &mut Document) {
        let components = doc.components.get_or_insert_with(Default::default);
        let http = |scheme, format: Option<&str>, description: &str| {
            let mut b = HttpBuilder::new().scheme(scheme).description(Some(description));
            if let Some(f) = format {
                b = b.bearer_format(f);
            }
            SecurityScheme::Http(b.build())
        };
        let header = |name: &str, description: &str| {
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(name, description)))
        };
        components.add_security_scheme(
            "bearer",
            http(
                HttpAuthScheme::Bearer,
                Some("JWT"),
                "An access token (RFC 9068 JWT) from `/oauth/token` or `/auth`.",
            ),
        );
        components.add_security_scheme(
            "basic",
            http(
                HttpAuthScheme::Basic,
                None,
                "On the resource APIs: an account user's `email:password`, where the account enables \
                 Basic. On the OAuth endpoints: the client's `client_id:client_secret` \
                 (`client_secret_basic`, each half form-urlencoded first).",
            ),
        );
        components.add_security_scheme(
            "legacyKey",
            header(
                "X-Legacy-Key",
                "Deprecated: a static legacy key (`kglk_…`). Answers carry `Deprecation` (RFC 9745) and, \
                 once a date is set, `Sunset` (RFC 8594). Move to API keys.",
            ),
        );
        components.add_security_scheme(
            "apiKey",
            header(
                "X-Api-Key",
                "An API key's public id (`kgk_…`), sent to `/auth` and `/auth/refresh`.",
            ),
        );
        components.add_security_scheme(
            "adminToken",
            http(
                HttpAuthScheme::Bearer,
                None,
                "An admin token (`kgat_…`) for `/admin/v1/*`.",
            ),
        );
    }
}

/// Documents the routes served by the same handlers under a second path: the contacts resource under
/// `/crm/rest/v1` and the XML-RPC endpoint under its other paths. Each copy gets its own operation id.
struct Aliases;

fn operations(item: &mut PathItem) -> impl Iterator<Item = &mut Operation> {
    [
        &mut item.get,
        &mut item.put,
        &mut item.post,
        &mut item.delete,
        &mut item.patch,
    ]
    .into_iter()
    .flatten()
}

/// A copy of `item` for another path: its operation ids get `suffix`, its descriptions `note` first.
fn alias(item: &PathItem, suffix: &str, note: &str) -> PathItem {
    let mut copy = item.clone();
    for op in operations(&mut copy) {
        op.operation_id = op.operation_id.as_ref().map(|id| format!("{id}_{suffix}"));
        let description = op.description.take().unwrap_or_default();
        op.description = Some(format!("{note}\n\n{description}").trim().to_owned());
    }
    copy
}

impl Modify for Aliases {
    fn modify(&self, doc: &mut Document) {
        let paths = &mut doc.paths.paths;
        let [v1, crm] = routes::REST_PREFIXES;
        let is_contacts = |item: &PathItem| {
            [&item.get, &item.put, &item.post, &item.delete, &item.patch]
                .into_iter()
                .flatten()
                .any(|op| op.tags.iter().flatten().any(|t| t == "contacts" || t == "hooks"))
        };
        let contact_paths: Vec<String> = paths
            .iter()
            .filter(|(p, item)| p.starts_with(&format!("{v1}/")) && is_contacts(item))
            .map(|(p, _)| p.clone())
            .collect();
        for path in contact_paths {
            let Some(item) = paths.get_mut(&path) else {
                continue;
            };
            let twin = format!("{crm}{}", &path[v1.len()..]);
            let copy = alias(item, "crm", &format!("The same operation as `{path}`."));
            for op in operations(item) {
                let description = op.description.take().unwrap_or_default();
                op.description = Some(
                    format!("{description}\n\nAlso served as `{twin}`, for Infusionsoft/Keap-style clients.")
                        .trim()
                        .to_owned(),
                );
            }
            paths.insert(twin, copy);
        }
        let (first, others) = xmlrpc::PATHS.split_first().unwrap_or((&"", &[]));
        if let Some(item) = paths.get(*first).cloned() {
            for path in others {
                let suffix = path.trim_matches('/').replace('/', "_");
                let note = format!("The same endpoint as `{first}`.");
                paths.insert((*path).to_owned(), alias(&item, &suffix, &note));
            }
        }
    }
}

/// The document for this server: its version, and its `public_url` as the server.
pub fn document(state: &AppState) -> Document {
    static BASE: OnceLock<Document> = OnceLock::new();
    let mut doc = BASE.get_or_init(ApiDoc::openapi).clone();
    doc.info.version = env!("CARGO_PKG_VERSION").to_owned();
    doc.servers = Some(vec![Server::new(state.config.public_url.clone())]);
    if !state.demo {
        doc.paths.paths.remove(routes::demo::PATH);
    }
    doc
}

/// This document.
#[utoipa::path(
    get,
    path = "/openapi.json",
    tag = "operations",
    operation_id = "openapi",
    responses((status = 200, description = "The OpenAPI 3.1 document of this server", content_type = "application/json", body = Object))
)]
pub async fn openapi_json(State(s): State<AppState>) -> Json<Document> {
    Json(document(&s))
}

pub fn router() -> Routes {
    Routes::new().get("/openapi.json", openapi_json)
}
