//! Where `keygate admin` sends its requests: the admin API of a running server (`--server URL`, with an
//! admin token), or the very same API in process over the configured database. Commands are written once,
//! as admin API calls, so the two modes cannot drift apart.

use axum::body::Body;
use axum::http::{header, Method, Request};
use keygate_server::routes::admin::Admin;
use serde_json::Value;
use tower::ServiceExt;

pub enum Transport {
    Local(axum::Router),
    Remote {
        http: reqwest::Client,
        base: String,
        token: String,
    },
}

impl Transport {
    pub fn remote(base: &str, token: String) -> Result<Self, String> {
        // rustls on aws-lc-rs, the crypto library the rest of Keygate already uses.
        let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
        let http = reqwest::Client::builder()
            .user_agent(concat!("keygate-cli/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| format!("cannot build an HTTP client: {e}"))?;
        let base = base.trim_end_matches('/').to_owned();
        if !(base.starts_with("https://") || base.starts_with("http://")) {
            return Err("--server must be an http(s) URL, like https://keygate.example.com".into());
        }
        Ok(Self::Remote { http, base, token })
    }

    /// Calls the admin API; a 2xx answer's JSON (`Null` when empty), or the problem's detail.
    pub async fn call(&self, method: Method, path: &str, body: Option<Value>) -> Result<Value, String> {
        let body = body.map(|b| b.to_string());
        let (status, text) = match self {
            Transport::Local(router) => {
                let mut req = Request::builder().method(method).uri(path);
                if body.is_some() {
                    req = req.header(header::CONTENT_TYPE, "application/json");
                }
                let mut req = req
                    .body(Body::from(body.unwrap_or_default()))
                    .map_err(|e| e.to_string())?;
                req.extensions_mut().insert(Admin::cli());
                let res = router.clone().oneshot(req).await.map_err(|e| e.to_string())?;
                let status = res.status().as_u16();
                let bytes = axum::body::to_bytes(res.into_body(), usize::MAX)
                    .await
                    .map_err(|e| e.to_string())?;
                (status, String::from_utf8_lossy(&bytes).into_owned())
            }
            Transport::Remote { http, base, token } => {
                let mut req = http.request(method, format!("{base}{path}")).bearer_auth(token);
                if let Some(b) = body {
                    req = req.header(header::CONTENT_TYPE, "application/json").body(b);
                }
                let res = req
                    .send()
                    .await
                    .map_err(|e| format!("cannot reach {base}: {e}"))?;
                let status = res.status().as_u16();
                (status, res.text().await.map_err(|e| e.to_string())?)
            }
        };
        let value = serde_json::from_str(&text).unwrap_or(Value::Null);
        if (200..300).contains(&status) {
            return Ok(value);
        }
        Err(value["detail"]
            .as_str()
            .map(str::to_owned)
            .unwrap_or_else(|| format!("the server answered {status}")))
    }
}
