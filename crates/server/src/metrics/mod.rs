//! Prometheus metrics. Labels use the matched route, never the raw path, so cardinality stays bounded
//! and no identifier or token in a URL reaches the metrics. Counting a request takes no lock and builds
//! no label (see [`http`]); the labels are written only when `/metrics` is scraped.

mod histogram;
mod http;

use std::sync::Arc;
use std::time::Instant;

use axum::extract::{MatchedPath, Request};
use axum::http::Method;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::registry::Registry;

pub use http::HttpMetrics;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct GrantLabels {
    grant_type: &'static str,
}

/// How a token was obtained at the token endpoint.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IssuedBy {
    AuthorizationCode,
    RefreshToken,
    ClientCredentials,
    JwtBearer,
    TokenExchange,
}

impl IssuedBy {
    const ALL: [IssuedBy; 5] = [
        Self::AuthorizationCode,
        Self::RefreshToken,
        Self::ClientCredentials,
        Self::JwtBearer,
        Self::TokenExchange,
    ];

    fn label(self) -> &'static str {
        match self {
            Self::AuthorizationCode => "authorization_code",
            Self::RefreshToken => "refresh_token",
            Self::ClientCredentials => "client_credentials",
            Self::JwtBearer => "jwt_bearer",
            Self::TokenExchange => "token_exchange",
        }
    }
}

pub struct Metrics {
    registry: Registry,
    pub http: Arc<HttpMetrics>,
    /// One counter per grant type, created up front (so each series exists from the start) and kept
    /// here, so issuing a token does not look its counter up in the family.
    tokens_issued: [Counter; IssuedBy::ALL.len()],
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::with_prefix("keygate");
        let http = Arc::new(HttpMetrics::default());
        registry.register_collector(Box::new(http::HttpCollector(http.clone())));
        let tokens = Family::<GrantLabels, Counter>::default();
        let tokens_issued = IssuedBy::ALL.map(|by| {
            tokens
                .get_or_create(&GrantLabels {
                    grant_type: by.label(),
                })
                .clone()
        });
        registry.register("tokens_issued", "Access tokens issued by grant type", tokens);
        Self {
            registry,
            http,
            tokens_issued,
        }
    }
}

impl Metrics {
    pub fn render(&self) -> String {
        let mut out = String::new();
        if prometheus_client::encoding::text::encode(&mut out, &self.registry).is_err() {
            out.clear();
        }
        out
    }

    pub fn token_issued(&self, by: IssuedBy) {
        self.tokens_issued[by as usize].inc();
    }
}

/// One request's route, method and start, taken before its handler runs and recorded with its status.
pub struct RequestTiming {
    // The matched path is an `Arc<str>` inside: holding it across the handler costs a reference count,
    // not a copy of the route.
    route: Option<MatchedPath>,
    method: Method,
    start: Instant,
}

impl RequestTiming {
    pub fn start(req: &Request) -> Self {
        Self {
            route: req.extensions().get::<MatchedPath>().cloned(),
            method: req.method().clone(),
            start: Instant::now(),
        }
    }

    pub fn record(&self, metrics: &Metrics, status: u16) {
        metrics.http.record(
            self.route.as_ref().map(MatchedPath::as_str),
            &self.method,
            status,
            self.start.elapsed(),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_grant_type_has_its_series_from_the_start() {
        let m = Metrics::default();
        m.token_issued(IssuedBy::ClientCredentials);
        m.token_issued(IssuedBy::ClientCredentials);
        m.token_issued(IssuedBy::TokenExchange);
        let text = m.render();
        assert!(
            text.contains("keygate_tokens_issued_total{grant_type=\"client_credentials\"} 2"),
            "{text}"
        );
        assert!(
            text.contains("keygate_tokens_issued_total{grant_type=\"token_exchange\"} 1"),
            "{text}"
        );
        assert!(
            text.contains("keygate_tokens_issued_total{grant_type=\"refresh_token\"} 0"),
            "{text}"
        );
    }

    #[test]
    fn requests_are_rendered_with_their_labels_and_latency() {
        let m = Metrics::default();
        m.http.know_routes(["/healthz"]);
        let method = axum::http::Method::GET;
        m.http.record(
            Some("/healthz"),
            &method,
            200,
            std::time::Duration::from_micros(200),
        );
        m.http.record(
            Some("/healthz"),
            &method,
            200,
            std::time::Duration::from_millis(3),
        );
        let text = m.render();
        for line in [
            "# TYPE keygate_http_requests counter",
            "keygate_http_requests_total{method=\"GET\",route=\"/healthz\",status=\"200\"} 2",
            "# TYPE keygate_http_request_duration_seconds histogram",
            "keygate_http_request_duration_seconds_count{route=\"/healthz\"} 2",
            "keygate_http_request_duration_seconds_bucket{le=\"0.0005\",route=\"/healthz\"} 1",
            "keygate_http_request_duration_seconds_bucket{le=\"0.004\",route=\"/healthz\"} 2",
            "keygate_http_request_duration_seconds_bucket{le=\"+Inf\",route=\"/healthz\"} 2",
        ] {
            assert!(text.lines().any(|l| l == line), "missing {line:?} in\n{text}");
        }
    }
}
