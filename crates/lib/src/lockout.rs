//! Growing lock-outs after failed authentications, per credential and per client address.
//!
//! Each door names what an attempt is charged to ([`Attempt`]); [`Keygate::guarded`] refuses the attempt
//! outright while either is locked (no secret is even checked, so a locked credential gives nothing away,
//! right or wrong), counts failures that could be guesses, and clears the credential's streak on success.
//! Streaks live in the store, so every node sees the same ones.

use std::future::Future;
use std::net::IpAddr;

use keygate_core::ids::{AccountName, ApiKeyId, ClientId};
use keygate_core::time::now;
use serde_json::json;

use crate::audit::Actor;
use crate::Keygate;

/// What one authentication attempt is charged to.
#[derive(Debug, Clone, Default)]
pub struct Attempt {
    credential: Option<String>,
    address: Option<String>,
}

/// The attempt was refused unseen because its credential or address is locked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("too many failed attempts; try again later")]
pub struct LockedOut {
    pub retry_after: i64,
}

#[derive(Debug)]
pub enum Guarded<E> {
    Locked(LockedOut),
    Failed(E),
}

impl Attempt {
    /// An attempt from `address` (when known), not yet tied to a credential.
    pub fn from(address: Option<IpAddr>) -> Self {
        Self {
            credential: None,
            address: address.map(address_subject),
        }
    }

    /// Charges the attempt to an API key too, when `id` is one (garbage ids are charged to the address only).
    pub fn api_key(mut self, id: &str) -> Self {
        self.credential = ApiKeyId::parse(id).ok().map(|id| format!("api_key:{id}"));
        self
    }

    pub fn client(mut self, id: &str) -> Self {
        self.credential = ClientId::parse(id).ok().map(|id| format!("client:{id}"));
        self
    }

    /// A user named by the login they typed (`email`, or `ab123/email`), case-insensitively.
    pub fn user(mut self, login: &str) -> Self {
        let login = login.trim().to_lowercase();
        self.credential = (!login.is_empty() && login.len() <= 300).then(|| format!("user:{login}"));
        self
    }

    fn subjects(&self) -> impl Iterator<Item = &str> {
        self.credential.iter().chain(&self.address).map(String::as_str)
    }
}

