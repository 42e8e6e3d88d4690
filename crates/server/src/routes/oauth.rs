//! `POST /oauth/token`, `/oauth/revoke`, `/oauth/introspect`.

use axum::extract::State;
use axum::http::{header, HeaderMap};
use axum::response::{IntoResponse, Response};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use keygate_lib::lockout::Attempt;
use keygate_lib::oauth::assertion;
use keygate_lib::oauth::client_auth::{AuthMethod, AuthenticatedClient, PresentedClient};
use keygate_lib::oauth::exchange::{self, ExchangeRequest};
use keygate_lib::oauth::grants::GrantRequest;
use keygate_lib::{Keygate, OAuthError, OAuthErrorCode};

use crate::client_addr::ClientAddr;
use crate::error::{no_store, refusal, OAuthErrorResponse};
use crate::extract::OAuthForm;
use crate::json::Json;
use crate::metrics::IssuedBy;
use crate::openapi::examples;
use crate::openapi::responses as r;
use crate::openapi::schemas::{TokenEndpointResponse, TokenForm, TokenRequest};
use crate::routes::table::Routes;
use crate::state::AppState;

pub fn router() -> Routes {
    Routes::new()
        .post("/oauth/token", token)
        .post("/oauth/revoke", revoke)
        .post("/oauth/introspect", introspect)
}

/// RFC 6749 §2.3.1: Basic credentials are form-urlencoded before base64, so decode both halves.
fn form_decode(s: &str) -> Option<String> {
    let plus_as_space = s.replace('+', " ");
    percent_encoding::percent_decode_str(&plus_as_space)
        .decode_utf8()
        .ok()
        .map(|c| c.into_owned())
}

fn basic_credentials(headers: &HeaderMap) -> Result<Option<(String, String)>, OAuthError> {
    let Some(value) = headers.get(header::AUTHORIZATION) else {
        return Ok(None);
    };
    let bad = || OAuthError::invalid_client("the Authorization header is not valid Basic credentials");
    let value = value.to_str().map_err(|_| bad())?;
    let Some((scheme, encoded)) = value.split_once(' ') else {
        return Err(bad());
    };
    if !scheme.eq_ignore_ascii_case("basic") {
        return Err(bad());
    }
    let decoded = STANDARD.decode(encoded.trim()).map_err(|_| bad())?;
    let text = String::from_utf8(decoded).map_err(|_| bad())?;
    let (id, secret) = text.split_once(':').ok_or_else(bad)?;
    Ok(Some((
        form_decode(id).ok_or_else(bad)?,
        form_decode(secret).ok_or_else(bad)?,
    )))
}

/// Who the client says it is, by exactly one method.
fn presented_client(headers: &HeaderMap, form: &mut OAuthForm) -> Result<PresentedClient, OAuthError> {
    let body_id = form.take("client_id");
    let body_secret = form.take("client_secret");
    match (basic_credentials(headers)?, body_id, body_secret) {
        (Some(_), _, Some(_)) => Err(OAuthError::invalid_request(
            "use one client authentication method, not two",
        )),
        (Some((id, _)), Some(other), None) if other != id => Err(OAuthError::invalid_request(
            "client_id in the body differs from the Basic credentials",
        )),
        (Some((id, secret)), _, None) => Ok(PresentedClient {
            client_id: id,
            secret: Some(secret),
            method: AuthMethod::ClientSecretBasic,
        }),
        (None, Some(id), Some(secret)) => Ok(PresentedClient {
            client_id: id,
            secret: Some(secret),
            method: AuthMethod::ClientSecretPost,
        }),
        (None, Some(id), None) => Ok(PresentedClient {
            client_id: id,
            secret: None,
            method: AuthMethod::None,
        }),
        (None, None, _) => Err(OAuthError::invalid_client("client authentication is required")),
    }
}

