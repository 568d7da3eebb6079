//! Every request has an id: the caller's `x-request-id` when it is a plain token, otherwise a
//! random one. It is echoed in the `x-request-id` response header, written in the request's log
//! line, and quoted in the message of a node fault, so a caller quoting it leads the operator to
//! the cause in the log.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// The request and response header carrying the id.
pub const HEADER: &str = "x-request-id";

/// Longest id accepted from a caller.
const MAX_CALLER_ID: usize = 64;

tokio::task_local! {
    /// The id of the request the current task answers (set by [`crate::request_log::track`]).
    static CURRENT: RequestId;
}

/// Cheap to clone (the blocking edge carries it to a blocking-pool thread).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestId(Arc<str>);

impl RequestId {
    /// The caller's id, if it is 1-64 letters, digits, '-', '_' or '.': it is logged and echoed,
    /// so nothing else is taken.
    pub fn from_caller(value: &str) -> Option<Self> {
        let plain = |b: u8| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.');
        let sane = !value.is_empty() && value.len() <= MAX_CALLER_ID && value.bytes().all(plain);
        sane.then(|| RequestId(Arc::from(value)))
    }

    /// 128 random bits in hex.
    pub fn random() -> Self {
        let mut bytes = [0u8; 16];
        if getrandom::fill(&mut bytes).is_err() {
            // Ids only need to be distinct, not secret: fall back to time and a counter.
            static COUNTER: AtomicU64 = AtomicU64::new(0);
            let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
            bytes[..8].copy_from_slice(&(nanos.as_nanos() as u64).to_be_bytes());
            bytes[8..].copy_from_slice(&COUNTER.fetch_add(1, Ordering::Relaxed).to_be_bytes());
        }
        RequestId(Arc::from(oresund_core::hex::encode(&bytes)))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The id of the request being answered on this task; `None` outside a request.
    pub fn current() -> Option<Self> {
        CURRENT.try_with(Clone::clone).ok()
    }

    /// Runs `future` (a request's handling) with this id as [`RequestId::current`].
    pub async fn scope<F: Future>(self, future: F) -> F::Output {
        CURRENT.scope(self, future).await
    }

    /// Runs `work` with this id as [`RequestId::current`] (on a blocking-pool thread).
    pub fn sync_scope<T>(self, work: impl FnOnce() -> T) -> T {
        CURRENT.sync_scope(self, work)
    }
}

impl fmt::Display for RequestId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::RequestId;

    #[test]
    fn only_plain_caller_ids_are_taken() {
        assert_eq!(RequestId::from_caller("3f2a-9_b.1").map(|id| id.to_string()), Some("3f2a-9_b.1".into()));
        for refused in ["", "a b", "id\nforged log line", "ü", &"x".repeat(65)] {
            assert_eq!(RequestId::from_caller(refused), None, "{refused:?}");
        }
    }

    #[test]
    fn random_ids_differ() {
        let (a, b) = (RequestId::random(), RequestId::random());
        assert_eq!(a.as_str().len(), 32);
        assert_ne!(a, b);
    }
}
