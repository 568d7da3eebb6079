//! What the store keeps, in plain types that know nothing of SQL.

use oresund_core::carrier_links::CarrierBytes;
use oresund_core::carrier_order::ColumnOrder;
use oresund_core::individual::Individual;

/// A number the node gives (stable, never reused), as its own type so that one kind cannot be
/// passed for another. Zero-cost: a `u32` in memory.
macro_rules! number {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub struct $name(u32);

        impl $name {
            pub const fn new(number: u32) -> Self {
                Self(number)
            }

            pub const fn get(self) -> u32 {
                self.0
            }
        }

        impl From<u32> for $name {
            fn from(number: u32) -> Self {
                Self(number)
            }
        }

        impl From<$name> for u32 {
            fn from(number: $name) -> u32 {
                number.0
            }
        }

        impl From<$name> for i64 {
            fn from(number: $name) -> i64 {
                i64::from(number.0)
            }
        }

        /// A stored column read back (out of range: the caller reports the store as damaged).
        impl TryFrom<i64> for $name {
            type Error = std::num::TryFromIntError;

            fn try_from(value: i64) -> std::result::Result<Self, Self::Error> {
                u32::try_from(value).map(Self)
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                std::fmt::Display::fmt(&self.0, f)
            }
        }
    };
}

number!(
    /// Number of an individual on this node (stable, never reused).
    IndividualNumber
);
number!(
    /// Number of an ingested file (stable, never reused).
    FileNumber
);

impl IndividualNumber {
    /// A file's sample column whose person was withdrawn. The column stays, blank — no ALT
    /// allele, no call — so that a server still holding the file's previous column layout (until
    /// its next catalog check) reads the new carrier sets correctly: counts never mix layouts.
    pub const WITHDRAWN: IndividualNumber = IndividualNumber(u32::MAX);
}

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
    /// Id of the file's haploid set (see [`crate::VariantIndex::haploid_set`]); 0 when all diploid.
    pub haploid_set: u32,
    /// Encoded carrier sets (`oresund_core::carriers`), in the file's sample columns or, with
    /// `order`, some in that order of people.
    pub carriers: Vec<u8>,
    /// The order of people of the block they come from (`oresund_core::carrier_order`), when a
    /// set is in it: a count reads them in place ([`FileCalls::with_carriers`]).
    pub order: Option<Vec<u8>>,
}

impl FileCalls {
    /// Calls `read` with the carriers as a count reads them in place, in a file of `columns`.
    pub fn with_carriers<R>(
        &self,
        columns: usize,
        read: impl FnOnce(CarrierBytes<'_>) -> R,
    ) -> Result<R, crate::StoreError> {
        let Some(order) = &self.order else { return Ok(read(CarrierBytes::plain(&self.carriers))) };
        let order = ColumnOrder::parse(order, columns).map_err(|e| crate::StoreError::Corrupt(e.to_string()))?;
        Ok(read(CarrierBytes::sorted(&self.carriers, &order, columns)))
    }

    /// The plain encoding of the carriers (`oresund_core::carriers`) in a file of `columns`.
    pub fn plain_carriers(&self, columns: usize) -> Result<Vec<u8>, crate::StoreError> {
        self.with_carriers(columns, |c| c.to_plain().map(|c| c.into_owned()))?
            .map_err(|e| crate::StoreError::Corrupt(e.to_string()))
    }
}

/// A variant and its genotypes in every file that has it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VariantCalls {
    pub key: VariantKey,
    pub vrs_id: String,
    pub calls: Vec<FileCalls>,
}

/// What an archived object holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ArchiveKind {
    /// The ingested VCF, byte for byte.
    Vcf,
    /// The individuals (metadata) file given with the VCF; it holds local ids.
    Individuals,
    /// The node's BGZF block index of the VCF, for region export (indexes leak information too).
    BlockIndex,
}

impl ArchiveKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ArchiveKind::Vcf => "vcf",
            ArchiveKind::Individuals => "individuals",
            ArchiveKind::BlockIndex => "block-index",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        [ArchiveKind::Vcf, ArchiveKind::Individuals, ArchiveKind::BlockIndex].into_iter().find(|k| k.as_str() == text)
    }
}

