//! Access requests' and grants' rows in `access.db` (the committee's rules are
//! [`crate::rules::dac`]).

use rusqlite::{Connection, OptionalExtension, Row, params};

use super::tx::WriteTx;
use crate::access::{AccessRequest, Grant, MatchOutcome, NewAccessRequest, NewGrant, RequestStatus};
use crate::error::Result;
use crate::rules::AccessRows;
use crate::rules::dac::{Decision, GRANT_COLUMNS, REQUEST_COLUMNS, Revocation, request_with};

/// A request with its `automatic`, `reasons` and `status` columns still as stored.
type RawRequest = (AccessRequest, [String; 3]);

fn request_from_row(row: &Row<'_>) -> rusqlite::Result<RawRequest> {
    let request = AccessRequest {
        id: row.get(0)?,
        user: row.get(1)?,
        subject: row.get(2)?,
        dataset: row.get(3)?,
        purpose: row.get(4)?,
        automatic: MatchOutcome::NeedsReview,
        reasons: Vec::new(),
        status: RequestStatus::Pending,
        created: row.get(8)?,
        decided: row.get(9)?,
        decided_by: row.get(10)?,
        note: row.get(11)?,
    };
    Ok((request, [row.get(5)?, row.get(6)?, row.get(7)?]))
}

fn finish_request((request, [automatic, reasons, status]): RawRequest) -> Result<AccessRequest> {
    request_with(request, [&automatic, &reasons, &status])
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
        purpose: row.get::<_, Option<String>>(12)?.unwrap_or_default(),
    })
}

/// The IMMEDIATE transaction holds `access.db`'s write lock: rows need no locking of their own.
impl AccessRows for WriteTx<'_> {
    fn insert_request(&mut self, new: &NewAccessRequest, reasons: &str) -> Result<u64> {
        Ok(self.query_row(
            "INSERT INTO access_requests (user_id, subject, dataset, purpose, automatic, reasons) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6) RETURNING id",
            params![new.user, new.subject, new.dataset, new.purpose, new.automatic.as_str(), reasons],
            |r| r.get(0),
        )?)
    }

    fn request(&mut self, id: u64, _lock: bool) -> Result<Option<AccessRequest>> {
        get(self, id)
    }

    fn decide_request(&mut self, id: u64, d: &Decision<'_>) -> Result<()> {
        self.execute(
            "UPDATE access_requests SET status = ?1, decided = ?2, decided_by = ?3, note = ?4 WHERE id = ?5",
            params![d.status.as_str(), d.time, d.by, d.note, id],
        )?;
        Ok(())
    }

    fn insert_grant(&mut self, request: &AccessRequest, grant: &NewGrant) -> Result<()> {
        self.execute(
            "INSERT INTO grants (jti, request, user_id, subject, dataset, kid, visa, issued_at, expires_at) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            params![
                grant.jti,
                request.id,
                request.user,
                request.subject,
                request.dataset,
                grant.kid,
                grant.visa,
                grant.issued_at,
                grant.expires_at
            ],
        )?;
        Ok(())
    }

    fn grant(&mut self, jti: &str, _lock: bool) -> Result<Option<Grant>> {
        grant(self, jti)
    }

    fn revoke_grant(&mut self, jti: &str, r: &Revocation<'_>) -> Result<()> {
        self.execute(
            "UPDATE grants SET revoked = ?1, revoked_by = ?2, revoke_reason = ?3 WHERE jti = ?4",
            params![r.time, r.by, r.reason, jti],
        )?;
        Ok(())
    }
}

pub(super) fn list(conn: &Connection, user: Option<&str>) -> Result<Vec<AccessRequest>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {REQUEST_COLUMNS} FROM access_requests WHERE ?1 IS NULL OR user_id = ?1 ORDER BY id"
    ))?;
    let rows = stmt.query_map(params![user], request_from_row)?.collect::<rusqlite::Result<Vec<_>>>()?;
    rows.into_iter().map(finish_request).collect()
}

pub(super) fn get(conn: &Connection, id: u64) -> Result<Option<AccessRequest>> {
    let mut stmt = conn.prepare_cached(&format!("SELECT {REQUEST_COLUMNS} FROM access_requests WHERE id = ?1"))?;
    stmt.query_row(params![id], request_from_row).optional()?.map(finish_request).transpose()
}

pub(super) fn grants(conn: &Connection, user: Option<&str>) -> Result<Vec<Grant>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {GRANT_COLUMNS} FROM grants WHERE ?1 IS NULL OR user_id = ?1 ORDER BY issued_at, jti"
    ))?;
    Ok(stmt.query_map(params![user], grant_from_row)?.collect::<rusqlite::Result<Vec<_>>>()?)
}

pub(super) fn grant(conn: &Connection, jti: &str) -> Result<Option<Grant>> {
    let mut stmt = conn.prepare_cached(&format!("SELECT {GRANT_COLUMNS} FROM grants WHERE jti = ?1"))?;
    Ok(stmt.query_row(params![jti], grant_from_row).optional()?)
}

pub(super) fn latest_expiry(conn: &Connection, kid: &str) -> Result<Option<i64>> {
    Ok(conn.query_row("SELECT max(expires_at) FROM grants WHERE kid = ?1", params![kid], |r| r.get(0))?)
}