/// Client authentication at every OAuth endpoint, within the client's rate limit and lock-out.
async fn authenticate(
    s: &AppState,
    addr: Option<std::net::IpAddr>,
    client: &PresentedClient,
) -> Result<AuthenticatedClient, OAuthErrorResponse> {
    s.rate_limits.check("oauth_app", &client.client_id)?;
    let attempt = Attempt::from(addr).client(&client.client_id);
    let kg = &s.keygate;
    let guess = |e: &OAuthError| e.code == OAuthErrorCode::InvalidClient;
    kg.guarded(&attempt, kg.authenticate_client(client), guess)
        .await
        .map_err(|g| refusal(g, OAuthErrorResponse::from))
}

/// Issues tokens.
///
/// The token endpoint (RFC 6749 §3.2): `authorization_code`, `refresh_token`, `client_credentials`, JWT
/// bearer assertions (RFC 7523) and token exchange (RFC 8693). Client authentication: HTTP Basic
/// (`client_secret_basic`) or `client_id` and `client_secret` in the body (`client_secret_post`); public
/// clients send `client_id` alone; assertions and token exchange need none.
#[utoipa::path(
    post,
    path = "/oauth/token",
    tag = "oauth",
    request_body(content = TokenRequest, content_type = "application/x-www-form-urlencoded"),
    security(("basic" = []), ()),
    responses(
        (status = 200, description = "Tokens (RFC 6749 §5.1; RFC 8693 §2.2.1 for a token exchange)", body = TokenEndpointResponse,
            headers(("Cache-Control" = String, description = "`no-store`"), ("Pragma" = String, description = "`no-cache`")),
            examples(
                ("client_credentials" = (value = json!(examples::token_response()))),
                ("authorization_code" = (value = json!(examples::code_token_response()))),
            )),
        (status = 400, response = r::OAuthBadRequest),
        (status = 401, response = r::OAuthUnauthorized),
        (status = 429, response = r::OAuthTooManyRequests),
    )
)]
pub(crate) async fn token(
    State(s): State<AppState>,
    ClientAddr(addr): ClientAddr,
    headers: HeaderMap,
    mut form: OAuthForm,
) -> Result<Response, OAuthErrorResponse> {
    if form.get("grant_type") == Some(exchange::GRANT_TYPE) {
        return token_exchange(s, addr, headers, form).await;
    }
    if form.get("grant_type") == Some(assertion::GRANT_TYPE) {
        // RFC 7523 §3: the signed assertion itself authenticates the caller, so the attempt is charged to
        // the API key it names.
        let jwt = form.require("assertion")?;
        let issuer = Keygate::assertion_issuer(&jwt).unwrap_or_default();
        s.rate_limits.check("api_key", &issuer)?;
        let attempt = Attempt::from(addr).api_key(&issuer);
        let guess = |e: &OAuthError| {
            matches!(
                e.code,
                OAuthErrorCode::InvalidGrant | OAuthErrorCode::InvalidClient
            )
        };
        let response = s
            .keygate
            .guarded(&attempt, s.keygate.jwt_bearer(&jwt), guess)
            .await
            .map_err(|g| refusal(g, OAuthErrorResponse::from))?;
        s.metrics.token_issued(IssuedBy::JwtBearer);
        return Ok((no_store(), Json(response)).into_response());
    }
    let client = presented_client(&headers, &mut form)?;
    let grant_type = form.require("grant_type")?;
    let request = match grant_type.as_str() {
        "authorization_code" => GrantRequest::AuthorizationCode {
            code: form.require("code")?,
            redirect_uri: form.take("redirect_uri"),
            code_verifier: form.take("code_verifier"),
        },
        "refresh_token" => {
            GrantRequest::RefreshToken { refresh_token: form.require("refresh_token")?, scope: form.take("scope") }
        }
        "client_credentials" => GrantRequest::ClientCredentials { scope: form.take("scope") },
        other => {
            return Err(OAuthError::new(
                OAuthErrorCode::UnsupportedGrantType,
                format!("grant_type {other} is not supported; use authorization_code, refresh_token, client_credentials, urn:ietf:params:oauth:grant-type:jwt-bearer or urn:ietf:params:oauth:grant-type:token-exchange"),
            )
            .into())
        }
    };
    let issued_by = match request {
        GrantRequest::AuthorizationCode { .. } => IssuedBy::AuthorizationCode,
        GrantRequest::RefreshToken { .. } => IssuedBy::RefreshToken,
        GrantRequest::ClientCredentials { .. } => IssuedBy::ClientCredentials,
    };
    let client = authenticate(&s, addr, &client).await?;
    let response = s.keygate.grant(&client, request).await?;
    s.metrics.token_issued(issued_by);
    Ok((no_store(), Json(response)).into_response())
}

