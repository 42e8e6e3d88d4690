//! The client: one base URL, one credential, and the plumbing every typed call goes through.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use reqwest::header::{HeaderMap, HeaderName, HeaderValue, CONTENT_TYPE};
use reqwest::{Method, Response};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use url::Url;

use crate::auth::{Auth, Source};
use crate::contacts::Contacts;
use crate::hooks::Hooks;
use crate::oauth::OAuthClient;
use crate::{answer, Error, Secret};

/// How long before a managed token expires the client renews it, unless told otherwise.
pub const DEFAULT_REFRESH_AHEAD: Duration = Duration::from_secs(60);
/// How long one request may take, unless told otherwise.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

/// A Keygate API client: cheap to clone (clones share the connection pool and the token), safe to use
/// from many tasks at once.
///
/// Build one with [`Client::builder`] and exactly one credential:
///
/// - [`ClientBuilder::api_key`]: an API key and its secret (server-side integrations). The client
///   obtains a token at first use, refreshes it shortly before it expires, signs in again when the
///   session has ended, and retries a call once with a new token if the server refused the old one.
/// - [`ClientBuilder::oauth_client_credentials`]: an app's own token (client credentials grant), asked
///   for again before it expires.
/// - [`ClientBuilder::access_token`]: a token you manage yourself (for instance a user's, from
///   [`OAuthClient::exchange_code`]); used as is.
///
/// ```no_run
/// # async fn example() -> Result<(), keygate_client::Error> {
/// use keygate_client::Client;
///
/// let client = Client::builder("https://keygate.example.com")
///     .api_key("kgk_3q7…", std::env::var("KEYGATE_SECRET").unwrap_or_default())
///     .build()?;
/// let me = client.me().await?;
/// println!("acting for account {} with scope {}", me.account, me.scope);
/// # Ok(())
/// # }
/// ```
///
/// `Debug` shows the base URL and the credential's public id, never a secret or a token.
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

pub(crate) struct Inner {
    http: reqwest::Client,
    base: Url,
    auth: Auth,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("base_url", &self.inner.base.as_str())
            .field("credential", &self.inner.auth.describe())
            .finish()
    }
}

enum Credential {
    AccessToken(Secret),
    ApiKey {
        key_id: String,
        secret: Secret,
    },
    ClientCredentials {
        client_id: String,
        secret: Secret,
        scope: String,
    },
}

/// Sets up a [`Client`]; see [`Client::builder`].
#[must_use]
pub struct ClientBuilder {
    base_url: String,
    credentials: Vec<Credential>,
    refresh_ahead: Duration,
    timeout: Duration,
    http: Option<reqwest::Client>,
}

impl fmt::Debug for ClientBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientBuilder")
            .field("base_url", &self.base_url)
            .field("credentials", &self.credentials.len())
            .field("refresh_ahead", &self.refresh_ahead)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

impl ClientBuilder {
    /// Authenticates with an API key (`kgk_…`) and its secret (`kgsk_…`) through `POST /auth`, and
    /// keeps the token fresh with `POST /auth/refresh`.
    pub fn api_key(mut self, key_id: impl Into<String>, secret: impl Into<String>) -> Self {
        self.credentials.push(Credential::ApiKey {
            key_id: key_id.into(),
            secret: Secret::new(secret.into()),
        });
        self
    }

    /// Authenticates as an app owned by an account, with the client credentials grant. An empty `scope`
    /// asks for every scope the app may have.
    pub fn oauth_client_credentials(
        mut self,
        client_id: impl Into<String>,
        client_secret: impl Into<String>,
        scope: impl Into<String>,
    ) -> Self {
        self.credentials.push(Credential::ClientCredentials {
            client_id: client_id.into(),
            secret: Secret::new(client_secret.into()),
            scope: scope.into(),
        });
        self
    }

    /// Sends this bearer token as it is; when it expires, calls fail with [`Error::Unauthorized`].
    pub fn access_token(mut self, token: impl Into<String>) -> Self {
        self.credentials
            .push(Credential::AccessToken(Secret::new(token.into())));
        self
    }

    /// How long before expiry a managed token is renewed (default [`DEFAULT_REFRESH_AHEAD`]); never
    /// earlier than half the token's lifetime.
    pub fn refresh_ahead(mut self, margin: Duration) -> Self {
        self.refresh_ahead = margin;
        self
    }

    /// How long one request may take (default [`DEFAULT_TIMEOUT`]). Ignored with [`Self::http_client`].
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Uses this HTTP client (proxies, custom roots, …) instead of the default one. It should not follow
    /// redirects. (rustls's aws-lc-rs provider is installed by [`Client::builder`], so a
    /// `reqwest::Client` built after it works.)
    pub fn http_client(mut self, http: reqwest::Client) -> Self {
        self.http = Some(http);
        self
    }

