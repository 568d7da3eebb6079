//! Allele counts for a variant or a region, over any cohort filter: the question every other part
//! of Øresund (CLI, Beacon, network) asks.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, mpsc};

use oresund_core::carrier_links::CarrierBytes;
use oresund_core::carrier_order::ColumnOrder;
use oresund_core::carriers::{AlleleCounts, ColumnFilter, EncodedCarriers, allele_slots};
use oresund_core::region::Region;
use oresund_core::variant::Variant;
use oresund_ingest::normalize::{check_reference, realign};
use oresund_store::blocks::{BLOCK_SPAN, BLOCK_VARIANTS, VrsIdRef};
use oresund_store::variant_index::RegionBlock;
use oresund_store::{FileCalls, FileNumber, IndividualNumber, StoreError, VariantCalls, VariantKey};

use crate::cohort::{CohortFilter, PreparedFilter};
use crate::error::NodeError;
use crate::node::Node;

/// Counts for one variant: in total and per dataset.
#[derive(Debug, Clone, PartialEq)]
pub struct VariantCount {
    pub variant: Variant,
    pub vrs_id: String,
    pub counts: AlleleCounts,
    /// Per dataset, in order of dataset id.
    pub datasets: PerDataset,
}

/// Counts per dataset, in order of dataset id.
type PerDataset = Vec<(Arc<str>, AlleleCounts)>;

/// One file's calls of one variant.
struct FileEntry<'a> {
    file: FileNumber,
    haploid_set: u32,
    carriers: CarrierBytes<'a>,
}

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

/// Whether a region's blocks, as the store hands them over, cover positions an earlier one covers:
/// from the first that does (a second file over the same positions), blocks are counted as
/// records to merge.
#[derive(Default)]
struct Overlaps {
    /// The furthest position of the blocks so far.
    reach: Option<u64>,
    merging: bool,
}

impl Overlaps {
    fn see(&mut self, block: &RegionBlock<'_>) -> Result<bool, StoreError> {
        if let Some((first, last)) = block.positions()? {
            self.merging |= self.reach.is_some_and(|reach| first <= reach);
            self.reach = self.reach.max(Some(last));
        }
        Ok(self.merging)
    }
}

/// Whether `next` comes after `last` in a region's answer (by position, then alleles).
fn follows(last: &VariantCount, next: &VariantCount) -> bool {
    let (a, b) = (&last.variant, &next.variant);
    (a.pos(), a.reference(), a.alternate()) < (b.pos(), b.reference(), b.alternate())
}

