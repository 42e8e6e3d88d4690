//! The HTTP client for hook receivers. Subscribers choose the URLs, so every request is checked where it
//! matters, at connection time: names must resolve to public addresses only (the resolver drops the
//! rest, so a DNS answer that changes between check and connect cannot reach inside), address literals
//! are checked before sending, and redirects are never followed.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use keygate_core::net::is_public;
use keygate_lib::HookSettings;
use reqwest::dns::{Addrs, Name, Resolve, Resolving};

/// Resolves through the system resolver, keeping public addresses only.
struct PublicOnly;

impl Resolve for PublicOnly {
    fn resolve(&self, name: Name) -> Resolving {
        Box::pin(async move {
            let host = name.as_str().to_owned();
            let found: Vec<_> = tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let public: Vec<_> = found.into_iter().filter(|a| is_public(a.ip())).collect();
            if public.is_empty() {
                return Err(format!("{host} resolves to no public address").into());
            }
            Ok(Box::new(public.into_iter()) as Addrs)
        })
    }
}

/// What a receiver answered.
pub struct Answer {
    pub status: u16,
    /// `Retry-After` in seconds, when sent (as seconds or as an HTTP date).
    pub retry_after: Option<u64>,
    pub hook_secret: Option<String>,
}

#[derive(Clone)]
pub struct HookClient {
    http: reqwest::Client,
    allow_private: bool,
}

impl HookClient {
    pub fn new(settings: &HookSettings) -> Result<Self, reqwest::Error> {
        // rustls on aws-lc-rs, the crypto library the rest of Keygate already uses.
        let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
        let mut builder = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(settings.timeout))
            .connect_timeout(Duration::from_secs(settings.timeout.min(10)))
            .pool_idle_timeout(Duration::from_secs(90))
            .pool_max_idle_per_host(8)
            .user_agent(concat!("Keygate-Hooks/", env!("CARGO_PKG_VERSION")));
        if !settings.allow_private_targets {
            builder = builder.dns_resolver(Arc::new(PublicOnly));
        }
        Ok(Self {
            http: builder.build()?,
            allow_private: settings.allow_private_targets,
        })
    }

    /// POSTs `body` with `headers`; an error is a transport failure (refused target, timeout, reset).
    pub async fn post(&self, url: &str, headers: &[(&str, String)], body: Vec<u8>) -> Result<Answer, String> {
        let target = url::Url::parse(url).map_err(|_| "the hook URL is not valid".to_owned())?;
        if !self.allow_private {
            if target.scheme() != "https" {
                return Err("hook URLs must be https".into());
            }
            let literal = match target.host() {
                Some(url::Host::Ipv4(ip)) => Some(IpAddr::V4(ip)),
                Some(url::Host::Ipv6(ip)) => Some(IpAddr::V6(ip)),
                _ => None,
            };
            if literal.is_some_and(|ip| !is_public(ip)) {
                return Err("the hook URL points at a non-public address".into());
            }
        }
        let mut req = self.http.post(target).body(body);
        for (name, value) in headers {
            req = req.header(*name, value);
        }
        let res = req.send().await.map_err(describe)?;
        let header = |n: &str| {
            res.headers()
                .get(n)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        };
        let retry_after = header("retry-after").and_then(|v| {
            v.trim().parse::<u64>().ok().or_else(|| {
                let at = httpdate::parse_http_date(&v).ok()?;
                Some(
                    at.duration_since(std::time::SystemTime::now())
                        .map_or(0, |d| d.as_secs()),
                )
            })
        });
        Ok(Answer {
            status: res.status().as_u16(),
            retry_after,
            hook_secret: header("x-hook-secret"),
        })
    }
}

/// A transport error in a line, without the URL (it is in the delivery log already).
fn describe(e: reqwest::Error) -> String {
    let kind = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "could not connect"
    } else {
        "request failed"
    };
    let mut cause = String::new();
    let mut source = std::error::Error::source(&e);
    while let Some(s) = source {
        cause = s.to_string();
        source = s.source();
    }
    if cause.is_empty() {
        kind.to_owned()
    } else {
        format!("{kind}: {cause}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn names_of_private_addresses_are_refused_at_connection_time() {
        let client = HookClient::new(&HookSettings::default()).unwrap();
        // `localhost` is a name, not a literal: it is the resolver that refuses it.
        let err = client
            .post("https://localhost:9/x", &[], Vec::new())
            .await
            .err()
            .unwrap();
        assert!(err.contains("no public address"), "{err}");
        for refused in [
            "https://127.0.0.1:9/x",
            "https://[::ffff:10.0.0.1]/x",
            "http://example.com/x",
        ] {
            assert!(client.post(refused, &[], Vec::new()).await.is_err(), "{refused}");
        }
    }
}
