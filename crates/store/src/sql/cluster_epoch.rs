//! The auth epoch of Keygate nodes sharing a PostgreSQL database, so that they too answer hot
//! authentication reads from memory and a revocation still takes effect at once on every node.
//!
//! Each node keeps its own counters, as one process does, and holds a lease in the `auth_nodes` table. It
//! trusts what it cached only while its last renewal stands (`TRUST`, shorter than the lease the database
//! records, so the node stops first). A write that may change a cached answer is announced after it ends:
//! a `NOTIFY` carrying a number from the `auth_changes` sequence. Each node moves its counters when the
//! announcement reaches it, then records the number as seen. The writer answers only once every node
//! holding a lease has seen it (or its lease has run out), so an answer read before a write ended is never
//! used by any node after that write was acknowledged.
//!
//! Renewals, announcements and acknowledgements all go through one connection per node: a node cut off
//! from the database can neither renew nor hear, and stops trusting its cache within `TRUST`; a writer
//! then waits for its lease to run out (`LEASE`), which is what a crashed node costs writers too. A node
//! that stops cleanly ([`ClusterEpoch::leave`]) deletes its row and costs nothing.
//!
//! Hand-written because no crate does it: it is PostgreSQL's LISTEN/NOTIFY with leases, the way a
//! coordination service keeps client caches coherent, over the database the nodes already share.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

use sqlx::postgres::{PgConnectOptions, PgListener, PgNotification, PgPool, PgPoolOptions};

use super::auth_epoch::{Counter, COUNTERS};
use super::connect::ACQUIRE_TIMEOUT;

const CHANNEL: &str = "keygate_auth";
/// How often a node renews its lease.
const RENEW_EVERY: Duration = Duration::from_millis(1000);
/// How long a renewal lasts in the database's eyes (from when it ran there): how long a writer waits at
/// most for a node that stopped answering.
const LEASE: Duration = Duration::from_millis(3000);
/// How long a node trusts a renewal, from before it was sent. The second between this and `LEASE` covers
/// the node's and the database's clocks running at slightly different rates.
const TRUST: Duration = Duration::from_millis(2000);
/// A writer stops waiting after this (and says so in the log): every lease not renewed has run out by
/// then, so only a node renewing without hearing announcements (which the loop below rules out) could
/// still be waited for.
const WAIT_AT_MOST: Duration = Duration::from_millis(4000);
/// Rows of nodes whose lease ran out this long ago are deleted by the next node to register.
const FORGET_AFTER_SECS: f64 = 3600.0;

/// The nodes a writer (node `$1`) waits for: the others still holding a lease that have not seen
/// announcement `$n`. Shared by the announcement and the polls after it.
macro_rules! waiting_for {
    ($n:literal) => {
        concat!(
            "SELECT count(*) FROM auth_nodes \
             WHERE node <> $1 AND lease_until > clock_timestamp() AND seen < ",
            $n
        )
    };
}

pub(super) struct ClusterEpoch {
    counters: [AtomicU64; COUNTERS],
    /// Trust ends `trusted_until` nanoseconds after `base` (0: not trusted).
    base: Instant,
    trusted_until: AtomicU64,
    node: String,
    /// Writers announce through the store's pool; the node's own connection is the listener's.
    pool: PgPool,
    left: std::sync::atomic::AtomicBool,
    stop: tokio::sync::Notify,
}

impl std::fmt::Debug for ClusterEpoch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClusterEpoch")
            .field("node", &self.node)
            .field("trusted", &self.trusted())
            .finish_non_exhaustive()
    }
}

impl ClusterEpoch {
    /// Joins the nodes of the database `pool` reaches, through one more connection made with `options`.
    /// Untrusted (nothing cached) until the first renewal, which needs the migrations.
    pub(super) fn join(pool: PgPool, options: PgConnectOptions) -> Arc<Self> {
        let epoch = Self::announcer(pool);
        // A pool of its own, so the listening connection never takes one of the store's; named after the
        // node, so that operators can match `pg_stat_activity` to `auth_nodes`.
        let listener_pool = PgPoolOptions::new()
            .max_connections(1)
            .acquire_timeout(ACQUIRE_TIMEOUT)
            .connect_lazy_with(options.application_name(&format!("keygate {}", epoch.node)));
        tokio::spawn(keep_lease(Arc::downgrade(&epoch), listener_pool));
        epoch
    }

    /// For a process that is not a node (the admin CLI): it caches nothing, but announces its writes and
    /// waits for the nodes to hear them, as a node does.
    pub(super) fn announcer(pool: PgPool) -> Arc<Self> {
        Arc::new(Self {
            counters: Default::default(),
            base: Instant::now(),
            trusted_until: AtomicU64::new(0),
            node: keygate_core::ids::opaque_id("node_"),
            pool,
            left: Default::default(),
            stop: tokio::sync::Notify::new(),
        })
    }

    /// This node's id, as in `auth_nodes` and in its listening connection's `application_name`.
    #[cfg(test)]
    pub(super) fn node(&self) -> &str {
        &self.node
    }

