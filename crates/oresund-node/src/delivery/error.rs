//! What can go wrong delivering an archived file. The first group is the caller's (an unknown
//! object or contig); the rest is the node's (a damaged or unindexed archive object).

use oresund_store::StoreError;

use crate::archive::error::ArchiveError;
use crate::delivery::bgzf::BlockError;

#[derive(Debug, thiserror::Error)]
pub enum DeliveryError {
    /// No archived VCF with this accession (individuals files and indexes are never delivered).
    #[error("no archived VCF {0} on this node")]
    NotFound(String),
    #[error("referenceName {name:?} is not in this file (its contigs: {})", known.join(", "))]
    UnknownContig { name: String, known: Vec<String> },
    /// A VCF archived without a block index: it was not BGZF-compressed.
    #[error(
        "{0} is not a bgzipped VCF, so it cannot be delivered (deliveries cut files at BGZF blocks and \
         rename the samples to pseudonyms); re-ingest it compressed with `bgzip` or `bcftools view -Oz`"
    )]
    NotIndexed(String),
    #[error("the archived VCF has no header ending in a #CHROM line")]
    NoHeader,
    /// The catalog knows another number of samples than the archived header has columns.
    #[error("the archived VCF has {columns} sample columns but the catalog knows {known} (damage)")]
    Samples { columns: usize, known: usize },
    #[error("the archived VCF is damaged near byte {0}; run `oresund archive verify`")]
    Damaged(u64),
    #[error("a delivery reached past the end of the archived file (byte {0})")]
    OutOfFile(u64),
    #[error(transparent)]
    Block(#[from] BlockError),
    #[error(transparent)]
    Archive(#[from] ArchiveError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("Crypt4GH: {0}")]
    Crypt4gh(#[from] oresund_c4gh::Error),
    #[error("delivery stopped: {0}")]
    Io(#[from] std::io::Error),
}

impl DeliveryError {
    /// The caller asked for something this node does not have (a 404), rather than the node failing.
    pub fn is_not_found(&self) -> bool {
        matches!(self, DeliveryError::NotFound(_) | DeliveryError::UnknownContig { .. })
    }
}