/// IPv6 clients usually hold a whole /64, so that is what an address means for them.
fn address_subject(ip: IpAddr) -> String {
    match ip.to_canonical() {
        IpAddr::V4(v4) => {
            // By hand: `Ipv4Addr`'s `Display` goes through the formatting machinery four times, and
            // every legacy-key and Basic request names its address.
            let mut out = String::with_capacity(20);
            out.push_str("addr:");
            for (i, octet) in v4.octets().into_iter().enumerate() {
                if i > 0 {
                    out.push('.');
                }
                if octet >= 100 {
                    out.push(char::from(b'0' + octet / 100));
                }
                if octet >= 10 {
                    out.push(char::from(b'0' + octet / 10 % 10));
                }
                out.push(char::from(b'0' + octet % 10));
            }
            out
        }
        IpAddr::V6(v6) => {
            let s = v6.segments();
            format!("addr:{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
        }
    }
}

impl Keygate {
    /// Runs `work` as one attempt: refused while locked, its guess-like failures (`is_guess`) counted
    /// towards a lock, its success clearing the credential's streak (never the address's: a valid
    /// credential of one's own must not buy more guesses at others).
    pub async fn guarded<T, E>(
        &self,
        attempt: &Attempt,
        work: impl Future<Output = Result<T, E>>,
        is_guess: impl FnOnce(&E) -> bool,
    ) -> Result<T, Guarded<E>> {
        let t = now();
        let subjects: Vec<&str> = attempt.subjects().collect();
        // Bookkeeping failures are logged, not returned: the authentication's own outcome stands.
        let streaks = self.store().auth_streaks(&subjects).await.unwrap_or_else(|e| {
            tracing::warn!(error = %e, "could not check lock-outs");
            Vec::new()
        });
        if let Some(until) = streaks
            .iter()
            .filter(|s| s.locked_at(t))
            .filter_map(|s| s.locked_until)
            .max()
        {
            return Err(Guarded::Locked(LockedOut {
                retry_after: until - t,
            }));
        }
        match work.await {
            Ok(v) => {
                // Only a credential with a streak costs a write.
                let credential = attempt.credential.as_deref();
                if let Some(c) = credential.filter(|c| streaks.iter().any(|s| s.subject == *c)) {
                    if let Err(e) = self.store().clear_auth_failures(c).await {
                        tracing::warn!(error = %e, "could not clear a failure streak");
                    }
                }
                Ok(v)
            }
            Err(e) => {
                if is_guess(&e) {
                    self.count_failure(attempt).await;
                }
                Err(Guarded::Failed(e))
            }
        }
    }

    async fn count_failure(&self, attempt: &Attempt) {
        let policy = self.lockout_settings();
        let t = now();
        let charged = [
            (
                attempt.credential.as_deref(),
                policy.credential_attempts,
                "auth.locked_out",
            ),
            (
                attempt.address.as_deref(),
                policy.address_attempts,
                "auth.failure_burst",
            ),
        ];
        for (subject, free, action) in charged {
            let Some(subject) = subject.filter(|_| free > 0) else {
                continue;
            };
            let failures = match self
                .store()
                .record_auth_failure(subject, t, t - policy.reset_after)
                .await
            {
                Ok(n) => n,
                Err(e) => {
                    tracing::warn!(error = %e, "could not count a failed authentication");
                    continue;
                }
            };
            let Some(lock) = policy.lock_for(failures, free) else {
                continue;
            };
            if let Err(e) = self.store().lock_auth_subject(subject, t + lock).await {
                tracing::warn!(error = %e, "could not lock out after failed authentications");
                continue;
            }
            tracing::warn!(subject, failures, lock, "locked out after failed authentications");
            let account = self.subject_account(subject).await;
            let details = json!({"failures": failures, "locked_for": lock, "address": attempt.address});
            self.audit(&Actor::System, action, subject, account.as_ref(), details)
                .await;
        }
    }

    /// The account a locked credential belongs to, so its admins find the event in their audit log.
    async fn subject_account(&self, subject: &str) -> Option<AccountName> {
        let (kind, id) = subject.split_once(':')?;
        match kind {
            "api_key" => {
                let id = ApiKeyId::parse(id).ok()?;
                Some(self.store().get_api_key(&id).await.ok()??.account)
            }
            "client" => {
                let id = ClientId::parse(id).ok()?;
                self.store().get_app(&id).await.ok()??.owner_account
            }
            "user" => AccountName::parse(id.split_once('/')?.0).ok(),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ipv4_subjects_read_as_the_address_does() {
        for a in [0u8, 1, 9, 10, 99, 100, 199, 200, 255] {
            for b in [0u8, 7, 42, 255] {
                let ip = std::net::Ipv4Addr::new(a, b, 255 - b, a);
                assert_eq!(address_subject(IpAddr::V4(ip)), format!("addr:{ip}"));
            }
        }
    }

    #[test]
    fn addresses_group_ipv6_by_64_and_unmap_ipv4() {
        let v6: IpAddr = "2001:db8:1:2:aaaa::1".parse().unwrap();
        let same_net: IpAddr = "2001:db8:1:2:ffff::9".parse().unwrap();
        assert_eq!(address_subject(v6), "addr:2001:db8:1:2::/64");
        assert_eq!(address_subject(v6), address_subject(same_net));
        let mapped: IpAddr = "::ffff:192.0.2.7".parse().unwrap();
        assert_eq!(address_subject(mapped), "addr:192.0.2.7");
    }

    #[test]
    fn only_well_formed_credentials_are_charged() {
        let a = Attempt::from(None).api_key("not a key");
        assert_eq!(a.subjects().count(), 0);
        let a = Attempt::from(Some([10, 0, 0, 1].into())).user(" Ann@Example.com ");
        assert_eq!(
            a.subjects().collect::<Vec<_>>(),
            ["user:ann@example.com", "addr:10.0.0.1"]
        );
    }
}
