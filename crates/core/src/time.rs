use std::time::{SystemTime, UNIX_EPOCH};

/// Seconds since the Unix epoch: the only time representation the store and tokens use, so that
/// SQLite and PostgreSQL compare timestamps identically.
pub fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}
