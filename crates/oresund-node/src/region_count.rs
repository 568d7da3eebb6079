//! Allele counts for every variant of a region: the region's blocks counted on a worker per
//! core while the store reads on, joined in order, or merged where files cover the same positions
//! (issue #19).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, mpsc};

use oresund_core::carriers::AlleleCounts;
use oresund_core::region::Region;
use oresund_store::blocks::{BLOCK_SPAN, BLOCK_VARIANTS, VrsIdRef};
use oresund_store::variant_index::RegionBlock;
use oresund_store::{FileNumber, StoreError, VariantKey};

use crate::cohort::{CohortFilter, PreparedFilter};
use crate::error::NodeError;
use crate::node::Node;
use crate::query::{PerDataset, VariantCount, add_dataset};

/// One block's counts, its variants in order: as the answer's [`VariantCount`]s where the region's
/// blocks follow one another, as records to merge where blocks of several files cover the same
/// positions.
enum BlockCounts {
    Counted(FileNumber, Vec<VariantCount>),
    Records(Records),
}

/// Entries' counts as records, their alleles in one text. With people delivered in batches, a
/// region holds an entry of each variant from every file; a [`VariantCount`] for each (five
/// allocations, moved about by the merge) made a 1 Mb region count over ten files of 500 people
/// 17-18 times the time over one file of 5,000, then 7 (issue #19). The answer's
/// [`VariantCount`] is made once per variant.
#[derive(Default)]
struct Records {
    found: Vec<Found>,
    text: String,
}

/// One file's counts of one variant.
struct Found {
    pos: u64,
    /// Where the reference allele starts, where the alternate starts and where it ends in the text.
    alleles: [usize; 3],
    vrs_id: FoundId,
    counts: AlleleCounts,
    file: FileNumber,
}

/// A found entry's VRS id, as its block keeps it.
enum FoundId {
    Digest([u8; 24]),
    Text(Box<str>),
}

impl BlockCounts {
    fn len(&self) -> usize {
        match self {
            BlockCounts::Counted(_, counted) => counted.len(),
            BlockCounts::Records(records) => records.found.len(),
        }
    }

    /// Bytes the alleles of the block's records take in one text (`Records::text`).
    fn text_len(&self) -> usize {
        match self {
            BlockCounts::Counted(_, counted) => {
                counted.iter().map(|c| c.variant.reference().len() + c.variant.alternate().len()).sum()
            }
            BlockCounts::Records(records) => records.text.len(),
        }
    }
}

impl Records {
    fn push(
        &mut self,
        file: FileNumber,
        pos: u64,
        reference: &str,
        alternate: &str,
        vrs_id: FoundId,
        counts: AlleleCounts,
    ) {
        let start = self.text.len();
        self.text.push_str(reference);
        self.text.push_str(alternate);
        let alleles = [start, start + reference.len(), self.text.len()];
        self.found.push(Found { pos, alleles, vrs_id, counts, file });
    }

    /// Adds a block's counts.
    fn add(&mut self, block: BlockCounts) {
        match block {
            BlockCounts::Counted(file, counted) => {
                for c in counted {
                    let (v, vrs_id) = (&c.variant, FoundId::Text(c.vrs_id.into_boxed_str()));
                    self.push(file, v.pos(), v.reference(), v.alternate(), vrs_id, c.counts);
                }
            }
            BlockCounts::Records(records) => {
                let offset = self.text.len();
                self.text.push_str(&records.text);
                self.found
                    .extend(records.found.into_iter().map(|f| Found { alleles: f.alleles.map(|a| a + offset), ..f }));
            }
        }
    }
}

/// Whether a region's blocks, as the store hands them over (file by file, each in position order),
/// cover positions an earlier one covers: from the first that does (a second file over the same
/// positions), blocks are counted as records to merge.
#[derive(Default)]
struct Overlaps {
    /// The furthest position of the blocks so far, and the file of the block that reached it.
    reach: Option<(u64, FileNumber)>,
    merging: bool,
}

impl Overlaps {
    fn see(&mut self, block: &RegionBlock<'_>) -> Result<bool, StoreError> {
        Ok(self.see_positions(block.file, block.positions()?))
    }

