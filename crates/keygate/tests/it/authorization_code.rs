//! The authorization code flow with PKCE, driven by an independent client library (the `oauth2` crate)
//! and by forms submitted as a browser would.

use keygate_testkit::{query_param, store_test, TestApp, TestServer, TestUser};
use oauth2::basic::{BasicClient, BasicErrorResponseType};
use oauth2::{
    AuthType, AuthUrl, AuthorizationCode, ClientId, ClientSecret, CsrfToken, EndpointNotSet, EndpointSet,
    PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, RequestTokenError, Scope, TokenResponse, TokenUrl,
};
use serde_json::json;

use crate::jwt::verify_with_jwks;

pub type Client = BasicClient<EndpointSet, EndpointNotSet, EndpointNotSet, EndpointNotSet, EndpointSet>;

pub fn oauth_client(srv: &TestServer, app: &TestApp) -> Client {
    let mut c = BasicClient::new(ClientId::new(app.client_id.clone()))
        .set_auth_uri(AuthUrl::new(srv.at("/oauth/authorize")).unwrap())
        .set_token_uri(TokenUrl::new(srv.at("/oauth/token")).unwrap())
        .set_redirect_uri(RedirectUrl::new(app.redirect_uri.clone().unwrap()).unwrap());
    if let Some(secret) = &app.client_secret {
        c = c.set_client_secret(ClientSecret::new(secret.clone()));
    }
    c
}

pub fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// A user of a fresh account and a confidential app that may ask for `scopes`.
pub async fn fixture(srv: &TestServer, role: &str, scopes: &str) -> (TestUser, TestApp) {
    let account = srv.account().await;
    let user = srv.user(&account, role).await;
    let app = srv
        .app(json!({"name": "Photo <Printer>", "redirect_uris": ["https://app.example.com/cb"], "allowed_scopes": scopes}))
        .await;
    (user, app)
}

/// Runs the browser part with PKCE and returns the code and its verifier.
pub async fn code_with_pkce(
    srv: &TestServer,
    app: &TestApp,
    user: &TestUser,
    scope: &str,
) -> (String, PkceCodeVerifier) {
    let client = oauth_client(srv, app);
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let (url, csrf) = client
        .authorize_url(CsrfToken::new_random)
        .add_scope(Scope::new(scope.into()))
        .set_pkce_challenge(challenge)
        .url();
    let back = srv.authorize_url(url.as_str(), user, true).await;
    assert_eq!(
        query_param(&back, "state").as_deref(),
        Some(csrf.secret().as_str()),
        "state round-trips"
    );
    assert_eq!(
        query_param(&back, "iss").as_deref(),
        Some(srv.config.tokens.issuer.as_str()),
        "RFC 9207 iss"
    );
    (query_param(&back, "code").expect("a code"), verifier)
}

store_test!(code_flow_with_pkce, |srv| async move {
    let (user, app) = fixture(&srv, "member", "contacts.read contacts.write").await;
    let (code, verifier) = code_with_pkce(&srv, &app, &user, "contacts.read").await;
    let token = oauth_client(&srv, &app)
        .exchange_code(AuthorizationCode::new(code))
        .set_pkce_verifier(verifier)
        .request_async(&http())
        .await
        .expect("code exchange");
    assert_eq!(token.scopes().unwrap()[0].as_str(), "contacts.read");
    assert_eq!(token.expires_in().unwrap().as_secs(), 3600);
    assert!(token.refresh_token().unwrap().secret().starts_with("kgrt_"));
    let access = token.access_token().secret();
    let claims = verify_with_jwks(&srv, access).await;
    assert_eq!(claims.subject.as_deref(), Some(user.id.as_str()));
    assert_eq!(claims.custom.account, user.account);
    assert!(claims.custom.sid.is_some(), "user tokens belong to a grant");
    let (status, me) = srv.me(access).await;
    assert_eq!(status, 200);
    assert_eq!(me["user_id"], user.id.as_str());
    assert_eq!(me["acting_as"], "user");
    assert_eq!(me["credential"], "oauth_app");
});

store_test!(client_secret_post_is_accepted, |srv| async move {
    let (user, app) = fixture(&srv, "member", "contacts.read").await;
    let (code, verifier) = code_with_pkce(&srv, &app, &user, "contacts.read").await;
    let token = oauth_client(&srv, &app)
        .set_auth_type(AuthType::RequestBody)
        .exchange_code(AuthorizationCode::new(code))
        .set_pkce_verifier(verifier)
        .request_async(&http())
        .await
        .expect("client_secret_post");
    assert_eq!(srv.me(token.access_token().secret()).await.0, 200);
});

