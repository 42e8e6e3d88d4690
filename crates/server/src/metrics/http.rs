//! Requests and their latency by route, counted with atomics only. Routes of the route table get their
//! counters when the router is built, in a map never written again, so a request finds its route's
//! counters without a lock and without building owned labels; routes outside the table (the portal's
//! pages) are counted under a mutex, off the API's hot paths.

use std::collections::HashMap;
use std::fmt;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use axum::http::Method;
use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, NoLabelSet};
use prometheus_client::metrics::MetricType;

use super::histogram::LatencyHistogram;

type Routes = HashMap<Box<str>, RouteStats, foldhash::fast::RandomState>;

/// The methods a response slot can name; any other method is counted in the route's overflow.
const METHODS: [Method; 9] = [
    Method::GET,
    Method::POST,
    Method::PUT,
    Method::PATCH,
    Method::DELETE,
    Method::HEAD,
    Method::OPTIONS,
    Method::TRACE,
    Method::CONNECT,
];

/// Distinct (method, status) pairs a route counts without a lock. A route answers with a handful
/// (200, 400, 401, 404, 429, its preflight's 204); the rest go to the overflow map.
const SLOTS: usize = 12;

#[derive(Default)]
pub struct HttpMetrics {
    routes: OnceLock<Routes>,
    unmatched: RouteStats,
    others: Mutex<HashMap<Box<str>, RouteStats>>,
}

impl HttpMetrics {
    /// Gives every route of the table its counters. Later calls (a second router on the same state)
    /// change nothing: their routes are counted as others.
    pub fn know_routes<'a>(&self, paths: impl IntoIterator<Item = &'a str>) {
        let routes = paths
            .into_iter()
            .map(|p| (Box::from(p), RouteStats::default()))
            .collect();
        let _ = self.routes.set(routes);
    }

    /// Counts one answered request; `route` is the matched route's path, `None` when none matched.
    pub fn record(&self, route: Option<&str>, method: &Method, status: u16, elapsed: Duration) {
        let Some(route) = route else {
            return self.unmatched.record(method, status, elapsed);
        };
        if let Some(stats) = self.routes.get().and_then(|r| r.get(route)) {
            return stats.record(method, status, elapsed);
        }
        let mut others = self.others.lock().unwrap_or_else(|e| e.into_inner());
        others
            .entry(Box::from(route))
            .or_default()
            .record(method, status, elapsed);
    }

    /// Every route that answered at least once, sorted by path, as label values and counts.
    fn snapshot(&self) -> Vec<RouteSnapshot> {
        let others = self.others.lock().unwrap_or_else(|e| e.into_inner());
        let known = self.routes.get().into_iter().flatten();
        let mut routes: Vec<RouteSnapshot> = known
            .chain(others.iter())
            .map(|(path, stats)| stats.snapshot(path))
            .chain(std::iter::once(self.unmatched.snapshot("unmatched")))
            .filter(|r| !r.responses.is_empty())
            .collect();
        routes.sort_by(|a, b| a.route.cmp(&b.route));
        routes
    }
}

#[derive(Default)]
struct RouteStats {
    latency: LatencyHistogram,
    responses: [ResponseSlot; SLOTS],
    overflow: Mutex<HashMap<(Method, u16), u64>>,
}

/// A (method, status) pair and its count. `key` is 0 until a request claims the slot, then
/// `method index << 16 | status` for good.
#[derive(Default)]
struct ResponseSlot {
    key: AtomicU32,
    count: AtomicU64,
}

impl RouteStats {
    fn record(&self, method: &Method, status: u16, elapsed: Duration) {
        self.latency.observe(elapsed);
        if let Some(slot) = slot_key(method, status).and_then(|key| self.slot(key)) {
            slot.count.fetch_add(1, Ordering::Relaxed);
            return;
        }
        let mut overflow = self.overflow.lock().unwrap_or_else(|e| e.into_inner());
        *overflow.entry((method.clone(), status)).or_default() += 1;
    }

    /// The slot counting `key`, claiming a free one if none does yet; `None` when all are taken.
    fn slot(&self, key: u32) -> Option<&ResponseSlot> {
        for slot in &self.responses {
            let mut current = slot.key.load(Ordering::Acquire);
            if current == 0 {
                current = match slot
                    .key
                    .compare_exchange(0, key, Ordering::AcqRel, Ordering::Acquire)
                {
                    Ok(_) => key,
                    Err(claimed) => claimed,
                };
            }
            if current == key {
                return Some(slot);
            }
        }
        None
    }

    fn snapshot(&self, route: &str) -> RouteSnapshot {
        let mut responses: Vec<(String, u16, u64)> = self
            .responses
            .iter()
            .filter_map(|slot| {
                let key = slot.key.load(Ordering::Acquire);
                let method = METHODS.get(usize::try_from(key >> 16).ok()?.checked_sub(1)?)?;
                let status = u16::try_from(key & 0xffff).ok()?;
                Some((method.to_string(), status, slot.count.load(Ordering::Relaxed)))
            })
            .collect();
        let overflow = self.overflow.lock().unwrap_or_else(|e| e.into_inner());
        responses.extend(overflow.iter().map(|((m, s), c)| (m.to_string(), *s, *c)));
        responses.sort();
        RouteSnapshot {
            route: route.to_owned(),
            responses,
            latency: self.latency.snapshot(),
        }
    }
}

