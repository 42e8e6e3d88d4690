//! The auth epoch: counters that every write to what authentication reads moves, so that answers cached
//! in memory ([`super::auth_cache`]) are trusted only while theirs has not moved. Two of them: one for
//! credentials (accounts, users, apps, keys, grants, sessions, revoked tokens) and one for lock-out
//! streaks, so that a flood of failed attempts, each of which writes a streak, does not also throw away
//! every node's cached credentials.
//!
//! The counter must be seen by every process that writes the database. An SQLite file can be written by
//! `keygate serve` and, beside it, by `keygate admin` in local mode: for a file the counter lives in a
//! small file next to the database, mapped into memory by each process (the way SQLite shares its own
//! WAL index). An in-memory database has one process, one counter. On PostgreSQL, nodes on other machines
//! share nothing but the database: a server node keeps its own counters, which other nodes' writes move
//! through the database before those writes are acknowledged ([`super::cluster_epoch`]); a process that
//! is not a node (the admin CLI) caches nothing, and announces its writes to the nodes all the same.

use std::fs::OpenOptions;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};

use memmap2::MmapMut;

use super::cluster_epoch::ClusterEpoch;

/// Which of the epoch's counters.
#[derive(Debug, Clone, Copy)]
pub(super) enum Counter {
    Credentials = 0,
    Lockouts = 1,
}

pub(super) const COUNTERS: usize = 2;
const FILE_LEN: u64 = 8 * COUNTERS as u64;

#[derive(Debug)]
pub(super) enum AuthEpoch {
    /// Nothing may be cached.
    Off,
    /// One process owns the database.
    Local([AtomicU64; COUNTERS]),
    /// Shared with every process that maps the same file.
    Shared(SharedCounter),
    /// This node's, moved by other nodes' writes through PostgreSQL; usable only while its lease stands.
    Cluster(std::sync::Arc<ClusterEpoch>),
}

impl AuthEpoch {
    /// The epoch for an SQLite database file at `db_path`, from `<db_path>-epoch`. When that file cannot
    /// be opened or mapped the store still works, uncached.
    pub(super) fn for_sqlite_file(db_path: &Path) -> Self {
        let mut name = db_path.as_os_str().to_owned();
        name.push("-epoch");
        match SharedCounter::open(Path::new(&name), db_path) {
            Ok(counter) => AuthEpoch::Shared(counter),
            Err(e) => {
                // This process then neither caches nor moves the epoch: other processes on the file see
                // its authentication changes only when their answers age out.
                tracing::warn!(path = %Path::new(&name).display(), error = %e,
                    "cannot map the auth epoch file: this process will not cache authentication reads, and \
                     other Keygate processes on this database may see its changes up to 2 s late; give it \
                     the same owner and mode as the database file");
                AuthEpoch::Off
            }
        }
    }

    /// A process of its own: an in-memory database.
    pub(super) fn local() -> Self {
        AuthEpoch::Local(Default::default())
    }

    fn counter(&self, which: Counter) -> Option<&AtomicU64> {
        match self {
            AuthEpoch::Off => None,
            AuthEpoch::Local(counters) => Some(&counters[which as usize]),
            AuthEpoch::Shared(c) => Some(c.get(which)),
            AuthEpoch::Cluster(c) => Some(c.counter(which)),
        }
    }

    /// `None`: do not cache.
    pub(super) fn current(&self, which: Counter) -> Option<u64> {
        if let AuthEpoch::Cluster(c) = self {
            if !c.trusted() {
                return None;
            }
        }
        self.counter(which).map(|n| n.load(Ordering::Acquire))
    }

    pub(super) fn bump(&self, which: Counter) {
        if let Some(n) = self.counter(which) {
            n.fetch_add(1, Ordering::AcqRel);
        }
    }

    pub(super) fn bump_each(&self, counters: &[Counter]) {
        for &c in counters {
            self.bump(c);
        }
    }
}

/// `u64`s in a file mapped shared into memory: an atomic add in one process is seen by a load in another.
pub(super) struct SharedCounter {
    map: MmapMut,
}

impl std::fmt::Debug for SharedCounter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SharedCounter").finish_non_exhaustive()
    }
}

