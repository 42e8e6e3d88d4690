//! What every authenticated request reads (the app, API key or legacy key presented, the owner account,
//! lock-out streaks, a token's liveness), kept in memory and trusted only while the [`AuthEpoch`] has not moved.
//!
//! Each answer is tagged with the epoch read *before* the database was asked; each write that could
//! change an answer moves the epoch before it starts and after it ends (or is abandoned). So an answer
//! read before a write ended is never used after that write has been acknowledged, in this process or
//! any other one sharing the epoch: a revocation takes effect at once, as if nothing were cached.
//! Answers also age out after [`MAX_AGE`], which bounds the harm of the one race left: a writer that dies,
//! or is cancelled, after its commit but before the second move.

use std::future::Future;
use std::hash::Hash;
use std::sync::Arc;
use std::time::{Duration, Instant};

use keygate_core::model::{Account, ApiKey, App, LegacyKey};
use quick_cache::sync::Cache;
use quick_cache::{Equivalent, UnitWeighter};

use super::auth_epoch::{AuthEpoch, Counter};
use super::liveness::LiveKey;
use crate::{AuthStreak, Result};

/// How long any cached answer is used at most, epoch or not.
pub(super) const MAX_AGE: Duration = Duration::from_secs(2);
/// Records per kind; an entry is a few hundred bytes.
const ENTRIES: usize = 10_000;

/// Lower-case hex, for byte keys (keyed hashes) in the string-keyed maps.
pub(super) fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(char::from(DIGITS[usize::from(b >> 4)]));
        out.push(char::from(DIGITS[usize::from(b & 15)]));
    }
    out
}

/// One kind of answer by its key. foldhash, seeded at random per process, in place of SipHash: the
/// keys are ids and keyed hashes, and every authenticated request hashes at least one.
pub(super) type Answers<T, K = String> = Cache<K, Tagged<T>, UnitWeighter, foldhash::fast::RandomState>;

fn answers<T: Clone, K: Eq + Hash>() -> Answers<T, K> {
    Answers::with(
        ENTRIES,
        ENTRIES as u64,
        UnitWeighter,
        foldhash::fast::RandomState::default(),
        Default::default(),
    )
}

#[derive(Clone)]
pub(super) struct Tagged<T> {
    epoch: u64,
    at: Instant,
    value: T,
}

pub(super) struct AuthCache {
    epoch: AuthEpoch,
    pub(super) apps: Answers<Option<App>>,
    pub(super) accounts: Answers<Option<Account>>,
    pub(super) api_keys: Answers<Option<ApiKey>>,
    /// By the hex of the key's keyed hash. Use counts in these records may lag: only the status and the
    /// owner are read from them on the hot path, and listings read the table.
    pub(super) legacy_keys: Answers<Option<LegacyKey>>,
    pub(super) streaks: Answers<Option<AuthStreak>>,
    /// Liveness answers that were `Live`, until the time they stop being so on their own (a key session's
    /// end; `i64::MAX` for a grant or an app's token).
    pub(super) live: Answers<i64, LiveKey>,
}

impl std::fmt::Debug for AuthCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuthCache")
            .field("epoch", &self.epoch)
            .finish_non_exhaustive()
    }
}

impl AuthCache {
    pub(super) fn new(epoch: AuthEpoch) -> Arc<Self> {
        Arc::new(Self {
            epoch,
            apps: answers(),
            accounts: answers(),
            api_keys: answers(),
            legacy_keys: answers(),
            streaks: answers(),
            live: answers(),
        })
    }

    /// The current credentials epoch, to tag answers read from now on; `None` when nothing may be cached.
    pub(super) fn epoch(&self) -> Option<u64> {
        self.epoch.current(Counter::Credentials)
    }

    /// The PostgreSQL epoch, for tests that look into it.
    #[cfg(test)]
    pub(super) fn cluster(&self) -> Option<&super::cluster_epoch::ClusterEpoch> {
        match &self.epoch {
            AuthEpoch::Cluster(c) => Some(c),
            _ => None,
        }
    }

