//! The variant index: per variant and file, who carries it, behind [`VariantIndex`].

use std::sync::Arc;

use crate::blocks::{BlockView, EntryRef};
use crate::error::Result;
use crate::model::{FileCalls, FileNumber, VariantCalls, VariantKey};

/// Lookups in the variant index (committed ingests only).
pub trait VariantIndex {
    /// One variant with its genotypes in every file.
    fn variant(&self, key: &VariantKey) -> Result<Option<VariantCalls>>;

    /// Visits every stored variant overlapping `start..=end` (1-based) on a contig: file by file
    /// (ascending file number), and in each file by position and alleles.
    fn scan_region(
        &self,
        contig: u32,
        start: u64,
        end: u64,
        visit: &mut dyn FnMut(FileNumber, EntryRef<'_>) -> Result<()>,
    ) -> Result<()> {
        self.region_blocks(contig, start, end, &mut |block| {
            block.visit_overlapping(start, end, |entry| visit(block.file, entry))
        })
    }

    /// The blocks that may hold variants overlapping `start..=end` on a contig, file by file and
    /// in each as written (by position and alleles, each variant once), in one read transaction
    /// (a withdrawal rewrites blocks in place: the region is wholly before or after it). A caller
    /// may take a block to count on another thread ([`RegionBlock::into_owned`]) while the scan
    /// reads on.
    fn region_blocks(&self, contig: u32, start: u64, end: u64, visit: &mut BlockVisit<'_>) -> Result<()>;

    /// A variant by its VRS computed identifier.
    fn variant_by_vrs_id(&self, vrs_id: &str) -> Result<Option<VariantCalls>>;

    /// The sample columns whose calls are haploid, for a haploid-set id stored with a file's calls.
    fn haploid_set(&self, file: FileNumber, set: u32) -> Result<Vec<u32>>;
}

/// What [`VariantIndex::region_blocks`] calls with each block.
pub type BlockVisit<'v> = dyn FnMut(RegionBlock<'_>) -> Result<()> + 'v;

/// One block of a region, as [`VariantIndex::region_blocks`] hands it over.
#[derive(Debug, Clone)]
pub struct RegionBlock<'a> {
    pub file: FileNumber,
    pub bytes: BlockBytes<'a>,
    /// The longest REF on the node when the block was read (an entry before the region's start
    /// may reach into it).
    pub max_ref_len: u64,
}

impl RegionBlock<'_> {
    /// Visits the block's entries overlapping `start..=end`, in order.
    pub fn visit_overlapping(&self, start: u64, end: u64, visit: impl FnMut(EntryRef<'_>) -> Result<()>) -> Result<()> {
        BlockView::parse(&self.bytes)?.visit_overlapping(start, end, self.max_ref_len, visit)
    }

    /// The positions of its first and last entries (`None` when it has none).
    pub fn positions(&self) -> Result<Option<(u64, u64)>> {
        let view = BlockView::parse(&self.bytes)?;
        Ok(view.len().checked_sub(1).map(|last| (view.pos(0), view.pos(last))))
    }

    /// The block with bytes that outlive the store's reading (copied when borrowed from it).
    pub fn into_owned(self) -> RegionBlock<'static> {
        let bytes = match self.bytes {
            BlockBytes::Borrowed(read) => BlockBytes::Shared(Arc::from(read)),
            BlockBytes::Shared(held) => BlockBytes::Shared(held),
        };
        RegionBlock { file: self.file, bytes, max_ref_len: self.max_ref_len }
    }
}

/// A block's bytes: borrowed from the store while it reads, or shared (with a cache, or with
/// another thread).
#[derive(Debug, Clone)]
pub enum BlockBytes<'a> {
    Borrowed(&'a [u8]),
    Shared(Arc<[u8]>),
}

impl std::ops::Deref for BlockBytes<'_> {
    type Target = [u8];

    fn deref(&self) -> &[u8] {
        match self {
            BlockBytes::Borrowed(bytes) => bytes,
            BlockBytes::Shared(bytes) => bytes,
        }
    }
}

/// Adds one file's calls to the variant being read back row by row (in file order, as both
/// backends query it); the first row also names the variant: `identify` gives its key and VRS id.
pub(crate) fn add_file_calls(
    out: &mut Option<VariantCalls>,
    calls: FileCalls,
    identify: impl FnOnce() -> Result<(VariantKey, String)>,
) -> Result<()> {
    match out {
        Some(found) => found.calls.push(calls),
        None => {
            let (key, vrs_id) = identify()?;
            *out = Some(VariantCalls { key, vrs_id, calls: vec![calls] });
        }
    }
    Ok(())
}

/// Adds `file`'s calls of `key` from a whole block, if the block holds it (a lookup through a
/// block cache, on either backend).
pub(crate) fn add_block_calls(
    out: &mut Option<VariantCalls>,
    block: &[u8],
    file: FileNumber,
    key: &VariantKey,
) -> Result<()> {
    let view = BlockView::parse(block)?;
    if let Some(slot) = view.find(key.pos, &key.reference, &key.alternate)? {
        let entry = view.entry(slot)?;
        add_file_calls(out, entry.calls(file)?, || Ok((key.clone(), entry.vrs_id.to_id())))?;
    }
    Ok(())
}

/// A lookup's calls by file, as every path gives them (a file's variant may sit in either of two
/// blocks, and blocks come in other orders than by file).
pub(crate) fn in_file_order(out: &mut Option<VariantCalls>) {
    if let Some(found) = out {
        found.calls.sort_by_key(|calls| calls.file);
    }
}
