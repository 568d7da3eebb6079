//! Phenotype similarity over the HPO: Lin's measure with gene-based information content,
//! combined over two sets of terms by best-match average (BMA).
//!
//! - Information content (Robinson et al., AJHG 2008): a term is annotated with a gene when the
//!   gene is annotated to it or to any of its descendants; IC(t) = −ln(genes(t) / all genes),
//!   and 0 for a term no gene reaches.
//! - Resnik (1995): the IC of the most informative common ancestor (a term is its own ancestor).
//! - Lin (1998): 2·Resnik(a, b) / (IC(a) + IC(b)), 0 when both ICs are 0. In [0, 1].
//! - BMA (Deng et al., PLoS One 2015): (Σ row maxima + Σ column maxima) / (|A| + |B|).
//!
//! These are the definitions of PyPI `pyhpo` 4.0.0 (`HPOSet.similarity(other, kind="gene",
//! method="lin", combine="BMA")`, non-transitive gene annotations), and the end-to-end tests
//! check the numbers against it.

use oresund_core::ontology::{Ontology, TermIndex};

/// The ontology's ancestor sets and each term's information content.
#[derive(Debug, Clone)]
pub struct PhenotypeModel {
    ic: Vec<f64>,
    /// Each term with all its ancestors, sorted.
    ancestors: Vec<Box<[TermIndex]>>,
    genes: usize,
}

impl PhenotypeModel {
    /// Builds the model from gene annotations: (term, gene) pairs, any gene numbering.
    pub fn new(ontology: &Ontology, annotations: impl IntoIterator<Item = (TermIndex, u32)>) -> Self {
        let n = ontology.len();
        let ancestors = all_ancestors(ontology);
        let mut pairs: Vec<(u32, TermIndex)> = annotations.into_iter().map(|(t, g)| (g, t)).collect();
        pairs.sort_unstable();
        pairs.dedup();
        // Each gene counts once in every term its terms reach upwards.
        let mut reached = vec![0usize; n];
        let mut stamp = vec![u32::MAX; n];
        let mut genes = 0;
        let mut i = 0;
        while i < pairs.len() {
            let gene = pairs[i].0;
            genes += 1;
            while i < pairs.len() && pairs[i].0 == gene {
                for &a in ancestors[pairs[i].1 as usize].iter() {
                    if stamp[a as usize] != genes as u32 {
                        stamp[a as usize] = genes as u32;
                        reached[a as usize] += 1;
                    }
                }
                i += 1;
            }
        }
        let ic =
            reached.iter().map(|&r| if r == 0 || genes == 0 { 0.0 } else { -(r as f64 / genes as f64).ln() }).collect();
        PhenotypeModel { ic, ancestors, genes }
    }

    /// Number of distinct annotated genes (the denominator of the IC).
    pub fn genes(&self) -> usize {
        self.genes
    }

    /// Number of terms in the ontology the model was built on.
    pub fn len(&self) -> usize {
        self.ic.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ic.is_empty()
    }

    pub fn ic(&self, term: TermIndex) -> f64 {
        self.ic[term as usize]
    }

    /// The term and its ancestors, sorted.
    pub fn ancestors(&self, term: TermIndex) -> &[TermIndex] {
        &self.ancestors[term as usize]
    }

    /// IC of the most informative common ancestor.
    pub fn resnik(&self, a: TermIndex, b: TermIndex) -> f64 {
        let (x, y) = (self.ancestors(a), self.ancestors(b));
        let (mut i, mut j, mut best) = (0, 0, 0.0f64);
        while i < x.len() && j < y.len() {
            match x[i].cmp(&y[j]) {
                std::cmp::Ordering::Less => i += 1,
                std::cmp::Ordering::Greater => j += 1,
                std::cmp::Ordering::Equal => {
                    best = best.max(self.ic(x[i]));
                    i += 1;
                    j += 1;
                }
            }
        }
        best
    }

    pub fn lin(&self, a: TermIndex, b: TermIndex) -> f64 {
        lin(self.resnik(a, b), self.ic(a), self.ic(b))
    }

    /// Best-match average of Lin over two sets of terms (each without repeats); 0 when either
    /// set is empty.
    pub fn similarity(&self, a: &[TermIndex], b: &[TermIndex]) -> f64 {
        if a.is_empty() || b.is_empty() {
            return 0.0;
        }
        let matrix: Vec<f64> = a.iter().flat_map(|&x| b.iter().map(move |&y| self.lin(x, y))).collect();
        bma(&matrix, a.len(), b.len())
    }
}

