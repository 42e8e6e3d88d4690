//! The developer portal's pages, driven as a browser would: a session cookie, the CSRF token of the
//! forms, redirects read rather than followed. Changes made there must work (or stop working) at the API.

use keygate_testkit::{hidden_fields, store_test, TestServer, TestUser};
use reqwest::{Method, StatusCode};
use serde_json::Value;

use crate::api_keys::{api_key, auth};
use crate::contacts_rest::token;
use crate::domain_keys::auth_from;
use crate::hooks::{fast_hooks, subscribe, Receiver};

/// What a portal request answered.
struct Page {
    status: StatusCode,
    location: Option<String>,
    html: String,
}

/// A browser for the portal: keeps its cookies by hand (reqwest's cookie store is not enabled here) and
/// the CSRF token the pages carry.
struct PortalClient<'a> {
    srv: &'a TestServer,
    cookies: Vec<(String, String)>,
    csrf: String,
}

impl<'a> PortalClient<'a> {
    fn new(srv: &'a TestServer) -> Self {
        Self {
            srv,
            cookies: Vec::new(),
            csrf: String::new(),
        }
    }

    /// Signs in as `user` and checks it worked.
    async fn signed_in(srv: &'a TestServer, user: &TestUser) -> Self {
        let mut c = Self::new(srv);
        let p = c.sign_in(&user.account, &user.email, &user.password).await;
        assert_eq!(p.status, StatusCode::SEE_OTHER, "{}", p.html);
        assert_eq!(p.location.as_deref(), Some("/portal/apps"));
        assert!(c.cookie("kg_portal").is_some(), "a session cookie");
        // Any signed-in page carries the session's CSRF token (in the sign-out form).
        let home = c.get("/portal/apps").await;
        assert_eq!(home.status, StatusCode::OK);
        c
    }

    async fn sign_in(&mut self, account: &str, email: &str, password: &str) -> Page {
        let page = self.get("/portal/sign-in").await;
        assert_eq!(page.status, StatusCode::OK);
        let form = [("account", account), ("email", email), ("password", password)];
        self.post("/portal/sign-in", &form).await
    }

