//! A per-process cache of committed variant blocks, so that a single-variant lookup on warm data
//! costs no round trip to PostgreSQL, and one on cold data a single small one; in the embedded
//! store, no SQL at all (`sqlite/cached_lookup.rs`). On PostgreSQL, region scans read the blocks
//! they cover through it too, once the contig's directory is held.
//!
//! It holds, per contig, the directory of blocks (id, file, first and last position, length: 40
//! bytes a block) and, up to a byte budget, block contents by id. Whole blocks are fetched, and
//! kept, while the budget has room. Once it is full, the cache keeps what it holds (first come)
//! rather than fetch a whole block to evict another for every miss — under uniform lookups both
//! hold the same share. A miss then costs, on PostgreSQL, one entry's bytes instead of a block's:
//! the first such miss reads the contig's block heads (each block's position and offset tables, at
//! most [`TABLES_MAX`] bytes, under 3% of the blocks at 5,000 samples), and a lookup finds its
//! entries in the head — no round trip when the block has nothing at that position, else one for
//! those entries' bytes alone (a `substring` of the uncompressed value, about 1 kB where the block
//! is about 20 kB). A process that never fills its cache (one CLI question) never reads the heads.
//! The embedded store reads such a lookup's entries through SQLite's blob handles, as it does
//! without a cache.
//!
//! Committed blocks only change when a commit moves the catalog generation (an erasure rewrites
//! them, a file removal deletes them), so the cache is emptied whenever [`BlockCache::observe`]
//! sees the generation move: the node checks it at least every quarter second while it answers
//! (`oresund-node`'s cohort refresh), which bounds how stale a lookup can be the same way it bounds
//! the cohort index itself.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};

use crate::blocks::BLOCK_SPAN;
#[cfg(doc)]
use crate::blocks::TABLES_MAX;
use crate::model::FileNumber;

/// One committed block, as the directory lists it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Listed {
    pub id: i64,
    pub file: FileNumber,
    pub first_pos: u64,
    pub last_pos: u64,
    /// The block's length in bytes.
    pub len: usize,
}

/// A block's first bytes, through its position and offset tables.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Head {
    pub bytes: Arc<[u8]>,
    /// The block's length when the head was read.
    pub len: usize,
    /// The row's `xmin` when the head was read: an erasure rewrites a block in place, moving its
    /// entries, and a head read before must not locate entries in the new bytes.
    pub row_version: i64,
}

/// The heads of a contig's blocks, by block id.
pub(crate) type Heads = HashMap<i64, Head>;

/// The blocks of one contig, by first position.
#[derive(Debug, Default)]
pub(crate) struct Directory {
    /// The longest REF in the catalog when the directory was read.
    pub max_ref_len: u64,
    /// Sorted by `first_pos`.
    pub blocks: Vec<Listed>,
}

impl Directory {
    pub fn new(max_ref_len: u64, mut blocks: Vec<Listed>) -> Self {
        blocks.sort_unstable_by_key(|b| (b.first_pos, b.file, b.id));
        Directory { max_ref_len, blocks }
    }

    /// The blocks that may hold a variant at `pos`, by file then position (a file's variants at
    /// one position may straddle two blocks).
    pub fn holding(&self, pos: u64) -> Vec<Listed> {
        self.overlapping(pos, pos)
    }

    /// The blocks that may hold a variant overlapping `start..=end`, by file then position, as a
    /// region scan visits them. A block starts at most `BLOCK_SPAN` + REF length before the last
    /// base it covers, so only that window is walked.
    pub fn overlapping(&self, start: u64, end: u64) -> Vec<Listed> {
        let last = self.blocks.partition_point(|b| b.first_pos <= end);
        let lowest = start.saturating_sub(BLOCK_SPAN + self.max_ref_len);
        let first = self.blocks[..last].partition_point(|b| b.first_pos < lowest);
        let mut found: Vec<Listed> = self.blocks[first..last].iter().filter(|b| b.last_pos >= start).copied().collect();
        found.sort_unstable_by_key(|b| (b.file, b.first_pos, b.id));
        found
    }
}

