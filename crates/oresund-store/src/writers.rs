//! Writing a node: an ingest's single transaction, and the store-wide writer lock that keeps
//! ingest, archive gc and key rotation apart, behind [`Writers`].

use oresund_core::individual::Individual;

use crate::error::Result;
use crate::model::{ArchiveObject, FileNumber, IndividualNumber, IngestStats, NewFile, VariantKey};

/// Who may write, and how an ingest writes.
pub trait Writers {
    /// Starts the single write transaction of an ingest.
    fn begin_ingest(&self) -> Result<Box<dyn IngestTransaction + '_>>;

    /// Excludes every other writer (ingest, archive gc, key rotation) of this store, in any
    /// process on any machine, until the returned lock is dropped; fails at once with
    /// [`crate::StoreError::Busy`] if another holds it. `None`: the store has no shared lock (the
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
    fn upsert_individuals(&mut self, people: &[Individual]) -> Result<Vec<IndividualNumber>>;

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