    /// The client, or [`Error::Config`] for a base URL that is not an `http(s)` URL, or for no credential
    /// or more than one.
    pub fn build(self) -> Result<Client, Error> {
        let base = base_url(&self.base_url)?;
        let http = match self.http {
            Some(http) => http,
            None => default_http(self.timeout)?,
        };
        let mut credentials = self.credentials;
        if credentials.len() != 1 {
            return Err(Error::Config(format!(
                "set exactly one credential (api_key, oauth_client_credentials or access_token), not {}",
                credentials.len()
            )));
        }
        let auth = match credentials.remove(0) {
            Credential::AccessToken(t) => Auth::Static(t),
            Credential::ApiKey { key_id, secret } => {
                Auth::managed(Source::ApiKey { key_id, secret }, self.refresh_ahead)
            }
            Credential::ClientCredentials {
                client_id,
                secret,
                scope,
            } => {
                let oauth = OAuthClient::from_parts(http.clone(), base.clone(), client_id, Some(secret));
                let scope = Some(scope).filter(|s| !s.trim().is_empty());
                Auth::managed(
                    Source::ClientCredentials {
                        oauth: Box::new(oauth),
                        scope,
                    },
                    self.refresh_ahead,
                )
            }
        };
        Ok(Client {
            inner: Arc::new(Inner { http, base, auth }),
        })
    }
}

/// The base URL without a trailing slash, checked.
pub(crate) fn base_url(raw: &str) -> Result<Url, Error> {
    let url = Url::parse(raw.trim()).map_err(|e| Error::Config(format!("base URL {raw:?}: {e}")))?;
    if !matches!(url.scheme(), "http" | "https") || url.cannot_be_a_base() {
        return Err(Error::Config(format!("base URL {raw:?} must be an http(s) URL")));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(Error::Config(format!(
            "base URL {raw:?} must have no query or fragment"
        )));
    }
    Ok(url)
}

