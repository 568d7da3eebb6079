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
    ) -> Result<()>;

    /// The blocks [`VariantIndex::scan_region`] reads, in the same order and read transaction,
    /// each whole and owned: a caller can count them on other threads while the scan reads on.
    fn region_blocks(
        &self,
        contig: u32,
        start: u64,
        end: u64,
        visit: &mut dyn FnMut(RegionBlock) -> Result<()>,
    ) -> Result<()>;

    /// A variant by its VRS computed identifier.
    fn variant_by_vrs_id(&self, vrs_id: &str) -> Result<Option<VariantCalls>>;

    /// The sample columns whose calls are haploid, for a haploid-set id stored with a file's calls.
    fn haploid_set(&self, file: FileNumber, set: u32) -> Result<Vec<u32>>;
}

/// One block of a region, as [`VariantIndex::region_blocks`] hands it over.
#[derive(Debug, Clone)]
pub struct RegionBlock {
    pub file: FileNumber,
    pub bytes: BlockBytes,
    /// The longest REF on the node when the block was read (an entry before the region's start
    /// may reach into it).
    pub max_ref_len: u64,
}

impl RegionBlock {
    /// Visits the block's entries overlapping `start..=end`, as [`VariantIndex::scan_region`] does.
    pub fn visit_overlapping(&self, start: u64, end: u64, visit: impl FnMut(EntryRef<'_>) -> Result<()>) -> Result<()> {
        BlockView::parse(&self.bytes)?.visit_overlapping(start, end, self.max_ref_len, visit)
    }

    /// The positions of its first and last entries (`None` when it has none).
    pub fn positions(&self) -> Result<Option<(u64, u64)>> {
        let view = BlockView::parse(&self.bytes)?;
        Ok(view.len().checked_sub(1).map(|last| (view.pos(0), view.pos(last))))
    }
}

/// A block's bytes: read for the caller alone, or shared with a cache.
#[derive(Debug, Clone)]
pub enum BlockBytes {
    Owned(Box<[u8]>),
    Shared(Arc<[u8]>),
}

impl std::ops::Deref for BlockBytes {
    type Target = [u8];

    fn deref(&self) -> &[u8] {
        match self {
            BlockBytes::Owned(bytes) => bytes,
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
