//! What can go wrong with a matchmaking case or request. The first group is the caller's (an
//! invalid patient, an unknown case); the rest is the node's.

use oresund_match::PatientError;
use oresund_store::StoreError;

use crate::error::NodeError;

#[derive(Debug, thiserror::Error)]
pub enum MatchError {
    /// The patient breaks a rule of the MME API (HTTP 422).
    #[error(transparent)]
    Invalid(#[from] PatientError),
    /// No case with this id that the caller submitted (HTTP 404): another clinician's case is
    /// not told apart from none.
    #[error("no case {0:?} of yours on this node")]
    UnknownCase(String),
    /// Phenotype similarity needs the HPO.
    #[error("this node has no HPO ontology ([ontology] hpo in oresund.toml); matchmaking needs it")]
    NoOntology,
    /// The gene table compiled into this build does not read (a broken build).
    #[error("the gene table of this build does not read: {0}")]
    GeneTable(String),
    /// A stored case that no longer reads (damage, or a newer release's data).
    #[error("stored case {case_id} does not read: {message}")]
    Stored { case_id: String, message: String },
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Node(#[from] NodeError),
}
