//! Refresh tokens for the `refresh_token` scenario, obtained the way an app's users get them: the
//! authorization code flow over HTTP (the sign-in form, the consent form, the code exchange), one
//! grant per connection, so each connection follows its own chain of rotations.

use std::net::SocketAddr;

use anyhow::Context;
use bytes::Bytes;
use http::header::{AUTHORIZATION, LOCATION};
use http::Method;

use crate::http::{basic, form_escape, request, value, Conn};
use crate::scenarios::{field, Seed, ACCOUNT};

/// Registered on the benchmark app; nothing is ever sent there, the code is read from the redirect.
pub const REDIRECT_URI: &str = "https://bench.invalid/callback";
const FORM: &str = "application/x-www-form-urlencoded";

pub async fn refresh_tokens(addr: SocketAddr, seed: &Seed, n: usize) -> anyhow::Result<Vec<String>> {
    let host = value(&addr.to_string());
    let client = basic(&seed.client_id, &seed.client_secret);
    let mut conn = Conn::open(addr).await?;
    let mut tokens = Vec::with_capacity(n);
    for i in 0..n {
        let state = format!("bench{i}");
        let sign_in = form(&[
            ("response_type", "code"),
            ("client_id", &seed.client_id),
            ("redirect_uri", REDIRECT_URI),
            ("scope", "contacts.read"),
            ("state", &state),
            ("account", ACCOUNT),
            ("email", &seed.user_email),
            ("password", &seed.user_password),
        ]);
        let page = conn
            .send(request(
                Method::POST,
                &host,
                "/oauth/authorize",
                &[],
                Some((FORM, sign_in)),
            ))
            .await?;
        let html = String::from_utf8_lossy(&page.body);
        let ticket = hidden_value(&html, "ticket").with_context(|| {
            format!(
                "no consent form after signing in (status {}): {html}",
                page.status
            )
        })?;
        let allow = form(&[("ticket", &ticket), ("decision", "allow")]);
        let back = conn
            .send(request(
                Method::POST,
                &host,
                "/oauth/authorize/consent",
                &[],
                Some((FORM, allow)),
            ))
            .await?;
        let location = back
            .headers
            .get(LOCATION)
            .and_then(|v| v.to_str().ok())
            .with_context(|| format!("consent answered {} without a redirect", back.status))?;
        let code = query_value(location, "code").with_context(|| format!("no code in {location}"))?;
        let exchange = form(&[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", REDIRECT_URI),
        ]);
        let answer = conn
            .send(request(
                Method::POST,
                &host,
                "/oauth/token",
                &[(AUTHORIZATION, client.clone())],
                Some((FORM, exchange)),
            ))
            .await?
            .expect_json(200, "exchanging an authorization code")?;
        tokens.push(field(&answer, "refresh_token")?);
    }
    Ok(tokens)
}

pub fn form(pairs: &[(&str, &str)]) -> Bytes {
    let fields: Vec<String> = pairs
        .iter()
        .map(|(k, v)| format!("{k}={}", form_escape(v)))
        .collect();
    Bytes::from(fields.join("&"))
}

/// The value of the hidden input `name` in a page Keygate rendered (`name` then `value`, escaped).
fn hidden_value(html: &str, name: &str) -> Option<String> {
    let marker = format!("<input type=\"hidden\" name=\"{name}\" value=\"");
    let start = html.find(&marker)? + marker.len();
    let end = start + html[start..].find('"')?;
    Some(
        html[start..end]
            .replace("&quot;", "\"")
            .replace("&#39;", "'")
            .replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&amp;", "&"),
    )
}

/// A query parameter of a URL, percent-decoded.
fn query_value(url: &str, name: &str) -> Option<String> {
    let query = url.split_once('?')?.1.split('#').next()?;
    let raw = query
        .split('&')
        .find_map(|pair| pair.strip_prefix(name)?.strip_prefix('='))?;
    let bytes = raw.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' => {
                let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
                out.push(u8::from_str_radix(hex, 16).ok()?);
                i += 3;
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_consent_ticket() {
        let html = "<form><input type=\"hidden\" name=\"ticket\" value=\"a.b&amp;c\"><button>";
        assert_eq!(hidden_value(html, "ticket").as_deref(), Some("a.b&c"));
        assert_eq!(hidden_value(html, "other"), None);
    }

    #[test]
    fn reads_the_code_from_the_redirect() {
        let url = "https://bench.invalid/callback?state=s1&code=ab%2Dc_d&iss=https%3A%2F%2Fk";
        assert_eq!(query_value(url, "code").as_deref(), Some("ab-c_d"));
        assert_eq!(query_value(url, "iss").as_deref(), Some("https://k"));
        assert_eq!(query_value(url, "missing"), None);
        assert_eq!(query_value("https://x/cb?code=bad%2", "code"), None);
    }

    #[test]
    fn forms_escape_their_values() {
        assert_eq!(
            form(&[("a", "b c"), ("d", "e&f")]),
            Bytes::from("a=b%20c&d=e%26f")
        );
    }
}