/// Revokes a token.
///
/// RFC 7009 revocation of an access or refresh token of this client (a refresh token ends its whole
/// grant). Answers 200 also for a token that is unknown, expired or not this client's.
#[utoipa::path(
    post,
    path = "/oauth/revoke",
    tag = "oauth",
    request_body(content = TokenForm, content_type = "application/x-www-form-urlencoded"),
    security(("basic" = []), ()),
    responses(
        (status = 200, description = "Revoked (or nothing to revoke); no body"),
        (status = 400, response = r::OAuthBadRequest),
        (status = 401, response = r::OAuthUnauthorized),
        (status = 429, response = r::OAuthTooManyRequests),
    )
)]
pub(crate) async fn revoke(
    State(s): State<AppState>,
    ClientAddr(addr): ClientAddr,
    headers: HeaderMap,
    mut form: OAuthForm,
) -> Result<Response, OAuthErrorResponse> {
    let client = presented_client(&headers, &mut form)?;
    let token = form.require("token")?;
    let client = authenticate(&s, addr, &client).await?;
    s.keygate.revoke(&client.app, &token).await?;
    Ok(no_store().into_response())
}

/// Introspects a token.
///
/// RFC 7662 introspection, for confidential clients, of their own tokens: anything else is
/// `{"active": false}`.
#[utoipa::path(
    post,
    path = "/oauth/introspect",
    tag = "oauth",
    request_body(content = TokenForm, content_type = "application/x-www-form-urlencoded"),
    security(("basic" = []), ()),
    responses(
        (status = 200, description = "The token's state", body = keygate_lib::oauth::introspect::Introspection,
            headers(("Cache-Control" = String, description = "`no-store`"))),
        (status = 400, response = r::OAuthBadRequest),
        (status = 401, response = r::OAuthUnauthorized),
        (status = 429, response = r::OAuthTooManyRequests),
    )
)]
pub(crate) async fn introspect(
    State(s): State<AppState>,
    ClientAddr(addr): ClientAddr,
    headers: HeaderMap,
    mut form: OAuthForm,
) -> Result<Response, OAuthErrorResponse> {
    let client = presented_client(&headers, &mut form)?;
    let token = form.require("token")?;
    let client = authenticate(&s, addr, &client).await?;
    let result = s.keygate.introspect(&client.app, &token).await?;
    Ok((no_store(), Json(result)).into_response())
}

/// RFC 8693: the subject token is the credential, so client authentication is optional; when a client
/// does authenticate, the token must be its own.
async fn token_exchange(
    s: AppState,
    addr: Option<std::net::IpAddr>,
    headers: HeaderMap,
    mut form: OAuthForm,
) -> Result<Response, OAuthErrorResponse> {
    let authenticates = headers.contains_key(header::AUTHORIZATION) || form.get("client_id").is_some();
    let client = if authenticates {
        let presented = presented_client(&headers, &mut form)?;
        Some(authenticate(&s, addr, &presented).await?.app)
    } else {
        None
    };
    let request = ExchangeRequest {
        subject_token: form.require("subject_token")?,
        subject_token_type: form.take("subject_token_type"),
        requested_subject: form.require("requested_subject")?,
        scope: form.take("scope"),
    };
    let response = s.keygate.token_exchange(client.as_ref(), request).await?;
    s.metrics.token_issued(IssuedBy::TokenExchange);
    Ok((no_store(), Json(response)).into_response())
}
