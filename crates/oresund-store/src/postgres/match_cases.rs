//! [`MatchCases`] for PostgreSQL.

use oresund_core::audit::AuditRecord;

use super::PostgresStore;
use super::pool::Conn;
use super::rows::unsigned;
use super::tx::WriteTx;
use crate::error::Result;
use crate::match_cases::{MatchCases, MatchCounters, StoredCase};
use crate::rules::{self, MatchRows};

impl MatchRows for WriteTx<'_> {
    fn upsert_case(&mut self, case: &StoredCase) -> Result<bool> {
        let existed = self.query_opt("SELECT 1 FROM mme_cases WHERE case_id = $1 FOR UPDATE", &[&case.case_id])?;
        self.execute(
            "INSERT INTO mme_cases (case_id, submitter, cross_border, patient, updated) VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (case_id) DO UPDATE SET submitter = excluded.submitter, cross_border = excluded.cross_border, \
             patient = excluded.patient, updated = excluded.updated",
            &[&case.case_id, &case.submitter, &case.cross_border, &case.patient, &case.updated],
        )?;
        Ok(existed.is_some())
    }

    fn delete_case(&mut self, case_id: &str) -> Result<bool> {
        Ok(self.execute("DELETE FROM mme_cases WHERE case_id = $1", &[&case_id])? > 0)
    }

    fn bump_generation(&mut self) -> Result<()> {
        self.execute("UPDATE mme_state SET generation = generation + 1", &[])?;
        Ok(())
    }
}

fn counters(conn: &mut Conn) -> Result<(u64, MatchCounters)> {
    let row = conn
        .client
        .query_one("SELECT generation, requests_received, potential_matches_sent FROM mme_state WHERE id = 1", &[])?;
    let counters = MatchCounters {
        requests_received: unsigned(row.try_get(1)?, "requests received")?,
        potential_matches_sent: unsigned(row.try_get(2)?, "matches sent")?,
    };
    Ok((unsigned(row.try_get(0)?, "case generation")?, counters))
}

impl MatchCases for PostgresStore {
    fn put_match_case(&self, case: &StoredCase, audit: &AuditRecord) -> Result<bool> {
        self.pool.get()?.write(|tx| rules::match_cases::put(tx, case, audit))
    }

    fn match_cases(&self) -> Result<Vec<StoredCase>> {
        let rows = self
            .pool
            .get()?
            .client
            .query("SELECT case_id, submitter, cross_border, patient, updated FROM mme_cases ORDER BY case_id", &[])?;
        rows.iter()
            .map(|r| {
                Ok(StoredCase {
                    case_id: r.try_get(0)?,
                    submitter: r.try_get(1)?,
                    cross_border: r.try_get(2)?,
                    patient: r.try_get(3)?,
                    updated: r.try_get(4)?,
                })
            })
            .collect()
    }

    fn remove_match_case(&self, case_id: &str, audit: &AuditRecord) -> Result<bool> {
        self.pool.get()?.write(|tx| rules::match_cases::remove(tx, case_id, audit))
    }

    fn match_cases_generation(&self) -> Result<u64> {
        Ok(counters(&mut *self.pool.get()?)?.0)
    }

    fn count_match_request(&self, results_sent: u64) -> Result<()> {
        let sent = i64::try_from(results_sent).unwrap_or(i64::MAX);
        self.pool.get()?.client.execute(
            "UPDATE mme_state SET requests_received = requests_received + 1, \
             potential_matches_sent = potential_matches_sent + $1",
            &[&sent],
        )?;
        Ok(())
    }

    fn match_counters(&self) -> Result<MatchCounters> {
        Ok(counters(&mut *self.pool.get()?)?.1)
    }
}
