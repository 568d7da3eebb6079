//! Turns one record's genotype calls into [`CarrierSets`] for each of its ALT alleles, recoding
//! genotypes exactly as `bcftools norm -m -any` does when it splits: the piece's own ALT becomes 1,
//! every other ALT becomes 0 (REF), missing stays missing, ploidy is kept.

use oresund_core::carriers::CarrierSets;

use crate::vcf::genotype::{Call, MISSING};

/// Carrier sets (sample columns) for ALT allele `alt` (1-based) of a record, and the columns whose
/// calls are haploid. `calls` holds every column whose call is not diploid REF, in column order
/// (`for_each_non_ref_call`): a `0/0` carries nothing for any ALT allele.
pub fn carriers_of(calls: &[(u32, Call)], alt: u16) -> (CarrierSets, Vec<u32>) {
    let mut sets = CarrierSets::default();
    let mut haploid = Vec::new();
    let recode = |a: u16| if a == MISSING { MISSING } else { u16::from(a == alt) };
    for &(column, call) in calls {
        match call {
            Call::Diploid(a, b) => match (recode(a), recode(b)) {
                (MISSING, MISSING) => sets.missing_two.push(column),
                (MISSING, x) | (x, MISSING) => {
                    sets.missing_one.push(column);
                    if x == 1 {
                        sets.hemi.push(column);
                    }
                }
                (1, 1) => sets.hom_alt.push(column),
                (x, y) if x != y => sets.het.push(column),
                _ => {}
            },
            Call::Haploid(a) => {
                haploid.push(column);
                match recode(a) {
                    MISSING => sets.missing_one.push(column),
                    1 => sets.hemi.push(column),
                    _ => {}
                }
            }
        }
    }
    (sets, haploid)
}

#[cfg(test)]
mod tests {
    use super::*;
    use Call::*;

    #[test]
    fn split_recoding_follows_bcftools() {
        // GT 1/2 1|2 ./2 2 . 0/1 2/2 0|2, split into pieces for ALT 1 and ALT 2.
        let calls = [
            Diploid(1, 2),
            Diploid(1, 2),
            Diploid(MISSING, 2),
            Haploid(2),
            Haploid(MISSING),
            Diploid(0, 1),
            Diploid(2, 2),
            Diploid(0, 2),
        ];
        // piece 1: 1/0 1|0 ./0 0 . 0/1 0/0 0|0
        let calls: Vec<(u32, Call)> = (0..).zip(calls).collect();
        let (one, haploid) = carriers_of(&calls, 1);
        assert_eq!((one.het, one.hom_alt, one.hemi), (vec![0, 1, 5], vec![], vec![]));
        assert_eq!((one.missing_one, one.missing_two), (vec![2, 4], vec![]));
        assert_eq!(haploid, [3, 4]);
        // piece 2: 0/1 0|1 ./1 1 . 0/0 1/1 0|1
        let (two, _) = carriers_of(&calls, 2);
        assert_eq!((two.het, two.hom_alt, two.hemi), (vec![0, 1, 7], vec![6], vec![2, 3]));
    }
}
