//! Machine secrets (client secrets, admin tokens, refresh tokens, authorization codes).
//!
//! They are high-entropy, so a keyed hash (HMAC-SHA256 with a server-side pepper) is enough to make a
//! stolen database useless, and it is cheap: slow password hashes on every token request are what
//! throttles other servers. Comparison is constant-time.

use aws_lc_rs::hmac;
use subtle::ConstantTimeEq;

use crate::crypto::random_string;

const BASE62: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/// The kinds of secret Keygate issues. Each has a prefix so a leaked one is easy to recognise and scan
/// for (in logs, repositories, tickets).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SecretKind {
    ClientSecret,
    ApiKeySecret,
    LegacyKey,
    AdminToken,
    RefreshToken,
    AuthorizationCode,
    /// The developer portal's session cookie.
    PortalSession,
}

impl SecretKind {
    pub fn prefix(self) -> &'static str {
        match self {
            SecretKind::ClientSecret => "kgcs_",
            SecretKind::ApiKeySecret => "kgsk_",
            SecretKind::LegacyKey => "kglk_",
            SecretKind::AdminToken => "kgat_",
            SecretKind::RefreshToken => "kgrt_",
            SecretKind::AuthorizationCode => "kgac_",
            SecretKind::PortalSession => "kgps_",
        }
    }

    /// 43 base62 characters carry about 256 bits.
    const RANDOM_LEN: usize = 43;

    pub fn generate(self) -> Secret {
        Secret(format!(
            "{}{}",
            self.prefix(),
            random_string(BASE62, Self::RANDOM_LEN)
        ))
    }
}

/// A freshly generated secret in clear text. It is shown once and then dropped; `Debug` never prints it.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn expose(&self) -> &str {
        &self.0
    }
    pub fn last4(&self) -> String {
        last4(&self.0)
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Secret(…{})", self.last4())
    }
}

/// The last four characters, which listings and support may show.
pub fn last4(secret: &str) -> String {
    let chars: Vec<char> = secret.chars().collect();
    chars[chars.len().saturating_sub(4)..].iter().collect()
}

/// The keyed hash of secrets.
#[derive(Clone)]
pub struct Pepper(hmac::Key);

impl std::fmt::Debug for Pepper {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Pepper(..)")
    }
}

impl Pepper {
    pub fn new(key: [u8; 32]) -> Self {
        Self(hmac::Key::new(hmac::HMAC_SHA256, &key))
    }

    pub fn hash(&self, secret: &str) -> Vec<u8> {
        hmac::sign(&self.0, secret.as_bytes()).as_ref().to_vec()
    }

    /// Constant-time check of `presented` against a stored hash.
    pub fn verify(&self, presented: &str, stored: &[u8]) -> bool {
        let computed = self.hash(presented);
        computed.len() == stored.len() && bool::from(computed.ct_eq(stored))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_prefixed_long_and_distinct() {
        let a = SecretKind::ClientSecret.generate();
        assert!(a.expose().starts_with("kgcs_"));
        assert!(a.expose().len() >= 32 + 5);
        assert_ne!(a, SecretKind::ClientSecret.generate());
        assert_eq!(a.last4().len(), 4);
        assert!(a.expose().ends_with(&a.last4()));
        assert!(!format!("{a:?}").contains(a.expose()));
    }

    #[test]
    fn keyed_hash_verifies_only_the_right_secret() {
        let p = Pepper::new([7; 32]);
        let s = SecretKind::AdminToken.generate();
        let h = p.hash(s.expose());
        assert!(p.verify(s.expose(), &h));
        assert!(!p.verify("kgat_wrong", &h));
        assert!(
            !Pepper::new([8; 32]).verify(s.expose(), &h),
            "hash must depend on the pepper"
        );
        assert!(!p.verify(s.expose(), &h[..10]));
    }
}