    /// Leaves the other nodes sharing PostgreSQL, if this is one.
    pub(super) async fn leave(&self) {
        if let AuthEpoch::Cluster(cluster) = &self.epoch {
            cluster.leave().await;
        }
    }

    /// As [`Self::epoch`], for lock-out streaks.
    pub(super) fn lockout_epoch(&self) -> Option<u64> {
        self.epoch.current(Counter::Lockouts)
    }

    /// The cached answer for `key`, if it was read in `epoch` and is young enough.
    pub(super) fn fresh<T, K, Q>(map: &Answers<T, K>, key: &Q, epoch: u64) -> Option<T>
    where
        T: Clone,
        K: Eq + Hash,
        Q: Hash + Equivalent<K> + ?Sized,
    {
        Self::fresh_for(map, key, epoch).map(|(value, _)| value)
    }

    /// As [`Self::fresh`], with how much longer the answer may be used.
    pub(super) fn fresh_for<T, K, Q>(map: &Answers<T, K>, key: &Q, epoch: u64) -> Option<(T, Duration)>
    where
        T: Clone,
        K: Eq + Hash,
        Q: Hash + Equivalent<K> + ?Sized,
    {
        let hit = map.get(key).filter(|hit| hit.epoch == epoch)?;
        let left = MAX_AGE
            .checked_sub(hit.at.elapsed())
            .filter(|left| !left.is_zero())?;
        Some((hit.value, left))
    }

    pub(super) fn keep<T: Clone, K: Eq + Hash>(map: &Answers<T, K>, key: impl Into<K>, epoch: u64, value: T) {
        map.insert(
            key.into(),
            Tagged {
                epoch,
                at: Instant::now(),
                value,
            },
        );
    }

    /// `load`'s answer for `key`, from memory when it was read in the current epoch.
    pub(super) async fn read_through<T: Clone>(
        &self,
        map: &Answers<T>,
        key: &str,
        load: impl Future<Output = Result<T>>,
    ) -> Result<T> {
        let Some(epoch) = self.epoch() else {
            return load.await;
        };
        if let Some(value) = Self::fresh(map, key, epoch) {
            return Ok(value);
        }
        let value = load.await?;
        Self::keep(map, key, epoch, value.clone());
        Ok(value)
    }

    /// Runs a write that may change a cached credential answer, moving the credentials epoch before and
    /// after it, and also when the write is dropped half-way (its commit may still land).
    pub(super) async fn changing<T>(&self, write: impl Future<Output = Result<T>>) -> Result<T> {
        self.moving(&[Counter::Credentials], write).await
    }

    /// As [`Self::changing`], for a write to lock-out streaks.
    pub(super) async fn changing_lockouts<T>(&self, write: impl Future<Output = Result<T>>) -> Result<T> {
        self.moving(&[Counter::Lockouts], write).await
    }

    /// As [`Self::changing`], for a write that may touch anything (purging).
    pub(super) async fn changing_all<T>(&self, write: impl Future<Output = Result<T>>) -> Result<T> {
        self.moving(&[Counter::Credentials, Counter::Lockouts], write)
            .await
    }

