//! Data access requests and the grants (visas) approving them, behind [`AccessRequests`].
//!
//! Every change a data access committee makes is stored in one transaction with its audit entry:
//! a grant never exists without the entry recording who issued it (the rules are written once, in
//! `rules/dac.rs`, for both backends).

use oresund_core::audit::AuditRecord;
pub use oresund_core::duo::MatchOutcome;

use crate::error::Result;

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
    /// The automatic DUO match.
    pub automatic: MatchOutcome,
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
    pub automatic: MatchOutcome,
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
    /// The committee member's note on the approval (kept on the request, like a rejection's).
    pub note: Option<String>,
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
    /// The research purpose of the request it approved, as JSON (`ResearchPurpose`).
    pub purpose: String,
}

/// Requests filed with the data access committee, its decisions, and the grants it issued.
pub trait AccessRequests {
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
}
