//! The data access committee's state machine: a request is filed pending, is decided once
//! (approved with its grant, or rejected with a note), and a grant is revoked at most once. Every
//! change is stored with its audit entry in one transaction: a grant never exists without the
//! entry recording who issued it.

use oresund_core::audit::AuditRecord;
use oresund_core::duo::MatchOutcome;

use super::audit_chain::{self, AuditRows};
use crate::access::{AccessRequest, Grant, NewAccessRequest, NewGrant, RequestStatus};
use crate::encoding::list_text;
use crate::error::{Result, StoreError};

/// Access requests' and grants' rows, inside one write transaction.
pub(crate) trait AccessRows {
    /// Stores a new pending request (`reasons` as JSON text) and returns its id.
    fn insert_request(&mut self, request: &NewAccessRequest, reasons: &str) -> Result<u64>;

    /// A request; `lock` holds its row until the transaction ends (two committee members deciding
    /// the same request queue, and the second sees it decided).
    fn request(&mut self, id: u64, lock: bool) -> Result<Option<AccessRequest>>;

    /// Records a decision on a request.
    fn decide_request(&mut self, id: u64, decision: &Decision<'_>) -> Result<()>;

    /// Stores the grant issued for an approved request.
    fn insert_grant(&mut self, request: &AccessRequest, grant: &NewGrant) -> Result<()>;

    /// A grant; `lock` as for [`AccessRows::request`].
    fn grant(&mut self, jti: &str, lock: bool) -> Result<Option<Grant>>;

    fn revoke_grant(&mut self, jti: &str, revocation: &Revocation<'_>) -> Result<()>;
}

/// A committee decision as stored on its request.
pub(crate) struct Decision<'a> {
    pub status: RequestStatus,
    pub time: &'a str,
    pub by: &'a str,
    pub note: Option<&'a str>,
}

/// A grant's revocation as stored on it.
pub(crate) struct Revocation<'a> {
    pub time: &'a str,
    pub by: &'a str,
    pub reason: &'a str,
}

/// Files a request, with the audit entry `audit` makes of it once its id is known.
pub(crate) fn add<R: AccessRows + AuditRows>(
    rows: &mut R,
    new: &NewAccessRequest,
    audit: &dyn Fn(&AccessRequest) -> AuditRecord,
) -> Result<AccessRequest> {
    let id = rows.insert_request(new, &list_text(&new.reasons))?;
    let request = stored_request(rows, id)?;
    audit_chain::append(rows, &[audit(&request)])?;
    Ok(request)
}

/// Approves a pending request at `audit.time` and issues its grant.
pub(crate) fn approve<R: AccessRows + AuditRows>(
    rows: &mut R,
    id: u64,
    by: &str,
    grant: &NewGrant,
    audit: &AuditRecord,
) -> Result<Grant> {
    let request = pending(rows, id)?;
    let decision = Decision { status: RequestStatus::Approved, time: &audit.time, by, note: grant.note.as_deref() };
    rows.decide_request(id, &decision)?;
    rows.insert_grant(&request, grant)?;
    audit_chain::append(rows, std::slice::from_ref(audit))?;
    rows.grant(&grant.jti, false)?.ok_or_else(|| StoreError::Corrupt(format!("grant {} vanished", grant.jti)))
}

/// Rejects a pending request at `audit.time`, with a note.
pub(crate) fn reject<R: AccessRows + AuditRows>(
    rows: &mut R,
    id: u64,
    by: &str,
    note: &str,
    audit: &AuditRecord,
) -> Result<AccessRequest> {
    pending(rows, id)?;
    let decision = Decision { status: RequestStatus::Rejected, time: &audit.time, by, note: Some(note) };
    rows.decide_request(id, &decision)?;
    audit_chain::append(rows, std::slice::from_ref(audit))?;
    stored_request(rows, id)
}

/// Revokes a grant that is not revoked yet, at `audit.time`.
pub(crate) fn revoke<R: AccessRows + AuditRows>(
    rows: &mut R,
    jti: &str,
    by: &str,
    reason: &str,
    audit: &AuditRecord,
) -> Result<Grant> {
    let grant = rows.grant(jti, true)?.ok_or_else(|| StoreError::Conflict(format!("no grant {jti}")))?;
    if let Some(when) = &grant.revoked {
        return Err(StoreError::Conflict(format!("grant {jti} was already revoked at {when}")));
    }
    rows.revoke_grant(jti, &Revocation { time: &audit.time, by, reason })?;
    audit_chain::append(rows, std::slice::from_ref(audit))?;
    rows.grant(jti, false)?.ok_or_else(|| StoreError::Corrupt(format!("grant {jti} vanished")))
}

/// The request, locked, if it is still pending.
fn pending(rows: &mut impl AccessRows, id: u64) -> Result<AccessRequest> {
    let request = rows.request(id, true)?.ok_or_else(|| StoreError::Conflict(format!("no access request {id}")))?;
    if request.status != RequestStatus::Pending {
        return Err(StoreError::Conflict(format!("access request {id} is already {}", request.status.as_str())));
    }
    Ok(request)
}

fn stored_request(rows: &mut impl AccessRows, id: u64) -> Result<AccessRequest> {
    rows.request(id, false)?.ok_or_else(|| StoreError::Corrupt(format!("access request {id} vanished")))
}

/// A request read back: its `automatic`, `reasons` (JSON text) and `status` columns parsed into `request`.
pub(crate) fn request_with(
    mut request: AccessRequest,
    [automatic, reasons, status]: [&str; 3],
) -> Result<AccessRequest> {
    request.automatic = MatchOutcome::parse(automatic)
        .ok_or_else(|| StoreError::Corrupt(format!("access request {}: automatic match {automatic:?}", request.id)))?;
    request.reasons = serde_json::from_str(reasons)
        .map_err(|e| StoreError::Corrupt(format!("access request {}: reasons: {e}", request.id)))?;
    request.status = RequestStatus::parse(status)
        .ok_or_else(|| StoreError::Corrupt(format!("access request {}: status {status:?}", request.id)))?;
    Ok(request)
}

/// The columns a request is read from, in the order the backends read them.
pub(crate) const REQUEST_COLUMNS: &str =
    "id, user_id, subject, dataset, purpose, automatic, reasons, status, created, decided, decided_by, note";
/// The columns a grant is read from, in the order the backends read them; the last is the
/// purpose of the request it approved, so that one read gives what a grant is for.
pub(crate) const GRANT_COLUMNS: &str = "jti, request, user_id, subject, dataset, kid, visa, issued_at, expires_at, \
     revoked, revoked_by, revoke_reason, (SELECT purpose FROM access_requests WHERE id = grants.request)";
