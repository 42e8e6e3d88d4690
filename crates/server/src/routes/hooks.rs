//! REST Hooks subscriptions (scope `hooks`), under `/v1/hooks` and `/crm/rest/v1/hooks`, as Keap names
//! them: `{"key", "eventKey", "hookUrl", "status"}`; the signing secret appears once, on creation and on
//! rotation.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use keygate_core::scope::Scope;
use keygate_core::time::format_rfc3339;
use keygate_lib::hooks::{HookError, HookView};
use keygate_store::{Delivery, DeliveryAttempt, Hook, HookStatus};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::caller::Caller;
use crate::error::Problem;
use crate::extract::ApiJson;
use crate::hooks::handshake;
use crate::json::Json;
use crate::openapi::responses as r;
use crate::routes::table::Routes;
use crate::state::AppState;

pub fn router() -> Routes {
    let mut routes = Routes::new();
    for prefix in super::REST_PREFIXES {
        let at = |path: &str| format!("{prefix}{path}");
        routes = routes
            .get(&at("/hooks/event_keys"), event_keys)
            .get(&at("/hooks"), list)
            .post(&at("/hooks"), create)
            .get(&at("/hooks/{key}"), read)
            .put(&at("/hooks/{key}"), retarget)
            .delete(&at("/hooks/{key}"), remove)
            .post(&at("/hooks/{key}/verify"), verify)
            .post(&at("/hooks/{key}/rotate-secret"), rotate)
            .get(&at("/hooks/{key}/deliveries"), deliveries)
            .post(&at("/hooks/{key}/deliveries/{id}/replay"), replay)
            .get(&at("/hooks/{key}/stats"), stats);
    }
    routes
}

fn hook_problem(e: HookError) -> Problem {
    let detail = e.to_string();
    match e {
        HookError::MissingScope => Problem::insufficient_scope(Scope::Hooks, detail),
        HookError::NotFound(_) => Problem::not_found(detail),
        HookError::Invalid(i) => i.into(),
        HookError::Store(e) => Problem::internal(e),
        HookError::Secret => Problem::internal(detail),
    }
}

/// A subscription to create, or a new URL for one.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Subscribe {
    /// One of `GET /v1/hooks/event_keys`. Required on creation; on `PUT` it must stay the same.
    #[schema(example = "contact.add")]
    event_key: Option<String>,
    /// HTTPS, public.
    #[schema(example = "https://crm-sync.example.com/keygate")]
    hook_url: String,
}

/// A subscription, with what the last handshake said and, once, the signing secret.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct HookBody {
    #[serde(flatten)]
    hook: HookView,
    /// Why the handshake did not verify the receiver, when it did not.
    #[serde(skip_serializing_if = "Option::is_none")]
    verification_error: Option<String>,
    /// `whsec_…`: shown on creation and rotation only.
    #[serde(skip_serializing_if = "Option::is_none")]
    secret: Option<String>,
    /// After a rotation: until when (RFC 3339) the previous secret still signs.
    #[serde(skip_serializing_if = "Option::is_none")]
    previous_secret_expires_at: Option<String>,
}

impl HookBody {
    fn of(hook: &Hook) -> Self {
        Self {
            hook: hook.into(),
            verification_error: None,
            secret: None,
            previous_secret_expires_at: None,
        }
    }
}

/// Runs the handshake and records its result; returns the subscription and why it failed, if it did.
/// Shared with the portal's "Re-verify" button.
pub(crate) async fn run_handshake(s: &AppState, hook: Hook) -> Result<(Hook, Option<String>), HookError> {
    let outcome = handshake::verify(&s.hook_client, &hook.hook_url).await;
    let hook = match (&outcome, hook.status) {
        (Ok(()), _) => s.keygate.set_hook_status(&hook, HookStatus::Verified).await,
        // A failed handshake leaves an inactive subscription inactive, and anything else unverified.
        (Err(_), HookStatus::Verified) => s.keygate.set_hook_status(&hook, HookStatus::Unverified).await,
        (Err(_), _) => Ok(hook),
    }?;
    Ok((hook, outcome.err()))
}

/// [`run_handshake`] as the REST answer.
async fn handshake(s: &AppState, hook: Hook) -> Result<HookBody, Problem> {
    let (hook, error) = run_handshake(s, hook).await.map_err(hook_problem)?;
    let mut body = HookBody::of(&hook);
    body.verification_error = error;
    Ok(body)
}

