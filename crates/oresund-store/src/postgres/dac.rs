//! Access requests and grants in PostgreSQL; every change commits with its audit entry, the
//! request or grant row locked `FOR UPDATE` so two committee members cannot both decide it.

use oresund_core::audit::AuditRecord;
use postgres::{GenericClient, Row};

use super::audit::append_in;
use super::pool::Conn;
use super::rows::unsigned;
use crate::access::{AccessRequest, Grant, NewAccessRequest, NewGrant, RequestStatus};
use crate::error::{Result, StoreError};

const REQUEST_COLUMNS: &str =
    "id, user_id, subject, dataset, purpose, automatic, reasons, status, created, decided, decided_by, note";
const GRANT_COLUMNS: &str = "jti, request, user_id, subject, dataset, kid, visa, issued_at, expires_at, revoked, \
     revoked_by, revoke_reason";

fn request_from_row(row: &Row) -> Result<AccessRequest> {
    let id: u64 = unsigned(row.try_get(0)?, "access request id")?;
    let reasons: &str = row.try_get(6)?;
    let status: &str = row.try_get(7)?;
    Ok(AccessRequest {
        id,
        user: row.try_get(1)?,
        subject: row.try_get(2)?,
        dataset: row.try_get(3)?,
        purpose: row.try_get(4)?,
        automatic: row.try_get(5)?,
        reasons: serde_json::from_str(reasons)
            .map_err(|e| StoreError::Corrupt(format!("access request {id}: reasons: {e}")))?,
        status: RequestStatus::parse(status)
            .ok_or_else(|| StoreError::Corrupt(format!("access request {id}: status {status:?}")))?,
        created: row.try_get(8)?,
        decided: row.try_get(9)?,
        decided_by: row.try_get(10)?,
        note: row.try_get(11)?,
    })
}

fn grant_from_row(row: &Row) -> Result<Grant> {
    Ok(Grant {
        jti: row.try_get(0)?,
        request: unsigned(row.try_get(1)?, "grant request")?,
        user: row.try_get(2)?,
        subject: row.try_get(3)?,
        dataset: row.try_get(4)?,
        kid: row.try_get(5)?,
        visa: row.try_get(6)?,
        issued_at: row.try_get(7)?,
        expires_at: row.try_get(8)?,
        revoked: row.try_get(9)?,
        revoked_by: row.try_get(10)?,
        revoke_reason: row.try_get(11)?,
    })
}

fn id_param(id: u64) -> Result<i64> {
    i64::try_from(id).map_err(|_| StoreError::Conflict(format!("no access request {id}")))
}

fn get_request(client: &mut impl GenericClient, id: u64, lock: bool) -> Result<Option<AccessRequest>> {
    let lock = if lock { " FOR UPDATE" } else { "" };
    let sql = format!("SELECT {REQUEST_COLUMNS} FROM access_requests WHERE id = $1{lock}");
    client.query_opt(&sql, &[&id_param(id)?])?.as_ref().map(request_from_row).transpose()
}

fn get_grant(client: &mut impl GenericClient, jti: &str, lock: bool) -> Result<Option<Grant>> {
    let lock = if lock { " FOR UPDATE" } else { "" };
    let sql = format!("SELECT {GRANT_COLUMNS} FROM grants WHERE jti = $1{lock}");
    client.query_opt(&sql, &[&jti])?.as_ref().map(grant_from_row).transpose()
}

/// The request, locked, if it is still pending.
fn pending(client: &mut impl GenericClient, id: u64) -> Result<AccessRequest> {
    let request =
        get_request(client, id, true)?.ok_or_else(|| StoreError::Conflict(format!("no access request {id}")))?;
    if request.status != RequestStatus::Pending {
        return Err(StoreError::Conflict(format!("access request {id} is already {}", request.status.as_str())));
    }
    Ok(request)
}

pub(super) fn add(
    conn: &mut Conn,
    new: &NewAccessRequest,
    audit: &dyn Fn(&AccessRequest) -> AuditRecord,
) -> Result<AccessRequest> {
    let mut tx = conn.client.transaction()?;
    let reasons = serde_json::to_string(&new.reasons).unwrap_or_else(|_| "[]".into());
    let row = tx.query_one(
        "INSERT INTO access_requests (user_id, subject, dataset, purpose, automatic, reasons) \
         VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
        &[&new.user, &new.subject, &new.dataset, &new.purpose, &new.automatic, &reasons],
    )?;
    let id: u64 = unsigned(row.try_get(0)?, "access request id")?;
    let request =
        get_request(&mut tx, id, false)?.ok_or_else(|| StoreError::Corrupt(format!("access request {id} vanished")))?;
    append_in(&mut tx, &[audit(&request)])?;
    tx.commit()?;
    Ok(request)
}