impl std::fmt::Display for ArchiveKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An encrypted object in the node's archive, as the catalog records it: where its Crypt4GH header
/// and body are stored, and the checksums to verify them. The store keeps only this metadata; the
/// bytes live in the archive's object store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArchiveObject {
    /// Stable accession: the file's (`NODE-F000001`) for the VCF, with a suffix for the others.
    pub accession: String,
    /// The ingested file it belongs to.
    pub file: FileNumber,
    pub kind: ArchiveKind,
    /// File name as given at ingest (no directories).
    pub name: String,
    /// SHA-256 (hex) and size of the original bytes.
    pub plaintext_sha256: String,
    pub plaintext_size: u64,
    /// SHA-256 (hex) and size of the stored Crypt4GH body.
    pub body_sha256: String,
    pub body_size: u64,
    /// Object path of the Crypt4GH header (encrypted to the node key `key_id`).
    pub header_path: String,
    /// Object path of the Crypt4GH body.
    pub body_path: String,
    /// Id of the key the header is encrypted to: the file key of this version (or, for objects
    /// archived before file keys, the node key).
    pub key_id: String,
    /// Set by the store when the object is recorded (ignored when adding).
    pub created: String,
    /// Version of the accession: 1 at ingest, one more each time a withdrawal rewrites the file.
    pub version: u32,
}

/// An archived object version made unrecoverable: its file key destroyed, its objects deleted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShreddedObject {
    pub accession: String,
    pub version: u32,
    pub kind: ArchiveKind,
    /// The destroyed key its header was encrypted to.
    pub key_id: String,
    /// Where its header and body were (an old backup may still hold them, unreadable).
    pub header_path: String,
    pub body_path: String,
    /// Set by the store when recorded.
    pub shredded: String,
    /// Why: `withdrawal`, `file removed` or `dataset removed`.
    pub cause: String,
}

impl ShreddedObject {
    /// The record of `object`'s version, shredded at `shredded` for `cause`.
    pub fn of(object: &ArchiveObject, shredded: String, cause: &str) -> Self {
        ShreddedObject {
            accession: object.accession.clone(),
            version: object.version,
            kind: object.kind,
            key_id: object.key_id.clone(),
            header_path: object.header_path.clone(),
            body_path: object.body_path.clone(),
            shredded,
            cause: cause.to_string(),
        }
    }
}

/// A participant's withdrawal, as the catalog keeps it (pseudonym only), so that repeating it is
/// recognised and their data is not ingested again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Withdrawal {
    pub pseudonym: String,
    /// The dataset withdrawn from; `None`: every dataset.
    pub dataset: Option<String>,
    /// Set by the store when recorded.
    pub recorded: String,
}

/// One file rewritten without some sample columns, with the archived objects of its new version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileRewrite {
    pub file: FileNumber,
    /// Sample columns (0-based, in the catalog's column list) to blank: every carrier set holds
    /// them as uncalled, the column list as [`IndividualNumber::WITHDRAWN`].
    pub blank_columns: Vec<u32>,
    /// The new version's objects; each replaces the object of the same accession, whose old
    /// version is recorded as shredded.
    pub objects: Vec<ArchiveObject>,
}

/// Everything one withdrawal or removal changes in the catalog, applied in one transaction.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ErasurePlan {
    pub rewrites: Vec<FileRewrite>,
    /// Files removed whole (their variant index and archive rows; the number is never reused).
    pub removals: Vec<FileNumber>,
    pub withdrawal: Option<Withdrawal>,
    /// Recorded with each shredded version: `withdrawal`, `file removed`, `dataset removed`.
    pub cause: String,
}

/// What applying an [`ErasurePlan`] changed.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ErasureOutcome {
    /// The archived versions replaced or removed: their file keys are to be destroyed.
    pub shredded: Vec<ShreddedObject>,
    /// Individuals no remaining file holds, whose records were removed.
    pub individuals_removed: u64,
}

/// Re-points an archive object at a header encrypted to another node key (key rotation).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeaderSwitch {
    pub accession: String,
    /// The header the object must still have; otherwise the switch is refused.
    pub from_header_path: String,
    pub to_header_path: String,
    pub to_key_id: String,
}
