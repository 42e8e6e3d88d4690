//! Keygate's HTTP server. [`router`] assembles the routes of every feature over one [`AppState`];
//! [`serve`] runs it on a listener the caller binds (a fixed port in production, port 0 in tests).

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::IntoResponse;
use axum::Router;
use tokio::net::TcpListener;
use tower::ServiceBuilder;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::trace::TraceLayer;

pub mod bootstrap;
pub mod caller;
pub mod client_addr;
pub mod config;
pub mod cors;
pub mod deadline;
pub mod demo;
pub mod edge;
pub mod error;
pub mod extract;
pub mod hooks;
pub mod json;
pub mod metrics;
pub mod openapi;
pub mod pages;
pub mod portal;
pub mod rate_limit;
pub mod routes;
pub mod state;

pub use config::Config;
use error::Problem;
use routes::table::Routes;
pub use state::AppState;

/// Every route of the server, each recorded with its method and path as it is added (the OpenAPI
/// document is checked against [`Routes::served`]).
pub fn routes(state: &AppState) -> Routes {
    let mut routes = Routes::new()
        .merge(routes::wellknown::router())
        .merge(routes::oauth::router())
        .merge(routes::auth::router())
        .merge(routes::authorize::router())
        .merge(routes::admin::router(state.clone()))
        .merge(routes::health::router())
        .merge(routes::me::router())
        .merge(routes::contacts::router())
        .merge(routes::xmlrpc::router())
        .merge(routes::hooks::router())
        .merge(openapi::router())
        .get("/assets/keygate.css", stylesheet);
    if state.demo {
        routes = routes.merge(routes::demo::router());
    }
    routes
}

pub fn router(state: AppState) -> Router {
    // The portal's pages are browser UI, not API: merged here, outside the documented route table.
    let table = routes(&state);
    state
        .metrics
        .http
        .know_routes(table.served().iter().map(|(_, path)| path.as_str()));
    let app = table.into_router().merge(portal::router());
    let http = &state.config.http;
    // One `layer` call for the whole stack, outermost first: axum boxes each route once per call and
    // clones the boxes on every request, so a call per layer cost an allocation per layer per request.
    let edge = ServiceBuilder::new()
        // Spans carry the method and route only: query strings may hold tokens and never reach a log line.
        .layer(
            TraceLayer::new_for_http().make_span_with(|req: &axum::http::Request<_>| {
                let route = req
                    .extensions()
                    .get::<axum::extract::MatchedPath>()
                    .map_or("unmatched", |p| p.as_str());
                tracing::info_span!("http", method = %req.method(), route)
            }),
        )
        .layer(CatchPanicLayer::custom(|_| {
            Problem::internal("a request handler panicked").into_response()
        }))
        .layer(deadline::DeadlineLayer::new(Duration::from_secs(
            http.request_timeout_secs,
        )))
        .layer(edge::EdgeLayer::new(state.clone()))
        .layer(axum::extract::DefaultBodyLimit::max(http.max_body_bytes));
    app.fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(edge)
        .with_state(state)
}

/// The stylesheet of the HTML pages.
#[utoipa::path(
    get,
    path = "/assets/keygate.css",
    tag = "operations",
    responses((status = 200, description = "The stylesheet", body = String, content_type = "text/css",
        headers(("Cache-Control" = String, description = "`public, max-age=3600`"))))
)]
async fn stylesheet() -> impl IntoResponse {
    (
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/css; charset=utf-8"),
            ),
            (
                header::CACHE_CONTROL,
                HeaderValue::from_static("public, max-age=3600"),
            ),
        ],
        pages::STYLESHEET,
    )
}

async fn not_found() -> Problem {
    Problem::not_found("no such endpoint")
}

async fn method_not_allowed() -> Problem {
    Problem::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method-not-allowed",
        "Method not allowed",
        "this endpoint does not accept that method",
    )
}

/// Serves until `shutdown` resolves, then stops accepting and lets in-flight requests finish. Runs the
/// periodic maintenance (key reload and rotation, purging) alongside.
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let keygate = state.keygate.clone();
    let rate_limits = state.rate_limits.clone();
    let dispatcher = Arc::new(hooks::dispatcher::Dispatcher::new(
        state.keygate.clone(),
        state.hook_client.clone(),
        state.config.public_url.clone(),
    ));
    let deliveries = tokio::spawn(dispatcher.run());
    let maintenance = tokio::spawn(async move {
        let mut tick =
            tokio::time::interval(Duration::from_secs(keygate_lib::MAINTENANCE_INTERVAL_SECS as u64));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            keygate.maintain().await;
            rate_limits.retain_recent();
            if let Err(e) = rate_limits.refresh(keygate.store().as_ref()).await {
                tracing::warn!(error = %e, "could not reload the accounts' rate limits");
            }
        }
    });
    let counter = state.keygate.clone();
    let legacy_uses = tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(keygate_lib::LEGACY_USE_FLUSH_SECS));
        loop {
            tick.tick().await;
            counter.flush_legacy_key_uses().await;
        }
    });
    let keygate = state.keygate.clone();
    let app = router(state).into_make_service_with_connect_info::<std::net::SocketAddr>();
    let result = axum::serve(listener, app).with_graceful_shutdown(shutdown).await;
    maintenance.abort();
    deliveries.abort();
    legacy_uses.abort();
    // What the last requests counted is written before the process ends.
    keygate.flush_legacy_key_uses().await;
    keygate.store().leave().await;
    result
}

/// The state for a configuration: opens the store and the service, for a server.
pub async fn build_state(config: Config, demo: bool) -> Result<AppState, bootstrap::StartError> {
    build_state_for(config, demo, bootstrap::Role::Server).await
}

/// As [`build_state`], for a command that serves its own requests in-process and exits (the admin CLI).
pub async fn build_tool_state(config: Config) -> Result<AppState, bootstrap::StartError> {
    build_state_for(config, false, bootstrap::Role::Tool).await
}

async fn build_state_for(
    config: Config,
    demo: bool,
    role: bootstrap::Role,
) -> Result<AppState, bootstrap::StartError> {
    let config = config.resolved();
    let keygate = bootstrap::open(&config, role).await?;
    let own_origin = config.own_origin().into();
    let rate_limits = Arc::new(rate_limit::RateLimits::new(&config.rate_limits));
    rate_limits.refresh(keygate.store().as_ref()).await?;
    let hook_client = hooks::client::HookClient::new(&config.hooks)
        .map_err(|e| bootstrap::StartError::Config(format!("hook client: {e}")))?;
    Ok(AppState::new(state::SharedState {
        keygate,
        config: Arc::new(config),
        metrics: Arc::new(metrics::Metrics::default()),
        demo,
        own_origin,
        rate_limits,
        hook_client,
    }))
}
