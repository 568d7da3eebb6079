//! Individuals by phenotype term, for cohort filters.
//!
//! A phenotype filter with descendants (Beacon v2 `includeDescendantTerms`, the default) selects
//! everyone annotated with the term or any term below it. Rather than expand the query term into
//! its (possibly thousands of) descendants, each person is indexed under every *ancestor* of their
//! terms, so any filter is one lookup. ICD-10 codes are indexed under their category as well.
//!
//! Built from the cohort when a filter first names a term, not when the node opens: a count
//! without one never reads the ontology (issue #19: start-up proportional to the question). HPO
//! terms are kept by their index in the node's ontology, so building walks integers, not strings.

use std::collections::{BTreeMap, HashMap};

use oresund_core::individual::{Individual, icd10_closure};
use oresund_core::ontology::{Ontology, TermIndex};
use oresund_store::IndividualNumber;
use roaring::RoaringBitmap;

/// The people a term selects.
#[derive(Debug, Default)]
struct Selected {
    /// Annotated with exactly this term.
    exact: RoaringBitmap,
    /// Annotated with it or a term below it.
    below: RoaringBitmap,
}

#[derive(Debug, Default)]
pub struct PhenotypeIndex {
    /// By term index in the node's ontology (empty without one).
    hpo: Vec<Selected>,
    /// Terms outside it: ICD-10 codes and categories, and HPO ids without an ontology to know them.
    other: HashMap<String, Selected>,
}

impl PhenotypeIndex {
    /// The index of `people`; `hpo` must be the ontology later lookups pass.
    pub fn build(people: &BTreeMap<IndividualNumber, Individual>, hpo: Option<&Ontology>) -> Self {
        let mut index = PhenotypeIndex {
            hpo: hpo.map_or_else(Vec::new, |o| (0..o.len()).map(|_| Selected::default()).collect()),
            other: HashMap::new(),
        };
        // The last person (counted from 1) each term was added for: a person's terms share most
        // ancestors.
        let mut visited: Vec<usize> = vec![0; index.hpo.len()];
        let mut stack: Vec<TermIndex> = Vec::new();
        for (k, (number, person)) in people.iter().enumerate() {
            let n = number.get();
            for term in &person.hpo_terms {
                match hpo.and_then(|o| o.resolve(term)) {
                    // An alternative or obsolete id given at ingest still matches its term's filter.
                    Some(t) => {
                        add(&mut index.hpo[t as usize].exact, n);
                        stack.push(t);
                    }
                    None => {
                        let entry = index.other.entry(term.clone()).or_default();
                        add(&mut entry.exact, n);
                        add(&mut entry.below, n);
                    }
                }
            }
            if let Some(o) = hpo {
                while let Some(t) = stack.pop() {
                    if std::mem::replace(&mut visited[t as usize], k + 1) != k + 1 {
                        add(&mut index.hpo[t as usize].below, n);
                        stack.extend_from_slice(o.parents(t));
                    }
                }
            }
            for code in &person.icd10_codes {
                let closure = icd10_closure(code);
                add(&mut index.other.entry(closure[0].clone()).or_default().exact, n);
                for id in closure {
                    add(&mut index.other.entry(id).or_default().below, n);
                }
            }
        }
        index
    }

    /// The people a (canonical) term selects, with or without those annotated below it.
    pub fn selected(&self, id: &str, include_descendants: bool, hpo: Option<&Ontology>) -> Option<&RoaringBitmap> {
        let selected = match hpo.and_then(|o| o.resolve(id)) {
            Some(t) => self.hpo.get(t as usize)?,
            None => self.other.get(id)?,
        };
        Some(if include_descendants { &selected.below } else { &selected.exact })
    }

    /// Every term a filter can reach, under the id [`canonical_term`] gives it, with the people
    /// [`PhenotypeIndex::selected`] returns for it exactly and with descendants (the people image
    /// stores these, `people_image.rs`).
    pub fn by_canonical_id<'a>(
        &'a self,
        hpo: Option<&'a Ontology>,
    ) -> impl Iterator<Item = (&'a str, &'a RoaringBitmap, &'a RoaringBitmap)> {
        let known = hpo.into_iter().flat_map(move |o| {
            self.hpo
                .iter()
                .enumerate()
                .map(|(t, s)| (t as TermIndex, s))
                .filter(move |(t, s)| !s.below.is_empty() && o.resolve(o.id(*t)) == Some(*t))
                .map(move |(t, s)| (o.id(t), &s.exact, &s.below))
        });
        let other = self.other.iter().filter(move |(id, _)| {
            canonical_term(id, hpo).as_deref() == Some(id.as_str()) && hpo.and_then(|o| o.resolve(id)).is_none()
        });
        known.chain(other.map(|(id, s)| (id.as_str(), &s.exact, &s.below)))
    }

    /// Terms that select at least one person, with the ontology's name for HPO terms and how many
    /// they select (for `/filtering_terms`).
    pub fn terms<'a>(&'a self, hpo: Option<&'a Ontology>) -> impl Iterator<Item = (&'a str, Option<&'a str>, u64)> {
        let known = hpo.into_iter().flat_map(move |o| {
            self.hpo
                .iter()
                .enumerate()
                .filter(|(_, s)| !s.below.is_empty())
                .map(move |(t, s)| (o.id(t as TermIndex), Some(o.name(t as TermIndex)), s.below.len()))
        });
        known.chain(self.other.iter().map(|(id, s)| (id.as_str(), None, s.below.len())))
    }
}

/// Adds `n` to `set`; people come in increasing order, so this is almost always an append.
fn add(set: &mut RoaringBitmap, n: u32) {
    if !set.push(n) {
        set.insert(n);
    }
}

/// The id under which a filter term is indexed, or `None` for a term the node cannot know.
pub fn canonical_term(id: &str, hpo: Option<&Ontology>) -> Option<String> {
    let id = id.trim();
    if id.starts_with("HP:") {
        return match hpo {
            Some(o) => o.resolve(id).map(|t| o.id(t).to_string()),
            None => Some(id.to_string()),
        };
    }
    let code = id.strip_prefix("ICD10:").unwrap_or(id);
    let b = code.as_bytes();
    let looks_icd10 =
        b.len() >= 3 && b[0].is_ascii_alphabetic() && b[1].is_ascii_digit() && b[2].is_ascii_alphanumeric();
    looks_icd10.then(|| icd10_closure(code).swap_remove(0))
}
