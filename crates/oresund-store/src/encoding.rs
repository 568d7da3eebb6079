//! Column encodings both backends store alike: sample columns as u32 little-endian, term lists as
//! JSON text.

use crate::error::{Result, StoreError};

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

/// A term list as stored.
pub(crate) fn list_text(list: &[String]) -> String {
    serde_json::to_string(list).unwrap_or_else(|_| "[]".into())
}

pub(crate) fn json_list(text: &str) -> Result<Vec<String>> {
    serde_json::from_str(text).map_err(|e| StoreError::Corrupt(format!("list column: {e}")))
}
