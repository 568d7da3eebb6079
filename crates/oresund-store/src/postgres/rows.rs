//! PostgreSQL rows to the store's model types, and the column encodings shared with the embedded
//! store (sample columns as u32 LE, term lists as JSON text).

use postgres::Row;

use crate::encoding::{columns_from, individual_from_columns};
use crate::error::{Result, StoreError};
use crate::model::{ArchiveObject, IndividualNumber, IngestStats, StoredFile, StoredIndividual};
use crate::rules::archive::kind_of;

/// A non-negative `bigint`/`integer` as the model's unsigned type.
pub(crate) fn unsigned<T: TryFrom<i64>>(value: i64, what: &str) -> Result<T> {
    T::try_from(value).map_err(|_| StoreError::Corrupt(format!("{what} {value} is out of range")))
}

/// The columns [`file_from_row`] reads, `f` being `files` and `d` its dataset (a macro, so that
/// queries stay `&'static str` for the statement cache).
macro_rules! file_columns {
    () => {
        "f.number, f.accession, d.accession, f.name, f.sha256, f.size, f.created, \
         f.records, f.split, f.variants, f.realigned, f.skipped, f.duplicates, f.columns"
    };
}
pub(crate) use file_columns;

pub(crate) fn file_from_row(row: &Row) -> Result<StoredFile> {
    let count = |i: usize, what: &str| -> Result<u64> { unsigned(row.try_get::<_, i64>(i)?, what) };
    let stats = IngestStats {
        records: count(7, "records")?,
        split: count(8, "split")?,
        variants: count(9, "variants")?,
        realigned: count(10, "realigned")?,
        skipped: count(11, "skipped")?,
        duplicates: count(12, "duplicates")?,
    };
    Ok(StoredFile {
        number: unsigned(row.try_get(0)?, "file number")?,
        accession: row.try_get(1)?,
        dataset: row.try_get(2)?,
        name: row.try_get(3)?,
        sha256: row.try_get(4)?,
        size: count(5, "file size")?,
        created: row.try_get(6)?,
        stats,
        columns: columns_from(row.try_get(13)?)?,
    })
}

/// `number, pseudonym, sex, birth_year, hpo_terms, icd10_codes, consent`.
pub(crate) fn individual_from_row(row: &Row) -> Result<StoredIndividual> {
    let number: IndividualNumber = unsigned(row.try_get(0)?, "individual number")?;
    let birth_year = row
        .try_get::<_, Option<i32>>(3)?
        .map(|y| u16::try_from(y).map_err(|_| StoreError::Corrupt(format!("birth year of individual {number}"))))
        .transpose()?;
    let lists = [row.try_get(4)?, row.try_get(5)?, row.try_get(6)?];
    individual_from_columns(number, row.try_get(1)?, row.try_get(2)?, birth_year, lists)
}

/// The columns [`archive_object_from_row`] reads, `a` being `archive_objects`.
macro_rules! archive_columns {
    () => {
        "a.accession, a.file, a.kind, a.name, a.plaintext_sha256, a.plaintext_size, \
         a.body_sha256, a.body_size, a.header_path, a.body_path, a.key_id, a.created, a.version"
    };
}
pub(crate) use archive_columns;

pub(crate) fn archive_object_from_row(row: &Row) -> Result<ArchiveObject> {
    let accession: String = row.try_get(0)?;
    let kind: &str = row.try_get(2)?;
    let kind = kind_of(&accession, kind)?;
    Ok(ArchiveObject {
        file: unsigned(row.try_get(1)?, "file number")?,
        kind,
        name: row.try_get(3)?,
        plaintext_sha256: row.try_get(4)?,
        plaintext_size: unsigned(row.try_get(5)?, "plaintext size")?,
        body_sha256: row.try_get(6)?,
        body_size: unsigned(row.try_get(7)?, "body size")?,
        header_path: row.try_get(8)?,
        body_path: row.try_get(9)?,
        key_id: row.try_get(10)?,
        created: row.try_get(11)?,
        version: unsigned(i64::from(row.try_get::<_, i32>(12)?), "object version")?,
        accession,
    })
}