fn parse_carriers(bytes: CarrierBytes<'_>, columns: usize) -> Result<EncodedCarriers<'_>, NodeError> {
    bytes.parse(columns).map_err(|e| NodeError::Store(StoreError::Corrupt(e.to_string())))
}

/// Adds `counts` to `dataset`'s entry, keeping the list ordered by dataset id.
fn add_dataset(datasets: &mut PerDataset, dataset: &Arc<str>, counts: AlleleCounts) {
    match datasets.binary_search_by(|(d, _)| d.as_ref().cmp(dataset.as_ref())) {
        Ok(i) => datasets[i].1 += counts,
        Err(i) => datasets.insert(i, (dataset.clone(), counts)),
    }
}

impl Node {
    /// Normalises a query variant as ingest normalises data, so a right-shifted indel finds its
    /// left-aligned record. Errors when the contig is unknown or REF does not match.
    pub fn normalise(&self, variant: &Variant) -> Result<VariantKey, NodeError> {
        let (index, _) = self.contig(variant.chrom())?;
        let sequence = self.sequence(index)?;
        check_reference(&sequence, variant.chrom(), variant.pos(), variant.reference().as_bytes())?;
        let n = realign(&sequence, variant.pos(), variant.reference().as_bytes(), variant.alternate().as_bytes())?;
        Ok(VariantKey {
            contig: index as u32,
            pos: n.pos,
            reference: String::from_utf8_lossy(&n.reference).into_owned(),
            alternate: String::from_utf8_lossy(&n.alternate).into_owned(),
        })
    }

    fn contig(&self, name: &str) -> Result<(usize, u64), NodeError> {
        self.reference.contig(name).map(|(i, c)| (i, c.length)).ok_or_else(|| {
            let known: Vec<&str> = self.reference.contigs().iter().map(|c| c.name.as_str()).take(30).collect();
            NodeError::UnknownContig { name: name.to_string(), known: known.join(", ") }
        })
    }

    /// A contig's sequence; the reference index names every contig, so a missing one is damage.
    fn sequence(&self, index: usize) -> Result<oresund_ingest::reference::ContigSequence<'_>, NodeError> {
        self.reference
            .sequence(index)
            .ok_or_else(|| NodeError::Damaged(format!("the reference has no sequence for contig number {index}")))
    }

    /// Counts for one variant; `None` when no ingested file the filter admits has it.
    pub fn count_variant(&self, variant: &Variant, filter: &CohortFilter) -> Result<Option<VariantCount>, NodeError> {
        let key = self.normalise(variant)?;
        let prepared = self.prepare_filter(filter)?;
        match self.store.variant(&key)? {
            Some(calls) => self.count_calls(&calls, &prepared),
            None => Ok(None),
        }
    }

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
        // Blocks that follow each other (one file's, or files over different positions) are the
        // answer as they stand, each variant once; others (a second file over the same positions)
        // are merged.
        let counted = blocks.iter().map(|b| match b {
            BlockCounts::Counted(_, counted) => Some(counted),
            BlockCounts::Records(_) => None,
        });
        let in_order = counted.flatten().filter_map(|c| Some((c.first()?, c.last()?))).try_fold(
            None::<&VariantCount>,
            |last, (first, next_last)| match last {
                Some(last) if !follows(last, first) => Err(()),
                _ => Ok(Some(next_last)),
            },
        );
        if in_order.is_ok() && blocks.iter().all(|b| matches!(b, BlockCounts::Counted(..))) {
            let mut out = Vec::with_capacity(blocks.iter().map(BlockCounts::len).sum());
            for block in blocks {
                if let BlockCounts::Counted(_, mut counted) = block {
                    out.append(&mut counted);
                }
            }
            return Ok(out);
        }
        let mut records = Records::default();
        for block in blocks {
            records.add(block);
        }
        self.merge(index, &records, &prepared)
    }

    /// The region's blocks counted, in the order the store reads them: on the calling thread, or,
    /// for a region of a block's span or more on a node with threads to spare, on
    /// `region_threads` workers while the store reads on (a 1 Mb region at 20,000 samples is
    /// about 30 blocks, and counting them five sixths of the time: p50 4.4 → 2.9 ms on two cores,
    /// issue #19). The store reads every block in one read transaction either way.
    fn count_blocks(
        &self,
        contig: usize,
        region: &Region,
        prepared: &PreparedFilter,
    ) -> Result<Vec<BlockCounts>, NodeError> {
        let (start, end) = (region.start, region.end);
        let mut failure = None;
        let mut blocks = Vec::new();
        let mut overlaps = Overlaps::default();
        if self.region_threads < 2 || end.saturating_sub(start) < BLOCK_SPAN {
            self.store.region_blocks(contig as u32, start, end, &mut |block| {
                if prepared.file(block.file).is_none() {
                    return Ok(());
                }
                let merging = overlaps.see(&block)?;
                match self.count_block(contig, &block, start, end, prepared, merging) {
                    Ok(counted) => blocks.push(counted),
                    Err(e) => failure = failure.take().or(Some(e)),
                }
                Ok(())
            })?;
        } else {
            // Bounded, so the store reads at most a few blocks ahead of the counting.
            let room = 2 * self.region_threads;
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
                // and a block counted here is not copied out of the store's reading.
                let workers: Vec<_> = (1..self.region_threads)
                    .map(|_| {
                        let (receiver, queued) = (Arc::clone(&receiver), &queued);
                        scope.spawn(move || {
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
                        })
                    })
                    .collect();
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
                let (counted, failed) =
                    worker.map_err(|_| NodeError::Damaged("a region count's thread failed".into()))?;
                numbered.extend(counted);
                failure = failure.or(failed);
            }
            scanned?;
            numbered.sort_unstable_by_key(|(i, _)| *i);
            blocks = numbered.into_iter().map(|(_, block)| block).collect();
        }
        match failure {
            Some(e) => Err(e),
            None => Ok(blocks),
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
        if !as_records {
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

    /// One variant, as a block of the contig numbered `contig` stores it.
    fn stored_variant(&self, contig: usize, pos: u64, reference: &str, alternate: &str) -> Result<Variant, StoreError> {
        let chrom = &self.reference.contigs()[contig].name;
        // Stored alleles were checked at ingest; one that is not a variant is damage.
        Variant::new(chrom.as_str(), pos, reference, alternate)
            .map_err(|e| StoreError::Corrupt(format!("stored variant at {chrom}:{pos}: {e}")))
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

    /// Counts one variant over the files holding it, each person once: a person several of these
    /// files hold is counted in the first of them only, for the total and within each dataset
    /// (issue #17: files are not trusted to hold different people).
    fn count_files(
        &self,
        prepared: &PreparedFilter,
        entries: &mut [FileEntry<'_>],
    ) -> Result<(AlleleCounts, PerDataset), NodeError> {
        entries.sort_by_key(|e| e.file);
        let mut total = AlleleCounts::default();
        let mut datasets = Vec::new();
        for (i, entry) in entries.iter().enumerate() {
            let Some(scope) = prepared.file(entry.file) else { continue };
            let Some(shadowed) = prepared.shadowed(entry.file, |f| entries[..i].iter().any(|e| e.file == f)) else {
                let counts = self.count_entry(prepared, entry.file, entry.haploid_set, entry.carriers)?;
                total += counts;
                add_dataset(&mut datasets, &scope.dataset, counts);
                continue;
            };
            let carriers = parse_carriers(entry.carriers, scope.columns)?;
            let haploid = self.haploid_set(entry.file, entry.haploid_set)?;
            let count_without = |removed: Option<&ColumnFilter>| match removed {
                None => {
                    carriers.counts(scope.filter.as_ref(), allele_slots(scope.columns, &haploid, scope.filter.as_ref()))
                }
                Some(removed) => {
                    let kept = ColumnFilter::without(scope.filter.as_ref(), scope.columns, removed);
                    carriers.counts(Some(&kept), allele_slots(scope.columns, &haploid, Some(&kept)))
                }
            };
            total += count_without(shadowed.total.as_ref());
            add_dataset(&mut datasets, &scope.dataset, count_without(shadowed.dataset.as_ref()));
        }
        Ok((total, datasets))
    }

    fn count_entry(
        &self,
        prepared: &PreparedFilter,
        file: FileNumber,
        haploid_set: u32,
        carriers: CarrierBytes<'_>,
    ) -> Result<AlleleCounts, NodeError> {
        let scope = prepared
            .file(file)
            .ok_or_else(|| NodeError::Damaged(format!("file {file} not admitted by the prepared filter")))?;
        let slots = prepared.slots(file, haploid_set, || self.haploid_set(file, haploid_set))?;
        Ok(parse_carriers(carriers, scope.columns)?.counts(scope.filter.as_ref(), slots))
    }

    /// Sums the calls of every file the filter admits; `None` when it admits none of them.
    pub fn count_calls(
        &self,
        calls: &VariantCalls,
        prepared: &PreparedFilter,
    ) -> Result<Option<VariantCount>, NodeError> {
        // A file committed after the filter was prepared is not in it; the next refresh adds it.
        let admitted: Vec<(&FileCalls, usize)> =
            calls.calls.iter().filter_map(|c| prepared.file(c.file).map(|scope| (c, scope.columns))).collect();
        if admitted.is_empty() {
            return Ok(None);
        }
        // The orders of people some carriers are in, read once, for counting in place.
        let orders = admitted
            .iter()
            .map(|(c, columns)| c.order.as_deref().map(|order| ColumnOrder::parse(order, *columns)).transpose())
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| NodeError::Store(StoreError::Corrupt(e.to_string())))?;
        let mut entries: Vec<FileEntry<'_>> = admitted
            .iter()
            .zip(&orders)
            .map(|((c, columns), order)| {
                let carriers = match order {
                    Some(order) => CarrierBytes::sorted(&c.carriers, order, *columns),
                    None => CarrierBytes::plain(&c.carriers),
                };
                FileEntry { file: c.file, haploid_set: c.haploid_set, carriers }
            })
            .collect();
        let (total, datasets) = self.count_files(prepared, &mut entries)?;
        let chrom = self.reference.contigs().get(calls.key.contig as usize).map(|c| c.name.clone()).unwrap_or_default();
        let variant = Variant::new(chrom, calls.key.pos, &calls.key.reference, &calls.key.alternate)
            .map_err(|e| NodeError::Store(StoreError::Corrupt(format!("stored variant {}: {e}", calls.vrs_id))))?;
        Ok(Some(VariantCount { variant, vrs_id: calls.vrs_id.clone(), counts: total, datasets }))
    }

    /// The VRS computed identifier of a normalised variant.
    pub fn vrs_id(&self, key: &VariantKey) -> Result<String, NodeError> {
        let contig = &self.reference.contigs()[key.contig as usize];
        let sequence = self.sequence(key.contig as usize)?;
        // The key was normalised against this reference: an allele it cannot describe is damage.
        let allele =
            oresund_core::vrs::Allele::from_vcf(&contig.refget, &sequence, key.pos, &key.reference, &key.alternate)
                .map_err(|e| NodeError::Damaged(e.to_string()))?;
        Ok(allele.id())
    }
}

/// How an individual carries a variant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Zygosity {
    Heterozygous,
    Homozygous,
    Hemizygous,
}

/// One carrier of a variant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Carrier {
    pub dataset: Arc<str>,
    pub individual: IndividualNumber,
    pub zygosity: Zygosity,
}

