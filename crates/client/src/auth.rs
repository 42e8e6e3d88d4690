//! Where the client's bearer tokens come from, and keeping them fresh.
//!
//! A managed token is renewed when less than the refresh-ahead margin of its life is left (at most half
//! its lifetime, so short-lived tokens are not renewed on every call). One renewal runs at a time: callers
//! arriving meanwhile keep using the current token while it is still valid, and wait for the renewal only
//! when it is not.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::PoisonError;
use std::time::{Duration, Instant};

use serde::Deserialize;
use tokio::sync::{Mutex, RwLock};
use url::Url;

use crate::client::join;
use crate::oauth::OAuthClient;
use crate::{answer, Error, Secret};

/// An API-key token whose expiry is this long past is not worth refreshing (the server's leeway is far
/// shorter): sign in again at once.
const STALE_AFTER: Duration = Duration::from_secs(300);

/// The answer of `POST /auth` and `POST /auth/refresh`.
#[derive(Deserialize)]
struct AuthToken {
    access_token: String,
    expires_in: u64,
}

/// A token and when this process received it (monotonic time, so clock skew with the server does not
/// matter).
#[derive(Clone)]
struct Token {
    access: Secret,
    received: Instant,
    lifetime: Option<Duration>,
}

impl Token {
    fn new(access: String, expires_in: Option<u64>) -> Self {
        Self {
            access: Secret::new(access),
            received: Instant::now(),
            lifetime: expires_in.map(Duration::from_secs),
        }
    }

    fn expires(&self) -> Option<Instant> {
        self.lifetime.map(|l| self.received + l)
    }

    fn expired(&self, now: Instant) -> bool {
        self.expires().is_some_and(|e| now >= e)
    }

    /// Whether to renew now: within `ahead` of expiry, but never more than half the lifetime early.
    fn due(&self, now: Instant, ahead: Duration) -> bool {
        match (self.expires(), self.lifetime) {
            (Some(expires), Some(lifetime)) => now + ahead.min(lifetime / 2) >= expires,
            _ => false,
        }
    }

    fn stale(&self, now: Instant) -> bool {
        self.expires().is_some_and(|e| now >= e + STALE_AFTER)
    }
}

pub(crate) enum Source {
    /// `POST /auth` with the key's secret, then `POST /auth/refresh`.
    ApiKey { key_id: String, secret: Secret },
    /// The client credentials grant; no refresh token exists, so renewing is asking again.
    ClientCredentials {
        oauth: Box<OAuthClient>,
        scope: Option<String>,
    },
}

pub(crate) struct Managed {
    source: Source,
    current: RwLock<Option<Token>>,
    renewing: Mutex<()>,
    refresh_ahead: Duration,
    /// Bumped after every renewal attempt, so a caller that waited for one knows it ran.
    attempts: AtomicU64,
    /// How the last renewal failed, for the callers that waited for it.
    last_failure: std::sync::Mutex<Option<Error>>,
}

pub(crate) enum Auth {
    Static(Secret),
    Managed(Box<Managed>),
}

impl Auth {
    pub(crate) fn managed(source: Source, refresh_ahead: Duration) -> Self {
        Auth::Managed(Box::new(Managed {
            source,
            current: RwLock::new(None),
            renewing: Mutex::new(()),
            refresh_ahead,
            attempts: AtomicU64::new(0),
            last_failure: std::sync::Mutex::new(None),
        }))
    }

    /// What to show in `Debug`: the kind of credential and its public id, never a secret.
    pub(crate) fn describe(&self) -> String {
        match self {
            Auth::Static(_) => "AccessToken(..)".into(),
            Auth::Managed(m) => match &m.source {
                Source::ApiKey { key_id, .. } => format!("ApiKey({key_id})"),
                Source::ClientCredentials { oauth, .. } => {
                    format!("ClientCredentials({})", oauth.client_id())
                }
            },
        }
    }

    /// Whether a refused token can be replaced by a new one.
    pub(crate) fn renewable(&self) -> bool {
        matches!(self, Auth::Managed(_))
    }

    /// A bearer token to send now.
    pub(crate) async fn token(&self, http: &reqwest::Client, base: &Url) -> Result<String, Error> {
        match self {
            Auth::Static(t) => Ok(t.expose().to_owned()),
            Auth::Managed(m) => m.token(http, base).await,
        }
    }

    /// The server refused `token` (401): forget it, so the next call starts afresh.
    pub(crate) async fn reject(&self, token: &str) {
        if let Auth::Managed(m) = self {
            let mut current = m.current.write().await;
            if current.as_ref().is_some_and(|t| t.access.expose() == token) {
                *current = None;
            }
        }
    }
}