    pub(super) fn counter(&self, which: Counter) -> &AtomicU64 {
        &self.counters[which as usize]
    }

    /// Whether cached answers may be used (and new ones kept) now.
    pub(super) fn trusted(&self) -> bool {
        self.nanos_since_base(Instant::now()) < self.trusted_until.load(Ordering::Acquire)
    }

    fn nanos_since_base(&self, at: Instant) -> u64 {
        u64::try_from(at.saturating_duration_since(self.base).as_nanos()).unwrap_or(u64::MAX)
    }

    fn trust_until(&self, until: Instant) {
        self.trusted_until
            .store(self.nanos_since_base(until), Ordering::Release);
    }

    fn distrust(&self) {
        self.trusted_until.store(0, Ordering::Release);
        self.bump_all();
    }

    fn bump_all(&self) {
        for counter in &self.counters {
            counter.fetch_add(1, Ordering::AcqRel);
        }
    }

    /// Tells every node that a write touching `counters` has ended, and waits until each has moved them
    /// (or lost its lease). Failures are logged: the write itself is done, and other nodes' answers then
    /// age out as after a writer that died between its commit and its announcement.
    pub(super) async fn announce(&self, counters: &[Counter]) {
        let letters: String = counters.iter().map(|&c| letter(c)).collect();
        let started = Instant::now();
        // One round trip when no other node needs to hear it (the common case of a single node).
        let sent: sqlx::Result<(i64, i64)> = sqlx::query_as(concat!(
            "WITH change AS (SELECT nextval('auth_changes') AS n), \
                  sent AS (SELECT pg_notify($3, change.n || ' ' || $2 || ' ' || $1) FROM change) \
             SELECT change.n, (",
            waiting_for!("change.n"),
            ") FROM change, sent"
        ))
        .bind(&self.node)
        .bind(&letters)
        .bind(CHANNEL)
        .fetch_one(&self.pool)
        .await;
        let (change, mut waiting) = match sent {
            Ok(row) => row,
            Err(e) => {
                tracing::warn!(error = %e, "could not announce an authentication change to other nodes; \
                    their cached answers age out within 2 s");
                return;
            }
        };
        let mut pause = Duration::from_millis(1);
        while waiting > 0 {
            if started.elapsed() > WAIT_AT_MOST {
                tracing::warn!(
                    nodes = waiting,
                    "nodes did not acknowledge an authentication change in time; \
                    their cached answers age out within 2 s"
                );
                return;
            }
            tokio::time::sleep(pause).await;
            pause = (pause * 2).min(Duration::from_millis(20));
            match sqlx::query_scalar::<_, i64>(waiting_for!("$2"))
                .bind(&self.node)
                .bind(change)
                .fetch_one(&self.pool)
                .await
            {
                Ok(n) => waiting = n,
                Err(e) => {
                    tracing::warn!(error = %e, "could not learn whether other nodes acknowledged an \
                        authentication change; their cached answers age out within 2 s");
                    return;
                }
            }
        }
    }

    /// Leaves the nodes: the lease is deleted, so writers stop waiting for this one at once.
    pub(super) async fn leave(&self) {
        self.left.store(true, Ordering::Release);
        self.stop.notify_one();
        self.distrust();
        let _ = sqlx::query("DELETE FROM auth_nodes WHERE node = $1")
            .bind(&self.node)
            .execute(&self.pool)
            .await;
    }
}

/// How an announcement names each counter it moves.
const LETTERS: [(Counter, char); COUNTERS] = [(Counter::Credentials, 'c'), (Counter::Lockouts, 'l')];

fn letter(counter: Counter) -> char {
    LETTERS[counter as usize].1
}

fn named(letter: char) -> Option<Counter> {
    LETTERS.iter().find(|&&(_, l)| l == letter).map(|&(c, _)| c)
}

/// An announcement: its number, the counters it moves, and the node that wrote.
fn parse(notification: &PgNotification) -> Option<(i64, &str, &str)> {
    let mut parts = notification.payload().splitn(3, ' ');
    let n = parts.next()?.parse().ok()?;
    Some((n, parts.next()?, parts.next()?))
}

/// The node's loop: listens, renews, acknowledges; ends when the store is dropped or leaves.
async fn keep_lease(epoch: Weak<ClusterEpoch>, listener_pool: PgPool) {
    let mut link: Option<Link> = None;
    loop {
        let Some(node) = epoch.upgrade().filter(|node| !node.left.load(Ordering::Acquire)) else {
            return;
        };
        let Some(current) = link.as_mut() else {
            match Link::open(&listener_pool).await {
                Ok(opened) => link = Some(opened),
                Err(e) => {
                    tracing::debug!(error = %e, "cannot listen for authentication changes yet");
                    drop(node);
                    tokio::time::sleep(RENEW_EVERY / 4).await;
                }
            }
            continue;
        };
        let wait = current.renew_at.saturating_duration_since(Instant::now());
        let outcome = tokio::select! {
            () = node.stop.notified() => return,
            heard = tokio::time::timeout(wait, current.listener.try_recv()) => heard,
        };
        let kept = match outcome {
            Ok(Ok(Some(first))) => current.hear(&node, first).await,
            // The connection was lost: announcements made meanwhile were lost with it.
            Ok(Ok(None) | Err(_)) => false,
            Err(_time_to_renew) => current.renew(&node).await,
        };
        if !kept {
            // Quiet at start-up, when the first renewal may come before the migrations.
            if node.trusted() {
                tracing::warn!(
                    "lost the connection through which this node hears other nodes' \
                    authentication changes: answering from the database until it is back"
                );
            }
            node.distrust();
            link = None;
        }
    }
}

