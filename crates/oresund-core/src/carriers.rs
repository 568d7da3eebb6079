//! Who carries a variant, as bitmaps of individual numbers, and the allele counts they give.
//!
//! A node numbers its individuals with `u32`s. For each variant and each ingested file it keeps one
//! [`CarrierSets`]; a cohort filter (phenotype, sex, dataset, consent) is itself a bitmap, so every
//! count is the popcount of an intersection.
//!
//! The classes follow `bcftools +fill-tags -- -t AN,AC,AC_Het,AC_Hom,AC_Hemi` exactly: a genotype
//! contributes its *called* alleles to AN; two called alleles that differ are heterozygous, two equal
//! ALT alleles homozygous, and exactly one called ALT allele (haploid `1`, or half-missing `./1`)
//! hemizygous, on any chromosome.

use std::io::{self, Read};

use roaring::RoaringBitmap;
use serde::{Deserialize, Serialize};

/// Genotype classes for one biallelic variant among the samples of one file.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CarrierSets {
    /// Two called alleles, one REF and one ALT.
    pub het: RoaringBitmap,
    /// Two called alleles, both ALT.
    pub hom_alt: RoaringBitmap,
    /// Exactly one called allele, and it is ALT.
    pub hemi: RoaringBitmap,
    /// One allele slot without a call: haploid `.`, or diploid `./0`, `./1`.
    pub missing_one: RoaringBitmap,
    /// Two allele slots without a call: diploid `./.`.
    pub missing_two: RoaringBitmap,
}

/// Allele counts over a set of individuals, with the names of the issue and of bcftools.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AlleleCounts {
    /// AC: ALT alleles among called alleles.
    pub allele_count: u64,
    /// AN: called alleles.
    pub allele_number: u64,
    /// AC_Het: heterozygous individuals (each carries one ALT allele).
    pub heterozygous: u64,
    /// AC_Hom / 2: homozygous-ALT individuals.
    pub homozygous_alt: u64,
    /// AC_Hemi: individuals with exactly one called allele, ALT.
    pub hemizygous: u64,
}

impl AlleleCounts {
    /// AC / AN, or 0 when nothing was called.
    pub fn allele_frequency(&self) -> f64 {
        if self.allele_number == 0 { 0.0 } else { self.allele_count as f64 / self.allele_number as f64 }
    }

    /// Individuals carrying at least one ALT allele.
    pub fn carriers(&self) -> u64 {
        self.heterozygous + self.homozygous_alt + self.hemizygous
    }
}

impl std::ops::AddAssign for AlleleCounts {
    fn add_assign(&mut self, other: Self) {
        self.allele_count += other.allele_count;
        self.allele_number += other.allele_number;
        self.heterozygous += other.heterozygous;
        self.homozygous_alt += other.homozygous_alt;
        self.hemizygous += other.hemizygous;
    }
}

/// Allele slots of the individuals in a file that pass a filter: 2 per diploid, 1 per haploid.
/// `members` are the file's individuals; `haploid` those whose genotypes at this variant are haploid.
pub fn allele_slots(members: &RoaringBitmap, haploid: &RoaringBitmap, filter: Option<&RoaringBitmap>) -> u64 {
    match filter {
        None => 2 * members.len() - haploid.len(),
        Some(f) => 2 * members.intersection_len(f) - haploid.intersection_len(f),
    }
}

const FORMAT_VERSION: u8 = 1;

impl CarrierSets {
    fn sets(&self) -> [&RoaringBitmap; 5] {
        [&self.het, &self.hom_alt, &self.hemi, &self.missing_one, &self.missing_two]
    }

    /// Counts over the individuals in `filter` (all when `None`); `slots` comes from [`allele_slots`]
    /// for the same filter.
    pub fn counts(&self, filter: Option<&RoaringBitmap>, slots: u64) -> AlleleCounts {
        let len = |set: &RoaringBitmap| match filter {
            None => set.len(),
            Some(f) => set.intersection_len(f),
        };
        let (het, hom, hemi) = (len(&self.het), len(&self.hom_alt), len(&self.hemi));
        let missing = len(&self.missing_one) + 2 * len(&self.missing_two);
        AlleleCounts {
            allele_count: het + 2 * hom + hemi,
            allele_number: slots.saturating_sub(missing),
            heterozygous: het,
            homozygous_alt: hom,
            hemizygous: hemi,
        }
    }