    /// [`Overlaps::see`] of a block of `file` whose first and last entries are at `positions`.
    fn see_positions(&mut self, file: FileNumber, positions: Option<(u64, u64)>) -> bool {
        if let Some((first, last)) = positions {
            // A file holds each variant once, sorted by position and alleles as the answer is
            // (`FileBlocks`), so its next block may begin at the position where its last one
            // ended (a site of several alleles cut by a block's end) and still follow it. Taken
            // for an overlap, that sent a quarter of the 1 Mb regions of a one-file node of 20,000
            // people down the merge (52 of 201 counts of `query_latency`).
            self.merging |= self.reach.is_some_and(|(reach, by)| first < reach || (first == reach && file != by));
            if self.reach.is_none_or(|(reach, _)| last >= reach) {
                self.reach = Some((last, file));
            }
        }
        self.merging
    }
}

impl Node {
    /// Counts for every variant overlapping a region (1-based, inclusive), in position order.
    pub fn count_region(&self, region: &Region, filter: &CohortFilter) -> Result<Vec<VariantCount>, NodeError> {
        let (index, length) = self.contig(&region.chrom)?;
        if region.start > length {
            return Err(NodeError::RegionBeyondContig {
                region: region.to_string(),
                contig: region.chrom.clone(),
                length,
            });
        }
        let prepared = self.prepare_filter(filter)?;
        let blocks = self.count_blocks(index, region, &prepared)?;
        // Blocks counted as answers cover positions no earlier block covers (`Overlaps`), so they
        // are the answer as they stand, each variant once. From the first that does (a second
        // file over the same positions), blocks are records, and all are merged.
        if blocks.iter().all(|b| matches!(b, BlockCounts::Counted(..))) {
            let mut out = Vec::with_capacity(blocks.iter().map(BlockCounts::len).sum());
            for block in blocks {
                if let BlockCounts::Counted(_, mut counted) = block {
                    out.append(&mut counted);
                }
            }
            return Ok(out);
        }
        // Room for every block's records at once: grown block by block, the list was copied at
        // every doubling (`RawVec::finish_grow`, 13.6% of a 1 Mb region count over ten files of
        // 500 people, `perf`).
        let mut records = Records::default();
        records.found.reserve(blocks.iter().map(BlockCounts::len).sum());
        records.text.reserve(blocks.iter().map(BlockCounts::text_len).sum());
        for block in blocks {
            records.add(block);
        }
        self.merge(index, &records, &prepared)
    }

