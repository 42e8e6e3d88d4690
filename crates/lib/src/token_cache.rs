//! Access tokens whose signature has been verified, so that a hot token is not verified
//! cryptographically on every request (an ES256 verification costs more than the rest of a read).
//!
//! Only the signature and header checks are skipped, and the caller the claims describe is built once.
//! On every hit the token's times are checked again and the key that signed it must still be in the
//! keyring; revocation and suspension are asked of the store on every request as before, so they still
//! take effect at once, on every node.

use std::sync::Arc;

use quick_cache::sync::Cache;
use quick_cache::UnitWeighter;

use crate::tokens::{Principal, TokenRejection};

/// Keyed by the token itself, so a hit is an exact match of the whole token, whatever the hash: it only
/// picks the bucket, and only tokens whose signature verified are ever stored. (Hashing the token with
/// SHA-256 instead cost more than the rest of the cache look-up.)
type Tokens = Cache<Box<str>, Arc<Verified>, UnitWeighter, foldhash::fast::RandomState>;

pub(crate) struct VerifiedTokens {
    cache: Option<Tokens>,
}

struct Verified {
    kid: String,
    nbf: i64,
    exp: i64,
    /// Built from the claims when the token was verified: a hit shares it rather than parsing and
    /// validating the account, credential, user and scope again, or copying its ids.
    principal: Arc<Principal>,
}

impl VerifiedTokens {
    /// Holds up to `entries` tokens (0: no cache).
    pub(crate) fn new(entries: usize) -> Self {
        Self {
            cache: (entries > 0).then(|| {
                Tokens::with(
                    entries,
                    entries as u64,
                    UnitWeighter,
                    foldhash::fast::RandomState::default(),
                    Default::default(),
                )
            }),
        }
    }

    /// The caller of a token verified before, if its key is still known (`key_known`); its times are
    /// checked as a full verification would (with `leeway`).
    pub(crate) fn get(
        &self,
        token: &str,
        key_known: impl Fn(&str) -> bool,
        now: i64,
        leeway: i64,
    ) -> Option<Result<Arc<Principal>, TokenRejection>> {
        let cache = self.cache.as_ref()?;
        let hit = cache.get(token)?;
        if !key_known(&hit.kid) {
            cache.remove(token);
            return None;
        }
        Some(if hit.exp < now - leeway {
            cache.remove(token);
            Err(TokenRejection::Expired)
        } else if hit.nbf > now + leeway {
            Err(TokenRejection::NotYetValid)
        } else {
            Ok(hit.principal.clone())
        })
    }

    /// Remembers a verified token and its caller (whose claims are the token's).
    pub(crate) fn insert(&self, token: &str, kid: String, principal: &Arc<Principal>) {
        let (Some(cache), Some(claims)) = (&self.cache, principal.claims.as_ref()) else {
            return;
        };
        cache.insert(
            token.into(),
            Arc::new(Verified {
                kid,
                nbf: claims.nbf,
                exp: claims.exp,
                principal: principal.clone(),
            }),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use keygate_core::claims::AccessTokenClaims;

    const APP: &str = "abcdefghijklmnopqrstuvwx";

    fn principal(nbf: i64, exp: i64) -> Arc<Principal> {
        let claims = Arc::new(AccessTokenClaims {
            iss: "https://kg.example".into(),
            sub: APP.into(),
            aud: "https://kg.example".into(),
            exp,
            iat: nbf,
            nbf,
            jti: "at_1".into(),
            client_id: APP.into(),
            scope: "contacts.read".into(),
            account: "ab123".into(),
            sid: None,
            api_key: None,
            origin: None,
            act: None,
        });
        Arc::new(Principal::from_claims(claims).unwrap())
    }

    const T: i64 = 1_800_000_000;
    fn known(kid: &str) -> bool {
        kid == "k1"
    }

    #[test]
    fn remembers_a_verified_token_until_it_expires() {
        let cache = VerifiedTokens::new(10);
        assert!(cache.get("a.b.c", known, T, 30).is_none(), "never verified");
        cache.insert("a.b.c", "k1".into(), &principal(T, T + 100));
        assert_eq!(
            cache
                .get("a.b.c", known, T + 50, 30)
                .unwrap()
                .unwrap()
                .claims
                .as_ref()
                .unwrap()
                .jti,
            "at_1"
        );
        assert!(
            cache.get("a.b.d", known, T, 30).is_none(),
            "only that exact token"
        );
        assert!(
            cache.get("a.b.c", known, T + 130, 30).unwrap().is_ok(),
            "within the leeway"
        );
        assert!(matches!(
            cache.get("a.b.c", known, T + 131, 30),
            Some(Err(TokenRejection::Expired))
        ));
        assert!(
            cache.get("a.b.c", known, T, 30).is_none(),
            "an expired token is forgotten"
        );
    }

    #[test]
    fn checks_not_before_and_the_signing_key() {
        let cache = VerifiedTokens::new(10);
        cache.insert("early", "k1".into(), &principal(T + 100, T + 200));
        assert!(matches!(
            cache.get("early", known, T, 30),
            Some(Err(TokenRejection::NotYetValid))
        ));
        cache.insert("gone", "k0".into(), &principal(T, T + 100));
        assert!(
            cache.get("gone", known, T, 30).is_none(),
            "its key left the keyring: verify again"
        );
    }

    #[test]
    fn zero_entries_turns_it_off() {
        let cache = VerifiedTokens::new(0);
        cache.insert("a.b.c", "k1".into(), &principal(T, T + 100));
        assert!(cache.get("a.b.c", known, T, 30).is_none());
    }
}
