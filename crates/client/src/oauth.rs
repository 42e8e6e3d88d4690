//! OAuth 2 helpers for apps: the authorization URL with `state` and PKCE (S256), the code exchange,
//! refresh (with rotation), client credentials and revocation.
//!
//! ```no_run
//! # async fn example(callback_url: &str) -> Result<(), Box<dyn std::error::Error>> {
//! use keygate_client::oauth::OAuthClient;
//! use keygate_client::Client;
//!
//! let oauth = OAuthClient::new("https://keygate.example.com", "my24charclientid00000000")?
//!     .with_secret("kgcs_…");
//! // 1. Send the browser to the authorization URL; keep the request (state and PKCE verifier).
//! let request = oauth.authorization_request("https://app.example.com/cb", "contacts.read")?;
//! println!("open {}", request.url());
//! // 2. The browser comes back to the redirect URI: check it and take the code.
//! let code = request.code_from_callback(callback_url)?;
//! // 3. Exchange the code (once, within a minute) for tokens.
//! let tokens = oauth.exchange_code(&request, &code).await?;
//! let client = Client::builder("https://keygate.example.com")
//!     .access_token(tokens.access_token.clone())
//!     .build()?;
//! // 4. Later: a new access token and a new refresh token; store the new refresh token.
//! let refreshed = oauth
//!     .refresh(tokens.refresh_token.as_deref().unwrap_or_default(), None)
//!     .await?;
//! # let _ = (client, refreshed);
//! # Ok(())
//! # }
//! ```

use std::fmt;
use std::time::Duration;

use reqwest::Method;
use serde::Deserialize;
use url::Url;

use crate::client::{base_url, default_http, join, DEFAULT_TIMEOUT};
use crate::{answer, Error, Secret};

/// How the app proves who it is at the token endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum ClientAuth {
    /// HTTP Basic with the form-urlencoded id and secret (`client_secret_basic`, the default).
    #[default]
    Basic,
    /// `client_id` and `client_secret` in the form body (`client_secret_post`).
    Post,
}

/// The token endpoint's answer.
///
/// `Debug` hides both tokens.
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct TokenResponse {
    /// The access token (a JWT); send it as `Authorization: Bearer`.
    pub access_token: String,
    /// `Bearer`.
    pub token_type: String,
    /// Seconds the access token lives.
    #[serde(default)]
    pub expires_in: Option<u64>,
    /// The scopes granted, space-separated.
    #[serde(default)]
    pub scope: Option<String>,
    /// `kgrt_…`, from the code exchange and each refresh (never from client credentials). Each use spends
    /// it: keep the one the refresh returns.
    #[serde(default)]
    pub refresh_token: Option<String>,
}

impl TokenResponse {
    /// `expires_in` as a duration.
    pub fn lifetime(&self) -> Option<Duration> {
        self.expires_in.map(Duration::from_secs)
    }
}

impl fmt::Debug for TokenResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenResponse")
            .field("access_token", &"[redacted]")
            .field("token_type", &self.token_type)
            .field("expires_in", &self.expires_in)
            .field("scope", &self.scope)
            .field(
                "refresh_token",
                &self.refresh_token.as_ref().map(|_| "[redacted]"),
            )
            .finish()
    }
}

/// An app's side of the token endpoint (`/oauth/token`, `/oauth/revoke`).
///
/// `Debug` shows the client id, never the secret.
#[derive(Clone)]
pub struct OAuthClient {
    http: reqwest::Client,
    base: Url,
    client_id: String,
    secret: Option<Secret>,
    auth: ClientAuth,
}

impl fmt::Debug for OAuthClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OAuthClient")
            .field("base_url", &self.base.as_str())
            .field("client_id", &self.client_id)
            .field("confidential", &self.secret.is_some())
            .field("auth", &self.auth)
            .finish()
    }
}

impl OAuthClient {
    /// A public client (no secret) of the Keygate at `base_url`; add a secret with
    /// [`with_secret`](Self::with_secret) for a confidential app.
    pub fn new(base_url: &str, client_id: impl Into<String>) -> Result<Self, Error> {
        let base = self::base_url(base_url)?;
        Ok(Self::from_parts(
            default_http(DEFAULT_TIMEOUT)?,
            base,
            client_id.into(),
            None,
        ))
    }

    pub(crate) fn from_parts(
        http: reqwest::Client,
        base: Url,
        client_id: String,
        secret: Option<Secret>,
    ) -> Self {
        Self {
            http,
            base,
            client_id,
            secret,
            auth: ClientAuth::default(),
        }
    }

