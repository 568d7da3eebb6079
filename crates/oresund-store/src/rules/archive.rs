//! Archive catalog rules: a key rotation's header switches apply all or none, and an object whose
//! header moved meanwhile refuses the whole batch.

use crate::error::{Result, StoreError};
use crate::model::{ArchiveKind, HeaderSwitch};

/// Archive object rows, inside one write transaction.
pub(crate) trait ArchiveRows {
    /// Re-points one object at its new header if it still has the expected one; false if not.
    fn switch_header(&mut self, switch: &HeaderSwitch) -> Result<bool>;
}

/// Applies every switch; the first stale one fails the whole batch (the caller's transaction is
/// then dropped, rolling back the switches already made).
pub(crate) fn switch_headers(rows: &mut impl ArchiveRows, switches: &[HeaderSwitch]) -> Result<()> {
    for s in switches {
        if !rows.switch_header(s)? {
            return Err(StoreError::Conflict(format!(
                "archive object {} no longer has header {}; nothing was switched",
                s.accession, s.from_header_path
            )));
        }
    }
    Ok(())
}

/// The `kind` column of an archive object.
pub(crate) fn kind_of(accession: &str, kind: &str) -> Result<ArchiveKind> {
    ArchiveKind::parse(kind)
        .ok_or_else(|| StoreError::Corrupt(format!("archive object {accession} has unknown kind {kind:?}")))
}
