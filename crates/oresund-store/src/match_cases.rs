//! Matchmaking cases (Matchmaker Exchange) behind [`MatchCases`]: each clinician's submitted case
//! under the node's case id, whether it may be matched across the border, and the counters of
//! the MME metrics API. Each change is recorded in the audit log in the same transaction.

use oresund_core::audit::AuditRecord;

use crate::error::Result;

/// One submitted case as stored: the MME patient JSON with the node's case id in place of the
/// submitter's id and no free-text label (see `oresund-match::patient`).
#[derive(Debug, Clone, PartialEq)]
pub struct StoredCase {
    /// The node's id for the case (a keyed hash of the submitter's id: never the id itself).
    pub case_id: String,
    /// The clinician who submitted it (their user id).
    pub submitter: String,
    /// The patient consented to matching with other countries' cases.
    pub cross_border: bool,
    /// The patient, as JSON.
    pub patient: String,
    /// RFC 3339 time of the latest submission.
    pub updated: String,
}

/// The MME metrics a node keeps besides its cases (MME metrics API): requests from partners
/// answered, and the results sent back to them. Test requests are not counted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MatchCounters {
    pub requests_received: u64,
    pub potential_matches_sent: u64,
}

pub trait MatchCases {
    /// Adds a case or replaces the one with its case id (the same submitter's id again), and
    /// records `audit`. Returns true when it replaced one.
    fn put_match_case(&self, case: &StoredCase, audit: &AuditRecord) -> Result<bool>;

    /// Every case, by case id.
    fn match_cases(&self) -> Result<Vec<StoredCase>>;

    /// Removes a case and records `audit`; false (and nothing recorded) when there is none.
    fn remove_match_case(&self, case_id: &str, audit: &AuditRecord) -> Result<bool>;

    /// Changes with every put and remove, in any process: a reader's cue to reload its index.
    fn match_cases_generation(&self) -> Result<u64>;

    /// Counts one answered request from a partner and the results it was sent.
    fn count_match_request(&self, results_sent: u64) -> Result<()>;

    fn match_counters(&self) -> Result<MatchCounters>;
}
