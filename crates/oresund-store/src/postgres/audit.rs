//! The audit chain's rows in PostgreSQL (the chain rule is [`crate::rules::audit_chain`]): the
//! head row is locked `FOR UPDATE` in the appending transaction, so two `serve` processes never
//! fork the chain.

use oresund_core::audit::{AuditAction, AuditEntry, AuditRecord};
use postgres::types::ToSql;

use super::pool::Conn;
use super::rows::unsigned;
use super::tx::WriteTx;
use crate::audit_log::AuditQuery;
use crate::encoding::list_text;
use crate::error::{Result, StoreError};
use crate::rules::AuditRows;
use crate::rules::audit_chain::{decision, in_dataset, with_datasets};

fn seq_param(seq: u64) -> Result<i64> {
    i64::try_from(seq).map_err(|_| StoreError::Corrupt("audit sequence overflow".into()))
}

impl AuditRows for WriteTx<'_> {
    fn lock_audit_head(&mut self) -> Result<(u64, String)> {
        let row = self.query_one("SELECT seq, hash FROM audit_head WHERE id = 1 FOR UPDATE", &[])?;
        Ok((unsigned(row.try_get(0)?, "audit head")?, row.try_get(1)?))
    }

    fn insert_audit_entries(&mut self, entries: &[AuditEntry]) -> Result<()> {
        let seqs = entries.iter().map(|e| seq_param(e.seq)).collect::<Result<Vec<_>>>()?;
        let column = |field: fn(&AuditEntry) -> &str| entries.iter().map(field).collect::<Vec<&str>>();
        let datasets: Vec<String> = entries.iter().map(|e| list_text(&e.record.datasets)).collect();
        let formats: Vec<i32> = entries.iter().map(|e| i32::from(e.format)).collect();
        let granularities: Vec<Option<&str>> = entries.iter().map(|e| e.record.granularity.as_deref()).collect();
        let subjects: Vec<Option<&str>> = entries.iter().map(|e| e.record.subject.as_deref()).collect();
        // One statement for the whole batch: a round trip per entry would not keep up with a busy node.
        let params: [&(dyn ToSql + Sync); 13] = [
            &seqs,
            &column(|e| &e.record.time),
            &column(|e| &e.record.actor),
            &column(|e| e.record.action.as_str()),
            &column(|e| &e.record.resource),
            &datasets,
            &granularities,
            &column(|e| e.record.decision.as_str()),
            &column(|e| &e.record.detail),
            &column(|e| &e.previous),
            &column(|e| &e.hash),
            &formats,
            &subjects,
        ];
        self.execute(
            "INSERT INTO audit_log (seq, time, actor, action, resource, datasets, granularity, decision, detail, \
             previous, hash, format, subject) \
             SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], \
             $7::text[], $8::text[], $9::text[], $10::text[], $11::text[], $12::integer[], $13::text[])",
            &params,
        )?;
        Ok(())
    }

    fn set_audit_head(&mut self, seq: u64, hash: &str) -> Result<()> {
        self.execute("UPDATE audit_head SET seq = $1, hash = $2 WHERE id = 1", &[&seq_param(seq)?, &hash])?;
        Ok(())
    }

    fn audit_journal_applied(&mut self) -> Result<u64> {
        let row = self.query_one("SELECT journal FROM audit_head WHERE id = 1", &[])?;
        unsigned(row.try_get(0)?, "audit journal")
    }

    fn set_audit_journal_applied(&mut self, journal: u64) -> Result<()> {
        self.execute("UPDATE audit_head SET journal = $1 WHERE id = 1", &[&seq_param(journal)?])?;
        Ok(())
    }
}

pub(super) fn entries(conn: &mut Conn, query: &AuditQuery) -> Result<Vec<AuditEntry>> {
    let statement = conn.statement(
        "SELECT seq, time, actor, action, resource, datasets, granularity, decision, detail, previous, hash, \
         format, subject FROM audit_log WHERE ($1::text IS NULL OR actor = $1 OR subject = $1) \
         AND ($2::text IS NULL OR time >= $2) AND ($3::text IS NULL OR time <= $3) AND seq > $4 \
         ORDER BY seq LIMIT $5",
    )?;
    let after = i64::try_from(query.after.unwrap_or(0)).unwrap_or(i64::MAX);
    // A NULL LIMIT is none.
    let limit = query.limit.map(|l| i64::try_from(l).unwrap_or(i64::MAX));
    let rows = conn.client.query(&statement, &[&query.user, &query.since, &query.until, &after, &limit])?;
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        let seq = unsigned(row.try_get(0)?, "audit sequence number")?;
        let record = AuditRecord {
            time: row.try_get(1)?,
            actor: row.try_get(2)?,
            action: AuditAction::parse(row.try_get(3)?),
            resource: row.try_get(4)?,
            datasets: Vec::new(),
            granularity: row.try_get(6)?,
            decision: decision(seq, row.try_get(7)?)?,
            detail: row.try_get(8)?,
            subject: row.try_get(12)?,
        };
        let format = unsigned(i64::from(row.try_get::<_, i32>(11)?), "audit entry format")?;
        let entry = AuditEntry { seq, record, previous: row.try_get(9)?, hash: row.try_get(10)?, format };
        let entry = with_datasets(entry, row.try_get(5)?)?;
        if in_dataset(query, &entry) {
            out.push(entry);
        }
    }
    Ok(out)
}

pub(super) fn head(conn: &mut Conn) -> Result<(u64, String)> {
    let row = conn.client.query_one("SELECT seq, hash FROM audit_head WHERE id = 1", &[])?;
    Ok((unsigned(row.try_get(0)?, "audit head")?, row.try_get(1)?))
}

pub(super) fn journal_applied(conn: &mut Conn) -> Result<u64> {
    let row = conn.client.query_one("SELECT journal FROM audit_head WHERE id = 1", &[])?;
    unsigned(row.try_get(0)?, "audit journal")
}