    /// The region's blocks counted, in the order the store reads them: on the calling thread, or,
    /// for a region of a block's span or more on a node with threads to spare, on
    /// `region_threads` workers while the store reads on (a 1 Mb region at 20,000 samples is
    /// about 30 blocks, and counting them five sixths of the time: p50 4.5 → 2.9-3.4 ms on two cores,
    /// issue #19). With one thread (or a region under a block's span) no worker is started and
    /// the reading thread counts every block. The store reads every block in one read transaction.
    fn count_blocks(
        &self,
        contig: usize,
        region: &Region,
        prepared: &PreparedFilter,
    ) -> Result<Vec<BlockCounts>, NodeError> {
        let (start, end) = (region.start, region.end);
        let mut failure = None;
        let mut overlaps = Overlaps::default();
        let threads = match end.saturating_sub(start) {
            short if short < BLOCK_SPAN => 1,
            _ => crate::config::threads_or_cores(self.region_threads),
        };
        // Bounded, so the store reads at most a few blocks ahead of the counting.
        let room = 2 * threads;
        let (sender, receiver) = mpsc::sync_channel::<(usize, RegionBlock<'static>, bool)>(room);
        // Blocks sent and not yet taken (this thread alone sends, so a send never waits).
        let queued = AtomicUsize::new(0);
        // The workers hold the only receiver: should all of them stop (a panic), sending fails
        // and the scan ends instead of waiting on a full queue.
        let receiver = Arc::new(Mutex::new(receiver));
        let mut own = Vec::new();
        let results = std::thread::scope(|scope| {
            // This thread reads, and counts what the workers have no room for: one worker
            // fewer than the threads asked for keeps every core busy without crowding them,
            // and a block counted here is not copied out of the store's reading. A worker the
            // system cannot start is one fewer; with none, this thread counts every block.
            let workers: Vec<_> = (1..threads)
                .filter_map(|_| {
                    let (receiver, queued) = (Arc::clone(&receiver), &queued);
                    let worker = std::thread::Builder::new().name("region-count".into());
                    let started = worker.spawn_scoped(scope, move || {
                        let next = || receiver.lock().ok()?.recv().ok();
                        // After a failure a worker only takes blocks, so the store never
                        // waits on a full queue.
                        let (mut counted, mut failure) = (Vec::new(), None);
                        while let Some((i, block, merging)) = next() {
                            queued.fetch_sub(1, Ordering::Relaxed);
                            if failure.is_none() {
                                match self.count_block(contig, &block, start, end, prepared, merging) {
                                    Ok(block) => counted.push((i, block)),
                                    Err(e) => failure = Some(e),
                                }
                            }
                        }
                        (counted, failure)
                    });
                    started.ok()
                })
                .collect();
            let room = if workers.is_empty() { 0 } else { room };
            drop(receiver);
            let mut i = 0;
            let scanned = self.store.region_blocks(contig as u32, start, end, &mut |block| {
                if prepared.file(block.file).is_none() {
                    return Ok(());
                }
                let merging = overlaps.see(&block)?;
                if queued.load(Ordering::Relaxed) < room {
                    queued.fetch_add(1, Ordering::Relaxed);
                    let sent = sender.send((i, block.into_owned(), merging));
                    sent.map_err(|_| StoreError::Corrupt("region workers stopped".into()))?;
                } else {
                    match self.count_block(contig, &block, start, end, prepared, merging) {
                        Ok(counted) => own.push((i, counted)),
                        Err(e) => failure = failure.take().or(Some(e)),
                    }
                }
                i += 1;
                Ok(())
            });
            drop(sender);
            let done: Vec<_> = workers.into_iter().map(|w| w.join()).collect();
            (scanned, done)
        });
        let (scanned, done) = results;
        let mut numbered = own;
        for worker in done {
            let (counted, failed) = worker.map_err(|_| NodeError::Damaged("a region count's thread failed".into()))?;
            numbered.extend(counted);
            failure = failure.or(failed);
        }
        scanned?;
        numbered.sort_unstable_by_key(|(i, _)| *i);
        match failure {
            Some(e) => Err(e),
            None => Ok(numbered.into_iter().map(|(_, block)| block).collect()),
        }
    }

    /// The counts of one block's entries in the region, in the block's order: as records when
    /// they are to be merged with other files'.
    fn count_block(
        &self,
        contig: usize,
        block: &RegionBlock<'_>,
        start: u64,
        end: u64,
        prepared: &PreparedFilter,
        as_records: bool,
    ) -> Result<BlockCounts, NodeError> {
        let file = block.file;
        let Some(scope) = prepared.file(file) else { return Ok(BlockCounts::Counted(file, Vec::new())) };
        let (mut counted, mut records) = (Vec::new(), Records::default());
        if as_records {
            records.found.reserve(BLOCK_VARIANTS);
        } else {
            counted.reserve(BLOCK_VARIANTS);
        }
        // The block's own copy of the dataset's name: each answer holds a reference to it, and
        // threads counting one reference on all blocks contend for it.
        let dataset: Arc<str> = Arc::from(&*scope.dataset);
        let mut failure = None;
        block.visit_overlapping(start, end, |entry| {
            let counts = match self.count_entry(prepared, file, entry.haploid_set, entry.carriers) {
                Ok(counts) => counts,
                Err(e) => {
                    failure = failure.take().or(Some(e));
                    return Ok(());
                }
            };
            if as_records {
                let vrs_id = match entry.vrs_id {
                    VrsIdRef::Digest(digest) => FoundId::Digest(*digest),
                    VrsIdRef::Text(id) => FoundId::Text(id.into()),
                };
                records.push(file, entry.pos, entry.reference, entry.alternate, vrs_id, counts);
            } else {
                let variant = self.stored_variant(contig, entry.pos, entry.reference, entry.alternate)?;
                let datasets = vec![(dataset.clone(), counts)];
                counted.push(VariantCount { variant, vrs_id: entry.vrs_id.to_id(), counts, datasets });
            }
            Ok(())
        })?;
        match failure {
            Some(e) => Err(e),
            None if as_records => Ok(BlockCounts::Records(records)),
            None => Ok(BlockCounts::Counted(file, counted)),
        }
    }

    /// The counts of a region's entries from several files, each variant once, in order.
    fn merge(
        &self,
        contig: usize,
        records: &Records,
        prepared: &PreparedFilter,
    ) -> Result<Vec<VariantCount>, NodeError> {
        let (found, text) = (&records.found, &records.text);
        let alleles = |f: &Found| {
            let [start, split, end] = f.alleles;
            (&text.as_bytes()[start..split], &text.as_bytes()[split..end])
        };
        // By position, then alleles as bytes (the order of `Variant`s on one contig).
        let compare = |a: &Found, b: &Found| a.pos.cmp(&b.pos).then_with(|| alleles(a).cmp(&alleles(b)));
        // Files come one after another, each in order: a stable sort merges their runs. Equal
        // neighbours are then one variant from several files.
        let mut order: Vec<usize> = (0..found.len()).collect();
        order.sort_by(|&a, &b| compare(&found[a], &found[b]));
        let mut out: Vec<VariantCount> = Vec::with_capacity(order.len());
        for group in order.chunk_by(|&a, &b| compare(&found[a], &found[b]).is_eq()) {
            let first = &found[group[0]];
            let [start, split, end] = first.alleles;
            let (pos, reference, alternate) = (first.pos, &text[start..split], &text[split..end]);
            if group.len() > 1 && group.iter().any(|&i| prepared.overlaps(found[i].file)) {
                // Files that may share people both hold it: counted again from all its files
                // together, as a single-variant lookup is, so that each person counts once. Rare
                // (the same people in two files at the same site), so the scan counts every
                // entry in place instead of copying out every entry of such files: copying and
                // expanding them made a 1 Mb region count at 20,000 samples in a chromosome's
                // file, beside the same people's chrX file, take 61 ms instead of 4.4 (issue #19).
                // Read after the scan: a file committed or withdrawn meanwhile shows here only.
                let key = VariantKey {
                    contig: contig as u32,
                    pos,
                    reference: reference.to_string(),
                    alternate: alternate.to_string(),
                };
                if let Some(calls) = self.store.variant(&key)? {
                    out.extend(self.count_calls(&calls, prepared)?);
                }
                continue;
            }
            // Files that share no one: their counts add up.
            let (mut counts, mut datasets) = (AlleleCounts::default(), PerDataset::new());
            for f in group.iter().map(|&i| &found[i]) {
                counts += f.counts;
                if let Some(scope) = prepared.file(f.file) {
                    add_dataset(&mut datasets, &scope.dataset, f.counts);
                }
            }
            let vrs_id = match &first.vrs_id {
                FoundId::Digest(digest) => VrsIdRef::Digest(digest).to_id(),
                FoundId::Text(id) => id.to_string(),
            };
            let variant = self.stored_variant(contig, pos, reference, alternate)?;
            out.push(VariantCount { variant, vrs_id, counts, datasets });
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::Overlaps;
    use oresund_store::FileNumber;

    #[test]
    fn blocks_are_merged_from_the_first_that_covers_another_files_positions() {
        let mut one_file = Overlaps::default();
        // A site of several alleles at 300 cut by the end of the first block.
        for (positions, merging) in [(Some((100, 300)), false), (None, false), (Some((300, 500)), false)] {
            assert_eq!(one_file.see_positions(FileNumber::new(1), positions), merging, "{positions:?}");
        }
        let mut two_files = Overlaps::default();
        for (file, positions, merging) in [
            (1, (100, 300), false),
            (1, (301, 500), false),
            (2, (500, 600), true), // the second file's first variant at the first's last position
            (2, (700, 800), true), // and from then on, whatever follows
        ] {
            assert_eq!(
                two_files.see_positions(FileNumber::new(file), Some(positions)),
                merging,
                "file {file} {positions:?}"
            );
        }
        let mut apart = Overlaps::default();
        for (file, positions) in [(1, (100, 300)), (2, (301, 500)), (3, (501, 600))] {
            assert!(
                !apart.see_positions(FileNumber::new(file), Some(positions)),
                "files over different positions follow one another"
            );
        }
        let mut within = Overlaps::default();
        within.see_positions(FileNumber::new(1), Some((100, 300)));
        assert!(
            within.see_positions(FileNumber::new(1), Some((250, 400))),
            "a block starting inside another's positions"
        );
    }
}