#[utoipa::path(
    get,
    path = "/v1/hooks/event_keys",
    tag = "hooks",
    operation_id = "list_hook_event_keys",
    security(("bearer" = []), ("basic" = []), ("legacyKey" = [])),
    responses(
        (status = 200, description = "The event keys a subscription can name", body = Vec<String>,
            example = json!(["contact.add", "contact.edit", "contact.delete", "contact.opt_in", "contact.opt_out"])),
        (status = 401, response = r::Unauthorized),
        (status = 403, response = r::Forbidden),
        (status = 429, response = r::TooManyRequests),
    )
)]
pub async fn event_keys(
    State(s): State<AppState>,
    Caller(p): Caller,
) -> Result<Json<&'static [&'static str]>, Problem> {
    s.keygate.hook_event_keys(&p).map(Json).map_err(hook_problem)
}

#[utoipa::path(
    post,
    path = "/v1/hooks",
    tag = "hooks",
    operation_id = "create_hook",
    description = "Subscribes, then runs the handshake: a POST to the URL with an `X-Hook-Secret` header, \
which a receiver confirms by answering 2xx echoing it. Confirmed subscriptions are `Verified`; others stay \
`Unverified` with a `verificationError`. The `secret` signs deliveries (Standard Webhooks) and is shown once.",
    request_body = Subscribe,
    security(("bearer" = []), ("basic" = []), ("legacyKey" = [])),
    responses(
        (status = 201, description = "The subscription, with its signing secret", body = HookBody),
        (status = 400, response = r::BadRequest),
        (status = 401, response = r::Unauthorized),
        (status = 403, response = r::Forbidden),
        (status = 415, response = r::UnsupportedMediaType),
        (status = 422, response = r::InvalidField),
        (status = 429, response = r::TooManyRequests),
    )
)]
pub async fn create(
    State(s): State<AppState>,
    Caller(p): Caller,
    ApiJson(req): ApiJson<Subscribe>,
) -> Result<Response, Problem> {
    let event = req.event_key.unwrap_or_default();
    let (hook, secret) = s
        .keygate
        .create_hook(&p, &event, &req.hook_url)
        .await
        .map_err(hook_problem)?;
    let mut body = handshake(&s, hook).await?;
    body.secret = Some(secret.encode());
    Ok((StatusCode::CREATED, Json(body)).into_response())
}

#[utoipa::path(
    get,
    path = "/v1/hooks",
    tag = "hooks",
    operation_id = "list_hooks",
    security(("bearer" = []), ("basic" = []), ("legacyKey" = [])),
    responses(
        (status = 200, description = "The account's subscriptions, oldest first", body = Vec<HookView>),
        (status = 401, response = r::Unauthorized),
        (status = 403, response = r::Forbidden),
        (status = 429, response = r::TooManyRequests),
    )
)]
pub async fn list(State(s): State<AppState>, Caller(p): Caller) -> Result<Json<Vec<HookView>>, Problem> {
    let hooks = s.keygate.hooks(&p).await.map_err(hook_problem)?;
    Ok(Json(hooks.iter().map(HookView::from).collect()))
}

#[utoipa::path(
    get,
    path = "/v1/hooks/{key}",
    tag = "hooks",
    operation_id = "get_hook",
    params(("key" = String, Path, description = "The subscription's key (`hk_…`)")),
    security(("bearer" = []), ("basic" = []), ("legacyKey" = [])),
    responses(
        (status = 200, description = "The subscription (never its secret)", body = HookView),
        (status = 401, response = r::Unauthorized),
        (status = 403, response = r::Forbidden),
        (status = 404, response = r::NotFound),
        (status = 429, response = r::TooManyRequests),
    )
)]
pub async fn read(
    State(s): State<AppState>,
    Caller(p): Caller,
    Path(key): Path<String>,
) -> Result<Json<HookView>, Problem> {
    let hook = s.keygate.hook(&p, &key).await.map_err(hook_problem)?;
    Ok(Json((&hook).into()))
}

#[utoipa::path(
    put,
    path = "/v1/hooks/{key}",
    tag = "hooks",
    operation_id = "update_hook",
    description = "Points the subscription at a new URL, which must pass the handshake again. The event key cannot change.",
    params(("key" = String, Path, description = "The subscription's key (`hk_…`)")),
    request_body = Subscribe,
    security(("bearer" = []), ("basic" = []), ("legacyKey" = [])),
    responses(
        (status = 200, description = "The subscription", body = HookBody),
        (status = 400, response = r::BadRequest),
        (status = 401, response = r::Unauthorized),
        (status = 403, response = r::Forbidden),
        (status = 404, response = r::NotFound),
        (status = 415, response = r::UnsupportedMediaType),
        (status = 422, response = r::InvalidField),
        (status = 429, response = r::TooManyRequests),
    )
)]
pub async fn retarget(
    State(s): State<AppState>,
    Caller(p): Caller,
    Path(key): Path<String>,
    ApiJson(req): ApiJson<Subscribe>,
) -> Result<Json<HookBody>, Problem> {
    let before = s.keygate.hook(&p, &key).await.map_err(hook_problem)?;
    let hook = s
        .keygate
        .retarget_hook(&p, &key, req.event_key.as_deref(), &req.hook_url)
        .await
        .map_err(hook_problem)?;
    if hook.hook_url == before.hook_url {
        return Ok(Json(HookBody::of(&hook)));
    }
    Ok(Json(handshake(&s, hook).await?))
}