impl Managed {
    async fn usable(&self, due_ok: bool) -> Option<String> {
        let now = Instant::now();
        let current = self.current.read().await;
        current
            .as_ref()
            .filter(|t| !t.expired(now) && (due_ok || !t.due(now, self.refresh_ahead)))
            .map(|t| t.access.expose().to_owned())
    }

    async fn token(&self, http: &reqwest::Client, base: &Url) -> Result<String, Error> {
        if let Some(t) = self.usable(false).await {
            return Ok(t);
        }
        let attempts = self.attempts.load(Ordering::SeqCst);
        // Due or missing: one renewal at a time.
        let _renewing = match self.renewing.try_lock() {
            Ok(guard) => guard,
            Err(_) => {
                // Another caller is renewing; a token that is still valid serves meanwhile.
                if let Some(t) = self.usable(true).await {
                    return Ok(t);
                }
                self.renewing.lock().await
            }
        };
        // The renewal this caller waited for may have done the work.
        if let Some(t) = self.usable(false).await {
            return Ok(t);
        }
        // Or it failed: share its failure rather than trying again at once, since each wrong secret
        // counts towards a lock-out of the key. (A transport error cannot be copied: that one retries.)
        if self.attempts.load(Ordering::SeqCst) != attempts {
            let shared = {
                let last = self.last_failure.lock().unwrap_or_else(PoisonError::into_inner);
                last.as_ref().and_then(Error::try_clone)
            };
            if let Some(e) = shared {
                return match self.usable(true).await {
                    Some(t) => Ok(t),
                    None => Err(e),
                };
            }
        }
        let current = self.current.read().await.clone();
        let outcome = self.renew(http, base, current.as_ref()).await;
        *self.last_failure.lock().unwrap_or_else(PoisonError::into_inner) =
            outcome.as_ref().err().and_then(Error::try_clone);
        self.attempts.fetch_add(1, Ordering::SeqCst);
        match outcome {
            Ok(fresh) => {
                let access = fresh.access.expose().to_owned();
                *self.current.write().await = Some(fresh);
                Ok(access)
            }
            // A failed early renewal is retried on a later call; the current token still works.
            Err(e) => match current {
                Some(t) if !t.expired(Instant::now()) => Ok(t.access.expose().to_owned()),
                _ => Err(e),
            },
        }
    }

    async fn renew(
        &self,
        http: &reqwest::Client,
        base: &Url,
        current: Option<&Token>,
    ) -> Result<Token, Error> {
        match &self.source {
            Source::ApiKey { key_id, secret } => {
                if let Some(t) = current.filter(|t| !t.stale(Instant::now())) {
                    match refresh(http, base, key_id, t.access.expose()).await {
                        Ok(t) => return Ok(t),
                        // token_expired, session_expired, invalid_token: start a new session.
                        Err(Error::Unauthorized { .. }) => {}
                        Err(e) => return Err(e),
                    }
                }
                sign_in(http, base, key_id, secret.expose()).await
            }
            Source::ClientCredentials { oauth, scope } => {
                let t = oauth.client_credentials(scope.as_deref()).await?;
                Ok(Token::new(t.access_token, t.expires_in))
            }
        }
    }
}

/// `POST /auth`: the key's secret for a token, starting a session.
async fn sign_in(http: &reqwest::Client, base: &Url, key_id: &str, secret: &str) -> Result<Token, Error> {
    let body = serde_json::json!({ "secret": secret });
    let res = http
        .post(join(base, &["auth"]))
        .header("x-api-key", key_id)
        .json(&body)
        .send()
        .await
        .map_err(Error::Transport)?;
    let t: AuthToken = answer::json(res).await?;
    Ok(Token::new(t.access_token, Some(t.expires_in)))
}

