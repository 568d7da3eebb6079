//! Where a node keeps what it knows: the catalog (datasets, individuals, files) and the variant
//! index (per variant and file, who carries it), behind [`NodeStore`] so that the embedded SQLite
//! backend ([`sqlite`]) and the PostgreSQL one ([`postgres`]) pass the same tests
//! (the suite in `crates/oresund-storage-suite`).
//!
//! Writes happen in an [`IngestTransaction`]: everything an ingest adds becomes visible at once on
//! `commit`, or not at all (a crash or `kill -9` rolls back). Controlled-access records (access
//! requests, grants, the audit log, budgets) are behind [`AccessStore`], which every node store
//! also is.

pub mod access;
pub mod blocks;
mod encoding;
pub mod error;
pub mod model;
pub mod postgres;
mod rules;
pub mod sqlite;

pub use access::*;
pub use error::{Result, StoreError};
pub use model::*;

use oresund_core::individual::Individual;

/// The catalog and the variant index of one node (and, as an [`AccessStore`], its
/// controlled-access records).
pub trait NodeStore: AccessStore + Send + Sync {
    /// Changes whenever an ingest commits; readers use it to refresh their caches.
    fn generation(&self) -> Result<u64>;

    fn datasets(&self) -> Result<Vec<Dataset>>;

    fn files(&self) -> Result<Vec<StoredFile>>;

    /// The file with this checksum in this dataset, if it was ingested before.
    fn find_file(&self, dataset: &str, sha256: &str) -> Result<Option<StoredFile>>;

    fn individuals(&self) -> Result<Vec<StoredIndividual>>;

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

    /// Starts the single write transaction of an ingest.
    fn begin_ingest(&self) -> Result<Box<dyn IngestTransaction + '_>>;

    /// Every archive object of a committed ingest, by accession.
    fn archive_objects(&self) -> Result<Vec<ArchiveObject>>;

    /// One archive object of a committed ingest.
    fn archive_object(&self, accession: &str) -> Result<Option<ArchiveObject>>;

    /// The archive objects of one ingested file (the catalog's link to its encrypted originals).
    fn archive_objects_of_file(&self, file: FileNumber) -> Result<Vec<ArchiveObject>>;

    /// Re-points archive objects at new headers, all or none (key rotation). Fails with
    /// [`StoreError::Conflict`] if an object no longer has the header the switch expects.
    fn switch_archive_headers(&self, switches: &[HeaderSwitch]) -> Result<()>;

    /// Excludes every other writer (ingest, archive gc, key rotation) of this store, in any
    /// process on any machine, until the returned lock is dropped; fails at once with
    /// [`StoreError::Busy`] if another holds it. `None`: the store has no shared lock (the
    /// embedded store lives in one node directory, whose lock file is enough).
    fn lock_writers(&self) -> Result<Option<WriterLock>> {
        Ok(None)
    }
}

/// A store-wide writer lock; released when dropped (or when its process dies).
pub struct WriterLock {
    _held: Box<dyn Send>,
}

impl WriterLock {
    /// A lock held for as long as `held` lives (its drop releases it).
    pub fn new(held: impl Send + 'static) -> Self {
        WriterLock { _held: Box::new(held) }
    }
}

/// An ingest in progress. Dropping it without [`IngestTransaction::commit`] discards everything.
pub trait IngestTransaction {
    /// Stores (or updates) individuals; returns their node numbers in the same order. A person
    /// already known by pseudonym keeps their number.
    fn upsert_individuals(&mut self, people: &[Individual]) -> Result<Vec<u32>>;

    /// Registers a new file (creating its dataset when new) and gives it a number and accession.
    fn add_file(&mut self, file: &NewFile, accession_prefix: &str) -> Result<(FileNumber, String)>;

    /// Adds one variant's calls in `file` (`carriers` encoded for the file's columns, `haploid` the
    /// columns with haploid calls). Variants may arrive slightly out of order; a variant already
    /// added to the file is counted as a duplicate and kept once.
    fn add_variant(
        &mut self,
        file: FileNumber,
        key: &VariantKey,
        vrs_id: &str,
        carriers: &[u8],
        haploid: &[u32],
    ) -> Result<()>;

    /// Writes what is buffered and records the file's counts; returns them with `variants` and
    /// `duplicates` filled in by the store.
    fn finish_file(&mut self, file: FileNumber, stats: &IngestStats) -> Result<IngestStats>;

    /// Records an encrypted object of a file added in this transaction; it becomes visible with
    /// the file at commit. The objects must already be stored (the catalog only refers to them).
    fn add_archive_object(&mut self, object: &ArchiveObject) -> Result<()>;

    /// Makes everything visible, atomically.
    fn commit(self: Box<Self>) -> Result<()>;
}
