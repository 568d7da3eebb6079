//! Individuals by phenotype term, for cohort filters.
//!
//! A phenotype filter with descendants (Beacon v2 `includeDescendantTerms`, the default) selects
//! everyone annotated with the term or any term below it. Rather than expand the query term into
//! its (possibly thousands of) descendants, each person is indexed under every *ancestor* of their
//! terms, so any filter is one lookup. ICD-10 codes are indexed under their category as well.
//!
//! Built from the cohort when a filter first names a term, not when the node opens: a count
//! without one never parses the ontology (issue #19: start-up proportional to the question).

use std::collections::{BTreeMap, HashMap};

use oresund_core::individual::{Individual, icd10_closure};
use oresund_core::ontology::{Ontology, TermIndex};
use oresund_store::IndividualNumber;
use roaring::RoaringBitmap;

#[derive(Debug, Default)]
pub struct PhenotypeIndex {
    /// Term (HPO with ancestors, ICD-10 with category) → individuals annotated with it or below it.
    with_descendants: HashMap<String, RoaringBitmap>,
    /// Term → individuals annotated with exactly it.
    exact: HashMap<String, RoaringBitmap>,
    /// Ontology term names for the terms present (for `/filtering_terms`).
    labels: HashMap<String, String>,
}

impl PhenotypeIndex {
    pub fn build(people: &BTreeMap<IndividualNumber, Individual>, hpo: Option<&Ontology>) -> Self {
        let mut index = PhenotypeIndex::default();
        // Many people share terms: each term's ancestors are walked once.
        let mut ancestors: HashMap<TermIndex, Vec<TermIndex>> = HashMap::new();
        for (number, person) in people {
            let n = number.get();
            for term in &person.hpo_terms {
                let resolved = hpo.and_then(|o| o.resolve(term).map(|t| (o, t)));
                // Keyed by the primary id, as filters are looked up: an alternative or obsolete id
                // given at ingest still matches an exact-term filter.
                let primary = resolved.map_or_else(|| term.clone(), |(o, t)| o.id(t).to_string());
                index.exact.entry(primary).or_default().insert(n);
                match resolved {
                    Some((o, t)) => {
                        for &ancestor in ancestors.entry(t).or_insert_with(|| o.ancestors(t)).iter() {
                            let id = o.id(ancestor);
                            index.with_descendants.entry(id.to_string()).or_default().insert(n);
                            index.labels.entry(id.to_string()).or_insert_with(|| o.name(ancestor).to_string());
                        }
                    }
                    None => {
                        index.with_descendants.entry(term.clone()).or_default().insert(n);
                    }
                }
            }
            for code in &person.icd10_codes {
                let closure = icd10_closure(code);
                index.exact.entry(closure[0].clone()).or_default().insert(n);
                for id in closure {
                    index.with_descendants.entry(id).or_default().insert(n);
                }
            }
        }
        index
    }

    /// The people a (canonical) term selects, with or without those annotated below it.
    pub fn selected(&self, id: &str, include_descendants: bool) -> Option<&RoaringBitmap> {
        if include_descendants { self.with_descendants.get(id) } else { self.exact.get(id) }
    }

    /// Terms that select at least one person, with how many (for `/filtering_terms`).
    pub fn terms(&self) -> impl Iterator<Item = (&str, u64)> {
        self.with_descendants.iter().map(|(t, set)| (t.as_str(), set.len()))
    }

    /// The ontology's name for a term present in the cohort.
    pub fn label(&self, id: &str) -> Option<&str> {
        self.labels.get(id).map(String::as_str)
    }
}
