use std::sync::Arc;

use keygate_lib::Keygate;

use crate::config::Config;
use crate::metrics::Metrics;
use crate::rate_limit::RateLimits;

/// Everything a handler needs. One `Arc`: axum clones the state for every middleware and extractor of
/// every request, and one reference count is cheaper to move than one per field.
#[derive(Clone)]
pub struct AppState(Arc<SharedState>);

#[derive(Clone)]
pub struct SharedState {
    pub keygate: Keygate,
    pub config: Arc<Config>,
    pub metrics: Arc<Metrics>,
    /// Serve `/demo/callback`, the landing page of the demo app's redirect URI.
    pub demo: bool,
    /// The web origin of `public_url`: the portal's, always allowed by CORS.
    pub own_origin: Arc<str>,
    pub rate_limits: Arc<RateLimits>,
    /// The outbound client for hook receivers (handshakes; the dispatcher has its own clone).
    pub hook_client: crate::hooks::client::HookClient,
}

impl AppState {
    pub fn new(shared: SharedState) -> Self {
        Self(Arc::new(shared))
    }
}

impl std::ops::Deref for AppState {
    type Target = SharedState;

    fn deref(&self) -> &SharedState {
        &self.0
    }
}
