//! Matchmaker Exchange (MME API 1.0, ga4gh/mme-apis): a clinician's case — phenotype features
//! (HPO), candidate genes and variants, and a contact — and the scoring that ranks other cases
//! against it.
//!
//! - [`patient`]: the MME patient object, checked on the way in.
//! - [`genes`]: HGNC symbols, NCBI Gene ids and Ensembl gene ids as one gene.
//! - [`phenotype`]: semantic similarity over HPO (Lin with gene-based information content,
//!   best-match average), the same numbers as PyPI `pyhpo` 4.0.0.
//! - [`score`]: phenotype and genotype parts combined into one score in [0, 1].
//! - [`case_index`]: many cases, ranked against one query fast enough for 100,000 cases.

pub mod case_index;
pub mod genes;
pub mod patient;
pub mod phenotype;
pub mod score;

pub use case_index::{Case, CaseIndex, Ranked};
pub use genes::{GeneKey, GeneTable};
pub use patient::{Patient, PatientError};
pub use phenotype::PhenotypeModel;
pub use score::{Score, Weights};
