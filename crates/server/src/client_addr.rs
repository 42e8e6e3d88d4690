//! The address a request comes from, for lock-outs after failed authentications.

use std::convert::Infallible;
use std::net::{IpAddr, SocketAddr};

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use axum::http::HeaderMap;

use crate::state::AppState;

/// The client's IP address: the connection's peer, or behind a trusted proxy the last
/// `X-Forwarded-For` entry (the address the proxy itself saw; earlier entries are the client's say-so).
/// `None` where the server runs without connection info (a router driven directly in a test).
pub struct ClientAddr(pub Option<IpAddr>);

impl FromRequestParts<AppState> for ClientAddr {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, s: &AppState) -> Result<Self, Infallible> {
        let forwarded = s
            .config
            .http
            .trust_forwarded_for
            .then(|| last_forwarded_for(&parts.headers))
            .flatten();
        let peer = || {
            parts
                .extensions
                .get::<ConnectInfo<SocketAddr>>()
                .map(|c| c.0.ip())
        };
        Ok(Self(forwarded.or_else(peer)))
    }
}

fn last_forwarded_for(headers: &HeaderMap) -> Option<IpAddr> {
    let last = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .next_back()?
        .trim();
    last.parse()
        .ok()
        .or_else(|| last.parse::<SocketAddr>().ok().map(|a| a.ip()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_proxy_added_entry_wins() {
        let mut h = HeaderMap::new();
        h.append("x-forwarded-for", "203.0.113.9, 10.0.0.1".parse().unwrap());
        h.append("x-forwarded-for", "198.51.100.4".parse().unwrap());
        assert_eq!(last_forwarded_for(&h), Some([198, 51, 100, 4].into()));
        let mut h = HeaderMap::new();
        h.insert("x-forwarded-for", "[2001:db8::1]:4711".parse().unwrap());
        assert_eq!(last_forwarded_for(&h), "2001:db8::1".parse().ok());
        h.insert("x-forwarded-for", "unknown".parse().unwrap());
        assert_eq!(last_forwarded_for(&h), None);
    }
}