/// rustls on aws-lc-rs with Mozilla's roots; no redirects (a redirect would carry the token elsewhere).
pub(crate) fn default_http(timeout: Duration) -> Result<reqwest::Client, Error> {
    install_crypto();
    reqwest::Client::builder()
        .use_rustls_tls()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(timeout)
        .user_agent(concat!("keygate-client/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| Error::Config(format!("the HTTP client: {e}")))
}

/// Installs aws-lc-rs as the process's rustls provider, unless one is installed already (whoever
/// installs first wins).
pub(crate) fn install_crypto() {
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
}

/// `base` with `segments` appended, each percent-encoded as one path segment.
pub(crate) fn join(base: &Url, segments: &[&str]) -> Url {
    let mut url = base.clone();
    if let Ok(mut path) = url.path_segments_mut() {
        path.pop_if_empty().extend(segments);
    }
    url
}

/// The caller as Keygate sees it (`GET /v1/me`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Me {
    /// The account (tenant) the token acts in.
    pub account: String,
    /// The user acted as; `None` when acting as the account (service keys, client credentials).
    pub user_id: Option<String>,
    /// `user` or `account`.
    pub acting_as: String,
    /// `oauth_app`, `api_key`, `domain_key`, …
    pub credential: String,
    /// The client id, key id or user id of the credential.
    pub credential_id: String,
    /// Space-separated scopes.
    pub scope: String,
    /// Unix time; `None` for credentials presented with each request.
    #[serde(default)]
    pub expires_at: Option<i64>,
}

/// A request, kept whole so it can be sent again with a new token.
pub(crate) struct Call {
    pub method: Method,
    pub url: Url,
    pub body: Option<Vec<u8>>,
    pub headers: Vec<(HeaderName, HeaderValue)>,
}

impl Call {
    pub fn new(method: Method, url: Url) -> Self {
        Self {
            method,
            url,
            body: None,
            headers: Vec::new(),
        }
    }

    pub fn json(mut self, body: &impl Serialize) -> Result<Self, Error> {
        let bytes = serde_json::to_vec(body).map_err(|e| Error::Decode(format!("the request body: {e}")))?;
        self.body = Some(bytes);
        Ok(self)
    }

    /// A header whose value the caller gave; refused if it cannot be a header value.
    pub fn header(mut self, name: HeaderName, value: &str) -> Result<Self, Error> {
        let value = HeaderValue::from_str(value)
            .map_err(|_| Error::Config(format!("{name} must be a printable header value")))?;
        self.headers.push((name, value));
        Ok(self)
    }
}

impl Client {
    /// Starts setting up a client for the Keygate at `base_url` (its public URL, such as
    /// `https://keygate.example.com`).
    pub fn builder(base_url: impl Into<String>) -> ClientBuilder {
        // Before any `reqwest::Client` the caller builds for `http_client`, which needs a provider.
        install_crypto();
        ClientBuilder {
            base_url: base_url.into(),
            credentials: Vec::new(),
            refresh_ahead: DEFAULT_REFRESH_AHEAD,
            timeout: DEFAULT_TIMEOUT,
            http: None,
        }
    }

    /// The base URL the client talks to.
    pub fn base_url(&self) -> &Url {
        &self.inner.base
    }

    /// The contacts API (`/v1/contacts`, `/v1/emails`).
    pub fn contacts(&self) -> Contacts<'_> {
        Contacts::new(self)
    }

    /// The REST Hooks API (`/v1/hooks`).
    pub fn hooks(&self) -> Hooks<'_> {
        Hooks::new(self)
    }

    /// Who the credential acts as: account, user, scope (`GET /v1/me`).
    pub async fn me(&self) -> Result<Me, Error> {
        self.json(Call::new(Method::GET, self.url(&["v1", "me"]))).await
    }

    /// A bearer token valid now (obtained or renewed if needed), for calls this crate does not wrap.
    /// Treat it as a secret.
    pub async fn access_token(&self) -> Result<String, Error> {
        self.inner.auth.token(&self.inner.http, &self.inner.base).await
    }

    pub(crate) fn url(&self, segments: &[&str]) -> Url {
        join(&self.inner.base, segments)
    }

    /// Sends `call` with a bearer token; on 401 with a managed credential, once more with a new token.
    /// Error statuses come back as [`Error`].
    pub(crate) async fn send(&self, call: Call) -> Result<Response, Error> {
        let inner = &self.inner;
        let mut retried = false;
        loop {
            let token = inner.auth.token(&inner.http, &inner.base).await?;
            let mut req = inner
                .http
                .request(call.method.clone(), call.url.clone())
                .bearer_auth(&token);
            for (name, value) in &call.headers {
                req = req.header(name, value);
            }
            if let Some(body) = &call.body {
                req = req.header(CONTENT_TYPE, "application/json").body(body.clone());
            }
            let res = req.send().await.map_err(Error::Transport)?;
            if res.status() == reqwest::StatusCode::UNAUTHORIZED && !retried && inner.auth.renewable() {
                // Revoked, expired early, or the server's clock runs ahead: a new token, then once more.
                inner.auth.reject(&token).await;
                retried = true;
                continue;
            }
            return answer::check(res).await;
        }
    }

    pub(crate) async fn json<T: DeserializeOwned>(&self, call: Call) -> Result<T, Error> {
        let res = self.send(call).await?;
        let body = res.bytes().await.map_err(Error::Transport)?;
        serde_json::from_slice(&body).map_err(|e| Error::decode("the response body", e))
    }

    /// The body as `T` with the response's headers.
    pub(crate) async fn json_with_headers<T: DeserializeOwned>(
        &self,
        call: Call,
    ) -> Result<(T, HeaderMap, u16), Error> {
        let res = self.send(call).await?;
        let (status, headers) = (res.status().as_u16(), res.headers().clone());
        let body = res.bytes().await.map_err(Error::Transport)?;
        let value = serde_json::from_slice(&body).map_err(|e| Error::decode("the response body", e))?;
        Ok((value, headers, status))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_joined_segment_by_segment() {
        let base = base_url("https://kg.example.com/prefix/").unwrap();
        assert_eq!(
            join(&base, &["v1", "emails", "a b/c@x.io", "status"]).as_str(),
            "https://kg.example.com/prefix/v1/emails/a%20b%2Fc@x.io/status"
        );
        let base = base_url("http://127.0.0.1:8080").unwrap();
        assert_eq!(join(&base, &["auth"]).as_str(), "http://127.0.0.1:8080/auth");
        assert!(base_url("ftp://x").is_err());
        assert!(base_url("https://x/?a=1").is_err());
        assert!(base_url("not a url").is_err());
    }

    #[test]
    fn exactly_one_credential_and_no_secret_in_debug() {
        let err = Client::builder("https://kg.example.com").build().unwrap_err();
        assert!(matches!(err, Error::Config(_)), "{err}");
        let err = Client::builder("https://kg.example.com")
            .access_token("a")
            .api_key("kgk_1", "kgsk_2")
            .build()
            .unwrap_err();
        assert!(matches!(err, Error::Config(_)), "{err}");

        let client = Client::builder("https://kg.example.com")
            .api_key("kgk_visible", "kgsk_HIDDEN")
            .build()
            .unwrap();
        let debug = format!("{client:?}");
        assert!(
            debug.contains("kgk_visible") && !debug.contains("HIDDEN"),
            "{debug}"
        );
        let client = Client::builder("https://kg.example.com")
            .oauth_client_credentials("client123", "kgcs_HIDDEN", "contacts.read")
            .build()
            .unwrap();
        let debug = format!("{client:?}");
        assert!(
            debug.contains("client123") && !debug.contains("HIDDEN"),
            "{debug}"
        );
        let client = Client::builder("https://kg.example.com")
            .access_token("eyJHIDDEN")
            .build()
            .unwrap();
        assert!(!format!("{client:?}").contains("HIDDEN"));
    }
}
