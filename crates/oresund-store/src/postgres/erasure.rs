//! Erasure in PostgreSQL: [`ErasureRows`] over one transaction (schema migration 7), holding the
//! ingest lock so no ingest interleaves; the rules are [`crate::rules::erasure`].

use super::PostgresStore;
use super::rows::{self, archive_columns, unsigned};
use super::tx::WriteTx;
use crate::Erasure;
use crate::encoding::{columns_bytes, columns_from};
use crate::error::{Result, StoreError};
use crate::model::*;
use crate::rules::ErasureRows;
use crate::rules::archive::kind_of;

fn out_of_range(what: &str) -> StoreError {
    StoreError::Conflict(format!("{what} is out of range"))
}

impl ErasureRows for WriteTx<'_> {
    fn committed_file(&mut self, file: FileNumber) -> Result<Option<Vec<IndividualNumber>>> {
        let row = self.query_opt("SELECT columns FROM files WHERE number = $1 AND finished", &[&i64::from(file)])?;
        row.map(|r| columns_from(r.try_get::<_, &[u8]>(0)?)).transpose()
    }

    fn file_blocks(&mut self, file: FileNumber) -> Result<Vec<(i64, Vec<u8>)>> {
        let rows = self.query("SELECT id, data FROM blocks WHERE file = $1 ORDER BY id", &[&i64::from(file)])?;
        rows.iter().map(|r| Ok((r.try_get(0)?, r.try_get(1)?))).collect()
    }

    fn set_block(&mut self, id: i64, data: &[u8]) -> Result<()> {
        // The entries keep their slots (a rewrite drops columns, never an entry): `vrs_keys` holds.
        self.execute("UPDATE blocks SET data = $1 WHERE id = $2", &[&data, &id])?;
        Ok(())
    }

    fn haploid_sets(&mut self, file: FileNumber) -> Result<Vec<(u32, Vec<u8>)>> {
        let rows =
            self.query("SELECT id, columns FROM haploid_sets WHERE file = $1 ORDER BY id", &[&i64::from(file)])?;
        rows.iter().map(|r| Ok((unsigned(r.try_get(0)?, "haploid set id")?, r.try_get(1)?))).collect()
    }

    fn set_file_columns(&mut self, file: FileNumber, columns: &[IndividualNumber]) -> Result<()> {
        self.execute("UPDATE files SET columns = $1 WHERE number = $2", &[&columns_bytes(columns), &i64::from(file)])?;
        Ok(())
    }

    fn file_objects(&mut self, file: FileNumber) -> Result<Vec<ArchiveObject>> {
        let rows = self.query(
            concat!(
                "SELECT ",
                archive_columns!(),
                " FROM archive_objects a WHERE a.file = $1 ORDER BY a.accession FOR UPDATE"
            ),
            &[&i64::from(file)],
        )?;
        rows.iter().map(rows::archive_object_from_row).collect()
    }

    fn delete_object(&mut self, accession: &str) -> Result<()> {
        self.execute("DELETE FROM archive_objects WHERE accession = $1", &[&accession])?;
        Ok(())
    }

    fn insert_object(&mut self, object: &ArchiveObject) -> Result<()> {
        super::archive::insert_in(&mut **self, object)
    }

    fn insert_shredded(&mut self, o: &ArchiveObject, cause: &str) -> Result<ShreddedObject> {
        let version = i32::try_from(o.version).map_err(|_| out_of_range("object version"))?;
        let row = self.query_one(
            "INSERT INTO shredded_objects (accession, version, kind, key_id, header_path, body_path, cause) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING shredded",
            &[&o.accession, &version, &o.kind.as_str(), &o.key_id, &o.header_path, &o.body_path, &cause],
        )?;
        Ok(ShreddedObject::of(o, row.try_get(0)?, cause))
    }

    fn retire_file(&mut self, file: FileNumber) -> Result<()> {
        let file = i64::from(file);
        for sql in [
            "DELETE FROM vrs_keys WHERE block IN (SELECT id FROM blocks WHERE file = $1)",
            "DELETE FROM blocks WHERE file = $1",
            "DELETE FROM haploid_sets WHERE file = $1",
            // The row stays, invisible (not finished): numbers are max + 1, never given again.
            "UPDATE files SET finished = false, sha256 = 'removed:' || number, columns = '\\x' WHERE number = $1",
        ] {
            self.execute(sql, &[&file])?;
        }
        Ok(())
    }

    fn all_columns(&mut self) -> Result<Vec<IndividualNumber>> {
        let mut out = Vec::new();
        for row in self.query("SELECT columns FROM files WHERE finished", &[])? {
            out.extend(columns_from(row.try_get::<_, &[u8]>(0)?)?);
        }
        Ok(out)
    }

    fn individual_by_pseudonym(&mut self, pseudonym: &str) -> Result<Option<IndividualNumber>> {
        let row =
            self.query_opt("SELECT number FROM individuals WHERE pseudonym = $1 AND NOT retired", &[&pseudonym])?;
        row.map(|r| unsigned(r.try_get(0)?, "individual number")).transpose()
    }

    fn retire_individual(&mut self, number: IndividualNumber) -> Result<bool> {
        let changed = self.execute(
            "UPDATE individuals SET retired = true, sex = 'unknown', birth_year = NULL, hpo_terms = '[]', \
             icd10_codes = '[]', consent = '[]' WHERE number = $1 AND NOT retired",
            &[&i64::from(number)],
        )?;
        Ok(changed == 1)
    }

    fn insert_withdrawal(&mut self, w: &Withdrawal) -> Result<()> {
        self.execute(
            "INSERT INTO withdrawals (pseudonym, dataset) VALUES ($1, $2) ON CONFLICT DO NOTHING",
            &[&w.pseudonym, &w.dataset.as_deref().unwrap_or("")],
        )?;
        Ok(())
    }

    fn bump_generation(&mut self) -> Result<()> {
        self.execute("UPDATE meta SET value = value + 1 WHERE key = 'generation'", &[])?;
        Ok(())
    }
}

