//! The node's clock, read in one place: Unix seconds, and RFC 3339 text for records.

/// The current Unix time in seconds (0 if the clock is before 1970).
pub fn unix_now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0)
}

/// The current time as RFC 3339 UTC text.
pub fn now_rfc3339() -> String {
    oresund_core::time::rfc3339(unix_now())
}
