//! The audit chain's rows in `access.db` (the chain rule is [`crate::rules::audit_chain`]).

use oresund_core::audit::{AuditAction, AuditEntry, AuditRecord};
use rusqlite::{Connection, Row, params};

use super::tx::WriteTx;
use crate::audit_log::AuditQuery;
use crate::encoding::list_text;
use crate::error::Result;
use crate::rules::AuditRows;
use crate::rules::audit_chain::{decision, in_dataset, with_datasets};

impl AuditRows for WriteTx<'_> {
    /// The IMMEDIATE transaction already holds `access.db`'s write lock.
    fn lock_audit_head(&mut self) -> Result<(u64, String)> {
        head(self)
    }

    fn insert_audit_entries(&mut self, entries: &[AuditEntry]) -> Result<()> {
        let mut insert = self.prepare_cached(
            "INSERT INTO audit_log (seq, time, actor, action, resource, datasets, granularity, decision, detail, \
             previous, hash, format, subject) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
        )?;
        for e in entries {
            let r = &e.record;
            insert.execute(params![
                e.seq,
                r.time,
                r.actor,
                r.action.as_str(),
                r.resource,
                list_text(&r.datasets),
                r.granularity,
                r.decision.as_str(),
                r.detail,
                e.previous,
                e.hash,
                e.format,
                r.subject
            ])?;
        }
        Ok(())
    }

    fn set_audit_head(&mut self, seq: u64, hash: &str) -> Result<()> {
        self.execute("UPDATE audit_head SET seq = ?1, hash = ?2 WHERE id = 1", params![seq, hash])?;
        Ok(())
    }

    fn audit_journal_applied(&mut self) -> Result<u64> {
        journal_applied(self)
    }

    fn set_audit_journal_applied(&mut self, journal: u64) -> Result<()> {
        self.execute("UPDATE audit_head SET journal = ?1 WHERE id = 1", params![journal])?;
        Ok(())
    }
}

/// An entry and its datasets column, or the entry's decision column if it is not one this build knows.
fn entry_from_row(row: &Row<'_>) -> rusqlite::Result<Result<(AuditEntry, String)>> {
    let seq = row.get(0)?;
    let decision = match decision(seq, row.get_ref(7)?.as_str()?) {
        Ok(decision) => decision,
        Err(e) => return Ok(Err(e)),
    };
    let record = AuditRecord {
        time: row.get(1)?,
        actor: row.get(2)?,
        action: AuditAction::parse(row.get_ref(3)?.as_str()?),
        resource: row.get(4)?,
        datasets: Vec::new(),
        granularity: row.get(6)?,
        decision,
        detail: row.get(8)?,
        subject: row.get(12)?,
    };
    let entry = AuditEntry { seq, record, previous: row.get(9)?, hash: row.get(10)?, format: row.get(11)? };
    Ok(Ok((entry, row.get(5)?)))
}

pub(super) fn entries(conn: &Connection, query: &AuditQuery) -> Result<Vec<AuditEntry>> {
    let mut stmt = conn.prepare_cached(
        "SELECT seq, time, actor, action, resource, datasets, granularity, decision, detail, previous, hash, \
         format, subject FROM audit_log WHERE (?1 IS NULL OR actor = ?1 OR subject = ?1) \
         AND (?2 IS NULL OR time >= ?2) AND (?3 IS NULL OR time <= ?3) AND seq > ?4 ORDER BY seq LIMIT ?5",
    )?;
    // SQLite reads a negative LIMIT as none.
    let limit = query.limit.map_or(-1, |l| i64::try_from(l).unwrap_or(i64::MAX));
    let rows = stmt
        .query_map(params![query.user, query.since, query.until, query.after.unwrap_or(0), limit], entry_from_row)?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        let (entry, datasets) = row?;
        let entry = with_datasets(entry, &datasets)?;
        if in_dataset(query, &entry) {
            out.push(entry);
        }
    }
    Ok(out)
}

pub(super) fn head(conn: &Connection) -> Result<(u64, String)> {
    Ok(conn.query_row("SELECT seq, hash FROM audit_head WHERE id = 1", [], |r| Ok((r.get(0)?, r.get(1)?)))?)
}

pub(super) fn journal_applied(conn: &Connection) -> Result<u64> {
    Ok(conn.query_row("SELECT journal FROM audit_head WHERE id = 1", [], |r| r.get(0))?)
}
