//! The catalog's record of the encrypted archive (where each ingested file's Crypt4GH header and
//! body are, and their checksums), behind [`ArchiveCatalog`].

use crate::error::Result;
use crate::model::{ArchiveObject, FileNumber, HeaderSwitch};

/// Archive objects of committed ingests, and key rotation's header switches.
pub trait ArchiveCatalog {
    /// Every archive object of a committed ingest, by accession.
    fn archive_objects(&self) -> Result<Vec<ArchiveObject>>;

    /// One archive object of a committed ingest.
    fn archive_object(&self, accession: &str) -> Result<Option<ArchiveObject>>;

    /// The archive objects of one ingested file (the catalog's link to its encrypted originals).
    fn archive_objects_of_file(&self, file: FileNumber) -> Result<Vec<ArchiveObject>>;

    /// Re-points archive objects at new headers, all or none (key rotation). Fails with
    /// [`crate::StoreError::Conflict`] if an object no longer has the header the switch expects.
    fn switch_archive_headers(&self, switches: &[HeaderSwitch]) -> Result<()>;
}
