//! A latency histogram of plain atomics. prometheus-client's own histogram takes a write lock on every
//! observation, which makes each route's histogram a lock every request to that route contends for.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::Duration;

/// Upper bounds of the buckets: 0.5 ms doubling thirteen times, to 4.096 s; then `+Inf`.
const BOUNDS_NANOS: [u64; 14] = {
    let mut bounds = [0; 14];
    let mut i = 0;
    while i < bounds.len() {
        bounds[i] = 500_000 << i;
        i += 1;
    }
    bounds
};

#[derive(Default)]
pub struct LatencyHistogram {
    /// One count per bound, then the `+Inf` bucket; not cumulative (the encoder sums them).
    counts: [AtomicU64; BOUNDS_NANOS.len() + 1],
    /// Whole nanoseconds: an integer sum needs no compare-and-swap loop, and 2^64 ns is 584 years.
    sum_nanos: AtomicU64,
}

/// A histogram's values as the text encoder takes them.
pub struct Snapshot {
    pub sum_seconds: f64,
    pub count: u64,
    /// (upper bound in seconds, count in that bucket alone); `f64::MAX` stands for `+Inf`.
    pub buckets: Vec<(f64, u64)>,
}

impl LatencyHistogram {
    pub fn observe(&self, elapsed: Duration) {
        let nanos = u64::try_from(elapsed.as_nanos()).unwrap_or(u64::MAX);
        let bucket = BOUNDS_NANOS.partition_point(|&bound| bound < nanos);
        self.counts[bucket].fetch_add(1, Relaxed);
        self.sum_nanos.fetch_add(nanos, Relaxed);
    }

    /// The count is the buckets' total as read, so a scrape never shows more observations than its
    /// buckets hold; the sum may include one that is still being counted.
    pub fn snapshot(&self) -> Snapshot {
        let buckets: Vec<(f64, u64)> = self
            .counts
            .iter()
            .enumerate()
            .map(|(i, count)| {
                let bound = BOUNDS_NANOS.get(i).map_or(f64::MAX, |&b| b as f64 / 1e9);
                (bound, count.load(Relaxed))
            })
            .collect();
        Snapshot {
            sum_seconds: self.sum_nanos.load(Relaxed) as f64 / 1e9,
            count: buckets.iter().map(|(_, c)| c).sum(),
            buckets,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn counts(h: &LatencyHistogram) -> Vec<u64> {
        h.snapshot().buckets.iter().map(|(_, c)| *c).collect()
    }

    #[test]
    fn a_value_on_a_bound_counts_in_that_bucket() {
        let h = LatencyHistogram::default();
        h.observe(Duration::from_micros(500));
        h.observe(Duration::from_micros(501));
        h.observe(Duration::from_millis(1));
        h.observe(Duration::from_nanos(1));
        let c = counts(&h);
        assert_eq!(&c[..3], &[2, 2, 0]);
        assert_eq!(h.snapshot().count, 4);
    }

    #[test]
    fn slow_requests_fall_in_the_infinite_bucket() {
        let h = LatencyHistogram::default();
        h.observe(Duration::from_millis(4096));
        h.observe(Duration::from_secs(5));
        h.observe(Duration::from_secs(3600));
        let snapshot = h.snapshot();
        let last = snapshot.buckets.len() - 1;
        assert_eq!(snapshot.buckets[last - 1], (4.096, 1));
        assert_eq!(snapshot.buckets[last], (f64::MAX, 2));
    }

    #[test]
    fn the_sum_is_kept_in_seconds() {
        let h = LatencyHistogram::default();
        h.observe(Duration::from_millis(250));
        h.observe(Duration::from_millis(1500));
        let snapshot = h.snapshot();
        assert!(
            (snapshot.sum_seconds - 1.75).abs() < 1e-9,
            "{}",
            snapshot.sum_seconds
        );
        assert_eq!(snapshot.count, 2);
    }
}
