//! Every case a node holds, ranked against one query.
//!
//! A query's features are few (ten, say) and the cases' distinct terms a few thousand, so Lin is
//! computed once per (query term, distinct case term) into a table; each case then costs only
//! table lookups for its best-match average. Ranking 100,000 cases stays well inside the 50 ms
//! that a clinician's request may take (BENCHMARKS.md, `cargo bench -p oresund-match`).

use std::collections::HashMap;

use oresund_core::ontology::TermIndex;

use crate::genes::GeneKey;
use crate::phenotype::{PhenotypeModel, lin};
use crate::score::{SHARED_GENE, SHARED_VARIANT, Score, Weights};

/// A case as the matcher sees it.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Case {
    /// Stable key: ties in score are broken by it.
    pub key: String,
    /// Observed features, without repeats.
    pub terms: Vec<TermIndex>,
    pub genes: Vec<GeneKey>,
    /// Normalised variants as comparable keys (`GRCh38-22-17000017-C-A`).
    pub variants: Vec<String>,
}

/// A case of the index and its score against the query.
#[derive(Debug, Clone, PartialEq)]
pub struct Ranked {
    /// Position of the case in the index.
    pub index: usize,
    pub score: Score,
}

struct Indexed {
    /// Terms as positions in `CaseIndex::terms`.
    terms: Vec<u32>,
    genes: Vec<GeneKey>,
    variants: Vec<String>,
}

/// The cases, with their terms numbered densely.
#[derive(Default)]
pub struct CaseIndex {
    cases: Vec<Case>,
    indexed: Vec<Indexed>,
    /// Distinct terms over all cases.
    terms: Vec<TermIndex>,
}

impl CaseIndex {
    pub fn new(cases: Vec<Case>) -> Self {
        let mut dense: HashMap<TermIndex, u32> = HashMap::new();
        let mut terms = Vec::new();
        let indexed = cases
            .iter()
            .map(|c| Indexed {
                terms: c
                    .terms
                    .iter()
                    .map(|&t| {
                        *dense.entry(t).or_insert_with(|| {
                            terms.push(t);
                            (terms.len() - 1) as u32
                        })
                    })
                    .collect(),
                genes: c.genes.clone(),
                variants: c.variants.clone(),
            })
            .collect();
        CaseIndex { cases, indexed, terms }
    }

    pub fn len(&self) -> usize {
        self.cases.len()
    }

    pub fn is_empty(&self) -> bool {
        self.cases.is_empty()
    }

    pub fn case(&self, index: usize) -> &Case {
        &self.cases[index]
    }

    /// The best `limit` cases that `eligible` admits, scoring at least `threshold`, best first
    /// (equal scores by key).
    pub fn best(
        &self,
        model: &PhenotypeModel,
        query: &Case,
        weights: Weights,
        threshold: f64,
        limit: usize,
        eligible: impl Fn(usize) -> bool,
    ) -> Vec<Ranked> {
        let table = self.lin_table(model, &query.terms);
        let k = query.terms.len();
        let mut best: Vec<Ranked> = Vec::with_capacity(limit + 1);
        let mut row_max = vec![0.0f64; k];
        for (index, case) in self.indexed.iter().enumerate() {
            if !eligible(index) {
                continue;
            }
            let phenotype = (k > 0).then(|| {
                if case.terms.is_empty() {
                    return 0.0;
                }
                // Best-match average as `phenotype::bma` sums it: the query terms' maxima in
                // order, then the case terms' (the same additions, so the same last bit).
                row_max.fill(f64::MIN);
                let mut col_sum = 0.0;
                for &t in &case.terms {
                    let column = &table[t as usize * k..(t as usize + 1) * k];
                    let mut col_max = f64::MIN;
                    for (r, &lin) in row_max.iter_mut().zip(column) {
                        *r = r.max(lin);
                        col_max = col_max.max(lin);
                    }
                    col_sum += col_max;
                }
                (row_max.iter().sum::<f64>() + col_sum) / (k + case.terms.len()) as f64
            });
            let genotype = (!query.genes.is_empty()).then(|| genotype(query, case));
            let score = Score::combine(phenotype, genotype, weights);
            if score.patient < threshold || score.patient <= 0.0 {
                continue;
            }
            let key = &self.cases[index].key;
            let at = best.partition_point(|r| {
                r.score.patient > score.patient
                    || (r.score.patient == score.patient && self.cases[r.index].key.as_str() <= key.as_str())
            });
            if at < limit {
                best.insert(at, Ranked { index, score });
                best.truncate(limit);
            }
        }
        best
    }

