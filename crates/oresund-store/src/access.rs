//! What controlled access keeps: data access requests and the grants (visas) approving them, the
//! hash-chained audit log, and the re-identification budgets of registered callers — behind
//! [`AccessStore`], which both backends implement and the shared storage suite tests.
//!
//! Every change a data access committee makes is stored in one transaction with its audit entry:
//! a grant never exists without the entry recording who issued it.

use oresund_core::audit::{AuditEntry, AuditRecord};

use crate::error::Result;
use crate::model::IndividualNumber;

/// Where a data access request stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RequestStatus {
    /// Waiting for the committee.
    Pending,
    /// A committee member approved it; a grant was issued.
    Approved,
    /// A committee member rejected it.
    Rejected,
}

impl RequestStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            RequestStatus::Pending => "pending",
            RequestStatus::Approved => "approved",
            RequestStatus::Rejected => "rejected",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        [RequestStatus::Pending, RequestStatus::Approved, RequestStatus::Rejected]
            .into_iter()
            .find(|s| s.as_str() == text)
    }
}

/// A request as filed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewAccessRequest {
    /// The requester's user id (`iss#sub` for a passport holder).
    pub user: String,
    /// The `sub` a visa for this requester carries (the passport's `sub`).
    pub subject: String,
    pub dataset: String,
    /// The research purpose, as JSON (`oresund_access::duo_match::ResearchPurpose`).
    pub purpose: String,
    /// The automatic DUO match: `approve`, `deny` or `needs_review`.
    pub automatic: String,
    /// Why, without naming anyone (reasons with how many individuals each applies to).
    pub reasons: Vec<String>,
}

/// A request as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessRequest {
    pub id: u64,
    pub user: String,
    pub subject: String,
    pub dataset: String,
    pub purpose: String,
    pub automatic: String,
    pub reasons: Vec<String>,
    pub status: RequestStatus,
    /// RFC 3339 time of filing.
    pub created: String,
    /// When and by whom it was approved or rejected, and the committee's note.
    pub decided: Option<String>,
    pub decided_by: Option<String>,
    pub note: Option<String>,
}

/// A visa being issued for an approved request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewGrant {
    /// The visa's `jti`.
    pub jti: String,
    /// Key id of the node signing key that signed it (its public key stays published until
    /// the last visa it signed expires).
    pub kid: String,
    /// The compact JWS.
    pub visa: String,
    /// Unix seconds.
    pub issued_at: i64,
    pub expires_at: i64,
}

/// A grant as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grant {
    pub jti: String,
    pub request: u64,
    /// Who it was issued to (the request's user).
    pub user: String,
    pub subject: String,
    pub dataset: String,
    pub kid: String,
    pub visa: String,
    pub issued_at: i64,
    pub expires_at: i64,
    /// When and by whom it was revoked, and why.
    pub revoked: Option<String>,
    pub revoked_by: Option<String>,
    pub revoke_reason: Option<String>,
}

/// Which audit entries to list (all when every field is `None`); always in chain order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditQuery {
    pub user: Option<String>,
    pub dataset: Option<String>,
    /// RFC 3339 bounds, inclusive.
    pub since: Option<String>,
    pub until: Option<String>,
}

/// What answering discloses about one variant in one dataset, and what it costs each carrier.
#[derive(Debug, Clone, PartialEq)]
pub struct ChargeItem {
    /// Identifies the disclosure: asked again, it is a repeat and costs nothing.
    pub fingerprint: String,
    /// Each carrier and the cost to them, in nats.
    pub charges: Vec<(IndividualNumber, f64)>,
}

/// One answer's charges to a user's budgets.
#[derive(Debug, Clone, PartialEq)]
pub struct BudgetCharge {
    pub user: String,
    /// Budget per individual, in nats.
    pub limit: f64,
    pub items: Vec<ChargeItem>,
    /// The answer also says that some variant has no carrier (that informs too: see
    /// [`AccessStore::charge_budget`]).
    pub discloses_absence: bool,
    /// RFC 3339 time, recorded when the user is locked.
    pub time: String,
}

/// How a charge went.
#[derive(Debug, Clone, PartialEq)]
pub enum BudgetOutcome {
    /// Nothing new is disclosed: free.
    Repeat,
    /// The new items were charged.
    Charged,
    /// An individual would exceed the budget: nothing was charged, and the user is now locked.
    Refused { individual: IndividualNumber, spent: f64, cost: f64 },
    /// The user was locked by an earlier refusal.
    Locked,
}

/// Controlled-access records of a node.
pub trait AccessStore {
    /// Files a request, with the audit entry `audit` makes of it (the request's id is known then).
    fn add_access_request(
        &self,
        request: &NewAccessRequest,
        audit: &dyn Fn(&AccessRequest) -> AuditRecord,
    ) -> Result<AccessRequest>;

    /// Requests in filing order: all, or one user's.
    fn access_requests(&self, user: Option<&str>) -> Result<Vec<AccessRequest>>;

    fn access_request(&self, id: u64) -> Result<Option<AccessRequest>>;

    /// Approves a pending request (`audit.time` is the decision time) and records its grant.
    /// [`crate::StoreError::Conflict`] if the request is not pending.
    fn approve_access_request(&self, id: u64, by: &str, grant: &NewGrant, audit: &AuditRecord) -> Result<Grant>;

    /// Rejects a pending request with a note; [`crate::StoreError::Conflict`] if not pending.
    fn reject_access_request(&self, id: u64, by: &str, note: &str, audit: &AuditRecord) -> Result<AccessRequest>;

    /// Revokes a grant at `audit.time`; [`crate::StoreError::Conflict`] if unknown or revoked.
    fn revoke_grant(&self, jti: &str, by: &str, reason: &str, audit: &AuditRecord) -> Result<Grant>;

    /// Grants in issuing order: all, or one user's.
    fn grants(&self, user: Option<&str>) -> Result<Vec<Grant>>;

    fn grant(&self, jti: &str) -> Result<Option<Grant>>;

    /// The latest expiry of the visas signed with key `kid`.
    fn latest_visa_expiry(&self, kid: &str) -> Result<Option<i64>>;

    /// Appends records to the audit chain, in order, in one transaction holding the chain head,
    /// so appends from several processes never interleave or fork the chain.
    fn append_audit(&self, records: &[AuditRecord]) -> Result<()>;

    /// Audit entries in chain order.
    fn audit_entries(&self, query: &AuditQuery) -> Result<Vec<AuditEntry>>;

    /// The chain head: the last entry's sequence number and hash (`(0, GENESIS)` when empty).
    fn audit_head(&self) -> Result<(u64, String)>;

    /// Charges an answer to a user's budgets, in one transaction. Items whose fingerprint the user
    /// was charged for before are free. If any new item would take an individual past `limit`,
    /// nothing is charged, the user is locked and [`BudgetOutcome::Refused`] returned. A locked
    /// user gets [`BudgetOutcome::Locked`] for anything new (new items, or an absence disclosed).
    fn charge_budget(&self, charge: &BudgetCharge) -> Result<BudgetOutcome>;

    /// Whether the user is locked.
    fn budget_locked(&self, user: &str) -> Result<bool>;

    /// Lifts a user's lock (their spent budgets stay spent) and records `audit` in the same
    /// transaction. False when the user was not locked (nothing is recorded then).
    fn unlock_budget(&self, user: &str, audit: &AuditRecord) -> Result<bool>;
}
