//! A cohort filter put into blocks' orders of people ([`crate::carrier_order`]), kept by the
//! orders' fingerprints: putting a filter in order reads every place of a block, which a node's
//! repeated questions with the same filter would otherwise pay every time.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// Bytes of an order's fingerprint.
pub(crate) const FINGERPRINT: usize = 16;
/// Most bytes of filters in order one filter keeps (about 4,000 blocks at 20,000 people); past
/// it the filter starts again empty.
const KEPT_BYTES: usize = 16 << 20;

/// A filter in a block's order of people: bit `p` set when the column at place `p` passes, and
/// the set bits before each word, so that the members of a run are two ranks apart.
#[derive(Debug)]
pub(crate) struct OrderedFilter {
    /// Ending in a zero word.
    pub(crate) words: Vec<u64>,
    ranks: Vec<u32>,
}

/// A filter in the orders of the blocks it was asked of, by fingerprint: shared by its clones,
/// and bounded ([`KEPT_BYTES`]).
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
        if kept.0 + bytes > KEPT_BYTES {
            *kept = (0, HashMap::new());
        }
        kept.0 += bytes;
        kept.1.insert(fingerprint, ordered.clone());
        ordered
    }

    pub(crate) fn lock(&self) -> std::sync::MutexGuard<'_, Kept> {
        // A thread that panicked while holding it left a consistent map: inserts are whole.
        self.kept.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
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