store_test!(public_clients_must_use_pkce, |srv| async move {
    let account = srv.account().await;
    let user = srv.user(&account, "member").await;
    let app = srv
        .app(json!({"name": "SPA", "client_type": "public", "redirect_uris": ["http://127.0.0.1:9/cb"], "allowed_scopes": "contacts.read"}))
        .await;
    assert!(app.client_secret.is_none(), "public clients get no secret");
    let no_pkce = srv
        .authorize(
            &[
                ("response_type", "code"),
                ("client_id", &app.client_id),
                ("state", "s1"),
            ],
            &user,
            true,
        )
        .await;
    // Refused before login: the redirect goes straight back with the error.
    assert_eq!(query_param(&no_pkce, "error").as_deref(), Some("invalid_request"));
    assert_eq!(query_param(&no_pkce, "state").as_deref(), Some("s1"));
    let (code, verifier) = code_with_pkce(&srv, &app, &user, "contacts.read").await;
    let token = oauth_client(&srv, &app)
        .exchange_code(AuthorizationCode::new(code))
        .set_pkce_verifier(verifier)
        .request_async(&http())
        .await
        .expect("a public client exchanges with client_id and verifier only");
    assert_eq!(srv.me(token.access_token().secret()).await.0, 200);
});

fn server_error<T: std::fmt::Debug>(
    r: Result<T, RequestTokenError<impl std::error::Error, oauth2::basic::BasicErrorResponse>>,
) -> BasicErrorResponseType {
    match r {
        Err(RequestTokenError::ServerResponse(e)) => e.error().clone(),
        other => panic!("expected an OAuth error response, got {other:?}"),
    }
}

store_test!(a_replayed_code_revokes_what_it_issued, |srv| async move {
    let (user, app) = fixture(&srv, "member", "contacts.read").await;
    let (code, verifier) = code_with_pkce(&srv, &app, &user, "contacts.read").await;
    let secret = verifier.secret().clone();
    let client = oauth_client(&srv, &app);
    let first = client
        .exchange_code(AuthorizationCode::new(code.clone()))
        .set_pkce_verifier(verifier)
        .request_async(&http())
        .await
        .unwrap();
    assert_eq!(srv.me(first.access_token().secret()).await.0, 200);
    let replay = client
        .exchange_code(AuthorizationCode::new(code))
        .set_pkce_verifier(PkceCodeVerifier::new(secret))
        .request_async(&http())
        .await;
    assert_eq!(server_error(replay), BasicErrorResponseType::InvalidGrant);
    assert_eq!(
        srv.me(first.access_token().secret()).await.0,
        401,
        "access token of the first exchange revoked"
    );
    let refresh = client
        .exchange_refresh_token(first.refresh_token().unwrap())
        .request_async(&http())
        .await;
    assert_eq!(
        server_error(refresh),
        BasicErrorResponseType::InvalidGrant,
        "refresh token revoked too"
    );
});

store_test!(pkce_mismatches_are_refused, |srv| async move {
    let (user, app) = fixture(&srv, "member", "contacts.read").await;
    let client = oauth_client(&srv, &app);
    let (code, _) = code_with_pkce(&srv, &app, &user, "contacts.read").await;
    let wrong = client
        .exchange_code(AuthorizationCode::new(code))
        .set_pkce_verifier(PkceCodeVerifier::new("x".repeat(43)))
        .request_async(&http())
        .await;
    assert_eq!(server_error(wrong), BasicErrorResponseType::InvalidGrant);

    let (code, _) = code_with_pkce(&srv, &app, &user, "contacts.read").await;
    let missing = client
        .exchange_code(AuthorizationCode::new(code))
        .request_async(&http())
        .await;
    assert_eq!(server_error(missing), BasicErrorResponseType::InvalidRequest);

    // A verifier for a code issued without a challenge is a downgrade attempt (RFC 9700).
    let back = srv
        .authorize(
            &[("response_type", "code"), ("client_id", &app.client_id)],
            &user,
            true,
        )
        .await;
    let code = query_param(&back, "code").unwrap();
    let downgrade = client
        .exchange_code(AuthorizationCode::new(code))
        .set_pkce_verifier(PkceCodeVerifier::new("y".repeat(43)))
        .request_async(&http())
        .await;
    assert_eq!(server_error(downgrade), BasicErrorResponseType::InvalidGrant);
});

store_test!(codes_are_bound_to_client_and_redirect_uri, |srv| async move {
    let (user, app) = fixture(&srv, "member", "contacts.read").await;
    let other = srv
        .app(json!({"name": "Other", "redirect_uris": ["https://app.example.com/cb"]}))
        .await;
    let back = srv
        .authorize(
            &[
                ("response_type", "code"),
                ("client_id", &app.client_id),
                ("redirect_uri", "https://app.example.com/cb"),
            ],
            &user,
            true,
        )
        .await;
    let code = query_param(&back, "code").unwrap();
    let (status, body) = srv
        .oauth_post(
            "/oauth/token",
            &other,
            &[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("redirect_uri", "https://app.example.com/cb"),
            ],
        )
        .await;
    assert_eq!(
        (status.as_u16(), body["error"].as_str()),
        (400, Some("invalid_grant")),
        "another client's code"
    );

    let back = srv
        .authorize(
            &[
                ("response_type", "code"),
                ("client_id", &app.client_id),
                ("redirect_uri", "https://app.example.com/cb"),
            ],
            &user,
            true,
        )
        .await;
    let code = query_param(&back, "code").unwrap();
    let (status, body) = srv
        .oauth_post(
            "/oauth/token",
            &app,
            &[("grant_type", "authorization_code"), ("code", &code)],
        )
        .await;
    assert_eq!(
        (status.as_u16(), body["error"].as_str()),
        (400, Some("invalid_request")),
        "redirect_uri must be repeated"
    );
    let (status, body) = srv
        .oauth_post(
            "/oauth/token",
            &app,
            &[
                ("grant_type", "authorization_code"),
                ("code", "kgac_doesnotexist"),
                ("redirect_uri", "https://app.example.com/cb"),
            ],
        )
        .await;
    assert_eq!(
        (status.as_u16(), body["error"].as_str()),
        (400, Some("invalid_grant"))
    );
});

