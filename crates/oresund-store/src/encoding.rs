//! Column encodings both backends store alike: sample columns as u32 little-endian, term lists as
//! JSON text, an individual as its row's text columns.

use oresund_core::individual::{Individual, Sex};
use oresund_core::pseudonym::Pseudonym;

use crate::error::{Result, StoreError};
use crate::model::{IndividualNumber, StoredIndividual};

/// Sample columns as stored: the individual number of each, u32 little-endian.
pub(crate) fn columns_bytes(columns: &[IndividualNumber]) -> Vec<u8> {
    columns.iter().flat_map(|c| c.get().to_le_bytes()).collect()
}

pub(crate) fn columns_from(bytes: &[u8]) -> Result<Vec<IndividualNumber>> {
    if !bytes.len().is_multiple_of(4) {
        return Err(StoreError::Corrupt("file columns".into()));
    }
    Ok(bytes.chunks_exact(4).map(|c| IndividualNumber::new(u32::from_le_bytes([c[0], c[1], c[2], c[3]]))).collect())
}

/// A term list as stored.
pub(crate) fn list_text(list: &[String]) -> String {
    serde_json::to_string(list).unwrap_or_else(|_| "[]".into())
}

pub(crate) fn json_list(text: &str) -> Result<Vec<String>> {
    serde_json::from_str(text).map_err(|e| StoreError::Corrupt(format!("list column: {e}")))
}

/// An individual from its row: `pseudonym`, `sex` and the term lists as stored text.
pub(crate) fn individual_from_columns(
    number: IndividualNumber,
    pseudonym: &str,
    sex: &str,
    birth_year: Option<u16>,
    [hpo_terms, icd10_codes, consent]: [&str; 3],
) -> Result<StoredIndividual> {
    let pseudonym =
        Pseudonym::parse(pseudonym).ok_or_else(|| StoreError::Corrupt(format!("pseudonym of individual {number}")))?;
    let sex: Sex = sex.parse().map_err(|_| StoreError::Corrupt(format!("sex of individual {number}")))?;
    let individual = Individual {
        pseudonym,
        sex,
        birth_year,
        hpo_terms: json_list(hpo_terms)?,
        icd10_codes: json_list(icd10_codes)?,
        consent: json_list(consent)?,
    };
    Ok(StoredIndividual { number, individual })
}
