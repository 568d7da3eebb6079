//! Turns one record's genotype calls into [`CarrierSets`] for each of its ALT alleles, recoding
//! genotypes exactly as `bcftools norm -m -any` does when it splits: the piece's own ALT becomes 1,
//! every other ALT becomes 0 (REF), missing stays missing, ploidy is kept.

use oresund_core::carriers::CarrierSets;
use roaring::RoaringBitmap;

use crate::vcf::genotype::{Call, MISSING};

/// Maps sample columns to individual numbers and collects per-class column lists.
pub struct CarrierBuilder {
    /// Individual number of each sample column.
    columns: Vec<u32>,
    /// Whether `columns` is increasing, so lists built in column order are already sorted.
    sorted: bool,
    het: Vec<u32>,
    hom: Vec<u32>,
    hemi: Vec<u32>,
    missing_one: Vec<u32>,
    missing_two: Vec<u32>,
    haploid: Vec<u32>,
}

impl CarrierBuilder {
    pub fn new(columns: Vec<u32>) -> Self {
        let sorted = columns.windows(2).all(|w| w[0] < w[1]);
        Self {
            columns,
            sorted,
            het: Vec::new(),
            hom: Vec::new(),
            hemi: Vec::new(),
            missing_one: Vec::new(),
            missing_two: Vec::new(),
            haploid: Vec::new(),
        }
    }

    /// Carrier sets for ALT allele `alt` (1-based) of a record, and the individuals whose calls are haploid.
    pub fn build(&mut self, calls: &[Call], alt: u16) -> (CarrierSets, RoaringBitmap) {
        for list in [
            &mut self.het,
            &mut self.hom,
            &mut self.hemi,
            &mut self.missing_one,
            &mut self.missing_two,
            &mut self.haploid,
        ] {
            list.clear();
        }
        let recode = |a: u16| {
            if a == MISSING { MISSING } else { u16::from(a == alt) }
        };
        for (column, call) in calls.iter().enumerate() {
            let column = column as u32;
            match *call {
                Call::Diploid(a, b) => match (recode(a), recode(b)) {
                    (MISSING, MISSING) => self.missing_two.push(column),
                    (MISSING, x) | (x, MISSING) => {
                        self.missing_one.push(column);
                        if x == 1 {
                            self.hemi.push(column);
                        }
                    }
                    (1, 1) => self.hom.push(column),
                    (x, y) if x != y => self.het.push(column),
                    _ => {}
                },
                Call::Haploid(a) => {
                    self.haploid.push(column);
                    match recode(a) {
                        MISSING => self.missing_one.push(column),
                        1 => self.hemi.push(column),
                        _ => {}
                    }
                }
            }
        }
        let sets = CarrierSets {
            het: self.bitmap(&self.het),
            hom_alt: self.bitmap(&self.hom),
            hemi: self.bitmap(&self.hemi),
            missing_one: self.bitmap(&self.missing_one),
            missing_two: self.bitmap(&self.missing_two),
        };
        (sets, self.bitmap(&self.haploid))
    }

    fn bitmap(&self, columns: &[u32]) -> RoaringBitmap {
        let ids = columns.iter().map(|&c| self.columns[c as usize]);
        if self.sorted {
            // Infallible for increasing input, which `sorted` guarantees.
            RoaringBitmap::from_sorted_iter(ids).unwrap_or_default()
        } else {
            ids.collect()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Call::*;

    fn ids(b: &RoaringBitmap) -> Vec<u32> {
        b.iter().collect()
    }

    #[test]
    fn split_recoding_follows_bcftools() {
        // GT 1/2 1|2 ./2 2 . 0/1 2/2 0|2 split into pieces for ALT 1 and ALT 2 (see module docs).
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
        let mut builder = CarrierBuilder::new((10..18).collect());
        let (one, haploid) = builder.build(&calls, 1);
        // piece 1: 1/0 1|0 ./0 0 . 0/1 0/0 0|0
        assert_eq!((ids(&one.het), ids(&one.hom_alt), ids(&one.hemi)), (vec![10, 11, 15], vec![], vec![]));
        assert_eq!((ids(&one.missing_one), ids(&one.missing_two)), (vec![12, 14], vec![]));
        assert_eq!(ids(&haploid), [13, 14]);
        // piece 2: 0/1 0|1 ./1 1 . 0/0 1/1 0|1
        let (two, _) = builder.build(&calls, 2);
        assert_eq!((ids(&two.het), ids(&two.hom_alt), ids(&two.hemi)), (vec![10, 11, 17], vec![16], vec![12, 13]));
    }

    #[test]
    fn unsorted_columns_still_give_correct_sets() {
        let mut builder = CarrierBuilder::new(vec![5, 1, 9]);
        let (sets, _) = builder.build(&[Diploid(0, 1), Diploid(1, 1), Diploid(1, 0)], 1);
        assert_eq!(ids(&sets.het), [5, 9]);
        assert_eq!(ids(&sets.hom_alt), [1]);
    }
}
