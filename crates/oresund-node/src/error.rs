//! Errors a node reports to its operator: each says what is wrong and where. Each kind of fault is
//! a variant of its own, so whoever reports the error (the CLI, the HTTP server) can tell the
//! caller's fault from the node's by its kind, never by its text.

use std::path::{Path, PathBuf};

use oresund_core::variant::VariantParseError;
use oresund_ingest::bcf::BcfError;
use oresund_ingest::individuals::IndividualsError;
use oresund_ingest::normalize::NormaliseError;
use oresund_ingest::reference::ReferenceError;
use oresund_ingest::vcf::reader::VcfError;
use oresund_store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum NodeError {
    #[error("{}: {error}", path.display())]
    Io { path: PathBuf, error: std::io::Error },
    #[error("{}: {message}", path.display())]
    Config { path: PathBuf, message: String },
    #[error("{}: not an Øresund node directory (no oresund.toml); create one with `oresund init`", .0.display())]
    NotANode(PathBuf),
    #[error("{}: already holds a node; choose an empty directory", .0.display())]
    AlreadyANode(PathBuf),
    #[error(transparent)]
    Reference(#[from] ReferenceError),
    #[error(transparent)]
    Vcf(#[from] VcfError),
    /// A BCF that cannot be read (its records' errors name the record: a BCF has no lines).
    #[error("{}: {error}", path.display())]
    Bcf { path: PathBuf, error: BcfError },
    #[error("{}:{}", path.display(), located(error))]
    Individuals { path: PathBuf, error: IndividualsError },
    #[error("{}: {message}", path.display())]
    Ontology { path: PathBuf, message: String },
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Archive(#[from] crate::archive::error::ArchiveError),
    #[error(transparent)]
    Erasure(#[from] crate::erasure::error::ErasureError),
    #[error("another ingest is running on this node ({})", .0.display())]
    Busy(PathBuf),

    // The question asked does not fit this node's data: whoever asked fixes it.
    #[error("contig {name:?} is not in this node's reference (it has: {known})")]
    UnknownContig { name: String, known: String },
    #[error("region {region} starts after the end of {contig} ({length})")]
    RegionBeyondContig { region: String, contig: String, length: u64 },
    /// A query variant whose REF or ALT does not fit the reference.
    #[error(transparent)]
    Normalise(#[from] NormaliseError),
    /// A variant id that is neither `CHROM-POS-REF-ALT` nor a VRS id.
    #[error("{0}; or give a VRS id (ga4gh:VA.…)")]
    VariantId(VariantParseError),
    /// A cohort filter naming an unknown term or dataset.
    #[error(transparent)]
    Filter(#[from] crate::cohort::FilterError),
    #[error("dataset id {0:?} must be 1-64 letters, digits, '-', '_' or '.', starting with a letter or digit")]
    DatasetId(String),
    /// A catalog URL given on the command line that must not be used as it is.
    #[error("{0}")]
    CommandLineUrl(String),
    /// A configuration about to be written does not validate.
    #[error(transparent)]
    InvalidConfig(#[from] crate::config_error::ConfigError),
    /// A configuration file does not validate.
    #[error("{}: {error}", path.display())]
    BadConfig { path: PathBuf, error: crate::config_error::ConfigError },

    // What a new node is made in is already in use.
    #[error("{}: the directory is not empty; choose a new or empty one", .0.display())]
    DirectoryNotEmpty(PathBuf),
    #[error(
        "the PostgreSQL catalog {0} already holds a node; give `init` an empty database, or copy the \
         existing node directory (with its secrets) to run more servers over it"
    )]
    CatalogInUse(String),
    #[error(
        "the archive location {location} already holds objects ({first}, …); give `init` an empty bucket or prefix"
    )]
    ArchiveInUse { location: String, first: String },

    // The node's own fault: only its operator can act on these.
    /// The node's data contradicts itself (a reference sequence missing, a stored variant the
    /// reference cannot describe).
    #[error("the node's data is damaged: {0}")]
    Damaged(String),
    #[error("an internal lock was poisoned by an earlier panic")]
    Poisoned,
    #[error("no randomness available: {0}")]
    NoRandomness(String),
    /// The visa signing key could not be made or its retired keys written.
    #[error("signing key: {0}")]
    SigningKey(String),
}

/// `LINE: message` for a line error, ` message` otherwise (after `path:`).
fn located(error: &IndividualsError) -> String {
    match error {
        IndividualsError::Line { line, message } => format!("{line}: {message}"),
        IndividualsError::Io(e) => format!(" {e}"),
    }
}

impl NodeError {
    pub fn io(path: &Path, source: std::io::Error) -> Self {
        NodeError::Io { path: path.to_path_buf(), error: source }
    }
}
