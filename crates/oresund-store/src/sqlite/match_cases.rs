//! [`MatchCases`] for the embedded backend, in `access.db`.

use oresund_core::audit::AuditRecord;
use rusqlite::{Connection, params};

use super::SqliteStore;
use super::tx::WriteTx;
use crate::error::Result;
use crate::match_cases::{MatchCases, MatchCounters, StoredCase};
use crate::rules::{self, MatchRows};

impl MatchRows for WriteTx<'_> {
    fn upsert_case(&mut self, case: &StoredCase) -> Result<bool> {
        let existed =
            self.prepare_cached("SELECT 1 FROM mme_cases WHERE case_id = ?1")?.exists(params![case.case_id])?;
        self.execute(
            "INSERT INTO mme_cases (case_id, submitter, cross_border, patient, updated) VALUES (?1, ?2, ?3, ?4, ?5) \
             ON CONFLICT (case_id) DO UPDATE SET submitter = excluded.submitter, cross_border = excluded.cross_border, \
             patient = excluded.patient, updated = excluded.updated",
            params![case.case_id, case.submitter, case.cross_border, case.patient, case.updated],
        )?;
        Ok(existed)
    }

    fn delete_case(&mut self, case_id: &str) -> Result<bool> {
        Ok(self.execute("DELETE FROM mme_cases WHERE case_id = ?1", params![case_id])? > 0)
    }

    fn bump_generation(&mut self) -> Result<()> {
        self.execute("UPDATE mme_state SET generation = generation + 1", [])?;
        Ok(())
    }
}

fn cases(conn: &Connection) -> Result<Vec<StoredCase>> {
    let mut select = conn
        .prepare_cached("SELECT case_id, submitter, cross_border, patient, updated FROM mme_cases ORDER BY case_id")?;
    let rows = select.query_map([], |r| {
        Ok(StoredCase {
            case_id: r.get(0)?,
            submitter: r.get(1)?,
            cross_border: r.get(2)?,
            patient: r.get(3)?,
            updated: r.get(4)?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

fn counters(conn: &Connection) -> Result<(u64, MatchCounters)> {
    let (generation, received, sent): (i64, i64, i64) = conn.query_row(
        "SELECT generation, requests_received, potential_matches_sent FROM mme_state WHERE id = 1",
        [],
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
    )?;
    let counters = MatchCounters { requests_received: received as u64, potential_matches_sent: sent as u64 };
    Ok((generation as u64, counters))
}

impl MatchCases for SqliteStore {
    fn put_match_case(&self, case: &StoredCase, audit: &AuditRecord) -> Result<bool> {
        self.access.write(|tx| rules::match_cases::put(tx, case, audit))
    }

    fn match_cases(&self) -> Result<Vec<StoredCase>> {
        cases(&*self.access.get()?)
    }

    fn remove_match_case(&self, case_id: &str, audit: &AuditRecord) -> Result<bool> {
        self.access.write(|tx| rules::match_cases::remove(tx, case_id, audit))
    }

    fn match_cases_generation(&self) -> Result<u64> {
        Ok(counters(&*self.access.get()?)?.0)
    }

    fn count_match_request(&self, results_sent: u64) -> Result<()> {
        self.access.write(|tx| {
            tx.execute(
                "UPDATE mme_state SET requests_received = requests_received + 1, \
                 potential_matches_sent = potential_matches_sent + ?1",
                params![results_sent as i64],
            )?;
            Ok(())
        })
    }

    fn match_counters(&self) -> Result<MatchCounters> {
        Ok(counters(&*self.access.get()?)?.1)
    }
}
