//! Errors a node reports to its operator: each says what is wrong and where.

use std::path::{Path, PathBuf};

use oresund_ingest::individuals::IndividualsError;
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
    #[error("{}:{}", path.display(), located(error))]
    Individuals { path: PathBuf, error: IndividualsError },
    #[error("{}: {message}", path.display())]
    Ontology { path: PathBuf, message: String },
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Archive(#[from] crate::archive::error::ArchiveError),
    #[error("{0}")]
    Invalid(String),
    #[error("another ingest is running on this node ({})", .0.display())]
    Busy(PathBuf),
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