/// The node's connection and what it has told the database through it.
struct Link {
    listener: PgListener,
    registered: bool,
    /// The highest announcement this node has moved its counters for.
    seen: i64,
    renew_at: Instant,
}

impl Link {
    async fn open(pool: &PgPool) -> sqlx::Result<Self> {
        let mut listener = PgListener::connect_with(pool).await?;
        listener.listen(CHANNEL).await?;
        Ok(Self {
            listener,
            registered: false,
            seen: 0,
            renew_at: Instant::now(),
        })
    }

    /// Moves the counters for `first` and any announcement already buffered, then acknowledges them.
    async fn hear(&mut self, node: &ClusterEpoch, first: PgNotification) -> bool {
        let heard = self.take(node, Some(first));
        if !heard || !self.registered {
            return true;
        }
        self.acknowledge(node).await
    }

    /// Records `seen` in the node's row: writers waiting for it stop waiting.
    async fn acknowledge(&mut self, node: &ClusterEpoch) -> bool {
        sqlx::query("UPDATE auth_nodes SET seen = GREATEST(seen, $2) WHERE node = $1")
            .bind(&node.node)
            .bind(self.seen)
            .execute(&mut self.listener)
            .await
            .is_ok_and(|done| done.rows_affected() == 1)
    }

    /// Moves the counters for `first` and every buffered announcement; whether there was any.
    fn take(&mut self, node: &ClusterEpoch, first: Option<PgNotification>) -> bool {
        let mut any = false;
        let mut next = first.or_else(|| self.listener.next_buffered());
        while let Some(notification) = next {
            if let Some((n, letters, writer)) = parse(&notification) {
                // The writer moved its own counters around its write.
                if writer != node.node {
                    for counter in letters.chars().filter_map(named) {
                        node.counter(counter).fetch_add(1, Ordering::AcqRel);
                    }
                }
                self.seen = self.seen.max(n);
                any = true;
            }
            next = self.listener.next_buffered();
        }
        any
    }

    /// Renews the lease (registering first if this connection has not), then takes the announcements that
    /// arrived with the answer before trusting the cache again: every write announced before the renewal
    /// ran has then been heard.
    async fn renew(&mut self, node: &ClusterEpoch) -> bool {
        let sent = Instant::now();
        let lease = LEASE.as_secs_f64();
        let renewed = if self.registered {
            sqlx::query(
                "UPDATE auth_nodes SET lease_until = clock_timestamp() + make_interval(secs => $2), \
                 seen = GREATEST(seen, $3) WHERE node = $1",
            )
            .bind(&node.node)
            .bind(lease)
            .bind(self.seen)
            .execute(&mut self.listener)
            .await
            .map(|done| done.rows_affected() == 1)
        } else {
            self.register(node, lease).await
        };
        if !matches!(renewed, Ok(true)) {
            return false;
        }
        let was_trusted = node.trusted();
        if self.take(node, None) && !self.acknowledge(node).await {
            return false;
        }
        if !was_trusted {
            // Answers kept before trust lapsed may predate announcements nobody waited for us to hear.
            node.bump_all();
        }
        node.trust_until(sent + TRUST);
        self.renew_at = sent + RENEW_EVERY;
        true
    }

    /// Registers as having seen every announcement made so far: this connection hears all later ones,
    /// and the node reads nothing it keeps before the registration has ended.
    async fn register(&mut self, node: &ClusterEpoch, lease: f64) -> sqlx::Result<bool> {
        sqlx::query(
            "DELETE FROM auth_nodes WHERE lease_until < clock_timestamp() - make_interval(secs => $1)",
        )
        .bind(FORGET_AFTER_SECS)
        .execute(&mut self.listener)
        .await?;
        let seen: i64 = sqlx::query_scalar(
            "INSERT INTO auth_nodes (node, lease_until, seen) \
             SELECT $1, clock_timestamp() + make_interval(secs => $2), \
                    CASE WHEN is_called THEN last_value ELSE 0 END FROM auth_changes \
             ON CONFLICT (node) DO UPDATE SET lease_until = EXCLUDED.lease_until, seen = EXCLUDED.seen \
             RETURNING seen",
        )
        .bind(&node.node)
        .bind(lease)
        .fetch_one(&mut self.listener)
        .await?;
        self.seen = self.seen.max(seen);
        self.registered = true;
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_counter_has_a_letter_of_its_own() {
        for (c, l) in LETTERS {
            assert_eq!(letter(c), l);
            assert_eq!(named(l).map(|c| c as usize), Some(c as usize));
        }
        assert!(named('x').is_none());
    }
}
