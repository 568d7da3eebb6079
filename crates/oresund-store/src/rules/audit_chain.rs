//! How the audit chain grows: each record becomes the entry after the head (its sequence number
//! one more, its `previous` the head's hash), and the head moves to the last one, all inside the
//! caller's transaction so that a change and the entry recording it commit together.

use oresund_core::audit::{AuditEntry, AuditRecord, Decision};

use crate::audit_log::AuditQuery;
use crate::error::{Result, StoreError};

/// The audit log's rows, inside one write transaction.
pub(crate) trait AuditRows {
    /// The chain head (last sequence number and hash), held until the transaction ends so that
    /// appends from other connections or processes queue behind this one.
    fn lock_audit_head(&mut self) -> Result<(u64, String)>;

    /// Stores entries already chained, in order.
    fn insert_audit_entries(&mut self, entries: &[AuditEntry]) -> Result<()>;

    fn set_audit_head(&mut self, seq: u64, hash: &str) -> Result<()>;

    /// The number of the last audit journal file moved into the chain (0 before any).
    fn audit_journal_applied(&mut self) -> Result<u64>;

    fn set_audit_journal_applied(&mut self, journal: u64) -> Result<()>;
}

/// Appends `records` after the head, in order.
pub(crate) fn append(rows: &mut impl AuditRows, records: &[AuditRecord]) -> Result<()> {
    if records.is_empty() {
        return Ok(());
    }
    let (seq, hash) = rows.lock_audit_head()?;
    let mut entries: Vec<AuditEntry> = Vec::with_capacity(records.len());
    for record in records {
        let previous = entries.last().map_or((hash.as_str(), seq), |e| (e.hash.as_str(), e.seq));
        entries.push(AuditEntry::next(Some(previous), record.clone()));
    }
    rows.insert_audit_entries(&entries)?;
    let last = entries.last().ok_or_else(|| StoreError::Corrupt("audit append lost its entries".into()))?;
    rows.set_audit_head(last.seq, &last.hash)
}

/// Appends the records of audit journal file `journal` unless that file was moved in before, and
/// marks it moved in the same transaction: a journal applied again after a crash (between this
/// commit and the file's removal) adds nothing. Returns whether the records were appended.
pub(crate) fn append_journal(rows: &mut impl AuditRows, journal: u64, records: &[AuditRecord]) -> Result<bool> {
    // Taken first so that two processes applying journals queue here.
    rows.lock_audit_head()?;
    if rows.audit_journal_applied()? >= journal {
        return Ok(false);
    }
    append(rows, records)?;
    rows.set_audit_journal_applied(journal)?;
    Ok(true)
}

/// An entry read back, its `datasets` column (JSON text) parsed into the record.
/// A stored decision column read back (only `allowed` and `denied` were ever written).
pub(crate) fn decision(seq: u64, text: &str) -> Result<Decision> {
    text.parse().map_err(|e| StoreError::Corrupt(format!("audit entry {seq}: {e}")))
}

pub(crate) fn with_datasets(mut entry: AuditEntry, datasets: &str) -> Result<AuditEntry> {
    entry.record.datasets = serde_json::from_str(datasets)
        .map_err(|e| StoreError::Corrupt(format!("audit entry {}: datasets: {e}", entry.seq)))?;
    Ok(entry)
}

/// Whether an entry passes the query's dataset filter (the SQL filters the other fields; datasets
/// are a JSON list in one column, so this one is applied after reading).
pub(crate) fn in_dataset(query: &AuditQuery, entry: &AuditEntry) -> bool {
    query.dataset.as_ref().is_none_or(|d| entry.record.datasets.contains(d))
}
