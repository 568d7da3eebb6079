//! The variant index: per variant and file, who carries it, behind [`VariantIndex`].

use crate::blocks::EntryRef;
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

    /// A variant by its VRS computed identifier.
    fn variant_by_vrs_id(&self, vrs_id: &str) -> Result<Option<VariantCalls>>;

    /// The sample columns whose calls are haploid, for a haploid-set id stored with a file's calls.
    fn haploid_set(&self, file: FileNumber, set: u32) -> Result<Vec<u32>>;
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
