//! Latency statistics from every recorded sample (no sampling, no histogram buckets: a run of a few
//! seconds is at most a few million numbers).

use std::time::Duration;

/// Sorted latencies in nanoseconds.
#[derive(Debug, Default, Clone)]
pub struct Latencies {
    sorted: Vec<u64>,
}

impl Latencies {
    pub fn new(mut samples: Vec<u64>) -> Latencies {
        samples.sort_unstable();
        Latencies { sorted: samples }
    }

    /// The nearest-rank percentile: the smallest sample that at least `p` percent of samples are at
    /// or below. `None` without samples.
    pub fn percentile(&self, p: f64) -> Option<Duration> {
        let n = self.sorted.len();
        if n == 0 {
            return None;
        }
        let rank = ((p / 100.0) * n as f64).ceil() as usize;
        let index = rank.clamp(1, n) - 1;
        Some(Duration::from_nanos(self.sorted[index]))
    }

    pub fn max(&self) -> Option<Duration> {
        self.sorted.last().map(|&ns| Duration::from_nanos(ns))
    }
}

/// A latency for a table: µs below a millisecond, ms with two decimals below a second, else s.
pub fn fmt_latency(d: Option<Duration>) -> String {
    let Some(d) = d else {
        return "-".into();
    };
    let us = d.as_secs_f64() * 1e6;
    if us < 1000.0 {
        format!("{us:.0} µs")
    } else if us < 1e6 {
        format!("{:.2} ms", us / 1000.0)
    } else {
        format!("{:.2} s", us / 1e6)
    }
}

/// A rate with thousands separated by commas (`12,345`).
pub fn fmt_rate(per_second: f64) -> String {
    let digits = (per_second.round() as u64).to_string();
    // The first group takes what is left over after groups of three.
    let first = match digits.len() % 3 {
        0 => 3,
        n => n,
    };
    let mut out = digits[..first.min(digits.len())].to_owned();
    for group in digits.as_bytes()[first.min(digits.len())..].chunks(3) {
        out.push(',');
        out.push_str(&String::from_utf8_lossy(group));
    }
    out
}

pub fn fmt_mib(bytes: Option<u64>) -> String {
    bytes.map_or_else(
        || "-".into(),
        |b| format!("{:.1} MiB", b as f64 / 1024.0 / 1024.0),
    )
}

/// Parses `10s`, `500ms`, `2m` or a bare number of seconds (`1.5`).
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    let (number, unit) = match s.find(|c: char| !(c.is_ascii_digit() || c == '.')) {
        Some(i) => s.split_at(i),
        None => (s, "s"),
    };
    let value: f64 = number
        .parse()
        .map_err(|_| format!("{s:?} is not a duration like 10s, 500ms or 1m"))?;
    let seconds = match unit {
        "ms" => value / 1000.0,
        "s" => value,
        "m" => value * 60.0,
        _ => return Err(format!("{s:?}: the unit must be ms, s or m")),
    };
    Duration::try_from_secs_f64(seconds).map_err(|e| format!("{s:?}: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles() {
        let l = Latencies::new((1..=100).rev().collect());
        assert_eq!(l.percentile(50.0), Some(Duration::from_nanos(50)));
        assert_eq!(l.percentile(99.0), Some(Duration::from_nanos(99)));
        assert_eq!(l.percentile(100.0), Some(Duration::from_nanos(100)));
        assert_eq!(l.percentile(0.0), Some(Duration::from_nanos(1)));
        assert_eq!(l.max(), Some(Duration::from_nanos(100)));

        let one = Latencies::new(vec![7]);
        assert_eq!(one.percentile(50.0), Some(Duration::from_nanos(7)));
        assert_eq!(one.percentile(99.0), Some(Duration::from_nanos(7)));

        // Ten samples: p50 is the 5th, p99 the 10th.
        let ten = Latencies::new(vec![10, 20, 30, 40, 50, 60, 70, 80, 90, 1000]);
        assert_eq!(ten.percentile(50.0), Some(Duration::from_nanos(50)));
        assert_eq!(ten.percentile(99.0), Some(Duration::from_nanos(1000)));

        let none = Latencies::new(Vec::new());
        assert_eq!(none.percentile(50.0), None);
        assert_eq!(none.max(), None);
    }

    #[test]
    fn formats() {
        assert_eq!(fmt_latency(Some(Duration::from_micros(250))), "250 µs");
        assert_eq!(fmt_latency(Some(Duration::from_micros(1500))), "1.50 ms");
        assert_eq!(fmt_latency(Some(Duration::from_millis(2500))), "2.50 s");
        assert_eq!(fmt_latency(None), "-");
        assert_eq!(fmt_rate(1234567.4), "1,234,567");
        assert_eq!(fmt_rate(999.0), "999");
        assert_eq!(fmt_mib(Some(3 * 1024 * 1024)), "3.0 MiB");
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("10s"), Ok(Duration::from_secs(10)));
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("2m"), Ok(Duration::from_secs(120)));
        assert_eq!(parse_duration("1.5"), Ok(Duration::from_millis(1500)));
        assert_eq!(parse_duration("0s"), Ok(Duration::ZERO));
        assert!(parse_duration("ten").is_err());
        assert!(parse_duration("3h").is_err());
    }
}