impl Node {
    /// A stored variant by its VRS id (`ga4gh:VA.…`) or its `CHROM-POS-REF-ALT` notation (normalised first).
    pub fn find_variant(&self, id: &str) -> Result<Option<VariantCalls>, NodeError> {
        if id.starts_with("ga4gh:VA.") {
            return Ok(self.store.variant_by_vrs_id(id)?);
        }
        let variant: Variant = id.parse().map_err(NodeError::VariantId)?;
        let key = self.normalise(&variant)?;
        Ok(self.store.variant(&key)?)
    }

    /// Everyone carrying an ALT allele of `calls` among the individuals and files `prepared` admits.
    pub fn carriers(&self, calls: &VariantCalls, prepared: &PreparedFilter) -> Result<Vec<Carrier>, NodeError> {
        let cohort = self.cohort()?;
        let mut out = Vec::new();
        for file_calls in &calls.calls {
            let Some(scope) = prepared.file(file_calls.file) else { continue };
            let Some(file) = cohort.files.iter().find(|f| f.number == file_calls.file) else { continue };
            let sets = file_calls
                .with_carriers(scope.columns, |c| c.parse(scope.columns).map(|c| c.decode()))?
                .map_err(|e| NodeError::Store(oresund_store::StoreError::Corrupt(e.to_string())))?;
            for (columns, zygosity) in [
                (&sets.het, Zygosity::Heterozygous),
                (&sets.hom_alt, Zygosity::Homozygous),
                (&sets.hemi, Zygosity::Hemizygous),
            ] {
                for &column in columns {
                    let admitted = scope.filter.as_ref().is_none_or(|f| f.contains(column));
                    if let (true, Some(&individual)) = (admitted, file.columns.get(column as usize)) {
                        out.push(Carrier { dataset: scope.dataset.clone(), individual, zygosity });
                    }
                }
            }
        }
        out.sort_by_key(|c| (c.dataset.clone(), c.individual));
        // A person two files of a dataset hold is one carrier (issue #17).
        out.dedup_by(|a, b| a.dataset == b.dataset && a.individual == b.individual);
        Ok(out)
    }
}