impl Erasure for PostgresStore {
    fn erase(&self, plan: &ErasurePlan) -> Result<ErasureOutcome> {
        let outcome = self.pool.get()?.write(|tx| {
            // The ingest lock: numbers and rows an ingest reads stay as they are until commit.
            tx.execute("SELECT pg_advisory_xact_lock($1)", &[&super::ingest::INGEST_LOCK])?;
            crate::rules::erasure::erase(tx, plan)
        });
        // Blocks were rewritten or deleted: this process's cached copies go at once.
        self.cache.forget();
        outcome
    }

    fn withdrawals(&self) -> Result<Vec<Withdrawal>> {
        let mut conn = self.pool.get()?;
        let rows = conn
            .client
            .query("SELECT pseudonym, dataset, recorded FROM withdrawals ORDER BY recorded, pseudonym", &[])?;
        rows.iter()
            .map(|r| {
                let dataset: String = r.try_get(1)?;
                Ok(Withdrawal {
                    pseudonym: r.try_get(0)?,
                    dataset: (!dataset.is_empty()).then_some(dataset),
                    recorded: r.try_get(2)?,
                })
            })
            .collect()
    }

    fn shredded_objects(&self) -> Result<Vec<ShreddedObject>> {
        let mut conn = self.pool.get()?;
        let rows = conn.client.query(
            "SELECT accession, version, kind, key_id, header_path, body_path, shredded, cause \
             FROM shredded_objects ORDER BY accession, version",
            &[],
        )?;
        rows.iter()
            .map(|r| {
                let accession: String = r.try_get(0)?;
                let kind = kind_of(&accession, r.try_get(2)?)?;
                Ok(ShreddedObject {
                    version: unsigned(i64::from(r.try_get::<_, i32>(1)?), "object version")?,
                    kind,
                    key_id: r.try_get(3)?,
                    header_path: r.try_get(4)?,
                    body_path: r.try_get(5)?,
                    shredded: r.try_get(6)?,
                    cause: r.try_get(7)?,
                    accession,
                })
            })
            .collect()
    }
}
