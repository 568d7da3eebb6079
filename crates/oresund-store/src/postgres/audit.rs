//! The audit chain in PostgreSQL: appended under the head row, locked `FOR UPDATE` in the
//! appending transaction, so two `serve` processes never fork the chain.

use oresund_core::audit::{AuditEntry, AuditRecord, entry_hash};
use postgres::Transaction;
use postgres::types::ToSql;

use super::pool::Conn;
use super::rows::unsigned;
use crate::access::AuditQuery;
use crate::error::{Result, StoreError};

/// Appends `records` after the head, inside `tx`; the head row stays locked until `tx` ends.
pub(super) fn append_in(tx: &mut Transaction<'_>, records: &[AuditRecord]) -> Result<()> {
    let row = tx.query_one("SELECT seq, hash FROM audit_head WHERE id = 1 FOR UPDATE", &[])?;
    let (mut seq, mut hash): (u64, String) = (unsigned(row.try_get(0)?, "audit head")?, row.try_get(1)?);
    let n = records.len();
    let (mut seqs, mut times, mut actors, mut actions, mut resources, mut datasets) = (
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
    );
    let (mut granularities, mut decisions, mut details, mut previous, mut hashes) = (
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
    );
    for r in records {
        let next = seq + 1;
        let next_hash = entry_hash(&hash, next, r);
        seqs.push(i64::try_from(next).map_err(|_| StoreError::Corrupt("audit sequence overflow".into()))?);
        times.push(r.time.as_str());
        actors.push(r.actor.as_str());
        actions.push(r.action.as_str());
        resources.push(r.resource.as_str());
        datasets.push(serde_json::to_string(&r.datasets).unwrap_or_else(|_| "[]".into()));
        granularities.push(r.granularity.as_deref());
        decisions.push(r.decision.as_str());
        details.push(r.detail.as_str());
        previous.push(hash);
        hashes.push(next_hash.clone());
        (seq, hash) = (next, next_hash);
    }
    // One statement for the whole batch: a round trip per entry would not keep up with a busy node.
    let params: [&(dyn ToSql + Sync); 11] = [
        &seqs,
        &times,
        &actors,
        &actions,
        &resources,
        &datasets,
        &granularities,
        &decisions,
        &details,
        &previous,
        &hashes,
    ];
    tx.execute(
        "INSERT INTO audit_log (seq, time, actor, action, resource, datasets, granularity, decision, detail, previous, hash) \
         SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], \
         $8::text[], $9::text[], $10::text[], $11::text[])",
        &params,
    )?;
    let last = i64::try_from(seq).map_err(|_| StoreError::Corrupt("audit sequence overflow".into()))?;
    tx.execute("UPDATE audit_head SET seq = $1, hash = $2 WHERE id = 1", &[&last, &hash])?;
    Ok(())
}

pub(super) fn append(conn: &mut Conn, records: &[AuditRecord]) -> Result<()> {
    let mut tx = conn.client.transaction()?;
    append_in(&mut tx, records)?;
    tx.commit()?;
    Ok(())
}

pub(super) fn entries(conn: &mut Conn, query: &AuditQuery) -> Result<Vec<AuditEntry>> {
    let statement = conn.statement(
        "SELECT seq, time, actor, action, resource, datasets, granularity, decision, detail, previous, hash \
         FROM audit_log WHERE ($1::text IS NULL OR actor = $1) AND ($2::text IS NULL OR time >= $2) \
         AND ($3::text IS NULL OR time <= $3) ORDER BY seq",
    )?;
    let rows = conn.client.query(&statement, &[&query.user, &query.since, &query.until])?;
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        let seq: u64 = unsigned(row.try_get(0)?, "audit sequence number")?;
        let datasets: &str = row.try_get(5)?;
        let datasets: Vec<String> = serde_json::from_str(datasets)
            .map_err(|e| StoreError::Corrupt(format!("audit entry {seq}: datasets: {e}")))?;
        if query.dataset.as_ref().is_some_and(|d| !datasets.contains(d)) {
            continue;
        }
        let record = AuditRecord {
            time: row.try_get(1)?,
            actor: row.try_get(2)?,
            action: row.try_get(3)?,
            resource: row.try_get(4)?,
            datasets,
            granularity: row.try_get(6)?,
            decision: row.try_get(7)?,
            detail: row.try_get(8)?,
        };
        out.push(AuditEntry { seq, record, previous: row.try_get(9)?, hash: row.try_get(10)? });
    }
    Ok(out)
}

pub(super) fn head(conn: &mut Conn) -> Result<(u64, String)> {
    let row = conn.client.query_one("SELECT seq, hash FROM audit_head WHERE id = 1", &[])?;
    Ok((unsigned(row.try_get(0)?, "audit head")?, row.try_get(1)?))
}
