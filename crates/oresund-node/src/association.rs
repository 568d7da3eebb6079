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

use oresund_core::association::AlleleTable;
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

    /// The 2×2 allele table: ALT, and REF = called − ALT, among cases and among controls.
    pub fn table(&self) -> AlleleTable {
        let (c, k) = (self.cases.counts, self.controls.counts);
        let called_ref = |n: AlleleCounts| n.allele_number.saturating_sub(n.allele_count);
        AlleleTable {
            case_alt: c.allele_count,
            case_ref: called_ref(c),
            control_alt: k.allele_count,
            control_ref: called_ref(k),
        }
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
    Some(CohortFilter { terms, sex, datasets: a.datasets.clone(), consent: a.consent.clone() })
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

/// For each of `wholes`, the count of `part` for the same variant. Both come from scans of the
/// same files, so they are normally in the same order; otherwise they are matched by variant.
fn aligned(wholes: &[VariantCount], part: Vec<VariantCount>) -> Vec<Option<VariantCount>> {
    let in_step = part.len() == wholes.len() && part.iter().zip(wholes).all(|(p, w)| p.variant == w.variant);
    if in_step {
        return part.into_iter().map(Some).collect();
    }
    let mut by_variant: HashMap<Variant, VariantCount> = part.into_iter().map(|c| (c.variant.clone(), c)).collect();
    wholes.iter().map(|w| by_variant.remove(&w.variant)).collect()
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
            Controls::Rest => CohortFilter {
                datasets: cases.datasets.clone(),
                consent: cases.consent.clone(),
                ..CohortFilter::default()
            },
            Controls::Matching(filter) => {
                CohortFilter { datasets: cases.datasets.clone(), consent: cases.consent.clone(), ..filter.clone() }
            }
        };
        let wholes = count(&base)?;
        let mut case_counts = aligned(&wholes, count(cases)?).into_iter();
        // Everyone else: the cases themselves are the overlap, no second count needed.
        let mut overlap = match controls {
            Controls::Rest => None,
            Controls::Matching(_) => Some(match both(&base, cases) {
                Some(filter) => aligned(&wholes, count(&filter)?),
                None => vec![None; wholes.len()],
            }),
        }
        .map(Vec::into_iter);
        let mut out = Vec::with_capacity(wholes.len());
        for whole in wholes {
            // The same files count for both filters, so the cases have every variant; a file
            // committed between the two scans is the exception, with no case counted yet.
            let cases = case_counts.next().flatten().unwrap_or_else(|| VariantCount {
                counts: AlleleCounts::default(),
                datasets: whole.datasets.iter().map(|(d, _)| (Arc::clone(d), AlleleCounts::default())).collect(),
                ..whole.clone()
            });
            let controls = match overlap.as_mut() {
                None => minus(whole, Some(&cases)),
                Some(overlap) => minus(whole, overlap.next().flatten().as_ref()),
            };
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

    fn count(variant: &str, allele_count: u64) -> VariantCount {
        let counts = AlleleCounts { allele_count, allele_number: 10, ..AlleleCounts::default() };
        VariantCount {
            variant: variant.parse().unwrap(),
            vrs_id: String::new(),
            counts,
            datasets: vec![("D".into(), counts)],
        }
    }

    #[test]
    fn counts_of_two_scans_are_matched_by_variant_in_or_out_of_step() {
        let wholes = vec![count("22-1-C-A", 5), count("22-2-C-A", 6), count("22-3-C-A", 7)];
        let in_step = aligned(&wholes, vec![count("22-1-C-A", 1), count("22-2-C-A", 2), count("22-3-C-A", 3)]);
        assert_eq!(
            in_step.iter().map(|c| c.as_ref().map(|c| c.counts.allele_count)).collect::<Vec<_>>(),
            [Some(1), Some(2), Some(3)]
        );
        // A variant missing from the part (a file committed between the scans): matched by name.
        let out_of_step = aligned(&wholes, vec![count("22-3-C-A", 3), count("22-1-C-A", 1)]);
        assert_eq!(
            out_of_step.iter().map(|c| c.as_ref().map(|c| c.counts.allele_count)).collect::<Vec<_>>(),
            [Some(1), None, Some(3)]
        );
        let controls = minus(count("22-1-C-A", 5), Some(&count("22-1-C-A", 2)));
        assert_eq!((controls.counts.allele_count, controls.counts.allele_number), (3, 0));
        assert_eq!(controls.datasets[0].1.allele_count, 3);
    }

    #[test]
    fn two_filters_together_and_them_apart() {
        let a = CohortFilter {
            terms: vec![term("HP:1")],
            sex: Some(Sex::Female),
            datasets: vec!["D".into()],
            consent: vec![],
        };
        let b = CohortFilter { terms: vec![term("HP:1"), term("HP:2")], sex: None, datasets: vec![], consent: vec![] };
        let joined = both(&a, &b).unwrap();
        assert_eq!(joined.terms, vec![term("HP:1"), term("HP:2")]);
        assert_eq!((joined.sex, joined.datasets), (Some(Sex::Female), vec!["D".to_string()]));
        let male = CohortFilter { sex: Some(Sex::Male), ..CohortFilter::default() };
        assert_eq!(both(&a, &male), None);
    }
}
