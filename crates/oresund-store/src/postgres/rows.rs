//! PostgreSQL rows to the store's model types, and the column encodings shared with the embedded
//! store (sample columns as u32 LE, term lists as JSON text).

use oresund_core::individual::{Individual, Sex};
use oresund_core::pseudonym::Pseudonym;
use postgres::Row;

use crate::error::{Result, StoreError};
use crate::model::{ArchiveKind, ArchiveObject, IngestStats, StoredFile, StoredIndividual};

/// Sample columns as stored: the individual number of each, u32 little-endian.
pub(crate) fn columns_bytes(columns: &[u32]) -> Vec<u8> {
    columns.iter().flat_map(|c| c.to_le_bytes()).collect()
}

pub(crate) fn columns_from(bytes: &[u8]) -> Result<Vec<u32>> {
    if !bytes.len().is_multiple_of(4) {
        return Err(StoreError::Corrupt("file columns".into()));
    }
    Ok(bytes.chunks_exact(4).map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]])).collect())
}

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

fn json_list(text: &str) -> Result<Vec<String>> {
    serde_json::from_str(text).map_err(|e| StoreError::Corrupt(format!("list column: {e}")))
}

/// A term list as stored (JSON text, like the embedded store).
pub(crate) fn list_text(list: &[String]) -> String {
    serde_json::to_string(list).unwrap_or_else(|_| "[]".into())
}

/// `number, pseudonym, sex, birth_year, hpo_terms, icd10_codes, consent`.
pub(crate) fn individual_from_row(row: &Row) -> Result<StoredIndividual> {
    let number: u32 = unsigned(row.try_get(0)?, "individual number")?;
    let pseudonym: &str = row.try_get(1)?;
    let pseudonym =
        Pseudonym::parse(pseudonym).ok_or_else(|| StoreError::Corrupt(format!("pseudonym of individual {number}")))?;
    let sex: &str = row.try_get(2)?;
    let sex: Sex = sex.parse().map_err(|_| StoreError::Corrupt(format!("sex of individual {number}")))?;
    let birth_year = row
        .try_get::<_, Option<i32>>(3)?
        .map(|y| u16::try_from(y).map_err(|_| StoreError::Corrupt(format!("birth year of individual {number}"))))
        .transpose()?;
    let individual = Individual {
        pseudonym,
        sex,
        birth_year,
        hpo_terms: json_list(row.try_get(4)?)?,
        icd10_codes: json_list(row.try_get(5)?)?,
        consent: json_list(row.try_get(6)?)?,
    };
    Ok(StoredIndividual { number, individual })
}

/// The columns [`archive_object_from_row`] reads, `a` being `archive_objects`.
macro_rules! archive_columns {
    () => {
        "a.accession, a.file, a.kind, a.name, a.plaintext_sha256, a.plaintext_size, \
         a.body_sha256, a.body_size, a.header_path, a.body_path, a.key_id, a.created"
    };
}
pub(crate) use archive_columns;

pub(crate) fn archive_object_from_row(row: &Row) -> Result<ArchiveObject> {
    let accession: String = row.try_get(0)?;
    let kind: &str = row.try_get(2)?;
    let kind = ArchiveKind::parse(kind)
        .ok_or_else(|| StoreError::Corrupt(format!("archive object {accession} has unknown kind {kind:?}")))?;
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
        accession,
    })
}