/// See the module documentation.
pub(crate) struct BlockCache {
    /// Most bytes of block contents kept (directories and heads are kept whatever it is).
    budget: usize,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    /// The generation the contents belong to (`None` before the first check and after this
    /// process's own commits).
    generation: Option<u64>,
    /// Moves at every emptying: what was read before it is not kept after.
    epoch: u64,
    directories: HashMap<u32, Arc<Directory>>,
    heads: HashMap<u32, Arc<Heads>>,
    blocks: HashMap<i64, Arc<[u8]>>,
    /// Block ids in the order they came in, for eviction.
    order: VecDeque<i64>,
    bytes: usize,
}

impl BlockCache {
    pub fn new(budget: usize) -> Self {
        BlockCache { budget, state: Mutex::default() }
    }

    fn state(&self) -> MutexGuard<'_, State> {
        // A panic elsewhere cannot leave the state half-changed in a way that matters: empty it.
        self.state.lock().unwrap_or_else(|poisoned| {
            let mut state = poisoned.into_inner();
            state.empty(None);
            state
        })
    }

    /// The catalog is at `generation` now: a change empties the cache.
    pub fn observe(&self, generation: u64) {
        let mut state = self.state();
        if state.generation != Some(generation) {
            state.empty(Some(generation));
        }
    }

    /// This process has committed a change to the index: empty the cache, so that its own reads
    /// see the change before its next generation check.
    pub fn forget(&self) {
        self.state().empty(None);
    }

    /// Where the cache is now. Take it before reading the catalog and pass it to `put_*`: what
    /// was read while the cache was emptied is not kept.
    pub fn epoch(&self) -> u64 {
        self.state().epoch
    }

    pub fn directory(&self, contig: u32) -> Option<Arc<Directory>> {
        self.state().directories.get(&contig).cloned()
    }

    /// Keeps a contig's directory read from the catalog since `epoch`.
    pub fn put_directory(&self, epoch: u64, contig: u32, directory: Directory) -> Arc<Directory> {
        let directory = Arc::new(directory);
        let mut state = self.state();
        if state.epoch == epoch {
            state.directories.insert(contig, directory.clone());
        }
        directory
    }

    pub fn heads(&self, contig: u32) -> Option<Arc<Heads>> {
        self.state().heads.get(&contig).cloned()
    }

    /// Keeps a contig's block heads read from the catalog since `epoch`.
    pub fn put_heads(&self, epoch: u64, contig: u32, heads: Heads) -> Arc<Heads> {
        let heads = Arc::new(heads);
        let mut state = self.state();
        if state.epoch == epoch {
            state.heads.insert(contig, heads.clone());
        }
        heads
    }

    /// Whether the cache keeps nothing (`block_cache_mb = 0`).
    pub fn is_off(&self) -> bool {
        self.budget == 0
    }

    pub fn block(&self, id: i64) -> Option<Arc<[u8]>> {
        self.state().blocks.get(&id).cloned()
    }

    /// Whether a block of `len` bytes would be kept without evicting another (see the module
    /// documentation: a lookup fetches the whole block only then).
    pub fn has_room(&self, len: usize) -> bool {
        self.state().bytes + len <= self.budget
    }

    /// Keeps a block read from the catalog since `epoch`, evicting the oldest to stay within the
    /// budget (when other threads filled it since [`BlockCache::has_room`]).
    pub fn put_block(&self, epoch: u64, id: i64, data: Arc<[u8]>) {
        if data.len() > self.budget {
            return;
        }
        let mut state = self.state();
        if state.epoch != epoch || state.blocks.contains_key(&id) {
            return;
        }
        while state.bytes + data.len() > self.budget {
            let Some(oldest) = state.order.pop_front() else { break };
            if let Some(evicted) = state.blocks.remove(&oldest) {
                state.bytes -= evicted.len();
            }
        }
        state.bytes += data.len();
        state.order.push_back(id);
        state.blocks.insert(id, data);
    }

    /// Bytes of block contents held.
    #[cfg(test)]
    fn held(&self) -> usize {
        self.state().bytes
    }
}

