//! A cohort filter put into blocks' orders of people ([`crate::carrier_order`]), kept by the
//! orders' fingerprints: putting a filter in order reads every place of a block, which a node's
//! repeated questions with the same filter would otherwise pay every time.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

/// Bytes of an order's fingerprint.
pub(crate) const FINGERPRINT: usize = 16;
/// Most bytes of filters in order one filter keeps (about 4,000 blocks at 20,000 people); past
/// it the filter starts again empty.
const KEPT_BYTES: usize = 16 << 20;
/// Most bytes all filters of the process keep together: a node keeps up to 1,024 prepared
/// filters, each with one filter per file. Past it a filter keeps nothing more (it is still put
/// in order for each block it is asked of) until others are dropped.
const KEPT_BYTES_ALL: usize = 64 << 20;
/// Bytes kept by every live [`OrderedFilters`].
static KEPT_ALL: AtomicUsize = AtomicUsize::new(0);

/// Counts `bytes` more into `all` unless that passes `cap`; whether it did.
fn admit(all: &AtomicUsize, bytes: usize, cap: usize) -> bool {
    all.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |kept| kept.checked_add(bytes).filter(|&k| k <= cap)).is_ok()
}

/// A filter in a block's order of people: bit `p` set when the column at place `p` passes, and
/// the set bits before each word, so that the members of a run are two ranks apart.
#[derive(Debug)]
pub(crate) struct OrderedFilter {
    /// Ending in a zero word.
    pub(crate) words: Vec<u64>,
    ranks: Vec<u32>,
}

/// A filter in the orders of the blocks it was asked of, by fingerprint: shared by its clones,
/// and bounded ([`KEPT_BYTES`], [`KEPT_BYTES_ALL`]).
#[derive(Debug, Default)]
pub(crate) struct OrderedFilters {
    kept: Mutex<Kept>,
}

/// Filters in order by fingerprint, and the bytes they take.
type Kept = (usize, HashMap<[u8; FINGERPRINT], Arc<OrderedFilter>>);

impl OrderedFilters {
    pub(crate) fn get_or_insert(
        &self,
        fingerprint: [u8; FINGERPRINT],
        put_in_order: impl FnOnce() -> OrderedFilter,
    ) -> Arc<OrderedFilter> {
        let found = self.lock().1.get(&fingerprint).cloned();
        if let Some(found) = found {
            return found;
        }
        // Put in order outside the lock: other threads counting with this filter go on.
        let ordered = Arc::new(put_in_order());
        let bytes = ordered.words.len() * 12;
        let mut kept = self.lock();
        if let Some(found) = kept.1.get(&fingerprint) {
            return found.clone(); // another thread put it in order meanwhile
        }
        if kept.0 + bytes > KEPT_BYTES {
            KEPT_ALL.fetch_sub(kept.0, Ordering::Relaxed);
            *kept = (0, HashMap::new());
        }
        if admit(&KEPT_ALL, bytes, KEPT_BYTES_ALL) {
            kept.0 += bytes;
            kept.1.insert(fingerprint, ordered.clone());
        }
        ordered
    }

    pub(crate) fn lock(&self) -> std::sync::MutexGuard<'_, Kept> {
        // A thread that panicked while holding it left a consistent map: inserts are whole.
        self.kept.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

impl Drop for OrderedFilters {
    fn drop(&mut self) {
        KEPT_ALL.fetch_sub(self.lock().0, Ordering::Relaxed);
    }
}

impl OrderedFilter {
    pub(crate) fn new(words: Vec<u64>) -> Self {
        let mut ranks = Vec::with_capacity(words.len());
        let mut before = 0u32;
        for word in &words {
            ranks.push(before);
            before += word.count_ones();
        }
        Self { words, ranks }
    }

    /// Set bits before place `p` (at most the last word's end).
    #[inline]
    pub(crate) fn rank(&self, p: usize) -> u64 {
        let p = p.min((self.words.len() - 1) * 64);
        let (w, bit) = (p / 64, p % 64);
        u64::from(self.ranks[w]) + u64::from((self.words[w] & ((1u64 << bit) - 1)).count_ones())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bytes_kept_by_all_filters_stop_at_the_cap() {
        let all = AtomicUsize::new(0);
        assert!(admit(&all, 60, 100));
        assert!(admit(&all, 40, 100));
        assert!(!admit(&all, 1, 100), "past the cap");
        assert_eq!(all.load(Ordering::Relaxed), 100);
        all.fetch_sub(60, Ordering::Relaxed);
        assert!(admit(&all, 50, 100));
        assert!(!admit(&all, usize::MAX, usize::MAX), "an overflow is past any cap");
    }
}
