//! Redirect URIs and web origins.

use url::Url;

use crate::InvalidInput;

fn is_loopback_host(host: &str) -> bool {
    matches!(host, "localhost" | "127.0.0.1" | "[::1]")
}

/// A redirect URI an app may register: absolute, no fragment (RFC 6749 §3.1.2), HTTPS, or plain HTTP
/// only on a loopback host (RFC 8252 §7.3, for native and development clients). Matching at authorize
/// time is exact string equality, so we store exactly what was registered.
pub fn validate_redirect_uri(uri: &str) -> Result<(), InvalidInput> {
    let bad = |m: &str| Err(InvalidInput::new("redirect_uris", format!("{uri}: {m}")));
    let Ok(parsed) = Url::parse(uri) else {
        return bad("is not an absolute URI");
    };
    if parsed.fragment().is_some() {
        return bad("must not contain a fragment");
    }
    if parsed.username() != "" || parsed.password().is_some() {
        return bad("must not contain credentials");
    }
    let host = parsed.host_str().unwrap_or("");
    match parsed.scheme() {
        "https" if !host.is_empty() => Ok(()),
        "http" if is_loopback_host(host) => Ok(()),
        "http" => bad("plain http is only allowed for localhost, 127.0.0.1 and [::1]"),
        _ => bad("must use https (or http on a loopback host)"),
    }
}

/// A web origin (`scheme://host[:port]`), or a pattern with one leading wildcard label
/// (`https://*.example.com`) that matches any subdomain, never the bare domain.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct OriginPattern {
    scheme: String,
    /// Host without the wildcard label; `wildcard` says whether one more label is required in front.
    host: String,
    wildcard: bool,
    port: Option<u16>,
}

impl OriginPattern {
    pub fn parse(v: &str) -> Result<Self, InvalidInput> {
        let bad = |m: &str| Err(InvalidInput::new("allowed_origins", format!("{v}: {m}")));
        let Some((scheme, rest)) = v.split_once("://") else {
            return bad("must look like https://host[:port]");
        };
        if scheme != "https" && scheme != "http" {
            return bad("scheme must be http or https");
        }
        let (wildcard, rest) = match rest.strip_prefix("*.") {
            Some(r) => (true, r),
            None => (false, rest),
        };
        if rest.contains('*') {
            return bad("a wildcard may only be the first label, as in https://*.example.com");
        }
        let probe = format!("{scheme}://{rest}");
        let Ok(url) = Url::parse(&probe) else {
            return bad("is not a valid origin");
        };
        if url.path() != "/" || probe.ends_with('/') || url.query().is_some() || url.username() != "" {
            return bad("an origin has no path, query or credentials");
        }
        let Some(host) = url.host_str() else {
            return bad("has no host");
        };
        if wildcard && !host.contains('.') {
            return bad("a wildcard needs a domain with at least two labels after it");
        }
        Ok(Self {
            scheme: scheme.to_owned(),
            host: host.to_owned(),
            wildcard,
            port: url.port(),
        })
    }

    /// Whether a browser-sent `Origin` header value matches. Scheme, host and port must all match.
    pub fn matches(&self, origin: &str) -> bool {
        let Ok(o) = OriginPattern::parse(origin) else {
            return false;
        };
        if o.wildcard || o.scheme != self.scheme || o.port != self.port {
            return false;
        }
        if self.wildcard {
            o.host
                .strip_suffix(&self.host)
                .is_some_and(|head| head.len() > 1 && head.ends_with('.'))
        } else {
            o.host == self.host
        }
    }
}

impl std::fmt::Display for OriginPattern {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}://{}{}",
            self.scheme,
            if self.wildcard { "*." } else { "" },
            self.host
        )?;
        if let Some(p) = self.port {
            write!(f, ":{p}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redirect_uris() {
        assert!(validate_redirect_uri("https://app.example.com/cb").is_ok());
        assert!(validate_redirect_uri("http://127.0.0.1:8765/cb").is_ok());
        assert!(validate_redirect_uri("http://localhost/cb").is_ok());
        for bad in [
            "http://evil.com/cb",
            "https://a.com/cb#frag",
            "/relative",
            "ftp://a.com/",
            "https://u:p@a.com/",
        ] {
            assert!(validate_redirect_uri(bad).is_err(), "{bad} accepted");
        }
    }

    #[test]
    fn origins() {
        let exact = OriginPattern::parse("https://shop.example.com").unwrap();
        assert!(exact.matches("https://shop.example.com"));
        assert!(!exact.matches("http://shop.example.com"));
        assert!(!exact.matches("https://shop.example.com:8443"));
        assert!(!exact.matches("https://evil.shop.example.com"));
        let wild = OriginPattern::parse("https://*.example.com").unwrap();
        assert!(wild.matches("https://a.example.com"));
        assert!(wild.matches("https://a.b.example.com"));
        assert!(!wild.matches("https://example.com"));
        assert!(!wild.matches("https://evilexample.com"));
        assert_eq!(wild.to_string(), "https://*.example.com");
        let port = OriginPattern::parse("http://localhost:3000").unwrap();
        assert!(port.matches("http://localhost:3000"));
        assert!(!port.matches("http://localhost:3001"));
        for bad in [
            "https://a.com/",
            "https://a.com/path",
            "ftp://a.com",
            "https://a.*.com",
            "https://*.com",
            "a.com",
        ] {
            assert!(OriginPattern::parse(bad).is_err(), "{bad} accepted");
        }
    }
}