    /// The app's secret (`kgcs_…`): a confidential client.
    #[must_use]
    pub fn with_secret(mut self, secret: impl Into<String>) -> Self {
        self.secret = Some(Secret::new(secret.into()));
        self
    }

    /// `client_secret_basic` (default) or `client_secret_post`.
    #[must_use]
    pub fn with_auth_method(mut self, auth: ClientAuth) -> Self {
        self.auth = auth;
        self
    }

    /// Uses this HTTP client instead of the default one. It should not follow redirects.
    #[must_use]
    pub fn with_http_client(mut self, http: reqwest::Client) -> Self {
        self.http = http;
        self
    }

    pub fn client_id(&self) -> &str {
        &self.client_id
    }

    /// A new authorization request for this app: see [`AuthorizationRequest::new`].
    pub fn authorization_request(
        &self,
        redirect_uri: &str,
        scope: &str,
    ) -> Result<AuthorizationRequest, Error> {
        AuthorizationRequest::at(&self.base, &self.client_id, redirect_uri, scope)
    }

    /// Exchanges the code the browser brought back for tokens, with the request's redirect URI and PKCE
    /// verifier.
    pub async fn exchange_code(
        &self,
        request: &AuthorizationRequest,
        code: &str,
    ) -> Result<TokenResponse, Error> {
        self.exchange_code_with(code, &request.redirect_uri, Some(request.pkce_verifier()))
            .await
    }

    /// As [`exchange_code`](Self::exchange_code), for a web app that kept only the redirect URI and the
    /// verifier (in its session) between sending the browser away and its return.
    pub async fn exchange_code_with(
        &self,
        code: &str,
        redirect_uri: &str,
        pkce_verifier: Option<&str>,
    ) -> Result<TokenResponse, Error> {
        let mut form = vec![
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", redirect_uri),
        ];
        if let Some(v) = pkce_verifier {
            form.push(("code_verifier", v));
        }
        self.token(&form).await
    }

    /// A new access token for a refresh token; the answer carries a new refresh token too, and the old
    /// one is spent. `scope` may narrow this access token (the grant keeps its scope).
    pub async fn refresh(&self, refresh_token: &str, scope: Option<&str>) -> Result<TokenResponse, Error> {
        let mut form = vec![("grant_type", "refresh_token"), ("refresh_token", refresh_token)];
        if let Some(s) = scope {
            form.push(("scope", s));
        }
        self.token(&form).await
    }

    /// A token for the app itself, acting for the account that owns it (client credentials grant).
    pub async fn client_credentials(&self, scope: Option<&str>) -> Result<TokenResponse, Error> {
        let mut form = vec![("grant_type", "client_credentials")];
        if let Some(s) = scope {
            form.push(("scope", s));
        }
        self.token(&form).await
    }

    /// Revokes an access token, or a refresh token with its whole grant (RFC 7009).
    pub async fn revoke(&self, token: &str) -> Result<(), Error> {
        let res = self.post(&["oauth", "revoke"], &[("token", token)]).await?;
        answer::check(res).await.map(drop)
    }

    async fn token(&self, form: &[(&str, &str)]) -> Result<TokenResponse, Error> {
        let res = self.post(&["oauth", "token"], form).await?;
        answer::json(res).await
    }

    async fn post(&self, path: &[&str], form: &[(&str, &str)]) -> Result<reqwest::Response, Error> {
        let mut form: Vec<(&str, &str)> = form.to_vec();
        let mut req = self.http.request(Method::POST, join(&self.base, path));
        match (&self.secret, self.auth) {
            (Some(secret), ClientAuth::Basic) => {
                // RFC 6749 §2.3.1: both parts form-urlencoded before Basic encodes them.
                let enc = |s: &str| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
                req = req.basic_auth(enc(&self.client_id), Some(enc(secret.expose())));
            }
            (Some(secret), ClientAuth::Post) => {
                form.push(("client_id", &self.client_id));
                form.push(("client_secret", secret.expose()));
            }
            (None, _) => form.push(("client_id", &self.client_id)),
        }
        let body = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(&form)
            .finish();
        req.header(reqwest::header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(body)
            .send()
            .await
            .map_err(Error::Transport)
    }
}

/// One authorization: the URL to send the browser to, with a random `state` and a PKCE S256 challenge,
/// and what the callback and the code exchange need (the state, the verifier, the redirect URI).
///
/// `Debug` hides the PKCE verifier.
#[derive(Clone)]
pub struct AuthorizationRequest {
    url: Url,
    state: String,
    verifier: Secret,
    redirect_uri: String,
    issuer: String,
}

impl fmt::Debug for AuthorizationRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AuthorizationRequest")
            .field("url", &self.url.as_str())
            .field("redirect_uri", &self.redirect_uri)
            .finish_non_exhaustive()
    }
}

