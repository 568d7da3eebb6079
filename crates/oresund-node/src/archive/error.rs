//! What can go wrong with the encrypted archive and the node's Crypt4GH keys. Each message names
//! the object (by accession or path) or key file concerned, never file contents.

use std::path::PathBuf;

use crate::passphrase::PASSPHRASE_ENV;

#[derive(Debug, thiserror::Error)]
pub enum ArchiveError {
    #[error("archive object {path}: {source}")]
    ObjectStore { path: String, source: Box<object_store::Error> },
    #[error("archive object {path}: {error}")]
    ObjectIo { path: String, error: std::io::Error },
    #[error("archive object {0} is missing")]
    Missing(String),
    #[error("{}: {error}", path.display())]
    Io { path: PathBuf, error: std::io::Error },
    /// A Crypt4GH failure on an archive object (its header or body).
    #[error("{accession}: {source}")]
    Crypt4gh { accession: String, source: oresund_c4gh::Error },
    /// A key file could not be read or written.
    #[error("{}: {source}", path.display())]
    KeyFile { path: PathBuf, source: oresund_c4gh::Error },
    #[error("{}: the node's archive key is missing (`oresund init` creates it; `oresund keys rotate` creates one for a node made before the archive existed)", .0.display())]
    KeyMissing(PathBuf),
    #[error("{}: the node's secret key is passphrase-protected; set {PASSPHRASE_ENV} to its passphrase", .0.display())]
    PassphraseRequired(PathBuf),
    #[error("{}: {PASSPHRASE_ENV} does not unlock this key (wrong passphrase, or the key file is damaged)", .0.display())]
    WrongPassphrase(PathBuf),
    #[error(
        "{accession}: its header is encrypted to key {key_id}, which neither the node key nor the file key store \
         (secrets/file-keys) holds: the key was shredded, or the key store is incomplete"
    )]
    UnknownKey { accession: String, key_id: String },
    #[error("no archive object {0} (`oresund archive list` shows them)")]
    NotFound(String),
    #[error(
        "{path}: the file changed while it was being ingested (its SHA-256 is no longer the archived one); nothing was ingested"
    )]
    ChangedDuringIngest { path: PathBuf },
    #[error("{accession}: export stopped: {error}")]
    Export { accession: String, error: std::io::Error },
    #[error("{0}")]
    Region(String),
    /// An archived block index that does not read back: damage.
    #[error("{accession}: {error}")]
    BlockIndex { accession: String, error: crate::archive::index::IndexError },
    #[error(transparent)]
    Location(#[from] crate::archive::location::LocationError),
    #[error("{0}")]
    Invalid(String),
    #[error("cannot start the archive's I/O runtime: {0}")]
    Runtime(std::io::Error),
}

impl ArchiveError {
    /// Wraps a Crypt4GH error on the object `accession`.
    pub fn c4gh(accession: &str) -> impl Fn(oresund_c4gh::Error) -> ArchiveError + '_ {
        move |source| ArchiveError::Crypt4gh { accession: accession.to_string(), source }
    }
}