/// Lin from the Resnik score and both terms' IC.
pub(crate) fn lin(resnik: f64, ic_a: f64, ic_b: f64) -> f64 {
    let sum = ic_a + ic_b;
    if sum == 0.0 { 0.0 } else { 2.0 * resnik / sum }
}

/// Best-match average of a row-major `rows × cols` score matrix.
fn bma(matrix: &[f64], rows: usize, cols: usize) -> f64 {
    let row_max: f64 =
        (0..rows).map(|r| matrix[r * cols..(r + 1) * cols].iter().copied().fold(f64::MIN, f64::max)).sum();
    let col_max: f64 = (0..cols).map(|c| (0..rows).map(|r| matrix[r * cols + c]).fold(f64::MIN, f64::max)).sum();
    (row_max + col_max) / (rows + cols) as f64
}

/// Every term's ancestor closure (itself included), sorted, in one pass with a reused marker.
fn all_ancestors(ontology: &Ontology) -> Vec<Box<[TermIndex]>> {
    let n = ontology.len();
    let mut stamp = vec![u32::MAX; n];
    let mut stack = Vec::new();
    (0..n as TermIndex)
        .map(|start| {
            let mut out = Vec::new();
            stack.push(start);
            while let Some(t) = stack.pop() {
                if std::mem::replace(&mut stamp[t as usize], start) == start {
                    continue;
                }
                out.push(t);
                stack.extend_from_slice(ontology.parents(t));
            }
            out.sort_unstable();
            out.into_boxed_slice()
        })
        .collect()
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// All ← Phenotypic abnormality ← {nervous ← {seizure, ataxia}, eye}.
    pub(crate) const ONTOLOGY: &str = "data-version: test
[Term]
id: HP:0000001
name: All
[Term]
id: HP:0000118
name: Phenotypic abnormality
is_a: HP:0000001
[Term]
id: HP:0000707
name: Abnormality of the nervous system
is_a: HP:0000118
[Term]
id: HP:0001250
name: Seizure
is_a: HP:0000707
[Term]
id: HP:0001251
name: Ataxia
is_a: HP:0000707
[Term]
id: HP:0000478
name: Abnormality of the eye
is_a: HP:0000118
";

    pub(crate) fn model() -> (Ontology, PhenotypeModel) {
        let o = Ontology::from_obo(ONTOLOGY.as_bytes()).unwrap();
        let t = |id: &str| o.resolve(id).unwrap();
        // Genes 1, 2: seizure; 3: ataxia; 4: eye; 2 also eye.
        let annotations = [
            (t("HP:0001250"), 1),
            (t("HP:0001250"), 2),
            (t("HP:0001251"), 3),
            (t("HP:0000478"), 4),
            (t("HP:0000478"), 2),
        ];
        let m = PhenotypeModel::new(&o, annotations);
        (o, m)
    }

    #[test]
    fn information_content_counts_each_gene_once_upwards() {
        let (o, m) = model();
        let ic = |id: &str| m.ic(o.resolve(id).unwrap());
        assert_eq!(m.genes(), 4);
        assert_eq!(ic("HP:0000001"), 0.0);
        assert_eq!(ic("HP:0000118"), 0.0); // gene 2 reaches it twice, counted once: 4/4
        assert!((ic("HP:0000707") - -(3.0f64 / 4.0).ln()).abs() < 1e-15);
        assert!((ic("HP:0001250") - -(2.0f64 / 4.0).ln()).abs() < 1e-15);
        assert!((ic("HP:0001251") - -(1.0f64 / 4.0).ln()).abs() < 1e-15);
    }

    #[test]
    fn lin_and_bma_follow_their_definitions() {
        let (o, m) = model();
        let t = |id: &str| o.resolve(id).unwrap();
        let (seizure, ataxia, eye) = (t("HP:0001250"), t("HP:0001251"), t("HP:0000478"));
        assert_eq!(m.lin(seizure, seizure), 1.0);
        assert_eq!(m.lin(seizure, eye), 0.0);
        let nervous = m.ic(t("HP:0000707"));
        let expected = 2.0 * nervous / (m.ic(seizure) + m.ic(ataxia));
        assert!((m.lin(seizure, ataxia) - expected).abs() < 1e-15);
        // {seizure} vs {seizure, eye}: rows [1], columns [1, 0] → (1 + 1 + 0) / 3.
        assert!((m.similarity(&[seizure], &[seizure, eye]) - 2.0 / 3.0).abs() < 1e-15);
        assert_eq!(m.similarity(&[], &[seizure]), 0.0);
    }
}