/// `POST /auth/refresh`: the current token for a new one in the same session.
async fn refresh(http: &reqwest::Client, base: &Url, key_id: &str, token: &str) -> Result<Token, Error> {
    let res = http
        .post(join(base, &["auth", "refresh"]))
        .header("x-api-key", key_id)
        .bearer_auth(token)
        .send()
        .await
        .map_err(Error::Transport)?;
    let t: AuthToken = answer::json(res).await?;
    Ok(Token::new(t.access_token, Some(t.expires_in)))
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpListener;

    use super::*;

    #[test]
    fn renewal_is_due_within_the_margin_but_never_before_half_life() {
        let t = Token::new("t".into(), Some(3600));
        let at = |secs| t.received + Duration::from_secs(secs);
        let ahead = Duration::from_secs(60);
        assert!(!t.due(at(0), ahead));
        assert!(!t.due(at(3539), ahead));
        assert!(t.due(at(3540), ahead));
        assert!(!t.expired(at(3599)) && t.expired(at(3600)));
        assert!(!t.stale(at(3600 + 299)) && t.stale(at(3600 + 300)));

        let short = Token::new("t".into(), Some(10));
        let at = |secs| short.received + Duration::from_secs(secs);
        assert!(!short.due(at(4), ahead), "half of a short life is used first");
        assert!(short.due(at(5), ahead));

        let unknown = Token::new("t".into(), None);
        assert!(!unknown.due(unknown.received + Duration::from_secs(1 << 30), ahead));
    }

    /// A loopback stub that answers every request, slowly, with `status` and `body`; returns its URL and
    /// a count of the requests it got.
    async fn stub(status: &'static str, body: &'static str) -> (Url, Arc<AtomicU64>) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = Url::parse(&format!("http://{}", listener.local_addr().unwrap())).unwrap();
        let count = Arc::new(AtomicU64::new(0));
        let seen = count.clone();
        tokio::spawn(async move {
            while let Ok((mut conn, _)) = listener.accept().await {
                let seen = seen.clone();
                tokio::spawn(async move {
                    let mut buf = Vec::new();
                    let mut chunk = [0u8; 1024];
                    // Headers, then as much body as Content-Length says.
                    let body_start = loop {
                        let n = conn.read(&mut chunk).await.unwrap_or(0);
                        if n == 0 {
                            return;
                        }
                        buf.extend_from_slice(&chunk[..n]);
                        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                            break i + 4;
                        }
                    };
                    let head = String::from_utf8_lossy(&buf[..body_start]).to_ascii_lowercase();
                    let length: usize = head
                        .lines()
                        .find_map(|l| l.strip_prefix("content-length:"))
                        .and_then(|v| v.trim().parse().ok())
                        .unwrap_or(0);
                    while buf.len() < body_start + length {
                        let n = conn.read(&mut chunk).await.unwrap_or(0);
                        if n == 0 {
                            break;
                        }
                        buf.extend_from_slice(&chunk[..n]);
                    }
                    seen.fetch_add(1, Ordering::SeqCst);
                    tokio::time::sleep(Duration::from_millis(200)).await;
                    let res = format!(
                        "HTTP/1.1 {status}\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\
                         connection: close\r\n\r\n{body}",
                        body.len()
                    );
                    let _ = conn.write_all(res.as_bytes()).await;
                });
            }
        });
        (url, count)
    }

    fn api_key_auth() -> Auth {
        let source = Source::ApiKey {
            key_id: "kgk_test".into(),
            secret: Secret::new("kgsk_test".into()),
        };
        Auth::managed(source, Duration::from_secs(60))
    }

    async fn at_once(auth: &Arc<Auth>, base: &Url, n: usize) -> Vec<Result<String, Error>> {
        let http = crate::client::default_http(Duration::from_secs(5)).unwrap();
        let tasks: Vec<_> = (0..n)
            .map(|_| {
                let (auth, http, base) = (auth.clone(), http.clone(), base.clone());
                tokio::spawn(async move { auth.token(&http, &base).await })
            })
            .collect();
        let mut out = Vec::new();
        for t in tasks {
            out.push(t.await.unwrap());
        }
        out
    }

    #[tokio::test]
    async fn concurrent_callers_share_one_sign_in() {
        let (base, count) = stub(
            "200 OK",
            r#"{"access_token":"tok","token_type":"Bearer","expires_in":3600,"expires_at":1,"scope":"x"}"#,
        )
        .await;
        let auth = Arc::new(api_key_auth());
        for r in at_once(&auth, &base, 8).await {
            assert_eq!(r.unwrap(), "tok");
        }
        assert_eq!(
            count.load(Ordering::SeqCst),
            1,
            "one POST /auth for eight callers"
        );
    }

    #[tokio::test]
    async fn callers_waiting_on_a_failed_sign_in_share_its_failure() {
        let (base, count) = stub(
            "401 Unauthorized",
            r#"{"type":"urn:keygate:problem:invalid-credentials","title":"Invalid credentials","status":401,"detail":"the API key or its secret is invalid","error":"invalid_credentials"}"#,
        )
        .await;
        let auth = Arc::new(api_key_auth());
        for r in at_once(&auth, &base, 8).await {
            let e = r.unwrap_err();
            assert!(matches!(e, Error::Unauthorized { .. }), "{e:?}");
            assert_eq!(e.code(), Some("invalid_credentials"));
        }
        assert_eq!(
            count.load(Ordering::SeqCst),
            1,
            "a wrong secret is tried once, not once per caller (each try counts towards a lock-out)"
        );
    }
}
