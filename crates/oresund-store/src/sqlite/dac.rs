//! Access requests and grants in `access.db`; every change commits with its audit entry.

use oresund_core::audit::AuditRecord;
use rusqlite::{Connection, OptionalExtension, Row, TransactionBehavior, params};

use super::audit::append_in;
use crate::access::{AccessRequest, Grant, NewAccessRequest, NewGrant, RequestStatus};
use crate::error::{Result, StoreError};

const REQUEST_COLUMNS: &str =
    "id, user_id, subject, dataset, purpose, automatic, reasons, status, created, decided, decided_by, note";
const GRANT_COLUMNS: &str = "jti, request, user_id, subject, dataset, kid, visa, issued_at, expires_at, revoked, \
     revoked_by, revoke_reason";

type RawRequest = (AccessRequest, String, String);

fn request_from_row(row: &Row<'_>) -> rusqlite::Result<RawRequest> {
    let request = AccessRequest {
        id: row.get(0)?,
        user: row.get(1)?,
        subject: row.get(2)?,
        dataset: row.get(3)?,
        purpose: row.get(4)?,
        automatic: row.get(5)?,
        reasons: Vec::new(),
        status: RequestStatus::Pending,
        created: row.get(8)?,
        decided: row.get(9)?,
        decided_by: row.get(10)?,
        note: row.get(11)?,
    };
    Ok((request, row.get(6)?, row.get(7)?))
}

fn finish_request((mut request, reasons, status): RawRequest) -> Result<AccessRequest> {
    request.reasons = serde_json::from_str(&reasons)
        .map_err(|e| StoreError::Corrupt(format!("access request {}: reasons: {e}", request.id)))?;
    request.status = RequestStatus::parse(&status)
        .ok_or_else(|| StoreError::Corrupt(format!("access request {}: status {status:?}", request.id)))?;
    Ok(request)
}

fn grant_from_row(row: &Row<'_>) -> rusqlite::Result<Grant> {
    Ok(Grant {
        jti: row.get(0)?,
        request: row.get(1)?,
        user: row.get(2)?,
        subject: row.get(3)?,
        dataset: row.get(4)?,
        kid: row.get(5)?,
        visa: row.get(6)?,
        issued_at: row.get(7)?,
        expires_at: row.get(8)?,
        revoked: row.get(9)?,
        revoked_by: row.get(10)?,
        revoke_reason: row.get(11)?,
    })
}

fn get_request(conn: &Connection, id: u64) -> Result<Option<AccessRequest>> {
    let mut stmt = conn.prepare_cached(&format!("SELECT {REQUEST_COLUMNS} FROM access_requests WHERE id = ?1"))?;
    stmt.query_row(params![id], request_from_row).optional()?.map(finish_request).transpose()
}

fn get_grant(conn: &Connection, jti: &str) -> Result<Option<Grant>> {
    let mut stmt = conn.prepare_cached(&format!("SELECT {GRANT_COLUMNS} FROM grants WHERE jti = ?1"))?;
    Ok(stmt.query_row(params![jti], grant_from_row).optional()?)
}

/// The request, if it is still pending.
fn pending(conn: &Connection, id: u64) -> Result<AccessRequest> {
    let request = get_request(conn, id)?.ok_or_else(|| StoreError::Conflict(format!("no access request {id}")))?;
    if request.status != RequestStatus::Pending {
        return Err(StoreError::Conflict(format!("access request {id} is already {}", request.status.as_str())));
    }
    Ok(request)
}

pub(super) fn add(
    conn: &mut Connection,
    new: &NewAccessRequest,
    audit: &dyn Fn(&AccessRequest) -> AuditRecord,
) -> Result<AccessRequest> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let reasons = serde_json::to_string(&new.reasons).unwrap_or_else(|_| "[]".into());
    let id: u64 = tx.query_row(
        "INSERT INTO access_requests (user_id, subject, dataset, purpose, automatic, reasons) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6) RETURNING id",
        params![new.user, new.subject, new.dataset, new.purpose, new.automatic, reasons],
        |r| r.get(0),
    )?;
    let request = get_request(&tx, id)?.ok_or_else(|| StoreError::Corrupt(format!("access request {id} vanished")))?;
    append_in(&tx, &[audit(&request)])?;
    tx.commit()?;
    Ok(request)
}

