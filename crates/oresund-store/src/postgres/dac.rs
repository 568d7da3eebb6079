//! Access requests' and grants' rows in PostgreSQL (the committee's rules are
//! [`crate::rules::dac`]): a request or grant being decided is locked `FOR UPDATE`, so two
//! committee members cannot both decide it.

use postgres::{GenericClient, Row};

use super::pool::Conn;
use super::rows::unsigned;
use super::tx::WriteTx;
use crate::access::{AccessRequest, Grant, MatchOutcome, NewAccessRequest, NewGrant, RequestStatus};
use crate::error::{Result, StoreError};
use crate::rules::AccessRows;
use crate::rules::dac::{Decision, GRANT_COLUMNS, REQUEST_COLUMNS, Revocation, request_with};

fn request_from_row(row: &Row) -> Result<AccessRequest> {
    let request = AccessRequest {
        id: unsigned(row.try_get(0)?, "access request id")?,
        user: row.try_get(1)?,
        subject: row.try_get(2)?,
        dataset: row.try_get(3)?,
        purpose: row.try_get(4)?,
        automatic: MatchOutcome::NeedsReview,
        reasons: Vec::new(),
        status: RequestStatus::Pending,
        created: row.try_get(8)?,
        decided: row.try_get(9)?,
        decided_by: row.try_get(10)?,
        note: row.try_get(11)?,
    };
    request_with(request, [row.try_get(5)?, row.try_get(6)?, row.try_get(7)?])
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
        purpose: row.try_get::<_, Option<String>>(12)?.unwrap_or_default(),
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

impl AccessRows for WriteTx<'_> {
    fn insert_request(&mut self, new: &NewAccessRequest, reasons: &str) -> Result<u64> {
        let row = self.query_one(
            "INSERT INTO access_requests (user_id, subject, dataset, purpose, automatic, reasons) \
             VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
            &[&new.user, &new.subject, &new.dataset, &new.purpose, &new.automatic.as_str(), &reasons],
        )?;
        unsigned(row.try_get(0)?, "access request id")
    }

    fn request(&mut self, id: u64, lock: bool) -> Result<Option<AccessRequest>> {
        get_request(&mut **self, id, lock)
    }

    fn decide_request(&mut self, id: u64, d: &Decision<'_>) -> Result<()> {
        self.execute(
            "UPDATE access_requests SET status = $1, decided = $2, decided_by = $3, note = $4 WHERE id = $5",
            &[&d.status.as_str(), &d.time, &d.by, &d.note, &id_param(id)?],
        )?;
        Ok(())
    }

    fn insert_grant(&mut self, request: &AccessRequest, grant: &NewGrant) -> Result<()> {
        self.execute(
            "INSERT INTO grants (jti, request, user_id, subject, dataset, kid, visa, issued_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
            &[
                &grant.jti,
                &id_param(request.id)?,
                &request.user,
                &request.subject,
                &request.dataset,
                &grant.kid,
                &grant.visa,
                &grant.issued_at,
                &grant.expires_at,
            ],
        )?;
        Ok(())
    }

    fn grant(&mut self, jti: &str, lock: bool) -> Result<Option<Grant>> {
        get_grant(&mut **self, jti, lock)
    }

    fn revoke_grant(&mut self, jti: &str, r: &Revocation<'_>) -> Result<()> {
        self.execute(
            "UPDATE grants SET revoked = $1, revoked_by = $2, revoke_reason = $3 WHERE jti = $4",
            &[&r.time, &r.by, &r.reason, &jti],
        )?;
        Ok(())
    }
}

pub(super) fn list(conn: &mut Conn, user: Option<&str>) -> Result<Vec<AccessRequest>> {
    let sql =
        format!("SELECT {REQUEST_COLUMNS} FROM access_requests WHERE $1::text IS NULL OR user_id = $1 ORDER BY id");
    conn.client.query(&sql, &[&user])?.iter().map(request_from_row).collect()
}

pub(super) fn get(conn: &mut Conn, id: u64) -> Result<Option<AccessRequest>> {
    get_request(&mut conn.client, id, false)
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
         revoke_reason, (SELECT purpose FROM access_requests WHERE id = grants.request) FROM grants WHERE jti = $1",
    )?;
    conn.client.query_opt(&statement, &[&jti])?.as_ref().map(grant_from_row).transpose()
}

pub(super) fn latest_expiry(conn: &mut Conn, kid: &str) -> Result<Option<i64>> {
    Ok(conn.client.query_one("SELECT max(expires_at) FROM grants WHERE kid = $1", &[&kid])?.try_get(0)?)
}
