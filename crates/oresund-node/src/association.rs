//! Case/control allele tables for an association test, from the carrier index: per variant, the
//! ALT and REF alleles called among cases and among controls — counted like every other count
//! (AN over called alleles), never by reading genotypes again.
//!
//! Controls are either everyone else in the datasets ([`Controls::Rest`]) or those matching a
//! second filter set, minus any who are also cases ([`Controls::Matching`]): the two groups never
//! share a person. Both are differences of counts over AND-ed filters, which the cohort index
//! already answers: `controls = count(base) − count(base ∧ cases)`.

use std::collections::HashMap;
use std::sync::Arc;

use oresund_core::carriers::AlleleCounts;
use oresund_core::region::Region;
use oresund_core::variant::Variant;

use crate::cohort::CohortFilter;
use crate::error::NodeError;
use crate::node::Node;
use crate::query::VariantCount;

/// Which variants to test.
#[derive(Debug, Clone, PartialEq)]
pub enum Target {
    /// Every variant overlapping a region (1-based, inclusive).
    Region(Region),
    /// These variants (normalised like ingest); those the node does not hold are left out.
    Variants(Vec<Variant>),
}

/// Who the controls are.
#[derive(Debug, Clone, PartialEq)]
pub enum Controls {
    /// Everyone in the datasets who is not a case.
    Rest,
    /// Those matching this filter (its datasets are ignored: the cases' apply) who are not cases.
    Matching(CohortFilter),
}

/// One variant's counts among cases and among controls, in total and per dataset.
#[derive(Debug, Clone, PartialEq)]
pub struct CaseControl {
    pub cases: VariantCount,
    pub controls: VariantCount,
}

impl CaseControl {
    pub fn variant(&self) -> &Variant {
        &self.cases.variant
    }

    /// `[caseAlt, caseRef, controlAlt, controlRef]`.
    pub fn cells(&self) -> [u64; 4] {
        let (c, k) = (self.cases.counts, self.controls.counts);
        let called = |n: AlleleCounts| n.allele_number.saturating_sub(n.allele_count);
        [c.allele_count, called(c), k.allele_count, called(k)]
    }
}

/// Both filters at once (Beacon filters are AND-ed); `None` when they exclude each other (two sexes).
fn both(a: &CohortFilter, b: &CohortFilter) -> Option<CohortFilter> {
    let sex = match (a.sex, b.sex) {
        (Some(x), Some(y)) if x != y => return None,
        (x, y) => x.or(y),
    };
    let mut terms = a.terms.clone();
    terms.extend(b.terms.iter().filter(|t| !a.terms.contains(t)).cloned());
    Some(CohortFilter { terms, sex, datasets: a.datasets.clone() })
}

/// `whole − part`, field by field and per dataset (`part` is a subset of `whole`'s people).
fn minus(mut whole: VariantCount, part: Option<&VariantCount>) -> VariantCount {
    let Some(part) = part else { return whole };
    whole.counts -= part.counts;
    for (dataset, counts) in &mut whole.datasets {
        if let Some((_, c)) = part.datasets.iter().find(|(d, _)| d == dataset) {
            *counts -= *c;
        }
    }
    whole
}

fn by_variant(counts: Vec<VariantCount>) -> HashMap<Variant, VariantCount> {
    counts.into_iter().map(|c| (c.variant.clone(), c)).collect()
}

impl Node {
    /// Case and control counts for every variant of `target` that an ingested file of the
    /// cases' datasets holds, in region order (or the order asked, duplicates once).
    pub fn case_control(
        &self,
        target: &Target,
        cases: &CohortFilter,
        controls: &Controls,
    ) -> Result<Vec<CaseControl>, NodeError> {
        let count = |filter: &CohortFilter| -> Result<Vec<VariantCount>, NodeError> {
            match target {
                Target::Region(region) => self.count_region(region, filter),
                Target::Variants(variants) => {
                    let mut out: Vec<VariantCount> = Vec::with_capacity(variants.len());
                    for variant in variants {
                        if let Some(found) = self.count_variant(variant, filter)?
                            && !out.iter().any(|c| c.variant == found.variant)
                        {
                            out.push(found);
                        }
                    }
                    Ok(out)
                }
            }
        };
        let base = match controls {
            Controls::Rest => CohortFilter { datasets: cases.datasets.clone(), ..CohortFilter::default() },
            Controls::Matching(filter) => CohortFilter { datasets: cases.datasets.clone(), ..filter.clone() },
        };
        let mut case_counts = by_variant(count(cases)?);
        // Everyone else: the cases themselves are the overlap, no second count needed.
        let overlap = match controls {
            Controls::Rest => None,
            Controls::Matching(_) => Some(match both(&base, cases) {
                Some(filter) => by_variant(count(&filter)?),
                None => HashMap::new(),
            }),
        };
        let wholes = count(&base)?;
        let mut out = Vec::with_capacity(wholes.len());
        for whole in wholes {
            // The same files count for both filters, so the cases have every variant; a file
            // committed between the two scans is the exception, with no case counted yet.
            let cases = case_counts.remove(&whole.variant).unwrap_or_else(|| VariantCount {
                counts: AlleleCounts::default(),
                datasets: whole.datasets.iter().map(|(d, _)| (Arc::clone(d), AlleleCounts::default())).collect(),
                ..whole.clone()
            });
            let subtract = match &overlap {
                None => Some(&cases),
                Some(overlap) => overlap.get(&whole.variant),
            };
            let controls = minus(whole, subtract);
            out.push(CaseControl { cases, controls });
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use oresund_core::individual::Sex;

    use super::*;
    use crate::cohort::TermFilter;

    fn term(id: &str) -> TermFilter {
        TermFilter { id: id.into(), include_descendants: true }
    }

    #[test]
    fn two_filters_together_and_them_apart() {
        let a = CohortFilter { terms: vec![term("HP:1")], sex: Some(Sex::Female), datasets: vec!["D".into()] };
        let b = CohortFilter { terms: vec![term("HP:1"), term("HP:2")], sex: None, datasets: vec![] };
        let joined = both(&a, &b).unwrap();
        assert_eq!(joined.terms, vec![term("HP:1"), term("HP:2")]);
        assert_eq!((joined.sex, joined.datasets), (Some(Sex::Female), vec!["D".to_string()]));
        let male = CohortFilter { sex: Some(Sex::Male), ..CohortFilter::default() };
        assert_eq!(both(&a, &male), None);
    }
}
