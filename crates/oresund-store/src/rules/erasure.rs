//! Erasure rules: what a withdrawal or a removal does to the catalog, the same on every backend.
//!
//! * In a rewritten file the person's sample column is blanked: in every variant's carrier sets it
//!   carries no ALT allele and is uncalled (both alleles, or the one of a haploid call), and the
//!   column list names [`IndividualNumber::WITHDRAWN`]. So it adds nothing to AC and nothing to
//!   AN: counts equal `bcftools view -s ^ID | +fill-tags`. The column is kept, not removed, so the
//!   file's width never changes: a server that has not yet re-read the catalog (it checks every
//!   250 ms) reads the new sets with the layout it holds, and gets the new counts, never a mix.
//! * Every object of a rewritten file is replaced by its new version: one file key encrypts all
//!   objects of a version, so none may stay behind when that key is destroyed.
//! * A removed file keeps its row as an invisible tombstone, so its number (and accession) is
//!   never given again; its variant index and archive rows go.
//! * Each replaced or removed object version is recorded as shredded.

use std::collections::{HashMap, HashSet};

use oresund_core::carriers::{EncodedCarriers, decode_columns};

use crate::blocks::BlockView;
use crate::error::{Result, StoreError};
use crate::model::{
    ArchiveObject, ErasureOutcome, ErasurePlan, FileNumber, IndividualNumber, ShreddedObject, Withdrawal,
};

/// Catalog rows, inside one write transaction.
pub(crate) trait ErasureRows {
    /// The sample columns of a committed file; `None` if there is no such committed file.
    fn committed_file(&mut self, file: FileNumber) -> Result<Option<Vec<IndividualNumber>>>;
    /// Every block of a file: id and encoded bytes.
    fn file_blocks(&mut self, file: FileNumber) -> Result<Vec<(i64, Vec<u8>)>>;
    fn set_block(&mut self, id: i64, data: &[u8]) -> Result<()>;
    /// A file's haploid sets: id and encoded columns.
    fn haploid_sets(&mut self, file: FileNumber) -> Result<Vec<(u32, Vec<u8>)>>;
    fn set_file_columns(&mut self, file: FileNumber, columns: &[IndividualNumber]) -> Result<()>;
    fn file_objects(&mut self, file: FileNumber) -> Result<Vec<ArchiveObject>>;
    fn delete_object(&mut self, accession: &str) -> Result<()>;
    /// Inserts an object with its `version`.
    fn insert_object(&mut self, object: &ArchiveObject) -> Result<()>;
    /// Records an object version as shredded; returns the record as stored.
    fn insert_shredded(&mut self, object: &ArchiveObject, cause: &str) -> Result<ShreddedObject>;
    /// Deletes a file's variant index and leaves its row as an invisible tombstone.
    fn retire_file(&mut self, file: FileNumber) -> Result<()>;
    /// The sample columns of every committed file.
    fn all_columns(&mut self) -> Result<Vec<IndividualNumber>>;
    /// The number of the (not withdrawn) individual with this pseudonym.
    fn individual_by_pseudonym(&mut self, pseudonym: &str) -> Result<Option<IndividualNumber>>;
    /// Clears an individual's record, keeping the row (numbers are never given again).
    fn retire_individual(&mut self, number: IndividualNumber) -> Result<bool>;
    /// Records a withdrawal (a repeated one is kept once).
    fn insert_withdrawal(&mut self, withdrawal: &Withdrawal) -> Result<()>;
    fn bump_generation(&mut self) -> Result<()>;
}

fn conflict(message: String) -> StoreError {
    StoreError::Conflict(message)
}

