//! Access tokens whose signature has been verified, so that a hot token is not verified
//! cryptographically on every request (an ES256 verification costs more than the rest of a read).
//!
//! Only the signature and header checks are skipped, and the caller the claims describe is built once.
//! On every hit the token's times are checked again and the key that signed it must still be in the
//! keyring. Revocation and suspension are asked of the store, unless the store leased its last `Live`
//! answer for this token ([`LiveLease`]) and its credentials epoch has not moved since: the lease is
//! kept with the token, so a hot token costs one look-up rather than two, and a revocation still takes
//! effect at once, on every node.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use keygate_store::LiveLease;
use quick_cache::sync::Cache;
use quick_cache::UnitWeighter;

use crate::tokens::{Principal, TokenRejection};

/// Keyed by the token itself, so a hit is an exact match of the whole token, whatever the hash: it only
/// picks the bucket, and only tokens whose signature verified are ever stored. (Hashing the token with
/// SHA-256 instead cost more than the rest of the cache look-up.) By its bytes, as the request brought
/// them: a hit needs no UTF-8 check of the 600-byte token, only a verification does.
type Tokens = Cache<Box<[u8]>, Arc<Verified>, UnitWeighter, foldhash::fast::RandomState>;

pub(crate) struct VerifiedTokens {
    cache: Option<Tokens>,
}

pub(crate) struct Verified {
    kid: String,
    nbf: i64,
    exp: i64,
    /// Built from the claims when the token was verified: a hit shares it rather than parsing and
    /// validating the account, credential, user and scope again, or copying its ids.
    pub(crate) principal: Arc<Principal>,
    live: KeptLiveness,
}

impl Verified {
    /// Whether the token's last `Live` answer still holds in the store's credentials `epoch` at `now`.
    pub(crate) fn still_live(&self, epoch: u64, now: i64) -> bool {
        self.live.holds(epoch, now)
    }

    pub(crate) fn keep_live(&self, lease: LiveLease) {
        self.live.keep(lease);
    }
}

/// A [`LiveLease`] in one atomic word, so that requests sharing the token read and replace it without a
/// lock and never see half of one: the epoch's low 32 bits above the end's 32 (Unix seconds, good until
/// 2106). A lease lasts two seconds at most, and the epoch cannot move 2³² times in that while, so the
/// low bits tell epochs apart as well as all of them would. Zero is no lease (it ended in 1970).
#[derive(Default)]
struct KeptLiveness(AtomicU64);

impl KeptLiveness {
    fn holds(&self, epoch: u64, now: i64) -> bool {
        // Relaxed: the word is the whole of what is shared, nothing else is published through it.
        let word = self.0.load(Ordering::Relaxed);
        (word >> 32) as u32 == epoch as u32 && now < i64::from(word as u32)
    }

    fn keep(&self, lease: LiveLease) {
        let until = u32::try_from(lease.until.max(0)).unwrap_or(u32::MAX);
        self.0.store(
            (u64::from(lease.epoch as u32) << 32) | u64::from(until),
            Ordering::Relaxed,
        );
    }
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

    /// A token verified before, if its key is still known (`key_known`); its times are checked as a
    /// full verification would (with `leeway`).
    pub(crate) fn get(
        &self,
        token: &[u8],
        key_known: impl Fn(&str) -> bool,
        now: i64,
        leeway: i64,
    ) -> Option<Result<Arc<Verified>, TokenRejection>> {
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
            Ok(hit)
        })
    }

    /// Remembers a verified token and its caller (whose claims are the token's); `None` when nothing is
    /// remembered (no cache, or a caller without claims).
    pub(crate) fn insert(
        &self,
        token: &[u8],
        kid: String,
        principal: &Arc<Principal>,
    ) -> Option<Arc<Verified>> {
        let (Some(cache), Some(claims)) = (&self.cache, principal.claims.as_ref()) else {
            return None;
        };
        let verified = Arc::new(Verified {
            kid,
            nbf: claims.nbf,
            exp: claims.exp,
            principal: principal.clone(),
            live: KeptLiveness::default(),
        });
        cache.insert(token.into(), verified.clone());
        Some(verified)
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
        assert!(cache.get(b"a.b.c", known, T, 30).is_none(), "never verified");
        cache.insert(b"a.b.c", "k1".into(), &principal(T, T + 100));
        assert_eq!(
            cache
                .get(b"a.b.c", known, T + 50, 30)
                .unwrap()
                .unwrap()
                .principal
                .claims
                .as_ref()
                .unwrap()
                .jti,
            "at_1"
        );
        assert!(
            cache.get(b"a.b.d", known, T, 30).is_none(),
            "only that exact token"
        );
        assert!(
            cache.get(b"a.b.c", known, T + 130, 30).unwrap().is_ok(),
            "within the leeway"
        );
        assert!(matches!(
            cache.get(b"a.b.c", known, T + 131, 30),
            Some(Err(TokenRejection::Expired))
        ));
        assert!(
            cache.get(b"a.b.c", known, T, 30).is_none(),
            "an expired token is forgotten"
        );
    }

    #[test]
    fn checks_not_before_and_the_signing_key() {
        let cache = VerifiedTokens::new(10);
        cache.insert(b"early", "k1".into(), &principal(T + 100, T + 200));
        assert!(matches!(
            cache.get(b"early", known, T, 30),
            Some(Err(TokenRejection::NotYetValid))
        ));
        cache.insert(b"gone", "k0".into(), &principal(T, T + 100));
        assert!(
            cache.get(b"gone", known, T, 30).is_none(),
            "its key left the keyring: verify again"
        );
    }

    #[test]
    fn keeps_a_live_answer_while_its_epoch_holds_and_until_its_end() {
        let cache = VerifiedTokens::new(10);
        let verified = cache
            .insert(b"a.b.c", "k1".into(), &principal(T, T + 100))
            .unwrap();
        assert!(!verified.still_live(0, T), "no lease yet");
        verified.keep_live(LiveLease {
            epoch: 7,
            until: T + 2,
        });
        let hit = cache.get(b"a.b.c", known, T + 1, 30).unwrap().unwrap();
        assert!(hit.still_live(7, T), "the same entry, shared");
        assert!(hit.still_live(7, T + 1));
        assert!(!hit.still_live(7, T + 2), "the lease ended");
        assert!(!hit.still_live(8, T), "the epoch moved");
        assert!(
            !hit.still_live(7 + (1 << 32) + 1, T),
            "the high bits are not all that differs"
        );
        hit.keep_live(LiveLease {
            epoch: 8,
            until: i64::MAX,
        });
        assert!(hit.still_live(8, T + 1_000), "an end past 2106 is held at 2106");
        assert!(!hit.still_live(7, T));
        hit.keep_live(LiveLease { epoch: 9, until: -5 });
        assert!(!hit.still_live(9, 0), "an end before 1970 never holds");
    }

    #[test]
    fn zero_entries_turns_it_off() {
        let cache = VerifiedTokens::new(0);
        assert!(cache
            .insert(b"a.b.c", "k1".into(), &principal(T, T + 100))
            .is_none());
        assert!(cache.get(b"a.b.c", known, T, 30).is_none());
    }
}