pub(super) fn list(conn: &mut Conn, user: Option<&str>) -> Result<Vec<AccessRequest>> {
    let sql =
        format!("SELECT {REQUEST_COLUMNS} FROM access_requests WHERE $1::text IS NULL OR user_id = $1 ORDER BY id");
    conn.client.query(&sql, &[&user])?.iter().map(request_from_row).collect()
}

pub(super) fn get(conn: &mut Conn, id: u64) -> Result<Option<AccessRequest>> {
    get_request(&mut conn.client, id, false)
}

pub(super) fn approve(conn: &mut Conn, id: u64, by: &str, grant: &NewGrant, audit: &AuditRecord) -> Result<Grant> {
    let mut tx = conn.client.transaction()?;
    let request = pending(&mut tx, id)?;
    tx.execute(
        "UPDATE access_requests SET status = 'approved', decided = $1, decided_by = $2 WHERE id = $3",
        &[&audit.time, &by, &id_param(id)?],
    )?;
    tx.execute(
        "INSERT INTO grants (jti, request, user_id, subject, dataset, kid, visa, issued_at, expires_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        &[
            &grant.jti,
            &id_param(id)?,
            &request.user,
            &request.subject,
            &request.dataset,
            &grant.kid,
            &grant.visa,
            &grant.issued_at,
            &grant.expires_at,
        ],
    )?;
    append_in(&mut tx, std::slice::from_ref(audit))?;
    let stored = get_grant(&mut tx, &grant.jti, false)?
        .ok_or_else(|| StoreError::Corrupt(format!("grant {} vanished", grant.jti)))?;
    tx.commit()?;
    Ok(stored)
}

pub(super) fn reject(conn: &mut Conn, id: u64, by: &str, note: &str, audit: &AuditRecord) -> Result<AccessRequest> {
    let mut tx = conn.client.transaction()?;
    pending(&mut tx, id)?;
    tx.execute(
        "UPDATE access_requests SET status = 'rejected', decided = $1, decided_by = $2, note = $3 WHERE id = $4",
        &[&audit.time, &by, &note, &id_param(id)?],
    )?;
    append_in(&mut tx, std::slice::from_ref(audit))?;
    let request =
        get_request(&mut tx, id, false)?.ok_or_else(|| StoreError::Corrupt(format!("access request {id} vanished")))?;
    tx.commit()?;
    Ok(request)
}

pub(super) fn revoke(conn: &mut Conn, jti: &str, by: &str, reason: &str, audit: &AuditRecord) -> Result<Grant> {
    let mut tx = conn.client.transaction()?;
    let grant = get_grant(&mut tx, jti, true)?.ok_or_else(|| StoreError::Conflict(format!("no grant {jti}")))?;
    if let Some(when) = &grant.revoked {
        return Err(StoreError::Conflict(format!("grant {jti} was already revoked at {when}")));
    }
    tx.execute(
        "UPDATE grants SET revoked = $1, revoked_by = $2, revoke_reason = $3 WHERE jti = $4",
        &[&audit.time, &by, &reason, &jti],
    )?;
    append_in(&mut tx, std::slice::from_ref(audit))?;
    let revoked =
        get_grant(&mut tx, jti, false)?.ok_or_else(|| StoreError::Corrupt(format!("grant {jti} vanished")))?;
    tx.commit()?;
    Ok(revoked)
}

pub(super) fn grants(conn: &mut Conn, user: Option<&str>) -> Result<Vec<Grant>> {
    let sql =
        format!("SELECT {GRANT_COLUMNS} FROM grants WHERE $1::text IS NULL OR user_id = $1 ORDER BY issued_at, jti");
    conn.client.query(&sql, &[&user])?.iter().map(grant_from_row).collect()
}

pub(super) fn grant(conn: &mut Conn, jti: &str) -> Result<Option<Grant>> {
    // Asked on every use of a visa of this node: a prepared statement saves a round trip.
    let statement = conn.statement(
        "SELECT jti, request, user_id, subject, dataset, kid, visa, issued_at, expires_at, revoked, revoked_by, \
         revoke_reason FROM grants WHERE jti = $1",
    )?;
    conn.client.query_opt(&statement, &[&jti])?.as_ref().map(grant_from_row).transpose()
}

pub(super) fn latest_expiry(conn: &mut Conn, kid: &str) -> Result<Option<i64>> {
    Ok(conn.client.query_one("SELECT max(expires_at) FROM grants WHERE kid = $1", &[&kid])?.try_get(0)?)
}