/// Why an authorization callback was not accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CallbackError {
    /// The callback URL could not be parsed.
    #[error("the callback URL is not a URL")]
    InvalidUrl,
    /// `state` is missing or not this request's: the response belongs to another request (or forgery).
    #[error("the callback's state does not match the request's")]
    StateMismatch,
    /// `iss` names another server than the one asked (RFC 9207 mix-up defence).
    #[error("the callback comes from issuer {found:?}, not {expected:?}")]
    IssuerMismatch { expected: String, found: String },
    /// The user denied (`access_denied`) or the request was refused (`invalid_scope`, …).
    #[error("authorization refused: {error}{}", .description.as_deref().map(|d| format!(": {d}")).unwrap_or_default())]
    Refused {
        error: String,
        description: Option<String>,
    },
    /// Neither a code nor an error came back.
    #[error("the callback carries no code")]
    MissingCode,
}

impl AuthorizationRequest {
    /// The authorization URL of the Keygate at `base_url` for the app `client_id`, returning to
    /// `redirect_uri` (registered for the app) with `scope` (space-separated; empty for every scope the
    /// app may have). A fresh random `state` and PKCE verifier are made; the challenge is S256.
    ///
    /// ```
    /// use keygate_client::oauth::AuthorizationRequest;
    ///
    /// let req = AuthorizationRequest::new(
    ///     "https://keygate.example.com",
    ///     "my24charclientid00000000",
    ///     "https://app.example.com/cb",
    ///     "contacts.read",
    /// )?;
    /// let url = req.url().as_str();
    /// assert!(url.starts_with("https://keygate.example.com/oauth/authorize?response_type=code&"));
    /// assert!(url.contains("&code_challenge_method=S256"));
    /// assert!(url.contains(&format!("&state={}", req.state())));
    ///
    /// // The browser comes back with the code and the same state:
    /// let back = format!("https://app.example.com/cb?code=kgac_x&state={}", req.state());
    /// assert_eq!(req.code_from_callback(&back)?, "kgac_x");
    /// assert!(req.code_from_callback("https://app.example.com/cb?code=kgac_x&state=forged").is_err());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn new(base_url: &str, client_id: &str, redirect_uri: &str, scope: &str) -> Result<Self, Error> {
        Self::at(&self::base_url(base_url)?, client_id, redirect_uri, scope)
    }

    fn at(base: &Url, client_id: &str, redirect_uri: &str, scope: &str) -> Result<Self, Error> {
        Url::parse(redirect_uri).map_err(|e| Error::Config(format!("redirect URI {redirect_uri:?}: {e}")))?;
        let state = keygate_core::crypto::random_token::<16>();
        // 32 random bytes: a 43-character base64url verifier, as RFC 7636 recommends.
        let verifier = keygate_core::crypto::random_token::<32>();
        let challenge = keygate_core::pkce::s256_challenge(&verifier);
        let mut url = join(base, &["oauth", "authorize"]);
        {
            let mut q = url.query_pairs_mut();
            q.append_pair("response_type", "code")
                .append_pair("client_id", client_id)
                .append_pair("redirect_uri", redirect_uri);
            if !scope.trim().is_empty() {
                q.append_pair("scope", scope.trim());
            }
            q.append_pair("state", &state)
                .append_pair("code_challenge", &challenge)
                .append_pair("code_challenge_method", "S256");
        }
        Ok(Self {
            url,
            state,
            verifier: Secret::new(verifier),
            redirect_uri: redirect_uri.to_owned(),
            issuer: base.as_str().trim_end_matches('/').to_owned(),
        })
    }

    /// Expects this issuer in the callback's `iss` instead of the base URL (when Keygate's
    /// `tokens.issuer` differs from the URL you reach it at).
    #[must_use]
    pub fn with_issuer(mut self, issuer: impl Into<String>) -> Self {
        self.issuer = issuer.into();
        self
    }

    /// Where to send the browser.
    pub fn url(&self) -> &Url {
        &self.url
    }

    /// The random `state`, which the callback must bring back.
    pub fn state(&self) -> &str {
        &self.state
    }

    /// The PKCE verifier the code exchange proves possession with. Keep it secret (server-side session).
    pub fn pkce_verifier(&self) -> &str {
        self.verifier.expose()
    }

    pub fn redirect_uri(&self) -> &str {
        &self.redirect_uri
    }

    /// Checks the URL the browser came back to (state, and issuer when present) and returns the code,
    /// or why there is none.
    pub fn code_from_callback(&self, callback_url: &str) -> Result<String, CallbackError> {
        let url = Url::parse(callback_url).map_err(|_| CallbackError::InvalidUrl)?;
        let param = |name: &str| {
            url.query_pairs()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.into_owned())
        };
        let state_ok =
            param("state").is_some_and(|s| crate::constant_time_eq(s.as_bytes(), self.state.as_bytes()));
        if !state_ok {
            return Err(CallbackError::StateMismatch);
        }
        if let Some(iss) = param("iss") {
            if iss.trim_end_matches('/') != self.issuer.trim_end_matches('/') {
                return Err(CallbackError::IssuerMismatch {
                    expected: self.issuer.clone(),
                    found: iss,
                });
            }
        }
        if let Some(error) = param("error") {
            return Err(CallbackError::Refused {
                error,
                description: param("error_description"),
            });
        }
        param("code")
            .filter(|c| !c.is_empty())
            .ok_or(CallbackError::MissingCode)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_authorization_url_carries_state_and_an_s256_challenge() {
        let req = AuthorizationRequest::new(
            "https://kg.example.com/",
            "abc",
            "http://127.0.0.1:9/cb",
            " contacts.read hooks ",
        )
        .unwrap();
        let pairs: Vec<(String, String)> = req.url().query_pairs().into_owned().collect();
        let get = |k: &str| pairs.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
        assert_eq!(req.url().path(), "/oauth/authorize");
        assert_eq!(get("response_type"), Some("code"));
        assert_eq!(get("client_id"), Some("abc"));
        assert_eq!(get("redirect_uri"), Some("http://127.0.0.1:9/cb"));
        assert_eq!(get("scope"), Some("contacts.read hooks"));
        assert_eq!(get("state"), Some(req.state()));
        assert_eq!(get("code_challenge_method"), Some("S256"));
        assert_eq!(
            get("code_challenge").map(str::to_owned),
            Some(keygate_core::pkce::s256_challenge(req.pkce_verifier()))
        );
        assert!(keygate_core::pkce::validate_verifier(req.pkce_verifier()).is_ok());
        assert!(!format!("{req:?}").contains(req.pkce_verifier()));

        let other =
            AuthorizationRequest::new("https://kg.example.com", "abc", "https://a.example/cb", "").unwrap();
        assert_ne!(other.state(), req.state());
        assert!(
            !other.url().as_str().contains("scope="),
            "empty scope: all of the app's"
        );
    }

    #[test]
    fn callbacks_are_checked() {
        let req =
            AuthorizationRequest::new("https://kg.example.com", "abc", "https://a.example/cb", "").unwrap();
        let s = req.state().to_owned();
        let cb = |q: &str| req.code_from_callback(&format!("https://a.example/cb?{q}"));
        assert_eq!(
            cb(&format!("code=kgac_1&state={s}&iss=https%3A%2F%2Fkg.example.com")),
            Ok("kgac_1".into())
        );
        assert_eq!(cb("code=kgac_1&state=nope"), Err(CallbackError::StateMismatch));
        assert_eq!(cb("code=kgac_1"), Err(CallbackError::StateMismatch));
        assert!(matches!(
            cb(&format!("code=kgac_1&state={s}&iss=https%3A%2F%2Fevil.example")),
            Err(CallbackError::IssuerMismatch { .. })
        ));
        assert_eq!(
            cb(&format!("error=access_denied&state={s}")),
            Err(CallbackError::Refused {
                error: "access_denied".into(),
                description: None
            })
        );
        assert_eq!(cb(&format!("state={s}")), Err(CallbackError::MissingCode));
        assert_eq!(req.code_from_callback("::"), Err(CallbackError::InvalidUrl));
        let req = req.with_issuer("https://issuer.example");
        assert!(req
            .code_from_callback(&format!(
                "https://a.example/cb?code=c&state={s}&iss=https%3A%2F%2Fissuer.example"
            ))
            .is_ok());
    }

    #[test]
    fn token_responses_hide_their_tokens() {
        let t: TokenResponse = serde_json::from_str(
            r#"{"access_token":"eyJSECRET","token_type":"Bearer","expires_in":3600,"scope":"contacts.read","refresh_token":"kgrt_SECRET"}"#,
        )
        .unwrap();
        assert_eq!(t.lifetime(), Some(Duration::from_secs(3600)));
        assert!(!format!("{t:?}").contains("SECRET"));
    }
}
