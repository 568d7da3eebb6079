//! The audit chain in `access.db`: appended under the head row inside the caller's transaction.

use oresund_core::audit::{AuditEntry, AuditRecord, entry_hash};
use rusqlite::{Connection, Row, params};

use crate::access::AuditQuery;
use crate::error::{Result, StoreError};

/// Appends `records` after the current head, inside `tx` (which must write-lock `access.db`).
pub(super) fn append_in(tx: &Connection, records: &[AuditRecord]) -> Result<()> {
    let (mut seq, mut hash): (u64, String) =
        tx.query_row("SELECT seq, hash FROM audit_head WHERE id = 1", [], |r| Ok((r.get(0)?, r.get(1)?)))?;
    let mut insert = tx.prepare_cached(
        "INSERT INTO audit_log (seq, time, actor, action, resource, datasets, granularity, decision, detail, \
         previous, hash) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
    )?;
    for r in records {
        let next = seq + 1;
        let next_hash = entry_hash(&hash, next, r);
        let datasets = serde_json::to_string(&r.datasets).unwrap_or_else(|_| "[]".into());
        insert.execute(params![
            next,
            r.time,
            r.actor,
            r.action,
            r.resource,
            datasets,
            r.granularity,
            r.decision,
            r.detail,
            hash,
            next_hash
        ])?;
        (seq, hash) = (next, next_hash);
    }
    tx.execute("UPDATE audit_head SET seq = ?1, hash = ?2 WHERE id = 1", params![seq, hash])?;
    Ok(())
}

fn entry_from_row(row: &Row<'_>) -> rusqlite::Result<(AuditEntry, String)> {
    let record = AuditRecord {
        time: row.get(1)?,
        actor: row.get(2)?,
        action: row.get(3)?,
        resource: row.get(4)?,
        datasets: Vec::new(),
        granularity: row.get(6)?,
        decision: row.get(7)?,
        detail: row.get(8)?,
    };
    Ok((AuditEntry { seq: row.get(0)?, record, previous: row.get(9)?, hash: row.get(10)? }, row.get(5)?))
}

pub(super) fn entries(conn: &Connection, query: &AuditQuery) -> Result<Vec<AuditEntry>> {
    let mut sql = String::from(
        "SELECT seq, time, actor, action, resource, datasets, granularity, decision, detail, previous, hash \
         FROM audit_log WHERE (?1 IS NULL OR actor = ?1) AND (?2 IS NULL OR time >= ?2) AND (?3 IS NULL OR time <= ?3)",
    );
    sql.push_str(" ORDER BY seq");
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt
        .query_map(params![query.user, query.since, query.until], entry_from_row)?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    let mut out = Vec::with_capacity(rows.len());
    for (mut entry, datasets) in rows {
        entry.record.datasets = serde_json::from_str(&datasets)
            .map_err(|e| StoreError::Corrupt(format!("audit entry {}: datasets: {e}", entry.seq)))?;
        if query.dataset.as_ref().is_none_or(|d| entry.record.datasets.contains(d)) {
            out.push(entry);
        }
    }
    Ok(out)
}

pub(super) fn head(conn: &Connection) -> Result<(u64, String)> {
    Ok(conn.query_row("SELECT seq, hash FROM audit_head WHERE id = 1", [], |r| Ok((r.get(0)?, r.get(1)?)))?)
}