#[utoipa::path(
    delete,
    path = "/v1/hooks/{key}",
    tag = "hooks",
    operation_id = "delete_hook",
    params(("key" = String, Path, description = "The subscription's key (`hk_…`)")),
    security(("bearer" = []), ("basic" = []), ("legacyKey" = [])),
    responses(
        (status = 204, description = "Unsubscribed; its pending deliveries are dropped"),
        (status = 401, response = r::Unauthorized),
        (status = 403, response = r::Forbidden),
        (status = 404, response = r::NotFound),
        (status = 429, response = r::TooManyRequests),
    )
)]
pub async fn remove(
    State(s): State<AppState>,
    Caller(p): Caller,
    Path(key): Path<String>,
) -> Result<StatusCode, Problem> {
    s.keygate.delete_hook(&p, &key).await.map_err(hook_problem)?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(
    post,
    path = "/v1/hooks/{key}/verify",
    tag = "hooks",
    operation_id = "verify_hook",
    description = "Runs the handshake again; also how an `Inactive` subscription comes back.",
    params(("key" = String, Path, description = "The subscription's key (`hk_…`)")),
    security(("bearer" = []), ("basic" = []), ("legacyKey" = [])),
    responses(
        (status = 200, description = "The subscription, with `verificationError` if the receiver did not confirm", body = HookBody),
        (status = 401, response = r::Unauthorized),
        (status = 403, response = r::Forbidden),
        (status = 404, response = r::NotFound),
        (status = 429, response = r::TooManyRequests),
    )
)]
pub async fn verify(
    State(s): State<AppState>,
    Caller(p): Caller,
    Path(key): Path<String>,
) -> Result<Json<HookBody>, Problem> {
    let hook = s.keygate.hook(&p, &key).await.map_err(hook_problem)?;
    Ok(Json(handshake(&s, hook).await?))
}

