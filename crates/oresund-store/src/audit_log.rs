//! The hash-chained audit log of a node, behind [`AuditLog`] (the chain rule is written once, in
//! `rules/audit_chain.rs`, for both backends).

use oresund_core::audit::{AuditEntry, AuditRecord};

use crate::error::Result;

/// Which audit entries to list (all when every field is `None`); always in chain order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditQuery {
    /// Entries this user (user id) made or that concern them: `actor` or `subject` equal to it,
    /// so a researcher's history includes what the committee decided about them.
    pub user: Option<String>,
    pub dataset: Option<String>,
    /// RFC 3339 bounds, inclusive.
    pub since: Option<String>,
    pub until: Option<String>,
    /// Paging: only entries after this sequence number, and at most `limit` of them (counted
    /// before the dataset filter, so page without one: see `Node::for_each_audit_entry`).
    pub after: Option<u64>,
    pub limit: Option<u64>,
}

/// The audit log: appended in chain order, read back by query.
pub trait AuditLog {
    /// Appends records to the audit chain, in order, in one transaction holding the chain head,
    /// so appends from several processes never interleave or fork the chain.
    fn append_audit(&self, records: &[AuditRecord]) -> Result<()>;

    /// Appends the records of the node's audit journal file number `journal` (oresund-node
    /// `audit_journal`), in order, unless a file with that number or a later one was appended
    /// before; the mark moves in the same transaction. Returns whether the records were appended.
    fn append_audit_journal(&self, journal: u64, records: &[AuditRecord]) -> Result<bool>;

    /// The number of the last audit journal file appended (0 before any).
    fn audit_journal_applied(&self) -> Result<u64>;

    /// Audit entries in chain order.
    fn audit_entries(&self, query: &AuditQuery) -> Result<Vec<AuditEntry>>;

    /// The chain head: the last entry's sequence number and hash (`(0, GENESIS)` when empty).
    fn audit_head(&self) -> Result<(u64, String)>;
}
