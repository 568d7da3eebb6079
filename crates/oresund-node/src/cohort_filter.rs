//! What a count is restricted to (Beacon v2 filters, a caller's datasets and grants), before it
//! is resolved against a catalog generation (`cohort.rs`, `people_index.rs`).

use oresund_access::Reach;
use oresund_core::individual::Sex;

/// One ontology term in a filter.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TermFilter {
    /// `HP:0001250`, `ICD10:G40.9` (or `G40.9`), `NCIT:C16576`...
    pub id: String,
    /// Match the term's descendants too (Beacon v2 default: true).
    pub include_descendants: bool,
}

/// What a count is restricted to; every part must hold (Beacon v2 filters are ANDed).
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct CohortFilter {
    pub terms: Vec<TermFilter>,
    pub sex: Option<Sex>,
    /// Dataset ids; empty means all.
    pub datasets: Vec<String>,
    /// Per dataset, whose data a controlled-access grant reaches (people whose consent allows its
    /// purpose). A dataset not listed counts everyone: there the caller sees aggregates only
    /// (below CONTROLLED), or holds an operator's token.
    pub consent: Vec<(String, Reach)>,
}

impl CohortFilter {
    /// Whether preparing this filter reads the individuals' metadata: sex, phenotype terms and
    /// grants (consent) do.
    pub fn needs_people(&self) -> bool {
        self.sex.is_some() || self.needs_ontology()
    }

    /// Whether preparing this filter reads the ontology: terms do, and so do grants (a
    /// disease-specific consent matches a purpose's disease through it).
    pub fn needs_ontology(&self) -> bool {
        !self.terms.is_empty() || self.has_grants()
    }

    /// Whether some dataset is counted only for the people a grant reaches.
    pub fn has_grants(&self) -> bool {
        self.consent.iter().any(|(_, reach)| *reach != Reach::Everyone)
    }
}

/// A filter term the node does not know.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FilterError {
    #[error(
        "unknown filter term {0:?}: not in the node's ontologies (HPO terms look like HP:0001250, ICD-10 codes like G40.9)"
    )]
    UnknownTerm(String),
    #[error("unknown dataset {0:?}")]
    UnknownDataset(String),
}