    /// Lin of each distinct case term against each query term: `table[t * k + q]`.
    fn lin_table(&self, model: &PhenotypeModel, query: &[TermIndex]) -> Vec<f64> {
        let k = query.len();
        let mut table = vec![0.0; k * self.terms.len()];
        // The IC of each ancestor of the query term (0 elsewhere: Resnik starts from 0), probed
        // by the case term's ancestors.
        let mut ancestor_ic = vec![0.0f64; model.len()];
        for (q, &term) in query.iter().enumerate() {
            for &a in model.ancestors(term) {
                ancestor_ic[a as usize] = model.ic(a);
            }
            let ic_q = model.ic(term);
            for (d, &t) in self.terms.iter().enumerate() {
                let resnik = model.ancestors(t).iter().map(|&a| ancestor_ic[a as usize]).fold(0.0f64, f64::max);
                table[d * k + q] = lin(resnik, ic_q, model.ic(t));
            }
            for &a in model.ancestors(term) {
                ancestor_ic[a as usize] = 0.0;
            }
        }
        table
    }
}

fn genotype(query: &Case, case: &Indexed) -> f64 {
    if query.variants.iter().any(|v| case.variants.contains(v)) {
        SHARED_VARIANT
    } else if query.genes.iter().any(|g| case.genes.contains(g)) {
        SHARED_GENE
    } else {
        0.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::phenotype::tests::model;

    #[test]
    fn ranking_agrees_with_pairwise_scores_and_breaks_ties_by_key() {
        let (o, m) = model();
        let t = |id: &str| o.resolve(id).unwrap();
        let case = |key: &str, terms: &[&str], genes: &[u32]| Case {
            key: key.into(),
            terms: terms.iter().map(|id| t(id)).collect(),
            genes: genes.iter().map(|&g| GeneKey::Ncbi(g)).collect(),
            variants: Vec::new(),
        };
        let cases = vec![
            case("d", &["HP:0000478"], &[]),
            case("b", &["HP:0001251"], &[7]),
            case("a", &["HP:0001250", "HP:0000478"], &[7]),
            case("c", &["HP:0001251"], &[7]),
            case("e", &[], &[9]),
        ];
        let index = CaseIndex::new(cases.clone());
        let query = case("q", &["HP:0001250", "HP:0001251"], &[7]);
        let ranked = index.best(&m, &query, Weights::default(), 0.0, 10, |_| true);
        let keys: Vec<&str> = ranked.iter().map(|r| index.case(r.index).key.as_str()).collect();
        for r in &ranked {
            let c = &cases[r.index];
            let expected = Score::combine(
                Some(m.similarity(&query.terms, &c.terms)),
                Some(genotype(&query, &index.indexed[r.index])),
                Weights::default(),
            );
            assert!((r.score.patient - expected.patient).abs() < 1e-12, "{}", c.key);
        }
        // b and c score the same: b first; a has an unmatched eye term. d and e share nothing.
        assert_eq!(keys, ["b", "c", "a"]);
        let top = index.best(&m, &query, Weights::default(), 0.0, 1, |i| i != 1);
        assert_eq!(index.case(top[0].index).key, "c");
        assert!(index.best(&m, &query, Weights::default(), 0.99, 5, |_| true).is_empty());
    }
}