    /// Everyone with at least one ALT allele.
    pub fn carriers(&self) -> RoaringBitmap {
        &(&self.het | &self.hom_alt) | &self.hemi
    }

    /// Serialises as a version byte, then each set as a u32 LE length and its portable roaring bytes.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(1 + self.sets().iter().map(|s| 4 + s.serialized_size()).sum::<usize>());
        out.push(FORMAT_VERSION);
        for set in self.sets() {
            out.extend_from_slice(&(set.serialized_size() as u32).to_le_bytes());
            // Writing into a Vec cannot fail.
            let _ = set.serialize_into(&mut out);
        }
        out
    }

    /// Reads what [`CarrierSets::to_bytes`] wrote; corrupt bytes are an error, never a panic.
    pub fn from_bytes(bytes: &[u8]) -> io::Result<Self> {
        let (&version, mut rest) = bytes.split_first().ok_or_else(|| invalid("empty carrier record"))?;
        if version != FORMAT_VERSION {
            return Err(invalid("unknown carrier record version"));
        }
        let mut read = || -> io::Result<RoaringBitmap> {
            let mut len = [0u8; 4];
            rest.read_exact(&mut len)?;
            let len = u32::from_le_bytes(len) as usize;
            if len > rest.len() {
                return Err(invalid("carrier record is truncated"));
            }
            let (set, tail) = rest.split_at(len);
            rest = tail;
            RoaringBitmap::deserialize_from(set)
        };
        Ok(CarrierSets { het: read()?, hom_alt: read()?, hemi: read()?, missing_one: read()?, missing_two: read()? })
    }
}

fn invalid(message: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, message.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(ids: &[u32]) -> RoaringBitmap {
        ids.iter().copied().collect()
    }

    /// The bcftools fill-tags worked example: `0/1 1 1/1 0 ./1 ./. . 0/0` gives
    /// AN=9;AC=5;AC_Het=1;AC_Hom=2;AC_Hemi=2 (individuals 0..8, haploid: 1, 3, 6).
    fn example() -> (CarrierSets, RoaringBitmap, RoaringBitmap) {
        let sets = CarrierSets {
            het: set(&[0]),
            hom_alt: set(&[2]),
            hemi: set(&[1, 4]),
            missing_one: set(&[4, 6]),
            missing_two: set(&[5]),
        };
        (sets, set(&[0, 1, 2, 3, 4, 5, 6, 7]), set(&[1, 3, 6]))
    }

    #[test]
    fn counts_like_bcftools_fill_tags() {
        let (sets, members, haploid) = example();
        let c = sets.counts(None, allele_slots(&members, &haploid, None));
        assert_eq!(
            c,
            AlleleCounts { allele_count: 5, allele_number: 9, heterozygous: 1, homozygous_alt: 1, hemizygous: 2 }
        );
        assert!((c.allele_frequency() - 5.0 / 9.0).abs() < 1e-12);
    }

    #[test]
    fn filters_restrict_every_count() {
        let (sets, members, haploid) = example();
        let filter = set(&[0, 1, 5, 42]);
        let c = sets.counts(Some(&filter), allele_slots(&members, &haploid, Some(&filter)));
        // 0/1 → AN 2, AC 1; haploid 1 → AN 1, AC 1; ./. → 0; 42 is not in the file.
        assert_eq!(
            c,
            AlleleCounts { allele_count: 2, allele_number: 3, heterozygous: 1, homozygous_alt: 0, hemizygous: 1 }
        );
    }

    #[test]
    fn bytes_round_trip_and_corruption_is_an_error() {
        let (sets, _, _) = example();
        let bytes = sets.to_bytes();
        assert_eq!(CarrierSets::from_bytes(&bytes).unwrap(), sets);
        assert!(CarrierSets::from_bytes(&bytes[..bytes.len() - 3]).is_err());
        assert!(CarrierSets::from_bytes(&[]).is_err());
        assert!(CarrierSets::from_bytes(&[9, 0, 0]).is_err());
    }
}
