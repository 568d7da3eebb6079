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

    /// Audit entries in chain order.
    fn audit_entries(&self, query: &AuditQuery) -> Result<Vec<AuditEntry>>;

    /// The chain head: the last entry's sequence number and hash (`(0, GENESIS)` when empty).
    fn audit_head(&self) -> Result<(u64, String)>;
}