/// Applies a plan (see the module documentation); the caller's transaction commits it.
pub(crate) fn erase(rows: &mut impl ErasureRows, plan: &ErasurePlan) -> Result<ErasureOutcome> {
    let mut outcome = ErasureOutcome::default();
    let mut touched: HashSet<IndividualNumber> = HashSet::new();
    for rewrite in &plan.rewrites {
        let columns = rows
            .committed_file(rewrite.file)?
            .ok_or_else(|| conflict(format!("file {} is not a committed file; nothing was changed", rewrite.file)))?;
        touched.extend(columns.iter().copied());
        blank_columns(rows, rewrite.file, &columns, &rewrite.blank_columns)?;
        let current = rows.file_objects(rewrite.file)?;
        for old in &current {
            let Some(new) = rewrite.objects.iter().find(|o| o.accession == old.accession) else {
                return Err(conflict(format!(
                    "{} has no new version: every object of a file version shares its file key; nothing was changed",
                    old.accession
                )));
            };
            outcome.shredded.push(rows.insert_shredded(old, &plan.cause)?);
            rows.delete_object(&old.accession)?;
            rows.insert_object(&ArchiveObject { version: old.version + 1, ..new.clone() })?;
        }
        for new in rewrite.objects.iter().filter(|n| !current.iter().any(|o| o.accession == n.accession)) {
            rows.insert_object(&ArchiveObject { version: 1, ..new.clone() })?;
        }
    }
    for &file in &plan.removals {
        let columns = rows
            .committed_file(file)?
            .ok_or_else(|| conflict(format!("file {file} is not a committed file; nothing was changed")))?;
        touched.extend(columns);
        for old in rows.file_objects(file)? {
            outcome.shredded.push(rows.insert_shredded(&old, &plan.cause)?);
            rows.delete_object(&old.accession)?;
        }
        rows.retire_file(file)?;
    }
    if let Some(withdrawal) = &plan.withdrawal {
        if withdrawal.dataset.is_none()
            && let Some(number) = rows.individual_by_pseudonym(&withdrawal.pseudonym)?
        {
            touched.insert(number);
        }
        rows.insert_withdrawal(withdrawal)?;
    }
    // People the touched files held and no committed file holds any more are forgotten.
    let remaining: HashSet<IndividualNumber> = rows.all_columns()?.into_iter().collect();
    let mut gone: Vec<IndividualNumber> = touched.difference(&remaining).copied().collect();
    gone.sort_unstable();
    for number in gone {
        if rows.retire_individual(number)? {
            outcome.individuals_removed += 1;
        }
    }
    rows.bump_generation()?;
    Ok(outcome)
}

/// Blanks sample columns in a file's carrier sets and column list (see the module documentation).
fn blank_columns(
    rows: &mut impl ErasureRows,
    file: FileNumber,
    columns: &[IndividualNumber],
    blank: &[u32],
) -> Result<()> {
    if blank.is_empty() {
        return Ok(());
    }
    let width = columns.len();
    if let Some(&bad) = blank.iter().find(|&&c| c as usize >= width) {
        return Err(conflict(format!("file {file} has no sample column {bad}; nothing was changed")));
    }
    let corrupt = |e: oresund_core::carriers::CarrierFormatError| StoreError::Corrupt(format!("file {file}: {e}"));
    let mut haploid: HashMap<u32, Vec<u32>> = HashMap::new();
    for (id, encoded) in rows.haploid_sets(file)? {
        haploid.insert(id, decode_columns(&encoded, width).map_err(corrupt)?);
    }
    for (id, data) in rows.file_blocks(file)? {
        let rewritten = BlockView::parse(&data)?.map_carriers(|set_id, bytes| {
            let mut sets = EncodedCarriers::parse(bytes, width).map_err(corrupt)?.decode();
            let haploid = haploid.get(&set_id).map(Vec::as_slice).unwrap_or_default();
            for set in [&mut sets.het, &mut sets.hom_alt, &mut sets.hemi, &mut sets.missing_one, &mut sets.missing_two]
            {
                set.retain(|c| !blank.contains(c));
            }
            for &column in blank {
                // Uncalled: the slots the column counts in AN (one for a haploid call) are missing.
                let missing = if haploid.contains(&column) { &mut sets.missing_one } else { &mut sets.missing_two };
                missing.push(column);
            }
            sets.missing_one.sort_unstable();
            sets.missing_two.sort_unstable();
            Ok(sets.encode(width))
        })?;
        rows.set_block(id, &rewritten)?;
    }
    let kept: Vec<IndividualNumber> = columns
        .iter()
        .enumerate()
        .map(|(c, n)| if blank.contains(&(c as u32)) { IndividualNumber::WITHDRAWN } else { *n })
        .collect();
    rows.set_file_columns(file, &kept)
}
