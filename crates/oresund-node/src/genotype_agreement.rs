//! Files that hold the same person must agree on that person's genotypes (issue #17).
//!
//! Counting takes each person once per variant, from the first file holding both (see
//! `query.rs`, `count_files`), which is only right if every copy says the same. So ingest compares
//! each variant of the new file with the files already holding any of its people, and refuses a
//! file where a shared person's genotype class (het, hom-alt, hemi, one or two missing alleles,
//! or none of these: REF) differs — with both files named and never the sample's name.
//!
//! The committed files are read one contig at a time, as the new file reaches it, and only when
//! they share people with it: files split by chromosome cost one empty scan per contig.

use std::collections::HashMap;

use oresund_core::carriers::{CarrierSets, EncodedCarriers};
use oresund_store::{FileNumber, IndividualNumber, NodeStore, StoreError, StoredFile, VariantKey};

/// A committed file sharing people with the one being ingested.
struct Earlier {
    number: FileNumber,
    accession: String,
    width: usize,
    /// Its column → the new file's column holding the same person (`NONE` for no one shared).
    old_to_new: Vec<u32>,
    /// The new file's column → its column holding the same person.
    new_to_old: Vec<u32>,
}

const NONE: u32 = u32::MAX;

impl Earlier {
    fn to_new(&self, old: u32) -> Option<u32> {
        self.old_to_new.get(old as usize).copied().filter(|&c| c != NONE)
    }

    fn to_old(&self, new: u32) -> Option<u32> {
        self.new_to_old.get(new as usize).copied().filter(|&c| c != NONE)
    }
}

/// One earlier file's carrier bytes of a variant: (index into `earlier`, bytes).
type HeldCalls = (usize, Vec<u8>);

/// A shared person whose genotype differs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Disagreement {
    pub column: u32,
    pub other_accession: String,
    pub other_column: u32,
}

impl std::fmt::Display for Disagreement {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "the genotype in sample column {} differs from {} (sample column {}), which holds the same individual; \
             files that share people must agree on their calls, or each person would count twice or wrongly",
            self.column + 1,
            self.other_accession,
            self.other_column + 1
        )
    }
}

/// Compares a new file's variants with the committed files holding its people.
pub struct GenotypeAgreement {
    earlier: Vec<Earlier>,
    /// The contig whose committed entries `held` has.
    contig: Option<u32>,
    /// (pos, REF, ALT) → per earlier file (index into `earlier`), its carrier bytes.
    held: HashMap<(u64, String, String), Vec<HeldCalls>>,
}

impl GenotypeAgreement {
    /// For a new file whose columns hold `columns`, among the committed `files`.
    pub fn new(columns: &[IndividualNumber], files: &[StoredFile]) -> Self {
        let mine: HashMap<IndividualNumber, u32> = columns
            .iter()
            .enumerate()
            .filter(|(_, n)| **n != IndividualNumber::WITHDRAWN)
            .map(|(c, n)| (*n, c as u32))
            .collect();
        let earlier = files
            .iter()
            .filter_map(|f| {
                let old_to_new: Vec<u32> = f.columns.iter().map(|n| mine.get(n).copied().unwrap_or(NONE)).collect();
                let mut new_to_old = vec![NONE; columns.len()];
                for (old, &new) in old_to_new.iter().enumerate().filter(|(_, n)| **n != NONE) {
                    new_to_old[new as usize] = old as u32;
                }
                old_to_new.iter().any(|&c| c != NONE).then(|| Earlier {
                    number: f.number,
                    accession: f.accession.clone(),
                    width: f.columns.len(),
                    old_to_new,
                    new_to_old,
                })
            })
            .collect();
        GenotypeAgreement { earlier, contig: None, held: HashMap::new() }
    }

    /// Whether no committed file shares anyone (nothing to check).
    pub fn is_empty(&self) -> bool {
        self.earlier.is_empty()
    }

    /// Checks one variant of the new file (`carriers` by its columns) against the earlier files;
    /// `contig_length` bounds the scan of a contig met for the first time.
    pub fn check(
        &mut self,
        store: &dyn NodeStore,
        key: &VariantKey,
        contig_length: u64,
        carriers: &CarrierSets,
    ) -> Result<Option<Disagreement>, StoreError> {
        if self.earlier.is_empty() {
            return Ok(None);
        }
        if self.contig != Some(key.contig) {
            self.load_contig(store, key.contig, contig_length)?;
        }
        let Some(held) = self.held.get(&(key.pos, key.reference.clone(), key.alternate.clone())) else {
            return Ok(None);
        };
        for (index, bytes) in held {
            let earlier = &self.earlier[*index];
            let theirs = EncodedCarriers::parse(bytes, earlier.width)
                .map_err(|e| StoreError::Corrupt(format!("{}: {e}", earlier.accession)))?
                .decode();
            if let Some(found) = first_difference(earlier, &theirs, carriers) {
                return Ok(Some(found));
            }
        }
        Ok(None)
    }

    fn load_contig(&mut self, store: &dyn NodeStore, contig: u32, length: u64) -> Result<(), StoreError> {
        self.held.clear();
        self.contig = Some(contig);
        let by_number: HashMap<FileNumber, usize> =
            self.earlier.iter().enumerate().map(|(i, e)| (e.number, i)).collect();
        let held = &mut self.held;
        store.scan_region(contig, 1, length.max(1), &mut |file, entry| {
            if let Some(&index) = by_number.get(&file) {
                let key = (entry.pos, entry.reference.to_string(), entry.alternate.to_string());
                held.entry(key).or_default().push((index, entry.plain_carriers()?.into_owned()));
            }
            Ok(())
        })
    }
}

/// The first shared person whose class differs, in the new file's column order. Only people in
/// one of the five sets are listed on either side, so this costs the carriers, not the width.
fn first_difference(earlier: &Earlier, theirs: &CarrierSets, mine: &CarrierSets) -> Option<Disagreement> {
    let mut my_classes: Vec<(u32, u8)> = Vec::new();
    let mut their_classes: Vec<(u32, u8)> = Vec::new();
    for (class, (their_set, my_set)) in sets(theirs).into_iter().zip(sets(mine)).enumerate() {
        let class = class as u8 + 1;
        my_classes.extend(my_set.iter().filter(|&&c| earlier.to_old(c).is_some()).map(|&c| (c, class)));
        their_classes.extend(their_set.iter().filter_map(|&c| Some((earlier.to_new(c)?, class))));
    }
    my_classes.sort_unstable();
    their_classes.sort_unstable();
    if my_classes == their_classes {
        return None;
    }
    // Absent from a list means REF (class 0).
    let mine: HashMap<u32, u8> = my_classes.into_iter().collect();
    let theirs: HashMap<u32, u8> = their_classes.into_iter().collect();
    let column = mine
        .keys()
        .chain(theirs.keys())
        .copied()
        .filter(|c| mine.get(c).unwrap_or(&0) != theirs.get(c).unwrap_or(&0))
        .min()?;
    Some(Disagreement { column, other_accession: earlier.accession.clone(), other_column: earlier.to_old(column)? })
}

fn sets(s: &CarrierSets) -> [&Vec<u32>; 5] {
    [&s.het, &s.hom_alt, &s.hemi, &s.missing_one, &s.missing_two]
}