impl SharedCounter {
    /// Opens (or creates) the counter at `path`. A new file takes the permissions of `like`, the database
    /// file, as SQLite's own `-wal` and `-shm` files do: whoever may write the database may move the epoch.
    fn open(path: &Path, like: &Path) -> std::io::Result<Self> {
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(path)?;
        // Only ever grown: a process that shrank it under another's mapping would crash that one (SIGBUS).
        if file.metadata()?.len() < FILE_LEN {
            if let Ok(db) = std::fs::metadata(like) {
                file.set_permissions(db.permissions())?;
            }
            file.set_len(FILE_LEN)?;
        }
        // SAFETY: the mapping is only reached through `get`, as `AtomicU64`s; Keygate never truncates the
        // file (see above), so the mapped bytes stay backed by it while mapped.
        #[allow(unsafe_code)]
        let map = unsafe {
            memmap2::MmapOptions::new()
                .len(FILE_LEN as usize)
                .map_mut(&file)?
        };
        Ok(Self { map })
    }

    fn get(&self, which: Counter) -> &AtomicU64 {
        let first = self.map.as_ptr().cast::<AtomicU64>();
        debug_assert!(first.is_aligned(), "mappings start on a page boundary");
        // SAFETY: the mapping holds COUNTERS u64s and `which` is below COUNTERS; it is page-aligned (so
        // each u64 is aligned) and lives as long as `self`; every access to it, in this process or another,
        // is atomic.
        #[allow(unsafe_code)]
        let ptr = unsafe { first.add(which as usize) };
        #[allow(unsafe_code)]
        unsafe {
            &*ptr
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn two_mappings_of_one_file_share_the_counters() {
        let dir = std::env::temp_dir().join(format!("keygate-epoch-{}", keygate_core::ids::opaque_id("t")));
        std::fs::create_dir_all(&dir).unwrap();
        let db = dir.join("keygate.db");
        let (a, b) = (AuthEpoch::for_sqlite_file(&db), AuthEpoch::for_sqlite_file(&db));
        assert!(matches!(a, AuthEpoch::Shared(_)), "{a:?}");
        let (c, l) = (Counter::Credentials, Counter::Lockouts);
        let start = a.current(c).unwrap();
        assert_eq!(b.current(c), Some(start));
        b.bump(c);
        assert_eq!(
            a.current(c),
            Some(start + 1),
            "a move in one mapping is seen in the other"
        );
        a.bump(c);
        assert_eq!(b.current(c), Some(start + 2));
        // The lock-out counter moves on its own.
        let locks = a.current(l).unwrap();
        b.bump(l);
        assert_eq!(a.current(l), Some(locks + 1));
        assert_eq!(
            a.current(c),
            Some(start + 2),
            "a failed attempt leaves credentials cached"
        );
        // A later opening (a restarted process) starts where the others are.
        assert_eq!(AuthEpoch::for_sqlite_file(&db).current(c), Some(start + 2));
        drop((a, b));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[cfg(unix)]
    #[test]
    fn a_new_counter_takes_the_database_files_mode() {
        use std::os::unix::fs::PermissionsExt;
        let dir = std::env::temp_dir().join(format!("keygate-epoch-{}", keygate_core::ids::opaque_id("t")));
        std::fs::create_dir_all(&dir).unwrap();
        let db = dir.join("keygate.db");
        std::fs::write(&db, b"").unwrap();
        std::fs::set_permissions(&db, std::fs::Permissions::from_mode(0o660)).unwrap();
        let _epoch = AuthEpoch::for_sqlite_file(&db);
        let mode = std::fs::metadata(dir.join("keygate.db-epoch"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o660);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn an_unmappable_file_turns_caching_off() {
        let missing = std::env::temp_dir()
            .join("keygate-no-such-dir")
            .join("x")
            .join("keygate.db");
        let epoch = AuthEpoch::for_sqlite_file(&missing);
        assert_eq!(epoch.current(Counter::Credentials), None);
        epoch.bump(Counter::Credentials);
        assert_eq!(epoch.current(Counter::Credentials), None);
    }
}