fn slot_key(method: &Method, status: u16) -> Option<u32> {
    let index = METHODS.iter().position(|m| m == method)?;
    Some(u32::try_from(index + 1).ok()? << 16 | u32::from(status))
}

struct RouteSnapshot {
    route: String,
    /// (method, status, requests), sorted.
    responses: Vec<(String, u16, u64)>,
    latency: super::histogram::Snapshot,
}

/// Writes the HTTP metrics at each scrape, in the families `http_requests` (method, route, status) and
/// `http_request_duration_seconds` (route).
#[derive(Clone)]
pub struct HttpCollector(pub std::sync::Arc<HttpMetrics>);

impl fmt::Debug for HttpCollector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("HttpCollector")
    }
}

impl Collector for HttpCollector {
    fn encode(&self, mut encoder: DescriptorEncoder) -> fmt::Result {
        let routes = self.0.snapshot();
        {
            let mut requests = encoder.encode_descriptor(
                "http_requests",
                "HTTP requests by method, route and status",
                None,
                MetricType::Counter,
            )?;
            for r in &routes {
                for (method, status, count) in &r.responses {
                    let status = status.to_string();
                    let labels = [
                        ("method", method.as_str()),
                        ("route", &r.route),
                        ("status", &status),
                    ];
                    requests
                        .encode_family(&labels)?
                        .encode_counter::<NoLabelSet, _, u64>(count, None)?;
                }
            }
        }
        let mut latency = encoder.encode_descriptor(
            "http_request_duration_seconds",
            "HTTP request latency by route",
            None,
            MetricType::Histogram,
        )?;
        for r in &routes {
            let h = &r.latency;
            latency
                .encode_family(&[("route", r.route.as_str())])?
                .encode_histogram::<NoLabelSet>(h.sum_seconds, h.count, &h.buckets, None)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn requests(m: &HttpMetrics, route: &str) -> Vec<(String, u16, u64)> {
        m.snapshot()
            .into_iter()
            .find(|r| r.route == route)
            .map(|r| r.responses)
            .unwrap_or_default()
    }

    #[test]
    fn counts_by_method_and_status_per_route() {
        let m = HttpMetrics::default();
        m.know_routes(["/v1/me", "/healthz"]);
        let t = Duration::from_millis(1);
        m.record(Some("/v1/me"), &Method::GET, 200, t);
        m.record(Some("/v1/me"), &Method::GET, 200, t);
        m.record(Some("/v1/me"), &Method::GET, 401, t);
        m.record(Some("/v1/me"), &Method::OPTIONS, 204, t);
        m.record(None, &Method::GET, 404, t);
        assert_eq!(
            requests(&m, "/v1/me"),
            [
                ("GET".into(), 200, 2),
                ("GET".into(), 401, 1),
                ("OPTIONS".into(), 204, 1)
            ]
        );
        assert_eq!(requests(&m, "unmatched"), [("GET".into(), 404, 1)]);
        let routes: Vec<String> = m.snapshot().into_iter().map(|r| r.route).collect();
        assert_eq!(
            routes,
            ["/v1/me", "unmatched"],
            "a route never called is not listed"
        );
    }

    #[test]
    fn more_pairs_than_slots_and_odd_methods_are_still_counted() {
        let m = HttpMetrics::default();
        m.know_routes(["/x"]);
        let t = Duration::from_millis(1);
        let statuses: Vec<u16> = (200..200 + SLOTS as u16 + 3).collect();
        for &s in &statuses {
            m.record(Some("/x"), &Method::POST, s, t);
            m.record(Some("/x"), &Method::POST, s, t);
        }
        let purge = Method::from_bytes(b"PURGE").unwrap();
        m.record(Some("/x"), &purge, 200, t);
        let counted = requests(&m, "/x");
        assert_eq!(counted.len(), statuses.len() + 1);
        assert!(
            counted.iter().filter(|r| r.0 == "POST").all(|r| r.2 == 2),
            "{counted:?}"
        );
        assert!(counted.contains(&("PURGE".into(), 200, 1)));
    }

    #[test]
    fn routes_outside_the_table_are_counted_too() {
        let m = HttpMetrics::default();
        m.know_routes(["/v1/me"]);
        m.record(Some("/portal/apps"), &Method::GET, 200, Duration::from_millis(3));
        assert_eq!(requests(&m, "/portal/apps"), [("GET".into(), 200, 1)]);
    }

    #[test]
    fn concurrent_requests_lose_no_count() {
        let m = std::sync::Arc::new(HttpMetrics::default());
        m.know_routes(["/v1/me"]);
        let threads: Vec<_> = (0..4)
            .map(|t| {
                let m = m.clone();
                std::thread::spawn(move || {
                    for i in 0..10_000u32 {
                        let status = if (i + t) % 2 == 0 { 200 } else { 401 };
                        m.record(Some("/v1/me"), &Method::GET, status, Duration::from_micros(100));
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        assert_eq!(
            requests(&m, "/v1/me"),
            [("GET".into(), 200, 20_000), ("GET".into(), 401, 20_000)]
        );
        let latency = m.snapshot().remove(0).latency;
        assert_eq!(latency.count, 40_000);
    }
}
