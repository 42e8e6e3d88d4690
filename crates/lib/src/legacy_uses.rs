//! Legacy-key use counts, gathered in memory and written to the store every few seconds instead of on
//! every call: the write was costlier than the read it counted, and every call queued on the key's row.
//!
//! The first use of a key each day on a node is still written at once, because its answer (the previous
//! use) decides whether the day's `legacy_key.used` audit event is due. Counts reach the store within
//! [`FLUSH_INTERVAL_SECS`]; a crash loses at most that much counting, never an audit event.

use std::collections::hash_map::DefaultHasher;
use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::sync::{Mutex, MutexGuard, PoisonError};

use keygate_core::ids::LegacyKeyId;
use keygate_store::{Store, StoreError};

pub const FLUSH_INTERVAL_SECS: u64 = 5;
const DAY: i64 = 86_400;
/// Independent locks, so calls with different keys never wait for each other.
const SHARDS: usize = 8;

#[derive(Default)]
struct Pending {
    uses: i64,
    last_at: i64,
    /// The day (Unix seconds / 86400) whose first use this node has written through.
    day_written: i64,
}

#[derive(Default)]
pub(crate) struct LegacyKeyUses {
    shards: [Mutex<HashMap<LegacyKeyId, Pending>>; SHARDS],
}

impl LegacyKeyUses {
    fn shard(&self, id: &LegacyKeyId) -> MutexGuard<'_, HashMap<LegacyKeyId, Pending>> {
        let mut h = DefaultHasher::new();
        id.hash(&mut h);
        // A panic elsewhere cannot leave a counter half-updated: the map stays usable.
        self.shards[h.finish() as usize % SHARDS]
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Counts a use at `t` in memory and returns true; or returns false, counting nothing, when it is this
    /// node's first use of the key today, which the caller writes through with
    /// [`Store::record_legacy_key_use`] and then notes with [`Self::written`].
    pub(crate) fn count(&self, id: &LegacyKeyId, t: i64) -> bool {
        let mut shard = self.shard(id);
        match shard.get_mut(id) {
            Some(p) if p.day_written == t / DAY => {
                p.uses += 1;
                p.last_at = p.last_at.max(t);
                true
            }
            _ => false,
        }
    }

    /// Notes that the use at `t` was written through.
    pub(crate) fn written(&self, id: &LegacyKeyId, t: i64) {
        let mut shard = self.shard(id);
        let p = shard.entry(id.clone()).or_default();
        p.day_written = p.day_written.max(t / DAY);
    }

    /// Writes the counted uses; what cannot be written is kept for the next flush.
    pub(crate) async fn flush(&self, store: &dyn Store, now: i64) -> Result<(), StoreError> {
        let mut due = Vec::new();
        for shard in &self.shards {
            let mut map = shard.lock().unwrap_or_else(PoisonError::into_inner);
            for (id, p) in map.iter_mut().filter(|(_, p)| p.uses > 0) {
                due.push((id.clone(), std::mem::take(&mut p.uses), p.last_at));
            }
            // Keys quiet since an earlier day need no memory: their next use writes through.
            map.retain(|_, p| p.uses > 0 || p.day_written == now / DAY);
        }
        let mut first_error = None;
        for (id, uses, at) in due {
            if let Err(e) = store.record_legacy_key_use(&id, uses, at).await {
                let mut shard = self.shard(&id);
                let p = shard.entry(id).or_default();
                p.uses += uses;
                p.last_at = p.last_at.max(at);
                first_error.get_or_insert(e);
            }
        }
        first_error.map_or(Ok(()), Err)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T: i64 = 1_800_000_000 - 1_800_000_000 % DAY + 3_600;

    #[test]
    fn the_first_use_of_each_day_is_written_through_and_the_rest_counted() {
        let uses = LegacyKeyUses::default();
        let (a, b) = (LegacyKeyId::generate(), LegacyKeyId::generate());
        assert!(!uses.count(&a, T), "never seen: write through");
        uses.written(&a, T);
        assert!(uses.count(&a, T + 1));
        assert!(uses.count(&a, T + 5));
        assert!(!uses.count(&b, T + 5), "another key is its own");
        assert!(!uses.count(&a, T + DAY), "a new day: write through again");
        let shard = uses.shard(&a);
        let p = &shard[&a];
        assert_eq!(
            (p.uses, p.last_at),
            (2, T + 5),
            "the uses after the first, and the latest time"
        );
    }

    #[tokio::test]
    async fn a_flush_writes_the_counted_uses_once() {
        use keygate_store::conformance::fixtures;
        let db = keygate_store::testing::TempDatabase::sqlite().await;
        let store = db.store().await.unwrap();
        let account = fixtures::account(&store).await;
        let key = fixtures::legacy_key(&account.name, T);
        store.create_legacy_key(&key).await.unwrap();

        let uses = LegacyKeyUses::default();
        assert_eq!(store.record_legacy_key_use(&key.id, 1, T).await.unwrap(), None);
        uses.written(&key.id, T);
        for i in 1..=3 {
            assert!(uses.count(&key.id, T + i));
        }
        uses.flush(&store, T + 10).await.unwrap();
        let stored = store.get_legacy_key(&key.id).await.unwrap().unwrap();
        assert_eq!((stored.use_count, stored.last_used_at), (4, Some(T + 3)));
        uses.flush(&store, T + 20).await.unwrap();
        let stored = store.get_legacy_key(&key.id).await.unwrap().unwrap();
        assert_eq!(stored.use_count, 4, "nothing is written twice");
        db.cleanup().await;
    }
}