#[utoipa::path(
    post,
    path = "/v1/hooks/{key}/rotate-secret",
    tag = "hooks",
    operation_id = "rotate_hook_secret",
    description = "A new signing secret, shown once. Until `previousSecretExpiresAt` deliveries carry both signatures.",
    params(("key" = String, Path, description = "The subscription's key (`hk_…`)")),
    security(("bearer" = []), ("basic" = []), ("legacyKey" = [])),
    responses(
        (status = 200, description = "The subscription with its new secret", body = HookBody),
        (status = 401, response = r::Unauthorized),
        (status = 403, response = r::Forbidden),
        (status = 404, response = r::NotFound),
        (status = 429, response = r::TooManyRequests),
    )
)]
pub async fn rotate(
    State(s): State<AppState>,
    Caller(p): Caller,
    Path(key): Path<String>,
) -> Result<Json<HookBody>, Problem> {
    let (hook, secret) = s
        .keygate
        .rotate_hook_secret(&p, &key)
        .await
        .map_err(hook_problem)?;
    let mut body = HookBody::of(&hook);
    body.secret = Some(secret.encode());
    body.previous_secret_expires_at = hook.previous_secret_expires_at.map(format_rfc3339);
    Ok(Json(body))
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct Page {
    /// 1 to 100 (default 50).
    limit: Option<u32>,
    /// A delivery id: only deliveries made before it (the next page).
    before: Option<String>,
}

/// One try at delivering.
#[derive(Serialize, ToSchema)]
pub struct AttemptView {
    number: i64,
    /// RFC 3339.
    at: String,
    /// The receiver's status code; `null` when it did not answer.
    status_code: Option<i64>,
    latency_ms: i64,
    error: Option<String>,
}

/// One message: a batch of events, its attempts, and the payload as sent.
#[derive(Serialize, ToSchema)]
pub struct DeliveryView {
    /// The `webhook-id`, the same on every attempt.
    id: String,
    /// `pending`, `delivered` or `failed`.
    status: &'static str,
    created_at: String,
    finished_at: Option<String>,
    next_attempt_at: Option<String>,
    attempts: Vec<AttemptView>,
    #[schema(value_type = Object)]
    payload: serde_json::Value,
}

impl DeliveryView {
    fn of(d: &Delivery, attempts: &[DeliveryAttempt]) -> Self {
        Self {
            id: d.id.clone(),
            status: d.status.as_str(),
            created_at: format_rfc3339(d.created_at),
            finished_at: d.finished_at.map(format_rfc3339),
            next_attempt_at: d
                .next_attempt_at
                .filter(|_| d.finished_at.is_none())
                .map(format_rfc3339),
            attempts: attempts
                .iter()
                .map(|a| AttemptView {
                    number: a.number,
                    at: format_rfc3339(a.at),
                    status_code: a.status_code,
                    latency_ms: a.latency_ms,
                    error: a.error.clone(),
                })
                .collect(),
            payload: serde_json::from_str(&d.payload).unwrap_or_default(),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct DeliveryLog {
    /// Newest first.
    deliveries: Vec<DeliveryView>,
}

#[utoipa::path(
    get,
    path = "/v1/hooks/{key}/deliveries",
    tag = "hooks",
    operation_id = "list_hook_deliveries",
    params(("key" = String, Path, description = "The subscription's key (`hk_…`)"), Page),
    security(("bearer" = []), ("basic" = []), ("legacyKey" = [])),
    responses(
        (status = 200, description = "The delivery log", body = DeliveryLog),
        (status = 400, response = r::BadRequest),
        (status = 401, response = r::Unauthorized),
        (status = 403, response = r::Forbidden),
        (status = 404, response = r::NotFound),
        (status = 429, response = r::TooManyRequests),
    )
)]
pub async fn deliveries(
    State(s): State<AppState>,
    Caller(p): Caller,
    Path(key): Path<String>,
    Query(page): Query<Page>,
) -> Result<Json<DeliveryLog>, Problem> {
    let list = s
        .keygate
        .hook_deliveries(&p, &key, page.limit.unwrap_or(50), page.before.as_deref())
        .await
        .map_err(hook_problem)?;
    Ok(Json(DeliveryLog {
        deliveries: list.iter().map(|(d, a)| DeliveryView::of(d, a)).collect(),
    }))
}

#[utoipa::path(
    post,
    path = "/v1/hooks/{key}/deliveries/{id}/replay",
    tag = "hooks",
    operation_id = "replay_hook_delivery",
    description = "Sends a delivery again, with the same `webhook-id` and payload.",
    params(
        ("key" = String, Path, description = "The subscription's key (`hk_…`)"),
        ("id" = String, Path, description = "The delivery's id (`msg_…`)"),
    ),
    security(("bearer" = []), ("basic" = []), ("legacyKey" = [])),
    responses(
        (status = 202, description = "Queued to be sent at once"),
        (status = 401, response = r::Unauthorized),
        (status = 403, response = r::Forbidden),
        (status = 404, response = r::NotFound),
        (status = 429, response = r::TooManyRequests),
    )
)]
pub async fn replay(
    State(s): State<AppState>,
    Caller(p): Caller,
    Path((key, id)): Path<(String, String)>,
) -> Result<StatusCode, Problem> {
    s.keygate
        .replay_delivery(&p, &key, &id)
        .await
        .map_err(hook_problem)?;
    Ok(StatusCode::ACCEPTED)
}

/// Counts of a subscription's events by where their delivery stands, to reconcile a sync.
#[derive(Serialize, ToSchema)]
pub struct StatsView {
    pending: u64,
    delivered: u64,
    failed: u64,
}

#[utoipa::path(
    get,
    path = "/v1/hooks/{key}/stats",
    tag = "hooks",
    operation_id = "get_hook_stats",
    params(("key" = String, Path, description = "The subscription's key (`hk_…`)")),
    security(("bearer" = []), ("basic" = []), ("legacyKey" = [])),
    responses(
        (status = 200, description = "Event counts", body = StatsView),
        (status = 401, response = r::Unauthorized),
        (status = 403, response = r::Forbidden),
        (status = 404, response = r::NotFound),
        (status = 429, response = r::TooManyRequests),
    )
)]
pub async fn stats(
    State(s): State<AppState>,
    Caller(p): Caller,
    Path(key): Path<String>,
) -> Result<Json<StatsView>, Problem> {
    let st = s.keygate.hook_stats(&p, &key).await.map_err(hook_problem)?;
    Ok(Json(StatsView {
        pending: st.pending,
        delivered: st.delivered,
        failed: st.failed,
    }))
}