    fn cookie(&self, name: &str) -> Option<&str> {
        self.cookies
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// Applies `Set-Cookie` headers: a new value, or removal by `Max-Age=0`.
    fn keep(&mut self, res: &reqwest::Response) {
        for h in res.headers().get_all("set-cookie") {
            let h = h.to_str().unwrap();
            let (pair, attrs) = h.split_once(';').unwrap_or((h, ""));
            let (name, value) = pair.split_once('=').unwrap();
            self.cookies.retain(|(n, _)| n != name);
            if !attrs.contains("Max-Age=0") {
                self.cookies.push((name.to_owned(), value.to_owned()));
            }
        }
    }

    fn cookie_header(&self) -> String {
        self.cookies
            .iter()
            .map(|(n, v)| format!("{n}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    async fn read(&mut self, res: reqwest::Response) -> Page {
        self.keep(&res);
        let status = res.status();
        let location = res
            .headers()
            .get("location")
            .map(|l| l.to_str().unwrap().to_owned());
        let html = res.text().await.unwrap();
        if let Some((_, v)) = hidden_fields(&html).into_iter().find(|(n, _)| n == "csrf") {
            self.csrf = v;
        }
        Page {
            status,
            location,
            html,
        }
    }

    async fn get(&mut self, path: &str) -> Page {
        let res = self
            .srv
            .http
            .get(self.srv.at(path))
            .header("cookie", self.cookie_header())
            .send()
            .await
            .unwrap();
        self.read(res).await
    }

    /// A form as the portal's pages send it: with the CSRF token, from the portal's origin.
    async fn post(&mut self, path: &str, form: &[(&str, &str)]) -> Page {
        let csrf = self.csrf.clone();
        let origin = self.srv.url.clone();
        self.post_with(path, form, Some(&csrf), Some(&origin)).await
    }

    async fn post_with(
        &mut self,
        path: &str,
        form: &[(&str, &str)],
        csrf: Option<&str>,
        origin: Option<&str>,
    ) -> Page {
        let mut fields: Vec<(&str, &str)> = form.to_vec();
        if let Some(c) = csrf {
            fields.push(("csrf", c));
        }
        let mut req = self
            .srv
            .http
            .post(self.srv.at(path))
            .header("cookie", self.cookie_header())
            .form(&fields);
        if let Some(o) = origin {
            req = req.header("origin", o);
        }
        let res = req.send().await.unwrap();
        self.read(res).await
    }
}

/// The first `prefix…` token in a page (ids and secrets are letters, digits and `_`), skipping mentions of
/// the bare prefix in the page's prose (`kgk_…`).
fn find_token(html: &str, prefix: &str) -> Option<String> {
    html.match_indices(prefix).find_map(|(start, _)| {
        let rest = &html[start..];
        let end = rest
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(rest.len());
        (end > prefix.len() + 4).then(|| rest[..end].to_owned())
    })
}

/// The text between `start` and the next `end`.
fn between<'h>(html: &'h str, start: &str, end: &str) -> Option<&'h str> {
    let from = html.find(start)? + start.len();
    html[from..].find(end).map(|to| &html[from..from + to])
}

async fn admin_of_new_account(srv: &TestServer) -> TestUser {
    let account = srv.account().await;
    srv.user(&account, "admin").await
}

store_test!(signing_in_and_who_may_see_the_admin_pages, |srv| async move {
    let admin = admin_of_new_account(&srv).await;
    let mut c = PortalClient::new(&srv);
    let p = c.sign_in(&admin.account, &admin.email, "not-the-password").await;
    assert_eq!(p.status, StatusCode::UNAUTHORIZED);
    assert!(
        p.html.contains("The account, email or password is incorrect."),
        "{}",
        p.html
    );
    assert!(c.cookie("kg_portal").is_none());

    // Without a session: to the sign-in page.
    let p = c.get("/portal/api-keys").await;
    assert_eq!(
        (p.status, p.location.as_deref()),
        (StatusCode::SEE_OTHER, Some("/portal/sign-in"))
    );

    let member = srv.user(&admin.account, "member").await;
    let mut m = PortalClient::signed_in(&srv, &member).await;
    for path in [
        "/portal/api-keys",
        "/portal/domain-keys",
        "/portal/legacy-keys",
        "/portal/users",
        "/portal/hooks",
        "/portal/audit",
    ] {
        let p = m.get(path).await;
        assert_eq!(p.status, StatusCode::FORBIDDEN, "{path}");
        assert!(p.html.contains("Account admins only"));
    }
    let p = m
        .post(
            "/portal/api-keys",
            &[("name", "Sneaky"), ("scope.contacts.read", "on")],
        )
        .await;
    assert_eq!(p.status, StatusCode::FORBIDDEN);
    let keys = srv
        .keygate()
        .manage(keygate_lib::Actor::System)
        .list_api_keys(&admin.account)
        .await
        .unwrap();
    assert!(keys.is_empty(), "a member created nothing");
    // Members see no admin sections in the navigation.
    let p = m.get("/portal/apps").await;
    assert!(!p.html.contains("href=\"/portal/api-keys\""));

    let mut a = PortalClient::signed_in(&srv, &admin).await;
    let p = a.get("/portal/apps").await;
    assert!(p.html.contains("href=\"/portal/api-keys\""));
});

store_test!(
    api_keys_are_created_rotated_and_revoked_in_the_portal,
    |srv| async move {
        let admin = admin_of_new_account(&srv).await;
        let mut c = PortalClient::signed_in(&srv, &admin).await;
        let p = c.get("/portal/api-keys").await;
        assert_eq!(p.status, StatusCode::OK);
        assert!(p.html.contains("No API keys yet"), "the empty state");

        // Nothing chosen: the form comes back with what was typed and says why.
        let p = c.post("/portal/api-keys", &[("name", "Nightly sync")]).await;
        assert_eq!(p.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(p.html.contains("choose at least one") && p.html.contains("value=\"Nightly sync\""));

        let form = [
            ("name", "Nightly sync"),
            ("scope.contacts.read", "on"),
            ("scope.hooks", "on"),
        ];
        let p = c.post("/portal/api-keys", &form).await;
        assert_eq!(p.status, StatusCode::CREATED, "{}", p.html);
        let secret = find_token(&p.html, "kgsk_").expect("the secret, once");
        assert_eq!(p.html.matches(&secret).count(), 1, "shown once on the page");
        let id = find_token(&p.html, "kgk_").unwrap();
        let last4 = &secret[secret.len() - 4..];

        let p = c.get("/portal/api-keys").await;
        assert!(!p.html.contains(&secret), "never shown again");
        assert!(p.html.contains(&format!("…{last4}")) && p.html.contains(&id));
        assert!(p.html.contains("contacts.read hooks"));
        let (status, body) = auth(&srv, &id, &secret).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["scope"], "contacts.read hooks");

        // Rotation: a new secret, shown once; the old one keeps working for the grace period.
        let p = c.post(&format!("/portal/api-keys/{id}/rotate"), &[]).await;
        assert_eq!(p.status, StatusCode::OK, "{}", p.html);
        let new_secret = find_token(&p.html, "kgsk_").unwrap();
        assert_ne!(new_secret, secret);
        assert_eq!(auth(&srv, &id, &new_secret).await.0, 200);
        assert_eq!(auth(&srv, &id, &secret).await.0, 200, "within the grace period");

        // Forged requests change nothing.
        let p = c
            .post_with(
                &format!("/portal/api-keys/{id}/revoke"),
                &[],
                None,
                Some(&srv.url),
            )
            .await;
        assert_eq!(p.status, StatusCode::FORBIDDEN);
        let csrf = c.csrf.clone();
        let p = c
            .post_with(
                &format!("/portal/api-keys/{id}/revoke"),
                &[],
                Some(&csrf),
                Some("https://evil.example"),
            )
            .await;
        assert_eq!(
            p.status,
            StatusCode::FORBIDDEN,
            "CORS refuses an unknown origin first"
        );
        // An origin CORS lets through (an app's) is still not the portal's own.
        srv.app(serde_json::json!({"name": "Partner", "allowed_origins": ["https://partner.example.com"]}))
            .await;
        let p = c
            .post_with(
                &format!("/portal/api-keys/{id}/revoke"),
                &[],
                Some(&csrf),
                Some("https://partner.example.com"),
            )
            .await;
        assert_eq!(p.status, StatusCode::FORBIDDEN);
        assert!(p.html.contains("another site"), "{}", p.html);
        assert_eq!(auth(&srv, &id, &new_secret).await.0, 200, "still works");

        // Another account's key does not exist here.
        let other = srv.account().await;
        let (foreign, foreign_secret) = api_key(&srv, &other, None, None).await;
        for action in ["rotate", "revoke"] {
            let p = c.post(&format!("/portal/api-keys/{foreign}/{action}"), &[]).await;
            assert_eq!(p.status, StatusCode::NOT_FOUND, "{action}");
        }
        assert_eq!(
            c.post("/portal/api-keys/not-a-key/revoke", &[]).await.status,
            StatusCode::NOT_FOUND
        );
        assert_eq!(auth(&srv, &foreign, &foreign_secret).await.0, 200);

        let p = c.post(&format!("/portal/api-keys/{id}/revoke"), &[]).await;
        assert_eq!(p.status, StatusCode::SEE_OTHER);
        let p = c.get(p.location.as_deref().unwrap()).await;
        assert!(p.html.contains("Revoked Nightly sync"), "{}", p.html);
        assert!(p.html.contains("badge-revoked"));
        assert!(
            !p.html.contains(&format!("/portal/api-keys/{id}/rotate")),
            "no actions on a revoked key"
        );
        assert_eq!(auth(&srv, &id, &new_secret).await.0, 401);

        // The audit log names the portal user as the actor.
        let p = c.get("/portal/audit").await;
        assert_eq!(p.status, StatusCode::OK);
        let actor = format!("user:{}", admin.id);
        for action in ["api_key.created", "api_key.rotated", "api_key.revoked"] {
            assert!(p.html.contains(action), "{action}");
        }
        assert!(p.html.contains(&actor));
        let p = c.get("/portal/audit?action=api_key.revoked").await;
        assert!(p.html.contains("api_key.revoked") && !p.html.contains("api_key.created"));
        assert!(p.html.contains(&actor) && p.html.contains(&id));
        let p = c.get("/portal/audit?action=NOT%20VALID").await;
        assert_eq!(p.status, StatusCode::UNPROCESSABLE_ENTITY);
        // The other account's events are not in this account's log.
        let p = c.get("/portal/audit").await;
        assert!(!p.html.contains(&foreign));
    }
);

store_test!(
    an_api_key_can_act_as_a_user_and_the_audit_log_pages,
    |srv| async move {
        let admin = admin_of_new_account(&srv).await;
        let member = srv.user(&admin.account, "member").await;
        let mut c = PortalClient::signed_in(&srv, &admin).await;
        let p = c.get("/portal/api-keys").await;
        assert!(
            p.html.contains(&format!("value=\"{}\"", member.id)),
            "the account's users to act as"
        );
        // A member's key can never impersonate.
        let form = [
            ("name", "As member"),
            ("user_id", member.id.as_str()),
            ("scope.impersonate", "on"),
        ];
        let p = c.post("/portal/api-keys", &form).await;
        assert_eq!(p.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(
            p.html.contains("impersonate") && p.html.contains(&format!("value=\"{}\" selected", member.id))
        );
        let form = [
            ("name", "As member"),
            ("user_id", member.id.as_str()),
            ("scope.contacts.read", "on"),
        ];
        let p = c.post("/portal/api-keys", &form).await;
        assert_eq!(p.status, StatusCode::CREATED);
        let (id, secret) = (
            find_token(&p.html, "kgk_").unwrap(),
            find_token(&p.html, "kgsk_").unwrap(),
        );
        let (status, body) = auth(&srv, &id, &secret).await;
        assert_eq!(status, 200, "{body}");
        let (_, me) = srv.me(body["access_token"].as_str().unwrap()).await;
        assert_eq!(me["user_id"], Value::from(member.id.as_str()), "{me}");

        // More than a page of events: "Older events" leads on, and no event is on both pages.
        for i in 0..55 {
            let name = format!("Key {i}");
            assert_eq!(
                c.post(
                    "/portal/api-keys",
                    &[("name", &name), ("scope.contacts.read", "on")]
                )
                .await
                .status,
                201
            );
        }
        let first = c.get("/portal/audit").await;
        let href = first.html.split("Older events").next().unwrap();
        let href = &href[href.rfind("href=\"").unwrap() + 6..];
        let href = href[..href.find('"').unwrap()].replace("&amp;", "&");
        assert!(href.starts_with("/portal/audit?before="), "{href}");
        let older = c.get(&href).await;
        assert_eq!(older.status, StatusCode::OK);
        assert!(first.html.contains("Key 54") && !older.html.contains("Key 54"));
        assert!(older.html.contains("As member") && !first.html.contains("As member"));
    }
);

store_test!(
    domain_keys_are_created_and_revoked_in_the_portal,
    |srv| async move {
        let admin = admin_of_new_account(&srv).await;
        let mut c = PortalClient::signed_in(&srv, &admin).await;
        let p = c.get("/portal/domain-keys").await;
        assert_eq!(p.status, StatusCode::OK);
        assert!(p.html.contains("Create an API key</a> first"), "{}", p.html);

        let (key, _) = api_key(&srv, &admin.account, None, Some("contacts.read contacts.write")).await;
        let p = c.get("/portal/domain-keys").await;
        assert!(p.html.contains(&format!("<option value=\"{key}\"")));
        assert!(
            !p.html.contains("scope.impersonate") && !p.html.contains("scope.full"),
            "never offered"
        );

        // Scopes beyond the API key's are refused, with the form kept.
        let form = [
            ("name", "Shop widget"),
            ("api_key_id", key.as_str()),
            ("origins", "https://shop.example.com"),
            ("scope.hooks", "on"),
        ];
        let p = c.post("/portal/domain-keys", &form).await;
        assert_eq!(p.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(
            p.html.contains("within the API key") && p.html.contains("https://shop.example.com</textarea>")
        );

        let form = [
            ("name", "Shop widget"),
            ("api_key_id", key.as_str()),
            (
                "origins",
                "https://shop.example.com\n  https://*.preview.example.com \n",
            ),
            ("scope.contacts.read", "on"),
        ];
        let p = c.post("/portal/domain-keys", &form).await;
        assert_eq!(p.status, StatusCode::CREATED, "{}", p.html);
        let dk = find_token(&p.html, "kgd_").unwrap();
        assert!(p.html.contains("createClient(") && p.html.contains(&format!("domainKey: \"{dk}\"")));
        assert!(
            p.html.contains(&format!("apiKey: \"{key}\""))
                && p.html.contains(&format!("baseUrl: \"{}\"", srv.url))
        );
        let p = c.get("/portal/domain-keys").await;
        assert!(p.html.contains(&dk) && p.html.contains("https://*.preview.example.com"));

        let (status, body, _) = auth_from(&srv, &key, &dk, Some("https://shop.example.com")).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["scope"], "contacts.read");

        let other = srv.account().await;
        let (other_key, _) = api_key(&srv, &other, None, None).await;
        let foreign =
            crate::domain_keys::domain_key(&srv, &other, &other_key, &["https://x.example.com"]).await;
        assert_eq!(
            c.post(&format!("/portal/domain-keys/{foreign}/revoke"), &[])
                .await
                .status,
            StatusCode::NOT_FOUND
        );
        // Nor can a domain key be bound to another account's API key.
        let form = [
            ("name", "Theirs"),
            ("api_key_id", other_key.as_str()),
            ("origins", "https://x.example.com"),
            ("scope.contacts.read", "on"),
        ];
        assert_eq!(
            c.post("/portal/domain-keys", &form).await.status,
            StatusCode::UNPROCESSABLE_ENTITY
        );

        let p = c.post(&format!("/portal/domain-keys/{dk}/revoke"), &[]).await;
        assert_eq!(p.status, StatusCode::SEE_OTHER);
        let p = c.get(p.location.as_deref().unwrap()).await;
        assert!(p.html.contains("Revoked Shop widget") && p.html.contains("badge-revoked"));
        let (status, _, _) = auth_from(&srv, &key, &dk, Some("https://shop.example.com")).await;
        assert_ne!(status, 200);
    }
);

store_test!(
    legacy_keys_are_listed_and_new_ones_refused_by_default,
    |srv| async move {
        let admin = admin_of_new_account(&srv).await;
        let mut c = PortalClient::signed_in(&srv, &admin).await;
        let p = c.get("/portal/legacy-keys").await;
        assert_eq!(p.status, StatusCode::OK);
        assert!(p.html.contains("Deprecated") && p.html.contains("does not allow new legacy keys"));
        assert!(
            !p.html.contains("action=\"/portal/legacy-keys\""),
            "no creation form"
        );
        let p = c.post("/portal/legacy-keys", &[("name", "Old sync")]).await;
        assert_eq!(p.status, StatusCode::CONFLICT);
    }
);

store_test!(
    legacy_keys_are_created_used_and_revoked_when_allowed,
    |c: &mut keygate_server::Config| c.legacy_keys.allow_new = true,
    |srv| async move {
        let admin = admin_of_new_account(&srv).await;
        let mut c = PortalClient::signed_in(&srv, &admin).await;
        let p = c.post("/portal/legacy-keys", &[("name", "Old sync")]).await;
        assert_eq!(p.status, StatusCode::CREATED, "{}", p.html);
        let value = find_token(&p.html, "kglk_").unwrap();
        let id = find_token(&p.html, "kgl_").unwrap();
        let me = |v: String| {
            let req = srv.http.get(srv.at("/v1/me")).header("x-legacy-key", v);
            async move { req.send().await.unwrap().status() }
        };
        assert_eq!(me(value.clone()).await, 200);
        let p = c.get("/portal/legacy-keys").await;
        assert!(!p.html.contains(&value));
        assert!(p.html.contains("<td>1</td>"), "the use is counted");
        let p = c.post(&format!("/portal/legacy-keys/{id}/revoke"), &[]).await;
        assert_eq!(p.status, StatusCode::SEE_OTHER);
        assert_eq!(me(value).await, 401);
    }
);

store_test!(users_are_managed_in_the_portal, |srv| async move {
    let admin = admin_of_new_account(&srv).await;
    let mut c = PortalClient::signed_in(&srv, &admin).await;
    let p = c
        .post(
            "/portal/users",
            &[
                ("email", "not-an-email"),
                ("password", "correct horse battery"),
                ("role", "admin"),
            ],
        )
        .await;
    assert_eq!(p.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(p.html.contains("value=\"not-an-email\"") && p.html.contains("value=\"admin\" selected"));
    assert!(
        !p.html.contains("correct horse battery"),
        "passwords are not echoed"
    );

    let form = [
        ("email", "dev@example.com"),
        ("password", "correct horse battery"),
        ("role", "member"),
    ];
    let p = c.post("/portal/users", &form).await;
    assert_eq!(
        (p.status, p.location.as_deref()),
        (StatusCode::SEE_OTHER, Some("/portal/users?done=created"))
    );
    let p = c.post("/portal/users", &form).await;
    assert_eq!(p.status, StatusCode::UNPROCESSABLE_ENTITY, "the same email twice");
    let p = c.get("/portal/users").await;
    assert!(p.html.contains("dev@example.com"));
    let users = srv
        .keygate()
        .manage(keygate_lib::Actor::System)
        .list_users(&admin.account)
        .await
        .unwrap();
    let dev = users
        .iter()
        .find(|u| u.email == "dev@example.com")
        .unwrap()
        .clone();
    assert_eq!(dev.role, "member");

    let dev_user = TestUser {
        id: dev.id.clone(),
        account: admin.account.clone(),
        email: dev.email.clone(),
        password: "correct horse battery".into(),
    };
    let mut d = PortalClient::signed_in(&srv, &dev_user).await;
    assert_eq!(d.get("/portal/users").await.status, StatusCode::FORBIDDEN);
    let p = c.post(&format!("/portal/users/{}/make-admin", dev.id), &[]).await;
    assert_eq!(p.location.as_deref(), Some("/portal/users?done=admin"));
    assert_eq!(
        d.get("/portal/users").await.status,
        StatusCode::OK,
        "promoted at once"
    );

    // An admin cannot demote or suspend themselves.
    for action in ["make-member", "suspend"] {
        let p = c.post(&format!("/portal/users/{}/{action}", admin.id), &[]).await;
        assert_eq!(p.status, StatusCode::CONFLICT, "{action}");
        assert!(p.html.contains("You cannot demote or suspend yourself"));
    }
    let me = srv
        .keygate()
        .manage(keygate_lib::Actor::System)
        .get_user(&admin.id)
        .await
        .unwrap();
    assert_eq!((me.role.as_str(), me.status.as_str()), ("admin", "active"));

    // Another admin can; a suspended user's session ends.
    let p = d
        .post(&format!("/portal/users/{}/make-member", admin.id), &[])
        .await;
    assert_eq!(p.status, StatusCode::SEE_OTHER);
    assert_eq!(c.get("/portal/users").await.status, StatusCode::FORBIDDEN);
    let p = d.post(&format!("/portal/users/{}/suspend", admin.id), &[]).await;
    assert_eq!(p.status, StatusCode::SEE_OTHER);
    let p = c.get("/portal/apps").await;
    assert_eq!(p.location.as_deref(), Some("/portal/sign-in?expired=1"));

    let other = srv.account().await;
    let stranger = srv.user(&other, "member").await;
    let p = d
        .post(&format!("/portal/users/{}/suspend", stranger.id), &[])
        .await;
    assert_eq!(p.status, StatusCode::NOT_FOUND);
    let p = d.get("/portal/audit?action=user.").await;
    assert!(p.html.contains(&format!("user:{}", dev.id)) && p.html.contains("user.updated"));
});

store_test!(
    hooks_are_listed_and_reverified_in_the_portal,
    fast_hooks,
    |srv| async move {
        let admin = admin_of_new_account(&srv).await;
        let mut c = PortalClient::signed_in(&srv, &admin).await;
        let p = c.get("/portal/hooks").await;
        assert_eq!(p.status, StatusCode::OK);
        assert!(p.html.contains("No subscriptions yet") && p.html.contains("POST /v1/hooks"));

        let receiver = Receiver::start().await;
        let t = token(&srv, &admin.account, "hooks contacts.write").await;
        let (status, hook) = subscribe(&srv, &t, "contact.add", &receiver.url).await;
        assert_eq!(status, 201, "{hook}");
        let key = hook["key"].as_str().unwrap().to_owned();
        let p = c.get("/portal/hooks").await;
        assert!(p.html.contains(&key) && p.html.contains(&receiver.url) && p.html.contains("badge-verified"));

        // A delivery, then its page shows it with its attempt.
        let (status, _, _) = crate::contacts_rest::call(
            &srv,
            Method::POST,
            "/v1/contacts",
            &t,
            Some(crate::contacts_rest::ann("ann@example.com")),
            &[],
        )
        .await;
        assert_eq!(status, 201);
        receiver.wait_for(1).await;
        let mut shown = String::new();
        for _ in 0..100 {
            shown = c.get(&format!("/portal/hooks/{key}")).await.html;
            // The page reads the delivery and its attempts apart, so the attempt can show before the
            // delivery's outcome does: wait for both.
            if shown.contains("HTTP 200") && shown.contains("badge-delivered") {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        assert!(
            shown.contains("Re-verify") && shown.contains("badge-delivered") && shown.contains("HTTP 200"),
            "{shown}"
        );
        let msg = find_token(&shown, "msg_").unwrap();

        let p = c
            .post(&format!("/portal/hooks/{key}/deliveries/{msg}/replay"), &[])
            .await;
        assert_eq!(p.location, Some(format!("/portal/hooks/{key}?done=replayed")));
        receiver.wait_for(2).await;
        assert_eq!(
            c.post(&format!("/portal/hooks/{key}/deliveries/msg_nope/replay"), &[])
                .await
                .status,
            404
        );

        // Re-verify: a receiver that no longer echoes leaves it unverified, and says why.
        receiver.behaviour.lock().unwrap().no_echo = true;
        let p = c.post(&format!("/portal/hooks/{key}/verify"), &[]).await;
        assert_eq!(p.status, StatusCode::OK);
        assert!(
            p.html.contains("did not confirm") && p.html.contains("badge-unverified"),
            "{}",
            p.html
        );
        receiver.behaviour.lock().unwrap().no_echo = false;
        let p = c.post(&format!("/portal/hooks/{key}/verify"), &[]).await;
        assert!(p.html.contains("Verified: the receiver confirmed") && p.html.contains("badge-verified"));

        // Another account's subscription is not found.
        let other = srv.account().await;
        let t2 = token(&srv, &other, "hooks").await;
        let (_, theirs) = subscribe(&srv, &t2, "contact.add", &receiver.url).await;
        let theirs = theirs["key"].as_str().unwrap();
        assert_eq!(
            c.get(&format!("/portal/hooks/{theirs}")).await.status,
            StatusCode::NOT_FOUND
        );
        assert_eq!(
            c.post(&format!("/portal/hooks/{theirs}/verify"), &[])
                .await
                .status,
            StatusCode::NOT_FOUND
        );
    }
);

store_test!(apps_are_managed_in_the_portal, |srv| async move {
    let admin = admin_of_new_account(&srv).await;
    let mut c = PortalClient::signed_in(&srv, &admin).await;
    let form = [
        ("name", "Sync server"),
        ("client_type", "confidential"),
        ("scope.contacts.read", "on"),
    ];
    let p = c.post("/portal/apps", &form).await;
    assert_eq!(p.status, StatusCode::CREATED, "{}", p.html);
    let secret = find_token(&p.html, "kgcs_").expect("the client secret, once");
    assert_eq!(p.html.matches(&secret).count(), 1);
    let client_id = between(&p.html, "<code id=\"client-id\">", "<")
        .unwrap()
        .to_owned();
    let last4 = &secret[secret.len() - 4..];
    let p = c.get("/portal/apps").await;
    assert!(
        p.html.contains(&client_id) && p.html.contains(&format!("…{last4}")) && !p.html.contains(&secret)
    );

    let cc = |secret: String| {
        let req = srv
            .http
            .post(srv.at("/oauth/token"))
            .basic_auth(&client_id, Some(secret))
            .form(&[("grant_type", "client_credentials")]);
        async move { req.send().await.unwrap().status() }
    };
    assert_eq!(cc(secret.clone()).await, 200);
    let p = c.post(&format!("/portal/apps/{client_id}/rotate"), &[]).await;
    assert_eq!(p.status, StatusCode::OK);
    let rotated = find_token(&p.html, "kgcs_").unwrap();
    assert_ne!(rotated, secret);
    assert_eq!(cc(rotated.clone()).await, 200);

    let p = c.post(&format!("/portal/apps/{client_id}/suspend"), &[]).await;
    assert_eq!(p.status, StatusCode::SEE_OTHER);
    assert_ne!(cc(rotated.clone()).await, 200, "a suspended app gets no token");
    let p = c.post(&format!("/portal/apps/{client_id}/delete"), &[]).await;
    assert_eq!(p.status, StatusCode::SEE_OTHER);
    let p = c.get(p.location.as_deref().unwrap()).await;
    assert!(p.html.contains("Deleted Sync server") && !p.html.contains(&client_id));
    assert_eq!(
        c.get(&format!("/portal/apps/{client_id}")).await.status,
        StatusCode::NOT_FOUND
    );
});

store_test!(
    signing_out_ends_the_session_and_the_explorer_token,
    |srv| async move {
        let admin = admin_of_new_account(&srv).await;
        let mut c = PortalClient::signed_in(&srv, &admin).await;
        let p = c.post("/portal/explorer/token", &[]).await;
        assert_eq!(p.status, StatusCode::OK, "{}", p.html);
        let body: Value = serde_json::from_str(&p.html).unwrap();
        let jwt = body["access_token"].as_str().unwrap().to_owned();
        assert_eq!(jwt.split('.').count(), 3, "a JWT");
        let (status, me) = srv.me(&jwt).await;
        assert_eq!(status, 200, "{me}");
        assert_eq!(me["user_id"], Value::from(admin.id.as_str()));
        // Without the page's token, no token is minted.
        let p = c.post_with("/portal/explorer/token", &[], None, None).await;
        assert_eq!(p.status, StatusCode::FORBIDDEN);

        let session = c.cookie("kg_portal").unwrap().to_owned();
        let p = c.post("/portal/sign-out", &[]).await;
        assert_eq!(
            (p.status, p.location.as_deref()),
            (StatusCode::SEE_OTHER, Some("/portal/sign-in"))
        );
        assert!(c.cookie("kg_portal").is_none(), "the cookie is cleared");
        // The old cookie, replayed, no longer opens anything.
        c.cookies.push(("kg_portal".into(), session));
        let p = c.get("/portal/api-keys").await;
        assert_eq!(p.location.as_deref(), Some("/portal/sign-in?expired=1"));
        assert_eq!(srv.me(&jwt).await.0, 401);
        let (status, _) = srv.admin(Method::GET, "/admin/v1/accounts", None).await;
        assert_eq!(status, 200, "the server is fine");
    }
);
