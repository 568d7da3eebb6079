//! One score in [0, 1] from a phenotype part and a genotype part.
//!
//! - Phenotype: [`crate::phenotype`] similarity of the observed features (`observed: no` left
//!   out), present when the query has observed features.
//! - Genotype: 1 when the cases share a variant (the same normalised variant: assembly, contig,
//!   position and alleles, after left-alignment against the node's reference), 0.75 when they
//!   share a gene, 0 otherwise; present when the query has genomic features.
//! - Combined: the weighted mean of the parts present (default weights 1 and 1).

/// Genotype part for a shared gene without a shared variant.
pub const SHARED_GENE: f64 = 0.75;
/// Genotype part for a shared normalised variant.
pub const SHARED_VARIANT: f64 = 1.0;

/// How the two parts weigh (`[mme]` `phenotype_weight`, `genotype_weight`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Weights {
    pub phenotype: f64,
    pub genotype: f64,
}

impl Default for Weights {
    fn default() -> Self {
        Weights { phenotype: 1.0, genotype: 1.0 }
    }
}

/// A candidate's score and its parts.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Score {
    pub patient: f64,
    pub phenotype: Option<f64>,
    pub genotype: Option<f64>,
}

impl Score {
    pub fn combine(phenotype: Option<f64>, genotype: Option<f64>, weights: Weights) -> Self {
        let patient = match (phenotype, genotype) {
            (Some(p), Some(g)) => {
                let total = weights.phenotype + weights.genotype;
                if total > 0.0 { (weights.phenotype * p + weights.genotype * g) / total } else { 0.0 }
            }
            (Some(p), None) => p,
            (None, Some(g)) => g,
            (None, None) => 0.0,
        };
        Score { patient: patient.clamp(0.0, 1.0), phenotype, genotype }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts_present_are_averaged_by_weight() {
        let w = Weights::default();
        assert_eq!(Score::combine(Some(0.5), Some(1.0), w).patient, 0.75);
        assert_eq!(Score::combine(Some(0.5), None, w).patient, 0.5);
        assert_eq!(Score::combine(None, Some(SHARED_GENE), w).patient, 0.75);
        assert_eq!(Score::combine(None, None, w).patient, 0.0);
        let genes_first = Weights { phenotype: 1.0, genotype: 3.0 };
        assert_eq!(Score::combine(Some(0.0), Some(1.0), genes_first).patient, 0.75);
    }
}
