//! What can stop a withdrawal or a removal. Each is reported before anything changed, except
//! where it says otherwise.

#[derive(Debug, thiserror::Error)]
pub enum ErasureError {
    #[error("no individual with this {0} is on this node; nothing was changed")]
    UnknownPerson(&'static str),
    #[error("the individual is not in dataset {0:?}; nothing was changed")]
    NotInDataset(String),
    #[error("no ingested file {0} on this node (`oresund archive list` shows them); nothing was changed")]
    UnknownFile(String),
    #[error("no dataset {0:?} on this node; nothing was changed")]
    UnknownDataset(String),
    #[error("a reason is required (it is recorded in the audit log); nothing was changed")]
    NoReason,
    #[error(
        "{accession}: sample column {} of the archived VCF is not the withdrawn person, so the catalog and the \
         archive disagree; nothing was changed (run `oresund archive verify`)",
        .column + 1
    )]
    ColumnMismatch { accession: String, column: usize },
    #[error("{accession}: cannot rewrite it: {message}; nothing was changed")]
    Rewrite { accession: String, message: String },
    #[error("the {0} thread of a withdrawal stopped unexpectedly; nothing was changed")]
    Crashed(&'static str),
    #[error(
        "{what} is a participant who withdrew ({scope}) on {recorded}; their data is not taken in again. \
         Remove them from the files before ingesting"
    )]
    Withdrawn { what: String, scope: String, recorded: String },
}