store_test!(denying_consent_returns_access_denied, |srv| async move {
    let (user, app) = fixture(&srv, "member", "contacts.read").await;
    let back = srv
        .authorize(
            &[
                ("response_type", "code"),
                ("client_id", &app.client_id),
                ("state", "st8"),
            ],
            &user,
            false,
        )
        .await;
    assert_eq!(
        back.as_str().split('?').next(),
        Some("https://app.example.com/cb")
    );
    assert_eq!(query_param(&back, "error").as_deref(), Some("access_denied"));
    assert_eq!(query_param(&back, "state").as_deref(), Some("st8"));
    assert_eq!(
        query_param(&back, "iss").as_deref(),
        Some(srv.config.tokens.issuer.as_str())
    );
    assert!(query_param(&back, "code").is_none());
});

store_test!(members_cannot_grant_admin_only_scopes, |srv| async move {
    let (member, app) = fixture(&srv, "member", "contacts.read impersonate").await;
    let body = srv
        .user_tokens(&app, &member, &[("scope", "contacts.read impersonate")])
        .await;
    assert_eq!(body["scope"], "contacts.read", "impersonate dropped for a member");
    let only = srv
        .authorize(
            &[
                ("response_type", "code"),
                ("client_id", &app.client_id),
                ("scope", "impersonate"),
            ],
            &member,
            true,
        )
        .await;
    assert_eq!(query_param(&only, "error").as_deref(), Some("access_denied"));
    let admin = srv.user(&member.account, "admin").await;
    let body = srv.user_tokens(&app, &admin, &[("scope", "impersonate")]).await;
    assert_eq!(body["scope"], "impersonate");
});

store_test!(scopes_beyond_the_app_are_refused, |srv| async move {
    let (user, app) = fixture(&srv, "admin", "contacts.read").await;
    for scope in ["contacts.write", "no.such.scope"] {
        let back = srv
            .authorize(
                &[
                    ("response_type", "code"),
                    ("client_id", &app.client_id),
                    ("scope", scope),
                ],
                &user,
                true,
            )
            .await;
        assert_eq!(
            query_param(&back, "error").as_deref(),
            Some("invalid_scope"),
            "{scope}"
        );
    }
});

store_test!(wrong_passwords_show_the_login_page_again, |srv| async move {
    let (user, app) = fixture(&srv, "member", "contacts.read").await;
    let page = srv
        .http
        .get(srv.at("/oauth/authorize"))
        .query(&[("response_type", "code"), ("client_id", &app.client_id)])
        .send()
        .await
        .unwrap();
    assert_eq!(page.headers()["x-frame-options"], "DENY");
    assert!(page.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .contains("frame-ancestors 'none'"));
    let html = page.text().await.unwrap();
    assert!(html.contains("Photo &lt;Printer&gt;"), "app names are escaped");
    let mut form = srv
        .login_form(
            &[("response_type", "code"), ("client_id", &app.client_id)],
            &user,
            "wrong password!",
        )
        .await;
    let res = srv
        .http
        .post(srv.at("/oauth/authorize"))
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
    let html = res.text().await.unwrap();
    assert!(html.contains("incorrect"));
    assert!(!html.contains("wrong password!"), "the password is never echoed");
    // Unknown email reads exactly the same.
    form.retain(|(k, _)| k != "email" && k != "password");
    form.extend([
        ("email".into(), "nobody@example.com".into()),
        ("password".into(), user.password.clone()),
    ]);
    let res = srv
        .http
        .post(srv.at("/oauth/authorize"))
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
    assert!(res
        .text()
        .await
        .unwrap()
        .contains("The account, email or password is incorrect."));
});

store_test!(tampered_consent_tickets_are_refused, |srv| async move {
    let (user, app) = fixture(&srv, "member", "contacts.read").await;
    let form = srv
        .login_form(
            &[("response_type", "code"), ("client_id", &app.client_id)],
            &user,
            &user.password,
        )
        .await;
    let consent = srv
        .http
        .post(srv.at("/oauth/authorize"))
        .form(&form)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let mut fields = keygate_testkit::hidden_fields(&consent);
    let ticket = &mut fields.iter_mut().find(|(k, _)| k == "ticket").unwrap().1;
    ticket.insert(3, 'x');
    fields.push(("decision".into(), "allow".into()));
    let res = srv
        .http
        .post(srv.at("/oauth/authorize/consent"))
        .form(&fields)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400);
    assert!(res.headers().get("location").is_none());
});
