//! What the store keeps, in plain types that know nothing of SQL.

use oresund_core::individual::Individual;

/// Number of an individual on this node (stable, never reused).
pub type IndividualNumber = u32;
/// Number of an ingested file (stable, never reused).
pub type FileNumber = u32;

/// A dataset: a named collection of ingested files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dataset {
    pub id: String,
    pub created: String,
}

/// A file the node ingested, as recorded once its ingest committed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredFile {
    pub number: FileNumber,
    /// Stable accession, `NODE-F000001`.
    pub accession: String,
    pub dataset: String,
    /// File name as given (no directories).
    pub name: String,
    /// SHA-256 of the file's bytes, hex.
    pub sha256: String,
    pub size: u64,
    pub created: String,
    pub stats: IngestStats,
    /// Individual number of each sample column.
    pub columns: Vec<IndividualNumber>,
}

/// Counts reported for an ingest.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct IngestStats {
    /// Data lines read.
    pub records: u64,
    /// Multi-allelic records split.
    pub split: u64,
    /// Distinct variants stored.
    pub variants: u64,
    /// Variants moved or trimmed by normalisation.
    pub realigned: u64,
    /// Alleles not indexed (ALT `.`, symbolic, `*`).
    pub skipped: u64,
    /// Variants seen twice after normalisation (kept once).
    pub duplicates: u64,
}

/// A new file, before its variants are written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewFile {
    pub dataset: String,
    pub name: String,
    pub sha256: String,
    pub size: u64,
    /// Individual number of each sample column.
    pub columns: Vec<IndividualNumber>,
}

/// An individual as stored, with the node's number for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredIndividual {
    pub number: IndividualNumber,
    pub individual: Individual,
}

/// A normalised variant: contig index into the node's reference, 1-based position, alleles.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct VariantKey {
    pub contig: u32,
    pub pos: u64,
    pub reference: String,
    pub alternate: String,
}

impl VariantKey {
    /// Last 1-based position covered by REF.
    pub fn end(&self) -> u64 {
        self.pos + self.reference.len() as u64 - 1
    }
}

/// One variant's genotypes in one file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileCalls {
    pub file: FileNumber,
    /// Id of the file's haploid set (see [`crate::NodeStore::haploid_set`]); 0 when all diploid.
    pub haploid_set: u32,
    /// Encoded carrier sets (`oresund_core::carriers`), in the file's sample columns.
    pub carriers: Vec<u8>,
}

/// A variant and its genotypes in every file that has it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VariantCalls {
    pub key: VariantKey,
    pub vrs_id: String,
    pub calls: Vec<FileCalls>,
}

/// One variant of one file during a region scan, borrowed from the stored block.
pub use crate::blocks::EntryRef;
