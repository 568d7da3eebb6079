//! Where a node keeps what it knows, behind one focused trait per part of the node:
//!
//! * [`Catalog`]: datasets, ingested files, individuals;
//! * [`VariantIndex`]: per variant and file, who carries it;
//! * [`ArchiveCatalog`]: where the encrypted originals of ingested files are;
//! * [`Erasure`]: withdrawals and removals, applied in one transaction, and the record of the
//!   archive versions they shredded;
//! * [`Writers`]: an ingest's single transaction ([`IngestTransaction`]: everything it adds
//!   becomes visible at once on `commit`, or not at all; a crash or `kill -9` rolls back) and the
//!   store-wide writer lock;
//! * controlled access: [`AccessRequests`] (requests, committee decisions, grants), [`AuditLog`]
//!   (the hash-chained log) and [`Budgets`] (re-identification budgets);
//! * [`MatchCases`]: clinicians' matchmaking cases and the MME metrics' counters;
//! * [`PeerHeads`]: the audit chain heads peer nodes signed and sent, kept for them.
//!
//! [`NodeStore`] is all of them at once: what a node opens, as `Box<dyn NodeStore>`. Calling a
//! method through it needs its trait in scope: `use oresund_store::prelude::*;` brings them all.
//!
//! Two backends implement them: the embedded SQLite store ([`sqlite`]) and PostgreSQL
//! ([`postgres`]). The rules of controlled access (what a budget charge does, which committee
//! decisions are allowed, how the audit chain grows) are written once (`rules/`), over small
//! row-level traits each backend's transaction implements in its own SQL. Both backends pass the
//! same tests: the shared suite in `crates/oresund-storage-suite`.

pub mod access;
pub mod archive_catalog;
pub mod audit_log;
mod block_cache;
pub mod blocks;
pub mod budgets;
pub mod catalog;
mod encoding;
pub mod erasure;
pub mod error;
pub mod match_cases;
pub mod model;
pub mod peer_heads;
pub mod postgres;
mod rules;
pub mod schema_version;
pub mod sqlite;
pub mod variant_index;
mod vrs_key;
pub mod writers;

pub use access::*;
pub use archive_catalog::ArchiveCatalog;
pub use audit_log::*;
/// One variant of one file during a region scan, borrowed from the stored block.
pub use blocks::EntryRef;
pub use budgets::*;
pub use catalog::Catalog;
pub use erasure::Erasure;
pub use error::{Result, StoreError};
pub use match_cases::*;
pub use model::*;
pub use peer_heads::*;
pub use schema_version::SchemaVersion;
pub use variant_index::VariantIndex;
pub use writers::*;

/// Every store trait, for callers of [`NodeStore`] (a trait's methods need it in scope).
pub mod prelude {
    pub use crate::{
        AccessRequests, ArchiveCatalog, AuditLog, Budgets, Catalog, Erasure, IngestTransaction, MatchCases, NodeStore,
        PeerHeads, VariantIndex, Writers,
    };
}

/// The whole store of one node: every part, shareable across threads (`Box<dyn NodeStore>`).
pub trait NodeStore:
    Catalog
    + VariantIndex
    + ArchiveCatalog
    + Erasure
    + Writers
    + AccessRequests
    + AuditLog
    + Budgets
    + MatchCases
    + PeerHeads
    + Send
    + Sync
{
}

impl<T> NodeStore for T where
    T: Catalog
        + VariantIndex
        + ArchiveCatalog
        + Erasure
        + Writers
        + AccessRequests
        + AuditLog
        + Budgets
        + MatchCases
        + PeerHeads
        + Send
        + Sync
{
}