impl State {
    fn empty(&mut self, generation: Option<u64>) {
        *self = State { generation, epoch: self.epoch.wrapping_add(1), ..State::default() };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn listed(id: i64, file: u32, first_pos: u64, last_pos: u64) -> Listed {
        Listed { id, file: FileNumber::new(file), first_pos, last_pos, len: 0 }
    }

    #[test]
    fn the_blocks_holding_a_position_come_by_file() {
        let directory = Directory::new(
            5,
            vec![
                listed(4, 2, 100, 300),
                listed(1, 1, 100, 250),
                listed(2, 1, 250, 400),
                listed(3, 1, 401, 500),
                listed(5, 2, 301, 90_000),
                listed(6, 1, 200_000, 200_010),
            ],
        );
        let ids = |pos| directory.holding(pos).iter().map(|b| b.id).collect::<Vec<_>>();
        assert_eq!(ids(250), [1, 2, 4], "both blocks of file 1 that reach 250, then file 2's");
        assert_eq!(ids(99), Vec::<i64>::new());
        assert_eq!(ids(350), [2, 5]);
        assert_eq!(ids(80_000), [5]);
        assert_eq!(ids(200_005), [6], "blocks further back than BLOCK_SPAN + REF are not walked");
        assert_eq!(ids(200_011), Vec::<i64>::new());
        let range = |start, end| directory.overlapping(start, end).iter().map(|b| b.id).collect::<Vec<_>>();
        assert_eq!(range(250, 260), [1, 2, 4]);
        assert_eq!(range(260, 420), [2, 3, 4, 5], "by file, then position");
        assert_eq!(range(1, 99), Vec::<i64>::new());
        assert_eq!(range(95_000, 200_000), [6]);
    }

    #[test]
    fn blocks_are_evicted_oldest_first_within_the_budget() {
        let cache = BlockCache::new(100);
        cache.observe(1);
        for id in 0..4 {
            cache.put_block(cache.epoch(), id, vec![id as u8; 40].into());
        }
        assert_eq!(cache.held(), 80);
        assert!(cache.has_room(20) && !cache.has_room(21), "a lookup fetches whole blocks only while they fit");
        assert!(cache.block(0).is_none() && cache.block(1).is_none());
        assert_eq!(cache.block(3).as_deref(), Some(&[3u8; 40][..]));
        cache.put_block(cache.epoch(), 9, vec![0; 101].into());
        assert!(cache.block(9).is_none(), "a block larger than the budget is not kept");
        assert_eq!(cache.held(), 80);
    }

    #[test]
    fn a_new_generation_empties_the_cache() {
        let cache = BlockCache::new(1 << 20);
        cache.observe(7);
        cache.put_block(cache.epoch(), 1, vec![1; 10].into());
        cache.put_directory(cache.epoch(), 0, Directory::new(1, vec![listed(1, 1, 10, 20)]));
        let head = Head { bytes: Arc::from(&[2u8, 0, 0, 0, 0][..]), len: 5, row_version: 9 };
        cache.put_heads(cache.epoch(), 0, Heads::from([(1, head)]));
        cache.observe(7);
        assert!(cache.block(1).is_some() && cache.directory(0).is_some(), "the same generation keeps it");
        assert_eq!(cache.heads(0).unwrap()[&1].row_version, 9);
        cache.observe(8);
        assert!(cache.block(1).is_none() && cache.directory(0).is_none() && cache.heads(0).is_none());
        assert_eq!(cache.held(), 0);
    }

    #[test]
    fn what_was_read_before_the_generation_moved_is_not_kept() {
        let cache = BlockCache::new(1 << 20);
        cache.observe(7);
        let before = cache.epoch();
        // Another thread sees a commit while this one reads the catalog.
        cache.observe(8);
        cache.put_block(before, 1, vec![1; 10].into());
        let directory = cache.put_directory(before, 0, Directory::new(1, vec![listed(1, 1, 10, 20)]));
        assert_eq!(directory.blocks.len(), 1, "the caller still uses what it read");
        assert!(cache.block(1).is_none() && cache.directory(0).is_none());
        // The same after this process's own commit, twice (no generation known in between).
        cache.forget();
        let before = cache.epoch();
        cache.forget();
        cache.put_block(before, 1, vec![1; 10].into());
        assert!(cache.block(1).is_none());
        cache.put_block(cache.epoch(), 1, vec![1; 10].into());
        assert!(cache.block(1).is_some());
        cache.observe(8);
        assert!(cache.block(1).is_none(), "after its own commit the cache knows no generation");
    }
}
