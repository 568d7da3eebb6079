//! The tamper-evident audit log: each entry carries the SHA-256 of the one before it, so editing,
//! removing or reordering any entry breaks every hash after it. The store also keeps the chain's
//! head (last sequence number and hash) beside it, updated in the same transaction as every
//! append, so removing the *last* entries is caught too — unless whoever removes them also rewrites
//! the head (it sits in the same database). Against someone with write access to the database the
//! chain proves nothing by itself: keep the head hash `oresund audit verify` prints somewhere they
//! cannot write (a ticket, an append-only store), and compare.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// What happened, by whom, to what, and how it was decided. Holds user ids and pseudonyms only,
/// never a local personal id.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditRecord {
    /// RFC 3339 UTC time.
    pub time: String,
    /// User id (`issuer#subject`, token holder), `operator` (the CLI), `anonymous` or
    /// `unauthenticated` (a credential that was refused).
    pub actor: String,
    /// `query`, `auth`, `dac.request`, `dac.approve`, `dac.reject`, `dac.revoke`...
    pub action: String,
    /// Endpoint or object acted on.
    pub resource: String,
    pub datasets: Vec<String>,
    /// Granularity returned, for queries.
    pub granularity: Option<String>,
    /// `allowed` or `denied`.
    pub decision: String,
    /// Why (the refusal message, the DUO match...).
    pub detail: String,
}

/// `allowed`, as [`AuditRecord::decision`] says it.
pub const ALLOWED: &str = "allowed";
/// `denied`, as [`AuditRecord::decision`] says it.
pub const DENIED: &str = "denied";

/// A record in the chain.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditEntry {
    pub seq: u64,
    pub record: AuditRecord,
    /// Hex SHA-256 of the previous entry (64 zeros for the first).
    pub previous: String,
    /// Hex SHA-256 of (previous, seq, record).
    pub hash: String,
}

pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The hash an entry must carry.
pub fn entry_hash(previous: &str, seq: u64, record: &AuditRecord) -> String {
    let mut hasher = Sha256::new();
    hasher.update(previous.as_bytes());
    hasher.update(seq.to_le_bytes());
    // serde_json writes struct fields in declaration order: a stable serialisation.
    hasher.update(serde_json::to_vec(record).unwrap_or_default());
    hex(&hasher.finalize())
}

impl AuditEntry {
    /// The entry following `previous` (the previous entry's hash and seq; `None` for the first).
    pub fn next(previous: Option<(&str, u64)>, record: AuditRecord) -> Self {
        let (previous, seq) = match previous {
            Some((hash, seq)) => (hash.to_string(), seq + 1),
            None => (GENESIS.to_string(), 1),
        };
        let hash = entry_hash(&previous, seq, &record);
        Self { seq, record, previous, hash }
    }
}

/// Where a chain breaks.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChainError {
    #[error("entry {seq}: its hash does not match its content (edited)")]
    Edited { seq: u64 },
    #[error("entry {seq}: it does not follow entry {expected_previous} (removed or reordered entries)")]
    Broken { seq: u64, expected_previous: u64 },
    #[error("the log ends at entry {last} but its head says {head}: the last entries were removed")]
    Truncated { last: u64, head: u64 },
    #[error("the log's head names entry {head} with another hash than that entry's (edited head or entries)")]
    HeadMismatch { head: u64 },
}

/// Checks a whole chain in order; the error names the first bad entry.
pub fn verify_chain(entries: &[AuditEntry]) -> Result<(), ChainError> {
    let mut previous: Option<&AuditEntry> = None;
    for entry in entries {
        let (expected_hash, expected_seq) = previous.map_or((GENESIS, 1), |p| (p.hash.as_str(), p.seq + 1));
        if entry.previous != expected_hash || entry.seq != expected_seq {
            return Err(ChainError::Broken { seq: entry.seq, expected_previous: expected_seq - 1 });
        }
        if entry_hash(&entry.previous, entry.seq, &entry.record) != entry.hash {
            return Err(ChainError::Edited { seq: entry.seq });
        }
        previous = Some(entry);
    }
    Ok(())
}

/// [`verify_chain`], then checks that the chain ends where its head (`seq`, `hash`, kept apart
/// by the store; `(0, GENESIS)` for an empty log) says it does.
pub fn verify_with_head(entries: &[AuditEntry], head: (u64, &str)) -> Result<(), ChainError> {
    verify_chain(entries)?;
    let (last, last_hash) = entries.last().map_or((0, GENESIS), |e| (e.seq, e.hash.as_str()));
    if last < head.0 {
        return Err(ChainError::Truncated { last, head: head.0 });
    }
    if last != head.0 || last_hash != head.1 {
        return Err(ChainError::HeadMismatch { head: head.0 });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(actor: &str) -> AuditRecord {
        AuditRecord {
            time: "2026-11-25T12:00:00Z".into(),
            actor: actor.into(),
            action: "query".into(),
            resource: "/g_variants".into(),
            datasets: vec!["DK-1".into()],
            granularity: Some("count".into()),
            decision: ALLOWED.into(),
            detail: String::new(),
        }
    }

    fn chain(n: usize) -> Vec<AuditEntry> {
        let mut out: Vec<AuditEntry> = Vec::new();
        for i in 0..n {
            let previous = out.last().map(|e| (e.hash.as_str(), e.seq));
            let entry = AuditEntry::next(previous, record(&format!("user{i}")));
            out.push(entry);
        }
        out
    }

    #[test]
    fn edits_removals_and_reorders_are_found_at_the_first_bad_entry() {
        let good = chain(5);
        assert_eq!(verify_chain(&good), Ok(()));
        let mut edited = good.clone();
        edited[2].record.decision = DENIED.into();
        assert_eq!(verify_chain(&edited), Err(ChainError::Edited { seq: 3 }));
        let mut removed = good.clone();
        removed.remove(1);
        assert_eq!(verify_chain(&removed), Err(ChainError::Broken { seq: 3, expected_previous: 1 }));
        let mut reordered = good.clone();
        reordered.swap(3, 4);
        assert_eq!(verify_chain(&reordered), Err(ChainError::Broken { seq: 5, expected_previous: 3 }));
    }

    #[test]
    fn the_head_catches_removed_last_entries() {
        let good = chain(5);
        let head = (5, good[4].hash.as_str());
        assert_eq!(verify_with_head(&good, head), Ok(()));
        assert_eq!(verify_with_head(&good[..3], head), Err(ChainError::Truncated { last: 3, head: 5 }));
        assert_eq!(verify_with_head(&[], head), Err(ChainError::Truncated { last: 0, head: 5 }));
        assert_eq!(verify_with_head(&[], (0, GENESIS)), Ok(()));
        assert_eq!(verify_with_head(&good, (5, GENESIS)), Err(ChainError::HeadMismatch { head: 5 }));
    }
}
