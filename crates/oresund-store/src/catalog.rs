//! What a node holds: datasets, their ingested files and the individuals in them, behind
//! [`Catalog`].

use crate::error::Result;
use crate::model::{Dataset, StoredFile, StoredIndividual};
use crate::schema_version::SchemaVersion;

/// The catalog of a node (committed ingests only).
pub trait Catalog {
    /// Changes whenever an ingest commits; readers use it to refresh their caches.
    fn generation(&self) -> Result<u64>;

    fn datasets(&self) -> Result<Vec<Dataset>>;

    fn files(&self) -> Result<Vec<StoredFile>>;

    /// The file with this checksum in this dataset, if it was ingested before.
    fn find_file(&self, dataset: &str, sha256: &str) -> Result<Option<StoredFile>>;

    fn individuals(&self) -> Result<Vec<StoredIndividual>>;

    /// Each versioned part of the store: the schema version found on opening and the one now.
    fn schema_versions(&self) -> Vec<SchemaVersion>;
}