pub(super) fn list(conn: &Connection, user: Option<&str>) -> Result<Vec<AccessRequest>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {REQUEST_COLUMNS} FROM access_requests WHERE ?1 IS NULL OR user_id = ?1 ORDER BY id"
    ))?;
    let rows = stmt.query_map(params![user], request_from_row)?.collect::<rusqlite::Result<Vec<_>>>()?;
    rows.into_iter().map(finish_request).collect()
}

pub(super) fn get(conn: &Connection, id: u64) -> Result<Option<AccessRequest>> {
    get_request(conn, id)
}

pub(super) fn approve(
    conn: &mut Connection,
    id: u64,
    by: &str,
    grant: &NewGrant,
    audit: &AuditRecord,
) -> Result<Grant> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let request = pending(&tx, id)?;
    tx.execute(
        "UPDATE access_requests SET status = 'approved', decided = ?1, decided_by = ?2 WHERE id = ?3",
        params![audit.time, by, id],
    )?;
    tx.execute(
        "INSERT INTO grants (jti, request, user_id, subject, dataset, kid, visa, issued_at, expires_at) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        params![
            grant.jti,
            id,
            request.user,
            request.subject,
            request.dataset,
            grant.kid,
            grant.visa,
            grant.issued_at,
            grant.expires_at
        ],
    )?;
    append_in(&tx, std::slice::from_ref(audit))?;
    let stored =
        get_grant(&tx, &grant.jti)?.ok_or_else(|| StoreError::Corrupt(format!("grant {} vanished", grant.jti)))?;
    tx.commit()?;
    Ok(stored)
}

pub(super) fn reject(
    conn: &mut Connection,
    id: u64,
    by: &str,
    note: &str,
    audit: &AuditRecord,
) -> Result<AccessRequest> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    pending(&tx, id)?;
    tx.execute(
        "UPDATE access_requests SET status = 'rejected', decided = ?1, decided_by = ?2, note = ?3 WHERE id = ?4",
        params![audit.time, by, note, id],
    )?;
    append_in(&tx, std::slice::from_ref(audit))?;
    let request = get_request(&tx, id)?.ok_or_else(|| StoreError::Corrupt(format!("access request {id} vanished")))?;
    tx.commit()?;
    Ok(request)
}

pub(super) fn revoke(conn: &mut Connection, jti: &str, by: &str, reason: &str, audit: &AuditRecord) -> Result<Grant> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let grant = get_grant(&tx, jti)?.ok_or_else(|| StoreError::Conflict(format!("no grant {jti}")))?;
    if let Some(when) = &grant.revoked {
        return Err(StoreError::Conflict(format!("grant {jti} was already revoked at {when}")));
    }
    tx.execute(
        "UPDATE grants SET revoked = ?1, revoked_by = ?2, revoke_reason = ?3 WHERE jti = ?4",
        params![audit.time, by, reason, jti],
    )?;
    append_in(&tx, std::slice::from_ref(audit))?;
    let revoked = get_grant(&tx, jti)?.ok_or_else(|| StoreError::Corrupt(format!("grant {jti} vanished")))?;
    tx.commit()?;
    Ok(revoked)
}

pub(super) fn grants(conn: &Connection, user: Option<&str>) -> Result<Vec<Grant>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {GRANT_COLUMNS} FROM grants WHERE ?1 IS NULL OR user_id = ?1 ORDER BY issued_at, jti"
    ))?;
    Ok(stmt.query_map(params![user], grant_from_row)?.collect::<rusqlite::Result<Vec<_>>>()?)
}

pub(super) fn grant(conn: &Connection, jti: &str) -> Result<Option<Grant>> {
    get_grant(conn, jti)
}

pub(super) fn latest_expiry(conn: &Connection, kid: &str) -> Result<Option<i64>> {
    Ok(conn.query_row("SELECT max(expires_at) FROM grants WHERE kid = ?1", params![kid], |r| r.get(0))?)
}
