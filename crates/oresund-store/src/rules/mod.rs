//! The rules of controlled access and of the archive catalog, written once for every backend.
//!
//! Each rule runs inside one write transaction of a backend, through a small trait of row-level
//! primitives that the backend's transaction implements in its own SQL ([`AuditRows`],
//! [`AccessRows`], [`BudgetRows`], [`ArchiveRows`]). What a rule decides — which request may be
//! decided, what a budget charge does, how the audit chain grows — is therefore the same on
//! SQLite and PostgreSQL; only how a row is read, locked and written differs.

pub(crate) mod archive;
pub(crate) mod audit_chain;
pub(crate) mod budget;
pub(crate) mod dac;
pub(crate) mod erasure;
pub(crate) mod match_cases;
pub(crate) mod peer_heads;

pub(crate) use archive::ArchiveRows;
pub(crate) use audit_chain::AuditRows;
pub(crate) use budget::BudgetRows;
pub(crate) use dac::AccessRows;
pub(crate) use erasure::ErasureRows;
pub(crate) use match_cases::MatchRows;
pub(crate) use peer_heads::PeerHeadRows;