    /// Moves `counters` before `write` and after it ends (also when it is dropped half-way: its commit may
    /// still land), and on PostgreSQL announces it to the other nodes before it is acknowledged.
    async fn moving<T>(
        &self,
        counters: &'static [Counter],
        write: impl Future<Output = Result<T>>,
    ) -> Result<T> {
        struct MoveOnDrop<'a> {
            epoch: &'a AuthEpoch,
            counters: &'static [Counter],
            done: bool,
        }
        impl Drop for MoveOnDrop<'_> {
            fn drop(&mut self) {
                if self.done {
                    return;
                }
                self.epoch.bump_each(self.counters);
                if let (AuthEpoch::Cluster(cluster), Ok(runtime)) =
                    (self.epoch, tokio::runtime::Handle::try_current())
                {
                    let (cluster, counters) = (cluster.clone(), self.counters);
                    runtime.spawn(async move { cluster.announce(counters).await });
                }
            }
        }
        self.epoch.bump_each(counters);
        let mut after = MoveOnDrop {
            epoch: &self.epoch,
            counters,
            done: false,
        };
        let result = write.await;
        self.epoch.bump_each(counters);
        if let AuthEpoch::Cluster(cluster) = &self.epoch {
            // Dropped during the announcement: the guard announces again, from a task of its own.
            cluster.announce(counters).await;
        }
        after.done = true;
        result
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use std::sync::atomic::{AtomicU32, Ordering};

    use super::*;

    /// Reads "k" through `cache` into `map`, counting the loads that reached the "database".
    async fn read(cache: &AuthCache, map: &Answers<u32>, loads: &AtomicU32) -> u32 {
        let load = async { Ok(loads.fetch_add(1, Ordering::SeqCst) + 1) };
        cache.read_through(map, "k", load).await.unwrap()
    }

    #[tokio::test]
    async fn answers_are_kept_until_a_write_moves_the_epoch() {
        let cache = AuthCache::new(AuthEpoch::local());
        let (map, loads) = (answers(), AtomicU32::new(0));
        assert_eq!(read(&cache, &map, &loads).await, 1);
        assert_eq!(
            read(&cache, &map, &loads).await,
            1,
            "the second read is answered from memory"
        );
        cache.changing(async { Ok(()) }).await.unwrap();
        assert_eq!(
            read(&cache, &map, &loads).await,
            2,
            "a write makes the next read load again"
        );
        assert_eq!(read(&cache, &map, &loads).await, 2);
        // A failed attempt's streak is a lock-out write: credentials stay cached, streaks do not.
        let streaks = cache.lockout_epoch().unwrap();
        cache.changing_lockouts(async { Ok(()) }).await.unwrap();
        assert_eq!(read(&cache, &map, &loads).await, 2);
        assert_ne!(cache.lockout_epoch().unwrap(), streaks);
        cache.changing_all(async { Ok(()) }).await.unwrap();
        assert_eq!(read(&cache, &map, &loads).await, 3, "purging moves both");
    }

    #[tokio::test]
    async fn a_write_abandoned_half_way_still_moves_the_epoch() {
        let cache = AuthCache::new(AuthEpoch::local());
        let before = cache.epoch().unwrap();
        let write = cache.changing(std::future::pending::<Result<()>>());
        let timed_out = tokio::time::timeout(Duration::from_millis(5), write).await;
        assert!(timed_out.is_err());
        // Once before it started, once when it was dropped: a reader that saw the middle is outdated too.
        assert_eq!(cache.epoch().unwrap(), before + 2);
    }

    #[tokio::test]
    async fn nothing_is_kept_without_an_epoch() {
        let cache = AuthCache::new(AuthEpoch::Off);
        let (map, loads) = (answers(), AtomicU32::new(0));
        assert_eq!(read(&cache, &map, &loads).await, 1);
        assert_eq!(read(&cache, &map, &loads).await, 2);
    }

    #[tokio::test]
    async fn answers_age_out() {
        let cache = AuthCache::new(AuthEpoch::local());
        let epoch = cache.epoch().unwrap();
        let map = answers();
        map.insert(
            "old".to_owned(),
            Tagged {
                epoch,
                at: Instant::now() - MAX_AGE,
                value: 1,
            },
        );
        assert_eq!(AuthCache::fresh(&map, "old", epoch), None);
        AuthCache::keep(&map, "new", epoch, 2);
        assert_eq!(AuthCache::fresh(&map, "new", epoch), Some(2));
        assert_eq!(
            AuthCache::fresh(&map, "new", epoch + 1),
            None,
            "read in another epoch"
        );
    }
}
